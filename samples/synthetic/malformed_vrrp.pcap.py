"""VRRP packets that cannot be decoded, between valid ones: decoding must go on, never crash.

Frames:
 1 valid v2 advert (VRID 90)
 2 v2 with Count IP Addrs 5 but one address and the auth data present (count exceeds length)
 3 v3/IPv4 with count 4 and one address (count exceeds length)
 4 version 1 (no such VRRP version)
 5 version 4
 6 VRRP payload of 4 bytes only (IP header consistent)
 7 v3/IPv6 with count 3 and one address
 8 a v2 advert cut by the capture snap length (caplen 46 of 54 bytes: addresses/auth missing)
 9 valid v3/IPv4 advert (VRID 91)
 plus noise frames.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    LL_R1,
    MAC_R1,
    VIP1,
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
    valid2 = vrrp2_message(90, 150, [VIP1])
    over2 = vrrp2_message(90, 150, [VIP1], count=5)
    over3 = vrrp3_message(91, 150, [VIP1], src=IP_R1, dst=VRRP4_GROUP, count=4)
    ver1 = vrrp2_message(90, 150, [VIP1], version=1)
    ver4 = vrrp2_message(90, 150, [VIP1], version=4)
    over6 = vrrp3_message(92, 150, [VIP6_LL], src=LL_R1, dst=VRRP6_GROUP, count=3)
    valid3 = vrrp3_message(91, 150, [VIP1], src=IP_R1, dst=VRRP4_GROUP)
    cut = bytes(eth(vrrp4(IP_R1, valid2, ident=8), MAC_R1))
    frames: list = [
        (0.0, eth(vrrp4(IP_R1, valid2, ident=1), MAC_R1)),
        (0.1, eth(vrrp4(IP_R1, over2, ident=2), MAC_R1)),
        (0.2, eth(vrrp4(IP_R1, over3, ident=3), MAC_R1)),
        (0.3, eth(vrrp4(IP_R1, ver1, ident=4), MAC_R1)),
        (0.4, eth(n[0])),
        (0.5, eth(vrrp4(IP_R1, ver4, ident=5), MAC_R1)),
        (0.6, eth(vrrp4(IP_R1, valid2[:4], ident=6), MAC_R1, pad=True)),
        (0.7, eth(vrrp6(LL_R1, over6), MAC_R1)),
        (0.8, cut[:46], len(cut)),
        (0.9, eth(n[1])),
        (1.0, eth(vrrp4(IP_R1, valid3, ident=9), MAC_R1)),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
