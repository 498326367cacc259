"""Read keepalived.conf the way keepalived 2.2.7 reads it, without ever raising.

Reading (checked against Debian's keepalived 2.2.7, ``keepalived -t`` and the ``keepalived -d``
configuration dump; see ``tests/test_config_parser.py``):

* Lines. ``#`` or ``!`` outside double quotes ends the line, wherever it is (``5#1`` reads ``5``).
  Words are separated by white space. A double quote starts a new word that runs to the next double
  quote, white space and comment characters included (``"ab#c d"``); the word ends at the closing
  quote. 2.2.7 has no escapes and single quotes are ordinary characters. An unmatched quote is
  reported and the rest of the line becomes the word.
* Blocks. ``{`` and ``}`` outside quotes are block delimiters even when glued to a word
  (``{192.0.2.1/24}``, ``abc}``); what is between two delimiters on one line is one statement, so
  ``authentication { auth_type PASS`` and ``virtual_ipaddress { 192.0.2.1 }`` work, and ``{`` may
  also stand alone on the line after the block's keyword. An extra ``}``, a ``{`` with no keyword
  and a block left open at the end are reported with file and line.
* ``include`` (and ``includer``/``includem``/``includew``/``includeb``/``includea``) FILE-PATTERN:
  glob wildcards and csh-style braces (``{a,b}``); a relative pattern is relative to the directory
  of the file that contains the ``include`` (keepalived changes directory to it); matches are read
  in sorted order, at the point of the ``include``, so an include may sit inside a block. A pattern
  matching nothing and an include cycle are reported.
* Conditional lines ``@ID rest`` / ``@^ID rest`` are kept when ``config_id`` matches (does not
  match); with no ``config_id`` (the default) ``@ID`` lines are dropped and ``@^ID`` lines kept, as
  keepalived does with an id matching nothing. ``$NAME=VALUE`` definitions and ``$NAME`` /
  ``${NAME}`` substitution are supported (single-line values); sequence/list blocks (``~SEQ``,
  ``~LST``) are not, and are reported.

Interpretation: ``global_defs``, ``vrrp_instance``, ``vrrp_sync_group``, ``vrrp_script`` become
records (:mod:`vrrpscope.config.model`); ``virtual_server`` and other known blocks are kept as
opaque trees and not judged. Unknown keywords are kept in the tree and reported as ``info``
diagnostics (keepalived ignores them too). Bad numbers and out-of-range values are reported the way
keepalived treats them (usually: line ignored, default used).
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from vrrpscope.config import keywords as kw
from vrrpscope.config.model import (
    DEFAULT_ADVERT_INT,
    DEFAULT_PRIORITY,
    DEFAULT_VERSION,
    Authentication,
    Diagnostic,
    GlobalDefs,
    IPAddress,
    KeepalivedConfig,
    Location,
    OpaqueBlock,
    Statement,
    SyncGroup,
    Tracked,
    UnicastPeer,
    VirtualAddress,
    VrrpInstance,
    VrrpScript,
)

#: How deep includes may nest before reading stops (keepalived has no limit; cycles are caught anyway).
MAX_INCLUDE_DEPTH = 32
#: How many rounds of ``$NAME`` substitution are done on one line (values may refer to other values).
MAX_SUBSTITUTION_ROUNDS = 16
#: v3 advertisement interval ceiling (12-bit centiseconds, RFC 5798 §5.2.7).
V3_MAX_ADVERT_CS = 4095
#: v2 advertisement interval ceiling (8-bit seconds, RFC 3768 §5.3.7).
V2_MAX_ADVERT_S = 255

_BOOL_TRUE = frozenset({"on", "true", "yes"})
_BOOL_FALSE = frozenset({"off", "false", "no"})
_PARAM_DEF = re.compile(r"^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_PARAM_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PARAM_BARE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)")


class _Brace(str):
    """A ``{`` or ``}`` outside quotes (a quoted brace is an ordinary word)."""

    __slots__ = ()


# --------------------------------------------------------------------------------------------------
# Reading lines (includes, conditionals, parameters)


@dataclass
class _ReadState:
    """Mutable state of one configuration read: diagnostics, files read, parameters."""

    config_id: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)

    def diag(self, code: str, severity: str, loc: Location, message: str, keyword: str = "", context: str = "") -> None:
        """Record one diagnostic; the message is prefixed with ``file:line``."""
        self.diagnostics.append(Diagnostic(code, severity, f"{loc}: {message}", loc, keyword, context))


def expand_braces(pattern: str) -> list[str]:
    """csh-style brace expansion: ``a{b,c{d,e}}f`` -> ``abf acdf acef``; unbalanced braces stay literal."""
    depth = 0
    start = -1
    for i, ch in enumerate(pattern):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                inner = pattern[start + 1 : i]
                parts: list[str] = []
                level = 0
                cur = ""
                for c in inner:
                    if c == "," and level == 0:
                        parts.append(cur)
                        cur = ""
                        continue
                    if c == "{":
                        level += 1
                    elif c == "}":
                        level -= 1
                    cur += c
                parts.append(cur)
                if len(parts) == 1:
                    # "{x}" with no comma is literal in csh; keep it and expand the remainder.
                    return [pattern[: i + 1] + rest for rest in expand_braces(pattern[i + 1 :])]
                out: list[str] = []
                for part in parts:
                    out.extend(expand_braces(pattern[:start] + part + pattern[i + 1 :]))
                return out
    return [pattern]


def _tokenize(text: str, loc: Location, state: _ReadState) -> list[str]:
    """Split one line into words and :class:`_Brace` markers (see module doc)."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "#!":
            break
        if ch in "{}":
            out.append(_Brace(ch))
            i += 1
            continue
        if ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                state.diag("unmatched_quote", "warning", loc, f"unmatched quote in {text.strip()!r}")
                out.append(text[i + 1 :].rstrip("\r\n"))
                break
            out.append(text[i + 1 : end])
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in '#!{}"':
            j += 1
        out.append(text[i:j])
        i = j
    return out


def _include_pattern(rest: str) -> str:
    """The file pattern of an ``include`` line: one word (``{a,b}`` braces are part of it, not
    blocks), or a double-quoted string; ``#``/``!`` end it."""
    rest = rest.strip()
    if rest.startswith('"'):
        end = rest.find('"', 1)
        return rest[1:end] if end > 0 else rest[1:]
    word = rest.split(None, 1)[0] if rest else ""
    for i, ch in enumerate(word):
        if ch in "#!":
            return word[:i]
    return word


def _substitute(text: str, params: dict[str, str]) -> str:
    """Replace ``${NAME}`` anywhere and ``$NAME`` before white space, recursively; unknown names stay."""
    if "$" not in text or not params:
        return text
    for _ in range(MAX_SUBSTITUTION_ROUNDS):
        new = _PARAM_BRACED.sub(lambda m: params.get(m.group(1), m.group(0)), text)
        new = _PARAM_BARE.sub(lambda m: params.get(m.group(1), m.group(0)), new)
        if new == text:
            break
        text = new
    return text


def _read_text(path: str) -> tuple[str | None, str]:
    """File text (UTF-8, undecodable bytes replaced) or None with the reason."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None, "no such file"
    except IsADirectoryError:
        return None, "is a directory"
    except PermissionError:
        return None, "permission denied"
    except OSError as exc:
        return None, exc.strerror or str(exc)
    return data.decode("utf-8", errors="replace"), ""


def _include_targets(pattern: str, real_dir: str, shown_dir: str) -> list[tuple[str, str]]:
    """(real path, shown path) of the files an include pattern matches, sorted, duplicates removed."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for pat in expand_braces(pattern):
        absolute = os.path.isabs(pat)
        real_pat = pat if absolute else os.path.join(real_dir, pat)
        if any(c in real_pat for c in "*?["):
            matches = sorted(glob.glob(real_pat))
        else:
            matches = [real_pat] if os.path.exists(real_pat) else []
        for m in matches:
            if os.path.isdir(m):
                continue
            key = os.path.realpath(m)
            if key in seen:
                continue
            seen.add(key)
            if absolute:
                shown = m
            else:
                rel = os.path.relpath(m, real_dir)
                shown = os.path.normpath(os.path.join(shown_dir, rel)) if shown_dir else rel
            out.append((m, shown))
    return out


def _lines(
    text: str, shown: str, real: str, state: _ReadState, stack: tuple[str, ...]
) -> Iterator[tuple[Location, str]]:
    """Yield (location, logical line) for a file's text, following includes depth-first."""
    real_dir = os.path.dirname(os.path.abspath(real)) if real else os.getcwd()
    shown_dir = os.path.dirname(shown)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        loc = Location(shown, lineno)
        line = raw
        stripped = line.lstrip()
        if not stripped:
            continue
        # Include detection comes first in keepalived (before conditionals and parameters).
        first = stripped.split(None, 1)
        if first[0] in kw.INCLUDE_KEYWORDS:
            pattern = _include_pattern(stripped[len(first[0]) :])
            if not pattern:
                state.diag("missing_value", "warning", loc, f"'{first[0]}' needs a file name or pattern")
                continue
            yield from _include(pattern, loc, real_dir, shown_dir, state, stack)
            continue
        if stripped.startswith("@"):
            parts = stripped[1:].split(None, 1)
            head = parts[0] if parts else ""
            rest = parts[1] if len(parts) > 1 else ""
            negative = head.startswith("^")
            ident = head[1:] if negative else head
            matched = state.config_id is not None and ident == state.config_id
            if matched == negative:
                continue
            line = rest
            stripped = line.lstrip()
            if not stripped:
                continue
        m = _PARAM_DEF.match(line)
        if m:
            value = m.group(2)
            state.params[m.group(1)] = value.rstrip()
            continue
        if stripped.startswith("~"):
            state.diag(
                "unsupported_syntax",
                "info",
                loc,
                f"sequence/list block {stripped.split()[0]!r} is not expanded by vrrpscope; line skipped",
            )
            continue
        yield loc, _substitute(line, state.params)


def _include(
    pattern: str,
    loc: Location,
    real_dir: str,
    shown_dir: str,
    state: _ReadState,
    stack: tuple[str, ...],
) -> Iterator[tuple[Location, str]]:
    """Lines of every file an ``include`` matches (cycle and depth checked)."""
    targets = _include_targets(pattern, real_dir, shown_dir)
    if not targets:
        state.diag("include_no_match", "warning", loc, f"include {pattern!r} matches no file")
        return
    for real, shown in targets:
        key = os.path.realpath(real)
        if key in stack:
            state.diag("include_cycle", "critical", loc, f"include cycle: {shown} is already being read; skipped")
            continue
        if len(stack) >= MAX_INCLUDE_DEPTH:
            state.diag("include_cycle", "critical", loc, f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
            continue
        text, why = _read_text(real)
        if text is None:
            state.diag("include_unreadable", "critical", loc, f"cannot read included file {shown}: {why}")
            continue
        state.files.append(shown)
        yield from _lines(text, shown, real, state, (*stack, key))


# --------------------------------------------------------------------------------------------------
# Building the statement tree


@dataclass
class _Node:
    """Mutable statement while the tree is built."""

    keyword: str
    args: list[str]
    location: Location
    children: list[_Node] | None = None
    serial: int = 0

    def freeze(self) -> Statement:
        """The immutable :class:`Statement`."""
        kids = None if self.children is None else tuple(c.freeze() for c in self.children)
        return Statement(self.keyword, tuple(self.args), self.location, kids)


class _TreeBuilder:
    """Stack of open blocks; statements are cut at line ends and at braces."""

    def __init__(self, state: _ReadState) -> None:
        self.state = state
        self.root = _Node("", [], Location("", 0), [])
        self.stack: list[_Node] = [self.root]

    @property
    def container(self) -> list[_Node]:
        """Children list of the innermost open block."""
        kids = self.stack[-1].children
        assert kids is not None
        return kids

    def add(self, words: list[str], loc: Location, serial: int, block: bool) -> None:
        """Append a statement (and open it when ``block``)."""
        node = _Node(words[0], words[1:], loc, [] if block else None, serial)
        self.container.append(node)
        if block:
            self.stack.append(node)

    def open_brace(self, words: list[str], loc: Location, serial: int, first_on_line: bool) -> None:
        """A ``{``: opens the statement before it, or the previous line's statement."""
        if words:
            self.add(words, loc, serial, block=True)
            return
        kids = self.container
        if first_on_line and kids and kids[-1].children is None and kids[-1].serial < serial:
            kids[-1].children = []
            self.stack.append(kids[-1])
            return
        self.state.diag("unbalanced_brace", "critical", loc, "unexpected '{' with no block keyword before it")
        self.stack.append(_Node("", [], loc, [], serial))

    def close_brace(self, loc: Location) -> None:
        """A ``}``: closes the innermost block, or is reported as extra."""
        if len(self.stack) == 1:
            self.state.diag("unbalanced_brace", "critical", loc, "extra '}' closes no block")
            return
        done = self.stack.pop()
        if done.keyword == "" and done.children is not None:
            # the anonymous block of a stray "{": keep its content in the parent
            self.container.extend(done.children)

    def feed(self, loc: Location, text: str, serial: int) -> None:
        """Add one logical line."""
        words: list[str] = []
        first = True
        for tok in _tokenize(text, loc, self.state):
            if isinstance(tok, _Brace):
                if tok == "{":
                    self.open_brace(words, loc, serial, first)
                else:
                    if words:
                        self.add(words, loc, serial, block=False)
                    self.close_brace(loc)
                words = []
            else:
                words.append(tok)
            first = False
        if words:
            self.add(words, loc, serial, block=False)

    def finish(self) -> list[Statement]:
        """Close what is still open (reporting it) and freeze the tree."""
        while len(self.stack) > 1:
            node = self.stack.pop()
            what = " ".join([node.keyword, *node.args]).strip() or "{"
            self.state.diag(
                "unclosed_block",
                "critical",
                node.location,
                f"block '{what}' opened here is never closed (missing '}}' before the end of the file)",
            )
        return [c.freeze() for c in self.container]


def build_tree(lines: Iterable[tuple[Location, str]], state: _ReadState) -> list[Statement]:
    """Turn logical lines into a statement tree; brace problems become diagnostics."""
    builder = _TreeBuilder(state)
    for serial, (loc, text) in enumerate(lines, start=1):
        builder.feed(loc, text, serial)
    return builder.finish()


# --------------------------------------------------------------------------------------------------
# Values


class _Values:
    """Typed value readers that report problems as diagnostics and return None."""

    def __init__(self, state: _ReadState) -> None:
        self.state = state

    def arg(self, st: Statement, what: str | None = None) -> str | None:
        """The first argument, or None with a ``missing_value`` diagnostic."""
        if st.args:
            return st.args[0]
        self.state.diag("missing_value", "warning", st.location, f"'{st.keyword}' needs {what or 'a value'}")
        return None

    def integer(self, st: Statement, lo: int, hi: int, consequence: str = "line ignored") -> int | None:
        """An integer in ``lo..hi``."""
        text = self.arg(st, f"a number in {lo}..{hi}")
        if text is None:
            return None
        try:
            value = int(text, 10)
        except ValueError:
            self.state.diag(
                "bad_number",
                "warning",
                st.location,
                f"{st.keyword} {text!r} is not a whole number; {consequence}",
            )
            return None
        if not lo <= value <= hi:
            self.state.diag(
                "out_of_range",
                "warning",
                st.location,
                f"{st.keyword} {value} is outside {lo}..{hi}; {consequence}",
            )
            return None
        return value

    def decimal(self, st: Statement, lo: Decimal, hi: Decimal, consequence: str = "line ignored") -> Decimal | None:
        """A decimal number in ``lo..hi`` (exact, no binary floating point)."""
        text = self.arg(st, f"a number in {lo}..{hi}")
        if text is None:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.state.diag(
                "bad_number", "warning", st.location, f"{st.keyword} {text!r} is not a number; {consequence}"
            )
            return None
        if not lo <= value <= hi:
            self.state.diag(
                "out_of_range",
                "warning",
                st.location,
                f"{st.keyword} {text} is outside {lo}..{hi}; {consequence}",
            )
            return None
        return value

    def boolean(self, st: Statement) -> bool:
        """A keyword with an optional on/off/true/false/yes/no argument (bare = true)."""
        if not st.args:
            return True
        word = st.args[0].lower()
        if word in _BOOL_TRUE:
            return True
        if word in _BOOL_FALSE:
            return False
        self.state.diag(
            "bad_value",
            "warning",
            st.location,
            f"{st.keyword} {st.args[0]!r} is not on/off/true/false/yes/no",
        )
        return True

    def address(self, text: str, st: Statement, what: str) -> IPAddress | None:
        """An IPv4/IPv6 address (scope ids such as ``%eth0`` dropped)."""
        try:
            return ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            self.state.diag("bad_address", "warning", st.location, f"{what} {text!r} is not an IP address; ignored")
            return None

    def weight(self, st: Statement, words: Sequence[str], name: str) -> tuple[int | None, bool]:
        """``weight N`` and ``reverse`` words after a tracked name (weight in -253..253)."""
        weight: int | None = None
        reverse = False
        i = 0
        while i < len(words):
            w = words[i]
            if w == "weight" and i + 1 < len(words):
                try:
                    value = int(words[i + 1], 10)
                except ValueError:
                    self.state.diag(
                        "bad_number",
                        "warning",
                        st.location,
                        f"weight {words[i + 1]!r} for {name} is not a number",
                    )
                else:
                    if -253 <= value <= 253:
                        weight = value
                    else:
                        self.state.diag(
                            "out_of_range",
                            "warning",
                            st.location,
                            f"weight {value} for {name} must be between -253 and 253; ignored",
                        )
                i += 2
                continue
            if w == "reverse":
                reverse = True
            i += 1
        return weight, reverse


def _vip(st: Statement, excluded: bool, vals: _Values) -> VirtualAddress | None:
    """One address line: ``IP[/PLEN] [brd IP] [dev IF] [scope S] [label L] [other options...]``."""
    words = [st.keyword, *st.args]
    text = words[0]
    try:
        if "/" in text:
            addr = ipaddress.ip_interface(text)
        else:
            addr = ipaddress.ip_interface(text.split("%", 1)[0])
    except ValueError:
        vals.state.diag("bad_address", "warning", st.location, f"{text!r} is not an IP address[/prefix]; ignored")
        return None
    opts: dict[str, str] = {}
    other: list[str] = []
    valued = {"brd", "dev", "scope", "label", "peer", "preferred_lft", "track_group", "broadcast"}
    i = 1
    while i < len(words):
        w = words[i]
        if w in valued and i + 1 < len(words):
            opts[w] = words[i + 1]
            if w not in ("brd", "dev", "scope", "label", "broadcast"):
                other.extend([w, words[i + 1]])
            i += 2
            continue
        other.append(w)
        i += 1
    return VirtualAddress(
        address=addr,
        location=st.location,
        excluded=excluded,
        dev=opts.get("dev"),
        label=opts.get("label"),
        scope=opts.get("scope"),
        brd=opts.get("brd", opts.get("broadcast")),
        options=tuple(other),
    )


# --------------------------------------------------------------------------------------------------
# Interpreting blocks


def _unknown(state: _ReadState, st: Statement, context: str) -> None:
    what = "block" if st.is_block else "keyword"
    state.diag(
        "unknown_keyword",
        "info",
        st.location,
        f"unknown {what} '{st.keyword}' in {context} (keepalived 2.2.7 ignores it)",
        keyword=st.keyword,
        context=context,
    )


def _need_block(state: _ReadState, st: Statement) -> bool:
    if st.is_block:
        return True
    state.diag("missing_brace", "critical", st.location, f"'{st.keyword}' must be followed by a '{{ ... }}' block")
    return False


def _global_defs(blocks: Sequence[Statement], state: _ReadState) -> GlobalDefs:
    vals = _Values(state)
    where: dict[str, Location] = {}
    garp: dict[str, str] = {}
    other: dict[str, tuple[str, ...]] = {}
    router_id: str | None = None
    version: int | None = None
    strict = skip = check_src = False
    group4 = group6 = None
    down_adverts: int | None = None
    for block in blocks:
        for st in block.children or ():
            k = st.keyword
            if k not in kw.GLOBAL_DEFS:
                _unknown(state, st, "global_defs")
                continue
            where[k] = st.location
            if k == "router_id":
                router_id = vals.arg(st, "a name")
            elif k == "vrrp_version":
                v = vals.integer(st, 2, 3, "default 2 used")
                if v is not None:
                    version = v
            elif k == "vrrp_strict":
                strict = True
            elif k == "vrrp_skip_check_adv_addr":
                skip = vals.boolean(st)
            elif k == "vrrp_check_unicast_src":
                check_src = True
            elif k == "vrrp_mcast_group4":
                group4 = vals.arg(st, "an IPv4 multicast address")
            elif k == "vrrp_mcast_group6":
                group6 = vals.arg(st, "an IPv6 multicast address")
            elif k == "vrrp_down_timer_adverts":
                down_adverts = vals.integer(st, 1, 100, "default 3 used")
            elif k.startswith("vrrp_garp_") or k in ("vrrp_gna_interval", "vrrp_min_garp"):
                garp[k] = " ".join(st.args)
            else:
                other[k] = st.args
    return GlobalDefs(
        location=blocks[0].location if blocks else None,
        router_id=router_id,
        vrrp_version=version,
        vrrp_strict=strict,
        vrrp_skip_check_adv_addr=skip,
        vrrp_check_unicast_src=check_src,
        vrrp_mcast_group4=group4,
        vrrp_mcast_group6=group6,
        vrrp_down_timer_adverts=down_adverts,
        garp=garp,
        other=other,
        where=where,
    )


def advert_int_seconds(configured: Decimal | None, version: int) -> float:
    """The interval keepalived runs: v2 whole seconds half-up (min 1, max 255); v3 10 ms half-up.

    keepalived keeps times in microseconds; the value is first rounded to a microsecond, then to the
    protocol's unit (``keepalived -d`` shows 1.5 -> 2 s, 0.4 -> 1 s, 0.335 -> 340 ms, 0.125 -> 130 ms).
    """
    raw = DEFAULT_ADVERT_INT if configured is None else configured
    micro = int((raw * 1_000_000).to_integral_value(rounding=ROUND_HALF_UP))
    if version == 2:
        secs = (micro + 500_000) // 1_000_000
        return float(min(max(secs, 1), V2_MAX_ADVERT_S))
    cs = (micro + 5_000) // 10_000
    return min(max(cs, 1), V3_MAX_ADVERT_CS) / 100


@dataclass
class _InstanceDraft:
    """Mutable collection of one instance's settings before the derived facts are computed."""

    name: str
    location: Location
    where: dict[str, Location] = field(default_factory=dict)
    state: str | None = None
    interface: str | None = None
    vrid: int | None = None
    priority: int | None = None
    version: int | None = None
    advert_int: Decimal | None = None
    auth: Authentication | None = None
    vips: list[VirtualAddress] = field(default_factory=list)
    excluded: list[VirtualAddress] = field(default_factory=list)
    unicast_src_ip: IPAddress | None = None
    peers: list[UnicastPeer] = field(default_factory=list)
    mcast_dst_ip: str | None = None
    nopreempt: bool = False
    preempt_delay: Decimal | None = None
    use_vmac: bool = False
    vmac_xmit_base: bool = False
    native_ipv6: bool = False
    strict_mode: bool | None = None
    skip_check_adv_addr: bool | None = None
    garp: dict[str, str] = field(default_factory=dict)
    track_interfaces: list[Tracked] = field(default_factory=list)
    track_scripts: list[Tracked] = field(default_factory=list)


def _authentication(st: Statement, state: _ReadState) -> Authentication | None:
    vals = _Values(state)
    if not _need_block(state, st):
        return None
    auth_type = password = None
    type_loc = pass_loc = None
    for c in st.children or ():
        if c.keyword == "auth_type":
            t = vals.arg(c, "PASS or AH")
            if t is not None and t.upper() not in ("PASS", "AH"):
                state.diag("bad_value", "warning", c.location, f"auth_type {t!r} is neither PASS nor AH")
            auth_type, type_loc = t, c.location
        elif c.keyword == "auth_pass":
            password, pass_loc = vals.arg(c, "a password"), c.location
        else:
            _unknown(state, c, "authentication")
    return Authentication(auth_type, password, st.location, type_loc, pass_loc)


def _instance_draft(st: Statement, state: _ReadState) -> _InstanceDraft | None:
    vals = _Values(state)
    if not _need_block(state, st):
        return None
    if not st.args:
        state.diag("missing_value", "critical", st.location, "vrrp_instance needs a name; block ignored")
        return None
    d = _InstanceDraft(st.args[0], st.location)
    for c in st.children or ():
        k = c.keyword
        if k not in kw.VRRP_INSTANCE:
            _unknown(state, c, f"vrrp_instance {d.name}")
            continue
        d.where[k] = c.location
        if k in kw.INSTANCE_LIST_BLOCKS and not _need_block(state, c):
            continue
        if k == "state":
            s = vals.arg(c, "MASTER or BACKUP")
            if s is not None and s not in ("MASTER", "BACKUP"):
                state.diag("bad_value", "warning", c.location, f"unknown state {s!r}; keepalived uses BACKUP")
                s = "BACKUP"
            d.state = s
        elif k == "interface":
            d.interface = vals.arg(c, "an interface name")
        elif k == "virtual_router_id":
            d.vrid = vals.integer(c, 1, 255, "instance has no valid VRID")
        elif k == "priority":
            d.priority = vals.integer(c, 1, 255, f"keepalived uses the default {DEFAULT_PRIORITY}")
        elif k == "version":
            d.version = vals.integer(c, 2, 3, "line ignored")
        elif k == "advert_int":
            d.advert_int = vals.decimal(c, Decimal("0.01"), Decimal(255), "keepalived uses the default 1 s")
        elif k == "authentication":
            d.auth = _authentication(c, state)
        elif k in ("virtual_ipaddress", "virtual_ipaddress_excluded"):
            target = d.vips if k == "virtual_ipaddress" else d.excluded
            for line in c.children or ():
                vip = _vip(line, k == "virtual_ipaddress_excluded", vals)
                if vip is not None:
                    target.append(vip)
        elif k == "unicast_src_ip":
            text = vals.arg(c, "an IP address")
            d.unicast_src_ip = vals.address(text, c, "unicast_src_ip") if text else None
        elif k == "unicast_peer":
            for line in c.children or ():
                _peer(line, d, vals)
        elif k == "mcast_dst_ip":
            d.mcast_dst_ip = vals.arg(c, "a multicast address")
        elif k == "nopreempt":
            d.nopreempt = True
        elif k == "preempt":
            d.nopreempt = False
        elif k == "preempt_delay":
            d.preempt_delay = vals.decimal(c, Decimal(0), Decimal(1000), "line ignored")
        elif k == "use_vmac":
            d.use_vmac = True
        elif k == "vmac_xmit_base":
            d.vmac_xmit_base = True
        elif k == "native_ipv6":
            d.native_ipv6 = True
        elif k == "strict_mode":
            d.strict_mode = vals.boolean(c)
        elif k == "skip_check_adv_addr":
            d.skip_check_adv_addr = vals.boolean(c)
        elif k.startswith("garp_"):
            d.garp[k] = " ".join(c.args)
        elif k in ("track_interface", "track_script"):
            for line in c.children or ():
                weight, reverse = vals.weight(line, line.args, line.keyword)
                item = Tracked(line.keyword, line.location, weight, reverse)
                (d.track_interfaces if k == "track_interface" else d.track_scripts).append(item)
    return d


def _peer(line: Statement, d: _InstanceDraft, vals: _Values) -> None:
    addr = vals.address(line.keyword, line, "unicast peer")
    if addr is None:
        return
    ttl: dict[str, int] = {}
    words = list(line.args)
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("min_ttl", "max_ttl") and i + 1 < len(words):
            try:
                v = int(words[i + 1], 10)
            except ValueError:
                vals.state.diag("bad_number", "warning", line.location, f"{w} {words[i + 1]!r} is not a number")
            else:
                if 0 <= v <= 255:
                    ttl[w] = v
                else:
                    vals.state.diag("out_of_range", "warning", line.location, f"{w} {v} is outside 0..255")
            i += 2
            continue
        vals.state.diag("bad_value", "warning", line.location, f"unknown unicast_peer option {w!r}")
        i += 1
    d.peers.append(UnicastPeer(addr, line.location, ttl.get("min_ttl"), ttl.get("max_ttl")))


def _finish_instance(d: _InstanceDraft, gd: GlobalDefs, node: str, state: _ReadState) -> VrrpInstance:
    """Derive family, version, interval, priority and strictness the way keepalived does."""
    if d.native_ipv6:
        family = "ipv6"
    elif d.vips:
        family = d.vips[0].family
    elif d.unicast_src_ip is not None:
        family = "ipv6" if d.unicast_src_ip.version == 6 else "ipv4"
    elif d.peers:
        family = "ipv6" if d.peers[0].address.version == 6 else "ipv4"
    else:
        family = "ipv4"
    vips: list[VirtualAddress] = []
    for v in d.vips:
        if v.family != family:
            state.diag(
                "family_mismatch",
                "warning",
                v.location,
                f"({d.name}) {v.address} is {v.family} but the instance is {family}; keepalived ignores it "
                "(use virtual_ipaddress_excluded for the other family)",
            )
            continue
        vips.append(v)
    if not vips:
        state.diag(
            "no_vip",
            "warning",
            d.location,
            f"({d.name}) no virtual_ipaddress; keepalived requires at least one",
        )
    if d.vrid is None and "virtual_router_id" not in d.where:
        state.diag("missing_value", "critical", d.location, f"({d.name}) virtual_router_id is not set")
    configured_version = d.version
    strict = gd.vrrp_strict if d.strict_mode is None else d.strict_mode
    if configured_version is not None:
        # keepalived 2.2.7 keeps an explicit "version 2" on IPv6 (VRRPv2 over IPv6) unless strict.
        version = 3 if (family == "ipv6" and strict) else configured_version
    elif family == "ipv6":
        version = 3
    else:
        version = gd.vrrp_version or DEFAULT_VERSION
    skip = gd.vrrp_skip_check_adv_addr if d.skip_check_adv_addr is None else d.skip_check_adv_addr
    shown = d.location.file
    return VrrpInstance(
        name=d.name,
        location=d.location,
        node=node,
        file=shown,
        family=family,
        version=version,
        advert_int=advert_int_seconds(d.advert_int, version),
        priority=d.priority if d.priority is not None else DEFAULT_PRIORITY,
        strict=strict,
        state=d.state,
        interface=d.interface,
        vrid=d.vrid,
        configured_priority=d.priority,
        configured_version=configured_version,
        configured_advert_int=d.advert_int,
        auth=d.auth,
        vips=tuple(vips),
        excluded_vips=tuple(d.excluded),
        unicast_src_ip=d.unicast_src_ip,
        unicast_peers=tuple(d.peers),
        mcast_dst_ip=d.mcast_dst_ip,
        nopreempt=d.nopreempt,
        preempt_delay=d.preempt_delay,
        use_vmac=d.use_vmac,
        vmac_xmit_base=d.vmac_xmit_base,
        native_ipv6=d.native_ipv6,
        skip_check_adv_addr=skip,
        garp=dict(d.garp),
        track_interfaces=tuple(d.track_interfaces),
        track_scripts=tuple(d.track_scripts),
        where=dict(d.where),
    )


def _script(st: Statement, state: _ReadState) -> VrrpScript | None:
    vals = _Values(state)
    if not _need_block(state, st):
        return None
    if not st.args:
        state.diag("missing_value", "warning", st.location, "vrrp_script needs a name; block ignored")
        return None
    where: dict[str, Location] = {}
    script: str | None = None
    interval: Decimal | None = None
    weight = fall = rise = None
    for c in st.children or ():
        k = c.keyword
        if k not in kw.VRRP_SCRIPT:
            _unknown(state, c, f"vrrp_script {st.args[0]}")
            continue
        where[k] = c.location
        if k == "script":
            script = " ".join(c.args) if c.args else vals.arg(c, "a command")
        elif k == "interval":
            interval = vals.decimal(c, Decimal("0.000001"), Decimal(2**31), "default 1 s used")
        elif k == "weight":
            weight = vals.integer(c, -253, 253, "default 0 used")
        elif k == "fall":
            fall = vals.integer(c, 1, 2**31 - 1, "default 1 used")
        elif k == "rise":
            rise = vals.integer(c, 1, 2**31 - 1, "default 1 used")
    return VrrpScript(st.args[0], st.location, script, interval, weight, fall, rise, where)


def _sync_group(st: Statement, state: _ReadState) -> SyncGroup | None:
    if not _need_block(state, st):
        return None
    if not st.args:
        state.diag("missing_value", "warning", st.location, "vrrp_sync_group needs a name; block ignored")
        return None
    members: list[str] = []
    for c in st.children or ():
        if c.keyword not in kw.VRRP_SYNC_GROUP:
            _unknown(state, c, f"vrrp_sync_group {st.args[0]}")
            continue
        if c.keyword == "group":
            if _need_block(state, c):
                members.extend(m.keyword for m in c.children or ())
    return SyncGroup(st.args[0], st.location, tuple(members))


def interpret(statements: Sequence[Statement], path: str, state: _ReadState, readable: bool) -> KeepalivedConfig:
    """Turn the statement tree into a :class:`KeepalivedConfig` (global_defs first, as keepalived)."""
    vals = _Values(state)
    globals_blocks = [s for s in statements if s.keyword == "global_defs" and _need_block(state, s)]
    gd = _global_defs(globals_blocks, state)
    node = gd.router_id or Path(path).stem
    drafts: list[_InstanceDraft] = []
    scripts: list[VrrpScript] = []
    groups: list[SyncGroup] = []
    opaque: list[OpaqueBlock] = []
    statics: list[VirtualAddress] = []
    # reading position of each instance and the first definition of each script: keepalived
    # resolves a track_script name while reading the instance, so a script defined later is unknown
    instance_at: dict[int, int] = {}
    script_at: dict[str, tuple[int, Location]] = {}
    for position, st in enumerate(statements):
        k = st.keyword
        if k == "global_defs":
            continue
        if k == "vrrp_instance":
            d = _instance_draft(st, state)
            if d is not None:
                instance_at[id(d)] = position
                drafts.append(d)
        elif k == "vrrp_script":
            s = _script(st, state)
            if s is not None:
                script_at.setdefault(s.name, (position, s.location))
                scripts.append(s)
        elif k == "vrrp_sync_group":
            g = _sync_group(st, state)
            if g is not None:
                groups.append(g)
        elif k in kw.OPAQUE_BLOCKS:
            if _need_block(state, st):
                opaque.append(OpaqueBlock(k, st.args, st.location, st))
                if k == "static_ipaddress":
                    for line in st.children or ():
                        addr = _vip(line, False, vals)
                        if addr is not None:
                            statics.append(addr)
        elif k in kw.TOP_STATEMENTS:
            continue
        else:
            _unknown(state, st, "the top level")
    for d in drafts:
        for t in d.track_scripts:
            defined = script_at.get(t.name)
            if defined is None:
                state.diag(
                    "undefined_reference",
                    "warning",
                    t.location,
                    f"({d.name}) track_script {t.name!r} names no vrrp_script; keepalived ignores it",
                )
            elif defined[0] > instance_at[id(d)]:
                state.diag(
                    "undefined_reference",
                    "warning",
                    t.location,
                    f"({d.name}) track_script {t.name!r}: its vrrp_script is defined after this instance "
                    f"(at {defined[1]}), so keepalived ignores it ('track script {t.name} not found, "
                    "ignoring...'); move the vrrp_script block above the instance",
                )
    instance_names = {d.name for d in drafts}
    for g in groups:
        for member in g.instances:
            if member not in instance_names:
                state.diag(
                    "undefined_reference",
                    "warning",
                    g.location,
                    f"vrrp_sync_group {g.name} lists {member!r}, which is no vrrp_instance",
                )
    instances: list[VrrpInstance] = []
    seen: dict[str, Location] = {}
    for d in drafts:
        if d.name in seen:
            state.diag(
                "duplicate_instance",
                "critical",
                d.location,
                f"vrrp_instance {d.name} is defined twice (first at {seen[d.name]})",
            )
        seen.setdefault(d.name, d.location)
        instances.append(_finish_instance(d, gd, node, state))
    return KeepalivedConfig(
        path=path,
        node=node,
        readable=readable,
        files=tuple(state.files),
        global_defs=gd,
        instances=tuple(instances),
        sync_groups=tuple(groups),
        scripts=tuple(scripts),
        opaque_blocks=tuple(opaque),
        static_addresses=tuple(statics),
        diagnostics=tuple(state.diagnostics),
        statements=tuple(statements),
    )


# --------------------------------------------------------------------------------------------------
# Public entry points


def parse_text(
    text: str,
    *,
    name: str = "keepalived.conf",
    base_dir: str | os.PathLike[str] | None = None,
    config_id: str | None = None,
) -> KeepalivedConfig:
    """Parse configuration text; ``name`` is the file name shown in locations, relative includes are
    resolved against ``base_dir`` (default: the directory part of ``name``, else the current one)."""
    state = _ReadState(config_id)
    state.files.append(name)
    real = os.path.join(os.fspath(base_dir), os.path.basename(name)) if base_dir is not None else name
    lines = _lines(text, name, real, state, (os.path.realpath(real),))
    statements = build_tree(lines, state)
    return interpret(statements, name, state, readable=True)


def parse_file(path: str | os.PathLike[str], *, config_id: str | None = None) -> KeepalivedConfig:
    """Parse a keepalived.conf and everything it includes. Never raises: an unreadable file gives a
    config with ``readable=False`` and an ``unreadable`` diagnostic."""
    shown = os.fspath(path)
    text, why = _read_text(shown)
    if text is None:
        state = _ReadState(config_id)
        state.diag("unreadable", "critical", Location(shown, 0), f"cannot read {shown}: {why}")
        return KeepalivedConfig(path=shown, node=Path(shown).stem, readable=False, diagnostics=tuple(state.diagnostics))
    state = _ReadState(config_id)
    state.files.append(shown)
    statements = build_tree(_lines(text, shown, shown, state, (os.path.realpath(shown),)), state)
    return interpret(statements, shown, state, readable=True)


def parse_files(paths: Sequence[str | os.PathLike[str]], *, config_id: str | None = None) -> list[KeepalivedConfig]:
    """Parse one file per node. Node names are made unique (``name``, ``name#2`` ...) if two collide."""
    configs = [parse_file(p, config_id=config_id) for p in paths]
    counts: dict[str, int] = {}
    out: list[KeepalivedConfig] = []
    for cfg in configs:
        counts[cfg.node] = counts.get(cfg.node, 0) + 1
        if counts[cfg.node] > 1:
            out.append(_renamed(cfg, f"{cfg.node}#{counts[cfg.node]}"))
        else:
            out.append(cfg)
    return out


def _renamed(cfg: KeepalivedConfig, node: str) -> KeepalivedConfig:
    from dataclasses import replace

    return replace(cfg, node=node, instances=tuple(replace(i, node=node) for i in cfg.instances))
