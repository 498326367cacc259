"""``vrrpscope decode``: one line (or JSON object) per VRRP/CARP/ARP/ND packet, with frame numbers."""

from __future__ import annotations

import json

import click

from vrrpscope.cli.common import (
    BAD_INPUT,
    check_inputs,
    nothing_readable,
    report_problem,
    source_options,
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
def decode_command(files: tuple[str, ...], engine: str, fmt: str, show_secrets: bool) -> int:
    """Decode VRRP, ARP and IPv6 ND packets, one per line, like `tshark -Y vrrp`.

    Other frames are counted, never printed. A summary goes to stderr.

    \b
    Examples:
      vrrpscope decode -r capture.pcap
      vrrpscope decode -r capture.pcapng --format json | jq .
      tcpdump -i eth0 -w - 'vrrp or arp' | vrrpscope decode -r -
    """
    check_inputs(files, allow_partial=True)
    counts = InputCounts()
    several = len(files) > 1
    for item in iter_packets(list(files), engine=engine, counts=counts):
        if not isinstance(item, Packet):
            report_problem(item)
            continue
        if fmt == "json":
            rec = packet_record(item, show_secrets=show_secrets, with_file=several)
            click.echo(json.dumps(rec, separators=(",", ":")))
        else:
            prefix = f"{item.file_index}:" if several else ""
            click.echo(prefix + packet_line(item, show_secrets=show_secrets))
    click.echo(summary_line(counts), err=True)
    if nothing_readable(counts):
        return BAD_INPUT
    return 0
