"""Stacked VLAN tags (QinQ): 802.1ad outer tag 0x88A8 and the pre-standard 0x9100 outer tag, each
over an 802.1Q inner tag.

Frames: VRID 51 v2 in S-VLAN 100 / C-VLAN 30 (0x88A8), VRID 51 v3 in S-VLAN 200 / C-VLAN 30
(0x9100), a GARP in 100/30, an unsolicited NA in 200/30, tagged noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    MAC_R1,
    MAC_R2,
    VIP1,
    VIP6,
    VRRP4_GROUP,
    eth,
    garp_request,
    noise4,
    output_path,
    unsolicited_na,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    write_pcap,
)

AD = [(0x88A8, 100), (0x8100, 30)]
OLD = [(0x9100, 200), (0x8100, 30)]


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    frames = [
        (0.0, eth(vrrp4(IP_R1, vrrp2_message(51, 150, [VIP1]), ident=1), MAC_R1, vlans=AD)),
        (
            0.1,
            eth(
                vrrp4(IP_R2, vrrp3_message(51, 150, [VIP1], src=IP_R2, dst=VRRP4_GROUP), ident=1),
                MAC_R2,
                vlans=OLD,
            ),
        ),
        (0.2, eth(garp_request(MAC_R1, VIP1), MAC_R1, vlans=AD)),
        (0.3, eth(unsolicited_na(MAC_R2, VIP6), MAC_R2, vlans=OLD)),
        (0.4, eth(n[0], vlans=AD)),
        (0.5, eth(n[2], vlans=OLD)),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
