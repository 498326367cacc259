"""Builders of decoded :class:`~vrrpscope.model.Packet` records for reconstructor/detector unit tests.

They construct the dissector records directly (no bytes, no scapy), with documentation addresses,
so each test states its scenario in a few lines: who advertises when, at which priority, who GARPs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

from dissectors.records import (
    ArpPacket,
    IpInfo,
    LinkInfo,
    Malformed,
    NdMessage,
    VrrpV2Advert,
    VrrpV3Advert,
)
from vrrpscope.model import Packet

MCAST4 = "224.0.0.18"
MCAST6 = "ff02::12"


def mac_of(ip: str) -> str:
    """A stable locally administered MAC for a router IP: 02:00:00:00:<last two bytes>."""
    b = ipaddress.ip_address(ip).packed
    return f"02:00:00:00:{b[-2]:02x}:{b[-1]:02x}"


class Lan:
    """One vantage point (input file) on one segment; numbers frames as a capture would."""

    def __init__(self, segment: str = "eth0", file: str = "test.pcap", file_index: int = 0) -> None:
        self.segment = segment
        self.file = file
        self.file_index = file_index
        self.frame = 0

    def _packet(self, t: float, link: LinkInfo, ip: IpInfo | None, msg: object) -> Packet:
        self.frame += 1
        return Packet(self.file_index, self.file, self.frame, t, self.segment, link, ip, msg)  # type: ignore[arg-type]

    def v2(
        self,
        t: float,
        src: str,
        *,
        vrid: int = 51,
        prio: int = 100,
        vips: Iterable[str] = ("192.0.2.100",),
        interval: int = 1,
        auth_type: int = 0,
        password: bytes = b"",
        mac: str | None = None,
        ttl: int = 255,
        dst: str = MCAST4,
        checksum_variant: str | None = "v2",
        checksum: int = 0x1234,
    ) -> Packet:
        """A VRRPv2 advert from ``src``."""
        vips = tuple(vips)
        msg = VrrpV2Advert(
            type=1,
            vrid=vrid,
            priority=prio,
            count_ip_addrs=len(vips),
            auth_type=auth_type,
            advert_int=interval,
            checksum=checksum,
            addresses=vips,
            auth_data=password.ljust(8, b"\0")[:8],
            checksum_variant=checksum_variant,  # type: ignore[arg-type]
        )
        multicast = ipaddress.ip_address(dst).is_multicast
        link = LinkInfo(mac or mac_of(src), "01:00:5e:00:00:12" if multicast else "02:ff:ff:ff:ff:ff", (), 0x0800)
        return self._packet(t, link, IpInfo("ipv4", src, dst, ttl, 112, multicast), msg)

    def v3(
        self,
        t: float,
        src: str,
        *,
        vrid: int = 51,
        prio: int = 100,
        vips: Iterable[str] = ("192.0.2.100",),
        interval_cs: int = 100,
        mac: str | None = None,
        ttl: int = 255,
        dst: str | None = None,
        checksum_variant: str | None = "auto",
        checksum: int = 0x4321,
    ) -> Packet:
        """A VRRPv3 advert from ``src`` (IPv4 or IPv6 by the address); ``checksum_variant`` ``auto``
        picks the default variant of the family, ``None`` makes the checksum invalid."""
        vips = tuple(vips)
        family = "ipv6" if ":" in src else "ipv4"
        if dst is None:
            dst = MCAST6 if family == "ipv6" else MCAST4
        if checksum_variant == "auto":
            checksum_variant = "v3-ipv6" if family == "ipv6" else "v3-ipv4-pseudo"
        msg = VrrpV3Advert(
            type=1,
            vrid=vrid,
            priority=prio,
            count_ip_addrs=len(vips),
            reserved=0,
            max_advert_int_cs=interval_cs,
            checksum=checksum,
            addresses=vips,
            checksum_variant=checksum_variant,  # type: ignore[arg-type]
        )
        multicast = ipaddress.ip_address(dst).is_multicast
        ethertype = 0x86DD if family == "ipv6" else 0x0800
        link = LinkInfo(mac or mac_of(src), "33:33:00:00:00:12", (), ethertype)
        return self._packet(t, link, IpInfo(family, src, dst, ttl, 112, multicast), msg)  # type: ignore[arg-type]

    def garp(self, t: float, ip: str, mac: str, *, reply: bool = False) -> Packet:
        """keepalived's gratuitous ARP: a request with sender IP = target IP, target MAC ff:..."""
        msg = ArpPacket(2 if reply else 1, mac, ip, "ff:ff:ff:ff:ff:ff", ip)
        return self._packet(t, LinkInfo(mac, "ff:ff:ff:ff:ff:ff", (), 0x0806), None, msg)

    def arp_reply(self, t: float, ip: str, mac: str, to_ip: str = "192.0.2.50") -> Packet:
        """An ordinary ARP reply: ``ip`` is at ``mac``."""
        msg = ArpPacket(2, mac, ip, "02:00:00:00:00:50", to_ip)
        return self._packet(t, LinkInfo(mac, "02:00:00:00:00:50", (), 0x0806), None, msg)

    def arp_request(self, t: float, ip: str, mac: str, who_has: str) -> Packet:
        """An ARP request from ``ip``/``mac`` asking for ``who_has``."""
        msg = ArpPacket(1, mac, ip, "00:00:00:00:00:00", who_has)
        return self._packet(t, LinkInfo(mac, "ff:ff:ff:ff:ff:ff", (), 0x0806), None, msg)

    def na(self, t: float, ip: str, mac: str, *, solicited: bool = False) -> Packet:
        """keepalived's unsolicited NA (O=1, S=0) for ``ip`` with TLLA ``mac``, from the VIP itself."""
        msg = NdMessage(136, 0, ip, False, solicited, True, None, mac, 0)
        return self._packet(
            t,
            LinkInfo(mac, "33:33:00:00:00:01", (), 0x86DD),
            IpInfo("ipv6", ip, "ff02::1", 255, 58, True),
            msg,
        )

    def malformed(self, t: float, reason: str = "count_exceeds_length") -> Packet:
        """A VRRP packet that could not be decoded."""
        msg = Malformed("vrrp", reason, "count=3 needs 12 address bytes, 4 present", 28)
        return self._packet(
            t,
            LinkInfo("02:00:00:00:00:99", "01:00:5e:00:00:12", (), 0x0800),
            IpInfo("ipv4", "192.0.2.99", MCAST4, 255, 112, True),
            msg,
        )


def every(start: float, stop: float, step: float) -> Iterator[float]:
    """``start, start+step, ...`` strictly below ``stop`` (no float drift)."""
    n = 0
    while True:
        t = start + n * step
        if t >= stop - 1e-9:
            return
        yield round(t, 6)
        n += 1


def merge(*streams: Iterable[Packet]) -> list[Packet]:
    """Time-order packets of several lists (stable), renumbering nothing."""
    out = [p for s in streams for p in s]
    out.sort(key=lambda p: p.time)
    return out


def renumber(packets: list[Packet]) -> list[Packet]:
    """Give a time-ordered list consecutive frame numbers per file, as a capture would have."""
    counters: dict[int, int] = {}
    out = []
    for p in packets:
        n = counters.get(p.file_index, 0) + 1
        counters[p.file_index] = n
        out.append(Packet(p.file_index, p.file, n, p.time, p.segment, p.link, p.ip, p.message, p.wirelen))
    return out
