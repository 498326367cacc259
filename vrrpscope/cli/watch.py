"""``vrrpscope watch``: live analysis on one or more interfaces, for the on-call engineer.

A thin layer over :mod:`vrrpscope.live`: it opens the capture (:class:`~vrrpscope.live.capture.LiveCapture`),
picks the sinks (dashboard on a terminal, plain lines on a pipe, JSON Lines with ``--format json``,
Prometheus with ``--metrics-port``, pcapng with ``-w``), runs the
:class:`~vrrpscope.live.session.WatchSession` until Ctrl-C, SIGTERM or ``--duration``, and prints the
same summary ``analyze`` prints (on stderr with ``--format json``, so stdout stays JSON Lines).
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


def _restore_handlers(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)


def _closing_line(session: Any) -> str:
    c = session.counts
    names = ", ".join(terminal_safe(i.name or "?") for i in session.source.interfaces)
    return (
        f"{c.packets} frames captured on {names}: VRRP {c.vrrp}, ARP {c.arp}, ND {c.nd}, "
        f"malformed {c.malformed}, kernel drops {c.capture_loss}; stopped by {session.stopped_by or 'request'}"
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
@click.option("-w", "--write", "write_path", metavar="FILE", help="Also write the captured frames to FILE (pcapng).")
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

    \b
    Examples:
      vrrpscope watch -i eth0
      vrrpscope watch -i eth0 -i eth1 --format json | jq -c 'select(.event != "stats")'
      vrrpscope watch -i bond0 -f 'vlan 30' -w vrrp.pcapng --rotate-size 100 --rotate-count 5
      vrrpscope watch -i eth0 --metrics-port 9108 --format json > events.jsonl
      vrrpscope watch -i eth0 --duration 600 --report reports/watch.html
    """
    from rich.console import Console

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
    if report_path and importlib.util.find_spec("vrrpscope.output.html") is None:
        raise WatchError("--report is not available in this installation")  # say so now, not after the capture

    capture = LiveCapture(list(interfaces), extra_filter=extra_filter)
    try:
        capture.open()
    except CaptureError as exc:
        raise WatchError(str(exc)) from None

    metrics: Any = None
    writer: PcapngWriter | None = None
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
        if fmt == "json":
            sinks.append(JsonLinesSink(sys.stdout))
        elif sys.stdout.isatty():
            from vrrpscope.live.dashboard import Dashboard

            sinks.append(Dashboard(Console(highlight=False)))
        else:
            sinks.append(LineSink(sys.stdout))

        label = write_path if (write_path and rotate_size is None) else "live:" + ",".join(interfaces)
        session = WatchSession(capture, sinks, label=label, writer=writer, duration=duration, show_secrets=show_secrets)
        for note in capture.warnings:
            click.echo(f"vrrpscope watch: {terminal_safe(note)}", err=True)
        previous = _install_stop_handlers(session.request_stop)  # before the banner: Ctrl-C from here on is clean
        try:
            click.echo(
                f"vrrpscope watch: capturing on {', '.join(terminal_safe(i) for i in interfaces)} "
                f"(filter: {capture.filter_source}); Ctrl-C to stop",
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

    data = analysis.to_dict()
    if fmt == "json":
        console = Console(file=sys.stderr, highlight=False, soft_wrap=True)
    else:
        console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(file=console.file, highlight=False, soft_wrap=True, width=200, no_color=True)
    try:
        render_summary(data, console)
    except BrokenPipeError:
        pass
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
