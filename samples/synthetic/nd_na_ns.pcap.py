"""IPv6 neighbour discovery (RFC 4861 §4.3, §4.4; keepalived's unsolicited NA, PROTOCOL.md §4.3).

Frames: keepalived's unsolicited NA for 2001:db8::100 (source = the VIP, destination ff02::1, hop
limit 255, R=0 S=0 O=1, TLLA = R1's MAC), the RFC form with R=1 from the IPv6 virtual MAC, a host's
multicast NS for the VIP (SLLA) and R1's solicited NA (S=1, O=1), a DAD NS (source ::, no SLLA);
ICMPv6 echo and router solicitation noise, which are not ND messages for vrrpscope.
"""

from __future__ import annotations

from _synth import (
    MAC_HOST,
    MAC_R1,
    VIP6,
    eth,
    neighbor_solicit,
    noise6,
    output_path,
    solicited_na,
    unsolicited_na,
    vmac6,
    write_pcap,
)
from scapy.layers.inet6 import ICMPv6ND_NS, IPv6


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise6()
    dad = IPv6(src="::", dst="ff02::1:ff00:101", hlim=255) / ICMPv6ND_NS(tgt="2001:db8::101")
    frames = [
        (0.0, eth(unsolicited_na(MAC_R1, VIP6), MAC_R1)),
        (0.1, eth(unsolicited_na(vmac6(51), VIP6, router=True), vmac6(51))),
        (0.2, eth(n[0])),
        (0.3, eth(neighbor_solicit(MAC_HOST, "2001:db8::50", VIP6), MAC_HOST)),
        (0.3001, eth(solicited_na(MAC_R1, VIP6, "2001:db8::50", VIP6), MAC_R1, "02:00:00:00:02:01")),
        (0.4, eth(dad, MAC_HOST)),
        (0.5, eth(n[1])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
