"""tshark as the oracle: every capture under ``samples/`` decoded natively and by tshark, compared.

For each capture (``samples/**/*.pcap``, ``*.pcapng``, ``*.gz``: synthetic, real and scenario
captures alike) the native path — :func:`vrrpscope.sources.open_capture` and
:func:`dissectors.packet.dissect` — is compared with tshark 4.0.17 (``LC_ALL=C``, ``-n``, ``-T
fields``):

* the **set of frames**: what tshark shows for ``-Y "vrrp || arp || icmpv6.type==135 ||
  icmpv6.type==136"`` must be exactly what the native decoder reports (VRRP, CARP, ARP, ND and
  malformed records), minus the documented differences below;
* **every field** of every record the two share: frame time (within 1 µs), pcapng interface,
  Ethernet/SLL addresses, VLAN tags, SLL2 interface index, IP/IPv6 addresses, TTL/hop limit,
  protocol, the IPsec AH header, every VRRP header field, the address list, the checksum value and
  its validity (with tshark's default preferences for the pseudo-header variant and in a second
  pass with ``-o vrrp.v3_checksum_as_in_v2:TRUE`` for the RFC 9568 message-only variant), the
  v2 simple-text password, all ARP fields, and the ICMPv6 ND type, code, checksum, target, R/S/O
  flags and link-layer address options;
* CARP fields against tshark's CARP dissector (third pass, ``-o ip.try_heuristic_first:TRUE``);
* malformed records: tshark must see something wrong with the same frame.

Known oracle differences — each is encoded below as a :class:`KnownDifference` and used only where
its condition holds; nothing else is tolerated:
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from dissectors.packet import dissect
from dissectors.records import (
    CHECKSUM_VARIANTS,
    ArpPacket,
    CarpAdvert,
    Dissected,
    Malformed,
    NdMessage,
    VrrpV2Advert,
    VrrpV3Advert,
)
from vrrpscope.sources import Frame, SourceProblem, open_capture

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".gz")
DISPLAY_FILTER = "vrrp || arp || icmpv6.type==135 || icmpv6.type==136"
TIME_TOLERANCE = 1e-6  # seconds: tshark prints ns, the native time is a float


@dataclass(frozen=True)
class KnownDifference:
    """A documented, deliberate disagreement between tshark 4.0.17 and vrrpscope."""

    id: str
    reason: str


ICMP_QUOTE = KnownDifference(
    "icmp_quote",
    "tshark's display filter matches VRRP/ARP/ND headers quoted inside ICMP/ICMPv6 error messages "
    "(e.g. protocol-unreachable answers to unicast adverts, PROTOCOL.md 'dying keepalived' item 9); "
    "they are not adverts and vrrpscope does not report them.",
)
CARP_AS_VRRP = KnownDifference(
    "carp_as_vrrp",
    "With default preferences tshark decodes CARP (IP protocol 112) as VRRPv2: its CARP dissector is "
    "only a heuristic, tried after the protocol table. vrrpscope reports CARP as CARP; its fields are "
    "checked against tshark's CARP dissector with -o ip.try_heuristic_first:TRUE.",
)
CARP_HEURISTIC = KnownDifference(
    "carp_heuristic",
    "tshark's CARP heuristic requires authlen 7; vrrpscope also accepts a 36-byte message whose "
    "checksum covers all 36 bytes, so such CARP adverts have no tshark CARP decode to compare with.",
)
TRAILER_CHECKSUM = KnownDifference(
    "trailer_checksum",
    "keepalived's auth_hmac trailer (28 bytes after the VRRP message) is not covered by the IPv4 "
    "checksum; tshark sums the trailer and calls such checksums bad. vrrpscope validates the "
    "message without the trailer (and, for IPv6, also with it, as the kernel computes it).",
)
MCAST_PSEUDO = KnownDifference(
    "mcast_pseudo_checksum",
    "tshark has no mode for keepalived's pre-1.3.6 unicast checksum (IPv4 pseudo-header with "
    "destination 224.0.0.18): it reports such checksums bad in both checksum modes.",
)
SOURCE_DAMAGE = KnownDifference(
    "source_damage",
    "In a damaged capture (samples/malformed) the readers' recovery differs: tshark may read a "
    "block vrrpscope skips (a block length that is not a multiple of 4) or stop where vrrpscope "
    "resynchronises, so frame numbers after the first damage are not comparable. Frames before the "
    "first problem either reader reports are compared; a tshark read error the native reader does "
    "not report is a failure.",
)
INTERFACE_UNKNOWN = KnownDifference(
    "interface_unknown",
    "tshark prints frame.interface_name 'unknown' for a pcapng interface without if_name; vrrpscope has None there.",
)

TEXT_ESCAPING = KnownDifference(
    "text_escaping",
    "tshark -T fields prints backspace, form feed, newline, carriage return, tab and vertical tab in "
    "strings as C escapes (\\b ...) and reads the VRRPv2 password bytes as UTF-8 (an invalid byte "
    "becomes U+FFFD); vrrpscope keeps the bytes (Latin-1). Such strings (samples/hostile) are "
    "compared after applying tshark's transformation to the native value.",
)

#: Control characters tshark's field output writes as C escapes.
_TSHARK_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _tshark_text(value: str | None) -> str | None:
    """``value`` as tshark's field output shows it (see TEXT_ESCAPING)."""
    if value is None:
        return None
    return "".join(_TSHARK_ESCAPES.get(c, c) for c in value)


KNOWN_DIFFERENCES = (
    ICMP_QUOTE,
    CARP_AS_VRRP,
    CARP_HEURISTIC,
    TRAILER_CHECKSUM,
    MCAST_PSEUDO,
    SOURCE_DAMAGE,
    INTERFACE_UNKNOWN,
    TEXT_ESCAPING,
)
__doc__ = (__doc__ or "") + "".join(f"\n* ``{d.id}``: {d.reason}" for d in KNOWN_DIFFERENCES) + "\n"

#: Fields read from tshark; ``vrrp.auth_string`` comes last so a tab inside it cannot shift columns.
FIELDS = (
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "frame.cap_len",
    "frame.interface_id",
    "frame.interface_name",
    "frame.protocols",
    "_ws.malformed",
    "eth.src",
    "eth.dst",
    "sll.src.eth",
    "sll.ifindex",
    "ieee8021ad.id",
    "vlan.id",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hlim",
    "ah.next_header",
    "ah.spi",
    "ah.sequence",
    "ah.icv",
    "vrrp.version",
    "vrrp.type",
    "vrrp.virt_rtr_id",
    "vrrp.prio",
    "vrrp.addr_count",
    "vrrp.auth_type",
    "vrrp.adver_int",
    "vrrp.reserved_mbz",
    "vrrp.short_adver_int",
    "vrrp.checksum",
    "vrrp.checksum.status",
    "vrrp.ip_addr",
    "vrrp.ipv6_addr",
    "arp.hw.type",
    "arp.proto.type",
    "arp.opcode",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac",
    "arp.dst.proto_ipv4",
    "icmpv6.type",
    "icmpv6.code",
    "icmpv6.checksum",
    "icmpv6.nd.na.target_address",
    "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.flag.r",
    "icmpv6.nd.na.flag.s",
    "icmpv6.nd.na.flag.o",
    "icmpv6.opt.src_linkaddr",
    "icmpv6.opt.target_linkaddr",
    "vrrp.auth_string",
)
PLAIN_FIELDS = ("frame.number", "vrrp.checksum.status")
CARP_FIELDS = (
    "frame.number",
    "carp.version",
    "carp.type",
    "carp.vhid",
    "carp.advskew",
    "carp.authlen",
    "carp.adver_int",
    "carp.counter",
)
PREF_PLAIN = ("vrrp.v3_checksum_as_in_v2:TRUE",)
PREF_CARP = ("ip.try_heuristic_first:TRUE",)

# An ICMP/ICMPv6 message that carries an IP header: an error quoting the offending packet.
_QUOTING = re.compile(r":icmp(v6)?:ip(v6)?(:|$)")

Row = dict[str, str]


def _stem(path: Path) -> str:
    rel = path.relative_to(SAMPLES).as_posix()
    for suffix in (".gz", ".pcapng", ".pcap"):
        if rel.endswith(suffix):
            rel = rel[: -len(suffix)]
    return rel


def _captures() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


CAPTURES = _captures()


def _tshark() -> str:
    """Path of tshark; skip (or fail under CI=true) when it is not installed."""
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is not installed (required when CI=true)")
        pytest.skip("tshark is not installed")
    return path


@dataclass
class TsharkRun:
    """Rows of one tshark run keyed by frame number, its exit status and stderr."""

    rows: dict[int, Row]
    returncode: int
    stderr: str


def _env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C", "LANG": "C"}


@cache
def run_tshark(
    path: str, fields: tuple[str, ...], prefs: tuple[str, ...] = (), dfilter: str = DISPLAY_FILTER
) -> TsharkRun:
    """Run tshark on ``path`` with ``-T fields`` for ``fields`` (cached per arguments)."""
    cmd = [_tshark(), "-n", "-r", path]
    if dfilter:
        cmd += ["-Y", dfilter]
    for pref in prefs:
        cmd += ["-o", pref]
    cmd += ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "quote=n"]
    for name in fields:
        cmd += ["-e", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300, check=False)
    rows: dict[int, Row] = {}
    for line in proc.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) < len(fields):
            continue
        cols = [*cols[: len(fields) - 1], "\t".join(cols[len(fields) - 1 :])]
        row = dict(zip(fields, cols, strict=False))
        rows[int(row["frame.number"])] = row
    return TsharkRun(rows, proc.returncode, proc.stderr)


@dataclass
class NativeRun:
    """What the native path reports for one capture."""

    records: dict[int, tuple[Frame, Dissected]] = field(default_factory=dict)
    problems: list[SourceProblem] = field(default_factory=list)
    last_frame: int = 0


@cache
def run_native(path: str) -> NativeRun:
    """Decode ``path`` with the library API (cached)."""
    out = NativeRun()
    with open_capture(path) as reader:
        for item in reader:
            if isinstance(item, SourceProblem):
                out.problems.append(item)
                continue
            out.last_frame = item.number
            dissected = dissect(item.linktype, item.data)
            if dissected is not None:
                out.records[item.number] = (item, dissected)
    return out


def _first(row: Row, name: str) -> str:
    return row.get(name, "").split(",")[0]


def _list(row: Row, name: str) -> list[str]:
    value = row.get(name, "")
    return value.split(",") if value else []


def _opt_int(value: str) -> int | None:
    return int(value, 0) if value else None


def _flag(value: str) -> bool:
    return value.split(",")[0] in ("1", "True", "true")


class Mismatches:
    """Collects field mismatches of one capture, so a failure lists all of them at once."""

    def __init__(self, capture: str) -> None:
        self.capture = capture
        self.items: list[str] = []
        self.used: set[str] = set()

    def eq(self, frame: int, name: str, native: object, oracle: object) -> None:
        """Record a mismatch unless ``native == oracle``."""
        if native != oracle:
            self.items.append(f"frame {frame}: {name}: native {native!r} != tshark {oracle!r}")

    def check(self, frame: int, what: str, ok: bool) -> None:
        """Record a failed condition."""
        if not ok:
            self.items.append(f"frame {frame}: {what}")

    def known(self, diff: KnownDifference) -> None:
        """Note that a documented difference was relied on."""
        self.used.add(diff.id)


def _tshark_last_frame(path: str) -> int | None:
    """Last frame tshark could read when it stopped on damage (None when it read the whole file)."""
    run = run_tshark(path, ("frame.number",), (), "")
    if run.returncode == 0:
        return None
    return max(run.rows, default=0)


@dataclass
class Comparison:
    """Outcome of comparing one capture: frame-set differences, field mismatches, differences used."""

    unexplained: list[int] = field(default_factory=list)  # shown by tshark, not reported natively
    only_native: list[int] = field(default_factory=list)  # reported natively, not shown by tshark
    mismatches: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # KnownDifference ids relied on


def _window(path: str, native: NativeRun, oracle: TsharkRun, used: set[str]) -> int | None:
    """The last frame number both readers can be compared on (None: all of them).

    SOURCE_DAMAGE: with a damaged capture only the frames before the first reported problem are
    comparable; a tshark read failure must be matched by a native problem.
    """
    limits: list[int] = []
    if oracle.returncode != 0:
        assert native.problems, (
            f"tshark failed ({oracle.stderr.strip()}) but the native reader saw no problem"
        )
        limits.append(_tshark_last_frame(path) or 0)
    if native.problems:
        limits.append(min((p.frame or 1) for p in native.problems) - 1)
    if limits:
        used.add(SOURCE_DAMAGE.id)
    return min(limits) if limits else None


@cache
def compare(path: str) -> Comparison:
    """Compare the native decode of ``path`` with tshark's (cached: both tests share it)."""
    _tshark()
    native = run_native(path)
    oracle = run_tshark(path, FIELDS)
    out = Comparison()
    window = _window(path, native, oracle, out.used)
    native_set = {n for n in native.records if window is None or n <= window}
    oracle_set = {n for n in oracle.rows if window is None or n <= window}
    only_oracle = oracle_set - native_set
    quoted = {n for n in only_oracle if _QUOTING.search(oracle.rows[n]["frame.protocols"])}
    if quoted:
        out.used.add(ICMP_QUOTE.id)
    out.unexplained = sorted(only_oracle - quoted)
    out.only_native = sorted(native_set - oracle_set)

    mm = Mismatches(path)
    kinds = {type(d.message) for _f, d in native.records.values()}
    plain = run_tshark(path, PLAIN_FIELDS, PREF_PLAIN) if VrrpV3Advert in kinds else None
    carp = run_tshark(path, CARP_FIELDS, PREF_CARP, "carp") if CarpAdvert in kinds else None
    for number in sorted(native_set & oracle_set):
        frame, dissected = native.records[number]
        row = oracle.rows[number]
        _check_common(mm, frame, dissected, row)
        message = dissected.message
        if isinstance(message, VrrpV2Advert):
            _check_v2(mm, number, message, row)
        elif isinstance(message, VrrpV3Advert):
            plain_row = plain.rows.get(number) if plain else None
            _check_v3(mm, number, message, dissected, row, plain_row)
        elif isinstance(message, CarpAdvert):
            _check_carp(mm, number, message, row, carp.rows.get(number) if carp else None)
        elif isinstance(message, ArpPacket):
            _check_arp(mm, number, message, row)
        elif isinstance(message, NdMessage):
            _check_nd(mm, number, message, row)
        elif isinstance(message, Malformed):
            _check_malformed(mm, number, message, dissected, row)
        if not isinstance(message, Malformed):
            mm.check(
                number,
                f"tshark marks the frame malformed, vrrpscope decoded {type(message).__name__}",
                not row["_ws.malformed"] or isinstance(message, CarpAdvert),
            )
    out.mismatches = mm.items
    out.used |= mm.used
    return out


IDS = [_stem(p) for p in CAPTURES]


@pytest.mark.tshark
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_frame_sets_match(capture: Path) -> None:
    """The frames tshark shows as VRRP/ARP/NS/NA are exactly those vrrpscope reports."""
    result = compare(str(capture))
    assert not result.unexplained, f"tshark shows frames vrrpscope does not report: {result.unexplained}"
    assert not result.only_native, f"vrrpscope reports frames tshark does not show: {result.only_native}"


@pytest.mark.tshark
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_fields_match(capture: Path) -> None:
    """Every field of every shared record equals tshark's (documented differences aside)."""
    result = compare(str(capture))
    assert not result.mismatches, f"{_stem(capture)}: {len(result.mismatches)} mismatch(es):\n" + "\n".join(
        result.mismatches
    )


@pytest.mark.tshark
def test_every_known_difference_is_exercised() -> None:
    """Each documented difference is needed by some capture: no tolerance is dead code."""
    used: set[str] = set()
    for capture in CAPTURES:
        used |= compare(str(capture)).used
    assert used == {d.id for d in KNOWN_DIFFERENCES}


def _check_common(mm: Mismatches, frame: Frame, d: Dissected, row: Row) -> None:
    n = frame.number
    t = float(row["frame.time_epoch"])
    mm.check(
        n,
        f"time: native {frame.time!r} vs tshark {row['frame.time_epoch']}",
        abs(t - frame.time) <= TIME_TOLERANCE,
    )
    if row["frame.interface_id"]:
        mm.eq(n, "interface", frame.interface, int(row["frame.interface_id"]))
        name: str | None = row["frame.interface_name"] or None
        if name == "unknown" and frame.interface_name is None:
            mm.known(INTERFACE_UNKNOWN)
            name = None
        native_name = _tshark_text(frame.interface_name)
        if native_name != frame.interface_name:
            mm.known(TEXT_ESCAPING)
        mm.eq(n, "interface_name", native_name, name)
    link = d.link
    src = row["eth.src"] or row["sll.src.eth"] or None
    mm.eq(n, "link.src_mac", link.src_mac, src)
    mm.eq(n, "link.dst_mac", link.dst_mac, row["eth.dst"] or None)
    vlans = tuple(int(v) for v in _list(row, "ieee8021ad.id") + _list(row, "vlan.id"))
    mm.eq(n, "link.vlans", link.vlans, vlans)
    mm.eq(n, "link.ifindex", link.ifindex, _opt_int(row["sll.ifindex"]))
    ip = d.ip
    if ip is None:
        mm.check(
            n,
            "tshark has an IP layer vrrpscope lacks",
            (not row["ip.src"] and not row["ipv6.src"]) or isinstance(d.message, Malformed),
        )
        return
    if ip.family == "ipv4":
        mm.eq(n, "ip.src", ip.src, _first(row, "ip.src"))
        mm.eq(n, "ip.dst", ip.dst, _first(row, "ip.dst"))
        mm.eq(n, "ip.ttl", ip.ttl, int(_first(row, "ip.ttl")))
        wire_proto = int(_first(row, "ip.proto"))
    else:
        mm.eq(n, "ipv6.src", ip.src, _first(row, "ipv6.src"))
        mm.eq(n, "ipv6.dst", ip.dst, _first(row, "ipv6.dst"))
        mm.eq(n, "ipv6.hlim", ip.ttl, int(_first(row, "ipv6.hlim")))
        wire_proto = None
    mm.eq(n, "ip.multicast", ip.multicast, ipaddress.ip_address(ip.dst).is_multicast)
    if ip.ah is not None:
        mm.eq(n, "ip.proto (wire)", 51, wire_proto)
        mm.eq(n, "ah.next_header", ip.ah.next_header, _opt_int(row["ah.next_header"]))
        mm.eq(n, "ip.proto", ip.proto, ip.ah.next_header)
        mm.eq(n, "ah.spi", ip.ah.spi, _opt_int(row["ah.spi"]))
        mm.eq(n, "ah.sequence", ip.ah.sequence, _opt_int(row["ah.sequence"]))
        mm.eq(n, "ah.icv", ip.ah.icv.hex(), row["ah.icv"].replace(":", ""))
    else:
        mm.check(n, "tshark decoded an AH header vrrpscope lacks", not row["ah.spi"])
        if wire_proto is not None:
            mm.eq(n, "ip.proto", ip.proto, wire_proto)


def _check_v2(mm: Mismatches, n: int, m: VrrpV2Advert, row: Row) -> None:
    mm.eq(n, "vrrp.version", 2, _opt_int(row["vrrp.version"]))
    mm.eq(n, "vrrp.type", m.type, _opt_int(row["vrrp.type"]))
    mm.eq(n, "vrrp.virt_rtr_id", m.vrid, _opt_int(row["vrrp.virt_rtr_id"]))
    mm.eq(n, "vrrp.prio", m.priority, _opt_int(row["vrrp.prio"]))
    mm.eq(n, "vrrp.addr_count", m.count_ip_addrs, _opt_int(row["vrrp.addr_count"]))
    mm.eq(n, "vrrp.auth_type", m.auth_type, _opt_int(row["vrrp.auth_type"]))
    mm.eq(n, "vrrp.adver_int", m.advert_int, _opt_int(row["vrrp.adver_int"]))
    mm.eq(n, "vrrp.checksum", m.checksum, _opt_int(row["vrrp.checksum"]))
    mm.eq(n, "vrrp.ip_addr", list(m.addresses), _list(row, "vrrp.ip_addr"))
    if m.auth_type == 1:
        shown = _tshark_text(m.auth_data.split(b"\0", 1)[0].decode("utf-8", "replace"))
        if shown != m.auth_text:
            mm.known(TEXT_ESCAPING)
        mm.eq(n, "vrrp.auth_string", shown, row["vrrp.auth_string"])
    status = row["vrrp.checksum.status"]
    if m.trailer:
        mm.known(TRAILER_CHECKSUM)
    else:
        mm.eq(n, "vrrp.checksum.status good", m.checksum_variant == "v2", status == "1")


def _check_v3(mm: Mismatches, n: int, m: VrrpV3Advert, d: Dissected, row: Row, plain: Row | None) -> None:
    mm.eq(n, "vrrp.version", 3, _opt_int(row["vrrp.version"]))
    mm.eq(n, "vrrp.type", m.type, _opt_int(row["vrrp.type"]))
    mm.eq(n, "vrrp.virt_rtr_id", m.vrid, _opt_int(row["vrrp.virt_rtr_id"]))
    mm.eq(n, "vrrp.prio", m.priority, _opt_int(row["vrrp.prio"]))
    mm.eq(n, "vrrp.addr_count", m.count_ip_addrs, _opt_int(row["vrrp.addr_count"]))
    mm.eq(n, "vrrp.reserved_mbz", m.reserved, _opt_int(row["vrrp.reserved_mbz"]))
    mm.eq(n, "vrrp.short_adver_int (cs)", m.max_advert_int_cs, _opt_int(row["vrrp.short_adver_int"]))
    mm.eq(n, "vrrp.checksum", m.checksum, _opt_int(row["vrrp.checksum"]))
    assert d.ip is not None
    addr_field = "vrrp.ip_addr" if d.ip.family == "ipv4" else "vrrp.ipv6_addr"
    mm.eq(n, addr_field, list(m.addresses), _list(row, addr_field))
    good = row["vrrp.checksum.status"] == "1"
    variant = m.checksum_variant
    if d.ip.family == "ipv6":
        if m.trailer:
            # tshark sums the whole payload, as the kernel does for IPv6: if that validates, the
            # native decoder (which tries the whole payload too) must have found it.
            mm.known(TRAILER_CHECKSUM)
            mm.check(
                n,
                f"tshark validates the checksum, native variant {variant!r}",
                not good or variant == "v3-ipv6",
            )
        else:
            mm.eq(n, "vrrp.checksum.status good (ipv6)", variant == "v3-ipv6", good)
        return
    if m.trailer:
        mm.known(TRAILER_CHECKSUM)
        mm.check(
            n, f"tshark validates the checksum, native variant {variant!r}", not good or variant is not None
        )
        return
    mm.eq(n, "vrrp.checksum.status good (pseudo-header)", variant == "v3-ipv4-pseudo", good)
    plain_good = plain is not None and plain["vrrp.checksum.status"] == "1"
    if variant == "v3-ipv4-plain":
        mm.check(
            n, "message-only checksum: tshark -o vrrp.v3_checksum_as_in_v2:TRUE says not good", plain_good
        )
    elif variant is None:
        mm.check(n, "no variant validates natively, but tshark's message-only mode says good", not plain_good)
    elif variant == "v3-ipv4-pseudo-mcast":
        mm.known(MCAST_PSEUDO)
        mm.check(n, "pseudo-mcast variant: tshark must fail both modes", not good and not plain_good)


def _check_carp(mm: Mismatches, n: int, m: CarpAdvert, row: Row, carp: Row | None) -> None:
    mm.known(CARP_AS_VRRP)
    mm.eq(n, "carp seen by tshark as vrrp.version", m.version, _opt_int(row["vrrp.version"]))
    if carp is None or not carp["carp.version"]:
        mm.check(
            n,
            "tshark's CARP heuristic (authlen 7) did not claim a CARP advert with authlen 7",
            m.authlen != 7,
        )
        mm.known(CARP_HEURISTIC)
        return
    mm.eq(n, "carp.version", m.version, int(carp["carp.version"]))
    mm.eq(n, "carp.type", m.type, int(carp["carp.type"]))
    mm.eq(n, "carp.vhid", m.vhid, int(carp["carp.vhid"]))
    mm.eq(n, "carp.advskew", m.advskew, int(carp["carp.advskew"]))
    mm.eq(n, "carp.authlen", m.authlen, int(carp["carp.authlen"]))
    mm.eq(n, "carp.adver_int", m.advbase, int(carp["carp.adver_int"]))
    mm.eq(n, "carp.counter", m.counter, int(carp["carp.counter"]))


def _check_arp(mm: Mismatches, n: int, m: ArpPacket, row: Row) -> None:
    mm.eq(n, "arp.opcode", m.op, _opt_int(row["arp.opcode"]))
    mm.eq(n, "arp.src.hw_mac", m.sender_mac, row["arp.src.hw_mac"])
    mm.eq(n, "arp.src.proto_ipv4", m.sender_ip, row["arp.src.proto_ipv4"])
    mm.eq(n, "arp.dst.hw_mac", m.target_mac, row["arp.dst.hw_mac"])
    mm.eq(n, "arp.dst.proto_ipv4", m.target_ip, row["arp.dst.proto_ipv4"])
    mm.eq(n, "arp.hw.type", m.hardware_type, _opt_int(row["arp.hw.type"]))
    mm.eq(n, "arp.proto.type", m.protocol_type, _opt_int(row["arp.proto.type"]))


def _check_nd(mm: Mismatches, n: int, m: NdMessage, row: Row) -> None:
    mm.eq(n, "icmpv6.type", m.type, _opt_int(_first(row, "icmpv6.type")))
    mm.eq(n, "icmpv6.code", m.code, _opt_int(_first(row, "icmpv6.code")))
    mm.eq(n, "icmpv6.checksum", m.checksum, _opt_int(_first(row, "icmpv6.checksum")))
    target = row["icmpv6.nd.na.target_address"] if m.type == 136 else row["icmpv6.nd.ns.target_address"]
    mm.eq(n, "icmpv6.nd target", m.target, target.split(",")[0])
    if m.type == 136:
        mm.eq(n, "icmpv6.nd.na.flag.r", m.router, _flag(row["icmpv6.nd.na.flag.r"]))
        mm.eq(n, "icmpv6.nd.na.flag.s", m.solicited, _flag(row["icmpv6.nd.na.flag.s"]))
        mm.eq(n, "icmpv6.nd.na.flag.o", m.override, _flag(row["icmpv6.nd.na.flag.o"]))
    else:
        mm.eq(n, "NS flags", m.flags, "")
    mm.eq(n, "icmpv6.opt.src_linkaddr", m.slla, _first(row, "icmpv6.opt.src_linkaddr") or None)
    mm.eq(n, "icmpv6.opt.target_linkaddr", m.tlla, _first(row, "icmpv6.opt.target_linkaddr") or None)


def _check_malformed(mm: Mismatches, n: int, m: Malformed, d: Dissected, row: Row) -> None:
    """tshark must see the same damage: a malformed-packet exception, a snap-length cut, or the
    offending field value itself."""
    snapped = int(row["frame.cap_len"]) < int(row["frame.len"])
    damaged = bool(row["_ws.malformed"]) or snapped
    version = row["vrrp.version"]
    if m.reason == "bad_version":
        mm.check(n, f"bad_version but tshark reads version {version!r}", version not in ("", "2", "3"))
    elif m.reason == "bad_type":
        mm.check(n, f"bad_type but tshark reads type {row['vrrp.type']!r}", row["vrrp.type"] not in ("", "1"))
    elif m.reason == "ip_family_mismatch":
        mm.check(
            n,
            "ip_family_mismatch but tshark does not see v2 over IPv6",
            version == "2" and bool(row["ipv6.src"]),
        )
    elif m.reason == "unsupported_arp":
        mm.check(
            n,
            "unsupported_arp but tshark reads Ethernet/IPv4 ARP",
            row["arp.hw.type"] != "1" or _opt_int(row["arp.proto.type"]) != 0x0800,
        )
    else:
        mm.check(n, f"malformed ({m.layer}/{m.reason}) but tshark sees no damage", damaged)


# ---------------------------------------------------------------------------------------------
# The corpus itself
# ---------------------------------------------------------------------------------------------


def _synthetic_records() -> Iterator[tuple[int, Dissected]]:
    for path in CAPTURES:
        if path.parent == SAMPLES / "synthetic":
            native = run_native(str(path))
            for frame, dissected in native.records.values():
                yield frame.linktype, dissected


def test_synthetic_corpus_covers_every_case() -> None:
    """The synthetic samples exercise every record kind, checksum variant, link type and the
    malformations the oracle is meant to check (so a missing sample cannot pass silently)."""
    linktypes: set[int] = set()
    variants: set[str | None] = set()
    kinds: set[str] = set()
    reasons: set[str] = set()
    flags: set[str] = set()
    ah = trailer = vlan_stack = 0
    for linktype, d in _synthetic_records():
        linktypes.add(linktype)
        kinds.add(type(d.message).__name__)
        m = d.message
        if isinstance(m, (VrrpV2Advert, VrrpV3Advert)):
            variants.add(m.checksum_variant)
            trailer += m.trailer > 0
        if isinstance(m, Malformed):
            reasons.add(m.reason)
        if isinstance(m, NdMessage):
            flags.add(m.flags)
        ah += d.ip is not None and d.ip.ah is not None
        vlan_stack = max(vlan_stack, len(d.link.vlans))
    assert linktypes >= {1, 101, 113, 228, 229, 276}
    assert variants >= set(CHECKSUM_VARIANTS) | {None}
    assert kinds >= {"VrrpV2Advert", "VrrpV3Advert", "CarpAdvert", "ArpPacket", "NdMessage", "Malformed"}
    assert reasons >= {"bad_version", "count_exceeds_length", "truncated"}
    assert {"O", "RO", "SO", ""} <= flags
    assert ah and trailer and vlan_stack >= 2
