"""Classic pcap reading: byte orders, µs/ns timestamps, gzip, stdin, prefilter, chunking, oracles.

Captures are built byte by byte with struct here; scapy's writer and tshark are independent
cross-checks.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from vrrpscope.sources import (
    STDIN_NAME,
    CaptureReader,
    Frame,
    SourceProblem,
    open_capture,
)

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


def pcap_file(
    records: list[tuple[int, int, bytes, int]],
    *,
    endian: str = "<",
    magic: int = MAGIC_US,
    linktype: int = 1,
    snaplen: int = 65535,
) -> bytes:
    """A pcap file; each record is (ts_sec, ts_frac, captured data, original length)."""
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for sec, frac, data, wire in records:
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), wire) + data)
    return b"".join(out)


def eth_frame(i: int, size: int = 60) -> bytes:
    """A distinct Ethernet frame of ``size`` bytes (IPv4 ethertype, payload tagged with i)."""
    head = bytes([0x02, 0, 0x5E, 0, 0x53, i & 0xFF]) + bytes([0x02, 0, 0x5E, 0, 0x53, 0x01]) + b"\x08\x00"
    body = struct.pack("!I", i) * ((size - len(head)) // 4 + 1)
    return (head + body)[:size]


def sample_records(n: int = 5) -> list[tuple[int, int, bytes, int]]:
    """n records with varied sizes and sub-second parts (µs)."""
    return [(1_700_000_000 + i, (i * 123_457) % 1_000_000, eth_frame(i, 60 + 37 * i), 60 + 37 * i) for i in range(n)]


def read_all(path: str | Path, **kw: object) -> tuple[list[Frame], list[SourceProblem], CaptureReader]:
    """Read a capture fully; split frames from problems."""
    reader = CaptureReader(str(path), **kw)  # type: ignore[arg-type]
    frames: list[Frame] = []
    problems: list[SourceProblem] = []
    with reader:
        for item in reader:
            if isinstance(item, Frame):
                frames.append(item)
            else:
                assert isinstance(item, SourceProblem)
                problems.append(item)
    return frames, problems, reader


@pytest.mark.parametrize(
    ("endian", "magic", "div"),
    [("<", MAGIC_US, 1e6), (">", MAGIC_US, 1e6), ("<", MAGIC_NS, 1e9), (">", MAGIC_NS, 1e9)],
    ids=["le-us", "be-us", "le-ns", "be-ns"],
)
def test_byte_orders_and_resolutions(tmp_path: Path, endian: str, magic: int, div: float) -> None:
    frac_max = int(div)
    records = [(1_700_000_000 + i, (i * 987_654_321) % frac_max, eth_frame(i, 60 + i), 1500) for i in range(4)]
    path = tmp_path / "x.pcap"
    path.write_bytes(pcap_file(records, endian=endian, magic=magic, linktype=101, snaplen=96))
    frames, problems, reader = read_all(path)
    assert problems == []
    assert reader.format == "pcap" and reader.compression is None
    assert [f.number for f in frames] == [1, 2, 3, 4]
    for f, (sec, frac, data, wire) in zip(frames, records, strict=True):
        assert f.time == pytest.approx(sec + frac / div, abs=1e-6)
        assert f.data == data
        assert f.wirelen == wire == 1500
        assert f.linktype == 101
        assert f.interface == 0 and f.interface_name is None
        assert f.file == str(path)
    st = reader.stats
    assert st.frames == 4
    assert st.bytes == sum(len(r[2]) for r in records)
    assert st.linktypes == {101}
    assert st.interfaces == {0: None}
    assert st.first_time == frames[0].time and st.last_time == frames[-1].time
    assert st.problems == 0 and st.dropped == 0


def test_nanosecond_fraction_is_not_microseconds(tmp_path: Path) -> None:
    # 500_000_000 in a ns file is half a second; read as µs it would be 500 s.
    path = tmp_path / "ns.pcap"
    path.write_bytes(pcap_file([(1_700_000_000, 500_000_000, eth_frame(1), 60)], magic=MAGIC_NS))
    frames, _problems, _reader = read_all(path)
    assert frames[0].time == 1_700_000_000.5


def test_stats_first_last_are_earliest_and_latest(tmp_path: Path) -> None:
    records = [
        (1_700_000_010, 0, eth_frame(0), 60),
        (1_700_000_005, 0, eth_frame(1), 60),
        (1_700_000_020, 0, eth_frame(2), 60),
    ]
    path = tmp_path / "ooo.pcap"
    path.write_bytes(pcap_file(records))
    _frames, _problems, reader = read_all(path)
    assert reader.stats.first_time == 1_700_000_005.0
    assert reader.stats.last_time == 1_700_000_020.0


def test_linktype_fcs_bits_are_masked(tmp_path: Path) -> None:
    # draft-ietf-opsawg-pcap: the top bits of the link type field carry FCS information.
    path = tmp_path / "fcs.pcap"
    path.write_bytes(pcap_file(sample_records(1), linktype=0x04000000 | 1))
    frames, problems, reader = read_all(path)
    assert problems == []
    assert frames[0].linktype == 1 and reader.stats.linktypes == {1}


def test_empty_capture_after_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(pcap_file([]))
    frames, problems, reader = read_all(path)
    assert frames == [] and problems == []
    assert reader.stats.frames == 0 and reader.stats.first_time is None


@pytest.mark.parametrize("chunk", [1, 2, 15, 16, 17, 61, 4096])
def test_chunk_boundaries_do_not_matter(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_file(sample_records(12)))
    ref, _, _ = read_all(path)
    frames, problems, reader = read_all(path, chunk_size=chunk)
    assert problems == []
    assert frames == ref
    assert reader.stats.frames == 12


def test_gzip_detected_by_magic_not_name(tmp_path: Path) -> None:
    raw = pcap_file(sample_records(6))
    plain = tmp_path / "p.pcap"
    plain.write_bytes(raw)
    disguised = tmp_path / "looks-plain.pcap"  # gzip content, no .gz name
    disguised.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    ref, _, _ = read_all(plain)
    frames, problems, reader = read_all(disguised, chunk_size=100)
    assert problems == []
    assert reader.compression == "gzip" and reader.format == "pcap"
    assert [(f.number, f.time, f.data) for f in frames] == [(f.number, f.time, f.data) for f in ref]


def test_gzip_multi_member(tmp_path: Path) -> None:
    # pigz and `cat a.gz b.gz` produce several members; the split falls inside a record.
    raw = pcap_file(sample_records(6))
    path = tmp_path / "multi.pcap.gz"
    path.write_bytes(gzip.compress(raw[:100], mtime=0) + gzip.compress(raw[100:], mtime=0))
    frames, problems, _ = read_all(path, chunk_size=64)
    assert problems == []
    assert len(frames) == 6


def test_gzip_corrupt_data_reports_gzip_error(tmp_path: Path) -> None:
    raw = pcap_file(sample_records(40))
    gz = bytearray(gzip.compress(raw, mtime=0))
    gz[len(gz) // 2] ^= 0xFF
    gz[len(gz) // 2 + 1] ^= 0xFF
    path = tmp_path / "bad.pcap.gz"
    path.write_bytes(bytes(gz))
    frames, problems, _ = read_all(path)
    assert problems, "corruption must be reported"
    assert problems[-1].reason == "gzip_error" and problems[-1].fatal
    assert all(f.data == eth_frame(f.number - 1, 60 + 37 * (f.number - 1)) for f in frames)


def test_prefilter_counts_but_does_not_build(tmp_path: Path) -> None:
    records = sample_records(8)
    path = tmp_path / "pf.pcap"
    path.write_bytes(pcap_file(records, linktype=1))
    seen: list[tuple[int, bytes]] = []

    def keep_odd(linktype: int, data: bytes) -> bool:
        seen.append((linktype, data))
        return struct.unpack("!I", data[14:18])[0] % 2 == 1

    frames, problems, reader = read_all(path, prefilter=keep_odd)
    assert problems == []
    assert [f.number for f in frames] == [2, 4, 6, 8]  # numbering counts every frame
    assert seen == [(1, r[2]) for r in records]
    assert reader.stats.frames == 8
    assert reader.stats.bytes == sum(len(r[2]) for r in records)
    assert reader.stats.first_time == pytest.approx(records[0][0] + records[0][1] / 1e6)
    assert reader.stats.last_time == pytest.approx(records[-1][0] + records[-1][1] / 1e6)

    rejected, _, reader2 = read_all(path, prefilter=lambda lt, d: False)
    assert rejected == [] and reader2.stats.frames == 8


def test_stats_are_current_while_iterating(tmp_path: Path) -> None:
    path = tmp_path / "s.pcap"
    path.write_bytes(pcap_file(sample_records(5)))
    reader = open_capture(str(path))
    for item in reader:
        assert isinstance(item, Frame)
        assert reader.stats.frames == item.number
        assert reader.stats.last_time == item.time


def test_context_manager_closes_file_when_stopped_early(tmp_path: Path) -> None:
    path = tmp_path / "early.pcap"
    path.write_bytes(pcap_file(sample_records(5)))
    fd_dir = Path("/proc/self/fd")
    before = len(list(fd_dir.iterdir()))
    with open_capture(str(path)) as reader:
        first = next(iter(reader))
        assert isinstance(first, Frame)
        assert len(list(fd_dir.iterdir())) == before + 1
    assert len(list(fd_dir.iterdir())) == before
    assert list(reader) == []


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_paths(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nope.pcap"
    if kind == "directory":
        path.mkdir()
    frames, problems, reader = read_all(path)
    assert frames == []
    assert len(problems) == 1
    p = problems[0]
    assert p.reason == "unreadable" and p.fatal and p.file == str(path) and p.offset == 0
    assert "\n" not in p.message() and str(path) in p.message()
    assert reader.stats.problems == 1


def test_stdin_monkeypatched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    raw = gzip.compress(pcap_file(sample_records(4)), mtime=0)

    class FakeStdin:
        buffer = io.BytesIO(raw)

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    frames, problems, reader = read_all("-")
    assert problems == []
    assert [f.number for f in frames] == [1, 2, 3, 4]
    assert reader.path == "-" and reader.file == STDIN_NAME and frames[0].file == STDIN_NAME
    assert reader.compression == "gzip"


def test_stdin_is_streamed_not_slurped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The writer sends the header and one record, then waits: the reader must hand out frame 1
    # before the pipe is closed (a live `tcpdump -U -w - | vrrpscope ...`).
    raw = pcap_file(sample_records(3))
    first_len = 24 + 16 + len(sample_records(3)[0][2])
    rfd, wfd = os.pipe()
    got_first = threading.Event()
    writer_done = threading.Event()

    def writer() -> None:
        os.write(wfd, raw[:first_len])
        got_first.wait(10)
        os.write(wfd, raw[first_len:])
        os.close(wfd)
        writer_done.set()

    class PipeStdin:
        buffer = os.fdopen(rfd, "rb")

    monkeypatch.setattr(sys, "stdin", PipeStdin())
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with open_capture("-") as reader:
        it = iter(reader)
        first = next(it)
        assert isinstance(first, Frame) and first.number == 1
        assert not writer_done.is_set()
        got_first.set()
        rest = list(it)
    thread.join(10)
    PipeStdin.buffer.close()
    assert [f.number for f in rest if isinstance(f, Frame)] == [2, 3]


def test_stdin_subprocess_pipe(tmp_path: Path) -> None:
    # A real pipe into a fresh interpreter: damaged input, no traceback, frames then the problem.
    raw = pcap_file(sample_records(5))
    damaged = raw[:-10]
    script = (
        "import json, sys\n"
        "from vrrpscope.sources import open_capture, Frame\n"
        "out = []\n"
        "with open_capture('-') as r:\n"
        "    for x in r:\n"
        "        out.append([x.number, x.time] if isinstance(x, Frame) else [x.reason, x.frame, x.fatal])\n"
        "print(json.dumps({'items': out, 'frames': r.stats.frames}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=gzip.compress(damaged, mtime=0),
        capture_output=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    doc = json.loads(proc.stdout)
    recs = sample_records(5)
    assert doc["items"][:4] == [[i + 1, pytest.approx(s + f / 1e6)] for i, (s, f, _d, _w) in enumerate(recs[:4])]
    assert doc["items"][4] == ["truncated_record", 5, True]
    assert doc["frames"] == 4


def test_scapy_written_pcap_cross_check(tmp_path: Path) -> None:
    scapy_utils = pytest.importorskip("scapy.utils")
    from scapy.layers.l2 import ARP, Ether

    pkts: list[Any] = []
    for i in range(5):
        p: Any = Ether(src="02:00:5e:00:53:01", dst="ff:ff:ff:ff:ff:ff") / ARP(
            psrc="192.0.2.1", pdst=f"192.0.2.{10 + i}"
        )
        p.time = 1_700_000_000 + i * 0.125
        pkts.append(p)
    path = tmp_path / "scapy.pcap"
    scapy_utils.wrpcap(str(path), pkts)
    frames, problems, _ = read_all(path)
    assert problems == []
    assert [f.data for f in frames] == [bytes(p) for p in pkts]
    assert [f.time for f in frames] == pytest.approx([float(p.time) for p in pkts], abs=1e-6)
    assert {f.linktype for f in frames} == {1}


def _tshark_fields(path: Path) -> list[list[str]]:
    tshark = shutil.which("tshark")
    if tshark is None:
        if IN_CI:
            pytest.fail("tshark is required in CI")
        pytest.skip("tshark not installed")
    proc = subprocess.run(
        [
            tshark,
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.cap_len",
            "-e",
            "frame.len",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        timeout=120,
        check=True,
    )
    return [line.split("\t") for line in proc.stdout.splitlines() if line]


@pytest.mark.tshark
@pytest.mark.parametrize(("endian", "magic"), [("<", MAGIC_US), (">", MAGIC_NS)], ids=["le-us", "be-ns"])
def test_tshark_oracle(tmp_path: Path, endian: str, magic: int) -> None:
    div = 1_000_000 if magic == MAGIC_US else 1_000_000_000
    records = [
        (
            1_600_000_000 + i * 7919,
            (i * 2_654_435_761) % div,
            eth_frame(i, 42 + (i * 13) % 200),
            42 + (i * 13) % 200 + i % 3,
        )
        for i in range(300)
    ]
    path = tmp_path / "oracle.pcap"
    path.write_bytes(pcap_file(records, endian=endian, magic=magic, snaplen=262144))
    frames, problems, reader = read_all(path)
    assert problems == []
    rows = _tshark_fields(path)
    assert len(rows) == len(frames) == reader.stats.frames == 300
    for f, (num, epoch, cap, wire) in zip(frames, rows, strict=True):
        assert f.number == int(num)
        assert f.time == pytest.approx(float(epoch), abs=1e-6)
        assert len(f.data) == int(cap)
        assert f.wirelen == int(wire)
