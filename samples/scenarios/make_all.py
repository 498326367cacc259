"""Regenerate (or check) every synthetic scenario capture in this directory.

Usage::

    .venv/bin/python samples/scenarios/make_all.py            # rewrite every <case>.pcap
    .venv/bin/python samples/scenarios/make_all.py --check    # exit 1 if a committed pcap differs
    .venv/bin/python samples/scenarios/make_all.py CASE ...   # only these cases

Each ``<case>.pcap.py`` defines ``build() -> Scenario``; the capture is ``<case>.pcap`` beside it.
The scripts are deterministic (fixed seeds, fixed base time, explicit addresses), so ``--check``
verifies that the committed captures are exactly what their scripts produce.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(names: list[str] | None = None) -> list[Path]:
    """The scenario scripts, sorted by name; restricted to ``names`` (case stems) when given."""
    found = sorted(HERE.glob("*.pcap.py"))
    if names:
        wanted = set(names)
        found = [p for p in found if p.name.removesuffix(".pcap.py") in wanted]
        missing = wanted - {p.name.removesuffix(".pcap.py") for p in found}
        if missing:
            raise SystemExit(f"unknown scenario(s): {', '.join(sorted(missing))}")
    return found


def build_bytes(script: Path) -> bytes:
    """Run ``script``'s ``build()`` and return the pcap bytes it produces."""
    namespace = runpy.run_path(str(script), run_name="scenario")
    data: bytes = namespace["build"]().to_bytes()
    return data


def main(argv: list[str] | None = None) -> int:
    """Entry point: regenerate or check; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed captures")
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    args = parser.parse_args(argv)
    status = 0
    for script in scripts(args.cases):
        target = script.with_suffix("")
        data = build_bytes(script)
        if args.check:
            if not target.exists() or target.read_bytes() != data:
                print(f"DIFFERS: {target.name} (run make_all.py to regenerate)")
                status = 1
            else:
                print(f"ok: {target.name}")
        else:
            target.write_bytes(data)
            print(f"wrote {target.name} ({len(data)} bytes)")
    return status


if __name__ == "__main__":
    sys.exit(main())
