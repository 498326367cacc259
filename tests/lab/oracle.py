"""Compare an analysis (DESIGN.md JSON contract) with a lab run's ground truth.

Used by ``tests/e2e`` on fresh lab runs and on the committed ``samples/real`` cases. Every function
returns a list of human-readable problems (empty = agreement), so a failing test says exactly what
disagreed and by how much. Oracles: keepalived's log (state transitions), the injected faults, and
tshark's decoding of the same capture (advert times, counts, gaps).

Tolerances: mastership starts and takeover times within :data:`START_TOLERANCE_S` of keepalived's
log / the wire (the brief's 100 ms); gaps within :data:`GAP_TOLERANCE_S` of the tshark-measured gap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from .verify import WireAdvert

#: A mastership interval must start within this many seconds of the MASTER log line.
START_TOLERANCE_S = 0.100
#: A takeover gap must equal the gap tshark measures to within this many seconds.
GAP_TOLERANCE_S = 0.020
#: Severities that count as an alarm.
ALARM_SEVERITIES = ("warning", "critical")


def router_by_address(truth: dict[str, Any]) -> dict[str, str]:
    """Address (IPv4, IPv6 global, IPv6 link-local) -> router name."""
    return {addr: r["name"] for r in truth["routers"] for addr in r["addresses"]}


def instance_groups(truth: dict[str, Any]) -> dict[tuple[str, str], tuple[int, str]]:
    """(router, instance) -> (vrid, family)."""
    return {(r["name"], i["name"]): (i["vrid"], i["family"]) for r in truth["routers"] for i in r["instances"]}


def groups_for(analysis: dict[str, Any], vrid: int, family: str) -> list[dict[str, Any]]:
    """Every analysis group with this VRID and family (one per segment)."""
    return [g for g in analysis["groups"] if g["vrid"] == vrid and g["family"] == family]


def _timeline(analysis: dict[str, Any], vrid: int, family: str) -> list[dict[str, Any]]:
    return [entry for g in groups_for(analysis, vrid, family) for entry in g["timeline"]]


def _takeovers(analysis: dict[str, Any], vrid: int, family: str) -> list[dict[str, Any]]:
    return [tk for g in groups_for(analysis, vrid, family) for tk in g["takeovers"]]


def check_groups(truth: dict[str, Any], analysis: dict[str, Any]) -> list[str]:
    """Every configured (VRID, family) that advertised is one group per segment, never merged."""
    problems = []
    wanted = {
        (m["vrid"], m["family"]) for m in truth.get("wire_check", {}).get("masters", []) if m["wire_time"] is not None
    }
    for vrid, family in sorted(wanted):
        found = groups_for(analysis, vrid, family)
        if not found:
            problems.append(f"no group for VRID {vrid} {family}")
        elif len({g["segment"] for g in found}) != len(found):
            problems.append(f"VRID {vrid} {family} split into {len(found)} groups on one segment")
    return problems


def check_masterships(truth: dict[str, Any], analysis: dict[str, Any]) -> list[str]:
    """Each MASTER log line seen on the wire opens a timeline interval of that router within 100 ms.

    In scenarios that are not ``normal`` (two masters at once), a concurrent master may instead be
    reported only by a ``split_brain`` or ``arp_conflict`` finding that names the router and starts
    within 100 ms of its MASTER log line (a "hidden" master advertises only once or twice, PROTOCOL.md
    item 7). For ``normal`` scenarios also the converse: every interval starts at a MASTER log line
    of its router (no phantom masters).
    """
    problems = []
    owner = router_by_address(truth)
    for m in truth["wire_check"]["masters"]:
        if m["wire_time"] is None:
            continue
        timeline = _timeline(analysis, m["vrid"], m["family"])
        starts = [e["start"] for e in timeline if owner.get(e["master"]) == m["router"]]
        if not truth["normal"]:
            starts += [
                f["start"]
                for f in analysis["findings"]
                if f["kind"] in ("split_brain", "arp_conflict")
                and any(owner.get(r) == m["router"] for r in f["routers"])
            ]
        best = min((abs(s - m["log_time"]) for s in starts), default=None)
        if best is None or best > START_TOLERANCE_S:
            problems.append(
                f"{m['router']} ({m['instance']}) entered MASTER at log {m['log_time']:.3f}; "
                "closest timeline start of that router: " + ("none" if best is None else f"{best * 1000:.1f} ms away")
            )
    if truth["normal"]:
        log_masters = [(t["router"], t["time"]) for t in truth["transitions"] if t["state"] == "MASTER"]
        groups = instance_groups(truth)
        for (router, inst), (vrid, family) in groups.items():
            for entry in _timeline(analysis, vrid, family):
                if owner.get(entry["master"]) != router:
                    continue
                near = [t for r, t in log_masters if r == router and abs(t - entry["start"]) <= START_TOLERANCE_S]
                if not near:
                    problems.append(
                        f"timeline says {entry['master']} ({router}) became master of VRID {vrid} "
                        f"{family} at {entry['start']:.3f}, keepalived logged no MASTER transition then ({inst})"
                    )
    return problems


def check_takeovers(truth: dict[str, Any], analysis: dict[str, Any]) -> list[str]:
    """Each designed takeover is found with the right routers, time, gap (vs the wire) and cause."""
    problems = []
    owner = router_by_address(truth)
    for tk in truth["takeovers"]:
        if tk.get("wire_first_new") is None:
            continue
        cands = [
            a
            for a in _takeovers(analysis, tk["vrid"], tk["family"])
            if owner.get(a["from"]) == tk["from"]
            and owner.get(a["to"]) == tk["to"]
            and abs(a["at"] - tk["wire_first_new"]) <= START_TOLERANCE_S
        ]
        label = f"takeover {tk['from']}->{tk['to']} ({tk['cause']}) at wire {tk['wire_first_new']:.3f}"
        if not cands:
            problems.append(f"{label}: not in the analysis")
            continue
        got = cands[0]
        if got["cause"] != tk["cause"]:
            problems.append(f"{label}: cause {got['cause']!r}, expected {tk['cause']!r}")
        if "wire_gap" in tk and abs(float(got["gap"]) - tk["wire_gap"]) > GAP_TOLERANCE_S:
            problems.append(f"{label}: gap {got['gap']:.4f} s, tshark measures {tk['wire_gap']:.4f} s")
        rfc = tk.get("rfc_allowed")
        if rfc is not None and got.get("allowed") is not None:
            allowed = float(got["allowed"])
            # the analysis may add jitter tolerance, but must not allow less than the RFC or wildly more
            if allowed < rfc - 0.005 or allowed > rfc + max(0.5, 0.15 * rfc):
                problems.append(f"{label}: allowed {allowed:.4f} s, RFC formula gives {rfc:.4f} s")
    if truth["normal"]:
        for vrid, family in {(tk["vrid"], tk["family"]) for tk in truth["takeovers"]}:
            want = sum(1 for tk in truth["takeovers"] if (tk["vrid"], tk["family"]) == (vrid, family))
            got_n = len(_takeovers(analysis, vrid, family))
            if got_n != want:
                problems.append(f"VRID {vrid} {family}: {got_n} takeovers in the analysis, the lab caused {want}")
    return problems


def check_findings(truth: dict[str, Any], analysis: dict[str, Any]) -> list[str]:
    """Expected finding kinds present; no warning/critical kinds beyond expected + tolerated."""
    problems = []
    kinds = Counter(f["kind"] for f in analysis["findings"])
    for kind in truth["expected_findings"]:
        if kinds[kind] == 0:
            problems.append(f"expected a {kind!r} finding; got kinds {sorted(kinds)}")
    allowed = set(truth["expected_findings"]) | set(truth["tolerated_findings"])
    for f in analysis["findings"]:
        if f["severity"] in ALARM_SEVERITIES and f["kind"] not in allowed:
            problems.append(f"unexpected {f['severity']} finding {f['kind']!r}: {f['message']}")
    return problems


def check_advert_counts(truth: dict[str, Any], analysis: dict[str, Any], adverts: Sequence[WireAdvert]) -> list[str]:
    """routers[].adverts equals tshark's count of the router's adverts in the group (no ICMP quotes)."""
    problems = []
    wire = Counter((a.src, a.vrid, a.family) for a in adverts)
    for g in analysis["groups"]:
        for r in g["routers"]:
            expect = wire.get((r["ip"], g["vrid"], g["family"]), 0)
            if r["adverts"] != expect:
                problems.append(
                    f"VRID {g['vrid']} {g['family']} router {r['ip']}: analysis counts {r['adverts']} "
                    "adverts, "
                    f"tshark {expect}"
                )
    seen = {(r["ip"], g["vrid"], g["family"]) for g in analysis["groups"] for r in g["routers"]}
    for key, n in wire.items():
        if key not in seen:
            problems.append(f"{n} adverts from {key[0]} VRID {key[1]} {key[2]} missing from the analysis")
    return problems


def check_all(
    truth: dict[str, Any],
    analysis: dict[str, Any],
    adverts: Sequence[WireAdvert] | None = None,
    *,
    skip: Iterable[str] = (),
) -> list[str]:
    """Run every generic check (``skip`` names: groups, masterships, takeovers, findings, adverts)."""
    skipped = set(skip)
    problems: list[str] = []
    if "groups" not in skipped:
        problems += check_groups(truth, analysis)
    if "masterships" not in skipped:
        problems += check_masterships(truth, analysis)
    if "takeovers" not in skipped:
        problems += check_takeovers(truth, analysis)
    if "findings" not in skipped:
        problems += check_findings(truth, analysis)
    if adverts is not None and "adverts" not in skipped:
        problems += check_advert_counts(truth, analysis, adverts)
    return problems
