"""Building blocks for the synthetic scenario captures in ``samples/scenarios/``.

Each ``<case>.pcap.py`` script describes one incident as a sequence of calls on a :class:`Scenario`
and writes ``<case>.pcap`` next to itself. The traffic imitates Debian's keepalived 2.2.7 as
observed on the wire (``/work/shared/PROTOCOL.md``, "What keepalived 2.2.7 really does"):

- adverts from the router's **physical** MAC (no ``use_vmac``), TTL/hop limit 255, to 224.0.0.18 /
  ff02::12, IPv4 source = the interface's primary address, IPv6 source = its EUI-64 link-local
  address; VRRPv2 checksum over the message, VRRPv3/IPv4 checksum **with** the IPv4 pseudo-header
  (keepalived's default), VRRPv3/IPv6 with the IPv6 pseudo-header; simple-password or IPsec-AH
  (HMAC-MD5-96) authentication for v2;
- a master's advert timer re-arms ``advert_int`` after each send, so adverts drift by the send
  latency (tens to hundreds of microseconds per advert);
- on becoming master: the advert first, then a burst of 5 gratuitous ARPs per VIP (ARP *request*,
  Ethernet broadcast, sender IP = target IP = VIP, target MAC ff:ff:ff:ff:ff:ff), and a second burst
  5 s later (``vrrp_garp_master_delay``); for IPv6 VIPs, unsolicited NAs from the VIP to ff02::1
  (O=1, S=0, R=0, target = VIP, TLLA = interface MAC) with the same counts;
- a backup takes over ``Master_Down_Interval`` after the last advert it accepted
  (``3 × interval + Skew_Time``; ``Skew_Time = (256 − prio)/256 s`` for v2 and
  ``(256 − prio) × interval / 256`` for v3), and ``Skew_Time`` after a priority-0 advert;
- the kernel sends an IGMPv3 leave for 224.0.0.18 about 12 ms after the VRRP socket closes and
  repeats it once, and an IGMPv3 join when keepalived starts.

Background traffic (TCP, UDP/DNS, ICMP echo, ordinary ARP request/reply between hosts, ICMPv6
echo and NS/NA for IPv6) comes from a seeded random generator, so every script is deterministic.
Times are seconds relative to :data:`BASE_TIME` (epoch 1700000000.0) and are written with
microsecond resolution. Only documentation addresses are used (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32, and fe80::/10 link-local), and locally administered MACs
02:00:00:00:00:0N.

scapy builds the layers; fields scapy would take from the host (addresses, MACs) are always given
explicitly, and the pcap file is written by this module, so the bytes depend on the script only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scapy.compat import raw
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mr
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert, checksum, in4_chksum
from scapy.layers.inet6 import (
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Packet, Raw

#: Epoch of relative time 0 in every scenario.
BASE_TIME = 1_700_000_000.0
#: Ethernet broadcast address.
BROADCAST = "ff:ff:ff:ff:ff:ff"
#: VRRP IPv4 multicast group and its Ethernet address.
VRRP_GROUP4 = "224.0.0.18"
VRRP_GROUP4_MAC = "01:00:5e:00:00:12"
#: VRRP IPv6 multicast group and its Ethernet address.
VRRP_GROUP6 = "ff02::12"
VRRP_GROUP6_MAC = "33:33:00:00:00:12"
#: IPv6 all-nodes group (destination of unsolicited NAs) and its Ethernet address.
ALL_NODES6 = "ff02::1"
ALL_NODES6_MAC = "33:33:00:00:00:01"
#: IGMPv3 report destination (all IGMPv3 routers) and its Ethernet address.
IGMPV3_REPORTS = "224.0.0.22"
IGMPV3_REPORTS_MAC = "01:00:5e:00:00:16"

#: Delay between a timer firing in keepalived and the advert appearing on the wire (s).
ADVERT_LATENCY = 0.0008
#: Delay between a new master's first advert and its first gratuitous ARP/NA (s).
GARP_AFTER_ADVERT = 0.0004
#: Spacing of the frames inside one GARP/NA burst (``vrrp_garp_interval 0``: back to back) (s).
GARP_SPACING = 0.00002
#: keepalived defaults: ``vrrp_garp_master_repeat`` and ``vrrp_garp_master_delay``.
GARP_REPEAT = 5
GARP_DELAY = 5.0
#: Delay between receiving a lower-priority advert and the master's immediate answer (s).
REPLY_LATENCY = 0.0003
#: Delay between the VRRP socket closing and the kernel's first IGMPv3 leave (s), and the repeat.
IGMP_LEAVE_DELAY = 0.012
IGMP_LEAVE_REPEAT = 0.31
#: Per-advert drift of keepalived's re-armed advert timer (uniform bounds, s).
DRIFT = (0.00005, 0.00025)

IP_PROTO_VRRP = 112
IP_PROTO_AH = 51
#: keepalived sends adverts with IP precedence "internetwork control".
TOS_INTERNETWORK_CONTROL = 0xC0


def mac(n: int) -> str:
    """The fixed, locally administered MAC ``02:00:00:00:00:NN`` of scenario node ``n``."""
    return f"02:00:00:00:00:{n:02x}"


def link_local(mac_address: str) -> str:
    """The EUI-64 IPv6 link-local address Linux derives from ``mac_address`` (RFC 4291 App. A)."""
    octets = [int(x, 16) for x in mac_address.split(":")]
    eui = [octets[0] ^ 0x02, *octets[1:3], 0xFF, 0xFE, *octets[3:6]]
    iid = int.from_bytes(bytes(eui), "big")
    return str(ipaddress.IPv6Address((0xFE80 << 112) | iid))


def skew_time(priority: int, version: int = 2, interval: float = 1.0) -> float:
    """Skew_Time in seconds: v2 ``(256 − p)/256`` (RFC 3768 §6.1); v3 ``(256 − p) × interval/256``
    (RFC 5798/9568 §6.1), ``interval`` being the master's advertisement interval in seconds."""
    if version == 2:
        return (256 - priority) / 256.0
    return (256 - priority) * interval / 256.0


def master_down_interval(priority: int, version: int = 2, interval: float = 1.0) -> float:
    """Master_Down_Interval in seconds: ``3 × interval + Skew_Time`` (RFC 3768/5798/9568 §6.1)."""
    return 3 * interval + skew_time(priority, version, interval)


def _multicast_mac(group: str) -> str:
    """Ethernet address of an IPv4 or IPv6 multicast group (RFC 1112 §6.4, RFC 2464 §7)."""
    addr = ipaddress.ip_address(group)
    if addr.version == 4:
        low = int(addr) & 0x7FFFFF
        return "01:00:5e:" + ":".join(f"{b:02x}" for b in low.to_bytes(3, "big"))
    return "33:33:" + ":".join(f"{b:02x}" for b in addr.packed[-4:])


@dataclass
class Host:
    """An ordinary host (no VRRP): source of background traffic and of ARP/ND queries."""

    name: str
    ip: str
    mac: str
    vlan: int | None = None

    @property
    def family(self) -> str:
        """``ipv4`` or ``ipv6`` from the address."""
        return "ipv6" if ":" in self.ip else "ipv4"


@dataclass
class Router:
    """One VRRP instance on one router, configured as keepalived would be.

    ``ip`` is the advert source: the interface's primary IPv4 address, or (IPv6) its link-local
    address, derived from ``mac`` when not given. ``advert_int`` is in seconds (v3: a multiple of
    0.01). ``auth`` is ``None``, ``("pass", password)`` or ``("ah", password)`` (v2 only).
    ``checksum`` selects the VRRPv3/IPv4 checksum variant: ``pseudo`` (keepalived 2.2.7 default),
    ``plain`` (RFC 9568, keepalived ≥ 2.2.8 ``v3_checksum_as_v2``) or ``bad`` (matches no variant).
    ``ttl`` is the IPv4 TTL / IPv6 hop limit of its adverts. ``ip_id`` and ``ah_sequence`` are the
    running IPv4 identification and AH sequence counters, advanced by each advert sent.
    """

    name: str
    mac: str
    priority: int
    vips: Sequence[str]
    ip: str = ""
    vrid: int = 51
    version: int = 2
    advert_int: float = 1.0
    auth: tuple[str, str] | None = None
    checksum: str = "pseudo"
    ttl: int = 255
    vlan: int | None = None
    ip_id: int = 0x1000
    ah_sequence: int = 0
    family: str = field(init=False)

    def __post_init__(self) -> None:
        self.family = "ipv6" if ":" in self.vips[0] else "ipv4"
        if not self.ip:
            if self.family != "ipv6":
                raise ValueError(f"{self.name}: an IPv4 router needs its primary address")
            self.ip = link_local(self.mac)
        if self.family == "ipv6" and self.version != 3:
            raise ValueError(f"{self.name}: IPv6 needs VRRPv3")
        if self.auth is not None and self.version != 2:
            raise ValueError(f"{self.name}: authentication exists in VRRPv2 only")

    @property
    def advert_int_cs(self) -> int:
        """The advertisement interval in centiseconds (the v3 wire unit)."""
        return round(self.advert_int * 100)

    def skew(self, master_interval: float | None = None) -> float:
        """This router's Skew_Time against a master advertising every ``master_interval`` s."""
        return skew_time(self.priority, self.version, master_interval or self.advert_int)

    def mdi(self, master_interval: float | None = None) -> float:
        """This router's Master_Down_Interval against a master advertising every ``master_interval`` s."""
        return master_down_interval(self.priority, self.version, master_interval or self.advert_int)


@dataclass
class _Record:
    """One frame waiting to be written: time in µs since :data:`BASE_TIME`, order of creation."""

    t_us: int
    seq: int
    data: bytes
    caplen: int


class Scenario:
    """A capture under construction: frames at relative times, background noise, notes.

    Methods that emit adverts return the times they used, so a script can place the next event
    relative to what actually went on the wire.
    """

    def __init__(self, name: str, *, seed: int = 1, snaplen: int = 262144) -> None:
        self.name = name
        self.rng = random.Random(f"{name}/{seed}")
        self.snaplen = snaplen
        self.records: list[_Record] = []
        self.notes: list[str] = []
        self._tcp_seq: dict[tuple[str, str], int] = {}
        self._icmp_seq = 0
        self._dns_id = 0x1A2B

    # ----------------------------------------------------------------- frames and output
    def add(self, t: float, frame: Packet | bytes, *, caplen: int | None = None) -> None:
        """Queue ``frame`` at relative time ``t``; ``caplen`` truncates it as a short snaplen would."""
        data = raw(frame) if isinstance(frame, Packet) else bytes(frame)
        if len(data) < 60:
            data += b"\0" * (60 - len(data))  # Ethernet minimum frame (FCS excluded), as captured
        cap = len(data) if caplen is None else min(caplen, len(data))
        self.records.append(_Record(round(t * 1e6), len(self.records), data, cap))

    def note(self, text: str) -> None:
        """Record a fact about the scenario (printed by :meth:`write`)."""
        self.notes.append(text)

    def to_bytes(self) -> bytes:
        """The capture as a classic pcap file (µs timestamps, LINKTYPE_ETHERNET), frames sorted by time."""
        records = sorted(self.records, key=lambda r: (r.t_us, r.seq))
        base_us = round(BASE_TIME * 1e6)
        chunks = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, 1)]
        for rec in records:
            ts = base_us + rec.t_us
            chunks.append(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, rec.caplen, len(rec.data)))
            chunks.append(rec.data[: rec.caplen])
        return b"".join(chunks)

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_bytes` to ``path`` and print a summary and the notes."""
        out = Path(path)
        out.write_bytes(self.to_bytes())
        duration = max((r.t_us for r in self.records), default=0) / 1e6
        print(f"{out.name}: {len(self.records)} frames, {duration:.3f} s")
        for text in self.notes:
            print(f"  {text}")
        return out

    # ----------------------------------------------------------------- link helpers
    @staticmethod
    def ether(src: str, dst: str, payload: Packet, vlan: int | None) -> Packet:
        """``payload`` in an Ethernet frame, 802.1Q-tagged with ``vlan`` when it is not ``None``."""
        if vlan is None:
            return Ether(src=src, dst=dst) / payload
        return Ether(src=src, dst=dst) / Dot1Q(vlan=vlan) / payload

    # ----------------------------------------------------------------- VRRP
    def _vrrp_payload(self, r: Router, priority: int, count: int | None) -> Packet:
        addresses = list(r.vips)
        if r.version == 2:
            auth_type, auth_data = 0, b"\0" * 8
            if r.auth is not None:
                kind, password = r.auth
                auth_type = 1 if kind == "pass" else 2
                if kind == "pass":
                    auth_data = password.encode()[:8].ljust(8, b"\0")
            return VRRP(
                vrid=r.vrid,
                priority=priority,
                ipcount=count,
                authtype=auth_type,
                adv=round(r.advert_int),
                addrlist=addresses,
                auth1=int.from_bytes(auth_data[:4], "big"),
                auth2=int.from_bytes(auth_data[4:], "big"),
            )
        return VRRPv3(vrid=r.vrid, priority=priority, ipcount=count, adv=r.advert_int_cs, addrlist=addresses)

    def advert_frame(self, r: Router, *, priority: int | None = None, count: int | None = None) -> Packet:
        """One advertisement of ``r`` as keepalived builds it (checksum per ``r.checksum``)."""
        prio = r.priority if priority is None else priority
        r.ip_id = (r.ip_id + 1) & 0xFFFF
        vrrp = self._vrrp_payload(r, prio, count)
        if r.family == "ipv6":
            l3: Packet = IPv6(src=r.ip, dst=VRRP_GROUP6, hlim=r.ttl) / vrrp
            return self.ether(r.mac, VRRP_GROUP6_MAC, l3, r.vlan)
        if r.auth is not None and r.auth[0] == "ah":
            return self.ether(r.mac, VRRP_GROUP4_MAC, self._ah_packet(r, raw(vrrp)), r.vlan)
        ip = IP(src=r.ip, dst=VRRP_GROUP4, ttl=r.ttl, tos=TOS_INTERNETWORK_CONTROL, id=r.ip_id, proto=112)
        if r.version == 3 and r.checksum != "pseudo":
            message = bytearray(raw(ip / vrrp)[20:])
            message[6:8] = b"\0\0"
            plain = checksum(bytes(message))
            pseudo = in4_chksum(IP_PROTO_VRRP, IP(src=r.ip, dst=VRRP_GROUP4), bytes(message))
            if r.checksum == "plain":
                value = plain
            elif r.checksum == "bad":
                value = (pseudo + 0x0123) & 0xFFFF
                assert value not in (plain, pseudo), "bad checksum must match no variant"
            else:
                raise ValueError(f"unknown checksum variant {r.checksum!r}")
            message[6:8] = value.to_bytes(2, "big")
            return self.ether(r.mac, VRRP_GROUP4_MAC, ip / Raw(bytes(message)), r.vlan)
        return self.ether(r.mac, VRRP_GROUP4_MAC, ip / vrrp, r.vlan)

    def _ah_packet(self, r: Router, vrrp: bytes) -> Packet:
        """IPv4 + IPsec AH (RFC 4302, HMAC-MD5-96) + VRRPv2, as keepalived's ``auth_type AH`` sends:
        SPI = the source address, sequence counting up, ICV over the packet with the mutable IP
        fields (TOS, flags/fragment offset, TTL, checksum) and the ICV zeroed; key = the password
        truncated/padded to 8 bytes."""
        assert r.auth is not None
        r.ah_sequence += 1
        key = r.auth[1].encode()[:8].ljust(8, b"\0")
        spi = int(ipaddress.IPv4Address(r.ip))
        header = struct.pack("!BBHII", IP_PROTO_VRRP, 4, 0, spi, r.ah_sequence)
        ip = IP(src=r.ip, dst=VRRP_GROUP4, ttl=r.ttl, tos=TOS_INTERNETWORK_CONTROL, id=r.ip_id, proto=51)
        zeroed = bytearray(raw(ip.copy() / Raw(header + b"\0" * 12 + vrrp)))
        zeroed[1] = 0  # TOS
        zeroed[6:8] = b"\0\0"  # flags + fragment offset
        zeroed[8] = 0  # TTL
        zeroed[10:12] = b"\0\0"  # header checksum
        icv = hmac.new(key, bytes(zeroed), hashlib.md5).digest()[:12]
        return ip / Raw(header + icv + vrrp)

    def advert(self, r: Router, t: float, *, priority: int | None = None, count: int | None = None) -> float:
        """Emit one advert of ``r`` at ``t``; return ``t``."""
        self.add(t, self.advert_frame(r, priority=priority, count=count))
        return t

    def adverts(
        self,
        r: Router,
        start: float,
        stop: float,
        *,
        priority: int | None = None,
        interval: float | None = None,
    ) -> list[float]:
        """A master's advert train: first at ``start``, then every interval plus keepalived's send
        drift, while the time is ``<= stop``. Returns the times used."""
        step = r.advert_int if interval is None else interval
        times: list[float] = []
        t = start
        while t <= stop + 1e-9:
            times.append(self.advert(r, t, priority=priority))
            t = t + step + self.rng.uniform(*DRIFT)
        return times

    def next_advert(self, r: Router, previous: float) -> float:
        """When a master that sent at ``previous`` sends next (interval plus drift)."""
        return previous + r.advert_int + self.rng.uniform(*DRIFT)

    def link_update(self, r: Router, t: float, *, repeat: int = GARP_REPEAT) -> float:
        """One GARP (IPv4) / unsolicited-NA (IPv6) burst for all of ``r``'s VIPs starting at ``t``:
        ``repeat`` rounds, each over every VIP in configuration order. Returns the last frame's time."""
        n = 0
        for _ in range(repeat):
            for vip in r.vips:
                when = t + n * GARP_SPACING
                if r.family == "ipv4":
                    self.add(when, self.garp_frame(r.mac, vip, r.vlan))
                else:
                    self.add(when, self.unsolicited_na_frame(r.mac, vip, r.vlan))
                n += 1
        return t + (n - 1) * GARP_SPACING

    @classmethod
    def garp_frame(cls, sender_mac: str, vip: str, vlan: int | None = None, *, target_mac: str = BROADCAST) -> Packet:
        """keepalived's gratuitous ARP: request, broadcast, sender = target = ``vip``, THA ff:ff:..."""
        arp = ARP(op=1, hwsrc=sender_mac, psrc=vip, hwdst=target_mac, pdst=vip)
        return cls.ether(sender_mac, BROADCAST, arp, vlan)

    @classmethod
    def unsolicited_na_frame(cls, sender_mac: str, vip: str, vlan: int | None = None) -> Packet:
        """keepalived's unsolicited NA: from the VIP to ff02::1, hop limit 255, O=1, TLLA = MAC."""
        na = IPv6(src=vip, dst=ALL_NODES6, hlim=255) / ICMPv6ND_NA(R=0, S=0, O=1, tgt=vip)
        return cls.ether(sender_mac, ALL_NODES6_MAC, na / ICMPv6NDOptDstLLAddr(lladdr=sender_mac), vlan)

    def become_master(self, r: Router, t: float, *, garp: bool = True, second_burst: bool = True) -> float:
        """``r`` becomes master at ``t``: advert first, then a GARP/NA burst, and the delayed second
        burst ``GARP_DELAY`` later. Returns ``t`` (the first advert's time)."""
        self.advert(r, t)
        if garp:
            self.link_update(r, t + GARP_AFTER_ADVERT)
            if second_burst:
                self.link_update(r, t + GARP_AFTER_ADVERT + GARP_DELAY)
        return t

    def master_run(self, r: Router, start: float, stop: float, *, garp: bool = True) -> list[float]:
        """``r`` becomes master at ``start`` (advert, GARP bursts) and advertises until ``stop``."""
        self.become_master(r, start, garp=garp)
        return [start, *self.adverts(r, self.next_advert(r, start), stop)]

    def resign(self, r: Router, t: float) -> float:
        """keepalived stopping (SIGTERM): one priority-0 advert, then the kernel's IGMP leaves."""
        self.advert(r, t, priority=0)
        self.igmp_leave(r, t)
        return t

    def igmp_leave(self, r: Router | Host, t: float) -> None:
        """The kernel's IGMPv3 leave for 224.0.0.18 after the VRRP socket closed at ``t`` (twice)."""
        self.add(t + IGMP_LEAVE_DELAY, self._igmp(r, join=False))
        self.add(t + IGMP_LEAVE_DELAY + IGMP_LEAVE_REPEAT, self._igmp(r, join=False))

    def igmp_join(self, r: Router | Host, t: float) -> None:
        """The kernel's IGMPv3 join for 224.0.0.18 when keepalived opens its socket at ``t`` (twice)."""
        self.add(t, self._igmp(r, join=True))
        self.add(t + 0.42, self._igmp(r, join=True))

    def _igmp(self, r: Router | Host, *, join: bool) -> Packet:
        record = IGMPv3gr(rtype=4 if join else 3, maddr=VRRP_GROUP4)
        ip = IP(
            src=r.ip,
            dst=IGMPV3_REPORTS,
            ttl=1,
            tos=TOS_INTERNETWORK_CONTROL,
            options=[IPOption_Router_Alert()],
        )
        return self.ether(r.mac, IGMPV3_REPORTS_MAC, ip / IGMPv3(type=0x22) / IGMPv3mr(records=[record]), r.vlan)

    # ----------------------------------------------------------------- ARP / ND between hosts
    def arp_request(
        self,
        t: float,
        host: Host,
        target_ip: str,
        *,
        eth_dst: str = BROADCAST,
        target_mac: str = "00:00:00:00:00:00",
    ) -> None:
        """An ordinary ARP request from ``host`` (broadcast, or unicast as a Linux NUD probe)."""
        arp = ARP(op=1, hwsrc=host.mac, psrc=host.ip, hwdst=target_mac, pdst=target_ip)
        self.add(t, self.ether(host.mac, eth_dst, arp, host.vlan))

    def arp_reply(self, t: float, sender_mac: str, sender_ip: str, to: Host) -> None:
        """An ARP reply claiming ``sender_ip`` for ``sender_mac``, unicast to ``to``."""
        arp = ARP(op=2, hwsrc=sender_mac, psrc=sender_ip, hwdst=to.mac, pdst=to.ip)
        self.add(t, self.ether(sender_mac, to.mac, arp, to.vlan))

    def arp_exchange(self, t: float, host: Host, target_ip: str, *responders: str) -> None:
        """``host`` asks who has ``target_ip``; each MAC in ``responders`` answers (0.15 ms apart)."""
        self.arp_request(t, host, target_ip)
        for i, responder in enumerate(responders):
            self.arp_reply(t + 0.00012 + i * 0.00015, responder, target_ip, host)

    def nd_exchange(self, t: float, host: Host, target_ip: str, responder_mac: str | None) -> None:
        """``host`` sends a multicast NS for ``target_ip``; ``responder_mac`` answers with a
        solicited NA (S=1, O=1) from ``target_ip`` carrying its TLLA."""
        target = ipaddress.IPv6Address(target_ip)
        snm = str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | (int(target) & 0xFFFFFF)))
        ns = IPv6(src=host.ip, dst=snm, hlim=255) / ICMPv6ND_NS(tgt=target_ip) / ICMPv6NDOptSrcLLAddr(lladdr=host.mac)
        self.add(t, self.ether(host.mac, _multicast_mac(snm), ns, host.vlan))
        if responder_mac is not None:
            na = IPv6(src=target_ip, dst=host.ip, hlim=255) / ICMPv6ND_NA(R=0, S=1, O=1, tgt=target_ip)
            frame = self.ether(responder_mac, host.mac, na / ICMPv6NDOptDstLLAddr(lladdr=responder_mac), host.vlan)
            self.add(t + 0.00015, frame)

    # ----------------------------------------------------------------- background noise
    def noise(self, hosts: Sequence[Host], start: float, stop: float, *, rate: float = 3.0) -> None:
        """Background traffic among ``hosts`` (all on one segment) between ``start`` and ``stop``:
        about ``rate`` conversations per second drawn from TCP, DNS, ICMP echo and host ARP."""
        if len(hosts) < 2:
            raise ValueError("noise needs at least two hosts")
        t = start + self.rng.expovariate(rate)
        while t < stop:
            a, b = self.rng.sample(list(hosts), 2)
            kind = self.rng.choices(["tcp", "dns", "ping", "arp"], weights=[5, 2, 2, 1])[0]
            if a.family == "ipv6":
                kind = {"tcp": "tcp", "dns": "tcp", "ping": "ping", "arp": "nd"}[kind]
            getattr(self, f"_noise_{kind}")(t, a, b)
            t += self.rng.expovariate(rate)

    def _l3(self, src: Host, dst: Host) -> Packet:
        if src.family == "ipv6":
            return IPv6(src=src.ip, dst=dst.ip, hlim=64)
        return IP(src=src.ip, dst=dst.ip, ttl=64, id=self.rng.randrange(1, 0xFFFF), flags="DF")

    def _noise_tcp(self, t: float, a: Host, b: Host) -> None:
        key = (a.ip, b.ip)
        seq = self._tcp_seq.setdefault(key, self.rng.randrange(1 << 31))
        ack = self._tcp_seq.setdefault((b.ip, a.ip), self.rng.randrange(1 << 31))
        sport = 40000 + (hash_ip(a.ip) % 20000)
        size = self.rng.choice([36, 52, 120, 380, 1200])
        payload = bytes(self.rng.randrange(256) for _ in range(size))
        seg = TCP(sport=sport, dport=22, flags="PA", seq=seq, ack=ack, window=501) / Raw(payload)
        self.add(t, self.ether(a.mac, b.mac, self._l3(a, b) / seg, a.vlan))
        back = TCP(sport=22, dport=sport, flags="A", seq=ack, ack=(seq + size) & 0xFFFFFFFF, window=501)
        self.add(t + self.rng.uniform(0.0002, 0.002), self.ether(b.mac, a.mac, self._l3(b, a) / back, b.vlan))
        self._tcp_seq[key] = (seq + size) & 0xFFFFFFFF

    def _noise_dns(self, t: float, a: Host, b: Host) -> None:
        self._dns_id = (self._dns_id + 7919) & 0xFFFF
        name = self.rng.choice(["www.example.com", "mirror.example.net", "ntp.example.org"])
        query = DNS(id=self._dns_id, rd=1, qd=DNSQR(qname=name, qtype="A"))
        sport = 30000 + self._dns_id % 30000
        self.add(t, self.ether(a.mac, b.mac, self._l3(a, b) / UDP(sport=sport, dport=53) / query, a.vlan))
        answer = DNS(
            id=self._dns_id,
            qr=1,
            rd=1,
            ra=1,
            qd=DNSQR(qname=name, qtype="A"),
            an=DNSRR(rrname=name, type="A", ttl=300, rdata="203.0.113.80"),
        )
        reply = self._l3(b, a) / UDP(sport=53, dport=sport) / answer
        self.add(t + self.rng.uniform(0.0003, 0.003), self.ether(b.mac, a.mac, reply, b.vlan))

    def _noise_ping(self, t: float, a: Host, b: Host) -> None:
        self._icmp_seq += 1
        data = bytes(range(16, 72))
        if a.family == "ipv6":
            req: Packet = ICMPv6EchoRequest(id=0x4D2, seq=self._icmp_seq, data=data)
            rep: Packet = ICMPv6EchoReply(id=0x4D2, seq=self._icmp_seq, data=data)
        else:
            req = ICMP(type=8, id=0x4D2, seq=self._icmp_seq) / Raw(data)
            rep = ICMP(type=0, id=0x4D2, seq=self._icmp_seq) / Raw(data)
        self.add(t, self.ether(a.mac, b.mac, self._l3(a, b) / req, a.vlan))
        self.add(t + self.rng.uniform(0.0001, 0.0008), self.ether(b.mac, a.mac, self._l3(b, a) / rep, b.vlan))

    def _noise_arp(self, t: float, a: Host, b: Host) -> None:
        self.arp_request(t, a, b.ip)
        self.arp_reply(t + self.rng.uniform(0.00005, 0.0003), b.mac, b.ip, a)

    def _noise_nd(self, t: float, a: Host, b: Host) -> None:
        self.nd_exchange(t, a, b.ip, b.mac)


def hash_ip(address: str) -> int:
    """A stable small integer from an address (Python's ``hash`` is salted per process)."""
    return int(ipaddress.ip_address(address)) & 0xFFFF


def hosts_v4(prefix: str = "192.0.2", vlan: int | None = None, first_mac: int = 5) -> list[Host]:
    """The usual three hosts of a segment: .50 and .51 (clients) and .53 (DNS server)."""
    return [
        Host("h50", f"{prefix}.50", mac(first_mac), vlan),
        Host("h51", f"{prefix}.51", mac(first_mac + 1), vlan),
        Host("dns", f"{prefix}.53", mac(first_mac + 2), vlan),
    ]


def hosts_v6(prefix: str = "2001:db8:51::", first_mac: int = 5) -> list[Host]:
    """Three IPv6 hosts of a segment (``::50``, ``::51``, ``::53``)."""
    return [
        Host("h50", f"{prefix}50", mac(first_mac)),
        Host("h51", f"{prefix}51", mac(first_mac + 1)),
        Host("dns", f"{prefix}53", mac(first_mac + 2)),
    ]


def fmt(values: Iterable[float]) -> str:
    """Times for notes: ``a, b, c`` with 6 decimals."""
    return ", ".join(f"{v:.6f}" for v in values)
