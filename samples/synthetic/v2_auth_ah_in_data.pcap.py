"""VRRPv2 with auth type 2 ("IP Authentication Header", RFC 2338) carried only in the VRRP header.

No IPsec header is present (IPv4 protocol 112): the 8 authentication data bytes are non-zero, as a
router implementing the RFC 2338 type-2 value without AH would send them. The checksum covers them.
Noise frames in between.
"""

from __future__ import annotations

from _synth import IP_R1, MAC_R1, VIP1, VIP2, eth, noise4, output_path, vrrp2_message, vrrp4, write_pcap


def main() -> None:
    """Build the frames and write the capture beside this script."""
    advert = vrrp2_message(
        7, 200, [VIP1, VIP2], auth_type=2, auth_data=bytes.fromhex("0123456789abcdef"), advert_int=2
    )
    n = noise4()
    frames = [
        (0.0, eth(vrrp4(IP_R1, advert, ident=1), MAC_R1)),
        (0.5, eth(n[0])),
        (2.0, eth(vrrp4(IP_R1, advert, ident=2), MAC_R1)),
        (3.0, eth(n[3])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
