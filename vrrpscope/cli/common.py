"""Options and helpers shared by the commands (tcpdump/tshark habits: ``-r`` reads)."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vrrpscope.output.safe import terminal_safe
from vrrpscope.pipeline import InputCounts
from vrrpscope.sources.base import SourceProblem

if TYPE_CHECKING:
    from vrrpscope.output.progress import ReadProgress

#: Exit code for bad usage or unreadable input (DESIGN.md).
BAD_INPUT = 3

F = TypeVar("F", bound=Callable[..., Any])


def source_options(func: F) -> F:
    """``-r FILE`` (repeatable; ``-`` for standard input) and ``--engine native|tshark``."""
    func = click.option(
        "--engine",
        type=click.Choice(["native", "tshark"]),
        default="native",
        show_default=True,
        help="Decoder: the built-in one, or tshark (reads anything Wireshark reads).",
    )(func)
    func = click.option(
        "-r",
        "--read",
        "files",
        multiple=True,
        required=True,
        metavar="FILE",
        help="Capture to read (pcap, pcapng, gzip-compressed, or - for stdin). Repeatable.",
    )(func)
    return func


def scale_options(func: F) -> F:
    """``-j/--jobs N`` and ``--scheduler ADDRESS`` (parallel and Dask reading; docs/SCALE.md)."""
    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="Dask scheduler (tcp://HOST:8786): scan the captures on that cluster (needs vrrpscope[dask]).",
    )(func)
    func = click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes reading captures (default: number of cores; 1 = single process).",
    )(func)
    return func


def _segment_aliases(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new or "=" in new:
            raise click.BadParameter(f"{value!r} is not OLD=NEW (for example ens192=eth0)")
        if aliases.get(old, new) != new:
            raise click.BadParameter(f"{old!r} is renamed twice ({aliases[old]!r} and {new!r})")
        aliases[old] = new
    return aliases


def segment_option(func: F) -> F:
    """``--segment OLD=NEW`` (repeatable): analyse segment or interface OLD as NEW, so captures of
    one LAN taken on differently named interfaces form one set of groups
    (:class:`vrrpscope.pipeline.SegmentAliases`)."""
    return click.option(
        "--segment",
        "segments",
        multiple=True,
        metavar="OLD=NEW",
        callback=_segment_aliases,
        help="Analyse segment or interface OLD as NEW (repeatable; VLAN tags are kept): captures of "
        "one LAN from nodes whose interfaces are named differently then merge, e.g. --segment ens192=eth0.",
    )(func)


def progress_option(func: F) -> F:
    """``--progress/--no-progress``: the reading progress bar on stderr (default: when stderr is a
    terminal and reading lasts; never a byte of it when stderr is piped)."""
    return click.option(
        "--progress/--no-progress",
        "progress",
        default=None,
        help="Progress bar on stderr while reading: bytes, packets, rate, ETA (default: only when "
        "stderr is a terminal, once reading has lasted a second; --progress: at once).",
    )(func)


def progress_wanted(choice: bool | None) -> bool:
    """``--progress``/``--no-progress`` when given, else whether standard error is a terminal."""
    if choice is not None:
        return choice
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed, or replaced by an object without isatty
        return False


def start_progress(
    files: tuple[str, ...] | list[str], choice: bool | None, *, engine: str, redirect_stdout: bool = False
) -> ReadProgress | None:
    """The reading progress bar for ``files`` (not started), or None when none is wanted.

    rich's progress machinery is imported only when a bar is really drawn, so piped runs do not
    pay for it.
    """
    if not progress_wanted(choice):
        return None
    from vrrpscope.output.progress import open_progress

    return open_progress(list(files), engine=engine, forced=bool(choice), redirect_stdout=redirect_stdout)


def expand_files(files: tuple[str, ...]) -> tuple[str, ...]:
    """Expand globs and directories given to ``-r`` (sorted, capture files only, not recursive).

    A directory with no capture file in it, and a glob that matches nothing, stay as given so that
    :func:`check_inputs` names them.
    """
    from vrrpscope.parallel import expand_inputs

    out: list[str] = []
    for arg in files:
        found = expand_inputs([arg]) or [arg]
        out.extend(f for f in found if f not in out)
    return tuple(out)


def _input_error(f: str) -> str | None:
    """Why the named input cannot be read (one line, naming the file), or None if it looks readable."""
    if f == "-":
        return None
    if not os.path.exists(f):
        return f"{terminal_safe(f)}: no such file"
    if os.path.isdir(f):
        return f"{terminal_safe(f)}: is a directory, not a capture file"
    if not os.access(f, os.R_OK):
        return f"{terminal_safe(f)}: permission denied"
    return None


def check_inputs(files: tuple[str, ...], *, allow_partial: bool = False) -> None:
    """Fail early (exit 3) on a named input that is not a readable file; '-' means stdin.

    With ``allow_partial`` (captures), fail only when *no* input looks readable: a bad input among
    good ones is left to the pipeline, which reports it as a fatal problem of that file (one line on
    stderr, listed in ``input.problems``) while the readable ones are analysed.
    """
    errors = [e for e in (_input_error(f) for f in files) if e is not None]
    if errors and (not allow_partial or len(errors) == len(files)):
        raise click.ClickException(errors[0])


def report_problem(problem: SourceProblem) -> None:
    """Print one capture problem as a single line on stderr.

    Written to ``sys.stderr`` as it is now, so that while a progress bar is shown the line goes
    through the bar's console and appears above the bar instead of across it.
    """
    click.echo(f"vrrpscope: {terminal_safe(problem.message())}", file=sys.stderr)


def summary_line(counts: InputCounts) -> str:
    """The closing summary: packets read, VRRP/ARP/ND/CARP counts, malformed, capture loss."""
    parts = [
        f"{counts.packets} packets read from {len(counts.files)} file(s)",
        f"VRRP {counts.vrrp}",
        f"ARP {counts.arp}",
        f"ND {counts.nd}",
    ]
    if counts.carp:
        parts.append(f"CARP {counts.carp}")
    parts.append(f"malformed {counts.malformed}")
    parts.append(f"capture loss {counts.capture_loss}")
    return ", ".join(parts)


def nothing_readable(counts: InputCounts) -> bool:
    """True when not a single frame could be read from any input (exit 3)."""
    return not counts.readable


def stdout_isatty() -> bool:
    """Whether standard output is a terminal (tables and colour) or a pipe (plain, stable)."""
    return sys.stdout.isatty()


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a packet-processing run.

    Every decoded packet allocates a handful of container objects, so with the default threshold
    (700) the collector runs every few packets and walks the young generation each time; measured
    on `watch` under an ARP storm it was ~12 % of the CPU. The objects alive after start-up
    (modules, classes, templates) are moved out of the collector's sight (``gc.freeze``), and the
    young-generation threshold is raised to 50,000 allocations. Cycles are still collected.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
