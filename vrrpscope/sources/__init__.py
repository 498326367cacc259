"""Capture sources: pcap, pcapng, gzip and standard input, as streams of frames and problems.

    with open_capture("trace.pcapng.gz") as reader:
        for item in reader:
            if isinstance(item, SourceProblem):
                print(item.message(), file=sys.stderr)
            else:
                handle(item)          # a Frame
        print(reader.stats.frames)

See :mod:`vrrpscope.sources.base` for the records and :mod:`vrrpscope.sources.reader` for the
reader's contract (never raises on bad input, bounded memory, optional prefilter).
"""

from __future__ import annotations

from vrrpscope.sources.base import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    SUPPORTED_LINKTYPES,
    CaptureStats,
    Frame,
    SourceProblem,
)
from vrrpscope.sources.context import MAX_BLOCK, MAX_RECORD, Prefilter
from vrrpscope.sources.reader import STDIN_NAME, CaptureReader, open_capture

__all__ = [
    "LINKTYPE_ETHERNET",
    "LINKTYPE_IPV4",
    "LINKTYPE_IPV6",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_RAW",
    "MAX_BLOCK",
    "MAX_RECORD",
    "STDIN_NAME",
    "SUPPORTED_LINKTYPES",
    "CaptureReader",
    "CaptureStats",
    "Frame",
    "Prefilter",
    "SourceProblem",
    "open_capture",
]
