"""Soak test of ``vrrpscope watch``: hours of simulated traffic replayed through the live loop,
memory measured along the way.

    .venv/bin/python bench/soak.py --hours 8 --groups 50
    .venv/bin/python bench/soak.py --hours 2 --tracemalloc     # where the growth is allocated
    .venv/bin/python bench/soak.py --hours 2 --vrrp-only       # a capture filtered on vrrp
    .venv/bin/python bench/soak.py --hours 5 --groups 5 --mix flap=1 --flap-cycles 350 350
    .venv/bin/python bench/soak.py --hours 0.5 --dump soak.pcap  # the traffic, for Wireshark

The traffic (:mod:`soak_traffic`: VRRPv2/v3, IPv4/IPv6, failovers, resigns, preemptions, split
brains, auth mismatches, outages, GARP/NA bursts, host ARP/ND) is generated on the fly with
synthetic timestamps and fed through :class:`vrrpscope.live.session.WatchSession` by a
:class:`SoakSource` (a :class:`~vrrpscope.live.source.FrameSource` on a virtual clock, no socket, no
sleeping), so every frame takes the path of a captured frame in ``watch``: numbering, dissection,
segment naming, the analysis engine, master-change and finding events to the sinks (the JSON-lines
sink writing to ``/dev/null`` and the Prometheus metrics sink, as ``watch --format json
--metrics-port``), ticks every 0.25 s of capture time and stats every 5 s.

At checkpoints (5 % of the capture time = after warm-up, then 25/50/75/100 %, and after the final
``finish``) it records RSS (``VmRSS`` of ``/proc/self/status`` after a full garbage collection) and a
census of every structure that could grow: the reconstructor's per-group lists, the ARP/ND
ownership table, the finding store, the live finding tracker, each detector's containers, the
metrics registry — and (unless ``--no-sizes``) the deep size in bytes of each structure, walked in a
forked child so the walk leaves this process's heap alone. It prints a table, the structures that
grew between the warm-up checkpoint and the end (elements and bytes per hour of capture), checks
every master change against the schedule and every finding against the episodes, and appends one
JSON line to ``bench/results/soak.jsonl``. Exit status 1 when a check failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
import types
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dissectors.packet  # noqa: E402
from bench.soak_traffic import IFACE, Expected, SoakConfig, Traffic, write_pcap  # noqa: E402
from vrrpscope.analysis import Analysis  # noqa: E402
from vrrpscope.findings import Finding  # noqa: E402
from vrrpscope.live.events import FindingEvent, JsonLinesSink, MasterChange, Sink  # noqa: E402
from vrrpscope.live.session import FINDING_RETENTION_S, WatchSession  # noqa: E402
from vrrpscope.live.source import CapturedFrame, InterfaceInfo, InterfaceStats  # noqa: E402

RESULTS = HERE / "results" / "soak.jsonl"
#: Checkpoints as fractions of the capture time (the first one is the warm-up reference).
CHECKPOINTS = (0.05, 0.25, 0.5, 0.75, 1.0)


# ----------------------------------------------------------------------------- the source


class SoakSource:
    """A :class:`~vrrpscope.live.source.FrameSource` playing generated frames on a virtual clock.

    ``poll(timeout)`` returns every frame up to ``now + timeout`` and moves the clock there (a live
    capture returns what arrived while it waited), as fast as the loop asks; after the last frame
    the clock runs ``tail`` seconds more, then the source is exhausted.
    """

    def __init__(self, traffic: Traffic, *, tail: float = 1.0, vrrp_only: bool = False) -> None:
        self.traffic = traffic
        self.tail = tail
        #: Deliver VRRP adverts only, as a capture filtered on ``vrrp`` would (watch -f vrrp).
        self.vrrp_only = vrrp_only
        self.exhausted = False
        self._frames: Iterator[tuple[int, int, bytes]] | None = None
        self._next: tuple[int, int, bytes] | None = None
        self._clock = traffic.start_s
        self._info = InterfaceInfo(IFACE, 1, index=0)
        self._stats = InterfaceStats(IFACE)

    @property
    def interfaces(self) -> list[InterfaceInfo]:
        """The one trunk interface (Ethernet, VLAN tags in the frames)."""
        return [self._info]

    def open(self) -> None:
        """Start the generator; the clock is at the capture start."""
        self._frames = self.traffic.frames()
        self._next = next(self._frames, None)
        self._clock = self.traffic.start_s

    def now(self) -> float:
        """The virtual clock (epoch seconds)."""
        return self._clock

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """The frames due within ``timeout`` of the virtual clock; the clock moves past them."""
        horizon = self._clock + max(0.0, timeout)
        limit = int(horizon * 1e9)
        out: list[CapturedFrame] = []
        nxt = self._next
        frames = self._frames
        assert frames is not None
        only = self.vrrp_only
        while nxt is not None and nxt[0] <= limit:
            t_ns, _stream, data = nxt
            # one 802.1Q tag: ethertype at 16, IPv4 protocol at 27, IPv6 next header at 24
            if not only or (data[27 if data[16:18] == b"\x08\x00" else 24] == 112 and data[16:18] != b"\x08\x06"):
                out.append(CapturedFrame(0, t_ns, data, len(data), time=t_ns / 1e9))
            nxt = next(frames, None)
        self._next = nxt
        if out:
            self._stats.packets += len(out)
            self._stats.last_packet = out[-1].time
        if nxt is None:
            end = self.traffic.end_s + self.tail
            self._clock = max(self._clock, min(horizon, end))
            if self._clock >= end:
                self.exhausted = True
        else:
            self._clock = horizon
        return out

    def stats(self) -> list[InterfaceStats]:
        """Frames delivered (no kernel, no drops)."""
        return [self._stats]

    def close(self) -> None:
        """Nothing to release."""
        self.exhausted = True


# ----------------------------------------------------------------------------- measuring


def rss_mb() -> float:
    """Resident set size of this process (MB) from ``/proc/self/status``."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _items(value: Any, depth: int = 0) -> int:
    """Elements held by a container, counting nested containers and detector records (episodes)."""
    if depth > 4:
        return 0
    if isinstance(value, dict):
        return len(value) + sum(_items(v, depth + 1) for v in value.values())
    if isinstance(value, (list, deque, set, frozenset)):
        n = len(value)
        first = next(iter(value), None)
        if isinstance(first, (dict, list, deque, set)) or _is_detector_record(first):
            n += sum(_items(v, depth + 1) for v in value)
        return n
    if _is_detector_record(value):
        return sum(_items(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return 0


def _is_detector_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and type(value).__module__.startswith("vrrpscope.detectors")


def census(session: WatchSession) -> dict[str, int]:
    """Sizes of everything in the session that could grow with time (element counts)."""
    recon = session.engine.recon
    groups = list(recon.groups.values())
    stints = [st for g in groups for st in g.timeline]
    c: dict[str, int] = {
        "groups": len(groups),
        "routers": sum(len(g.routers) for g in groups),
        "claims": sum(len(g.claims) for g in groups),
        "timeline": len(stints),
        "takeovers": sum(len(g.takeovers) for g in groups),
        "split_brains": sum(len(g.split_brains) for g in groups),
        "priority_changes": sum(len(g.priority_changes) for g in groups),
        "resigns": sum(len(g.resigns) for g in groups),
        "group_garps": sum(len(g.garps) for g in groups),
        "group_garps_dropped": sum(g.garps_dropped for g in groups),
        "history_dropped": sum(g.history_dropped for g in groups),
        "recent_transient": sum(len(g.recent_transient) for g in groups),
        "stint_garp_vips": sum(len(st.garps) for st in stints),
        "stint_garp_bursts": sum(len(gs.bursts) for st in stints for gs in st.garps.values()),
        "advert_time_samples": sum(len(r.advert_times.values) for g in groups for r in g.routers.values()),
        "router_counters": sum(
            len(r.macs) + len(r.intervals) + len(r.auth) + len(r.vip_sets) + len(r.destinations) + len(r.ttls)
            for g in groups
            for r in g.routers.values()
        ),
        "owners_current": len(recon.owners.current),
        "owner_intervals": sum(len(h) for h in recon.owners.history.values()),
        "owner_dropped": recon.owners.dropped,
        "vip_index": len(recon._vip_index),
        "mac_index": len(recon._mac_index),
        "recent_garps": sum(len(d) for d in recon._recent_garps.values()),
        "dedup_recent": sum(len(d) for d in recon._dedup._recent.values()),
        "findings_store": len(session.engine.store),
        "finding_tracker": len(session.tracker),
        "session_adverts": len(session.adverts),
        "session_activity": len(session.activity),
        "input_problems": len(session.counts.problems),
        "dissect_cache": len(dissectors.packet._cache),
    }
    for d in session.engine.detectors:
        name = d.kind or type(d).__name__
        for attr, value in vars(d).items():
            if attr.startswith("_") and attr != "_recon" and isinstance(value, (dict, list, deque, set)):
                c[f"{name}.{attr}"] = _items(value)
    for s in session.sinks:
        registry = getattr(s, "registry", None)
        if registry is not None:
            c["metrics_samples"] = sum(len(m.samples) for m in registry.collect())
            for attr in ("_counted", "_masters", "_io"):
                c[f"metrics.{attr}"] = len(getattr(s, attr, {}))
    return c


_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
           types.CodeType, types.FrameType)


def _deep_size(root: Any, seen: set[int], stop: set[int]) -> int:
    """Bytes of ``root`` and everything it references that is not ``seen`` yet (``stop``: objects
    other roots own, not entered from here; types, modules and functions are never counted)."""
    total = 0
    stack = [root]
    while stack:
        o = stack.pop()
        i = id(o)
        if i in seen or (i in stop and o is not root) or isinstance(o, _OPAQUE):
            continue
        seen.add(i)
        total += sys.getsizeof(o)
        stack.extend(gc.get_referents(o))
    return total


def deep_sizes(session: WatchSession, harness: Any) -> dict[str, int]:
    """Bytes held per structure (each object counted once, in the first structure that reaches it)."""
    engine = session.engine
    recon = engine.recon
    groups = list(recon.groups.values())
    metrics = [s for s in session.sinks if getattr(s, "registry", None) is not None]
    stop = {id(x) for x in (session, engine, recon, recon.groups, recon.owners, recon._dedup, engine.store,
                            session.tracker, session.source, harness, *engine.detectors, *session.sinks)}
    roots: list[tuple[str, Any]] = [
        ("timeline (stints, their GARP stats)", [g.timeline for g in groups]),
        ("takeovers", [g.takeovers for g in groups]),
        ("split_brains", [g.split_brains for g in groups]),
        ("priority_changes", [g.priority_changes for g in groups]),
        ("resigns", [g.resigns for g in groups]),
        ("group GARP/NA records", [g.garps for g in groups]),
        ("routers (counters, advert samples)", [g.routers for g in groups]),
        ("groups (claims, the rest)", groups),
        ("ARP/ND ownership", recon.owners),
        ("reconstructor indexes, dedup", recon),
        ("finding store", engine.store),
        ("live finding tracker", session.tracker),
    ]
    roots += [(f"detector {d.kind or type(d).__name__}", d) for d in engine.detectors]
    roots += [
        ("session counters", [session.adverts, session.activity, session.counts, session.changes, session.tap]),
        ("metrics sink", metrics),
        ("dissector frame cache", dissectors.packet._cache),
        ("soak harness (generator, checks)", harness),
    ]
    seen: set[int] = set()
    return {name: _deep_size(obj, seen, stop) for name, obj in roots}


def sizes_in_child(session: WatchSession, harness: Any) -> dict[str, int]:
    """:func:`deep_sizes` computed in a forked copy of the process, so that walking millions of
    objects leaves this process's heap (and RSS) exactly as it was."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without cleanup
        try:
            with os.fdopen(write, "w", encoding="utf-8") as fh:
                json.dump(deep_sizes(session, harness), fh)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    return {k: int(v) for k, v in json.loads(data).items()} if data else {}


@dataclass
class Checkpoint:
    """One measurement: where (fraction of capture time, capture hours), when (wall seconds),
    RSS, traced Python memory (tracemalloc, when on), counters and the census."""

    label: str
    capture_hours: float
    wall_s: float
    rss_mb: float
    traced_mb: float | None
    frames: int
    adverts: int
    arp: int
    nd: int
    master_changes: int
    findings: int
    census: dict[str, int]
    sizes: dict[str, int] = field(default_factory=dict)


class Verifier(Sink):
    """Checks each master change against the schedule, counts finding events, takes checkpoints."""

    def __init__(self, traffic: Traffic, checkpoints: tuple[float, ...], trace: bool, sizes: bool) -> None:
        self.traffic = traffic
        self.trace = trace
        self.sizes = sizes
        start, span = traffic.start_s, traffic.end_s - traffic.start_s
        self._due = deque((f, start + f * span) for f in checkpoints)
        self.checkpoints: list[Checkpoint] = []
        self.snapshots: list[tracemalloc.Snapshot] = []
        self.t0 = time.perf_counter()
        self.changes = 0
        self.matched = 0
        self.mismatches: list[str] = []
        self.mismatch_count = 0
        self.causes: Counter[str] = Counter()
        self.finding_events: Counter[str] = Counter()
        #: Every finding announced during the run, by identity (watch forgets findings that ended
        #: long ago, so the final analysis alone does not hold them all).
        self.announced: dict[tuple[object, ...], str] = {}
        self.unexplained: list[str] = []
        self.unexplained_count = 0

    def _bad(self, text: str) -> None:
        self.mismatch_count += 1
        if len(self.mismatches) < 20:
            self.mismatches.append(text)

    def master_change(self, event: MasterChange) -> None:
        """Pop the group's next expected change and compare."""
        self.changes += 1
        self.causes[event.cause] += 1
        g = event.group
        queue = self.traffic.expected.get((g.segment, g.family, g.vrid))
        got = f"{g.segment} {g.family} VRID {g.vrid}: {event.old}->{event.new} {event.cause} at {event.time:.6f}"
        if not queue:
            self._bad(f"unexpected {got}")
            return
        exp: Expected = queue.popleft()
        ok = (
            exp.cause == event.cause
            and exp.old == event.old
            and exp.new == event.new
            and exp.lo - 1e-6 <= event.time <= exp.hi + 1e-6
            and (exp.gap is None or (event.gap is not None and abs(event.gap - exp.gap) < 1e-6))
        )
        if ok:
            self.matched += 1
        else:
            self._bad(f"{got} gap {event.gap}; expected {exp}")

    def finding(self, event: FindingEvent) -> None:
        """Count opened/closed/updated finding events; check each new one against the schedule."""
        self.finding_events[event.state] += 1
        f = event.finding
        self.announced[f.identity] = finding_label(f)
        if event.state == "open" and not self.traffic.explain(f.kind, f.segment, f.family, f.vrid, f.subject, f.start):
            self.unexplained_count += 1
            if len(self.unexplained) < 20:
                self.unexplained.append(f"{f.kind} {f.segment} {f.family} VRID {f.vrid} {f.subject} start "
                                        f"{f.start:.6f}: {f.message[:160]}")

    def tick(self, now: float) -> None:
        """Take the checkpoints that are due."""
        while self._due and now >= self._due[0][1]:
            frac, _t = self._due.popleft()
            self.measure(f"{frac:.0%}")

    def measure(self, label: str) -> Checkpoint:
        """Record a checkpoint now (after a full garbage collection)."""
        session = self.session
        assert session is not None
        gc.collect()
        traced = None
        if self.trace:
            traced = tracemalloc.get_traced_memory()[0] / 1e6
            if label != "final":  # keep the warm-up snapshot and the latest one only
                del self.snapshots[1:]
                self.snapshots.append(tracemalloc.take_snapshot())
        counts = session.counts
        cp = Checkpoint(
            label=label,
            capture_hours=(session.now - self.traffic.start_s) / 3600.0,
            wall_s=time.perf_counter() - self.t0,
            rss_mb=rss_mb(),
            traced_mb=traced,
            frames=session.frames,
            adverts=counts.vrrp,
            arp=counts.arp,
            nd=counts.nd,
            master_changes=self.changes,
            findings=len(session.engine.store),
            census=census(session),
        )
        if self.sizes:
            cp.sizes = sizes_in_child(session, (self.traffic, self))
        self.checkpoints.append(cp)
        return cp


@dataclass
class SoakResult:
    """Everything a soak run measured and checked."""

    config: SoakConfig
    checkpoints: list[Checkpoint]
    wall_s: float
    frames: int
    expected_changes: int
    expected_stints: int
    expected_takeovers: int
    matched_changes: int
    mismatches: list[str]
    mismatch_count: int
    missed_changes: list[str]
    causes: dict[str, int]
    episodes: dict[str, int]
    host_events: dict[str, int]
    expected_findings: dict[str, int]
    #: Every finding announced during the run, by kind.
    findings: dict[str, int]
    #: The findings the final analysis still holds (those that ended long ago are pruned).
    findings_final: dict[str, int]
    findings_pruned: int
    finding_events: dict[str, int]
    timeline_entries: int
    unexplained: list[str]
    unexplained_count: int
    tracemalloc_top: list[str] = field(default_factory=list)
    vrrp_only: bool = False

    @property
    def warm(self) -> Checkpoint:
        """The warm-up checkpoint (the reference)."""
        return self.checkpoints[0]

    @property
    def last(self) -> Checkpoint:
        """The checkpoint at the end of the traffic, before the engine's ``finish``."""
        return next(c for c in reversed(self.checkpoints) if c.label != "final")

    @property
    def rss_growth_mb(self) -> float:
        """RSS at the end of the traffic minus RSS after warm-up."""
        return self.last.rss_mb - self.warm.rss_mb

    def size_growth(self) -> dict[str, tuple[int, int, float]]:
        """Bytes per structure at warm-up and at the end, and the growth per capture hour."""
        hours = max(1e-9, self.last.capture_hours - self.warm.capture_hours)
        return {
            k: (self.warm.sizes.get(k, 0), end, (end - self.warm.sizes.get(k, 0)) / hours)
            for k, end in self.last.sizes.items()
        }

    def growth(self) -> dict[str, tuple[int, int, float]]:
        """Census entries that changed between warm-up and the end: (warm, end, per capture hour)."""
        hours = max(1e-9, self.last.capture_hours - self.warm.capture_hours)
        out = {}
        for k, end in self.last.census.items():
            start = self.warm.census.get(k, 0)
            if end != start:
                out[k] = (start, end, (end - start) / hours)
        return out


def finding_label(f: Finding) -> str:
    """A finding's kind, with ``arp_conflict``/``arp_flipflop`` of no group marked as duplicate IPs."""
    if f.kind in ("arp_conflict", "arp_flipflop") and f.vrid is None:
        return f"{f.kind}(duplicate ip)"
    return f.kind


def finding_counts(analysis: Analysis) -> dict[str, int]:
    """Final findings by kind (``arp_conflict`` split into VIP conflicts and duplicate IPs)."""
    return dict(sorted(Counter(finding_label(f) for f in analysis.findings).items()))


def run_soak(
    cfg: SoakConfig,
    *,
    checkpoints: tuple[float, ...] = CHECKPOINTS,
    metrics: bool = True,
    trace: bool = False,
    sizes: bool = False,
    write: str | None = None,
    vrrp_only: bool = False,
) -> SoakResult:
    """Generate the traffic of ``cfg``, run it through a :class:`WatchSession`, measure and check."""
    traffic = Traffic(cfg)
    verifier = Verifier(traffic, checkpoints, trace, sizes)
    sinks: list[Sink] = [verifier]
    devnull = open(os.devnull, "w", encoding="utf-8")
    sinks.append(JsonLinesSink(devnull))
    if metrics:
        from vrrpscope.live.metrics import Metrics

        sinks.append(Metrics())
    writer = None
    if write:
        from vrrpscope.live.writer import PcapngWriter

        writer = PcapngWriter(write)
    if trace:
        tracemalloc.start()
    session = WatchSession(SoakSource(traffic, vrrp_only=vrrp_only), sinks, label="soak", writer=writer)
    t0 = time.perf_counter()
    verifier.t0 = t0
    try:
        analysis = session.run()
    finally:
        devnull.close()
    verifier.measure("final")
    wall = time.perf_counter() - t0
    top: list[str] = []
    if trace and len(verifier.snapshots) >= 2:
        diff = verifier.snapshots[-1].compare_to(verifier.snapshots[0], "lineno")
        for stat in diff[:15]:
            frame = stat.traceback[0]
            top.append(
                f"{stat.size_diff / 1e3:+9.1f} kB {stat.count_diff:+8d} blocks  "
                f"{os.path.relpath(frame.filename, ROOT)}:{frame.lineno}"
            )
        tracemalloc.stop()
    missed = [f"{k[0]} {k[1]} VRID {k[2]}: {e}" for k, q in traffic.expected.items() for e in q]
    data = analysis.to_dict()  # what watch renders at the end (summary, JSON, report)
    timeline = sum(len(g["timeline"]) for g in data["groups"])
    return SoakResult(
        config=cfg,
        checkpoints=verifier.checkpoints,
        wall_s=wall,
        frames=session.frames,
        expected_changes=traffic.expected_changes,
        expected_stints=traffic.expected_stints,
        expected_takeovers=traffic.expected_takeovers,
        matched_changes=verifier.matched,
        mismatches=verifier.mismatches,
        mismatch_count=verifier.mismatch_count,
        missed_changes=missed[:20],
        causes=dict(sorted(verifier.causes.items())),
        episodes=dict(sorted(traffic.episodes.items())),
        host_events=dict(sorted(traffic.host_events.items())),
        expected_findings=dict(sorted(traffic.expected_findings.items())),
        findings=dict(sorted(Counter(verifier.announced.values()).items())),
        findings_final=finding_counts(analysis),
        findings_pruned=analysis.findings_pruned,
        finding_events=dict(verifier.finding_events),
        timeline_entries=timeline,
        unexplained=verifier.unexplained,
        unexplained_count=verifier.unexplained_count,
        tracemalloc_top=top,
        vrrp_only=vrrp_only,
    )


# ----------------------------------------------------------------------------- report


def report(res: SoakResult) -> str:
    """The human-readable tables."""
    cfg = res.config
    lines = [
        ("VRRP adverts only (capture filtered on vrrp); " if res.vrrp_only else "")
        + f"soak: {cfg.hours:g} h of capture, {cfg.groups} groups on {cfg.vlans} VLANs, "
        f"{cfg.hosts_per_vlan} hosts/VLAN, seed {cfg.seed}",
        "",
        f"{'checkpoint':>10} {'capture h':>9} {'wall s':>8} {'frames':>10} {'adverts':>9} {'ARP':>9} "
        f"{'ND':>8} {'changes':>7} {'findings':>8} {'RSS MB':>7} {'traced MB':>9}",
    ]
    if res.checkpoints[0].traced_mb is not None:
        lines.insert(2, "(tracing allocations: RSS includes tracemalloc's own tables; 'traced MB' is the Python heap)")
    for c in res.checkpoints:
        traced = f"{c.traced_mb:9.1f}" if c.traced_mb is not None else f"{'-':>9}"
        lines.append(
            f"{c.label:>10} {c.capture_hours:9.2f} {c.wall_s:8.1f} {c.frames:10d} {c.adverts:9d} {c.arp:9d} "
            f"{c.nd:8d} {c.master_changes:7d} {c.findings:8d} {c.rss_mb:7.1f} {traced}"
        )
    warm, last = res.warm, res.last
    hours = last.capture_hours - warm.capture_hours
    lines += [
        "",
        f"RSS growth warm-up -> end of traffic: {res.rss_growth_mb:+.1f} MB over {hours:.2f} capture hours "
        f"({res.rss_growth_mb / max(hours, 1e-9):+.2f} MB/h, {100 * res.rss_growth_mb / warm.rss_mb:+.1f} %)",
        f"throughput: {res.frames / res.wall_s:,.0f} frames/s ({res.frames:,} frames in {res.wall_s:.1f} s)",
        "",
        "structures that changed between warm-up and the end of the traffic (elements):",
    ]
    for k, (a, b, rate) in sorted(res.growth().items(), key=lambda kv: -abs(kv[1][2])):
        lines.append(f"  {k:<40} {a:>9} -> {b:>9}   {rate:+10.1f} /h")
    if res.last.sizes:
        lines += ["", f"bytes held per structure (deep size){'':<6} {'warm-up KB':>10} {'end KB':>10} {'KB/h':>9}"]
        for k, (a, b, rate) in sorted(res.size_growth().items(), key=lambda kv: -kv[1][1]):
            lines.append(f"  {k:<42} {a / 1e3:10.1f} {b / 1e3:10.1f} {rate / 1e3:+9.1f}")
        tot_a = sum(a for a, _b, _r in res.size_growth().values())
        tot_b = sum(b for _a, b, _r in res.size_growth().values())
        lines.append(f"  {'total':<42} {tot_a / 1e3:10.1f} {tot_b / 1e3:10.1f} "
                     f"{(tot_b - tot_a) / 1e3 / max(1e-9, res.last.capture_hours - res.warm.capture_hours):+9.1f}")
    lines += [
        "",
        f"master changes: {res.matched_changes}/{res.expected_changes} as scheduled, "
        f"{res.mismatch_count} mismatched, {len(res.missed_changes)} missing; by cause {res.causes}",
        f"episodes: {res.episodes}; host events: {res.host_events}",
        f"findings expected: {res.expected_findings}",
        f"findings reported: {res.findings}",
        f"findings held at the end: {sum(res.findings_final.values())} ({res.findings_pruned} that ended over "
        f"{FINDING_RETENTION_S / 3600:g} h before were pruned)",
        f"findings not explained by a scheduled episode: {res.unexplained_count}",
        f"finding events: {res.finding_events}",
        f"timeline entries in the final analysis: {res.timeline_entries} (scheduled stints {res.expected_stints}); "
        f"takeovers {res.checkpoints[-1].census['takeovers']} (scheduled {res.expected_takeovers})",
    ]
    for m in res.mismatches + res.missed_changes + res.unexplained:
        lines.append(f"  ! {m}")
    if res.tracemalloc_top:
        lines += ["", "tracemalloc: top allocation growth warm-up -> end (by line):"]
        lines += [f"  {t}" for t in res.tracemalloc_top]
    return "\n".join(lines)


def result_json(res: SoakResult) -> dict[str, Any]:
    """The JSON line appended to ``bench/results/soak.jsonl``."""
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "python": platform.python_version(),
        "config": dataclasses.asdict(res.config),
        "vrrp_only": res.vrrp_only,
        "frames": res.frames,
        "wall_s": round(res.wall_s, 2),
        "frames_per_s": round(res.frames / res.wall_s),
        "checkpoints": [
            {k: v for k, v in dataclasses.asdict(c).items() if k != "census"} for c in res.checkpoints
        ],
        "rss_growth_mb": round(res.rss_growth_mb, 2),
        "growth_per_hour": {k: round(r, 2) for k, (_a, _b, r) in res.growth().items()},
        "bytes_end": res.last.sizes,
        "bytes_growth_per_hour": {k: round(r) for k, (_a, _b, r) in res.size_growth().items()},
        "census_end": res.last.census,
        "master_changes": {
            "expected": res.expected_changes,
            "matched": res.matched_changes,
            "mismatched": res.mismatch_count,
            "missing": len(res.missed_changes),
            "by_cause": res.causes,
        },
        "episodes": res.episodes,
        "expected_findings": res.expected_findings,
        "findings": res.findings,
        "findings_final": res.findings_final,
        "findings_pruned": res.findings_pruned,
        "unexplained_findings": res.unexplained_count,
        "tracemalloc_top": res.tracemalloc_top,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=8.0, help="capture time to simulate (default 8)")
    ap.add_argument("--groups", type=int, default=50, help="VRRP groups, five per VLAN (default 50)")
    ap.add_argument("--hosts", type=int, default=100, help="hosts per VLAN (default 100)")
    ap.add_argument("--episode-every", type=float, default=900.0, help="mean seconds between a group's episodes")
    ap.add_argument("--chatter", type=float, default=2.0, help="host-to-host resolutions per second per VLAN")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--mix", help="episode weights, e.g. crash=4,split=1 (default: the SoakConfig mix)")
    ap.add_argument("--refresh-fraction", type=float, default=0.3,
                    help="fraction of split brains after which the stopped router keeps refreshing GARP/NA")
    ap.add_argument("--refresh-minutes", type=float, nargs=2, default=(5.0, 20.0), metavar=("MIN", "MAX"),
                    help="how long it keeps refreshing")
    ap.add_argument("--flap-cycles", type=int, nargs=2, default=(4, 6), metavar=("MIN", "MAX"),
                    help="drop/recover cycles of a preemption flap")
    ap.add_argument("--no-metrics", action="store_true", help="leave out the Prometheus metrics sink")
    ap.add_argument("--write", metavar="PATH", help="also write the frames as pcapng (watch -w), e.g. /dev/null")
    ap.add_argument("--tracemalloc", action="store_true", help="trace allocations (slower) and list the growth")
    ap.add_argument("--no-sizes", action="store_true", help="skip the deep size of each structure at checkpoints")
    ap.add_argument("--vrrp-only", action="store_true",
                    help="deliver only the VRRP adverts, as a capture filtered on vrrp (no ARP/ND findings)")
    ap.add_argument("--no-save", action="store_true", help=f"do not append to {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--dump", metavar="PCAP", help="only write the simulated capture to PCAP (to open in Wireshark)")
    args = ap.parse_args(argv)
    cfg = SoakConfig(
        hours=args.hours,
        groups=args.groups,
        hosts_per_vlan=args.hosts,
        episode_every_s=args.episode_every,
        chatter_per_s=args.chatter,
        seed=args.seed,
        refresh_fraction=args.refresh_fraction,
        refresh_minutes=tuple(args.refresh_minutes),
        flap_cycles=tuple(args.flap_cycles),
    )
    if args.mix:
        cfg.mix = {k: float(v) for k, v in (item.split("=", 1) for item in args.mix.split(","))}
    if args.dump:
        n = write_pcap(Traffic(cfg), args.dump)
        print(f"wrote {args.dump}: {n} frames", file=sys.stderr)
        return 0
    res = run_soak(
        cfg,
        metrics=not args.no_metrics,
        trace=args.tracemalloc,
        sizes=not args.no_sizes,
        write=args.write,
        vrrp_only=args.vrrp_only,
    )
    print(report(res))
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(result_json(res)) + "\n")
    ok = res.mismatch_count == 0 and not res.missed_changes and res.unexplained_count == 0
    if not args.vrrp_only:  # without ARP/ND the GARP-based findings cannot be judged
        ok = ok and all(res.findings.get(k, 0) == n for k, n in res.expected_findings.items())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
