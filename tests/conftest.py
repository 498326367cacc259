"""Shared pytest configuration.

- ``--update-goldens``: rewrite golden files (``samples/**/<case>.expected.json``) from the current
  output instead of comparing against them; the ``update_goldens`` fixture exposes the flag.
- Skip-or-fail helpers for missing external components live in ``tests/support.py``
  (``from support import require_tool``); a module named ``conftest`` is ambiguous once
  sub-folders have their own.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--update-goldens``."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing (review the diff!)",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True when pytest runs with ``--update-goldens``."""
    return bool(request.config.getoption("--update-goldens"))
