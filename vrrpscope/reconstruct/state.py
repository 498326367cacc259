"""The reconstructor's state: groups, routers, mastership claims, timeline, takeovers, ownership.

These records are owned and mutated by :class:`~vrrpscope.reconstruct.Reconstructor` only.
Detectors and sinks read them and never write. Memory is bounded by the number of groups, routers
and IPs: per-packet history is kept only as capped lists (``*_CAP`` constants of the
reconstructor config) with a count of what was dropped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import NamedTuple

from vrrpscope.model import FrameRef


class GroupKey(NamedTuple):
    """Identity of a VRRP group: (segment, address family, VRID). Never merged across segments."""

    segment: str
    family: str
    vrid: int


def virtual_mac(key: GroupKey) -> str:
    """The group's VRRP virtual router MAC: 00:00:5e:00:01:VRID (IPv4) / 00:00:5e:00:02:VRID (IPv6)."""
    kind = "01" if key.family == "ipv4" else "02"
    return f"00:00:5e:00:{kind}:{key.vrid:02x}"


def ip_sort_key(ip: str) -> tuple[int, int]:
    """Numeric sort key for IPv4/IPv6 text (falls back to 0 for unparsable text)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return (9, 0)
    return (addr.version, int(addr))


def outranks(prio_a: int, ip_a: str, prio_b: int, ip_b: str) -> bool:
    """True when router A wins the VRRP election against B: higher priority, or equal priority and
    the greater primary IP address (unsigned compare in network byte order, RFC 9568 §6.4.3)."""
    if prio_a != prio_b:
        return prio_a > prio_b
    return ip_sort_key(ip_a) > ip_sort_key(ip_b)


class Sampler:
    """Keeps at most ``cap`` evenly spread values of a stream (stride doubling), plus the total count.

    Used for per-router advert times: the report draws cadence from it without O(packets) memory.
    """

    __slots__ = ("_stride", "cap", "count", "values")

    def __init__(self, cap: int) -> None:
        self.cap = max(2, cap)
        self.values: list[float] = []
        self.count = 0
        self._stride = 1

    def add(self, value: float) -> None:
        """Offer one value: the ``n``-th value is kept while ``n`` is a multiple of the stride."""
        n = self.count
        self.count = n + 1
        if n % self._stride:
            return
        self.values.append(value)
        if len(self.values) >= self.cap:
            self.values = self.values[::2]
            self._stride *= 2


@dataclass(slots=True, eq=False)
class GarpStats:
    """Gratuitous ARP / unsolicited NA sent for one VIP by one master during one stint.

    ``bursts`` are the start times of bursts (GARPs more than the burst gap apart start a new one;
    keepalived: ``garp_master_repeat`` at +0 s, again ``garp_master_delay`` = 5 s later).
    """

    first: float
    first_frame: FrameRef
    last: float
    count: int = 1
    bursts: list[float] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class MasterInterval:
    """One stint of one router as master (an entry of the group's timeline).

    ``end_reason``: ``resign`` (priority-0 advert), ``timeout`` (stopped advertising, nobody else
    was master), ``preempted`` (a higher-priority router took over and this one stopped within
    the hand-over allowance), ``split_brain`` (stopped while another master had been advertising
    alongside beyond the allowance), ``capture_end`` (still master when the capture ended).
    ``end`` is the last advert (or the priority-0 advert; capture end for ``capture_end``).
    ``garps`` collects the GARP/NA the router sent per VIP from its first advert of the stint on.
    """

    group: GroupKey
    master: str
    start: float
    start_frame: FrameRef
    priority: int
    interval: float
    version: int
    end: float | None = None
    end_frame: FrameRef | None = None
    end_reason: str | None = None
    adverts: int = 0
    garps: dict[str, GarpStats] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Claim:
    """A router currently advertising with priority > 0 in a group, i.e. claiming mastership.

    ``pending`` is true while the claim started when another master was alive and it is not yet
    clear whether this is a hand-over (preemption), a transient advert, or a split brain.
    """

    router: str
    start: float
    start_frame: FrameRef
    last: float
    last_frame: FrameRef
    priority: int
    interval: float
    version: int
    stint: MasterInterval
    pending: bool = False
    adverts: int = 1
    frames: list[FrameRef] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class TakeoverRecord:
    """A change of master: ``old`` (``None`` is impossible here: first masters have no takeover)
    stopped, ``new`` started.

    ``at`` is the new master's first advert, ``gap`` = ``at`` minus the old master's last advert
    (or its priority-0 advert), negative when they overlapped. ``allowed`` is the protocol's
    allowance for ``cause`` (``timeout``: Master_Down_Interval of the new master's priority with the
    old master's interval; ``resign``: Skew_Time; ``preempt``: one advert interval of overlap).
    ``after_silence`` is true when the group had been declared silent (no master) before.
    ``stint`` is the new master's timeline entry, which holds its GARP/NA per VIP.
    """

    group: GroupKey
    old: str
    new: str
    at: float
    frame: FrameRef
    old_last: float
    old_frame: FrameRef
    gap: float
    allowed: float
    cause: str
    version: int
    priority: int
    old_interval: float
    after_silence: bool
    vips: tuple[str, ...]
    stint: MasterInterval

    @property
    def garp_delay(self) -> float | None:
        """Delay from the new master's first advert to its first GARP/NA for any VIP (None: none)."""
        firsts = [g.first for g in self.stint.garps.values()]
        return (min(firsts) - self.at) if firsts else None


@dataclass(slots=True, eq=False)
class SplitBrainEpisode:
    """Two or more routers advertising as master at once beyond the hand-over allowance.

    ``start`` is the later claimant's first advert; ``confirmed_at`` the advert that proved the
    overlap lasted beyond the allowance; ``end`` the last advert of the router that stopped (or the
    capture end). ``routers`` lists every participant, ``frames`` the cited adverts.
    """

    group: GroupKey
    start: float
    confirmed_at: float
    routers: list[str]
    frames: list[FrameRef]
    end: float | None = None
    end_reason: str | None = None


@dataclass(slots=True, eq=False)
class PriorityChange:
    """A router's advertised non-zero priority changed (e.g. a tracked script's weight)."""

    router: str
    time: float
    old: int
    priority: int
    frame: FrameRef


@dataclass(slots=True, eq=False)
class ResignRecord:
    """A priority-0 advert: ``was_master`` tells whether the router was master when it sent it."""

    router: str
    time: float
    frame: FrameRef
    was_master: bool


@dataclass(slots=True, eq=False)
class TransientRecord:
    """A router that advertised as master while another master was alive and stopped within the
    hand-over allowance: on the wire a transient claim, not a stint of the timeline.

    keepalived does this when a lower-priority router starting in MASTER state, or a backup whose
    Master_Down timer fired while the master was silent, advertises once and yields to the
    master's answer (its log shows MASTER, then BACKUP). A router that keeps claiming in such blips
    while it ignores the master's adverts is a hidden second master instead: the ``split_brain``
    detector says so (PROTOCOL.md, observed behaviour 7). ``masters`` are the routers that were
    master meanwhile, ``garps`` the GARP/NA it sent for the group's VIPs meanwhile, ``resigned``
    whether it ended with a priority-0 advert.
    """

    router: str
    first: float
    first_frame: FrameRef
    last: float
    adverts: int
    priority: int
    masters: tuple[str, ...]
    garps: int
    resigned: bool


@dataclass(slots=True, eq=False)
class GarpRecord:
    """A gratuitous ARP or unsolicited NA for one of the group's VIPs (``kind``: ``garp`` | ``na``).

    ``router`` is the group router whose MAC sent it (``None``: a MAC of no advertising router).
    """

    router: str | None
    ip: str
    mac: str
    time: float
    frame: FrameRef
    kind: str


@dataclass(slots=True, eq=False)
class RouterState:
    """Everything seen from one router (source IP) in one group.

    Counters are dicts value -> count in first-seen order. ``priorities`` lists distinct non-zero
    priorities in first-seen order; ``priority`` is the latest non-zero one. ``auth`` maps
    ``(type, fingerprint)`` to counts; types are ``none``, ``simple``, ``ah``, ``hmac`` (keepalived
    ``auth_hmac`` trailer) or ``unknown(N)``. Clear-text passwords are kept (``auth_texts``) only
    when the reconstructor was asked to show secrets. ``vantage`` holds the indexes of the input
    files (vantage points) that saw its adverts.
    """

    ip: str
    group: GroupKey
    first_seen: float
    first_frame: FrameRef
    last_seen: float
    last_frame: FrameRef
    advert_times: Sampler
    adverts: int = 0
    priority: int = 0
    last_priority: int = -1
    advert_int: float = 0.0
    version: int = 0
    vips: tuple[str, ...] = ()
    macs: dict[str, int] = field(default_factory=dict)
    priorities: list[int] = field(default_factory=list)
    intervals: dict[float, int] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    auth: dict[tuple[str, str | None], int] = field(default_factory=dict)
    auth_texts: dict[str, int] = field(default_factory=dict)
    vip_sets: dict[tuple[str, ...], int] = field(default_factory=dict)
    checksum_variants: dict[str | None, int] = field(default_factory=dict)
    ttls: dict[int, int] = field(default_factory=dict)
    destinations: dict[str, int] = field(default_factory=dict)
    vantage: set[int] = field(default_factory=set)
    resigns: int = 0
    #: Authentication ``(type, fingerprint)`` of its latest advert.
    last_auth: tuple[str, str | None] = ("none", None)
    #: Checksum variant that validated its latest advert (None: invalid).
    last_checksum_variant: str | None = None
    #: TTL / hop limit and destination of its latest advert.
    last_ttl: int = 255
    last_dst: str = ""

    @property
    def mac(self) -> str | None:
        """The MAC most of its adverts came from."""
        if not self.macs:
            return None
        return max(self.macs.items(), key=lambda kv: kv[1])[0]

    @property
    def auth_types(self) -> list[str]:
        """Distinct authentication types in first-seen order."""
        out: list[str] = []
        for t, _fp in self.auth:
            if t not in out:
                out.append(t)
        return out

    @property
    def unicast(self) -> bool:
        """True when some of its adverts went to a unicast destination (keepalived ``unicast_peer``)."""
        return any(not _is_multicast(d) for d in self.destinations)


def _is_multicast(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_multicast
    except ValueError:
        return False


@dataclass(slots=True, eq=False)
class GroupState:
    """One VRRP group: its routers, current claims, timeline, takeovers and episodes.

    ``claims`` are routers currently advertising as master (see :class:`Claim`). ``timeline`` holds
    every stint that counted as mastership (open ones have ``end`` ``None``). ``previous`` is the
    most recently closed stint. ``silent_since`` is set while the group is silent (no master for
    longer than Master_Down_Interval). Capped lists keep a ``*_dropped`` count.
    """

    key: GroupKey
    first_seen: float
    last_seen: float
    routers: dict[str, RouterState] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    timeline: list[MasterInterval] = field(default_factory=list)
    takeovers: list[TakeoverRecord] = field(default_factory=list)
    split_brains: list[SplitBrainEpisode] = field(default_factory=list)
    current_split: SplitBrainEpisode | None = None
    priority_changes: list[PriorityChange] = field(default_factory=list)
    resigns: list[ResignRecord] = field(default_factory=list)
    transients: list[TransientRecord] = field(default_factory=list)
    garps: list[GarpRecord] = field(default_factory=list)
    garps_dropped: int = 0
    history_dropped: int = 0
    versions: dict[int, int] = field(default_factory=dict)
    vantage: set[int] = field(default_factory=set)
    previous: MasterInterval | None = None
    last_activity: float = 0.0
    last_interval: float = 1.0
    last_version: int = 2
    silent_since: float | None = None
    silent_reported: bool = False
    #: Per router: (start, start frame, last advert) of its latest transient contention, so that a
    #: router that keeps advertising in blips (a master whose advert timer the other master keeps
    #: resetting) is shown as master from its first blip once the split brain is confirmed.
    recent_transient: dict[str, tuple[float, FrameRef, float]] = field(default_factory=dict)

    @property
    def masters(self) -> list[str]:
        """Routers whose mastership is established (not pending), in claim order."""
        return [c.router for c in self.claims.values() if not c.pending]

    @property
    def vmac(self) -> str:
        """The group's virtual router MAC."""
        return virtual_mac(self.key)

    def macs_of(self, router: str) -> set[str]:
        """The MACs a router's adverts came from (empty when unknown)."""
        r = self.routers.get(router)
        return set(r.macs) if r is not None else set()

    def expected_macs(self) -> set[str]:
        """MACs that may legitimately claim the group's VIPs now: every current claimant's advert
        MACs plus the virtual MAC (keepalived ``use_vmac``/``vmac_xmit_base``, FRR)."""
        out = {self.vmac}
        for c in self.claims.values():
            out |= self.macs_of(c.router)
        return out

    def vips(self) -> set[str]:
        """Union of the VIP sets its routers advertised."""
        out: set[str] = set()
        for r in self.routers.values():
            for s in r.vip_sets:
                out.update(s)
        return out


@dataclass(slots=True, eq=False)
class OwnerInterval:
    """An IP -> MAC binding as seen in ARP/ND: from ``start`` (first claim by this MAC) to ``end``
    (when another MAC claimed the IP; ``None`` while current). ``via`` is how it began: ``garp``
    (gratuitous ARP), ``reply`` (ARP reply), ``request`` (ARP request / NS sender binding),
    ``na`` (neighbour advertisement). ``claims`` counts the claims seen, ``last_claim`` the latest.
    """

    segment: str
    family: str
    ip: str
    mac: str
    start: float
    via: str
    frame: FrameRef
    last_claim: float
    end: float | None = None
    claims: int = 1
