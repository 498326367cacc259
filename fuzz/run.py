"""Run the fuzz harnesses: ``python fuzz/run.py --iterations N [--target sources|dissect|all]``.

Each target runs under atheris (libFuzzer, coverage-guided) in its own process, seeded from the
committed samples (capture files for ``sources``; their frames, prefixed with a link-type selector
byte, for ``dissect``) plus every kept crash. A crashing input is written to
``samples/fuzz-crashes/<target>-crash-<sha1>``, where tests/test_fuzz.py replays it forever after.
``--replay`` only replays the kept crashes (no atheris needed). Exit status: 0 no crash, 1 crash.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRASHES = ROOT / "samples" / "fuzz-crashes"
TARGETS = ("sources", "dissect")
#: Seeds larger than this are skipped (libFuzzer mutates small inputs best).
MAX_SEED = 64 * 1024


def sample_files() -> list[Path]:
    """Committed capture samples small enough to seed the fuzzers, in a stable order."""
    exts = (".pcap", ".pcapng", ".gz")
    found = [p for p in (ROOT / "samples").rglob("*") if p.is_file() and p.name.endswith(exts)]
    return sorted(p for p in found if p.stat().st_size <= MAX_SEED and CRASHES not in p.parents)


def dissect_seeds(limit: int = 400) -> list[bytes]:
    """Distinct frames of the samples, each prefixed with its link type's selector byte."""
    sys.path.insert(0, str(ROOT))
    from fuzz.fuzz_dissect import LINKTYPES
    from vrrpscope.sources import Frame, open_capture

    seeds: dict[bytes, None] = {}
    for path in sample_files():
        with open_capture(str(path)) as reader:
            for item in reader:
                if isinstance(item, Frame) and item.linktype in LINKTYPES:
                    seeds[bytes([LINKTYPES.index(item.linktype)]) + item.data] = None
                    if len(seeds) >= limit:
                        return list(seeds)
    return list(seeds)


def write_corpus(target: str, directory: Path) -> int:
    """Fill ``directory`` with the seeds of ``target`` (and the kept crashes); return their number."""
    blobs = [p.read_bytes() for p in sample_files()] if target == "sources" else dissect_seeds()
    blobs += [p.read_bytes() for p in kept_crashes(target)]
    for i, blob in enumerate(blobs):
        (directory / f"seed-{i:04d}").write_bytes(blob)
    return len(blobs)


def kept_crashes(target: str | None = None) -> list[Path]:
    """The regression inputs kept under samples/fuzz-crashes (for one target, or all)."""
    if not CRASHES.is_dir():
        return []
    files = sorted(p for p in CRASHES.iterdir() if p.is_file() and not p.name.endswith(".md"))
    return [p for p in files if target is None or p.name.startswith(f"{target}-")]


def run_target(target: str, iterations: int, seed: int, timeout_s: int) -> tuple[int, list[Path]]:
    """Fuzz one target for ``iterations`` runs; return (exit code, new crash files)."""
    CRASHES.mkdir(parents=True, exist_ok=True)
    before = set(kept_crashes(target))
    with (
        tempfile.TemporaryDirectory(prefix=f"vrrpscope-corpus-{target}-") as tmp,
        tempfile.TemporaryDirectory(prefix="vrrpscope-fuzz-") as scratch,
    ):
        n = write_corpus(target, Path(tmp))
        cmd = [
            sys.executable,
            str(ROOT / "fuzz" / f"fuzz_{target}.py"),
            f"-runs={iterations}",
            f"-seed={seed}",
            f"-artifact_prefix={CRASHES}/{target}-",
            f"-timeout={timeout_s}",
            "-rss_limit_mb=2048",
            "-max_len=70000" if target == "sources" else "-max_len=4096",
            "-print_final_stats=1",
            tmp,
        ]
        print(f"fuzz {target}: {iterations} runs from {n} seeds", flush=True)
        env = {**_env(), "VRRPSCOPE_FUZZ_SCRATCH": scratch}
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    log = proc.stderr.splitlines()
    for line in log:
        if line.startswith(("stat::number_of_executed_units", "==", "Traceback", "  File", "AssertionError")):
            print(f"  {line}")
    new = sorted(set(kept_crashes(target)) - before)
    return proc.returncode, new


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def replay() -> list[tuple[Path, str]]:
    """Replay every kept crash through its target; return the (file, error) pairs that still fail."""
    sys.path.insert(0, str(ROOT))
    from fuzz import fuzz_dissect, fuzz_sources

    checks = {"sources": fuzz_sources.check_one, "dissect": fuzz_dissect.check_one}
    failures: list[tuple[Path, str]] = []
    for path in kept_crashes():
        target = path.name.split("-", 1)[0]
        try:
            checks[target](path.read_bytes())
        except Exception as exc:  # a replay reports every failure, whatever it is
            failures.append((path, f"{type(exc).__name__}: {exc}"))
    return failures


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000, help="runs per target (default 10000)")
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer random seed (default 1)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take (default 10)")
    parser.add_argument("--replay", action="store_true", help="only replay the kept crashes")
    args = parser.parse_args()
    if args.replay:
        failures = replay()
        for path, err in failures:
            print(f"{path.name}: {err}")
        print(f"replayed {len(kept_crashes())} kept crash(es), {len(failures)} still failing")
        return 1 if failures else 0
    status = 0
    for target in TARGETS if args.target == "all" else (args.target,):
        code, new = run_target(target, args.iterations, args.seed, args.timeout)
        for path in new:
            print(f"  new crash kept: {path.relative_to(ROOT)}")
        if code != 0 or new:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
