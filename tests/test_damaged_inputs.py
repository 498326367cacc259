"""Damaged and unusual inputs beyond samples/malformed: FIFO, directory, unreadable file, a file that
grows while it is read, and a pcapng whose second section has an unknown byte-order magic.

Contract (DESIGN.md "What bad input gets"): a clear one-line message naming the file, no traceback,
everything readable analysed, counts in ``input``, exit 3 only when nothing could be read.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import require

BASE_TIME = 1_700_000_000
CLI = [sys.executable, "-c", "from vrrpscope.cli import main; main()"]


# --- capture bytes ------------------------------------------------------------------------------


def arp(i: int) -> bytes:
    """A 42-byte gratuitous ARP request for 192.0.2.(1 + i % 200) from a documentation MAC."""
    mac = bytes([0x02, 0x00, 0x5E, 0x00, 0x53, i & 0xFF])
    ip = bytes([192, 0, 2, 1 + i % 200])
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + bytes(6) + ip
    return b"\xff" * 6 + mac + b"\x08\x06" + body


def pcap_header() -> bytes:
    """Little-endian microsecond pcap header, Ethernet."""
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def pcap_record(i: int) -> bytes:
    """Record for frame i (i from 0), 100 ms apart."""
    data = arp(i)
    return struct.pack("<IIII", BASE_TIME + i // 10, (i % 10) * 100_000, len(data), len(data)) + data


def pcap_file(n: int) -> bytes:
    """A whole pcap of ``n`` ARP frames."""
    return pcap_header() + b"".join(pcap_record(i) for i in range(n))


def _block(btype: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", btype, length) + body + struct.pack("<I", length)


def pcapng_section(n: int, first: int = 0, bom: int = 0x1A2B3C4D) -> bytes:
    """One pcapng section: SHB (byte-order magic ``bom``), an Ethernet IDB and ``n`` EPBs."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", bom, 1, 0, -1))
    idb = _block(1, struct.pack("<HHI", 1, 0, 65535))
    epbs = b""
    for i in range(first, first + n):
        data = arp(i)
        ts = (BASE_TIME + i) * 1_000_000
        epbs += _block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data + bytes(2))
    return shb + idb + epbs


# --- running the CLI ----------------------------------------------------------------------------


def run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """Run the real entry point; return the completed process (text mode)."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload]


def assert_clean_stderr(stderr: str) -> None:
    """No traceback, every line one short message."""
    assert "Traceback" not in stderr, stderr
    for line in stderr.splitlines():
        assert line.strip() and len(line) < 300, line


def problems_of(data: dict[str, object]) -> list[dict[str, object]]:
    """The ``input.problems`` list of an analyze JSON document."""
    inp = data["input"]
    assert isinstance(inp, dict)
    return list(inp.get("problems", []))


# --- FIFO ---------------------------------------------------------------------------------------


def test_fifo_is_streamed_not_slurped(tmp_path: Path) -> None:
    """decode prints frame 1 while the writer still holds the rest of the capture back."""
    fifo = tmp_path / "live.fifo"
    os.mkfifo(fifo)
    first_half, second_half = pcap_header() + pcap_record(0), b"".join(pcap_record(i) for i in range(1, 20))
    release = threading.Event()

    def writer() -> None:
        with open(fifo, "wb") as fh:
            fh.write(first_half)
            fh.flush()
            release.wait(30)
            fh.write(second_half)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*CLI, "decode", "-r", str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        first_line = proc.stdout.readline().decode()
        assert first_line.split()[0] == "1" and "ARP" in first_line
        assert not release.is_set()  # the rest was not written yet: the reader streams
        release.set()
        rest, err = proc.communicate(timeout=60)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    t.join(5)
    lines = [first_line.strip(), *rest.decode().splitlines()]
    assert [int(x.split()[0]) for x in lines] == list(range(1, 21))
    assert proc.returncode == 0
    assert_clean_stderr(err.decode())


def test_fifo_analyze_json_counts(tmp_path: Path) -> None:
    fifo = tmp_path / "cap.fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as fh:
            fh.write(pcap_file(30))

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    proc = run(["analyze", "-r", str(fifo), "--format", "json"])
    t.join(5)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["input"]["packets"] == 30 and data["input"]["arp"] == 30
    assert_clean_stderr(proc.stderr)


# --- directory ----------------------------------------------------------------------------------


def test_directory_alone_is_bad_input(tmp_path: Path) -> None:
    d = tmp_path / "adir"
    d.mkdir()
    for cmd in (["decode", "-r", str(d)], ["analyze", "-r", str(d)], ["report", "-r", str(d), "-o", "x.html"]):
        proc = run(cmd, cwd=tmp_path)
        assert proc.returncode == 3, (cmd, proc.stderr)
        assert proc.stderr.count("\n") == 1 and str(d) in proc.stderr and "directory" in proc.stderr
        assert_clean_stderr(proc.stderr)


def test_directory_among_good_files_is_reported_and_the_rest_analysed(tmp_path: Path) -> None:
    d = tmp_path / "adir"
    d.mkdir()
    good = tmp_path / "good.pcap"
    good.write_bytes(pcap_file(12))
    proc = run(["analyze", "-r", str(d), "-r", str(good), "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["input"]["packets"] == 12
    assert [(p["file"], p["reason"], p["fatal"]) for p in problems_of(data)] == [(str(d), "unreadable", True)]
    msg = [line for line in proc.stderr.splitlines() if str(d) in line]
    assert len(msg) == 1 and "directory" in msg[0].lower()
    assert_clean_stderr(proc.stderr)


# --- unreadable file ----------------------------------------------------------------------------


@pytest.fixture()
def shared_dir() -> Iterator[Path]:
    """A directory that an unprivileged user can traverse (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="vrrpscope-h12-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _as_nobody(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI as user nobody (root bypasses file permissions, so chmod 000 proves nothing as root)."""
    if os.geteuid() != 0:
        return run(args)
    setpriv = shutil.which("setpriv")
    require(setpriv is not None, "setpriv (util-linux) is needed to drop root for the permission test")
    assert setpriv is not None
    cmd = [setpriv, "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", *CLI, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": "/tmp"})


def test_unreadable_file(shared_dir: Path) -> None:
    locked = shared_dir / "locked.pcap"
    locked.write_bytes(pcap_file(5))
    locked.chmod(0o000)
    good = shared_dir / "good.pcap"
    good.write_bytes(pcap_file(7))
    good.chmod(0o644)

    alone = _as_nobody(["analyze", "-r", str(locked)])
    assert alone.returncode == 3, alone.stderr
    assert alone.stderr.strip() == f"Error: {locked}: permission denied"

    mixed = _as_nobody(["analyze", "-r", str(locked), "-r", str(good), "--format", "json"])
    assert mixed.returncode == 0, mixed.stderr
    data = json.loads(mixed.stdout)
    assert data["input"]["packets"] == 7
    [problem] = problems_of(data)
    assert problem["file"] == str(locked) and problem["reason"] == "unreadable"
    assert "Permission denied" in str(problem["detail"])
    assert any(str(locked) in line for line in mixed.stderr.splitlines())
    assert_clean_stderr(mixed.stderr)


# --- a file that grows while it is read ---------------------------------------------------------


def test_growing_file_is_read_up_to_where_it_was(tmp_path: Path) -> None:
    """A writer appends records (some split in two writes) while the analysis reads the file.

    The reader must not crash; it reports the frames it read and, when it met a half-written
    record at the end, a non-fatal-to-the-analysis truncation naming the file.
    """
    path = tmp_path / "growing.pcap"
    total = 4000
    initial = 200
    with open(path, "wb") as fh:
        fh.write(pcap_header() + b"".join(pcap_record(i) for i in range(initial)))
    stop = threading.Event()

    def writer() -> None:
        with open(path, "ab", buffering=0) as fh:
            for i in range(initial, total):
                if stop.is_set():
                    return
                rec = pcap_record(i)
                fh.write(rec[:20])  # a half-written record the reader may meet
                fh.write(rec[20:])
                if i % 50 == 0:
                    time.sleep(0.001)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        proc = run(["analyze", "-r", str(path), "--format", "json"])
    finally:
        stop.set()
        t.join(30)
    assert proc.returncode == 0, proc.stderr
    assert_clean_stderr(proc.stderr)
    data = json.loads(proc.stdout)
    packets = data["input"]["packets"]
    assert initial <= packets <= total
    assert data["input"]["arp"] == packets
    for p in problems_of(data):
        assert p["file"] == str(path) and p["reason"] in ("truncated_record", "truncated_record_header")
        assert any(str(path) in line and "frame" in line for line in proc.stderr.splitlines())
    # the frames it reports are a contiguous prefix of what the writer wrote
    assert data["input"]["end"] == pytest.approx(BASE_TIME + (packets - 1) // 10 + ((packets - 1) % 10) / 10)


# --- pcapng: unknown byte-order magic in a later section ----------------------------------------


def test_second_section_with_unknown_byte_order_magic(tmp_path: Path) -> None:
    path = tmp_path / "two_sections.pcapng"
    path.write_bytes(pcapng_section(6) + pcapng_section(4, first=6, bom=0xDEADBEEF))
    proc = run(["analyze", "-r", str(path), "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["input"]["packets"] == 6
    [problem] = problems_of(data)
    assert problem["file"] == str(path) and problem["reason"] == "bad_byte_order" and problem["fatal"]
    line = [x for x in proc.stderr.splitlines() if str(path) in x]
    assert len(line) == 1 and "frame 7" in line[0]
    assert_clean_stderr(proc.stderr)


def test_only_section_with_unknown_byte_order_magic_is_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "bad_bom.pcapng"
    path.write_bytes(pcapng_section(3, bom=0xDEADBEEF))
    proc = run(["decode", "-r", str(path)])
    assert proc.returncode == 3
    assert str(path) in proc.stderr
    assert_clean_stderr(proc.stderr)
