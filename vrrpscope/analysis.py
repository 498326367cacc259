"""The analysis API: captures in, :class:`Analysis` out (groups, timeline, takeovers, ARP owners,
findings), and its JSON form per DESIGN.md's contract.

:func:`analyze` reads the captures through :func:`vrrpscope.pipeline.iter_packets` (or an injected
stream of packets, for tests and the live mode), feeds an :class:`AnalysisEngine` — the
reconstructor plus every detector — and returns the result. :class:`AnalysisEngine` is the
incremental core that ``watch`` drives packet by packet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dissectors.records import ArpPacket, CarpAdvert, Malformed, NdMessage, VrrpV2Advert, VrrpV3Advert
from vrrpscope.detectors import default_detectors
from vrrpscope.detectors.base import Detector
from vrrpscope.findings import ExitStatus, Finding, FindingStore, Severity, exit_status_for
from vrrpscope.model import FrameRef, Packet
from vrrpscope.reconstruct import Reconstructor, ReconstructorConfig
from vrrpscope.reconstruct.events import Event
from vrrpscope.reconstruct.state import (
    GroupState,
    MasterInterval,
    OwnerInterval,
    RouterState,
    TakeoverRecord,
    ip_sort_key,
)
from vrrpscope.sources.base import SourceProblem

if TYPE_CHECKING:
    from vrrpscope.pipeline import InputCounts, SegmentAliases

#: Per-group cap of the GARP/NA list in the JSON output (the reconstructor keeps at most this many).
GARPS_CAP = 2000


class AnalysisEngine:
    """Reconstructor + detectors + finding store, fed one packet at a time.

    :meth:`feed`, :meth:`tick` and :meth:`finish` return the findings that are new or changed
    (same identity, later end) so a live view can update them in place.
    """

    def __init__(
        self,
        *,
        show_secrets: bool = False,
        files: Sequence[str] = (),
        config: ReconstructorConfig | None = None,
        detectors: Sequence[Detector] | None = None,
    ) -> None:
        self.recon = Reconstructor(config, show_secrets=show_secrets, files=files)
        self.detectors = list(detectors) if detectors is not None else default_detectors()
        self.store = FindingStore()
        self._dispatch: dict[type, list[Detector]] = {}
        self._catch_all: list[Detector] = []
        for d in self.detectors:
            d.attach(self.recon)
            if not d.events:
                self._catch_all.append(d)

    def _subscribers(self, etype: type) -> list[Detector]:
        subs = self._dispatch.get(etype)
        if subs is None:
            subs = [d for d in self.detectors if d in self._catch_all or issubclass(etype, d.events)]
            self._dispatch[etype] = subs
        return subs

    def _deliver(self, events: list[Event]) -> list[Finding]:
        out: list[Finding] = []
        for e in events:
            for d in self._subscribers(type(e)):
                found = d.on_event(e)
                if found:
                    out.extend(self.store.extend(found))
        return out

    def feed(self, item: Packet | SourceProblem) -> list[Finding]:
        """Process one packet or capture problem."""
        return self._deliver(self.recon.feed(item))

    def tick(self, now: float) -> list[Finding]:
        """Let capture time pass (live mode)."""
        out = self._deliver(self.recon.tick(now))
        for d in self.detectors:
            found = d.on_tick(now)
            if found:
                out.extend(self.store.extend(found))
        return out

    def finish(self, end_time: float | None = None, file_ends: Mapping[int, float] | None = None) -> list[Finding]:
        """Close the capture: pending decisions, open stints and episodes."""
        out = self._deliver(self.recon.finish(end_time, file_ends))
        now = end_time if end_time is not None else (self.recon.last_time or 0.0)
        for d in self.detectors:
            found = d.on_end(now)
            if found:
                out.extend(self.store.extend(found))
        return out

    @property
    def findings(self) -> list[Finding]:
        """All findings so far (latest version of each), sorted by start."""
        return self.store.all()


def _count_packet(counts: InputCounts, item: Packet) -> None:
    msg = item.message
    if isinstance(msg, (VrrpV2Advert, VrrpV3Advert)):
        counts.vrrp += 1
    elif isinstance(msg, ArpPacket):
        counts.arp += 1
    elif isinstance(msg, NdMessage):
        counts.nd += 1
    elif isinstance(msg, CarpAdvert):
        counts.carp += 1
    elif isinstance(msg, Malformed):
        counts.malformed += 1
    counts.packets += 1
    counts.readable = True
    if counts.start is None or item.time < counts.start:
        counts.start = item.time
    if counts.end is None or item.time > counts.end:
        counts.end = item.time


def analyze(
    paths: Sequence[str],
    *,
    engine: str = "native",
    since: float | None = None,
    until: float | None = None,
    show_secrets: bool = False,
    packets: Iterable[Packet | SourceProblem] | None = None,
    config: ReconstructorConfig | None = None,
    detectors: Sequence[Detector] | None = None,
    counts: InputCounts | None = None,
    segments: Mapping[str, str] | None = None,
) -> Analysis:
    """Analyse captures and return the :class:`Analysis`.

    ``paths`` are the input files (each a vantage point); ``engine`` is ``native`` or ``tshark``.
    ``since``/``until`` (epoch seconds) restrict the packets analysed. ``show_secrets`` keeps VRRPv2
    clear-text passwords (otherwise only fingerprints). ``packets`` injects a ready stream (tests,
    live mode, parallel readers) instead of reading ``paths``; input counts are then taken from
    that stream, unless the producer fills ``counts`` itself (as the parallel readers do).
    ``config``/``detectors`` override the reconstructor tunables and the detector set.
    ``segments`` renames segments before analysis (:class:`vrrpscope.pipeline.SegmentAliases`:
    ``{"ens192": "eth0"}`` merges a node's ``ens192`` capture with another's ``eth0`` one).
    """
    from vrrpscope.pipeline import InputCounts, SegmentAliases, iter_packets

    files = list(paths)
    stream: Iterable[Packet | SourceProblem]
    injected = packets is not None and counts is None
    if counts is None:
        counts = InputCounts()
    if packets is not None:
        if injected:
            counts.files.extend(files)
        stream = packets
    else:
        stream = iter_packets(files, engine=engine, counts=counts)
    core = AnalysisEngine(show_secrets=show_secrets, files=files, config=config, detectors=detectors)
    rename = SegmentAliases(segments or {})
    renaming = bool(rename)  # decided once, not per packet
    for item in stream:
        if isinstance(item, SourceProblem):
            if injected:
                counts.add_problem(item)
            core.feed(item)
            continue
        if injected:
            _count_packet(counts, item)
        if (since is not None and item.time < since) or (until is not None and item.time > until):
            continue
        if renaming:
            segment = rename(item.segment)
            if segment != item.segment:
                item = dataclasses.replace(item, segment=segment)
        core.feed(item)
    end = counts.end if counts.end is not None else core.recon.last_time
    if until is not None and end is not None:
        end = min(end, until)
    if end is not None and core.recon.last_time is not None:
        end = max(end, core.recon.last_time)
    file_ends = _file_ends(files, counts, until)
    core.finish(end, file_ends)
    return Analysis(
        files=files,
        counts=counts,
        recon=core.recon,
        findings=core.findings,
        since=since,
        until=until,
        end=end,
        renames=rename,
    )


def _file_ends(files: list[str], counts: InputCounts, until: float | None) -> dict[int, float]:
    """Last frame time per input file index (from the readers' statistics)."""
    out: dict[int, float] = {}
    used: set[int] = set()
    for st in counts.stats:
        if st.last_time is None:
            continue
        for i, f in enumerate(files):
            if i not in used and f == st.file:
                used.add(i)
                t = st.last_time if until is None else min(st.last_time, until)
                out[i] = t
                break
    return out


# ---------------------------------------------------------------------------- the result


def _jsonable(value: Any) -> Any:
    """Make detector details JSON-safe (tuples/sets -> lists, enums -> names, records -> text)."""
    if isinstance(value, Severity):
        return value.label
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@dataclass
class Analysis:
    """The result of :func:`analyze`.

    ``counts`` are the input counts (``vrrpscope.pipeline.InputCounts``: packets, vrrp, arp, nd,
    carp, malformed, capture_loss, problems, start, end, files); ``recon`` the reconstructor with
    every group, router, timeline, takeover and ARP owner; ``findings`` sorted by start.
    """

    files: list[str]
    counts: InputCounts
    recon: Reconstructor
    findings: list[Finding]
    since: float | None = None
    until: float | None = None
    end: float | None = None
    #: The ``segments=`` renames and what they met (``applied``, ``unused``, ``seen``).
    renames: SegmentAliases | None = None
    _frame_cache: dict[FrameRef, Any] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------- accessors

    @property
    def renamed(self) -> dict[str, str]:
        """The ``segments=`` renames that met a packet: segment as captured -> as analysed."""
        return self.renames.applied if self.renames is not None else {}

    @property
    def groups(self) -> list[GroupState]:
        """Every group, ordered by segment, family, VRID."""
        return [self.recon.groups[k] for k in sorted(self.recon.groups)]

    @property
    def routers(self) -> list[RouterState]:
        """Every router of every group (group order, then first seen)."""
        return [r for g in self.groups for r in sorted(g.routers.values(), key=lambda r: r.first_seen)]

    @property
    def timeline(self) -> list[MasterInterval]:
        """Every master stint of every group, ordered by start."""
        return sorted((s for g in self.groups for s in g.timeline), key=lambda s: (s.start, s.master))

    @property
    def takeovers(self) -> list[TakeoverRecord]:
        """Every takeover of every group, ordered by time."""
        return sorted((t for g in self.groups for t in g.takeovers), key=lambda t: t.at)

    @property
    def arp_owners(self) -> list[OwnerInterval]:
        """Every kept IP -> MAC owner interval, ordered by segment, IP, start."""
        return sorted(self.recon.owners.intervals(), key=lambda o: (o.segment, ip_sort_key(o.ip), o.start))

    @property
    def duplicates(self) -> int:
        """Packets counted once because another input file had already shown them."""
        return self.recon.duplicates

    def exit_status(self, fail_on: str | Severity | None) -> ExitStatus:
        """Exit status per DESIGN.md: BAD_INPUT when nothing could be read, else by findings."""
        if not self.counts.readable:
            return ExitStatus.BAD_INPUT
        return exit_status_for(self.findings, fail_on)

    # ----------------------------------------------------------------- JSON

    def _fr(self, ref: FrameRef | None) -> Any:
        if ref is None:
            return None
        if len(self.files) > 1:
            return {"file": ref.file, "frame": ref.frame}
        return ref.frame

    def _files_of(self, vantage: Iterable[int]) -> list[str]:
        return [self.recon.files.get(i, str(i)) for i in sorted(vantage)]

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN.md JSON contract (plus additional keys the report and exports use)."""
        c = self.counts
        return {
            "input": {
                "files": list(self.files),
                "packets": c.packets,
                "vrrp": c.vrrp,
                "arp": c.arp,
                "nd": c.nd,
                "malformed": c.malformed,
                "carp": c.carp,
                "capture_loss": c.capture_loss,
                "duplicates": self.duplicates,
                "start": c.start,
                "end": c.end,
                "since": self.since,
                "until": self.until,
                "problems": [
                    {
                        "file": p.file,
                        "frame": p.frame,
                        "offset": p.offset,
                        "reason": p.reason,
                        "detail": p.detail,
                        "fatal": p.fatal,
                    }
                    for p in c.problems
                ],
                # only with --segment: the renames that applied (as captured -> as analysed)
                **({"segments_renamed": renamed} if (renamed := self.renamed) else {}),
                # only when a resource cap left packets out (docs/HARDENING.md), so goldens stay put
                **(
                    {"dropped_entities": dict(self.recon.dropped_entities)}
                    if any(self.recon.dropped_entities.values())
                    else {}
                ),
            },
            "groups": [self._group(g) for g in self.groups],
            "arp_owners": [self._owner(o) for o in self.arp_owners],
            "findings": [self._finding(f) for f in self.findings],
        }

    def _router(self, r: RouterState) -> dict[str, Any]:
        kind, fp = r.last_auth
        auth: dict[str, Any] = {"type": kind, "fingerprint": fp}
        if self.recon.show_secrets and r.auth_texts:
            auth["password"] = max(r.auth_texts.items(), key=lambda kv: kv[1])[0]
        return {
            "ip": r.ip,
            "mac": r.mac,
            "macs": list(r.macs),
            "priorities": list(r.priorities),
            "priority": r.priority,
            "advert_int": r.advert_int,
            "advert_ints": list(r.intervals),
            "versions": sorted(r.versions),
            "auth": auth,
            "auths": [{"type": t, "fingerprint": f, "count": n} for (t, f), n in r.auth.items()],
            "vips": list(r.vips),
            "vip_sets": [list(s) for s in r.vip_sets],
            "adverts": r.adverts,
            "resigns": r.resigns,
            "first_seen": r.first_seen,
            "last_seen": r.last_seen,
            "first_frame": self._fr(r.first_frame),
            "last_frame": self._fr(r.last_frame),
            "checksum_variants": list(r.checksum_variants),
            "ttls": list(r.ttls),
            "destinations": list(r.destinations),
            "unicast": r.unicast,
            "vantage": self._files_of(r.vantage),
        }

    def _group(self, g: GroupState) -> dict[str, Any]:
        routers = sorted(g.routers.values(), key=lambda r: (r.first_seen, ip_sort_key(r.ip)))
        timeline = sorted(g.timeline, key=lambda s: (s.start, s.master))
        return {
            "segment": g.key.segment,
            "family": g.key.family,
            "vrid": g.key.vrid,
            "versions": sorted(g.versions),
            "vmac": g.vmac,
            "vips": sorted(g.vips(), key=ip_sort_key),
            "first_seen": g.first_seen,
            "last_seen": g.last_seen,
            "routers": [self._router(r) for r in routers],
            "timeline": [
                {
                    "master": s.master,
                    "start": s.start,
                    "end": s.end,
                    "end_reason": s.end_reason,
                    "priority": s.priority,
                    "interval": s.interval,
                    "version": s.version,
                    "adverts": s.adverts,
                    "frame": self._fr(s.start_frame),
                    "end_frame": self._fr(s.end_frame),
                }
                for s in timeline
            ],
            "takeovers": [
                {
                    "from": t.old,
                    "to": t.new,
                    "at": t.at,
                    "gap": t.gap,
                    "allowed": t.allowed,
                    "cause": t.cause,
                    "garp_delay": t.garp_delay,
                    "frame": self._fr(t.frame),
                    "from_frame": self._fr(t.old_frame),
                    "version": t.version,
                    "priority": t.priority,
                    "old_interval": t.old_interval,
                    "after_silence": t.after_silence,
                    "vips": list(t.vips),
                    "garp": {
                        ip: {
                            "delay": gs.first - t.at,
                            "count": gs.count,
                            "bursts": [b - t.at for b in gs.bursts],
                            "frame": self._fr(gs.first_frame),
                        }
                        for ip, gs in t.stint.garps.items()
                    },
                }
                for t in g.takeovers
            ],
            "split_brains": [
                {
                    "start": sb.start,
                    "end": sb.end,
                    "confirmed_at": sb.confirmed_at,
                    "routers": list(sb.routers),
                    "frames": [self._fr(f) for f in sb.frames],
                }
                for sb in g.split_brains
            ],
            "priority_changes": [
                {
                    "router": pc.router,
                    "time": pc.time,
                    "old": pc.old,
                    "priority": pc.priority,
                    "frame": self._fr(pc.frame),
                }
                for pc in g.priority_changes
            ],
            "resigns": [
                {
                    "router": rs.router,
                    "time": rs.time,
                    "frame": self._fr(rs.frame),
                    "was_master": rs.was_master,
                }
                for rs in g.resigns
            ],
            "transients": [
                {
                    "router": tr.router,
                    "first": tr.first,
                    "last": tr.last,
                    "adverts": tr.adverts,
                    "priority": tr.priority,
                    "masters": list(tr.masters),
                    "garps": tr.garps,
                    "resigned": tr.resigned,
                    "frame": self._fr(tr.first_frame),
                }
                for tr in g.transients
            ],
            "garps": [
                {
                    "router": gr.router,
                    "ip": gr.ip,
                    "mac": gr.mac,
                    "time": gr.time,
                    "frame": self._fr(gr.frame),
                    "kind": gr.kind,
                }
                for gr in g.garps[:GARPS_CAP]
            ],
            "garps_dropped": g.garps_dropped + max(0, len(g.garps) - GARPS_CAP),
            "advert_times": {r.ip: list(r.advert_times.values) for r in routers},
            "advert_times_total": {r.ip: r.advert_times.count for r in routers},
            "vantage": {r.ip: self._files_of(r.vantage) for r in routers},
            "history_dropped": g.history_dropped,
        }

    def _owner(self, o: OwnerInterval) -> dict[str, Any]:
        current = o.end is None
        return {
            "ip": o.ip,
            "mac": o.mac,
            "start": o.start,
            "end": o.end if o.end is not None else (self.end if self.end is not None else o.last_claim),
            "via": o.via,
            "segment": o.segment,
            "family": o.family,
            "claims": o.claims,
            "last_claim": o.last_claim,
            "frame": self._fr(o.frame),
            "current": current,
            "vip": self.recon.is_vip(o.segment, o.ip),
        }

    def _finding(self, f: Finding) -> dict[str, Any]:
        return {
            "kind": f.kind,
            "severity": f.severity.label,
            "segment": f.segment,
            "family": f.family,
            "vrid": f.vrid,
            "start": f.start,
            "end": f.end,
            "routers": list(f.routers),
            "frames": [self._fr(r) for r in f.frames],
            "frame_count": f.frame_count,
            "message": f.message,
            "subject": f.subject,
            "details": _jsonable(f.details),
        }
