"""Test helpers shared by the test modules (import with ``from support import require_tool``).

- :func:`require_tool` / :func:`require`: skip a test whose external component is missing, with
  the reason, except when the environment says ``CI=true``: there a missing component is a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    """True when the environment variable ``CI`` is ``true`` (case-insensitive)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip the calling test with ``reason`` unless ``available``; under ``CI=true``, fail instead."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing component is a failure, not a skip)")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """Return the path of the executable ``name`` on ``PATH``; skip (fail under ``CI=true``) if absent."""
    path = shutil.which(name)
    require(path is not None, f"external tool {name!r} not found on PATH")
    assert path is not None
    return path
