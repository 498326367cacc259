"""Big-endian classic pcap (magic a1 b2 c3 d4 as written on a big-endian host), microseconds.

Frames: v2 adverts from R1, a v3/IPv6 advert, a GARP, an unsolicited NA, noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    LL_R1,
    MAC_R1,
    VIP1,
    VIP6,
    VIP6_LL,
    VRRP6_GROUP,
    eth,
    garp_request,
    noise4,
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
    n = noise4()
    v2 = vrrp2_message(51, 150, [VIP1])
    frames = [
        ("0.000001", eth(vrrp4(IP_R1, v2, ident=1), MAC_R1)),
        (
            "0.1",
            eth(vrrp6(LL_R1, vrrp3_message(52, 150, [VIP6_LL, VIP6], src=LL_R1, dst=VRRP6_GROUP)), MAC_R1),
        ),
        ("0.2", eth(garp_request(MAC_R1, VIP1), MAC_R1)),
        ("0.3", eth(unsolicited_na(MAC_R1, VIP6), MAC_R1)),
        ("0.4", eth(n[1])),
        ("1.999999", eth(vrrp4(IP_R1, v2, ident=2), MAC_R1)),
    ]
    write_pcap(output_path(__file__), frames, endianness=">")


if __name__ == "__main__":
    main()
