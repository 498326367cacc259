"""Adverts with no addresses (Count IP Addrs 0): "MUST be ignored" (RFC 9568 §5.2.5) but sent by
keepalived when no VIPs are configured outside strict mode.

Frames: v2 VRID 70 (16 bytes: header and auth data), v3/IPv4 VRID 71 (8 bytes), v3/IPv6 VRID 72
(8 bytes), each padded to the Ethernet minimum where short; noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    LL_R1,
    MAC_R1,
    VRRP4_GROUP,
    VRRP6_GROUP,
    eth,
    noise4,
    noise6,
    output_path,
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
        (0.0, eth(vrrp4(IP_R1, vrrp2_message(70, 100, []), ident=1), MAC_R1, pad=True)),
        (
            0.1,
            eth(
                vrrp4(IP_R1, vrrp3_message(71, 100, [], src=IP_R1, dst=VRRP4_GROUP), ident=2),
                MAC_R1,
                pad=True,
            ),
        ),
        (0.2, eth(vrrp6(LL_R1, vrrp3_message(72, 100, [], src=LL_R1, dst=VRRP6_GROUP)), MAC_R1)),
        (0.3, eth(n4[0])),
        (0.4, eth(n6[1])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
