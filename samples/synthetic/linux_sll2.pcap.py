"""Linux cooked capture v2 (link type 276): carries the interface index.

Frames: VRID 51 v2 seen on ifindex 2 and VRID 51 v2 on ifindex 3 (two segments, two groups), a v3
IPv6 advert on ifindex 3, a GARP on ifindex 2, an unsolicited NA on ifindex 3, noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    LINKTYPE_LINUX_SLL2,
    LL_R2,
    MAC_HOST,
    MAC_R1,
    MAC_R2,
    VIP1,
    VIP6,
    VIP6_LL,
    VRRP6_GROUP,
    garp_request,
    noise4,
    output_path,
    sll2,
    unsolicited_na,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    vrrp6,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    frames = [
        (0.0, sll2(vrrp4(IP_R1, vrrp2_message(51, 150, [VIP1]), ident=1), MAC_R1, 2, pkttype=2)),
        (0.1, sll2(vrrp4(IP_R2, vrrp2_message(51, 90, ["198.51.100.100"]), ident=1), MAC_R2, 3, pkttype=2)),
        (
            0.2,
            sll2(
                vrrp6(LL_R2, vrrp3_message(53, 100, [VIP6_LL, VIP6], src=LL_R2, dst=VRRP6_GROUP)),
                MAC_R2,
                3,
                pkttype=2,
            ),
        ),
        (0.3, sll2(garp_request(MAC_R1, VIP1), MAC_R1, 2, pkttype=1)),
        (0.4, sll2(unsolicited_na(MAC_R2, VIP6), MAC_R2, 3, pkttype=2)),
        (0.5, sll2(n[0], MAC_HOST, 2)),
        (0.6, sll2(n[1], MAC_HOST, 3)),
    ]
    write_pcap(output_path(__file__), frames, linktype=LINKTYPE_LINUX_SLL2)


if __name__ == "__main__":
    main()
