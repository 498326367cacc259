"""Frame sources of the live loop, and the clock that goes with them.

The watch loop (:mod:`vrrpscope.live.session`) is written against :class:`FrameSource`: it asks the
source for frames with ``poll(timeout)`` and for the time with ``now()``. A live capture
(:class:`~vrrpscope.live.capture.LiveCapture`) waits in ``select`` and answers with the wall clock,
the clock the kernel stamps frames with. :class:`ReplaySource` plays a capture file through the very
same loop on a virtual clock: ``poll`` advances that clock to the next frame (or by the timeout when
none is due), so silence-based decisions (``no_master``) and the periodic ticks happen exactly as
they would live, either instantly (``speed=None``, for tests) or in compressed real time
(``speed=N`` sleeps ``1/N`` of each gap).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from vrrpscope.sources import CaptureReader, open_capture
from vrrpscope.sources.base import Frame, SourceProblem


class CaptureError(Exception):
    """Capture cannot start or go on: a one-line message for the user (exit status 3)."""


@dataclass(slots=True, init=False, unsafe_hash=True)
class CapturedFrame:
    """One frame from a source: ``interface`` indexes :attr:`FrameSource.interfaces`, ``time`` is
    the capture timestamp in epoch seconds and ``time_ns`` the same in nanoseconds (kept exactly
    for the pcapng writer), ``data`` the frame (VLAN tags restored), ``wirelen`` its length on the
    wire, ``outgoing`` true for frames the capturing host sent.

    Made for every captured frame, so it is cheap to build: a slotted dataclass with a plain
    ``__init__`` (about a quarter of the cost of a frozen one, which sets each field through
    ``object.__setattr__``). Equality and hashing are by value over all fields, as before; the
    record is not frozen by the interpreter but is treated as immutable: never assign to it.
    """

    interface: int
    time_ns: int
    data: bytes
    wirelen: int
    outgoing: bool
    time: float

    def __init__(
        self, interface: int, time_ns: int, data: bytes, wirelen: int, outgoing: bool = False, time: float = -1.0
    ) -> None:
        self.interface = interface
        self.time_ns = time_ns
        self.data = data
        self.wirelen = wirelen
        self.outgoing = outgoing
        self.time = time_ns / 1e9 if time < 0 else time


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    """A capture interface: ``name`` (``None`` when a replayed classic pcap has none), pcap
    ``linktype``, kernel ``ifindex`` (0 when replayed), ``filter`` expression, and its ``index``
    in the source's interface list."""

    name: str | None
    linktype: int
    ifindex: int = 0
    filter: str = ""
    index: int = 0


@dataclass(slots=True)
class InterfaceStats:
    """Counters of one capture interface: frames read, frames the kernel dropped (socket buffer
    full), receive errors, whether it is up, and the capture time of its last frame.

    Capture gaps (:class:`CaptureGap`): ``state`` is the link state (``up``, ``down``, ``no_carrier``,
    ``deleted``, ``failed``: re-created but unusable, ``last_error`` says why); ``gaps`` counts the
    gaps opened, ``gap_seconds`` sums the closed ones and ``gap_since`` is the start of the open one.
    """

    name: str | None
    packets: int = 0
    kernel_drops: int = 0
    errors: int = 0
    up: bool = True
    last_packet: float | None = None
    last_error: str = ""
    state: str = "up"
    gaps: int = 0
    gap_seconds: float = 0.0
    gap_since: float | None = None

    def blind_seconds(self, now: float) -> float:
        """Seconds without capture on this interface so far (closed gaps plus the open one up to ``now``)."""
        if self.gap_since is None:
            return self.gap_seconds
        return self.gap_seconds + max(0.0, now - self.gap_since)


#: Why a capture gap started (:attr:`CaptureGap.reason`).
GAP_REASONS = ("down", "no_carrier", "deleted", "failed")


@dataclass(frozen=True, slots=True)
class CaptureGap:
    """A period without capture on one interface: it was administratively ``down``, had no carrier
    (``no_carrier``), was ``deleted``, or was re-created in a form it cannot be captured on
    (``failed``). ``reason`` is the most telling state seen while it lasted (``deleted`` over
    ``failed`` over ``down`` over ``no_carrier``: a link set down loses its carrier first); the
    ``open`` event carries the state seen first.

    ``start``/``end`` are capture-clock epoch seconds (``end`` ``None`` while it lasts). What the
    segment carried meanwhile is unknown: no packet count is made up (``packets`` is ``null`` in the
    JSON). ``recreated``: the interface came back under the same name with a new kernel index (the
    socket was re-opened and the filter re-attached). ``resumed``: capture resumed (``False`` when
    the capture stopped during the gap: ``end`` is then the stop time).
    """

    interface: str | None
    index: int
    start: float
    end: float | None
    reason: str
    recreated: bool = False
    resumed: bool = False

    def duration(self, now: float) -> float:
        """Length of the gap in seconds (up to ``now`` while it lasts)."""
        end = self.end if self.end is not None else now
        return max(0.0, end - self.start)

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        """``{"interface", "start", "end", "duration", "reason", "recreated", "resumed", "packets"}``;
        ``duration`` runs up to ``now`` while the gap lasts (``null`` without ``now``)."""
        if self.end is not None:
            duration: float | None = self.duration(self.end)
        else:
            duration = self.duration(now) if now is not None else None
        return {
            "interface": self.interface,
            "start": self.start,
            "end": self.end,
            "duration": duration,
            "reason": self.reason,
            "recreated": self.recreated,
            "resumed": self.resumed,
            "packets": None,
        }


class FrameSource(Protocol):
    """What the watch loop needs from a source (live capture or replay).

    Optional: ``gap_updates() -> list[tuple[str, CaptureGap]]``, the capture gaps opened
    (``"open"``) or closed (``"closed"``) since the last call; the loop asks every turn when the
    source has it (:class:`~vrrpscope.live.capture.LiveCapture` does, replays do not).
    """

    #: True once no frame will ever come again (end of a replayed file).
    exhausted: bool

    @property
    def interfaces(self) -> list[InterfaceInfo]:
        """Known interfaces; a frame's ``interface`` indexes this list."""

    def open(self) -> None:
        """Start capturing (raises :class:`CaptureError`)."""

    def now(self) -> float:
        """The source's clock (epoch seconds, the clock frames are stamped with)."""

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """Wait at most ``timeout`` seconds; return the frames that arrived, in time order."""

    def stats(self) -> list[InterfaceStats]:
        """Per-interface counters."""

    def close(self) -> None:
        """Stop capturing (idempotent)."""


class ReplaySource:
    """Play a capture file through the live loop on a virtual clock.

    ``speed`` ``None`` replays instantly (the clock jumps), ``N`` sleeps ``gap / N`` in real time for
    each step (``sleep`` is injectable). ``tail`` keeps the clock running that many seconds past the
    last frame before the source reports itself exhausted, so silence after the end is seen by
    ticks as it would be live. Capture problems in the file are kept in :attr:`problems`.
    """

    def __init__(
        self,
        path: str,
        *,
        speed: float | None = None,
        tail: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.speed = speed
        self.tail = tail
        self._sleep = sleep
        self._reader: CaptureReader | None = None
        self._iter: Iterator[Frame | SourceProblem] | None = None
        self._next: Frame | None = None
        self._clock = 0.0
        self._end: float | None = None
        self._ifaces: dict[int, InterfaceInfo] = {}
        self._stats: dict[int, InterfaceStats] = {}
        self.problems: list[SourceProblem] = []
        self.exhausted = False

    @property
    def interfaces(self) -> list[InterfaceInfo]:
        """Interfaces met so far, by pcapng interface id (0 for classic pcap)."""
        return [self._ifaces[i] for i in sorted(self._ifaces)]

    def open(self) -> None:
        """Open the file and set the clock to its first frame."""
        reader = open_capture(self.path)
        self._reader = reader
        self._iter = iter(reader)
        self._advance()
        if self._next is not None:
            self._clock = self._next.time
        else:
            self._end = 0.0

    def _advance(self) -> None:
        assert self._iter is not None
        self._next = None
        for item in self._iter:
            if isinstance(item, SourceProblem):
                self.problems.append(item)
                continue
            self._next = item
            return

    def now(self) -> float:
        """The virtual clock."""
        return self._clock

    def _move(self, to: float) -> None:
        if to > self._clock:
            if self.speed:
                self._sleep((to - self._clock) / self.speed)
            self._clock = to

    def _frame(self, f: Frame) -> CapturedFrame:
        idx = f.interface
        if idx not in self._ifaces:
            self._ifaces[idx] = InterfaceInfo(name=f.interface_name, linktype=f.linktype, index=idx)
            self._stats[idx] = InterfaceStats(f.interface_name)
        st = self._stats[idx]
        st.packets += 1
        st.last_packet = f.time
        return CapturedFrame(idx, round(f.time * 1e9), f.data, f.wirelen, time=f.time)

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """Frames due within ``timeout`` of the virtual clock (the clock moves to them)."""
        horizon = self._clock + max(0.0, timeout)
        nxt = self._next
        if nxt is None:
            if self._end is None:
                self._end = self._clock + self.tail
            self._move(min(horizon, self._end))
            if self._clock >= self._end:
                self.exhausted = True
            return []
        if nxt.time > horizon:
            self._move(horizon)
            return []
        self._move(nxt.time)
        out: list[CapturedFrame] = []
        while self._next is not None and self._next.time <= self._clock:
            out.append(self._frame(self._next))
            self._advance()
        return out

    def stats(self) -> list[InterfaceStats]:
        """Per-interface counters (no kernel, no drops)."""
        return [self._stats[i] for i in sorted(self._stats)]

    def close(self) -> None:
        """Close the file."""
        if self._reader is not None:
            self._reader.close()
        self._reader = None
        self.exhausted = True
