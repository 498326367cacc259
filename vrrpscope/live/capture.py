"""Live capture: one ``AF_PACKET`` raw socket per interface, filtered in the kernel.

Each socket is created with protocol 0 (it receives nothing yet), gets the classic BPF program of
:mod:`vrrpscope.live.bpf` (``SO_ATTACH_FILTER``) and its receive queue, and only then is bound to
its interface with ``ETH_P_ALL``, so no unfiltered frame is ever queued. Options:

* ``SO_TIMESTAMPNS``: the kernel's receive time (``CLOCK_REALTIME``, nanoseconds) of every frame,
  the capture clock, taken when the frame is received (before any packet socket sees it).
* ``PACKET_ADD_MEMBERSHIP`` promiscuous mode (undone by the kernel when the socket closes), to see
  unicast VRRP (keepalived ``unicast_peer``) on a mirror port or hub.
* ``PACKET_STATISTICS``: frames the kernel dropped because the queue was full (read-and-reset by
  the kernel, summed here). The queue is bounded (:data:`RCVBUF_BYTES` per interface); drops are
  counted, never hidden.

Two ways to read frames (:data:`CAPTURE_ENV`, or ``method``):

* ``ring`` (the default): a ``PACKET_RX_RING`` of ``TPACKET_V3`` blocks mapped into the process
  (:class:`PacketRing`). The kernel writes each frame behind a header with its timestamp, lengths,
  the VLAN tag it stripped and its packet type, and hands a whole block over when it is full or
  after :data:`RING_RETIRE_MS`; ``poll`` copies the frames out and hands the block back. No system
  call per frame: about 1.5 µs of CPU per frame, against about 11 µs for ``recvmsg``.
* ``recvmsg``: one ``recvmsg`` per frame, the timestamp and ``struct tpacket_auxdata``
  (``PACKET_AUXDATA``: wire length, stripped VLAN tag) in its ancillary data. Used when the kernel
  refuses the ring (``auto`` then warns).

Both give the same records: the kernel strips the outer VLAN tag before packet sockets see a frame;
:func:`restore_vlan` puts it back (as libpcap does), so segments are named with their VLAN
(``eth0/vlan30``) and written captures show the tag. Timestamps, frame bytes, wire lengths and
direction become :class:`CapturedFrame` records. :class:`LiveCapture` is a
:class:`~vrrpscope.live.source.FrameSource`: ``poll(timeout)`` waits with ``select`` (epoll; a
ring's socket is readable when a block was handed over), never spins, and returns the frames of all
interfaces sorted by time.

Link changes (capture gaps). An interface that goes down, loses its carrier or is deleted stops the
capture on it without ending it: the kernel unhooks the socket (``ENETDOWN`` once), and hooks it
again by itself when the interface comes back up. A deleted interface is gone for good for its
socket: when an interface of the same name appears again (a veth re-created) the socket is
re-opened on it, with the same filter program and options (and a new ring). Each such period is a
:class:`~vrrpscope.live.source.CaptureGap` (from, to, why), found at once through an rtnetlink
socket subscribed to link changes (``RTMGRP_LINK``, also polled in ``select``), an ``ENETDOWN`` on a
packet socket, or at worst the link check every :data:`LINK_CHECK_S`; frames arriving again close a
gap as early as their own timestamps. The other interfaces are unaffected.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import operator
import os
import selectors
import socket
import struct
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

from vrrpscope.live.bpf import (
    BASE_EXPRESSION,
    BUILTIN_PROGRAM,
    FilterBuffer,
    FilterError,
    Instruction,
    combined_expression,
    compile_expression,
    tcpdump_path,
)
from vrrpscope.live.source import CapturedFrame, CaptureError, CaptureGap, InterfaceInfo, InterfaceStats
from vrrpscope.sources.base import LINKTYPE_ETHERNET, LINKTYPE_RAW

# Linux constants Python's socket module does not all export (linux/if_packet.h, asm-generic/socket.h).
ETH_P_ALL = 0x0003  # every protocol
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_AUXDATA = 8
PACKET_VERSION = 10
TPACKET_V3 = 2
TP_STATUS_KERNEL = 0  # block_status: the kernel owns the block (free or being filled)
TP_STATUS_USER = 1  # block_status: retired, ours to read until we hand it back
PACKET_MR_PROMISC = 1
PACKET_OUTGOING = 4  # sll_pkttype of frames this host sent
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35  # also SCM_TIMESTAMPNS, the ancillary message type
TP_STATUS_VLAN_VALID = 0x10  # tp_vlan_tci holds a stripped tag (even VLAN 0)
TP_STATUS_VLAN_TPID_VALID = 0x40  # tp_vlan_tpid is set (else 802.1Q)
ETH_P_8021Q = 0x8100
SIOCGIFFLAGS = 0x8913  # linux/sockios.h
IFF_UP = 0x1
IFF_RUNNING = 0x40
IFF_LOWER_UP = 0x10000  # carrier, as the driver says it now (only in rtnetlink's 32-bit flags)
RTMGRP_LINK = 0x1  # linux/rtnetlink.h: multicast group of link changes
RTM_NEWLINK = 16
RTM_GETLINK = 18
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
IFLA_IFNAME = 3
_NLMSGHDR = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
_IFINFOMSG = struct.Struct("=BxHiII")  # family, (pad), type, index, flags, change

#: ARPHRD_* hardware types (linux/if_arp.h) and the pcap link types their frames are.
HATYPE_LINKTYPES = {1: LINKTYPE_ETHERNET, 772: LINKTYPE_ETHERNET, 0xFFFE: LINKTYPE_RAW}
#: ``struct tpacket_auxdata``: status, len, snaplen, mac, net, vlan_tci, vlan_tpid.
_AUXDATA = struct.Struct("=IIIHHHH")
_TIMESPEC = struct.Struct("=qq")
_STATS = struct.Struct("=II")
#: ``struct tpacket_stats_v3``: packets (drops included), drops, times the ring froze (all blocks ours).
_STATS_V3 = struct.Struct("=III")
#: ``struct tpacket_req3``: block size, block count, frame size, frame count, retire timeout (ms),
#: private area size, feature word.
_TPACKET_REQ3 = struct.Struct("=7I")
#: ``struct tpacket3_hdr`` (next offset, sec, nsec, snaplen, len, status, mac, [net, rxhash skipped],
#: vlan tci, vlan tpid) and, 48 bytes in, the ``sockaddr_ll`` up to ``sll_pkttype``.
_TPACKET3_HDR = struct.Struct("=IIIIIIH2x4xIH20xB")
#: Queue between kernel and user space, per interface: the socket receive buffer (``recvmsg``; the
#: kernel caps it at net.core.rmem_max) or the size of the packet ring (mapped, pinned kernel memory).
RCVBUF_BYTES = 4 << 20
#: Size of one ring block. The kernel hands a block to user space when it is full or after
#: :data:`RING_RETIRE_MS`. A minimum-size Ethernet frame takes 144 bytes of a block (headers and
#: alignment included): 227 per 32 KiB block. The default ring (:data:`RCVBUF_BYTES`) is 128 blocks:
#: about 29,000 such frames, 0.58 s of a 50,000 frames/s storm, and since a block is handed over
#: after :data:`RING_RETIRE_MS` even when nearly empty, at least 128 × 20 ms = 2.6 s of a reader
#: that stalls, at any rate. A frame longer than a block (32,638 bytes) is truncated, its wire
#: length kept; VRRP, ARP and ND frames are far shorter.
RING_BLOCK_BYTES = 32 << 10  # at most MAX_FRAME: frames are never longer than recvmsg would read
#: Longest time a partly filled block waits before the kernel hands it over (milliseconds): the
#: capture latency at low rates. Frames of two interfaces can therefore reach :meth:`LiveCapture.poll`
#: up to this much out of time order (each poll's frames are sorted).
RING_RETIRE_MS = 20
#: How long the frames a ring has not handed over yet may lag behind (seconds): a block is retired
#: one or two timer periods after it was opened. Link changes on a ring's interface wait this long
#: for them before a capture gap's start or end is fixed from the last or first frame, and a
#: deleted interface's ring is read this long before it is closed.
RING_FLUSH_S = 2 * RING_RETIRE_MS / 1000 + 0.01
#: ``tp_frame_size`` told to the kernel. TPACKET_V3 packs frames of any size into a block; the value
#: only has to pass the kernel's checks (aligned, larger than the headers).
_RING_FRAME_BYTES = 2048
#: Environment variable choosing how frames are read: ``auto`` (the default: the ring, or
#: ``recvmsg`` when it cannot be set up), ``ring`` (no fallback) or ``recvmsg``.
CAPTURE_ENV = "VRRPSCOPE_CAPTURE"
CAPTURE_METHODS = ("auto", "ring", "recvmsg")
#: Largest frame read (jumbo frames included); the restored VLAN tag adds 4 bytes.
MAX_FRAME = 65536
#: Frames read from one socket per poll before the loop gets a chance to tick.
READ_BUDGET = 512
#: Longest time between two checks of the interfaces' link state (seconds). A link going down or
#: deleted is notified at once; a carrier change may be notified up to a second late (the kernel's
#: link watcher), so the check reads it every LINK_CHECK_S.
LINK_CHECK_S = 0.1
#: Closed capture gaps remembered (the counters in InterfaceStats keep counting beyond).
GAPS_KEPT = 1000

CAP_NET_RAW_HINT = "run as root or `sudo setcap cap_net_raw+ep $(readlink -f $(which python3))`"


def interface_flags(sock: socket.socket, name: str) -> int | None:
    """The ``IFF_*`` flags of interface ``name`` (``SIOCGIFFLAGS``), ``None`` when there is none."""
    try:
        raw = fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, struct.pack("16sH14x", name.encode()[:15], 0))
    except OSError:
        return None  # gone
    return int(struct.unpack_from("16sH", raw)[1])


def link_up(sock: socket.socket, name: str) -> bool:
    """Whether interface ``name`` is administratively up and has carrier (``SIOCGIFFLAGS``)."""
    flags = interface_flags(sock, name)
    return flags is not None and bool(flags & IFF_UP) and bool(flags & IFF_RUNNING)


def link_state(flags: int | None, carrier: int = IFF_RUNNING) -> str:
    """``up``, ``down`` (administratively), ``no_carrier`` or ``deleted`` (``flags`` ``None``);
    ``carrier`` is the flag that says the link is up (``IFF_LOWER_UP`` from rtnetlink, else
    ``IFF_RUNNING``)."""
    if flags is None:
        return "deleted"
    if not flags & IFF_UP:
        return "down"
    if not flags & carrier:
        return "no_carrier"
    return "up"


class LinkQuery:
    """Ask the kernel (rtnetlink ``RTM_GETLINK``, by name) for an interface's index and flags.

    Its flags include ``IFF_LOWER_UP``, the carrier as the driver reports it at this moment.
    ``IFF_RUNNING`` (what ``SIOCGIFFLAGS`` gives) follows the operational state, which the kernel's
    link watcher updates up to a second late; frames flow meanwhile, so it would misstate a gap.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        try:
            self.sock.bind((0, 0))
            self.sock.settimeout(1.0)
        except OSError:
            self.sock.close()
            raise
        self._seq = 0

    def query(self, name: str) -> tuple[int, int] | None:
        """``(ifindex, flags)`` of ``name``, ``None`` when there is no such interface; ``OSError``
        when the kernel does not answer."""
        self._seq = seq = (self._seq + 1) & 0xFFFFFFFF
        raw = name.encode()[:15] + b"\0"
        attr = struct.pack("=HH", 4 + len(raw), IFLA_IFNAME) + raw + b"\0" * (-len(raw) % 4)
        body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr
        self.sock.send(_NLMSGHDR.pack(_NLMSGHDR.size + len(body), RTM_GETLINK, NLM_F_REQUEST, seq, 0) + body)
        while True:
            data = self.sock.recv(65536)
            pos = 0
            while pos + _NLMSGHDR.size <= len(data):
                length, kind, _flags, mseq, _port = _NLMSGHDR.unpack_from(data, pos)
                if length < _NLMSGHDR.size:
                    break
                at = pos + _NLMSGHDR.size
                pos += (length + 3) & ~3
                if mseq != seq:
                    continue  # the answer to an earlier query that timed out
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", data, at)[0]
                    if code in (errno.ENODEV, errno.ENOENT):
                        return None
                    raise OSError(code, os.strerror(code))
                if kind == RTM_NEWLINK:
                    _family, _type, index, flags, _change = _IFINFOMSG.unpack_from(data, at)
                    return index, flags

    def close(self) -> None:
        """Close the netlink socket."""
        self.sock.close()


def _ifindex(name: str) -> int | None:
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return None


def open_link_monitor() -> socket.socket | None:
    """A non-blocking rtnetlink socket that becomes readable on every link change (``None`` if the
    kernel refuses one: link changes are then found by the periodic check only)."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    except (OSError, AttributeError):
        return None
    try:
        sock.bind((0, RTMGRP_LINK))
        sock.setblocking(False)
    except OSError:
        sock.close()
        return None
    return sock


def restore_vlan(data: bytes, tci: int, tpid: int) -> bytes:
    """Re-insert a VLAN tag the kernel stripped (outermost position, after the MAC addresses)."""
    return data[:12] + struct.pack("!HH", tpid, tci) + data[12:]


def parse_ancillary(
    ancdata: Sequence[tuple[int, int, bytes]],
) -> tuple[int | None, tuple[int, int, int] | None]:
    """``(time_ns, (status, wirelen, vlan))`` from a packet socket's ancillary data.

    ``vlan`` is ``(tpid, tci)`` packed as ``tpid << 16 | tci`` or -1 when no tag was stripped.
    """
    stamp: int | None = None
    aux: tuple[int, int, int] | None = None
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            stamp = sec * 1_000_000_000 + nsec
        elif level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= _AUXDATA.size:
            status, length, _snap, _mac, _net, tci, tpid = _AUXDATA.unpack_from(data)
            vlan = -1
            # libpcap's VLAN_VALID: a non-zero TCI, or the status bit (needed for VLAN 0, priority 0)
            if tci or status & TP_STATUS_VLAN_VALID:
                if not (status & TP_STATUS_VLAN_TPID_VALID) or not tpid:
                    tpid = ETH_P_8021Q
                vlan = tpid << 16 | tci
            aux = (status, length, vlan)
    return stamp, aux


def capture_method(requested: str | None = None) -> str:
    """The capture method to use: ``requested`` if given, else :data:`CAPTURE_ENV`, else ``auto``.

    Raises :class:`~vrrpscope.live.source.CaptureError` for an unknown name.
    """
    if requested is not None:
        if requested not in CAPTURE_METHODS:
            raise CaptureError(f"unknown capture method {requested!r} (use auto, ring or recvmsg)")
        return requested
    method = os.environ.get(CAPTURE_ENV, "").strip().lower() or "auto"
    if method not in CAPTURE_METHODS:
        raise CaptureError(f"{CAPTURE_ENV}={method!r}: unknown capture method (use auto, ring or recvmsg)")
    return method


def ring_geometry(queue_bytes: int) -> tuple[int, int]:
    """``(block size, block count)`` of a ring holding about ``queue_bytes`` (at least one page).

    Blocks are :data:`RING_BLOCK_BYTES` (128 of them by default), smaller for a small queue so it
    still has four blocks (a power of two, at least a page: a tiny queue, e.g. to test drops, is one
    page). A frame longer than a block minus its headers is truncated (``wirelen`` keeps its length).
    """
    block = RING_BLOCK_BYTES
    while block > mmap.PAGESIZE and block * 4 > queue_bytes:
        block //= 2
    return block, max(1, -(-queue_bytes // block))


class RingUnavailable(Exception):
    """The kernel refused a ``PACKET_RX_RING`` (old kernel, no memory, mmap failure): the message says why."""


class PacketRing:
    """A ``PACKET_RX_RING`` of ``TPACKET_V3`` blocks, set up on a packet socket and mapped.

    The kernel writes frames into the current block, each behind a ``tpacket3_hdr`` (timestamp,
    lengths, VLAN tag it stripped) and a ``sockaddr_ll`` (packet type), and hands the block over
    (``block_status`` ``TP_STATUS_USER``, socket readable) when it is full or after ``retire_ms``.
    :meth:`LiveCapture.poll` copies the frames out and hands the block back (``TP_STATUS_KERNEL``).
    Blocks are used in order, so the next block to read is always :attr:`next`. When every block
    is still ours the kernel drops frames and counts them in ``PACKET_STATISTICS``.

    The socket must be unbound or bound with protocol 0 (nothing captured yet). Raises
    :class:`RingUnavailable` when the kernel refuses the ring or the mapping fails.
    """

    __slots__ = ("block_nr", "block_size", "map", "next", "words")

    def __init__(self, sock: socket.socket, queue_bytes: int, retire_ms: int = RING_RETIRE_MS) -> None:
        block_size, block_nr = ring_geometry(queue_bytes)
        frames = block_size // _RING_FRAME_BYTES * block_nr
        try:
            sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
            req = _TPACKET_REQ3.pack(block_size, block_nr, _RING_FRAME_BYTES, frames, retire_ms, 0, 0)
            sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        except (OSError, struct.error) as exc:  # struct.error: a queue too large to describe
            raise RingUnavailable(f"PACKET_RX_RING (TPACKET_V3): {getattr(exc, 'strerror', None) or exc}") from None
        try:
            area = mmap.mmap(sock.fileno(), block_size * block_nr, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except (OSError, ValueError) as exc:
            raise RingUnavailable(f"mmap of the packet ring: {getattr(exc, 'strerror', None) or exc}") from None
        #: The mapped ring; frames are copied out of it by slicing (the memory is reused).
        self.map = area
        #: The ring as 32-bit words: a block's status, frame count and first-frame offset.
        self.words = memoryview(area).cast("I")
        self.block_size = block_size
        self.block_nr = block_nr
        #: Index of the next block to read (the kernel fills them in this order too).
        self.next = 0

    def close(self) -> None:
        """Unmap the ring (the kernel frees it when the socket closes)."""
        self.words.release()
        self.map.close()


_TIME_NS = operator.attrgetter("time_ns")

#: How telling a gap's reason is: a gap takes the most telling state seen while it lasts.
_RANK = {"no_carrier": 1, "down": 2, "failed": 3, "deleted": 4}


@dataclass(slots=True)
class _Iface:
    info: InterfaceInfo
    sock: socket.socket | None  # None while the interface is deleted (or its re-creation unusable)
    stats: InterfaceStats
    program: list[Instruction]
    gap: CaptureGap | None = None
    verified: float = 0.0  # last time the link was seen up (or a frame arrived)
    failed_ifindex: int | None = None  # a re-created interface the socket could not be opened on
    ring: PacketRing | None = None  # the socket's receive ring (None: frames read with recvmsg)
    pending: tuple[float, str] | None = None  # ring: link lost (when, state), gap opened after RING_FLUSH_S
    up_since: float | None = None  # ring: link back up at, gap closed on a frame or after RING_FLUSH_S
    dropping: float | None = None  # ring: interface deleted at, its socket closed after RING_FLUSH_S


class LiveCapture:
    """Capture on one or more interfaces (a :class:`~vrrpscope.live.source.FrameSource`).

    ``extra_filter`` is a tcpdump expression AND-ed with the built-in one (needs tcpdump).
    ``compiler``: ``auto`` (tcpdump when installed, else the hand-written program), ``tcpdump`` or
    ``builtin``. ``rcvbuf``: bytes of the queue between kernel and user space, per interface (the
    ring's size, or the socket receive buffer). ``method``: how frames are read, ``auto`` (a
    ``PACKET_RX_RING``, else ``recvmsg`` with a warning), ``ring`` (an error when the ring cannot
    be set up) or ``recvmsg``; ``None`` takes it from :data:`CAPTURE_ENV` (default ``auto``).
    Raises :class:`~vrrpscope.live.source.CaptureError` with a one-line message for a
    missing interface, a missing capability, an unsupported link type or a bad filter.
    """

    def __init__(
        self,
        interfaces: Sequence[str],
        *,
        extra_filter: str | None = None,
        compiler: str = "auto",
        promiscuous: bool = True,
        rcvbuf: int = RCVBUF_BYTES,
        method: str | None = None,
    ) -> None:
        if not interfaces:
            raise CaptureError("no interface given")
        if compiler not in ("auto", "tcpdump", "builtin"):
            raise ValueError(f"unknown filter compiler {compiler!r}")
        if method is not None and method not in CAPTURE_METHODS:
            raise ValueError(f"unknown capture method {method!r}")
        if len(set(interfaces)) != len(interfaces):
            raise CaptureError("an interface is given twice")
        self.extra_filter = extra_filter
        self.compiler = compiler
        self.promiscuous = promiscuous
        self.rcvbuf = rcvbuf
        self._method = method
        #: Capture method asked for (``auto``, ``ring`` or ``recvmsg``; :data:`CAPTURE_ENV` is read by
        #: :meth:`open`); :attr:`methods` says what each interface uses.
        self.method = method or "auto"
        self._names = list(interfaces)
        self._ifaces: list[_Iface] = []
        self._selector: selectors.BaseSelector | None = None
        self._monitor: socket.socket | None = None
        self._query: LinkQuery | None = None
        self._next_check = 0.0
        #: Closed capture gaps, oldest first (at most :data:`GAPS_KEPT`).
        self.closed_gaps: deque[CaptureGap] = deque(maxlen=GAPS_KEPT)
        self._gap_updates: list[tuple[str, CaptureGap]] = []
        #: True when every socket is open (False before :meth:`open` and after :meth:`close`).
        self.running = False
        #: Set by :meth:`close`; the loop stops once a source is exhausted (never for live capture).
        self.exhausted = False
        #: Which compiler produced the programs (``tcpdump`` or ``builtin``), and the expression.
        self.filter_source = ""
        self.filter_expression = combined_expression(extra_filter)
        #: One-line notes for the user (e.g. a filter compiled for a capture file).
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ FrameSource

    @property
    def interfaces(self) -> list[InterfaceInfo]:
        """The interfaces, in the order given (the index is the frame's ``interface``)."""
        return [i.info for i in self._ifaces]

    @property
    def methods(self) -> list[str]:
        """How frames are read on each interface, in order: ``ring`` or ``recvmsg`` (``none`` while
        an interface has no socket)."""
        return ["none" if i.sock is None else ("ring" if i.ring is not None else "recvmsg") for i in self._ifaces]

    def now(self) -> float:
        """The capture clock now: ``CLOCK_REALTIME``, the clock the kernel stamps frames with."""
        return time.time()

    def open(self) -> None:
        """Open, filter and bind every socket; on any error close what was opened and raise."""
        if self.running:
            return
        self.method = capture_method(self._method)
        selector = selectors.DefaultSelector()
        try:
            for index, name in enumerate(self._names):
                iface = self._open_one(index, name)
                self._ifaces.append(iface)
                assert iface.sock is not None
                selector.register(iface.sock, selectors.EVENT_READ, iface)
        except BaseException:
            selector.close()
            self._close_sockets()
            raise
        self._monitor = open_link_monitor()
        if self._monitor is not None:
            selector.register(self._monitor, selectors.EVENT_READ, None)
        try:
            self._query = LinkQuery()
        except OSError:
            self._query = None  # SIOCGIFFLAGS then (IFF_RUNNING: carrier changes seen later)
        self._selector = selector
        self.running = True
        now = self.now()
        for iface in self._ifaces:
            iface.verified = now
        self._check_links(now, event=True)  # an interface down from the start is a gap from the start

    def _program(self, name: str, linktype: int) -> list[Instruction]:
        want_tcpdump = self.compiler == "tcpdump" or (
            self.compiler == "auto" and (self.extra_filter or tcpdump_path() is not None)
        )
        if self.extra_filter and self.compiler == "builtin":
            raise CaptureError("-f needs tcpdump to compile the expression; it cannot be used with the built-in filter")
        if not want_tcpdump:
            if linktype != LINKTYPE_ETHERNET:
                raise CaptureError(f"{name}: the built-in filter handles Ethernet only; install tcpdump")
            self.filter_source = "builtin"
            self.filter_expression = BASE_EXPRESSION
            return list(BUILTIN_PROGRAM)
        try:
            # for an offline capture of this link type first: checks the syntax, needs no interface
            offline = compile_expression(self.filter_expression, linktype=linktype)
        except FilterError as exc:
            raise CaptureError(str(exc)) from None
        self.filter_source = "tcpdump"
        try:
            # for the live interface: libpcap then also tests tags the kernel stripped (``vlan``)
            return compile_expression(self.filter_expression, interface=name)
        except FilterError as exc:
            # e.g. "That device is not up": the built-in part behaves the same either way
            if self.extra_filter:
                self.warnings.append(
                    f"{name}: {exc.args[0].rsplit(': ', 1)[-1]}: -f compiled as for a capture file, "
                    "so `vlan` in it matches in-packet tags only"
                )
            return offline

    def _open_one(self, index: int, name: str) -> _Iface:
        sock, ifindex, linktype, program, ring = self._open_socket(name, None)
        info = InterfaceInfo(name=name, linktype=linktype, ifindex=ifindex, filter=self.filter_expression, index=index)
        return _Iface(info, sock, InterfaceStats(name, up=link_up(sock, name)), program, ring=ring)

    def _open_socket(
        self, name: str, known: tuple[int, list[Instruction]] | None
    ) -> tuple[socket.socket, int, int, list[Instruction], PacketRing | None]:
        """Open, filter and bind a packet socket on ``name``: ``(socket, ifindex, linktype, program,
        ring)``, with a receive ring unless the method is ``recvmsg`` (``auto`` falls back to
        ``recvmsg`` on a fresh socket when the kernel refuses the ring, with a warning).

        ``known`` (link type, program) re-opens on a re-created interface with the program compiled
        the first time; another link type is then an error.
        """
        if self.method != "recvmsg":
            try:
                return self._open_socket_as(name, known, ring=True)
            except RingUnavailable as exc:
                if self.method == "ring":
                    raise CaptureError(f"{name}: no packet ring: {exc}") from None
                note = f"{name}: no packet ring ({exc}); reading frames one by one (recvmsg)"
                if note not in self.warnings:
                    self.warnings.append(note)
        return self._open_socket_as(name, known, ring=False)

    def _open_socket_as(
        self, name: str, known: tuple[int, list[Instruction]] | None, *, ring: bool
    ) -> tuple[socket.socket, int, int, list[Instruction], PacketRing | None]:
        """:meth:`_open_socket` with or without a ring (:class:`RingUnavailable` when refused)."""
        try:
            ifindex = socket.if_nametoindex(name)
        except OSError:
            if name == "any":
                raise CaptureError(
                    "-i any is not supported: give each interface with its own -i (segments are named after them)"
                ) from None
            raise CaptureError(f"{name}: no such interface") from None
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise CaptureError(f"capturing on {name} needs CAP_NET_RAW: {CAP_NET_RAW_HINT}") from None
        except OSError as exc:
            raise CaptureError(f"{name}: cannot open a packet socket: {exc.strerror or exc}") from None
        rx_ring: PacketRing | None = None
        try:
            sock.bind((name, 0))  # learn the hardware type without receiving anything yet
            hatype = sock.getsockname()[3]
            linktype = HATYPE_LINKTYPES.get(hatype)
            if linktype is None:
                raise CaptureError(f"{name}: unsupported hardware type {hatype} (Ethernet or raw IP only)")
            if known is None:
                program = self._program(name, linktype)
            elif known[0] != linktype:
                raise CaptureError(f"{name}: re-created with another link type ({linktype}, was {known[0]})")
            else:
                program = known[1]
            fprog = FilterBuffer(program)
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog.fprog)
            # Software receive stamps on the skb (CLOCK_REALTIME, taken when the frame is received,
            # before any tap): read from the ancillary data with recvmsg, copied into the ring's
            # tp_sec/tp_nsec with a ring (which otherwise stamps when it copies the frame in).
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            if ring:
                rx_ring = PacketRing(sock, self.rcvbuf)
            else:
                sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
                except OSError:
                    pass  # the default buffer still works; drops are counted either way
            if self.promiscuous:
                mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
                sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            sock.bind((name, ETH_P_ALL))
            sock.setblocking(False)
        except (CaptureError, RingUnavailable):
            if rx_ring is not None:
                rx_ring.close()
            sock.close()
            raise
        except OSError as exc:
            if rx_ring is not None:
                rx_ring.close()
            sock.close()
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise CaptureError(f"capturing on {name} needs CAP_NET_RAW: {CAP_NET_RAW_HINT}") from None
            if exc.errno == errno.ENODEV:
                raise CaptureError(f"{name}: no such interface") from None
            raise CaptureError(f"{name}: {exc.strerror or exc}") from None
        return sock, ifindex, linktype, program, rx_ring

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """Wait up to ``timeout`` seconds for frames; return those read, sorted by time: about
        :data:`READ_BUDGET` per interface and call at most (whole blocks with a ring, whose frames
        arrive when the kernel hands their block over: full, or after :data:`RING_RETIRE_MS`).

        Link changes seen meanwhile open or close capture gaps (:meth:`gap_updates`).
        """
        if self._selector is None:
            raise CaptureError("capture is not open")
        out: list[CapturedFrame] = []
        event = False
        wait = min(max(0.0, timeout), max(0.0, self._next_check - self.now()))
        for key, _mask in self._selector.select(wait):
            iface: _Iface | None = key.data
            if iface is None:
                self._drain_monitor()
                event = True
            elif iface.sock is not None and (
                self._drain_ring(iface, out) if iface.ring is not None else self._drain(iface, out)
            ):
                event = True
        if len(out) > 1:
            out.sort(key=_TIME_NS)
        now = self.now()
        resumed: dict[int, float] = {}
        if out and any(i.gap is not None for i in self._ifaces):
            for f in out:  # frames again on an interface in a gap: it ended no later than the first
                gap = self._ifaces[f.interface].gap
                if gap is not None and f.time > gap.start and f.interface not in resumed:
                    resumed[f.interface] = f.time
            event = event or bool(resumed)
        if event or now >= self._next_check:
            self._check_links(now, event=event, resumed=resumed)
        return out

    def _drain_monitor(self) -> None:
        """Read (and discard) the pending rtnetlink messages: they only say "check the links"."""
        assert self._monitor is not None
        for _ in range(READ_BUDGET):
            try:
                if not self._monitor.recv(65536):
                    return
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # ENOBUFS: messages were lost; the check that follows reads the state anyway

    def _drain(self, iface: _Iface, out: list[CapturedFrame]) -> bool:
        """Read up to :data:`READ_BUDGET` frames of ``iface`` into ``out``; True on a socket error
        (``ENETDOWN``: the link changed)."""
        sock = iface.sock
        assert sock is not None
        index = iface.info.index
        ethernet = iface.info.linktype == LINKTYPE_ETHERNET
        st = iface.stats
        failed = False
        for _ in range(READ_BUDGET):
            try:
                data, ancdata, _flags, addr = sock.recvmsg(MAX_FRAME, 256)
            except (BlockingIOError, InterruptedError):
                return failed
            except OSError as exc:
                # ENETDOWN, reported once: the interface went down or was deleted (the link check
                # tells which). Frames queued before it are still to be read.
                st.errors += 1
                st.last_error = exc.strerror or str(exc)
                if failed:
                    return True
                failed = True
                continue
            stamp, aux = parse_ancillary(ancdata)
            wirelen = len(data)
            if aux is not None:
                wirelen = max(aux[1], len(data))
                if aux[2] >= 0 and ethernet:
                    data = restore_vlan(data, aux[2] & 0xFFFF, aux[2] >> 16)
                    wirelen += 4
            if stamp is None:
                stamp = time.time_ns()
            st.packets += 1
            st.last_packet = stamp / 1e9
            out.append(CapturedFrame(index, stamp, data, wirelen, addr[2] == PACKET_OUTGOING))
        return failed

    def _drain_ring(self, iface: _Iface, out: list[CapturedFrame]) -> bool:
        """Copy the frames of every block the kernel handed over (whole blocks, until at least
        :data:`READ_BUDGET` frames) into ``out`` and hand the blocks back; True on a socket error
        (``ENETDOWN``: the link changed).

        Per frame this is one header unpack, one slice (the copy out of the ring) and the record:
        the same frame bytes, timestamp, lengths, VLAN tag and direction as :meth:`_drain` makes
        from ``recvmsg`` and its ancillary data.
        """
        ring = iface.ring
        sock = iface.sock
        assert ring is not None and sock is not None
        area = ring.map
        words = ring.words
        block_size = ring.block_size
        block_nr = ring.block_nr
        block = ring.next
        index = iface.info.index
        ethernet = iface.info.linktype == LINKTYPE_ETHERNET
        unpack = _TPACKET3_HDR.unpack_from
        frame = CapturedFrame
        append = out.append
        read = 0
        stamp = 0
        while read < READ_BUDGET:
            word = block * block_size >> 2  # the block descriptor: version, priv offset, then tpacket_hdr_v1
            # The kernel sets block_status last, after a write barrier; reading it before the
            # block's contents is enough on x86 (loads are not reordered with older loads). Weakly
            # ordered CPUs would want an acquire load here, which Python cannot express.
            if not words[word + 2] & TP_STATUS_USER:
                break
            count = words[word + 3]
            at = block * block_size + words[word + 4]
            for _ in range(count):
                # snap <= length (the wire length), and snap < MAX_FRAME: a frame fits in a block
                step, sec, nsec, snap, length, status, mac, tci, tpid, pkttype = unpack(area, at)
                data = area[at + mac : at + mac + snap]
                # libpcap's VLAN_VALID: a non-zero TCI, or the status bit (needed for VLAN 0, priority 0)
                if (tci or status & TP_STATUS_VLAN_VALID) and ethernet:
                    if not (status & TP_STATUS_VLAN_TPID_VALID) or not tpid:
                        tpid = ETH_P_8021Q
                    data = restore_vlan(data, tci, tpid)
                    length += 4
                stamp = sec * 1_000_000_000 + nsec
                append(frame(index, stamp, data, length, pkttype == PACKET_OUTGOING))
                at += step
            words[word + 2] = TP_STATUS_KERNEL  # copied out: the kernel may fill the block again
            read += count
            block += 1
            if block == block_nr:
                block = 0
        ring.next = block
        if read:
            st = iface.stats
            st.packets += read
            st.last_packet = stamp / 1e9
        # A link going down sets the socket's error (the ring then reports readable with no block):
        # read and clear it, as recvmsg would have raised it once.
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            iface.stats.errors += 1
            iface.stats.last_error = os.strerror(err)
            return True
        return False

    # ------------------------------------------------------------------ link changes and gaps

    def _check_links(self, now: float, *, event: bool, resumed: dict[int, float] | None = None) -> None:
        """Bring every interface's link state up to date, opening and closing gaps.

        ``event``: the check follows a link notification, so a change happened just now; after a
        periodic check it happened since the last one, and a gap is taken to start then (never
        shorter than it may have been). ``resumed``: first frame time after a gap, per interface.
        """
        self._next_check = now + LINK_CHECK_S
        for iface in self._ifaces:
            self._check(iface, now, event, (resumed or {}).get(iface.info.index))

    def _link(self, name: str, sock: socket.socket | None) -> tuple[int | None, int | None, int]:
        """``(ifindex, flags, carrier flag)`` of ``name`` (``None``s when it does not exist)."""
        if self._query is not None:
            try:
                found = self._query.query(name)
            except (OSError, struct.error):
                pass  # no (usable) answer this time: ask the old way
            else:
                if found is None:
                    return None, None, IFF_LOWER_UP
                return found[0], found[1], IFF_LOWER_UP
        ifindex = _ifindex(name)
        flags = interface_flags(sock, name) if (ifindex is not None and sock is not None) else None
        return ifindex, flags, IFF_RUNNING

    def _wake(self, at: float) -> None:
        """Check the links again no later than ``at``."""
        self._next_check = min(self._next_check, at)

    def _check(self, iface: _Iface, now: float, event: bool, first_frame: float | None) -> None:
        """Bring one interface's link state up to date.

        With a ring, frames received up to :data:`RING_FLUSH_S` ago may not have been handed over
        yet. So a gap whose start comes from the last sign of life is opened that much later (its
        start then accounts for every frame received before it), a gap is closed at the first frame
        after it or, when none came, that much after the link was seen up again, and a deleted
        interface's ring is read that much longer before its socket is closed.
        """
        name = iface.info.name or ""
        st = iface.stats
        ifindex, flags, carrier = self._link(name, iface.sock)
        if ifindex is None:
            if iface.sock is not None:
                if iface.ring is not None and iface.dropping is None:
                    iface.dropping = now  # the kernel still hands over the ring's last block
                if iface.ring is None or now >= (iface.dropping or now) + RING_FLUSH_S:
                    self._drop_socket(iface)
                else:
                    self._wake((iface.dropping or now) + RING_FLUSH_S)
            state = "deleted"
        else:
            if iface.sock is None or ifindex != iface.info.ifindex:
                if iface.failed_ifindex != ifindex:
                    self._reopen(iface, ifindex, now, event)
                    ifindex, flags, carrier = self._link(name, iface.sock)
            if iface.sock is None:
                state = "failed"
            elif flags is None:  # the old way, before the socket existed
                state = link_state(interface_flags(iface.sock, name))
            else:
                state = link_state(flags, carrier)
        flush = RING_FLUSH_S if iface.ring is not None else 0.0
        if state == "up":
            self._open_pending(iface)  # lost and back within RING_FLUSH_S: still a gap
            if iface.gap is not None:
                if iface.up_since is None:
                    iface.up_since = now
                if first_frame is None and now < iface.up_since + flush:
                    self._wake(iface.up_since + flush)  # frames since it came back may still be in the ring
                else:
                    end = iface.up_since if first_frame is None else min(iface.up_since, first_frame)
                    self._close_gap(iface, max(end, iface.gap.start), resumed=True)
            iface.verified = now
        else:
            iface.up_since = None
            if iface.gap is None:
                if iface.pending is None and flush and (not event or state == "no_carrier"):
                    iface.pending = (now, state)  # its start comes from the last frame: wait for it
                if iface.pending is None:
                    self._open_gap(iface, now, event, state)
                elif not flush or now >= iface.pending[0] + flush:
                    self._open_pending(iface)
                else:
                    self._wake(iface.pending[0] + flush)
            if iface.gap is not None and _RANK[state] > _RANK.get(iface.gap.reason, 0):
                iface.gap = replace(iface.gap, reason=state)  # e.g. carrier lost first, then set down
        st.state = state
        st.up = state == "up"

    def _open_pending(self, iface: _Iface) -> None:
        """Open the gap of a link loss held back for the ring's last frames (if any)."""
        if iface.pending is not None:
            since, reason = iface.pending
            iface.pending = None
            self._open_gap(iface, since, False, reason)

    def _open_gap(self, iface: _Iface, now: float, event: bool, reason: str) -> None:
        st = iface.stats
        start = now
        if not event or reason == "no_carrier":
            # Found by the periodic check, or a carrier change (notified up to a second late): it
            # began after the last sign of life, the previous check or frame. Down and deleted are
            # notified at once.
            start = max(iface.verified, st.last_packet or 0.0)
        gap = CaptureGap(iface.info.name, iface.info.index, min(start, now), None, reason)
        iface.gap = gap
        st.gaps += 1
        st.gap_since = gap.start
        self._gap_updates.append(("open", gap))

    def _close_gap(self, iface: _Iface, end: float, *, resumed: bool) -> None:
        gap = iface.gap
        if gap is None:
            return
        done = replace(gap, end=end, resumed=resumed)
        iface.gap = None
        iface.up_since = None
        st = iface.stats
        st.gap_seconds += done.duration(end)
        st.gap_since = None
        self.closed_gaps.append(done)
        self._gap_updates.append(("closed", done))

    def _drop_socket(self, iface: _Iface) -> None:
        """Close the socket of a deleted interface (its last kernel drops folded in first)."""
        sock = iface.sock
        if sock is None:
            return
        self._fold_drops(iface)
        if self._selector is not None:
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
        if iface.ring is not None:
            iface.ring.close()  # frames still in it are lost with the interface, as in a socket queue
            iface.ring = None
        sock.close()
        iface.sock = None
        iface.dropping = None

    def _reopen(self, iface: _Iface, ifindex: int, now: float, event: bool) -> None:
        """The interface was re-created under its name: capture on the new one, same filter."""
        name = iface.info.name or ""
        if iface.sock is not None:  # deleted and re-created between two checks
            self._drop_socket(iface)
        self._open_pending(iface)
        if iface.gap is None:
            self._open_gap(iface, now, event, "deleted")
        elif _RANK["deleted"] > _RANK.get(iface.gap.reason, 0):
            iface.gap = replace(iface.gap, reason="deleted")
        try:
            sock, new_index, linktype, program, ring = self._open_socket(name, (iface.info.linktype, iface.program))
        except CaptureError as exc:
            iface.failed_ifindex = ifindex
            iface.stats.errors += 1
            iface.stats.last_error = str(exc)
            return
        iface.sock = sock
        iface.ring = ring  # a new ring for the new socket
        iface.program = program
        iface.failed_ifindex = None
        iface.info = replace(iface.info, ifindex=new_index, linktype=linktype)
        if iface.gap is not None and not iface.gap.recreated:
            iface.gap = replace(iface.gap, recreated=True)
        if self._selector is not None:
            self._selector.register(sock, selectors.EVENT_READ, iface)

    def gap_updates(self) -> list[tuple[str, CaptureGap]]:
        """Capture gaps opened (``("open", gap)``) or closed (``("closed", gap)``) since the last call."""
        out, self._gap_updates = self._gap_updates, []
        return out

    def capture_gaps(self) -> list[CaptureGap]:
        """Every gap kept: the closed ones, then those still open (``end`` ``None``), by start."""
        open_ = [i.gap for i in self._ifaces if i.gap is not None]
        return sorted([*self.closed_gaps, *open_], key=lambda g: (g.start, g.index))

    # ------------------------------------------------------------------ counters and closing

    def _fold_drops(self, iface: _Iface) -> None:
        if iface.sock is None:
            return
        layout = _STATS_V3 if iface.ring is not None else _STATS
        try:
            raw = iface.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, layout.size)
            drops = layout.unpack_from(raw)[1]  # tp_packets counts drops too; tp_freeze_q_cnt not kept
            iface.stats.kernel_drops += drops  # the kernel resets its counters on each read
        except (OSError, struct.error):
            pass

    def stats(self) -> list[InterfaceStats]:
        """Per-interface counters, with the kernel's drop count and the link state brought up to date."""
        if self.running:
            for iface in self._ifaces:
                self._fold_drops(iface)
            self._check_links(self.now(), event=False)
        return [i.stats for i in self._ifaces]

    def close(self) -> None:
        """Close every socket (the kernel leaves promiscuous mode with them); a gap still open ends
        at the stop, not resumed. Idempotent."""
        if self.running:
            self.stats()  # fold in the last drops
            now = self.now()
            for iface in self._ifaces:
                self._open_pending(iface)
                if iface.gap is not None:
                    if iface.up_since is not None:  # back up, its first frames not seen yet
                        self._close_gap(iface, max(iface.up_since, iface.gap.start), resumed=True)
                    else:
                        self._close_gap(iface, max(now, iface.gap.start), resumed=False)
        self.running = False
        for iface in self._ifaces:
            iface.stats.up = False
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        self._close_sockets()

    def _close_sockets(self) -> None:
        for iface in self._ifaces:
            if iface.ring is not None:
                iface.ring.close()
                iface.ring = None
            if iface.sock is not None:
                iface.sock.close()
        if self._monitor is not None:
            self._monitor.close()
            self._monitor = None
        if self._query is not None:
            self._query.close()
            self._query = None

    def __enter__(self) -> LiveCapture:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
