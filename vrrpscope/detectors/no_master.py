"""``no_master`` (critical): a group went silent — no advert for longer than Master_Down_Interval
and no takeover.

The reconstructor declares a group silent when nobody is advertising as master and no advert came
for Master_Down_Interval with priority 1 (3 × interval + Skew_Time(1), the longest any Backup waits
before taking over) plus tolerance. This detector then reports the silence when

* it lasts to the end of the capture (nobody took over), or
* it ends with the *same* router advertising again (no takeover: the master was back, e.g. after a
  freeze, and nobody replaced it meanwhile), or
* it lasts longer than ``outage_factor`` × that threshold — live, as soon as that is exceeded; a
  takeover after such a long silence is an outage, not merely late.

A takeover that comes sooner is a takeover, judged by ``slow_takeover`` (a frozen backup taking
over after 11 s is a slow takeover, not "no master"). The finding runs from the last advert (or
priority-0 advert) to the first advert after the silence, or to the end of the capture; the capture
end of a file that saw the group counts, not other files'.
"""

from __future__ import annotations

from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, Episode, clock, group_text, seconds
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
    GroupResumed,
    GroupSilent,
    Takeover,
)
from vrrpscope.reconstruct.state import GroupKey
from vrrpscope.timing import master_down_interval


@dataclass(frozen=True)
class NoMasterConfig:
    """Options of the no-master detector."""

    #: A silence ended by a takeover is reported only beyond this many times the silence threshold
    #: (Master_Down_Interval with priority 1 plus tolerance); shorter ones are slow takeovers.
    outage_factor: float = 5.0


class NoMaster(Detector):
    """Reports periods in which a group had no master."""

    #: Event types this detector subscribes to.
    events = (AdvertSeen, GroupSilent, GroupResumed, Takeover)

    kind = "no_master"
    severity = Severity.CRITICAL

    def __init__(self, config: NoMasterConfig | None = None) -> None:
        super().__init__()
        self.config = config or NoMasterConfig()
        self._open: dict[GroupKey, Episode] = {}
        self._last: dict[GroupKey, Episode] = {}

    def on_event(self, event: Event) -> list[Finding]:
        out: list[Finding] = []
        if self._open and self.recon.last_time is not None:
            out.extend(self._overdue(self.recon.last_time))
        if isinstance(event, GroupSilent):
            ep = Episode(event.since, event.time)
            if event.frame is not None:
                ep.add(event.since, event.frame)
            if event.last_master:
                ep.routers.append(event.last_master)
            ep.data.update(threshold=event.threshold, last_master=event.last_master, last_frame=event.frame)
            g = self.group(event.group)
            if g is not None and g.previous is not None:
                ep.data["last_reason"] = g.previous.end_reason
            self._open[event.group] = ep
            out.extend(self._overdue(event.time))
        elif isinstance(event, GroupResumed):
            if event.group not in self._open:
                return out
            ep = self._open.pop(event.group)
            ep.end = event.time
            ep.add(event.time, event.frame, event.router)
            ep.closed = True
            ep.data["resumed_by"] = event.router
            self._last[event.group] = ep
            same = event.router == ep.data.get("last_master")
            if same or ep.data.get("reported") or ep.end - ep.start > self._limit(ep):
                out.extend(self._emit(event.group, ep))
        elif isinstance(event, Takeover) and event.record.after_silence:
            last = self._last.get(event.group)
            if (
                last is not None
                and last.closed
                and abs(last.end - event.record.at) < 1e-6
                and last.data.get("reported")
            ):
                last.data["takeover"] = event.record
                out.extend(self._emit(event.group, last))
        return out

    def _limit(self, ep: Episode) -> float:
        return float(ep.data["threshold"]) * self.config.outage_factor

    def _overdue(self, now: float) -> list[Finding]:
        out: list[Finding] = []
        for key, ep in self._open.items():
            if not ep.data.get("reported") and now - ep.start > self._limit(ep):
                ep.end = now
                out.extend(self._emit(key, ep))
        return out

    def on_tick(self, now: float) -> list[Finding]:
        return self._overdue(now)

    def on_end(self, now: float) -> list[Finding]:
        out = []
        for key, ep in list(self._open.items()):
            ep.end = max(ep.end, now)
            ep.closed = True
            ep.data["capture_end"] = True
            out.extend(self._emit(key, ep))
        self._open.clear()
        return out

    def _emit(self, key: GroupKey, ep: Episode) -> list[Finding]:
        ep.data["reported"] = True
        dur = ep.end - ep.start
        last = ep.data.get("last_master")
        reason = ep.data.get("last_reason")
        how = {"resign": "resigned with priority 0", "timeout": "stopped advertising"}.get(reason or "", "stopped")
        msg = f"{group_text(key)} had no master: "
        if last:
            msg += f"{last} {how} at {clock(ep.start)} ({self.frame(ep.data.get('last_frame'))})"
        else:
            msg += f"the last advert was at {clock(ep.start)}"
        msg += f" and no router advertised for {seconds(dur)}"
        if ep.data.get("capture_end"):
            msg += " until the end of the capture"
        elif ep.closed and ep.data.get("resumed_by") == last:
            msg += f", until {last} itself advertised again at {clock(ep.end)} (nobody took over)"
        elif ep.closed:
            msg += f", until {ep.data.get('resumed_by')} advertised at {clock(ep.end)}"
        else:
            msg += " so far"
        g = self.group(key)
        mdi = master_down_interval(g.last_version, 1, g.last_interval) if g is not None else 0.0
        msg += (
            f" — beyond any Master_Down_Interval (at most {mdi:.3f} s, for a priority-1 backup): "
            "no backup took over, so the VIPs were unreachable (unless a router kept them without "
            "advertising)."
        )
        rec = ep.data.get("takeover")
        if rec is not None:
            msg += f" The takeover gap was {rec.gap:.3f} s against {rec.allowed:.3f} s allowed."
        return [
            self.finding(
                group=key,
                start=ep.start,
                end=ep.end if ep.closed else None,
                routers=ep.routers,
                frames=ep.frames,
                frame_count=ep.frame_count,
                message=msg,
                details={"duration": dur, "threshold": ep.data["threshold"]},
            )
        ]
