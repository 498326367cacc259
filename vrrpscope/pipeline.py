"""The front of the pipeline: capture sources -> frames -> dissectors -> :class:`Packet` records.

One function serves every mode: :func:`iter_packets` reads one or several captures (each file is a
vantage point), rejects uninteresting frames with :func:`dissectors.packet.is_candidate` before any
object is built, dissects the rest, names the segment, and yields :class:`Packet` records in capture
time order (several files are merged by time). Damage met on the way is yielded as
:class:`~vrrpscope.sources.base.SourceProblem` records, never raised, and everything is counted in
an :class:`InputCounts`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dissectors.packet import dissect, is_candidate
from dissectors.records import Dissected, LinkInfo
from vrrpscope.model import Packet
from vrrpscope.sources import open_capture
from vrrpscope.sources.base import CaptureStats, Frame, SourceProblem
from vrrpscope.sources.reader import CaptureReader

ENGINES = ("native", "tshark")


def segment_name(interface: int, interface_name: str | None, link: LinkInfo) -> str:
    """Name the segment a frame was captured on: interface plus VLAN tags.

    The interface is the pcapng ``if_name`` when known, else ``ifindex<N>`` for Linux SLL2 captures
    (``tcpdump -i any``), else ``if<id>`` (the pcapng interface id; ``if0`` for classic pcap).
    VLAN tags follow outermost first: ``eth0/vlan30``, ``if0/vlan100.30`` (QinQ).
    """
    if interface_name:
        base = interface_name
    elif link.ifindex is not None:
        base = f"ifindex{link.ifindex}"
    else:
        base = f"if{interface}"
    if link.vlans:
        return base + "/vlan" + ".".join(str(v) for v in link.vlans)
    return base


def split_segment(segment: str) -> tuple[str, str]:
    """The inverse of :func:`segment_name`: ``(interface, VLAN suffix)``, the suffix ``""`` or
    ``"/vlan30"``, ``"/vlan100.30"`` as written."""
    interface, sep, tags = segment.partition("/vlan")
    return interface, sep + tags


class SegmentAliases:
    """Renames segments so captures of one LAN taken on differently named interfaces merge.

    Two nodes' captures of the same segment name it after their own interface (``eth0`` on one,
    ``ens192`` on the other, ``ifindex3`` in a ``tcpdump -i any`` SLL2 capture), and groups on
    different segments are never merged. ``aliases`` maps a name to the segment to use instead:
    either a whole segment (``ens192/vlan30``) or an interface, which keeps the VLAN tags that
    follow it (``ens192`` -> ``eth0`` turns ``ens192/vlan30`` into ``eth0/vlan30``). A whole-segment
    alias wins over an interface alias. Renaming is not chained.
    """

    __slots__ = ("_aliases", "_cache", "_used")

    def __init__(self, aliases: Mapping[str, str]) -> None:
        self._aliases = dict(aliases)
        self._cache: dict[str, str] = {}
        self._used: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._aliases)

    @property
    def applied(self) -> dict[str, str]:
        """The renames that met a packet so far: segment as captured -> segment analysed."""
        return {old: new for old, new in sorted(self._cache.items()) if old != new}

    def __call__(self, segment: str) -> str:
        """The segment ``segment`` is analysed as."""
        out = self._cache.get(segment)
        if out is None:
            out = self._aliases.get(segment)
            if out is not None:
                self._used.add(segment)
            else:
                base, tags = split_segment(segment)
                alias = self._aliases.get(base)
                if alias is None:
                    out = segment
                else:
                    out = alias + tags
                    self._used.add(base)
            self._cache[segment] = out
        return out

    @property
    def seen(self) -> list[str]:
        """Every segment met so far, as captured."""
        return sorted(self._cache)

    @property
    def unused(self) -> list[str]:
        """Names given to rename that matched no segment of any packet (a typo, or nothing captured)."""
        return sorted(set(self._aliases) - self._used)


@dataclass(slots=True)
class InputCounts:
    """What was read, per the ``input`` object of the JSON contract, plus capture loss and problems.

    ``packets`` counts every frame read (interesting or not); ``vrrp``/``arp``/``nd``/``carp`` the
    decoded ones; ``malformed`` the VRRP/ARP/ND frames that could not be decoded plus damaged
    capture records; ``capture_loss`` the drops the capturing host reported (pcapng ISB).
    """

    files: list[str] = field(default_factory=list)
    packets: int = 0
    vrrp: int = 0
    arp: int = 0
    nd: int = 0
    carp: int = 0
    malformed: int = 0
    capture_loss: int = 0
    problems: list[SourceProblem] = field(default_factory=list)
    stats: list[CaptureStats] = field(default_factory=list)
    start: float | None = None
    end: float | None = None
    #: True when at least one frame could be read from at least one file.
    readable: bool = False

    def count(self, dissected: Dissected) -> None:
        """Count one dissected packet by its protocol label."""
        proto = dissected.proto
        if proto == "vrrp":
            self.vrrp += 1
        elif proto == "arp":
            self.arp += 1
        elif proto == "nd":
            self.nd += 1
        elif proto == "carp":
            self.carp += 1
        else:
            self.malformed += 1

    def add_problem(self, problem: SourceProblem) -> None:
        """Record a capture-level problem (counted as malformed when it lost a record)."""
        self.problems.append(problem)
        if problem.reason not in ("unknown_linktype", "caplen_exceeds_snaplen"):
            self.malformed += 1

    def finish_file(self, stats: CaptureStats) -> None:
        """Fold one file's reader statistics in once the file has been read."""
        self.stats.append(stats)
        self.packets += stats.frames
        self.capture_loss += stats.dropped
        if stats.frames:
            self.readable = True
        if stats.first_time is not None:
            self.start = stats.first_time if self.start is None else min(self.start, stats.first_time)
        if stats.last_time is not None:
            self.end = stats.last_time if self.end is None else max(self.end, stats.last_time)


class ProgressSink(Protocol):
    """Told when each input starts and ends being read (a progress bar polls it from there);
    :class:`vrrpscope.output.progress.ReadProgress` is the one the command line uses."""

    def reading(self, index: int, source: CaptureReader | CaptureStats) -> None:
        """Input ``index`` is being read: ``source`` is its reader (or, when the position in the
        file cannot be seen, its statistics), updated as reading goes."""

    def finished(self, index: int, stats: CaptureStats) -> None:
        """Input ``index`` has been read to its end."""

    def advance(self, index: int, nbytes: int, frames: int, *, done: bool = False) -> None:
        """A part of input ``index`` was scanned in another process (negative: taken back)."""


def _native_file(
    index: int, path: str, counts: InputCounts, progress: ProgressSink | None = None
) -> Iterator[Packet | SourceProblem]:
    """Read one capture with the native readers and dissectors."""
    with open_capture(path, prefilter=is_candidate) as reader:
        if progress is not None:
            progress.reading(index, reader)
        item: Frame | SourceProblem
        for item in reader:
            if isinstance(item, SourceProblem):
                counts.add_problem(item)
                yield item
                continue
            dissected = dissect(item.linktype, item.data)
            if dissected is None:
                continue
            counts.count(dissected)
            yield Packet(
                index,
                path,
                item.number,
                item.time,
                segment_name(item.interface, item.interface_name, dissected.link),
                dissected.link,
                dissected.ip,
                dissected.message,
                item.wirelen,
            )
        counts.finish_file(reader.stats)
        if progress is not None:
            progress.finished(index, reader.stats)


def _capinfos_count(path: str) -> int | None:
    """Total frames in ``path`` per Wireshark's ``capinfos`` (tshark's -Y output shows only matches)."""
    import shutil
    import subprocess

    exe = shutil.which("capinfos")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-T", "-r", "-c", "-M", path], capture_output=True, text=True, timeout=600,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        ).stdout
        return int(out.strip().split("\t")[-1])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _tshark_file(
    index: int, path: str, counts: InputCounts, progress: ProgressSink | None = None
) -> Iterator[Packet | SourceProblem]:
    """Read one capture through tshark (whatever Wireshark reads), typed at the boundary."""
    from vrrpscope.sources.tshark_engine import iter_tshark

    stats = CaptureStats(file=path)
    if progress is not None:
        progress.reading(index, stats)
    problems: list[SourceProblem] = []
    for item in iter_tshark(path, problems=problems):
        dissected = item.dissected
        counts.count(dissected)
        if stats.first_time is None:
            stats.first_time = item.time
        stats.last_time = item.time
        stats.frames = item.frame
        yield Packet(
            index,
            path,
            item.frame,
            item.time,
            segment_name(item.interface, item.interface_name, dissected.link),
            dissected.link,
            dissected.ip,
            dissected.message,
        )
    for problem in problems:
        counts.add_problem(problem)
        yield problem
    total = _capinfos_count(path) if path != "-" else None
    if total is not None:
        stats.frames = total
    counts.finish_file(stats)
    if progress is not None:
        progress.finished(index, stats)


def _sort_key(item: Packet | SourceProblem) -> float:
    return item.time if isinstance(item, Packet) else float("-inf")


def iter_packets(
    paths: Sequence[str],
    *,
    engine: str = "native",
    counts: InputCounts | None = None,
    progress: ProgressSink | None = None,
) -> Iterator[Packet | SourceProblem]:
    """Yield decoded packets (and capture problems) from ``paths`` in capture-time order.

    ``counts`` (if given) is filled as reading goes; it is complete once the iterator is exhausted.
    ``engine`` is ``native`` (built-in readers and dissectors) or ``tshark`` (via Wireshark).
    ``progress`` (if given) is told when each input is opened and finished (input ``i`` is
    ``paths[i]``); it is never called per packet.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if counts is None:
        counts = InputCounts()
    counts.files.extend(paths)
    reader = _native_file if engine == "native" else _tshark_file
    streams = [reader(i, p, counts, progress) for i, p in enumerate(paths)]
    if len(streams) == 1:
        yield from streams[0]
    else:
        yield from heapq.merge(*streams, key=_sort_key)
