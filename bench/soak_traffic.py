"""Deterministic simulated VRRP / ARP / ND traffic for the soak test (seeded; raw bytes, no scapy).

A campus-like capture on one trunk interface (``soak0``) with VLANs, each VLAN carrying a handful
of VRRP groups served by two routers (load-shared: the primary alternates between the groups), and
a population of dual-stack hosts:

* groups of every flavour: VRRPv2/IPv4 (simple-text password), VRRPv3/IPv4 (checksum with the IPv4
  pseudo-header, keepalived's default), VRRPv3/IPv4 at a 0.5 s interval, VRRPv3/IPv6 (link-local and
  global VIPs); the same VRIDs repeat on every VLAN (different groups);
* the master advertises at its interval; hosts ask for the VIPs (ARP request / neighbour
  solicitation) and the current master answers (ARP reply / solicited NA);
* every group lives through episodes drawn from a seeded RNG, timed as keepalived times them
  (RFC 3768 / RFC 9568 §6.1 formulas, written out here):

  - ``crash``: the primary stops; the backup takes over Master_Down_Interval(backup priority) after
    the primary's last advert (sometimes late: a *slow takeover*; sometimes without GARP/NA: a
    *missing GARP*) and announces the VIPs (bursts at +0 s and +5 s); the primary comes back later
    and preempts after its own Master_Down_Interval;
  - ``resign``: the primary sends a priority-0 advert; the backup takes over after Skew_Time;
    the primary returns and preempts;
  - ``track``: a tracked script drops the primary's priority to 90; the backup preempts; the script
    recovers and the primary preempts back;
  - ``split``: the backup advertises as master alongside the primary for tens of seconds (a split
    brain; on VRRPv2 groups sometimes with a wrong password: an *auth mismatch*), then yields;
  - ``outage``: both routers down for a few minutes (no master), then the primary is back;
  - ``blip``: the backup sends one advert (started in MASTER state) and yields at once;
  - ``flap``: the tracked script flaps, ``track`` four to six times in a row (a preemption flap);
  - after some split brains the router that stopped advertising keeps refreshing its GARP/NA
    (keepalived ``garp_master_refresh``) for a while: it still holds the VIP;

* on every VLAN, hosts resolve each other (ARP, NS/NA); rarely a host's NIC is replaced (the IP moves
  to a new MAC once) or a rogue device fights over a host's IP (a duplicate address).

Each scheduled master change is recorded as an :class:`Expected` change (cause, old, new, time or
time window) for the consumer to check, and each episode that must produce a finding is counted in
:attr:`Traffic.expected_findings`. Frames come out of :meth:`Traffic.frames` in time order as
``(time_ns, stream, frame bytes)``; memory is bounded: every stream keeps only its current
30-second window and the episode being played.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import socket
import struct
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

#: Capture start (epoch seconds).
BASE_S = 1_700_000_000
NS = 1_000_000_000
#: Frames are produced per stream in windows of this length.
WINDOW_NS = 30 * NS
#: The trunk interface name (segments are ``soak0/vlanN``).
IFACE = "soak0"

BCAST = b"\xff" * 6
ZERO_MAC = b"\0" * 6
ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100
PROTO_VRRP, PROTO_ICMPV6 = 112, 58

# Timing model (RFC 3768 §6.1, RFC 9568 §6.1) and the documented defaults of the analysis it is
# checked against (vrrpscope.reconstruct.ReconstructorConfig, vrrpscope.detectors.*Config).
DOWN_ADVERTS = 3  # Master_Down_Interval = 3 x interval + Skew_Time
ALIVE_INTERVALS, ALIVE_TOL = 2.5, 0.2  # a claimant is alive 2.5 intervals (+ <= 0.2 s) after its advert
OVERLAP_INTERVALS, OVERLAP_TOL = 1.0, 0.25  # normal hand-over overlap: 1 interval (+ <= 0.25 s)
SILENCE_TOL = 0.5  # a master is gone after Master_Down_Interval(priority 1) + <= 0.5 s
SLOW_TOL_S, SLOW_TOL_FRACTION = 0.1, 0.02  # slow_takeover: gap > allowed + 0.1 s + 2 %
NO_MASTER_FACTOR = 5.0  # no_master reports a silence longer than 5 x the silence threshold
#: How late (capture time) a decision taken on silence may be seen: the engine ticks every 0.25 s
#: and sweeps on packets every 0.1 s.
DECISION_SLACK = 0.25 + 1e-6

PRIMARY_PRIO, BACKUP_PRIO, TRACKED_PRIO = 150, 100, 90
PASSWORD, WRONG_PASSWORD = b"vrrp-pw\0", b"wrongpw\0"


# ----------------------------------------------------------------------------- timing


def skew_time(version: int, priority: int, interval: float) -> float:
    """Skew_Time (s): v2 ``(256 - p) / 256``; v3 ``(256 - p) * interval / 256``."""
    return (256 - priority) / 256.0 if version == 2 else (256 - priority) * interval / 256.0


def master_down(version: int, priority: int, interval: float) -> float:
    """Master_Down_Interval (s) = 3 x interval + Skew_Time(priority)."""
    return DOWN_ADVERTS * interval + skew_time(version, priority, interval)


def silence_threshold(version: int, interval: float) -> float:
    """How long a master may be silent before it counts as gone (priority-1 Master_Down_Interval
    plus the tolerance)."""
    return master_down(version, 1, interval) + min(SILENCE_TOL, interval)


def ns(seconds: float) -> int:
    """Seconds -> integer nanoseconds."""
    return round(seconds * NS)


# ----------------------------------------------------------------------------- frame builders


def checksum(data: bytes) -> int:
    """RFC 1071 one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(text: str) -> bytes:
    """``02:00:..`` -> 6 bytes."""
    return bytes.fromhex(text.replace(":", ""))


def v4(ip: str) -> bytes:
    """Packed IPv4 address."""
    return socket.inet_pton(socket.AF_INET, ip)


def v6(ip: str) -> bytes:
    """Packed IPv6 address."""
    return socket.inet_pton(socket.AF_INET6, ip)


def ether(dst: bytes, src: bytes, ethertype: int, vlan: int, payload: bytes) -> bytes:
    """Ethernet II with one 802.1Q tag, padded to the 60-byte minimum."""
    frame = dst + src + struct.pack("!HHH", ETH_VLAN, vlan, ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


def ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 255) -> bytes:
    """An IPv4 header (valid checksum) and ``payload``."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(payload), 0, 0x4000, ttl, proto, 0, v4(src), v4(dst))
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes, hop_limit: int = 255) -> bytes:
    """An IPv6 header and ``payload``."""
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), next_header, hop_limit, v6(src), v6(dst)) + payload


def _v6_pseudo(src: str, dst: str, length: int, next_header: int) -> bytes:
    return v6(src) + v6(dst) + struct.pack("!IxxxB", length, next_header)


def vrrp2(vrid: int, prio: int, vips: tuple[str, ...], interval: int, password: bytes) -> bytes:
    """VRRPv2 advert (RFC 3768 §5.1), simple-text authentication, checksum over the message."""
    body = struct.pack("!BBBBBBH", 0x21, vrid, prio, len(vips), 1, interval, 0)
    body += b"".join(v4(a) for a in vips) + password[:8].ljust(8, b"\0")
    return body[:6] + struct.pack("!H", checksum(body)) + body[8:]


def vrrp3(src: str, dst: str, vrid: int, prio: int, vips: tuple[str, ...], interval_cs: int) -> bytes:
    """VRRPv3 advert (RFC 9568 §5.1); checksum with the IPv4 (keepalived default) or IPv6
    pseudo-header."""
    six = ":" in src
    body = struct.pack("!BBBBH", 0x31, vrid, prio, len(vips), interval_cs & 0x0FFF) + b"\0\0"
    body += b"".join((v6 if six else v4)(a) for a in vips)
    if six:
        pseudo = _v6_pseudo(src, dst, len(body), PROTO_VRRP)
    else:
        pseudo = v4(src) + v4(dst) + struct.pack("!BBH", 0, PROTO_VRRP, len(body))
    return body[:6] + struct.pack("!H", checksum(pseudo + body)) + body[8:]


def arp(op: int, smac: bytes, sip: str, tmac: bytes, tip: str) -> bytes:
    """ARP for IPv4 over Ethernet (RFC 826)."""
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, op, smac, v4(sip), tmac, v4(tip))


def icmp6(src: str, dst: str, icmp_type: int, flags: int, target: str, option: int, lladdr: bytes) -> bytes:
    """An NS (135) / NA (136) with one link-layer address option, in its IPv6 header."""
    msg = struct.pack("!BBHB3x16s", icmp_type, 0, 0, flags, v6(target)) + struct.pack("!BB6s", option, 1, lladdr)
    c = checksum(_v6_pseudo(src, dst, len(msg), PROTO_ICMPV6) + msg)
    return ipv6(src, dst, PROTO_ICMPV6, msg[:2] + struct.pack("!H", c) + msg[4:])


def solicited_node(ip: str) -> tuple[str, bytes]:
    """The solicited-node multicast address of ``ip`` and its Ethernet multicast MAC."""
    low = v6(ip)[13:]
    addr = socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff0200000000000000000001ff") + low)
    return addr, b"\x33\x33\xff" + low


NA_ROUTER, NA_SOLICITED, NA_OVERRIDE = 0x80, 0x40, 0x20


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Expected:
    """A master change the analysis must report: ``cause``, ``old`` -> ``new`` (router IPs, None:
    no master), at a capture time within ``[lo, hi]`` (equal bounds: exact), with ``gap`` for
    takeovers (new master's first advert - old master's last)."""

    cause: str
    old: str | None
    new: str | None
    lo: float
    hi: float
    gap: float | None = None


@dataclass(frozen=True, slots=True)
class Router:
    """One router of a VLAN: IPv4 address, IPv6 link-local, MAC."""

    ip4: str
    ll6: str
    mac: bytes


@dataclass(slots=True)
class Run:
    """A router advertising one fixed frame every ``iv`` ns from ``first`` to ``last`` inclusive."""

    frame: bytes
    first: int
    iv: int
    last: int = 1 << 62

    def close_at(self, t: int) -> int:
        """Stop: the last advert is the last one at or before ``t``; return its time."""
        k = (t - self.first) // self.iv
        self.last = self.first + k * self.iv
        return self.last

    def close_before(self, t: int) -> int:
        """Stop: the last advert is the last one strictly before ``t``; return its time."""
        k = -((self.first - t) // self.iv) - 1  # ceil((t - first) / iv) - 1
        self.last = self.first + k * self.iv
        return self.last

    def first_after(self, t: float) -> float:
        """Time (s) of the first advert strictly after ``t`` (s)."""
        k = max(0, math.floor((t * NS - self.first) / self.iv) - 1)
        while (self.first + k * self.iv) / NS <= t:
            k += 1
        return (self.first + k * self.iv) / NS


@dataclass(slots=True)
class Host:
    """A dual-stack host: IPv4, IPv6 global address, and its MAC over time ``[(from_ns, mac)]``."""

    ip4: str
    ip6: str
    macs: list[tuple[int, bytes]]

    def mac(self, t: int) -> bytes:
        """The MAC the host uses at ``t``."""
        if len(self.macs) == 1:
            return self.macs[0][1]
        i = bisect.bisect_right(self.macs, t, key=lambda m: m[0]) - 1
        return self.macs[max(i, 0)][1]


@dataclass
class SoakConfig:
    """What to simulate: capture length, groups (five per VLAN), hosts per VLAN, episode and
    background rates, RNG seed."""

    hours: float = 8.0
    groups: int = 50
    hosts_per_vlan: int = 100
    groups_per_vlan: int = 5
    #: Mean time between episodes of one group (exponential, at least 2 minutes apart).
    episode_every_s: float = 900.0
    #: Mean time between VIP resolutions (host asks, master answers) per group.
    query_every_s: float = 10.0
    #: Host-to-host resolutions per second per VLAN (each: request + reply).
    chatter_per_s: float = 2.0
    #: Mean time between rare host events (NIC replaced, duplicate address) per VLAN.
    host_event_every_s: float = 3600.0
    #: Episode mix (weights).
    mix: dict[str, float] = field(
        default_factory=lambda: {
            "crash": 4.0,
            "resign": 2.0,
            "track": 2.0,
            "split": 1.5,
            "outage": 0.7,
            "blip": 1.0,
            "flap": 0.4,
        }
    )
    #: Fraction of crash takeovers that come late (slow_takeover) / without GARP/NA (missing_garp).
    slow_fraction: float = 0.15
    missing_garp_fraction: float = 0.1
    #: Fraction of VRRPv2 split brains caused by a wrong password (auth_mismatch).
    auth_fraction: float = 0.5
    #: Fraction of split brains after which the router that stopped advertising keeps refreshing
    #: its GARP/NA (keepalived ``garp_master_refresh``) for 5-20 minutes: it still holds the VIP.
    refresh_fraction: float = 0.3
    #: How long (minutes, uniform range) it goes on refreshing.
    refresh_minutes: tuple[float, float] = (5.0, 20.0)
    #: Seconds between those refreshes.
    refresh_every_s: float = 30.0
    #: Drop/recover cycles of a preemption flap (uniform range).
    flap_cycles: tuple[int, int] = (4, 6)
    seed: int = 7

    @property
    def vlans(self) -> int:
        """Number of VLANs."""
        return max(1, -(-self.groups // self.groups_per_vlan))


#: Group flavours by slot on a VLAN: (version, family, interval s, VRID, number of IPv4 VIPs).
FLAVOURS = (
    (2, "ipv4", 1.0, 10, 1),
    (3, "ipv4", 1.0, 11, 1),
    (3, "ipv6", 1.0, 12, 1),
    (3, "ipv4", 0.5, 13, 1),
    (2, "ipv4", 1.0, 14, 2),
)


def vlan_id(index: int) -> int:
    """802.1Q id of VLAN ``index``."""
    return 100 + 10 * index


def segment(index: int) -> str:
    """Segment name vrrpscope gives VLAN ``index`` on the trunk."""
    return f"{IFACE}/vlan{vlan_id(index)}"


class Vlan:
    """One VLAN: its two routers, its hosts (with pre-drawn NIC swaps), its rare host events."""

    def __init__(self, index: int, cfg: SoakConfig, rng: random.Random, start: int, end: int) -> None:
        self.index = index
        self.vid = vlan_id(index)
        self.segment = segment(index)
        self.routers = (
            Router("192.0.2.2", "fe80::2", mac_bytes(f"02:00:00:{index:02x}:00:02")),
            Router("192.0.2.3", "fe80::3", mac_bytes(f"02:00:00:{index:02x}:00:03")),
        )
        self.hosts = [
            Host(f"198.51.100.{10 + h}", f"2001:db8:{self.vid:x}::{0x1000 + h:x}",
                 [(0, mac_bytes(f"02:10:{index:02x}:00:{h >> 8:02x}:{h & 0xFF:02x}"))])
            for h in range(cfg.hosts_per_vlan)
        ]
        #: Rare host events, drawn up front (a few per hour): (time, kind, host index).
        self.events: deque[tuple[int, str, int]] = deque()
        #: Recent duplicate-address episodes: (IP, start s, end s).
        self.marks: deque[tuple[str, float, float]] = deque(maxlen=8)
        t = start + ns(60.0)
        while cfg.host_event_every_s > 0:
            t += ns(max(120.0, rng.expovariate(1.0 / cfg.host_event_every_s)))
            if t > end - ns(120.0):
                break
            h = rng.randrange(len(self.hosts))
            if rng.random() < 0.5:
                host = self.hosts[h]
                new = mac_bytes(f"02:20:{index:02x}:{h >> 8:02x}:{h & 0xFF:02x}:{len(host.macs):02x}")
                host.macs.append((t, new))
                self.events.append((t, "nic_swap", h))
            else:
                self.events.append((t, "dup_ip", h))


class Group:
    """One VRRP group's simulation: adverts as :class:`Run` s, single frames, answers to hosts."""

    def __init__(self, gid: int, vlan: Vlan, slot: int, traffic: Traffic) -> None:
        self.gid = gid
        self.vlan = vlan
        self.traffic = traffic
        cfg = traffic.cfg
        self.rng = random.Random(f"{cfg.seed}-group-{gid}")
        version, family, interval, vrid, nvips = FLAVOURS[slot % len(FLAVOURS)]
        self.version, self.family, self.interval, self.vrid = version, family, interval, vrid
        self.iv = ns(interval)
        self.key = (vlan.segment, family, vrid)
        primary = slot % 2  # load sharing: the primary alternates between the groups of a VLAN
        self.primary, self.backup = vlan.routers[primary], vlan.routers[1 - primary]
        self.six = family == "ipv6"
        if self.six:
            self.vips: tuple[str, ...] = (f"fe80::1:{vrid}", f"2001:db8:{vlan.vid:x}::{vrid}")
        else:
            self.vips = tuple(f"203.0.113.{vrid + 100 * i}" for i in range(nvips))
        self._adverts: dict[tuple[Router, int, bytes], bytes] = {}
        self._garps: dict[Router, list[bytes]] = {}
        self.runs: list[Run] = []
        self.singles: list[tuple[int, bytes]] = []  # a heap
        #: Who answers for the VIPs from when: [(from_ns, routers)].
        self.responders: list[tuple[int, tuple[Router, ...]]] = []
        self.start = traffic.start + ns(self.rng.uniform(0.0, interval))
        self.planned_to = self.start
        self.next_episode = self.start + self._gap()
        self.next_query = self.start + ns(self.rng.expovariate(1.0 / cfg.query_every_s))
        self.auth_dirty = False
        #: Recent episodes as (finding kind, earliest start, latest start) windows, to tell whether
        #: a finding is explained by the schedule.
        self.marks: deque[tuple[str, float, float]] = deque(maxlen=8)
        first = Run(self.advert(self.primary, PRIMARY_PRIO), self.start, self.iv)
        self.runs.append(first)
        self.master_run = first
        self.responders.append((self.start, (self.primary,)))
        t0 = self.start / NS
        self.expect(Expected("initial", None, self.primary_ip, t0, t0))

    # ------------------------------------------------------------------ helpers

    @property
    def primary_ip(self) -> str:
        """The primary's address in this group's family."""
        return self.primary.ll6 if self.six else self.primary.ip4

    @property
    def backup_ip(self) -> str:
        """The backup's address in this group's family."""
        return self.backup.ll6 if self.six else self.backup.ip4

    def _gap(self) -> int:
        return ns(max(120.0, self.rng.expovariate(1.0 / self.traffic.cfg.episode_every_s)))

    def expect(self, e: Expected) -> None:
        """Record a master change the analysis must report."""
        self.traffic.expected[self.key].append(e)
        self.traffic.expected_changes += 1
        if e.new is not None and e.cause != "split_brain_end":
            self.traffic.expected_stints += 1  # the new master's timeline entry
            if e.old is not None and e.cause in ("timeout", "resign", "preempt"):
                self.traffic.expected_takeovers += 1

    def found(self, kind: str, start: float) -> None:
        """Count a finding the analysis must report, starting at ``start`` (s)."""
        self.traffic.expected_findings[kind] += 1
        self.mark(kind, start, start)

    def mark(self, kind: str, lo: float, hi: float) -> None:
        """A finding of ``kind`` starting within ``[lo, hi]`` is explained by the schedule."""
        self.marks.append((kind, lo, hi))

    def advert(self, router: Router, prio: int, password: bytes = PASSWORD) -> bytes:
        """The advert frame of ``router`` at ``prio`` (memoised: adverts repeat byte for byte)."""
        k = (router, prio, password)
        frame = self._adverts.get(k)
        if frame is None:
            vid = self.vlan.vid
            if self.six:
                dst = "ff02::12"
                body = vrrp3(router.ll6, dst, self.vrid, prio, self.vips, int(self.interval * 100))
                frame = ether(b"\x33\x33\x00\x00\x00\x12", router.mac, ETH_IPV6, vid,
                              ipv6(router.ll6, dst, PROTO_VRRP, body))
            else:
                dst = "224.0.0.18"
                if self.version == 2:
                    body = vrrp2(self.vrid, prio, self.vips, int(self.interval), password)
                else:
                    body = vrrp3(router.ip4, dst, self.vrid, prio, self.vips, int(self.interval * 100))
                frame = ether(b"\x01\x00\x5e\x00\x00\x12", router.mac, ETH_IPV4, vid,
                              ipv4(router.ip4, dst, PROTO_VRRP, body))
            self._adverts[k] = frame
        return frame

    def garps(self, router: Router) -> list[bytes]:
        """``router``'s gratuitous ARP (IPv4) / unsolicited NA (IPv6) for each VIP."""
        frames = self._garps.get(router)
        if frames is None:
            frames = []
            for vip in self.vips:
                if self.six:
                    body = icmp6(router.ll6, "ff02::1", 136, NA_OVERRIDE, vip, 2, router.mac)
                    frames.append(ether(b"\x33\x33\x00\x00\x00\x01", router.mac, ETH_IPV6, self.vlan.vid, body))
                else:
                    frames.append(ether(BCAST, router.mac, ETH_ARP, self.vlan.vid, arp(1, router.mac, vip, BCAST, vip)))
            self._garps[router] = frames
        return frames

    def announce(self, router: Router, t: int) -> None:
        """A new master's GARP / unsolicited NA bursts for every VIP (keepalived: 5 at +0 s and
        5 more at +5 s)."""
        frames = self.garps(router)
        for burst in (50_000, 5 * NS):  # right after the advert that made it master
            for i in range(5):
                for j, f in enumerate(frames):
                    heapq.heappush(self.singles, (t + burst + i * 1_000_000 + j * 10_000, f))

    def answer_from(self, t: int, routers: tuple[Router, ...]) -> None:
        """From ``t`` on, ``routers`` answer hosts asking for the VIPs."""
        self.responders.append((t, routers))

    # ------------------------------------------------------------------ episodes

    def plan_until(self, until: int) -> None:
        """Plan episodes starting before ``until`` (each is planned whole, so it lies ahead)."""
        end_margin = self.traffic.end - ns(180.0)
        while self.next_episode < until:
            t = self.next_episode
            kinds = list(self.traffic.cfg.mix)
            kind = self.rng.choices(kinds, weights=[self.traffic.cfg.mix[k] for k in kinds])[0]
            state = self.rng.getstate()  # the dry run draws what the real one will
            done = getattr(self, "_" + kind)(t, dry=True)
            if done > end_margin:
                self.next_episode = 1 << 62  # no room left before the end of the capture
                break
            self.rng.setstate(state)
            done = getattr(self, "_" + kind)(t, dry=False)
            self.traffic.episodes[kind] += 1
            self.planned_to = done
            self.next_episode = done + self._gap()

    def _return(self, boot: int, dry: bool) -> int:
        """The primary boots at ``boot`` while the backup is master; it preempts once its own
        Master_Down_Interval passed without an advert it accepts (the backup's are lower)."""
        a1 = boot + ns(master_down(self.version, PRIMARY_PRIO, self.interval))
        if dry:
            return a1 + 6 * NS  # (with ``boot`` a duration: the length of the return)
        s_last = self.master_run.close_before(a1)
        run = Run(self.advert(self.primary, PRIMARY_PRIO), a1, self.iv)
        self.runs.append(run)
        self.master_run = run
        self.announce(self.primary, a1)
        self.answer_from(a1, (self.primary,))
        t = a1 / NS
        self.expect(Expected("preempt", self.backup_ip, self.primary_ip, t, t, (a1 - s_last) / NS))
        return a1 + 6 * NS

    def _backup_takes_over(self, p_last: int, first: int, garp: bool) -> None:
        self.master_run.close_at(p_last)
        run = Run(self.advert(self.backup, BACKUP_PRIO), first, self.iv)
        self.runs.append(run)
        self.master_run = run
        self.auth_dirty = False  # the backup advertised with the right password
        if garp:
            self.announce(self.backup, first)

    def _crash(self, t: int, dry: bool) -> int:
        slow = self.rng.random() < self.traffic.cfg.slow_fraction
        garp = self.rng.random() >= self.traffic.cfg.missing_garp_fraction
        down = ns(self.rng.uniform(120.0, 600.0))
        mdi = master_down(self.version, BACKUP_PRIO, self.interval)
        delay = 0.0
        if slow:
            # late, yet before the master counts as gone: between the slow_takeover limit and the
            # silence threshold
            lo = SLOW_TOL_S + SLOW_TOL_FRACTION * mdi
            hi = silence_threshold(self.version, self.interval) - mdi
            delay = (lo + hi) / 2
        p_last = self.master_run.first + (t - self.master_run.first) // self.iv * self.iv
        s1 = p_last + ns(mdi + delay)
        if dry:
            return self._return(s1 + down, dry=True)
        self._backup_takes_over(p_last, s1, garp)
        self.answer_from(p_last + self.iv // 2, ())
        self.answer_from(s1, (self.backup,))
        at = s1 / NS
        self.expect(Expected("timeout", self.primary_ip, self.backup_ip, at, at, (s1 - p_last) / NS))
        if slow:
            self.found("slow_takeover", p_last / NS)
        if not garp:
            self.found("missing_garp", at)
        return self._return(s1 + down, dry=False)

    def _resign(self, t: int, dry: bool) -> int:
        down = ns(self.rng.uniform(120.0, 600.0))
        p_last = self.master_run.first + (t - self.master_run.first) // self.iv * self.iv
        r0 = p_last + int(self.iv * self.rng.uniform(0.2, 0.8))
        s1 = r0 + ns(skew_time(self.version, BACKUP_PRIO, self.interval))
        if dry:
            return self._return(s1 + down, dry=True)
        heapq.heappush(self.singles, (r0, self.advert(self.primary, 0)))
        self._backup_takes_over(p_last, s1, True)
        self.answer_from(r0, ())
        self.answer_from(s1, (self.backup,))
        self.expect(Expected("resign", self.primary_ip, None, r0 / NS, r0 / NS))
        self.expect(Expected("resign", self.primary_ip, self.backup_ip, s1 / NS, s1 / NS, (s1 - r0) / NS))
        self.found("priority_zero_resign", r0 / NS)
        return self._return(s1 + down, dry=False)

    def _track(self, t: int, dry: bool) -> int:
        """The primary's tracked script fails (priority 150 -> 90): the backup ignores the lower
        adverts and preempts Master_Down_Interval after the last one at 150; later the script
        recovers and the primary preempts back."""
        down = ns(self.rng.uniform(120.0, 600.0))
        if dry:
            return t + ns(master_down(self.version, BACKUP_PRIO, self.interval)) + self._return(down, dry=True)
        run = self._drop(t)
        # recovery: the primary's timer was last reset by the backup's advert before it recovered
        rec = run.first + down
        return self._return(run.first + (rec - run.first) // self.iv * self.iv, dry=False)

    def _flap(self, t: int, dry: bool) -> int:
        """The tracked script flaps: ``track`` four to six times in a row, each state held 8-12 s
        (a preemption flap: mastership changes more than 4 times a minute)."""
        cycles = self.rng.randint(*self.traffic.cfg.flap_cycles)
        holds = [ns(self.rng.uniform(8.0, 12.0)) for _ in range(2 * cycles)]
        if dry:
            cycle = ns(master_down(self.version, BACKUP_PRIO, self.interval) + 2 * self.interval
                       + master_down(self.version, PRIMARY_PRIO, self.interval))
            return t + sum(holds) + cycles * cycle + 6 * NS
        first = 0
        for i in range(cycles):
            run = self._drop(t)
            first = first or run.first
            rec = run.first + holds[2 * i]
            back = self._return(run.first + (rec - run.first) // self.iv * self.iv, dry=False) - 6 * NS
            t = back + holds[2 * i + 1]
        self.found("preemption_flap", first / NS)
        self.mark("arp_flipflop", first / NS, t / NS + 60.0)
        return t

    def _drop(self, t: int) -> Run:
        """The tracked script fails at ``t``: the backup preempts; return its advert run."""
        p_last = self.master_run.first + (t - self.master_run.first) // self.iv * self.iv
        s1 = p_last + ns(master_down(self.version, BACKUP_PRIO, self.interval))
        self.master_run.close_at(p_last)
        low = Run(self.advert(self.primary, TRACKED_PRIO), p_last + self.iv, self.iv)
        low_last = low.close_before(s1)
        self.runs.append(low)
        run = Run(self.advert(self.backup, BACKUP_PRIO), s1, self.iv)
        self.runs.append(run)
        self.master_run = run
        self.auth_dirty = False
        self.announce(self.backup, s1)
        self.answer_from(s1, (self.backup,))
        at = s1 / NS
        self.expect(Expected("preempt", self.primary_ip, self.backup_ip, at, at, (s1 - low_last) / NS))
        return run

    def _split(self, t: int, dry: bool) -> int:
        cfg = self.traffic.cfg
        length = ns(self.rng.uniform(20.0, 90.0))
        lo, hi = cfg.refresh_minutes
        refresh = ns(60.0 * self.rng.uniform(lo, hi)) if self.rng.random() < cfg.refresh_fraction else 0
        auth = self.version == 2 and self.rng.random() < cfg.auth_fraction
        s1 = t
        thr = silence_threshold(self.version, self.interval)
        end = s1 + length + ns(thr) + refresh + 10 * NS
        if dry:
            return end
        b = Run(self.advert(self.backup, BACKUP_PRIO, WRONG_PASSWORD if auth else PASSWORD), s1, self.iv)
        b_last = b.close_at(s1 + length)
        self.runs.append(b)
        self.announce(self.backup, s1)
        self.answer_from(s1, (self.primary, self.backup))
        self.answer_from(b_last + self.iv // 2, (self.primary,))
        # confirmed by the first advert (of either) that shows both went on beyond the allowance
        limit = s1 / NS + self.interval * OVERLAP_INTERVALS + min(OVERLAP_TOL, self.interval)
        confirm = max(b.first_after(limit), self.master_run.first_after(limit))
        self.expect(Expected("split_brain", self.primary_ip, self.backup_ip, confirm, confirm))
        gone = b_last / NS + thr
        self.expect(Expected("split_brain_end", self.backup_ip, self.primary_ip, gone, gone + DECISION_SLACK))
        if refresh:
            # it still believes it is master: one GARP/NA per VIP every refresh_every_s
            every = ns(cfg.refresh_every_s)
            at = ns(gone) + NS
            while at < ns(gone) + refresh:
                for j, f in enumerate(self.garps(self.backup)):
                    heapq.heappush(self.singles, (at + j * 10_000, f))
                at += every
        self.found("split_brain", s1 / NS)
        if auth:
            if not self.auth_dirty:  # else the mismatch found earlier is still going on
                self.found("auth_mismatch", s1 / NS)
        self.auth_dirty = auth
        # both masters answer for the VIPs and announced them: their owner flips, and may stay
        # with the router that stopped (stale) until the master answers again
        self.mark("arp_conflict", s1 / NS, gone + refresh / NS + 60.0)
        self.mark("arp_flipflop", s1 / NS, gone + refresh / NS + 60.0)
        return end

    def _outage(self, t: int, dry: bool) -> int:
        thr = silence_threshold(self.version, self.interval)
        down = ns(max(self.rng.uniform(60.0, 240.0), (NO_MASTER_FACTOR + 1) * thr))
        p_last = self.master_run.first + (t - self.master_run.first) // self.iv * self.iv
        a1 = p_last + down + ns(master_down(self.version, PRIMARY_PRIO, self.interval))
        if dry:
            return a1 + 6 * NS
        self.master_run.close_at(p_last)
        self.answer_from(p_last + self.iv // 2, ())
        gone = p_last / NS + thr
        self.expect(Expected("timeout", self.primary_ip, None, gone, gone + DECISION_SLACK))
        run = Run(self.advert(self.primary, PRIMARY_PRIO), a1, self.iv)
        self.runs.append(run)
        self.master_run = run
        self.announce(self.primary, a1)
        self.answer_from(a1, (self.primary,))
        self.expect(Expected("resumed", None, self.primary_ip, a1 / NS, a1 / NS))
        self.found("no_master", p_last / NS)
        return a1 + 6 * NS

    def _blip(self, t: int, dry: bool) -> int:
        """The backup restarts in MASTER state: one advert, then it hears the primary and yields."""
        if dry:
            return t + 10 * NS
        heapq.heappush(self.singles, (t, self.advert(self.backup, BACKUP_PRIO)))
        self.auth_dirty = False
        return t + 10 * NS

    # ------------------------------------------------------------------ frames

    def _query(self, t: int, out: list[tuple[int, int, bytes]]) -> None:
        rng = self.rng
        host = self.vlan.hosts[rng.randrange(len(self.vlan.hosts))]
        hmac = host.mac(t)
        vid = self.vlan.vid
        i = bisect.bisect_right(self.responders, t, key=lambda r: r[0]) - 1
        routers = self.responders[i][1] if i >= 0 else ()
        if self.six:
            vip = self.vips[-1]
            group, gmac = solicited_node(vip)
            out.append((t, self.gid, ether(gmac, hmac, ETH_IPV6, vid, icmp6(host.ip6, group, 135, 0, vip, 1, hmac))))
            for k, r in enumerate(routers):
                na = icmp6(r.ll6, host.ip6, 136, NA_ROUTER | NA_SOLICITED | NA_OVERRIDE, vip, 2, r.mac)
                out.append((t + 200_000 + k * 50_000, self.gid, ether(hmac, r.mac, ETH_IPV6, vid, na)))
        else:
            vip = self.vips[rng.randrange(len(self.vips))]
            out.append((t, self.gid, ether(BCAST, hmac, ETH_ARP, vid, arp(1, hmac, host.ip4, ZERO_MAC, vip))))
            for k, r in enumerate(routers):
                out.append((t + 200_000 + k * 50_000, self.gid,
                            ether(hmac, r.mac, ETH_ARP, vid, arp(2, r.mac, vip, hmac, host.ip4))))

    def stream(self) -> Iterator[tuple[int, int, bytes]]:
        """This group's frames in time order."""
        w0 = self.start
        end = self.traffic.end
        qmean = self.traffic.cfg.query_every_s
        gid = self.gid
        while w0 < end:
            w1 = min(w0 + WINDOW_NS, end)
            self.plan_until(w1)
            out: list[tuple[int, int, bytes]] = []
            for run in self.runs:
                if run.last < w0 or run.first >= w1:
                    continue
                k = max(0, -((run.first - w0) // run.iv))
                t = run.first + k * run.iv
                stop = min(run.last, w1 - 1)
                frame = run.frame
                while t <= stop:
                    out.append((t, gid, frame))
                    t += run.iv
            singles = self.singles
            while singles and singles[0][0] < w1:
                t, frame = heapq.heappop(singles)
                out.append((t, gid, frame))
            while self.next_query < w1:
                self._query(self.next_query, out)
                self.next_query += ns(self.rng.expovariate(1.0 / qmean))
            out.sort()
            yield from out
            self.runs = [r for r in self.runs if r.last >= w1]
            while len(self.responders) > 1 and self.responders[1][0] <= w1:
                del self.responders[0]
            w0 = w1


class Chatter:
    """Host-to-host resolution on one VLAN (ARP 70 %, NS/NA 30 %), plus its rare host events."""

    def __init__(self, vlan: Vlan, sid: int, traffic: Traffic) -> None:
        self.vlan = vlan
        self.sid = sid
        self.traffic = traffic
        self.rng = random.Random(f"{traffic.cfg.seed}-vlan-{vlan.index}")

    def _pair(self, t: int, a: Host, b: Host, out: list[tuple[int, int, bytes]]) -> None:
        vid, sid = self.vlan.vid, self.sid
        am, bm = a.mac(t), b.mac(t)
        if self.rng.random() < 0.7:
            out.append((t, sid, ether(BCAST, am, ETH_ARP, vid, arp(1, am, a.ip4, ZERO_MAC, b.ip4))))
            out.append((t + 150_000, sid, ether(am, bm, ETH_ARP, vid, arp(2, bm, b.ip4, am, a.ip4))))
        else:
            group, gmac = solicited_node(b.ip6)
            out.append((t, sid, ether(gmac, am, ETH_IPV6, vid, icmp6(a.ip6, group, 135, 0, b.ip6, 1, am))))
            na = icmp6(b.ip6, a.ip6, 136, NA_SOLICITED | NA_OVERRIDE, b.ip6, 2, bm)
            out.append((t + 150_000, sid, ether(am, bm, ETH_IPV6, vid, na)))

    def _dup(self, t: int, h: int, out: list[tuple[int, int, bytes]]) -> None:
        """A rogue device and the host claim the host's IPv4 address in turn (ARP requests)."""
        host = self.vlan.hosts[h]
        rogue = mac_bytes(f"02:66:{self.vlan.index:02x}:{h >> 8:02x}:{h & 0xFF:02x}:01")
        peer = self.vlan.hosts[(h + 1) % len(self.vlan.hosts)]
        vid = self.vlan.vid
        for k in range(4):
            at = t + k * 2 * NS
            mac = rogue if k % 2 == 0 else host.mac(at)
            out.append((at, self.sid, ether(BCAST, mac, ETH_ARP, vid, arp(1, mac, host.ip4, ZERO_MAC, peer.ip4))))
        self.traffic.expected_findings["arp_conflict(duplicate ip)"] += 1
        self.traffic.expected_findings["arp_flipflop(duplicate ip)"] += 1
        self.vlan.marks.append((host.ip4, t / NS, (t + 6 * NS) / NS))

    def stream(self) -> Iterator[tuple[int, int, bytes]]:
        """This VLAN's chatter in time order."""
        rng = self.rng
        hosts = self.vlan.hosts
        rate = self.traffic.cfg.chatter_per_s
        t = self.traffic.start + ns(rng.expovariate(rate)) if rate > 0 else self.traffic.end
        w0 = self.traffic.start
        end = self.traffic.end
        events = self.vlan.events
        while w0 < end:
            w1 = min(w0 + WINDOW_NS, end)
            out: list[tuple[int, int, bytes]] = []
            while t < w1:
                a, b = rng.sample(hosts, 2)
                self._pair(t, a, b, out)
                t += max(1_000_000, ns(rng.expovariate(rate)))
            while events and events[0][0] < w1:
                et, kind, h = events.popleft()
                self.traffic.host_events[kind] += 1
                if kind == "dup_ip":
                    self._dup(et, h, out)
            out.sort()
            yield from out
            w0 = w1


class Traffic:
    """The whole simulated capture: VLANs, groups, chatter; expectations for the consumer."""

    def __init__(self, cfg: SoakConfig) -> None:
        self.cfg = cfg
        self.start = BASE_S * NS
        self.end = self.start + ns(cfg.hours * 3600.0)
        rng = random.Random(f"{cfg.seed}-plan")
        self.vlans = [Vlan(i, cfg, rng, self.start, self.end) for i in range(cfg.vlans)]
        #: Master changes still to be reported, per group key (segment, family, VRID), in order.
        self.expected: dict[tuple[str, str, int], deque[Expected]] = {}
        self.expected_changes = 0
        #: Timeline entries (master stints) and takeovers the schedule makes.
        self.expected_stints = 0
        self.expected_takeovers = 0
        #: Findings the scheduled episodes must produce, by kind.
        self.expected_findings: Counter[str] = Counter()
        #: Episodes planned, by kind; rare host events played, by kind.
        self.episodes: Counter[str] = Counter()
        self.host_events: Counter[str] = Counter()
        self.groups: list[Group] = []
        for gid in range(cfg.groups):
            vlan = self.vlans[gid // cfg.groups_per_vlan]
            slot = gid % cfg.groups_per_vlan
            key = (vlan.segment, FLAVOURS[slot % len(FLAVOURS)][1], FLAVOURS[slot % len(FLAVOURS)][3])
            self.expected[key] = deque()
            self.groups.append(Group(gid, vlan, slot, self))
        self.chatter = [Chatter(v, cfg.groups + v.index, self) for v in self.vlans]
        self.by_key = {g.key: g for g in self.groups}
        self.by_segment = {v.segment: v for v in self.vlans}

    @property
    def start_s(self) -> float:
        """Capture start (epoch seconds)."""
        return self.start / NS

    @property
    def end_s(self) -> float:
        """Capture end (epoch seconds)."""
        return self.end / NS

    def explain(self, kind: str, segment: str | None, family: str | None, vrid: int | None, subject: str,
                start: float) -> bool:
        """Whether a finding (kind, group, subject, start) follows from a scheduled episode."""
        if vrid is None:
            vlan = self.by_segment.get(segment or "")
            return vlan is not None and kind in ("arp_conflict", "arp_flipflop") and any(
                ip == subject and lo - 1e-6 <= start <= hi + 1e-6 for ip, lo, hi in vlan.marks
            )
        g = self.by_key.get((segment or "", family or "", vrid))
        return g is not None and any(k == kind and lo - 1e-6 <= start <= hi + 1e-6 for k, lo, hi in g.marks)

    def frames(self) -> Iterator[tuple[int, int, bytes]]:
        """Every frame in time order: ``(time_ns, stream id, Ethernet frame)``."""
        return heapq.merge(*(g.stream() for g in self.groups), *(c.stream() for c in self.chatter))


def write_pcap(traffic: Traffic, path: str) -> int:
    """Write the whole simulated capture to ``path`` as classic pcap with nanosecond timestamps
    (Ethernet); return the number of frames."""
    n = 0
    record = struct.Struct("<IIII")
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        buf: list[bytes] = []
        for t, _stream, data in traffic.frames():
            buf.append(record.pack(t // NS, t % NS, len(data), len(data)))
            buf.append(data)
            n += 1
            if len(buf) >= 8192:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))
    return n
