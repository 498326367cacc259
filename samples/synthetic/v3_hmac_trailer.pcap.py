"""Adverts with keepalived 2.4's 28-byte ``auth_hmac`` trailer (PROTOCOL.md §4.4, [K4]).

The trailer (ext_type 1, key_id, reserved, sec, subsec, ctr, 16-byte HMAC) follows the VRRP
message and is counted in the IP length. On IPv4 keepalived computes the VRRP checksum without the
trailer (pseudo-header length = message length for v3); on IPv6 the kernel (IPV6_CHECKSUM) sums the
whole payload, trailer included. Wireshark sums the trailer on IPv4 and calls those checksums bad.

Frames: v3/IPv4 VRID 30 from R1 (twice), v2/IPv4 VRID 31 from R1 (twice), v3/IPv6 VRID 32 from
fe80::1 (once), noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    LL_R1,
    MAC_R1,
    VIP1,
    VIP3,
    VIP6,
    VIP6_LL,
    VRRP4_GROUP,
    VRRP6_GROUP,
    eth,
    hmac_trailer,
    inet_checksum,
    noise4,
    output_path,
    patch_checksum,
    pseudo6,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    vrrp6,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    v3 = vrrp3_message(30, 150, [VIP1], src=IP_R1, dst=VRRP4_GROUP)
    v2 = vrrp2_message(31, 150, [VIP3])
    v6_zero = vrrp3_message(32, 150, [VIP6_LL, VIP6], src=LL_R1, dst=VRRP6_GROUP, checksum=0)
    v6_trailer = hmac_trailer(v6_zero, ctr=0)
    v6 = patch_checksum(
        v6_zero, inet_checksum(pseudo6(LL_R1, VRRP6_GROUP, len(v6_zero) + 28) + v6_zero + v6_trailer)
    )
    n = noise4()
    frames = [
        (0.0, eth(vrrp4(IP_R1, v3 + hmac_trailer(v3, ctr=0), ident=1), MAC_R1)),
        (0.1, eth(vrrp4(IP_R1, v2 + hmac_trailer(v2, ctr=0), ident=2), MAC_R1)),
        (0.2, eth(vrrp6(LL_R1, v6 + v6_trailer), MAC_R1)),
        (0.5, eth(n[0])),
        (1.0, eth(vrrp4(IP_R1, v3 + hmac_trailer(v3, ctr=1), ident=3), MAC_R1)),
        (1.1, eth(vrrp4(IP_R1, v2 + hmac_trailer(v2, ctr=1), ident=4), MAC_R1)),
        (1.5, eth(n[1])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
