"""pcapng reading: sections, byte orders, interfaces, tsresol/tsoffset, SPB/OPB/ISB, oracles.

Blocks are built byte by byte with struct here; scapy's PcapNgWriter and tshark are independent
cross-checks.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from vrrpscope.sources import CaptureReader, Frame, SourceProblem

IN_CI = os.environ.get("CI") == "true"
T0 = 1_700_000_000


def opt(code: int, value: bytes, e: str = "<") -> bytes:
    """One option, padded to 32 bits."""
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def end_opt(e: str = "<") -> bytes:
    return struct.pack(e + "HH", 0, 0)


def block(btype: int, body: bytes, e: str = "<") -> bytes:
    length = 12 + len(body)
    return struct.pack(e + "II", btype, length) + body + struct.pack(e + "I", length)


def shb(e: str = "<", options: bytes = b"") -> bytes:
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + options, e)


def idb(
    linktype: int = 1,
    snaplen: int = 0,
    *,
    name: str | None = None,
    tsresol: int | None = None,
    tsoffset: int | None = None,
    e: str = "<",
) -> bytes:
    body = struct.pack(e + "HHI", linktype, 0, snaplen)
    opts = b""
    if name is not None:
        opts += opt(2, name.encode(), e)
    if tsresol is not None:
        opts += opt(9, bytes([tsresol]), e)
    if tsoffset is not None:
        opts += opt(14, struct.pack(e + "q", tsoffset), e)
    if opts:
        opts += end_opt(e)
    return block(1, body + opts, e)


def pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def epb(ifid: int, ts: int, data: bytes, wirelen: int | None = None, e: str = "<") -> bytes:
    wire = len(data) if wirelen is None else wirelen
    return block(6, struct.pack(e + "IIIII", ifid, ts >> 32, ts & 0xFFFFFFFF, len(data), wire) + pad(data), e)


def spb(data: bytes, wirelen: int | None = None, e: str = "<") -> bytes:
    return block(3, struct.pack(e + "I", len(data) if wirelen is None else wirelen) + pad(data), e)


def opb(ifid: int, drops: int, ts: int, data: bytes, e: str = "<") -> bytes:
    body = struct.pack(e + "HHIIII", ifid, drops, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return block(2, body + pad(data), e)


def isb(ifid: int, ts: int, ifdrop: int | None, e: str = "<") -> bytes:
    body = struct.pack(e + "III", ifid, ts >> 32, ts & 0xFFFFFFFF)
    if ifdrop is not None:
        body += opt(4, struct.pack(e + "Q", 1000), e) + opt(5, struct.pack(e + "Q", ifdrop), e) + end_opt(e)
    return block(5, body, e)


def pkt(i: int, size: int = 60) -> bytes:
    """A distinct Ethernet frame of ``size`` bytes."""
    head = bytes([0x02, 0, 0x5E, 0, 0x53, i & 0xFF]) + bytes([0x02, 0, 0x5E, 0, 0x53, 1]) + b"\x86\xdd"
    return (head + struct.pack("!I", i) * size)[:size]


def us(sec: float) -> int:
    return round(sec * 1_000_000)


def read_all(path: Path, **kw: object) -> tuple[list[Frame], list[SourceProblem], CaptureReader]:
    reader = CaptureReader(str(path), **kw)  # type: ignore[arg-type]
    frames: list[Frame] = []
    problems: list[SourceProblem] = []
    with reader:
        for item in reader:
            (frames if isinstance(item, Frame) else problems).append(item)  # type: ignore[arg-type]
    return frames, problems, reader


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("e", ["<", ">"], ids=["le", "be"])
def test_basic_section_either_byte_order(tmp_path: Path, e: str) -> None:
    data = shb(e) + idb(1, 262144, name="eth0", e=e)
    data += epb(0, us(T0 + 0.5), pkt(1), e=e) + epb(0, us(T0 + 1.25), pkt(2, 61), wirelen=1514, e=e)
    frames, problems, reader = read_all(write(tmp_path, "b.pcapng", data))
    assert problems == []
    assert reader.format == "pcapng"
    assert [(f.number, f.time, f.data, f.wirelen) for f in frames] == [
        (1, T0 + 0.5, pkt(1), 60),
        (2, T0 + 1.25, pkt(2, 61), 1514),
    ]
    assert all(f.interface == 0 and f.interface_name == "eth0" and f.linktype == 1 for f in frames)
    st = reader.stats
    assert (st.frames, st.bytes, st.problems, st.dropped) == (2, 121, 0, 0)
    assert st.interfaces == {0: "eth0"} and st.linktypes == {1}
    assert (st.first_time, st.last_time) == (T0 + 0.5, T0 + 1.25)


def test_multiple_interfaces_and_linktypes(tmp_path: Path) -> None:
    data = shb() + idb(1, name="eth0") + idb(101, name="tun0") + idb(113, name="any")
    data += (
        epb(1, us(T0 + 1), pkt(1))
        + epb(0, us(T0 + 2), pkt(2))
        + epb(2, us(T0 + 3), pkt(3))
        + epb(1, us(T0 + 4), pkt(4))
    )
    frames, problems, reader = read_all(write(tmp_path, "m.pcapng", data))
    assert problems == []
    assert [(f.number, f.interface, f.interface_name, f.linktype) for f in frames] == [
        (1, 1, "tun0", 101),
        (2, 0, "eth0", 1),
        (3, 2, "any", 113),
        (4, 1, "tun0", 101),
    ]
    assert reader.stats.interfaces == {0: "eth0", 1: "tun0", 2: "any"}
    assert reader.stats.linktypes == {1, 101, 113}


def test_new_section_resets_interfaces(tmp_path: Path) -> None:
    # Section 1 (LE) has two interfaces; section 2 (BE) one. Interface ids in frames are global.
    data = shb("<") + idb(1, name="a0") + idb(1, name="a1") + epb(1, us(T0), pkt(1)) + epb(0, us(T0 + 1), pkt(2))
    data += shb(">") + idb(101, name="b0", e=">") + epb(0, us(T0 + 2), pkt(3), e=">")
    data += epb(1, us(T0 + 3), pkt(4), e=">")  # interface 1 existed only in the first section
    data += epb(0, us(T0 + 4), pkt(5), e=">")
    frames, problems, reader = read_all(write(tmp_path, "s.pcapng", data))
    assert [(f.number, f.interface, f.interface_name, f.linktype, f.data) for f in frames] == [
        (1, 1, "a1", 1, pkt(1)),
        (2, 0, "a0", 1, pkt(2)),
        (3, 2, "b0", 101, pkt(3)),
        (5, 2, "b0", 101, pkt(5)),
    ]
    assert [(p.reason, p.frame, p.fatal) for p in problems] == [("unknown_interface", 4, False)]
    assert reader.stats.interfaces == {0: "a0", 1: "a1", 2: "b0"}
    assert reader.stats.frames == 4 and reader.stats.problems == 1


@pytest.mark.parametrize(
    ("tsresol", "ts", "expected"),
    [
        (None, 1_700_000_000_250_000, 1_700_000_000.25),  # default: microseconds
        (6, 1_700_000_000_000_001, 1_700_000_000.000001),
        (9, 1_700_000_000_123_456_789, 1_700_000_000.123456789),
        (3, 1_700_000_000_750, 1_700_000_000.75),
        (0, 1_700_000_000, 1_700_000_000.0),
        (0x80 | 20, (1_700_000_000 << 20) | (3 << 18), 1_700_000_000.75),  # 2^-20 s units
        (0x80 | 0, 1_700_000_123, 1_700_000_123.0),
        (0x80 | 32, (1_700_000_000 << 32) | (1 << 31), 1_700_000_000.5),
    ],
    ids=["default", "us", "ns", "ms", "s", "2^-20", "2^0", "2^-32"],
)
def test_tsresol(tmp_path: Path, tsresol: int | None, ts: int, expected: float) -> None:
    data = shb() + idb(1, tsresol=tsresol) + epb(0, ts, pkt(1))
    frames, problems, _ = read_all(write(tmp_path, "r.pcapng", data))
    assert problems == []
    assert frames[0].time == pytest.approx(expected, abs=1e-9, rel=0)


@pytest.mark.parametrize("e", ["<", ">"], ids=["le", "be"])
def test_tsoffset_per_interface(tmp_path: Path, e: str) -> None:
    data = shb(e) + idb(1, tsresol=3, tsoffset=3600, e=e) + idb(1, tsoffset=-100, e=e) + idb(1, e=e)
    data += epb(0, 250, pkt(1), e=e) + epb(1, us(T0 + 0.5), pkt(2), e=e) + epb(2, us(T0), pkt(3), e=e)
    frames, problems, _ = read_all(write(tmp_path, "o.pcapng", data))
    assert problems == []
    assert [f.time for f in frames] == [3600.25, T0 - 100 + 0.5, T0]


def test_simple_packet_block(tmp_path: Path) -> None:
    data = shb() + idb(1, 64, name="eth0") + epb(0, us(T0 + 7.5), pkt(1))
    data += spb(pkt(2, 64), wirelen=1500)  # snaplen-truncated: caplen = snaplen
    data += spb(pkt(3, 30))  # 30 bytes + 2 padding: caplen = original length
    frames, problems, reader = read_all(write(tmp_path, "spb.pcapng", data))
    assert problems == []
    assert [(f.number, f.time, len(f.data), f.wirelen, f.interface_name) for f in frames] == [
        (1, T0 + 7.5, 60, 60, "eth0"),
        (2, T0 + 7.5, 64, 1500, "eth0"),  # no timestamp: the previous frame's
        (3, T0 + 7.5, 30, 30, "eth0"),
    ]
    assert frames[1].data == pkt(2, 64) and frames[2].data == pkt(3, 30)
    assert reader.stats.frames == 3 and reader.stats.bytes == 154


def test_spb_first_frame_and_stats_times(tmp_path: Path) -> None:
    data = shb() + idb(1) + spb(pkt(1)) + epb(0, us(T0 + 3), pkt(2))
    frames, problems, reader = read_all(write(tmp_path, "spb0.pcapng", data))
    assert problems == []
    assert [f.time for f in frames] == [0.0, T0 + 3]
    assert (reader.stats.first_time, reader.stats.last_time) == (T0 + 3, T0 + 3)


def test_spb_without_interface(tmp_path: Path) -> None:
    data = shb() + spb(pkt(1)) + idb(1) + spb(pkt(2))
    frames, problems, _ = read_all(write(tmp_path, "spbx.pcapng", data))
    assert [(p.reason, p.frame, p.offset, p.fatal) for p in problems] == [("unknown_interface", 1, 28, False)]
    assert [f.number for f in frames] == [2]


def test_obsolete_packet_block_and_drops(tmp_path: Path) -> None:
    data = shb() + idb(1, name="eth0") + opb(0, 0, us(T0 + 1), pkt(1)) + opb(0, 4, us(T0 + 2), pkt(2))
    data += opb(0, 0xFFFF, us(T0 + 3), pkt(3))  # 0xFFFF: drop count unknown
    frames, problems, reader = read_all(write(tmp_path, "opb.pcapng", data))
    assert problems == []
    assert [(f.number, f.time, f.data, f.interface_name) for f in frames] == [
        (1, T0 + 1, pkt(1), "eth0"),
        (2, T0 + 2, pkt(2), "eth0"),
        (3, T0 + 3, pkt(3), "eth0"),
    ]
    assert reader.stats.dropped == 4


def test_isb_drops_latest_per_interface_summed(tmp_path: Path) -> None:
    data = shb() + idb(1) + idb(1)
    data += epb(0, us(T0), pkt(1)) + isb(0, us(T0 + 1), 5) + isb(1, us(T0 + 1), 3)
    data += epb(1, us(T0 + 2), pkt(2)) + isb(0, us(T0 + 3), 7) + isb(1, us(T0 + 3), None)
    data += shb() + idb(1) + isb(0, us(T0 + 4), 11)  # another section's interface 0
    frames, problems, reader = read_all(write(tmp_path, "isb.pcapng", data))
    assert problems == []
    assert len(frames) == 2
    assert reader.stats.dropped == 7 + 3 + 11


def test_isb_drops_override_opb_counters(tmp_path: Path) -> None:
    data = shb() + idb(1) + opb(0, 9, us(T0), pkt(1)) + isb(0, us(T0 + 1), 12)
    _frames, _problems, reader = read_all(write(tmp_path, "isbopb.pcapng", data))
    assert reader.stats.dropped == 12


def test_isb_for_unknown_interface(tmp_path: Path) -> None:
    data = shb() + idb(1) + isb(3, us(T0), 5) + epb(0, us(T0), pkt(1))
    frames, problems, reader = read_all(write(tmp_path, "isbx.pcapng", data))
    assert [(p.reason, p.fatal) for p in problems] == [("unknown_interface", False)]
    assert len(frames) == 1 and reader.stats.dropped == 0


def test_unknown_and_skippable_blocks_are_silent(tmp_path: Path) -> None:
    nrb = block(4, struct.pack("<HH", 1, 8) + bytes([192, 0, 2, 1]) + b"gw\0\0" + end_opt())
    dsb = block(0x0A, struct.pack("<II", 0x544C534B, 4) + b"abcd")
    custom = block(0x00000BAD, struct.pack("<I", 32473) + b"vendor data!")
    future = block(0x12345678, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    empty = block(0x00000099, b"")
    data = shb() + nrb + idb(1) + dsb + epb(0, us(T0), pkt(1)) + custom + future + empty + epb(0, us(T0 + 1), pkt(2))
    frames, problems, reader = read_all(write(tmp_path, "u.pcapng", data))
    assert problems == []
    assert [f.number for f in frames] == [1, 2]
    assert reader.stats.problems == 0


def test_shb_options_and_idb_without_end_of_options(tmp_path: Path) -> None:
    shb_opts = opt(2, b"x86_64 test hardware") + opt(3, b"Linux") + end_opt()
    raw_idb = block(1, struct.pack("<HHI", 1, 0, 0) + opt(2, b"eth7"))  # no opt_endofopt
    data = shb(options=shb_opts) + raw_idb + epb(0, us(T0), pkt(1))
    frames, problems, _ = read_all(write(tmp_path, "opts.pcapng", data))
    assert problems == []
    assert frames[0].interface_name == "eth7"


def test_idb_option_overrun_is_reported_but_interface_kept(tmp_path: Path) -> None:
    body = struct.pack("<HHI", 1, 0, 0) + opt(2, b"eth0") + struct.pack("<HH", 9, 40) + b"\x09\0\0\0"
    data = shb() + block(1, body) + epb(0, us(T0), pkt(1))
    frames, problems, _ = read_all(write(tmp_path, "ovr.pcapng", data))
    assert [(p.reason, p.fatal, p.offset) for p in problems] == [("bad_block_length", False, 28)]
    assert frames[0].interface_name == "eth0" and frames[0].time == T0


def test_caplen_exceeds_snaplen_kept_and_reported_once_per_interface(tmp_path: Path) -> None:
    data = shb() + idb(1, 50) + idb(1, 50) + epb(0, us(T0), pkt(1)) + epb(0, us(T0), pkt(2)) + epb(1, us(T0), pkt(3))
    frames, problems, _ = read_all(write(tmp_path, "snap.pcapng", data))
    assert [f.number for f in frames] == [1, 2, 3]
    assert all(len(f.data) == 60 for f in frames)
    assert [(p.reason, p.frame, p.fatal) for p in problems] == [
        ("caplen_exceeds_snaplen", 1, False),
        ("caplen_exceeds_snaplen", 3, False),
    ]


def test_epb_caplen_beyond_block_is_skipped(tmp_path: Path) -> None:
    bad = bytearray(epb(0, us(T0 + 1), pkt(2)))
    struct.pack_into("<I", bad, 20, 500)  # captured length far beyond the block
    data = shb() + idb(1) + epb(0, us(T0), pkt(1)) + bytes(bad) + epb(0, us(T0 + 2), pkt(3))
    frames, problems, _ = read_all(write(tmp_path, "cap.pcapng", data))
    assert [f.number for f in frames] == [1, 3]
    assert [(p.reason, p.frame, p.offset, p.fatal) for p in problems] == [("bad_block_length", 2, 48 + 92, False)]


@pytest.mark.parametrize("chunk", [1, 3, 12, 13, 50, 4096])
def test_chunk_boundaries_do_not_matter(tmp_path: Path, chunk: int) -> None:
    data = shb() + idb(1, name="eth0") + idb(101) + isb(0, us(T0), 2)
    for i in range(10):
        data += epb(i % 2, us(T0 + i / 8), pkt(i, 40 + i * 9))
    data += shb(">") + idb(1, name="b", e=">") + spb(pkt(99), e=">") + epb(0, us(T0 + 9), pkt(100), e=">")
    path = write(tmp_path, "chunks.pcapng", data)
    ref, ref_problems, ref_reader = read_all(path)
    assert ref_problems == [] and len(ref) == 12
    frames, problems, reader = read_all(path, chunk_size=chunk)
    assert problems == []
    assert frames == ref
    assert reader.stats == ref_reader.stats


def test_gzipped_pcapng(tmp_path: Path) -> None:
    data = shb() + idb(1, name="eth0") + b"".join(epb(0, us(T0 + i), pkt(i)) for i in range(5))
    path = write(tmp_path, "z.pcapng.gz", gzip.compress(data, mtime=0))
    frames, problems, reader = read_all(path)
    assert problems == []
    assert reader.compression == "gzip" and reader.format == "pcapng"
    assert [f.time for f in frames] == [T0 + i for i in range(5)]


def test_prefilter(tmp_path: Path) -> None:
    data = shb() + idb(1) + idb(101) + b"".join(epb(i % 2, us(T0 + i), pkt(i)) for i in range(6))
    frames, problems, reader = read_all(write(tmp_path, "pf.pcapng", data), prefilter=lambda lt, d: lt == 101)
    assert problems == []
    assert [(f.number, f.linktype) for f in frames] == [(2, 101), (4, 101), (6, 101)]
    assert reader.stats.frames == 6 and reader.stats.last_time == T0 + 5


def test_scapy_pcapng_writer_cross_check(tmp_path: Path) -> None:
    scapy_utils = pytest.importorskip("scapy.utils")
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    pkts = []
    for i in range(4):
        p = Ether(src="02:00:5e:00:53:01") / IP(src="192.0.2.1", dst="198.51.100.7") / UDP(dport=5000 + i)
        p.time = T0 + i * 0.25
        pkts.append(p)
    path = tmp_path / "scapy.pcapng"
    with scapy_utils.PcapNgWriter(str(path)) as w:
        for p in pkts:
            w.write(p)
    frames, problems, _ = read_all(path)
    assert problems == []
    assert [f.data for f in frames] == [bytes(p) for p in pkts]
    assert [f.time for f in frames] == pytest.approx([float(p.time) for p in pkts], abs=1e-6)


def _tshark_rows(path: Path) -> list[list[str]]:
    tshark = shutil.which("tshark")
    if tshark is None:
        if IN_CI:
            pytest.fail("tshark is required in CI")
        pytest.skip("tshark not installed")
    fields = ["frame.number", "frame.time_epoch", "frame.interface_id", "frame.cap_len", "frame.len"]
    cmd = [tshark, "-r", str(path), "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}, timeout=120, check=True
    )
    return [line.split("\t") for line in proc.stdout.splitlines() if line]


@pytest.mark.tshark
@pytest.mark.parametrize("e", ["<", ">"], ids=["le", "be"])
def test_tshark_oracle(tmp_path: Path, e: str) -> None:
    # One section (tshark 4.0 numbers interfaces per section): mixed resolutions and offsets.
    data = shb(e) + idb(1, name="eth0", e=e) + idb(1, tsresol=9, name="eth1", e=e)
    data += idb(1, tsresol=0x80 | 16, tsoffset=-3600, e=e) + idb(101, tsresol=3, tsoffset=86400, e=e)
    for i in range(200):
        ifid = i % 4
        sec = T0 + i * 37
        ts = [
            sec * 10**6 + (i * 7919) % 10**6,
            sec * 10**9 + (i * 104_729_513) % 10**9,
            (sec << 16) | ((i * 4099) & 0xFFFF),
            sec * 1000 + i % 1000,
        ][ifid]
        data += epb(ifid, ts, pkt(i, 42 + i % 50), wirelen=42 + i % 50 + i % 5, e=e)
        if i % 50 == 49:
            data += isb(ifid, ts, i, e=e)
    path = write(tmp_path, "oracle.pcapng", data)
    frames, problems, reader = read_all(path)
    assert problems == []
    rows = _tshark_rows(path)
    assert len(rows) == len(frames) == reader.stats.frames == 200
    for f, (num, epoch, if_id, cap, wire) in zip(frames, rows, strict=True):
        assert f.number == int(num)
        assert f.time == pytest.approx(float(epoch), abs=1e-6)
        assert f.interface == int(if_id)
        assert len(f.data) == int(cap) and f.wirelen == int(wire)


@pytest.mark.parametrize("trailer", ["unpadded", "padded"])
def test_unpadded_total_length_is_tolerated_like_wireshark(tmp_path: Path, trailer: str) -> None:
    # 42 bytes of data: the block is 76 bytes with padding; some writers say 74.
    odd = bytearray(epb(0, us(T0 + 1), pkt(2, 42)))
    assert len(odd) == 76
    struct.pack_into("<I", odd, 4, 74)
    if trailer == "unpadded":
        struct.pack_into("<I", odd, 72, 74)
    data = shb() + idb(1) + epb(0, us(T0), pkt(1)) + bytes(odd) + epb(0, us(T0 + 2), pkt(3))
    path = write(tmp_path, "odd.pcapng", data)
    frames, problems, _ = read_all(path)
    assert problems == []
    assert [(f.number, f.time, f.data) for f in frames] == [
        (1, T0, pkt(1)),
        (2, T0 + 1, pkt(2, 42)),
        (3, T0 + 2, pkt(3)),
    ]
    for chunk in (5, 80):
        assert read_all(path, chunk_size=chunk)[0] == frames
    if shutil.which("tshark"):
        assert [int(row[0]) for row in _tshark_rows(path)] == [1, 2, 3]
