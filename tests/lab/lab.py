"""The lab: a hub-mode bridge namespace, router namespaces running keepalived, a silent observer.

Topology (all names carry the lab's unique prefix ``vs-<pid>-<hex>-``)::

      r1 ns            r2 ns            r3 ns             obs ns
    eth0 .11         eth0 .12         eth0 .13          eth0 (no address, arp off, no IPv6)
      |                |                |                  |
    p-r1 ------------ p-r2 ----------- p-r3 ----------- p-obs      <- bridge ns: br0, ageing_time 0
                                                                      (hub: every frame flooded),
                                                                      stp off, multicast_snooping 0

With ``vlan=(30,)`` the observer is not a bridge port: a user-space tagger (:mod:`tests.lab.tagger`)
in the bridge namespace reads every frame the bridge floods to its access port ``p-tag``/``tag-a``
and re-sends it with the 802.1Q tag(s) on the trunk veth ``tag-t`` whose peer is the observer's eth0
(this kernel has no 802.1Q module, so ``ip link add … type vlan`` is not an option).

Routers use documentation addresses: 192.0.2.1N/24, 2001:db8::1N/64 and EUI-64 link-local addresses
from documentation MACs 00:00:5e:00:53:1N (RFC 7042 §2.1.2). Faults are recorded with the time they
took effect (``time.time()``, the same clock the captures use).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .capture import Capture, CaptureSpec
from .frr import Frr
from .keepalived import Config, Instance, Keepalived, LogBook, LogLine
from .keepalived import running as _alive
from .netns import (
    LabError,
    Namespace,
    install_signal_handlers,
    lab_entered,
    lab_exited,
    lab_sleep,
    new_prefix,
    register,
    unregister,
    wait_until,
)
from .truth import parse_line

#: Documentation MAC block (RFC 7042 §2.1.2) used for router interfaces.
MAC_FMT = "00:00:5e:00:53:{:02x}"
#: The observer's MAC (it never transmits; set only so that it is recognisable).
OBSERVER_MAC = "00:00:5e:00:53:fe"
#: nftables table the lab loads into router namespaces to drop VRRP.
NFT_TABLE = "vrrpscope_lab"
#: IP protocols dropped by :meth:`Lab.block_vrrp`: VRRP (112) and IPsec AH (51, carries AH-auth VRRP).
VRRP_PROTOCOLS = "{ 51, 112 }"
#: 802.1Q / 802.1ad tag protocol identifiers.
TPID_8021Q = 0x8100
TPID_8021AD = 0x88A8


@dataclass
class Router:
    """One router namespace and its addresses."""

    name: str
    index: int
    ns: Namespace
    mac: str
    ipv4: str
    ipv6: str | None
    link_local: str | None = None
    keepalived: Keepalived | None = None
    frr: Frr | None = None
    config: Config | None = None
    config_history: list[Config] = field(default_factory=list)
    process_history: list[Keepalived] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        """Every address this router may source VRRP from."""
        return [a for a in (self.ipv4, self.ipv6, self.link_local) if a]

    def to_dict(self) -> dict[str, object]:
        """JSON description."""
        return {
            "name": self.name,
            "namespace": self.ns.name,
            "mac": self.mac,
            "ipv4": self.ipv4,
            "ipv6": self.ipv6,
            "link_local": self.link_local,
        }


@dataclass(frozen=True)
class Fault:
    """An injected fault or lab action, stamped when it took effect (epoch seconds)."""

    time: float
    kind: str
    router: str | None
    detail: str

    def to_dict(self) -> dict[str, object]:
        """JSON description."""
        return {"time": round(self.time, 6), "kind": self.kind, "router": self.router, "detail": self.detail}


class Lab:
    """Build, drive and always tear down one lab. Use as a context manager.

    ``routers``: 1–9 router namespaces r1…rN. ``ipv6``: keep IPv6 enabled on routers (link-local
    addresses, optional 2001:db8::1N/64). ``vlan``: tags (outermost first) the observer sees on every
    frame, via the user-space tagger; empty for a plain Ethernet segment.
    """

    def __init__(
        self,
        routers: int = 2,
        *,
        ipv6: bool = True,
        vlan: tuple[int, ...] = (),
        workdir: Path | None = None,
        keepalived: str = "keepalived",
    ) -> None:
        """Describe the lab; :meth:`setup` (or ``with``) creates it."""
        if not 1 <= routers <= 9:
            raise ValueError("routers must be 1..9")
        self.prefix = new_prefix()
        self.ipv6 = ipv6
        self.vlan = vlan
        self.keepalived_binary = keepalived
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="vrrpscope-lab-")) if workdir is None else workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.bridge = Namespace(self.prefix + "br")
        self.observer = Namespace(self.prefix + "obs")
        self.routers: dict[str, Router] = {}
        for i in range(1, routers + 1):
            name = f"r{i}"
            self.routers[name] = Router(
                name=name,
                index=i,
                ns=Namespace(self.prefix + name),
                mac=MAC_FMT.format(0x10 + i),
                ipv4=f"192.0.2.{10 + i}",
                ipv6=f"2001:db8::{10 + i}" if ipv6 else None,
            )
        self.logbook = LogBook()
        self.faults: list[Fault] = []
        self.captures: list[Capture] = []
        self.tagger: subprocess.Popen[bytes] | None = None
        #: VRRP children whose parent the lab killed (reaped by init, killed by PID on close)
        self._orphans: list[int] = []
        self._lock = threading.Lock()
        self._setup_done = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Lab:
        """Create the lab (cleaning up if creation fails halfway)."""
        lab_entered()
        try:
            self.setup()
        except BaseException:
            try:
                self.close()
            finally:
                lab_exited()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Tear everything down, whatever happened."""
        try:
            self.close()
        finally:
            lab_exited()

    @property
    def namespaces(self) -> list[Namespace]:
        """Every namespace of this lab (routers first, bridge last)."""
        return [*(r.ns for r in self.routers.values()), self.observer, self.bridge]

    def setup(self) -> None:
        """Create namespaces, bridge, veths and addresses."""
        install_signal_handlers()
        register(self)
        br = self.bridge
        br.create()
        br.sysctl("net.ipv6.conf.all.disable_ipv6", 1)
        br.sysctl("net.ipv6.conf.default.disable_ipv6", 1)
        br.ip(
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "ageing_time",
            "0",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        )
        for router in self.routers.values():
            ns = router.ns
            ns.create()
            if not self.ipv6:
                ns.sysctl("net.ipv6.conf.all.disable_ipv6", 1)
                ns.sysctl("net.ipv6.conf.default.disable_ipv6", 1)
            port = f"p-{router.name}"
            br.ip(
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "address",
                router.mac,
                "netns",
                ns.name,
            )
            br.ip("link", "set", port, "master", "br0")
            br.ip("link", "set", port, "up")
            ns.ip("addr", "add", f"{router.ipv4}/24", "dev", "eth0")
            if router.ipv6:
                ns.ip("-6", "addr", "add", f"{router.ipv6}/64", "dev", "eth0")
        obs = self.observer
        obs.create()
        obs.sysctl("net.ipv6.conf.all.disable_ipv6", 1)
        obs.sysctl("net.ipv6.conf.default.disable_ipv6", 1)
        if self.vlan:
            self._setup_tagged_observer()
        else:
            br.ip(
                "link",
                "add",
                "p-obs",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "address",
                OBSERVER_MAC,
                "netns",
                obs.name,
            )
            br.ip("link", "set", "p-obs", "master", "br0")
            br.ip("link", "set", "p-obs", "up")
        obs.ip("link", "set", "eth0", "arp", "off", "multicast", "off")
        obs.ip("link", "set", "eth0", "up")
        br.ip("link", "set", "br0", "up")
        for router in self.routers.values():
            router.ns.ip("link", "set", "eth0", "up")
        if self.ipv6:
            for router in self.routers.values():
                self._wait_ipv6(router)
        self._setup_done = True

    def _setup_tagged_observer(self) -> None:
        br, obs = self.bridge, self.observer
        br.ip("link", "add", "p-tag", "type", "veth", "peer", "name", "tag-a")
        br.ip("link", "set", "p-tag", "master", "br0")
        br.ip(
            "link",
            "add",
            "tag-t",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "address",
            OBSERVER_MAC,
            "netns",
            obs.name,
        )
        for dev in ("p-tag", "tag-a", "tag-t"):
            br.ip("link", "set", dev, "up")
        br.ip("link", "set", "tag-a", "promisc", "on")
        tagger = Path(__file__).with_name("tagger.py")
        argv = [sys.executable, str(tagger), "--access", "tag-a", "--trunk", "tag-t"]
        for vid in self.vlan:
            argv += ["--vid", str(vid)]
        self.tagger = br.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert self.tagger.stdout is not None
        ready = self.tagger.stdout.readline().decode().strip()
        if ready != "ready":
            raise LabError(f"VLAN tagger failed to start: {ready}")

    def _wait_ipv6(self, router: Router) -> None:
        def settled() -> bool:
            out = router.ns.ip("-6", "-o", "addr", "show", "dev", "eth0")
            return "tentative" not in out and "scope link" in out

        wait_until(settled, timeout=10, what=f"IPv6 DAD on {router.name}")
        out = router.ns.ip("-6", "-o", "addr", "show", "dev", "eth0", "scope", "link")
        match = re.search(r"inet6 (fe80::[0-9a-f:]+)/", out)
        router.link_local = match.group(1) if match else None

    def close(self) -> None:
        """Stop captures, keepalived, tagger; delete namespaces and the temporary workdir.

        Idempotent, and every call tears down again whatever exists: a SIGTERM closes the labs from
        the main thread while a scenario thread may still be setting one up, and that thread's own
        close (when it meets the abort) must remove what it created after the first one.
        """
        for cap in self.captures:
            with contextlib.suppress(Exception):
                cap.close()
        for router in self.routers.values():
            for proc in [*router.process_history]:
                with contextlib.suppress(Exception):
                    proc.kill_now()
            if router.frr is not None:
                with contextlib.suppress(Exception):
                    router.frr.kill_now()
        for pid in self._orphans:
            with contextlib.suppress(ProcessLookupError):
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
        if self.tagger is not None and self.tagger.poll() is None:
            self.tagger.kill()
            with contextlib.suppress(Exception):
                self.tagger.wait(5)
        for ns in self.namespaces:
            with contextlib.suppress(Exception):
                ns.delete()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        unregister(self)

    # ------------------------------------------------------------------ captures

    def start_capture(self, spec: CaptureSpec, outdir: Path) -> Capture:
        """Start a capture in the observer namespace writing into ``outdir``."""
        outdir.mkdir(parents=True, exist_ok=True)
        cap = Capture(spec, self.observer, outdir)
        self.captures.append(cap)
        cap.start()
        return cap

    def stop_captures(self) -> None:
        """Stop every running capture (files are complete afterwards)."""
        for cap in self.captures:
            cap.stop()

    def observer_tx_packets(self) -> int:
        """Packets the observer's eth0 has transmitted (must stay 0)."""
        out = self.observer.ip("-s", "-j", "link", "show", "dev", "eth0")
        data = json.loads(out)
        return int(data[0]["stats64"]["tx"]["packets"])

    # ------------------------------------------------------------------ keepalived

    def router(self, name: str) -> Router:
        """The router called ``name`` (``r1`` …)."""
        try:
            return self.routers[name]
        except KeyError:
            raise LabError(f"no router {name!r} in this lab") from None

    def write_config(self, name: str, config: Config) -> Path:
        """Write ``config`` for router ``name`` into the workdir and remember it."""
        router = self.router(name)
        path = self.workdir / f"{name}.conf"
        path.write_text(config.render())
        router.config = config
        router.config_history.append(config)
        return path

    def start(self, name: str, config: Config | None = None) -> Keepalived:
        """Start keepalived on router ``name`` (with ``config``, or the last one written)."""
        router = self.router(name)
        if config is not None:
            self.write_config(name, config)
        if router.config is None:
            raise LabError(f"no keepalived config for {name}")
        if router.keepalived is not None and router.keepalived.running:
            raise LabError(f"keepalived already running on {name}")
        proc = Keepalived(
            name,
            router.ns,
            self.workdir / f"{name}.conf",
            self.workdir,
            self.logbook,
            binary=self.keepalived_binary,
        )
        router.keepalived = proc
        router.process_history.append(proc)
        proc.start()
        self.record("start", name, "keepalived " + " ".join(proc.argv[1:6]), at=proc.started_at)
        return proc

    def start_frr(self, name: str, instances: Sequence[Instance]) -> Frr:
        """Start FRR (zebra + vrrpd) on router ``name`` with ``instances`` (see :func:`tests.lab.frr.frr_instance`)."""
        router = self.router(name)
        if router.keepalived is not None and router.keepalived.running:
            raise LabError(f"keepalived is running on {name}; one implementation per router")
        frr = Frr(name, router.ns, self.workdir, self.logbook, instances)
        router.frr = frr
        frr.start()
        self.record("start_frr", name, "zebra + vrrpd " + ", ".join(i.name for i in instances), at=frr.started_at)
        return frr

    def _proc(self, name: str) -> Keepalived:
        proc = self.router(name).keepalived
        if proc is None or not proc.running:
            raise LabError(f"keepalived is not running on {name}")
        return proc

    def crash(self, name: str) -> Fault:
        """A real crash: SIGSTOP parent, SIGKILL VRRP child, SIGKILL parent (no resign, VIPs stay)."""
        proc = self._proc(name)
        child = proc.child_pid()
        parent = proc.parent_pid
        proc.signal_parent(signal.SIGSTOP)
        proc.signal_child(signal.SIGKILL)
        at = time.time()
        proc.signal_parent(signal.SIGKILL)
        proc.wait()
        return self.record("crash", name, f"SIGSTOP parent {parent}, SIGKILL child {child}, SIGKILL parent", at=at)

    def terminate(self, name: str, wait: bool = True) -> Fault:
        """SIGTERM the parent: keepalived resigns with one priority-0 advert per instance."""
        proc = self._proc(name)
        at = time.time()
        proc.signal_parent(signal.SIGTERM)
        fault = self.record("sigterm", name, f"SIGTERM parent {proc.parent_pid}", at=at)
        if wait:
            proc.wait()
        return fault

    def kill_parent(self, name: str) -> Fault:
        """SIGKILL of the parent only: the child gets its parent-death SIGTERM and resigns cleanly."""
        proc = self._proc(name)
        child = proc.child_pid()
        at = time.time()
        proc.signal_parent(signal.SIGKILL)
        proc.wait()
        self._orphans.append(child)
        return self.record("kill_parent", name, f"SIGKILL parent {proc.parent_pid} (child {child} left alone)", at=at)

    def wait_until_stopped(self, name: str, timeout: float = 10.0) -> None:
        """Wait until no keepalived process this lab started for ``name`` is alive (orphans included)."""
        proc = self.router(name).keepalived
        pids = [*self._orphans, *([] if proc is None else proc.pids())]

        def gone() -> bool:
            return all(not _alive(pid) for pid in pids)

        wait_until(gone, timeout, what=f"keepalived on {name} to exit")

    def kill_child(self, name: str) -> Fault:
        """SIGKILL of the VRRP child only: the parent respawns it (it restarts in BACKUP)."""
        proc = self._proc(name)
        child = proc.child_pid()
        at = time.time()
        proc.signal_child(signal.SIGKILL)
        return self.record("kill_child", name, f"SIGKILL VRRP child {child}", at=at)

    def stall(self, name: str) -> Fault:
        """SIGSTOP the VRRP child and the parent: the router freezes (scheduler stall)."""
        proc = self._proc(name)
        child = proc.child_pid()
        proc.signal_child(signal.SIGSTOP)
        at = time.time()
        proc.signal_parent(signal.SIGSTOP)
        return self.record("stall", name, f"SIGSTOP child {child} and parent {proc.parent_pid}", at=at)

    def resume(self, name: str) -> Fault:
        """SIGCONT the parent and the VRRP child."""
        proc = self._proc(name)
        proc.signal_parent(signal.SIGCONT)
        at = time.time()
        proc.signal_child(signal.SIGCONT)
        return self.record("resume", name, f"SIGCONT parent {proc.parent_pid} and child", at=at)

    def restart(self, name: str, config: Config | None = None) -> Keepalived:
        """Start keepalived again on a router whose keepalived is stopped (crashed or terminated)."""
        router = self.router(name)
        if router.keepalived is not None and router.keepalived.running:
            raise LabError(f"keepalived still running on {name}; stop it first")
        return self.start(name, config)

    # ------------------------------------------------------------------ network faults

    def block_vrrp(self, name: str, direction: str = "in", peers: tuple[str, ...] = ()) -> Fault:
        """Drop VRRP (and AH) in router ``name`` with nftables: ``in``, ``out`` or ``both``.

        ``peers`` narrows the *input* rule to packets from those routers' addresses (a firewall
        between two specific routers). Output is always all VRRP: multicast adverts have no
        per-peer destination to filter on.
        """
        router = self.router(name)
        if direction not in ("in", "out", "both"):
            raise ValueError("direction must be in, out or both")
        drop = f"meta l4proto {VRRP_PROTOCOLS} drop"
        chains: dict[str, list[str]] = {}
        if direction in ("in", "both"):
            if peers:
                v4 = [self.router(p).ipv4 for p in peers]
                v6 = [a for p in peers for a in (self.router(p).ipv6, self.router(p).link_local) if a]
                chains["input"] = [f"ip saddr {{ {', '.join(v4)} }} {drop}"]
                if v6:
                    chains["input"].append(f"ip6 saddr {{ {', '.join(v6)} }} {drop}")
            else:
                chains["input"] = [drop]
        if direction in ("out", "both"):
            chains["output"] = [drop]
        body = "\n".join(
            f"  chain {hook} {{\n    type filter hook {hook} priority 0; policy accept;\n"
            + "".join(f"    {rule}\n" for rule in rules)
            + "  }"
            for hook, rules in chains.items()
        )
        self.unblock_vrrp(name, record=False)
        router.ns.nft(f"table inet {NFT_TABLE} {{\n{body}\n}}\n")
        return self.record(
            "block_vrrp",
            name,
            f"nft drop VRRP/AH {direction}" + (f" from {', '.join(peers)}" if peers else ""),
        )

    def unblock_vrrp(self, name: str, record: bool = True) -> Fault | None:
        """Remove the lab's nftables table from router ``name``."""
        router = self.router(name)
        router.ns.exec("nft", "delete", "table", "inet", NFT_TABLE, check=False)
        if record:
            return self.record("unblock_vrrp", name, "nft table removed")
        return None

    def link_down(self, name: str, side: str = "switch") -> Fault:
        """Take the link down: ``switch`` = bridge port (carrier loss), ``router`` = admin down."""
        if side == "switch":
            self.bridge.ip("link", "set", f"p-{name}", "down")
        elif side == "router":
            self.router(name).ns.ip("link", "set", "eth0", "down")
        else:
            raise ValueError("side must be switch or router")
        return self.record("link_down", name, f"{side} side down")

    def link_up(self, name: str, side: str = "switch") -> Fault:
        """Bring the link back up (same ``side`` as :meth:`link_down`)."""
        if side == "switch":
            self.bridge.ip("link", "set", f"p-{name}", "up")
        elif side == "router":
            self.router(name).ns.ip("link", "set", "eth0", "up")
        else:
            raise ValueError("side must be switch or router")
        return self.record("link_up", name, f"{side} side up")

    # ------------------------------------------------------------------ waiting and recording

    def record(self, kind: str, router: str | None, detail: str, at: float | None = None) -> Fault:
        """Append a fault/action to the scenario record."""
        fault = Fault(time.time() if at is None else at, kind, router, detail)
        with self._lock:
            self.faults.append(fault)
        return fault

    def wait_log(self, name: str, pattern: str, *, after: float | None = None, timeout: float = 15.0) -> LogLine:
        """Wait until router ``name`` logs a line matching regex ``pattern`` stamped at or after ``after``.

        ``after`` defaults to the time of the last lab action (fault, start): log lines are stamped
        when keepalived wrote them, which on a loaded machine can be before this call returns.
        """
        rx = re.compile(pattern)
        if after is None:
            with self._lock:
                after = self.faults[-1].time if self.faults else 0.0
        return self.logbook.wait_for(
            lambda ln: ln.router == name and rx.search(ln.message) is not None,
            after=after,
            timeout=timeout,
            what=f"{name}: /{pattern}/",
        )

    def wait_state(
        self,
        name: str,
        state: str,
        *,
        instance: str = "VI_1",
        after: float | None = None,
        timeout: float = 15.0,
    ) -> LogLine:
        """Wait until router ``name`` logs a transition of ``instance`` to ``state`` (keepalived or FRR)."""
        if after is None:
            with self._lock:
                after = self.faults[-1].time if self.faults else 0.0

        def wanted(ln: LogLine) -> bool:
            if ln.router != name:
                return False
            ev = parse_line(ln)
            return ev is not None and ev.kind == "state" and ev.instance == instance and ev.state == state

        return self.logbook.wait_for(wanted, after=after, timeout=timeout, what=f"{name}: {instance} {state}")

    def sleep(self, seconds: float) -> None:
        """Sleep, aborting promptly if the lab is being torn down."""
        lab_sleep(seconds)
