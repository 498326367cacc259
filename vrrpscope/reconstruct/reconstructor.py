"""The streaming reconstructor: packets in, group state and higher-level events out.

How mastership is read off the wire (RFC 9568 §6.4, PROTOCOL.md §9.5, §9.7):

* Only the master sends adverts. A router advertising with priority > 0 *claims* mastership.
* The first claimant of a group (or the first after everyone stopped) is master at once. When the
  previous master had stopped, that is a **takeover**: ``resign`` after its priority-0 advert,
  ``timeout`` after it went silent. The gap (old master's last advert -> new master's first) is
  judged against Master_Down_Interval of the *new* master's priority with the *old* master's
  interval, or Skew_Time after a priority-0 advert (:mod:`vrrpscope.timing`).
* A router that starts advertising while another master is *alive* (its last advert less than
  ``alive_intervals`` intervals ago) is a pending contender until one of them stops. A contender
  has stopped once it is silent for ``alive_intervals``; an established master only after
  Master_Down_Interval(priority 1) + tolerance — two masters that reject each other's adverts keep
  resetting each other's advert timer, so a master can pause for a few intervals and go on
  (PROTOCOL.md "observed" 7):

  - the incumbent stops within the hand-over allowance (about one advert interval,
    ``overlap_intervals``): a **hand-over** — ``preempt`` when the contender outranks it (higher
    priority, or equal priority and higher IP), else ``timeout``;
  - the contender stops within the allowance: **transient adverts**, not a master (keepalived's
    ``higher_prio_send_advert`` one-shot, a lower-priority router starting in MASTER state and
    yielding to the master's immediate answer);
  - both keep advertising beyond the allowance: **split brain**; both are masters in the timeline.

* A master's extra advert right after a lower-priority advert (RFC 9568 change 5) is just another
  advert of the same claim; a priority-0 advert ends the sender's claim (``resign``).
* A group with no claimant and no advert for Master_Down_Interval(priority 1) + tolerance (the
  longest any Backup would wait) is **silent**.

Nothing looks ahead: decisions that need to see whether someone stops are taken when the silence is
seen (in :meth:`Reconstructor.feed` of a later packet, :meth:`~Reconstructor.tick` or
:meth:`~Reconstructor.finish`); events carry the original times. Memory is bounded by groups,
routers and IPs: per-packet history is kept only in capped lists.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dissectors.records import (
    ArpPacket,
    CarpAdvert,
    Malformed,
    NdMessage,
    VrrpV2Advert,
    VrrpV3Advert,
    secret_fingerprint,
)
from vrrpscope.model import FrameRef, Packet
from vrrpscope.reconstruct.dedup import VantageDedup
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
    GarpSeen,
    GroupResumed,
    GroupSilent,
    MalformedSeen,
    MasterChanged,
    MasterEnded,
    MasterStarted,
    OwnerChanged,
    PriorityChanged,
    ProblemSeen,
    Resigned,
    RouterSilent,
    SplitBrainEnded,
    SplitBrainStarted,
    Takeover,
    TransientAdverts,
)
from vrrpscope.reconstruct.ownership import OwnershipTable
from vrrpscope.reconstruct.state import (
    Claim,
    GarpRecord,
    GarpStats,
    GroupKey,
    GroupState,
    MasterInterval,
    PriorityChange,
    ResignRecord,
    RouterState,
    Sampler,
    SplitBrainEpisode,
    TakeoverRecord,
    TransientRecord,
    outranks,
)
from vrrpscope.sources.base import SourceProblem
from vrrpscope.timing import DEFAULT_DOWN_TIMER_ADVERTS, master_down_interval, skew_time, takeover_allowance

#: VRRPv2 auth type names (RFC 3768 §5.3.6 / RFC 2338).
AUTH_NAMES = {0: "none", 1: "simple", 2: "ah"}
#: Frames kept per claim for citing (first ones).
CLAIM_FRAMES = 20
#: How close to one advert interval after the master's last advert a suppressed second master's
#: return must be (keepalived's timers are exact to the millisecond; 1.000144 s in the lab).
TIMER_RESTART_TOLERANCE_S = 0.025


@dataclass(frozen=True)
class ReconstructorConfig:
    """Tunables of the reconstructor (capture-clock seconds unless said otherwise)."""

    #: The same packet seen in two input files (vantage points) within this window counts once.
    dedup_window_s: float = 0.05
    #: A master is presumed alive this many of its advert intervals after its last advert ... (more
    #: than 2: two keepalived masters that discard each other's adverts still restart each other's
    #: advert timer, so each advertises only every other interval; PROTOCOL.md "observed" 7)
    alive_intervals: float = 2.5
    #: ... plus this much jitter allowance (at most half an interval, for sub-second v3).
    alive_tolerance_s: float = 0.2
    #: Normal hand-over overlap: the old master stops within about one advert interval of the
    #: new master's first advert (PROTOCOL.md §9.7); beyond it both advertising is a split brain.
    overlap_intervals: float = 1.0
    #: ... plus this much (at most one interval) for capture-clock and scheduler jitter.
    overlap_tolerance_s: float = 0.25
    #: Backups declare the master down after this many missed adverts (RFC: 3; keepalived knob).
    down_timer_adverts: int = DEFAULT_DOWN_TIMER_ADVERTS
    #: A master is gone, and a group without master silent, after Master_Down_Interval with
    #: priority 1 (the longest any Backup waits) plus this much (at most one interval).
    silence_tolerance_s: float = 0.5
    #: GARPs for one VIP more than this apart start a new burst (keepalived: +0 s and +5 s bursts).
    garp_burst_gap_s: float = 1.0
    #: GARPs sent up to this long before a router's first advert still count for its stint.
    garp_lead_s: float = 1.0
    #: How often (capture time) silence and hand-over timers are checked between adverts.
    sweep_step_s: float = 0.1
    #: Caps on per-group history lists (timeline, takeovers, priority changes, resigns).
    history_cap: int = 10000
    #: Cap on the GARP/NA list kept per group for the report.
    group_garps_cap: int = 2000
    #: Cap on advert times kept per router (evenly downsampled beyond it).
    advert_times_cap: int = 2000
    #: Cap on owner intervals kept per IP.
    owner_history_cap: int = 1000
    #: Caps on tracked entities, so a flood (random sources, every VRID on many VLANs, ARP for a
    #: whole address range) cannot grow memory without bound. Packets that would create an entity
    #: beyond its cap are left out and counted in :attr:`Reconstructor.dropped_entities`.
    #: Groups (segment, family, VRID) tracked.
    max_groups: int = 4096
    #: Routers (source addresses) tracked per group.
    max_routers_per_group: int = 64
    #: IPs (per segment) tracked in the ARP/ND ownership table.
    max_owned_ips: int = 65536


def _auth(msg: VrrpV2Advert | VrrpV3Advert, packet: Packet) -> tuple[str, str | None, str | None]:
    """(type, fingerprint, clear text) of an advert's authentication."""
    ip = packet.ip
    kind: str
    fp: str | None = None
    text: str | None = None
    if ip is not None and ip.ah is not None:
        kind = "ah"
    elif isinstance(msg, VrrpV2Advert):
        kind = AUTH_NAMES.get(msg.auth_type, f"unknown({msg.auth_type})")
        if msg.auth_type == 1:
            fp = msg.auth_fingerprint
            text = msg.auth_text
        elif msg.auth_type not in AUTH_NAMES:
            fp = secret_fingerprint(msg.auth_data)
    else:
        kind = "none"
    if msg.trailer:
        kind = "hmac" if kind == "none" else kind + "+hmac"
    return kind, fp, text


#: Before any capture time (the default of per-file "last seen" lookups).
_NEVER = float("-inf")


def _bump(counter: dict[Any, int], key: Any) -> bool:
    """Increment ``counter[key]``; True when the key is new."""
    n = counter.get(key)
    counter[key] = 1 if n is None else n + 1
    return n is None


class Reconstructor:
    """Incremental state of every VRRP group and every ARP/ND-claimed IP.

    Feed it with :meth:`feed` one :class:`~vrrpscope.model.Packet` (or
    :class:`~vrrpscope.sources.base.SourceProblem`) at a time in capture-time order, call
    :meth:`tick` in live mode when time passes without packets, and :meth:`finish` once at the end.
    Each returns the events it produced. Read the state through :attr:`groups`, :attr:`owners`
    and the helper methods; never mutate it from outside.
    """

    def __init__(
        self,
        config: ReconstructorConfig | None = None,
        *,
        show_secrets: bool = False,
        files: Sequence[str] = (),
    ) -> None:
        self.config = config or ReconstructorConfig()
        self.show_secrets = show_secrets
        #: Input file names by index (each file is a vantage point); completed from packets.
        self.files: dict[int, str] = dict(enumerate(files))
        #: ARP (``ipv4``) / ND (``ipv6``) packets seen per (segment, family): whether GARP/NA absence
        #: means anything (a capture filtered on ``vrrp`` shows none).
        self.l2_seen: dict[tuple[str, str], int] = {}
        #: Every group seen, by key, in first-seen order.
        self.groups: dict[GroupKey, GroupState] = {}
        #: IP -> MAC ownership from ARP/ND.
        self.owners = OwnershipTable(self.config.owner_history_cap)
        self._dedup = VantageDedup(self.config.dedup_window_s)
        # Cross-file dedup only matters with two or more vantage points. When the input files are
        # declared (``files``, as analyze and watch do) and there is one, it is skipped: a
        # measurable per-packet cost under an ARP storm. Undeclared inputs keep it on.
        self._dedup_on = len(self.files) != 1
        self._vip_index: dict[tuple[str, str], set[GroupKey]] = {}
        self._mac_index: dict[tuple[str, str], set[tuple[GroupKey, str]]] = {}
        self._recent_garps: dict[str, deque[tuple[float, str, str, FrameRef]]] = {}
        self._file_last: dict[int, float] = {}
        self._next_sweep: dict[int, float] = {}
        self._finished = False
        #: Packets left out because their group, router or IP was beyond the config's caps.
        self.dropped_entities: dict[str, int] = {"groups": 0, "routers": 0, "ips": 0}
        #: Capture time of the first and last packet fed.
        self.first_time: float | None = None
        self.last_time: float | None = None

    # ------------------------------------------------------------------ read-only helpers

    @property
    def duplicates(self) -> int:
        """Packets counted once because another vantage point (input file) already showed them."""
        return self._dedup.duplicates

    def groups_for_ip(self, segment: str, ip: str) -> set[GroupKey]:
        """Groups on ``segment`` whose advertised VIP sets contain ``ip``."""
        return set(self._vip_index.get((segment, ip), ()))

    def routers_for_mac(self, segment: str, mac: str) -> set[tuple[GroupKey, str]]:
        """``(group, router IP)`` pairs whose adverts came from ``mac`` on ``segment``."""
        return set(self._mac_index.get((segment, mac), ()))

    def is_vip(self, segment: str, ip: str) -> bool:
        """True when ``ip`` is advertised as a virtual address by some group on ``segment``."""
        return bool(self._vip_index.get((segment, ip)))

    def alive(self, claim: Claim, now: float) -> bool:
        """Whether a claimant is presumed still advertising at ``now``."""
        iv = claim.interval
        return now - claim.last <= iv * self.config.alive_intervals + min(self.config.alive_tolerance_s, 0.5 * iv)

    def overlap_allowance(self, *intervals: float) -> float:
        """The normal hand-over overlap for routers with these advert intervals."""
        iv = max(intervals)
        return iv * self.config.overlap_intervals + min(self.config.overlap_tolerance_s, iv)

    def silence_threshold(self, version: int, interval: float) -> float:
        """Master_Down_Interval with priority 1 (the longest a Backup waits) plus tolerance: a master
        silent that long is gone, a group without claimant silent that long has no master."""
        return master_down_interval(version, 1, interval, self.config.down_timer_adverts) + min(
            self.config.silence_tolerance_s, interval
        )

    # ------------------------------------------------------------------ input

    def feed(self, item: Packet | SourceProblem) -> list[Event]:
        """Process one packet (or capture problem); return the events it caused."""
        if item.__class__ is SourceProblem:
            return [ProblemSeen(item)]
        p: Packet = item  # type: ignore[assignment]
        ev: list[Event] = []
        t = p.time
        fi = p.file_index
        first = self.first_time
        if first is None or t < first:
            self.first_time = t
        last = self.last_time
        if last is None or t > last:
            self.last_time = t
        if fi not in self.files:
            self.files[fi] = p.file
            if len(self.files) > 1:
                self._dedup_on = True
        file_last = self._file_last
        if t > file_last.get(fi, _NEVER):
            file_last[fi] = t
        if t >= self._next_sweep.get(fi, _NEVER):
            self._next_sweep[fi] = t + self.config.sweep_step_s
            for g in list(self.groups.values()):
                if fi in g.vantage:
                    self._check_group(g, t, ev)
        msg = p.message
        kind = msg.__class__
        if kind is Malformed:
            ev.append(MalformedSeen(p, msg))  # type: ignore[arg-type]
            return ev
        if kind is CarpAdvert:
            return ev
        if self._dedup_on and self._dedup.seen(p) is not None:
            self._note_vantage(p)
            return ev
        if kind is ArpPacket:
            self._arp(p, msg, ev)  # type: ignore[arg-type]
        elif kind is VrrpV2Advert or kind is VrrpV3Advert:
            if p.ip is not None:
                self._advert(p, msg, ev)  # type: ignore[arg-type]
        elif kind is NdMessage:
            self._nd(p, msg, ev)  # type: ignore[arg-type]
        return ev

    def tick(self, now: float) -> list[Event]:
        """Let capture time pass to ``now`` (live mode): silences, hand-overs and transients resolve."""
        ev: list[Event] = []
        for g in list(self.groups.values()):
            self._check_group(g, now, ev)
        return ev

    def finish(self, end_time: float | None = None, file_ends: Mapping[int, float] | None = None) -> list[Event]:
        """Close everything at the end of the capture.

        ``end_time`` is the capture end (default: the last packet fed); ``file_ends`` maps input file
        index to that file's last frame time, so a group seen by one file only is judged against
        that file's end. Open stints end with ``capture_end``; a contender still advertising ends
        as a hand-over if it outranks the master (preemption under way), else as transient.
        """
        ev: list[Event] = []
        if self._finished:
            return ev
        self._finished = True
        default_end = end_time if end_time is not None else (self.last_time or 0.0)
        for g in list(self.groups.values()):
            gend = default_end
            if file_ends:
                ends = [file_ends[f] for f in g.vantage if f in file_ends]
                if ends:
                    gend = max(ends)
            gend = max(gend, g.last_seen)
            self._check_group(g, gend, ev, final=True)
            before = tuple(g.masters)
            pending = [c for c in g.claims.values() if c.pending]
            for c in sorted(pending, key=lambda c: c.start):
                if c.router not in g.claims:
                    continue
                masters = [m for m in g.claims.values() if not m.pending]
                if masters and all(outranks(c.priority, c.router, m.priority, m.router) for m in masters):
                    for m in masters:
                        self._end_claim(g, m, gend, ev, preempted_by=c)
                elif masters:
                    self._end_claim(g, c, gend, ev)
            for c in list(g.claims.values()):
                if c.pending:
                    self._end_claim(g, c, gend, ev)
            if g.current_split is not None:
                sb = g.current_split
                sb.end = gend
                sb.end_reason = "capture_end"
                g.current_split = None
                ev.append(SplitBrainEnded(g.key, sb.start, gend, tuple(sb.routers), sb))
            for c in list(g.claims.values()):
                del g.claims[c.router]
                self._close_stint(g, c, gend, c.last_frame, "capture_end", ev)
            self._masters_changed(g, before, gend, ev)
        return ev

    # ------------------------------------------------------------------ adverts

    def _note_vantage(self, p: Packet) -> None:
        msg = p.message
        if isinstance(msg, (VrrpV2Advert, VrrpV3Advert)) and p.ip is not None:
            key = GroupKey(p.segment, p.ip.family, msg.vrid)
            g = self.groups.get(key)
            if g is not None:
                g.vantage.add(p.file_index)
                r = g.routers.get(p.ip.src)
                if r is not None:
                    r.vantage.add(p.file_index)

    def _advert(self, p: Packet, msg: VrrpV2Advert | VrrpV3Advert, ev: list[Event]) -> None:
        ip = p.ip
        assert ip is not None
        cfg = self.config
        t = p.time
        ref = p.ref
        key = GroupKey(p.segment, ip.family, msg.vrid)
        g = self.groups.get(key)
        if g is None:
            if len(self.groups) >= cfg.max_groups:
                self.dropped_entities["groups"] += 1
                return
            g = self.groups[key] = GroupState(key, t, t)
        g.vantage.add(p.file_index)
        self._check_group(g, t, ev)
        r = g.routers.get(ip.src)
        first = r is None
        if r is None and len(g.routers) >= cfg.max_routers_per_group:
            self.dropped_entities["routers"] += 1
            return
        if r is None:
            r = g.routers[ip.src] = RouterState(ip.src, key, t, ref, t, ref, Sampler(cfg.advert_times_cap))
        # --- router facts
        r.adverts += 1
        r.last_seen = t
        r.last_frame = ref
        r.vantage.add(p.file_index)
        r.advert_times.add(t)
        mac = p.link.src_mac
        if mac is not None and _bump(r.macs, mac):
            self._mac_index.setdefault((p.segment, mac), set()).add((key, r.ip))
        interval = msg.advert_int_s
        _bump(r.intervals, interval)
        r.advert_int = interval
        _bump(r.versions, msg.version)
        r.version = msg.version
        _bump(g.versions, msg.version)
        kind, fp, text = _auth(msg, p)
        _bump(r.auth, (kind, fp))
        r.last_auth = (kind, fp)
        if self.show_secrets and text is not None:
            _bump(r.auth_texts, text)
        vips = msg.addresses
        if _bump(r.vip_sets, vips):
            for v in vips:
                self._vip_index.setdefault((p.segment, v), set()).add(key)
        r.vips = vips
        _bump(r.checksum_variants, msg.checksum_variant)
        r.last_checksum_variant = msg.checksum_variant
        _bump(r.ttls, ip.ttl)
        r.last_ttl = ip.ttl
        _bump(r.destinations, ip.dst)
        r.last_dst = ip.dst
        g.last_seen = t
        # --- group silence
        after_silence = False
        if g.silent_since is not None:
            ev.append(GroupResumed(key, g.silent_since, t, r.ip, ref))
            g.silent_since = None
            after_silence = True
        elif g.silent_reported:
            after_silence = True
        g.silent_reported = False
        # --- priority
        prio = msg.priority
        r.last_priority = prio
        if prio > 0:
            if r.priority > 0 and prio != r.priority:
                self._keep(g, g.priority_changes, PriorityChange(r.ip, t, r.priority, prio, ref))
                ev.append(PriorityChanged(key, r.ip, t, ref, r.priority, prio))
            r.priority = prio
            if prio not in r.priorities:
                r.priorities.append(prio)
        eff_interval = interval if interval > 0 else 1.0
        g.last_activity = t
        g.last_interval = eff_interval
        g.last_version = msg.version
        before = tuple(g.masters)
        at = len(ev)
        if prio == 0:
            role = "resign"
            self._resign(g, r, p, ev)
        else:
            role = self._claim_advert(g, r, p, msg, eff_interval, after_silence, ev)
        ev.insert(at, AdvertSeen(key, r.ip, t, ref, prio, msg, p, first, role))
        self._masters_changed(g, before, t, ev)

    def _keep(self, g: GroupState, lst: list[Any], item: Any) -> None:
        lst.append(item)
        if len(lst) > self.config.history_cap:
            del lst[0]
            g.history_dropped += 1

    def _resign(self, g: GroupState, r: RouterState, p: Packet, ev: list[Event]) -> None:
        t = p.time
        c = g.claims.get(r.ip)
        was_master = c is not None and not c.pending
        since = c.stint.start if (c is not None and was_master) else None
        r.resigns += 1
        self._keep(g, g.resigns, ResignRecord(r.ip, t, p.ref, was_master))
        ev.append(Resigned(g.key, r.ip, t, p.ref, was_master, since))
        if c is not None:
            self._end_claim(g, c, t, ev, resign=(t, p.ref))

    def _claim_advert(
        self,
        g: GroupState,
        r: RouterState,
        p: Packet,
        msg: VrrpV2Advert | VrrpV3Advert,
        interval: float,
        after_silence: bool,
        ev: list[Event],
    ) -> str:
        t = p.time
        ref = p.ref
        c = g.claims.get(r.ip)
        if c is not None:
            c.last = t
            c.last_frame = ref
            c.adverts += 1
            c.priority = msg.priority
            c.interval = interval
            c.version = msg.version
            c.stint.adverts += 1
            if len(c.frames) < CLAIM_FRAMES:
                c.frames.append(ref)
            self._confirm_split(g, t, ev)
            return "contender" if c.pending else "master"
        alive = [x for x in g.claims.values() if self.alive(x, t)]
        earlier = g.recent_transient.get(r.ip)
        if earlier is not None and not (
            alive
            and (
                t - earlier[2] <= self.silence_threshold(msg.version, interval)
                # a master advertising since before the blip: the blip may be the start of a second
                # mastership its adverts kept suppressing (_unheard_contender), however long ago
                or any(x.stint.start <= earlier[0] for x in alive)
            )
        ):
            del g.recent_transient[r.ip]
        stint = MasterInterval(g.key, r.ip, t, ref, msg.priority, interval, msg.version, adverts=1)
        claim = Claim(r.ip, t, ref, t, ref, msg.priority, interval, msg.version, stint, frames=[ref])
        self._credit_recent_garps(g, claim)
        if alive:
            claim.pending = True
            g.claims[r.ip] = claim
            return "contender"
        for x in sorted(g.claims.values(), key=lambda x: x.last):
            self._end_claim(g, x, t, ev)
        claim.pending = False
        g.claims[r.ip] = claim
        self._open_stint(g, claim, ev)
        prev = g.previous
        if prev is not None and prev.end is not None and prev.master != r.ip and prev.end_frame is not None:
            cause = "resign" if prev.end_reason == "resign" else "timeout"
            self._takeover(g, prev, claim, cause, after_silence, ev)
        return "new"

    def _credit_recent_garps(self, g: GroupState, claim: Claim) -> None:
        """GARPs a router sent just before its first advert count for its new stint."""
        recent = self._recent_garps.get(g.key.segment)
        if not recent:
            return
        macs = g.macs_of(claim.router) | {g.vmac}
        horizon = claim.start - self.config.garp_lead_s
        for t, ip, mac, ref in recent:
            if (
                t >= horizon
                and mac in macs
                and (g.key.segment, ip) in self._vip_index
                and (g.key in self._vip_index[(g.key.segment, ip)])
            ):
                self._add_garp(claim.stint, ip, t, ref)

    @staticmethod
    def _absorb_blips(
        g: GroupState, c: Claim, not_before: float = _NEVER
    ) -> tuple[float, FrameRef, float] | None:
        """keepalived logs MASTER at the first blip of a master whose adverts the other one keeps
        suppressing (PROTOCOL.md, observed behaviour 7): once ``c`` is known to be such a master, its
        stint starts at its first blip and its blips are part of it, not transient claims. Blips
        whose last advert came before ``not_before`` were a separate event and are only forgotten.
        Returns the absorbed blips' (first, first frame, last), or ``None``."""
        earlier = g.recent_transient.pop(c.router, None)
        if earlier is not None and earlier[2] < not_before:
            return None
        if earlier is not None:
            c.stint.start, c.stint.start_frame = earlier[0], earlier[1]
            g.transients = [x for x in g.transients if not (x.router == c.router and x.first >= earlier[0])]
        return earlier

    def _open_stint(self, g: GroupState, claim: Claim, ev: list[Event]) -> None:
        self._keep(g, g.timeline, claim.stint)
        ev.append(MasterStarted(g.key, claim.router, claim.start, claim.start_frame, claim.stint))

    def _takeover(
        self,
        g: GroupState,
        prev: MasterInterval,
        claim: Claim,
        cause: str,
        after_silence: bool,
        ev: list[Event],
    ) -> None:
        assert prev.end is not None and prev.end_frame is not None
        allowed = takeover_allowance(
            cause, claim.version, claim.priority, prev.interval, self.config.down_timer_adverts
        )
        r = g.routers.get(claim.router)
        rec = TakeoverRecord(
            group=g.key,
            old=prev.master,
            new=claim.router,
            at=claim.start,
            frame=claim.start_frame,
            old_last=prev.end,
            old_frame=prev.end_frame,
            gap=claim.start - prev.end,
            allowed=allowed,
            cause=cause,
            version=claim.version,
            priority=claim.priority,
            old_interval=prev.interval,
            after_silence=after_silence,
            vips=r.vips if r is not None else (),
            stint=claim.stint,
        )
        self._keep(g, g.takeovers, rec)
        ev.append(Takeover(g.key, rec))

    def _confirm_split(self, g: GroupState, now: float, ev: list[Event]) -> None:
        """Promote contenders that kept advertising beyond the hand-over allowance while a master
        did too: split brain."""
        masters = [c for c in g.claims.values() if not c.pending]
        if not masters:
            return
        for c in [c for c in g.claims.values() if c.pending]:
            limit = c.start + self.overlap_allowance(c.interval, *(m.interval for m in masters))
            if c.last <= limit:
                continue
            partners = [m for m in masters if m.last > limit]
            if not partners:
                continue
            c.pending = False
            # a blip longer ago than the silence threshold was a separate event (a router restarted
            # in MASTER state and yielded); only _unheard_contender looks back that far
            self._absorb_blips(g, c, c.start - self.silence_threshold(c.version, c.interval))
            self._open_stint(g, c, ev)
            sb = g.current_split
            if sb is None:
                routers = [m.router for m in partners] + [c.router]
                frames = [m.last_frame for m in partners] + c.frames[:3]
                sb = SplitBrainEpisode(g.key, c.stint.start, now, routers, frames)
                g.current_split = sb
                self._keep(g, g.split_brains, sb)
                ev.append(SplitBrainStarted(g.key, now, tuple(routers), sb))
            else:
                for m in partners:
                    if m.router not in sb.routers:
                        sb.routers.append(m.router)
                if c.router not in sb.routers:
                    sb.routers.append(c.router)
                    sb.frames.extend(c.frames[:3])

    # ------------------------------------------------------------------ timers

    def _check_group(self, g: GroupState, now: float, ev: list[Event], final: bool = False) -> None:
        """Resolve whatever the passing of time to ``now`` decides for ``g`` (``final``: at the
        capture end, where no later advert can show that a paused master goes on).

        A pending contender that falls silent (beyond :meth:`alive`) while another claimant is alive
        stopped: transient adverts. An established master is only declared gone after
        :meth:`silence_threshold`: a master whose advert timer is kept being reset by a rejected
        second master can be silent for several intervals and then advertise again (PROTOCOL.md
        "observed" 7), and a real successor shows itself by advertising anyway.
        """
        if not g.claims:
            threshold = self.silence_threshold(g.last_version, g.last_interval)
            if g.silent_since is None and not g.silent_reported and g.timeline and now - g.last_activity > threshold:
                g.silent_since = g.last_activity
                g.silent_reported = True
                last = g.previous
                ev.append(
                    GroupSilent(
                        g.key,
                        g.last_activity,
                        now,
                        last.master if last else None,
                        last.end_frame if last else None,
                        threshold,
                    )
                )
            return
        dead = [c for c in g.claims.values() if not self.alive(c, now)]
        if not dead:
            return
        before = tuple(g.masters)
        if len(dead) < len(g.claims):
            for c in sorted(dead, key=lambda c: c.last):
                if c.router not in g.claims:
                    continue
                if c.pending or final or now - c.last > self.silence_threshold(c.version, c.interval):
                    self._end_claim(g, c, now, ev)
        else:
            latest = max(c.last for c in dead)
            threshold = max(self.silence_threshold(c.version, c.interval) for c in dead)
            if now - latest > threshold:
                for c in sorted(dead, key=lambda c: c.last):
                    if c.router in g.claims:
                        self._end_claim(g, c, now, ev)
        self._masters_changed(g, before, now, ev)
        if not g.claims:
            self._check_group(g, now, ev, final)

    def _end_claim(
        self,
        g: GroupState,
        c: Claim,
        now: float,
        ev: list[Event],
        resign: tuple[float, FrameRef] | None = None,
        preempted_by: Claim | None = None,
    ) -> None:
        """End claim ``c``: a transient contender, or a master stint that is over."""
        del g.claims[c.router]
        if c.pending:
            self._keep(
                g,
                g.transients,
                TransientRecord(
                    c.router,
                    c.start,
                    c.start_frame,
                    resign[0] if resign is not None else c.last,
                    c.adverts,
                    c.priority,
                    tuple(g.masters),
                    sum(s.count for s in c.stint.garps.values()),
                    resign is not None,
                ),
            )
            if resign is not None:
                c.stint.end = resign[0]
            else:
                # Remember the blip: if the same router contends again within a Master_Down_Interval
                # and is confirmed as a second master, its mastership began at its first blip.
                prior = g.recent_transient.get(c.router)
                first = (prior[0], prior[1]) if prior is not None else (c.start, c.start_frame)
                g.recent_transient[c.router] = (first[0], first[1], c.last)
            ev.append(
                TransientAdverts(
                    g.key, c.router, c.start, c.last, c.adverts, tuple(c.frames), tuple(g.masters), c.stint
                )
            )
            return
        sb = g.current_split
        in_split = sb is not None and c.router in sb.routers
        unheard: Claim | None = None
        if resign is not None:
            end, end_frame, reason = resign[0], resign[1], "resign"
        else:
            end, end_frame = c.last, c.last_frame
            unheard = None if in_split else self._unheard_contender(g, c)
            if in_split or unheard is not None:
                reason = "split_brain"
            elif preempted_by is not None or any(
                o.start >= c.start and outranks(o.priority, o.router, c.priority, c.router) for o in g.claims.values()
            ):
                reason = "preempted"
            else:
                reason = "timeout"
        self._close_stint(g, c, end, end_frame, reason, ev)
        if reason != "resign":
            ev.append(RouterSilent(g.key, c.router, c.last, now, c.last_frame))
        if sb is not None and in_split:
            remaining = [x for x in g.claims.values() if not x.pending]
            if len(remaining) <= 1:
                sb.end = end
                sb.end_reason = reason
                g.current_split = None
                ev.append(SplitBrainEnded(g.key, sb.start, end, tuple(sb.routers), sb))
        if g.claims and not any(not x.pending for x in g.claims.values()):
            self._promote(g, c.stint, now, ev, unheard)

    def _close_stint(
        self, g: GroupState, c: Claim, end: float, end_frame: FrameRef, reason: str, ev: list[Event]
    ) -> None:
        st = c.stint
        st.end = end
        st.end_frame = end_frame
        st.end_reason = reason
        st.interval = c.interval
        if reason != "capture_end" and (g.previous is None or (g.previous.end or 0.0) <= end):
            g.previous = st
        ev.append(MasterEnded(g.key, c.router, st.start, end, reason, st))

    def _unheard_contender(self, g: GroupState, master: Claim) -> Claim | None:
        """A pending contender that was a second master all along, not a backup, when ``master``
        stops advertising: PROTOCOL.md observed behaviour 7 with the suppression changing sides.

        Two masters that discard each other's adverts (wrong password, VIP set, ...) reset each
        other's advert timer, so whichever sends first in a round silences the other: the contender
        shows as a blip during ``master``'s stint, falls silent while ``master`` advertises, then
        advertises again and ``master`` falls silent. It cannot be a backup: it does not outrank
        ``master`` (no preemption), and it advertised again sooner after ``master``'s last advert
        than any backup that hears ``master`` may (Master_Down_Interval, less one interval of
        margin). keepalived logs it MASTER at its first blip.

        The silence between blip and return lasts as many rounds as ``master`` wins, any number.
        A return within Master_Down_Interval of the blip is accepted as is; a later one only with
        the suppressed master's signature: exactly one advert interval after ``master``'s last
        advert (its advert timer, restarted by each of them, ran out once), and not a Skew_Time,
        which is when a backup takes over after a priority-0 advert the capture may have missed.
        """
        for p in g.claims.values():
            if not p.pending or p.router == master.router:
                continue
            if outranks(p.priority, p.router, master.priority, master.router):
                continue
            earlier = g.recent_transient.get(p.router)
            if earlier is None or earlier[0] < master.stint.start:
                continue
            wait = master_down_interval(p.version, p.priority, master.interval, self.config.down_timer_adverts)
            gap = p.start - master.last
            if gap >= wait - master.interval:
                continue
            if p.start - earlier[2] < wait:
                return p
            tol = min(TIMER_RESTART_TOLERANCE_S, 0.1 * p.interval)
            skew = skew_time(p.version, p.priority, master.interval)
            if abs(gap - p.interval) <= tol and abs(gap - skew) > tol:
                return p
        return None

    def _promote(
        self, g: GroupState, old: MasterInterval, now: float, ev: list[Event], unheard: Claim | None = None
    ) -> None:
        """The last master stopped while contenders are alive: the best one takes over (or, for
        ``unheard``, a second master that had been suppressed, see :meth:`_unheard_contender`, the
        split brain is recorded and nobody takes over)."""
        if unheard is not None and old.end is not None and old.end_frame is not None:
            unheard.pending = False
            earlier = self._absorb_blips(g, unheard)
            assert earlier is not None  # _unheard_contender only picks a router that blipped
            best = unheard
            self._open_stint(g, best, ev)
            routers = [old.master, best.router]
            # Confirmed by the contender's advert that no listening backup could have sent.
            sb = SplitBrainEpisode(
                g.key, earlier[0], best.start, routers, [earlier[1], old.end_frame, best.start_frame], old.end,
                "split_brain",
            )
            self._keep(g, g.split_brains, sb)
            ev.append(SplitBrainStarted(g.key, now, tuple(routers), sb))
            ev.append(SplitBrainEnded(g.key, sb.start, old.end, tuple(routers), sb))
            return
        pend = list(g.claims.values())
        best = pend[0]
        for c in pend[1:]:
            if outranks(c.priority, c.router, best.priority, best.router):
                best = c
        best.pending = False
        self._open_stint(g, best, ev)
        if old.master == best.router:
            return
        if old.end_reason == "resign":
            cause = "resign"
        elif old.end_reason == "preempted":
            cause = "preempt"
        else:
            cause = "timeout"
        self._takeover(g, old, best, cause, False, ev)

    def _masters_changed(self, g: GroupState, before: tuple[str, ...], now: float, ev: list[Event]) -> None:
        after = tuple(g.masters)
        if after != before:
            ev.append(MasterChanged(g.key, now, before, after))

    # ------------------------------------------------------------------ ARP / ND

    def _arp(self, p: Packet, msg: ArpPacket, ev: list[Event]) -> None:
        seen = self.l2_seen
        key = (p.segment, "ipv4")
        seen[key] = seen.get(key, 0) + 1
        sender_ip = msg.sender_ip
        if sender_ip == "0.0.0.0" or not sender_ip or not msg.sender_mac:
            return  # ARP probe (RFC 5227): binds nothing
        gratuitous = sender_ip == msg.target_ip
        op = msg.op
        if op == 2 and gratuitous and self._answers_claim(p, msg):
            # A reply unicast to the device that just announced this address (e.g. a failed master
            # whose kernel still holds the VIP answering the new master's GARP request): only that
            # device hears it; the segment's caches keep the announcer's MAC.
            return
        if gratuitous:
            self._claim_ip(p, "ipv4", sender_ip, msg.sender_mac, "garp", "garp", ev)
        elif op == 2:
            self._claim_ip(p, "ipv4", sender_ip, msg.sender_mac, "reply", None, ev)
        elif op == 1:
            self._claim_ip(p, "ipv4", sender_ip, msg.sender_mac, "request", None, ev)

    def _answers_claim(self, p: Packet, msg: ArpPacket) -> bool:
        """Whether an ARP reply for ``msg.sender_ip`` is unicast back to the MAC that owns it now."""
        dst = p.link.dst_mac
        if dst is None or dst == "ff:ff:ff:ff:ff:ff" or int(dst[:2], 16) & 1:
            return False
        cur = self.owners.owner(p.segment, msg.sender_ip)
        return cur is not None and cur.mac == dst and cur.mac != msg.sender_mac

    def _nd(self, p: Packet, msg: NdMessage, ev: list[Event]) -> None:
        ip = p.ip
        if ip is None:
            return
        _bump(self.l2_seen, (p.segment, "ipv6"))
        if msg.type == 136:
            mac = msg.tlla or p.link.src_mac
            if not mac:
                return
            self._claim_ip(p, "ipv6", msg.target, mac, "na", None if msg.solicited else "na", ev)
        elif msg.type == 135:
            if ip.src == "::" or not msg.slla:
                return  # duplicate address detection binds nothing
            self._claim_ip(p, "ipv6", ip.src, msg.slla, "request", None, ev)

    def _add_garp(self, stint: MasterInterval, ip: str, t: float, ref: FrameRef) -> None:
        gs = stint.garps.get(ip)
        if gs is None:
            stint.garps[ip] = GarpStats(t, ref, t, 1, [t])
            return
        if t - gs.last > self.config.garp_burst_gap_s and len(gs.bursts) < 100:
            gs.bursts.append(t)
        gs.last = t
        gs.count += 1

    def _claim_ip(
        self, p: Packet, family: str, ip: str, mac: str, via: str, garp_kind: str | None, ev: list[Event]
    ) -> None:
        seg = p.segment
        owners = self.owners
        current = owners.current
        cur = current.get((seg, ip))
        if cur is None and len(current) >= self.config.max_owned_ips:
            self.dropped_entities["ips"] += 1
            return
        t = p.time
        if cur is not None and cur.mac == mac and garp_kind is None:
            # The current owner again (requests and replies of an ARP storm): the claim count only.
            cur.claims += 1
            cur.last_claim = t
            return
        ref = p.ref
        vip_groups = self._vip_index.get((seg, ip))
        groups = tuple(sorted(vip_groups)) if vip_groups else ()
        if garp_kind is not None:
            recent = self._recent_garps.get(seg)
            if recent is None:
                recent = self._recent_garps[seg] = deque()
            recent.append((t, ip, mac, ref))
            horizon = t - self.config.garp_lead_s
            while recent and recent[0][0] < horizon:
                recent.popleft()
            mac_routers = self._mac_index.get((seg, mac))
            routers = tuple(sorted(mac_routers)) if mac_routers else ()
            for gk in groups:
                g = self.groups[gk]
                sender = None
                for c in g.claims.values():
                    if mac == g.vmac or mac in g.macs_of(c.router):
                        self._add_garp(c.stint, ip, t, ref)
                        sender = c.router if sender is None else sender
                if sender is None:
                    for rk, rip in routers:
                        if rk == gk:
                            sender = rip
                            break
                if len(g.garps) < self.config.group_garps_cap:
                    g.garps.append(GarpRecord(sender, ip, mac, t, ref, garp_kind))
                else:
                    g.garps_dropped += 1
            ev.append(GarpSeen(seg, family, ip, mac, t, ref, garp_kind, groups, routers))
        changed = owners.claim(seg, family, ip, mac, t, via, ref)
        if changed is not None:
            old, new = changed
            ev.append(OwnerChanged(seg, family, ip, old.mac if old else None, mac, t, ref, via, groups, new))
