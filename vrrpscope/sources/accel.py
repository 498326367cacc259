"""The compiled inner loops of the capture readers, when they were built (see ``_walk.c``).

``walk`` is the extension module or ``None``; the readers fall back to their pure-Python loops
when it is ``None`` (same frames, counts and timestamps, only slower). Setting the environment
variable ``VRRPSCOPE_PURE_PYTHON=1`` forces the fallback (tests compare both paths).
"""

from __future__ import annotations

import os
from types import ModuleType

walk: ModuleType | None
try:
    from vrrpscope.sources import _walk as walk
except ImportError:  # built without a C compiler: the pure-Python loops are used
    walk = None

if os.environ.get("VRRPSCOPE_PURE_PYTHON", "") not in ("", "0"):
    walk = None

#: True when the compiled loops are in use.
AVAILABLE = walk is not None
