"""``preemption_flap`` (warning): mastership of a group changes repeatedly within a short window.

Counts takeovers (any cause: timeout, resign, preemption) per group in a sliding ``window_s``; at
``min_changes`` the group is flapping. One finding per episode, extended while changes keep coming
within the window. A failover plus a failback (two changes) is normal and stays below the default.
The message lists the changes and the priority changes seen meanwhile: a tracked script or
interface whose weight moves the master's priority up and down is the usual cause (keepalived issues
#2087, #2220, #617), or adverts that are intermittently lost.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, Episode, clock, close_episodes, group_text
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    Event,
    Takeover,
)
from vrrpscope.reconstruct.state import GroupKey, TakeoverRecord


@dataclass(frozen=True)
class PreemptionFlapConfig:
    """Thresholds of the flap detector."""

    #: Sliding window (seconds): changes within it count together.
    window_s: float = 60.0
    #: Mastership changes within the window that make a flap.
    min_changes: int = 4


#: Takeovers of a flapping episode kept for its message (the rest are counted: a group flapping for
#: days must not keep every takeover).
_SHOWN = 10

class PreemptionFlap(Detector):
    """Flags groups whose master changes too often."""

    #: Event types this detector subscribes to.
    events = (Takeover,)

    kind = "preemption_flap"
    severity = Severity.WARNING

    def __init__(self, config: PreemptionFlapConfig | None = None) -> None:
        super().__init__()
        self.config = config or PreemptionFlapConfig()
        self._recent: dict[GroupKey, deque[TakeoverRecord]] = {}
        self._eps: dict[GroupKey, Episode] = {}

    def on_event(self, event: Event) -> list[Finding]:
        if not isinstance(event, Takeover):
            return []
        rec = event.record
        key = event.group
        out: list[Finding] = []
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque()
        recent.append(rec)
        while recent and rec.at - recent[0].at > self.config.window_s:
            recent.popleft()
        ep = self._eps.get(key)
        if ep is not None and not ep.closed:
            if rec.at - ep.end <= self.config.window_s:
                ep.add(rec.at, rec.frame, rec.new)
                ep.data["changes"] += 1
                if len(ep.data["takeovers"]) < _SHOWN:  # the message shows the first ones only
                    ep.data["takeovers"].append(rec)
                return []
            ep.closed = True
            out.append(self._emit(key, ep))
        if len(recent) >= self.config.min_changes:
            ep = Episode(recent[0].at, recent[0].at)
            ep.data["takeovers"] = list(recent)[:_SHOWN]
            ep.data["changes"] = len(recent)
            for r in recent:
                ep.add(r.at, r.frame, r.old)
                ep.add(r.at, None, r.new)
            self._eps[key] = ep
            out.append(self._emit(key, ep))
        return out

    def on_tick(self, now: float) -> list[Finding]:
        # Live: an episode is over once no takeover came for the window (offline, the next one or
        # the end of the capture closes it, with the same result).
        return close_episodes(self._eps, self._emit, now - self.config.window_s)

    def on_end(self, now: float) -> list[Finding]:
        return close_episodes(self._eps, self._emit)

    def _emit(self, key: GroupKey, ep: Episode) -> Finding:
        tos: list[TakeoverRecord] = ep.data["takeovers"]
        changes: int = ep.data["changes"]
        steps = ", ".join(f"{clock(r.at)} {r.old}->{r.new} ({r.cause})" for r in tos[:_SHOWN])
        if changes > _SHOWN:
            steps += f", … (+{changes - _SHOWN})"
        g = self.group(key)
        prio = ""
        if g is not None:
            pcs = [pc for pc in g.priority_changes if ep.start - self.config.window_s <= pc.time <= ep.end]
            if pcs:
                prio = (
                    " Priority changes meanwhile: "
                    + ", ".join(f"{clock(pc.time)} {pc.router} {pc.old}->{pc.priority}" for pc in pcs[:10])
                    + " (a tracked script/interface weight?)."
                )
        msg = (
            f"Mastership of {group_text(key)} changed {changes} times in {ep.end - ep.start:.1f} "
            f"s: {steps}.{prio}"
            " Usually a tracked check flapping or adverts intermittently lost."
        )
        return self.finding(
            group=key,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=ep.routers,
            frames=ep.frames,
            frame_count=ep.frame_count,
            message=msg,
            details={"changes": changes},
        )
