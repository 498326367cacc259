"""``vrrpscope watch`` as a process: one-line errors with exit status 3 (no such interface, no
CAP_NET_RAW, bad filter, bad options), and a real capture in a network namespace made for the test
(``unshare --net``): simulated VRRPv3 routers fail over on a veth (one group untagged, one in VLAN 30)
while ``watch --format json -w --metrics-port --report`` runs; then SIGTERM. The pcapng it wrote,
analysed offline, must give the same groups and takeovers as the live summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import require, require_tool

from vrrpscope.analysis import analyze
from vrrpscope.cli.watch import watch_command
from vrrpscope.sources import open_capture

ROOT = Path(__file__).resolve().parents[1]
#: Runs the watch command in a fresh interpreter (the same code path as ``vrrpscope watch``).
WATCH = [sys.executable, "-c", "from vrrpscope.cli.watch import watch_command; watch_command()"]


def run_watch(
    args: list[str], *, prefix: list[str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), *WATCH, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_help_documents_every_option_with_examples() -> None:
    result = CliRunner().invoke(watch_command, ["--help"])
    assert result.exit_code == 0
    for opt in (
        "-i, --interface",
        "-f, --filter",
        "--format",
        "-w, --write",
        "--rotate-size",
        "--rotate-count",
        "--metrics-port",
        "--report",
        "--duration",
        "Examples:",
        "vrrpscope watch -i eth0",
    ):
        assert opt in result.output


def test_unknown_interface_is_a_one_line_error() -> None:
    proc = run_watch(["-i", "vsnosuch0", "--duration", "1"])
    assert proc.returncode == 3
    assert one_line_error(proc) == "Error: vsnosuch0: no such interface"
    assert proc.stdout == ""
    proc = run_watch(["-i", "any"])
    assert proc.returncode == 3
    assert one_line_error(proc).startswith("Error: -i any is not supported: give each interface with its own -i")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rotate-size", "10"], "--rotate-size/--rotate-count need -w FILE"),
        (["-w", "x.pcapng", "--rotate-count", "3"], "--rotate-count needs --rotate-size"),
        (["-w", "-"], "-w - is not supported"),
    ],
)
def test_inconsistent_options_are_rejected_before_capturing(args: list[str], message: str) -> None:
    result = CliRunner().invoke(watch_command, ["-i", "lo", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_missing_cap_net_raw_is_a_one_line_error() -> None:
    require(os.geteuid() == 0, "needs root to drop CAP_NET_RAW with setpriv")
    setpriv = require_tool("setpriv")
    require_tool("unshare")
    proc = run_watch(
        ["-i", "lo", "--duration", "1"],
        prefix=["unshare", "--net", "--", setpriv, "--inh-caps=-all", "--bounding-set=-net_raw", "--"],
    )
    assert proc.returncode == 3
    line = one_line_error(proc)
    assert line.startswith("Error: capturing on lo needs CAP_NET_RAW: run as root or `sudo setcap cap_net_raw+ep")


def test_bad_filter_expression_is_a_one_line_error() -> None:
    require(os.geteuid() == 0, "compiling for a live interface needs root")
    require_tool("tcpdump")
    require_tool("unshare")
    proc = run_watch(["-i", "lo", "-f", "ip prot 112 and", "--duration", "1"], prefix=["unshare", "--net", "--"])
    assert proc.returncode == 3
    line = one_line_error(proc)
    assert line.startswith("Error: filter ") and "syntax error" in line


UP_LO = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def test_duration_on_a_quiet_interface_ends_cleanly() -> None:
    require(os.geteuid() == 0, "capturing needs CAP_NET_RAW")
    require_tool("unshare")
    proc = subprocess.run(
        # lo starts down in a new namespace; up, so the run is quiet rather than a capture gap.
        [*UP_LO, *WATCH, "-i", "lo", "--format", "json", "--duration", "1.2"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["event"] for e in events] == ["stats"]
    assert events[0]["packets"] == 0 and events[0]["interfaces"][0]["name"] == "lo"
    assert "No findings." in proc.stderr and "stopped by duration" in proc.stderr


# ----------------------------------------------------------------------------- a real capture

PROBE = r"""
import json, os, signal, subprocess, sys, threading, time, urllib.request
from scapy.layers.inet import IP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.layers.vrrp import VRRPv3
out = sys.argv[1]
watch = json.loads(sys.argv[2])
for key in ("all", "default"):
    subprocess.run(["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1"], check=True)
subprocess.run(["ip", "link", "add", "vs-tx", "type", "veth", "peer", "name", "vs-rx"], check=True)
for dev in ("vs-tx", "vs-rx", "lo"):
    subprocess.run(["ip", "link", "set", dev, "up"], check=True)
proc = subprocess.Popen(watch + ["-i", "vs-rx", "--format", "json", "-w", out + "/watch.pcapng",
                        "--metrics-port", "9108", "--metrics-address", "127.0.0.1", "--report", out + "/watch.html"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
banner = proc.stderr.readline()
lines = []
def read():
    for line in proc.stdout:
        lines.append((time.time(), line))
reader = threading.Thread(target=read, daemon=True)
reader.start()
import socket
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
tx.bind(("vs-tx", 0))
MAC = {"192.0.2.11": "00:00:5e:00:53:11", "192.0.2.12": "00:00:5e:00:53:12", "192.0.2.13": "00:00:5e:00:53:13"}
def advert(ip, prio, vrid, vips, vlan=None):
    p = Ether(src=MAC[ip], dst="01:00:5e:00:00:12")
    if vlan is not None:
        p = p / Dot1Q(vlan=vlan)
    return bytes(p / IP(src=ip, dst="224.0.0.18", ttl=255) / VRRPv3(vrid=vrid, priority=prio, adv=20, addrlist=vips))
def garp(ip, vip):
    bcast = "ff:ff:ff:ff:ff:ff"
    return bytes(Ether(src=MAC[ip], dst=bcast) / ARP(op=1, hwsrc=MAC[ip], psrc=vip, hwdst=bcast, pdst=vip))
plan = []
for i in range(6):  # r1 master of VRID 51 for 1 s, then it "crashes"
    plan.append((0.2 * i, advert("192.0.2.11", 150, 51, ["192.0.2.100"])))
plan.append((0.001, garp("192.0.2.11", "192.0.2.100")))
takeover = 1.0 + 3 * 0.2 + (256 - 100) * 0.2 / 256  # Master_Down_Interval of r2 (v3, 0.2 s)
for i in range(14):  # until the end, like the VLAN 30 group
    plan.append((takeover + 0.2 * i, advert("192.0.2.12", 100, 51, ["192.0.2.100"])))
plan.append((takeover + 0.001, garp("192.0.2.12", "192.0.2.100")))
for i in range(22):  # VRID 30 in VLAN 30, all along
    plan.append((0.1 + 0.2 * i, advert("192.0.2.13", 100, 30, ["192.0.2.30"], vlan=30)))
plan.sort(key=lambda x: x[0])
t0 = time.time() + 0.5
sent = {}
scraped = ""
for at, frame in plan:
    delay = t0 + at - time.time()
    if delay > 0:
        time.sleep(delay)
    tx.send(frame)
    sent.setdefault(round(at, 6), time.time())
    if not scraped and at >= takeover + 0.8:
        scraped = urllib.request.urlopen("http://127.0.0.1:9108/metrics", timeout=5).read().decode()
time.sleep(0.1)  # well under the groups' silence threshold (about 1 s at 0.2 s intervals)
proc.send_signal(signal.SIGTERM)
rc = proc.wait(30)
reader.join(5)
err = proc.stderr.read()
json.dump({"rc": rc, "banner": banner, "stderr": err, "lines": lines, "scraped": scraped,
           "takeover_sent": sent[round(takeover, 6)]}, sys.stdout)
"""


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require(os.geteuid() == 0, "needs root for a network namespace and CAP_NET_RAW")
    require_tool("unshare")
    out = tmp_path_factory.mktemp("watch")
    proc = subprocess.run(
        ["unshare", "--net", "--", sys.executable, "-c", PROBE, str(out), json.dumps(WATCH)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    result["out"] = out
    result["events"] = [(t, json.loads(line)) for t, line in result["lines"]]
    return result


def test_live_capture_emits_master_changes_in_time(live_run: dict[str, Any]) -> None:
    assert live_run["rc"] == 0, live_run["stderr"]
    assert "capturing on vs-rx" in live_run["banner"]
    changes = [(t, e) for t, e in live_run["events"] if e["event"] == "master_change"]
    got = {(e["segment"], e["vrid"], e["from"], e["to"], e["cause"]) for _t, e in changes}
    assert ("vs-rx", 51, None, "192.0.2.11", "initial") in got
    assert ("vs-rx/vlan30", 30, None, "192.0.2.13", "initial") in got
    takeover = [(t, e) for t, e in changes if e["cause"] == "timeout"]
    assert len(takeover) == 1
    arrived, ev = takeover[0]
    assert (ev["from"], ev["to"], ev["segment"]) == ("192.0.2.11", "192.0.2.12", "vs-rx")
    assert ev["allowed"] == pytest.approx(3 * 0.2 + 156 * 0.2 / 256)
    assert ev["gap"] == pytest.approx(ev["allowed"], abs=0.25)  # python's sleep is the router here
    # stamped by the kernel when the advert arrived; printed (flushed) well within a second
    assert ev["time"] == pytest.approx(live_run["takeover_sent"], abs=0.05)
    assert 0 <= arrived - ev["time"] < 1.0
    assert not [e for _t, e in changes if e["to"] is None]  # SIGTERM is not a loss of master


def test_live_capture_metrics_endpoint(live_run: dict[str, Any]) -> None:
    text = live_run["scraped"]
    assert 'vrrpscope_capture_up{interface="vs-rx"} 1.0' in text
    assert (
        'vrrpscope_master_info{family="ipv4",master="192.0.2.12",priority="100",segment="vs-rx",vrid="51"} 1.0' in text
    )
    assert (
        'vrrpscope_master_info{family="ipv4",master="192.0.2.13",priority="100",segment="vs-rx/vlan30",vrid="30"} 1.0'
        in text
    )
    assert 'vrrpscope_takeovers_total{cause="timeout",family="ipv4",segment="vs-rx",vrid="51"} 1.0' in text
    assert 'vrrpscope_capture_kernel_drops_total{interface="vs-rx"} 0.0' in text


def test_live_capture_stops_cleanly_and_its_pcapng_analyses_the_same(live_run: dict[str, Any]) -> None:
    events = [e for _t, e in live_run["events"]]
    assert events[-1]["event"] == "stats"
    final = events[-1]
    err = live_run["stderr"]
    assert "GROUP VRID 51 ipv4 on vs-rx (v3)" in err and "GROUP VRID 30 ipv4 on vs-rx/vlan30 (v3)" in err
    assert "stopped by SIGTERM" in err and "report written to" in err
    assert "Traceback" not in err
    out: Path = live_run["out"]
    offline = analyze([str(out / "watch.pcapng")]).to_dict()
    assert offline["input"]["packets"] == final["packets"] == 6 + 1 + 14 + 1 + 22
    assert offline["input"]["capture_loss"] == 0
    groups = {(g["segment"], g["vrid"]): g for g in offline["groups"]}
    assert set(groups) == {("vs-rx", 51), ("vs-rx/vlan30", 30)}  # if_name and the restored VLAN tag
    tk = groups[("vs-rx", 51)]["takeovers"]
    live_tk = next(e for e in events if e["event"] == "master_change" and e["cause"] == "timeout")
    assert [(t["from"], t["to"], t["allowed"]) for t in tk] == [(live_tk["from"], live_tk["to"], live_tk["allowed"])]
    # the same nanosecond stamps (float rounding of ns -> s differs by well under a microsecond)
    assert tk[0]["gap"] == pytest.approx(live_tk["gap"], abs=1e-6)
    assert tk[0]["at"] == pytest.approx(live_tk["time"], abs=1e-6)
    assert live_tk["frame"] == tk[0]["frame"]  # frame numbers are those of the written file
    html = (out / "watch.html").read_text()
    assert "vs-rx/vlan30" in html and "192.0.2.12" in html


def test_ctrl_c_stops_cleanly_with_the_summary(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "capturing needs CAP_NET_RAW")
    require_tool("unshare")
    pcap = tmp_path / "quiet.pcapng"
    proc = subprocess.Popen(
        ["unshare", "--net", "--", *WATCH, "-i", "lo", "-w", str(pcap)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stderr is not None
    banner = proc.stderr.readline()  # unshare execs in place: proc.pid is watch itself
    assert "capturing on lo" in banner
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped by SIGINT" in err
    assert "vrrpscope analysis of " + str(pcap) in out  # plain summary on a pipe
    assert "No findings." in out
    with open_capture(str(pcap)) as reader:  # a valid, empty pcapng with the interface described
        assert list(reader) == []
        assert reader.stats.interfaces == {0: "lo"}
