"""Make strings that came from packets or file names safe for a terminal.

A crafted capture (a pcapng ``if_name``, a clear-text VRRP password, a file name) must not be able to
move the cursor or recolour the on-call engineer's terminal: every control character, including ESC
and the C1 range, is shown as a visible ``\\xNN`` escape instead.

Nor may it change what the engineer *reads*: Unicode bidirectional controls (the "Trojan Source"
overrides and isolates, LRM/RLM/ALM), zero-width characters, the byte-order mark and the line and
paragraph separators move no cursor, but they reorder, hide or split the text around them. They are
shown as visible ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import re

#: C0 controls, DEL and C1 controls (what a terminal acts on).
_C0_C1 = "\x00-\x1f\x7f-\x9f"
#: Invisible format characters that reorder or hide text: ALM; ZWSP, ZWNJ, ZWJ, LRM, RLM; LS, PS;
#: LRE, RLE, PDF, LRO, RLO; word joiner and invisible operators; LRI, RLI, FSI, PDI; BOM/ZWNBSP.
_INVISIBLE = "\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_UNSAFE = re.compile(f"[{_C0_C1}{_INVISIBLE}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """Return ``text`` with every C0/C1 control character shown as a visible ``\\xNN`` escape and
    every bidirectional or zero-width format character as ``\\uXXXX``."""
    return _UNSAFE.sub(_visible, text)
