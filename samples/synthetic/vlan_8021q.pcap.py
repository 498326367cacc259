"""802.1Q-tagged traffic: the same VRID on two VLANs is two different groups (DESIGN.md).

Frames: VRID 51 v2 on VLAN 10 (R1, 192.0.2.0/24) and VRID 51 v2 on VLAN 20 (R2, 198.51.100.0/24),
a GARP on VLAN 10, an unsolicited NA on VLAN 20,
tagged and untagged noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    MAC_R1,
    MAC_R2,
    VIP1,
    VIP6,
    eth,
    garp_request,
    noise4,
    output_path,
    unsolicited_na,
    vrrp2_message,
    vrrp4,
    write_pcap,
)

Q = 0x8100


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    v10 = vrrp2_message(51, 150, [VIP1])
    v20 = vrrp2_message(51, 120, ["198.51.100.100"])
    frames = [
        (0.0, eth(vrrp4(IP_R1, v10, ident=1), MAC_R1, vlans=[(Q, 10)])),
        (0.1, eth(vrrp4("198.51.100.2", v20, ident=1), MAC_R2, vlans=[(Q, 20)])),
        (0.2, eth(garp_request(MAC_R1, VIP1), MAC_R1, vlans=[(Q, 10)], pad=True)),
        (0.3, eth(unsolicited_na(MAC_R2, VIP6), MAC_R2, vlans=[(Q, 20)])),
        (0.4, eth(n[0], vlans=[(Q, 10)])),
        (0.5, eth(n[1])),
        (1.0, eth(vrrp4(IP_R1, v10, ident=2), MAC_R1, vlans=[(Q, 10)])),
        (1.1, eth(vrrp4("198.51.100.2", v20, ident=2), MAC_R2, vlans=[(Q, 20)])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
