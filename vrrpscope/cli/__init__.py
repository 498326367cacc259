"""The ``vrrpscope`` command line: a thin click layer over the library.

Exit codes follow DESIGN.md: 0 fine, 1 warning findings with ``--fail-on warning``, 2 critical
findings, 3 bad usage or unreadable input. click's own usage errors (exit 2 by default) are remapped
to 3 here, because 2 means "critical findings" in this contract.
"""

from __future__ import annotations

import sys

import click

from vrrpscope import __version__
from vrrpscope.cli.analyze import analyze_command, report_command
from vrrpscope.cli.common import BAD_INPUT
from vrrpscope.cli.decode import decode_command
from vrrpscope.cli.lint import lint_command
from vrrpscope.cli.watch import watch_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vrrpscope")
def cli() -> None:
    """What happened to my virtual IPs? VRRP, gratuitous ARP and unsolicited NA analysis.

    \b
    Examples:
      vrrpscope decode -r capture.pcap
      vrrpscope analyze -r capture.pcapng --format table
      vrrpscope report -r capture.pcap -o reports/incident.html
      vrrpscope lint lv1.conf lv2.conf
      sudo vrrpscope watch -i eth0
    """


cli.add_command(decode_command)
cli.add_command(analyze_command)
cli.add_command(report_command)
cli.add_command(lint_command)
cli.add_command(watch_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and map click's exits onto the design's codes."""
    try:
        rv = cli.main(args=argv, prog_name="vrrpscope", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(BAD_INPUT)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
