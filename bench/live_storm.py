"""Live capture rate of ``vrrpscope watch`` under an ARP storm, measured on a veth pair.

    .venv/bin/python bench/live_storm.py                        # 10k, 25k, 50k, 100k pkt/s, 20 s each
    .venv/bin/python bench/live_storm.py --pps 50000 --seconds 20
    .venv/bin/python bench/live_storm.py --find-max --max-seconds 10   # + search the highest clean rate
    .venv/bin/python bench/live_storm.py --sender python        # our own paced AF_PACKET sender

Needs root (network namespaces, AF_PACKET) and iproute2; tcpreplay for the default sender
(``apt-get install -y tcpreplay``; without it the built-in Python sender is used).

Per rate, in two network namespaces created for the run (``vsb-<pid>-send`` and ``vsb-<pid>-cap``,
joined by a veth pair, IPv6 and kernel ARP off on it so the kernel adds no frames of its own):

1. ``vrrpscope watch -i <veth> --format json`` starts in the capture namespace, pinned to core 0
   (``taskset -c 0``);
2. the sender, pinned to core 1, replays a one-second storm cycle ``--seconds`` times at the target
   rate: gratuitous ARP, ARP requests and ARP replies from 500 hosts (198.51.100.0/24,
   203.0.113.0/24, one MAC each), plus one VRRPv2 and one VRRPv3 group (192.0.2.0/24) advertising
   every second with a GARP of each VIP, so the session tracks two masters while the storm runs;
3. once the sender is done (plus a short drain), watch gets SIGINT and prints its final ``stats``
   event.

Compared per rate: frames sent (the sender's own count), frames the veth delivered in the capture
namespace (``ip -s link`` rx/dropped counters), frames the watch session processed (``packets`` of
its final ``stats`` event; every captured frame goes through dissect and the analysis engine),
kernel drops (``PACKET_STATISTICS``, ``kernel_drops``), frames left unread in the socket queue when
watch stopped (delivered - processed - kernel drops), and the CPU of the watch process over the
storm (``utime``/``stime`` of ``/proc/PID/stat``; 100 % = one full core), how long it waited for its
core while runnable (``/proc/PID/schedstat``: other work on the core), and its CPU per frame. The
kernel has ``sched_autogroup``: watch runs in its own session, and ``--nice N`` sets that session's
autogroup nice value. ``--profile DIR`` runs watch under the sampling profiler of
``bench/profile_live.py`` (see ``bench/LIVE_STORM.md``). A rate is *clean* when
the sender reached it (>= 97 %), the kernel dropped nothing and every delivered frame was
processed. Results are printed as a table and appended to ``bench/results/live_storm.jsonl``.

Exit status 0 when every measurement ran (whatever the rates showed), 1 on a failure or interrupt.
Namespaces and processes are always removed (``try/finally``, also on Ctrl-C and SIGTERM); only
processes this script started are signalled, by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "live_storm.jsonl"
VRRPSCOPE = ROOT / ".venv" / "bin" / "vrrpscope"

#: Hosts of the storm (documentation prefixes only), one locally administered MAC each.
HOST_PREFIXES = ("198.51.100", "203.0.113")
HOSTS_PER_PREFIX = 250
#: The VRRP groups: (version, vrid, master IP, priority, VIP).
GROUPS = ((2, 51, "192.0.2.11", 150, "192.0.2.100"), (3, 52, "192.0.2.12", 120, "192.0.2.101"))
#: A rate counts as reached when the sender achieved this share of it.
RATE_TOLERANCE = 0.97
BROADCAST = b"\xff" * 6
VRRP_MCAST_MAC = bytes.fromhex("01005e000012")
VRRP_MCAST_IP = "224.0.0.18"


# --------------------------------------------------------------------------- frames


def _ip4(text: str) -> bytes:
    return socket.inet_aton(text)


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _pad(frame: bytes) -> bytes:
    """Pad to the Ethernet minimum of 60 bytes (without FCS), as a NIC would."""
    return frame + b"\0" * max(0, 60 - len(frame))


def arp_frame(op: int, sha: bytes, spa: str, tha: bytes, tpa: str, dst: bytes) -> bytes:
    """An Ethernet ARP frame (``op`` 1 request, 2 reply) from ``sha``."""
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, _ip4(spa), tha, _ip4(tpa))
    return _pad(dst + sha + b"\x08\x06" + body)


def vrrp_frame(version: int, vrid: int, src: str, priority: int, vip: str) -> bytes:
    """A VRRP advertisement from the group's virtual MAC: v2 (no auth, 1 s) or v3 (100 cs, IPv4 with
    the pseudo-header checksum keepalived sends by default)."""
    if version == 2:
        msg = struct.pack("!BBBBBBH4s", 0x21, vrid, priority, 1, 0, 1, 0, _ip4(vip)) + b"\0" * 8
        msg = msg[:6] + struct.pack("!H", _csum(msg)) + msg[8:]
    else:
        msg = struct.pack("!BBBBHH4s", 0x31, vrid, priority, 1, 100, 0, _ip4(vip))
        pseudo = _ip4(src) + _ip4(VRRP_MCAST_IP) + struct.pack("!BBH", 0, 112, len(msg))
        msg = msg[:6] + struct.pack("!H", _csum(pseudo + msg)) + msg[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(msg), 0, 0, 255, 112, 0, _ip4(src), _ip4(VRRP_MCAST_IP))
    hdr = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
    vmac = bytes.fromhex("00005e0001") + bytes([vrid])
    return _pad(VRRP_MCAST_MAC + vmac + b"\x08\x00" + hdr + msg)


def storm_cycle(pps: int, seed: int = 1) -> list[bytes]:
    """One second of the storm at ``pps`` frames per second.

    Each VRRP group advertises once (evenly spread) followed by a gratuitous ARP of its VIP from the
    virtual MAC; every other frame is host ARP: 40 % gratuitous ARP, 40 % requests, 20 % replies.
    Every host keeps one MAC, so bindings are stable (no conflicts, no flip-flops): the storm is
    volume, not a fault.
    """
    rng = random.Random(seed)
    hosts = [
        (f"{prefix}.{n}", bytes([0x02, 0x00, 0x5B, p, 0x00, n]))
        for p, prefix in enumerate(HOST_PREFIXES)
        for n in range(1, HOSTS_PER_PREFIX + 1)
    ]
    special: dict[int, list[bytes]] = {}
    step = max(1, pps // len(GROUPS))
    for i, (version, vrid, src, prio, vip) in enumerate(GROUPS):
        vmac = bytes.fromhex("00005e0001") + bytes([vrid])
        at = min(pps - 2, i * step)
        special[at] = [vrrp_frame(version, vrid, src, prio, vip), arp_frame(1, vmac, vip, bytes(6), vip, BROADCAST)]
    out: list[bytes] = []
    while len(out) < pps:
        extra = special.pop(len(out), None)
        if extra is not None:
            out.extend(extra)
            continue
        ip, mac = rng.choice(hosts)
        kind = rng.random()
        if kind < 0.4:
            out.append(arp_frame(1, mac, ip, bytes(6), ip, BROADCAST))
        elif kind < 0.8:
            tip, _ = rng.choice(hosts)
            out.append(arp_frame(1, mac, ip, bytes(6), tip, BROADCAST))
        else:
            tip, tmac = rng.choice(hosts)
            out.append(arp_frame(2, mac, ip, tmac, tip, tmac))
    return out[:pps]


def write_pcap(path: Path, frames: Sequence[bytes], pps: int, start: float = 1_700_000_000.0) -> None:
    """A classic pcap (Ethernet, microseconds) with ``frames`` spaced ``1/pps`` apart."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            usec = round(start * 1e6 + i * 1e6 / pps)
            fh.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
            fh.write(frame)


def read_pcap(path: Path) -> list[bytes]:
    """The frames of a classic little-endian pcap written by :func:`write_pcap`."""
    data = path.read_bytes()
    frames: list[bytes] = []
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        frames.append(data[pos + 16 : pos + 16 + caplen])
        pos += 16 + caplen
    return frames


# --------------------------------------------------------------------------- namespaces


def run(cmd: Sequence[str], check: bool = True) -> str:
    """Run ``cmd``; its stdout."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


class Lab:
    """The two namespaces and the veth pair between them (removed by :meth:`destroy`)."""

    def __init__(self, tag: str) -> None:
        self.send_ns = f"vsb-{tag}-send"
        self.cap_ns = f"vsb-{tag}-cap"
        self.send_if = f"vsb{tag}s"[:15]
        self.cap_if = f"vsb{tag}c"[:15]
        self._made: list[str] = []

    def create(self) -> None:
        """Make the namespaces and the veth pair; IPv6 and ARP off so the kernel sends nothing."""
        for ns in (self.send_ns, self.cap_ns):
            run(["ip", "netns", "add", ns])
            self._made.append(ns)
            for key in ("all", "default"):
                run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"])
        run(
            [
                "ip", "link", "add", self.send_if, "netns", self.send_ns, "type", "veth",
                "peer", "name", self.cap_if, "netns", self.cap_ns,
            ]
        )  # fmt: skip
        for ns, dev in ((self.send_ns, self.send_if), (self.cap_ns, self.cap_if)):
            run(["ip", "-n", ns, "link", "set", dev, "arp", "off"])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def counters(self, ns: str, dev: str) -> dict[str, int]:
        """``ip -s link`` counters of ``dev`` in ``ns``."""
        info = json.loads(run(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev]))[0]["stats64"]
        return {
            "rx_packets": info["rx"]["packets"],
            "rx_dropped": info["rx"]["dropped"],
            "tx_packets": info["tx"]["packets"],
            "tx_dropped": info["tx"]["dropped"],
        }

    def destroy(self) -> None:
        """Delete the namespaces (the veth pair goes with them)."""
        for ns in reversed(self._made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        self._made.clear()


def softnet_drops() -> int:
    """Frames dropped because a CPU's input backlog was full (``/proc/net/softnet_stat``, all CPUs)."""
    total = 0
    with open("/proc/net/softnet_stat") as fh:
        for line in fh:
            total += int(line.split()[1], 16)
    return total


def run_delay(pid: int) -> float:
    """Seconds ``pid`` spent runnable but waiting for a CPU (``/proc/PID/schedstat``)."""
    with open(f"/proc/{pid}/schedstat") as fh:
        return int(fh.read().split()[1]) / 1e9


def set_autogroup_nice(pid: int, nice: int) -> None:
    """Set the nice value of ``pid``'s scheduler autogroup (``/proc/PID/autogroup``).

    With ``kernel.sched_autogroup_enabled`` the CPU is shared between sessions first, so a
    process's own nice value does not weigh against other sessions; the autogroup's does.
    """
    try:
        with open(f"/proc/{pid}/autogroup", "w") as fh:
            fh.write(str(nice))
    except OSError as exc:
        raise RuntimeError(f"cannot set the autogroup nice of watch: {exc}") from exc


def cpu_ticks(pid: int) -> tuple[int, int]:
    """``(utime, stime)`` of ``pid`` in clock ticks."""
    with open(f"/proc/{pid}/stat") as fh:
        text = fh.read()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]), int(fields[12])


# --------------------------------------------------------------------------- sender


def python_sender(iface: str, pcap: Path, pps: int, seconds: float) -> dict[str, Any]:
    """Send the frames of ``pcap`` in a loop at ``pps`` for ``seconds`` (run inside the namespace).

    Paced in 1 ms slots: each slot sends the frames due by then, then sleeps until the next slot.
    """
    frames = read_pcap(pcap)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.bind((iface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    send = sock.send
    total = int(pps * seconds)
    n = len(frames)
    sent = failed = 0
    start = time.perf_counter()
    slot = 0.001
    while sent + failed < total:
        due = min(total, int((time.perf_counter() - start) * pps) + 1)
        while sent + failed < due:
            try:
                send(frames[(sent + failed) % n])
                sent += 1
            except OSError:
                failed += 1
        ahead = (sent + failed) / pps - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(min(ahead, slot))
    elapsed = time.perf_counter() - start
    sock.close()
    return {"sent": sent, "failed": failed, "seconds": elapsed}


_TCPREPLAY_ACTUAL = re.compile(r"Actual:\s+(\d+) packets \(\d+ bytes\) sent in ([\d.]+) seconds")
_TCPREPLAY_FAILED = re.compile(r"Failed packets:\s+(\d+)")


def parse_tcpreplay(text: str) -> dict[str, Any]:
    """Packets sent, failed and the send time from tcpreplay's final statistics."""
    actual = _TCPREPLAY_ACTUAL.search(text)
    failed = _TCPREPLAY_FAILED.search(text)
    if actual is None:
        raise RuntimeError(f"unexpected tcpreplay output: {text.strip()[-400:]}")
    return {
        "sent": int(actual.group(1)),
        "failed": int(failed.group(1)) if failed else 0,
        "seconds": float(actual.group(2)),
    }


# --------------------------------------------------------------------------- one measurement


@dataclass
class Result:
    """One rate's measurement (see the module docstring for the columns)."""

    target_pps: int
    seconds: float
    sender: str
    sent: int = 0
    send_failed: int = 0
    send_seconds: float = 0.0
    veth_rx: int = 0
    veth_rx_dropped: int = 0
    veth_tx_dropped: int = 0
    backlog_drops: int = 0
    processed: int = 0
    kernel_drops: int = 0
    arp: int = 0
    vrrp: int = 0
    groups: int = 0
    masters: int = 0
    master_changes: int = 0
    findings: int = 0
    user_cpu_pct: float = 0.0
    sys_cpu_pct: float = 0.0
    wait_pct: float = 0.0
    cpu_us_per_frame: float = 0.0
    load_before: float = 0.0
    filter_source: str = ""
    drain_seconds: float = 0.0
    nice: int = 0
    finding_kinds: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def sent_pps(self) -> float:
        """Achieved send rate."""
        return self.sent / self.send_seconds if self.send_seconds else 0.0

    @property
    def unread(self) -> int:
        """Frames delivered to the veth but neither processed nor dropped (left in the queue)."""
        return self.veth_rx - self.processed - self.kernel_drops

    @property
    def rate_reached(self) -> bool:
        """The sender achieved the target rate (within :data:`RATE_TOLERANCE`)."""
        return self.sent_pps >= RATE_TOLERANCE * self.target_pps

    @property
    def clean(self) -> bool:
        """Rate reached, nothing dropped anywhere, every delivered frame processed."""
        return (
            not self.errors
            and self.rate_reached
            and self.kernel_drops == 0
            and self.processed == self.veth_rx == self.sent
            and self.veth_rx_dropped == 0
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON line appended to the results file."""
        return {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host": platform.node(),
            "kernel": platform.release(),
            "cpus": os.cpu_count(),
            # watch's capture method as asked for (VRRPSCOPE_CAPTURE, inherited by watch): auto = the ring
            "capture": os.environ.get("VRRPSCOPE_CAPTURE", "auto"),
            "target_pps": self.target_pps,
            "seconds": self.seconds,
            "sender": self.sender,
            "sent": self.sent,
            "send_failed": self.send_failed,
            "send_seconds": round(self.send_seconds, 3),
            "sent_pps": round(self.sent_pps),
            "veth_rx": self.veth_rx,
            "veth_rx_dropped": self.veth_rx_dropped,
            "veth_tx_dropped": self.veth_tx_dropped,
            "backlog_drops": self.backlog_drops,
            "processed": self.processed,
            "kernel_drops": self.kernel_drops,
            "unread": self.unread,
            "arp": self.arp,
            "vrrp": self.vrrp,
            "groups": self.groups,
            "masters": self.masters,
            "master_changes": self.master_changes,
            "findings": self.findings,
            "finding_kinds": self.finding_kinds,
            "watch_user_cpu_pct": round(self.user_cpu_pct, 1),
            "watch_sys_cpu_pct": round(self.sys_cpu_pct, 1),
            "watch_wait_pct": round(self.wait_pct, 1),
            "watch_cpu_us_per_frame": round(self.cpu_us_per_frame, 2),
            "loadavg_1m_before": round(self.load_before, 2),
            "nice": self.nice,
            "drain_seconds": round(self.drain_seconds, 2),
            "filter": self.filter_source,
            "clean": self.clean,
            "errors": self.errors,
        }


@dataclass
class Options:
    """Command-line options shared by every measurement."""

    seconds: float
    sender: str
    drain: float
    watch_core: int
    sender_core: int
    nice: int = 0
    profile_dir: Path | None = None


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"watch exited early: {path.read_text(errors='replace').strip()[-400:]}")
        time.sleep(0.05)
    raise RuntimeError(f"watch did not start within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """SIGINT (watch's clean stop), then SIGKILL if it does not end; only our own PID."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def read_events(stdout: Path) -> tuple[dict[str, Any] | None, int, int, dict[str, int]]:
    """From watch's JSON Lines: the last ``stats`` event, the groups that had a master when watch
    stopped (from ``master_change`` events), the master changes after the first master of each
    group (none expected: the storm has no failover), and the kinds of findings opened."""
    last = None
    current: dict[tuple[Any, ...], Any] = {}
    changes = 0
    kinds: dict[str, int] = {}
    for line in stdout.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if not isinstance(event, dict):
                continue
            if event.get("event") == "stats":
                last = event
            elif event.get("event") == "master_change":
                current[(event.get("segment"), event.get("family"), event.get("vrid"))] = event.get("to")
                if event.get("cause") != "initial":
                    changes += 1
            elif event.get("event") == "finding" and event.get("state") == "open":
                kind = str(event.get("kind"))
                kinds[kind] = kinds.get(kind, 0) + 1
    return last, sum(1 for to in current.values() if to), changes, kinds


def measure(lab: Lab, pps: int, opts: Options, work: Path, running: list[subprocess.Popen[bytes]]) -> Result:
    """One storm at ``pps``: start watch, send, drain, stop watch, collect the counters."""
    res = Result(pps, opts.seconds, opts.sender, nice=opts.nice, load_before=os.getloadavg()[0])
    pcap = work / f"storm-{pps}.pcap"
    if not pcap.exists():
        write_pcap(pcap, storm_cycle(pps), pps)
    out, err = work / f"watch-{pps}.out", work / f"watch-{pps}.err"
    cmd = ["ip", "netns", "exec", lab.cap_ns, "taskset", "-c", str(opts.watch_core)]
    if opts.profile_dir is not None:
        report = opts.profile_dir / f"watch-{pps}.txt"
        cmd += [sys.executable, str(HERE / "profile_live.py"), "--top", "45", "--wrap", str(report), "--"]
    else:
        cmd += [str(VRRPSCOPE)]
    cmd += ["watch", "-i", lab.cap_if, "--format", "json"]
    before_cap = lab.counters(lab.cap_ns, lab.cap_if)
    before_send = lab.counters(lab.send_ns, lab.send_if)
    backlog0 = softnet_drops()
    cpu_total = 0.0
    with open(out, "wb") as fo, open(err, "wb") as fe:
        # its own session, so its own scheduler autogroup: a fair share of its core against the
        # other sessions on the machine, not a share of this script's
        watch = subprocess.Popen(cmd, stdout=fo, stderr=fe, start_new_session=True)
    running.append(watch)
    try:
        if opts.nice:
            set_autogroup_nice(watch.pid, opts.nice)
        _wait_for(err, "capturing on", watch, 30.0)
        time.sleep(0.3)
        if opts.sender == "tcpreplay":
            send_cmd = [
                "ip", "netns", "exec", lab.send_ns, "taskset", "-c", str(opts.sender_core),
                "tcpreplay", "-q", "-K", "-i", lab.send_if, "--pps", str(pps),
                "--loop", str(max(1, round(opts.seconds))), str(pcap),
            ]  # fmt: skip
        else:
            send_cmd = [
                "ip", "netns", "exec", lab.send_ns, "taskset", "-c", str(opts.sender_core),
                sys.executable, str(Path(__file__).resolve()), "--send-worker",
                lab.send_if, str(pcap), str(pps), str(opts.seconds),
            ]  # fmt: skip
        u0, s0 = cpu_ticks(watch.pid)
        w0 = run_delay(watch.pid)
        t0 = time.monotonic()
        sender = subprocess.Popen(send_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        running.append(sender)
        send_out, _ = sender.communicate()
        running.remove(sender)
        t1 = time.monotonic()
        u1, s1 = cpu_ticks(watch.pid)
        w1 = run_delay(watch.pid)
        hz = os.sysconf("SC_CLK_TCK")
        res.user_cpu_pct = 100.0 * (u1 - u0) / hz / (t1 - t0)
        res.sys_cpu_pct = 100.0 * (s1 - s0) / hz / (t1 - t0)
        res.wait_pct = 100.0 * (w1 - w0) / (t1 - t0)
        text = send_out.decode(errors="replace")
        if sender.returncode != 0:
            res.errors.append(f"sender exited {sender.returncode}: {text.strip()[-300:]}")
        else:
            sent = parse_tcpreplay(text) if opts.sender == "tcpreplay" else json.loads(text.strip().splitlines()[-1])
            res.sent, res.send_failed, res.send_seconds = sent["sent"], sent["failed"], sent["seconds"]
        # let watch drain its socket queue: wait until its CPU use falls to idle, at most opts.drain s
        d0 = time.monotonic()
        last = sum(cpu_ticks(watch.pid))
        while time.monotonic() - d0 < opts.drain:
            time.sleep(0.2)
            now = sum(cpu_ticks(watch.pid))
            if now - last <= 0.02 * hz:  # under 10 % of a core over the last 0.2 s
                break
            last = now
        res.drain_seconds = time.monotonic() - d0
        u2, s2 = cpu_ticks(watch.pid)
        cpu_total = (u2 + s2 - u0 - s0) / hz
    finally:
        _stop(watch)
        running.remove(watch)
    after_cap = lab.counters(lab.cap_ns, lab.cap_if)
    after_send = lab.counters(lab.send_ns, lab.send_if)
    res.backlog_drops = softnet_drops() - backlog0
    res.veth_rx = after_cap["rx_packets"] - before_cap["rx_packets"]
    res.veth_rx_dropped = after_cap["rx_dropped"] - before_cap["rx_dropped"]
    res.veth_tx_dropped = after_send["tx_dropped"] - before_send["tx_dropped"]
    stats, res.masters, res.master_changes, res.finding_kinds = read_events(out)
    errtext = err.read_text(errors="replace")
    m = re.search(r"\(filter: (\w+)\)", errtext)
    res.filter_source = m.group(1) if m else ""
    if stats is None:
        res.errors.append(f"no stats event from watch (exit {watch.returncode}): {errtext.strip()[-300:]}")
    else:
        res.processed = stats["packets"]
        if res.processed:
            res.cpu_us_per_frame = cpu_total / res.processed * 1e6
        res.kernel_drops = stats["kernel_drops"]
        res.arp, res.vrrp = stats["arp"], stats["vrrp"]
        res.groups, res.findings = stats["groups"], stats["findings"]
    return res


# --------------------------------------------------------------------------- report


COLUMNS = (
    ("target", 8),
    ("sent/s", 8),
    ("sent", 9),
    ("veth rx", 9),
    ("processed", 9),
    ("k.drops", 8),
    ("unread", 7),
    ("user%", 6),
    ("sys%", 6),
    ("wait%", 6),
    ("us/fr", 6),
    ("groups", 6),
    ("chg", 4),
    ("find", 4),
    ("clean", 5),
)


def table_rows(results: Sequence[Result]) -> Iterator[str]:
    """The results as a fixed-width text table (header first)."""
    yield "  ".join(name.rjust(width) for name, width in COLUMNS)
    for r in results:
        cells = (
            f"{r.target_pps}",
            f"{r.sent_pps:.0f}",
            f"{r.sent}",
            f"{r.veth_rx}",
            f"{r.processed}",
            f"{r.kernel_drops}",
            f"{r.unread}",
            f"{r.user_cpu_pct:.0f}",
            f"{r.sys_cpu_pct:.0f}",
            f"{r.wait_pct:.0f}",
            f"{r.cpu_us_per_frame:.1f}",
            f"{r.groups}/{r.masters}",
            f"{r.master_changes}",
            f"{r.findings}",
            "yes" if r.clean else ("n/a" if not r.rate_reached and r.kernel_drops == 0 else "NO"),
        )
        yield "  ".join(c.rjust(w) for c, (_n, w) in zip(cells, COLUMNS, strict=True))


def markdown_rows(results: Sequence[Result]) -> Iterator[str]:
    """The results as a Markdown table."""
    yield (
        "| target pkt/s | sent pkt/s | sent | veth rx | processed | kernel drops | unread | "
        "watch user CPU | watch sys CPU | watch waiting for CPU | CPU µs/frame | groups/masters | "
        "master changes | findings | clean |"
    )
    yield "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---:|---:|:-:|"
    for r in results:
        yield (
            f"| {r.target_pps:,} | {r.sent_pps:,.0f} | {r.sent:,} | {r.veth_rx:,} | {r.processed:,} | "
            f"{r.kernel_drops:,} | {r.unread:,} | {r.user_cpu_pct:.0f} % | {r.sys_cpu_pct:.0f} % | "
            f"{r.wait_pct:.0f} % | {r.cpu_us_per_frame:.1f} | {r.groups}/{r.masters} | "
            f"{r.master_changes} | {r.findings} | {'yes' if r.clean else 'no'} |"
        )


# --------------------------------------------------------------------------- main


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the lab, measure every rate, report; always clean up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pps", type=int, nargs="+", default=[10_000, 25_000, 50_000, 100_000], help="target rates")
    ap.add_argument("--seconds", type=float, default=20.0, help="storm duration per rate")
    ap.add_argument("--sender", choices=("auto", "tcpreplay", "python"), default="auto")
    ap.add_argument("--drain", type=float, default=5.0, help="max seconds watch may take to empty its queue")
    ap.add_argument("--watch-core", type=int, default=0)
    ap.add_argument("--sender-core", type=int, default=1)
    ap.add_argument(
        "--nice",
        type=int,
        default=0,
        help="nice value of watch's scheduler autogroup (negative: ahead of other sessions on its core)",
    )
    ap.add_argument("--find-max", action="store_true", help="then bisect for the highest clean rate")
    ap.add_argument("--max-seconds", type=float, default=10.0, help="storm duration of each --find-max probe")
    ap.add_argument(
        "--profile", metavar="DIR", help="run watch under bench/profile_live.py's sampler, one report per rate in DIR"
    )
    ap.add_argument("--no-save", action="store_true", help=f"do not append to {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--send-worker", nargs=4, metavar=("IFACE", "PCAP", "PPS", "SECONDS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.send_worker:
        iface, pcap, pps, seconds = args.send_worker
        print(json.dumps(python_sender(iface, Path(pcap), int(pps), float(seconds))), flush=True)
        return 0
    if os.geteuid() != 0:
        print("live_storm: needs root (network namespaces, AF_PACKET)", file=sys.stderr)
        return 2
    if not VRRPSCOPE.exists():
        print(f"live_storm: {VRRPSCOPE} missing (make setup)", file=sys.stderr)
        return 2
    sender = args.sender
    if sender == "auto":
        sender = "tcpreplay" if shutil.which("tcpreplay") else "python"
    elif sender == "tcpreplay" and not shutil.which("tcpreplay"):
        print("live_storm: tcpreplay not installed (apt-get install -y tcpreplay)", file=sys.stderr)
        return 2
    profile_dir = Path(args.profile).resolve() if args.profile else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    opts = Options(args.seconds, sender, args.drain, args.watch_core, args.sender_core, args.nice, profile_dir)

    old_term = signal.signal(signal.SIGTERM, _terminate)
    lab = Lab(str(os.getpid()))
    running: list[subprocess.Popen[bytes]] = []
    results: list[Result] = []
    failed = False
    print(
        f"live_storm: sender {sender} on core {opts.sender_core}, watch on core {opts.watch_core}, "
        f"{opts.seconds:g} s per rate; load average {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="vsb-") as tmp:
            work = Path(tmp)
            lab.create()

            def one(pps: int, seconds: float) -> Result:
                o = Options(seconds, sender, opts.drain, opts.watch_core, opts.sender_core, opts.nice, opts.profile_dir)
                r = measure(lab, pps, o, work, running)
                results.append(r)
                print("\n".join(list(table_rows([r]))[1:]), file=sys.stderr, flush=True)
                if not args.no_save:
                    RESULTS.parent.mkdir(parents=True, exist_ok=True)
                    with open(RESULTS, "a") as fh:
                        fh.write(json.dumps(r.to_json()) + "\n")
                return r

            print(next(table_rows([])), file=sys.stderr)
            for pps in args.pps:
                one(pps, opts.seconds)
            if args.find_max:
                good = max((r.target_pps for r in results if r.clean), default=0)
                bad = min((r.target_pps for r in results if not r.clean and r.kernel_drops), default=0)
                if not bad:
                    bad = max(args.pps) * 2
                    while one(bad, args.max_seconds).clean and bad < 2_000_000:
                        good, bad = bad, bad * 2
                while bad - good > max(1000, good // 20):
                    mid = (good + bad) // 2 // 1000 * 1000
                    r = one(mid, args.max_seconds)
                    if r.clean:
                        good = mid
                    elif r.kernel_drops or r.unread:
                        bad = mid
                    else:  # the sender could not reach the rate: no verdict above it
                        bad = mid
                        print(f"live_storm: sender reached only {r.sent_pps:.0f} pkt/s", file=sys.stderr)
                print(f"live_storm: highest clean rate {good} pkt/s (first failing {bad})", file=sys.stderr)
    except KeyboardInterrupt:
        print("live_storm: interrupted", file=sys.stderr)
        failed = True
    except RuntimeError as exc:
        print(f"live_storm: {exc}", file=sys.stderr)
        failed = True
    finally:
        for proc in list(running):
            if proc.poll() is None:
                proc.kill()  # our own children only, by PID
                proc.wait()
        lab.destroy()
        signal.signal(signal.SIGTERM, old_term)
    if results:
        print()
        print("\n".join(table_rows(results)))
        print()
        print("\n".join(markdown_rows(results)))
    # the exit status says whether the measurements ran, not whether the rates were clean
    return 1 if failed or not results or any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
