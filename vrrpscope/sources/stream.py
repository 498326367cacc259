"""Byte plumbing under the capture readers: chunked reads, transparent gzip, a sliding window.

Captures are read in large chunks (1 MiB by default) and walked in place with
``struct.Struct.unpack_from``; nothing here reads per record. Memory is bounded by the chunk size
plus the largest record or block a reader accepts, never by the size of the file.

gzip is recognised by its magic bytes (``1f 8b``), not by the file name, and is decompressed as a
stream with :mod:`zlib` (several concatenated members allowed, as ``gzip``/``pigz`` write them).
Decompressed output is produced at most one chunk at a time, so a "zip bomb" cannot blow memory up.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

#: Default read size; also the most decompressed output produced per step.
CHUNK_SIZE = 1 << 20

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class StreamError:
    """Why a byte stream ended early (or carried junk): becomes a :class:`SourceProblem`.

    ``offset`` is in the decompressed stream, ``fatal`` is true when bytes were lost.
    """

    reason: str
    detail: str
    offset: int
    fatal: bool


class ByteSource:
    """Chunks of a capture's bytes, gunzipped when the stream starts with the gzip magic.

    ``read_raw(n)`` returns up to ``n`` bytes, ``b""`` at end of input; it may raise
    :class:`OSError`, which ends the stream and is kept in :attr:`error` (reason ``unreadable``).
    :meth:`read` never raises.
    """

    def __init__(self, read_raw: Callable[[int], bytes], chunk_size: int = CHUNK_SIZE) -> None:
        self._read_raw = read_raw
        self._chunk = chunk_size
        self._pending = b""  # raw bytes read while sniffing, not handed out yet
        self._inflater: zlib._Decompress | None = None
        self._raw_eof = False
        self._produced = 0  # decompressed bytes handed out
        self._raw_consumed = 0  # compressed bytes read
        #: ``"gzip"`` when the stream was gzip-compressed, else ``None``.
        self.compression: str | None = None
        #: Set when the stream ended on an error or carried trailing junk.
        self.error: StreamError | None = None
        self._sniff()

    @property
    def raw_consumed(self) -> int:
        """Bytes read from the underlying file or pipe so far (compressed bytes for gzip)."""
        return self._raw_consumed

    def _raw(self) -> bytes:
        """One raw read; an OSError ends the stream with an ``unreadable`` error."""
        if self._raw_eof:
            return b""
        try:
            data = self._read_raw(self._chunk)
        except OSError as exc:
            self._raw_eof = True
            if self.error is None:
                self.error = StreamError("unreadable", f"read error: {exc.strerror or exc}", self._produced, True)
            return b""
        if not data:
            self._raw_eof = True
        self._raw_consumed += len(data)
        return data

    def _sniff(self) -> None:
        """Read until two bytes are known, then decide whether the stream is gzip."""
        head = b""
        while len(head) < 2:
            more = self._raw()
            if not more:
                break
            head += more
        self._pending = head
        if head.startswith(GZIP_MAGIC):
            self.compression = "gzip"
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def read(self) -> bytes:
        """Next chunk of (decompressed) bytes, ``b""`` at the end or after an error."""
        if self._inflater is None:
            if self._pending:
                data, self._pending = self._pending, b""
            else:
                data = self._raw()
            self._produced += len(data)
            return data
        return self._inflate()

    def _inflate(self) -> bytes:
        """Decompress until some output is available or the stream ends."""
        inflater = self._inflater
        while inflater is not None:
            try:
                if inflater.eof:
                    # Checked first: at the end of a member the input after it shows up in both
                    # unused_data and unconsumed_tail.
                    inflater = self._next_member(inflater.unused_data)
                    continue
                if inflater.unconsumed_tail:
                    out = inflater.decompress(inflater.unconsumed_tail, self._chunk)
                else:
                    raw = self._pending or self._raw()
                    self._pending = b""
                    if not raw:
                        self._inflater = None
                        if self.error is None:
                            self.error = StreamError(
                                "gzip_error",
                                f"gzip stream cut short after {self._raw_consumed} compressed bytes "
                                "(no end-of-stream marker)",
                                self._produced,
                                True,
                            )
                        return b""
                    out = inflater.decompress(raw, self._chunk)
            except zlib.error as exc:
                self._inflater = None
                if self.error is None:
                    self.error = StreamError(
                        "gzip_error",
                        f"gzip data corrupt ({exc}) within the first {self._raw_consumed} compressed bytes",
                        self._produced,
                        True,
                    )
                return b""
            if out:
                self._produced += len(out)
                return out
        return b""

    def _next_member(self, rest: bytes) -> zlib._Decompress | None:
        """After one gzip member ends: start the next one, or finish (zero padding is fine)."""
        while len(rest) < 2 and not self._raw_eof:
            rest += self._raw()
        if not rest:
            self._inflater = None
            return None
        if rest.startswith(GZIP_MAGIC):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._pending = rest
            return self._inflater
        # Trailing bytes that are not another member: zero padding (tape/block devices) is harmless.
        junk = len(rest.strip(b"\0"))
        while not self._raw_eof:
            more = self._raw()
            junk += len(more.strip(b"\0"))
        self._inflater = None
        if junk and self.error is None:
            self.error = StreamError(
                "gzip_error", "trailing data after the end of the gzip stream ignored", self._produced, False
            )
        return None


class Window:
    """A sliding window over a :class:`ByteSource`: ``buf[pos:]`` is unread data.

    Readers copy ``buf``/``pos`` into locals for their hot loop and hand ``pos`` back before
    calling a method here. ``base`` is the stream offset of ``buf[0]``, so ``base + pos`` is the
    offset reported in problems.

    Two ways past the end of ``buf``: :meth:`peek` + :meth:`skip` copy only the bytes of the
    record that straddles two chunks and then continue in the next chunk as it was read (the
    common path, once per chunk, no bulk copy), while :meth:`fill` makes one contiguous buffer
    (for resynchronisation after damage, where a reader scans ahead).
    """

    __slots__ = ("base", "buf", "eof", "pending", "pos", "src")

    def __init__(self, src: ByteSource) -> None:
        self.src = src
        self.buf = b""
        self.pos = 0
        self.base = 0
        self.eof = False
        #: Chunks read after ``buf`` but not yet current.
        self.pending: list[bytes] = []

    @property
    def available(self) -> int:
        """Bytes read after ``pos`` (in ``buf`` and pending chunks)."""
        return len(self.buf) - self.pos + sum(len(c) for c in self.pending)

    @property
    def offset(self) -> int:
        """Stream offset of ``pos``."""
        return self.base + self.pos

    def _read_until(self, need: int) -> int:
        """Read chunks into ``pending`` until ``need`` bytes are available; returns what is."""
        avail = self.available
        while avail < need and not self.eof:
            chunk = self.src.read()
            if not chunk:
                self.eof = True
                break
            self.pending.append(chunk)
            avail += len(chunk)
        return avail

    def peek(self, n: int) -> bytes:
        """The next ``n`` bytes (fewer at the end of input) without consuming them."""
        avail = len(self.buf) - self.pos
        if avail >= n:
            return self.buf[self.pos : self.pos + n]
        self._read_until(n)
        parts = [self.buf[self.pos :]]
        got = avail
        for chunk in self.pending:
            if got >= n:
                break
            parts.append(chunk[: n - got])
            got += len(parts[-1])
        return b"".join(parts)

    def skip(self, n: int) -> None:
        """Consume ``n`` bytes that :meth:`peek` or :meth:`fill` showed to be there."""
        self.pos += n
        while self.pos >= len(self.buf) and self.pending:
            self.pos -= len(self.buf)
            self.base += len(self.buf)
            self.buf = self.pending.pop(0)

    def fill(self, need: int) -> bool:
        """Make ``buf[pos:]`` hold at least ``need`` contiguous bytes; false if the input ends first."""
        avail = len(self.buf) - self.pos
        if avail >= need:
            return True
        self._read_until(need)
        parts = [self.buf[self.pos :]] if avail else []
        parts.extend(self.pending)
        self.pending = []
        self.base += self.pos
        self.pos = 0
        self.buf = b"".join(parts) if len(parts) != 1 else parts[0]
        return len(self.buf) >= need
