"""The committed real captures in samples/real/<case>/: complete, small, internally consistent (the
committed keepalived logs still match the committed capture, re-checked with tshark), and analysed in
agreement with their ground truth. Needs no root: runs wherever tshark / the analysis are available."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lab.oracle import check_all
from tests.lab.truth import parse_lines, read_log
from tests.lab.verify import match_masters, read_adverts

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "real"
CASES = sorted(p.parent.name for p in SAMPLES.glob("*/truth.json"))
#: The cases the project promises (issue 4).
REQUIRED = {"failover", "graceful_shutdown", "split_brain", "auth_mismatch", "v3_ipv6"}


def _truth(case: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / case / "truth.json").read_text()))


def test_required_samples_exist() -> None:
    assert REQUIRED <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_sample_is_complete_and_small(case: str) -> None:
    truth = _truth(case)
    base = SAMPLES / case
    for cap in truth["captures"]:
        path = base / cap["file"]
        assert path.exists() and 0 < path.stat().st_size < 200_000, path
    for r in truth["routers"]:
        assert (base / r["log"]).exists()
        if r["config"]:
            assert (base / r["config"]).exists()
    assert (base / "README.md").exists()
    assert truth["problems"] == []
    assert truth["observer_tx_packets"] == 0


@pytest.mark.tshark
@pytest.mark.usefixtures("tshark_required")
@pytest.mark.parametrize("case", CASES)
def test_sample_logs_still_match_the_wire(case: str) -> None:
    """Re-derive MASTER transitions from the committed rN.log files and match them with tshark."""
    truth = _truth(case)
    base = SAMPLES / case
    lines = [ln for r in truth["routers"] for ln in read_log(base / r["log"], r["name"])]
    events = parse_lines(lines)
    adverts = read_adverts(base / truth["primary_capture"])
    addresses = {r["name"]: r["addresses"] for r in truth["routers"]}
    groups = {(r["name"], i["name"]): (i["vrid"], i["family"]) for r in truth["routers"] for i in r["instances"]}
    matches = match_masters(events, adverts, addresses, groups)
    assert len(matches) == len(truth["wire_check"]["masters"]) >= 1
    for m, committed in zip(matches, truth["wire_check"]["masters"], strict=True):
        assert m.frame == committed["frame"]
        if truth["normal"] or m.delta_ms is not None:
            assert m.delta_ms is not None and abs(m.delta_ms) <= 100.0, m


@pytest.mark.tshark
@pytest.mark.usefixtures("tshark_required")
@pytest.mark.parametrize("case", CASES)
def test_sample_analysis_agrees_with_truth(case: str, analyze_capture: Callable[[Path], dict[str, Any]]) -> None:
    truth = _truth(case)
    capture = SAMPLES / case / truth["primary_capture"]
    analysis = analyze_capture(capture)
    problems = check_all(truth, analysis, read_adverts(capture))
    assert not problems, "\n".join(problems)
