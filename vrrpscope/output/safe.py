"""Make strings that came from packets or file names safe for a terminal.

A crafted capture (a pcapng ``if_name``, a clear-text VRRP password, a file name) must not be able to
move the cursor or recolour the on-call engineer's terminal: every control character, including ESC
and the C1 range, is shown as a visible ``\\xNN`` escape instead.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Return ``text`` with every C0/C1 control character replaced by a visible ``\\xNN`` escape."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
