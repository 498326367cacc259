"""The watch loop: frames from a source, through the analysis engine, out to sinks.

One loop for live capture and replayed files (only the :class:`~vrrpscope.live.source.FrameSource`
differs). Each turn waits in ``source.poll`` at most until the next tick, so the loop never spins
and ``engine.tick(now)`` runs at least every ``tick_s`` (0.25 s) of the source's clock: silence-based
decisions (a master gone quiet, ``no_master``) are taken on time even when no frame arrives.

Per frame: number it (1-based, in capture order over all interfaces: with ``-w`` and no rotation
these are the frame numbers of the written file), hand it to the pcapng writer, dissect it, name its
segment (the interface name plus VLAN tags, :func:`vrrpscope.pipeline.segment_name`), feed the
engine, and pass what changed to the sinks: master changes first, then findings.

:meth:`WatchSession.run` returns the final :class:`~vrrpscope.analysis.Analysis` (the engine
finished at the stop time), the same object ``analyze`` produces, so the terminal summary, the JSON
and the HTML report come out exactly as they do for files; it is a :class:`WatchAnalysis`, whose
JSON ``input`` also lists the capture gaps.

Capture gaps: a source that can lose sight of an interface (:class:`~vrrpscope.live.capture.
LiveCapture`) offers ``gap_updates()``; each turn the loop passes the gaps that opened or closed to
the sinks (:class:`~vrrpscope.live.events.CaptureGapEvent`) before the turn's frames, keeps them for
the summary, and marks master changes and findings that overlap a gap on their interface
(``capture_gap``). Sources without the method (replays) have no gaps.

Re-opening outputs: :meth:`WatchSession.request_reopen` (the SIGHUP handler) only sets a flag; the
loop then, between frames, re-opens the pcapng writer and every sink's file, and tells the user.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dissectors.packet import dissect
from vrrpscope.analysis import Analysis, AnalysisEngine
from vrrpscope.detectors import default_detectors
from vrrpscope.findings import Finding
from vrrpscope.live.events import (
    CaptureGapEvent,
    EventTap,
    FindingEvent,
    FindingTracker,
    MasterChange,
    MasterChangeBuilder,
    Sink,
    StatsEvent,
)
from vrrpscope.live.source import CapturedFrame, CaptureGap, FrameSource, InterfaceInfo
from vrrpscope.live.writer import PcapngWriter
from vrrpscope.model import Packet
from vrrpscope.pipeline import InputCounts, segment_name
from vrrpscope.reconstruct import ReconstructorConfig
from vrrpscope.reconstruct.events import AdvertSeen, Event
from vrrpscope.reconstruct.state import GroupKey

#: Engine tick period (seconds of the source's clock).
TICK_S = 0.25
#: How often a ``stats`` event is emitted.
STATS_EVERY_S = 5.0
#: Capture gaps kept for the summary (the counters keep counting beyond).
GAPS_KEPT = 1000


def segment_interface(segment: str) -> str:
    """The capture interface of a segment name (``eth0/vlan30`` -> ``eth0``; names hold no ``/``)."""
    return segment.split("/", 1)[0]


#: Reconstructor limits for ``watch``, which may run for weeks: the most recent history is kept
#: per group (master stints, takeovers, priority changes, resigns, split brains, brief claims:
#: 100 each; gratuitous ARP/NA records: 200) and per IP (owner changes: 20); older entries are
#: dropped and counted (``history_dropped``, ``garps_dropped`` in the JSON). So memory levels off
#: once the busiest groups have had 100 master changes (``bench/soak.py``: after about 17 h of a
#: network with an incident per group every 15 minutes). ``analyze`` keeps the larger defaults;
#: for the whole history of a long run, analyze the pcapng that ``watch -w`` wrote.
LIVE_LIMITS = ReconstructorConfig(history_cap=100, group_garps_cap=200, owner_history_cap=20)

#: Findings that ended longer ago than this (capture time) are forgotten by ``watch`` (counted in
#: ``input.findings_pruned``); open findings are always kept.
FINDING_RETENTION_S = 6 * 3600.0

#: How often (capture time) ``watch`` prunes old findings.
PRUNE_EVERY_S = 60.0


@dataclass
class WatchAnalysis(Analysis):
    """The analysis of a watch run: :class:`~vrrpscope.analysis.Analysis` plus the capture gaps,
    added to the JSON ``input`` as ``capture_gaps`` (:meth:`CaptureGap.to_json` each) and
    ``capture_gap_seconds`` (their total), beside ``capture_loss`` (the kernel's drops), when the
    source can have gaps (``gaps_tracked``: live capture; a replay's JSON is exactly analyze's)."""

    capture_gaps: list[CaptureGap] = field(default_factory=list)
    gaps_tracked: bool = False
    #: Findings that ended more than :data:`FINDING_RETENTION_S` before the run's end (forgotten).
    findings_pruned: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The analyze JSON contract, ``input.capture_gaps`` and ``input.capture_gap_seconds`` added
        (and ``input.findings_pruned`` when a long run forgot old findings)."""
        data = super().to_dict()
        if self.findings_pruned:
            data["input"]["findings_pruned"] = self.findings_pruned
        if not self.gaps_tracked:
            return data
        gaps = [g.to_json() for g in self.capture_gaps]
        data["input"]["capture_gaps"] = gaps
        data["input"]["capture_gap_seconds"] = sum(g["duration"] or 0.0 for g in gaps)
        return data


@dataclass(slots=True)
class GroupActivity:
    """What the loop counts per group beyond the reconstructor's state: adverts per router,
    takeovers, and the latest master change."""

    takeovers: int = 0
    last_change: MasterChange | None = None
    last_takeover: MasterChange | None = None
    adverts: int = 0


class WatchSession:
    """Runs the loop over ``source`` until stopped, ``duration`` elapsed or the source is exhausted.

    ``label`` names the input in the final analysis (``input.files``) and in cited frames.
    ``writer`` receives every captured frame. ``sinks`` receive the records of
    :mod:`vrrpscope.live.events`. Call :meth:`request_stop` (and :meth:`request_reopen`) from a
    signal handler or another thread. ``log`` receives one-line notes for the user (besides the
    sinks' ``notice`` hook).
    """

    def __init__(
        self,
        source: FrameSource,
        sinks: Sequence[Sink] = (),
        *,
        label: str = "live",
        writer: PcapngWriter | None = None,
        duration: float | None = None,
        tick_s: float = TICK_S,
        stats_every: float = STATS_EVERY_S,
        show_secrets: bool = False,
        update_every: float = 30.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.source = source
        self.sinks = list(sinks)
        self.label = label
        self.writer = writer
        self.duration = duration
        self.tick_s = tick_s
        self.stats_every = stats_every
        self.tap = EventTap()
        self.engine = AnalysisEngine(
            show_secrets=show_secrets,
            files=[label],
            detectors=[*default_detectors(), self.tap],
            config=LIVE_LIMITS,
        )
        self._next_prune = float("-inf")
        self.changes = MasterChangeBuilder(self.engine.recon)
        self.tracker = FindingTracker(update_every=update_every)
        self.counts = InputCounts(files=[label])
        #: Per-group activity counters, by group.
        self.activity: dict[GroupKey, GroupActivity] = {}
        #: Adverts seen per (group, router).
        self.adverts: dict[tuple[GroupKey, str], int] = {}
        self.frames = 0
        self.started: float | None = None
        self.now: float = 0.0
        self.last_packet: float | None = None
        self.stopped_by = ""
        self.log = log
        self._stop = threading.Event()
        self._reopen = threading.Event()
        self._ifaces: dict[int, InterfaceInfo] = {}
        #: Capture gaps closed so far (at most :data:`GAPS_KEPT`) and those open, by interface index.
        self.gaps: deque[CaptureGap] = deque(maxlen=GAPS_KEPT)
        self.open_gaps: dict[int, CaptureGap] = {}
        #: Output re-opens done (SIGHUP).
        self.reopens = 0

    # ------------------------------------------------------------------ control

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the loop to stop at its next turn (at most one tick later). Thread/signal safe."""
        if not self._stop.is_set():
            self.stopped_by = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self._stop.is_set()

    def request_reopen(self) -> None:
        """Ask the loop to re-open its output files at its next turn (SIGHUP). Thread/signal safe."""
        self._reopen.set()

    def notice(self, text: str) -> None:
        """Tell the user ``text`` (the ``log`` callable and the sinks' ``notice`` hook)."""
        if self.log is not None:
            self.log(text)
        for s in self.sinks:
            s.notice(self.now, text)

    def interface(self, index: int) -> InterfaceInfo | None:
        """The source's interface ``index`` (``None`` when unknown)."""
        info = self._ifaces.get(index)
        if info is None:
            self._ifaces = {i.index: i for i in self.source.interfaces}  # a replay learns them as it goes
            info = self._ifaces.get(index)
        return info

    # ------------------------------------------------------------------ the loop

    def run(self) -> WatchAnalysis:
        """Open the source, loop, finish the engine, close everything; return the analysis."""
        self.source.open()
        try:
            return self._run()
        finally:
            self.source.close()
            if self.writer is not None:
                self.writer.close(self.source.stats())

    def _clock(self) -> float:
        now = self.source.now()
        if self.last_packet is not None and now < self.last_packet:
            now = self.last_packet  # never let the engine's time run backwards
        return now

    def _run(self) -> WatchAnalysis:
        start = self._clock()
        self.started = self.now = start
        deadline = start + self.duration if self.duration is not None else None
        next_tick = start + self.tick_s
        next_stats = start + self.stats_every
        for s in self.sinks:
            s.start(self)
        while not self._stop.is_set():
            until = next_tick if deadline is None else min(next_tick, deadline)
            frames = self.source.poll(max(0.0, until - self.source.now()))
            self._gap_updates()
            if frames:
                self._frames(frames)
            if self._reopen.is_set():
                self._reopen.clear()
                self._reopen_outputs()
            now = self._clock()
            self.now = now
            if now >= next_tick:
                self._tick(now)
                next_tick = max(next_tick + self.tick_s, now + self.tick_s / 2)
            if now >= next_stats:
                self._stats(now)
                next_stats = max(next_stats + self.stats_every, now + self.tick_s)
            if deadline is not None and now >= deadline:
                self.stopped_by = self.stopped_by or "duration"
                break
            if self.source.exhausted:
                self.stopped_by = self.stopped_by or "end of input"
                break
        return self._finish()

    def _frames(self, frames: list[CapturedFrame]) -> None:
        counts = self.counts
        for cf in frames:
            self.frames += 1
            number = self.frames
            info = self.interface(cf.interface)
            linktype = info.linktype if info is not None else 1
            if self.writer is not None:
                self.writer.write(cf, info)
            t = cf.time
            counts.packets += 1
            counts.readable = True
            if counts.start is None:
                counts.start = t
            if counts.end is None or t > counts.end:
                counts.end = t
            if self.last_packet is None or t > self.last_packet:
                self.last_packet = t
            dissected = dissect(linktype, cf.data)
            if dissected is None:
                continue
            counts.count(dissected)
            name = info.name if info is not None else None
            packet = Packet(
                0,
                self.label,
                number,
                t,
                segment_name(cf.interface, name, dissected.link),
                dissected.link,
                dissected.ip,
                dissected.message,
                cf.wirelen,
            )
            found = self.engine.feed(packet)
            self._publish(t, found)

    # ------------------------------------------------------------------ capture gaps

    def _gap_updates(self) -> None:
        updates = getattr(self.source, "gap_updates", None)
        if updates is None:
            return
        for state, gap in updates():
            if state == "open":
                self.open_gaps[gap.index] = gap
                self._gap_event(CaptureGapEvent(gap.start, "open", gap))
            else:
                self.open_gaps.pop(gap.index, None)
                self.gaps.append(gap)
                self._gap_event(CaptureGapEvent(gap.end if gap.end is not None else self.now, "closed", gap))
                self._mark_gap(gap)

    def _mark_gap(self, gap: CaptureGap) -> None:
        """Record an ended gap in the pcapng being written."""
        if self.writer is None:
            return
        stats = self.source.stats()
        st = stats[gap.index] if 0 <= gap.index < len(stats) else None
        try:
            self.writer.mark_gap(gap, st)
        except ValueError:
            pass  # writer closed: stopping

    def _gap_event(self, event: CaptureGapEvent) -> None:
        for s in self.sinks:
            s.capture_gap(event)

    def capture_gaps(self, now: float | None = None) -> list[CaptureGap]:
        """The gaps so far, by start; with ``now``, those still open are ended at ``now``
        (``resumed`` false), as for the summary of a run stopped during a gap."""
        open_ = list(self.open_gaps.values())
        if now is not None:
            open_ = [replace(g, end=max(now, g.start), resumed=False) for g in open_]
        return sorted([*self.gaps, *open_], key=lambda g: (g.start, g.index))

    def in_gap(self, segment: str | None, start: float, end: float) -> bool:
        """Whether a capture gap on ``segment``'s interface overlaps ``[start, end]``."""
        if segment is None or not (self.gaps or self.open_gaps):
            return False
        name = segment_interface(segment)
        for g in (*self.open_gaps.values(), *reversed(self.gaps)):
            if g.interface == name and g.start <= end and (g.end is None or g.end >= start):
                return True
        return False

    def _change_window(self, change: MasterChange) -> tuple[float, float]:
        """The time a master change rests on: the takeover gap; the lost master's silence; or, for
        a master appearing, its last two intervals (a gap just before explains a "resumed")."""
        t = change.time
        if change.gap is not None:
            return t - change.gap, t
        if change.old is not None and change.new is None:
            g = self.engine.recon.groups.get(change.group)
            r = g.routers.get(change.old) if g is not None else None
            return (min(r.last_seen, t) if r is not None else t), t
        return t - 2 * (change.interval or 1.0), t

    # ------------------------------------------------------------------ outputs

    def _reopen_outputs(self) -> None:
        """SIGHUP: re-open the pcapng writer's file and the sinks' files (logrotate)."""
        self.reopens += 1
        w = self.writer
        if w is not None:
            frames = w.file_frames
            try:
                moved = w.reopen()
            except OSError as exc:
                why = exc.strerror or exc
                self.notice(f"SIGHUP: {w.path}: cannot start a new file ({why}); still writing the old one")
            except ValueError:
                pass  # closed already: stopping
            else:
                if moved:
                    self.notice(f"SIGHUP: finished the old {w.path} ({frames} frames), writing a new one")
                else:
                    self.notice(f"SIGHUP: {w.path} was not moved away: still writing it")
        for s in self.sinks:
            try:
                s.reopen()
            except OSError as exc:
                why = exc.strerror or exc
                self.notice(f"SIGHUP: cannot re-open {getattr(s, 'path', '?')}: {why}; still writing the old one")

    def _tick(self, now: float) -> None:
        found = self.engine.tick(now)
        self._publish(now, found)
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            self.engine.store.prune(now - FINDING_RETENTION_S)
        for state, f in self.tracker.due(now):
            self._announce(now, state, f)
        if self.writer is not None:
            self.writer.flush()
        for s in self.sinks:
            s.tick(now)

    def _publish(self, now: float, found: list[Finding]) -> None:
        events = self.tap.drain()
        if events:
            self._events(events)
        for f in found:
            for state, version in self.tracker.observe(f, now):
                self._announce(now, state, version)

    def _events(self, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, AdvertSeen):
                key = (e.group, e.router)
                self.adverts[key] = self.adverts.get(key, 0) + 1
                self._activity(e.group).adverts += 1
        for change in self.changes.build(events):
            if self.gaps or self.open_gaps:
                a, b = self._change_window(change)
                if self.in_gap(change.group.segment, a, b):
                    change = replace(change, capture_gap=True)
            act = self._activity(change.group)
            act.last_change = change
            if change.gap is not None:
                act.takeovers += 1
                act.last_takeover = change
            for s in self.sinks:
                s.master_change(change)

    def _activity(self, key: GroupKey) -> GroupActivity:
        act = self.activity.get(key)
        if act is None:
            act = self.activity[key] = GroupActivity()
        return act

    def finding_json(self, finding: Finding) -> dict[str, Any]:
        """``finding`` in analyze's JSON form (frames cited as in ``analyze``)."""
        view = Analysis(files=[self.label], counts=self.counts, recon=self.engine.recon, findings=[])
        return view._finding(finding)

    def _announce(self, now: float, state: str, finding: Finding) -> None:
        end = finding.end if finding.end is not None else now
        gap = self.in_gap(finding.segment, finding.start, end)
        event = FindingEvent(now, state, finding, self.finding_json(finding), gap)
        for s in self.sinks:
            s.finding(event)

    def stats_event(self, now: float) -> StatsEvent:
        """The counters now (kernel drops refreshed from the source)."""
        ifaces = self.source.stats()
        drops = sum(i.kernel_drops for i in ifaces)
        self.counts.capture_loss = drops
        groups = self.engine.recon.groups
        c = self.counts
        blind = [i.blind_seconds(now) for i in ifaces]
        return StatsEvent(
            time=now,
            packets=c.packets,
            kernel_drops=drops,
            groups=len(groups),
            masters=sum(len(g.masters) for g in groups.values()),
            vrrp=c.vrrp,
            arp=c.arp,
            nd=c.nd,
            malformed=c.malformed,
            findings=len(self.engine.store),
            findings_open=self.tracker.open_count(),
            interfaces=tuple(
                {
                    "name": i.name,
                    "packets": i.packets,
                    "kernel_drops": i.kernel_drops,
                    "errors": i.errors,
                    "up": i.up,
                    "last_packet": i.last_packet,
                    "state": i.state,
                    "gaps": i.gaps,
                    "gap_seconds": b,
                }
                for i, b in zip(ifaces, blind, strict=True)
            ),
            capture_gaps=sum(i.gaps for i in ifaces),
            capture_gap_seconds=sum(blind),
        )

    def _stats(self, now: float) -> None:
        event = self.stats_event(now)
        for s in self.sinks:
            s.stats(event)

    def _finish(self) -> WatchAnalysis:
        now = self._clock()
        self.now = now
        self._gap_updates()
        engine = self.engine
        found = engine.finish(now)
        self._publish(now, found)
        for state, f in self.tracker.due(now, flush=True):
            self._announce(now, state, f)
        gaps = self.capture_gaps(now)
        for g in gaps:  # gaps still open end with the capture: closed, not resumed
            if g.index in self.open_gaps:
                self._gap_event(CaptureGapEvent(now, "closed", g))
                self._mark_gap(g)
        self._stats(now)
        for s in self.sinks:
            s.end()
        # the capture ran until now: open ARP/ND ownerships last until the stop, as stints do
        return WatchAnalysis(
            files=[self.label],
            counts=self.counts,
            recon=engine.recon,
            findings=engine.findings,
            end=now if self.counts.readable else None,
            capture_gaps=gaps,
            gaps_tracked=hasattr(self.source, "gap_updates"),
            findings_pruned=engine.store.pruned,
        )
