"""Records shared by the pipeline stages after dissection.

A :class:`Packet` is one decoded VRRP/CARP/ARP/ND observation placed in its capture context
(file, frame number, capture time, segment). It is what the reconstructor is fed, one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from dissectors.records import IpInfo, LinkInfo, Message


@dataclass(frozen=True, slots=True)
class FrameRef:
    """Where a packet can be found: index into the input file list, file name, 1-based frame number."""

    file_index: int
    file: str
    frame: int


@dataclass(frozen=True, slots=True)
class Packet:
    """A decoded observation in capture context.

    ``segment`` is the capture interface plus VLAN tags, e.g. ``eth0/vlan30`` or ``if0/vlan100.30``
    (see :func:`vrrpscope.pipeline.segment_name`); groups on different segments are never merged.
    ``time`` is epoch seconds on the capture clock. ``file_index`` indexes the list of input files
    (each file is a vantage point).
    """

    file_index: int
    file: str
    frame: int
    time: float
    segment: str
    link: LinkInfo
    ip: IpInfo | None
    message: Message
    wirelen: int = 0

    @property
    def ref(self) -> FrameRef:
        """The :class:`FrameRef` citing this packet."""
        return FrameRef(self.file_index, self.file, self.frame)
