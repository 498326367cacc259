"""``vrrpscope lint``: keepalived.conf checks that need no traffic (one file per node)."""

from __future__ import annotations

import json

import click

from vrrpscope.cli.common import BAD_INPUT
from vrrpscope.config.lint import LintFinding, LintResult, lint_files, parse_iface_addr
from vrrpscope.config.model import IPInterface
from vrrpscope.output.safe import terminal_safe


def finding_line(f: LintFinding) -> str:
    """One readable line: ``file:line  severity  kind  [iface family VRID n]  message``."""
    where = str(f.location) if f.location else "-"
    group = ""
    if f.vrid is not None:
        group = f"[{f.segment or '-'} {f.family} VRID {f.vrid}] "
    return terminal_safe(f"{where}  {f.severity.label}  {f.kind}  {group}{f.message}")


def summary_line(result: LintResult) -> str:
    """The closing summary on stderr: files, nodes, instances, findings per severity."""
    counts = {"critical": 0, "warning": 0, "info": 0}
    for f in result.findings:
        counts[f.severity.label] += 1
    return (
        f"{len(result.configs)} file(s), {len(result.instances)} instance(s): "
        f"{counts['critical']} critical, {counts['warning']} warning, {counts['info']} info"
    )


@click.command("lint")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one line per finding with file:line; json: files, instances and findings.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "critical"]),
    help="Exit 1 for warning findings (with 'warning'), 2 for critical ones.",
)
@click.option(
    "--config-id",
    metavar="ID",
    help="keepalived -i: which '@ID' conditional lines apply (default: none of them).",
)
@click.option(
    "--iface-addr",
    "iface_addrs",
    multiple=True,
    metavar="[NODE:]IFACE=ADDR/PLEN",
    help="An interface's own address, to check VIPs are inside its subnets. Repeatable.",
)
def lint_command(
    files: tuple[str, ...], fmt: str, fail_on: str | None, config_id: str | None, iface_addrs: tuple[str, ...]
) -> int:
    """Check keepalived.conf files for mistakes that break VRRP, no traffic needed.

    Give one file per node (its includes are followed): instances with the same interface, family
    and virtual_router_id are compared across nodes (VRID collisions, authentication, versions,
    intervals, priorities, virtual addresses, unicast peers). The node name is the router_id or
    the file name.

    \b
    Examples:
      vrrpscope lint /etc/keepalived/keepalived.conf
      vrrpscope lint lb1/keepalived.conf lb2/keepalived.conf --fail-on critical
      vrrpscope lint lv1.conf lv2.conf --format json | jq '.findings[]'
    """
    extra: dict[str, list[IPInterface]] = {}
    for spec in iface_addrs:
        try:
            key, addr = parse_iface_addr(spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--iface-addr") from None
        extra.setdefault(key, []).append(addr)
    result = lint_files(list(files), config_id=config_id, interface_addresses=extra)
    for cfg in result.unreadable:
        for d in cfg.diagnostics:
            if d.code == "unreadable":
                click.echo(f"vrrpscope: {terminal_safe(d.message.split(': ', 1)[-1])}", err=True)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for f in result.findings:
            click.echo(finding_line(f))
        if not result.findings and not result.unreadable:
            click.echo(f"no findings in {len(result.configs)} file(s)")
    click.echo(summary_line(result), err=True)
    status = result.exit_status(fail_on)
    return BAD_INPUT if status == BAD_INPUT else int(status)
