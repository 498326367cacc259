"""``watch -w FILE``: the captured frames as pcapng, flushed regularly, rotated by size.

Layout of every file (pcapng, draft-ietf-opsawg-pcapng): a Section Header Block naming vrrpscope,
one Interface Description Block per capture interface (``if_name``, ``if_tsresol`` = 9 for
nanosecond timestamps, ``if_filter`` with the filter expression), Enhanced Packet Blocks (with
``epb_flags`` inbound/outbound), and at the end Interface Statistics Blocks with ``isb_ifrecv`` and
``isb_ifdrop`` (the kernel's drop count, which ``analyze`` reports as capture loss). A capture gap
(the interface down, without carrier or deleted) is recorded when it ends as an extra statistics
block of that interface: ``isb_starttime``/``isb_endtime`` the gap, ``opt_comment`` what it was
(Wireshark shows it; frames in it are unknown, so no count is made up).

Interfaces get pcapng ids in the order they first appear and every rotated file repeats their IDBs
in that order, so each file stands alone. Rotation (``rotate_bytes``): when the current file reaches
the size, it is closed and renamed ``FILE.1`` (``FILE.1`` becomes ``FILE.2`` ...), keeping at most
``rotate_count`` files including the current ``FILE``. Memory is one buffered file.

Re-opening (:meth:`PcapngWriter.reopen`, ``watch`` on SIGHUP, for logrotate): when ``FILE`` was
moved away (or replaced, or truncated in place), the old file is finished (statistics blocks
written, flushed, closed) and a new ``FILE`` started with its own section header and interface
blocks; when ``FILE`` is still the file being written, nothing happens (it is never truncated).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from typing import BinaryIO

from vrrpscope import __version__
from vrrpscope.live.source import CapturedFrame, CaptureGap, InterfaceInfo, InterfaceStats

BLOCK_SHB = 0x0A0D0D0A  # section header
BLOCK_IDB = 0x00000001  # interface description
BLOCK_EPB = 0x00000006  # enhanced packet
BLOCK_ISB = 0x00000005  # interface statistics
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_ENDOFOPT = 0
SHB_USERAPPL = 4
IF_NAME = 2
IF_TSRESOL = 9
IF_FILTER = 11
EPB_FLAGS = 2
OPT_COMMENT = 1
ISB_STARTTIME = 2
ISB_ENDTIME = 3
ISB_IFRECV = 4
ISB_IFDROP = 5
#: epb_flags direction bits (bits 0-1): 1 inbound, 2 outbound.
EPB_INBOUND = 1
EPB_OUTBOUND = 2
#: Snapshot length announced in the IDBs.
SNAPLEN = 262144


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _options(opts: Sequence[tuple[int, bytes]]) -> bytes:
    if not opts:
        return b""
    return b"".join(_option(c, v) for c, v in opts) + struct.pack("<HH", OPT_ENDOFOPT, 0)


def _block(kind: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", kind, total) + body + struct.pack("<I", total)


def section_header() -> bytes:
    """A Section Header Block (little-endian, version 1.0, unknown section length)."""
    body = struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1)
    body += _options([(SHB_USERAPPL, f"vrrpscope {__version__} (watch)".encode())])
    return _block(BLOCK_SHB, body)


def interface_block(info: InterfaceInfo | None) -> bytes:
    """An Interface Description Block with nanosecond timestamps."""
    linktype = info.linktype if info is not None else 1
    opts: list[tuple[int, bytes]] = []
    if info is not None and info.name:
        opts.append((IF_NAME, info.name.encode("utf-8", "replace")))
    opts.append((IF_TSRESOL, bytes([9])))
    if info is not None and info.filter:
        opts.append((IF_FILTER, b"\0" + info.filter.encode()))
    return _block(BLOCK_IDB, struct.pack("<HHI", linktype, 0, SNAPLEN) + _options(opts))


def packet_block(interface_id: int, frame: CapturedFrame) -> bytes:
    """An Enhanced Packet Block for ``frame`` (timestamp in nanoseconds)."""
    ts = frame.time_ns
    head = struct.pack("<IIIII", interface_id, (ts >> 32) & 0xFFFFFFFF, ts & 0xFFFFFFFF, len(frame.data), frame.wirelen)
    flags = EPB_OUTBOUND if frame.outgoing else EPB_INBOUND
    return _block(BLOCK_EPB, head + _pad(frame.data) + _options([(EPB_FLAGS, struct.pack("<I", flags))]))


def _stamp(time_ns: int) -> bytes:
    return struct.pack("<II", (time_ns >> 32) & 0xFFFFFFFF, time_ns & 0xFFFFFFFF)


def statistics_block(
    interface_id: int,
    time_ns: int,
    received: int,
    dropped: int,
    *,
    span: tuple[int, int] | None = None,
    comment: str = "",
) -> bytes:
    """An Interface Statistics Block with frames received and dropped by the kernel; ``span``
    (start, end in ns) and ``comment`` describe a capture gap."""
    head = struct.pack("<I", interface_id) + _stamp(time_ns)
    opts: list[tuple[int, bytes]] = []
    if comment:
        opts.append((OPT_COMMENT, comment.encode("utf-8", "replace")))
    if span is not None:
        opts += [(ISB_STARTTIME, _stamp(span[0])), (ISB_ENDTIME, _stamp(span[1]))]
    opts += [(ISB_IFRECV, struct.pack("<Q", received)), (ISB_IFDROP, struct.pack("<Q", dropped))]
    return _block(BLOCK_ISB, head + _options(opts))


class PcapngWriter:
    """Write frames to ``path`` as pcapng, rotating at ``rotate_bytes`` (``None``: never).

    ``stats`` (optional) returns per-interface counters, in interface-index order, for the
    statistics blocks written when a file is closed.
    """

    def __init__(
        self,
        path: str,
        *,
        rotate_bytes: int | None = None,
        rotate_count: int = 10,
        stats: Callable[[], list[InterfaceStats]] | None = None,
    ) -> None:
        if rotate_bytes is not None and rotate_bytes <= 0:
            raise ValueError("rotate_bytes must be positive")
        if rotate_count < 1:
            raise ValueError("rotate_count must be at least 1")
        self.path = path
        self.rotate_bytes = rotate_bytes
        self.rotate_count = rotate_count
        self.stats_provider = stats
        self._known: list[tuple[int, InterfaceInfo | None]] = []
        self._ids: dict[int, int] = {}
        self._fh: BinaryIO | None = None
        self._size = 0
        self._last_ns = 0
        self._dirty = False
        #: Frames written (all files), files started, rotations done, and re-opens (SIGHUP).
        self.frames = 0
        self.files = 0
        self.rotations = 0
        self.reopens = 0
        #: Frames written to the current file.
        self.file_frames = 0
        self._open()

    def _open(self) -> None:
        self._fh = open(self.path, "wb")
        self.files += 1
        self._size = 0
        self.file_frames = 0
        self._emit(section_header())
        for _index, info in self._known:
            self._emit(interface_block(info))

    def _emit(self, data: bytes) -> None:
        assert self._fh is not None
        self._fh.write(data)
        self._size += len(data)
        self._dirty = True

    def add_interface(self, index: int, info: InterfaceInfo | None) -> int:
        """Describe source interface ``index`` (once); return its pcapng interface id."""
        if self._fh is None:
            raise ValueError("writer is closed")
        pid = self._ids.get(index)
        if pid is None:
            pid = self._ids[index] = len(self._known)
            self._known.append((index, info))
            self._emit(interface_block(info))
        return pid

    def write(self, frame: CapturedFrame, info: InterfaceInfo | None = None) -> None:
        """Append one frame (its interface's IDB first, the first time the interface is seen)."""
        pid = self._ids.get(frame.interface)
        if pid is None:
            pid = self.add_interface(frame.interface, info)
        if self._fh is None:
            raise ValueError("writer is closed")
        self._emit(packet_block(pid, frame))
        self.frames += 1
        self.file_frames += 1
        self._last_ns = max(self._last_ns, frame.time_ns)
        if self.rotate_bytes is not None and self._size >= self.rotate_bytes:
            self.rotate()

    def flush(self) -> None:
        """Push buffered bytes to the file (called every tick by the loop)."""
        if self._fh is not None and self._dirty:
            self._fh.flush()
            self._dirty = False

    def _write_stats(self, stats: list[InterfaceStats] | None) -> None:
        if stats is None and self.stats_provider is not None:
            stats = self.stats_provider()
        if not stats:
            return
        for index, pid in sorted(self._ids.items(), key=lambda kv: kv[1]):
            if 0 <= index < len(stats):
                st = stats[index]
                self._emit(statistics_block(pid, self._last_ns, st.packets, st.kernel_drops))

    def rotate(self) -> None:
        """Close the current file, shift ``FILE`` -> ``FILE.1`` -> ``FILE.2`` ..., start a new ``FILE``."""
        if self._fh is None:
            return
        self._write_stats(None)
        self._fh.close()
        self._fh = None
        keep = self.rotate_count
        if keep > 1:
            oldest = f"{self.path}.{keep - 1}"
            if os.path.exists(oldest):
                os.unlink(oldest)
            for k in range(keep - 2, 0, -1):
                src = f"{self.path}.{k}"
                if os.path.exists(src):
                    os.replace(src, f"{self.path}.{k + 1}")
            os.replace(self.path, f"{self.path}.1")
        self.rotations += 1
        self._open()

    def mark_gap(self, gap: CaptureGap, stats: InterfaceStats | None = None) -> None:
        """Record a capture gap that ended (an interface statistics block, see the module docstring)."""
        pid = self._ids.get(gap.index)
        if self._fh is None or pid is None or gap.end is None:
            return
        start, end = round(gap.start * 1e9), round(gap.end * 1e9)
        how = "capture resumed" if gap.resumed else "capture stopped"
        if gap.recreated:
            how = "interface re-created, " + how
        comment = (
            f"capture gap: {gap.interface or '?'} {gap.reason} for {gap.duration(gap.end):.3f} s ({how}); "
            "frames in it are unknown"
        )
        received, dropped = (stats.packets, stats.kernel_drops) if stats is not None else (0, 0)
        self._emit(statistics_block(pid, end, received, dropped, span=(start, end), comment=comment))

    def reopen(self) -> bool:
        """Start a new ``FILE`` if the current one was moved away, replaced or truncated (logrotate's
        ``create`` or ``copytruncate``); True when a new file was started.

        The new file is opened first: if that fails (``OSError`` raised), the old one stays open and
        frames keep going to it. A file that was truncated in place is not finished with statistics
        blocks (its content is gone; they would land after a hole): it is simply started again.
        """
        if self._fh is None:
            raise ValueError("writer is closed")
        self._fh.flush()
        self._dirty = False
        current = os.fstat(self._fh.fileno())
        try:
            at_path = os.stat(self.path)
        except FileNotFoundError:
            at_path = None
        same = at_path is not None and (at_path.st_dev, at_path.st_ino) == (current.st_dev, current.st_ino)
        truncated = same and current.st_size < self._size
        if same and not truncated:
            return False  # not rotated: keep writing (never truncate a file still in use)
        fresh = open(self.path, "wb")  # raises: the old file is kept
        old = self._fh
        if not truncated:
            self._write_stats(None)
        old.close()
        self._fh = fresh
        self.files += 1
        self.reopens += 1
        self._size = 0
        self.file_frames = 0
        self._emit(section_header())
        for _index, info in self._known:
            self._emit(interface_block(info))
        self.flush()
        return True

    def close(self, stats: list[InterfaceStats] | None = None) -> None:
        """Write the statistics blocks and close the file. Idempotent."""
        if self._fh is None:
            return
        self._write_stats(stats)
        self._fh.close()
        self._fh = None
