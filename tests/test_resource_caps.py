"""Resource exhaustion: floods of groups, routers and ARP-claimed IPs must not grow memory without bound.

The reconstructor caps tracked groups, routers per group and owned IPs (ReconstructorConfig
``max_groups``, ``max_routers_per_group``, ``max_owned_ips``); what a cap leaves out is counted in
``Reconstructor.dropped_entities`` and surfaced in the JSON ``input`` and the terminal summary.
Memory is measured with tracemalloc over the whole analysis engine (reconstructor and detectors)
after 5k and 50k flooding entities: beyond the cap it stays flat. The tests use small caps so they
run in seconds; the defaults are the same code path (docs/HARDENING.md has the figures for 10k and
100k with the default caps).
"""

from __future__ import annotations

import gc
import io
import ipaddress
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from recon_builders import Lan
from rich.console import Console

from vrrpscope.analysis import AnalysisEngine, analyze
from vrrpscope.model import Packet
from vrrpscope.output.table import render_summary
from vrrpscope.reconstruct.reconstructor import ReconstructorConfig

BASE = 1_700_000_000.0
#: Small caps for fast tests.
CAPS = ReconstructorConfig(max_groups=200, max_routers_per_group=16, max_owned_ips=500)


def source_flood(n: int) -> Iterator[Packet]:
    """``n`` adverts for VRID 51, each from a different source address."""
    lan = Lan()
    for i in range(n):
        yield lan.v2(BASE + i * 0.001, str(ipaddress.IPv4Address(0xC0000000 + i)), vrid=51)


def vrid_flood(n: int) -> Iterator[Packet]:
    """``n`` adverts cycling through all 255 VRIDs on ever new VLANs (a new group each)."""
    lan = Lan()
    for i in range(n):
        lan.segment = f"eth0/vlan{i // 255}"
        yield lan.v2(BASE + i * 0.001, "192.0.2.1", vrid=1 + i % 255)


def arp_flood(n: int) -> Iterator[Packet]:
    """``n`` gratuitous ARPs, each for a different address."""
    lan = Lan()
    for i in range(n):
        yield lan.garp(BASE + i * 0.001, str(ipaddress.IPv4Address(0xC0000000 + i)), "02:00:00:00:00:01")


FLOODS: dict[str, tuple[Callable[[int], Iterator[Packet]], str, int]] = {
    "sources": (source_flood, "routers", CAPS.max_routers_per_group),
    "vrids": (vrid_flood, "groups", CAPS.max_groups),
    "arp": (arp_flood, "ips", CAPS.max_owned_ips),
}


def engine_memory(flood: Callable[[int], Iterator[Packet]], n: int) -> tuple[int, AnalysisEngine]:
    """Bytes held by an engine after feeding ``n`` flood packets (packets themselves not kept)."""
    gc.collect()
    tracemalloc.start()
    try:
        engine = AnalysisEngine(config=CAPS)
        for p in flood(n):
            engine.feed(p)
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current, engine


def tracked(engine: AnalysisEngine, kind: str) -> int:
    """How many entities of ``kind`` the reconstructor tracks."""
    recon = engine.recon
    if kind == "groups":
        return len(recon.groups)
    if kind == "routers":
        return max(len(g.routers) for g in recon.groups.values())
    return len(recon.owners.current)


def test_defaults_are_documented_values() -> None:
    cfg = ReconstructorConfig()
    assert (cfg.max_groups, cfg.max_routers_per_group, cfg.max_owned_ips) == (4096, 64, 65536)


@pytest.mark.parametrize("name", list(FLOODS))
def test_memory_is_flat_after_the_cap(name: str) -> None:
    flood, kind, cap = FLOODS[name]
    small, e_small = engine_memory(flood, 5_000)
    large, e_large = engine_memory(flood, 50_000)
    assert tracked(e_small, kind) == tracked(e_large, kind) == cap
    assert e_small.recon.dropped_entities[kind] == 5_000 - cap
    assert e_large.recon.dropped_entities[kind] == 50_000 - cap
    # ten times the flood, (almost) the same memory: a few counters and interned floats may differ
    assert large <= small * 1.10 + 64 * 1024, (name, small, large)


def test_below_the_caps_nothing_is_dropped() -> None:
    _, engine = engine_memory(lambda n: vrid_flood(n), 150)
    assert len(engine.recon.groups) == 150
    assert engine.recon.dropped_entities == {"groups": 0, "routers": 0, "ips": 0}


def test_drops_are_surfaced_in_json_and_table() -> None:
    packets = list(source_flood(40)) + list(arp_flood(600))
    packets.sort(key=lambda p: p.time)
    result = analyze(["flood.pcap"], packets=packets, config=CAPS)
    data = result.to_dict()
    assert data["input"]["dropped_entities"] == {"groups": 0, "routers": 40 - 16, "ips": 600 - 500}
    assert len(data["groups"][0]["routers"]) == 16
    buf = io.StringIO()
    render_summary(data, Console(file=buf, width=200, no_color=True, highlight=False))
    assert "resource caps reached, packets left out: 24 for new routers, 100 for new ips" in buf.getvalue()


def test_no_drops_line_without_drops() -> None:
    result = analyze(["x.pcap"], packets=list(source_flood(5)))
    data = result.to_dict()
    assert "dropped_entities" not in data["input"]  # present only when something was left out
    buf = io.StringIO()
    render_summary(data, Console(file=buf, width=200, no_color=True, highlight=False))
    assert "resource caps" not in buf.getvalue()
