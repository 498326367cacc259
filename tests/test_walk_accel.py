"""The compiled reader loops (``vrrpscope.sources._walk``) against the pure-Python ones.

The C code only skips records the pre-filter rejects; these tests hold it to the Python
reference: the same candidate decision for every frame (sample captures, generated frames of every
link type, random bytes), the same timestamps to the last bit (Python's correctly rounded
``int / int`` for pcapng tick counts beyond 2**53), and the same frames, problems and stats when a
whole capture is read either way (sample, damaged and generated captures, pcap in both byte orders
and resolutions, pcapng with several interfaces, link types, resolutions and offsets).
"""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissectors.packet import _scan_at, is_candidate
from vrrpscope.sources import accel, open_capture
from vrrpscope.sources.base import Frame, SourceProblem

ROOT = Path(__file__).resolve().parent.parent
LINKTYPES = (1, 101, 113, 228, 229, 276, 147)

if accel.walk is None:
    if os.environ.get("CI") == "true" and os.environ.get("VRRPSCOPE_PURE_PYTHON", "") in ("", "0"):
        pytest.fail("vrrpscope.sources._walk was not built (a C compiler and Python headers are needed)")
    pytest.skip("vrrpscope.sources._walk is not built (no C compiler at install time)", allow_module_level=True)
walk = accel.walk


def _captures() -> list[Path]:
    suffixes = (".pcap", ".pcapng", ".gz")
    found = [p for p in sorted((ROOT / "samples").rglob("*")) if p.is_file() and p.suffix in suffixes]
    assert len(found) > 100
    return found


class _Counting:
    """Stands in for the extension module and counts the records its loops skipped."""

    def __init__(self) -> None:
        self.skipped = 0

    def pcap_run(self, *args: object) -> tuple[int, int, int, float, float, float]:
        out = walk.pcap_run(*args)  # type: ignore[arg-type]
        self.skipped += out[1]
        return out

    def pcapng_run(self, *args: object) -> tuple[int, int, int, float, float, float]:
        out = walk.pcapng_run(*args)  # type: ignore[arg-type]
        self.skipped += out[1]
        return out


def _read(
    path: Path, pure: bool, monkeypatch: pytest.MonkeyPatch, counter: _Counting | None = None
) -> tuple[list[Frame | SourceProblem], object]:
    monkeypatch.setattr(accel, "walk", None if pure else (counter or walk))
    with open_capture(str(path), is_candidate) as reader:
        items = list(reader)
        stats = reader.stats
    monkeypatch.setattr(accel, "walk", walk)
    return items, stats


def _same_reading(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, fast_stats = _read(path, False, monkeypatch)
    slow, slow_stats = _read(path, True, monkeypatch)
    assert fast == slow, path
    assert fast_stats == slow_stats, path


# --- the candidate decision ---------------------------------------------------------------------


def _frames_of(path: Path) -> Iterator[tuple[int, bytes]]:
    with open_capture(str(path)) as reader:
        for item in reader:
            if isinstance(item, Frame):
                yield item.linktype, item.data


def test_scan_equals_python_on_every_sample_frame() -> None:
    n = 0
    for path in _captures():
        for linktype, data in _frames_of(path):
            for cut in {len(data), 0, 1, 13, 14, 15, 20, 23, 24, 40, 53, 54, 55}:
                if cut <= len(data):
                    assert walk.scan(linktype, data, 0, cut) == _scan_at(linktype, data, 0, cut), (path, cut)
                    n += 1
    assert n > 5000


def _generated_frames(rng: random.Random) -> Iterator[tuple[int, bytes]]:
    """Frames of every link type around the bytes the pre-filter looks at."""
    ethertypes = [0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x9100, 0x8847, 0x0000]
    protos = [112, 51, 6, 17, 1, 0]
    nexts = [112, 58, 0, 43, 44, 51, 60, 6, 17]
    for _ in range(4000):
        tags = rng.choice([0, 0, 0, 1, 2, 9])
        l2 = b"".join(
            struct.pack("!HH", rng.choice([0x8100, 0x88A8, 0x9100]), rng.randrange(4096)) for _ in range(tags)
        )
        et = rng.choice(ethertypes)
        if et == 0x0800 or rng.random() < 0.2:
            l3 = bytes([0x45]) + bytes(8) + bytes([rng.choice(protos)]) + bytes(10)
        else:
            icmp_type = rng.choice([135, 136, 134, 1])
            l3 = bytes([0x60]) + bytes(5) + bytes([rng.choice(nexts)]) + bytes(33) + bytes([icmp_type])
        l3 += bytes(rng.randrange(0, 30))
        first = struct.pack("!H", rng.choice([0x8100, 0x88A8, et])) if tags else struct.pack("!H", et)
        inner = l2[2:] + struct.pack("!H", et) if tags else b""
        eth = bytes(12) + (first + inner if tags else first) + l3
        sll = bytes(14) + (first + inner if tags else first) + l3
        sll2 = first + bytes(18) + inner + l3
        for linktype, data in ((1, eth), (113, sll), (276, sll2), (101, l3), (228, l3), (229, l3), (147, eth)):
            cut = rng.choice([len(data), rng.randrange(0, len(data) + 1)])
            yield linktype, data[:cut]


def test_scan_equals_python_on_generated_frames() -> None:
    rng = random.Random(11)
    n = 0
    for linktype, data in _generated_frames(rng):
        pad = bytes(rng.randrange(0, 5))
        buf = pad + data + b"\x08\x06\x00\x01\x88\xa8" * rng.randrange(0, 2)
        got = walk.scan(linktype, buf, len(pad), len(pad) + len(data))
        assert got == _scan_at(linktype, buf, len(pad), len(pad) + len(data)), (linktype, data.hex())
        n += 1
    assert n == 28000


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(LINKTYPES), st.binary(max_size=80), st.integers(0, 8), st.integers(0, 8))
def test_scan_equals_python_on_random_bytes(linktype: int, data: bytes, head: int, tail: int) -> None:
    start = min(head, len(data))
    end = max(start, len(data) - tail)
    assert walk.scan(linktype, data, start, end) == _scan_at(linktype, data, start, end)


# --- timestamps -------------------------------------------------------------------------------


def test_division_is_rounded_like_python() -> None:
    rng = random.Random(5)
    divisors = [10**k for k in range(0, 20)] + [2**k for k in range(0, 64)] + [3, 7, 1000003]
    values = [0, 1, 2**53 - 1, 2**53, 2**53 + 1, 2**54 + 3, 2**64 - 1, 1_764_081_394_776_123_456]
    values += [rng.getrandbits(rng.randrange(1, 65)) for _ in range(20000)]
    for d in divisors:
        for x in values:
            assert walk.div(x, d) == x / d, (x, d)
    # Exact ties at the rounding point, both ways.
    for m in range(2**53, 2**53 + 64):
        for d in (1, 2, 4, 8):
            x = (2 * m + 1) * d // 2 if d > 1 else m
            if x < 2**64:
                assert walk.div(x, d) == x / d


# --- whole captures, both paths ---------------------------------------------------------------


def test_every_sample_capture_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    for path in _captures():
        _same_reading(path, monkeypatch)


def _pcap(frames: list[tuple[int, int, bytes]], linktype: int, endian: str, nano: bool, snaplen: int = 65535) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for sec, frac, data in frames:
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data) + 4) + data)
    return b"".join(out)


def _block(endian: str, btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) & 3)
    n = len(body) + 12
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def _option(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + bytes(-len(value) & 3)


def _mixed(rng: random.Random, count: int) -> list[tuple[int, bytes]]:
    frames = list(_generated_frames(rng))
    rng.shuffle(frames)
    return frames[:count]


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
@pytest.mark.parametrize("linktype", [1, 113, 276, 101, 228, 229, 147])
def test_generated_pcap_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, endian: str, nano: bool, linktype: int
) -> None:
    rng = random.Random(linktype * 4 + nano * 2 + (endian == ">"))
    frames = []
    sec = 1_764_000_000
    for lt, data in _mixed(rng, 20000):
        if lt != linktype:
            continue
        sec += rng.choice([0, 0, 1, -1])
        frames.append((sec, rng.randrange(10**9 if nano else 10**6), data))
    # A caplen above the snaplen (kept, reported once) and a record cut by the end of the file.
    frames.append((sec, 5, bytes(200)))
    raw = _pcap(frames, linktype, endian, nano, snaplen=128)
    path = tmp_path / "gen.pcap"
    path.write_bytes(raw + struct.pack(endian + "IIII", sec, 0, 60, 60) + bytes(10))
    _same_reading(path, monkeypatch)
    counter = _Counting()
    fast, stats = _read(path, False, monkeypatch, counter)
    assert 0 < counter.skipped <= stats.frames  # type: ignore[attr-defined]
    assert any(isinstance(i, SourceProblem) and i.reason == "caplen_exceeds_snaplen" for i in fast)
    assert isinstance(fast[-1], SourceProblem) and fast[-1].reason == "truncated_record"


@pytest.mark.parametrize("endian", ["<", ">"])
def test_generated_pcapng_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, endian: str) -> None:
    rng = random.Random(99 if endian == "<" else 98)
    # Interfaces: (link type, if_tsresol byte or None, if_tsoffset or None, snaplen)
    ifaces = [(1, None, None, 0), (1, 9, 1_000, 0), (113, 0x80 | 30, None, 96), (276, 6, -3600, 0), (101, 12, None, 0)]
    shb = _block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    blocks = [shb]
    for linktype, tsresol, tsoff, snaplen in ifaces:
        opts = b""
        if tsresol is not None:
            opts += _option(endian, 9, bytes([tsresol]))
        if tsoff is not None:
            opts += _option(endian, 14, struct.pack(endian + "q", tsoff))
        if opts:
            opts += _option(endian, 0, b"")
        blocks.append(_block(endian, 1, struct.pack(endian + "HHI", linktype, 0, snaplen) + opts))
    by_link: dict[int, list[int]] = {}
    for i, (lt, *_rest) in enumerate(ifaces):
        by_link.setdefault(lt, []).append(i)
    ticks = {i: rng.getrandbits(63) for i in range(len(ifaces))}
    for lt, data in _mixed(rng, 60000):
        if lt not in by_link:
            continue
        i = rng.choice(by_link[lt])
        ticks[i] += rng.randrange(1, 10**6)
        t = ticks[i] % 2**64
        body = struct.pack(endian + "IIIII", i, t >> 32, t & 0xFFFFFFFF, len(data), len(data)) + data
        blocks.append(_block(endian, 6, body))
        r = rng.random()
        if r < 0.002:  # an SPB, an ISB, an unknown block, an EPB naming a missing interface
            blocks.append(_block(endian, 3, struct.pack(endian + "I", len(data)) + data))
            blocks.append(_block(endian, 5, struct.pack(endian + "III", 0, 0, 0)))
            blocks.append(_block(endian, 0x0BAD, b"xyz"))
            blocks.append(_block(endian, 6, struct.pack(endian + "IIIII", 77, 0, 0, 4, 4) + b"abcd"))
        elif r < 0.003:  # EPB length not a multiple of 4 (padding left out), and a bad trailer
            blk = bytearray(_block(endian, 6, struct.pack(endian + "IIIII", 0, 0, 1, 5, 5) + b"\x00" * 5))
            blocks.append(bytes(blk))
            bad = bytearray(_block(endian, 6, struct.pack(endian + "IIIII", 0, 0, 1, 8, 8) + bytes(8)))
            bad[-4:] = struct.pack(endian + "I", 12)
            blocks.append(bytes(bad))
    path = tmp_path / "gen.pcapng"
    path.write_bytes(b"".join(blocks))
    _same_reading(path, monkeypatch)
    counter = _Counting()
    fast, stats = _read(path, False, monkeypatch, counter)
    assert stats.frames > 10000  # type: ignore[attr-defined]
    assert counter.skipped > stats.frames // 3  # type: ignore[attr-defined]
    assert any(isinstance(i, SourceProblem) for i in fast)
    assert sum(isinstance(i, Frame) for i in fast) > 100


def test_bench_capture_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    for fmt in ("pcap", "pcapng"):
        out = tmp_path / f"mixed.{fmt}"
        script = str(ROOT / "bench" / "make_capture.py")
        subprocess.run([sys.executable, script, "--packets", "30000", "--format", fmt, "--out", str(out)], check=True)
        _same_reading(out, monkeypatch)
        counter = _Counting()
        _fast, stats = _read(out, False, monkeypatch, counter)
        assert counter.skipped > 0.99 * stats.frames  # type: ignore[attr-defined]
