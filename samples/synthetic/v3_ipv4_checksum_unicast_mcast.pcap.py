"""VRRPv3 unicast (keepalived ``unicast_peer``) with the pre-1.3.6 checksum: the IPv4 pseudo-header
uses 224.0.0.18 as destination although the packet goes to the peer's unicast address
(``old_unicast_checksum``, PROTOCOL.md §4.4; variant ``v3-ipv4-pseudo-mcast``).

Frames: R1 (192.0.2.1) advertises VRID 20 to its peer 192.0.2.2 (unicast MAC), once with TTL 64
(keepalived ``unicast_ttl 64``); the peer, whose keepalived is down, answers with ICMP protocol
unreachable quoting the VRRP packet (Wireshark's ``vrrp`` filter matches the quoted header; it is no
advert and must not be reported); noise frames.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    MAC_R1,
    MAC_R2,
    VIP2,
    eth,
    ip4,
    noise4,
    output_path,
    vrrp3_message,
    vrrp4,
    write_pcap,
)
from scapy.layers.inet import ICMP


def main() -> None:
    """Build the frames and write the capture beside this script."""
    advert = vrrp3_message(20, 150, [VIP2], src=IP_R1, dst=IP_R2, checksum="mcast")
    first = vrrp4(IP_R1, advert, dst=IP_R2, ident=1)
    unreachable = ip4(IP_R2, IP_R1, 1, ICMP(type=3, code=2) / bytes(first)[: 28 + 8], ttl=64, ident=99)
    n = noise4()
    frames = [
        (0.0, eth(first, MAC_R1, MAC_R2)),
        (0.0005, eth(unreachable, MAC_R2, MAC_R1)),
        (0.3, eth(n[1])),
        (1.0, eth(vrrp4(IP_R1, advert, dst=IP_R2, ident=2), MAC_R1, MAC_R2)),
        (2.0, eth(vrrp4(IP_R1, advert, dst=IP_R2, ttl=64, ident=3), MAC_R1, MAC_R2)),
        (2.5, eth(n[2])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
