"""Raw IPv6 capture (link type 229). Frames: a v3/IPv6 advert, an unsolicited NA, a neighbour
solicitation, IPv6 noise.
"""

from __future__ import annotations

from _synth import (
    LINKTYPE_IPV6,
    LL_R1,
    MAC_HOST,
    MAC_R1,
    VIP6,
    VIP6_LL,
    VRRP6_GROUP,
    neighbor_solicit,
    noise6,
    output_path,
    unsolicited_na,
    vrrp3_message,
    vrrp6,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n6 = noise6()
    frames = [
        (0.2, vrrp6(LL_R1, vrrp3_message(53, 150, [VIP6_LL, VIP6], src=LL_R1, dst=VRRP6_GROUP))),
        (0.3, unsolicited_na(MAC_R1, VIP6)),
        (0.35, neighbor_solicit(MAC_HOST, "2001:db8::50", VIP6)),
        (0.4, n6[0]),
        (0.5, n6[1]),
    ]
    write_pcap(output_path(__file__), frames, linktype=LINKTYPE_IPV6)


if __name__ == "__main__":
    main()
