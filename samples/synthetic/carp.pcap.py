"""OpenBSD/FreeBSD CARP adverts: IPv4 protocol 112 to 224.0.0.18 like VRRP, but another protocol
(version 2, type 1, vhid, advskew, authlen 7, demotion, advbase, checksum, 64-bit counter, 20-byte
HMAC-SHA1: 36 bytes). Built with ``scapy.contrib.carp`` (whose defaults, version 4 / type 4, are
overridden with the values CARP really sends). They must never be read as VRRP adverts.

Frames: CARP vhid 1 from 192.0.2.1 (advskew 0) and 192.0.2.2 (advskew 100) from the virtual MAC
00:00:5e:00:01:01, a genuine VRRPv2 advert for VRID 2 from R1, and a genuine VRRPv2 advert with
seven VIPs (Count IP Addrs 7 sits where CARP's authlen 7 does: Wireshark's CARP heuristic, when
tried first, takes it for CARP; 44 bytes, not 36, tell them apart), a CARP advert with an unusual
authlen 0 (recognisable only by its checksum over all 36 bytes; Wireshark's heuristic wants
authlen 7), noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    MAC_R1,
    VIP1,
    eth,
    ip4,
    noise4,
    output_path,
    vmac4,
    vrrp2_message,
    vrrp4,
    write_pcap,
)
from scapy.contrib.carp import CARP


def carp(advskew: int, counter: int, authlen: int = 7) -> bytes:
    """A CARP advertisement with a fixed HMAC (bytes of the right shape; value irrelevant here)."""
    advert = CARP(
        version=2,
        type=1,
        vhid=1,
        advskew=advskew,
        authlen=authlen,
        demotion=0,
        advbase=1,
        counter1=0x5F5E1000,
        counter2=counter,
    )
    mac = advert.build_hmac_sha1(pw=b"carpsecret".ljust(20, b"\0"), ip4l=[VIP1])
    words = [int.from_bytes(mac[i : i + 4], "big") for i in range(0, 20, 4)]
    advert.hmac1, advert.hmac2, advert.hmac3, advert.hmac4, advert.hmac5 = words
    return bytes(advert)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    frames = [
        (0.0, eth(ip4(IP_R1, "224.0.0.18", 112, carp(0, 1), ident=1), vmac4(1))),
        (0.4, eth(ip4(IP_R2, "224.0.0.18", 112, carp(100, 1), ident=1), vmac4(1))),
        (0.5, eth(vrrp4(IP_R1, vrrp2_message(2, 150, ["192.0.2.102"]), ident=5), MAC_R1)),
        (
            0.6,
            eth(
                vrrp4(IP_R1, vrrp2_message(3, 150, [f"198.51.100.{i}" for i in range(1, 8)]), ident=6), MAC_R1
            ),
        ),
        (0.7, eth(n[0])),
        (1.0, eth(ip4(IP_R1, "224.0.0.18", 112, carp(0, 2), ident=2), vmac4(1))),
        (1.5, eth(ip4(IP_R2, "224.0.0.18", 112, carp(100, 2, authlen=0), ident=2), vmac4(1))),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
