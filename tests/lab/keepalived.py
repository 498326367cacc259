"""keepalived configuration rendering, process control and timestamped console logs.

keepalived 2.2.7 (Debian) has no log-file option, and its console timestamps have whole-second
resolution. The lab therefore runs it as ``keepalived -l -D -n -G -P -f CONF -p PID -r VRRPPID`` (console
log, detailed, no fork, no syslog, VRRP subsystem only) and timestamps every line itself (PROTOCOL.md,
"What keepalived 2.2.7 really does", items 17 and 19).

keepalived's stdout and stderr are one end of an ``AF_UNIX SOCK_SEQPACKET`` socketpair rather than a
pipe: every ``write()`` keepalived makes becomes one record, and with ``SO_TIMESTAMPNS`` the kernel
stamps each record on arrival (same clock as the capture, ``CLOCK_REALTIME``). A line's time is the
stamp of the record holding its first byte, i.e. the moment keepalived wrote it, however late the
reader thread gets to run on a loaded machine (a pipe read stamped with ``time.time()`` drifted by up to
70 ms with the load average at 10 on 2 cores).

The parent PID is the Popen PID because ``ip netns exec`` execs in place; the VRRP child's PID comes
from the ``-r`` pid file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .netns import LabAborted, LabError, Namespace, aborted

#: ``SO_TIMESTAMPNS`` (Linux asm-generic value; not exported by Python's socket module).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
#: keepalived's own console prefix: ``Wed Nov 25 14:14:46 2026: message``; FRR's:
#: ``2026/11/25 14:56:41 VRRP: [W23ZH-NY264] message`` (date, daemon, log message id).
KEEPALIVED_STAMP_RE = re.compile(
    r"^(?:[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}: ?"
    r"|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? [A-Z]+: (?:\[[A-Z0-9]{5}-[A-Z0-9]{5}\] )?)"
)


@dataclass(frozen=True)
class Auth:
    """VRRPv2 authentication of one instance: ``PASS`` (simple text) or ``AH`` (IPsec AH)."""

    type: str
    password: str

    def __post_init__(self) -> None:
        """Reject unknown types early."""
        if self.type not in ("PASS", "AH"):
            raise ValueError(f"auth type must be PASS or AH, not {self.type!r}")


@dataclass(frozen=True)
class Instance:
    """One ``vrrp_instance`` block. Times are seconds; ``vips`` are ``addr/prefix`` strings.

    ``garp`` maps keepalived instance keywords (``garp_master_delay``, ``garp_master_repeat``,
    ``garp_master_refresh``, ``garp_master_refresh_repeat``, ``garp_lower_prio_delay``,
    ``garp_lower_prio_repeat``) to values. ``extra`` lines are copied verbatim into the block.
    """

    name: str = "VI_1"
    vrid: int = 51
    priority: int = 100
    version: int = 2
    advert_int: float = 1.0
    vips: tuple[str, ...] = ("192.0.2.100/24",)
    state: str = "BACKUP"
    interface: str = "eth0"
    auth: Auth | None = None
    preempt: bool = True
    preempt_delay: float | None = None
    unicast_src: str | None = None
    unicast_peers: tuple[str, ...] = ()
    use_vmac: bool = False
    garp: tuple[tuple[str, str], ...] = ()
    extra: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """``ipv4`` or ``ipv6``, from the first VIP (keepalived does the same)."""
        first = ipaddress.ip_interface(self.vips[0])
        return "ipv6" if first.version == 6 else "ipv4"

    def render(self) -> str:
        """The ``vrrp_instance`` block as keepalived.conf text."""
        lines = [
            f"vrrp_instance {self.name} {{",
            f"    state {self.state}",
            f"    interface {self.interface}",
            f"    virtual_router_id {self.vrid}",
            f"    priority {self.priority}",
            f"    version {self.version}",
            f"    advert_int {_num(self.advert_int)}",
        ]
        if not self.preempt:
            lines.append("    nopreempt")
        if self.preempt_delay is not None:
            lines.append(f"    preempt_delay {_num(self.preempt_delay)}")
        if self.use_vmac:
            lines.append("    use_vmac")
        for key, value in self.garp:
            lines.append(f"    {key} {value}")
        if self.auth is not None:
            lines += [
                "    authentication {",
                f"        auth_type {self.auth.type}",
                f"        auth_pass {self.auth.password}",
                "    }",
            ]
        if self.unicast_src is not None:
            lines.append(f"    unicast_src_ip {self.unicast_src}")
        if self.unicast_peers:
            lines.append("    unicast_peer {")
            lines += [f"        {peer}" for peer in self.unicast_peers]
            lines.append("    }")
        lines.append("    virtual_ipaddress {")
        lines += [f"        {vip}" for vip in self.vips]
        lines.append("    }")
        lines += [f"    {line}" for line in self.extra]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly description (passwords included: these are lab secrets, not real ones)."""
        return {
            "name": self.name,
            "vrid": self.vrid,
            "priority": self.priority,
            "version": self.version,
            "family": self.family,
            "advert_int": self.advert_int,
            "vips": [str(ipaddress.ip_interface(v).ip) for v in self.vips],
            "state": self.state,
            "auth": None if self.auth is None else {"type": self.auth.type, "password": self.auth.password},
            "preempt": self.preempt,
            "preempt_delay": self.preempt_delay,
            "unicast_src": self.unicast_src,
            "unicast_peers": list(self.unicast_peers),
            "use_vmac": self.use_vmac,
            "garp": dict(self.garp),
        }


def _num(value: float) -> str:
    """Render 1.0 as ``1`` and 0.5 as ``0.5`` (keepalived accepts both)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Config:
    """A whole keepalived.conf: ``global_defs`` plus instances."""

    router_id: str
    instances: tuple[Instance, ...]
    global_extra: tuple[str, ...] = ()

    def render(self) -> str:
        """keepalived.conf text."""
        head = [
            "# generated by tests/lab (vrrpscope); documentation addresses only",
            "global_defs {",
            f"    router_id {self.router_id}",
            *[f"    {line}" for line in self.global_extra],
            "}",
            "",
        ]
        return "\n".join(head) + "\n".join(inst.render() for inst in self.instances)


@dataclass(frozen=True)
class LogLine:
    """One console line of one router's keepalived, stamped on arrival (epoch seconds)."""

    time: float
    router: str
    text: str

    @property
    def message(self) -> str:
        """The line without keepalived's (or FRR's) own whole-second timestamp."""
        return KEEPALIVED_STAMP_RE.sub("", self.text, count=1)


class LogBook:
    """Thread-safe, ordered store of every router's log lines, with waiting helpers."""

    def __init__(self) -> None:
        """Empty log book."""
        self._lines: list[LogLine] = []
        self._cond = threading.Condition()

    def add(self, line: LogLine) -> None:
        """Append a line and wake waiters."""
        with self._cond:
            self._lines.append(line)
            self._cond.notify_all()

    def lines(self, router: str | None = None) -> list[LogLine]:
        """A snapshot of the lines (of one router, or all), in arrival order."""
        with self._cond:
            return [ln for ln in self._lines if router is None or ln.router == router]

    def wait_for(
        self,
        predicate: Callable[[LogLine], bool],
        *,
        after: float,
        timeout: float,
        what: str,
    ) -> LogLine:
        """Block until a line with ``time >= after`` satisfies ``predicate``; return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ln in self._lines:
                    if ln.time >= after and predicate(ln):
                        return ln
                if aborted():
                    raise LabAborted("lab aborted")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LabError(f"timed out after {timeout:.1f}s waiting for {what}")
                self._cond.wait(min(remaining, 0.2))


class Keepalived:
    """One keepalived process tree (parent + VRRP child) inside a router namespace."""

    def __init__(
        self,
        router: str,
        ns: Namespace,
        conf: Path,
        rundir: Path,
        logbook: LogBook,
        binary: str = "keepalived",
    ) -> None:
        """Prepare (not start) keepalived for ``router`` with config file ``conf``."""
        self.router = router
        self.ns = ns
        self.conf = conf
        self.pidfile = rundir / f"{router}.pid"
        self.vrrp_pidfile = rundir / f"{router}.vrrp.pid"
        self.logbook = logbook
        self.binary = binary
        self.proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self.started_at = 0.0

    @property
    def argv(self) -> list[str]:
        """The keepalived command line."""
        return [
            self.binary,
            "-l",  # log to console
            "-D",  # detailed log messages
            "-n",  # don't fork (parent stays our child)
            "-G",  # no syslog
            "-P",  # VRRP subsystem only
            "-f",
            str(self.conf),
            "-p",
            str(self.pidfile),
            "-r",
            str(self.vrrp_pidfile),
        ]

    def start(self) -> None:
        """Start keepalived and the thread that stamps its console output."""
        if self.proc is not None and self.proc.poll() is None:
            raise LabError(f"keepalived already running on {self.router}")
        for path in (self.pidfile, self.vrrp_pidfile):
            path.unlink(missing_ok=True)
        self.started_at = time.time()
        self.proc, self._reader = popen_stamped(self.ns, self.argv, self.router, self.logbook)

    @property
    def running(self) -> bool:
        """True while the parent process is alive."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def parent_pid(self) -> int:
        """PID of the keepalived parent (== the Popen PID)."""
        if self.proc is None:
            raise LabError(f"keepalived not started on {self.router}")
        return self.proc.pid

    def child_pid(self, timeout: float = 5.0) -> int:
        """PID of the VRRP child, read from the ``-r`` pid file (waits for it to appear)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = self.vrrp_pidfile.read_text().strip()
                if text:
                    pid = int(text)
                    if _is_child_of(pid, self.parent_pid):
                        return pid
            except (FileNotFoundError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise LabError(f"no VRRP child pid for {self.router} after {timeout}s")
            time.sleep(0.02)

    def pids(self) -> Iterator[int]:
        """Parent and (if known) child PIDs; only processes this object started."""
        if self.proc is None:
            return
        try:
            yield self.child_pid(timeout=0.0)
        except LabError:
            pass
        yield self.proc.pid

    def signal_parent(self, sig: int) -> None:
        """Send ``sig`` to the parent."""
        os.kill(self.parent_pid, sig)

    def signal_child(self, sig: int) -> None:
        """Send ``sig`` to the VRRP child."""
        os.kill(self.child_pid(), sig)

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the parent to exit, then for the log reader to drain; return the exit code."""
        if self.proc is None:
            return 0
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"keepalived on {self.router} did not exit within {timeout}s") from exc
        if self._reader is not None:
            self._reader.join(2.0)
        return code

    def kill_now(self) -> None:
        """SIGKILL child and parent without ceremony (cleanup path; no resign)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pids = list(self.pids())
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        # The VRRP child is not ours to reap (its parent just died): wait until the kernel has
        # finished its exit (a killed process can sit in D state for a moment while it releases
        # its sockets and namespaces), so nothing of ours is left running when close() returns.
        deadline = time.monotonic() + 5.0
        while any(running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.01)


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def popen_stamped(
    ns: Namespace, argv: list[str], router: str, logbook: LogBook
) -> tuple[subprocess.Popen[bytes], threading.Thread]:
    """Start ``argv`` in ``ns`` with stdout+stderr on a timestamping socket; lines go to ``logbook``."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        proc = ns.popen(argv, stdout=theirs.fileno(), stderr=theirs.fileno())
    finally:
        theirs.close()
    reader = threading.Thread(
        target=_read_stamped, args=(ours, router, logbook), name=f"log-{ns.name}-{router}", daemon=True
    )
    reader.start()
    return proc, reader


def _read_stamped(sock: socket.socket, router: str, logbook: LogBook) -> None:
    """Split a process's output into lines, each stamped when its first byte was written."""
    pending = b""
    pending_time = 0.0
    with sock:
        while True:
            try:
                data, ancillary, _, _ = sock.recvmsg(65536, 256)
            except OSError:
                break
            if not data:
                break
            stamp = _kernel_stamp(ancillary)
            if not pending:
                pending_time = stamp
            pending += data
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                text = raw.decode("utf-8", "replace").rstrip("\r")
                if text:
                    logbook.add(LogLine(pending_time, router, text))
                pending_time = stamp  # whatever follows began in this record
    if pending.strip():
        logbook.add(LogLine(pending_time, router, pending.decode("utf-8", "replace")))


def _kernel_stamp(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The SO_TIMESTAMPNS receive time of a record (when keepalived wrote it); ``time.time()`` if absent."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("qq", data[:16])
            return float(sec) + float(nsec) / 1e9
    return time.time()


def _is_child_of(pid: int, parent: int) -> bool:
    """True if ``pid`` exists and its parent is ``parent`` (guards against stale pid files)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # comm may contain spaces/parens; ppid is the 2nd field after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return len(fields) > 1 and fields[1] == str(parent)


@dataclass
class RouterRuntime:
    """Per-router keepalived state kept by the lab (current process, all configs used)."""

    config: Config | None = None
    process: Keepalived | None = None
    history: list[Keepalived] = field(default_factory=list)
