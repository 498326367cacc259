"""``slow_takeover`` (warning): a takeover took longer than the protocol allows.

For each takeover the reconstructor measures ``gap`` = new master's first advert - old master's
last advert (or its priority-0 advert) and computes the allowance (:mod:`vrrpscope.timing`,
PROTOCOL.md §9.4/§9.7):

* ``timeout``: Master_Down_Interval = 3 × old master's interval + Skew_Time(new master's priority)
  (v2: skew ``(256 - p)/256`` s; v3: ``(256 - p) × interval / 256``);
* ``resign``: Skew_Time(new master's priority) alone after the priority-0 advert.

Flagged when ``gap > allowed + tolerance_s + tolerance_fraction × allowed``. The tolerance covers
capture-clock and scheduler jitter: keepalived matches the formulas to about 1 ms (SIGTERM resign
measured 0.611 s vs 0.609 s allowed; timeouts 3.6882 s vs 3.6875 s), FRR is up to 10 ms *early*.
A preemption is never "slow" (the new master decides when to preempt). A takeover after a silence
long enough for ``no_master`` is reported by both (``include_after_silence``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, clock, group_text
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    Event,
    Takeover,
)
from vrrpscope.timing import skew_time


@dataclass(frozen=True)
class SlowTakeoverConfig:
    """Tolerance of the slow-takeover check."""

    #: Absolute tolerance (seconds) for capture-clock and scheduler jitter.
    tolerance_s: float = 0.1
    #: Relative tolerance (fraction of the allowance).
    tolerance_fraction: float = 0.02
    #: Also judge takeovers that ended a silence already reported by ``no_master`` (both are true:
    #: the group had no master, and the takeover came late).
    include_after_silence: bool = True


class SlowTakeover(Detector):
    """Flags takeovers slower than Master_Down_Interval / Skew_Time plus tolerance."""

    #: Event types this detector subscribes to.
    events = (Takeover,)

    kind = "slow_takeover"
    severity = Severity.WARNING

    def __init__(self, config: SlowTakeoverConfig | None = None) -> None:
        super().__init__()
        self.config = config or SlowTakeoverConfig()

    def limit(self, allowed: float) -> float:
        """The largest gap still accepted for an allowance."""
        return allowed + self.config.tolerance_s + self.config.tolerance_fraction * allowed

    def on_event(self, event: Event) -> list[Finding]:
        if not isinstance(event, Takeover):
            return []
        rec = event.record
        if rec.cause not in ("timeout", "resign"):
            return []
        if rec.after_silence and not self.config.include_after_silence:
            return []
        if rec.gap <= self.limit(rec.allowed):
            return []
        skew = skew_time(rec.version, rec.priority, rec.old_interval)
        if rec.cause == "resign":
            formula = (
                f"Skew_Time {skew:.3f} s for priority {rec.priority} after the priority-0 advert "
                f"(VRRPv{rec.version}, RFC 9568 §6.4.2)"
            )
            after = f"{rec.old}'s priority-0 advert"
        else:
            formula = (
                f"Master_Down_Interval = 3 × {rec.old_interval:g} s + Skew_Time {skew:.3f} s for priority "
                f"{rec.priority} (VRRPv{rec.version})"
            )
            after = f"{rec.old}'s last advert"
        late = rec.gap - rec.allowed
        msg = (
            f"{rec.new} became master of {group_text(rec.group)} {rec.gap:.3f} s after {after} "
            f"({self.frame(rec.old_frame)} at {clock(rec.old_last)} -> {self.frame(rec.frame)} at "
            f"{clock(rec.at)}); "
            f"the protocol allows {rec.allowed:.3f} s = {formula}: {late:.3f} s late. Possible causes: "
            "keepalived down_timer_adverts above 3 or preempt_delay, a backup that was busy or frozen "
            "('A thread timer expired'), or the old master's last adverts lost before it stopped."
        )
        return [
            self.finding(
                group=rec.group,
                start=rec.old_last,
                end=rec.at,
                routers=[rec.old, rec.new],
                frames=[rec.old_frame, rec.frame],
                message=msg,
                subject=rec.new,
                details={"gap": rec.gap, "allowed": rec.allowed, "cause": rec.cause, "late": late},
            )
        ]
