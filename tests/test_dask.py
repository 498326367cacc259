"""Dask distributed scale-out: the per-file scans on a real (local, multi-process) cluster give the
single-process result, packet for packet and in the JSON analysis."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vrrpscope.analysis import analyze
from vrrpscope.parallel import analyze_parallel, iter_packets_parallel
from vrrpscope.pipeline import InputCounts, iter_packets

ROOT = Path(__file__).resolve().parent.parent
REAL = sorted((ROOT / "samples" / "real").glob("*/capture*.pcap*"))

try:
    import distributed
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("dask distributed is not installed (pip install 'vrrpscope[dask]')", allow_module_level=True)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Address of a two-process local Dask cluster."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_dask_packets_identical(scheduler: str, tmp_path: Path) -> None:
    """Real captures plus a large pcap split into parts: same items, order and counts."""
    big = tmp_path / "big.pcap"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_capture.py"), "--packets", "60000", "--out", str(big)],
        check=True,
    )
    paths = [str(p) for p in REAL[:8]] + [str(big)]
    want_counts = InputCounts()
    want = list(iter_packets(paths, counts=want_counts))
    got_counts = InputCounts()
    got = list(iter_packets_parallel(paths, scheduler=scheduler, counts=got_counts))
    assert got == want
    assert got_counts == want_counts
    assert want_counts.packets > 60000


def test_dask_analysis_identical(scheduler: str) -> None:
    """The analysis JSON from the cluster equals the local run."""
    paths = [str(p) for p in REAL]
    local = analyze(paths).to_dict()
    remote = analyze_parallel(paths, scheduler=scheduler).to_dict()
    assert remote == local
    assert local["input"]["packets"] > 0
