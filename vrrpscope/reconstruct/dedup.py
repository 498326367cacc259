"""Counting an observation once when several vantage points (input files) saw it.

Two captures of one segment (say, on both keepalived nodes) contain the same advert and GARP. An
observation is a duplicate when another file already showed a packet of the same segment with
identical content (source MAC, IP source/destination/TTL and the whole decoded message, which
includes checksum, addresses and authentication data) within a short window (50 ms by default).
Packets from the *same* file are never duplicates: a master that answers a lower-priority advert
sends a second, byte-identical advert a few milliseconds later, and a GARP burst is five identical
frames. Each remembered observation can absorb at most one copy per other file.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from vrrpscope.model import FrameRef, Packet


class _Seen:
    __slots__ = ("content", "ref", "time", "vantage")

    def __init__(self, time: float, content: Any, ref: FrameRef, file_index: int) -> None:
        self.time = time
        self.content = content
        self.ref = ref
        self.vantage = {file_index}


class VantageDedup:
    """Remembers recent observations per segment for ``window_s`` seconds."""

    def __init__(self, window_s: float = 0.05) -> None:
        self.window_s = window_s
        self._recent: dict[str, deque[_Seen]] = {}
        self._files: set[int] = set()
        #: Number of packets recognised as copies of an observation from another vantage point.
        self.duplicates = 0
        #: Prune segments gone quiet when this many are remembered (a flood over many VLANs).
        self._prune_at = 64

    def seen(self, packet: Packet) -> FrameRef | None:
        """Register ``packet``; return the reference of the original when it is a duplicate."""
        self._files.add(packet.file_index)
        t = packet.time
        horizon = t - self.window_s
        recent = self._recent.get(packet.segment)
        if recent is None:
            if len(self._recent) >= self._prune_at:
                self._prune(horizon)
            recent = self._recent[packet.segment] = deque()
        while recent and recent[0].time < horizon:
            recent.popleft()
        ip = packet.ip
        content = (
            packet.link.src_mac,
            ip.src if ip else None,
            ip.dst if ip else None,
            ip.ttl if ip else None,
            packet.message,
        )
        if len(self._files) > 1:
            fi = packet.file_index
            for entry in recent:
                if fi in entry.vantage or abs(entry.time - t) > self.window_s:
                    continue
                if entry.content == content:
                    entry.vantage.add(fi)
                    self.duplicates += 1
                    return entry.ref
        recent.append(_Seen(t, content, packet.ref, packet.file_index))
        return None

    def _prune(self, horizon: float) -> None:
        """Forget segments with nothing newer than ``horizon`` (amortised: the threshold doubles)."""
        for seg in [k for k, d in self._recent.items() if not d or d[-1].time < horizon]:
            del self._recent[seg]
        self._prune_at = max(64, 2 * len(self._recent))
