"""The terminal summary of an analysis: what an on-call engineer reads in ten seconds.

Rendered from the JSON-contract dict (the same data ``--format json`` prints) with rich. The console
is injected, so output is golden-testable at a fixed width with no colour; on a pipe it is plain
ASCII, on a terminal it has colour (``NO_COLOR`` honoured by rich). Every string that came from a
packet or a file name goes through :func:`~vrrpscope.output.safe.terminal_safe` and is printed with
markup disabled, so a crafted capture cannot inject rich markup or terminal escapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vrrpscope.output.filters import display_filter
from vrrpscope.output.safe import terminal_safe

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def clock(t: float | None) -> str:
    """UTC wall-clock time of a capture timestamp with milliseconds: ``14:03:07.213``."""
    if t is None:
        return "-"
    whole = int(t // 1)
    ms = round((t - whole) * 1000)
    if ms == 1000:
        whole, ms = whole + 1, 0
    return time.strftime("%H:%M:%S", time.gmtime(whole)) + f".{ms:03d}"


def day(t: float | None) -> str:
    """UTC date and time of a capture timestamp: ``2026-11-25 14:03:07.213 UTC``."""
    if t is None:
        return "-"
    return time.strftime("%Y-%m-%d", time.gmtime(int(t))) + " " + clock(t) + " UTC"


def frame_numbers(frames: Iterable[Any]) -> list[tuple[str | None, int]]:
    """Normalise cited frames (ints, or ``{"file","frame"}`` objects) to ``(file, number)`` pairs."""
    out: list[tuple[str | None, int]] = []
    for f in frames:
        if isinstance(f, dict):
            out.append((f.get("file"), int(f["frame"])))
        else:
            out.append((None, int(f)))
    return out


def wireshark_filter(frames: Iterable[Any]) -> str:
    """A display filter that opens the cited frames: ``frame.number in {12, 13}`` (per file if several)."""
    by_file: dict[str | None, list[int]] = {}
    for file, number in frame_numbers(frames):
        by_file.setdefault(file, []).append(number)
    parts = []
    for file, numbers in by_file.items():
        expr = display_filter(numbers)
        parts.append(f"{expr}  [{terminal_safe(file)}]" if file else expr)
    return "; ".join(parts)


def _frames_text(frames: list[Any], limit: int = 8) -> str:
    pairs = frame_numbers(frames)
    shown = [f"{terminal_safe(f)}#{n}" if f else str(n) for f, n in pairs[:limit]]
    more = f" (+{len(pairs) - limit})" if len(pairs) > limit else ""
    return ", ".join(shown) + more


def _group_label(obj: dict[str, Any]) -> str:
    seg = terminal_safe(str(obj.get("segment") or "-"))
    vrid = obj.get("vrid")
    fam = obj.get("family") or ""
    if vrid is None:
        return seg
    return f"VRID {vrid} {fam} on {seg}"


def _router_line(r: dict[str, Any]) -> Text:
    auth = r.get("auth") or {}
    auth_txt = str(auth.get("type") or "none")
    if auth.get("fingerprint"):
        auth_txt += " " + str(auth["fingerprint"])
    if auth.get("password") is not None:  # only there with --show-secrets
        auth_txt += f" password {str(auth['password'])!r}"
    interval = r.get("advert_int")
    line = Text("    ")
    line.append(terminal_safe(str(r.get("ip"))), style="bold")
    line.append(
        f"  mac {terminal_safe(str(r.get('mac') or '-'))}"
        f"  prio {','.join(str(p) for p in r.get('priorities', []))}"
        f"  int {f'{interval:g}s' if interval is not None else '-'}"
        f"  auth {terminal_safe(auth_txt)}"
        f"  VIPs {terminal_safe(','.join(r.get('vips', [])) or '-')}"
        f"  {r.get('adverts', 0)} adverts {clock(r.get('first_seen'))}-{clock(r.get('last_seen'))}"
    )
    return line


def takeover_verdict(t: dict[str, Any]) -> tuple[str, str]:
    """Judge a takeover's gap against its allowance with the slow_takeover detector's tolerance.

    Returns ``(text, style)``: ``within``, ``within tolerance (+N ms)`` or ``SLOW by N s``.
    """
    from vrrpscope.detectors.slow_takeover import SlowTakeover

    gap, allowed = t.get("gap"), t.get("allowed")
    if gap is None or allowed is None:
        return "-", ""
    if t.get("cause") == "preempt":
        return ("hand-over within one interval" if gap <= allowed else "hand-over slower than one interval"), ""
    if gap <= allowed:
        return "within", "green"
    if gap <= SlowTakeover().limit(allowed):
        return f"within tolerance (+{(gap - allowed) * 1000:.1f} ms)", "green"
    return f"SLOW by {gap - allowed:.3f}s", "bold red"


def _takeover_line(t: dict[str, Any]) -> Text:
    gap, allowed = t.get("gap"), t.get("allowed")
    verdict, style = takeover_verdict(t)
    line = Text(
        f"    {clock(t.get('at'))}  {terminal_safe(str(t.get('from') or '-'))} -> "
        f"{terminal_safe(str(t.get('to')))}  {t.get('cause')}"
    )
    if gap is not None and allowed is not None:
        line.append(f"  gap {gap:.3f}s vs allowed {allowed:.3f}s: ")
        line.append(verdict, style=style)
    garp = t.get("garp_delay")
    if garp is not None:
        line.append(f"  GARP/NA +{garp:.3f}s")
    else:
        line.append("  no GARP/NA seen", style="yellow")
    return line


def _stories(analysis: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each group's story in plain sentences, as the HTML report tells it (one source of wording)."""
    from vrrpscope.output.html_model import build_view

    return [(g.title, list(g.summary)) for g in build_view(analysis).groups]


def render_summary(analysis: dict[str, Any], console: Console) -> None:
    """Print the whole terminal summary of ``analysis`` (a JSON-contract dict) to ``console``."""
    bx = box.ASCII if not console.is_terminal else box.SIMPLE_HEAVY
    inp = analysis["input"]
    files = ", ".join(terminal_safe(str(f)) for f in inp.get("files", []))
    console.print(Text(f"vrrpscope analysis of {files}", style="bold"))
    console.print(
        Text(
            f"{day(inp.get('start'))} .. {clock(inp.get('end'))}  |  {inp.get('packets', 0)} packets: "
            f"VRRP {inp.get('vrrp', 0)}, ARP {inp.get('arp', 0)}, ND {inp.get('nd', 0)}, "
            f"malformed {inp.get('malformed', 0)}, capture loss {inp.get('capture_loss', 0)}"
        )
    )
    renamed = inp.get("segments_renamed") or {}
    if renamed:
        console.print(
            Text(
                "segments renamed (--segment): "
                + ", ".join(f"{terminal_safe(str(a))} as {terminal_safe(str(b))}" for a, b in renamed.items())
            )
        )
    dropped = {k: v for k, v in (inp.get("dropped_entities") or {}).items() if v}
    if dropped:
        console.print(
            Text(
                "resource caps reached, packets left out: "
                + ", ".join(f"{n} for new {kind}" for kind, n in dropped.items())
                + " (see docs/HARDENING.md)",
                style="bold yellow",
            )
        )

    stories = _stories(analysis)
    if stories:
        console.print()
        console.print(Text("WHAT HAPPENED", style="bold"))
        for label, sentences in stories:
            console.print(Text(f"  {terminal_safe(label)}", style="bold"))
            for sentence in sentences:
                console.print(Text(f"    - {terminal_safe(sentence)}"))

    findings = sorted(
        analysis.get("findings", []),
        key=lambda f: (SEVERITY_ORDER.get(f.get("severity", "info"), 3), f.get("start") or 0.0),
    )
    console.print()
    if findings:
        counts: dict[str, int] = {}
        for f in findings:
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        head = ", ".join(f"{n} {sev}" for sev, n in sorted(counts.items(), key=lambda kv: SEVERITY_ORDER[kv[0]]))
        console.print(Text(f"FINDINGS ({head})", style="bold"))
        for f in findings:
            sev = f.get("severity", "info")
            line = Text()
            line.append(f"[{sev.upper():8}] ", style=SEVERITY_STYLE.get(sev, ""))
            line.append(f"{f['kind']}", style="bold")
            line.append(f"  {_group_label(f)}  {clock(f.get('start'))}-{clock(f.get('end'))}")
            console.print(line)
            console.print(Text("    " + terminal_safe(str(f.get("message", "")))))
            frames = f.get("frames") or []
            if frames:
                console.print(Text(f"    frames {_frames_text(frames)}"))
                console.print(Text(f"    wireshark: {wireshark_filter(frames)}", style="dim"))
    else:
        console.print(Text("No findings.", style="bold green"))

    for g in analysis.get("groups", []):
        console.print()
        versions = "/".join(f"v{v}" for v in g.get("versions", []))
        console.print(Text(f"GROUP {_group_label(g)} ({versions})", style="bold"))
        for r in g.get("routers", []):
            console.print(_router_line(r))
        timeline = g.get("timeline", [])
        if timeline:
            console.print(Text("  masters:"))
            for iv in timeline:
                console.print(
                    Text(
                        f"    {clock(iv.get('start'))} - {clock(iv.get('end'))}  "
                        f"{terminal_safe(str(iv.get('master')))}  (ended: {iv.get('end_reason')})"
                    )
                )
        takeovers = g.get("takeovers", [])
        if takeovers:
            console.print(Text("  takeovers:"))
            for t in takeovers:
                console.print(_takeover_line(t))
    vips = {v for g in analysis.get("groups", []) for r in g.get("routers", []) for v in r.get("vips", [])}
    all_owners = analysis.get("arp_owners", [])
    owners = [o for o in all_owners if o.get("ip") in vips]
    others = len({o.get("ip") for o in all_owners} - vips)
    if owners or others:
        console.print()
        note = f" ({others} other IPs seen in ARP/ND: see --format json)" if others else ""
        console.print(Text("VIRTUAL IP -> MAC OWNERSHIP" + note, style="bold"))
    if owners:
        ot = Table(box=bx, show_edge=False, pad_edge=False)
        for col in ("ip", "mac", "from", "to", "via"):
            ot.add_column(col)
        for o in owners:
            ot.add_row(
                terminal_safe(str(o.get("ip"))),
                terminal_safe(str(o.get("mac"))),
                clock(o.get("start")),
                clock(o.get("end")),
                str(o.get("via")),
            )
        console.print(ot)
