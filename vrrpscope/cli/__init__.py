"""The ``vrrpscope`` command line: a thin click layer over the library.

Exit codes follow DESIGN.md: 0 fine, 1 warning findings with ``--fail-on warning``, 2 critical
findings, 3 bad usage or unreadable input. click's own usage errors (exit 2 by default) are remapped
to 3 here, because 2 means "critical findings" in this contract.
"""

from __future__ import annotations

import importlib
import sys

import click

from vrrpscope import __version__
from vrrpscope.cli.common import BAD_INPUT, tune_gc

#: Subcommand name -> (module, attribute). A command's module is imported only when that command
#: runs (or help lists it): `analyze` never loads the keepalived.conf parser or the live capture
#: code, which keeps start-up short for the small-file case.
COMMANDS: dict[str, tuple[str, str]] = {
    "decode": ("vrrpscope.cli.decode", "decode_command"),
    "analyze": ("vrrpscope.cli.analyze", "analyze_command"),
    "report": ("vrrpscope.cli.analyze", "report_command"),
    "lint": ("vrrpscope.cli.lint", "lint_command"),
    "watch": ("vrrpscope.cli.watch", "watch_command"),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The subcommands, in the order they are documented."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return subcommand ``cmd_name`` (None if there is no such command)."""
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        command = getattr(importlib.import_module(spec[0]), spec[1])
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and map click's exits onto the design's codes."""
    tune_gc()
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
