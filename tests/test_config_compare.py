"""Configuration versus capture (``vrrpscope.config.compare``, behind ``analyze --config``).

Three kinds of evidence:

* every real capture in ``samples/real/<case>/`` checked against the keepalived configurations that
  produced it (``r*.conf`` beside ``capture.pcap``): no configuration finding, and each identified
  router is the node's own address according to the lab's ``truth.json``; real captures paired with
  another case's configurations give the expected difference;
* synthetic captures written with scapy into ``tmp_path`` and read back through the whole pipeline
  (``analyze``), against the fixtures in ``tests/data/compare/``: one test per comparison kind, with
  the file, line and numbers each message must carry;
* a real keepalived in network namespaces (``lab`` marker) whose ``track_script`` starts failing
  mid-capture: keepalived's own log and tshark are the oracles for the priority change and its time.
"""

from __future__ import annotations

import functools
import glob
import ipaddress
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Packet
from scapy.utils import wrpcap

from dissectors.records import secret_fingerprint
from vrrpscope.analysis import analyze
from vrrpscope.config.compare import (
    KINDS,
    ConfigError,
    compare,
    compare_with_configs,
    exit_status_for_dicts,
    load_configs,
    match_instances,
    merge_findings,
    priority_model,
    segment_rank,
)
from vrrpscope.config.lint import lint_files
from vrrpscope.config.parser import parse_text
from vrrpscope.findings import ExitStatus

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "real"
DATA = ROOT / "tests" / "data" / "compare"
CASES = sorted(p.name for p in SAMPLES.iterdir() if (p / "truth.json").exists())

T0 = 1795617394.0  #: capture clock of the synthetic captures (epoch seconds)
VIP = "192.0.2.100"
MCAST4 = "224.0.0.18"
MCAST6 = "ff02::12"
LV1, LV2 = "192.0.2.11", "192.0.2.12"
#: what keepalived puts on the wire for "auth_pass vrrp-secret-2026" (the first 8 bytes)
WIRE_PASS = b"vrrp-sec"


# --------------------------------------------------------------------------------------------------
# helpers


def require(available: bool, reason: str) -> None:
    """Skip unless ``available``; under ``CI=true`` a missing component fails instead (COMMON rules)."""
    if available:
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing component is a failure, not a skip)")
    pytest.skip(reason)


def line_of(conf: str, text: str, start: int = 1) -> int:
    """1-based number of the first line of ``conf`` (a fixture name) at or after ``start`` containing ``text``."""
    for n, line in enumerate((DATA / conf).read_text().splitlines(), 1):
        if n >= start and text in line:
            return n
    raise AssertionError(f"{text!r} not in {conf}")


def clock(t: float) -> str:
    """UTC HH:MM:SS, as the messages print times."""
    return time.strftime("%H:%M:%S", time.gmtime(int(t)))


def mac_of(ip: str) -> str:
    """A stable locally administered MAC for a router address."""
    b = ipaddress.ip_address(ip).packed
    return f"02:00:00:00:{b[-2]:02x}:{b[-1]:02x}"


def _l2(src_mac: str, dst_ip: str, vlan: int | None, v6: bool = False) -> Packet:
    if ipaddress.ip_address(dst_ip).is_multicast:
        dst_mac = "33:33:00:00:00:12" if v6 else "01:00:5e:00:00:12"
    else:
        dst_mac = mac_of(dst_ip)
    eth = Ether(src=src_mac, dst=dst_mac)
    return eth / Dot1Q(vlan=vlan) if vlan is not None else eth


def v2(
    t: float,
    src: str,
    *,
    vrid: int = 51,
    prio: int = 100,
    vips: Sequence[str] = (VIP,),
    interval: int = 1,
    password: bytes | None = WIRE_PASS,
    mac: str | None = None,
    dst: str = MCAST4,
    vlan: int | None = None,
) -> Packet:
    """A VRRPv2 advert at capture time ``T0 + t`` (simple-text authentication unless ``password`` is None)."""
    auth = (password or b"").ljust(8, b"\0")[:8]
    vrrp = VRRP(
        vrid=vrid,
        priority=prio,
        ipcount=len(vips),
        authtype=0 if password is None else 1,
        adv=interval,
        addrlist=list(vips),
        auth1=int.from_bytes(auth[:4], "big"),
        auth2=int.from_bytes(auth[4:], "big"),
    )
    pkt = _l2(mac or mac_of(src), dst, vlan) / IP(src=src, dst=dst, ttl=255, proto=112) / vrrp
    pkt.time = T0 + t
    return pkt


def v3(
    t: float,
    src: str,
    *,
    vrid: int = 51,
    prio: int = 100,
    vips: Sequence[str] = (VIP,),
    interval_cs: int = 100,
    mac: str | None = None,
    dst: str | None = None,
    vlan: int | None = None,
) -> Packet:
    """A VRRPv3 advert (IPv4 or IPv6 after ``src``) at capture time ``T0 + t``."""
    six = ipaddress.ip_address(src).version == 6
    dst = dst or (MCAST6 if six else MCAST4)
    ip: Packet = IPv6(src=src, dst=dst, hlim=255, nh=112) if six else IP(src=src, dst=dst, ttl=255, proto=112)
    vrrp = VRRPv3(vrid=vrid, priority=prio, ipcount=len(vips), adv=interval_cs, addrlist=list(vips))
    pkt = _l2(mac or mac_of(src), dst, vlan, six) / ip / vrrp
    pkt.time = T0 + t
    return pkt


def every(start: float, stop: float, step: float = 1.0) -> list[float]:
    """``start, start+step, ...`` below ``stop``."""
    out, t = [], start
    while t < stop - 1e-9:
        out.append(round(t, 6))
        t += step
    return out


def clean_failover(lv2_prio: Iterable[tuple[float, int]] = (), **lv2: Any) -> list[Packet]:
    """lv1 (150) master for 5 s, silent, lv2 (100 unless ``lv2_prio`` gives (time, priority) pairs)
    takes over after Master_Down_Interval and advertises for 6 s."""
    pkts = [v2(t, LV1, prio=150) for t in every(0, 5)]
    takeover = 4 + 3 + (256 - 100) / 256
    prios = dict(lv2_prio)
    for t in every(takeover, takeover + 6):
        prio = 100
        for since, p in sorted(prios.items()):
            if t >= takeover + since:
                prio = p
        pkts.append(v2(t, LV2, prio=prio, **lv2))
    return pkts


def write_capture(tmp_path: Path, packets: Sequence[Packet], name: str = "capture.pcap") -> tuple[str, list[Packet]]:
    """Write ``packets`` in time order; return the path and the order (index + 1 = frame number)."""
    ordered = sorted(packets, key=lambda p: float(p.time))
    path = tmp_path / name
    wrpcap(str(path), ordered)
    return str(path), ordered


def analysis_json(path: str) -> dict[str, Any]:
    """The analysis as a JSON round trip (what ``--format json`` would have printed)."""
    result: dict[str, Any] = json.loads(json.dumps(analyze([path]).to_dict()))
    return result


def run(tmp_path: Path, packets: Sequence[Packet], *confs: str) -> list[dict[str, Any]]:
    """Configuration findings for ``packets`` against fixture files ``confs``."""
    path, _ = write_capture(tmp_path, packets)
    return compare_with_configs(analysis_json(path), [str(DATA / c) for c in confs])


def kinds(findings: Iterable[dict[str, Any]]) -> list[str]:
    """The kinds, in order."""
    return [f["kind"] for f in findings]


def frame_of(ordered: Sequence[Packet], predicate: Any) -> int:
    """Frame number of the first packet satisfying ``predicate``."""
    for i, p in enumerate(ordered, 1):
        if predicate(p):
            return i
    raise AssertionError("no such packet")


# --------------------------------------------------------------------------------------------------
# real captures against the configurations that produced them


@functools.cache
def _sample_json(case: str) -> str:
    cap = sorted(glob.glob(str(SAMPLES / case / "capture*.pcap*")))[0]
    return json.dumps(analyze([cap]).to_dict())


def sample(case: str) -> dict[str, Any]:
    """A fresh copy of the analysis of ``samples/real/<case>/capture*``."""
    result: dict[str, Any] = json.loads(_sample_json(case))
    return result


def sample_confs(case: str) -> list[str]:
    """The case's node configurations, ``r1.conf`` first."""
    return sorted(str(p) for p in (SAMPLES / case).glob("r*.conf"))


@pytest.mark.parametrize("case", CASES)
def test_real_capture_matches_the_configurations_that_produced_it(case: str) -> None:
    data = sample(case)
    confs = sample_confs(case)
    assert compare_with_configs(data, confs) == []
    truth = json.loads((SAMPLES / case / "truth.json").read_text())
    addresses = {r["name"]: set(r["addresses"]) for r in truth["routers"]}
    matches = match_instances(data, load_configs(confs))
    identified = [m for m in matches if m.router is not None]
    assert identified, "no node identified on the wire"
    for m in identified:
        assert m.router in addresses[m.node], f"{m.node} identified as {m.router} ({m.method})"
    # every instance's group was found (none absent)
    assert {(m.node, m.instance) for m in matches} == {
        (i.node, i.name) for c in load_configs(confs) for i in c.instances
    }


def test_real_unicast_capture_identifies_nodes_by_unicast_src_ip() -> None:
    matches = match_instances(sample("unicast_peers"), load_configs(sample_confs("unicast_peers")))
    assert sorted((m.node, m.router, m.method) for m in matches) == [
        ("r1", "192.0.2.11", "unicast_src_ip"),
        ("r2", "192.0.2.12", "unicast_src_ip"),
    ]


def test_real_vrid_collision_without_the_other_clusters_config_is_an_unknown_group() -> None:
    confs = sample_confs("vrid_collision")
    found = compare_with_configs(sample("vrid_collision"), confs[:2])  # r1, r2; r3 is the other team's
    assert kinds(found) == ["unknown_group"]
    f = found[0]
    assert f["severity"] == "warning"
    assert f["routers"] == ["192.0.2.13"] and (f["vrid"], f["family"], f["segment"]) == (51, "ipv4", "if0")
    assert "192.0.2.13 advertises 192.0.2.200 at priority 120" in f["message"]
    assert "protect 192.0.2.100" in f["message"] and "VRID collision" in f["message"]
    conf = SAMPLES / "vrid_collision" / "r1.conf"
    vrid_line = next(n for n, ln in enumerate(conf.read_text().splitlines(), 1) if "virtual_router_id" in ln)
    assert (f["file"], f["line"]) == (str(conf), vrid_line)
    assert f["frames"] and isinstance(f["frames"][0], int)


@pytest.mark.parametrize(
    ("capture_case", "config_case", "expected"),
    [
        ("auth_mismatch", "failover", [("auth_differs", "r1"), ("auth_differs", "r2")]),
        ("advert_int_mismatch", "failover", [("advert_int_differs", "r2")]),
        ("version_mismatch", "failover", [("version_differs", "r2")]),
        ("use_vmac", "failover", [("vmac_differs", "r1"), ("vmac_differs", "r2")]),
        ("failover", "use_vmac", [("vmac_differs", "r1"), ("vmac_differs", "r2")]),
        ("unicast_peers", "failover", [("unicast_differs", "r1"), ("unicast_differs", "r2")]),
        ("failover", "unicast_peers", [("unicast_differs", "r1"), ("unicast_differs", "r2")]),
    ],
)
def test_real_capture_against_another_cases_configuration(
    capture_case: str, config_case: str, expected: list[tuple[str, str]]
) -> None:
    found = compare_with_configs(sample(capture_case), sample_confs(config_case))
    assert sorted((f["kind"], f["node"]) for f in found) == expected
    for f in found:
        assert f["severity"] == "warning" and f["file"].startswith(str(SAMPLES / config_case))


def test_real_auth_type_mismatch_against_pass_configs_names_the_running_password() -> None:
    found = compare_with_configs(sample("auth_type_mismatch"), sample_confs("auth_mismatch"))
    by_node = {f["node"]: f for f in found}
    assert set(by_node) == {"r1", "r2"}
    # r1 runs AH where its file says PASS
    assert "advertises IPsec AH" in by_node["r1"]["message"]
    # r2 runs PASS "secret-1" where its file says "secret-2"
    running, configured = secret_fingerprint(b"secret-1"), secret_fingerprint(b"secret-2")
    assert f"password fingerprint {configured}" in by_node["r2"]["message"]
    assert f"advertises PASS with password fingerprint {running}" in by_node["r2"]["message"]
    assert by_node["r2"]["line"] == 14  # auth_pass line of samples/real/auth_mismatch/r2.conf


# --------------------------------------------------------------------------------------------------
# synthetic captures: one test per comparison


def test_clean_match_produces_nothing(tmp_path: Path) -> None:
    # lv1's 16-character password goes on the wire as its first 8 bytes: that is a match
    assert run(tmp_path, clean_failover(), "lv1.conf", "lv2.conf") == []


def test_priority_differs_explained_by_a_track_script_weight(tmp_path: Path) -> None:
    path, ordered = write_capture(tmp_path, clean_failover(lv2_prio=[(3, 90)]))
    found = compare_with_configs(analysis_json(path), [str(DATA / "lv1.conf"), str(DATA / "lv2.conf")])
    assert kinds(found) == ["priority_differs"]
    f = found[0]
    first90 = next(p for p in ordered if p[VRRP].priority == 90)
    since = float(first90.time)
    assert f["message"] == (
        f"instance VI_1 on lv2 (lv2.conf:{line_of('lv2.conf', 'priority 100')}) is configured with priority 100 "
        f"but 192.0.2.12 advertises 90 since {clock(since)}: a tracked script or interface weight "
        "(-10, track_script chk_nginx) is probably down"
    )
    assert f["start"] == pytest.approx(since) and f["severity"] == "warning"
    assert f["frames"] == [frame_of(ordered, lambda p: p[VRRP].priority == 90)]
    assert (f["node"], f["instance"], f["routers"]) == ("lv2", "VI_1", [LV2])
    assert f["file"] == str(DATA / "lv2.conf") and f["line"] == line_of("lv2.conf", "priority 100")
    assert {"file": str(DATA / "lv2.conf"), "line": line_of("lv2.conf", "        chk_nginx")} in f["locations"]
    assert f["details"]["identified_by"] == "priority"


@pytest.mark.parametrize(
    ("advertised", "culprits"),
    [
        (80, "a tracked script or interface weight (-20, track_interface eth1) is probably down"),
        (
            70,
            "tracked scripts or interfaces (-10, track_script chk_nginx; -20, track_interface eth1) are probably down",
        ),
    ],
)
def test_priority_differs_names_every_tracker_needed(tmp_path: Path, advertised: int, culprits: str) -> None:
    # advertised from the start: the router is identified through its track weights
    found = run(tmp_path, clean_failover(lv2_prio=[(0, advertised)]), "lv1.conf", "lv2.conf")
    assert kinds(found) == ["priority_differs"]
    assert found[0]["message"].endswith(culprits)
    assert found[0]["details"]["identified_by"] == "track_weights"


def test_priority_differs_that_recovered_gives_both_times(tmp_path: Path) -> None:
    path, ordered = write_capture(tmp_path, clean_failover(lv2_prio=[(1, 90), (4, 100)]))
    found = compare_with_configs(analysis_json(path), [str(DATA / "lv1.conf"), str(DATA / "lv2.conf")])
    assert kinds(found) == ["priority_differs"]
    at90 = [float(p.time) for p in ordered if p[VRRP].priority == 90]
    back = next(float(p.time) for p in ordered if p[IP].src == LV2 and float(p.time) > at90[-1])
    assert f"advertised 90 from {clock(at90[0])} to {clock(back)}" in found[0]["message"]
    assert found[0]["end"] == pytest.approx(back)


def test_priority_no_weight_explains_is_found_by_elimination(tmp_path: Path) -> None:
    found = run(tmp_path, clean_failover(lv2_prio=[(0, 120)]), "lv1.conf", "lv2.conf")
    assert kinds(found) == ["priority_differs"]
    f = found[0]
    assert "is configured with priority 100 but 192.0.2.12 advertises 120 since" in f["message"]
    assert "no combination of its track weights gives it (possible: 100, 90, 80, 70)" in f["message"]
    assert f["message"].endswith("the running configuration differs from this file")
    assert f["details"]["identified_by"] == "elimination" and f["details"]["explained"] is False


def test_router_unidentified_when_only_another_priority_is_seen(tmp_path: Path) -> None:
    # only lv1's file is given; the one router seen advertises 100, not lv1's 150
    pkts = [v2(t, LV2, prio=100) for t in every(0, 6)]
    found = run(tmp_path, pkts, "lv1.conf")
    assert kinds(found) == ["config_router_unidentified"]
    f = found[0]
    assert f["severity"] == "info" and f["routers"] == [LV2]
    assert "is configured with priority 150 but no router of VRID 51 (IPv4) on if0 matches it" in f["message"]
    assert "192.0.2.12 (priority 100, 192.0.2.100)" in f["message"]


def test_wrong_password(tmp_path: Path) -> None:
    found = run(tmp_path, clean_failover(), "lv1.conf", "lv2_wrong_pass.conf")
    assert kinds(found) == ["auth_differs"]
    f = found[0]
    line = line_of("lv2_wrong_pass.conf", "auth_pass other-pw")
    configured, running = secret_fingerprint(b"other-pw"), secret_fingerprint(WIRE_PASS)
    assert f["message"] == (
        f"instance VI_1 on lv2 (lv2_wrong_pass.conf:{line}) has auth_type PASS with password fingerprint "
        f"{configured} but 192.0.2.12 advertises PASS with password fingerprint {running} in 6 adverts: "
        "the password running on lv2 is not the one in this file"
    )
    assert (f["line"], f["node"], f["routers"]) == (line, "lv2", [LV2])
    assert f["details"]["configured"] == {"type": "simple", "fingerprint": configured}


def test_password_longer_than_8_bytes_is_compared_truncated(tmp_path: Path) -> None:
    # the full 16 characters on the wire would be a different password than keepalived sends
    pkts = [v2(t, LV1, prio=150, password=b"vrrp-secret-2026"[:8]) for t in every(0, 4)]
    assert run(tmp_path, pkts, "lv1.conf") == []
    pkts = [v2(t, LV1, prio=150, password=b"vrrp-sek") for t in every(0, 4)]
    assert kinds(run(tmp_path, pkts, "lv1.conf")) == ["auth_differs"]


def test_vrid_absent(tmp_path: Path) -> None:
    path, _ = write_capture(tmp_path, clean_failover())
    data = analysis_json(path)
    found = compare_with_configs(data, [str(DATA / "lv1.conf"), str(DATA / "lv2_vrid52.conf")])
    assert kinds(found) == ["config_vrid_absent"]
    f = found[0]
    line = line_of("lv2_vrid52.conf", "virtual_router_id 52")
    assert f["message"] == (
        f"instance VI_2 on lv2 (lv2_vrid52.conf:{line}) configures VRID 52 (IPv4) but no advert for VRID 52 was seen"
    )
    assert (f["severity"], f["vrid"], f["family"], f["segment"], f["line"]) == ("warning", 52, "ipv4", "eth0", line)
    assert (f["start"], f["end"]) == (data["input"]["start"], data["input"]["end"])


def test_vrid_absent_from_a_capture_without_vrrp_is_info(tmp_path: Path) -> None:
    pkt: Packet = Ether(src=mac_of(LV1)) / IP(src=LV1, dst="192.0.2.1", proto=17)
    pkt.time = T0
    found = run(tmp_path, [pkt], "lv1.conf")
    assert kinds(found) == ["config_vrid_absent"] and found[0]["severity"] == "info"
    assert "no VRRP traffic from a segment compatible with its interface eth0" in found[0]["message"]


def test_unknown_group_and_vrid_collision(tmp_path: Path) -> None:
    pkts = clean_failover()
    pkts += [v2(t + 0.3, "192.0.2.50", vrid=77, prio=100, vips=("192.0.2.177",), password=None) for t in every(0, 5)]
    pkts += [v2(t + 0.6, "192.0.2.13", vrid=51, prio=120, vips=("192.0.2.200",)) for t in every(0, 5)]
    found = run(tmp_path, pkts, "lv1.conf", "lv2.conf")
    assert sorted((f["kind"], f["severity"], f["vrid"], tuple(f["routers"])) for f in found) == [
        ("unknown_group", "info", 77, ("192.0.2.50",)),
        ("unknown_group", "warning", 51, ("192.0.2.13",)),
    ]
    other = next(f for f in found if f["vrid"] == 77)
    assert other["message"] == (
        "VRID 77 (IPv4) on if0: adverts from 192.0.2.50 (priority 100, 192.0.2.177), but none of the "
        "configurations given (lv1, lv2) has an IPv4 instance with VRID 77: another cluster or router is on "
        "this segment"
    )
    assert other["file"] is None and other["node"] is None and other["locations"] == []
    collision = next(f for f in found if f["vrid"] == 51)
    assert "192.0.2.13 advertises 192.0.2.200 at priority 120" in collision["message"]
    assert [loc["file"] for loc in collision["locations"]] == [str(DATA / "lv1.conf"), str(DATA / "lv2.conf")]


def test_interval_mismatch(tmp_path: Path) -> None:
    found = run(tmp_path, clean_failover(interval=3), "lv1.conf", "lv2.conf")
    assert kinds(found) == ["advert_int_differs"]
    f = found[0]
    assert f["message"].startswith(
        f"instance VI_1 on lv2 (lv2.conf:{line_of('lv2.conf', 'advert_int 1')}) is configured with advert_int 1 "
        "but 192.0.2.12 advertises 3 s"
    )
    assert f["details"]["configured"] == 1.0 and f["details"]["advertised"] == [3.0]


def test_vip_set_differs(tmp_path: Path) -> None:
    found = run(tmp_path, clean_failover(vips=(VIP, "192.0.2.101")), "lv1.conf", "lv2.conf")
    assert kinds(found) == ["vips_differ"]
    f = found[0]
    assert f["message"].startswith(
        f"instance VI_1 on lv2 (lv2.conf:{line_of('lv2.conf', 'virtual_ipaddress')}) configures virtual_ipaddress "
        "{192.0.2.100} but 192.0.2.12 advertises {192.0.2.100, 192.0.2.101} (with 192.0.2.101 that the file "
        "does not have)"
    )
    assert f["details"]["extra"] == ["192.0.2.101"] and f["details"]["missing"] == []


def test_version_differs(tmp_path: Path) -> None:
    pkts = [v2(t, LV1, prio=150) for t in every(0, 5)] + [v3(t, LV2, prio=100) for t in every(8, 12)]
    found = run(tmp_path, pkts, "lv1.conf", "lv2.conf")
    # a VRRPv3 advert carries no authentication either: both differences are real
    assert kinds(found) == ["auth_differs", "version_differs"]
    version = found[1]
    assert version["message"] == (
        # no version keyword: the instance header is the line cited
        f"instance VI_1 on lv2 (lv2.conf:{line_of('lv2.conf', 'vrrp_instance VI_1')}) runs VRRPv2 (no version "
        "keyword) but 192.0.2.12 advertises VRRPv3"
    )
    assert "has auth_type PASS" in found[0]["message"] and "advertises no authentication" in found[0]["message"]


def test_unicast_nodes_with_equal_priority_are_told_apart_by_their_peers(tmp_path: Path) -> None:
    a, b = "192.0.2.21", "192.0.2.22"
    pkts = [v2(t, a, vrid=60, vips=("192.0.2.160",), dst=b, password=None) for t in every(0, 4)]
    pkts += [v2(t, b, vrid=60, vips=("192.0.2.160",), dst=a, password=None) for t in every(5, 9)]
    path, _ = write_capture(tmp_path, pkts)
    data = analysis_json(path)
    confs = [str(DATA / "uc1.conf"), str(DATA / "uc2.conf")]
    assert compare_with_configs(data, confs) == []
    assert sorted((m.node, m.router, m.method) for m in match_instances(data, load_configs(confs))) == [
        ("uc1", a, "unicast_peers"),
        ("uc2", b, "unicast_peers"),
    ]


def test_unicast_destination_not_a_configured_peer(tmp_path: Path) -> None:
    a, b, c = "192.0.2.21", "192.0.2.22", "192.0.2.23"
    pkts = [v2(t, a, vrid=60, vips=("192.0.2.160",), dst=d, password=None) for t in every(0, 4) for d in (b, c)]
    found = run(tmp_path, pkts, "uc1.conf", "uc2.conf")
    assert kinds(found) == ["unicast_differs"]
    f = found[0]
    assert f["node"] == "uc1" and f["severity"] == "warning"
    assert f["message"] == (
        f"instance VI_U on uc1 (uc1.conf:{line_of('uc1.conf', 'unicast_peer')}) is configured with unicast_peer "
        "{192.0.2.22} but 192.0.2.21 sends to 192.0.2.23, not a configured unicast_peer"
    )


V6_VIPS = ("fe80::51", "2001:db8::51")
V6_SRC = "fe80::200:5eff:fe00:53a1"


def test_ipv6_vmac_on_its_vlan_matches_and_another_vlan_is_not_its_group(tmp_path: Path) -> None:
    vmac = "00:00:5e:00:02:33"
    pkts = [v3(t, V6_SRC, prio=200, vips=V6_VIPS, interval_cs=50, mac=vmac, vlan=10) for t in every(0, 4, 0.5)]
    # same VRID, family and even addresses on VLAN 20 (a copy of the cluster): only the VLAN id tells
    pkts += [v3(t, "fe80::99", prio=100, vips=V6_VIPS, vlan=20) for t in every(0.2, 4)]
    path, _ = write_capture(tmp_path, pkts)
    data = analysis_json(path)
    found = compare_with_configs(data, [str(DATA / "v6.conf")])
    assert [(f["kind"], f["severity"], f["segment"]) for f in found] == [("unknown_group", "info", "if0/vlan20")]
    assert [(m.segment, m.router, m.method) for m in match_instances(data, load_configs([str(DATA / "v6.conf")]))] == [
        ("if0/vlan10", V6_SRC, "priority")
    ]


def test_vmac_differs(tmp_path: Path) -> None:
    pkts = [v3(t, V6_SRC, prio=200, vips=V6_VIPS, interval_cs=50, vlan=10) for t in every(0, 4, 0.5)]
    found = run(tmp_path, pkts, "v6.conf")
    assert kinds(found) == ["vmac_differs"]
    assert found[0]["message"] == (
        f"instance VI_6 on v6a (v6.conf:{line_of('v6.conf', '    use_vmac')}) has use_vmac, so its adverts should come "
        f"from the virtual MAC 00:00:5e:00:02:33, but {V6_SRC} advertises from {mac_of(V6_SRC)}"
    )


# --------------------------------------------------------------------------------------------------
# the model pieces


def _model(text: str) -> Any:
    cfg = parse_text(text, name="node.conf")
    return priority_model(cfg.instances[0], cfg)


INSTANCE = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {prio}
    virtual_ipaddress {{
        192.0.2.100
    }}
    {body}
}}
"""


def test_priority_model_follows_keepalived_weights() -> None:
    script = "vrrp_script up {\n script /bin/true\n weight 20\n}\n"
    script += "vrrp_script down {\n script /bin/true\n weight -30\n}\n"
    m = _model(script + INSTANCE.format(prio=100, body="track_script {\n up\n down weight -5\n}"))
    # positive weight counts while up, the line's weight overrides the script's
    assert (m.healthy, sorted(m.explained)) == (120, [95, 100, 115, 120])
    m = _model(script + INSTANCE.format(prio=250, body="track_script {\n up\n}"))
    assert m.healthy == 254 and sorted(m.explained) == [250, 254]  # clamped to 254
    m = _model(script + INSTANCE.format(prio=255, body="track_script {\n down\n}"))
    assert m.owner and sorted(m.explained) == [255]  # the address owner ignores weights
    m = _model(INSTANCE.format(prio=100, body="track_interface {\n eth1 weight 10 reverse\n eth2\n}"))
    assert (m.healthy, sorted(m.explained)) == (100, [100, 110])  # reverse: +10 while eth1 is down


def test_priority_model_ignores_a_vrrp_script_defined_after_the_instance() -> None:
    body = "track_script {\n late\n}"
    m = _model(INSTANCE.format(prio=100, body=body) + "vrrp_script late {\n script /bin/true\n weight -10\n}\n")
    assert sorted(m.explained) == [100] and m.ignored_scripts == ("late",)


def test_sync_group_zeroes_weights_unless_told_otherwise() -> None:
    script = "vrrp_script s {\n script /bin/true\n weight -10\n}\n"
    inst = INSTANCE.format(prio=100, body="track_script {\n s\n}")
    group = "vrrp_sync_group G {{\n group {{\n VI_1\n }}\n {extra}\n}}\n"
    assert sorted(_model(script + inst + group.format(extra="")).explained) == [100]
    assert sorted(_model(script + inst + group.format(extra="sync_group_tracking_weight")).explained) == [90, 100]


@pytest.mark.parametrize(
    ("segment", "interface", "rank"),
    [
        ("if0", "eth0", 1),
        ("ifindex3", "eth0", 1),
        ("eth0", "eth0", 2),
        ("eth1", "eth0", 0),
        ("if0/vlan30", "eth0.30", 2),
        ("if0/vlan100.30", "vlan30", 2),
        ("if0/vlan20", "eth0.30", None),
        ("eth0.20", "eth0.30", None),
        ("if0/vlan30", "eth0", 1),
        ("if0", None, 1),
    ],
)
def test_segment_rank(segment: str, interface: str | None, rank: int | None) -> None:
    assert segment_rank(segment, interface) == rank


# --------------------------------------------------------------------------------------------------
# the CLI's helpers


def test_unreadable_configuration_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.conf"
    with pytest.raises(ConfigError, match=r"nope\.conf"):
        compare_with_configs({"groups": []}, [str(missing)])


def test_merge_findings_orders_like_analyze_and_exit_status_counts_config_findings(tmp_path: Path) -> None:
    path, _ = write_capture(tmp_path, clean_failover(lv2_prio=[(3, 90)]))
    data = analysis_json(path)
    extra = compare_with_configs(data, [str(DATA / "lv1.conf"), str(DATA / "lv2.conf")])
    merged = merge_findings(data["findings"], extra)
    assert len(merged) == len(data["findings"]) + 1
    starts = [f["start"] for f in merged]
    assert starts == sorted(starts)
    assert exit_status_for_dicts(data["findings"], "warning") == ExitStatus.OK
    assert exit_status_for_dicts(merged, "warning") == ExitStatus.WARNING_FINDINGS
    assert exit_status_for_dicts(merged, "critical") == ExitStatus.OK
    assert exit_status_for_dicts(merged, None) == ExitStatus.OK
    assert exit_status_for_dicts([*merged, {"kind": "x", "severity": "critical"}], "warning") == (
        ExitStatus.CRITICAL_FINDINGS
    )
    # a config finding without start (none here, but tolerated) sorts first
    assert merge_findings([{"kind": "a", "start": 5.0}], [{"kind": "b", "start": None}])[0]["kind"] == "b"


def test_finding_dicts_have_analyze_keys_plus_configuration_keys(tmp_path: Path) -> None:
    path, _ = write_capture(tmp_path, clean_failover(lv2_prio=[(3, 90)]))
    data = analysis_json(path)
    analyze_keys = set(data["findings"][0]) if data["findings"] else set()
    f = compare(data, load_configs([str(DATA / "lv1.conf"), str(DATA / "lv2.conf")]))[0].to_dict()
    assert analyze_keys <= set(f)
    assert {"file", "line", "locations", "node", "instance"} <= set(f)
    assert f["kind"] in KINDS
    json.dumps(f)  # JSON-safe


# --------------------------------------------------------------------------------------------------
# real keepalived: a track_script starts failing while a capture runs


@dataclass(frozen=True)
class _LabResult:
    capture: str
    r1_conf: str
    r2_conf: str
    log: str
    log_time: float


def _run_track_lab(out: Path) -> _LabResult:
    from tests.lab import CaptureSpec, Config, Instance, Lab

    @dataclass(frozen=True)
    class ScriptConfig(Config):
        """A keepalived.conf with ``vrrp_script`` blocks before (``first``) or after the instances."""

        scripts: str = ""
        first: bool = True

        def render(self) -> str:
            text = Config.render(self)
            if not self.first:
                return text + self.scripts
            head, sep, rest = text.partition("}\n")  # after global_defs
            return head + sep + self.scripts + rest

    track = ("track_script {", "    chk_svc", "}")
    with Lab(routers=2, ipv6=False) as lab:
        flag = lab.workdir / "svc-down"
        script = f'vrrp_script chk_svc {{\n    script "/usr/bin/test ! -e {flag}"\n    interval 1\n    weight -30\n}}\n'
        # r1: VRID 51, script defined first (keepalived uses it); r2: VRID 52, script after (ignored)
        r1 = ScriptConfig("r1", (Instance(priority=150, state="MASTER", extra=track),), scripts=script)
        r2 = ScriptConfig(
            "r2",
            (Instance(vrid=52, priority=150, state="MASTER", vips=("192.0.2.120/24",), extra=track),),
            scripts=script,
            first=False,
        )
        cap = lab.start_capture(CaptureSpec(), out)
        lab.start("r1", r1)
        lab.start("r2", r2)
        lab.wait_state("r1", "MASTER", after=0, timeout=20)
        lab.wait_state("r2", "MASTER", after=0, timeout=20)
        lab.sleep(2.5)
        down_at = time.time()
        flag.write_text("down\n")
        line = lab.wait_log("r1", r"Changing effective priority", after=down_at, timeout=10)
        lab.sleep(3)
        lab.stop_captures()
        r2_lines = [ln.message for ln in lab.logbook.lines("r2")]
        assert any("track script chk_svc not found, ignoring" in m for m in r2_lines), r2_lines
        (out / "r1.conf").write_text(r1.render())
        (out / "r2.conf").write_text(r2.render())
        return _LabResult(str(cap.path), str(out / "r1.conf"), str(out / "r2.conf"), line.message, line.time)


@pytest.mark.lab
def test_real_keepalived_track_script_failure_is_explained(tmp_path: Path) -> None:
    from tests.lab import missing_requirements

    missing = missing_requirements()
    require(not missing, "keepalived lab unavailable: " + "; ".join(missing))
    tshark = shutil.which("tshark")
    require(tshark is not None, "external tool 'tshark' not found on PATH")
    assert tshark is not None
    res = _run_track_lab(tmp_path)
    assert "Changing effective priority from 150 to 120" in res.log
    data = analysis_json(res.capture)
    found = compare_with_configs(data, [res.r1_conf, res.r2_conf])
    assert kinds(found) == ["priority_differs"]
    f = found[0]
    # tshark: the first advert at 120 is where the finding starts
    rows = subprocess.run(
        [tshark, "-r", res.capture, "-Y", "vrrp.prio == 120", "-T", "fields", "-e", "frame.number", "-e",
         "frame.time_epoch"],
        capture_output=True, text=True, check=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    ).stdout.split("\n")  # fmt: skip
    frame, epoch = rows[0].split("\t")
    assert f["frames"] == [int(frame)] and f["start"] == pytest.approx(float(epoch), abs=1e-6)
    assert f["start"] >= res.log_time - 1.0
    assert (f["node"], f["vrid"]) == ("r1", 51)
    assert f"advertises 120 since {clock(float(epoch))}" in f["message"]
    assert "(-30, track_script chk_svc) is probably down" in f["message"]
    # r2's vrrp_script comes after its instance: keepalived ignored it, and so does the model
    r2 = load_configs([res.r2_conf])[0]
    assert sorted(priority_model(r2.instances[0], r2).explained) == [150]
    g52 = next(g for g in data["groups"] if g["vrid"] == 52)
    assert g52["routers"][0]["priorities"] == [150]
    # ... and lint says so for r2 only, where keepalived logged "track script chk_svc not found"
    linted = lint_files([res.r1_conf, res.r2_conf]).findings
    late = [f for f in linted if f.details.get("code") == "undefined_reference"]
    assert [(f.nodes, "defined after this instance" in f.message) for f in late] == [(("r2",), True)]
