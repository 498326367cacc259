"""``priority_zero_resign`` (info): a master resigned with a priority-0 advert.

RFC 3768/9568 §5.2.4: priority 0 means the current master stopped participating; Backups then
take over after Skew_Time only (RFC 9568 §6.4.2). keepalived sends exactly one on a clean stop
(SIGTERM, and SIGKILL of the parent, whose VRRP child then resigns) and on MASTER -> FAULT
(tracked script/interface with weight 0). Informational: it explains a takeover; the takeover's
timing against Skew_Time is judged by ``slow_takeover``. The finding names who took over and when,
once that is seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, clock, group_text
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    Event,
    Resigned,
    Takeover,
)
from vrrpscope.reconstruct.state import GroupKey


@dataclass(frozen=True)
class PriorityZeroResignConfig:
    """Options of the priority-0 detector."""

    #: Also report priority-0 adverts of routers that were not master (unusual, e.g. a FAULT backup).
    include_non_masters: bool = False


class PriorityZeroResign(Detector):
    """Reports masters resigning with priority 0, with the takeover that followed."""

    #: Event types this detector subscribes to.
    events = (Resigned, Takeover)

    kind = "priority_zero_resign"
    severity = Severity.INFO

    def __init__(self, config: PriorityZeroResignConfig | None = None) -> None:
        super().__init__()
        self.config = config or PriorityZeroResignConfig()
        self._last: dict[GroupKey, Resigned] = {}

    def on_event(self, event: Event) -> list[Finding]:
        if isinstance(event, Resigned):
            if not event.was_master and not self.config.include_non_masters:
                return []
            self._last[event.group] = event
            return [self._finding(event, None)]
        if isinstance(event, Takeover) and event.record.cause == "resign":
            res = self._last.get(event.group)
            if res is not None and res.router == event.record.old:
                return [self._finding(res, event)]
        return []

    def _finding(self, res: Resigned, takeover: Takeover | None) -> Finding:
        since = f" (master since {clock(res.master_since)})" if res.master_since is not None else ""
        role = "master" if res.was_master else "non-master router"
        msg = (
            f"{role.capitalize()} {res.router}{since} of {group_text(res.group)} resigned with a "
            "priority-0 advert "
            f"at {clock(res.time)} ({self.frame(res.frame)}): a clean keepalived stop or a MASTER -> FAULT "
            "transition."
        )
        routers = [res.router]
        frames = [res.frame]
        end = res.time
        details: dict[str, object] = {}
        if takeover is not None:
            rec = takeover.record
            msg += (
                f" {rec.new} took over {rec.gap:.3f} s later ({self.frame(rec.frame)}); Skew_Time "
                "for its priority "
                f"{rec.priority} allows {rec.allowed:.3f} s."
            )
            routers.append(rec.new)
            frames.append(rec.frame)
            end = rec.at
            details = {"takeover_gap": rec.gap, "allowed": rec.allowed, "new_master": rec.new}
        return self.finding(
            group=res.group,
            start=res.time,
            end=end,
            routers=routers,
            frames=frames,
            message=msg,
            subject=res.router,
            details=details,
        )
