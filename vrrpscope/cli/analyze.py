"""``vrrpscope analyze`` and ``vrrpscope report``: the whole analysis, as a table, JSON, CSV or HTML."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from typing import Any

import click

from vrrpscope.cli.common import (
    BAD_INPUT,
    check_inputs,
    expand_files,
    progress_option,
    report_problem,
    scale_options,
    segment_option,
    source_options,
    start_progress,
    summary_line,
)
from vrrpscope.findings import Severity, exit_status_for_severities
from vrrpscope.output.safe import terminal_safe
from vrrpscope.pipeline import split_segment


def parse_time(value: str | None) -> float | None:
    """Parse ``--since``/``--until``: epoch seconds or ISO 8601 (UTC when no zone is given)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is neither epoch seconds nor an ISO 8601 time (2026-11-25T14:03:07)"
        ) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _run_analysis(
    files: tuple[str, ...],
    engine: str,
    since: str | None,
    until: str | None,
    show_secrets: bool,
    jobs: int | None = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
    segments: dict[str, str] | None = None,
) -> tuple[Any, dict[str, Any]]:
    from vrrpscope.analysis import analyze

    files = expand_files(files)
    check_inputs(files, allow_partial=True)
    t0, t1 = parse_time(since), parse_time(until)
    parallel = engine == "native" and (scheduler is not None or jobs != 1)
    if not parallel and scheduler is not None:
        raise click.UsageError("--scheduler needs --engine native")
    bar = start_progress(files, progress, engine=engine)
    common: dict[str, Any] = {"since": t0, "until": t1, "show_secrets": show_secrets, "segments": segments}
    with bar if bar is not None else contextlib.nullcontext():
        if parallel:
            from vrrpscope.parallel import analyze_parallel

            try:
                result = analyze_parallel(list(files), jobs=jobs, scheduler=scheduler, progress=bar, **common)
            except RuntimeError as exc:  # dask missing or the scheduler unreachable
                raise click.ClickException(str(exc)) from exc
        elif bar is None:
            result = analyze(list(files), engine=engine, **common)
        else:
            from vrrpscope.pipeline import InputCounts, iter_packets

            counts = InputCounts()
            stream = iter_packets(list(files), engine=engine, counts=counts, progress=bar)
            result = analyze(list(files), engine=engine, packets=stream, counts=counts, **common)
    for problem in result.counts.problems:
        report_problem(problem)
    data = result.to_dict()
    renames = result.renames
    for name in renames.unused if renames is not None else ():
        seen = ", ".join(terminal_safe(s) for s in renames.seen) or "none"
        click.echo(
            f"vrrpscope: note: --segment {terminal_safe(name)}=... renamed nothing: no VRRP/ARP/ND packet "
            f"was captured on a segment or interface of that name (segments seen: {seen})",
            err=True,
        )
    for hint in same_lan_hints(data):
        click.echo(f"vrrpscope: note: {terminal_safe(hint)}", err=True)
    return result, data


#: Two groups are taken for one LAN seen twice when at least this share of a common router's
#: adverts (and at least SAME_LAN_MIN_ADVERTS of them) appear in both within SAME_LAN_WINDOW_S.
SAME_LAN_SHARE = 0.8
SAME_LAN_MIN_ADVERTS = 3
SAME_LAN_WINDOW_S = 0.05


def _matched(a: list[float], b: list[float], window: float) -> int:
    """How many times of sorted ``a`` have a time of sorted ``b`` within ``window``."""
    n, j = 0, 0
    for t in a:
        while j < len(b) and b[j] < t - window:
            j += 1
        if j < len(b) and b[j] <= t + window:
            n += 1
    return n


def same_lan_hints(data: dict[str, Any]) -> list[str]:
    """Hints for groups that look like one LAN seen from two files under two segment names.

    Two groups with the same family, VRID and VLAN tags on differently named segments, seen by
    disjoint sets of input files, in which a router with the same address sent the same adverts
    (:data:`SAME_LAN_SHARE` of them within :data:`SAME_LAN_WINDOW_S`), are one group captured on
    two nodes whose interfaces are named differently (``eth0`` and ``ens192``). They are analysed
    apart (DESIGN: groups on different segments never merge) unless ``--segment`` renames one.
    Cloned sites that reuse addresses and VRIDs do not match: their adverts are not simultaneous.
    """

    def files_of(group: dict[str, Any]) -> set[str]:
        return {f for files in (group.get("vantage") or {}).values() for f in files}

    def same_adverts(a: dict[str, Any], b: dict[str, Any]) -> bool:
        ta, tb = a.get("advert_times") or {}, b.get("advert_times") or {}
        for ip in set(ta) & set(tb):
            xs, ys = sorted(ta[ip]), sorted(tb[ip])
            fewer = min(len(xs), len(ys))
            if fewer >= SAME_LAN_MIN_ADVERTS and _matched(xs, ys, SAME_LAN_WINDOW_S) >= SAME_LAN_SHARE * fewer:
                return True
        return False

    hints: list[str] = []
    groups = data.get("groups") or []
    for i, a in enumerate(groups):
        a_iface, a_tags = split_segment(a["segment"])
        for b in groups[i + 1 :]:
            b_iface, b_tags = split_segment(b["segment"])
            if (a["family"], a["vrid"], a_tags) != (b["family"], b["vrid"], b_tags):
                continue
            if a_iface == b_iface or files_of(a) & files_of(b) or not same_adverts(a, b):
                continue
            hints.append(
                f"VRID {a['vrid']} ({a['family']}) on {a['segment']} and on {b['segment']} carries the same "
                f"adverts, seen from different files: if they are one LAN, --segment {b_iface}={a_iface} "
                "analyses them as one group"
            )
    return hints


def _write_report(data: dict[str, Any], path: str) -> None:
    from vrrpscope.output.html import write_report

    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    write_report(data, path, generated_at=generated)
    click.echo(f"report written to {path}", err=True)


def _time_options(func: Any) -> Any:
    func = click.option("--until", metavar="T", help="Ignore packets after T (epoch seconds or ISO 8601).")(func)
    func = click.option("--since", metavar="T", help="Ignore packets before T (epoch seconds or ISO 8601).")(func)
    func = click.option(
        "--show-secrets", is_flag=True, help="Show VRRPv2 clear-text passwords instead of fingerprints."
    )(func)
    return func


@click.command("analyze")
@source_options
@scale_options
@progress_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table: terminal summary; json: the JSON contract; csv: one file per table in --out.",
)
@click.option("--out", "out_dir", metavar="DIR", help="Directory for --format csv (and Parquet with pyarrow).")
@click.option("--report", "report_path", metavar="FILE", help="Also write the HTML report to FILE.")
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "critical"]),
    help="Exit 1 for warning findings (with 'warning'), 2 for critical ones.",
)
@click.option(
    "--config",
    "config_paths",
    multiple=True,
    metavar="FILE",
    help="A node's keepalived.conf to compare with the wire (repeatable, one per node).",
)
@click.option("--config-id", metavar="ID", help="keepalived's @ID for conditional configuration lines.")
@segment_option
@_time_options
def analyze_command(
    files: tuple[str, ...],
    engine: str,
    jobs: int | None,
    scheduler: str | None,
    progress: bool | None,
    segments: dict[str, str],
    fmt: str,
    out_dir: str | None,
    report_path: str | None,
    fail_on: str | None,
    config_paths: tuple[str, ...],
    config_id: str | None,
    since: str | None,
    until: str | None,
    show_secrets: bool,
) -> int:
    """Analyse captures: masters per VRRP group, takeovers against the protocol, findings.

    Each file is a vantage point; frames are cited per file when several are given.

    \b
    Examples:
      vrrpscope analyze -r incident.pcapng
      vrrpscope analyze -r lb1.pcap -r lb2.pcap --format json > analysis.json
      vrrpscope analyze -r lb1.pcapng -r lb2.pcapng --segment ens192=eth0
      vrrpscope analyze -r '/captures/*.pcap' --jobs 4
      vrrpscope analyze -r /captures/ --scheduler tcp://dask-scheduler:8786
      vrrpscope analyze -r incident.pcap --format csv --out tables/
      vrrpscope analyze -r incident.pcap --report reports/incident.html --fail-on critical
      vrrpscope analyze -r incident.pcap --config lv1.conf --config lv2.conf
    """
    if fmt == "csv" and not out_dir:
        raise click.UsageError("--format csv needs --out DIR (one CSV file per table)")
    check_inputs(config_paths)
    result, data = _run_analysis(files, engine, since, until, show_secrets, jobs, scheduler, progress, segments)
    if config_paths:
        from vrrpscope.config.compare import ConfigError, compare_with_configs, merge_findings

        try:
            extra = compare_with_configs(data, config_paths, config_id=config_id)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        data["findings"] = merge_findings(data["findings"], extra)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    elif fmt == "csv":
        from vrrpscope.output.csvout import write_tables

        assert out_dir is not None
        for path in write_tables(data, out_dir):
            click.echo(f"wrote {path}", err=True)
    else:
        from rich.console import Console

        from vrrpscope.output.table import render_summary

        console = Console(highlight=False, soft_wrap=True)
        if not console.is_terminal:
            console = Console(highlight=False, soft_wrap=True, width=200, no_color=True)
        render_summary(data, console)
    if report_path:
        _write_report(data, report_path)
    click.echo(summary_line(result.counts), err=True)
    if not result.counts.readable:
        return BAD_INPUT
    severities = (Severity.parse(str(f.get("severity") or "info")) for f in data["findings"])
    return int(exit_status_for_severities(severities, fail_on))


@click.command("report")
@source_options
@scale_options
@progress_option
@click.option("-o", "--output", "output", required=True, metavar="FILE", help="Where to write the HTML report.")
@segment_option
@_time_options
def report_command(
    files: tuple[str, ...],
    engine: str,
    jobs: int | None,
    scheduler: str | None,
    progress: bool | None,
    segments: dict[str, str],
    output: str,
    since: str | None,
    until: str | None,
    show_secrets: bool,
) -> int:
    """Write the self-contained HTML incident report (one file, works offline).

    \b
    Example:
      vrrpscope report -r incident.pcapng -o reports/incident.html
    """
    result, data = _run_analysis(files, engine, since, until, show_secrets, jobs, scheduler, progress, segments)
    _write_report(data, output)
    click.echo(summary_line(result.counts), err=True)
    if not result.counts.readable:
        return BAD_INPUT
    return 0
