"""VRRPv2 without authentication (auth type 0), keepalived defaults, plus non-VRRP noise.

Frames: R1 (192.0.2.1, priority 150) advertises VRID 51 for 192.0.2.100 every second from its
physical MAC to 224.0.0.18 / 01:00:5e:00:00:12, TTL 255; between the adverts an ICMP echo, a TCP
SYN, a UDP datagram and an IGMPv2 report that must not be reported.
"""

from __future__ import annotations

from _synth import IP_R1, MAC_R1, VIP1, eth, noise4, output_path, vrrp2_message, vrrp4, write_pcap


def main() -> None:
    """Build the frames and write the capture beside this script."""
    advert = vrrp2_message(51, 150, [VIP1])
    n = noise4()
    frames = [
        (0.0, eth(vrrp4(IP_R1, advert, ident=1), MAC_R1)),
        (0.25, eth(n[0])),
        (1.0, eth(vrrp4(IP_R1, advert, ident=2), MAC_R1)),
        (1.5, eth(n[1])),
        (2.0, eth(vrrp4(IP_R1, advert, ident=3), MAC_R1)),
        (2.5, eth(n[2])),
        (2.75, eth(n[3])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
