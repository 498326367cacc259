"""The reading progress bar: on stderr only when it is a terminal (or asked for), never a byte of
it when piped, stdout untouched, untrusted file names neutralised, parallel scans reaching 100 %.

Terminal runs use a real pseudo-terminal (the ``pty`` module) for stderr while stdout stays a
pipe, as ``vrrpscope analyze --format json > out.json`` is used at a terminal. No test asserts a
duration: a run that must outlast the bar's start-up delay is held open on a FIFO until the bar
has been seen, or for longer than that delay when the bar must never appear.
"""

from __future__ import annotations

import fcntl
import importlib.util
import io
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from support import require

from vrrpscope import parallel
from vrrpscope.output import progress as progress_mod
from vrrpscope.output.progress import ReadProgress, display_name, input_size
from vrrpscope.parallel import analyze_parallel
from vrrpscope.pipeline import InputCounts, iter_packets
from vrrpscope.sources.base import CaptureStats

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "real" / "failover" / "capture.pcap"
CLI = [sys.executable, "-c", "from vrrpscope.cli import main; main()"]
#: Generous bound for waiting on a child process (never asserted as a duration).
PATIENCE = 60.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def bench_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20,000-frame mixed capture (classic pcap, ~15 MB) with VRRP and ARP spread through it."""
    out = tmp_path_factory.mktemp("progress") / "mixed.pcap"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_capture.py"), "--packets", "20000", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def _console(buf: io.StringIO) -> Console:
    return Console(file=buf, force_terminal=True, width=250, color_system=None, highlight=False)


def _plain(text: str) -> str:
    return ANSI.sub("", text.replace("\r", "\n"))


# ---------------------------------------------------------------------------- in-process API


def test_bar_follows_a_real_read_to_the_file_size(bench_capture: Path) -> None:
    """Reading through the pipeline with a bar: it ends on the file size and the frame count."""
    buf = io.StringIO()
    counts = InputCounts()
    bar = ReadProgress([str(bench_capture)], console=_console(buf))
    assert bar.total == bench_capture.stat().st_size
    with bar:
        items = list(iter_packets([str(bench_capture)], counts=counts, progress=bar))
    assert items and counts.packets == 20000
    assert bar.shown == (bench_capture.stat().st_size, 20000)
    out = _plain(buf.getvalue())
    last = [line for line in out.splitlines() if "pkts" in line][-1]
    size_mb = f"{bench_capture.stat().st_size / 1e6:.1f} MB"
    assert last.startswith("mixed.pcap ")
    assert f"{size_mb}/{size_mb}" in last
    assert "20,000 pkts" in last and "pkt/s" in last
    assert re.search(r"\d [kMG]?B/s ", last)  # the unit follows the rate: GB/s with the compiled walker
    assert re.search(r"in \d+\.\d s$", last.rstrip())


def test_position_is_the_bytes_read_from_the_file(bench_capture: Path, tmp_path: Path) -> None:
    """Mid-file, the position is what the reader has read: at most one chunk past the frame handed
    out, never past the file; for gzip it counts compressed bytes and ends at the file size."""
    import gzip

    from vrrpscope.sources import open_capture
    from vrrpscope.sources.stream import CHUNK_SIZE

    raw = bench_capture.read_bytes()
    with open_capture(str(bench_capture)) as reader:
        for n, _ in enumerate(reader, 1):
            if n == 777:
                break
        pos = progress_mod.reader_position(reader)
    off = 24  # walk the record chain to frame 777
    for _ in range(777):
        off += 16 + struct.unpack_from("<I", raw, off + 8)[0]
    assert off <= pos <= min(len(raw), off + CHUNK_SIZE)
    gz = tmp_path / "cap.pcap.gz"
    gz.write_bytes(gzip.compress(raw, compresslevel=1))
    with open_capture(str(gz)) as reader:
        list(reader)
        assert progress_mod.reader_position(reader) == gz.stat().st_size


def test_unknown_total_for_stdin_and_fifo(tmp_path: Path, bench_capture: Path) -> None:
    """Standard input and a FIFO have no known total (no ETA); a gzip file's is its size on disk."""
    import gzip

    gz = tmp_path / "cap.pcap.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert input_size("-") is None and input_size(str(fifo)) is None
    assert input_size(str(gz)) == gz.stat().st_size
    assert input_size(str(SAMPLE)) == SAMPLE.stat().st_size
    assert ReadProgress([str(SAMPLE), "-"], console=_console(io.StringIO())).total is None
    assert ReadProgress([str(SAMPLE)], console=_console(io.StringIO()), positions=False).total is None
    buf = io.StringIO()
    counts = InputCounts()
    with ReadProgress([str(gz)], console=_console(buf)) as bar:
        list(iter_packets([str(gz)], counts=counts, progress=bar))
    out = _plain(buf.getvalue())
    assert "pkts" in out
    assert bar.shown == (gz.stat().st_size, counts.packets) and counts.packets > 0


def test_names_with_escape_sequences_and_markup_are_neutralised(tmp_path: Path) -> None:
    """ESC, BEL and rich markup in a file name reach the terminal as visible text only."""
    evil = tmp_path / "a\x1b[31mRED\x07[bold]b.pcap"
    shutil.copy(SAMPLE, evil)
    assert display_name(str(evil)) == "a\\x1b[31mRED\\x07[bold]b.pcap"
    buf = io.StringIO()
    with ReadProgress([str(evil)], console=_console(buf)) as bar:
        list(iter_packets([str(evil)], progress=bar))
    out = buf.getvalue()
    assert "\x1b[31mRED" not in out and "\x07" not in out
    assert "a\\x1b[31mRED\\x07[bold]b.pcap" in out  # literally, so no markup was interpreted
    long = "x" * 100 + ".pcap"
    assert display_name(long) == "…" + long[-(progress_mod.NAME_WIDTH - 1) :]


def test_delayed_bar_draws_nothing_for_a_short_run() -> None:
    """With a start-up delay, a run that ends first leaves no trace at all."""
    buf = io.StringIO()
    with ReadProgress([str(SAMPLE)], console=_console(buf), delay=3600.0) as bar:
        list(iter_packets([str(SAMPLE)], progress=bar))
    assert buf.getvalue() == "" and bar.redraws == 0


class _Recording(ReadProgress):
    """A bar that also records what the parallel scan reported."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(paths, console=_console(io.StringIO()))
        self.calls: list[tuple[str, int, int, int]] = []

    def advance(self, index: int, nbytes: int, frames: int, *, done: bool = False) -> None:
        self.calls.append(("advance", index, nbytes, frames))
        super().advance(index, nbytes, frames, done=done)

    def finished(self, index: int, stats: CaptureStats) -> None:
        self.calls.append(("finished", index, stats.bytes, stats.frames))
        super().finished(index, stats)


def _parallel_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_PART", 1024 * 1024)


def test_parallel_parts_advance_to_100_percent(bench_capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes: every part advances the bar by its bytes; it ends on the total."""
    _parallel_setup(monkeypatch)
    size = bench_capture.stat().st_size
    paths = [str(bench_capture), str(SAMPLE)]
    bar = _Recording(paths)
    with bar:
        result = analyze_parallel(paths, jobs=2, progress=bar)
    parts = [c for c in bar.calls if c[0] == "advance"]
    assert len(parts) >= 2
    assert sum(c[2] for c in parts) == size
    assert sum(c[3] for c in parts) == 20000
    assert [c[1] for c in bar.calls if c[0] == "finished"] == [1]  # the small file, whole
    assert bar.total == size + SAMPLE.stat().st_size
    assert bar.shown == (bar.total, result.counts.packets)


def test_parallel_rescan_takes_parts_back(bench_capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged file whose parts fail verification is rescanned whole: no byte counted twice."""
    _parallel_setup(monkeypatch)
    raw = bytearray(bench_capture.read_bytes())
    pos = 24
    for _ in range(10000):
        pos += 16 + struct.unpack_from("<I", raw, pos + 8)[0]
    struct.pack_into("<I", raw, pos + 8, 0x7FFFFFFF)  # record_too_large in the middle
    damaged = tmp_path / "damaged.pcap"
    damaged.write_bytes(bytes(raw))
    bar = _Recording([str(damaged)])
    with bar:
        result = analyze_parallel([str(damaged)], jobs=2, progress=bar)
    kinds = [c[0] for c in bar.calls]
    assert "finished" in kinds and any(c[2] < 0 for c in bar.calls if c[0] == "advance")
    assert bar.shown == (damaged.stat().st_size, result.counts.packets)


def test_dask_futures_advance_the_bar(bench_capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a Dask cluster the same per-part reports arrive (futures complete in any order)."""
    found = importlib.util.find_spec("distributed") is not None
    require(found, "dask distributed is not installed (pip install 'vrrpscope[dask]')")
    import distributed

    _parallel_setup(monkeypatch)
    bar = _Recording([str(bench_capture)])
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c,
        bar,
    ):
        result = analyze_parallel([str(bench_capture)], scheduler=c.scheduler_address, progress=bar)
    assert sum(x[2] for x in bar.calls if x[0] == "advance") == bench_capture.stat().st_size
    assert result.counts.packets == 20000
    assert bar.shown == (bench_capture.stat().st_size, 20000)


# ---------------------------------------------------------------------------- the command line


class _Child:
    """A vrrpscope run with stdout on a pipe and stderr on a pseudo-terminal (or a pipe)."""

    def __init__(self, args: list[str], *, tty: bool = True, cols: int = 250) -> None:
        self.err = bytearray()
        env = {**os.environ, "COLUMNS": str(cols), "TERM": "xterm-256color", "LC_ALL": "C.UTF-8"}
        env.pop("NO_COLOR", None)
        if tty:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
            self.proc = subprocess.Popen(
                [*CLI, *args], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env
            )
            os.close(slave)
            self._reader = threading.Thread(target=self._drain_pty, args=(master,), daemon=True)
        else:
            self.proc = subprocess.Popen(
                [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
            )
            self._reader = threading.Thread(target=self._drain_pipe, daemon=True)
        self._reader.start()

    def _drain_pty(self, master: int) -> None:
        try:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO once the child has closed the terminal
                    break
                if not data:
                    break
                self.err += data
        finally:
            os.close(master)

    def _drain_pipe(self) -> None:
        assert self.proc.stderr is not None
        self.err += self.proc.stderr.read()

    def wait_for(self, predicate: Callable[[str], bool]) -> bool:
        """Wait (bounded) until the terminal shows what ``predicate`` looks for."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            if predicate(self.text):
                return True
            if self.proc.poll() is not None:
                return predicate(self.text)
            time.sleep(0.05)
        return False

    def finish(self) -> tuple[int, bytes]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        rc = self.proc.wait(timeout=PATIENCE)
        self._reader.join(timeout=PATIENCE)
        return rc, out

    @property
    def text(self) -> str:
        return self.err.decode("utf-8", "replace")


def _feed_fifo(fifo: Path, data: bytes, child: _Child, until: Callable[[str], bool] | None, hold: float = 0.0) -> bool:
    """Write the first half of ``data`` into ``fifo``, wait for ``until`` (or ``hold`` seconds),
    then the rest; returns what ``until`` gave (True without one)."""
    seen = True
    with open(fifo, "wb") as w:
        half = len(data) // 2
        w.write(data[:half])
        w.flush()
        if until is not None:
            seen = child.wait_for(until)
        if hold:
            time.sleep(hold)
        w.write(data[half:])
    return seen


def test_terminal_shows_the_bar_and_stdout_stays_json(bench_capture: Path) -> None:
    """Asked for, the bar is drawn on the terminal; stdout is exactly the JSON document."""
    child = _Child(["analyze", "-j", "1", "--format", "json", "--progress", "-r", str(bench_capture)])
    rc, out = child.finish()
    assert rc == 0
    data = json.loads(out)  # nothing else on stdout
    assert data["input"]["packets"] == 20000
    text = child.text
    assert "\r" in text or "\x1b[" in text  # drawn in place, as a terminal bar
    lines = [ln.strip() for ln in _plain(text).splitlines() if ln.strip()]
    bar_lines = [ln for ln in lines if ln.startswith("mixed.pcap ") and "pkts" in ln]
    size_mb = f"{bench_capture.stat().st_size / 1e6:.1f} MB"
    assert bar_lines and f"{size_mb}/{size_mb} 20,000 pkts" in bar_lines[-1]
    assert lines[-1].startswith("20000 packets read from 1 file(s)")


def test_terminal_auto_bar_on_a_fifo_has_no_eta(tmp_path: Path, bench_capture: Path) -> None:
    """Not asked for, stderr a terminal: the bar appears once the run lasts; a FIFO has no ETA."""
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)
    child = _Child(["analyze", "--format", "json", "-r", str(fifo)])
    seen = _feed_fifo(fifo, bench_capture.read_bytes(), child, lambda t: "pkts" in _plain(t))
    rc, out = child.finish()
    assert seen, child.text
    assert rc == 0 and json.loads(out)["input"]["packets"] == 20000
    plain = _plain(child.text)
    bar_lines = [ln for ln in plain.splitlines() if ln.startswith("live.pcap ") and "pkts" in ln]
    assert bar_lines
    assert "ETA" not in plain
    assert all(" MB/" not in ln.replace("MB/s", "") for ln in bar_lines)  # bytes read, no total
    assert "20,000 pkts" in bar_lines[-1]


def test_piped_stderr_gets_only_the_summary(tmp_path: Path, bench_capture: Path) -> None:
    """stderr a pipe, run outlasting the bar's delay: stderr holds the summary line and nothing else."""
    fifo = tmp_path / "slow.pcap"
    os.mkfifo(fifo)
    child = _Child(["analyze", "--format", "json", "-r", str(fifo)], tty=False)
    _feed_fifo(fifo, bench_capture.read_bytes(), child, None, hold=progress_mod.AUTO_DELAY + 1.0)
    rc, out = child.finish()
    assert rc == 0 and json.loads(out)["input"]["packets"] == 20000
    inp = json.loads(out)["input"]
    assert child.text == (
        f"20000 packets read from 1 file(s), VRRP {inp['vrrp']}, ARP {inp['arp']}, ND 0, malformed 0, capture loss 0\n"
    )


def test_no_progress_on_a_terminal_draws_nothing(bench_capture: Path) -> None:
    """--no-progress with stderr a terminal: only the summary line reaches it."""
    child = _Child(["report", "--no-progress", "-j", "1", "-r", str(bench_capture), "-o", os.devnull])
    rc, _ = child.finish()
    assert rc == 0
    lines = [ln for ln in _plain(child.text).splitlines() if ln.strip()]
    assert all("pkts" not in ln for ln in lines)
    assert lines[-1].startswith("20000 packets read")


def test_decode_with_bar_keeps_stdout_lines_clean(bench_capture: Path, tmp_path: Path) -> None:
    """decode --progress: JSON Lines on stdout, problems above the bar on stderr."""
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"GIF89a not a capture")
    child = _Child(["decode", "--format", "json", "--progress", "-r", str(bench_capture), "-r", str(bad)])
    rc, out = child.finish()
    assert rc == 0
    records = [json.loads(line) for line in out.decode().splitlines()]
    assert records and all("frame" in r for r in records)
    plain = _plain(child.text)
    problem = [ln for ln in plain.splitlines() if "not a pcap or pcapng capture" in ln]
    assert problem and problem[0].startswith("vrrpscope: ")  # a line of its own, not inside the bar
    assert any("pkts" in ln for ln in plain.splitlines())


def test_parallel_cli_bar_reaches_the_total(bench_capture: Path, tmp_path: Path) -> None:
    """analyze -j 2 on two large pcaps (worker processes): the final line shows all bytes read."""
    second = tmp_path / "second.pcap"
    shutil.copy(bench_capture, second)
    child = _Child(
        ["analyze", "-j", "2", "--format", "json", "--progress", "-r", str(bench_capture), "-r", str(second)]
    )
    rc, out = child.finish()
    assert rc == 0 and json.loads(out)["input"]["packets"] == 40000
    total = 2 * bench_capture.stat().st_size / 1e6
    last = [ln for ln in _plain(child.text).splitlines() if "pkts" in ln][-1]
    assert f"{total:.1f} MB/{total:.1f} MB 40,000 pkts" in last and last.startswith("2 files ")
