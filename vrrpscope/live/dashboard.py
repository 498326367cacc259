"""The live terminal view of ``watch``: one row per VRRP group, and findings as they open and close.

Each row: segment, family, VRID; the current master(s) with priority and advert interval; the age
of the master's last advert against Master_Down_Interval (yellow once it is later than one interval,
red when it gets close to Master_Down_Interval — the moment a backup takes over); the routers
seen; takeovers so far with the last gap against what the protocol allowed. Below, a scrolling list
of master changes, findings opening and closing, capture gaps (an interface down, without carrier or
deleted: shown in the header while it lasts, with the time without capture so far) and notes
(output files re-opened on SIGHUP).

:class:`Dashboard` is a :class:`~vrrpscope.live.events.Sink` around rich's ``Live``; it redraws on
the loop's ticks (at most ``refresh_s``). :func:`group_rows` and :meth:`Dashboard.render` are
pure, so the view is testable on a ``Console(file=StringIO(), color_system=None)``. Strings from
packets go through :func:`~vrrpscope.output.safe.terminal_safe` and into ``Text`` objects (never
markup).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from vrrpscope.live.events import CaptureGapEvent, FindingEvent, MasterChange, Sink
from vrrpscope.live.session import WatchSession
from vrrpscope.output.safe import terminal_safe
from vrrpscope.output.table import SEVERITY_STYLE, clock, takeover_verdict
from vrrpscope.reconstruct.state import GroupKey, GroupState
from vrrpscope.timing import master_down_interval

#: Fraction of Master_Down_Interval from which the advert age is shown in red.
RED_FRACTION = 0.75
#: Slack on one interval before the age is shown in yellow (scheduler jitter).
LATE_SLACK = 0.1


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One group as the dashboard shows it. ``age`` is seconds since the current master's last
    advert (``None`` without master); ``mdi`` the Master_Down_Interval a backup applies (priority
    of the best other router seen, else priority 1: the longest any backup waits); ``state`` is
    ``ok``, ``late`` (age > one interval), ``overdue`` (age near the MDI), ``split_brain`` or
    ``no_master``."""

    key: GroupKey
    masters: tuple[str, ...]
    priority: int | None
    interval: float | None
    version: int | None
    age: float | None
    mdi: float | None
    routers: tuple[str, ...]
    takeovers: int
    last_gap: float | None
    last_allowed: float | None
    last_cause: str | None
    state: str
    silent_since: float | None = None


def _mdi(g: GroupState, master: str, version: int, interval: float) -> float:
    prios = [r.priority for ip, r in g.routers.items() if ip != master and r.priority > 0]
    backup = max(prios) if prios else 1
    return master_down_interval(version if version in (2, 3) else 2, backup, interval)


def group_rows(session: WatchSession, now: float) -> list[GroupRow]:
    """The rows of every group the session has seen, ordered by segment, family and VRID."""
    rows: list[GroupRow] = []
    groups = session.engine.recon.groups
    for key in sorted(groups):
        g = groups[key]
        act = session.activity.get(key)
        claims = [c for c in g.claims.values() if not c.pending]
        masters = tuple(c.router for c in claims)
        priority = interval = version = age = mdi = None
        if claims:
            lead = max(claims, key=lambda c: c.last)
            priority, interval, version = lead.priority, lead.interval, lead.version
            age = max(0.0, now - min(c.last for c in claims))
            mdi = _mdi(g, lead.router, lead.version, lead.interval)
            if len(claims) > 1:
                state = "split_brain"
            elif age >= RED_FRACTION * mdi:
                state = "overdue"
            elif age > interval * (1 + LATE_SLACK):
                state = "late"
            else:
                state = "ok"
        else:
            state = "no_master"
        last = act.last_takeover if act is not None else None
        rows.append(
            GroupRow(
                key=key,
                masters=masters,
                priority=priority,
                interval=interval,
                version=version,
                age=age,
                mdi=mdi,
                routers=tuple(g.routers),
                takeovers=act.takeovers if act is not None else 0,
                last_gap=last.gap if last is not None else None,
                last_allowed=last.allowed if last is not None else None,
                last_cause=last.cause if last is not None else None,
                state=state,
                silent_since=g.last_activity if not claims else None,
            )
        )
    return rows


_STATE_STYLE = {"ok": "green", "late": "yellow", "overdue": "bold red", "split_brain": "bold red", "no_master": "red"}


class Dashboard(Sink):
    """rich ``Live`` view of a watch session (``live=False`` renders only on :meth:`render` calls)."""

    def __init__(self, console: Console, *, max_lines: int = 12, refresh_s: float = 0.25, live: bool = True) -> None:
        self.console = console
        self.max_lines = max_lines
        self.refresh_s = refresh_s
        self.use_live = live
        self.lines: deque[Text] = deque(maxlen=max(1, max_lines))
        self._live: Live | None = None
        self._last_draw = float("-inf")

    # ------------------------------------------------------------------ sink hooks

    def start(self, session: WatchSession) -> None:
        """Start the live display."""
        super().start(session)
        if self.use_live:
            self._live = Live(
                self.render(session.now),
                console=self.console,
                auto_refresh=False,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
                vertical_overflow="visible",
            )
            self._live.start()

    def master_change(self, event: MasterChange) -> None:
        """Add the change to the scrolling list."""
        line = Text(event.line(), style="bold" if event.cause in ("initial", "resumed") else "bold cyan")
        if event.new is None or event.cause == "split_brain":
            line.stylize("bold red")
        self.lines.append(line)

    def finding(self, event: FindingEvent) -> None:
        """Add an opening or closing finding to the scrolling list."""
        if event.state not in ("open", "closed"):
            return
        sev = event.finding.severity.label
        style = SEVERITY_STYLE.get(sev, "") if event.state == "open" else "dim"
        self.lines.append(Text(event.line(), style=style))

    def capture_gap(self, event: CaptureGapEvent) -> None:
        """Add the gap's opening or closing to the scrolling list."""
        self.lines.append(Text(event.line(), style="bold red" if event.state == "open" else "bold yellow"))

    def notice(self, now: float, text: str) -> None:
        """Add a note to the scrolling list."""
        self.lines.append(Text(f"{clock(now)}  {terminal_safe(text)}", style="dim"))

    def tick(self, now: float) -> None:
        """Redraw (at most every ``refresh_s``)."""
        if self._live is not None and now - self._last_draw >= self.refresh_s:
            self._last_draw = now
            try:
                self._live.update(self.render(now), refresh=True)
            except OSError as exc:
                self._lost(exc)

    def _lost(self, exc: OSError) -> None:
        """The terminal went away (hung up: EIO): stop drawing, and stop cleanly (files closed)."""
        live, self._live = self._live, None
        if live is not None:
            try:
                live.stop()
            except OSError:
                pass
        if self.session is not None:
            self.session.request_stop(f"terminal lost ({exc.strerror or exc})")

    def end(self) -> None:
        """Draw the last state and stop the live display."""
        if self._live is not None and self.session is not None:
            try:
                self._live.update(self.render(self.session.now), refresh=True)
                self._live.stop()
            except OSError as exc:
                self._lost(exc)
            self._live = None

    # ------------------------------------------------------------------ rendering

    def _header(self, session: WatchSession, now: float) -> Text:
        c = session.counts
        ifaces = ", ".join(terminal_safe(i.name or f"if{i.index}") for i in session.source.interfaces)
        st = session.source.stats()
        drops = sum(i.kernel_drops for i in st)
        down = [
            terminal_safe(i.name or "?")
            + (f" ({i.state.replace('_', ' ')} since {clock(i.gap_since)})" if i.gap_since is not None else "")
            for i in st
            if not i.up
        ]
        head = Text("vrrpscope watch ", style="bold")
        head.append(f"{ifaces}  {clock(now)} UTC")
        if down:
            head.append(f"  DOWN: {', '.join(down)}", style="bold red")
        head.append(f"\n{c.packets} frames (VRRP {c.vrrp}, ARP {c.arp}, ND {c.nd}, malformed {c.malformed})  ")
        head.append(f"kernel drops {drops}", style="bold red" if drops else "")
        gaps = sum(i.gaps for i in st)
        if gaps:
            blind = sum(i.blind_seconds(now) for i in st)
            head.append(f"  capture gaps {gaps} ({blind:.1f} s without capture)", style="bold yellow")
        open_n = session.tracker.open_count()
        head.append(f"  findings {len(session.engine.store)} ({open_n} open)", style="bold red" if open_n else "")
        return head

    def _table(self, rows: list[GroupRow], now: float) -> Table:
        table = Table(box=box.SIMPLE_HEAVY if self.console.is_terminal else box.ASCII, pad_edge=False, expand=False)
        for col in ("segment", "family", "VRID", "master", "prio", "int", "last advert / MDI", "routers", "takeovers"):
            table.add_column(col, no_wrap=True)
        for r in rows:
            style = _STATE_STYLE.get(r.state, "")
            if r.masters:
                master = Text(", ".join(r.masters), style="bold red" if r.state == "split_brain" else "bold")
            else:
                since = f" since {clock(r.silent_since)}" if r.silent_since else ""
                master = Text(f"none{since}", style="red")
            age = Text("-")
            if r.age is not None and r.mdi is not None:
                age = Text(f"{r.age:.1f}s / {r.mdi:.2f}s", style=style)
            routers = list(r.routers)
            shown = ", ".join(routers[:3]) + (f" +{len(routers) - 3}" if len(routers) > 3 else "")
            tk = Text(str(r.takeovers))
            if r.last_gap is not None and r.last_allowed is not None:
                _verdict, vstyle = takeover_verdict(
                    {"gap": r.last_gap, "allowed": r.last_allowed, "cause": r.last_cause}
                )
                tk.append(
                    f" (last {r.last_cause} {r.last_gap:.3f}s vs {r.last_allowed:.3f}s)",
                    style=vstyle if vstyle == "bold red" else "",
                )
            table.add_row(
                Text(terminal_safe(r.key.segment)),
                r.key.family,
                str(r.key.vrid),
                master,
                str(r.priority) if r.priority is not None else "-",
                f"{r.interval:g}s" if r.interval is not None else "-",
                age,
                Text(shown),
                tk,
            )
        return table

    def render(self, now: float) -> RenderableType:
        """The whole view at capture time ``now``."""
        session = self.session
        if session is None:
            return Text("vrrpscope watch: starting")
        rows = group_rows(session, now)
        parts: list[RenderableType] = [self._header(session, now)]
        if rows:
            parts.append(self._table(rows, now))
        else:
            parts.append(Text("no VRRP group seen yet", style="dim"))
        if self.lines:
            parts.append(Text("recent changes and findings:", style="bold"))
            for line in self.lines:
                one = line.copy()
                one.no_wrap = True
                one.overflow = "ellipsis"
                parts.append(one)
        return Group(*parts)
