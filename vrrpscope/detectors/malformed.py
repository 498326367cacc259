"""``malformed`` (warning): VRRP/ARP/ND packets that could not be decoded, and damaged captures.

Undecodable packets (dissector :class:`~dissectors.records.Malformed` records) are grouped per
segment, layer and reason — one finding citing the first frames and counting all — so a capture
full of one kind of damage does not produce thousands of findings. Each capture problem (truncated
record, bad block, unknown link type ... from the source readers) is one finding naming file and
frame. The rest of the capture is analysed either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, Episode, clock, close_episodes
from vrrpscope.findings import Finding, Severity
from vrrpscope.model import FrameRef
from vrrpscope.reconstruct.events import (
    Event,
    MalformedSeen,
    ProblemSeen,
)


@dataclass(frozen=True)
class MalformedConfig:
    """Options of the malformed detector."""

    #: Report capture-level problems (SourceProblem) as findings too.
    include_source_problems: bool = True


class MalformedDetector(Detector):
    """Reports undecodable packets and capture damage."""

    #: Event types this detector subscribes to.
    events = (MalformedSeen, ProblemSeen)

    kind = "malformed"
    severity = Severity.WARNING

    def __init__(self, config: MalformedConfig | None = None) -> None:
        super().__init__()
        self.config = config or MalformedConfig()
        self._eps: dict[tuple[str, str, str, str | None], Episode] = {}
        self._problems = 0

    def on_event(self, event: Event) -> list[Finding]:
        if isinstance(event, MalformedSeen):
            p = event.packet
            m = event.malformed
            family = p.ip.family if p.ip is not None else None
            key = (p.segment, m.layer, m.reason, family)
            ep = self._eps.get(key)
            new = ep is None
            if ep is None:
                ep = self._eps[key] = Episode(p.time, p.time)
                ep.data["detail"] = m.detail
                ep.data["first"] = p.ref
            ep.add(p.time, p.ref)
            return [self._emit(key, ep)] if new else []
        if isinstance(event, ProblemSeen) and self.config.include_source_problems:
            return [self._problem(event)]
        return []

    def on_end(self, now: float) -> list[Finding]:
        # The final versions; until now the findings were ongoing (no end).
        return close_episodes(self._eps, self._emit)

    def _emit(self, key: tuple[str, str, str, str | None], ep: Episode) -> Finding:
        segment, layer, reason, family = key
        msg = (
            f"{ep.frame_count} packet(s) on {segment} could not be decoded ({layer}: {reason}) between "
            f"{clock(ep.start)} and {clock(ep.end)}; first at {self.frame(ep.data['first'])}: "
            f"{ep.data['detail']}. "
            "They were left out of the analysis."
        )
        return self.finding(
            group=None,
            segment=segment,
            family=family,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=[],
            frames=ep.frames,
            frame_count=ep.frame_count,
            message=msg,
            subject=f"{layer}:{reason}",
            details={"layer": layer, "reason": reason, "count": ep.frame_count},
        )

    def _problem(self, event: ProblemSeen) -> Finding:
        pr = event.problem
        self._problems += 1
        index = next((i for i, f in self.recon.files.items() if f == pr.file), -1)
        frames = [FrameRef(index, pr.file, pr.frame)] if pr.frame is not None else []
        t = self.recon.last_time if self.recon.last_time is not None else 0.0
        msg = f"{pr.message()} ({pr.reason})" + (
            "; reading stopped there, the frames before it were analysed." if pr.fatal else "; reading went on."
        )
        return self.finding(
            group=None,
            start=t,
            end=t,
            routers=[],
            frames=frames,
            message=msg,
            subject=f"{pr.file}:{pr.frame}:{pr.offset}:{pr.reason}:{self._problems}",
            details={"file": pr.file, "reason": pr.reason, "fatal": pr.fatal, "offset": pr.offset},
        )
