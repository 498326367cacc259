"""``--segment OLD=NEW``: captures of one LAN taken on differently named interfaces merge.

The real sample ``cooked_capture`` holds one keepalived run captured side by side as Ethernet on
``eth0`` (pcapng, segment ``eth0``) and as Linux cooked SLL2 on ``any`` (segment ``ifindex2``):
two vantage points of the same LAN under two names, as two nodes' own captures usually are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vrrpscope import parallel
from vrrpscope.analysis import analyze
from vrrpscope.cli.analyze import same_lan_hints
from vrrpscope.parallel import analyze_parallel
from vrrpscope.pipeline import SegmentAliases

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "real" / "cooked_capture"
ETH = str(SAMPLE / "capture.pcapng")
SLL2 = str(SAMPLE / "capture-sll2.pcap")


def test_aliases_rename_whole_segments_or_interfaces_keeping_vlan_tags() -> None:
    rename = SegmentAliases({"ens192": "eth0", "ens224/vlan30": "trunk/vlan30", "ifindex3": "eth1"})
    assert rename("ens192") == "eth0"
    assert rename("ens192/vlan30") == "eth0/vlan30"
    assert rename("ens192/vlan100.30") == "eth0/vlan100.30"
    assert rename("ens224/vlan30") == "trunk/vlan30"
    assert rename("ens224/vlan31") == "ens224/vlan31"  # only the named segment
    assert rename("ifindex3") == "eth1"
    assert rename("eth0") == "eth0" and rename("ens1920") == "ens1920"
    assert not SegmentAliases({}) and SegmentAliases({"a": "b"})


def _shape(a: dict[str, Any]) -> Any:
    return (
        [
            (g["segment"], g["vrid"], [e["master"] for e in g["timeline"]], [t["cause"] for t in g["takeovers"]])
            for g in a["groups"]
        ],
        sorted(f["kind"] for f in a["findings"]),
    )


def test_two_names_for_one_lan_are_two_groups_until_aliased() -> None:
    alone = analyze([ETH]).to_dict()
    apart = analyze([ETH, SLL2]).to_dict()
    assert [g["segment"] for g in apart["groups"]] == ["eth0", "ifindex2"]
    assert apart["input"]["duplicates"] == 0
    merged = analyze([ETH, SLL2], segments={"ifindex2": "eth0"}).to_dict()
    assert _shape(merged) == _shape(alone)
    seen = alone["input"]["vrrp"] + alone["input"]["arp"]
    assert merged["input"]["duplicates"] == seen  # every packet of the second file is a copy
    (group,) = merged["groups"]
    (one,) = alone["groups"]
    starts = [e["start"] for e in group["timeline"]]
    assert starts == pytest.approx([e["start"] for e in one["timeline"]], abs=1e-4)
    assert [r["adverts"] for r in group["routers"]] == [r["adverts"] for r in one["routers"]]


def test_parallel_reading_renames_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)  # use the worker pool on these small files
    want = analyze([ETH, SLL2], segments={"ifindex2": "eth0"}).to_dict()
    assert analyze_parallel([ETH, SLL2], jobs=2, segments={"ifindex2": "eth0"}).to_dict() == want


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from vrrpscope.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_segment_option_and_the_hint_that_suggests_it() -> None:
    apart = _cli("analyze", "-r", ETH, "-r", SLL2, "--format", "json")
    assert apart.returncode == 0, apart.stderr
    assert len(json.loads(apart.stdout)["groups"]) == 2
    hint = (
        "vrrpscope: note: VRID 51 (ipv4) on eth0 and on ifindex2 carries the same adverts, seen from different "
        "files: if they are one LAN, --segment ifindex2=eth0 analyses them as one group\n"
    )
    assert hint in apart.stderr
    proc = _cli("analyze", "-r", ETH, "-r", SLL2, "--segment", "ifindex2=eth0", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [g["segment"] for g in data["groups"]] == ["eth0"]
    assert data["input"]["duplicates"] > 0
    assert data["input"]["segments_renamed"] == {"ifindex2": "eth0"}
    assert "segments_renamed" not in json.loads(apart.stdout)["input"]
    assert "note:" not in proc.stderr


def test_renames_are_shown_in_the_table_and_the_report(tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    proc = _cli("analyze", "-r", ETH, "-r", SLL2, "--segment", "ifindex2=eth0", "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    assert "segments renamed (--segment): ifindex2 as eth0\n" in proc.stdout
    html = report.read_text()
    assert "<dt>Segments renamed</dt><dd><code>ifindex2</code> analysed as <code>eth0</code>" in html


def test_a_rename_that_matches_nothing_is_said() -> None:
    proc = _cli("analyze", "-r", ETH, "-r", SLL2, "--segment", "ifindex2=eth0", "--segment", "ens9=eth0")
    assert proc.returncode == 0, proc.stderr
    assert (
        "vrrpscope: note: --segment ens9=... renamed nothing: no VRRP/ARP/ND packet was captured on a "
        "segment or interface of that name (segments seen: eth0, ifindex2)\n"
    ) in proc.stderr
    assert "--segment ifindex2=..." not in proc.stderr


def test_no_hint_for_groups_one_file_saw_on_two_interfaces() -> None:
    data = analyze([ETH, SLL2]).to_dict()
    assert len(same_lan_hints(data)) == 1
    for g in data["groups"]:  # as if one multi-interface capture had seen both
        g["vantage"] = {ip: ["one.pcapng"] for ip in g["vantage"]}
    assert same_lan_hints(data) == []


@pytest.mark.parametrize("shift", [0.06, 0.3, 0.5])
def test_no_hint_for_cloned_sites_whose_adverts_are_not_simultaneous(shift: float) -> None:
    """Two sites built from one template (same VRID, same router addresses) are two LANs: their
    adverts, 1 s apart each, do not coincide within 50 ms."""
    data = analyze([ETH, SLL2]).to_dict()
    other = data["groups"][1]
    other["advert_times"] = {ip: [t + shift for t in ts] for ip, ts in other["advert_times"].items()}
    assert same_lan_hints(data) == []
    other["advert_times"] = {ip: [t - shift + 0.02 for t in ts] for ip, ts in other["advert_times"].items()}
    assert len(same_lan_hints(data)) == 1  # within the window again


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["ifindex2"], "'ifindex2' is not OLD=NEW"),
        (["=eth0"], "'=eth0' is not OLD=NEW"),
        (["ifindex2="], "'ifindex2=' is not OLD=NEW"),
        (["ifindex2=eth0", "ifindex2=eth1"], "'ifindex2' is renamed twice"),
    ],
)
def test_cli_bad_segment_values_are_usage_errors(values: list[str], message: str) -> None:
    args = [a for v in values for a in ("--segment", v)]
    proc = _cli("analyze", "-r", ETH, *args)
    assert proc.returncode == 3
    assert message in proc.stderr and "Traceback" not in proc.stderr
