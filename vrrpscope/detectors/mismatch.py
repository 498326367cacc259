"""Shared machinery of the "routers of one group disagree" detectors.

Each router's latest value of some property (authentication, interval, VIP set, version) is kept
per group. While two or more distinct values are present the group has a mismatch: one finding
that starts with the advert that first showed the second value and ends with the last advert seen
while the mismatch lasted. The finding is re-emitted when the set of values changes and at the end.
"""

from __future__ import annotations

from typing import Any

from vrrpscope.detectors.base import Detector, Episode
from vrrpscope.findings import Finding
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
)
from vrrpscope.reconstruct.state import GroupKey, GroupState

_MISSING = object()


class GroupMismatchDetector(Detector):
    """Base for detectors that flag routers of one group advertising different values."""

    #: Event types this detector subscribes to.
    events = (AdvertSeen,)

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[GroupKey, dict[str, Any]] = {}
        self._open: dict[GroupKey, Episode] = {}
        self._shown: dict[GroupKey, frozenset[Any]] = {}

    def value(self, event: AdvertSeen, group: GroupState) -> Any:
        """The property of this advert to compare (None: ignore the advert)."""
        raise NotImplementedError

    def describe(self, group: GroupState, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The message and details for a mismatch among ``values`` (router IP -> value)."""
        raise NotImplementedError

    def is_mismatch(self, values: dict[str, Any]) -> bool:
        """Whether these per-router values disagree (default: two or more distinct values)."""
        return len(set(values.values())) > 1

    def on_event(self, event: Event) -> list[Finding]:
        if not isinstance(event, AdvertSeen):
            return []
        g = self.group(event.group)
        if g is None:
            return []
        v = self.value(event, g)
        if v is None:
            return []
        values = self._values.setdefault(event.group, {})
        ep = self._open.get(event.group)
        if values.get(event.router, _MISSING) == v:
            # Fast path: nothing changed; an open mismatch just goes on.
            if ep is not None and not ep.closed:
                ep.add(event.time, event.frame)
            return []
        values[event.router] = v
        if not self.is_mismatch(values):
            if ep is not None:
                ep.closed = True
                del self._open[event.group]
                self._shown.pop(event.group, None)
                # The routers agree again: the final version, ending at the last advert that
                # still disagreed (ep.data keeps the disagreeing values).
                return [self._finding(g, ep)]
            return []
        if ep is None or ep.closed:
            ep = Episode(event.time, event.time)
            self._open[event.group] = ep
        ep.add(event.time, event.frame, event.router)
        for r in values:
            if r not in ep.routers:
                ep.routers.append(r)
        snapshot = frozenset(values.items())
        if self._shown.get(event.group) == snapshot:
            return []
        self._shown[event.group] = snapshot
        ep.data["values"] = dict(values)
        return [self._finding(g, ep)]

    def on_end(self, now: float) -> list[Finding]:
        out = []
        for key, ep in self._open.items():
            g = self.group(key)
            if g is not None:
                ep.closed = True  # the final version; until now the finding was ongoing (no end)
                ep.data["values"] = dict(self._values.get(key, {}))
                out.append(self._finding(g, ep))
        return out

    def _finding(self, g: GroupState, ep: Episode) -> Finding:
        values: dict[str, Any] = ep.data["values"]
        message, details = self.describe(g, values)
        severity = details.pop("severity", None)
        return self.finding(
            group=g.key,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=ep.routers,
            frames=self._cite(g, ep),
            frame_count=ep.frame_count,
            message=message,
            details=details,
            severity=severity,
        )

    def _cite(self, g: GroupState, ep: Episode) -> list[Any]:
        """First advert of each router involved, then the episode's frames."""
        firsts = [g.routers[r].first_frame for r in ep.routers if r in g.routers]
        return firsts + ep.frames
