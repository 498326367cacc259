"""VRRPv3 over IPv4, checksum variant "plain":
the VRRP message only, no pseudo-header: RFC 9568 §5.2.8 (keepalived >= 2.2.8
``v3_checksum_as_v2``, FRR >= 8.5 ``no checksum-with-ipv4-pseudoheader``; variant ``v3-ipv4-plain``).
tshark validates these only with ``-o vrrp.v3_checksum_as_in_v2:TRUE``.

Frames: R1 (192.0.2.1, priority 200, VRID 10, 1 s) and R2 (192.0.2.2, priority 100) to 224.0.0.18,
both with this checksum variant, with noise frames in between.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    MAC_R1,
    MAC_R2,
    VIP1,
    VRRP4_GROUP,
    eth,
    noise4,
    output_path,
    vrrp3_message,
    vrrp4,
    write_pcap,
)

VARIANT = "plain"


def main() -> None:
    """Build the frames and write the capture beside this script."""
    r1 = vrrp3_message(10, 200, [VIP1], src=IP_R1, dst=VRRP4_GROUP, checksum=VARIANT)
    r2 = vrrp3_message(10, 100, [VIP1], src=IP_R2, dst=VRRP4_GROUP, checksum=VARIANT)
    n = noise4()
    frames = [
        (0.0, eth(vrrp4(IP_R1, r1, ident=1), MAC_R1)),
        (0.2, eth(n[0])),
        (0.4, eth(vrrp4(IP_R2, r2, ident=1), MAC_R2)),
        (1.0, eth(vrrp4(IP_R1, r1, ident=2), MAC_R1)),
        (1.3, eth(n[1])),
        (2.0, eth(vrrp4(IP_R1, r1, ident=3), MAC_R1)),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
