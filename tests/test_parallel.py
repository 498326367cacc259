"""Speed-path and scale-out correctness: in-place candidate test, the Ethernet fast loop of the
pcap reader, and parallel reading (process pool, split classic pcaps) against the single-process
pipeline, which is the oracle: every result must be identical."""

from __future__ import annotations

import itertools
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from dissectors.packet import candidate_at, is_candidate
from vrrpscope import parallel
from vrrpscope.analysis import analyze
from vrrpscope.parallel import analyze_parallel, expand_inputs, iter_packets_parallel, split_pcap, split_pcapng
from vrrpscope.pipeline import InputCounts, iter_packets
from vrrpscope.sources import open_capture
from vrrpscope.sources.base import Frame

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
REAL = sorted((SAMPLES / "real").glob("*/capture*.pcap*"))
MALFORMED = sorted(p for p in (SAMPLES / "malformed").iterdir() if p.suffix in (".pcap", ".pcapng", ".gz"))


def _all_frames(path: Path) -> list[Frame]:
    with open_capture(str(path)) as reader:
        return [f for f in reader if isinstance(f, Frame)]


def test_candidate_at_matches_is_candidate_in_place() -> None:
    """The offset-based test gives is_candidate's answer and never reads past the frame."""
    rng = random.Random(3)
    frames = [(f.linktype, f.data) for p in REAL[:12] for f in _all_frames(p)]
    # Truncations of every length expose any read beyond the frame end.
    cut = [(lt, d[:n]) for lt, d in frames[:40] for n in range(0, min(len(d), 80))]
    # Surrounding bytes that would turn a rejected frame into a candidate if they were read:
    # ARP ethertype, IPv4 ethertype with protocol 112, an IPv6 NS.
    junk = bytes([0x08, 0x06, 0x08, 0x00, 112, 112, 0x86, 0xDD, 135, 58]) * 8
    seen = {True: 0, False: 0}
    for lt, data in frames + cut:
        for link in (lt, 1, 101, 113, 228, 229, 276):
            pre = junk[: rng.randrange(len(junk))]
            buf = pre + data + junk
            want = is_candidate(link, data)
            assert candidate_at(link, buf, len(pre), len(pre) + len(data)) is want, (link, data.hex())
            seen[want] += 1
    assert seen[True] > 100 and seen[False] > 100


def _write_pcap(path: Path, records: list[tuple[int, int, bytes]], endian: str = "<", nano: bool = False) -> None:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)]
    for sec, frac, data in records:
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data) + 4) + data)
    path.write_bytes(b"".join(out))


@pytest.mark.parametrize("endian,nano", [("<", False), (">", False), ("<", True), (">", True)])
def test_fast_loop_equals_generic_walk(tmp_path: Path, endian: str, nano: bool) -> None:
    """Frames, numbers, times and stats with the in-place fast path equal the plain prefilter walk."""
    rng = random.Random(11)
    templates = [f.data for p in REAL[:8] for f in _all_frames(p)]
    eth = b"\x02" * 12
    records = []
    for i in range(3000):
        kind = rng.randrange(6)
        if kind == 0:
            data = rng.choice(templates)
        elif kind == 1:  # plain TCP
            data = eth + b"\x08\x00" + bytes([0x45]) + bytes(8) + b"\x06" + bytes(rng.randrange(10, 200))
        elif kind == 2:  # VLAN-tagged TCP (goes through candidate_at)
            data = eth + b"\x81\x00\x00\x1e\x08\x00" + bytes(9) + b"\x06" + bytes(40)
        elif kind == 3:  # shorter than the fast loop's fixed read
            data = eth + b"\x08\x00" + bytes(rng.randrange(0, 9))
        elif kind == 4:  # IPv4 protocol 112 that is no valid VRRP
            data = eth + b"\x08\x00" + bytes([0x45]) + bytes(8) + bytes([112]) + bytes(30)
        else:  # out-of-order timestamps
            data = eth + b"\x08\x06" + bytes(28)
        sec = 1_700_000_000 + i // 7 - (50 if kind == 5 else 0)
        records.append((sec, rng.randrange(1_000_000), data))
    path = tmp_path / "mix.pcap"
    _write_pcap(path, records, endian, nano)

    def generic(linktype: int, data: bytes) -> bool:  # not is_candidate itself: the slicing path
        return is_candidate(linktype, data)

    with open_capture(str(path), prefilter=is_candidate) as fast:
        got = list(fast)
    with open_capture(str(path), prefilter=generic) as slow:
        want = list(slow)
    assert got == want
    assert fast.stats == slow.stats
    assert fast.stats.frames == 3000
    assert len(got) > 500


def _make_bench(tmp_path: Path, packets: int, fmt: str = "pcap") -> Path:
    out = tmp_path / f"bench.{fmt}"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "make_capture.py"),
            "--packets",
            str(packets),
            "--format",
            fmt,
            "--out",
            str(out),
        ],
        check=True,
    )
    return out


@pytest.fixture(autouse=True)
def _always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small test inputs would otherwise be read in-process."""
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)


def _single(paths: list[str]) -> tuple[list[object], InputCounts]:
    counts = InputCounts()
    return list(iter_packets(paths, counts=counts)), counts


def _multi(paths: list[str], jobs: int = 2) -> tuple[list[object], InputCounts]:
    assert parallel.MIN_PARALLEL_BYTES == 0  # the pool must really be used
    counts = InputCounts()
    return list(iter_packets_parallel(paths, jobs=jobs, counts=counts)), counts


def test_parallel_many_files_identical() -> None:
    """Several real captures and damaged ones: same items, same order, same counts."""
    paths = [str(p) for p in REAL[:10]] + [str(p) for p in MALFORMED] + ["/nonexistent/h11.pcap"]
    want, wc = _single(paths)
    got, gc = _multi(paths)
    assert got == want
    assert gc == wc
    assert wc.problems and wc.vrrp > 0
    assert analyze_parallel(paths, jobs=2).to_dict() == analyze(paths).to_dict()


def test_split_pcap_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A classic pcap cut into parts gives the single-process packets, frame numbers and stats."""
    path = _make_bench(tmp_path, 6000)
    monkeypatch.setattr(parallel, "MIN_PART", 256 * 1024)
    tasks = split_pcap(str(path), 0, 6)
    assert len(tasks) >= 4
    assert tasks[0].start == 24 and tasks[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(tasks))
    parts = [parallel.scan(t) for t in tasks]
    assert all(r.clean and r.ended_at == t.end for r, t in zip(parts, tasks, strict=True))
    assert sum(r.stats.frames for r in parts) == 6000
    want, wc = _single([str(path)])
    got, gc = _multi([str(path)], jobs=3)
    assert got == want
    assert gc == wc
    assert wc.packets == 6000 and wc.vrrp + wc.arp > 10
    assert analyze_parallel([str(path)], jobs=3).to_dict() == analyze([str(path)]).to_dict()


def test_split_with_damage_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged record inside a part, and a cut end: the file is rescanned whole, same problems."""
    src = _make_bench(tmp_path, 6000)
    raw = bytearray(src.read_bytes())
    # Overwrite the caplen of a record in the middle with an absurd value (record_too_large).
    pos = 24
    for _ in range(3000):
        pos += 16 + struct.unpack_from("<I", raw, pos + 8)[0]
    struct.pack_into("<I", raw, pos + 8, 0x7FFFFFFF)
    damaged = tmp_path / "damaged.pcap"
    damaged.write_bytes(bytes(raw[:-37]))  # and the last record cut short
    monkeypatch.setattr(parallel, "MIN_PART", 256 * 1024)
    assert len(split_pcap(str(damaged), 0, 6)) >= 4
    want, wc = _single([str(damaged)])
    got, gc = _multi([str(damaged)], jobs=3)
    assert {p.reason for p in wc.problems} == {"record_too_large", "truncated_record"}
    assert got == want
    assert gc == wc


def _mixed_frames(tmp_path: Path, packets: int) -> list[Frame]:
    """The benchmark's mixed traffic (every frame, not only candidates)."""
    src = _make_bench(tmp_path, packets)
    with open_capture(str(src), prefilter=None) as reader:
        return [f for f in reader if isinstance(f, Frame)]


def _pcapng_of(frames: list[Frame], e: str = "<", *, extra: dict[int, bytes] | None = None, iface: int = 0) -> bytes:
    """A pcapng of ``frames`` on one Ethernet interface, with ``extra`` blocks inserted before frame i."""
    from test_sources_pcapng import epb, idb, shb

    out = [shb(e), idb(1, 0, name="eth0", tsresol=9, e=e)]
    for i, f in enumerate(frames):
        if extra and i in extra:
            out.append(extra[i])
        out.append(epb(iface, round(f.time * 1e9), f.data, f.wirelen, e))
    return b"".join(out)


def _body(frames: list[Frame]) -> bytes:
    """The packet blocks of :func:`_pcapng_of` without its head."""
    from test_sources_pcapng import idb, shb

    return _pcapng_of(frames)[len(shb()) + len(idb(1, 0, name="eth0", tsresol=9)) :]


@pytest.mark.parametrize("e", ["<", ">"], ids=["le", "be"])
def test_split_pcapng_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, e: str) -> None:
    """A pcapng cut into parts gives the single-process packets, frame numbers and stats, in either
    byte order; capture loss in a statistics block at the end (as dumpcap writes it) is kept."""
    from test_sources_pcapng import isb

    frames = _mixed_frames(tmp_path, 6000)
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(_pcapng_of(frames, e) + isb(0, 0, 17, e))
    monkeypatch.setattr(parallel, "MIN_PART", 256 * 1024)
    tasks = split_pcapng(str(path), 0, 6)
    assert len(tasks) >= 4
    assert tasks[-1].end == path.stat().st_size and tasks[0].start == len(tasks[0].header)
    assert all(a.end == b.start for a, b in itertools.pairwise(tasks))
    assert {t.interfaces for t in tasks} == {1}
    parts = [parallel.scan(t) for t in tasks]
    assert all(r.clean and r.ended_at == t.end for r, t in zip(parts, tasks, strict=True))
    assert sum(r.stats.frames for r in parts) == 6000
    assert [r.stats.dropped for r in parts] == [0] * (len(parts) - 1) + [17]
    want, wc = _single([str(path)])
    got, gc = _multi([str(path)], jobs=3)
    assert got == want
    assert gc == wc
    assert wc.packets == 6000 and wc.vrrp + wc.arp > 10 and wc.capture_loss == 17
    assert analyze_parallel([str(path)], jobs=3).to_dict() == analyze([str(path)]).to_dict()


def test_split_pcapng_falls_back_when_a_part_changes_the_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mid-file blocks that change what later parts would need (a new section, a new interface,
    capture loss before the end) or damage: the file is rescanned whole, with the same result."""
    from test_sources_pcapng import block, idb, isb, shb

    frames = _mixed_frames(tmp_path, 6000)
    monkeypatch.setattr(parallel, "MIN_PART", 256 * 1024)
    cases = {
        # a second section whose interface 0 has another name and timestamp resolution
        "section": _pcapng_of(frames[:3000]) + shb() + idb(1, 0, name="eth1", tsresol=9) + _body(frames[3000:]),
        # a second interface defined mid-file
        "interface": _pcapng_of(frames, extra={3000: idb(1, 0, name="eth9", tsresol=9)}),
        # capture loss reported mid-file (the latest value per interface must win)
        "isb": _pcapng_of(frames, extra={2500: isb(0, 0, 5)}) + isb(0, 0, 9),
        # a damaged block length in the middle
        "damage": _pcapng_of(frames, extra={3500: block(6, b"\0" * 20)[:4] + struct.pack("<I", 9) + b"\0" * 24}),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.pcapng"
        path.write_bytes(data)
        tasks = split_pcapng(str(path), 0, 6)
        assert len(tasks) >= 4, name
        parts = [parallel.scan(t) for t in tasks]
        assert not all(r.clean for r in parts) or any(r.stats.dropped for r in parts[:-1]), name
        want, wc = _single([str(path)])
        got, gc = _multi([str(path)], jobs=3)
        assert got == want, name
        assert gc == wc, name
        assert analyze_parallel([str(path)], jobs=3).to_dict() == analyze([str(path)]).to_dict(), name
    assert _single([str(tmp_path / "isb.pcapng")])[1].capture_loss == 9


def test_split_pcapng_declines_odd_heads(tmp_path: Path) -> None:
    """No split (one whole-file task) when the head holds a statistics block or no interface."""
    from test_sources_pcapng import idb, isb, shb

    frames = _mixed_frames(tmp_path, 200)
    body = _body(frames)
    for name, head in {"isb": shb() + idb(1, 0, name="eth0", tsresol=9) + isb(0, 0, 3), "noif": shb()}.items():
        path = tmp_path / f"{name}.pcapng"
        path.write_bytes(head + body)
        assert [(t.start, t.end) for t in split_pcapng(str(path), 0, 4)] == [(None, None)], name


def test_jobs_one_and_stdin_stay_in_process() -> None:
    """jobs=1 is the plain pipeline (no pool)."""
    paths = [str(p) for p in REAL[:3]]
    assert _multi(paths, jobs=1) == _single(paths)


def test_expand_inputs(tmp_path: Path) -> None:
    """Globs and directories expand to sorted capture files; unmatched globs stay as given."""
    for name in ("b.pcap", "a.pcapng", "c.pcap.gz", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    shutil.copy(REAL[0], tmp_path / "sub" / "x.pcap")
    d = str(tmp_path)
    assert expand_inputs([d]) == [f"{d}/a.pcapng", f"{d}/b.pcap", f"{d}/c.pcap.gz"]
    assert expand_inputs([f"{d}/*.pcap", "-", f"{d}/b.pcap"]) == [f"{d}/b.pcap", "-"]
    assert expand_inputs([f"{d}/nothing*.pcap"]) == [f"{d}/nothing*.pcap"]
    assert expand_inputs([f"{d}/sub"]) == [f"{d}/sub/x.pcap"]


def test_in_place_prefilter_equals_slicing_on_every_sample() -> None:
    """pcap and pcapng readers: the in-place pre-filter path yields exactly the slicing path's
    frames, problems and statistics on every sample capture (damaged ones included)."""

    def generic(linktype: int, data: bytes) -> bool:
        return is_candidate(linktype, data)

    files = sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".pcap", ".pcapng", ".gz") and p.is_file())
    assert len(files) > 50
    kept = 0
    for path in files:
        with open_capture(str(path), prefilter=is_candidate) as fast:
            got = list(fast)
        with open_capture(str(path), prefilter=generic) as slow:
            want = list(slow)
        assert got == want, path
        assert fast.stats == slow.stats, path
        kept += len(got)
    assert kept > 1000


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_in_place_prefilter_equals_slicing_on_mixed_traffic(tmp_path: Path, fmt: str) -> None:
    """The benchmark's mixed traffic (TCP, UDP, VLAN, VRRP, ARP) through both reader paths."""

    def generic(linktype: int, data: bytes) -> bool:
        return is_candidate(linktype, data)

    path = _make_bench(tmp_path, 5000, fmt)
    with open_capture(str(path), prefilter=is_candidate) as fast:
        got = list(fast)
    with open_capture(str(path), prefilter=generic) as slow:
        want = list(slow)
    assert got == want
    assert fast.stats == slow.stats
    assert fast.stats.frames == 5000 and len(got) > 5


def test_spilled_scans_equal_in_memory_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond SPILL_AT packets a worker writes batches to disk; the merge reads them back in order,
    identical to the single-process run (whole files, split parts, damaged files), and removes
    every spill file and the spill directory."""
    monkeypatch.setattr(parallel, "SPILL_AT", 7)
    monkeypatch.setattr(parallel, "SPILL_BATCH", 3)
    monkeypatch.setattr(parallel, "MIN_PART", 256 * 1024)
    monkeypatch.setattr(parallel.tempfile, "tempdir", str(tmp_path))  # where the spill dir is made
    sample = REAL[0]
    spill = tmp_path / "direct"
    spill.mkdir()
    kept = parallel.scan(parallel.ScanTask(0, str(sample)))
    spilled = parallel.scan(parallel.ScanTask(0, str(sample), spill_dir=str(spill)))
    assert kept.spill is None and len(kept.items) > 20
    assert spilled.spill is not None and len(spilled.items) == 7
    assert list(parallel._items(spilled)) == kept.items
    assert not list(spill.iterdir())  # read once, then deleted
    bench = _make_bench(tmp_path, 6000)
    paths = [str(p) for p in REAL[:4]] + [str(p) for p in MALFORMED[:3]] + [str(bench)]
    want, wc = _single(paths)
    got, gc = _multi(paths, jobs=2)
    assert got == want
    assert gc == wc
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("vrrpscope-spill-")]
