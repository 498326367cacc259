"""Fuzz target: ``open_capture`` on arbitrary bytes, then the whole analysis of what it delivered.

Each input is written to one temporary file (the readers take paths) and read with
:func:`vrrpscope.sources.open_capture`: the contract is "never raises on bad input", every item a
:class:`Frame` or :class:`SourceProblem`. The frames then go through the real pipeline
(:func:`vrrpscope.pipeline.iter_packets`) into an :class:`~vrrpscope.analysis.AnalysisEngine`, and the
result is rendered as the JSON contract, so reconstructor and detectors see fuzzed values too.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

#: Scratch directory: given by run.py (which removes it; libFuzzer's exit skips atexit), else our own.
_DIR = os.environ.get("VRRPSCOPE_FUZZ_SCRATCH") or tempfile.mkdtemp(prefix="vrrpscope-fuzz-")
if "VRRPSCOPE_FUZZ_SCRATCH" not in os.environ:
    atexit.register(shutil.rmtree, _DIR, True)
_PATH = os.path.join(_DIR, "input.cap")


def check_one(data: bytes) -> None:
    """Read one fuzz input as a capture file and analyse it; raise on any contract violation."""
    import json

    from vrrpscope.analysis import analyze
    from vrrpscope.sources import Frame, SourceProblem, open_capture

    with open(_PATH, "wb") as fh:
        fh.write(data)
    with open_capture(_PATH) as reader:
        for item in reader:
            if not isinstance(item, (Frame, SourceProblem)):
                raise AssertionError(f"reader yielded {type(item).__name__}")
            if isinstance(item, Frame) and len(item.data) > 1 << 20:
                raise AssertionError("frame larger than any record limit")
    json.dumps(analyze([_PATH], show_secrets=True).to_dict())


def main(argv: list[str]) -> None:
    """libFuzzer entry point (``python fuzz/fuzz_sources.py [libFuzzer flags] [corpus dirs]``)."""
    import atheris

    with atheris.instrument_imports():
        import dissectors  # noqa: F401
        import vrrpscope.analysis
        import vrrpscope.pipeline
        import vrrpscope.reconstruct
        import vrrpscope.sources  # noqa: F401
    atheris.Setup(argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
