"""``advert_interval_mismatch`` (warning): routers of one group advertise different intervals.

Compared per router: the interval of its latest advert (v2 ``Adver Int`` seconds, v3 ``Max Adver
Int`` centiseconds / 100). Two VRIDs with different intervals, or one VRID on two segments, are
different groups and never compared.

Why it matters: a VRRPv2 receiver MUST drop adverts with another interval (RFC 3768 §7.1; keepalived:
"advertisement interval mismatch mine=3 sec rcv'd=1 sec") — the backup then times out and becomes a
second master. VRRPv3 only logs it and adopts the master's interval (RFC 9568 §7.1), but the
takeover timing then depends on who is master (Master_Down_Interval = 3 × the master's interval +
skew), and a slower router can fall silent for good in a split brain (PROTOCOL.md "observed" 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vrrpscope.detectors.base import group_text
from vrrpscope.detectors.mismatch import GroupMismatchDetector
from vrrpscope.findings import Severity
from vrrpscope.reconstruct.events import AdvertSeen
from vrrpscope.reconstruct.state import GroupState
from vrrpscope.timing import master_down_interval


@dataclass(frozen=True)
class AdvertIntervalMismatchConfig:
    """Thresholds of the interval-mismatch detector."""

    #: Intervals closer than this (seconds) count as equal.
    tolerance_s: float = 0.005


class AdvertIntervalMismatch(GroupMismatchDetector):
    """Flags a group whose routers advertise different intervals."""

    kind = "advert_interval_mismatch"
    severity = Severity.WARNING

    def __init__(self, config: AdvertIntervalMismatchConfig | None = None) -> None:
        super().__init__()
        self.config = config or AdvertIntervalMismatchConfig()

    def value(self, event: AdvertSeen, group: GroupState) -> Any:
        step = max(self.config.tolerance_s, 1e-6)
        return round(event.advert.advert_int_s / step) * step

    def describe(self, group: GroupState, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        parts = []
        for ip in values:
            r = group.routers[ip]
            parts.append(f"{ip} every {r.advert_int:g} s (VRRPv{r.version}, priority {r.priority})")
        versions = {group.routers[ip].version for ip in values}
        msg = f"Routers of {group_text(group.key)} advertise different intervals: {'; '.join(parts)}."
        if 2 in versions:
            msg += (
                " VRRPv2 receivers drop adverts with another interval (keepalived: 'advertisement interval "
                "mismatch'), so a backup will time out and become a second master."
            )
        else:
            msg += (
                " VRRPv3 only logs this and backups adopt the master's interval, so the takeover time "
                "depends on who is master: Master_Down_Interval "
                + ", ".join(
                    f"{master_down_interval(3, 100, group.routers[ip].advert_int or 1.0):.3f} s with {ip} master"
                    for ip in values
                )
                + " (for a priority-100 backup)."
            )
        details = {"intervals": {ip: group.routers[ip].advert_int for ip in values}}
        return msg, details
