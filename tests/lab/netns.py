"""Network-namespace plumbing for the keepalived lab.

Everything the lab creates lives in namespaces named ``vs-<pid>-<hex>-<role>`` (``role`` is ``br``,
``obs``, ``r1`` …). Nothing is ever created in, addressed on or bridged to the host's own namespace:
veth pairs are created *inside* the bridge namespace with their peer moved straight into the target
namespace (``ip -n BR link add … peer name eth0 netns R``).

Cleanup is layered so that namespaces do not leak:

* :class:`Cleanup` objects (the lab) register themselves in a process-wide registry;
* an ``atexit`` hook closes every registered object;
* :func:`install_signal_handlers` (main thread only) turns SIGTERM/SIGHUP into the same cleanup
  before the previous handler runs, then waits (at most :data:`SIGNAL_UNWIND_S`) for labs used by
  other threads to leave their ``with`` block; SIGINT already unwinds context managers as
  KeyboardInterrupt;
* :func:`abort_all` wakes every :func:`lab_sleep` so worker threads stop promptly, and no namespace
  is created once it was called (a scenario thread still setting up its lab stops there and closes
  what it had created);
* :func:`sweep_stale` deletes namespaces left behind by a lab process that was SIGKILLed (its pid in
  the namespace name no longer exists), killing by PID only the processes inside those namespaces.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import IO, Any, Protocol

#: Prefix shared by every namespace the lab creates.
NS_ROOT = "vs-"
#: Full shape of a lab namespace name; group 1 is the pid of the process that created it.
NS_NAME_RE = re.compile(r"^vs-(\d+)-[0-9a-f]{6}-[a-z0-9]+$")


class LabError(RuntimeError):
    """A lab operation failed (command error, timeout, missing tool)."""


class LabUnavailable(LabError):
    """A component a scenario needs (e.g. FRR) is not installed here."""


class LabAborted(LabError):
    """The lab was asked to stop (Ctrl-C, SIGTERM, interpreter exit) while a scenario was running."""


_ABORT = threading.Event()


def abort_all() -> None:
    """Wake every sleeping scenario thread; they raise :class:`LabAborted` at their next wait."""
    _ABORT.set()


def aborted() -> bool:
    """True once :func:`abort_all` was called."""
    return _ABORT.is_set()


def lab_sleep(seconds: float) -> None:
    """Sleep that returns early (raising :class:`LabAborted`) when the lab is aborted."""
    if seconds <= 0:
        if _ABORT.is_set():
            raise LabAborted("lab aborted")
        return
    if _ABORT.wait(seconds):
        raise LabAborted("lab aborted")


def new_prefix() -> str:
    """A fresh, unique namespace prefix ``vs-<pid>-<6 hex>-``."""
    return f"{NS_ROOT}{os.getpid()}-{secrets.token_hex(3)}-"


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 20.0,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output, raise :class:`LabError` with stderr on failure."""
    try:
        proc = subprocess.run(
            list(argv),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise LabError(f"command not found: {argv[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timeout after {timeout}s: {' '.join(argv)}") from exc
    if check and proc.returncode != 0:
        raise LabError(f"command failed ({proc.returncode}): {' '.join(argv)}: {proc.stderr.strip()}")
    return proc


class Namespace:
    """One named network namespace (``ip netns``) and helpers to run things inside it."""

    def __init__(self, name: str) -> None:
        """Remember the name; :meth:`create` actually makes the namespace."""
        if not NS_NAME_RE.match(name):
            raise LabError(f"refusing namespace name outside the lab pattern: {name!r}")
        self.name = name
        self.created = False

    def __repr__(self) -> str:
        """Short representation with the namespace name."""
        return f"Namespace({self.name!r})"

    def create(self) -> None:
        """``ip netns add`` this namespace and bring its loopback up (not once the lab is aborting)."""
        if aborted():
            raise LabAborted(f"lab aborted: {self.name} not created")
        run(["ip", "netns", "add", self.name])
        self.created = True
        self.ip("link", "set", "lo", "up")

    def delete(self) -> None:
        """Kill (by PID) whatever still runs inside, then ``ip netns del``. Idempotent."""
        if not self.created:
            return
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        run(["ip", "netns", "del", self.name], check=False)
        self.created = False

    def pids(self) -> list[int]:
        """PIDs of processes whose network namespace is this one (``ip netns pids``)."""
        proc = run(["ip", "netns", "pids", self.name], check=False)
        return [int(tok) for tok in proc.stdout.split() if tok.isdigit()]

    def argv(self, command: Sequence[str]) -> list[str]:
        """The argv that runs ``command`` inside this namespace (``ip netns exec`` execs in place)."""
        return ["ip", "netns", "exec", self.name, *command]

    def exec(self, *command: str, check: bool = True, timeout: float = 20.0) -> str:
        """Run a command inside the namespace and return its stdout."""
        return run(self.argv(command), check=check, timeout=timeout).stdout

    def ip(self, *args: str, check: bool = True) -> str:
        """Run ``ip -n NAME ARGS`` and return stdout."""
        return run(["ip", "-n", self.name, *args], check=check).stdout

    def sysctl(self, key: str, value: str | int) -> None:
        """Set a (network-namespaced) sysctl inside this namespace."""
        self.exec("sysctl", "-q", "-w", f"{key}={value}")

    def nft(self, script: str) -> None:
        """Load an nftables script inside this namespace (``nft -f -``)."""
        run(self.argv(["nft", "-f", "-"]), input_text=script)

    def popen(
        self,
        command: Sequence[str],
        *,
        stdout: int | IO[Any] | None = subprocess.PIPE,
        stderr: int | IO[Any] | None = subprocess.STDOUT,
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process inside the namespace; its PID is the command's own PID."""
        return subprocess.Popen(
            self.argv(command),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # a terminal Ctrl-C reaches the lab, which then stops them itself
        )


class Cleanup(Protocol):
    """Anything the registry can close at exit."""

    def close(self) -> None:
        """Release every resource; must be idempotent and safe from any thread."""


_REGISTRY: dict[int, Cleanup] = {}
_REGISTRY_LOCK = threading.Lock()


def register(obj: Cleanup) -> None:
    """Track ``obj`` so that it is closed at interpreter exit or on SIGTERM/SIGHUP."""
    with _REGISTRY_LOCK:
        _REGISTRY[id(obj)] = obj


def unregister(obj: Cleanup) -> None:
    """Stop tracking ``obj`` (after it closed itself)."""
    with _REGISTRY_LOCK:
        _REGISTRY.pop(id(obj), None)


def close_all() -> None:
    """Abort running scenarios and close every registered object (labs, captures)."""
    abort_all()
    with _REGISTRY_LOCK:
        objs = list(_REGISTRY.values())
    for obj in objs:
        with contextlib.suppress(Exception):
            obj.close()


atexit.register(close_all)

_HANDLERS_INSTALLED = False

#: How long a SIGTERM/SIGHUP waits for labs used by other threads to unwind (each closes its own
#: lab, which removes anything it created after the signal's first close) before the process dies.
SIGNAL_UNWIND_S = 10.0

#: Labs inside their ``with`` block, per thread ident (see :func:`lab_entered`).
_IN_USE: dict[int, int] = {}
_IN_USE_COND = threading.Condition()


def lab_entered() -> None:
    """Count a lab entering its ``with`` block in this thread."""
    with _IN_USE_COND:
        me = threading.get_ident()
        _IN_USE[me] = _IN_USE.get(me, 0) + 1


def lab_exited() -> None:
    """Count a lab leaving its ``with`` block in this thread (after its close)."""
    with _IN_USE_COND:
        me = threading.get_ident()
        _IN_USE[me] -= 1
        if not _IN_USE[me]:
            del _IN_USE[me]
        _IN_USE_COND.notify_all()


def _wait_for_other_threads_labs(timeout: float) -> None:
    """Wait up to ``timeout`` s until no thread but this one is inside a lab's ``with`` block."""
    me = threading.get_ident()
    with _IN_USE_COND:
        _IN_USE_COND.wait_for(lambda: not any(n for t, n in _IN_USE.items() if t != me), timeout)


def install_signal_handlers() -> None:
    """Make SIGTERM and SIGHUP clean up the lab first (only possible from the main thread)."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED or threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            close_all()
            _wait_for_other_threads_labs(SIGNAL_UNWIND_S)
            close_all()  # whatever a scenario thread registered meanwhile
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_IGN:
                return
            else:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        signal.signal(sig, handler)
    _HANDLERS_INSTALLED = True


def list_namespaces() -> list[str]:
    """Names of all network namespaces known to ``ip netns``."""
    proc = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[str]:
    """Delete lab namespaces whose creating process is gone; return their names.

    Only names matching :data:`NS_NAME_RE` are considered, and processes are killed by the PIDs
    ``ip netns pids`` lists for those namespaces, i.e. only the lab's own leftovers.
    """
    removed = []
    for name in list_namespaces():
        match = NS_NAME_RE.match(name)
        if not match:
            continue
        owner = int(match.group(1))
        if owner == os.getpid() or _pid_alive(owner):
            continue
        ns = Namespace(name)
        ns.created = True
        ns.delete()
        removed.append(name)
    return removed


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    """Poll ``predicate()`` until true; raise :class:`LabError` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout}s waiting for {what}")
        lab_sleep(interval)
