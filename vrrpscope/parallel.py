"""Scale-out reading: per-file (and per-part) scans in worker processes or on a Dask cluster.

The expensive part of an analysis is walking millions of uninteresting frames; the decoded
VRRP/ARP/ND packets are a tiny fraction. :func:`iter_packets_parallel` therefore sends the *scan*
(read, pre-filter, dissect) of every input to an executor — a local process pool (``jobs``) or a
Dask cluster (``scheduler``) — and does the small *reduce* locally: the decoded packets of every
file come back in file order, are merged in capture-time order exactly as
:func:`vrrpscope.pipeline.iter_packets` merges them, and feed ONE reconstructor. The result is
identical to the single-process run: same packets, frame numbers, problems and
:class:`~vrrpscope.pipeline.InputCounts`.

A large, uncompressed classic pcap is also split into parts at record boundaries. A cut is
placed on a run of plausible record headers; it is then *verified*: the worker scanning the part
before the cut must end exactly on it, without any capture problem (walking the true record chain
from the previous verified boundary proves the cut lies on it). If any part of a file is not
clean (damage, a questionable cut, the once-per-file snaplen note), the file is scanned again
whole, in one task, so problems and their offsets are reported exactly as the single-process
reader reports them. A large uncompressed pcapng is split the same way (:func:`split_pcapng`): each
part is read behind the file's head (its section header and interface blocks) and must, besides
ending on the next cut without a problem, meet no other section and no new interface, and only the
last part may carry capture-loss counters. gzip files are scanned whole, one task per file.

Memory stays bounded when a capture is mostly VRRP/ARP/ND. A local worker keeps at most
:data:`SPILL_AT` decoded packets in memory; beyond that it writes them, in pickled batches of
:data:`SPILL_BATCH`, to a spill file in a temporary directory the main process owns, and the reduce
reads each file's packets back batch by batch while merging (the directory is removed when the
merge ends, also when it stops early). Dask workers (other machines) send their packets back in
memory.
"""

from __future__ import annotations

import dataclasses
import glob
import heapq
import os
import pickle
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from dissectors.packet import dissect, is_candidate
from dissectors.records import Dissected
from vrrpscope.model import Packet
from vrrpscope.pipeline import InputCounts, ProgressSink, iter_packets, segment_name
from vrrpscope.sources import open_capture
from vrrpscope.sources.base import CaptureStats, Frame, SourceProblem
from vrrpscope.sources.context import MAX_BLOCK, MAX_RECORD, ReadContext, Unpack
from vrrpscope.sources.pcap import FILE_HEADER_LEN, PCAP_MAGICS, RECORD_HEADER_LEN, walk_pcap
from vrrpscope.sources.pcapng import (
    BT_EPB,
    BT_IDB,
    BT_ISB,
    BT_OPB,
    BT_SHB,
    BT_SPB,
    BYTE_ORDER_MAGIC,
    BYTE_ORDER_MAGIC_SWAPPED,
    SHB_MAGIC,
    walk_pcapng,
)
from vrrpscope.sources.stream import CHUNK_SIZE, ByteSource, Window

#: Smallest part a classic pcap or pcapng is cut into (smaller files are scanned whole).
MIN_PART = 32 * 1024 * 1024

#: Below this much input in total, a local run stays in one process (starting workers costs more).
MIN_PARALLEL_BYTES = 16 * 1024 * 1024

#: How far past a nominal cut the splitter looks for a run of plausible record headers.
_CUT_SEARCH = 4 * 1024 * 1024

#: Consecutive plausible record headers a cut must start (the last one may end the file).
_CUT_CHAIN = 8

#: Largest pcapng head (section header and interface blocks before the first packet) for a split.
_PCAPNG_MAX_HEAD = 1024 * 1024

#: Decoded packets a local worker keeps in memory before it spills them to disk.
SPILL_AT = 4096

#: Packets per pickled batch in a spill file (also what the reduce holds per file at a time).
SPILL_BATCH = 512

#: Capture file suffixes picked up when a directory is given as input.
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz")


def default_jobs() -> int:
    """Worker processes by default: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Expand ``-r`` arguments: glob patterns and directories of captures, in a stable order.

    A glob (``*``, ``?``, ``[``) that matches nothing is kept as given, so the reader reports it
    as unreadable; a directory contributes its capture files (by :data:`CAPTURE_SUFFIXES`,
    not recursive), sorted by name; ``-`` and plain paths are kept as they are. Duplicates keep
    their first position.
    """
    out: list[str] = []
    for arg in inputs:
        if arg != "-" and any(c in arg for c in "*?["):
            matches = sorted(glob.glob(arg))
            found = matches or [arg]
        elif arg != "-" and os.path.isdir(arg):
            found = sorted(
                os.path.join(arg, name)
                for name in os.listdir(arg)
                if name.lower().endswith(CAPTURE_SUFFIXES) and os.path.isfile(os.path.join(arg, name))
            )
        else:
            found = [arg]
        for path in found:
            if path not in out:
                out.append(path)
    return out


@dataclass
class ScanTask:
    """One unit of work: a whole capture, or the records in ``[start, end)`` of a classic pcap or
    the blocks in ``[start, end)`` of a pcapng."""

    index: int
    path: str
    #: Byte range of a part (``None``: the whole file, any format).
    start: int | None = None
    end: int | None = None
    #: What a part is read behind (a part carries no header of its own): the pcap file header, or
    #: the pcapng section header and interface blocks.
    header: bytes = b""
    #: pcapng parts: the interfaces the head defines (a part that meets another one is not clean).
    interfaces: int = 0
    #: A directory for spill files (local workers only; ``None``: keep every packet in memory).
    spill_dir: str | None = None


@dataclass
class ScanResult:
    """What a worker sends back: the part's packets and problems in file order, and its stats."""

    index: int
    #: The packets and problems kept in memory (the head of the list when ``spill`` is set).
    items: list[Packet | SourceProblem]
    stats: CaptureStats
    #: For a part: the byte offset where its walk ended (must equal the part's end).
    ended_at: int | None = None
    #: For a part: False when it met any problem (the file is then scanned whole).
    clean: bool = True
    #: The spill file holding the rest of the items after ``items`` (pickled batches), if any.
    spill: str | None = None


class _Collected:
    """The decoded items of one scan: in memory up to :data:`SPILL_AT`, then in a spill file."""

    def __init__(self, spill_dir: str | None) -> None:
        self.items: list[Packet | SourceProblem] = []
        self.spill: str | None = None
        self.problems = 0
        self._dir = spill_dir
        self._fh: Any = None
        self._batch: list[Packet | SourceProblem] = []

    def add(self, item: Packet | SourceProblem) -> None:
        """Keep one item (in file order)."""
        if self._fh is None:
            self.items.append(item)
            if self._dir is not None and len(self.items) >= SPILL_AT:
                fd, self.spill = tempfile.mkstemp(prefix="scan-", suffix=".pickle", dir=self._dir)
                self._fh = os.fdopen(fd, "wb")
            return
        self._batch.append(item)
        if len(self._batch) >= SPILL_BATCH:
            pickle.dump(self._batch, self._fh, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def close(self) -> None:
        """Write the last batch and close the spill file."""
        if self._fh is not None:
            if self._batch:
                pickle.dump(self._batch, self._fh, protocol=pickle.HIGHEST_PROTOCOL)
                self._batch = []
            self._fh.close()
            self._fh = None


def _packets(
    index: int, path: str, frames: Iterable[Frame | SourceProblem], spill_dir: str | None = None
) -> _Collected:
    """Dissect the pre-filtered frames of one reader into packets (as the pipeline does)."""
    out = _Collected(spill_dir)
    try:
        for item in frames:
            if isinstance(item, SourceProblem):
                out.problems += 1
                out.add(item)
                continue
            dissected = dissect(item.linktype, item.data)
            if dissected is None:
                continue
            out.add(
                Packet(
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
            )
    finally:
        out.close()
    return out


def _items(result: ScanResult) -> Iterator[Packet | SourceProblem]:
    """All items of a scan result in file order: the in-memory head, then the spilled batches."""
    yield from result.items
    if result.spill is not None:
        with open(result.spill, "rb") as fh:
            while True:
                try:
                    batch = pickle.load(fh)
                except EOFError:
                    break
                yield from batch
        os.unlink(result.spill)


def scan(task: ScanTask) -> ScanResult:
    """Scan one task (runs in a worker process or on a Dask worker)."""
    if task.start is None or task.end is None:
        with open_capture(task.path, prefilter=is_candidate) as reader:
            got = _packets(task.index, task.path, reader, task.spill_dir)
        return ScanResult(task.index, got.items, reader.stats, spill=got.spill)
    return _scan_part(task, task.start, task.end)


def _scan_part(task: ScanTask, start: int, end: int) -> ScanResult:
    """Walk the records (blocks) of ``[start, end)`` behind the file header; frames numbered from 1.

    A pcapng part is clean only if, besides meeting no problem, it stays in the head's section
    and meets no interface block: the next part was read with the head's interfaces.
    """
    stats = CaptureStats(file=task.path)
    ctx = ReadContext(task.path, stats, is_candidate)
    pcapng = task.header[:4] == SHB_MAGIC
    with open(task.path, "rb", buffering=0) as fh:
        fh.seek(start)
        left = end - start
        pending = [task.header]

        def read(n: int) -> bytes:
            nonlocal left
            if pending:
                return pending.pop()
            data = fh.read(min(n, left))
            left -= len(data)
            return data

        win = Window(ByteSource(read, CHUNK_SIZE))
        frames = walk_pcapng(win, ctx) if pcapng else walk_pcap(win, ctx, task.header[:4])
        got = _packets(task.index, task.path, frames, task.spill_dir)
        ended_at = start + win.offset - len(task.header)
    clean = stats.problems == 0 and got.problems == 0
    if pcapng:
        clean = clean and ctx.sections == 1 and len(stats.interfaces) == task.interfaces
    return ScanResult(task.index, got.items, stats, ended_at, clean, got.spill)


def _plausible_run(buf: bytes, p: int, hdr: Callable[[bytes, int], tuple[Any, ...]], limit: int, fracmax: int) -> bool:
    """True when ``_CUT_CHAIN`` sane record headers follow each other from ``buf[p]``."""
    first_sec: int | None = None
    for _ in range(_CUT_CHAIN):
        if p + RECORD_HEADER_LEN > len(buf):
            return False
        sec, frac, cap, wire = hdr(buf, p)
        if cap > limit or cap > wire or wire > (1 << 24) or frac >= fracmax:
            return False
        if first_sec is None:
            first_sec = sec
        elif abs(sec - first_sec) > 86_400:
            return False
        p += RECORD_HEADER_LEN + cap
    return True


def _place_cuts(
    fh: BinaryIO, size: int, parts: int, first: int, largest: int, find: Callable[[bytes], int | None]
) -> list[int]:
    """Part starts: ``first``, then at each nominal ``k * size / parts`` the offset ``find`` picks in
    the bytes read there (``_CUT_SEARCH`` plus a chain of ``_CUT_CHAIN`` records of at most
    ``largest`` bytes), if any; parts shorter than half of ``MIN_PART`` are not cut."""
    step = size // parts
    cuts = [first]
    for k in range(1, parts):
        nominal = k * step
        if nominal <= cuts[-1] + MIN_PART // 2:
            continue
        fh.seek(nominal)
        p = find(fh.read(_CUT_SEARCH + _CUT_CHAIN * largest))
        if p is not None:
            cuts.append(nominal + p)
    return cuts


def split_pcap(path: str, index: int, parts: int) -> list[ScanTask]:
    """Cut an uncompressed classic pcap into about ``parts`` tasks at plausible record starts.

    Cuts are only candidates: :func:`iter_packets_parallel` verifies each one against the walk
    of the part before it. Returns one whole-file task when the file is not a plain classic pcap,
    is too small, or no cut can be placed.
    """
    whole = [ScanTask(index, path)]
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            header = fh.read(FILE_HEADER_LEN)
            if len(header) < FILE_HEADER_LEN or header[:4] not in PCAP_MAGICS or parts < 2:
                return whole
            endian, nano = PCAP_MAGICS[header[:4]]
            snaplen = struct.unpack_from(endian + "I", header, 16)[0]
            limit = min(snaplen, MAX_RECORD) if snaplen else MAX_RECORD
            hdr = struct.Struct(endian + "IIII").unpack_from
            fracmax = 1_000_000_000 if nano else 1_000_000

            def find(buf: bytes) -> int | None:
                for p in range(0, min(_CUT_SEARCH, len(buf))):
                    if _plausible_run(buf, p, hdr, limit, fracmax):
                        return p
                return None

            cuts = _place_cuts(fh, size, parts, FILE_HEADER_LEN, RECORD_HEADER_LEN + MAX_RECORD, find)
    except OSError:
        return whole
    if len(cuts) < 2:
        return whole
    bounds = [*cuts, size]
    return [ScanTask(index, path, bounds[i], bounds[i + 1], header) for i in range(len(cuts))]


def _pcapng_head(buf: bytes) -> tuple[int, str, int] | None:
    """The head of a pcapng starting in ``buf``: (length, byte order, interfaces), or ``None``.

    The head is every block before the first packet block: one section header, interface blocks,
    and blocks the reader skips (name resolution, decryption secrets, custom). ``None`` (do not
    split) for anything else before the first packet (a statistics block, a second section, a
    damaged length) or a head larger than :data:`_PCAPNG_MAX_HEAD`.
    """
    if len(buf) < 28 or buf[:4] != SHB_MAGIC:
        return None
    (bom,) = struct.unpack_from("<I", buf, 8)
    if bom == BYTE_ORDER_MAGIC:
        endian = "<"
    elif bom == BYTE_ORDER_MAGIC_SWAPPED:
        endian = ">"
    else:
        return None
    two = struct.Struct(endian + "II").unpack_from
    u32 = struct.Struct(endian + "I").unpack_from
    p = 0
    interfaces = 0
    while p + 12 <= len(buf):
        btype, blen = two(buf, p)
        if blen < 12 or blen & 3 or p + blen > len(buf) or u32(buf, p + blen - 4)[0] != blen:
            return None
        if btype in (BT_EPB, BT_SPB, BT_OPB):
            return (p, endian, interfaces) if p > 0 and interfaces else None
        if btype == BT_SHB:
            if p:
                return None
        elif btype == BT_IDB:
            interfaces += 1
        elif btype == BT_ISB or p == 0:
            return None
        p += blen
    return None


def _plausible_blocks(buf: bytes, p: int, epb: Unpack, u32: Unpack, interfaces: int) -> bool:
    """True when ``_CUT_CHAIN`` sane enhanced packet blocks follow each other from ``buf[p]``
    (``epb``/``u32``: the section's EPB header and 32-bit unpackers).

    A cut is placed on an EPB only: a simple packet block takes the time of the frame before it.
    """
    for _ in range(_CUT_CHAIN):
        if p + 32 > len(buf):
            return False
        btype, blen, ifid, _hi, _lo, cap, wire = epb(buf, p)
        if (
            btype != BT_EPB
            or blen & 3
            or blen < 32
            or blen > MAX_BLOCK
            or p + blen > len(buf)
            or ifid >= interfaces
            or cap > blen - 32
            or cap > wire
            or u32(buf, p + blen - 4)[0] != blen
        ):
            return False
        p += blen
    return True


def split_pcapng(path: str, index: int, parts: int) -> list[ScanTask]:
    """Cut an uncompressed pcapng into about ``parts`` tasks at plausible packet-block starts.

    Each part is read behind the file's head (:func:`_pcapng_head`). As for classic pcap, cuts are
    only candidates, verified against the walk of the part before them (:func:`scan_files`).
    Returns one whole-file task when the file is not a plain pcapng, is too small, or no cut can be
    placed.
    """
    whole = [ScanTask(index, path)]
    if parts < 2:
        return whole
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = _pcapng_head(fh.read(_PCAPNG_MAX_HEAD))
            if head is None:
                return whole
            head_len, endian, interfaces = head
            fh.seek(0)
            header = fh.read(head_len)
            epb_type = struct.pack(endian + "I", BT_EPB)
            epb = struct.Struct(endian + "IIIIIII").unpack_from
            u32 = struct.Struct(endian + "I").unpack_from

            def find(buf: bytes) -> int | None:
                p = buf.find(epb_type, 0, _CUT_SEARCH)
                while p >= 0:
                    if _plausible_blocks(buf, p, epb, u32, interfaces):
                        return p
                    p = buf.find(epb_type, p + 1, _CUT_SEARCH)
                return None

            cuts = _place_cuts(fh, size, parts, head_len, 32 + MAX_RECORD + 64, find)
    except OSError:
        return whole
    if len(cuts) < 2:
        return whole
    bounds = [*cuts, size]
    return [ScanTask(index, path, bounds[i], bounds[i + 1], header, interfaces) for i in range(len(cuts))]


def split_capture(path: str, index: int, parts: int) -> list[ScanTask]:
    """:func:`split_pcap` or :func:`split_pcapng`, by the file's magic (one task for anything else)."""
    kind = _splittable_kind(path)
    if kind == "pcap":
        return split_pcap(path, index, parts)
    if kind == "pcapng":
        return split_pcapng(path, index, parts)
    return [ScanTask(index, path)]


@dataclass
class _Joined:
    """A file read in verified parts: the parts in order, and the combined statistics."""

    index: int
    parts: list[ScanResult]
    stats: CaptureStats


def _joined_items(joined: _Joined) -> Iterator[Packet | SourceProblem]:
    """The packets of every part in file order, frames renumbered to count from the file start."""
    base = 0
    for res in joined.parts:
        for item in _items(res):
            assert isinstance(item, Packet)  # clean parts carry no problems
            yield dataclasses.replace(item, frame=item.frame + base) if base else item
        base += res.stats.frames


def _merge_parts(index: int, path: str, results: list[ScanResult]) -> _Joined:
    """Join the verified parts of one file: combine statistics (frames are renumbered lazily)."""
    stats = CaptureStats(file=path)
    base = 0
    for res in results:
        st = res.stats
        base += st.frames
        stats.bytes += st.bytes
        stats.dropped += st.dropped  # only the last part may have any (verified)
        stats.linktypes |= st.linktypes
        stats.interfaces.update(st.interfaces)
        if st.first_time is not None:
            stats.first_time = st.first_time if stats.first_time is None else min(stats.first_time, st.first_time)
        if st.last_time is not None:
            stats.last_time = st.last_time if stats.last_time is None else max(stats.last_time, st.last_time)
    stats.frames = base
    return _Joined(index, results, stats)


def _file_stream(result: ScanResult | _Joined, counts: InputCounts) -> Iterator[Packet | SourceProblem]:
    """Yield one file's items and count them as :func:`vrrpscope.pipeline.iter_packets` does."""
    items = _joined_items(result) if isinstance(result, _Joined) else _items(result)
    for item in items:
        if isinstance(item, SourceProblem):
            counts.add_problem(item)
        else:
            counts.count(Dissected(item.link, item.ip, item.message))
        yield item
    counts.finish_file(result.stats)


def _total_size(paths: Sequence[str]) -> int:
    """Bytes in the named files (unreadable ones count as empty)."""
    total = 0
    for p in paths:
        try:
            total += os.path.getsize(p)
        except OSError:
            pass
    return total


def _sort_key(item: Packet | SourceProblem) -> float:
    return item.time if isinstance(item, Packet) else float("-inf")


def _watch_scan(progress: ProgressSink, plan: list[ScanTask], futs: list[Future[ScanResult]]) -> None:
    """Advance ``progress`` as the tasks of one file finish (callbacks run in the executor's thread).

    A whole-file task finishes its file; a part advances it by the part's bytes (the first part
    also carries the file header), and the last part to finish completes it.
    """
    if len(plan) == 1:
        task = plan[0]

        def whole(fut: Future[ScanResult]) -> None:
            if not fut.cancelled() and fut.exception() is None:
                progress.finished(task.index, fut.result().stats)

        futs[0].add_done_callback(whole)
        return
    left = [len(plan)]
    lock = threading.Lock()
    for i, (task, fut) in enumerate(zip(plan, futs, strict=True)):
        assert task.start is not None and task.end is not None
        nbytes = task.end - (0 if i == 0 else task.start)

        def part(fut: Future[ScanResult], index: int = task.index, nbytes: int = nbytes) -> None:
            with lock:
                left[0] -= 1
                last = left[0] == 0
            frames = fut.result().stats.frames if not fut.cancelled() and fut.exception() is None else 0
            progress.advance(index, nbytes, frames, done=last)

        fut.add_done_callback(part)


def scan_files(
    paths: Sequence[str],
    executor: Executor,
    jobs: int,
    *,
    split: bool = True,
    progress: ProgressSink | None = None,
    spill_dir: str | None = None,
) -> list[ScanResult | _Joined]:
    """Scan every file on ``executor``; return one result per file, in input order.

    Classic pcaps and pcapngs are split when ``split`` is true and the inputs are large enough to keep
    ``jobs`` workers busy; parts that fail verification are rescanned whole. ``progress`` (if
    given) advances as each task finishes, whatever the order. ``spill_dir``: where workers on
    this machine spill packets beyond :data:`SPILL_AT` (see the module notes).
    """
    sizes = []
    for p in paths:
        try:
            sizes.append(os.path.getsize(p))
        except OSError:
            sizes.append(0)
    target = max(MIN_PART, sum(sizes) // max(1, 2 * jobs))
    plans: list[list[ScanTask]] = []
    for i, (p, size) in enumerate(zip(paths, sizes, strict=True)):
        n = -(-size // target) if split and jobs > 1 else 1
        plan = split_capture(p, i, n) if n > 1 else [ScanTask(i, p)]
        plans.append([dataclasses.replace(t, spill_dir=spill_dir) for t in plan])
    futures: list[list[Future[ScanResult]]] = [[executor.submit(scan, t) for t in plan] for plan in plans]
    if progress is not None:
        for plan, futs in zip(plans, futures, strict=True):
            _watch_scan(progress, plan, futs)
    out: list[ScanResult | _Joined] = []
    for plan, futs in zip(plans, futures, strict=True):
        results = [f.result() for f in futs]
        if len(plan) == 1:
            out.append(results[0])
            continue
        # Every part clean and ending on the next cut; capture-loss counters (pcapng statistics
        # blocks: the latest value per interface) only in the last part, so the sum is the file's.
        verified = all(r.clean and r.ended_at == t.end for r, t in zip(results, plan, strict=True)) and not any(
            r.stats.dropped for r in results[:-1]
        )
        if verified:
            out.append(_merge_parts(plan[0].index, plan[0].path, results))
        else:
            for r in results:
                if r.spill is not None:
                    os.unlink(r.spill)
            whole = ScanTask(plan[0].index, plan[0].path, spill_dir=spill_dir)
            fut = executor.submit(scan, whole)
            if progress is not None:
                # The parts' bytes are read again: take them back until the whole scan is done.
                progress.advance(whole.index, -(plan[-1].end or 0), -sum(r.stats.frames for r in results))
                _watch_scan(progress, [whole], [fut])
            out.append(fut.result())
    return out


def iter_packets_parallel(
    paths: Sequence[str],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    counts: InputCounts | None = None,
    split: bool = True,
    progress: ProgressSink | None = None,
) -> Iterator[Packet | SourceProblem]:
    """:func:`vrrpscope.pipeline.iter_packets` (native engine) with the scans run in parallel.

    ``jobs`` worker processes (default: :func:`default_jobs`), or the Dask cluster at
    ``scheduler`` (``tcp://HOST:8786``; needs the ``dask`` extra). Yields the same items in the
    same order and fills ``counts`` the same way. Standard input (``-``), and without a scheduler
    ``jobs=1`` or less than :data:`MIN_PARALLEL_BYTES` of input, are read in this process.
    ``progress`` (if given) is told as inputs (or parts of them) are read.
    """
    if counts is None:
        counts = InputCounts()
    n = jobs if jobs is not None else default_jobs()
    single_unsplittable = len(paths) == 1 and not (split and _splittable_kind(paths[0]))
    if "-" in paths or (
        scheduler is None and (n <= 1 or single_unsplittable or _total_size(paths) < MIN_PARALLEL_BYTES)
    ):
        # Nothing to share out: one worker would only add the cost of shipping its packets back.
        yield from iter_packets(paths, counts=counts, progress=progress)
        return
    counts.files.extend(paths)
    with tempfile.TemporaryDirectory(prefix="vrrpscope-spill-") as spill_dir:
        results: list[ScanResult | _Joined]
        if scheduler is not None:
            results = _scan_on_dask(paths, scheduler, split, progress)
        else:
            with ProcessPoolExecutor(max_workers=n) as pool:
                results = scan_files(paths, pool, n, split=split, progress=progress, spill_dir=spill_dir)
        streams = [_file_stream(r, counts) for r in results]
        if len(streams) == 1:
            yield from streams[0]
        else:
            yield from heapq.merge(*streams, key=_sort_key)


def _splittable_kind(path: str) -> str | None:
    """``"pcap"`` or ``"pcapng"`` when ``path`` is an uncompressed capture of a kind that can be
    split, else ``None`` (gzip, anything else, not a regular file).

    Only regular files are opened: peeking into a FIFO would consume (and wait for) its data.
    """
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return None
    if head in PCAP_MAGICS:
        return "pcap"
    return "pcapng" if head == SHB_MAGIC else None


def _scan_on_dask(
    paths: Sequence[str], scheduler: str, split: bool, progress: ProgressSink | None = None
) -> list[ScanResult | _Joined]:
    """Run :func:`scan_files` on the Dask cluster at ``scheduler`` (files must be readable there)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise RuntimeError("--scheduler needs Dask distributed: pip install 'vrrpscope[dask]'") from exc
    with Client(scheduler) as client:
        workers = sum(client.nthreads().values()) or 1
        return scan_files(paths, client.get_executor(), workers, split=split, progress=progress)


def analyze_parallel(
    paths: Sequence[str],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    split: bool = True,
    since: float | None = None,
    until: float | None = None,
    show_secrets: bool = False,
    progress: ProgressSink | None = None,
    segments: Mapping[str, str] | None = None,
) -> Any:
    """:func:`vrrpscope.analysis.analyze` (native engine) with the reading done in parallel.

    Returns the same :class:`~vrrpscope.analysis.Analysis` as the single-process call.
    ``progress`` (if given) follows the reading; ``segments`` renames segments as in ``analyze``.
    """
    from vrrpscope.analysis import analyze

    files = list(paths)
    counts = InputCounts()
    stream = iter_packets_parallel(files, jobs=jobs, scheduler=scheduler, counts=counts, split=split, progress=progress)
    return analyze(
        files, since=since, until=until, show_secrets=show_secrets, packets=stream, counts=counts, segments=segments
    )
