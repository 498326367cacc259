"""What ``watch`` reports while it runs: master changes, findings opening and closing, statistics.

The analysis engine (:class:`vrrpscope.analysis.AnalysisEngine`) returns findings; the master
changes come from the reconstructor's events, which :class:`EventTap` (a detector that never finds
anything) records for the loop. :class:`MasterChangeBuilder` turns them into :class:`MasterChange`
records and :class:`FindingTracker` decides when a finding is announced:

* ``open`` the first time its identity (``kind, segment, family, vrid, start, subject``) is seen;
* ``closed`` the first time it has an ``end`` (a finding that is over when first seen — a slow
  takeover — is announced ``open`` and ``closed`` at once, so every finding has both);
* ``updated`` when it changed later (an ongoing split brain gaining adverts, a closed episode
  extended), at most once per ``update_every`` seconds: updated in place, never re-announced.

Sinks receive those records (:class:`Sink`). Two live here: :class:`JsonLinesSink` (``--format
json``: one JSON object per line, flushed per line) and :class:`LineSink` (plain lines on a pipe).
Both write to a stream, or to a file they can re-open (``watch -o FILE``, re-opened on SIGHUP).

JSON events (times are capture-clock epoch seconds)::

    {"event": "master_change", "time", "segment", "family", "vrid", "from", "to", "gap", "allowed",
     "cause", "masters", "priority", "interval", "frame"}
    {"event": "finding", "time", "state": "open|closed|updated", ...the finding as in analyze's JSON}
    {"event": "stats", "time", "packets", "kernel_drops", "groups", "masters", "vrrp", "arp", "nd",
     "malformed", "findings", "findings_open", "interfaces": [...], "capture_gaps", "capture_gap_seconds"}
    {"event": "capture_gap", "time", "state": "open|closed", "interface", "start", "end", "duration",
     "reason": "down|no_carrier|deleted|failed", "recreated", "resumed", "packets": null}

A ``capture_gap`` opens when an interface stops capturing (down, no carrier, deleted) and closes
when it captures again (``resumed``) or when watch stops during it (``resumed`` false, ``end`` the
stop). What the segment carried meanwhile is unknown: ``packets`` is ``null``, never a guess.
``capture_gap`` (bool) on a ``master_change``, and on a ``finding`` when true, says that the
change or finding overlaps a capture gap on its interface: silence-based conclusions there
(``timeout``, ``no_master``, a split brain seen right after) may be artefacts of the gap.

``cause`` of a master change: ``timeout``, ``resign``, ``preempt`` (a takeover, with ``gap`` and
``allowed`` as in analyze's ``takeovers``), ``initial`` (first master seen in the group),
``resumed`` (the same master back after the group fell silent), ``split_brain`` (a second router
advertises as master beside the first: ``from`` is the master it joins), ``split_brain_end`` (one
of them stopped: ``from`` stopped, ``to`` remains); ``to`` is ``null`` when the group lost its
master (``cause`` then says how: ``timeout`` or ``resign``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, TypeVar

from vrrpscope.detectors.base import Detector
from vrrpscope.findings import Finding
from vrrpscope.live.source import CaptureGap
from vrrpscope.output.safe import terminal_safe
from vrrpscope.output.table import clock
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
    MasterChanged,
    MasterEnded,
    Takeover,
)
from vrrpscope.reconstruct.reconstructor import Reconstructor
from vrrpscope.reconstruct.state import GroupKey, TakeoverRecord

if TYPE_CHECKING:
    from vrrpscope.live.session import WatchSession

#: End reasons of a master's stint -> master change causes.
_END_CAUSE = {"resign": "resign", "preempted": "preempt", "timeout": "timeout", "split_brain": "split_brain_end"}


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class MasterChange:
    """A change of the master(s) of one group. ``old``/``new`` are router IPs (``None``: no master
    before/after); ``masters`` are all masters after the change; ``gap``/``allowed`` are set for
    takeovers; ``priority``/``interval`` describe the new master; ``frame`` is its first advert."""

    time: float
    group: GroupKey
    old: str | None
    new: str | None
    cause: str
    masters: tuple[str, ...]
    gap: float | None = None
    allowed: float | None = None
    priority: int | None = None
    interval: float | None = None
    frame: int | None = None
    #: The change overlaps a capture gap on its interface (it may be an artefact of the gap).
    capture_gap: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``master_change`` JSON event."""
        return {
            "event": "master_change",
            "time": self.time,
            "segment": self.group.segment,
            "family": self.group.family,
            "vrid": self.group.vrid,
            "from": self.old,
            "to": self.new,
            "gap": self.gap,
            "allowed": self.allowed,
            "cause": self.cause,
            "masters": list(self.masters),
            "priority": self.priority,
            "interval": self.interval,
            "frame": self.frame,
            "capture_gap": self.capture_gap,
        }

    def line(self) -> str:
        """One plain line: time, group, old -> new, cause and timing."""
        g = self.group
        text = (
            f"{clock(self.time)}  MASTER  {terminal_safe(g.segment)} {g.family} VRID {g.vrid}: "
            f"{self.old or 'none'} -> {self.new or 'none'}  {self.cause}"
        )
        if self.gap is not None and self.allowed is not None:
            text += f", gap {self.gap:.3f} s (allowed {self.allowed:.3f} s)"
        if self.new is not None and self.priority is not None:
            text += f", priority {self.priority}"
            if self.interval is not None:
                text += f", interval {self.interval:g} s"
        if len(self.masters) > 1:
            text += f"  [masters: {', '.join(self.masters)}]"
        if self.capture_gap:
            text += "  [during a capture gap: may not be real]"
        return text


@dataclass(frozen=True, slots=True)
class FindingEvent:
    """A finding announced as ``open``, ``closed`` or ``updated`` at capture time ``time``;
    ``data`` is the finding in analyze's JSON form."""

    time: float
    state: str
    finding: Finding
    data: dict[str, Any]
    #: The finding overlaps a capture gap on its interface (it may be an artefact of the gap).
    capture_gap: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``finding`` JSON event (``capture_gap: true`` added only when it overlaps a gap, so the
        rest is exactly analyze's finding)."""
        out = {"event": "finding", "time": self.time, "state": self.state, **self.data}
        if self.capture_gap:
            out["capture_gap"] = True
        return out

    def line(self) -> str:
        """One plain line: time, OPEN/CLOSED/UPDATED, severity, kind, group, message."""
        f = self.finding
        where = terminal_safe(f.segment or "-")
        if f.vrid is not None:
            where += f" {f.family} VRID {f.vrid}"
        elif f.family:
            where += f" {f.family}"
        span = f" ({clock(f.start)}-{clock(f.end)})" if f.end is not None else f" (since {clock(f.start)})"
        text = (
            f"{clock(self.time)}  {self.state.upper():<7} {f.severity.label} {f.kind} {where}{span}: "
            f"{terminal_safe(f.message)}"
        )
        if self.capture_gap:
            text += "  [during a capture gap: may not be real]"
        return text


@dataclass(frozen=True, slots=True)
class CaptureGapEvent:
    """A capture gap ``open`` (at its start) or ``closed`` (at its end) — see :class:`CaptureGap`."""

    time: float
    state: str
    gap: CaptureGap

    def to_json(self) -> dict[str, Any]:
        """The ``capture_gap`` JSON event."""
        return {"event": "capture_gap", "time": self.time, "state": self.state, **self.gap.to_json(self.time)}

    def line(self) -> str:
        """One plain line: the interface, why, since when; on closing, how long and what it means."""
        g = self.gap
        name = terminal_safe(g.interface or f"if{g.index}")
        why = {"down": "down", "no_carrier": "no carrier", "deleted": "deleted", "failed": "unusable"}.get(
            g.reason, terminal_safe(g.reason)
        )
        if self.state == "open":
            return f"{clock(self.time)}  CAPTURE GAP {name} {why}: not capturing on it since {clock(g.start)}"
        again = "re-created, capturing again" if g.recreated else "capturing again"
        if not g.resumed:
            again = "watch stopped"
        return (
            f"{clock(self.time)}  CAPTURE GAP {name} {why} {clock(g.start)}-{clock(g.end)} "
            f"({g.duration(self.time):.3f} s), {again}: frames in between are unknown"
        )


@dataclass(frozen=True, slots=True)
class StatsEvent:
    """Periodic counters: frames captured, kernel drops, groups and masters, decoded packets,
    findings (total and open), per-interface counters, and capture gaps (count and seconds)."""

    time: float
    packets: int
    kernel_drops: int
    groups: int
    masters: int
    vrrp: int
    arp: int
    nd: int
    malformed: int
    findings: int
    findings_open: int
    interfaces: tuple[dict[str, Any], ...] = field(default=())
    #: Capture gaps opened so far, and seconds without capture (summed over interfaces, the open
    #: gaps counted up to ``time``).
    capture_gaps: int = 0
    capture_gap_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``stats`` JSON event."""
        return {
            "event": "stats",
            "time": self.time,
            "packets": self.packets,
            "kernel_drops": self.kernel_drops,
            "groups": self.groups,
            "masters": self.masters,
            "vrrp": self.vrrp,
            "arp": self.arp,
            "nd": self.nd,
            "malformed": self.malformed,
            "findings": self.findings,
            "findings_open": self.findings_open,
            "interfaces": [dict(i) for i in self.interfaces],
            "capture_gaps": self.capture_gaps,
            "capture_gap_seconds": self.capture_gap_seconds,
        }


# --------------------------------------------------------------------------- from engine to records


class EventTap(Detector):
    """A detector that finds nothing: it records the reconstructor events the live view needs."""

    kind = "_watch_tap"
    #: Event types recorded.
    events = (AdvertSeen, MasterChanged, MasterEnded, Takeover)

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[Event] = []

    def on_event(self, event: Event) -> list[Finding]:
        """Record ``event`` for :meth:`drain`."""
        self.pending.append(event)
        return []

    def drain(self) -> list[Event]:
        """The events recorded since the last call."""
        out, self.pending = self.pending, []
        return out


class MasterChangeBuilder:
    """Turns a batch of reconstructor events into :class:`MasterChange` records (see the module
    docstring for the causes). Reads the reconstructor's state, never writes it."""

    def __init__(self, recon: Reconstructor) -> None:
        self.recon = recon
        self._had_master: set[GroupKey] = set()

    def _new_master_facts(self, key: GroupKey, router: str) -> tuple[int | None, float | None, int | None]:
        g = self.recon.groups.get(key)
        claim = g.claims.get(router) if g is not None else None
        if claim is None:
            return None, None, None
        return claim.priority, claim.interval, claim.start_frame.frame

    def build(self, events: Iterable[Event]) -> list[MasterChange]:
        """The master changes in ``events`` (one batch: what one packet or tick caused)."""
        out: list[MasterChange] = []
        takeovers: dict[tuple[GroupKey, str], TakeoverRecord] = {}
        ended: dict[tuple[GroupKey, str], str] = {}
        for e in events:
            if isinstance(e, Takeover):
                takeovers[(e.group, e.record.new)] = e.record
            elif isinstance(e, MasterEnded):
                ended[(e.group, e.router)] = e.end_reason
            elif isinstance(e, MasterChanged):
                out.extend(self._changed(e, takeovers, ended))
        for rec in takeovers.values():  # a takeover without a change of the master set (defensive)
            out.append(self._takeover(rec, (rec.new,)))
        return out

    def _takeover(self, rec: TakeoverRecord, masters: tuple[str, ...]) -> MasterChange:
        prio, iv, _frame = self._new_master_facts(rec.group, rec.new)
        self._had_master.add(rec.group)
        return MasterChange(
            time=rec.at,
            group=rec.group,
            old=rec.old,
            new=rec.new,
            cause=rec.cause,
            masters=masters,
            gap=rec.gap,
            allowed=rec.allowed,
            priority=prio if prio is not None else rec.priority,
            interval=iv,
            frame=rec.frame.frame,
        )

    def _changed(
        self,
        e: MasterChanged,
        takeovers: dict[tuple[GroupKey, str], TakeoverRecord],
        ended: dict[tuple[GroupKey, str], str],
    ) -> list[MasterChange]:
        key = e.group
        added = [r for r in e.after if r not in e.before]
        removed = [r for r in e.before if r not in e.after]
        out: list[MasterChange] = []
        for r in added:
            rec = takeovers.pop((key, r), None)
            if rec is not None:
                out.append(self._takeover(rec, e.after))
                continue
            prio, iv, frame = self._new_master_facts(key, r)
            others = [m for m in e.after if m != r]
            if others:
                old: str | None = removed[0] if removed else others[0]
                cause = "split_brain"
            elif removed:
                old = removed[0]
                cause = _END_CAUSE.get(ended.get((key, old), ""), "timeout")
            else:
                old = None
                cause = "resumed" if key in self._had_master else "initial"
            self._had_master.add(key)
            out.append(MasterChange(e.time, key, old, r, cause, e.after, None, None, prio, iv, frame))
        if not added:
            for r in removed:
                reason = ended.get((key, r), "timeout")
                if reason == "capture_end":
                    continue  # watch is stopping: not a change on the wire
                if e.after:
                    out.append(MasterChange(e.time, key, r, e.after[0], "split_brain_end", e.after))
                else:
                    out.append(MasterChange(e.time, key, r, None, _END_CAUSE.get(reason, reason), ()))
        return out


@dataclass(slots=True)
class _Tracked:
    state: str
    last_emit: float
    last_seen: float
    pending: Finding | None = None


class FindingTracker:
    """Decides which finding versions are announced (open / closed / throttled updates).

    Memory stays bounded: closed findings not updated for ``forget_after`` seconds are forgotten
    (a later version of one would be announced as new).
    """

    def __init__(self, update_every: float = 30.0, forget_after: float = 3600.0) -> None:
        self.update_every = update_every
        self.forget_after = forget_after
        self._tracked: dict[tuple[Any, ...], _Tracked] = {}

    def observe(self, finding: Finding, now: float) -> list[tuple[str, Finding]]:
        """A new or changed version of ``finding``: the announcements it causes now."""
        key = finding.identity
        t = self._tracked.get(key)
        if t is None:
            t = self._tracked[key] = _Tracked("open", now, now)
            out = [("open", finding)]
            if finding.end is not None:
                t.state = "closed"
                out.append(("closed", finding))
            return out
        t.last_seen = now
        if t.state == "open" and finding.end is not None:
            t.state = "closed"
            t.last_emit = now
            t.pending = None
            return [("closed", finding)]
        if now - t.last_emit >= self.update_every:
            t.last_emit = now
            t.pending = None
            return [("updated", finding)]
        t.pending = finding
        return []

    def due(self, now: float, *, flush: bool = False) -> list[tuple[str, Finding]]:
        """Throttled updates whose time has come (all of them with ``flush``); forgets old ones."""
        out: list[tuple[str, Finding]] = []
        for key, t in list(self._tracked.items()):
            if t.pending is not None and (flush or now - t.last_emit >= self.update_every):
                out.append(("updated", t.pending))
                t.pending = None
                t.last_emit = now
            elif t.pending is None and t.state == "closed" and now - t.last_seen > self.forget_after:
                del self._tracked[key]
        return out

    def open_count(self) -> int:
        """Findings announced open and not closed yet."""
        return sum(1 for t in self._tracked.values() if t.state == "open")

    def __len__(self) -> int:
        return len(self._tracked)


# --------------------------------------------------------------------------- sinks


class Sink:
    """Receives the loop's records. Subclasses override what they need; all hooks are no-ops here."""

    session: WatchSession | None = None

    def start(self, session: WatchSession) -> None:
        """The loop starts (capture is open)."""
        self.session = session

    def master_change(self, event: MasterChange) -> None:
        """A group's master changed."""

    def finding(self, event: FindingEvent) -> None:
        """A finding opened, closed or was updated."""

    def stats(self, event: StatsEvent) -> None:
        """Periodic statistics (every ``stats_every`` seconds, and once at the end)."""

    def capture_gap(self, event: CaptureGapEvent) -> None:
        """A capture gap opened or closed."""

    def notice(self, now: float, text: str) -> None:
        """A one-line note for the user (e.g. output files re-opened on SIGHUP)."""

    def reopen(self) -> None:
        """Re-open the output file, if any (SIGHUP); raise ``OSError`` when the new one cannot be
        opened (the old one is then kept)."""

    def tick(self, now: float) -> None:
        """Time passed (at least every tick interval); ``now`` is the capture clock."""

    def end(self) -> None:
        """The loop ended (engine finished, files flushed)."""


_S = TypeVar("_S", bound="_StreamSink")


def open_text_output(path: str) -> IO[str]:
    """Open ``path`` for appending lines (created when missing, line-buffered)."""
    return open(path, "a", encoding="utf-8", buffering=1)


class _StreamSink(Sink):
    """Lines to ``stream``; with ``path`` (the file ``stream`` was opened on), :meth:`reopen`
    closes it and opens ``path`` again (log rotation), and :meth:`close` closes it."""

    def __init__(self, stream: IO[str], *, path: str | None = None) -> None:
        self.stream = stream
        self.path = path
        self.broken = False
        #: Lines written to the current stream.
        self.lines = 0

    @classmethod
    def to_file(cls: type[_S], path: str) -> _S:
        """A sink appending to the file ``path`` (raises ``OSError`` when it cannot be opened)."""
        return cls(open_text_output(path), path=path)

    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.lines += 1
        except BrokenPipeError:
            # the reader went away (``watch ... | head``): stop cleanly instead of dying
            self._broken("output closed")
        except OSError as exc:
            # a terminal hung up (EIO), a full disk: stop cleanly, files closed, instead of dying
            self._broken(f"output error: {exc.strerror or exc}")

    def _broken(self, reason: str) -> None:
        self.broken = True
        if self.session is not None:
            self.session.request_stop(reason)

    def capture_gap(self, event: CaptureGapEvent) -> None:
        """Write the gap's opening or closing."""
        self._write(self.format_gap(event))

    def format_gap(self, event: CaptureGapEvent) -> str:
        """The text written for a capture gap event."""
        return event.line()

    def reopen(self) -> None:
        """Close the file and open ``path`` again (nothing to do on a stream that is not a file)."""
        if self.path is None:
            return
        fresh = open_text_output(self.path)  # raises: the old stream is kept
        old, self.stream = self.stream, fresh
        self.lines = 0
        self.broken = False
        try:
            old.close()
        except OSError:
            pass

    def close(self) -> None:
        """Close the file opened on ``path`` (a stream passed in is left open)."""
        if self.path is not None:
            try:
                self.stream.close()
            except OSError:
                pass


class JsonLinesSink(_StreamSink):
    """``--format json``: every event as one JSON object per line, flushed per line."""

    def master_change(self, event: MasterChange) -> None:
        """Write a ``master_change`` event."""
        self._write(json.dumps(event.to_json()))

    def finding(self, event: FindingEvent) -> None:
        """Write a ``finding`` event."""
        self._write(json.dumps(event.to_json()))

    def stats(self, event: StatsEvent) -> None:
        """Write a ``stats`` event."""
        self._write(json.dumps(event.to_json()))

    def format_gap(self, event: CaptureGapEvent) -> str:
        """A ``capture_gap`` event."""
        return json.dumps(event.to_json())


class LineSink(_StreamSink):
    """Plain output on a pipe: one line per master change and per finding opening or closing."""

    def master_change(self, event: MasterChange) -> None:
        """Write the change as one line."""
        self._write(event.line())

    def finding(self, event: FindingEvent) -> None:
        """Write opening and closing findings as one line each (updates are not printed)."""
        if event.state in ("open", "closed"):
            self._write(event.line())
