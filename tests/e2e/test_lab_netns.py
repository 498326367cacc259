"""The lab's own guarantees: namespaces always removed (normal exit, exception, SIGTERM, Ctrl-C, a
crashed previous run), hub-mode bridge, silent observer, keepalived accepts every scenario config."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lab import Auth, CaptureSpec, Config, Instance, Lab, LabError, sweep_stale
from tests.lab import scenarios as sc
from tests.lab.netns import Namespace, list_namespaces, new_prefix
from tests.lab.verify import tshark_fields

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_required")]

ROOT = Path(__file__).resolve().parents[2]


def _ours(prefix: str) -> list[str]:
    return [n for n in list_namespaces() if n.startswith(prefix)]


def test_lab_creates_and_removes_its_namespaces() -> None:
    with Lab(routers=3, ipv6=False) as lab:
        names = _ours(lab.prefix)
        assert sorted(names) == sorted(ns.name for ns in lab.namespaces)
        assert len(names) == 5
    assert _ours(lab.prefix) == []
    assert not lab.workdir.exists()


def test_lab_cleans_up_after_an_exception_and_kills_keepalived() -> None:
    with pytest.raises(RuntimeError, match="boom"), Lab(routers=1, ipv6=False) as lab:
        proc = lab.start("r1", Config("r1", (Instance(priority=150),)))
        lab.wait_log("r1", r"Entering BACKUP STATE", after=0, timeout=10)
        pid, child = proc.parent_pid, proc.child_pid()
        raise RuntimeError("boom")
    assert _ours(lab.prefix) == []
    for p in (pid, child):
        assert not Path(f"/proc/{p}").exists() or "zombie" in Path(f"/proc/{p}/status").read_text().lower()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_lab_cleans_up_when_its_process_is_signalled(sig: signal.Signals, tmp_path: Path) -> None:
    # Python turns SIGINT into KeyboardInterrupt only if SIGINT was not ignored when it started, and
    # a job run in the background by a non-interactive shell (nohup CMD &) inherits it ignored: the
    # child would then sleep through the signal. Install the handler an interactive Ctrl-C meets.
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from tests.lab import Lab, Config, Instance\n"
        "with Lab(routers=2, ipv6=False) as lab:\n"
        "    lab.start('r1', Config('r1', (Instance(priority=150),)))\n"
        "    print(lab.prefix, flush=True)\n"
        "    time.sleep(120)\n"
    )
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True
        )
    assert proc.stdout is not None
    prefix = proc.stdout.readline().strip()
    assert prefix.startswith("vs-") and len(_ours(prefix)) == 4
    os.kill(proc.pid, sig)
    try:
        proc.wait(60)  # normally 0.03 s
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGABRT)  # faulthandler prints every thread's stack, then it dies
        proc.wait(10)
        sweep_stale()
        pytest.fail(f"the lab process did not exit within 60 s of {sig.name}; its stacks:\n{stderr.read_text()}")
    assert _ours(prefix) == []


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.2])
def test_sigterm_while_scenario_threads_set_up_labs_leaves_nothing(delay: float, tmp_path: Path) -> None:
    """SIGTERM closes the registered labs from the main thread while scenario threads are still
    creating namespaces: the threads must not create more, and what they created after that first
    close is removed by their own close before the process dies."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tests.lab import run_many\n"
        "from tests.lab.netns import install_signal_handlers\n"
        "install_signal_handlers()\n"
        "print('go', flush=True)\n"
        "run_many(['graceful_shutdown', 'nopreempt', 'v3_ipv4', 'garp_refresh'], Path(sys.argv[1]), parallel=4)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "go"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGTERM)
    try:
        assert proc.wait(60) == -signal.SIGTERM
    finally:
        left = _ours(f"vs-{proc.pid}-")
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sweep_stale()
    assert left == []


def test_sweep_removes_namespaces_of_dead_runs_only() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = Namespace(f"vs-{dead.pid}-abcdef-br")
    live = Namespace(new_prefix() + "br")  # our own pid: must survive
    stale.create()
    live.create()
    try:
        removed = sweep_stale()
        assert stale.name in removed and live.name not in removed
        assert stale.name not in list_namespaces() and live.name in list_namespaces()
    finally:
        stale.delete()
        live.delete()


def test_namespace_names_outside_the_lab_pattern_are_refused() -> None:
    with pytest.raises(LabError):
        Namespace("default")


def test_bridge_is_a_hub_and_the_observer_is_silent(tmp_path: Path) -> None:
    """Unicast r1 -> r2 (UDP to a closed port) and r2 -> r1 (ICMP port unreachable) reach the observer
    (the bridge floods them), which transmits nothing itself."""
    send = (
        "import socket, time\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for _ in range(3):\n"
        "    s.sendto(b'hub', ('192.0.2.12', 9)); time.sleep(0.2)\n"
    )
    with Lab(routers=2, ipv6=False) as lab:
        lab.start_capture(CaptureSpec("hub.pcap"), tmp_path)
        lab.router("r1").ns.exec(sys.executable, "-c", send)
        time.sleep(0.5)  # let the last frames reach the file
        lab.stop_captures()
        assert lab.observer_tx_packets() == 0
        bridge = lab.bridge.ip("-d", "link", "show", "br0")
        assert "ageing_time 0" in bridge and "mcast_snooping 0" in bridge and "stp_state 0" in bridge
    # ICMP errors quote the UDP datagram: keep the outer header's addresses only
    rows = [
        [col.split(",")[0] for col in row]
        for row in tshark_fields(tmp_path / "hub.pcap", "udp || icmp", ["ip.src", "ip.dst", "eth.dst", "icmp.type"])
    ]
    sent = [r for r in rows if r[0] == "192.0.2.11" and not r[3]]
    unreachable = [r for r in rows if r[0] == "192.0.2.12" and r[3] == "3"]
    assert len(sent) == 3 and all(r[2] == "00:00:5e:00:53:12" for r in sent)
    assert len(unreachable) == 3 and all(r[2] == "00:00:5e:00:53:11" for r in unreachable)
    assert not any(r[0] not in ("192.0.2.11", "192.0.2.12") for r in rows)


def test_keepalived_accepts_every_scenario_config(tmp_path: Path) -> None:
    """``keepalived -t`` inside a router namespace (where eth0 exists) accepts the instance shapes the
    scenarios use (the scenario runs also fail on any ``(file: Line N)`` complaint in the log)."""
    instances = {
        "R1": sc.R1,
        "R2": sc.R2,
        "V3_FAST": sc.V3_FAST,
        "v6": Instance(version=3, vips=sc.VIP6),
        "unicast": Instance(unicast_src="192.0.2.11", unicast_peers=("192.0.2.12",)),
        "vmac": Instance(use_vmac=True),
        "ah": Instance(auth=Auth("AH", "lab-ah")),
        "garp": Instance(garp=(("garp_master_delay", "3"), ("garp_master_refresh", "4"))),
    }
    with Lab(routers=1, ipv6=True) as lab:
        for name, inst in instances.items():
            path = tmp_path / f"{name}.conf"
            path.write_text(Config("r1", (inst,)).render())
            out = subprocess.run(
                lab.router("r1").ns.argv(["keepalived", "-t", "-f", str(path)]),
                capture_output=True,
                text=True,
                check=False,
            )
            assert out.returncode == 0, f"{name}: {out.stderr}"
