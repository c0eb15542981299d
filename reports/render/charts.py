"""Deterministic inline SVG charts for report.pdf (no matplotlib: small, exact, same bytes every run).

Geometry uses floats (presentation only; every figure printed next to a bar is the exact,
rounded value passed in as text). Coordinates are written with one decimal, so the same data
gives the same SVG. Text uses DejaVu Sans, the font the PDF embeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "DejaVu Sans, sans-serif"
STATUS_COLOURS = {
    "pass": "#4a78a8",
    "warn": "#d99a1e",
    "breach": "#c0392b",
    "exempt": "#a0a8b0",
    "": "#4a78a8",
}
AXIS = "#333333"
GRID = "#d8dde3"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # geometry only
    text: str  # the figure printed at the end of the bar
    status: str = ""


@dataclass(frozen=True)
class Threshold:
    value: float
    label: str
    status: str = "warn"


@dataclass(frozen=True)
class Point:
    label: str  # x label (a date)
    value: float
    text: str
    status: str = ""  # breach / warn: the point drawn in that status's colour


def _n(x: float) -> str:
    """A coordinate: one decimal, no "-0.0"."""
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A 1/2/5 x 10^k tick step giving about target_ticks ticks over span."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power


def _tick_text(value: float, step: float, suffix: str) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:,.{decimals}f}{suffix}"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 9,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = AXIS,
) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-family="{FONT}" font-size="{size}" '
        f'text-anchor="{anchor}" font-weight="{weight}" fill="{fill}">{escape(content)}</text>'
    )


# DejaVu Sans's advance widths of the printable ASCII characters, in 1/2048 em (its hmtx
# table); any other character counts as a whole em, the widest of these. Counting characters
# instead (30 at a digit's 0.64 em) let a label of capitals run past the chart's left edge and
# lose its first letter: "G00006" read "00006" (extreme-data review of 2026-12-07).
_ADVANCES = {
    563: "'", 569: "ijl", 604: "IJ", 651: ",. ", 690: "/:;\\|", 721: "f", 739: "-",
    799: "()[]", 803: "t", 821: "!", 842: "r", 942: '"', 1024: "*_`", 1067: "s", 1075: "z",
    1087: "?", 1126: "c", 1141: "L", 1178: "F", 1186: "k", 1212: "vxy", 1235: "P", 1251: "TY",
    1253: "o", 1255: "a", 1260: "e", 1294: "E", 1298: "hnu", 1300: "bdgpqS",
    1303: "0123456789${}", 1343: "K", 1401: "AV", 1403: "XZ", 1405: "B", 1423: "R", 1430: "C",
    1499: "U", 1532: "N", 1540: "H", 1577: "D", 1587: "G", 1597: "&", 1612: "OQ", 1675: "w",
    1716: "#+<=>^~", 1767: "M", 1946: "%", 1995: "m", 2025: "W", 2048: "@",
}  # fmt: skip
_EMS = {c: units / 2048 for units, chars in _ADVANCES.items() for c in chars}
# The room of a bar label: the 170-unit label area less its 6-unit gap, at 8.5 units an em
# (19.3 em), less a little for rounding.
LABEL_EMS = 19.0
ELLIPSIS = "\u2026"  # 1 em
# the class of a bar label's <text>
BAR_LABEL = "bar-label"


def label_ems(text: str) -> float:
    """How wide `text` is in DejaVu Sans, in em (a whole em for a character outside ASCII)."""
    return sum(_EMS.get(c, 1.0) for c in text)


def fit_label(label: str, room: float = LABEL_EMS) -> str:
    """`label`, or its start and end around an ellipsis when wider than `room` em: a UUID group
    id was cut at the left edge of the chart, so the breaching group could not be told
    (outputs review of 2026-12-05); its start and the instrument after it now survive."""
    if label_ems(label) <= room:
        return label
    budget = room - _EMS.get(ELLIPSIS, 1.0)
    head, used = 0, 0.0
    while head < len(label) and used + _EMS.get(label[head], 1.0) <= budget / 2:
        used += _EMS.get(label[head], 1.0)
        head += 1
    tail = len(label)
    while tail > head and used + _EMS.get(label[tail - 1], 1.0) <= budget:
        used += _EMS.get(label[tail - 1], 1.0)
        tail -= 1
    return label[:head] + ELLIPSIS + label[tail:]


def bar_chart(
    bars: Sequence[Bar],
    *,
    axis_label: str,
    thresholds: Sequence[Threshold] = (),
    scale: float = 1.0,
    suffix: str = "",
    width: int = 640,
) -> str:
    """Horizontal bars (one per item, in the order given) with labelled threshold lines.

    `scale` multiplies values for the axis ticks (100 for ratios shown as percent), `suffix`
    follows each tick ("%").
    """
    label_width, value_width, bar_height, gap = 170.0, 90.0, 16.0, 6.0
    # threshold labels sit above the plot, one line each so that close thresholds stay legible
    top = 10.0 + 11.0 * max(1, len(thresholds))
    plot_width = width - label_width - value_width
    rows = max(1, len(bars))
    plot_height = rows * (bar_height + gap)
    height = int(top + plot_height + 40)
    maximum = max([b.value for b in bars] + [t.value for t in thresholds] + [0.0])
    if maximum <= 0:
        maximum = 1.0
    step = nice_step(maximum * scale) / scale
    axis_max = math.ceil(maximum / step) * step
    x_of = lambda v: label_width + plot_width * (v / axis_max)  # noqa: E731

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    # grid and ticks
    ticks = round(axis_max / step)
    for i in range(ticks + 1):
        v = i * step
        x = x_of(v)
        parts.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(top + plot_height)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(
            _text(
                x,
                top + plot_height + 12,
                _tick_text(v * scale, step * scale, suffix),
                size=8,
                anchor="middle",
            )
        )
    parts.append(
        _text(
            label_width + plot_width / 2,
            top + plot_height + 30,
            axis_label,
            size=9,
            anchor="middle",
        )
    )
    # bars; their value labels go on last, each on a white patch over the threshold lines (a
    # regulator's review of 2026-12-06: the 5% warn line ran through "4.00%")
    values: list[str] = []
    for i, bar in enumerate(bars):
        y = top + i * (bar_height + gap)
        colour = STATUS_COLOURS.get(bar.status, STATUS_COLOURS[""])
        w = max(0.0, x_of(bar.value) - label_width)
        label = _text(
            label_width - 6, y + bar_height - 4, fit_label(bar.label), size=8.5, anchor="end"
        )
        # marked, so that a label whose characters no font has (shown as "[U+6C38]", 8
        # characters for 1) is fitted again once expanded (reports.render.pdf)
        parts.append(label.replace("<text ", f'<text class="{BAR_LABEL}" ', 1))
        parts.append(
            f'<rect x="{_n(label_width)}" y="{_n(y)}" width="{_n(w)}" height="{_n(bar_height)}" '
            f'fill="{colour}"/>'
        )
        text_x, baseline = label_width + w + 4, y + bar_height - 4
        patch = 0.64 * 8.5 * len(bar.text) + 2
        values.append(
            f'<rect x="{_n(text_x - 1)}" y="{_n(baseline - 8.5)}" width="{_n(patch)}" '
            f'height="{_n(10.5)}" fill="#ffffff" fill-opacity="0.9"/>'
            + _text(text_x, baseline, bar.text, size=8.5)
        )
    # axis line
    parts.append(
        f'<line x1="{_n(label_width)}" y1="{_n(top)}" x2="{_n(label_width)}" '
        f'y2="{_n(top + plot_height)}" stroke="{AXIS}" stroke-width="0.8"/>'
    )
    # thresholds: the label of the i-th threshold on the i-th line above the plot
    for i, t in enumerate(thresholds):
        x = x_of(t.value)
        label_y = 9.0 + 11.0 * i
        colour = STATUS_COLOURS.get(t.status, STATUS_COLOURS["warn"])
        parts.append(
            f'<line x1="{_n(x)}" y1="{_n(label_y + 2)}" x2="{_n(x)}" y2="{_n(top + plot_height)}" '
            f'stroke="{colour}" stroke-width="1.2" stroke-dasharray="4 3"/>'
        )
        parts.append(_text(x + 3, label_y, t.label, size=8, anchor="start", fill=colour))
    parts.extend(values)
    parts.append("</svg>")
    return "".join(parts)


def _label_backing(x: float, baseline: float, content: str, size: float) -> str:
    """A white patch behind a centred value label, drawn over the reference lines and the data
    line: a ratio just under the 100% minimum stays legible where the lines cross its label.
    (DejaVu Sans digits are about 0.64 em wide.)"""
    width = 0.64 * size * len(content) + 2
    return (
        f'<rect x="{_n(x - width / 2)}" y="{_n(baseline - size)}" width="{_n(width)}" '
        f'height="{_n(size + 2)}" fill="#ffffff" fill-opacity="0.9"/>'
    )


def line_chart(
    points: Sequence[Point],
    *,
    axis_label: str,
    references: Sequence[Threshold] = (),
    steps: Sequence[float | None] = (),
    steps_label: str = "",
    scale: float = 1.0,
    suffix: str = "",
    width: int = 640,
    height: int = 220,
) -> str:
    """A line over dated points (evenly spaced) with labelled horizontal reference lines, and
    optionally a stepped reference (`steps`: one level per point, None where unknown, drawn in
    the warn colour across each point's slot, labelled `steps_label`)."""
    left, right, top, bottom = 64.0, 20.0, 16.0, 46.0
    plot_width, plot_height = width - left - right, height - top - bottom
    known_steps = [v for v in steps if v is not None]
    values = [p.value for p in points] + [r.value for r in references] + known_steps
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        high, low = high + 0.5 / scale, low - 0.5 / scale
    step = nice_step((high - low) * scale) / scale
    axis_low = math.floor(low / step) * step
    axis_high = math.ceil(high / step) * step
    y_of = lambda v: top + plot_height * (1 - (v - axis_low) / (axis_high - axis_low))  # noqa: E731
    count = len(points)
    x_of = lambda i: left + (plot_width * (i + 0.5) / count if count else 0)  # noqa: E731

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    ticks = round((axis_high - axis_low) / step)
    for i in range(ticks + 1):
        v = axis_low + i * step
        y = y_of(v)
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_width)}" y2="{_n(y)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(
            _text(
                left - 5, y + 3, _tick_text(v * scale, step * scale, suffix), size=8, anchor="end"
            )
        )
    parts.append(
        f'<text x="12" y="{_n(top + plot_height / 2)}" font-family="{FONT}" font-size="9" '
        f'text-anchor="middle" fill="{AXIS}" '
        f'transform="rotate(-90 12 {_n(top + plot_height / 2)})">{escape(axis_label)}</text>'
    )
    for i, r in enumerate(sorted(references, key=lambda r: r.value)):
        y = y_of(r.value)
        colour = STATUS_COLOURS.get(r.status, STATUS_COLOURS["warn"])
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_width)}" y2="{_n(y)}" '
            f'stroke="{colour}" stroke-width="1.1" stroke-dasharray="4 3"/>'
        )
        # the lowest reference is labelled below its line, the others above: close lines
        # (100% and an early warning at 110%) keep readable labels
        # (unless below would reach the date labels under the plot: a 100% line on the axis)
        below = i == 0 and len(references) > 1 and y + 10 <= top + plot_height - 2
        label_y = y + 10 if below else y - 3
        parts.append(_text(left + 4, label_y, r.label, size=8, anchor="start", fill=colour))
    step_label: list[str] = []
    if known_steps and count:
        colour = STATUS_COLOURS["warn"]
        half = plot_width / count / 2
        runs: list[list[str]] = [[]]  # consecutive known levels: one polyline each
        for i, level in enumerate(steps):
            if level is None:
                runs.append([])
                continue
            at = _n(y_of(level))
            runs[-1] += [f"{_n(x_of(i) - half)},{at}", f"{_n(x_of(i) + half)},{at}"]
        for run in (r for r in runs if r):
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                'stroke-width="1.1" stroke-dasharray="4 3"/>'
            )
        # labelled above its highest step, over a white patch drawn after the data line (which
        # would otherwise cross it)
        label_width = 0.64 * 8 * len(steps_label) + 2  # as _label_backing measures it
        baseline = y_of(max(known_steps)) - 3
        step_label = [
            _label_backing(left + 3 + label_width / 2, baseline, steps_label, size=8),
            _text(left + 4, baseline, steps_label, size=8, anchor="start", fill=colour),
        ]
    if points:
        path = " ".join(f"{_n(x_of(i))},{_n(y_of(p.value))}" for i, p in enumerate(points))
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f4e79" stroke-width="1.6"/>')
        label_every = max(1, math.ceil(count / 8))
        lowest = min((r.value for r in references), default=None)
        for i, p in enumerate(points):
            x, y = x_of(i), y_of(p.value)
            colour = STATUS_COLOURS[p.status] if p.status else "#1f4e79"
            radius = 3.2 if p.status else 2.6
            parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{radius}" fill="{colour}"/>')
            if i % label_every == 0 or i == count - 1:
                parts.append(_text(x, top + plot_height + 13, p.label, size=7.5, anchor="middle"))
                if count <= 12 or i == count - 1:
                    # below a point under every reference line: above it, the value sat
                    # between the lines it is below (a regulator's review of 2026-12-06:
                    # "90.0%" read as above the 100% minimum)
                    # (unless that would reach the date labels under the plot)
                    below = lowest is not None and p.value < lowest
                    below = below and y + 13 <= top + plot_height - 2
                    baseline = y + 13 if below else y - 6
                    parts.append(_label_backing(x, baseline, p.text, size=7.5))
                    parts.append(
                        _text(
                            x,
                            baseline,
                            p.text,
                            size=7.5,
                            anchor="middle",
                            fill=colour if p.status else AXIS,
                        )
                    )
    parts += step_label
    parts.append(
        f'<line x1="{_n(left)}" y1="{_n(top + plot_height)}" x2="{_n(left + plot_width)}" '
        f'y2="{_n(top + plot_height)}" stroke="{AXIS}" stroke-width="0.8"/>'
    )
    parts.append(_text(left + plot_width / 2, height - 8, "as-of date", size=9, anchor="middle"))
    parts.append("</svg>")
    return "".join(parts)
