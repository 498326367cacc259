"""Adverts listing several virtual addresses.

Frames: v2 VRID 80 with four VIPs (one from 203.0.113.0/24), v3/IPv4 VRID 81 with three, v3/IPv6
VRID 82 with a link-local and three global VIPs; noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    LL_R1,
    MAC_R1,
    VIP1,
    VIP2,
    VIP3,
    VIP4,
    VIP6,
    VIP6_2,
    VIP6_LL,
    VRRP4_GROUP,
    VRRP6_GROUP,
    eth,
    noise4,
    output_path,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    vrrp6,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    v6 = [VIP6_LL, VIP6, VIP6_2, "2001:db8:0:1::1"]
    frames = [
        (0.0, eth(vrrp4(IP_R1, vrrp2_message(80, 150, [VIP1, VIP2, VIP3, VIP4]), ident=1), MAC_R1)),
        (
            0.1,
            eth(
                vrrp4(IP_R1, vrrp3_message(81, 150, [VIP3, VIP2, VIP1], src=IP_R1, dst=VRRP4_GROUP), ident=2),
                MAC_R1,
            ),
        ),
        (0.2, eth(vrrp6(LL_R1, vrrp3_message(82, 150, v6, src=LL_R1, dst=VRRP6_GROUP)), MAC_R1)),
        (0.3, eth(n[1])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
