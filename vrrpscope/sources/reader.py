"""Open a capture file (or standard input) and walk it: :func:`open_capture`.

The format is decided by content, never by name: gzip by its magic (``1f 8b``, decompressed as a
stream), then classic pcap or pcapng by theirs. The reader never raises for bad input: a file
that cannot be opened or read, an empty or foreign file, damage anywhere, all become
:class:`~vrrpscope.sources.base.SourceProblem` records in the stream, after every frame that
could be read before the damage.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import TracebackType

from vrrpscope.sources.base import CaptureStats, Frame, SourceProblem
from vrrpscope.sources.context import Prefilter, ReadContext
from vrrpscope.sources.pcap import PCAP_MAGICS, walk_pcap
from vrrpscope.sources.pcapng import SHB_MAGIC, walk_pcapng
from vrrpscope.sources.stream import CHUNK_SIZE, ByteSource, Window

#: Display name used in problems and stats when reading standard input.
STDIN_NAME = "<stdin>"

#: Leading bytes of formats people feed by mistake, for a helpful ``bad_magic`` message.
_FOREIGN_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"BZh", "a bzip2-compressed file; decompress it first"),
    (b"\xfd7zXZ\x00", "an xz-compressed file; decompress it first"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file; decompress it first"),
    (b"\x04\x22\x4d\x18", "an lz4-compressed file; decompress it first"),
    (b"PK\x03\x04", "a zip archive; extract the capture first"),
    (b"\xa1\xb2\xcd\x34", "a modified (Kuznetzov) pcap, which is not supported; convert it with editcap"),
    (b"\x34\xcd\xb2\xa1", "a modified (Kuznetzov) pcap, which is not supported; convert it with editcap"),
    (b"\x00\x00\x00\x00\x00\x00", "zero-filled (probably preallocated and never written)"),
)


class CaptureReader:
    """A capture being read: iterate for :class:`Frame` | :class:`SourceProblem`, in file order.

    ``stats`` is brought up to date before each record is yielded and is complete once iteration
    ends. With a ``prefilter``, frames it rejects are counted (and numbered) but never built.
    ``format`` (``"pcap"``/``"pcapng"``) and ``compression`` (``"gzip"`` or ``None``) are known
    once iteration has started. A reader is iterated once; as a context manager it closes the
    file on exit, also when iteration stopped early.
    """

    def __init__(self, path: str, prefilter: Prefilter | None = None, *, chunk_size: int = CHUNK_SIZE) -> None:
        #: The path as given (``"-"`` for standard input).
        self.path = path
        #: The name used in frames, problems and stats (``"<stdin>"`` for standard input).
        self.file = STDIN_NAME if path == "-" else path
        #: Counters, filled while iterating.
        self.stats = CaptureStats(file=self.file)
        #: ``"pcap"`` or ``"pcapng"`` once recognised, else ``None``.
        self.format: str | None = None
        #: ``"gzip"`` when the input was gzip-compressed, else ``None``.
        self.compression: str | None = None
        self._prefilter = prefilter
        self._chunk = chunk_size
        self._gen: Iterator[Frame | SourceProblem] | None = None
        self._src: ByteSource | None = None

    @property
    def raw_offset(self) -> int:
        """Bytes read from the file or standard input so far (compressed bytes for gzip; reads are
        1 MiB chunks, so this runs up to a chunk ahead of the frames handed out). For progress."""
        src = self._src
        return src.raw_consumed if src is not None else 0

    def __iter__(self) -> Iterator[Frame | SourceProblem]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def __next__(self) -> Frame | SourceProblem:
        return next(iter(self))

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and close the file (standard input is left open)."""
        gen = self._gen
        if gen is not None and hasattr(gen, "close"):
            gen.close()
        self._gen = iter(())

    def _run(self) -> Iterator[Frame | SourceProblem]:
        ctx = ReadContext(self.file, self.stats, self._prefilter)
        fh = None
        try:
            if self.path == "-":
                stdin = sys.stdin
                buffer = getattr(stdin, "buffer", None) if stdin is not None else None
                if buffer is None:
                    yield ctx.problem(None, 0, "unreadable", "standard input is not available", True)
                    return
                # read1 hands over what a pipe has now instead of waiting for a full chunk, so a
                # live `tcpdump -U -w -` feeds frames as they come.
                read = getattr(buffer, "read1", None) or buffer.read
            else:
                try:
                    fh = open(self.path, "rb", buffering=0)  # closed in finally
                except OSError as exc:
                    yield ctx.problem(None, 0, "unreadable", f"cannot open: {exc.strerror or exc}", True)
                    return
                read = fh.read
            src = self._src = ByteSource(read, self._chunk)
            self.compression = src.compression
            win = Window(src)
            win.fill(4)
            magic = win.buf[win.pos : win.pos + 4]
            if magic in PCAP_MAGICS:
                self.format = "pcap"
                yield from walk_pcap(win, ctx, magic)
            elif magic == SHB_MAGIC:
                self.format = "pcapng"
                yield from walk_pcapng(win, ctx)
            elif src.error is not None and src.error.fatal and len(magic) < 4:
                pass  # reported below: the stream itself failed
            elif not magic:
                yield ctx.problem(None, 0, "truncated_header", "empty file (0 bytes): no capture header", True)
            elif len(magic) < 4:
                yield ctx.problem(
                    None,
                    0,
                    "truncated_header",
                    f"file too short for a capture header: {len(magic)} bytes",
                    True,
                )
            else:
                yield ctx.problem(None, 0, "bad_magic", _bad_magic_detail(win), True)
            err = src.error
            if err is not None:
                yield ctx.problem(
                    None if err.offset == 0 else ctx.stats.frames + 1,
                    err.offset,
                    err.reason,
                    err.detail,
                    err.fatal,
                )
        finally:
            if fh is not None:
                fh.close()


def _bad_magic_detail(win: Window) -> str:
    """Explain a foreign file: its first bytes and, when recognisable, what it is."""
    win.fill(8)
    head = win.buf[win.pos : win.pos + 8]
    shown = " ".join(f"{b:02x}" for b in head[:4])
    for prefix, what in _FOREIGN_MAGICS:
        if head.startswith(prefix):
            return f"not a pcap or pcapng capture (starts with {shown}): {what}"
    return f"not a pcap or pcapng capture: starts with bytes {shown}"


def open_capture(path: str, prefilter: Prefilter | None = None) -> CaptureReader:
    """Open a capture for reading; ``"-"`` reads standard input (streamed, never slurped).

    Accepts classic pcap (either byte order, µs or ns), pcapng, and either of them gzipped. Never
    raises for bad input: problems come out of the iteration as :class:`SourceProblem` records.
    ``prefilter(linktype, data)`` returning false skips building that frame (it is still counted).
    """
    return CaptureReader(path, prefilter)
