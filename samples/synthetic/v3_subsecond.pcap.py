"""Sub-second and extreme VRRPv3 intervals (12-bit centisecond field, RFC 9568 §5.2.7).

Frames: VRID 40 at 10 cs (0.1 s) five times 100 ms apart, VRID 41 at 50 cs twice, VRID 42 at the
maximum 4095 cs (40.95 s) once; all from R1 over IPv4 with the pseudo-header checksum; noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    MAC_R1,
    VIP1,
    VIP2,
    VIP3,
    VRRP4_GROUP,
    eth,
    noise4,
    output_path,
    vrrp3_message,
    vrrp4,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    fast = vrrp3_message(40, 150, [VIP1], src=IP_R1, dst=VRRP4_GROUP, advert_int_cs=10)
    half = vrrp3_message(41, 150, [VIP2], src=IP_R1, dst=VRRP4_GROUP, advert_int_cs=50)
    slow = vrrp3_message(42, 150, [VIP3], src=IP_R1, dst=VRRP4_GROUP, advert_int_cs=4095)
    n = noise4()
    frames = [(f"0.{i}", eth(vrrp4(IP_R1, fast, ident=i + 1), MAC_R1)) for i in range(5)]
    frames += [
        ("0.45", eth(n[0])),
        ("0.55", eth(vrrp4(IP_R1, half, ident=10), MAC_R1)),
        ("0.65", eth(vrrp4(IP_R1, slow, ident=11), MAC_R1)),
        ("0.75", eth(n[2])),
        ("1.05", eth(vrrp4(IP_R1, half, ident=12), MAC_R1)),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
