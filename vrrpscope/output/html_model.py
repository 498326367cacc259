"""The HTML report's view model: the analysis dict (DESIGN.md JSON contract) turned into what to show.

:func:`build_view` reads the ``analyze --format json`` dict plus the optional keys the reconstructor
adds per group (``priority_changes``, ``resigns``, ``garps``, ``advert_times``, ``vantage``; routers'
``checksum_variants``, ``macs``, ``ttls``; input ``capture_loss`` and ``problems``) and returns
frozen view records: formatted times and numbers, plain-language summaries, Wireshark display
filters, table rows and the inline SVG charts from :mod:`vrrpscope.output.svg`. Every optional key
degrades to "not shown" when absent. Strings are kept raw here; the template escapes them.

Everything is sorted, so the same analysis always gives the same report, whatever order its lists
come in. No wall clock is read.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from markupsafe import Markup

from vrrpscope.detectors.slow_takeover import SlowTakeover
from vrrpscope.output.filters import display_filter
from vrrpscope.output.svg import (
    Band,
    Chart,
    Lane,
    Mark,
    Span,
    render_chart,
    seconds,
    stack_rows,
)
from vrrpscope.output.table import SEVERITY_ORDER, frame_numbers

PALETTE_SIZE = 8  #: router colours c0..c7 in the stylesheet
GARP_BURST_S = 1.0  #: GARPs/NAs closer than this are one burst (keepalived sends 5 back to back)
CONFLICT_GRACE_S = 1.0  #: owner != master for less than this is the normal GARP-after-advert delay
CLOSEUP_MIN_SPAN_S = 600.0  #: captures longer than this get static close-ups around each event
CLOSEUP_MAX = 6  #: at most this many close-ups per group
SUMMARY_MAX_TAKEOVERS = 8  #: takeovers told in words per group; the table has the rest
FRAMES_SHOWN = 12  #: frame numbers listed per file in a finding (the filter has them all)
#: finding kinds drawn as shaded bands across a group's chart, with their CSS class
BAND_KINDS = {"split_brain": "critical", "no_master": "muted", "preemption_flap": "warning"}
#: finding keys shown as the finding's headline; any other scalar key is listed as a detail
FINDING_KEYS = frozenset(
    {"kind", "severity", "segment", "family", "vrid", "start", "end", "routers", "frames", "message"}
)


# ----------------------------------------------------------------------------- formatting


def is_num(x: object) -> TypeGuard[float]:
    """True for a finite int/float that is not a bool."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def iso(t: float) -> str:
    """ISO 8601 UTC with milliseconds: ``2024-05-14T14:03:07.200Z`` (absurd times as plain numbers)."""
    try:
        whole, frac = divmod(round(t * 1000), 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{frac:03d}Z"
    except (OverflowError, OSError, ValueError):
        return f"{t:.6g}"


def dur(d: float) -> str:
    """A duration for a sentence or a table: ``3.609 s``, ``0.605 s``, ``0.4 ms``, ``2 min 05 s``."""
    if d < 0:
        return "-" + dur(-d)
    if d < 0.001:
        return f"{d * 1000:.1f} ms"
    if d < 100:
        return f"{d:.3f} s"
    return seconds(d)


def ip_key(text: object) -> tuple[int, int, str]:
    """Sort key: IPv4 before IPv6, numerically; anything unparsable last, as text."""
    try:
        addr = ipaddress.ip_address(str(text))
    except ValueError:
        return (9, 0, str(text))
    return (addr.version, int(addr), "")


class Clock:
    """Formats capture times for one report: time of day, or date and time when the capture spans days."""

    def __init__(self, start: float | None, end: float | None) -> None:
        self.with_date = len({iso(t)[:10] for t in (start, end) if is_num(t)}) > 1

    def __call__(self, t: object) -> str:
        """``14:03:07.200`` (or ``2024-05-14 14:03:07.200``); ``—`` when ``t`` is not a number."""
        if not is_num(t):
            return "—"
        text = iso(float(t))
        if not text.endswith("Z"):
            return text
        return text[:10] + " " + text[11:23] if self.with_date else text[11:23]


# ----------------------------------------------------------------------------- view records


@dataclass(frozen=True, slots=True)
class FrameCite:
    """Frames of one input file cited by a finding, with the filter that opens them in Wireshark."""

    file: str | None
    shown: str
    more: int
    filter: str


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding as shown: headline fields, proof numbers, frames and the link to its group."""

    anchor: str
    kind: str
    severity: str
    message: str
    where: str
    group_anchor: str | None
    when: str
    routers: list[str]
    details: list[tuple[str, str]]
    frames: list[FrameCite]


@dataclass(frozen=True, slots=True)
class RouterRow:
    """One row of a group's routers table."""

    colour: str
    ip: str
    macs: list[str]
    priorities: str
    interval: str
    versions: str
    auth_type: str
    auth_fingerprint: str
    vips: list[str]
    checksum: str
    ttls: str
    adverts: str
    first_seen: str
    last_seen: str
    vantage: list[str]
    #: The clear-text password, present only when the analysis ran with ``--show-secrets``.
    auth_password: str | None = None


@dataclass(frozen=True, slots=True)
class TakeoverRow:
    """One row of a group's takeovers table."""

    at: str
    source: str
    target: str
    cause: str
    gap: str
    allowed: str
    verdict: str
    verdict_cls: str
    garp: str


@dataclass(frozen=True, slots=True)
class OwnerRow:
    """One layer-2 ownership interval of a virtual IP."""

    colour: str
    mac: str
    router: str
    start: str
    end: str
    length: str
    via: str
    status: str
    status_cls: str


@dataclass(frozen=True, slots=True)
class ZoomChip:
    """A button that zooms a chart to one event (relative seconds from the chart's epoch)."""

    label: str
    a: str
    b: str
    cls: str


@dataclass(frozen=True, slots=True)
class ChartView:
    """A rendered chart plus the event chips of its zoom bar."""

    chart_id: str
    caption: str
    svg: Markup
    chips: list[ZoomChip]


@dataclass(frozen=True, slots=True)
class VipView:
    """A virtual IP: its ownership chart, rows and the conflicts in words."""

    anchor: str
    ip: str
    chart: ChartView
    rows: list[OwnerRow]
    sentences: list[str]


@dataclass(frozen=True, slots=True)
class GroupView:
    """One VRRP group section of the report."""

    anchor: str
    title: str
    facts: str
    summary: list[str]
    counts: dict[str, int]
    master_at_end: str
    chart: ChartView
    closeups: list[ChartView]
    routers: list[RouterRow]
    takeovers: list[TakeoverRow]
    vips: list[VipView]
    legend: list[tuple[str, str]]
    finding_links: list[tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class ReportView:
    """Everything the template shows."""

    title: str
    generated_at: str | None
    files: list[str]
    start: str
    end: str
    duration: str
    counts: list[tuple[str, str]]
    problems: list[str]
    findings: list[FindingView]
    severity_counts: list[tuple[str, int]]
    groups: list[GroupView]
    other_ips: list[VipView]
    #: ``--segment`` renames that applied: (segment as captured, segment as analysed).
    renamed: list[tuple[str, str]] = field(default_factory=list)


# ----------------------------------------------------------------------------- helpers


def _list(x: object) -> list[Any]:
    """``x`` if it is a list, else an empty list (a malformed analysis degrades, never raises)."""
    return x if isinstance(x, list) else []


def _dict(x: object) -> Mapping[str, Any]:
    """``x`` if it is a dict, else an empty one."""
    return x if isinstance(x, dict) else {}


def _num(x: object, default: float = 0.0) -> float:
    return float(x) if is_num(x) else default


def _group_key(g: Mapping[str, Any]) -> tuple[str, str, int, str]:
    vrid = g.get("vrid")
    return (str(g.get("segment")), str(g.get("family")), int(vrid) if is_num(vrid) else -1, str(vrid))


def _family_word(family: object) -> str:
    return {"ipv4": "IPv4", "ipv6": "IPv6"}.get(str(family), str(family))


def _announce_word(family: object, kind: str = "") -> str:
    if kind == "na" or (not kind and str(family) == "ipv6"):
        return "unsolicited neighbour advertisements"
    return "gratuitous ARP"


def _bursts(times: Sequence[float]) -> list[list[float]]:
    """Group sorted times into bursts (gaps shorter than :data:`GARP_BURST_S`)."""
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][-1] < GARP_BURST_S:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def _frames(cited: Iterable[Any]) -> list[FrameCite]:
    by_file: dict[str | None, list[int]] = {}
    for file, number in frame_numbers(
        x for x in cited if (isinstance(x, dict) and is_num(x.get("frame"))) or is_num(x)
    ):
        by_file.setdefault(None if file is None else str(file), []).append(number)
    out = []
    for file in sorted(by_file, key=lambda f: (f is not None, f or "")):
        nums = sorted(set(by_file[file]))
        out.append(
            FrameCite(
                file=file,
                shown=", ".join(str(n) for n in nums[:FRAMES_SHOWN]),
                more=max(len(nums) - FRAMES_SHOWN, 0),
                filter=display_filter(nums),
            )
        )
    return out


def _frames_note(cited: Iterable[Any]) -> str:
    """`` · frame.number in {317..321} in a.pcap`` for a tooltip; empty when nothing is cited."""
    cites = _frames(cited)
    return "".join(f" · {c.filter}" + (f" in {c.file}" if c.file else "") for c in cites)


def _detail_value(v: object, clock: Clock) -> str | None:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if is_num(v):
        f = float(v)
        if f > 1e8:  # an epoch timestamp
            return clock(f)
        return str(v) if isinstance(v, int) else f"{f:.6g}"
    if isinstance(v, str):
        return v
    if isinstance(v, list) and all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in v):
        return ", ".join(str(x) for x in v)
    return None


@dataclass(frozen=True, slots=True)
class _Group:
    """One group's data, validated and sorted once: what every part of its section is built from."""

    g: Mapping[str, Any]
    anchor: str
    routers: Sequence[Mapping[str, Any]]
    timeline: Sequence[Mapping[str, Any]]
    takeovers: Sequence[Mapping[str, Any]]
    ips: list[str]
    colour: dict[str, str]
    mac_router: dict[str, str]
    findings: list[Mapping[str, Any]]
    ticks: dict[str, tuple[float, ...]]


class _Report:
    """Builds the view of one analysis (keeps the shared clock and capture window)."""

    def __init__(self, analysis: Mapping[str, Any]) -> None:
        self.inp: Mapping[str, Any] = _dict(analysis.get("input"))
        self.groups = sorted((g for g in _list(analysis.get("groups")) if isinstance(g, dict)), key=_group_key)
        self.findings = [f for f in _list(analysis.get("findings")) if isinstance(f, dict)]
        self.owners = [o for o in _list(analysis.get("arp_owners")) if isinstance(o, dict)]
        self.t0, self.t1 = self._window()
        self.clock = Clock(self.t0, self.t1)
        self.group_anchor = {_group_key(g): f"g{i + 1}" for i, g in enumerate(self.groups)}

    def _window(self) -> tuple[float, float]:
        start, end = self.inp.get("start"), self.inp.get("end")
        times: list[float] = []
        for g in self.groups:
            for iv in _list(g.get("timeline")):
                times += [float(iv[k]) for k in ("start", "end") if is_num(iv.get(k))]
            for r in _list(g.get("routers")):
                times += [float(r[k]) for k in ("first_seen", "last_seen") if is_num(r.get(k))]
        for o in self.owners:
            times += [float(o[k]) for k in ("start", "end") if is_num(o.get(k))]
        t0 = float(start) if is_num(start) else min(times, default=0.0)
        t1 = float(end) if is_num(end) else max(times, default=t0)
        return t0, max(t1, t0 + 1.0)

    # --------------------------------------------------------------------- findings

    def finding_view(self, i: int, f: Mapping[str, Any]) -> FindingView:
        key = _group_key(f)
        start, end = f.get("start"), f.get("end")
        when = self.clock(start)
        if is_num(start) and is_num(end) and end > start:
            when = f"{self.clock(start)} → {self.clock(end)} ({dur(float(end) - float(start))})"
        vrid = f.get("vrid")
        where = " · ".join(
            x for x in (
                f"VRID {vrid}" if vrid is not None else "",
                _family_word(f.get("family")) if f.get("family") else "",
                str(f.get("segment")) if f.get("segment") else "",
            ) if x
        )  # fmt: skip
        details = []
        for k in sorted(set(f) - FINDING_KEYS):
            v = _detail_value(f[k], self.clock)
            if v is not None:
                details.append((str(k), v))
        return FindingView(
            anchor=f"f{i + 1}",
            kind=str(f.get("kind", "finding")),
            severity=str(f.get("severity", "info")),
            message=str(f.get("message", "")),
            where=where,
            group_anchor=self.group_anchor.get(key) if vrid is not None else None,
            when=when,
            routers=sorted((str(r) for r in _list(f.get("routers"))), key=ip_key),
            details=details,
            frames=_frames(_list(f.get("frames"))),
        )

    def sorted_findings(self) -> list[Mapping[str, Any]]:
        return sorted(
            self.findings,
            key=lambda f: (
                SEVERITY_ORDER.get(str(f.get("severity")), 3),
                _num(f.get("start")),
                str(f.get("kind")),
                _group_key(f),
                str(f.get("message")),
            ),
        )

    def group_findings(self, g: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        key = _group_key(g)
        return [f for f in self.sorted_findings() if f.get("vrid") is not None and _group_key(f) == key]

    # --------------------------------------------------------------------- groups

    def group_data(self, g: Mapping[str, Any]) -> _Group:
        """Validate and sort one group's lists; assign router colours."""
        routers = sorted((r for r in _list(g.get("routers")) if isinstance(r, dict)), key=lambda r: ip_key(r.get("ip")))
        timeline = sorted(
            (iv for iv in _list(g.get("timeline")) if isinstance(iv, dict) and is_num(iv.get("start"))),
            key=lambda iv: (float(iv["start"]), ip_key(iv.get("master"))),
        )
        takeovers = sorted(
            (t for t in _list(g.get("takeovers")) if isinstance(t, dict) and is_num(t.get("at"))),
            key=lambda t: (float(t["at"]), ip_key(t.get("to"))),
        )
        ips = [str(r.get("ip")) for r in routers]
        for iv in timeline:
            if str(iv.get("master")) not in ips:
                ips.append(str(iv.get("master")))
        mac_router: dict[str, str] = {}
        for r in routers:
            for mac in [r.get("mac"), *(_list(r.get("macs")))]:
                if mac:
                    mac_router.setdefault(str(mac).lower(), str(r.get("ip")))
        return _Group(
            g=g,
            anchor=self.group_anchor[_group_key(g)],
            routers=routers,
            timeline=timeline,
            takeovers=takeovers,
            ips=ips,
            colour={ip: f"c{i % PALETTE_SIZE}" for i, ip in enumerate(ips)},
            mac_router=mac_router,
            findings=self.group_findings(g),
            ticks={
                str(ip): tuple(sorted(float(t) for t in _list(times) if type(t) in (int, float) and math.isfinite(t)))
                for ip, times in _dict(g.get("advert_times")).items()
            },
        )

    def group_view(self, g: Mapping[str, Any]) -> GroupView:
        gd = self.group_data(g)
        anchor, routers, timeline, takeovers, findings = (
            gd.anchor,
            gd.routers,
            gd.timeline,
            gd.takeovers,
            gd.findings,
        )
        counts = {sev: sum(1 for f in findings if f.get("severity") == sev) for sev in SEVERITY_ORDER}
        at_end = sorted({str(iv.get("master")) for iv in timeline if iv.get("end_reason") == "capture_end"}, key=ip_key)
        vrid = g.get("vrid")
        title = f"VRID {vrid} · {_family_word(g.get('family'))} · {g.get('segment')}"
        versions = "/".join(f"v{v}" for v in sorted(x for x in _list(g.get("versions")) if is_num(x)))
        intervals = sorted({_num(r.get("advert_int")) for r in routers if is_num(r.get("advert_int"))})
        vips = sorted({str(v) for r in routers for v in _list(r.get("vips"))}, key=ip_key)
        facts = (
            f"VRRP {versions or '?'} · {len(routers)} router{'s' if len(routers) != 1 else ''} · "
            f"advert interval {', '.join(f'{x:g} s' for x in intervals) or '?'} · "
            f"virtual IP{'s' if len(vips) != 1 else ''}: {', '.join(vips) or 'none'}"
        )
        chart = self.group_chart(gd)
        vip_views = [self.vip_view(f"{anchor}-vip{i + 1}", vip, gd) for i, vip in enumerate(vips)]
        legend = self.legend(gd)
        finding_ids = {id(f): i for i, f in enumerate(self.sorted_findings())}
        links = [(f"f{finding_ids[id(f)] + 1}", str(f.get("kind")), str(f.get("severity"))) for f in findings]
        return GroupView(
            anchor=anchor,
            title=title,
            facts=facts,
            summary=self.group_summary(gd, vip_views),
            counts=counts,
            master_at_end=", ".join(at_end) if at_end else "none",
            chart=chart,
            closeups=self.closeups(gd),
            routers=[self.router_row(r, g, gd.colour) for r in routers],
            takeovers=[self.takeover_row(t, g) for t in takeovers],
            vips=vip_views,
            legend=legend,
            finding_links=links,
        )

    def legend(self, gd: _Group) -> list[tuple[str, str]]:
        """The symbols the group's chart actually uses, with their meaning."""
        g = gd.g
        out = [("bar", "master (from its adverts)")]
        if any(_dict(g.get("advert_times")).values()):
            out.append(("ticks", "advert sent"))
        if g.get("priority_changes"):
            out.append(("diamond", "priority change"))
        if g.get("resigns"):
            out.append(("stop", "priority-0 resign"))
        kinds = {str(x.get("kind")) for x in _list(g.get("garps")) if isinstance(x, dict)}
        if kinds:
            words = [w for k, w in (("garp", "gratuitous ARP"), ("na", "unsolicited NA")) if k in kinds]
            out.append(("down", f"{' / '.join(words) or 'GARP/NA'} burst"))
        if gd.takeovers:
            out += [("gap", "takeover gap"), ("allowed", "allowed by the protocol")]
            if any(self._over(t) for t in gd.takeovers):
                out.append(("over", "gap over allowance"))
        kinds = {str(f.get("kind")) for f in gd.findings if str(f.get("kind")) in BAND_KINDS}
        if kinds:
            out.append(("band", " / ".join(sorted(k.replace("_", " ") for k in kinds))))
        return out

    def router_row(self, r: Mapping[str, Any], g: Mapping[str, Any], colour: Mapping[str, str]) -> RouterRow:
        ip = str(r.get("ip"))
        auth = r.get("auth") if isinstance(r.get("auth"), dict) else {}
        macs = sorted({str(m) for m in [r.get("mac"), *(_list(r.get("macs")))] if m})
        versions = r.get("versions") or _list(g.get("versions"))
        vantage = _list(_dict(g.get("vantage")).get(ip))
        return RouterRow(
            colour=colour.get(ip, "c0"),
            ip=ip,
            macs=macs,
            priorities=", ".join(str(p) for p in sorted(p for p in _list(r.get("priorities")) if is_num(p))) or "—",
            interval=f"{_num(r.get('advert_int')):g} s" if is_num(r.get("advert_int")) else "—",
            versions="/".join(f"v{v}" for v in sorted(v for v in versions if is_num(v))) or "—",
            auth_type=str(auth.get("type")) if auth and auth.get("type") is not None else "—",
            auth_fingerprint=str(auth.get("fingerprint")) if auth and auth.get("fingerprint") else "—",
            vips=sorted((str(v) for v in _list(r.get("vips"))), key=ip_key),
            checksum=", ".join(sorted(str(c) for c in _list(r.get("checksum_variants")) if c is not None)) or "—",
            ttls=", ".join(str(t) for t in sorted(t for t in _list(r.get("ttls")) if is_num(t))) or "—",
            adverts=str(r.get("adverts")) if is_num(r.get("adverts")) else "—",
            first_seen=self.clock(r.get("first_seen")),
            last_seen=self.clock(r.get("last_seen")),
            vantage=sorted(str(v) for v in vantage),
            auth_password=str(auth["password"]) if auth and auth.get("password") is not None else None,
        )

    def takeover_row(self, t: Mapping[str, Any], g: Mapping[str, Any]) -> TakeoverRow:
        gap, allowed = t.get("gap"), t.get("allowed")
        if is_num(gap) and is_num(allowed):
            over = float(gap) - float(allowed)
            if over <= 0:
                verdict, cls = "within", "ok"
            elif not self._over(t):
                verdict, cls = f"within tolerance (+{dur(over)})", "ok"
            else:
                verdict, cls = f"{dur(over)} over", "over"
        else:
            verdict, cls = "—", "neutral"
        garp = "—"
        if "garp_delay" in t:
            gd = t.get("garp_delay")
            garp = dur(float(gd)) if is_num(gd) else "none seen"
        return TakeoverRow(
            at=self.clock(t.get("at")),
            source=str(t.get("from") or "—"),
            target=str(t.get("to") or "—"),
            cause=str(t.get("cause") or "—"),
            gap=dur(float(gap)) if is_num(gap) else "—",
            allowed=dur(float(allowed)) if is_num(allowed) else "—",
            verdict=verdict,
            verdict_cls=cls,
            garp=garp,
        )

    # --------------------------------------------------------------------- words

    def _garp_clause(self, gd: _Group, t: Mapping[str, Any], until: float) -> str:
        g, routers = gd.g, gd.routers
        target = str(t.get("to"))
        at = float(t["at"])
        garps = [
            x for x in _list(g.get("garps"))
            if isinstance(x, dict) and str(x.get("router")) == target and is_num(x.get("time"))
            and at - GARP_BURST_S <= float(x["time"]) < until
        ]  # fmt: skip
        word = _announce_word(g.get("family"), str(garps[0].get("kind", "")) if garps else "")
        ips = sorted({str(x.get("ip")) for x in garps}, key=ip_key)
        if not ips:
            ips = sorted(
                {str(v) for r in routers if str(r.get("ip")) == target for v in _list(r.get("vips"))},
                key=ip_key,
            )
        ip_text = f" for {', '.join(ips)}" if ips else ""
        delay: float | None = None
        if "garp_delay" in t:
            if not is_num(t.get("garp_delay")):
                return f"no {word} from it was seen"
            delay = float(t["garp_delay"])
        elif garps:
            delay = min(float(x["time"]) for x in garps) - at
        elif "garps" in g:
            return f"no {word} from it was seen"
        if delay is None:
            return ""
        text = f"it sent {word}{ip_text} {dur(abs(delay))} {'after' if delay >= 0 else 'before'} that"
        if garps:
            bursts = _bursts([float(x["time"]) for x in garps])
            text += f" ({len(garps)} packet{'s' if len(garps) != 1 else ''}"
            if len(bursts) > 1:
                text += f" in {len(bursts)} bursts, {dur(bursts[1][0] - bursts[0][0])} apart"
            text += ")"
        return text

    def group_summary(self, gd: _Group, vips: Sequence[VipView]) -> list[str]:
        """The group's story in plain sentences, in time order."""
        routers, timeline, takeovers, findings = gd.routers, gd.timeline, gd.takeovers, gd.findings
        c = self.clock
        out: list[tuple[float, int, str]] = []
        interval = max((_num(r.get("advert_int"), 1.0) for r in routers), default=1.0)
        if not timeline:
            out.append((self.t0, 0, "No router advertised as master during the capture."))
        else:
            first = timeline[0]
            fs = float(first["start"])
            if fs - self.t0 <= 3 * interval + 1:
                out.append(
                    (
                        fs,
                        0,
                        f"{first.get('master')} was master from the start of the capture (first advert at {c(fs)}).",
                    )
                )
            else:
                out.append((fs, 0, f"{first.get('master')} became master at {c(fs)}."))
        for i, t in enumerate(takeovers):
            if i == SUMMARY_MAX_TAKEOVERS:
                rest = len(takeovers) - i
                out.append(
                    (
                        float(t["at"]),
                        1,
                        f"… and {rest} more takeover{'s' if rest != 1 else ''} (see the takeovers table).",
                    )
                )
                break
            out.append((float(t["at"]), 1, self._takeover_sentence(gd, t)))
        split = [f for f in findings if f.get("kind") == "split_brain"]
        for i, x in enumerate(timeline):
            for y in timeline[i + 1 :]:
                if str(x.get("master")) == str(y.get("master")):
                    continue
                xs, xe = float(x["start"]), _num(x.get("end"), self.t1)
                ys, ye = float(y["start"]), _num(y.get("end"), self.t1)
                lo, hi = max(xs, ys), min(xe, ye)
                if hi <= lo:
                    continue
                covered = any(_num(f.get("start"), -1) <= hi and _num(f.get("end"), -1) >= lo for f in split)
                if not covered and hi - lo <= 1.5 * interval:
                    continue  # a normal preemption hand-over
                late, early = (y, x) if ys >= xs else (x, y)
                ending = y if ye <= xe else x
                text = (
                    f"At {c(lo)} {late.get('master')} also began advertising as master while "
                    f"{early.get('master')} still was: both were master for {dur(hi - lo)}"
                    + (" (split brain)" if covered else "")
                )
                reason = ending.get("end_reason")
                if hi < self.t1 - 1e-6:
                    how = {
                        "resign": "resigned (priority 0)",
                        "timeout": "stopped advertising",
                        "preempted": "was preempted",
                    }.get(str(reason), "stopped")
                    text += f", until {ending.get('master')} {how} at {c(hi)}."
                else:
                    text += ", until the end of the capture."
                out.append((lo, 2, text))
        taken_from = {(str(t.get("from")), round(float(t["at"]), 3)) for t in takeovers}
        for iv in timeline:
            if iv.get("end_reason") != "timeout" or not is_num(iv.get("end")):
                continue
            end = float(iv["end"])
            if any(src == str(iv.get("master")) and at >= end - 1e-6 for src, at in taken_from):
                continue
            later = [float(x["start"]) for x in timeline if float(x["start"]) > end]
            tail = f"the next master appeared at {c(min(later))}" if later else "the group stayed silent"
            out.append(
                (
                    end,
                    3,
                    f"At {c(end)} {iv.get('master')} stopped advertising and no router took over; {tail}.",
                )
            )
        out.extend(self._transient_sentences(gd))
        for vip in vips:
            for s in vip.sentences:
                out.append((self.t1, 4, s))
        at_end = sorted({str(iv.get("master")) for iv in timeline if iv.get("end_reason") == "capture_end"}, key=ip_key)
        if at_end:
            verb = "was" if len(at_end) == 1 else "were both" if len(at_end) == 2 else "were all"
            out.append((self.t1, 5, f"At the end of the capture {' and '.join(at_end)} {verb} master."))
        return [text for _, _, text in sorted(out, key=lambda x: (x[0], x[1], x[2]))]

    def _transient_sentences(self, gd: _Group) -> list[tuple[float, int, str]]:
        """Brief claims (a router advertising as master for a moment while another was master),
        except those of a router a split_brain finding names (a hidden master: the finding tells)."""
        hidden = {str(r) for f in gd.findings if f.get("kind") == "split_brain" for r in _list(f.get("routers"))}
        shown = [t for t in _list(gd.g.get("transients")) if str(t.get("router")) not in hidden]
        out: list[tuple[float, int, str]] = []
        c = self.clock
        for i, t in enumerate(shown):
            first = float(t["first"])
            if i == SUMMARY_MAX_TAKEOVERS:
                rest = len(shown) - i
                out.append((first, 3, f"… and {rest} more brief claim{'s' if rest != 1 else ''} of mastership."))
                break
            n = int(_num(t.get("adverts"), 1))
            names = [str(m) for m in _list(t.get("masters"))]
            masters = (" and ".join(names) + (" were" if len(names) > 1 else " was")) if names else "another router was"
            times = "once" if n == 1 else f"{n} times"
            garps = int(_num(t.get("garps")))
            sent = (
                f", sent {garps} {_announce_word(gd.g.get('family'))} for its VIPs"
                if garps
                else ""
            )
            end = "resigned (priority 0)" if t.get("resigned") else "stopped"
            out.append(
                (
                    first,
                    3,
                    f"At {c(first)} {t.get('router')} (priority {t.get('priority')}) advertised as master {times} "
                    f"while {masters} master{sent} and {end}: a brief claim, not a takeover.",
                )
            )
        return out

    def _takeover_sentence(self, gd: _Group, t: Mapping[str, Any]) -> str:
        c = self.clock
        src, dst = t.get("from") or "the previous master", t.get("to")
        at = float(t["at"])
        gap, allowed = t.get("gap"), t.get("allowed")
        last = at - float(gap) if is_num(gap) else at
        cause = str(t.get("cause"))
        allowance = ""
        if is_num(gap) and is_num(allowed):
            diff = float(gap) - float(allowed)
            if diff <= 0:
                allowance = f", within the {dur(float(allowed))} the protocol allows"
            elif cause != "preempt" and float(gap) <= SlowTakeover().limit(float(allowed)):
                allowance = (
                    f", within the {dur(float(allowed))} the protocol allows"
                    f" (+{dur(diff)}, inside the measurement tolerance)"
                )
            else:
                allowance = f", {dur(diff)} more than the {dur(float(allowed))} the protocol allows"
        if cause == "timeout":
            took = dur(_num(gap))
            head = f"At {c(last)} {src} stopped advertising; {dst} took over {took} later{allowance}"
        elif cause == "resign":
            head = f"At {c(last)} {src} resigned (priority-0 advert); {dst} took over {dur(_num(gap))} later{allowance}"
        elif cause == "preempt":
            head = f"At {c(at)} {dst} preempted {src}"
            if is_num(gap) and float(gap) >= 0:
                head += f"; the hand-over took {dur(float(gap))}{allowance}"
            elif is_num(gap):
                head += f"; both advertised for {dur(-float(gap))}"
        else:
            head = f"At {c(at)} {dst} took over from {src} ({cause})"
        nxt = [float(iv["start"]) for iv in gd.timeline if float(iv["start"]) > at + 1e-6]
        garp = self._garp_clause(gd, t, min(nxt, default=self.t1 + 1))
        return head + (f"; {garp}." if garp else ".")

    # --------------------------------------------------------------------- charts

    def _bands(self, findings: Sequence[Mapping[str, Any]]) -> list[Band]:
        bands = []
        for f in findings:
            kind = str(f.get("kind"))
            if kind not in BAND_KINDS or not is_num(f.get("start")):
                continue
            a = float(f["start"])
            b = _num(f.get("end"), a)
            label = f"{kind.replace('_', ' ')} {seconds(b - a)}"
            bands.append(
                Band(
                    a,
                    max(b, a),
                    BAND_KINDS[kind],
                    label,
                    f"{kind}: {self.clock(a)} → {self.clock(b)} ({dur(b - a)})",
                )
            )
        return sorted(bands, key=lambda b: (b.t0, b.t1, b.label))

    def _router_lane(self, gd: _Group, ip: str, router: Mapping[str, Any] | None) -> Lane:
        c, g, colour = self.clock, gd.g, gd.colour[ip]
        own = [iv for iv in gd.timeline if str(iv.get("master")) == ip]
        rows = stack_rows([(float(iv["start"]), _num(iv.get("end"), self.t1)) for iv in own])
        spans = []
        for iv, row in zip(own, rows, strict=True):
            a, b = float(iv["start"]), _num(iv.get("end"), self.t1)
            spans.append(
                Span(
                    a,
                    max(a, b),
                    colour,
                    f"{ip} master {c(a)} → {c(b)} ({dur(b - a)}), ended: {iv.get('end_reason')}",
                    f"master · {seconds(b - a)}",
                    row,
                    short="master",
                )
            )
        marks: list[Mark] = []
        for p in _list(g.get("priority_changes")):
            if isinstance(p, dict) and str(p.get("router")) == ip and is_num(p.get("time")):
                marks.append(
                    Mark(
                        float(p["time"]),
                        "diamond",
                        "prio",
                        f"{ip} priority {p.get('priority')} from {c(p['time'])}{_frames_note([p.get('frame')])}",
                        f"prio {p.get('priority')}",
                        1,
                    )
                )
        for r in _list(g.get("resigns")):
            if isinstance(r, dict) and str(r.get("router")) == ip and is_num(r.get("time")):
                marks.append(
                    Mark(
                        float(r["time"]),
                        "stop",
                        "resign",
                        f"{ip} resigned (priority 0) at {c(r['time'])}{_frames_note([r.get('frame')])}",
                        "prio 0",
                        0,
                    )
                )
        garps = [
            x
            for x in _list(g.get("garps"))
            if isinstance(x, dict) and str(x.get("router")) == ip and is_num(x.get("time"))
        ]
        for burst in _bursts([float(x["time"]) for x in garps]):
            members = [x for x in garps if burst[0] <= float(x["time"]) <= burst[-1]]
            word = "NA" if any(x.get("kind") == "na" for x in members) else "GARP"
            targets = ", ".join(sorted({str(x.get("ip")) for x in members}, key=ip_key))
            marks.append(
                Mark(
                    burst[0],
                    "down",
                    "garp",
                    f"{len(burst)} × {word} for {targets} from {ip} at {c(burst[0])}"
                    + _frames_note(x.get("frame") for x in members),
                    f"{word} ×{len(burst)}",
                    2,
                )
            )
        if any(m.shape == "down" for m in marks) and any(m.shape != "down" for m in marks):
            # GARP bursts get their own row under the priority markers: they often coincide
            marks = [replace(m, row=1) if m.shape == "down" else m for m in marks]
        ticks = gd.ticks.get(ip, ())
        sub = str(router.get("mac") or "") if router else "(not in routers)"
        prios = sorted(p for p in _list((router or {}).get("priorities")) if is_num(p))
        if prios:
            sub = f"{sub} · prio {'/'.join(str(p) for p in prios)}" if sub else f"prio {'/'.join(map(str, prios))}"
        return Lane(ip, sub, colour, tuple(spans), tuple(marks), ticks, max(rows, default=0) + 1)

    def _takeover_lane(self, takeovers: Sequence[Mapping[str, Any]]) -> Lane:
        spans: list[Span] = []
        marks: list[Mark] = []
        for t in takeovers:
            at = float(t["at"])
            gap, allowed = t.get("gap"), t.get("allowed")
            last = at - float(gap) if is_num(gap) and float(gap) > 0 else at
            what = f"{t.get('from')} → {t.get('to')} ({t.get('cause')})"
            if is_num(allowed):
                spans.append(
                    Span(
                        last,
                        last + float(allowed),
                        "allowed",
                        f"{what}: allowed {dur(float(allowed))}",
                        kind="outline",
                    )
                )
            if is_num(gap) and is_num(allowed):
                cls = "over" if self._over(t) else "ok"
                sign = ">" if cls == "over" else ("≤" if float(gap) <= float(allowed) else "≈")
                label = f"{dur(float(gap))} {sign} {dur(float(allowed))}"
            else:
                cls, label = (
                    "neutral",
                    (f"{dur(float(gap))} ({t.get('cause')})" if is_num(gap) else str(t.get("cause"))),
                )
            spans.append(
                Span(
                    last,
                    at,
                    cls,
                    f"{what}: gap {dur(float(gap)) if is_num(gap) else '?'}"
                    f" from {self.clock(last)} to {self.clock(at)}",
                    kind="inner",
                )
            )
            marks.append(Mark(last, "none", cls, what, label, {"over": 0, "ok": 1}.get(cls, 2)))
        return Lane("takeovers", "gap vs allowance", "neutral", tuple(spans), tuple(marks))

    def _chips(self, takeovers: Sequence[Mapping[str, Any]], bands: Sequence[Band], epoch: float) -> list[ZoomChip]:
        chips = []
        for t in takeovers:
            a, b = self._event_window(t)
            chips.append(
                ZoomChip(
                    f"{t.get('cause')} {self.clock(t['at'])[:-4]}",
                    f"{a - epoch:.3f}",
                    f"{b - epoch:.3f}",
                    "over" if self._over(t) else "plain",
                )
            )
        for band in bands:
            chips.append(
                ZoomChip(
                    f"{band.label.rsplit(' ', 2)[0]} {self.clock(band.t0)[:-4]}",
                    f"{band.t0 - 5 - epoch:.3f}",
                    f"{band.t1 + 8 - epoch:.3f}",
                    band.cls,
                )
            )
        return sorted(chips, key=lambda ch: (float(ch.a), ch.label))

    @staticmethod
    def _over(t: Mapping[str, Any]) -> bool:
        """Gap beyond the allowance: for timeouts and resigns beyond the slow_takeover detector's
        tolerance (so the report and the findings agree), for a preemption beyond one interval."""
        gap, allowed = t.get("gap"), t.get("allowed")
        if not (is_num(gap) and is_num(allowed)):
            return False
        if t.get("cause") == "preempt":
            return float(gap) > float(allowed)
        return float(gap) > SlowTakeover().limit(float(allowed))

    @staticmethod
    def _event_window(t: Mapping[str, Any]) -> tuple[float, float]:
        at = float(t["at"])
        last = at - _num(t.get("gap"))
        return min(last, at) - 4.0, max(at, last + _num(t.get("allowed"))) + 8.0

    def group_chart(self, gd: _Group, window: tuple[float, float] | None = None, suffix: str = "") -> ChartView:
        """The group's mastership chart over ``window`` (default: the whole capture)."""
        g, takeovers = gd.g, gd.takeovers
        t0, t1 = window or (self.t0, self.t1)
        by_ip = {str(r.get("ip")): r for r in gd.routers}
        lanes = [self._router_lane(gd, ip, by_ip.get(ip)) for ip in gd.ips]
        if takeovers:
            lanes.append(self._takeover_lane(takeovers))
        bands = self._bands(gd.findings)
        chart_id = f"{gd.anchor}-chart{suffix}"
        title = f"Mastership timeline of VRID {g.get('vrid')} on {g.get('segment')}"
        chart = Chart(chart_id, title, t0, t1, tuple(lanes), tuple(bands))
        caption = f"{self.clock(t0)} → {self.clock(t1)} ({seconds(t1 - t0)})"
        return ChartView(chart_id, caption, render_chart(chart), self._chips(takeovers, bands, t0))

    def closeups(self, gd: _Group) -> list[ChartView]:
        """Static charts around each event, for long captures (useful on paper and without script)."""
        if self.t1 - self.t0 < CLOSEUP_MIN_SPAN_S:
            return []
        windows: list[tuple[bool, float, float]] = []
        for t in gd.takeovers:
            a, b = self._event_window(t)
            windows.append((self._over(t), a, b))
        for band in self._bands(gd.findings):
            windows.append((True, band.t0 - 5.0, band.t1 + 8.0))
        merged: list[list[Any]] = []
        for important, a, b in sorted(windows, key=lambda w: (w[1], w[2])):
            if merged and a <= merged[-1][2]:
                merged[-1][2] = max(merged[-1][2], b)
                merged[-1][0] = merged[-1][0] or important
            else:
                merged.append([important, a, b])
        chosen = sorted(merged, key=lambda w: (not w[0], w[1]))[:CLOSEUP_MAX]
        out = []
        for i, (_, a, b) in enumerate(sorted(chosen, key=lambda w: w[1])):
            window = (max(a, self.t0), min(b, self.t1))
            out.append(self.group_chart(gd, window, f"-z{i + 1}"))
        return out

    # --------------------------------------------------------------------- virtual IPs

    def vip_view(self, anchor: str, vip: str, gd: _Group | None) -> VipView:
        """One address's layer-2 ownership against the master (``gd`` None: not a VIP of any group)."""
        g = gd.g if gd else None
        timeline = gd.timeline if gd else []
        colour = gd.colour if gd else {}
        mac_router = gd.mac_router if gd else {}
        routers = gd.routers if gd else []
        c = self.clock
        owners = sorted(
            (o for o in self.owners if str(o.get("ip")) == vip and is_num(o.get("start"))),
            key=lambda o: (float(o["start"]), str(o.get("mac"))),
        )
        mac_of = {str(r.get("ip")): str(r.get("mac") or "").lower() for r in routers}
        masters = [(float(iv["start"]), _num(iv.get("end"), self.t1), str(iv.get("master"))) for iv in timeline]
        claims = [(float(o["start"]), _num(o.get("end"), self.t1), str(o.get("mac") or "").lower(), o) for o in owners]
        # piecewise comparison of who owns the VIP at L2 with which MAC(s) the master(s) use
        cuts = sorted({self.t0, self.t1, *(x for m in masters for x in m[:2]), *(x for cl in claims for x in cl[:2])})
        segments: list[tuple[float, float, str]] = []  # (start, end, problem)
        for a, b in itertools.pairwise(cuts):
            mid = (a + b) / 2
            own = sorted({cl[2] for cl in claims if cl[0] <= mid < cl[1]})
            mast = {mac_of.get(m[2], "") for m in masters if m[0] <= mid < m[1]}
            problem = ""
            if len(own) > 1:
                problem = f"{len(own)} MACs claim it: {', '.join(own)}"
            elif own and mast and own[0] not in mast:
                holders = ", ".join(sorted(m[2] for m in masters if m[0] <= mid < m[1]))
                problem = f"owned by {own[0]} while {holders} was master"
            if problem and segments and segments[-1][2] == problem and abs(segments[-1][1] - a) < 1e-9:
                segments[-1] = (segments[-1][0], b, problem)
            elif problem:
                segments.append((a, b, problem))
        conflicts = [s for s in segments if s[1] - s[0] >= CONFLICT_GRACE_S]
        rows = []
        for start, end, mac, o in claims:
            router = mac_router.get(mac, "")
            bad = sum(max(0.0, min(end, s[1]) - max(start, s[0])) for s in conflicts)
            if bad > 0:
                status, cls = f"conflict for {dur(bad)}", "over"
            elif not masters:
                status, cls = "no master known", "neutral"
            else:
                status, cls = "matches master", "ok"
            rows.append(OwnerRow(
                colour=colour.get(router, "cu"), mac=str(o.get("mac")), router=router or "not a group router",
                start=c(start), end=c(end), length=dur(end - start), via=str(o.get("via") or "—"),
                status=status, status_cls=cls,
            ))  # fmt: skip
        sentences = []
        for a, b, problem in conflicts:
            mac = problem.split()[2] if problem.startswith("owned by") else ""
            who = f" ({mac_router[mac]})" if mac in mac_router else ""
            tail = "until the end of the capture" if b >= self.t1 - 1e-6 else f"until {c(b)}"
            if mac:
                holders = problem.split(" while ", 1)[1]
                sentences.append(
                    f"{vip} was answered at layer 2 by {mac}{who} from {c(a)} {tail} ({dur(b - a)}), "
                    f"although {holders}."
                )
            else:
                sentences.append(f"{vip}: {problem} from {c(a)} {tail} ({dur(b - a)}).")
        # chart: master's MAC lane against the owner lane
        master_rows = stack_rows([(m[0], m[1]) for m in masters])
        mspans = tuple(
            Span(a, max(a, b), colour.get(ip, "cu"), f"{ip} master {c(a)} → {c(b)}", mac_of.get(ip) or ip, row)
            for (a, b, ip), row in zip(masters, master_rows, strict=True)
        )
        owner_rows = stack_rows([(cl[0], cl[1]) for cl in claims])
        ospans = tuple(
            Span(
                a,
                max(a, b),
                colour.get(mac_router.get(mac, ""), "cu"),
                f"{o.get('mac')} owns {vip} {c(a)} → {c(b)} (learnt via {o.get('via')})",
                f"{o.get('mac')} ({o.get('via')})",
                row,
                short=str(o.get("mac")),
            )
            for (a, b, mac, o), row in zip(claims, owner_rows, strict=True)
        )
        garps = [
            x
            for x in _list((g or {}).get("garps"))
            if isinstance(x, dict) and str(x.get("ip")) == vip and is_num(x.get("time"))
        ]
        marks = []
        for burst in _bursts([float(x["time"]) for x in garps]):
            members = [x for x in garps if burst[0] <= float(x["time"]) <= burst[-1]]
            word = "NA" if any(x.get("kind") == "na" for x in members) else "GARP"
            macs = ", ".join(sorted({str(x.get("mac")) for x in members}))
            marks.append(
                Mark(
                    burst[0],
                    "down",
                    "garp",
                    f"{len(burst)} × {word} from {macs} at {c(burst[0])}"
                    + _frames_note(x.get("frame") for x in members),
                    f"{word} ×{len(burst)}",
                    2,
                )
            )
        family = str((g or {}).get("family") or ("ipv6" if ":" in vip else "ipv4"))
        lanes = []
        if g is not None:
            lanes.append(
                Lane(
                    "master's MAC",
                    "from VRRP adverts",
                    "neutral",
                    mspans,
                    (),
                    (),
                    max(master_rows, default=0) + 1,
                )
            )
        lanes.append(
            Lane(
                "ND owner" if family == "ipv6" else "ARP owner",
                f"who answers for {vip}",
                "neutral",
                ospans,
                tuple(marks),
                (),
                max(owner_rows, default=0) + 1,
                title=vip,
            )
        )
        bands = tuple(
            Band(
                a,
                b,
                "critical",
                f"{'owner ≠ master' if p.startswith('owned') else 'conflict'} {seconds(b - a)}",
                f"{p}: {c(a)} → {c(b)}",
            )
            for a, b, p in conflicts
        )
        chart = Chart(
            f"{anchor}-chart",
            f"Layer-2 owner of {vip} against the VRRP master",
            self.t0,
            self.t1,
            tuple(lanes),
            bands,
        )
        caption = f"{c(self.t0)} → {c(self.t1)} ({seconds(self.t1 - self.t0)})"
        chips = [
            ZoomChip(
                f"conflict {c(a)[:-4]}",
                f"{a - 5 - self.t0:.3f}",
                f"{min(b, a + 30) + 5 - self.t0:.3f}",
                "critical",
            )
            for a, b, _ in conflicts
        ]
        return VipView(anchor, vip, ChartView(f"{anchor}-chart", caption, render_chart(chart), chips), rows, sentences)

    # --------------------------------------------------------------------- whole report

    def build(self, title: str | None, generated_at: str | None) -> ReportView:
        files = [str(f) for f in _list(self.inp.get("files"))]
        counts = [
            (label, str(self.inp[key]))
            for key, label in (("packets", "packets"), ("vrrp", "VRRP"), ("arp", "ARP"), ("nd", "ND"),
                               ("malformed", "malformed"), ("capture_loss", "lost by capture"))
            if is_num(self.inp.get(key))
        ]  # fmt: skip
        groups = [self.group_view(g) for g in self.groups]
        vips = {v.ip for gv in groups for v in gv.vips}
        other = sorted({str(o.get("ip")) for o in self.owners} - vips, key=ip_key)
        others = [self.vip_view(f"ip{i + 1}", ip, None) for i, ip in enumerate(other)]
        findings = [self.finding_view(i, f) for i, f in enumerate(self.sorted_findings())]
        sev_counts = [(s, sum(1 for f in findings if f.severity == s)) for s in SEVERITY_ORDER]
        return ReportView(
            title=title or ("vrrpscope report: " + ", ".join(files) if files else "vrrpscope report"),
            generated_at=generated_at,
            files=files,
            start=iso(self.t0),
            end=iso(self.t1),
            duration=seconds(self.t1 - self.t0),
            counts=counts,
            problems=[str(p) for p in _list(self.inp.get("problems"))],
            findings=findings,
            severity_counts=[(s, n) for s, n in sev_counts if n],
            groups=groups,
            other_ips=others,
            renamed=[(str(a), str(b)) for a, b in _dict(self.inp.get("segments_renamed")).items()],
        )


def build_view(analysis: Mapping[str, Any], *, title: str | None = None, generated_at: str | None = None) -> ReportView:
    """Build the report view of ``analysis`` (a DESIGN.md ``analyze --format json`` dict)."""
    return _Report(analysis).build(title, generated_at)
