"""Raw IP capture (link type 101): IPv4 and IPv6 told apart by the version nibble, no link header.
Frames: a v2 advert, a v3/IPv4 advert, a v3/IPv6 advert, an unsolicited NA, IPv4 and IPv6 noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    LINKTYPE_RAW,
    LL_R1,
    MAC_R1,
    VIP1,
    VIP2,
    VIP6,
    VIP6_LL,
    VRRP4_GROUP,
    VRRP6_GROUP,
    noise4,
    noise6,
    output_path,
    unsolicited_na,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    vrrp6,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n4 = noise4()
    n6 = noise6()
    frames = [
        (0.0, vrrp4(IP_R1, vrrp2_message(51, 150, [VIP1]), ident=1)),
        (0.1, vrrp4(IP_R1, vrrp3_message(52, 150, [VIP2], src=IP_R1, dst=VRRP4_GROUP), ident=2)),
        (0.2, vrrp6(LL_R1, vrrp3_message(53, 150, [VIP6_LL, VIP6], src=LL_R1, dst=VRRP6_GROUP))),
        (0.3, unsolicited_na(MAC_R1, VIP6)),
        (0.4, n4[0]),
        (0.5, n6[0]),
    ]
    write_pcap(output_path(__file__), frames, linktype=LINKTYPE_RAW)


if __name__ == "__main__":
    main()
