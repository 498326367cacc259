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

Link changes (capture gaps). An interface that goes down, loses its carrier or is deleted stops the
capture on it without ending it: the kernel unhooks the socket (``ENETDOWN`` once), and hooks it
again by itself when the interface comes back up. A deleted interface is gone for good for its
socket: when an interface of the same name appears again (a veth re-created) the socket is
re-opened on it, with the same filter program and options. Each such period is a
:class:`~vrrpscope.live.source.CaptureGap` (from, to, why), found at once through an rtnetlink
socket subscribed to link changes (``RTMGRP_LINK``, also polled in ``select``), an ``ENETDOWN`` on a
packet socket, or at worst the link check every :data:`LINK_CHECK_S`; frames arriving again close a
gap as early as their own timestamps. The other interfaces are unaffected.
"""

from __future__ import annotations

import errno
import fcntl
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
#: Receive buffer asked for each socket (the kernel caps it at net.core.rmem_max unless root).
RCVBUF_BYTES = 4 << 20
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
        sock, ifindex, linktype, program = self._open_socket(name, None)
        info = InterfaceInfo(name=name, linktype=linktype, ifindex=ifindex, filter=self.filter_expression, index=index)
        return _Iface(info, sock, InterfaceStats(name, up=link_up(sock, name)), program)

    def _open_socket(
        self, name: str, known: tuple[int, list[Instruction]] | None
    ) -> tuple[socket.socket, int, int, list[Instruction]]:
        """Open, filter and bind a packet socket on ``name``: ``(socket, ifindex, linktype, program)``.

        ``known`` (link type, program) re-opens on a re-created interface with the program compiled
        the first time; another link type is then an error.
        """
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
            if known is None:
                program = self._program(name, linktype)
            elif known[0] != linktype:
                raise CaptureError(f"{name}: re-created with another link type ({linktype}, was {known[0]})")
            else:
                program = known[1]
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
        return sock, ifindex, linktype, program

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """Wait up to ``timeout`` seconds for frames; return everything queued, sorted by time.

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
            elif iface.sock is not None and self._drain(iface, out):
                event = True
        if len(out) > 1:
            out.sort(key=lambda f: f.time_ns)
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

    def _check(self, iface: _Iface, now: float, event: bool, first_frame: float | None) -> None:
        name = iface.info.name or ""
        st = iface.stats
        ifindex, flags, carrier = self._link(name, iface.sock)
        if ifindex is None:
            if iface.sock is not None:
                self._drop_socket(iface)
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
        if state == "up":
            if iface.gap is not None:
                end = now if first_frame is None else min(now, first_frame)
                self._close_gap(iface, max(end, iface.gap.start), resumed=True)
            iface.verified = now
        elif iface.gap is None:
            self._open_gap(iface, now, event, state)
        elif _RANK[state] > _RANK.get(iface.gap.reason, 0):
            iface.gap = replace(iface.gap, reason=state)  # e.g. carrier lost first, then set down
        st.state = state
        st.up = state == "up"

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
        sock.close()
        iface.sock = None

    def _reopen(self, iface: _Iface, ifindex: int, now: float, event: bool) -> None:
        """The interface was re-created under its name: capture on the new one, same filter."""
        name = iface.info.name or ""
        if iface.sock is not None:  # deleted and re-created between two checks
            self._drop_socket(iface)
        if iface.gap is None:
            self._open_gap(iface, now, event, "deleted")
        try:
            sock, new_index, linktype, program = self._open_socket(name, (iface.info.linktype, iface.program))
        except CaptureError as exc:
            iface.failed_ifindex = ifindex
            iface.stats.errors += 1
            iface.stats.last_error = str(exc)
            return
        iface.sock = sock
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
        try:
            raw = iface.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
            _received, drops = _STATS.unpack(raw)
            iface.stats.kernel_drops += drops  # the kernel resets its counters on each read
        except OSError:
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
                if iface.gap is not None:
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
