"""The watch loop driven by a replayed capture on a virtual clock (the same loop as live capture).

Oracles: ``analyze`` on the same file (the reconstruction, takeovers and findings must agree),
the lab's ``truth.json`` (keepalived's own log and the wire times of each takeover), and the RFC
timers behind the ``no_master`` threshold.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from vrrpscope.analysis import analyze
from vrrpscope.detectors.no_master import NoMasterConfig
from vrrpscope.findings import Finding, Severity
from vrrpscope.live.events import FindingTracker, JsonLinesSink, LineSink, Sink
from vrrpscope.live.session import TICK_S, WatchSession
from vrrpscope.live.source import CapturedFrame, ReplaySource

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "samples" / "real"
SAMPLES = sorted(
    [p for p in REAL.glob("*/capture.pcap*")] + list((ROOT / "samples" / "scenarios").glob("*.pcap")),
    key=str,
)


def _id(p: Path) -> str:
    return p.parent.name if p.parent.parent.name == "real" else p.stem


def replay(
    path: Path, *, tail: float = 0.0, sinks: list[Sink] | None = None, **kw: Any
) -> tuple[WatchSession, dict[str, Any], list[dict[str, Any]]]:
    """Replay ``path`` instantly; return the session, the final analysis dict and the JSON events."""
    buf = io.StringIO()
    session = WatchSession(
        ReplaySource(str(path), tail=tail), [JsonLinesSink(buf), *(sinks or [])], label=str(path), **kw
    )
    analysis = session.run().to_dict()
    events = [json.loads(line) for line in buf.getvalue().splitlines()]
    return session, analysis, events


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == kind]


# ----------------------------------------------------------------------------- parity with analyze


@pytest.mark.parametrize("path", SAMPLES, ids=[_id(p) for p in SAMPLES])
def test_replay_agrees_with_analyze(path: Path) -> None:
    """Same reconstruction (groups, routers, timeline, takeovers) and input counts as ``analyze``;
    one master_change event per takeover with the same numbers; every finding kind analyze reports
    for a group is reported live too (live ticks may see more, never less)."""
    offline = analyze([str(path)]).to_dict()
    _s, live, events = replay(path)
    assert live["input"] == offline["input"]
    assert live["groups"] == offline["groups"]
    changes = sorted(
        (e["time"], e["from"], e["to"], e["gap"], e["allowed"], e["cause"])
        for e in of(events, "master_change")
        if e["gap"] is not None
    )
    takeovers = sorted(
        (t["at"], t["from"], t["to"], t["gap"], t["allowed"], t["cause"])
        for g in offline["groups"]
        for t in g["takeovers"]
    )
    assert changes == takeovers
    kinds = {(f["kind"], f["segment"], f["family"], f["vrid"]) for f in offline["findings"]}
    assert kinds <= {(f["kind"], f["segment"], f["family"], f["vrid"]) for f in live["findings"]}


@pytest.mark.parametrize("path", SAMPLES, ids=[_id(p) for p in SAMPLES])
def test_every_finding_opens_once_and_closes_once(path: Path) -> None:
    _s, live, events = replay(path)
    by_id: dict[tuple[Any, ...], list[str]] = {}
    for e in of(events, "finding"):
        key = (e["kind"], e["segment"], e["family"], e["vrid"], e["start"], e["subject"])
        by_id.setdefault(key, []).append(e["state"])
        if e["state"] == "open":
            assert e["time"] >= e["start"] - 1e-6
        if e["state"] == "closed":
            assert e["end"] is not None
    final = {(f["kind"], f["segment"], f["family"], f["vrid"], f["start"], f["subject"]) for f in live["findings"]}
    assert set(by_id) == final
    for states in by_id.values():
        assert states[0] == "open" and states.count("open") == 1
        assert states.count("closed") == 1  # the capture ended: everything is closed
        assert states.index("closed") > 0


# ----------------------------------------------------------------------------- against the lab's truth


def _truth_cases() -> list[Path]:
    out = []
    for truth in sorted(REAL.glob("*/truth.json")):
        t = json.loads(truth.read_text())
        if t.get("normal") and t.get("takeovers") and (truth.parent / "capture.pcap").exists():
            out.append(truth.parent)
    return out


@pytest.mark.parametrize("case", _truth_cases(), ids=lambda p: p.name)
def test_master_changes_match_keepalived_truth(case: Path) -> None:
    """Each takeover keepalived logged is one master_change event, stamped with the new master's
    first advert on the wire, with the wire gap, and (timeout/resign) the RFC allowance."""
    truth = json.loads((case / "truth.json").read_text())
    _s, _a, events = replay(case / "capture.pcap")
    changes = [e for e in of(events, "master_change") if e["gap"] is not None]
    assert len(changes) == len(truth["takeovers"])
    for tk, ev in zip(
        sorted(truth["takeovers"], key=lambda t: t["wire_first_new"]),
        sorted(changes, key=lambda e: e["time"]),
        strict=True,
    ):
        assert ev["from"] in tk["from_addresses"] and ev["to"] in tk["to_addresses"]
        assert ev["cause"] == tk["cause"]
        assert ev["time"] == pytest.approx(tk["wire_first_new"], abs=1e-5)
        assert ev["gap"] == pytest.approx(tk["wire_gap"], abs=1e-5)
        if tk["rfc_allowed"] is not None:
            assert ev["allowed"] == pytest.approx(tk["rfc_allowed"], abs=1e-6)
        assert ev["vrid"] == tk["vrid"] and ev["family"] == tk["family"]


def test_failover_event_stream() -> None:
    _s, analysis, events = replay(REAL / "failover" / "capture.pcap")
    changes = of(events, "master_change")
    assert [(e["from"], e["to"], e["cause"]) for e in changes] == [
        (None, "192.0.2.11", "initial"),
        ("192.0.2.11", "192.0.2.12", "timeout"),
        ("192.0.2.12", "192.0.2.11", "preempt"),
    ]
    first = changes[0]
    assert first["priority"] == 150 and first["interval"] == 1.0 and first["segment"] == "if0"
    assert first["frame"] == analysis["groups"][0]["timeline"][0]["frame"]
    assert changes[1]["masters"] == ["192.0.2.12"] and changes[1]["priority"] == 100
    # output order is capture order, and nothing after the end of the file but the final stats
    times = [e["time"] for e in events]
    assert times == sorted(times)
    assert events[-1]["event"] == "stats"


def test_split_brain_opens_while_it_lasts_and_closes_when_healed() -> None:
    _s, analysis, events = replay(REAL / "split_brain" / "capture.pcap")
    changes = of(events, "master_change")
    causes = [(e["from"], e["to"], e["cause"]) for e in changes]
    assert ("192.0.2.11", "192.0.2.12", "split_brain") in causes
    assert ("192.0.2.12", "192.0.2.11", "split_brain_end") in causes
    split = [e for e in of(events, "finding") if e["kind"] == "split_brain"]
    assert [e["state"] for e in split] == ["open", "closed"]
    opened, closed = split
    assert opened["end"] is None and opened["severity"] == "critical"
    final = next(f for f in analysis["findings"] if f["kind"] == "split_brain")
    assert closed["end"] == final["end"]
    # it opened while both advertised: before the end of the episode on the wire
    assert opened["time"] < final["end"]
    # and the split_brain master change came with the opening
    sb = next(e for e in changes if e["cause"] == "split_brain")
    assert sb["time"] == opened["time"] and sb["masters"] == ["192.0.2.11", "192.0.2.12"]


# ----------------------------------------------------------------------------- the clock


def test_silence_is_decided_on_ticks_without_any_frame() -> None:
    """After the last frame no packet arrives; the loop keeps ticking every 0.25 s of the virtual
    clock, so the master is declared gone and ``no_master`` opens as soon as the silence exceeds the
    detector's outage limit (5 x (Master_Down_Interval(priority 1) + tolerance)), within one tick."""
    session, analysis, events = replay(REAL / "failover" / "capture.pcap", tail=40.0)
    last_advert = max(r["last_seen"] for g in analysis["groups"] for r in g["routers"])
    lost = [e for e in of(events, "master_change") if e["to"] is None]
    assert len(lost) == 1 and lost[0]["from"] == "192.0.2.11" and lost[0]["cause"] == "timeout"
    nm = [e for e in of(events, "finding") if e["kind"] == "no_master"]
    assert [e["state"] for e in nm] == ["open", "closed"]
    opened = nm[0]
    limit = opened["details"]["threshold"] * NoMasterConfig().outage_factor
    assert opened["start"] == pytest.approx(last_advert)
    assert 0.0 <= opened["time"] - (last_advert + limit) <= TICK_S + 1e-6
    # the master was declared gone when its silence passed the reconstructor's threshold
    assert 0.0 <= lost[0]["time"] - (last_advert + opened["details"]["threshold"]) <= TICK_S + 1e-6
    assert session.stopped_by == "end of input"
    assert session.now == pytest.approx(analysis["input"]["end"] + 40.0)


def test_stats_every_five_seconds_and_at_the_end() -> None:
    session, analysis, events = replay(REAL / "failover" / "capture.pcap", tail=3.0)
    stats = of(events, "stats")
    start = analysis["input"]["start"]
    times = [s["time"] for s in stats[:-1]]
    assert times == pytest.approx([start + 5.0 * (i + 1) for i in range(len(times))], abs=TICK_S + 1e-6)
    assert len(times) == int((session.now - start) // 5.0)
    packets = [s["packets"] for s in stats]
    assert packets == sorted(packets)
    final = stats[-1]
    assert final["packets"] == analysis["input"]["packets"] == session.frames
    assert final["vrrp"] == analysis["input"]["vrrp"] and final["arp"] == analysis["input"]["arp"]
    assert final["kernel_drops"] == 0 and final["groups"] == 1
    assert final["interfaces"][0]["packets"] == session.frames


class CountingReplay(ReplaySource):
    """Records every poll timeout (no busy loop: each wait is a real wait up to the next tick)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.timeouts: list[float] = []

    def poll(self, timeout: float) -> list[CapturedFrame]:
        self.timeouts.append(timeout)
        return super().poll(timeout)


def test_the_loop_waits_instead_of_spinning() -> None:
    src = CountingReplay(str(REAL / "failover" / "capture.pcap"), tail=20.0)
    session = WatchSession(src, [])
    session.run()
    span = session.now - (session.started or 0.0)
    assert max(src.timeouts) <= TICK_S + 1e-9
    # about one poll per tick plus one per frame instant: not thousands
    assert len(src.timeouts) <= span / TICK_S + session.frames + 10


def test_duration_stops_the_loop_on_the_source_clock() -> None:
    src = ReplaySource(str(REAL / "failover" / "capture.pcap"))
    session = WatchSession(src, [], duration=10.0)
    analysis = session.run().to_dict()
    assert session.stopped_by == "duration"
    assert session.now - (session.started or 0.0) == pytest.approx(10.0, abs=TICK_S)
    # only the first takeover (at +9.0 s; the preemption follows at +15.5 s) happened within 10 s
    assert [t["cause"] for g in analysis["groups"] for t in g["takeovers"]] == ["timeout"]


def test_compressed_real_time_and_stop_from_another_thread() -> None:
    """speed=N sleeps 1/N of every gap; request_stop (what SIGINT/SIGTERM call) ends the loop
    within a tick and the analysis is still complete up to that point."""
    slept: list[float] = []
    src = ReplaySource(
        str(REAL / "failover" / "capture.pcap"), speed=40.0, sleep=lambda s: (slept.append(s), time.sleep(s))[0]
    )
    session = WatchSession(src, [])
    timer = threading.Timer(0.3, session.request_stop, args=("SIGTERM",))
    t0 = time.monotonic()
    timer.start()
    analysis = session.run()
    elapsed = time.monotonic() - t0
    timer.cancel()
    assert session.stopped_by == "SIGTERM"
    assert elapsed < 0.3 + 0.5
    virtual = session.now - (session.started or 0.0)
    assert sum(slept) == pytest.approx(virtual / 40.0, rel=0.05, abs=0.01)
    assert analysis.counts.packets == session.frames > 0


def test_line_sink_prints_changes_and_findings_only() -> None:
    out = io.StringIO()
    src = ReplaySource(str(REAL / "split_brain" / "capture.pcap"))
    WatchSession(src, [LineSink(out)]).run()
    lines = out.getvalue().splitlines()
    assert any("MASTER  if0 ipv4 VRID 51: none -> 192.0.2.11  initial" in ln for ln in lines)
    assert any("OPEN    critical split_brain if0 ipv4 VRID 51 (since" in ln for ln in lines)
    assert any("CLOSED  critical split_brain" in ln for ln in lines)
    assert not any("stats" in ln for ln in lines)


def test_finding_json_is_analyze_json() -> None:
    _session, analysis, events = replay(REAL / "split_brain" / "capture.pcap")
    final = {(f["kind"], f["start"]): f for f in analysis["findings"]}
    closing = [e for e in of(events, "finding") if e["state"] == "closed"]
    assert closing
    for e in closing:
        data = {k: v for k, v in e.items() if k not in ("event", "time", "state")}
        assert data == final[(e["kind"], e["start"])]


# ----------------------------------------------------------------------------- the tracker


def _finding(end: float | None, message: str = "m", start: float = 10.0) -> Finding:
    return Finding("split_brain", Severity.CRITICAL, "eth0", "ipv4", 51, start, end, ("a", "b"), (), message)


def test_tracker_announces_open_close_and_throttles_updates() -> None:
    tr = FindingTracker(update_every=30.0, forget_after=100.0)
    assert [s for s, _ in tr.observe(_finding(None), 11.0)] == ["open"]
    assert tr.open_count() == 1
    assert tr.observe(_finding(None, "more adverts"), 12.0) == []  # an update, held back
    assert tr.due(20.0) == []
    due = tr.due(41.0)
    assert [(s, f.message) for s, f in due] == [("updated", "more adverts")]
    assert [s for s, _ in tr.observe(_finding(50.0), 45.0)] == ["closed"]
    assert tr.open_count() == 0
    assert tr.observe(_finding(52.0), 46.0) == []  # extended after closing: held back
    assert [(s, f.end) for s, f in tr.due(0.0, flush=True)] == [("updated", 52.0)]
    # a finding that is over when first seen opens and closes at once
    assert [s for s, _ in tr.observe(_finding(13.0, start=12.0), 46.0)] == ["open", "closed"]
    assert len(tr) == 2
    tr.due(1000.0)
    assert len(tr) == 0  # closed and quiet for longer than forget_after: forgotten


@pytest.mark.parametrize("path", SAMPLES, ids=[_id(p) for p in SAMPLES])
def test_a_finding_that_is_over_is_never_announced_again(path: Path) -> None:
    """A long watch forgets closed findings after a while (``forget_after``, an hour). A detector
    that emits a version with an end while its episode is still going on, and updates it later,
    would then have that update announced as a new ``open`` finding that is already over (found
    by a 48 h soak at shutdown). With the tracker forgetting after 5 s of capture time, every
    re-opened finding must be ongoing (no end)."""
    buf = io.StringIO()
    session = WatchSession(ReplaySource(str(path)), [JsonLinesSink(buf)], label=str(path))
    session.tracker = FindingTracker(forget_after=5.0)
    session.run()
    seen: set[tuple[Any, ...]] = set()
    again = []
    for e in (json.loads(line) for line in buf.getvalue().splitlines()):
        if e["event"] != "finding":
            continue
        ident = (e["kind"], e["segment"], e["family"], e["vrid"], e["start"], e["subject"])
        if e["state"] == "open" and ident in seen and e["end"] is not None:
            again.append((e["kind"], e["start"], e["end"], e["time"]))
        seen.add(ident)
    assert again == []
