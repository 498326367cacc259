"""The tshark engine (:mod:`vrrpscope.sources.tshark_engine`) against the native engine.

For every synthetic sample, the records :func:`iter_tshark` builds from Wireshark's dissection
must equal the native ones (:func:`vrrpscope.sources.open_capture` + :func:`dissectors.packet.dissect`)
on every contract field: frame numbers, capture time (within 1 µs), pcapng interface id and name,
and the whole :class:`~dissectors.records.Dissected` record. The only documented exception:
``Malformed.detail`` (human text) and ``Malformed.offset`` are each engine's own; ``layer`` and
``reason`` must agree. Then the engine's own promises: formats and link types the native reader
does not support, errors as :class:`TsharkError` or fatal ``SourceProblem``, early close.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from dissectors.packet import dissect
from dissectors.records import Dissected, Malformed, VrrpV3Advert
from vrrpscope.sources import Frame, SourceProblem, open_capture
from vrrpscope.sources.tshark_engine import TsharkError, TsharkPacket, iter_tshark, tshark_command

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "samples" / "synthetic"
SAMPLES = sorted(p for p in SYNTHETIC.iterdir() if p.is_file() and p.name.endswith((".pcap", ".pcapng", ".pcap.gz")))
TIME_TOLERANCE = 1e-6

pytestmark = pytest.mark.tshark


def _tool(name: str) -> str:
    """Path of a Wireshark tool; skip (or fail under CI=true) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (required when CI=true)")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="module")
def tshark() -> str:
    """Path of tshark (see :func:`_tool`)."""
    return _tool("tshark")


def _native(path: Path) -> dict[int, tuple[Frame, Dissected]]:
    out: dict[int, tuple[Frame, Dissected]] = {}
    with open_capture(str(path)) as reader:
        for item in reader:
            assert not isinstance(item, SourceProblem), item.message()
            dissected = dissect(item.linktype, item.data)
            if dissected is not None:
                out[item.number] = (item, dissected)
    return out


def _comparable(engine: Dissected, native: Dissected) -> Dissected:
    """``engine`` with the documented exception applied: Malformed detail/offset taken from native."""
    if isinstance(engine.message, Malformed) and isinstance(native.message, Malformed):
        message = replace(engine.message, detail=native.message.detail, offset=native.message.offset)
        return replace(engine, message=message)
    return engine


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


@pytest.mark.parametrize("sample", SAMPLES, ids=[_stem(p) for p in SAMPLES])
def test_engine_equals_native(sample: Path, tshark: str) -> None:
    """Same frames, times, interfaces and records from Wireshark's dissection as from ours."""
    native = _native(sample)
    engine = {p.frame: p for p in iter_tshark(str(sample), tshark=tshark)}
    assert sorted(engine) == sorted(native)
    assert native, "every synthetic sample has VRRP/ARP/ND frames"
    for number, (frame, dissected) in native.items():
        packet = engine[number]
        assert abs(packet.time - frame.time) <= TIME_TOLERANCE, (number, packet.time, frame.time)
        assert (packet.interface, packet.interface_name) == (frame.interface, frame.interface_name)
        assert _comparable(packet.dissected, dissected) == dissected, f"frame {number}"


def test_packets_are_tuples(tshark: str) -> None:
    """A TsharkPacket unpacks as (frame, time, interface, interface_name, dissected)."""
    packets = list(iter_tshark(str(SYNTHETIC / "two_interfaces.pcapng"), tshark=tshark))
    frame, time, interface, name, dissected = packets[1]
    assert (frame, interface, name) == (2, 1, "eth1")
    assert time == pytest.approx(1700000000.000001123, abs=1e-6)
    assert isinstance(dissected.message, VrrpV3Advert)  # eth1's v3 advert
    assert [p.frame for p in packets] == [1, 2, 3, 6, 7, 8]


def test_reads_formats_the_native_reader_cannot(tmp_path: Path, tshark: str) -> None:
    """A Sun snoop file (converted by editcap) decodes to the records of the original pcap."""
    editcap = _tool("editcap")
    source = SYNTHETIC / "v2_auth_simple.pcap"
    snoop = tmp_path / "v2_auth_simple.snoop"
    subprocess.run([editcap, "-F", "snoop", str(source), str(snoop)], check=True, capture_output=True)
    with open_capture(str(snoop)) as reader:
        items = list(reader)
    assert any(isinstance(i, SourceProblem) and i.fatal for i in items)
    native = _native(source)
    engine = list(iter_tshark(str(snoop), tshark=tshark))
    assert [p.frame for p in engine] == sorted(native)
    assert [p.dissected for p in engine] == [native[p.frame][1] for p in engine]


def test_reads_link_types_the_native_decoder_cannot(tmp_path: Path, tshark: str) -> None:
    """BSD loopback (LINKTYPE_NULL, 0): unknown natively, decoded by Wireshark."""
    original = next(iter(_native(SYNTHETIC / "raw_ipv4.pcap").values()))
    with open(SYNTHETIC / "raw_ipv4.pcap", "rb") as fh:
        data = fh.read()
    first_len = struct.unpack_from("<I", data, 24 + 8)[0]
    ip_packet = data[24 + 16 : 24 + 16 + first_len]
    null_frame = struct.pack("<I", 2) + ip_packet  # AF_INET in host (little-endian) order
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 0)
    record = struct.pack("<IIII", 1700000000, 0, len(null_frame), len(null_frame)) + null_frame
    path = tmp_path / "null.pcap"
    path.write_bytes(header + record)
    assert dissect(0, null_frame) is None
    (packet,) = list(iter_tshark(str(path), tshark=tshark))
    _frame, native = original
    assert packet.dissected == native  # raw IPv4 natively: no link addresses, ethertype 0x0800


def test_unreadable_capture_raises_or_reports(tmp_path: Path, tshark: str) -> None:
    """tshark's read error: TsharkError by default, a fatal SourceProblem when a list is given."""
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture file at all")
    with pytest.raises(TsharkError, match=r"bad\.pcap"):
        list(iter_tshark(str(bad), tshark=tshark))
    problems: list[SourceProblem] = []
    assert list(iter_tshark(str(bad), tshark=tshark, problems=problems)) == []
    assert len(problems) == 1 and problems[0].fatal and problems[0].reason == "unreadable"
    assert problems[0].file == str(bad)


def test_truncated_capture_yields_frames_before_the_damage(tmp_path: Path, tshark: str) -> None:
    """A capture cut inside its last record: earlier frames come out, then the error."""
    data = (SYNTHETIC / "v2_auth_none.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-20])
    problems: list[SourceProblem] = []
    packets = list(iter_tshark(str(cut), tshark=tshark, problems=problems))
    assert [p.frame for p in packets] == [1, 3, 5]
    assert len(problems) == 1 and problems[0].frame == 6


def test_missing_tshark_is_reported() -> None:
    """A tshark that cannot be run: TsharkError, or a SourceProblem when a list is given."""
    missing = "/nonexistent/tshark"
    with pytest.raises(TsharkError, match="cannot run"):
        list(iter_tshark(str(SYNTHETIC / "v2_auth_none.pcap"), tshark=missing))
    problems: list[SourceProblem] = []
    assert list(iter_tshark(str(SYNTHETIC / "v2_auth_none.pcap"), tshark=missing, problems=problems)) == []
    assert problems[0].reason == "unreadable" and problems[0].fatal


def _tshark_children() -> list[int]:
    """PIDs of this process's child processes named tshark (running or not yet reaped)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == me and comm == "tshark":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_early_close_stops_tshark(tshark: str) -> None:
    """Closing the generator after the first packet kills and reaps tshark."""
    gen = iter_tshark(str(SYNTHETIC / "v3_subsecond.pcap"), tshark=tshark)
    first = next(gen)
    assert isinstance(first, TsharkPacket) and first.frame == 1
    assert len(_tshark_children()) == 1
    gen.close()
    assert _tshark_children() == []


def test_command_line() -> None:
    """The command asks for ek output with raw bytes, no name resolution, the shared filter."""
    cmd = tshark_command("x.pcap", "tshark")
    assert cmd[:4] == ["tshark", "-n", "-r", "x.pcap"]
    assert "-x" in cmd and cmd[cmd.index("-T") + 1] == "ek"
