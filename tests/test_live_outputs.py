"""Outputs of ``watch``: the pcapng writer (tshark and the project's reader as oracles), rotation,
the Prometheus metrics (prometheus_client's own parser), and the dashboard rendered at fixed width."""

from __future__ import annotations

import io
import re
import subprocess
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from support import require_tool

from vrrpscope.analysis import analyze
from vrrpscope.live.dashboard import Dashboard, group_rows
from vrrpscope.live.events import Sink
from vrrpscope.live.metrics import Metrics
from vrrpscope.live.session import WatchSession
from vrrpscope.live.source import CapturedFrame, InterfaceInfo, InterfaceStats, ReplaySource
from vrrpscope.live.writer import PcapngWriter
from vrrpscope.sources import open_capture
from vrrpscope.sources.base import Frame

ROOT = Path(__file__).resolve().parents[1]
FAILOVER = ROOT / "samples" / "real" / "failover" / "capture.pcap"
SPLIT = ROOT / "samples" / "real" / "split_brain" / "capture.pcap"
VLAN = ROOT / "samples" / "real" / "vlan_tagged" / "capture.pcap"


def sample_frames(path: Path) -> list[Frame]:
    with open_capture(str(path)) as reader:
        return [f for f in reader if isinstance(f, Frame)]


IFACES = [
    InterfaceInfo("eth0", 1, ifindex=2, filter="vrrp or arp", index=0),
    InterfaceInfo("bond0.30", 1, ifindex=7, filter="vrrp or arp", index=1),
]


def captured(frames: list[Frame]) -> list[CapturedFrame]:
    """The sample's frames spread over two interfaces, with nanosecond stamps, some outgoing."""
    out = []
    for i, f in enumerate(frames):
        ns = round(f.time * 1e6) * 1000 + (i * 37) % 1000  # sub-microsecond digits
        out.append(CapturedFrame(i % 2, ns, f.data, f.wirelen, outgoing=(i % 5 == 0)))
    return out


# ----------------------------------------------------------------------------- pcapng writer


def tshark_rows(path: Path, fields: list[str]) -> list[list[str]]:
    tshark = require_tool("tshark")
    argv = [tshark, "-r", str(path), "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        argv += ["-e", f]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


def test_writer_output_read_by_tshark_and_by_our_reader(tmp_path: Path) -> None:
    frames = captured(sample_frames(VLAN))
    out = tmp_path / "watch.pcapng"
    stats = [InterfaceStats("eth0", packets=40, kernel_drops=7), InterfaceStats("bond0.30", packets=30, kernel_drops=2)]
    w = PcapngWriter(str(out), stats=lambda: stats)
    for cf in frames:
        w.write(cf, IFACES[cf.interface])
    w.flush()
    w.close()
    rows = tshark_rows(
        out,
        [
            "frame.interface_name",
            "frame.time_epoch",
            "frame.len",
            "frame.cap_len",
            "frame.packet_flags_direction",
            "vlan.id",
        ],
    )
    assert len(rows) == len(frames)
    for row, cf in zip(rows, frames, strict=True):
        name, epoch, length, caplen, direction, vlan = row
        assert name == IFACES[cf.interface].name
        assert int(Decimal(epoch) * 10**9) == cf.time_ns  # nanosecond resolution kept
        assert int(length) == cf.wirelen and int(caplen) == len(cf.data)
        assert int(direction, 16) == (2 if cf.outgoing else 1)
        assert vlan == "30"
    with open_capture(str(out)) as reader:
        back = [f for f in reader if isinstance(f, Frame)]
        dropped = reader.stats.dropped
    assert [(f.data, f.interface_name) for f in back] == [(cf.data, IFACES[cf.interface].name) for cf in frames]
    assert [f.time for f in back] == pytest.approx([cf.time_ns / 1e9 for cf in frames], abs=1e-6)
    assert dropped == 9  # isb_ifdrop of both interfaces


def test_writer_rotates_by_size_and_keeps_count_files(tmp_path: Path) -> None:
    frames = captured(sample_frames(FAILOVER))
    out = tmp_path / "rot.pcapng"
    w = PcapngWriter(str(out), rotate_bytes=1500, rotate_count=3)
    for cf in frames:
        w.write(cf, IFACES[cf.interface])
    w.close()
    kept = [out, Path(f"{out}.1"), Path(f"{out}.2")]
    assert all(p.exists() for p in kept)
    assert not Path(f"{out}.3").exists()
    assert w.rotations >= 3 and w.files == w.rotations + 1
    stamps: list[list[int]] = []
    for p in reversed(kept):  # oldest first
        rows = tshark_rows(p, ["frame.time_epoch", "frame.interface_name"])
        assert rows, p
        assert {r[1] for r in rows} <= {"eth0", "bond0.30"}  # each file has its own IDBs
        stamps.append([int(Decimal(r[0]) * 10**9) for r in rows])
        assert p.stat().st_size <= 1500 + 200  # a file ends right after crossing the size
    flat = [s for part in stamps for s in part]
    # the kept files hold the most recent frames, contiguous and in order
    assert flat == [cf.time_ns for cf in frames[len(frames) - len(flat) :]]
    assert len(flat) < len(frames)


def test_writer_with_one_file_only_truncates(tmp_path: Path) -> None:
    frames = captured(sample_frames(FAILOVER))
    out = tmp_path / "one.pcapng"
    w = PcapngWriter(str(out), rotate_bytes=1000, rotate_count=1)
    for cf in frames:
        w.write(cf, IFACES[0])
    w.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.pcapng"]
    with open_capture(str(out)) as reader:
        back = [f.data for f in reader if isinstance(f, Frame)]
    assert 0 < len(back) < len(frames)
    assert back == [cf.data for cf in frames[len(frames) - len(back) :]]


# ----------------------------------------------------------------------------- metrics


class Snapshot(Sink):
    """Scrapes the registry at a given moment of the replay."""

    def __init__(self, metrics: Metrics, at: float) -> None:
        self.metrics = metrics
        self.at = at
        self.text = ""
        self.now = 0.0

    def tick(self, now: float) -> None:
        if not self.text and self.session is not None and now >= (self.session.started or 0.0) + self.at:
            from prometheus_client import generate_latest

            self.metrics.tick(now)  # the metrics sink ticks first in real use; make sure it did
            self.text = generate_latest(self.metrics.registry).decode()
            self.now = now


def samples_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


G = {"segment": "if0", "family": "ipv4", "vrid": "51"}


def test_metrics_follow_the_failover() -> None:
    metrics = Metrics()
    mid = Snapshot(metrics, at=11.0)  # after r2 took over (+9.0 s), before r1 preempts (+15.5 s)
    session = WatchSession(ReplaySource(str(FAILOVER)), [metrics, mid])
    final = session.run().to_dict()
    offline = analyze([str(FAILOVER)]).to_dict()
    s = samples_of(mid.text)
    assert value(s, "vrrpscope_master_info", **G, master="192.0.2.12", priority="100") == 1.0
    assert value(s, "vrrpscope_group_masters", **G) == 1.0
    assert value(s, "vrrpscope_takeovers_total", **G, cause="timeout") == 1.0
    assert value(s, "vrrpscope_capture_up", interface="?") == 1.0
    r1_last = next(r for r in offline["groups"][0]["routers"] if r["ip"] == "192.0.2.11")
    # r1 crashed: its last advert (before the restart) is the one before the takeover
    tk = offline["groups"][0]["takeovers"][0]
    assert value(s, "vrrpscope_seconds_since_last_advert", **G, router="192.0.2.11") == pytest.approx(
        mid.now - tk["at"] + tk["gap"], abs=1e-6
    )
    assert r1_last["adverts"] > 0
    end = samples_of(__import__("prometheus_client").generate_latest(metrics.registry).decode())
    for r in offline["groups"][0]["routers"]:
        assert value(end, "vrrpscope_adverts_total", **G, router=r["ip"]) == r["adverts"]
    gaps = [t["gap"] for t in offline["groups"][0]["takeovers"]]
    assert value(end, "vrrpscope_takeover_gap_seconds_count", **G) == len(gaps) == 2
    assert value(end, "vrrpscope_takeover_gap_seconds_sum", **G) == pytest.approx(sum(gaps))
    assert value(end, "vrrpscope_takeover_gap_seconds_bucket", **G, le="1.0") == 1.0  # the 0.48 s preemption
    assert value(end, "vrrpscope_takeovers_total", **G, cause="preempt") == 1.0
    assert value(end, "vrrpscope_capture_packets_total", interface="?") == final["input"]["packets"]
    assert value(end, "vrrpscope_capture_kernel_drops_total", interface="?") == 0.0
    assert value(end, "vrrpscope_capture_up", interface="?") == 0.0  # stopped
    assert value(end, "vrrpscope_last_packet_timestamp_seconds", interface="?") == pytest.approx(final["input"]["end"])


def test_metrics_count_findings_and_split_brain_masters() -> None:
    metrics = Metrics()
    mid = Snapshot(metrics, at=13.0)  # both r1 and r2 master
    session = WatchSession(ReplaySource(str(SPLIT)), [metrics, mid])
    final = session.run().to_dict()
    s = samples_of(mid.text)
    assert value(s, "vrrpscope_group_masters", **G) == 2.0
    assert value(s, "vrrpscope_master_info", **G, master="192.0.2.11,192.0.2.12", priority="150") == 1.0
    assert value(s, "vrrpscope_findings_open", kind="split_brain", severity="critical") == 1.0
    end = samples_of(__import__("prometheus_client").generate_latest(metrics.registry).decode())
    kinds: dict[tuple[str, str], int] = {}
    for f in final["findings"]:
        kinds[(f["kind"], f["severity"])] = kinds.get((f["kind"], f["severity"]), 0) + 1
    for (kind, sev), n in kinds.items():
        assert value(end, "vrrpscope_findings_total", kind=kind, severity=sev) == n
        assert value(end, "vrrpscope_findings_open", kind=kind, severity=sev) == 0.0


def test_metrics_endpoint_serves_http() -> None:
    metrics = Metrics()
    metrics.serve(0, "127.0.0.1")
    try:
        port = metrics.port
        assert port
        WatchSession(ReplaySource(str(FAILOVER)), [metrics]).run()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            body = resp.read().decode()
        assert resp.status == 200
        assert re.search(r'^vrrpscope_takeovers_total\{[^}]*cause="timeout"[^}]*\} 1\.0$', body, re.M)
        assert "vrrpscope_capture_up" in body and "vrrpscope_last_packet_timestamp_seconds" in body
    finally:
        metrics.shutdown()


# ----------------------------------------------------------------------------- dashboard


class Render(Sink):
    """Renders the dashboard at given capture times (absolute, or offsets from the start) into a console."""

    def __init__(self, dash: Dashboard, console: Console, at: list[float]) -> None:
        self.dash = dash
        self.console = console
        self.at = list(at)
        self.rows: list[Any] = []

    def tick(self, now: float) -> None:
        if not self.at or self.session is None:
            return
        due = self.at[0] if self.at[0] > 1e9 else (self.session.started or 0.0) + self.at[0]
        if now >= due:
            self.at.pop(0)
            self.console.print(self.dash.render(now))
            self.rows.append(group_rows(self.session, now))


def test_dashboard_rows_and_rendering() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, color_system=None)
    dash = Dashboard(console, live=False)
    tk = analyze([str(FAILOVER)]).to_dict()["groups"][0]["takeovers"][0]
    crash = tk["at"] - tk["gap"]  # r1's last advert
    # no backup has advertised yet (r2 never was master before): priority 1, the longest wait
    mdi = 3 + (256 - 1) / 256
    # 0.5 s after r1's last advert: ok; 1.5 s: late; 0.8 MDI: overdue; 2 s after r2 took over: ok
    render = Render(dash, console, [crash + 0.5, crash + 1.5, crash + 0.8 * mdi, tk["at"] + 2.0])
    WatchSession(ReplaySource(str(FAILOVER)), [dash, render]).run()
    states = [rows[0].state for rows in render.rows]
    assert states == ["ok", "late", "overdue", "ok"]
    assert render.rows[2][0].mdi == pytest.approx(mdi)
    assert render.rows[2][0].age == pytest.approx(0.8 * mdi, abs=0.26)
    row = render.rows[-1][0]
    assert row.masters == ("192.0.2.12",) and row.priority == 100 and row.interval == 1.0
    assert row.takeovers == 1 and row.last_cause == "timeout"
    # MDI a backup applies: r1 (priority 150) is the other router seen -> 3 + 106/256 s
    assert row.mdi == pytest.approx(3 + 106 / 256)
    text = out.getvalue()
    last = text[text.rindex("vrrpscope watch") :]
    assert "| 192.0.2.12 |" in last and "| 100  |" in last
    assert "1 (last timeout 3.610s vs 3.609s)" in last
    assert "192.0.2.11 -> 192.0.2.12  timeout, gap 3.610 s (allowed 3.609 s)" in last
    assert "\x1b" not in text  # no colour, no cursor movement on a plain console


def test_dashboard_live_mode_on_a_terminal_and_split_brain_row() -> None:
    out = io.StringIO()
    console = Console(file=out, width=140, force_terminal=True, color_system="standard")
    dash = Dashboard(console, live=True)
    plain = io.StringIO()
    render = Render(dash, Console(file=plain, width=140, color_system=None), [13.0])
    WatchSession(ReplaySource(str(SPLIT)), [dash, render]).run()
    assert render.rows[0][0].state == "split_brain"
    assert "192.0.2.11, 192.0.2.12" in plain.getvalue()
    text = out.getvalue()
    assert "\x1b[" in text  # live redraws with colour on a terminal
    assert "OPEN    critical split_brain" in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
