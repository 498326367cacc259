"""``vrrpscope watch``: live analysis on one or more interfaces, for the on-call engineer.

A thin layer over :mod:`vrrpscope.live`: it opens the capture (:class:`~vrrpscope.live.capture.LiveCapture`),
picks the sinks (dashboard on a terminal, plain lines on a pipe, JSON Lines with ``--format json``,
the same lines into a file with ``-o``, Prometheus with ``--metrics-port``, pcapng with ``-w``), runs
the :class:`~vrrpscope.live.session.WatchSession` until Ctrl-C, SIGTERM or ``--duration``, and prints
the same summary ``analyze`` prints (on stderr when JSON Lines go to stdout), followed by the
capture gaps. SIGHUP re-opens the ``-w`` and ``-o`` files (log rotation).
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from types import FrameType
from typing import Any

import click

from vrrpscope.cli.common import BAD_INPUT
from vrrpscope.output.safe import terminal_safe


class WatchError(click.ClickException):
    """A one-line error that ends ``watch`` with exit status 3 (bad usage or unusable input)."""

    exit_code = BAD_INPUT


def _install_stop_handlers(stop: Callable[[str], None]) -> dict[int, Any]:
    """SIGINT and SIGTERM ask the session to stop; returns the previous handlers."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop(signal.Signals(signum).name)

    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _install_reopen_handler(reopen: Callable[[], None]) -> dict[int, Any]:
    """SIGHUP asks the session to re-open its output files (logrotate); returns the previous handler."""

    def handler(signum: int, frame: FrameType | None) -> None:
        reopen()

    return {signal.SIGHUP: signal.signal(signal.SIGHUP, handler)}


def _restore_handlers(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)


def _gap_lines(gaps: list[dict[str, Any]]) -> list[str]:
    """The summary's capture-gap lines (empty without gaps)."""
    if not gaps:
        return []
    from vrrpscope.output.table import clock

    total = sum(g["duration"] or 0.0 for g in gaps)
    lines = [f"capture gaps: {len(gaps)}, {total:.3f} s without capture (frames in them unknown, not counted)"]
    for g in gaps[:20]:
        how = "re-created, " if g["recreated"] else ""
        how += "resumed" if g["resumed"] else "until the stop"
        lines.append(
            f"  {terminal_safe(g['interface'] or '?')} {g['reason'].replace('_', ' ')} "
            f"{clock(g['start'])}-{clock(g['end'])} ({g['duration']:.3f} s, {how})"
        )
    if len(gaps) > 20:
        lines.append(f"  ... and {len(gaps) - 20} more (see the JSON input.capture_gaps)")
    return lines


def _closing_line(session: Any) -> str:
    c = session.counts
    names = ", ".join(terminal_safe(i.name or "?") for i in session.source.interfaces)
    gaps = session.capture_gaps(session.now)
    blind = sum(g.duration(session.now) for g in gaps)
    return (
        f"{c.packets} frames captured on {names}: VRRP {c.vrrp}, ARP {c.arp}, ND {c.nd}, "
        f"malformed {c.malformed}, kernel drops {c.capture_loss}, capture gaps {len(gaps)} ({blind:.3f} s); "
        f"stopped by {session.stopped_by or 'request'}"
    )


@click.command("watch")
@click.option(
    "-i",
    "--interface",
    "interfaces",
    multiple=True,
    required=True,
    metavar="IFACE",
    help="Interface to capture on (repeatable). The segment of each group is the interface name plus VLAN.",
)
@click.option(
    "-f",
    "--filter",
    "extra_filter",
    metavar="BPF",
    help="Extra tcpdump filter expression, AND-ed with the built-in VRRP/ARP/ND filter (needs tcpdump).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["live", "json"]),
    default="live",
    show_default=True,
    help="live: dashboard on a terminal, one line per change on a pipe; json: JSON Lines events on stdout.",
)
@click.option(
    "-w",
    "--write",
    "write_path",
    metavar="FILE",
    help="Also write the captured frames to FILE (pcapng). SIGHUP starts a new FILE once it was moved away.",
)
@click.option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE",
    help="Append the events (plain lines, or JSON Lines with --format json) to FILE instead of stdout; "
    "SIGHUP re-opens it.",
)
@click.option(
    "--rotate-size",
    type=click.FloatRange(min=0.001),
    metavar="MB",
    help="With -w: start a new file when FILE reaches MB megabytes (10^6 bytes); older ones become FILE.1, ...",
)
@click.option(
    "--rotate-count",
    type=click.IntRange(min=1),
    metavar="N",
    help="With --rotate-size: keep at most N files, FILE included (default 10).",
)
@click.option("--metrics-port", type=click.IntRange(1, 65535), metavar="PORT", help="Serve Prometheus metrics on PORT.")
@click.option(
    "--metrics-address",
    default="0.0.0.0",
    show_default=True,
    metavar="ADDR",
    help="Address the metrics endpoint listens on.",
)
@click.option("--report", "report_path", metavar="FILE", help="Write the HTML report of the whole run to FILE on exit.")
@click.option("--duration", type=click.FloatRange(min=0.0, min_open=True), metavar="S", help="Stop after S seconds.")
@click.option("--show-secrets", is_flag=True, help="Show VRRPv2 clear-text passwords instead of fingerprints.")
def watch_command(
    interfaces: tuple[str, ...],
    extra_filter: str | None,
    fmt: str,
    write_path: str | None,
    output_path: str | None,
    rotate_size: float | None,
    rotate_count: int | None,
    metrics_port: int | None,
    metrics_address: str,
    report_path: str | None,
    duration: float | None,
    show_secrets: bool,
) -> int:
    """Watch VRRP live: current masters per group, takeovers and findings as they happen.

    Captures with a kernel filter (VRRP, AH, ARP, ICMPv6; VLAN-tagged too) and analyses exactly as
    `analyze` does. Stops on Ctrl-C, SIGTERM or --duration and prints the analyze summary.
    Needs CAP_NET_RAW (root).

    An interface that goes down, loses its carrier or is deleted does not stop watch: the other
    interfaces go on, capture resumes when it is back (a re-created interface of the same name is
    captured again), and the time without capture is reported as a capture gap (from, to, why;
    what the segment carried meanwhile is unknown): a capture_gap event, the stats, the metrics,
    and the summary (JSON input.capture_gaps). Changes and findings that overlap a gap are marked
    capture_gap, as they may be artefacts of it.

    SIGHUP re-opens the output files for log rotation: after `mv FILE FILE.1; kill -HUP PID`, FILE.1
    is complete (closed) and a new FILE starts with its own header (-w and -o). A FILE that was not
    moved is kept as is.

    \b
    Examples:
      vrrpscope watch -i eth0
      vrrpscope watch -i eth0 -i eth1 --format json | jq -c 'select(.event != "stats")'
      vrrpscope watch -i bond0 -f 'vlan 30' -w vrrp.pcapng --rotate-size 100 --rotate-count 5
      vrrpscope watch -i eth0 --metrics-port 9108 --format json > events.jsonl
      vrrpscope watch -i eth0 --format json -o /var/log/vrrp.jsonl -w /var/log/vrrp.pcapng
      vrrpscope watch -i eth0 --duration 600 --report reports/watch.html
    """
    from rich.console import Console
    from rich.text import Text

    from vrrpscope.live.capture import LiveCapture
    from vrrpscope.live.events import JsonLinesSink, LineSink, Sink
    from vrrpscope.live.session import WatchSession
    from vrrpscope.live.source import CaptureError
    from vrrpscope.live.writer import PcapngWriter
    from vrrpscope.output.table import render_summary

    if (rotate_size is not None or rotate_count is not None) and not write_path:
        raise click.UsageError("--rotate-size/--rotate-count need -w FILE")
    if rotate_count is not None and rotate_size is None:
        raise click.UsageError("--rotate-count needs --rotate-size")
    if write_path == "-":
        raise click.UsageError("-w - is not supported: stdout carries the events")
    if output_path == "-":
        output_path = None  # stdout, the default
    if output_path and write_path and output_path == write_path:
        raise click.UsageError("-o and -w name the same file")
    if report_path and importlib.util.find_spec("vrrpscope.output.html") is None:
        raise WatchError("--report is not available in this installation")  # say so now, not after the capture

    capture = LiveCapture(list(interfaces), extra_filter=extra_filter)
    try:
        capture.open()
    except CaptureError as exc:
        raise WatchError(str(exc)) from None

    metrics: Any = None
    writer: PcapngWriter | None = None
    events_file: JsonLinesSink | LineSink | None = None
    dashboard = False
    try:
        if write_path:
            rotate_bytes = int(rotate_size * 1_000_000) if rotate_size is not None else None
            try:
                writer = PcapngWriter(
                    write_path,
                    rotate_bytes=rotate_bytes,
                    rotate_count=rotate_count if rotate_count is not None else 10,
                    stats=capture.stats,
                )
            except OSError as exc:
                raise WatchError(f"{terminal_safe(write_path)}: {exc.strerror or exc}") from None
            for info in capture.interfaces:  # described up front: a quiet capture is still a valid file
                writer.add_interface(info.index, info)
        sinks: list[Sink] = []
        if metrics_port is not None:
            try:
                from vrrpscope.live.metrics import Metrics
            except ImportError as exc:
                raise WatchError(f"--metrics-port needs the prometheus-client package ({exc})") from None
            metrics = Metrics()
            try:
                metrics.serve(metrics_port, metrics_address)
            except OSError as exc:
                raise WatchError(f"metrics endpoint {metrics_address}:{metrics_port}: {exc.strerror or exc}") from None
            sinks.append(metrics)
        kind: type[JsonLinesSink] | type[LineSink] = JsonLinesSink if fmt == "json" else LineSink
        if output_path:
            try:
                events_file = kind.to_file(output_path)
            except OSError as exc:
                raise WatchError(f"{terminal_safe(output_path)}: {exc.strerror or exc}") from None
            sinks.append(events_file)
        if fmt == "live" and sys.stdout.isatty():
            from vrrpscope.live.dashboard import Dashboard

            sinks.append(Dashboard(Console(highlight=False)))
            dashboard = True
        elif not output_path:
            sinks.append(kind(sys.stdout))

        def log(text: str) -> None:
            try:
                click.echo(f"vrrpscope watch: {terminal_safe(text)}", err=True)
            except OSError:
                pass  # stderr gone: the note is lost, the capture goes on

        label = write_path if (write_path and rotate_size is None) else "live:" + ",".join(interfaces)
        session = WatchSession(
            capture,
            sinks,
            label=label,
            writer=writer,
            duration=duration,
            show_secrets=show_secrets,
            log=None if dashboard else log,  # the dashboard shows the notes itself
        )
        for note in capture.warnings:
            click.echo(f"vrrpscope watch: {terminal_safe(note)}", err=True)
        previous = _install_stop_handlers(session.request_stop)  # before the banner: Ctrl-C from here on is clean
        previous.update(_install_reopen_handler(session.request_reopen))
        try:
            click.echo(
                f"vrrpscope watch: capturing on {', '.join(terminal_safe(i) for i in interfaces)} "
                f"(filter: {capture.filter_source}); Ctrl-C to stop",
                err=True,
            )
            for st in capture.stats():
                if not st.up:
                    click.echo(
                        f"vrrpscope watch: {terminal_safe(st.name or '?')} is {st.state.replace('_', ' ')}: "
                        "nothing is captured on it until it is up (a capture gap)",
                        err=True,
                    )
            analysis = session.run()
        finally:
            _restore_handlers(previous)
    finally:
        capture.close()
        if writer is not None:
            writer.close(capture.stats())
        if metrics is not None:
            metrics.shutdown()
        if events_file is not None:
            events_file.close()

    data = analysis.to_dict()
    if fmt == "json" and not output_path:
        console = Console(file=sys.stderr, highlight=False, soft_wrap=True)
    else:
        console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(file=console.file, highlight=False, soft_wrap=True, width=200, no_color=True)
    try:
        render_summary(data, console)
        for line in _gap_lines(data["input"].get("capture_gaps", [])):
            console.print(Text(line, style="bold yellow"))
    except OSError:
        pass  # the reader went away (BrokenPipeError) or the terminal hung up (EIO)
    if report_path:
        from vrrpscope.output.html import write_report

        generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        try:
            write_report(data, report_path, generated_at=generated)
        except OSError as exc:
            raise WatchError(f"{terminal_safe(report_path)}: {exc.strerror or exc}") from None
        click.echo(f"report written to {report_path}", err=True)
    click.echo(_closing_line(session), err=True)
    return 0
