"""Gratuitous and ordinary ARP (RFC 826; keepalived's GARP form, PROTOCOL.md §4.3).

Frames: a keepalived GARP burst for 192.0.2.100 (requests, SPA = TPA = VIP, THA ff:ff:ff:ff:ff:ff,
Ethernet broadcast, from R1's physical MAC) - two of them, padded as received; a GARP in reply form
(THA = SHA) from the IPv4 virtual MAC 00:00:5e:00:01:33; an ordinary request from a host for the
VIP (THA 00:00:00:00:00:00) and R1's unicast reply; an ARP probe (SPA 0.0.0.0); noise.
"""

from __future__ import annotations

from _synth import (
    IP_HOST,
    MAC_HOST,
    MAC_R1,
    VIP1,
    arp_reply,
    arp_request,
    eth,
    garp_reply,
    garp_request,
    noise4,
    output_path,
    vmac4,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    frames = [
        (0.0, eth(garp_request(MAC_R1, VIP1), MAC_R1, pad=True)),
        (0.001, eth(garp_request(MAC_R1, VIP1), MAC_R1, pad=True)),
        (0.1, eth(garp_reply(vmac4(51), VIP1), vmac4(51), "ff:ff:ff:ff:ff:ff")),
        (0.2, eth(n[0])),
        (0.3, eth(arp_request(MAC_HOST, IP_HOST, VIP1), MAC_HOST)),
        (0.3001, eth(arp_reply(MAC_R1, VIP1, MAC_HOST, IP_HOST), MAC_R1, MAC_HOST, pad=True)),
        (0.4, eth(arp_request(MAC_HOST, "0.0.0.0", "192.0.2.51"), MAC_HOST)),
        (0.5, eth(n[1])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
