"""What every format walker shares: the file name, the stats, the prefilter, problem making.

Also the limits both formats apply, so pcap and pcapng treat absurd lengths alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vrrpscope.sources.base import CaptureStats, SourceProblem

#: ``prefilter(linktype, data) -> keep?``; frames it rejects are counted but never built.
Prefilter = Callable[[int, bytes], bool]

#: A bound ``struct.Struct.unpack_from``.
Unpack = Callable[[bytes, int], tuple[Any, ...]]

#: Largest captured length accepted for one frame (libpcap's and Wireshark's 256 KiB maximum).
MAX_RECORD = 262_144

#: Largest pcapng block accepted (Wireshark's limit is 16 MiB plus a little); bigger is damage.
MAX_BLOCK = 16 * 1024 * 1024

#: How far past a damaged record the walkers look for the next valid one before giving up.
RESYNC_LIMIT = 16 * 1024 * 1024

INF = float("inf")


class ReadContext:
    """Per-capture state handed to a format walker."""

    __slots__ = ("file", "prefilter", "sections", "stats")

    def __init__(self, file: str, stats: CaptureStats, prefilter: Prefilter | None) -> None:
        self.file = file
        self.stats = stats
        self.prefilter = prefilter
        #: pcapng section header blocks walked so far (a split part checks it met only its own).
        self.sections = 0

    def problem(self, frame: int | None, offset: int, reason: str, detail: str, fatal: bool = False) -> SourceProblem:
        """Make a :class:`SourceProblem` for this file and count it in the stats."""
        self.stats.problems += 1
        return SourceProblem(self.file, frame, offset, reason, detail, fatal)

    def sync(self, frames: int, nbytes: int, tmin: float, tmax: float) -> None:
        """Copy a walker's local counters into the stats (called before every yield)."""
        st = self.stats
        st.frames = frames
        st.bytes = nbytes
        if tmin != INF:
            st.first_time = tmin
            st.last_time = tmax
