"""Inline SVG timeline charts for the HTML report, built as escaped text (no SVG library).

A :class:`Chart` is a stack of :class:`Lane` objects over one time window: one lane per router
(mastership bars, advert ticks, priority-change / resign / GARP markers), a takeover lane (each gap
drawn inside the allowance the protocol gives, red when over), and for a virtual IP the master's MAC
against the layer-2 owner. :class:`Band` objects shade a time range across all lanes (split brain,
an owner that is not the master). :func:`render_chart` turns a chart into SVG markup.

Every string that ends up in the SVG (labels, tooltips, attribute values) goes through
:func:`clean` (control characters and lone surrogates made visible) and ``markupsafe.escape``, so a
hostile file name or MAC can neither break the markup nor inject script. The output is a pure
function of its input: fixed number formatting, no clock, no randomness.

The report's inline script can zoom and pan a chart: the SVG root carries ``data-epoch`` (absolute
start), ``data-a``/``data-b`` (window, seconds relative to the epoch) and the plot's pixel range;
each time-placed element carries its time(s) relative to the epoch (``data-a``, ``data-b``,
``data-ts`` for advert ticks) so the script can place it again without knowing what it shows.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from vrrpscope.output.safe import terminal_safe

WIDTH = 1100  #: viewBox width; the chart scales to the page width
LABEL_W = 230  #: left column with the lane labels
PLOT_X0 = LABEL_W + 8  #: first pixel of the time axis
PLOT_X1 = WIDTH - 34  #: last pixel of the time axis (room for half a time label on the right)
TOP = 20  #: room above the first lane for band labels
AXIS_H = 30  #: room below the last lane for the time axis
EVENT_ROW = 15  #: height of a lane's marker row
BAR_H = 16  #: height of one bar row
BAR_GAP = 4  #: vertical space between bar rows
TICK_ROW = 11  #: height of the advert-tick row
LANE_PAD = 6  #: space between lanes
CHAR_W = 6.4  #: estimated width of one character of the 11 px label font (label collision checks)
MIN_TICK_PX = 88  #: minimum distance between two labelled axis ticks
MAX_AXIS_TICKS = 40  #: hard bound on axis ticks (the script uses the same)
TICK_EPS = 0.0005  #: an advert tick this close to a window edge is drawn (times are kept to the ms)
#: candidate axis steps in seconds (ms up to a day), the same list the inline script uses
AXIS_STEPS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
)  # fmt: skip

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: object) -> str:
    """Return ``text`` as a string with control characters and lone surrogates shown as escapes.

    Control characters (C0, DEL, C1) become ``\\xNN`` (as on the terminal) and a lone surrogate,
    which cannot be encoded to UTF-8, becomes ``\\udXXX``; HTML escaping is done afterwards.
    """
    s = terminal_safe(str(text))
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def esc(text: object) -> Markup:
    """:func:`clean`, then HTML/XML-escape ``text``."""
    return escape(clean(text))


def num(x: float) -> str:
    """Format a coordinate compactly and deterministically (2 decimals, no trailing zeros)."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def rel(x: float) -> str:
    """Format a time relative to the chart epoch for the zoom script (0.1 ms resolution)."""
    s = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def clock(t: float, step: float = 1.0) -> str:
    """UTC time of day for an axis label; with decimals when the axis step is below a second."""
    decimals = 0 if step >= 1 else min(3, math.ceil(-math.log10(step) - 1e-9))
    scale = 10**decimals
    try:
        whole, frac = divmod(round(t * scale), scale)
        base = time.strftime("%H:%M:%S", time.gmtime(whole))
    except (OverflowError, OSError, ValueError):  # not a capture time (a broken analysis)
        return f"{t:.6g}"
    return f"{base}.{frac:0{decimals}d}" if decimals else base


def seconds(d: float) -> str:
    """A duration for a chart label: ``0.61 s``, ``3.61 s``, ``42 s``, ``2 min 05 s``, ``1 h 02 min``."""
    if d < 10:
        return f"{d:.2f} s"
    if d < 100:
        return f"{d:.1f} s"
    if d < 3600:
        m, s = divmod(round(d), 60)
        return f"{m} min {s:02d} s" if m else f"{s} s"
    h, rest = divmod(round(d), 3600)
    return f"{h} h {rest // 60:02d} min"


def axis_step(span: float, width: float = PLOT_X1 - PLOT_X0) -> float:
    """The smallest :data:`AXIS_STEPS` step that keeps labelled ticks :data:`MIN_TICK_PX` apart."""
    for step in AXIS_STEPS:
        if span / step * MIN_TICK_PX <= width:
            return step
    return AXIS_STEPS[-1] * math.ceil(span / AXIS_STEPS[-1] * MIN_TICK_PX / width)


@dataclass(frozen=True, slots=True)
class Span:
    """A bar from ``t0`` to ``t1`` in bar row ``row`` of a lane.

    ``kind``: ``bar`` (filled), ``outline`` (an allowance drawn as a dashed box) or ``inner`` (a
    thinner bar drawn inside an outline). ``cls`` is the CSS class (colour); ``label`` is drawn
    inside the bar when it fits, else ``short`` if that fits; ``title`` is the tooltip.
    """

    t0: float
    t1: float
    cls: str
    title: str
    label: str = ""
    row: int = 0
    kind: str = "bar"
    short: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    """A point event in a lane's marker row.

    ``shape`` is ``down`` (GARP/NA), ``diamond`` (priority change), ``stop`` (priority-0 resign) or
    ``none`` (a label only); ``label`` is drawn beside it when there is room, the more important
    (lower ``prio``) labels first. ``row`` picks one of the lane's marker rows (0 is the top one),
    so that e.g. priority changes and GARP bursts at the same moment do not hide each other.
    """

    t: float
    shape: str
    cls: str
    title: str
    label: str = ""
    prio: int = 5
    row: int = 0


@dataclass(frozen=True, slots=True)
class Lane:
    """One horizontal lane: a two-line label on the left, then markers, bars and advert ticks."""

    label: str
    sublabel: str
    cls: str
    spans: tuple[Span, ...] = ()
    marks: tuple[Mark, ...] = ()
    ticks: tuple[float, ...] = ()
    rows: int = 1
    title: str = ""

    @property
    def event_rows(self) -> int:
        """Number of marker rows (0 without marks)."""
        return max((m.row for m in self.marks), default=-1) + 1

    @property
    def height(self) -> int:
        """Pixel height: marker row (if any marks), bar rows, tick row (if any ticks)."""
        h = self.rows * (BAR_H + BAR_GAP)
        h += self.event_rows * EVENT_ROW if self.marks else 4
        h += TICK_ROW if self.ticks else 0
        return h


@dataclass(frozen=True, slots=True)
class Band:
    """A time range shaded across all lanes, with a label above the first lane."""

    t0: float
    t1: float
    cls: str
    label: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A timeline chart over the window ``t0``..``t1`` (epoch seconds, capture clock)."""

    chart_id: str
    title: str
    t0: float
    t1: float
    lanes: tuple[Lane, ...]
    bands: tuple[Band, ...] = ()

    @property
    def height(self) -> int:
        """Total pixel height of the SVG."""
        return TOP + sum(lane.height + LANE_PAD for lane in self.lanes) + AXIS_H


def stack_rows(intervals: Sequence[tuple[float, float]]) -> list[int]:
    """Greedy interval partitioning: a row index per interval so that overlapping ones never share a row.

    ``intervals`` must be sorted by start. Used to stack two simultaneous masters or owners.
    """
    ends: list[float] = []
    rows: list[int] = []
    for a, b in intervals:
        for i, e in enumerate(ends):
            if a >= e:
                ends[i] = b
                rows.append(i)
                break
        else:
            ends.append(b)
            rows.append(len(ends) - 1)
    return rows


class _Scale:
    """Maps capture time to x pixels for one chart window."""

    def __init__(self, t0: float, t1: float) -> None:
        span = t1 - t0 if t1 - t0 > 0 else 1.0
        self.t0 = t0
        self.t1 = t0 + span
        self.k = (PLOT_X1 - PLOT_X0) / span

    def x(self, t: float) -> float:
        """Pixel x of time ``t``, clamped a little outside the plot (the clip path hides the rest)."""
        return min(max(PLOT_X0 + (t - self.t0) * self.k, PLOT_X0 - 50.0), PLOT_X1 + 50.0)


def _attrs(**attrs: object) -> str:
    """Render attributes (``class_`` -> ``class``, ``data_a`` -> ``data-a``); None values are dropped.

    Values are escaped, except :class:`Markup` ones: numbers-only strings this module built itself.
    """
    out = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, Markup):
            out.append(f' {name}="{value}"')
            continue
        text = num(value) if isinstance(value, float) else value
        out.append(f' {name}="{esc(text)}"')
    return "".join(out)


def _title(text: str) -> str:
    return f"<title>{esc(text)}</title>" if text else ""


def _fit(text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels of label font."""
    limit = max(int(width / CHAR_W), 1)
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _axis(scale: _Scale, y0: float, y1: float) -> str:
    step = axis_step(scale.t1 - scale.t0)
    first = math.ceil(scale.t0 / step - 1e-9)
    out = ['<g class="z-axis">']
    out.append(f'<line class="axis" x1="{num(PLOT_X0)}" x2="{num(PLOT_X1)}" y1="{num(y1)}" y2="{num(y1)}"/>')
    k = first
    # bounded: at most ~12 ticks fit, and absurd times (1e300) must not loop forever
    while k * step <= scale.t1 + 1e-9 and k - first < MAX_AXIS_TICKS:
        t = k * step
        x = scale.x(t)
        out.append(f'<line class="grid" x1="{num(x)}" x2="{num(x)}" y1="{num(y0)}" y2="{num(y1 + 4)}"/>')
        out.append(f'<text class="tick" x="{num(x)}" y="{num(y1 + 17)}">{esc(clock(t, step))}</text>')
        k += 1
    out.append("</g>")
    return "".join(out)


def _span(scale: _Scale, span: Span, y: float, epoch: float) -> str:
    x0, x1 = scale.x(span.t0), scale.x(span.t1)
    if span.kind == "inner":
        y, h, minw = y + 3, BAR_H - 6, 2.0
    elif span.kind == "outline":
        y, h, minw = y, BAR_H, 1.0
    else:
        h, minw = BAR_H, 2.0
    w = max(x1 - x0, minw)
    cls = f"z-span {span.kind} {span.cls}"
    attrs = _attrs(
        class_=cls,
        x=x0,
        y=y,
        width=w,
        height=float(h),
        rx=2.0 if span.kind == "bar" else 1.0,
        data_a=rel(span.t0 - epoch),
        data_b=rel(span.t1 - epoch),
        data_minw=num(minw),
    )
    out = f"<rect{attrs}>{_title(span.title)}</rect>"
    labels = [text for text in (span.label, span.short) if text]
    if labels:
        # the first label that fits the visible part of the bar is shown (the script redoes this on zoom)
        room = min(x1, PLOT_X1) - max(x0, PLOT_X0)
        shown = next((text for text in labels if _label_fits(text, room)), None)
        texts = ""
        for text in labels:
            text_attrs = _attrs(
                class_="inbar" + ("" if text is shown else " hidden"),
                x=max(x0, PLOT_X0) + 4,
                y=y + h - 4.5,
                data_len=str(len(text)),
            )
            texts += f"<text{text_attrs}>{esc(text)}</text>"
        group = _attrs(class_="z-in", data_a=rel(span.t0 - epoch), data_b=rel(span.t1 - epoch))
        out += f"<g{group}>{texts}</g>"
    return out


def _label_fits(text: str, room: float) -> bool:
    return len(text) * CHAR_W + 8 <= room


_SHAPES = {
    "down": "M-4.5 -5h9l-4.5 8z",
    "diamond": "M0 -5.5l5 5.5-5 5.5-5-5.5z",
    "stop": "M-4 -4h8v8h-8z",
}


@dataclass(frozen=True, slots=True)
class _Label:
    """A label to place beside a point: x of the point, gap to the text, text length, importance."""

    x: float
    off: float
    chars: int
    prio: int
    shape: bool


def place_labels(labels: Sequence[_Label], *, both_sides: bool = True) -> list[str]:
    """Decide for each label: ``"r"`` (right of its point), ``"l"`` (left) or ``""`` (hidden).

    Labels are placed by importance (``prio``, lower first), then left to right; a label may not
    cover another label or another point's marker, nor run off the plot. The inline script runs the
    same algorithm after each zoom.
    """
    occupied = [(lab.x - 6.0, lab.x + 6.0) for lab in labels if lab.shape]
    sides = [""] * len(labels)
    order = sorted(range(len(labels)), key=lambda i: (labels[i].prio, labels[i].x))
    for i in order:
        lab = labels[i]
        if not lab.chars or not PLOT_X0 - 2 <= lab.x <= PLOT_X1:
            continue
        w = lab.chars * CHAR_W
        options = [("r", lab.x + lab.off, lab.x + lab.off + w)]
        if both_sides:
            options.append(("l", lab.x - lab.off - w, lab.x - lab.off))
        for side, a, b in options:
            if a < PLOT_X0 - 2 or b > PLOT_X1 + 12:
                continue
            if any(a < e and s < b for s, e in occupied):
                continue
            occupied.append((a - 3.0, b + 3.0))
            sides[i] = side
            break
    return sides


def _marks(scale: _Scale, marks: Sequence[Mark], y: float, epoch: float) -> str:
    out = []
    ordered = sorted(marks, key=lambda m: (m.t, m.shape, m.label))
    offsets = [0.0 if m.shape not in _SHAPES else 7.0 for m in ordered]
    sides = place_labels(
        [
            _Label(scale.x(m.t), off, len(m.label), m.prio, m.shape in _SHAPES)
            for m, off in zip(ordered, offsets, strict=True)
        ]
    )
    for m, offset, side in zip(ordered, offsets, sides, strict=True):
        x = scale.x(m.t)
        label = ""
        if m.label:
            cls = "mlabel" + ("" if side else " hidden") + (" left" if side == "l" else "")
            label_attrs = _attrs(class_=cls, x=-offset if side == "l" else offset, y=4.0)
            label = f"<text{label_attrs}>{esc(m.label)}</text>"
        g_attrs = _attrs(
            class_=f"z-pt mark {m.cls}",
            transform=f"translate({num(x)} {num(y)})",
            data_a=rel(m.t - epoch),
            data_y=num(y),
            data_len=str(len(m.label)),
            data_off=num(offset),
            data_prio=str(m.prio),
            data_shape="1" if m.shape in _SHAPES else "0",
        )
        shape = f'<path d="{_SHAPES[m.shape]}"/>' if m.shape in _SHAPES else ""
        out.append(f"<g{g_attrs}>{_title(m.title)}{shape}{label}</g>")
    return "".join(out)


def _ticks(scale: _Scale, ticks: Sequence[float], y: float, cls: str, epoch: float) -> str:
    """Advert ticks as one path; ``data-ts`` keeps their times in integer ms from the epoch.

    Only ticks inside the chart window are kept (the script never zooms out of it). A tick within
    half a millisecond of an edge counts as inside, here and in the script alike.
    """
    h = TICK_ROW - 4
    lo, hi = scale.t0 - TICK_EPS, scale.t1 + TICK_EPS
    inside = [t for t in ticks if lo <= t <= hi]
    ys = num(y)
    t0, k = scale.t0, scale.k  # inside the window: no clamping needed (hot loop on long captures)
    d = "".join(f"M{PLOT_X0 + (t - t0) * k:.1f} {ys}v{h}" for t in inside)
    data = " ".join(str(round((t - epoch) * 1000)) for t in inside)
    # d and data-ts hold only digits, dots, spaces, "M" and "v": safe without escaping (and long)
    attrs = _attrs(class_=f"z-ticks ticks {cls}", d=Markup(d or "M0 0"), data_ts=Markup(data), data_y=ys, data_h=str(h))
    return f"<path{attrs}/>"


def render_chart(chart: Chart) -> Markup:
    """Render ``chart`` as an inline ``<svg>`` element (escaped, deterministic)."""
    scale = _Scale(chart.t0, chart.t1)
    epoch = scale.t0
    height = chart.height
    clip = f"clip-{chart.chart_id}"
    svg_attrs = _attrs(
        class_="timeline",
        id=chart.chart_id,
        viewBox=f"0 0 {WIDTH} {height}",
        role="img",
        aria_label=chart.title,
        data_epoch=repr(epoch),
        data_a="0",
        data_b=rel(scale.t1 - epoch),
        data_x0=num(PLOT_X0),
        data_x1=num(PLOT_X1),
        preserveAspectRatio="xMinYMin meet",
    )
    parts: list[str] = [
        f"<svg{svg_attrs}>",
        _title(chart.title),
        f'<defs><clipPath id="{esc(clip)}"><rect x="{num(PLOT_X0)}" y="0" '
        f'width="{num(PLOT_X1 - PLOT_X0)}" height="{height}"/></clipPath></defs>',
    ]
    lanes_y0 = TOP
    lanes_y1 = chart.height - AXIS_H
    # lane backgrounds and labels (outside the clip)
    y = float(TOP)
    lane_tops: list[float] = []
    for i, lane in enumerate(chart.lanes):
        lane_tops.append(y)
        parts.append(
            f'<rect class="lane-bg{" odd" if i % 2 else ""}" x="0" y="{num(y - LANE_PAD / 2)}" '
            f'width="{WIDTH}" height="{num(lane.height + LANE_PAD)}"/>'
        )
        mid = y + lane.height / 2
        parts.append(f'<rect class="swatch {esc(lane.cls)}" x="8" y="{num(mid - 13)}" width="4" height="26" rx="1"/>')
        lab = _fit(lane.label, LABEL_W - 24)
        tip = _title(lane.title or lane.label)
        parts.append(f'<g>{tip}<text class="lane-label" x="18" y="{num(mid - 2)}">{esc(lab)}</text></g>')
        if lane.sublabel:
            sub = _fit(lane.sublabel, LABEL_W - 24)
            parts.append(f'<text class="lane-sub" x="18" y="{num(mid + 12)}">{esc(sub)}</text>')
        y += lane.height + LANE_PAD
    parts.append(_axis(scale, lanes_y0 - 6, lanes_y1))
    parts.append(f'<g clip-path="url(#{esc(clip)})">')
    for band in chart.bands:
        x0, x1 = scale.x(band.t0), scale.x(band.t1)
        band_attrs = _attrs(
            class_=f"z-span band {band.cls}",
            x=x0,
            y=float(lanes_y0 - 6),
            width=max(x1 - x0, 2.0),
            height=float(lanes_y1 - lanes_y0 + 6),
            data_a=rel(band.t0 - epoch),
            data_b=rel(band.t1 - epoch),
            data_minw="2",
        )
        parts.append(f"<rect{band_attrs}>{_title(band.title)}</rect>")
    for lane, top in zip(chart.lanes, lane_tops, strict=True):
        bar_y = top + (lane.event_rows * EVENT_ROW if lane.marks else 4)
        for span in lane.spans:
            parts.append(_span(scale, span, bar_y + span.row * (BAR_H + BAR_GAP), epoch))
        if lane.ticks:
            parts.append(_ticks(scale, lane.ticks, bar_y + lane.rows * (BAR_H + BAR_GAP) - 1, lane.cls, epoch))
        if lane.marks:
            for row in range(lane.event_rows):
                marks = [m for m in lane.marks if m.row == row]
                parts.append(_marks(scale, marks, top + 6.5 + row * EVENT_ROW, epoch))
    parts.append("</g>")
    # band labels go on top, outside the clip, so they stay readable
    ordered = sorted(chart.bands, key=lambda b: (b.t0, b.label))
    xs = [max(scale.x(band.t0), float(PLOT_X0)) for band in ordered]
    sides = place_labels(
        # a band that ended before the window keeps no label
        [
            _Label(x, 0.0, len(b.label) if scale.x(b.t1) >= PLOT_X0 else 0, 0, False)
            for x, b in zip(xs, ordered, strict=True)
        ],
        both_sides=False,
    )
    for band, x, side in zip(ordered, xs, sides, strict=True):
        label_attrs = _attrs(
            class_=f"z-pt blabel {band.cls}" + ("" if side else " hidden"),
            transform=f"translate({num(x)} {num(TOP - 9)})",
            data_a=rel(band.t0 - epoch),
            data_b=rel(band.t1 - epoch),
            data_y=num(TOP - 9),
            data_len=str(len(band.label)),
            data_clamp="1",
            data_off="0",
            data_prio="0",
            data_shape="0",
            data_sides="r",
        )
        parts.append(f"<text{label_attrs}>{esc(band.label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
