"""Reading progress on standard error: bytes and packets read, rates and ETA (rich.progress).

A long ``analyze``, ``decode`` or ``report`` run shows one line on stderr while the captures are
read::

    mixed.pcap ━━━━━━━━━━━━━━╸━━━━━━━━━━━━━━━ 334.3 MB/735.5 MB 454,392 pkts 636.8 MB/s 865.5k pkt/s ETA 0:00:01

and only when stderr is a terminal (or when ``--progress`` asks for it): piped or redirected,
nothing at all is written for progress, so logs and scripts see only the usual summary line.

The cost stays off the hot path. Nothing is counted per packet: a timer thread wakes up at most
:data:`REFRESH_PER_SECOND` times a second, reads the counters the readers keep anyway
(:class:`~vrrpscope.sources.base.CaptureStats`, brought up to date before each frame a reader
hands out) and redraws the line (0.5 to 1.5 ms of CPU a redraw: one line of text, a fraction of
what rich's usual table costs). The
reading side only announces each input when it opens and when it ends (:meth:`ReadProgress.reading`
/ :meth:`ReadProgress.finished`), and the parallel readers report each finished part
(:meth:`ReadProgress.advance`): coarse, but every byte shown has really been read. Shown
unasked (``delay``), the bar appears only once a run has lasted :data:`AUTO_DELAY` seconds, and
rich is imported only then: a short run pays for neither.

The byte position of an in-process reader is the number of bytes it has read from its file
(:attr:`~vrrpscope.sources.reader.CaptureReader.raw_offset`: compressed bytes for gzip, up to one
1 MiB read chunk ahead of the frames handed out) and snaps to the file size when the file ends.
The total is the sum of the input file sizes (on disk, so gzip files have an ETA too); it is
unknown (no ETA, a sliding bar) when an input is standard input or a FIFO, or with the tshark
engine (tshark reads the file itself).

File names come from the command line or a directory listing and are untrusted: they are shown
through :func:`~vrrpscope.output.safe.terminal_safe` and as plain text, never as rich markup.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from vrrpscope.output.safe import terminal_safe
from vrrpscope.sources.base import CaptureStats
from vrrpscope.sources.reader import STDIN_NAME, CaptureReader

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

#: Most redraws per second (the timer thread's rate).
REFRESH_PER_SECOND = 5.0

#: Seconds a run lasts before a bar nobody asked for explicitly appears.
AUTO_DELAY = 1.0

#: Rates are measured over this many seconds of recent samples.
RATE_WINDOW = 5.0

#: Width of the bar, in cells.
BAR_WIDTH = 30

#: Longest file name shown (longer ones keep their end, after an ellipsis).
NAME_WIDTH = 32

def input_size(path: str) -> int | None:
    """Bytes the readers will read from ``path``, or None when that is not known in advance.

    Known for a regular file (its size on disk, compressed or not). Unknown for ``-`` (standard
    input) and for anything that is not a regular file (a FIFO, a character device: never opened
    here, opening would consume its data). A path that cannot be read counts 0: the reader
    reports it and reads nothing.
    """
    if path == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return 0
    if not os.path.isfile(path):
        return None
    if not os.access(path, os.R_OK):
        return 0
    return st.st_size


def display_name(path: str) -> str:
    """The file name as shown in the bar: base name, control characters escaped, at most
    :data:`NAME_WIDTH` characters (the end is kept)."""
    name = STDIN_NAME if path == "-" else (os.path.basename(path.rstrip("/")) or path)
    name = terminal_safe(name)
    if len(name) > NAME_WIDTH:
        name = "…" + name[-(NAME_WIDTH - 1) :]
    return name


def reader_position(reader: CaptureReader) -> int:
    """Bytes of its input that ``reader`` has read so far (compressed bytes for gzip)."""
    return reader.raw_offset


def format_bytes(n: float) -> str:
    """``735.5 MB`` (decimal units, as disks and network rates are counted)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def format_rate(value: float, unit: str) -> str:
    """``865.5k pkt/s``: a compact rate with a metric prefix."""
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f}{prefix} {unit}"
    return f"{value:.0f} {unit}"


def format_clock(seconds: float) -> str:
    """``H:MM:SS``."""
    whole = int(max(0.0, seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


@dataclass
class _FileState:
    """What the bar knows about one input."""

    name: str
    size: int | None
    reader: CaptureReader | None = None
    stats: CaptureStats | None = None
    done: bool = False
    #: Bytes and frames of completed parts (parallel) or of the finished file.
    bytes: int = 0
    frames: int = 0


def _rich_view(console: Console, redirect_stdout: bool) -> Progress:
    """Build the rich display: a :class:`rich.progress.Progress` drawn as one line of text.

    rich is imported here, when a bar is really shown, not with this module.
    """
    from rich.console import RenderableType
    from rich.progress import Progress, ProgressColumn, Task
    from rich.text import Text

    class NameColumn(ProgressColumn):
        """The file (or files) being read, as plain text (never markup)."""

        def render(self, task: Task) -> Text:
            return Text(str(task.fields.get("name", "")), style="progress.description")

    class BarColumn(ProgressColumn):
        """The bar as plain text (cheap to draw); a sliding block when the total is unknown."""

        def render(self, task: Task) -> Text:
            width = BAR_WIDTH
            if task.total is None:
                if task.fields.get("done"):
                    return Text("━" * width, style="bar.finished")
                start = int(time.monotonic() * 8) % width
                cells = ("━" if (i - start) % width < width // 5 else " " for i in range(width))
                return Text("".join(cells), style="bar.pulse")
            frac = min(1.0, task.completed / task.total) if task.total else 1.0
            full, half = divmod(int(frac * width * 2), 2)
            style = "bar.finished" if frac >= 1.0 else "bar.complete"
            text = Text("━" * full, style=style)
            if half and full < width:
                text.append("╸", style=style)
            text.append("━" * (width - full - half), style="bar.back")
            return text

    class BytesColumn(ProgressColumn):
        """``334.3 MB/735.5 MB``, or just the bytes read when the total is unknown."""

        def render(self, task: Task) -> Text:
            done = format_bytes(task.completed)
            text = done if task.total is None else f"{done}/{format_bytes(task.total)}"
            return Text(text, style="progress.download")

    class PacketsColumn(ProgressColumn):
        """Packets (frames) read so far."""

        def render(self, task: Task) -> Text:
            return Text(f"{int(task.fields.get('packets', 0)):,} pkts", style="progress.filesize")

    class RateColumn(ProgressColumn):
        """``636.8 MB/s 865.5k pkt/s`` over the last few seconds."""

        def render(self, task: Task) -> Text:
            bps = float(task.fields.get("bps", 0.0))
            pps = float(task.fields.get("pps", 0.0))
            return Text(f"{format_bytes(bps)}/s {format_rate(pps, 'pkt/s')}", style="progress.data.speed")

    class EtaColumn(ProgressColumn):
        """``ETA 0:00:07`` while reading with a known total, ``in 9.3 s`` once done, else nothing."""

        def render(self, task: Task) -> Text:
            if task.fields.get("done"):
                elapsed = float(task.fields.get("elapsed", 0.0))
                took = f"{elapsed:.1f} s" if elapsed < 60 else format_clock(elapsed)
                return Text(f"in {took}", style="progress.elapsed")
            eta = task.fields.get("eta")
            if task.total is None or eta is None:
                return Text("")
            return Text(f"ETA {format_clock(float(eta))}", style="progress.remaining")

    class LineProgress(Progress):
        """rich's Progress drawn as one line of text instead of a table (a tenth of the cost)."""

        def get_renderables(self) -> Iterable[RenderableType]:
            for task in self.tasks:
                if task.visible:
                    parts = [col(task) for col in self.columns if isinstance(col, ProgressColumn)]
                    line = Text(" ").join(p for p in parts if isinstance(p, Text) and p.plain)
                    line.no_wrap = True
                    line.overflow = "ellipsis"
                    yield line

    return LineProgress(
        NameColumn(),
        BarColumn(),
        BytesColumn(),
        PacketsColumn(),
        RateColumn(),
        EtaColumn(),
        console=console,
        auto_refresh=False,
        redirect_stdout=redirect_stdout,
        redirect_stderr=True,
    )


class ReadProgress:
    """The progress bar of one run over ``paths``; a context manager (start on enter, stop on exit).

    The reading side tells it when each input starts (:meth:`reading`), ends (:meth:`finished`)
    or, for parallel scans, when a part is done (:meth:`advance`); a timer thread does the rest.

    ``console`` is where to draw (default: a rich console on standard error, built when the bar
    appears; ``force_terminal`` draws with terminal controls even when stderr is not a
    terminal). ``positions`` is false when the readers' byte positions cannot be observed (the
    tshark engine): the total is then unknown and bytes advance file by file. ``delay`` is how
    long a run lasts before the bar appears (0: at once). ``redirect_stdout`` routes what is
    printed to standard output through the bar's console while the bar is shown, so lines
    scroll above it (``decode`` to a terminal with ``--progress``).
    """

    def __init__(
        self,
        paths: list[str],
        *,
        console: Console | None = None,
        force_terminal: bool = False,
        positions: bool = True,
        delay: float = 0.0,
        redirect_stdout: bool = False,
        refresh_per_second: float = REFRESH_PER_SECOND,
    ) -> None:
        self._console = console
        self._force_terminal = force_terminal
        self._files = [_FileState(display_name(p), input_size(p)) for p in paths]
        sizes = [f.size for f in self._files]
        known = positions and all(s is not None for s in sizes)
        #: Bytes to read in all, or None when unknown (then no ETA).
        self.total: int | None = sum(s or 0 for s in sizes) if known else None
        if self.total == 0:
            self.total = None
        self._delay = delay
        self._redirect_stdout = redirect_stdout
        self._interval = 1.0 / refresh_per_second
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._samples: deque[tuple[float, int, int]] = deque()
        self._start = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        #: Last (bytes, packets) drawn.
        self.shown: tuple[int, int] = (0, 0)
        #: Lines drawn so far (0 when the run ended before the bar appeared).
        self.redraws = 0

    # ------------------------------------------------------------------ what the readers report

    def reading(self, index: int, source: CaptureReader | CaptureStats) -> None:
        """Input ``index`` is being read in this process; poll ``source`` from now on (a reader,
        or the statistics of an engine whose position cannot be seen)."""
        with self._lock:
            state = self._files[index]
            if isinstance(source, CaptureReader):
                state.reader = source
            else:
                state.stats = source

    def finished(self, index: int, stats: CaptureStats) -> None:
        """Input ``index`` has been read to its end (``stats`` complete). Safe from any thread."""
        with self._lock:
            state = self._files[index]
            if state.size is not None:
                state.bytes = state.size
            elif state.reader is not None:
                state.bytes = reader_position(state.reader)
            else:  # read elsewhere (a worker), size unknown: the captured bytes it reported
                state.bytes = stats.bytes
            state.frames = stats.frames
            state.reader = None
            state.stats = None
            state.done = True

    def advance(self, index: int, nbytes: int, frames: int, *, done: bool = False) -> None:
        """A part of input ``index`` (``nbytes`` bytes, ``frames`` frames) was scanned elsewhere;
        negative values take back parts whose scan is being redone. ``done``: the file is
        complete. Safe from any thread."""
        with self._lock:
            state = self._files[index]
            state.bytes += nbytes
            state.frames += frames
            state.done = done

    # ------------------------------------------------------------------ drawing

    def _read(self) -> tuple[int, int, str]:
        """Bytes and packets read so far, and the name to show."""
        nbytes = frames = 0
        current: list[str] = []
        with self._lock:
            for state in self._files:
                b, f = state.bytes, state.frames
                reader = state.reader
                if reader is not None:
                    pos = reader_position(reader)
                    b, f = (pos if state.size is None else min(pos, state.size)), reader.stats.frames
                elif state.stats is not None:
                    f = state.stats.frames
                nbytes += b
                frames += f
                if not state.done:
                    current.append(state.name)
        if len(self._files) == 1:
            name = self._files[0].name
        elif current:
            name = f"{current[0]} (+{len(current) - 1} more)" if len(current) > 1 else current[0]
        else:
            name = f"{len(self._files)} files"
        return nbytes, frames, name

    def _show(self) -> None:
        """Make the rich display and draw the first line."""
        console = self._console
        if console is None:
            from rich.console import Console

            console = Console(file=sys.stderr, highlight=False, force_terminal=self._force_terminal or None)
        progress = _rich_view(console, self._redirect_stdout)
        progress.start()
        self._task = progress.add_task("", total=self.total)
        self._progress = progress
        self._tick()

    def _tick(self, final: bool = False) -> None:
        """Read the counters and redraw once."""
        progress, task = self._progress, self._task
        if progress is None or task is None:
            return
        nbytes, frames, name = self._read()
        if self.total is not None:
            nbytes = min(nbytes, self.total)
        now = time.monotonic()
        samples = self._samples
        samples.append((now, nbytes, frames))
        while len(samples) > 2 and now - samples[0][0] > RATE_WINDOW:
            samples.popleft()
        t0, b0, f0 = samples[0] if len(samples) > 1 else (self._start, 0, 0)
        if final:  # the average over the whole run
            t0, b0, f0 = self._start, 0, 0
        span = now - t0
        bps = (nbytes - b0) / span if span > 0 else 0.0
        pps = (frames - f0) / span if span > 0 else 0.0
        eta = (self.total - nbytes) / bps if self.total is not None and bps > 0 else None
        progress.update(
            task,
            completed=nbytes,
            name=name,
            packets=frames,
            bps=bps,
            pps=pps,
            eta=eta,
            done=final,
            elapsed=now - self._start,
        )
        progress.refresh()
        self.shown = (nbytes, frames)
        self.redraws += 1

    def _run(self) -> None:
        if self._progress is None:
            if self._stop.wait(self._delay):
                return  # the run ended first: nothing is drawn
            self._show()
        while not self._stop.wait(self._interval):
            self._tick()

    def start(self) -> None:
        """Start the timer thread (and, without a delay, show the bar now)."""
        self._start = time.monotonic()
        if self._delay <= 0:
            self._show()
        self._thread = threading.Thread(target=self._run, name="vrrpscope-progress", daemon=True)
        self._thread.start()

    def stop(self, *, complete: bool = True) -> None:
        """Stop the timer thread and, if the bar was shown, leave its final state on screen
        (``complete``: reading ended normally, so the line shows the time it took)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._progress is not None:
            self._tick(final=complete)
            self._progress.stop()

    def __enter__(self) -> ReadProgress:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(complete=exc_type is None)


def open_progress(
    paths: list[str],
    *,
    engine: str = "native",
    forced: bool = False,
    redirect_stdout: bool = False,
) -> ReadProgress:
    """The bar for a command-line run over ``paths`` with ``engine``, drawn on standard error.

    ``forced`` (``--progress``): drawn at once, with terminal controls even when stderr is not a
    terminal. Otherwise (stderr is a terminal, nothing asked) it appears after
    :data:`AUTO_DELAY` seconds, so short runs stay as they were. The caller decides whether a
    bar is wanted at all.
    """
    return ReadProgress(
        paths,
        force_terminal=forced,
        positions=engine == "native",
        delay=0.0 if forced else AUTO_DELAY,
        redirect_stdout=redirect_stdout,
    )
