"""VRRPv3 over IPv6 (RFC 9568 §5.1.2), written as pcapng by scapy's ``PcapNgWriter``.

Frames: R1 (fe80::1) and R2 (fe80::2) advertise VRID 51 to ff02::12 (33:33:00:00:00:12), hop limit
255, with the link-local VIP fe80::100 first (RFC 9568 §5.2.9) and two global VIPs
2001:db8::100, 2001:db8::101; checksum over the RFC 8200 pseudo-header. R2's adverts come from the
IPv6 virtual MAC 00:00:5e:00:02:33. ICMPv6 echo and router solicitation noise.
"""

from __future__ import annotations

from _synth import (
    LL_R1,
    LL_R2,
    MAC_R1,
    VIP6,
    VIP6_2,
    VIP6_LL,
    VRRP6_GROUP,
    eth,
    noise6,
    output_path,
    vmac6,
    vrrp3_message,
    vrrp6,
    write_pcapng_scapy,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    vips = [VIP6_LL, VIP6, VIP6_2]
    r1 = vrrp3_message(51, 200, vips, src=LL_R1, dst=VRRP6_GROUP)
    r2 = vrrp3_message(51, 100, vips, src=LL_R2, dst=VRRP6_GROUP)
    n = noise6()
    frames = [
        (0.0, eth(vrrp6(LL_R1, r1), MAC_R1)),
        (0.25, eth(n[0])),
        (0.5, eth(vrrp6(LL_R2, r2), vmac6(51))),
        (1.0, eth(vrrp6(LL_R1, r1), MAC_R1)),
        (1.5, eth(n[1])),
        (2.0, eth(vrrp6(LL_R1, r1), MAC_R1)),
    ]
    write_pcapng_scapy(output_path(__file__), frames)


if __name__ == "__main__":
    main()
