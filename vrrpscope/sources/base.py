"""Records every capture source yields: frames, problems, and per-capture statistics.

A source is an iterator of :class:`Frame` | :class:`SourceProblem`. It never raises for bad input:
damage becomes a :class:`SourceProblem` naming file, frame and byte offset, and reading goes on
where that is possible (``fatal`` false) or stops cleanly (``fatal`` true). Timestamps are on the
capture clock, as float epoch seconds, for microsecond and nanosecond captures alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Link types understood natively (LINKTYPE_* numbers from tcpdump.org/linktypes.html).
LINKTYPE_ETHERNET = 1  # IEEE 802.3 Ethernet
LINKTYPE_RAW = 101  # raw IPv4 or IPv6, version from the first nibble
LINKTYPE_LINUX_SLL = 113  # Linux cooked capture v1 (tcpdump -i any, older libpcap)
LINKTYPE_IPV4 = 228  # raw IPv4
LINKTYPE_IPV6 = 229  # raw IPv6
LINKTYPE_LINUX_SLL2 = 276  # Linux cooked capture v2 (carries the interface index)

SUPPORTED_LINKTYPES = frozenset(
    {LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2}
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame.

    ``number`` is 1-based in file order (Wireshark's ``frame.number``); ``time`` is epoch seconds on
    the capture clock (``if_tsoffset`` and ``if_tsresol`` applied); ``interface`` is the pcapng
    interface id (0 for classic pcap) and ``interface_name`` its ``if_name`` option when given.
    ``data`` holds ``caplen`` bytes; ``wirelen`` is the original length on the wire.
    """

    number: int
    time: float
    linktype: int
    data: bytes
    wirelen: int
    interface: int = 0
    interface_name: str | None = None
    file: str = ""


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """Damage or an unsupported feature met while reading a capture.

    ``reason`` is a stable id: ``bad_magic``, ``truncated_header``, ``truncated_record``,
    ``truncated_block``, ``caplen_exceeds_snaplen``, ``record_too_large``, ``bad_block_length``,
    ``unknown_linktype``, ``unknown_interface``, ``bad_byte_order``, ``gzip_error``, ``unreadable``.
    ``frame`` is the number of the frame concerned (or the one that would have come next),
    ``offset`` the byte offset in the (decompressed) stream. ``fatal`` means reading stopped there.
    """

    file: str
    frame: int | None
    offset: int
    reason: str
    detail: str
    fatal: bool = False

    def message(self) -> str:
        """One line for stderr: ``FILE: frame N (offset O): detail``."""
        where = f"frame {self.frame}" if self.frame is not None else "header"
        return f"{self.file}: {where} (byte offset {self.offset}): {self.detail}"


@dataclass(slots=True)
class CaptureStats:
    """Counters a source keeps while it is read; reported in ``input`` of the JSON output.

    ``dropped`` sums pcapng ISB ``isb_ifdrop`` (the latest value per interface; capture loss at the
    capturing host), ``problems`` counts :class:`SourceProblem` records yielded.
    """

    file: str
    frames: int = 0
    bytes: int = 0
    dropped: int = 0
    problems: int = 0
    linktypes: set[int] = field(default_factory=set)
    interfaces: dict[int, str | None] = field(default_factory=dict)
    first_time: float | None = None
    last_time: float | None = None
