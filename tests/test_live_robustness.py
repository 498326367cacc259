"""``vrrpscope watch`` keeps going when its interface does not: link down, carrier lost, interface
deleted and re-created; and SIGHUP re-opens its output files for log rotation.

The live tests run the real ``watch`` command as a process inside network namespaces made for the
test (``vsr-<pid>-<hex>-cap`` captures, ``...-peer`` sends; deleted in ``finally``), with veth pairs
between them. A sender process in the peer namespace sends one VRRPv3 advert per interface every
0.1 s, its IPv4 ID a sequence number, and logs each send with its time. The oracles: the times of
the ``ip link`` commands the test runs (before and after each), the sender's log, the pcapng
``watch`` wrote read by tshark and by our reader, and the JSON events. Unit tests (no root) cover
the writer's re-open, the file sinks, and gap reporting through the loop on a replayed capture.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner
from support import require, require_tool

from vrrpscope.cli.watch import watch_command
from vrrpscope.live.capture import LINK_CHECK_S, RING_FLUSH_S
from vrrpscope.live.events import CaptureGapEvent, JsonLinesSink, LineSink
from vrrpscope.live.metrics import Metrics
from vrrpscope.live.session import WatchSession
from vrrpscope.live.source import CapturedFrame, CaptureGap, InterfaceInfo, InterfaceStats, ReplaySource
from vrrpscope.live.writer import PcapngWriter
from vrrpscope.sources import open_capture
from vrrpscope.sources.base import Frame, SourceProblem

ROOT = Path(__file__).resolve().parents[1]
WATCH = [sys.executable, "-c", "from vrrpscope.cli.watch import watch_command; watch_command()"]
#: Every namespace this module creates starts with this (pid: several runs never collide).
PREFIX = f"vsr-{os.getpid()}-"
#: Advert period of the sender (and the advertised interval: VRRPv3 10 centiseconds).
PERIOD = 0.1

# ----------------------------------------------------------------------------- helpers (no root)


def pcapng_blocks(path: Path) -> list[int]:
    """Block types of a little-endian pcapng file, in order (raises on a broken block chain)."""
    data = path.read_bytes()
    out: list[int] = []
    pos = 0
    while pos < len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        assert length >= 12 and length % 4 == 0 and pos + length <= len(data), (path, pos, length)
        assert struct.unpack_from("<I", data, pos + length - 4)[0] == length, (path, pos)
        out.append(kind)
        pos += length
    return out


def gap_marks(path: Path) -> list[tuple[float, float, str]]:
    """``(start, end, comment)`` of every statistics block with isb_starttime/isb_endtime (a gap)."""
    data = path.read_bytes()
    out = []
    pos = 0
    while pos < len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        if kind == 5:
            opts: dict[int, bytes] = {}
            at, end = pos + 20, pos + length - 4
            while at + 4 <= end:
                code, size = struct.unpack_from("<HH", data, at)
                if code == 0:
                    break
                opts[code] = data[at + 4 : at + 4 + size]
                at += 4 + size + (-size % 4)
            if 2 in opts and 3 in opts:
                hi, lo = struct.unpack("<II", opts[2])
                hi2, lo2 = struct.unpack("<II", opts[3])
                out.append(((hi << 32 | lo) / 1e9, (hi2 << 32 | lo2) / 1e9, opts[1].decode()))
        pos += length
    return out


def read_ours(path: Path) -> list[Frame]:
    """Frames of ``path`` through our reader, which must report no problem at all."""
    frames: list[Frame] = []
    with open_capture(str(path)) as reader:
        for item in reader:
            assert not isinstance(item, SourceProblem), item
            frames.append(item)
    return frames


def read_tshark(path: Path) -> list[tuple[float, int, str]]:
    """``(time, IPv4 ID or -1, interface name)`` of every frame per tshark, which must read the file cleanly."""
    tshark = require_tool("tshark")
    fields = ["-e", "frame.time_epoch", "-e", "ip.id", "-e", "frame.interface_name"]
    proc = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", *fields],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    bad = [ln for ln in proc.stderr.splitlines() if "Running as user" not in ln and ln.strip()]
    assert not bad, bad  # e.g. "appears to have been cut short in the middle of a packet"
    rows = []
    for line in proc.stdout.splitlines():
        t, ident, name = line.split("\t")
        rows.append((float(t), int(ident, 16) if ident else -1, name))
    return rows


def frame(t: float, data: bytes = b"\x01" * 60, interface: int = 0) -> CapturedFrame:
    """A captured frame at epoch time ``t``."""
    return CapturedFrame(interface, round(t * 1e9), data, len(data))


INFO = InterfaceInfo(name="eth9", linktype=1, index=0)

# ----------------------------------------------------------------------------- writer re-open


def test_writer_reopen_after_move_finishes_the_old_file_and_starts_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    w = PcapngWriter(str(path), stats=lambda: [InterfaceStats("eth9", packets=3, kernel_drops=1)])
    w.add_interface(0, INFO)
    for i in range(3):
        w.write(frame(1000.0 + i))
    os.rename(path, tmp_path / "out.pcapng.1")
    assert w.reopen() is True
    for i in range(2):
        w.write(frame(2000.0 + i))
    w.close([InterfaceStats("eth9", packets=5, kernel_drops=1)])
    old, new = tmp_path / "out.pcapng.1", path
    # the old file is finished: header, interface, frames, then the statistics block last
    assert pcapng_blocks(old) == [0x0A0D0D0A, 1, 6, 6, 6, 5]
    # the new one stands alone: its own section header and interface description
    assert pcapng_blocks(new) == [0x0A0D0D0A, 1, 6, 6, 5]
    assert [f.time for f in read_ours(old)] == [1000.0, 1001.0, 1002.0]
    assert [f.time for f in read_ours(new)] == [2000.0, 2001.0]
    assert {f.interface_name for f in read_ours(new)} == {"eth9"}
    assert (w.files, w.reopens, w.frames) == (2, 1, 5)


def test_writer_reopen_without_move_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    w = PcapngWriter(str(path))
    w.add_interface(0, INFO)
    w.write(frame(1000.0))
    assert w.reopen() is False  # never truncate a file still in use
    w.write(frame(1001.0))
    w.close()
    assert pcapng_blocks(path) == [0x0A0D0D0A, 1, 6, 6]
    assert [f.time for f in read_ours(path)] == [1000.0, 1001.0]


def test_writer_reopen_after_copytruncate_starts_again_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    w = PcapngWriter(str(path))
    w.add_interface(0, INFO)
    w.write(frame(1000.0))
    w.flush()
    (tmp_path / "copy.pcapng").write_bytes(path.read_bytes())  # logrotate copytruncate
    os.truncate(path, 0)
    assert w.reopen() is True
    w.write(frame(1001.0))
    w.close()
    assert pcapng_blocks(path) == [0x0A0D0D0A, 1, 6]  # no hole, no stale blocks
    assert [f.time for f in read_ours(path)] == [1001.0]
    assert [f.time for f in read_ours(tmp_path / "copy.pcapng")] == [1000.0]


def test_writer_reopen_failure_keeps_writing_the_old_file(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    path = folder / "out.pcapng"
    w = PcapngWriter(str(path))
    w.add_interface(0, INFO)
    w.write(frame(1000.0))
    moved = tmp_path / "out.pcapng.1"
    os.rename(path, moved)
    folder.rmdir()  # the new FILE cannot be created
    with pytest.raises(OSError):
        w.reopen()
    w.write(frame(1001.0))
    w.close()
    assert [f.time for f in read_ours(moved)] == [1000.0, 1001.0]


def test_writer_marks_a_gap_with_a_statistics_block(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    w = PcapngWriter(str(path))
    w.add_interface(0, INFO)
    w.write(frame(1000.0))
    w.mark_gap(CaptureGap("eth9", 0, 1000.5, 1002.75, "deleted", True, True), InterfaceStats("eth9", 1, 2))
    w.write(frame(1003.0))
    w.close([InterfaceStats("eth9", packets=2, kernel_drops=2)])
    assert pcapng_blocks(path) == [0x0A0D0D0A, 1, 6, 5, 6, 5]
    assert gap_marks(path) == [
        (
            1000.5,
            1002.75,
            "capture gap: eth9 deleted for 2.250 s (interface re-created, capture resumed); frames in it are unknown",
        )
    ]
    assert [f.time for f in read_ours(path)] == [1000.0, 1003.0]  # frames untouched, no problem
    with open_capture(str(path)) as reader:
        list(reader)
        assert reader.stats.dropped == 2  # the kernel's drops, not a guess for the gap
    assert len(read_tshark(path)) == 2


def test_event_file_sinks_reopen(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink.to_file(str(path))
    gap = CaptureGap("eth9", 0, 100.0, None, "down")
    sink.capture_gap(CaptureGapEvent(100.0, "open", gap))
    os.rename(path, tmp_path / "events.jsonl.1")
    sink.reopen()
    sink.capture_gap(CaptureGapEvent(102.5, "closed", CaptureGap("eth9", 0, 100.0, 102.5, "down", resumed=True)))
    sink.close()
    old = [json.loads(x) for x in (tmp_path / "events.jsonl.1").read_text().splitlines()]
    new = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(e["event"], e["state"], e["end"], e["duration"]) for e in old] == [("capture_gap", "open", None, 0.0)]
    assert [(e["state"], e["duration"], e["packets"], e["resumed"]) for e in new] == [("closed", 2.5, None, True)]
    lines = LineSink.to_file(str(tmp_path / "events.txt"))
    lines.capture_gap(CaptureGapEvent(102.5, "closed", CaptureGap("eth9", 0, 100.0, 102.5, "deleted", True, True)))
    lines.close()
    text = (tmp_path / "events.txt").read_text()
    assert "CAPTURE GAP eth9 deleted" in text and "(2.500 s), re-created, capturing again" in text
    assert "frames in between are unknown" in text


# ----------------------------------------------------------------------------- gaps through the loop


class GappedReplay(ReplaySource):
    """A replay whose interface ``if0`` is "down" over ``[start, end)`` of the virtual clock: the
    frames in it are withheld (as the kernel would not deliver them) and the gap is reported."""

    def __init__(self, path: str, start: float, end: float) -> None:
        super().__init__(path, tail=1.0)
        self.gap_start, self.gap_end = start, end
        self._updates: list[tuple[str, CaptureGap]] = []
        self._state = "before"
        self.withheld = 0

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """Frames outside the gap; gap updates as the clock passes its ends."""
        out = [f for f in super().poll(timeout) if not self.gap_start <= f.time < self.gap_end]
        now = self.now()
        if self._state == "before" and now >= self.gap_start:
            self._state = "in"
            self._updates.append(("open", CaptureGap("if0", 0, self.gap_start, None, "down")))
        if self._state == "in" and now >= self.gap_end:
            self._state = "after"
            self._updates.append(("closed", CaptureGap("if0", 0, self.gap_start, self.gap_end, "down", resumed=True)))
        return out

    def gap_updates(self) -> list[tuple[str, CaptureGap]]:
        """Gaps opened or closed since the last call."""
        out, self._updates = self._updates, []
        return out


FAILOVER = ROOT / "samples" / "real" / "failover" / "capture.pcap"


def test_gaps_reach_events_and_summary_and_mark_what_they_may_explain() -> None:
    # the failover capture: r1 (192.0.2.11) master, stops; r2 takes over after Master_Down_Interval.
    # Blind the capture from 1.5 s before r2's first advert as master until 0.5 s after it.
    probe = io.StringIO()
    WatchSession(ReplaySource(str(FAILOVER)), [JsonLinesSink(probe)]).run()
    plain = [json.loads(x) for x in probe.getvalue().splitlines()]
    takeover = next(e for e in plain if e["event"] == "master_change" and e["cause"] == "timeout")
    start, end = takeover["time"] - 1.5, takeover["time"] + 0.5
    buf = io.StringIO()
    lines = io.StringIO()
    session = WatchSession(GappedReplay(str(FAILOVER), start, end), [JsonLinesSink(buf), LineSink(lines)])
    analysis = session.run().to_dict()
    events = [json.loads(x) for x in buf.getvalue().splitlines()]
    gaps = [e for e in events if e["event"] == "capture_gap"]
    assert [(g["state"], g["time"], g["start"], g["end"]) for g in gaps] == [
        ("open", start, start, None),
        ("closed", end, start, end),
    ]
    assert gaps[1]["duration"] == pytest.approx(2.0) and gaps[1]["packets"] is None
    # a gap event comes before the frames of its turn: nothing dated inside the gap after it opened
    i_open = events.index(gaps[0])
    assert all(not (start < e["time"] < end) for e in events[i_open + 1 :] if e["event"] == "master_change")
    changes = [e for e in events if e["event"] == "master_change"]
    marked = [(e["from"], e["to"], e["cause"]) for e in changes if e["capture_gap"]]
    unmarked = [(e["from"], e["to"], e["cause"]) for e in changes if not e["capture_gap"]]
    # r2's first advert after the gap is a takeover whose silence overlaps the gap: marked
    assert ("192.0.2.11", "192.0.2.12", "timeout") in marked
    assert (None, "192.0.2.11", "initial") in unmarked and ("192.0.2.12", "192.0.2.11", "preempt") in unmarked
    # the summary's input: the gap beside capture_loss; the last stats event counts it
    inp = analysis["input"]
    assert inp["capture_loss"] == 0 and inp["capture_gap_seconds"] == pytest.approx(2.0)
    assert inp["capture_gaps"] == [
        {
            "interface": "if0",
            "start": start,
            "end": end,
            "duration": pytest.approx(2.0),
            "reason": "down",
            "recreated": False,
            "resumed": True,
            "packets": None,
        }
    ]
    assert "CAPTURE GAP if0 down" in lines.getvalue() and "[during a capture gap: may not be real]" in lines.getvalue()


def first_frame_time(path: Path) -> float:
    """Capture time of the first frame of ``path``."""
    with open_capture(str(path)) as reader:
        return next(f for f in reader if isinstance(f, Frame)).time


def test_a_gap_open_at_the_stop_ends_there_not_resumed() -> None:
    buf = io.StringIO()
    # blind from the first frame on, never back
    session = WatchSession(GappedReplay(str(FAILOVER), first_frame_time(FAILOVER), float("inf")), [JsonLinesSink(buf)])
    analysis = session.run().to_dict()
    events = [json.loads(x) for x in buf.getvalue().splitlines()]
    gaps = [e for e in events if e["event"] == "capture_gap"]
    assert [g["state"] for g in gaps] == ["open", "closed"]
    assert gaps[1]["resumed"] is False and gaps[1]["end"] == session.now
    assert events[-1]["event"] == "stats"  # still the last event
    (g,) = analysis["input"]["capture_gaps"]
    assert g["resumed"] is False and g["end"] == session.now
    assert analysis["input"]["packets"] == 0  # every frame fell in the gap


def test_replay_json_has_no_gap_keys() -> None:
    analysis = WatchSession(ReplaySource(str(FAILOVER)), []).run().to_dict()
    assert "capture_gaps" not in analysis["input"]  # exactly analyze's input (replay parity)


class StatsSource(ReplaySource):
    """A replay reporting fixed interface counters (a gap open since ``since``)."""

    def __init__(self, path: str, since: float) -> None:
        super().__init__(path)
        self.since = since

    def stats(self) -> list[InterfaceStats]:
        """One interface, down, with one closed gap of 2 s and one open."""
        return [InterfaceStats("eth9", up=False, state="down", gaps=2, gap_seconds=2.0, gap_since=self.since)]


def test_metrics_and_stats_count_gaps_and_blind_seconds() -> None:
    first = first_frame_time(FAILOVER)
    metrics = Metrics()
    buf = io.StringIO()
    session = WatchSession(StatsSource(str(FAILOVER), first), [metrics, JsonLinesSink(buf)])
    session.run()
    stats = [json.loads(x) for x in buf.getvalue().splitlines() if '"stats"' in x][-1]
    blind = 2.0 + (session.now - first)
    assert stats["capture_gaps"] == 2 and stats["capture_gap_seconds"] == pytest.approx(blind)
    iface = stats["interfaces"][0]
    assert (iface["state"], iface["gaps"], iface["up"]) == ("down", 2, False)
    assert iface["gap_seconds"] == pytest.approx(blind)
    reg = metrics.registry
    assert reg.get_sample_value("vrrpscope_capture_gaps_total", {"interface": "eth9"}) == 2.0
    assert reg.get_sample_value("vrrpscope_capture_gap_seconds_total", {"interface": "eth9"}) == pytest.approx(blind)
    assert reg.get_sample_value("vrrpscope_capture_up", {"interface": "eth9"}) == 0.0


class HungUp(io.StringIO):
    """A terminal that hung up: every write fails with EIO."""

    def write(self, text: str) -> int:
        """Fail as a hung-up tty does."""
        raise OSError(5, "Input/output error")


def test_an_output_that_fails_stops_the_loop_cleanly() -> None:
    session = WatchSession(ReplaySource(str(FAILOVER), tail=30.0), [LineSink(HungUp())])
    analysis = session.run()  # no exception: the loop stops, and the caller closes the files
    assert session.stopped_by == "output error: Input/output error"
    assert analysis.counts.packets < 40  # stopped at the first line, not at the end of the file


def test_help_documents_gaps_and_sighup() -> None:
    result = CliRunner().invoke(watch_command, ["--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for part in (
        "-o, --output",
        "capture gap",
        "SIGHUP",
        "mv FILE FILE.1; kill -HUP PID",
        "interface of the same name is captured again",
    ):
        assert part in text, part
    bad = CliRunner().invoke(watch_command, ["-i", "lo", "-w", "x.pcapng", "-o", "x.pcapng"])
    assert bad.exit_code != 0 and "-o and -w name the same file" in bad.output


# ----------------------------------------------------------------------------- live: namespaces

SENDER = r"""
import json, socket, sys, time
cfg = json.load(open(sys.argv[1]))
socks = {}
t0, period = cfg["t0"], cfg["period"]
n = max(len(v) for v in cfg["frames"].values())
for i in range(n):
    delay = t0 + i * period - time.time()
    if delay > 0:
        time.sleep(delay)
    for name, frames in cfg["frames"].items():
        ok = True
        try:
            s = socks.get(name)
            if s is None:  # (re-)open by name: the interface may have been deleted and re-created
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
                socks[name] = s
                s.bind((name, 0))
            s.send(bytes.fromhex(frames[i]))
        except OSError:
            ok = False
            socks.pop(name).close()
        print(json.dumps([name, i, time.time(), ok]), flush=True)
"""

SCRAPE = (
    "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9108/metrics', timeout=5).read().decode())"
)


def adverts(router: str, vrid: int, n: int) -> list[str]:
    """``n`` VRRPv3 adverts (interval 0.1 s) of ``router``; the IPv4 ID of advert ``i`` is ``i``."""
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRPv3

    mac = f"00:00:5e:00:53:{int(router.rsplit('.', 1)[1]):02x}"
    return [
        bytes(
            Ether(src=mac, dst="01:00:5e:00:00:12")
            / IP(src=router, dst="224.0.0.18", ttl=255, id=i)
            / VRRPv3(vrid=vrid, priority=100, adv=round(PERIOD * 100), addrlist=["192.0.2.100"])
        ).hex()
        for i in range(n)
    ]


def sh(*argv: str) -> tuple[float, float]:
    """Run a command; return the times just before and just after it."""
    before = time.time()
    subprocess.run(list(argv), check=True, capture_output=True, timeout=20)
    return before, time.time()


@dataclass
class Lab:
    """Two namespaces (capture, peer) and the processes started in them."""

    cap: str
    peer: str
    tmp: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def veth(self, tx: str, rx: str) -> None:
        """A veth pair: ``tx`` in the peer namespace, ``rx`` in the capture namespace, both up."""
        sh("ip", "-n", self.peer, "link", "add", tx, "type", "veth", "peer", "name", rx, "netns", self.cap)
        sh("ip", "-n", self.peer, "link", "set", tx, "up")
        sh("ip", "-n", self.cap, "link", "set", rx, "up")

    def popen(self, ns: str, argv: list[str]) -> subprocess.Popen[str]:
        """Start ``argv`` in namespace ``ns`` (``ip netns exec`` execs in place: the PID is its own)."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.procs.append(proc)
        return proc

    def sender(self, frames: dict[str, list[str]], t0: float) -> subprocess.Popen[str]:
        """Start the sender: frame ``i`` of every interface at ``t0 + i * PERIOD``."""
        cfg = self.tmp / "sender.json"
        cfg.write_text(json.dumps({"t0": t0, "period": PERIOD, "frames": frames}))
        return self.popen(self.peer, [sys.executable, "-c", SENDER, str(cfg)])

    def scrape(self) -> str:
        """The metrics page of watch, fetched from inside the capture namespace."""
        proc = subprocess.run(
            ["ip", "netns", "exec", self.cap, sys.executable, "-c", SCRAPE],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return proc.stdout


@contextmanager
def lab(tmp: Path) -> Iterator[Lab]:
    """Create the namespaces (IPv6 off: no ND noise), yield, then kill our processes and delete them."""
    require(os.geteuid() == 0, "needs root for network namespaces and CAP_NET_RAW")
    require_tool("ip")
    tag = secrets.token_hex(3)
    the = Lab(f"{PREFIX}{tag}-cap", f"{PREFIX}{tag}-peer", tmp)
    made: list[str] = []
    try:
        for ns in (the.cap, the.peer):
            sh("ip", "netns", "add", ns)
            made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            for key in ("all", "default"):
                sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1")
        yield the
    finally:
        for proc in the.procs:
            if proc.poll() is None:
                proc.kill()  # our own PID only
            try:
                proc.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ValueError):
                pass
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=20)


class Watch:
    """``vrrpscope watch`` running in the capture namespace; stdout/stderr read by threads."""

    def __init__(self, the: Lab, args: list[str]) -> None:
        self.proc = the.popen(the.cap, [*WATCH, *args])
        self.out: list[tuple[float, str]] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read(self, stream: IO[str], out: bool) -> None:
        for line in stream:
            if out:
                self.out.append((time.time(), line))
            else:
                self.err.append(line)

    def wait_banner(self, timeout: float = 20.0) -> None:
        """Wait until watch says it captures."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any("capturing on" in ln for ln in self.err):
                return
            assert self.proc.poll() is None, "".join(self.err)
            time.sleep(0.02)
        raise AssertionError("no banner: " + "".join(self.err))

    def stop(self) -> int:
        """SIGTERM (to our own PID), wait, return the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(30)
        for t in self._threads:
            t.join(10)
        return rc

    @property
    def stderr(self) -> str:
        """Everything watch wrote on stderr."""
        return "".join(self.err)

    def events(self) -> list[dict[str, Any]]:
        """The JSON Lines events watch wrote on stdout."""
        return [json.loads(line) for _t, line in self.out]


def sent(proc: subprocess.Popen[str]) -> list[tuple[str, int, float, bool]]:
    """The sender's log, once it ended: ``(interface, seq, time, ok)`` per send."""
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return [tuple(json.loads(line)) for line in out.splitlines()]


def at(t0: float, offset: float) -> None:
    """Sleep until ``t0 + offset``."""
    delay = t0 + offset - time.time()
    if delay > 0:
        time.sleep(delay)


def report(name: str, gap: dict[str, Any], before: tuple[float, float], after: tuple[float, float]) -> None:
    """Print the measured gap against the real one (``pytest -s`` shows it)."""
    real_lo, real_hi = after[0] - before[1], after[1] - before[0]
    print(
        f"\n{name}: reported {gap['duration']:.3f} s ({gap['reason']}), real between {real_lo:.3f} and "
        f"{real_hi:.3f} s; start {gap['start'] - before[0]:+.3f} s after the command began "
        f"(it took {before[1] - before[0]:.3f} s), end {gap['end'] - after[0]:+.3f} s after the up began "
        f"(it took {after[1] - after[0]:.3f} s)"
    )


# Tolerances. A link change is seen through rtnetlink at once; on a loaded machine the loop may be
# busy for a moment. A gap must start no earlier than the command that causes it began (it cannot
# see the future) and at most SLACK after it returned; the same for its end.
SLACK = 0.15


def test_interface_down_and_no_carrier_are_capture_gaps_and_capture_resumes(tmp_path: Path) -> None:
    require_tool("tshark")
    with lab(tmp_path) as the:
        the.veth("vt0", "vr0")
        pcap = tmp_path / "watch.pcapng"
        watch = Watch(the, ["-i", "vr0", "--format", "json", "-w", str(pcap), "--metrics-port", "9108",
                            "--metrics-address", "127.0.0.1"])  # fmt: skip
        watch.wait_banner()
        t0 = time.time() + 0.3
        sender = the.sender({"vt0": adverts("192.0.2.11", 51, 75)}, t0)
        at(t0, 1.5)
        down = sh("ip", "-n", the.cap, "link", "set", "vr0", "down")  # the capture interface itself
        at(t0, 2.5)
        scraped = the.scrape()  # during the gap
        at(t0, 3.5)
        up = sh("ip", "-n", the.cap, "link", "set", "vr0", "up")
        at(t0, 5.0)
        lost = sh("ip", "-n", the.peer, "link", "set", "vt0", "down")  # the far end: carrier lost
        at(t0, 6.0)
        back = sh("ip", "-n", the.peer, "link", "set", "vt0", "up")
        log = sent(sender)
        time.sleep(0.3)
        assert watch.proc.poll() is None, watch.stderr  # survived all of it
        rc = watch.stop()
    assert rc == 0, watch.stderr
    err = watch.stderr
    assert "Traceback" not in err and "stopped by SIGTERM" in err

    events = watch.events()
    gaps = [e for e in events if e["event"] == "capture_gap"]
    assert [(g["state"], g["reason"], g["interface"]) for g in gaps] == [
        ("open", "down", "vr0"),
        ("closed", "down", "vr0"),
        ("open", "no_carrier", "vr0"),
        ("closed", "no_carrier", "vr0"),
    ]
    g1, g2 = gaps[1], gaps[3]
    # a carrier change may be notified late: its gap starts at the last sign of life before it (the
    # previous link check or frame), never after the change; down is notified at once
    for g, start, end, early in ((g1, down, up, 0.0), (g2, lost, back, LINK_CHECK_S + 0.05)):
        assert start[0] - early <= g["start"] <= start[1] + SLACK, (g, start)
        assert end[0] <= g["end"] <= end[1] + SLACK, (g, end)
        assert g["duration"] == pytest.approx(g["end"] - g["start"])
        assert g["resumed"] is True and g["recreated"] is False and g["packets"] is None
    report("admin down", g1, down, up)
    report("carrier lost", g2, lost, back)

    # frames: none inside a gap; every advert sent outside the gaps (and the commands) captured
    rows = read_tshark(pcap)
    ours = read_ours(pcap)
    assert [(round(f.time, 6), int.from_bytes(f.data[18:20], "big")) for f in ours] == [
        (round(t, 6), i) for t, i, _n in rows
    ]
    got = {i for _t, i, _n in rows}
    for g in (g1, g2):
        assert not [t for t, _i, _n in rows if g["start"] + 0.01 < t < g["end"] - 0.01]
    blind = [(down[0], max(up[1], g1["end"])), (lost[0], max(back[1], g2["end"]))]
    expected = {i for _n, i, t, ok in log if ok and not any(a - 0.02 <= t <= b + 0.02 for a, b in blind)}
    after = {i for i in expected if i * PERIOD > 6.5}
    assert after and after <= got  # frames after the gaps are captured
    assert expected <= got, sorted(expected - got)

    # the loop marks what the gap may explain: the master "lost" during it, "resumed" after it
    changes = [e for e in events if e["event"] == "master_change"]
    lost_master = [e for e in changes if e["to"] is None]
    assert lost_master and all(e["capture_gap"] for e in lost_master)
    assert any(e["cause"] == "resumed" and e["capture_gap"] for e in changes)
    assert changes[0]["cause"] == "initial" and changes[0]["capture_gap"] is False

    final = events[-1]
    assert final["event"] == "stats" and final["capture_gaps"] == 2
    assert final["capture_gap_seconds"] == pytest.approx(g1["duration"] + g2["duration"], abs=1e-3)
    iface = final["interfaces"][0]
    assert (iface["name"], iface["state"], iface["gaps"]) == ("vr0", "up", 2)
    assert final["packets"] == len(rows) and final["kernel_drops"] == 0
    # the pcapng records both gaps (for Wireshark, or anyone reading the file later)
    marks = gap_marks(pcap)
    assert [(round(a, 6), round(b, 6)) for a, b, _c in marks] == [
        (round(g["start"], 6), round(g["end"], 6)) for g in (g1, g2)
    ]
    assert "vr0 down for" in marks[0][2] and "vr0 no_carrier for" in marks[1][2]

    assert 'vrrpscope_capture_up{interface="vr0"} 0.0' in scraped
    assert 'vrrpscope_capture_gaps_total{interface="vr0"} 1.0' in scraped
    assert "capture gaps: 2," in err and "vr0 down" in err and "vr0 no carrier" in err
    assert "capture gaps 2 (" in err  # the closing line


def test_deleted_and_recreated_interface_is_captured_again_and_others_go_on(tmp_path: Path) -> None:
    require_tool("tshark")
    with lab(tmp_path) as the:
        the.veth("vt0", "vr0")
        the.veth("vt1", "vr1")
        pcap = tmp_path / "watch.pcapng"
        watch = Watch(the, ["-i", "vr0", "-i", "vr1", "--format", "json", "-w", str(pcap)])
        watch.wait_banner()
        t0 = time.time() + 0.3
        sender = the.sender({"vt0": adverts("192.0.2.11", 51, 55), "vt1": adverts("192.0.2.21", 52, 55)}, t0)
        at(t0, 1.5)
        gone = sh("ip", "-n", the.peer, "link", "del", "vt0")  # both ends go
        at(t0, 3.0)
        made = sh("ip", "-n", the.peer, "link", "add", "vt0", "type", "veth", "peer", "name", "vr0", "netns", the.cap)
        sh("ip", "-n", the.peer, "link", "set", "vt0", "up")
        up = sh("ip", "-n", the.cap, "link", "set", "vr0", "up")
        log = sent(sender)
        time.sleep(0.3)
        assert watch.proc.poll() is None, watch.stderr
        rc = watch.stop()
    assert rc == 0, watch.stderr
    assert "Traceback" not in watch.stderr
    events = watch.events()
    gaps = [e for e in events if e["event"] == "capture_gap"]
    assert [(g["state"], g["interface"], g["reason"]) for g in gaps] == [
        ("open", "vr0", "deleted"),
        ("closed", "vr0", "deleted"),
    ]
    g = gaps[1]
    assert g["recreated"] is True and g["resumed"] is True
    assert gone[0] <= g["start"] <= gone[1] + SLACK
    assert made[0] <= g["end"] <= up[1] + SLACK  # capturing again once the new vr0 is up
    report("deleted and re-created", g, gone, up)

    rows = read_tshark(pcap)
    by_if: dict[str, set[int]] = {"vr0": set(), "vr1": set()}
    for _t, i, name in rows:
        by_if[name].add(i)
    ok = {(n, i, t) for n, i, t, good in log if good}
    # the other interface went on through the whole gap: every advert on vt1 captured
    assert {i for n, i, _t in ok if n == "vt1"} == by_if["vr1"]
    during = [t for t, _i, n in rows if n == "vr1" and g["start"] < t < g["end"]]
    assert len(during) >= int((g["end"] - g["start"]) / PERIOD) - 2
    # vr0: everything before the deletion and after the re-created link came up (same pcapng interface)
    before = {i for n, i, t in ok if n == "vt0" and t < gone[0] - 0.02}
    after = {i for n, i, t in ok if n == "vt0" and t > max(up[1], g["end"]) + 0.02}
    assert before and after
    assert before | after <= by_if["vr0"], sorted((before | after) - by_if["vr0"])
    names = {f.interface: f.interface_name or "" for f in read_ours(pcap)}
    assert sorted(names.values()) == ["vr0", "vr1"]  # two interfaces, not a third for the new vr0
    final = events[-1]
    assert [(i["name"], i["state"], i["gaps"]) for i in final["interfaces"]] == [("vr0", "up", 1), ("vr1", "up", 0)]


def test_sighup_reopens_pcapng_and_event_files(tmp_path: Path) -> None:
    require_tool("tshark")
    with lab(tmp_path) as the:
        the.veth("vt0", "vr0")
        pcap, jsonl = tmp_path / "out.pcapng", tmp_path / "events.jsonl"
        watch = Watch(the, ["-i", "vr0", "--format", "json", "-w", str(pcap), "-o", str(jsonl)])
        watch.wait_banner()
        t0 = time.time() + 0.3
        sender = the.sender({"vt0": adverts("192.0.2.11", 51, 45)}, t0)
        at(t0, 1.5)
        os.rename(pcap, tmp_path / "out.pcapng.1")  # what logrotate does, then its postrotate HUP
        os.rename(jsonl, tmp_path / "events.jsonl.1")
        hup = time.time()
        watch.proc.send_signal(signal.SIGHUP)
        at(t0, 3.0)
        watch.proc.send_signal(signal.SIGHUP)  # nothing moved: the files must be kept as they are
        log = sent(sender)
        time.sleep(0.3)
        assert watch.proc.poll() is None, watch.stderr
        rc = watch.stop()
    assert rc == 0, watch.stderr
    err = watch.stderr
    assert "Traceback" not in err and "stopped by SIGTERM" in err
    assert err.count("SIGHUP: finished the old") == 1 and err.count("was not moved away: still writing it") == 1
    out = "".join(line for _t, line in watch.out)
    assert "{" not in out and "vrrpscope analysis of" in out  # -o: events to the file, the summary on stdout

    old, new = tmp_path / "out.pcapng.1", pcap
    # both files complete: the old one closed with its statistics block, the new one with its own header
    assert pcapng_blocks(old)[:2] == [0x0A0D0D0A, 1] and pcapng_blocks(old)[-1] == 5
    assert pcapng_blocks(new)[:2] == [0x0A0D0D0A, 1] and pcapng_blocks(new)[-1] == 5
    rows_old, rows_new = read_tshark(old), read_tshark(new)
    for rows, path in ((rows_old, old), (rows_new, new)):
        assert [(round(f.time, 6), int.from_bytes(f.data[18:20], "big")) for f in read_ours(path)] == [
            (round(t, 6), i) for t, i, _n in rows
        ]
        assert {n for _t, _i, n in rows} == {"vr0"}
    ids_old, ids_new = [i for _t, i, _n in rows_old], [i for _t, i, _n in rows_new]
    assert ids_old and ids_new
    # nothing lost or duplicated at the switch: the sequence runs on from one file to the next
    assert ids_old + ids_new == sorted(i for _n, i, _t, ok in log if ok)
    assert max(t for t, _i, _n in rows_old) <= hup + 0.5  # switched within a couple of loop turns
    # a frame the kernel stamped just before the HUP may still sit in an unretired ring block when
    # the files switch: it then opens the new file (at most one block flush before the HUP)
    assert min(t for t, _i, _n in rows_new) >= hup - RING_FLUSH_S
    # the second SIGHUP did not truncate: the new file still holds what came before it
    assert min(t for t, _i, _n in rows_new) < t0 + 3.0 - 0.5

    ev_old = [json.loads(x) for x in (tmp_path / "events.jsonl.1").read_text().splitlines()]
    ev_new = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert ev_old and ev_new
    assert ev_old[0]["event"] == "master_change" and ev_old[0]["cause"] == "initial"
    assert ev_new[-1]["event"] == "stats" and ev_new[-1]["packets"] == len(ids_old) + len(ids_new)
