"""``vrrpscope decode``: one line (or JSON object) per VRRP/CARP/ARP/ND packet, with frame numbers."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from vrrpscope.cli.common import (
    BAD_INPUT,
    check_inputs,
    nothing_readable,
    progress_option,
    report_problem,
    source_options,
    start_progress,
    summary_line,
)
from vrrpscope.decode import packet_line, packet_record
from vrrpscope.model import Packet
from vrrpscope.pipeline import InputCounts, iter_packets


@click.command("decode")
@source_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one line per packet; json: JSON Lines per the decode contract.",
)
@click.option("--show-secrets", is_flag=True, help="Print VRRPv2 clear-text passwords instead of fingerprints.")
@progress_option
def decode_command(files: tuple[str, ...], engine: str, fmt: str, show_secrets: bool, progress: bool | None) -> int:
    """Decode VRRP, ARP and IPv6 ND packets, one per line, like `tshark -Y vrrp`.

    Other frames are counted, never printed. A summary goes to stderr. The progress bar is
    shown by default only when stderr is a terminal and the output is not (it would scroll).

    \b
    Examples:
      vrrpscope decode -r capture.pcap
      vrrpscope decode -r capture.pcapng --format json | jq .
      tcpdump -i eth0 -w - 'vrrp or arp' | vrrpscope decode -r -
    """
    check_inputs(files, allow_partial=True)
    counts = InputCounts()
    several = len(files) > 1
    stdout_tty = sys.stdout.isatty()
    if progress is None and stdout_tty:
        progress = False  # the packet lines scrolling by are the progress
    bar = start_progress(files, progress, engine=engine, redirect_stdout=stdout_tty)
    with bar if bar is not None else contextlib.nullcontext():
        # With the bar and a terminal on stdout, lines go through the bar's console (sys.stdout
        # is now its proxy), so they scroll above the bar.
        out = sys.stdout if bar is not None and stdout_tty else None
        for item in iter_packets(list(files), engine=engine, counts=counts, progress=bar):
            if not isinstance(item, Packet):
                report_problem(item)
                continue
            if fmt == "json":
                rec = packet_record(item, show_secrets=show_secrets, with_file=several)
                click.echo(json.dumps(rec, separators=(",", ":")), file=out)
            else:
                prefix = f"{item.file_index}:" if several else ""
                click.echo(prefix + packet_line(item, show_secrets=show_secrets), file=out)
    click.echo(summary_line(counts), err=True)
    if nothing_readable(counts):
        return BAD_INPUT
    return 0
