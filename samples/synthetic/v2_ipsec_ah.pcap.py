"""VRRPv2 inside IPsec AH, as keepalived ``auth_type AH`` sends it (PROTOCOL.md §4.4, §9.1).

IPv4 protocol 51; AH next header 112, payload length 4, SPI = the sender's address as an integer,
sequence numbers 1, 2, 3 and a 12-byte HMAC-MD5-96 ICV (key "ahsecret"); the VRRP header has auth
type 2 and zero authentication data. Two routers, noise frames in between.
"""

from __future__ import annotations

import ipaddress

from _synth import (
    IP_R1,
    IP_R2,
    MAC_R1,
    MAC_R2,
    VIP1,
    eth,
    noise4,
    output_path,
    vrrp2_message,
    vrrp_ah_packet,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    r1 = vrrp2_message(51, 150, [VIP1], auth_type=2)
    r2 = vrrp2_message(51, 100, [VIP1], auth_type=2)
    spi1 = int(ipaddress.IPv4Address(IP_R1))
    spi2 = int(ipaddress.IPv4Address(IP_R2))
    n = noise4()
    frames = [
        (0.0, eth(vrrp_ah_packet(IP_R1, r1, spi=spi1, seq=1, key=b"ahsecret", ident=1), MAC_R1)),
        (0.3, eth(vrrp_ah_packet(IP_R2, r2, spi=spi2, seq=1, key=b"ahsecret", ident=1), MAC_R2)),
        (0.6, eth(n[1])),
        (1.0, eth(vrrp_ah_packet(IP_R1, r1, spi=spi1, seq=2, key=b"ahsecret", ident=2), MAC_R1)),
        (1.4, eth(n[2])),
        (2.0, eth(vrrp_ah_packet(IP_R1, r1, spi=spi1, seq=3, key=b"ahsecret", ident=3), MAC_R1)),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
