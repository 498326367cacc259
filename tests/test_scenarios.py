"""Synthetic scenario captures (``samples/scenarios/``) against expectations, goldens and tshark.

Every ``<case>.pcap`` is written by its committed script ``<case>.pcap.py`` (scapy, deterministic).
Next to it:

- ``<case>.expect.json``, written by hand from the script and the RFC formulas: what
  ``vrrpscope.analysis.analyze([pcap]).to_dict()`` must report, and what it must not;
- ``<case>.expected.json``, the golden copy of the whole JSON output, regenerated only with
  ``pytest --update-goldens`` (see ``tests/golden.py``).

Expectation files (times are seconds after ``time_base``; a time is a number, meaning
±:data:`TIME_TOL`, or a ``[low, high]`` range, widened by :data:`TIME_TOL`)::

    {
      "_comment": "...", "time_base": 1700000000.0,
      "normal": true,            # no finding of severity warning or critical at all
      "must": [{"kind": "split_brain", "vrid": 51, "vlan": 10, "routers": ["192.0.2.1"],
                "severity": "info", "message_contains": ["192.0.2.100"], "cause": "auth",
                "min_count": 1, "frames": [12]}],  # only "kind" is required; frames: cited
                                                   # by the matching findings together
      "must_not": ["no_master", {"kind": "bad_checksum", "vrid": 52}],
      "groups": [{"vrid": 51, "family": "ipv4", "vlan": 10,       # "vlan" absent = untagged
                  "routers": ["192.0.2.1", "192.0.2.2"],          # exact set of advertising routers
                  "timeline": [{"master": "192.0.2.1", "start": [0, 0.1], "end": [20.0, 23.62],
                                "end_reason": "timeout"}],
                  "takeovers": [{"from": "192.0.2.1", "to": "192.0.2.2", "cause": "timeout",
                                 "gap": 3.610175, "allowed": 3.609375}]}],
      "notes": ["free text"]
    }

``gap`` is checked within ±:data:`GAP_TOL` of the analyzer's value, ``allowed`` within
±:data:`ALLOWED_TOL`. A finding's ``cause`` is compared with its ``cause`` field when the analyzer
provides one, else looked for in its message and ``details.causes``.

The tshark tests check the captures and the hand-written numbers without the analyzer: takeover
gaps measured on the wire, ``allowed`` recomputed from the RFC formula, GARP bursts after each
takeover, TTL and checksums of normal cases.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from golden import check_golden, normalise
from support import require_tool

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "samples" / "scenarios"
EXPECT_FILES = sorted(SCENARIOS.glob("*.expect.json"))
CASE_IDS = [p.name.removesuffix(".expect.json") for p in EXPECT_FILES]

#: Finding kinds of DESIGN.md.
KINDS = frozenset(
    {
        "split_brain",
        "auth_mismatch",
        "slow_takeover",
        "no_master",
        "advert_interval_mismatch",
        "vip_mismatch",
        "version_mismatch",
        "ttl_violation",
        "bad_checksum",
        "priority_zero_resign",
        "missing_garp",
        "arp_conflict",
        "arp_flipflop",
        "preemption_flap",
        "malformed",
    }
)
#: Tolerance on timeline start/end times (s).
TIME_TOL = 0.05
#: Tolerance on a takeover's gap (s), against the analyzer.
GAP_TOL = 0.05
#: Tolerance on a takeover's allowed time (s), against the analyzer.
ALLOWED_TOL = 0.01
#: Tolerance on a hand-written gap against the gap measured with tshark (s).
ORACLE_GAP_TOL = 0.002

_TOP_KEYS = {"_comment", "time_base", "normal", "must", "must_not", "groups", "notes"}
_MUST_KEYS = {
    "kind",
    "vrid",
    "vlan",
    "family",
    "routers",
    "severity",
    "message_contains",
    "cause",
    "min_count",
    "frames",
}
_GROUP_KEYS = {"vrid", "family", "vlan", "routers", "timeline", "takeovers"}
_ENTRY_KEYS = {"master", "start", "end", "end_reason"}
_TAKEOVER_KEYS = {"from", "to", "cause", "gap", "allowed"}


# --------------------------------------------------------------------------- loading


def load_expectations(path: Path) -> dict[str, Any]:
    """Read an expectation file and check its schema and internal consistency."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(spec, dict), f"{path.name}: top level must be an object"
    assert set(spec) <= _TOP_KEYS, f"{path.name}: unknown keys {set(spec) - _TOP_KEYS}"
    assert isinstance(spec.get("time_base"), float), f"{path.name}: time_base missing"
    assert isinstance(spec.get("normal"), bool), f"{path.name}: normal must be true or false"
    for item in spec.get("must", []):
        assert set(item) <= _MUST_KEYS and "kind" in item, f"{path.name}: bad must entry {item}"
        assert item["kind"] in KINDS, f"{path.name}: unknown kind {item['kind']}"
    for item in spec.get("must_not", []):
        kind = item if isinstance(item, str) else item["kind"]
        assert kind in KINDS, f"{path.name}: unknown kind {kind}"
        assert isinstance(item, str) or set(item) <= {"kind", "vrid", "vlan"}, f"{path.name}: {item}"
    must_kinds = {m["kind"] for m in spec.get("must", [])}
    global_not = {m for m in spec.get("must_not", []) if isinstance(m, str)}
    assert not must_kinds & global_not, f"{path.name}: kinds both required and forbidden"
    for group in spec.get("groups", []):
        assert set(group) <= _GROUP_KEYS and {"vrid", "family"} <= set(group), f"{path.name}: {group}"
        timeline = group.get("timeline")
        takeovers = group.get("takeovers")
        for entry in timeline or []:
            assert set(entry) <= _ENTRY_KEYS and "master" in entry, f"{path.name}: {entry}"
        if takeovers is not None:
            assert timeline is not None and len(timeline) == len(takeovers) + 1, (
                f"{path.name}: takeovers need a timeline with one more entry"
            )
            for k, t in enumerate(takeovers):
                assert set(t) <= _TAKEOVER_KEYS and {"from", "to", "cause"} <= set(t), f"{path.name}: {t}"
                assert timeline[k]["master"] == t["from"] and timeline[k + 1]["master"] == t["to"], (
                    f"{path.name}: takeover {k} does not match the timeline"
                )
    return spec


def pcap_of(expect_path: Path) -> Path:
    """The capture an expectation file describes."""
    return expect_path.with_name(expect_path.name.removesuffix(".expect.json") + ".pcap")


@functools.cache
def analysed(pcap: Path) -> dict[str, Any]:
    """``analyze([pcap]).to_dict()``, computed once per capture for all tests."""
    from vrrpscope.analysis import analyze

    result = analyze([str(pcap)]).to_dict()
    assert isinstance(result, dict)
    return result


# --------------------------------------------------------------------------- matching helpers


def _vlans(segment: str | None) -> list[int]:
    """VLAN ids named in a segment such as ``eth0/vlan30`` or ``if0/vlan100.30`` (outermost first)."""
    match = re.search(r"vlan(\d+(?:\.\d+)*)", segment or "")
    return [int(x) for x in match.group(1).split(".")] if match else []


def _vlan_ok(segment: str | None, vlan: int | None) -> bool:
    tags = _vlans(segment)
    return tags == [] if vlan is None else bool(tags) and tags[-1] == vlan


def _in_time(actual: float | None, expected: float | list[float], base: float) -> bool:
    if actual is None:
        return False
    if isinstance(expected, list):
        low, high = expected
        return base + low - TIME_TOL <= actual <= base + high + TIME_TOL
    return abs(actual - (base + expected)) <= TIME_TOL


def _cause_ok(finding: dict[str, Any], cause: str) -> bool:
    """The finding's ``cause`` field equals ``cause``; without such a field, ``cause`` appears in the
    message or in ``details.causes`` (case-insensitive)."""
    if "cause" in finding:
        return bool(finding["cause"] == cause)
    details = finding.get("details") or {}
    causes = details.get("causes", []) if isinstance(details, dict) else []
    text = " ".join([str(finding.get("message", "")), *map(str, causes)]).lower()
    return cause.lower() in text


def _finding_matches(finding: dict[str, Any], want: dict[str, Any]) -> bool:
    if finding.get("kind") != want["kind"]:
        return False
    if "vrid" in want and finding.get("vrid") != want["vrid"]:
        return False
    if "vlan" in want and not _vlan_ok(finding.get("segment"), want["vlan"]):
        return False
    if "family" in want and finding.get("family") != want["family"]:
        return False
    if "severity" in want and finding.get("severity") != want["severity"]:
        return False
    if not set(want.get("routers", [])) <= set(finding.get("routers") or []):
        return False
    message = str(finding.get("message", ""))
    if any(text not in message for text in want.get("message_contains", [])):
        return False
    return "cause" not in want or _cause_ok(finding, want["cause"])


def _frame_number(cited: Any) -> Any:
    """A cited frame: an int, or ``{"file": ..., "frame": N}`` with several input files."""
    return cited.get("frame") if isinstance(cited, dict) else cited


def _brief(finding: dict[str, Any]) -> str:
    keys = ("kind", "severity", "segment", "vrid", "routers", "start", "message")
    return json.dumps({k: finding.get(k) for k in keys})


def check_findings(spec: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Problems with the findings: required ones absent, forbidden ones present, or (normal case)
    any warning/critical finding."""
    problems: list[str] = []
    findings: list[dict[str, Any]] = result.get("findings", [])
    for want in spec.get("must", []):
        hits = [f for f in findings if _finding_matches(f, want)]
        if len(hits) < want.get("min_count", 1):
            same_kind = [_brief(f) for f in findings if f.get("kind") == want["kind"]]
            problems.append(f"missing finding {json.dumps(want)}; findings of that kind: {same_kind or 'none'}")
        cited = {_frame_number(x) for f in hits for x in f.get("frames") or []}
        if hits and not set(want.get("frames", [])) <= cited:
            problems.append(
                f"{want['kind']} findings cite frames {sorted(cited)}, expected {want['frames']} among them"
            )
    for forbid in spec.get("must_not", []):
        want = {"kind": forbid} if isinstance(forbid, str) else forbid
        for f in findings:
            if _finding_matches(f, want):
                problems.append(f"forbidden finding {json.dumps(want)} present: {_brief(f)}")
    if spec["normal"]:
        for f in findings:
            if f.get("severity") in ("warning", "critical"):
                problems.append(f"normal case but {f.get('severity')} finding: {_brief(f)}")
    return problems


def check_groups(spec: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Problems with the expected groups: missing, routers, timeline masters/times, takeovers."""
    problems: list[str] = []
    base = spec["time_base"]
    for want in spec.get("groups", []):
        label = f"group {want['family']} VRID {want['vrid']}" + (f" VLAN {want['vlan']}" if "vlan" in want else "")
        found = [
            g
            for g in result.get("groups", [])
            if g.get("vrid") == want["vrid"]
            and g.get("family") == want["family"]
            and _vlan_ok(g.get("segment"), want.get("vlan"))
        ]
        if len(found) != 1:
            segments = [(g.get("segment"), g.get("family"), g.get("vrid")) for g in result.get("groups", [])]
            problems.append(f"{label}: expected exactly one matching group, found {len(found)} among {segments}")
            continue
        group = found[0]
        if "routers" in want:
            got = sorted(r.get("ip") for r in group.get("routers", []))
            if got != sorted(want["routers"]):
                problems.append(f"{label}: routers {got}, expected {sorted(want['routers'])}")
        if "timeline" in want:
            problems += _check_timeline(label, want["timeline"], group.get("timeline", []), base)
        if "takeovers" in want:
            problems += _check_takeovers(label, want["takeovers"], group.get("takeovers", []))
    return problems


def _check_timeline(label: str, expected: list[dict[str, Any]], got: list[dict[str, Any]], base: float) -> list[str]:
    masters = [e.get("master") for e in got]
    if masters != [e["master"] for e in expected]:
        return [f"{label}: timeline masters {masters}, expected {[e['master'] for e in expected]}"]
    problems = []
    for k, (want, entry) in enumerate(zip(expected, got, strict=True)):
        for key in ("start", "end"):
            if key in want and not _in_time(entry.get(key), want[key], base):
                shown = entry.get(key)
                rel = None if shown is None else round(shown - base, 6)
                problems.append(f"{label}: timeline[{k}] {key} {rel} (relative), expected {want[key]} ±{TIME_TOL}")
        if "end_reason" in want and entry.get("end_reason") != want["end_reason"]:
            problems.append(
                f"{label}: timeline[{k}] end_reason {entry.get('end_reason')!r}, expected {want['end_reason']!r}"
            )
    return problems


def _check_takeovers(label: str, expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    brief = [(t.get("from"), t.get("to"), t.get("cause"), t.get("gap"), t.get("allowed")) for t in got]
    if len(got) != len(expected):
        return [f"{label}: {len(got)} takeovers {brief}, expected {len(expected)}"]
    problems = []
    for k, (want, t) in enumerate(zip(expected, got, strict=True)):
        for key in ("from", "to", "cause"):
            if t.get(key) != want[key]:
                problems.append(f"{label}: takeover[{k}] {key} {t.get(key)!r}, expected {want[key]!r}")
        for key, tol in (("gap", GAP_TOL), ("allowed", ALLOWED_TOL)):
            if key in want:
                value = t.get(key)
                if not isinstance(value, (int, float)) or abs(value - want[key]) > tol:
                    problems.append(f"{label}: takeover[{k}] {key} {value}, expected {want[key]} ±{tol}")
    return problems


# --------------------------------------------------------------------------- analyzer tests


@pytest.mark.parametrize("expect_path", EXPECT_FILES, ids=CASE_IDS)
def test_expectations(expect_path: Path) -> None:
    """The analysis of the capture has the required findings, none of the forbidden ones, and the
    expected groups, timelines and takeovers."""
    spec = load_expectations(expect_path)
    result = analysed(pcap_of(expect_path))
    problems = check_findings(spec, result) + check_groups(spec, result)
    assert not problems, f"{expect_path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("expect_path", EXPECT_FILES, ids=CASE_IDS)
def test_golden(expect_path: Path, update_goldens: bool) -> None:
    """The full JSON output equals the reviewed golden file ``<case>.expected.json``."""
    pcap = pcap_of(expect_path)
    relative = pcap.relative_to(ROOT).as_posix()
    document = normalise(analysed(pcap), {str(pcap): relative, str(SCENARIOS) + os.sep: ""})
    golden = expect_path.with_name(expect_path.name.removesuffix(".expect.json") + ".expected.json")
    check_golden(golden, document, update=update_goldens)


# --------------------------------------------------------------------------- capture tests


def test_every_case_is_complete() -> None:
    """Each script has its capture, its expectations and a README line, and nothing is orphaned."""
    scripts = {p.name.removesuffix(".pcap.py") for p in SCENARIOS.glob("*.pcap.py")}
    captures = {p.name.removesuffix(".pcap") for p in SCENARIOS.glob("*.pcap")}
    expectations = set(CASE_IDS)
    assert scripts, "no scenario scripts found"
    assert scripts == captures == expectations
    readme = (SCENARIOS / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^- \*\*`([a-z0-9_]+)`\*\*", readme, flags=re.M))
    assert documented == scripts


def test_captures_are_reproducible() -> None:
    """Regenerating every capture from its script gives byte-identical files."""
    proc = subprocess.run(
        [sys.executable, str(SCENARIOS / "make_all.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@dataclass(frozen=True)
class WireAdvert:
    """A VRRP advert as tshark decodes it."""

    time: float
    vlan: int | None
    vrid: int
    src: str
    priority: int
    mac: str
    version: int
    interval: float
    ttl: int
    checksum_ok: bool


def _tshark(pcap: Path, display_filter: str, fields: list[str]) -> list[list[str]]:
    cmd = [require_tool("tshark"), "-r", str(pcap), "-Y", display_filter, "-T", "fields", "-E", "separator=|"]
    for name in fields:
        cmd += ["-e", name]
    env = {**os.environ, "LC_ALL": "C"}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return [line.split("|") for line in out.splitlines()]


def _last_int(text: str) -> int | None:
    return int(text.split(",")[-1]) if text else None


_WIRE_FIELDS = [
    "frame.time_epoch", "vlan.id", "vrrp.virt_rtr_id", "ip.src", "ipv6.src", "vrrp.prio", "eth.src",
    "vrrp.version", "vrrp.adver_int", "vrrp.short_adver_int", "ip.ttl", "ipv6.hlim", "vrrp.checksum.status",
    "_ws.malformed", "arp.opcode", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "icmpv6.type",
    "icmpv6.nd.na.flag.s",
]  # fmt: skip


@functools.cache
def wire(pcap: Path) -> tuple[tuple[WireAdvert, ...], tuple[tuple[float, str], ...]]:
    """One tshark pass over ``pcap``: its decodable VRRP adverts (ICMP-quoted copies excluded), and
    (time, source MAC) of every gratuitous ARP request and unsolicited NA (S=0)."""
    display_filter = "(vrrp && !icmp && !icmpv6) || arp || icmpv6.type == 136"
    adverts: list[WireAdvert] = []
    announcements: list[tuple[float, str]] = []
    for row in _tshark(pcap, display_filter, _WIRE_FIELDS):
        f = dict(zip(_WIRE_FIELDS, row, strict=True))
        when, mac = float(f["frame.time_epoch"]), f["eth.src"]
        if f["arp.opcode"] == "1" and f["arp.src.proto_ipv4"] == f["arp.dst.proto_ipv4"] != "":
            announcements.append((when, mac))
        elif f["icmpv6.type"] == "136" and f["icmpv6.nd.na.flag.s"] in ("0", "False"):
            announcements.append((when, mac))
        elif f["vrrp.prio"] and not f["_ws.malformed"]:
            version = int(f["vrrp.version"])
            interval = float(f["vrrp.adver_int"]) if version == 2 else int(f["vrrp.short_adver_int"]) / 100.0
            adverts.append(
                WireAdvert(
                    time=when,
                    vlan=_last_int(f["vlan.id"]),
                    vrid=int(f["vrrp.virt_rtr_id"]),
                    src=f["ip.src"] or f["ipv6.src"],
                    priority=int(f["vrrp.prio"]),
                    mac=mac,
                    version=version,
                    interval=interval,
                    ttl=int((f["ip.ttl"] or f["ipv6.hlim"]).split(",")[0]),
                    checksum_ok=f["vrrp.checksum.status"] == "1",
                )
            )
    return tuple(adverts), tuple(announcements)


def _skew(priority: int, version: int, interval: float) -> float:
    """Skew_Time (RFC 3768 §6.1 for v2, RFC 9568 §6.1 for v3)."""
    return (256 - priority) / 256.0 if version == 2 else (256 - priority) * interval / 256.0


def _group_adverts(adverts: tuple[WireAdvert, ...], group: dict[str, Any]) -> list[WireAdvert]:
    family = group["family"]
    return [
        a
        for a in adverts
        if a.vrid == group["vrid"] and a.vlan == group.get("vlan") and (":" in a.src) == (family == "ipv6")
    ]


@pytest.mark.tshark
@pytest.mark.parametrize("expect_path", EXPECT_FILES, ids=CASE_IDS)
def test_expectations_agree_with_capture(expect_path: Path) -> None:
    """The hand-written timelines and takeovers describe what is on the wire (tshark), ``allowed``
    is the RFC formula, every takeover (unless the case is about missing GARPs) is followed by a
    GARP/NA burst at once and another 5 s later, and normal cases have TTL 255 and good checksums."""
    spec = load_expectations(expect_path)
    pcap = pcap_of(expect_path)
    base = spec["time_base"]
    adverts, announcements = wire(pcap)
    garp_expected = "missing_garp" not in {m["kind"] for m in spec.get("must", [])}
    for group in spec.get("groups", []):
        mine = _group_adverts(adverts, group)
        assert mine, f"no adverts on the wire for {group}"
        if "routers" in group:
            assert {a.src for a in mine} == set(group["routers"]), f"routers on the wire: {group}"
        timeline = group.get("timeline", [])
        previous = float("-inf")
        firsts = []
        for entry in timeline:
            first = next(a for a in mine if a.src == entry["master"] and a.priority > 0 and a.time >= previous)
            start = entry.get("start")
            if start is not None:
                assert _in_time(first.time, start, base), f"{entry['master']} first advert at {first.time - base}"
            firsts.append(first)
            previous = first.time
        for k, takeover in enumerate(group.get("takeovers", [])):
            new = firsts[k + 1]
            old = [a for a in mine if a.src == takeover["from"] and a.time < new.time][-1]
            gap = new.time - old.time
            if "gap" in takeover:
                assert abs(gap - takeover["gap"]) <= ORACLE_GAP_TOL, f"takeover {k}: gap on the wire {gap:.6f}"
            if "allowed" in takeover:
                skew = _skew(new.priority, new.version, old.interval)
                formula = {"timeout": 3 * old.interval + skew, "resign": skew}[takeover["cause"]]
                assert abs(takeover["allowed"] - formula) <= 1e-6, f"takeover {k}: formula gives {formula}"
            if garp_expected:
                at_once = [t for t, m in announcements if m == new.mac and 0 <= t - new.time <= 0.01]
                later = [t for t, m in announcements if m == new.mac and abs(t - new.time - 5.0) <= 0.01]
                assert len(at_once) >= 5 and len(later) >= 5, f"takeover {k}: GARP bursts {at_once} / {later}"
    if spec["normal"]:
        bad = [a for a in adverts if a.ttl != 255 or not a.checksum_ok]
        assert not bad, f"normal case with bad TTL/checksum adverts: {bad[:3]}"
