"""``python -m tests.lab SCENARIO [SCENARIO ...] --out DIR`` — run lab scenarios from the shell.

Examples::

    python -m tests.lab --list
    python -m tests.lab failover_crash_preempt --out samples/real/failover
    python -m tests.lab graceful_shutdown auth_mismatch --out /tmp/lab --parallel 2
    python -m tests.lab --samples samples/real          # regenerate every committed sample
    python -m tests.lab --samples samples/real v3_ipv6  # regenerate one sample case
    python -m tests.lab --sweep                         # delete namespaces of dead lab runs
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from types import FrameType

from .netns import abort_all, install_signal_handlers, sweep_stale
from .readme import render_index, render_readme
from .requirements import missing_requirements
from .run import RunResult, run_jobs, run_many
from .scenarios import SAMPLES, SCENARIOS


def _summary(name: str, result: RunResult | BaseException) -> tuple[str, bool]:
    if isinstance(result, BaseException):
        return f"{name}: FAILED: {type(result).__name__}: {result}", False
    wc = result.truth.get("wire_check", {})
    takeovers = ", ".join(
        f"{t['from']}->{t['to']} {t['cause']} gap {t.get('wire_gap', '?')}s (RFC {t['rfc_allowed']})"
        for t in result.truth["takeovers"]
    )
    line = (
        f"{name}: {result.capture} — {wc.get('matched', 0)} MASTER transitions matched on the wire, "
        f"max |log-wire| {wc.get('max_abs_delta_ms')} ms" + (f"; takeovers: {takeovers}" if takeovers else "")
    )
    ok = not result.problems
    if not ok:
        line += "\n  PROBLEMS: " + "; ".join(result.problems)
    return line, ok


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run scenarios, print a one-line summary each; exit 1 on any failure."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.lab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help="scenario names (see --list); with --samples: case names")
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (one scenario: the files go straight in; several: one sub-directory each)",
    )
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    parser.add_argument(
        "--samples",
        type=Path,
        metavar="DIR",
        help="regenerate the committed samples into DIR/<case> (samples/real)",
    )
    parser.add_argument("--parallel", type=int, default=3, help="scenarios run at once (default 3)")
    parser.add_argument(
        "--readme", type=Path, nargs="+", metavar="DIR", help="re-render DIR/README.md from DIR/truth.json and exit"
    )
    parser.add_argument("--sweep", action="store_true", help="remove namespaces left by dead lab runs")
    args = parser.parse_args(argv)

    if args.readme:
        for d in args.readme:
            truth = json.loads((d / "truth.json").read_text())
            (d / "README.md").write_text(render_readme(truth))
            print(f"rendered {d / 'README.md'}")
        for root in {d.parent for d in args.readme}:
            (root / "README.md").write_text(render_index(root))
        return 0
    if args.list:
        width = max(len(n) for n in SCENARIOS)
        for name, sc in SCENARIOS.items():
            print(f"{name:<{width}}  {sc.title}")
        return 0
    if args.sweep:
        for name in sweep_stale():
            print(f"removed {name}")
        if not args.scenarios and args.samples is None:
            return 0
    missing = missing_requirements()
    if missing:
        print("lab unavailable: " + "; ".join(missing), file=sys.stderr)
        return 2
    known = SAMPLES if args.samples is not None else SCENARIOS
    unknown = [n for n in args.scenarios if n not in known]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)} (see --list)")

    install_signal_handlers()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        abort_all()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)

    results: dict[str, RunResult | BaseException] = {}
    if args.samples is not None:
        cases = args.scenarios or list(SAMPLES)
        results = run_jobs({c: (SAMPLES[c], args.samples / c) for c in cases}, parallel=args.parallel)
        (args.samples / "README.md").write_text(render_index(args.samples))
    elif args.scenarios:
        if args.out is None:
            parser.error("--out is required")
        results = run_many(args.scenarios, args.out, parallel=args.parallel, flat=len(args.scenarios) == 1)
    else:
        parser.error("give scenario names, --samples DIR, --list or --sweep")
    ok_all = True
    for name, result in results.items():
        line, ok = _summary(name, result)
        ok_all &= ok
        print(line)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
