"""Regenerate every synthetic capture in this folder from its ``<case>.<ext>.py`` script.

Usage::

    python samples/synthetic/make_all.py           # rewrite the captures beside their scripts
    python samples/synthetic/make_all.py --check   # regenerate into a temp dir, compare byte for byte

Each script runs in its own interpreter (scapy's contrib CARP module rebinds layers globally when
imported, so scripts must not share one process). ``--check`` exits 1 when a committed capture
differs from what its script produces now, or when a script or capture lacks its partner.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz")


def scripts() -> list[Path]:
    """The capture scripts: ``<case>.<capture suffix>.py``, sorted by name."""
    return sorted(p for p in HERE.glob("*.py") if p.name[: -len(".py")].endswith(CAPTURE_SUFFIXES))


def run(script: Path, out_dir: Path | None) -> None:
    """Run one script, writing into ``out_dir`` (beside the script when ``None``); raise on failure."""
    args = [sys.executable, str(script)] + ([str(out_dir)] if out_dir else [])
    proc = subprocess.run(args, cwd=HERE, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{proc.stderr}")


def main(argv: list[str] | None = None) -> int:
    """Regenerate (or with ``--check`` verify) all synthetic captures; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify committed captures are reproducible")
    opts = parser.parse_args(argv)
    if not opts.check:
        for script in scripts():
            run(script, None)
            print(script.name[: -len(".py")])
        return 0
    problems = []
    with tempfile.TemporaryDirectory(prefix="vrrpscope-synth-") as tmp:
        for script in scripts():
            run(script, Path(tmp))
            name = script.name[: -len(".py")]
            fresh = Path(tmp) / name
            committed = HERE / name
            if not committed.exists():
                problems.append(f"{name}: missing (run make_all.py)")
            elif committed.read_bytes() != fresh.read_bytes():
                problems.append(f"{name}: differs from what {script.name} produces")
    for capture in sorted(HERE.iterdir()):
        if capture.name.endswith(CAPTURE_SUFFIXES) and not (HERE / (capture.name + ".py")).exists():
            problems.append(f"{capture.name}: no generating script {capture.name}.py")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
