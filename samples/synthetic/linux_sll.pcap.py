"""Linux cooked capture v1 (link type 113, ``tcpdump -i any`` with older libpcap).

SLL keeps only the source link-layer address and a packet type (0 to us, 1 broadcast, 2 multicast,
4 sent by us). Frames: R1's v2 advert as sent (4) and as received (2), a v3/IPv6 advert, a GARP
(broadcast), an unsolicited NA, noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    LINKTYPE_LINUX_SLL,
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
    noise6,
    output_path,
    sll,
    unsolicited_na,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    vrrp6,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    v2 = vrrp2_message(51, 150, [VIP1])
    v3 = vrrp3_message(52, 100, [VIP6_LL, VIP6], src=LL_R2, dst=VRRP6_GROUP)
    n4 = noise4()
    n6 = noise6()
    frames = [
        (0.0, sll(vrrp4(IP_R1, v2, ident=1), MAC_R1, pkttype=4)),
        (0.0001, sll(vrrp4(IP_R1, v2, ident=1), MAC_R1, pkttype=2)),
        (0.2, sll(vrrp6(LL_R2, v3), MAC_R2, pkttype=2)),
        (0.3, sll(garp_request(MAC_R1, VIP1), MAC_R1, pkttype=1)),
        (0.4, sll(unsolicited_na(MAC_R2, VIP6), MAC_R2, pkttype=2)),
        (0.5, sll(n4[0], MAC_HOST, pkttype=0)),
        (0.6, sll(n6[0], MAC_HOST, pkttype=0)),
    ]
    write_pcap(output_path(__file__), frames, linktype=LINKTYPE_LINUX_SLL)


if __name__ == "__main__":
    main()
