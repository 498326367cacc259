"""The hostile corpus: damaged captures never raise, report a clear problem, keep earlier frames.

``samples/malformed/`` holds each damaged file beside ``NAME.EXT.expected.json`` written by
``make_malformed.py`` from where it put the damage. Besides that corpus: every prefix of valid
captures, random corruption (hypothesis), and resynchronisation limits.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vrrpscope.sources import MAX_RECORD, CaptureReader, Frame, SourceProblem
from vrrpscope.sources.context import RESYNC_LIMIT

IN_CI = os.environ.get("CI") == "true"
CORPUS = Path(__file__).resolve().parent.parent / "samples" / "malformed"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".gz")
REASONS = {
    "bad_magic",
    "truncated_header",
    "truncated_record",
    "truncated_block",
    "caplen_exceeds_snaplen",
    "record_too_large",
    "bad_block_length",
    "unknown_linktype",
    "unknown_interface",
    "bad_byte_order",
    "gzip_error",
    "unreadable",
}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_malformed", CORPUS / "make_malformed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_malformed", module)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
CAPTURES = sorted(p for p in CORPUS.iterdir() if p.name.endswith(CAPTURE_SUFFIXES))


def read_all(path: Path, **kw: object) -> tuple[list[Frame | SourceProblem], CaptureReader]:
    reader = CaptureReader(str(path), **kw)  # type: ignore[arg-type]
    with reader:
        items = list(reader)
    return items, reader


def check_invariants(items: list[Frame | SourceProblem], reader: CaptureReader) -> None:
    """What holds for any input whatsoever."""
    frames = [x for x in items if isinstance(x, Frame)]
    problems = [x for x in items if isinstance(x, SourceProblem)]
    assert len(frames) + len(problems) == len(items)
    numbers = [f.number for f in frames]
    assert numbers == sorted(set(numbers)) and all(n >= 1 for n in numbers)
    assert reader.stats.problems == len(problems)
    assert reader.stats.frames >= len(frames)
    for f in frames:
        assert isinstance(f.data, bytes) and len(f.data) <= MAX_RECORD
    for p in problems:
        assert p.reason in REASONS
        assert p.detail and "\n" not in p.detail and "\n" not in p.message()
        assert p.file == reader.file and p.offset >= 0
    fatal = [i for i, x in enumerate(items) if isinstance(x, SourceProblem) and x.fatal]
    if fatal:
        # After a fatal problem nothing but a stream-level problem (gzip/read error) may follow.
        assert all(isinstance(x, SourceProblem) for x in items[fatal[0] :])


def test_corpus_has_expectations_for_every_capture() -> None:
    assert len(CAPTURES) >= 20
    for capture in CAPTURES:
        assert gen.expected_path(capture).is_file(), capture.name


def test_corpus_is_up_to_date(tmp_path: Path) -> None:
    gen.write(tmp_path)
    committed = {p.name: p.read_bytes() for p in CORPUS.iterdir() if p.suffix != ".py"}
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert committed == fresh, "rerun samples/malformed/make_malformed.py"


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.name for p in CAPTURES])
def test_corpus_file(capture: Path) -> None:
    expected = json.loads(gen.expected_path(capture).read_text())
    items, reader = read_all(capture)
    check_invariants(items, reader)
    frames = [x for x in items if isinstance(x, Frame)]
    problems = [x for x in items if isinstance(x, SourceProblem)]
    assert [f.number for f in frames] == expected["frames"]
    assert len(problems) == len(expected["problems"])
    for got, want in zip(problems, expected["problems"], strict=True):
        assert got.reason == want["reason"]
        assert got.frame == want["frame"]
        assert got.fatal == want["fatal"]
        if want["offset"] is not None:
            assert got.offset == want["offset"]
        assert got.file == str(capture) and str(capture) in got.message()
    # Frames that survived are the genuine ones: ARP requests with their own timestamps.
    for f in frames:
        assert f.data[12:14] == b"\x08\x06" and len(f.data) == 42
        assert f.time == pytest.approx(1_700_000_000 + (f.data[6 + 5] // 4) + (f.data[6 + 5] % 4) * 0.25)


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.name for p in CAPTURES])
def test_corpus_file_with_tiny_chunks(capture: Path) -> None:
    ref, _ = read_all(capture)
    items, reader = read_all(capture, chunk_size=5)
    check_invariants(items, reader)
    assert items == ref


#: Problems after which the frames are still the ones a reader without them would number.
NON_LOSSY = {"unknown_linktype", "caplen_exceeds_snaplen"}


@pytest.mark.tshark
@pytest.mark.parametrize("capture", CAPTURES, ids=[p.name for p in CAPTURES])
def test_corpus_frames_before_damage_match_tshark(capture: Path) -> None:
    """Up to the damage, frame numbers and times are Wireshark's (which stops there)."""
    tshark = shutil.which("tshark")
    if tshark is None:
        if IN_CI:
            pytest.fail("tshark is required in CI")
        pytest.skip("tshark not installed")
    proc = subprocess.run(
        [tshark, "-r", str(capture), "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch"],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        timeout=60,
        check=False,
    )
    # (Wireshark also opens some non-captures, e.g. a GIF as one timeless "frame": damage is 1 there.)
    theirs = [(int(n), t) for n, t in (line.split("\t") for line in proc.stdout.splitlines() if line)]
    items, _reader = read_all(capture)
    lossy = [x for x in items if isinstance(x, SourceProblem) and x.reason not in NON_LOSSY]
    damage = min((p.frame if p.frame is not None else 1 for p in lossy), default=1 << 30)
    ours = [(f.number, f.time) for f in items if isinstance(f, Frame) and f.number < damage]
    expected = [row for row in theirs if row[0] < damage]
    assert [n for n, _t in ours] == [n for n, _t in expected]
    assert [t for _n, t in ours] == pytest.approx([float(t) for _n, t in expected], abs=1e-6)


def _valid_pcap() -> bytes:
    return gen.pcap_header() + gen.good_records(1, 6)


def _valid_pcapng() -> bytes:
    out = gen.ng_shb() + gen.ng_idb(name="eth0") + gen.ng_idb(name="eth1") + gen.good_epbs(1, 2, 0)
    out += gen.good_epbs(3, 2, 1) + gen.ng_shb() + gen.ng_idb() + gen.good_epbs(5, 2)
    return out


@pytest.mark.parametrize("kind", ["pcap", "pcapng", "pcap.gz"])
def test_every_prefix(tmp_path: Path, kind: str) -> None:
    """A capture cut anywhere: the complete frames before the cut, then one fatal problem."""
    full = _valid_pcapng() if kind == "pcapng" else _valid_pcap()
    path = tmp_path / f"full.{kind}"
    path.write_bytes(gzip.compress(full, mtime=0) if kind.endswith(".gz") else full)
    ref, _ = read_all(path)
    assert all(isinstance(x, Frame) for x in ref) and len(ref) == 6
    raw = path.read_bytes()
    for cut in range(len(raw)):
        path.write_bytes(raw[:cut])
        items, reader = read_all(path)
        check_invariants(items, reader)
        frames = [x for x in items if isinstance(x, Frame)]
        assert frames == ref[: len(frames)], cut
        problems = [x for x in items if isinstance(x, SourceProblem)]
        if kind == "pcap.gz":
            # Under 2 bytes the gzip magic is not even there; beyond, the gzip trailer is missing.
            last = "truncated_header" if cut < 2 else "gzip_error"
            assert problems and problems[-1].reason == last and problems[0].fatal, cut
            continue
        packet_ends, boundaries = _layout(full, kind)
        # Every frame whose bytes lie wholly before the cut was delivered.
        assert len(frames) == sum(1 for end in packet_ends if end <= cut), cut
        if cut in boundaries:
            assert problems == [], cut  # a cut between records cannot be told from a short capture
        else:
            assert len(problems) == 1 and problems[0].fatal and problems[0].offset <= cut, cut


def _layout(full: bytes, kind: str) -> tuple[list[int], set[int]]:
    """End offsets of the packet records/blocks of a valid capture, and of every record/block."""
    ends = []
    boundaries = set()
    if kind == "pcap":
        pos = 24
        boundaries.add(pos)
        while pos < len(full):
            (cap,) = struct.unpack_from("<I", full, pos + 8)
            pos += 16 + cap
            ends.append(pos)
            boundaries.add(pos)
        return ends, boundaries
    pos = 0
    while pos < len(full):
        btype, blen = struct.unpack_from("<II", full, pos)
        pos += blen
        boundaries.add(pos)
        if btype == 6:
            ends.append(pos)
    return ends, boundaries


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["pcap", "pcapng"]),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    chunk=st.sampled_from([7, 64, 1 << 20]),
)
def test_random_corruption_never_raises(tmp_path: Path, kind: str, edits: list[tuple[int, int]], chunk: int) -> None:
    data = bytearray(_valid_pcapng() if kind == "pcapng" else _valid_pcap())
    for where, value in edits:
        data[where % len(data)] = value
    path = tmp_path / f"fuzz.{kind}"
    path.write_bytes(bytes(data))
    items, reader = read_all(path, chunk_size=chunk)
    check_invariants(items, reader)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    blob=st.binary(min_size=0, max_size=400),
    head=st.sampled_from([b"", b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a", b"\x1f\x8b"]),
)
def test_arbitrary_bytes_never_raise(tmp_path: Path, blob: bytes, head: bytes) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(head + blob)
    items, reader = read_all(path)
    check_invariants(items, reader)


def test_resync_gives_up_beyond_its_limit(tmp_path: Path) -> None:
    data = _valid_pcap()[: 24 + 3 * 58] + b"\xff" * (RESYNC_LIMIT + 4096) + gen.good_records(4, 2)
    path = tmp_path / "far.pcap"
    path.write_bytes(data)
    items, reader = read_all(path)
    check_invariants(items, reader)
    assert [x.number for x in items if isinstance(x, Frame)] == [1, 2, 3]
    last = items[-1]
    assert isinstance(last, SourceProblem) and last.reason == "record_too_large" and last.fatal


def test_resync_over_a_megabyte_of_junk(tmp_path: Path) -> None:
    junk = bytes((i * 7 + 0xC0) & 0xFF | 0x80 for i in range(3 << 20))  # never a sane header
    data = _valid_pcap()[: 24 + 3 * 58] + junk + gen.good_records(4, 3)
    path = tmp_path / "junk.pcap"
    path.write_bytes(data)
    items, reader = read_all(path)
    check_invariants(items, reader)
    assert [x.number for x in items if isinstance(x, Frame)] == [1, 2, 3, 4, 5, 6]
    problems = [x for x in items if isinstance(x, SourceProblem)]
    assert [(p.reason, p.offset, p.fatal) for p in problems] == [("record_too_large", 24 + 3 * 58, False)]
    assert f"skipped {len(junk)} bytes" in problems[0].detail


def test_pcapng_resync_across_sections_and_junk(tmp_path: Path) -> None:
    first = gen.ng_shb() + gen.ng_idb(name="eth0") + gen.good_epbs(1, 2)
    data = first + b"\xee" * 5000 + gen.ng_shb() + gen.ng_idb(name="eth9") + gen.good_epbs(3, 2)
    path = tmp_path / "sections.pcapng"
    path.write_bytes(data)
    items, reader = read_all(path)
    check_invariants(items, reader)
    frames = [x for x in items if isinstance(x, Frame)]
    assert [(f.number, f.interface_name) for f in frames] == [(1, "eth0"), (2, "eth0"), (3, "eth9"), (4, "eth9")]
    problems = [x for x in items if isinstance(x, SourceProblem)]
    assert [(p.reason, p.offset, p.fatal) for p in problems] == [("record_too_large", len(first), False)]


def test_trailing_zero_padding_after_gzip_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "pad.pcap.gz"
    path.write_bytes(gzip.compress(_valid_pcap(), mtime=0) + bytes(512))
    items, reader = read_all(path)
    assert [x.number for x in items if isinstance(x, Frame)] == [1, 2, 3, 4, 5, 6]
    assert reader.stats.problems == 0


def test_trailing_junk_after_gzip_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "junk.pcap.gz"
    path.write_bytes(gzip.compress(_valid_pcap(), mtime=0) + b"not gzip at all")
    items, reader = read_all(path)
    check_invariants(items, reader)
    assert len([x for x in items if isinstance(x, Frame)]) == 6
    problems = [x for x in items if isinstance(x, SourceProblem)]
    assert [(p.reason, p.fatal) for p in problems] == [("gzip_error", False)]


def test_gzip_magic_with_garbage(tmp_path: Path) -> None:
    path = tmp_path / "fake.gz"
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    items, reader = read_all(path)
    check_invariants(items, reader)
    assert [x.reason for x in items if isinstance(x, SourceProblem)] == ["gzip_error"]


@pytest.mark.parametrize(
    ("head", "hint"),
    [(b"BZh91AY&SY", "bzip2"), (b"\xfd7zXZ\x00\x00", "xz"), (b"\xa1\xb2\xcd\x34" + bytes(20), "Kuznetzov")],
)
def test_bad_magic_names_foreign_formats(tmp_path: Path, head: bytes, hint: str) -> None:
    path = tmp_path / "foreign.bin"
    path.write_bytes(head + bytes(40))
    items, _reader = read_all(path)
    assert len(items) == 1 and isinstance(items[0], SourceProblem)
    assert items[0].reason == "bad_magic" and hint in items[0].detail and items[0].fatal


def test_resync_when_the_first_record_is_damaged(tmp_path: Path) -> None:
    # No good frame yet, so no timestamp to anchor the search on: every byte is a candidate.
    data = gen.pcap_header() + b"\xff" * 40 + gen.good_records(1, 3)
    path = tmp_path / "first.pcap"
    path.write_bytes(data)
    items, reader = read_all(path)
    check_invariants(items, reader)
    assert [x.number for x in items if isinstance(x, Frame)] == [1, 2, 3]
    problems = [x for x in items if isinstance(x, SourceProblem)]
    assert [(p.reason, p.frame, p.offset, p.fatal) for p in problems] == [("record_too_large", 1, 24, False)]


def test_first_section_header_with_bad_length_is_fatal(tmp_path: Path) -> None:
    shb = bytearray(gen.ng_shb())
    struct.pack_into("<I", shb, 4, 30)  # not a multiple of 4
    path = tmp_path / "shb.pcapng"
    path.write_bytes(bytes(shb) + gen.ng_idb() + gen.good_epbs(1, 2))
    items, reader = read_all(path)
    check_invariants(items, reader)
    assert [(x.reason, x.frame, x.offset, x.fatal) for x in items if isinstance(x, SourceProblem)] == [
        ("bad_block_length", None, 0, True)
    ]


def test_later_section_header_damage_resyncs(tmp_path: Path) -> None:
    bad_shb = bytearray(gen.ng_shb())
    struct.pack_into("<I", bad_shb, len(bad_shb) - 4, 99)  # trailer disagrees
    first = gen.ng_shb() + gen.ng_idb(name="a") + gen.good_epbs(1, 2)
    data = first + bytes(bad_shb) + gen.ng_idb(name="b") + gen.good_epbs(3, 1) + gen.ng_shb()
    data += gen.ng_idb(name="c") + gen.good_epbs(4, 1)
    path = tmp_path / "shb2.pcapng"
    path.write_bytes(data)
    items, reader = read_all(path)
    check_invariants(items, reader)
    problems = [x for x in items if isinstance(x, SourceProblem)]
    assert [(p.reason, p.frame, p.offset, p.fatal) for p in problems] == [("bad_block_length", 3, len(first), False)]
    # Resumed at the IDB after the broken SHB: it joins the first section (same byte order).
    frames = [x for x in items if isinstance(x, Frame)]
    assert [(f.number, f.interface, f.interface_name) for f in frames] == [
        (1, 0, "a"),
        (2, 0, "a"),
        (3, 0, "a"),
        (4, 2, "c"),
    ]
