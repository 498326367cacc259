"""Nanosecond-resolution pcap (magic 0xa1b23c4d) with timestamps that need all nine digits.

Frames: v2 adverts from R1 at .000000001, 1.000000999 and 2.123456789 s, a v3/IPv4 advert at
.500000500, a GARP, noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    MAC_R1,
    VIP1,
    VIP2,
    VRRP4_GROUP,
    eth,
    garp_request,
    noise4,
    output_path,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    v2 = vrrp2_message(51, 150, [VIP1])
    frames = [
        ("0.000000001", eth(vrrp4(IP_R1, v2, ident=1), MAC_R1)),
        ("0.250000250", eth(n[0])),
        (
            "0.500000500",
            eth(vrrp4(IP_R1, vrrp3_message(52, 150, [VIP2], src=IP_R1, dst=VRRP4_GROUP), ident=2), MAC_R1),
        ),
        ("0.750000001", eth(garp_request(MAC_R1, VIP1), MAC_R1)),
        ("1.000000999", eth(vrrp4(IP_R1, v2, ident=3), MAC_R1)),
        ("2.123456789", eth(vrrp4(IP_R1, v2, ident=4), MAC_R1)),
    ]
    write_pcap(output_path(__file__), frames, nano=True)


if __name__ == "__main__":
    main()
