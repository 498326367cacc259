"""Unit tests of the lab's pure parts (no root needed): config rendering, log parsing, ground-truth
intervals, the VLAN tagger's framing (scapy as the oracle), RFC timers, wire matching, the oracle."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.lab import Auth, Config, Instance, LogLine
from tests.lab.oracle import check_all, check_findings, check_masterships, check_takeovers
from tests.lab.tagger import insert_tags, tag_bytes
from tests.lab.truth import format_log, mastership, parse_line, parse_lines, read_log
from tests.lab.verify import WireAdvert, master_down_interval, match_masters, skew_time, wire_takeovers

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "real"


# ------------------------------------------------------------------------------- config rendering


def test_instance_renders_every_knob() -> None:
    inst = Instance(
        name="VI_9",
        vrid=9,
        priority=120,
        version=2,
        advert_int=2,
        vips=("192.0.2.100/24", "192.0.2.101/24"),
        auth=Auth("PASS", "pw"),
        preempt=False,
        unicast_src="192.0.2.11",
        unicast_peers=("192.0.2.12",),
        use_vmac=True,
        garp=(("garp_master_delay", "3"),),
        extra=("accept",),
    )
    text = inst.render()
    lines = [ln.strip() for ln in text.splitlines()]
    for expected in (
        "vrrp_instance VI_9 {",
        "virtual_router_id 9",
        "priority 120",
        "version 2",
        "advert_int 2",
        "nopreempt",
        "use_vmac",
        "garp_master_delay 3",
        "auth_type PASS",
        "auth_pass pw",
        "unicast_src_ip 192.0.2.11",
        "192.0.2.12",
        "192.0.2.100/24",
        "192.0.2.101/24",
        "accept",
    ):
        assert expected in lines, expected
    assert text.count("{") == text.count("}")
    assert inst.family == "ipv4"
    assert inst.to_dict()["vips"] == ["192.0.2.100", "192.0.2.101"]


def test_instance_subsecond_v3_and_ipv6_family() -> None:
    inst = Instance(version=3, advert_int=0.5, vips=("fe80::100/64", "2001:db8::100/64"), preempt_delay=2.5)
    text = inst.render()
    assert "advert_int 0.5" in text and "preempt_delay 2.5" in text and "nopreempt" not in text
    assert inst.family == "ipv6"


def test_auth_type_is_validated() -> None:
    with pytest.raises(ValueError):
        Auth("MD5", "x")


def test_config_has_global_defs_and_all_instances() -> None:
    cfg = Config("r7", (Instance(name="A"), Instance(name="B", vrid=52)), global_extra=("vrrp_garp_interval 0.01",))
    text = cfg.render()
    assert "router_id r7" in text and "vrrp_garp_interval 0.01" in text
    assert text.index("global_defs") < text.index("vrrp_instance A") < text.index("vrrp_instance B")


# ------------------------------------------------------------------------------- log parsing

# Lines as keepalived 2.2.7 printed them in this lab (console, -l -D).
REAL_LINES = [
    ("Wed Nov 25 14:14:50 2026: (VI_1) Entering MASTER STATE", "state", {"state": "MASTER"}),
    (
        "Wed Nov 25 14:14:46 2026: (VI_1) Entering BACKUP STATE (init)",
        "state",
        {"state": "BACKUP", "reason": "init"},
    ),
    ("Wed Nov 25 14:24:46 2026: (VI_6) sent 0 priority", "resign", {}),
    ("Wed Nov 25 14:25:01 2026: (VI_1) received an invalid passwd!", "auth_failure", {}),
    (
        "Wed Nov 25 14:25:01 2026: (VI_1) advertisement interval mismatch mine=3 sec rcv'd=1 sec",
        "interval_mismatch",
        {"mine": "3", "received": "1"},
    ),
    (
        "Wed Nov 25 14:25:01 2026: (VI_1) wrong version. Received 2 and expect 3",
        "version_mismatch",
        {"received": "2", "expected": "3"},
    ),
    (
        "Wed Nov 25 14:25:01 2026: (VI_OTHER) ip address associated with VRID 51 not present in "
        "MASTER advert: "
        "192.0.2.200",
        "vip_mismatch",
        {"vrid": "51", "address": "192.0.2.200"},
    ),
    (
        "Wed Nov 25 14:25:01 2026: (VI_1) Received advert from 192.0.2.12 with lower priority 100, ours 150, "
        "forcing new election",
        "lower_priority_received",
        {"peer": "192.0.2.12", "priority": "100", "ours": "150"},
    ),
    (
        "Wed Nov 25 14:25:01 2026: (VI_1) Master received advert from 192.0.2.11 with higher priority 150, ours 100",
        "higher_priority_received",
        {"peer": "192.0.2.11", "priority": "150"},
    ),
    (
        "Wed Nov 25 14:25:01 2026: A thread timer expired 3.396879 seconds ago",
        "timer_expired",
        {"seconds": "3.396879"},
    ),
    (
        "Wed Nov 25 14:14:50 2026: Sending gratuitous ARP on eth0 for 192.0.2.100",
        "garp",
        {"interface": "eth0", "address": "192.0.2.100"},
    ),
    ("Wed Nov 25 14:14:51 2026: Stopping", "stopping", {}),
]


@pytest.mark.parametrize(("text", "kind", "fields"), REAL_LINES, ids=[k for _, k, _ in REAL_LINES])
def test_parse_real_keepalived_lines(text: str, kind: str, fields: dict[str, str]) -> None:
    ev = parse_line(LogLine(100.0, "r1", text))
    assert ev is not None
    assert ev.kind == kind
    for key, value in fields.items():
        assert ev.fields[key] == value
    assert not ev.line.startswith("Wed")  # keepalived's own whole-second stamp is stripped


def test_uninteresting_lines_are_ignored() -> None:
    assert parse_line(LogLine(1.0, "r1", "Wed Nov 25 14:14:46 2026: Registering Kernel netlink reflector")) is None


def test_log_round_trip_keeps_microseconds(tmp_path: Path) -> None:
    lines = [
        LogLine(1795616681.018986, "r1", "Wed Nov 25 14:24:41 2026: Starting Keepalived v2.2.7 (01/16,2022)"),
        LogLine(1795616684.449827, "r1", "Wed Nov 25 14:24:44 2026: (VI_4) Entering MASTER STATE"),
    ]
    path = tmp_path / "r1.log"
    path.write_text(format_log(lines))
    assert read_log(path, "r1") == lines
    events = parse_lines(read_log(path, "r1"))
    assert [e.kind for e in events] == ["starting", "state"]


# ------------------------------------------------------------------------------- ground-truth intervals


def test_mastership_closes_on_crash_backup_and_stall() -> None:
    transitions = [
        {"time": 3.0, "router": "r1", "instance": "VI_1", "state": "MASTER"},
        {"time": 9.0, "router": "r2", "instance": "VI_1", "state": "MASTER"},
        {"time": 15.0, "router": "r1", "instance": "VI_1", "state": "MASTER"},
        {"time": 15.0, "router": "r2", "instance": "VI_1", "state": "BACKUP"},
    ]
    faults = [{"time": 5.5, "router": "r1", "kind": "crash"}, {"time": 12.0, "router": "r1", "kind": "start"}]
    got = mastership(transitions, faults, 20.0)
    assert [(p["router"], p["start"], p["end"], p["end_reason"]) for p in got] == [
        ("r1", 3.0, 5.5, "crash"),
        ("r2", 9.0, 15.0, "backup"),
        ("r1", 15.0, 20.0, "capture_end"),
    ]


def test_mastership_stall_and_resume_reopen_without_log_line() -> None:
    transitions = [
        {"time": 3.0, "router": "r1", "instance": "VI_1", "state": "MASTER"},
        {"time": 8.0, "router": "r2", "instance": "VI_1", "state": "MASTER"},
        {"time": 11.6, "router": "r2", "instance": "VI_1", "state": "BACKUP"},
    ]
    faults = [
        {"time": 5.0, "router": "r1", "kind": "stall"},
        {"time": 11.5, "router": "r1", "kind": "resume"},
    ]
    got = mastership(transitions, faults, 14.0)
    assert [(p["router"], p["start"], p["start_reason"], p["end_reason"]) for p in got] == [
        ("r1", 3.0, "log", "stall"),
        ("r2", 8.0, "log", "backup"),
        ("r1", 11.5, "resume", "capture_end"),
    ]


# ------------------------------------------------------------------------------- VLAN tagger framing


def test_tagger_matches_scapy_dot1q_and_qinq() -> None:
    scapy_l2 = pytest.importorskip("scapy.layers.l2")
    scapy_inet = pytest.importorskip("scapy.layers.inet")
    ether, dot1q, dot1ad = scapy_l2.Ether, scapy_l2.Dot1Q, scapy_l2.Dot1AD
    ip = scapy_inet.IP
    plain = bytes(ether(src="00:00:5e:00:53:11", dst="01:00:5e:00:00:12") / ip(dst="224.0.0.18", proto=112))
    one = bytes(
        ether(src="00:00:5e:00:53:11", dst="01:00:5e:00:00:12") / dot1q(vlan=30) / ip(dst="224.0.0.18", proto=112)
    )
    two = bytes(
        ether(src="00:00:5e:00:53:11", dst="01:00:5e:00:00:12")
        / dot1ad(vlan=100)
        / dot1q(vlan=30)
        / ip(dst="224.0.0.18", proto=112)
    )
    assert insert_tags(plain, tag_bytes([30])) == one
    assert insert_tags(plain, tag_bytes([100, 30])) == two
    with pytest.raises(ValueError):
        tag_bytes([4096])


# ------------------------------------------------------------------------------- RFC timers


@pytest.mark.parametrize(
    ("priority", "interval", "version", "skew", "mdi"),
    [
        (100, 1.0, 2, 0.609375, 3.609375),
        (255, 1.0, 2, 0.00390625, 3.00390625),
        (1, 1.0, 2, 0.99609375, 3.99609375),
        (100, 5.0, 2, 0.609375, 15.609375),
        (100, 5.0, 3, 3.046875, 18.046875),
        (100, 0.1, 3, 0.0609375, 0.3609375),
        (100, 0.5, 3, 0.3046875, 1.8046875),
    ],
)
def test_rfc_timer_formulas(priority: int, interval: float, version: int, skew: float, mdi: float) -> None:
    """Worked numbers from RFC 3768 §6.1 / RFC 5798 §6.1 (PROTOCOL.md §9.4)."""
    assert skew_time(priority, interval, version) == pytest.approx(skew)
    assert master_down_interval(priority, interval, version) == pytest.approx(mdi)


# ------------------------------------------------------------------------------- wire matching


def _adv(frame: int, t: float, src: str, prio: int) -> WireAdvert:
    return WireAdvert(frame, t, src, "224.0.0.18", "ipv4", 2, 51, prio, "00:00:5e:00:53:11", 255)


def test_match_masters_and_takeover_gap() -> None:
    from tests.lab.truth import LogEvent

    adverts = [
        _adv(1, 10.0, "192.0.2.11", 150),
        _adv(2, 11.0, "192.0.2.11", 150),
        _adv(3, 14.6099, "192.0.2.12", 100),
        _adv(4, 15.61, "192.0.2.12", 100),
    ]
    events = [
        LogEvent(10.0004, "r1", "state", "VI_1", {"state": "MASTER"}),
        LogEvent(14.6103, "r2", "state", "VI_1", {"state": "MASTER"}),
        LogEvent(20.0, "r1", "state", "VI_1", {"state": "MASTER"}),
    ]
    addrs = {"r1": ["192.0.2.11"], "r2": ["192.0.2.12"]}
    inst = {("r1", "VI_1"): (51, "ipv4"), ("r2", "VI_1"): (51, "ipv4")}
    got = match_masters(events, adverts, addrs, inst)
    assert [m.frame for m in got] == [1, 3, None]
    assert got[1].delta_ms == pytest.approx(0.4, abs=1e-6)
    tk = wire_takeovers(got, adverts, addrs)
    assert len(tk) == 1 and tk[0].old == "r1" and tk[0].new == "r2"
    assert tk[0].gap == pytest.approx(3.6099)


# ------------------------------------------------------------------------------- the oracle can fail


def _perfect_analysis(truth: dict[str, Any]) -> dict[str, Any]:
    """An analysis dict that states exactly the ground truth (built from truth.json)."""
    owner_ip = {r["name"]: r["ipv4"] for r in truth["routers"]}
    timeline = [
        {"master": owner_ip[m["router"]], "start": m["wire_time"], "end": None, "end_reason": "capture_end"}
        for m in truth["wire_check"]["masters"]
    ]
    takeovers = [
        {
            "from": owner_ip[t["from"]],
            "to": owner_ip[t["to"]],
            "at": t["wire_first_new"],
            "gap": t["wire_gap"],
            "allowed": t["rfc_allowed"],
            "cause": t["cause"],
        }
        for t in truth["takeovers"]
    ]
    group = {
        "segment": "eth0",
        "family": "ipv4",
        "vrid": 51,
        "versions": [2],
        "routers": [],
        "timeline": timeline,
        "takeovers": takeovers,
    }
    return {"groups": [group], "findings": [], "arp_owners": [], "input": {}}


@pytest.fixture
def failover_truth() -> dict[str, Any]:
    path = SAMPLES / "failover" / "truth.json"
    if not path.exists():
        pytest.skip("samples/real/failover not generated")
    return dict(json.loads(path.read_text()))


def test_oracle_accepts_the_truth_itself(failover_truth: dict[str, Any]) -> None:
    assert check_all(failover_truth, _perfect_analysis(failover_truth)) == []


def test_oracle_rejects_late_mastership_and_wrong_takeovers(failover_truth: dict[str, Any]) -> None:
    bad = copy.deepcopy(_perfect_analysis(failover_truth))
    bad["groups"][0]["timeline"][1]["start"] += 0.25
    assert any("entered MASTER" in p for p in check_masterships(failover_truth, bad))
    bad = copy.deepcopy(_perfect_analysis(failover_truth))
    bad["groups"][0]["takeovers"][0]["cause"] = "preempt"
    bad["groups"][0]["takeovers"][1]["gap"] += 0.05
    problems = check_takeovers(failover_truth, bad)
    assert any("cause" in p for p in problems) and any("gap" in p for p in problems)
    bad["groups"][0]["takeovers"].pop()
    assert any("not in the analysis" in p for p in check_takeovers(failover_truth, bad))


def test_oracle_rejects_false_alarms_and_missing_findings(failover_truth: dict[str, Any]) -> None:
    analysis = _perfect_analysis(failover_truth)
    analysis["findings"] = [{"kind": "split_brain", "severity": "critical", "message": "x"}]
    assert any("unexpected critical" in p for p in check_findings(failover_truth, analysis))
    truth = dict(failover_truth, expected_findings=["slow_takeover"])
    assert any("expected a 'slow_takeover'" in p for p in check_findings(truth, _perfect_analysis(truth)))


# ------------------------------------------------------------------------------- FRR


def test_parse_frr_state_lines() -> None:
    """FRR 8.4 vrrpd lines (as logged in the lab) become state events of instance VRID<n>_<family>."""
    line = "2026/11/25 14:56:41 VRRP: [W23ZH-NY264] [CORE] [VRID 51] [IPv4] Backup -> Master"
    ev = parse_line(LogLine(5.0, "r2", line))
    assert ev is not None and ev.kind == "state" and ev.instance == "VRID51_IPv4" and ev.state == "MASTER"
    ev = parse_line(
        LogLine(5.0, "r2", "2026/11/25 14:56:30 VRRP: [W23ZH-NY264] [CORE] [VRID 7] [IPv6] Initialize -> Backup")
    )
    assert ev is not None and ev.instance == "VRID7_IPv6" and ev.state == "BACKUP"
    timeout = "2026/11/25 14:56:41 VRRP: [SN55S-ESQ86] [CORE] [VRID 51] [IPv4] Master_Down_Timer expired"
    ev = parse_line(LogLine(5.0, "r2", timeout))
    assert ev is not None and ev.kind == "timeout" and ev.instance == "VRID51_IPv4"


def test_frr_config_and_virtual_macs() -> None:
    from tests.lab.frr import frr_instance, render_vrrpd, virtual_mac

    v4 = frr_instance(51, 100, version=3, advert_int=0.5)
    v6 = frr_instance(52, 90, vips=("fe80::100/64",), preempt=False)
    assert (v4.name, v6.name) == ("VRID51_IPv4", "VRID52_IPv6")
    text = render_vrrpd([v4, v6])
    for expected in (
        "interface eth0",
        " vrrp 51 version 3",
        " vrrp 51 priority 100",
        " vrrp 51 advertisement-interval 500",
        " vrrp 51 ip 192.0.2.100",
        " no vrrp 52 preempt",
        " vrrp 52 ipv6 fe80::100",
    ):
        assert expected in text.splitlines(), expected
    assert virtual_mac(51, "ipv4") == "00:00:5e:00:01:33" and virtual_mac(255, "ipv6") == "00:00:5e:00:02:ff"


def test_readme_states_the_measured_numbers(failover_truth: dict[str, Any]) -> None:
    from tests.lab.readme import render_readme

    text = render_readme(failover_truth)
    tk = failover_truth["takeovers"][0]
    assert f"| {tk['wire_gap']} | {tk['rfc_allowed']} |" in text
    assert "Entering MASTER STATE" in text and "observer transmitted 0 packets" in text
