"""What every detector shares: the lifecycle hooks, finding construction and message helpers.

A detector is a small class with a ``kind`` (the DESIGN.md finding name), a frozen ``Config`` of
documented thresholds, and three hooks that return findings:

* ``on_event(event)`` for each reconstructor event (:mod:`vrrpscope.reconstruct.events`),
* ``on_tick(now)`` when capture time passes without packets (live mode),
* ``on_end(now)`` once at the end of the capture.

Detectors read the reconstructor's state (``self.recon``) and never mutate it. An ongoing
condition is kept as an :class:`Episode` and re-emitted with the same identity and a later end;
the :class:`~vrrpscope.findings.FindingStore` keeps the latest version.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vrrpscope.findings import FRAME_CAP, Finding, Severity, cap_frames
from vrrpscope.model import FrameRef
from vrrpscope.reconstruct.events import Event
from vrrpscope.reconstruct.reconstructor import Reconstructor
from vrrpscope.reconstruct.state import GroupKey, GroupState


def clock(t: float | None) -> str:
    """UTC time of day of a capture timestamp with milliseconds: ``14:03:07.213``."""
    if t is None:
        return "-"
    whole = int(t)
    ms = round((t - whole) * 1000)
    if ms >= 1000:
        whole, ms = whole + 1, 0
    return _time.strftime("%H:%M:%S", _time.gmtime(whole)) + f".{ms:03d}"


def seconds(x: float) -> str:
    """A duration for messages: ``3.609 s``."""
    return f"{x:.3f} s"


def frame_text(ref: FrameRef | None, with_file: bool = False) -> str:
    """``frame 12`` (``frame 12 of a.pcap`` when several files are read)."""
    if ref is None:
        return "no frame"
    return f"frame {ref.frame} of {ref.file}" if with_file else f"frame {ref.frame}"


def group_text(key: GroupKey) -> str:
    """``VRID 51 (ipv4) on eth0``."""
    return f"VRID {key.vrid} ({key.family}) on {key.segment}"


@dataclass(slots=True, eq=False)
class Episode:
    """An ongoing condition a detector reports as one finding: first/last time, cited frames."""

    start: float
    end: float
    frames: list[FrameRef] = field(default_factory=list)
    frame_count: int = 0
    routers: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    closed: bool = False

    def add(self, t: float, ref: FrameRef | None = None, router: str | None = None) -> None:
        """Extend to ``t``; cite ``ref`` (up to the frame cap) and note ``router``."""
        if t > self.end:
            self.end = t
        if ref is not None:
            self.frame_count += 1
            if len(self.frames) < FRAME_CAP and ref not in self.frames:
                self.frames.append(ref)
        if router is not None and router not in self.routers:
            self.routers.append(router)


def close_episodes(
    episodes: dict[Any, Episode], emit: Callable[[Any, Episode], Finding], quiet_since: float | None = None
) -> list[Finding]:
    """Close the open episodes (only those whose last event came before ``quiet_since``, if given)
    and return their final versions from ``emit(key, episode)``."""
    out = []
    for key, ep in episodes.items():
        if not ep.closed and (quiet_since is None or ep.end < quiet_since):
            ep.closed = True
            out.append(emit(key, ep))
    return out


class Detector:
    """Base class of the detectors: no-op hooks plus finding helpers."""

    #: DESIGN.md finding kind.
    kind: ClassVar[str] = ""
    #: Default severity of this kind's findings.
    severity: ClassVar[Severity] = Severity.WARNING
    #: Event types passed to :meth:`on_event` (the engine dispatches on them; empty: all events).
    events: ClassVar[tuple[type, ...]] = ()

    def __init__(self) -> None:
        self._recon: Reconstructor | None = None

    @property
    def recon(self) -> Reconstructor:
        """The reconstructor whose state this detector reads (read-only)."""
        if self._recon is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a reconstructor")
        return self._recon

    def attach(self, recon: Reconstructor) -> None:
        """Bind to the reconstructor whose events and state this detector will see."""
        self._recon = recon

    def on_event(self, event: Event) -> list[Finding]:
        """React to one reconstructor event."""
        return []

    def on_tick(self, now: float) -> list[Finding]:
        """Capture time reached ``now`` without packets (live mode)."""
        return []

    def on_end(self, now: float) -> list[Finding]:
        """The capture ended at ``now``: close open conditions."""
        return []

    # ----------------------------------------------------------------- helpers

    @property
    def several_files(self) -> bool:
        """True when frames must name their file (several inputs)."""
        return len(self.recon.files) > 1

    def frame(self, ref: FrameRef | None) -> str:
        """Message text citing one frame."""
        return frame_text(ref, self.several_files)

    def group(self, key: GroupKey) -> GroupState | None:
        """The state of group ``key``."""
        return self.recon.groups.get(key)

    def mac_label(self, segment: str, mac: str) -> str:
        """``02:..:0c (192.0.2.12)`` naming the routers whose adverts came from ``mac``."""
        routers = sorted({ip for _g, ip in self.recon.routers_for_mac(segment, mac)})
        return f"{mac} ({', '.join(routers)})" if routers else mac

    def finding(
        self,
        *,
        group: GroupKey | None,
        start: float,
        end: float | None,
        routers: Iterable[str],
        frames: Iterable[FrameRef],
        message: str,
        severity: Severity | None = None,
        frame_count: int | None = None,
        subject: str = "",
        details: dict[str, Any] | None = None,
        segment: str | None = None,
        family: str | None = None,
    ) -> Finding:
        """Build a finding of this detector's kind (group fields from ``group`` when given)."""
        cited = cap_frames(sorted(frames, key=lambda f: (f.file_index, f.frame)))
        return Finding(
            kind=self.kind,
            severity=severity if severity is not None else self.severity,
            segment=group.segment if group is not None else segment,
            family=group.family if group is not None else family,
            vrid=group.vrid if group is not None else None,
            start=start,
            end=end,
            routers=tuple(dict.fromkeys(routers)),
            frames=cited,
            message=message,
            frame_count=frame_count if frame_count is not None else len(cited),
            subject=subject,
            details=details or {},
        )
