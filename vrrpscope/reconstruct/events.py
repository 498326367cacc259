"""Higher-level events the reconstructor emits (Zeek-style "base" events; detectors are the policy).

Every event is a frozen record in capture-clock seconds. Events about a group carry its
:class:`~vrrpscope.reconstruct.state.GroupKey` as ``group``. Some carry a reference to the
reconstructor's state record they concern (``stint``, ``record``, ``episode``) so detectors can read
details that keep growing (e.g. the GARPs a new master sends after its takeover); detectors must
never mutate those records.

Emission time can lag the times inside an event: a preemption, a transient advert or a split brain
is only certain once one side stopped (about one advert interval later). No event is ever emitted
for something that has not yet been seen (no look-ahead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from dissectors.records import Malformed, VrrpV2Advert, VrrpV3Advert
from vrrpscope.model import FrameRef, Packet
from vrrpscope.reconstruct.state import (
    GroupKey,
    MasterInterval,
    OwnerInterval,
    SplitBrainEpisode,
    TakeoverRecord,
)
from vrrpscope.sources.base import SourceProblem


@dataclass(frozen=True, slots=True)
class AdvertSeen:
    """A VRRP advert (counted once across vantage points). ``first`` marks the router's first advert
    in this group; ``role`` is ``master`` (an established master), ``contender`` (advertising while
    another master is alive: hand-over, transient advert or split brain), ``new`` (became master
    with this advert) or ``resign`` (priority 0)."""

    group: GroupKey
    router: str
    time: float
    frame: FrameRef
    priority: int
    advert: VrrpV2Advert | VrrpV3Advert
    packet: Packet
    first: bool
    role: str


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    """A router advertised a different non-zero priority than before (priority 0 is :class:`Resigned`)."""

    group: GroupKey
    router: str
    time: float
    frame: FrameRef
    old: int
    priority: int


@dataclass(frozen=True, slots=True)
class Resigned:
    """A priority-0 advert ("stopped participating", RFC 9568 §5.2.4). ``was_master`` tells whether
    the router was master; ``master_since`` is the start of that stint."""

    group: GroupKey
    router: str
    time: float
    frame: FrameRef
    was_master: bool
    master_since: float | None


@dataclass(frozen=True, slots=True)
class MasterStarted:
    """A stint as master starts (at the router's first advert of it). ``stint`` is the timeline entry."""

    group: GroupKey
    router: str
    time: float
    frame: FrameRef
    stint: MasterInterval


@dataclass(frozen=True, slots=True)
class MasterEnded:
    """A stint as master ended; ``end_reason`` as in :class:`MasterInterval`."""

    group: GroupKey
    router: str
    start: float
    end: float
    end_reason: str
    stint: MasterInterval


@dataclass(frozen=True, slots=True)
class MasterChanged:
    """The set of established masters of a group changed (``before``/``after`` are router IPs).

    Usually one router each; two or more during a split brain; empty when the group has no master.
    """

    group: GroupKey
    time: float
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Takeover:
    """A change of master with its timing judged against the protocol (see :class:`TakeoverRecord`)."""

    group: GroupKey
    record: TakeoverRecord


@dataclass(frozen=True, slots=True)
class SplitBrainStarted:
    """Two or more routers advertise as master beyond the normal hand-over overlap."""

    group: GroupKey
    time: float
    routers: tuple[str, ...]
    episode: SplitBrainEpisode


@dataclass(frozen=True, slots=True)
class SplitBrainEnded:
    """A split brain is over: at most one router still advertises (``end`` = the stopper's last
    advert, or the capture end)."""

    group: GroupKey
    start: float
    end: float
    routers: tuple[str, ...]
    episode: SplitBrainEpisode


@dataclass(frozen=True, slots=True)
class TransientAdverts:
    """A router sent a few adverts while another master was alive, then stopped within the hand-over
    allowance without becoming master. Normal for keepalived (``higher_prio_send_advert``, a
    lower-priority router starting in MASTER state and yielding); but when the same router then
    keeps sending GARP/NA for the VIPs it is a hidden second master (PROTOCOL.md observed 7).
    ``stint`` holds the GARP/NA it sent meanwhile."""

    group: GroupKey
    router: str
    first: float
    last: float
    adverts: int
    frames: tuple[FrameRef, ...]
    masters: tuple[str, ...]
    stint: MasterInterval


@dataclass(frozen=True, slots=True)
class RouterSilent:
    """A router that was advertising as master stopped (no priority-0 advert)."""

    group: GroupKey
    router: str
    last_seen: float
    time: float
    frame: FrameRef


@dataclass(frozen=True, slots=True)
class GroupSilent:
    """No master and no advert for longer than Master_Down_Interval (priority 1, i.e. the longest any
    Backup waits) plus tolerance: ``since`` is the last advert (or priority-0 advert)."""

    group: GroupKey
    since: float
    time: float
    last_master: str | None
    frame: FrameRef | None
    threshold: float


@dataclass(frozen=True, slots=True)
class GroupResumed:
    """Adverts resumed in a group that had been declared silent."""

    group: GroupKey
    since: float
    time: float
    router: str
    frame: FrameRef


@dataclass(frozen=True, slots=True)
class GarpSeen:
    """A gratuitous ARP (``kind`` ``garp``) or unsolicited NA (``na``: S flag clear) claiming ``ip``.

    ``groups`` are the groups (on this segment) whose VIP sets contain ``ip``; ``routers`` the
    ``(group, router IP)`` pairs whose adverts came from ``mac``.
    """

    segment: str
    family: str
    ip: str
    mac: str
    time: float
    frame: FrameRef
    kind: str
    groups: tuple[GroupKey, ...]
    routers: tuple[tuple[GroupKey, str], ...]


@dataclass(frozen=True, slots=True)
class OwnerChanged:
    """``ip`` is now claimed by ``mac`` (was ``old_mac``; ``None`` for the first claim seen).
    ``groups`` are the groups whose VIP sets contain ``ip``; ``interval`` the new owner record."""

    segment: str
    family: str
    ip: str
    old_mac: str | None
    mac: str
    time: float
    frame: FrameRef
    via: str
    groups: tuple[GroupKey, ...]
    interval: OwnerInterval


@dataclass(frozen=True, slots=True)
class MalformedSeen:
    """A VRRP/ARP/ND packet that could not be decoded."""

    packet: Packet
    malformed: Malformed


@dataclass(frozen=True, slots=True)
class ProblemSeen:
    """Damage met while reading a capture."""

    problem: SourceProblem


Event = Union[  # noqa: UP007 (a runtime alias; X | Y of classes needs 3.10+ only, kept explicit)
    AdvertSeen,
    PriorityChanged,
    Resigned,
    MasterStarted,
    MasterEnded,
    MasterChanged,
    Takeover,
    SplitBrainStarted,
    SplitBrainEnded,
    TransientAdverts,
    RouterSilent,
    GroupSilent,
    GroupResumed,
    GarpSeen,
    OwnerChanged,
    MalformedSeen,
    ProblemSeen,
]
