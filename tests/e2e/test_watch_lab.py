"""End-to-end: ``vrrpscope watch`` in the lab's observer namespace while real keepalived routers fail
over and split their brain.

Oracles: keepalived's own log (``Entering MASTER STATE``, stamped by the kernel when written) and the
lab's fault records. Checked: the ``master_change`` event of a crash takeover arrives (on watch's
stdout, flushed) within 1 s of the new master's first advert on the wire; a split brain injected with
nftables opens a ``split_brain`` finding while it lasts and closes it once healed; the Prometheus
endpoint answers over HTTP inside the namespace; SIGTERM stops watch cleanly; the observer never
transmits.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import pytest

from tests.lab import Lab
from tests.lab.scenarios import R1, R2, pair

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_required")]

WATCH = [sys.executable, "-c", "from vrrpscope.cli.watch import watch_command; watch_command()"]
PORT = 9108


class Stream:
    """Lines of a pipe, stamped with their arrival time, waitable."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.lines: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[bytes]) -> None:
        for raw in iter(pipe.readline, b""):
            with self._cond:
                self.lines.append((time.time(), raw.decode("utf-8", "replace").rstrip("\n")))
                self._cond.notify_all()
        pipe.close()

    def wait(self, predicate: Callable[[str], bool], timeout: float, what: str) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for arrived, line in self.lines:
                    if predicate(line):
                        return arrived, line
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = "\n".join(ln for _t, ln in self.lines[-15:])
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last lines:\n{tail}")
                self._cond.wait(min(left, 0.2))

    def join(self) -> None:
        self._thread.join(10)


def _event(pred: Callable[[dict[str, Any]], bool]) -> Callable[[str], bool]:
    def match(line: str) -> bool:
        try:
            ev = json.loads(line)
        except ValueError:
            return False
        return bool(pred(ev))

    return match


def _scrape(lab: Lab, expected: list[str], timeout: float = 3.0) -> str:
    """The metrics page (fetched inside the observer namespace) once it shows every ``expected`` line
    (gauges such as the last packet time are refreshed on the loop's 0.25 s ticks)."""
    code = f"import sys, urllib.request; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:{PORT}/metrics').read().decode())"
    deadline = time.monotonic() + timeout
    while True:
        text = lab.observer.exec(sys.executable, "-c", code)
        missing = [e for e in expected if e not in text.splitlines()]
        if not missing:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never showed {missing}:\n{text}")
        time.sleep(0.25)


def test_watch_follows_keepalived_failover_and_split_brain() -> None:
    with Lab(routers=2, ipv6=False) as lab:
        proc = lab.observer.popen(
            [*WATCH, "-i", "eth0", "--format", "json", "--metrics-port", str(PORT), "--metrics-address", "127.0.0.1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        out, err = Stream(proc.stdout), Stream(proc.stderr)
        try:
            _scenario(lab, out, err)
        except Exception as exc:  # a failed check or a lab timeout: show what watch and keepalived did
            events = "\n".join(ln for _t, ln in out.lines if '"stats"' not in ln)
            log = "\n".join(f"{ln.time:.3f} {ln.router} {ln.message}" for ln in lab.logbook.lines())
            faults = "\n".join(f"{f.time:.3f} {f.kind} {f.router}" for f in lab.faults)
            detail = f"--- watch events:\n{events}\n--- keepalived:\n{log}\n--- faults:\n{faults}"
            raise AssertionError(f"{type(exc).__name__}: {exc}\n{detail}") from None
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            rc = proc.wait(30)
            out.join()
            err.join()
        stderr = "\n".join(ln for _t, ln in err.lines)
        assert rc == 0, stderr
        assert "Traceback" not in stderr
        assert "GROUP VRID 51 ipv4 on eth0" in stderr and "split_brain" in stderr
        assert "stopped by SIGTERM" in stderr
        events = [json.loads(ln) for _t, ln in out.lines]
        assert events[-1]["event"] == "stats" and events[-1]["kernel_drops"] == 0
        assert lab.observer_tx_packets() == 0


def _scenario(lab: Lab, out: Stream, err: Stream) -> None:
    """Failover, preemption and a split brain, each checked against what watch printed."""
    err.wait(lambda ln: "capturing on eth0" in ln, 20, "watch to start")

    # --- r1 master, crash, r2 takes over after Master_Down_Interval
    pair(lab, R1, R2)
    out.wait(
        _event(lambda e: e.get("event") == "master_change" and e["to"] == "192.0.2.11" and e["cause"] == "initial"),
        10,
        "r1 as first master",
    )
    crash = lab.crash("r1")
    master = lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    arrived, line = out.wait(
        _event(lambda e: e.get("event") == "master_change" and e["to"] == "192.0.2.12"),
        5,
        "the takeover event",
    )
    ev = json.loads(line)
    assert (ev["from"], ev["cause"], ev["segment"], ev["vrid"]) == ("192.0.2.11", "timeout", "eth0", 51)
    # the event is stamped with r2's first advert on the wire, which keepalived logged with it
    assert abs(ev["time"] - master.time) < 0.2
    assert arrived - ev["time"] < 1.0, f"master_change arrived {arrived - ev['time']:.3f} s after the wire"
    assert ev["allowed"] == pytest.approx(3 + (256 - 100) / 256)
    assert ev["gap"] == pytest.approx(ev["allowed"], abs=0.25)

    # --- r1 back: it preempts
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    out.wait(
        _event(lambda e: e.get("event") == "master_change" and e["to"] == "192.0.2.11" and e["cause"] == "preempt"),
        6,
        "the preemption event",
    )

    # --- split brain: the routers stop hearing each other
    block = lab.block_vrrp("r1", "in", peers=("r2",))
    lab.block_vrrp("r2", "in", peers=("r1",))
    lab.wait_state("r2", "MASTER", after=block.time, timeout=8)
    arrived, line = out.wait(
        _event(lambda e: e.get("event") == "finding" and e["kind"] == "split_brain" and e["state"] == "open"),
        8,
        "split_brain to open",
    )
    opened = json.loads(line)
    assert opened["end"] is None and opened["severity"] == "critical"
    assert set(opened["routers"]) == {"192.0.2.11", "192.0.2.12"}
    assert opened["start"] >= block.time
    metrics = _scrape(
        lab,
        [
            'vrrpscope_group_masters{family="ipv4",segment="eth0",vrid="51"} 2.0',
            'vrrpscope_findings_open{kind="split_brain",severity="critical"} 1.0',
            'vrrpscope_capture_up{interface="eth0"} 1.0',
            'vrrpscope_takeovers_total{cause="timeout",family="ipv4",segment="eth0",vrid="51"} 1.0',
            'vrrpscope_takeovers_total{cause="preempt",family="ipv4",segment="eth0",vrid="51"} 1.0',
        ],
    )
    last_packet = next(
        float(ln.split()[-1])
        for ln in metrics.splitlines()
        if ln.startswith('vrrpscope_last_packet_timestamp_seconds{interface="eth0"}')
    )
    assert time.time() - last_packet < 3.0

    lab.sleep(2.0)
    heal = lab.unblock_vrrp("r1")
    lab.unblock_vrrp("r2")
    assert heal is not None
    lab.wait_state("r2", "BACKUP", after=heal.time - 0.1, timeout=5)
    _arrived, line = out.wait(
        _event(lambda e: e.get("event") == "finding" and e["kind"] == "split_brain" and e["state"] == "closed"),
        12,
        "split_brain to close",
    )
    closed = json.loads(line)
    assert closed["start"] == opened["start"]
    assert heal.time - 1.5 <= closed["end"] <= heal.time + 3.0  # r2's last advert as master
    assert closed["time"] >= heal.time
