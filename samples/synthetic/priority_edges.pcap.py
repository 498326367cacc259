"""Priority edge values: 255 (address owner) and 0 (master resigning), VRRPv2 and VRRPv3.

Frames: v2 VRID 60 owner R1 at 255, then R1's priority-0 resign, then R2 (100) taking over; the
same sequence for v3/IPv4 VRID 61; noise. R2's adverts carry Ethernet padding.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    MAC_R1,
    MAC_R2,
    VIP1,
    VIP2,
    VRRP4_GROUP,
    eth,
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
    frames = [
        (0.0, eth(vrrp4(IP_R1, vrrp2_message(60, 255, [VIP1]), ident=1), MAC_R1)),
        (0.1, eth(vrrp4(IP_R1, vrrp3_message(61, 255, [VIP2], src=IP_R1, dst=VRRP4_GROUP), ident=2), MAC_R1)),
        (0.5, eth(n[0])),
        (1.0, eth(vrrp4(IP_R1, vrrp2_message(60, 0, [VIP1]), ident=3), MAC_R1)),
        (1.1, eth(vrrp4(IP_R1, vrrp3_message(61, 0, [VIP2], src=IP_R1, dst=VRRP4_GROUP), ident=4), MAC_R1)),
        (1.61, eth(vrrp4(IP_R2, vrrp2_message(60, 100, [VIP1]), ident=1), MAC_R2, pad=True)),
        (
            1.71,
            eth(
                vrrp4(IP_R2, vrrp3_message(61, 100, [VIP2], src=IP_R2, dst=VRRP4_GROUP), ident=2),
                MAC_R2,
                pad=True,
            ),
        ),
        (2.0, eth(n[1])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
