"""Findings: what the detectors conclude, their severity, and the exit status they lead to.

A :class:`Finding` carries a dedup identity (``kind, segment, family, vrid, start`` plus a
``subject`` where one group can hold several independent conditions of one kind, e.g. the IP of an
ARP conflict or the router of a TTL violation). An ongoing condition is *one* finding: a detector
re-emits it with the same identity and a later ``end`` as the condition goes on, and consumers
(:class:`FindingStore`, the live ``watch`` view) replace the earlier version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from vrrpscope.model import FrameRef

#: How many frames a finding cites at most; ``frame_count`` keeps the full number.
FRAME_CAP = 20


class Severity(IntEnum):
    """Severity of a finding, ordered: ``INFO < WARNING < CRITICAL``."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        """The JSON name: ``info``, ``warning`` or ``critical``."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """``"warning"`` -> :attr:`WARNING` (case-insensitive); a :class:`Severity` is returned as is."""
        if isinstance(value, Severity):
            return value
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}; choose info, warning or critical") from None


class ExitStatus(IntEnum):
    """Process exit codes (DESIGN.md): 0 fine, 1 warnings with ``--fail-on warning``, 2 critical
    findings with ``--fail-on warning|critical``, 3 bad usage or unreadable input."""

    OK = 0
    WARNING_FINDINGS = 1
    CRITICAL_FINDINGS = 2
    BAD_INPUT = 3


@dataclass(frozen=True)
class Finding:
    """One conclusion of a detector, with the numbers that prove it and the frames to open.

    ``segment``/``family``/``vrid`` name the group (``vrid`` is ``None`` for findings about an IP
    that belongs to no group, ``segment`` ``None`` for capture-level problems). ``start``/``end``
    are capture-clock epoch seconds; ``end`` is ``None`` while a live condition is still open.
    ``routers`` are router IPs involved. ``frames`` are the first :data:`FRAME_CAP` cited frames,
    ``frame_count`` how many frames the finding concerns in total. ``subject`` disambiguates
    several findings of one kind in one group (an IP, a router). ``details`` holds structured
    numbers for machine consumers (e.g. ``gap``, ``allowed``).
    """

    kind: str
    severity: Severity
    segment: str | None
    family: str | None
    vrid: int | None
    start: float
    end: float | None
    routers: tuple[str, ...]
    frames: tuple[FrameRef, ...]
    message: str
    frame_count: int = 0
    subject: str = ""
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def identity(self) -> tuple[str, str | None, str | None, int | None, float, str]:
        """Dedup identity: ``(kind, segment, family, vrid, start, subject)``."""
        return (self.kind, self.segment, self.family, self.vrid, self.start, self.subject)


def cap_frames(frames: Iterable[FrameRef], cap: int = FRAME_CAP) -> tuple[FrameRef, ...]:
    """The first ``cap`` frames, duplicates removed, in the order given."""
    out: list[FrameRef] = []
    seen: set[FrameRef] = set()
    for f in frames:
        if f in seen:
            continue
        seen.add(f)
        out.append(f)
        if len(out) >= cap:
            break
    return tuple(out)


class FindingStore:
    """Keeps the latest version of every finding by identity, in first-seen order."""

    def __init__(self) -> None:
        self._by_id: dict[tuple[Any, ...], Finding] = {}
        #: Findings dropped by :meth:`prune` (a long ``watch`` keeps a retention window).
        self.pruned = 0

    def prune(self, before: float) -> int:
        """Forget the findings that ended before ``before`` (open ones are kept); return how many."""
        old = [k for k, f in self._by_id.items() if f.end is not None and f.end < before]
        for k in old:
            del self._by_id[k]
        self.pruned += len(old)
        return len(old)

    def add(self, finding: Finding) -> bool:
        """Store ``finding``; return True when it is new or changed."""
        key = finding.identity
        old = self._by_id.get(key)
        if old is not None and old == finding and old.details == finding.details:
            return False
        self._by_id[key] = finding
        return True

    def extend(self, findings: Iterable[Finding]) -> list[Finding]:
        """Store several; return those that were new or changed."""
        return [f for f in findings if self.add(f)]

    def all(self) -> list[Finding]:
        """Every finding, sorted by start time, then kind and group."""
        return sorted(
            self._by_id.values(),
            key=lambda f: (f.start, f.kind, f.segment or "", f.family or "", f.vrid or 0, f.subject),
        )

    def __len__(self) -> int:
        return len(self._by_id)


def exit_status_for(findings: Sequence[Finding], fail_on: str | Severity | None) -> ExitStatus:
    """Exit status for ``findings`` under ``--fail-on`` (mirrors httpie's http_status_to_exit_status).

    ``None``: always :attr:`ExitStatus.OK`. ``warning``: 2 if any critical finding, else 1 if any
    warning, else 0. ``critical``: 2 if any critical finding, else 0. ``info`` counts as
    ``warning`` for the exit code (info findings never fail a run). Unreadable input (3) is decided
    by the caller, which knows whether anything could be read.
    """
    return exit_status_for_severities((f.severity for f in findings), fail_on)


def exit_status_for_severities(severities: Iterable[Severity], fail_on: str | Severity | None) -> ExitStatus:
    """:func:`exit_status_for` from the findings' severities alone (e.g. read back from JSON)."""
    if fail_on is None:
        return ExitStatus.OK
    threshold = Severity.parse(fail_on)
    if threshold < Severity.WARNING:
        threshold = Severity.WARNING
    worst = max(severities, default=None)
    if worst is None or worst < threshold:
        return ExitStatus.OK
    if worst >= Severity.CRITICAL:
        return ExitStatus.CRITICAL_FINDINGS
    return ExitStatus.WARNING_FINDINGS
