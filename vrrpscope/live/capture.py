"""Live capture: one ``AF_PACKET`` raw socket per interface, filtered in the kernel.

Each socket is created with protocol 0 (it receives nothing yet), gets the classic BPF program of
:mod:`vrrpscope.live.bpf` (``SO_ATTACH_FILTER``), and only then is bound to its interface with
``ETH_P_ALL``, so no unfiltered frame is ever queued. Options:

* ``PACKET_AUXDATA``: the kernel strips the outer VLAN tag before packet sockets see a frame and
  reports it in ``struct tpacket_auxdata``; :func:`restore_vlan` puts it back (as libpcap does), so
  segments are named with their VLAN (``eth0/vlan30``) and written captures show the tag.
* ``SO_TIMESTAMPNS``: the kernel's receive time (``CLOCK_REALTIME``, nanoseconds) of every frame,
  the capture clock.
* ``PACKET_ADD_MEMBERSHIP`` promiscuous mode (undone by the kernel when the socket closes), to see
  unicast VRRP (keepalived ``unicast_peer``) on a mirror port or hub.
* ``PACKET_STATISTICS``: frames the kernel dropped because the socket buffer was full (read-and-
  reset by the kernel, summed here). The socket buffer is the bounded queue between kernel and
  user space; drops are counted, never hidden.

Timestamps, frame bytes and wire lengths become :class:`CapturedFrame` records. :class:`LiveCapture`
is a :class:`~vrrpscope.live.source.FrameSource`: ``poll(timeout)`` waits with ``select`` (epoll),
never spins, and returns the frames of all interfaces sorted by time.
"""

from __future__ import annotations

import errno
import fcntl
import selectors
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

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
from vrrpscope.live.source import CapturedFrame, CaptureError, InterfaceInfo, InterfaceStats
from vrrpscope.sources.base import LINKTYPE_ETHERNET, LINKTYPE_RAW

# Linux constants Python's socket module does not all export (linux/if_packet.h, asm-generic/socket.h).
ETH_P_ALL = 0x0003  # every protocol
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_STATISTICS = 6
PACKET_AUXDATA = 8
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

#: ARPHRD_* hardware types (linux/if_arp.h) and the pcap link types their frames are.
HATYPE_LINKTYPES = {1: LINKTYPE_ETHERNET, 772: LINKTYPE_ETHERNET, 0xFFFE: LINKTYPE_RAW}
#: ``struct tpacket_auxdata``: status, len, snaplen, mac, net, vlan_tci, vlan_tpid.
_AUXDATA = struct.Struct("=IIIHHHH")
_TIMESPEC = struct.Struct("=qq")
_STATS = struct.Struct("=II")
#: Receive buffer asked for each socket (the kernel caps it at net.core.rmem_max unless root).
RCVBUF_BYTES = 4 << 20
#: Largest frame read (jumbo frames included); the restored VLAN tag adds 4 bytes.
MAX_FRAME = 65536
#: Frames read from one socket per poll before the loop gets a chance to tick.
READ_BUDGET = 512

CAP_NET_RAW_HINT = "run as root or `sudo setcap cap_net_raw+ep $(readlink -f $(which python3))`"


def link_up(sock: socket.socket, name: str) -> bool:
    """Whether interface ``name`` is administratively up and has carrier (``SIOCGIFFLAGS``)."""
    try:
        raw = fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, struct.pack("16sH14x", name.encode()[:15], 0))
    except OSError:
        return False  # gone
    flags = struct.unpack_from("16sH", raw)[1]
    return bool(flags & IFF_UP) and bool(flags & IFF_RUNNING)


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


@dataclass(slots=True)
class _Iface:
    info: InterfaceInfo
    sock: socket.socket
    stats: InterfaceStats


class LiveCapture:
    """Capture on one or more interfaces (a :class:`~vrrpscope.live.source.FrameSource`).

    ``extra_filter`` is a tcpdump expression AND-ed with the built-in one (needs tcpdump).
    ``compiler``: ``auto`` (tcpdump when installed, else the hand-written program), ``tcpdump`` or
    ``builtin``. Raises :class:`~vrrpscope.live.source.CaptureError` with a one-line message for a
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
    ) -> None:
        if not interfaces:
            raise CaptureError("no interface given")
        if compiler not in ("auto", "tcpdump", "builtin"):
            raise ValueError(f"unknown filter compiler {compiler!r}")
        if len(set(interfaces)) != len(interfaces):
            raise CaptureError("an interface is given twice")
        self.extra_filter = extra_filter
        self.compiler = compiler
        self.promiscuous = promiscuous
        self.rcvbuf = rcvbuf
        self._names = list(interfaces)
        self._ifaces: list[_Iface] = []
        self._selector: selectors.BaseSelector | None = None
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

    def now(self) -> float:
        """The capture clock now: ``CLOCK_REALTIME``, the clock the kernel stamps frames with."""
        return time.time()

    def open(self) -> None:
        """Open, filter and bind every socket; on any error close what was opened and raise."""
        if self.running:
            return
        selector = selectors.DefaultSelector()
        try:
            for index, name in enumerate(self._names):
                iface = self._open_one(index, name)
                self._ifaces.append(iface)
                selector.register(iface.sock, selectors.EVENT_READ, iface)
        except BaseException:
            selector.close()
            self._close_sockets()
            raise
        self._selector = selector
        self.running = True

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
        try:
            sock.bind((name, 0))  # learn the hardware type without receiving anything yet
            hatype = sock.getsockname()[3]
            linktype = HATYPE_LINKTYPES.get(hatype)
            if linktype is None:
                raise CaptureError(f"{name}: unsupported hardware type {hatype} (Ethernet or raw IP only)")
            program = self._program(name, linktype)
            fprog = FilterBuffer(program)
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog.fprog)
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            except OSError:
                pass  # the default buffer still works; drops are counted either way
            if self.promiscuous:
                mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
                sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            sock.bind((name, ETH_P_ALL))
            sock.setblocking(False)
        except CaptureError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise CaptureError(f"capturing on {name} needs CAP_NET_RAW: {CAP_NET_RAW_HINT}") from None
            if exc.errno == errno.ENODEV:
                raise CaptureError(f"{name}: no such interface") from None
            raise CaptureError(f"{name}: {exc.strerror or exc}") from None
        info = InterfaceInfo(name=name, linktype=linktype, ifindex=ifindex, filter=self.filter_expression, index=index)
        return _Iface(info, sock, InterfaceStats(name, up=link_up(sock, name)))

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """Wait up to ``timeout`` seconds for frames; return everything queued, sorted by time."""
        if self._selector is None:
            raise CaptureError("capture is not open")
        out: list[CapturedFrame] = []
        for key, _mask in self._selector.select(max(0.0, timeout)):
            iface: _Iface = key.data
            self._drain(iface, out)
        if len(out) > 1:
            out.sort(key=lambda f: f.time_ns)
        return out

    def _drain(self, iface: _Iface, out: list[CapturedFrame]) -> None:
        sock = iface.sock
        index = iface.info.index
        ethernet = iface.info.linktype == LINKTYPE_ETHERNET
        st = iface.stats
        for _ in range(READ_BUDGET):
            try:
                data, ancdata, _flags, addr = sock.recvmsg(MAX_FRAME, 256)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # ENETDOWN: the interface went down (the socket resumes when it comes back up);
                # ENXIO/ENODEV: it was deleted.
                st.up = False
                st.errors += 1
                st.last_error = exc.strerror or str(exc)
                return
            stamp, aux = parse_ancillary(ancdata)
            wirelen = len(data)
            if aux is not None:
                wirelen = max(aux[1], len(data))
                if aux[2] >= 0 and ethernet:
                    data = restore_vlan(data, aux[2] & 0xFFFF, aux[2] >> 16)
                    wirelen += 4
            if stamp is None:
                stamp = time.time_ns()
            st.up = True
            st.packets += 1
            st.last_packet = stamp / 1e9
            out.append(CapturedFrame(index, stamp, data, wirelen, addr[2] == PACKET_OUTGOING))

    def stats(self) -> list[InterfaceStats]:
        """Per-interface counters, with the kernel's drop count and the link state brought up to date."""
        for iface in self._ifaces:
            if self.running:
                try:
                    raw = iface.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
                    _received, drops = _STATS.unpack(raw)
                    iface.stats.kernel_drops += drops  # the kernel resets its counters on each read
                except OSError:
                    pass
                iface.stats.up = link_up(iface.sock, iface.info.name or "")
        return [i.stats for i in self._ifaces]

    def close(self) -> None:
        """Close every socket (the kernel leaves promiscuous mode with them). Idempotent."""
        if self.running:
            self.stats()  # fold in the last drops
        self.running = False
        for iface in self._ifaces:
            iface.stats.up = False
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        self._close_sockets()

    def _close_sockets(self) -> None:
        for iface in self._ifaces:
            iface.sock.close()

    def __enter__(self) -> LiveCapture:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
