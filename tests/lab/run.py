"""Run a scenario end to end: lab up, captures on, faults, captures off, ground truth, verification.

Outputs (in ``out_dir``):

* the capture file(s) named by the scenario's :class:`~tests.lab.capture.CaptureSpec` list
  (``capture.pcap`` first);
* ``rN.conf`` — the keepalived configuration of each router (the last one used);
* ``rN.log`` — keepalived's console output, each line prefixed by its arrival time (epoch s);
* ``truth.json`` — routers, instances, injected faults, state transitions and other log events,
  the designed takeovers paired with log and wire times, the expected finding kinds, and the
  tshark-measured log-vs-wire agreement;
* ``README.md`` — the same, for humans.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .capture import CaptureSpec
from .frr import frr_available
from .keepalived import Instance
from .lab import Lab
from .netns import LabError, LabUnavailable
from .readme import render_readme
from .scenarios import SCENARIOS, Scenario
from .truth import LogEvent, format_log, mastership, parse_lines
from .verify import (
    Announcement,
    MasterMatch,
    WireAdvert,
    first_frame_time,
    master_down_interval,
    match_masters,
    read_adverts,
    read_announcements,
    skew_time,
)

#: Log-vs-wire agreement the lab itself insists on (the brief's 100 ms).
AGREEMENT_LIMIT_MS = 100.0
#: keepalived prefixes configuration complaints with ``(FILE: Line N)``.
CONFIG_WARNING_RE = re.compile(r"\(\S+: Line \d+\)")


@dataclass
class RunResult:
    """What a scenario run produced."""

    scenario: Scenario
    out_dir: Path
    truth: dict[str, Any]

    @property
    def capture(self) -> Path:
        """The primary capture file."""
        return self.out_dir / str(self.truth["primary_capture"])

    @property
    def problems(self) -> list[str]:
        """Self-check failures (the scenario did not behave as designed)."""
        return list(self.truth["problems"])


def keepalived_version(binary: str = "keepalived") -> str:
    """``2.2.7`` from ``keepalived -v``."""
    proc = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    first = (proc.stderr or proc.stdout).splitlines()[0] if (proc.stderr or proc.stdout) else ""
    parts = first.split()
    return parts[1].lstrip("v") if len(parts) > 1 else "unknown"


def run_scenario(
    scenario: str | Scenario,
    out_dir: Path,
    *,
    captures: Sequence[CaptureSpec] | None = None,
    verify: bool = True,
) -> RunResult:
    """Run ``scenario`` and write its capture, configs, logs, truth.json and README into ``out_dir``.

    Raises :class:`~tests.lab.netns.LabError` if the lab cannot be built or a wait times out (the
    logs gathered so far are still written for diagnosis).
    """
    sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    if "frr" in sc.needs and not frr_available():
        raise LabUnavailable(f"scenario {sc.name} needs FRR (zebra, vrrpd, user frr), not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = list(captures or sc.captures)
    with Lab(routers=sc.routers, ipv6=sc.ipv6, vlan=sc.vlan) as lab:
        caps = [lab.start_capture(spec, out_dir) for spec in specs]
        started = min(c.started_at for c in caps)
        error: BaseException | None = None
        try:
            sc.body(lab)
        except BaseException as exc:
            error = exc
        lab.stop_captures()
        ended = time.time()
        tx = lab.observer_tx_packets()
        _write_router_files(lab, out_dir)
        truth = _base_truth(sc, lab, caps, specs, started, ended, tx)
        if error is not None:
            truth["problems"] = [f"scenario raised {type(error).__name__}: {error}"]
            (out_dir / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
            raise error
    if verify:
        _verify(sc, truth, out_dir)
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    (out_dir / "README.md").write_text(render_readme(truth))
    return RunResult(sc, out_dir, truth)


def _write_router_files(lab: Lab, out_dir: Path) -> None:
    for name, router in lab.routers.items():
        if router.config is not None:
            (out_dir / f"{name}.conf").write_text(router.config.render())
        if router.frr is not None:
            (out_dir / f"{name}-vrrpd.conf").write_text(router.frr.config_text)
        (out_dir / f"{name}.log").write_text(format_log(lab.logbook.lines(name)))


def _instances(lab: Lab) -> dict[str, list[Instance]]:
    out: dict[str, list[Instance]] = {}
    for name, router in lab.routers.items():
        seen: dict[str, Instance] = {}
        for cfg in router.config_history:
            for inst in cfg.instances:
                seen[inst.name] = inst
        if router.frr is not None:
            for inst in router.frr.instances:
                seen[inst.name] = inst
        out[name] = list(seen.values())
    return out


def _base_truth(
    sc: Scenario, lab: Lab, caps: list[Any], specs: list[CaptureSpec], started: float, ended: float, tx: int
) -> dict[str, Any]:
    events = parse_lines(lab.logbook.lines())
    instances = _instances(lab)
    routers = []
    for name, router in lab.routers.items():
        entry: dict[str, Any] = router.to_dict()
        entry.pop("namespace")
        entry["addresses"] = router.addresses
        entry["implementation"] = "frr" if router.frr is not None else "keepalived"
        if router.frr is not None:
            entry["config"] = f"{name}-vrrpd.conf"
        else:
            entry["config"] = f"{name}.conf" if router.config is not None else None
        entry["log"] = f"{name}.log"
        entry["instances"] = [inst.to_dict() for inst in instances[name]]
        routers.append(entry)
    truth: dict[str, Any] = {
        "generator": "tests/lab (vrrpscope) — real keepalived in Linux network namespaces",
        "scenario": sc.name,
        "title": sc.title,
        "description": sc.description,
        "keepalived_version": keepalived_version(lab.keepalived_binary),
        "kernel": platform.release(),
        "started": round(started, 6),
        "ended": round(ended, 6),
        "primary_capture": specs[0].file,
        "captures": [
            {
                **spec.to_dict(),
                "start": round(cap.started_at, 6),
                "stop": round(cap.stopped_at, 6),
                "stats": cap.stats(),
            }
            for spec, cap in zip(specs, caps, strict=True)
        ],
        "segment": {"bridge": "hub (ageing_time 0, stp off, multicast_snooping 0)", "vlan": list(sc.vlan)},
        "routers": routers,
        "faults": [f.to_dict() for f in lab.faults],
        "transitions": [_transition(ev) for ev in events if ev.kind == "state"],
        "events": [ev.to_dict() for ev in events if ev.kind not in ("garp", "unsolicited_na")],
        "log_counts": _log_counts(events),
        "mastership": [],
        "takeovers": [],
        "expected_findings": list(sc.expected_findings),
        "tolerated_findings": list(sc.tolerated_findings),
        "normal": sc.normal,
        "observer_tx_packets": tx,
        "problems": [] if tx == 0 else [f"observer transmitted {tx} packets"],
    }
    truth["mastership"] = mastership(truth["transitions"], truth["faults"], ended)
    for line in lab.logbook.lines():
        if CONFIG_WARNING_RE.search(line.message):
            truth["problems"].append(f"keepalived config warning on {line.router}: {line.message}")
    return truth


def _transition(ev: LogEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "time": round(ev.time, 6),
        "router": ev.router,
        "instance": ev.instance,
        "state": ev.state,
        "line": ev.line,
    }
    if "reason" in ev.fields:
        out["reason"] = ev.fields["reason"]
    return out


def _log_counts(events: list[LogEvent]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for ev in events:
        per = counts.setdefault(ev.router, {})
        per[ev.kind] = per.get(ev.kind, 0) + 1
    return counts


def _events_from_truth(truth: dict[str, Any]) -> list[LogEvent]:
    return [
        LogEvent(t["time"], t["router"], "state", t["instance"], {"state": t["state"]}) for t in truth["transitions"]
    ]


def _verify(sc: Scenario, truth: dict[str, Any], out_dir: Path) -> None:
    capture = out_dir / truth["primary_capture"]
    adverts = read_adverts(capture)
    truth["capture_first_frame"] = first_frame_time(capture)
    announcements = read_announcements(capture)
    addresses = {r["name"]: r["addresses"] for r in truth["routers"]}
    inst_key = {(r["name"], i["name"]): (i["vrid"], i["family"]) for r in truth["routers"] for i in r["instances"]}
    matches = match_masters(_events_from_truth(truth), adverts, addresses, inst_key)
    deltas = [abs(m.delta_ms) for m in matches if m.delta_ms is not None]
    problems: list[str] = truth["problems"]
    for m in matches:
        if m.delta_ms is None:
            if sc.normal:
                problems.append(f"{m.router} {m.instance} MASTER at {m.log_time:.3f}: no advert on the wire")
        elif abs(m.delta_ms) > AGREEMENT_LIMIT_MS:
            problems.append(f"{m.router} {m.instance} MASTER: log and wire differ by {m.delta_ms:.1f} ms")
    garps = _garp_bursts(truth, matches, announcements)
    truth["wire_check"] = {
        "tool": "tshark " + _tshark_version(),
        "adverts": len(adverts),
        "announcements": len(announcements),
        "masters": [{**m.to_dict(), **garps.get(id(m), {})} for m in matches],
        "matched": len(deltas),
        "unmatched": len(matches) - len(deltas),
        "max_abs_delta_ms": round(max(deltas), 3) if deltas else None,
        "mean_abs_delta_ms": round(sum(deltas) / len(deltas), 3) if deltas else None,
        "limit_ms": AGREEMENT_LIMIT_MS,
    }
    truth["takeovers"] = _pair_takeovers(sc, truth, matches, adverts, problems)


def _tshark_version() -> str:
    proc = subprocess.run(["tshark", "-v"], capture_output=True, text=True, check=False)
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    return first.split()[2] if len(first.split()) > 2 else "unknown"


def _garp_bursts(
    truth: dict[str, Any], matches: list[MasterMatch], announcements: list[Announcement]
) -> dict[int, dict[str, Any]]:
    """Announcements of the instance's VIPs in the first second and around +5 s after each takeover."""
    vips = {(r["name"], i["name"]): set(i["vips"]) for r in truth["routers"] for i in r["instances"]}
    macs: dict[tuple[str, str], set[str]] = {}
    for r in truth["routers"]:
        for i in r["instances"]:
            own = {r["mac"]}
            if i["use_vmac"] or r.get("implementation") == "frr":
                own.add(f"00:00:5e:00:0{1 if i['family'] == 'ipv4' else 2}:{i['vrid']:02x}")
            macs[(r["name"], i["name"])] = own
    out: dict[int, dict[str, Any]] = {}
    for m in matches:
        if m.wire_time is None:
            continue
        mine = vips.get((m.router, m.instance), set())
        own = macs.get((m.router, m.instance), set())
        rel = [a.time - m.wire_time for a in announcements if a.address in mine and a.mac in own]
        out[id(m)] = {
            "announcements_0_1s": sum(1 for r in rel if -0.05 <= r <= 1.0),
            "announcements_4_6s": sum(1 for r in rel if 4.0 <= r <= 6.0),
        }
    return out


def _pair_takeovers(
    sc: Scenario,
    truth: dict[str, Any],
    matches: list[MasterMatch],
    adverts: list[WireAdvert],
    problems: list[str],
) -> list[dict[str, Any]]:
    """Pair each designed takeover with the new master's MASTER transition and the wire."""
    routers = {r["name"]: r for r in truth["routers"]}
    inst = {(r["name"], i["name"]): i for r in truth["routers"] for i in r["instances"]}
    owner = {a: r["name"] for r in truth["routers"] for a in r["addresses"]}
    used: set[int] = set()
    out = []
    for old, new, cause in sc.takeovers:
        chosen = None
        for idx, m in enumerate(matches):
            if idx in used or m.router != new:
                continue
            group = (m.vrid, m.family)
            earlier_old = any(
                o.router == old and (o.vrid, o.family) == group and o.log_time < m.log_time for o in matches
            )
            if earlier_old:
                chosen = idx
                break
        if chosen is None:
            problems.append(f"designed takeover {old}->{new} ({cause}) did not happen")
            continue
        used.add(chosen)
        m = matches[chosen]
        new_inst = inst[(new, m.instance)]
        old_inst = next(
            (i for (r, _), i in inst.items() if r == old and i["vrid"] == m.vrid and i["family"] == m.family),
            None,
        )
        entry: dict[str, Any] = {
            "from": old,
            "to": new,
            "cause": cause,
            "instance": m.instance,
            "vrid": m.vrid,
            "family": m.family,
            "log_time": round(m.log_time, 6),
            "wire_first_new": None if m.wire_time is None else round(m.wire_time, 6),
        }
        last_old = None
        if m.wire_time is not None:
            prior = [
                a
                for a in adverts
                if a.vrid == m.vrid and a.family == m.family and a.time < m.wire_time and owner.get(a.src) == old
            ]
            if prior:
                last_old = prior[-1]
        if last_old is not None and m.wire_time is not None:
            entry["wire_last_old"] = round(last_old.time, 6)
            entry["wire_last_old_priority"] = last_old.priority
            entry["wire_gap"] = round(m.wire_time - last_old.time, 6)
        else:
            problems.append(f"takeover {old}->{new}: previous master's last advert not on the wire")
        allowed = _rfc_allowed(cause, new_inst, old_inst)
        entry["rfc_allowed"] = None if allowed is None else round(allowed, 6)
        entry["from_addresses"] = routers[old]["addresses"]
        entry["to_addresses"] = routers[new]["addresses"]
        out.append(entry)
    return out


def _rfc_allowed(cause: str, new: dict[str, Any], old: dict[str, Any] | None) -> float | None:
    """Expected gap: Master_Down_Interval for a timeout, Skew_Time after a resign, None for preempt."""
    version = int(new["version"])
    # v3 backups time out on the master's interval; v2 on their own configured one.
    interval = float(old["advert_int"]) if (version == 3 and old is not None) else float(new["advert_int"])
    if cause == "timeout":
        return master_down_interval(int(new["priority"]), interval, version)
    if cause == "resign":
        return skew_time(int(new["priority"]), interval, version)
    return None


def run_jobs(jobs: Mapping[str, tuple[str, Path]], *, parallel: int = 4) -> dict[str, RunResult | BaseException]:
    """Run ``{label: (scenario, out_dir)}`` in threads (each scenario has its own namespaces).

    Returns ``{label: RunResult or the exception}``. On Ctrl-C every running scenario is aborted
    (and its namespaces removed) before the interrupt propagates.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .netns import abort_all

    results: dict[str, RunResult | BaseException] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="scenario") as pool:
        futures = {label: pool.submit(run_scenario, name, out) for label, (name, out) in jobs.items()}
        try:
            for label, fut in futures.items():
                try:
                    results[label] = fut.result()
                except Exception as exc:
                    results[label] = exc
        except BaseException:
            abort_all()
            raise
    return results


def run_many(
    names: Sequence[str], out_root: Path, *, parallel: int = 4, flat: bool = False
) -> dict[str, RunResult | BaseException]:
    """Run scenarios ``names`` into ``out_root/<name>`` (or straight into ``out_root`` if ``flat``)."""
    return run_jobs({n: (n, out_root if flat else out_root / n) for n in names}, parallel=parallel)


__all__ = ["AGREEMENT_LIMIT_MS", "LabError", "RunResult", "run_jobs", "run_many", "run_scenario"]
