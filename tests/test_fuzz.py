"""The fuzz harnesses: a short bounded atheris run of each target, and replay of every kept crash.

``fuzz/run.py`` runs the coverage-guided fuzzers (see docs/HARDENING.md); here each target runs a
few hundred iterations from the committed seeds (seconds), and every input kept under
``samples/fuzz-crashes/`` (a crash once found and fixed) is replayed through its target, so it can
never come back. The harness checks themselves are tested to fail on a contract violation.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import require

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz import fuzz_dissect, fuzz_sources, run  # noqa: E402

SAMPLE = ROOT / "samples" / "hostile" / "hostile.pcapng"


def _atheris_available() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("target", run.TARGETS)
def test_short_fuzz_run_finds_no_crash(target: str) -> None:
    require(_atheris_available(), "atheris is not installed (pip install atheris)")
    before = set(run.kept_crashes())
    proc = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "run.py"), "--iterations", "300", "--target", target, "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    executed = re.search(r"stat::number_of_executed_units: (\d+)", proc.stdout)
    assert executed is not None and int(executed.group(1)) >= 300, proc.stdout  # seeds run first, then 300
    assert set(run.kept_crashes()) == before


def test_kept_crashes_no_longer_crash() -> None:
    """Every input a fuzz run ever crashed on (samples/fuzz-crashes/; none so far) is replayed."""
    checks = {"sources": fuzz_sources.check_one, "dissect": fuzz_dissect.check_one}
    for path in run.kept_crashes():
        target = path.name.split("-", 1)[0]
        assert target in checks, f"{path.name}: crash file not named after a fuzz target"
        checks[target](path.read_bytes())


def test_seeds_cover_every_sample_and_a_frame_per_link_type() -> None:
    files = run.sample_files()
    assert SAMPLE in files and any(p.suffix == ".gz" for p in files)
    seeds = run.dissect_seeds()
    assert len(seeds) > 50
    assert {fuzz_dissect.split(s)[0] for s in seeds} >= {1}


def test_sources_check_accepts_real_and_damaged_captures() -> None:
    fuzz_sources.check_one(SAMPLE.read_bytes())
    fuzz_sources.check_one(SAMPLE.read_bytes()[:300])  # truncated mid-block
    fuzz_sources.check_one(b"")
    fuzz_sources.check_one(b"\x1f\x8b\x08\x00garbage")


def test_dissect_check_renders_every_link_type() -> None:
    frame = run.dissect_seeds()[0][1:]
    for i in range(len(fuzz_dissect.LINKTYPES)):
        fuzz_dissect.check_one(bytes([i]) + frame)
        fuzz_dissect.check_one(bytes([i]) + frame[: len(frame) // 2])


def test_harness_fails_on_a_contract_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decoder that raises must make the harness raise (the fuzzer then keeps the input)."""
    import dissectors.packet

    def broken(linktype: int, data: bytes, *, strict: bool = False) -> None:
        raise IndexError("decoder bug")

    monkeypatch.setattr(dissectors.packet, "dissect", broken)
    with pytest.raises(IndexError):
        fuzz_dissect.check_one(b"\x00" + bytes(60))


def test_replay_reports_kept_crashes_as_fixed() -> None:
    assert run.replay() == []
