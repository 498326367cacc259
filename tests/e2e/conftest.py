"""Fixtures for the end-to-end tests: the keepalived lab and the analysis under test.

* ``lab_runs`` (session): runs, once and in parallel threads, every lab scenario that the selected
  tests ask for (``@pytest.mark.parametrize("scenario", ...)`` on ``lab``-marked tests), each in its
  own namespaces; ``VRRPSCOPE_LAB_PARALLEL`` sets the number of threads (default 5).
* ``analyze_capture``: ``vrrpscope.analysis.analyze([path]).to_dict()``.

Missing prerequisites (not root, no ``ip netns``, no keepalived/tcpdump/nft/tshark, analysis not
importable yet) skip with the reason — or fail when ``CI=true``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.lab import LabUnavailable, RunResult, missing_requirements, run_many  # noqa: E402

#: Threads running scenarios at once (each scenario mostly sleeps; 2 cores suffice for 5).
PARALLEL = int(os.environ.get("VRRPSCOPE_LAB_PARALLEL", "5"))


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail when running under CI (CI=true): CI must not hide missing tools."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required for CI: {reason}")
    pytest.skip(reason)


def require_lab() -> None:
    """Skip/fail unless root, ``ip netns``, keepalived, tcpdump, nft and tshark are available."""
    missing = missing_requirements()
    if missing:
        skip_or_fail("keepalived lab unavailable: " + "; ".join(missing))


def require_tshark() -> None:
    """Skip/fail unless tshark is installed."""
    import shutil

    if shutil.which("tshark") is None:
        skip_or_fail("tshark not installed")


@pytest.fixture
def tshark_required() -> None:
    """Skip (or fail under CI) unless tshark is installed."""
    require_tshark()


@pytest.fixture
def lab_required() -> None:
    """Skip (or fail under CI) unless the lab can run here."""
    require_lab()


@pytest.fixture(scope="session")
def lab_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Scenario name -> RunResult (or the exception it raised), for every selected lab test."""
    require_lab()
    names = sorted(
        {
            item.callspec.params["scenario"]
            for item in request.session.items
            if item.get_closest_marker("lab") is not None
            and hasattr(item, "callspec")
            and "scenario" in item.callspec.params
        }
    )
    out = tmp_path_factory.mktemp("lab")
    return dict(run_many(names, out, parallel=PARALLEL))


@pytest.fixture
def lab_run(lab_runs: dict[str, Any], scenario: str) -> RunResult:
    """The run of this test's ``scenario`` (fails the test if the scenario could not run)."""
    result = lab_runs.get(scenario)
    if result is None:
        pytest.fail(f"scenario {scenario} was not run")
    if isinstance(result, LabUnavailable):
        skip_or_fail(str(result))
    if isinstance(result, BaseException):
        pytest.fail(f"scenario {scenario} failed to run: {type(result).__name__}: {result}")
    assert isinstance(result, RunResult)
    return result


def _load_analyze() -> Callable[[list[str]], Any]:
    try:
        from vrrpscope.analysis import analyze
    except ModuleNotFoundError as exc:
        if exc.name not in ("vrrpscope.analysis", "vrrpscope"):
            raise  # the module exists but is broken: that is a failure, not a skip
        skip_or_fail(f"vrrpscope.analysis not available yet: {exc}")
    return analyze


@pytest.fixture
def analyze_capture() -> Callable[[Path], dict[str, Any]]:
    """``analyze_capture(path)`` -> the analysis of one capture file as the DESIGN.md JSON dict."""
    analyze = _load_analyze()

    def run(path: Path) -> dict[str, Any]:
        return analyze([str(path)]).to_dict()  # type: ignore[no-any-return]

    return run
