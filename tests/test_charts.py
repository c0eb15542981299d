"""The report's SVG charts (reports/render/charts.py): geometry that a reader depends on."""

from __future__ import annotations

import re

import pytest

from reports.render.charts import Bar, Point, Threshold, bar_chart, line_chart


def test_value_labels_sit_on_a_backing_drawn_over_the_lines() -> None:
    """Regression: a ratio just under the 100% minimum had its label struck through by the
    minimum's dashed line and the data line. Each value label now has a white patch, drawn
    after the lines, that covers the label's box."""
    minimum = [Threshold(1.0, "100% minimum", "breach")]
    points = [Point(f"03-0{d}", v, f"{v:.1%}") for d, v in ((2, 1.2), (3, 1.1), (4, 0.99))]
    svg = line_chart(points, axis_label="ratio", references=minimum)
    last_line = max(svg.rindex("<polyline"), svg.rindex('stroke-dasharray="4 3"'))
    for point in points:
        label = re.search(
            rf'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)" fill="#ffffff"[^>]*/>'
            rf'<text x="([^"]+)" y="([^"]+)"[^>]*>{re.escape(point.text)}</text>',
            svg,
        )
        assert label, point.text
        assert label.start() > last_line  # painted over the lines
        x, y, width, height, text_x, baseline = (float(v) for v in label.groups())
        assert x <= float(text_x) - 0.64 * 7.5 * len(point.text) / 2  # the text's extent
        assert x + width >= float(text_x) + 0.64 * 7.5 * len(point.text) / 2
        assert y <= float(baseline) - 7.5 + 0.01 and y + height >= float(baseline)


def test_a_long_bar_label_keeps_its_start_and_end() -> None:
    """Outputs review of 2026-12-05: a UUID group id was cut at the chart's left edge
    ("-5834-bc2d-f6323bd5fb7e @ BTCUSDT"), so the breaching group could not be told."""
    from reports.render.charts import LABEL_EMS, Bar, bar_chart, fit_label, label_ems

    label = "d71e10ae-e31d-5834-bc2d-f6323bd5fb7e @ BTCUSDT"
    short = fit_label(label)
    assert LABEL_EMS - 1 < label_ems(short) <= LABEL_EMS
    assert short.startswith("d71e10ae-e31d") and short.endswith("@ BTCUSDT") and "\u2026" in short
    assert fit_label("G1 @ BTCUSDT") == "G1 @ BTCUSDT"
    svg = bar_chart([Bar(label, 0.17, "17%", "breach")], axis_label="share")
    assert f">{short}</text>" in svg and label not in svg


def test_a_point_below_every_reference_line_is_labelled_below_it_in_its_status_colour() -> None:
    """Regulator's review of 2026-12-06: the last day's "90.0%" sat above its point, between
    the 100% minimum and the 110% early warning, as if the ratio were above the minimum, in
    the colour of every other point. A point under every reference line now has its label
    below it; a breach or warning point and its label take that status's colour."""
    from reports.render.charts import STATUS_COLOURS

    references = [Threshold(1.0, "100% minimum", "breach"), Threshold(1.1, "early warning")]
    points = [Point("03-05", 2.5, "250.00%"), Point("03-06", 0.9, "90.00%", "breach")]
    svg = line_chart(points, axis_label="ratio", references=references)
    circles = re.findall(r'<circle cx="([^"]+)" cy="([^"]+)" r="[^"]+" fill="([^"]+)"/>', svg)
    labels = {
        text: float(y)
        for y, text in re.findall(r'<text x="[^"]+" y="([^"]+)"[^>]*>([0-9.]+%)</text>', svg)
    }
    (normal_y, normal_fill), (breach_y, breach_fill) = [(float(y), f) for _, y, f in circles]
    assert breach_fill == STATUS_COLOURS["breach"] != normal_fill
    assert labels["90.00%"] > breach_y  # below the point (SVG y grows downwards)
    assert labels["250.00%"] < normal_y  # above it
    assert re.search(rf'fill="{STATUS_COLOURS["breach"]}">90\.00%</text>', svg)


def _share_chart(*bars: Bar) -> str:
    """An open-interest share chart with its warn (5%) and breach (10%) lines."""
    return bar_chart(
        list(bars),
        axis_label="share",
        thresholds=(Threshold(0.05, "warn 5%"), Threshold(0.1, "breach 10%", "breach")),
        scale=100,
        suffix="%",
    )


def test_bar_value_labels_are_painted_over_the_threshold_lines() -> None:
    """Regulator's review of 2026-12-06: the 5% warn line of the open-interest chart ran
    through the "4.00%" labels. Each bar's value label is drawn after the threshold lines, on
    a white patch."""
    from reports.render.charts import Bar

    svg = _share_chart(
        Bar("C000273 @ ETHUSD", 0.04, "4.00%"), Bar("G00006 @ BTCUSDT", 0.37, "37.14%")
    )
    last_line = svg.rindex('stroke-dasharray="4 3"')
    for text in ("4.00%", "37.14%"):
        label = re.search(
            rf'<rect [^>]*fill="#ffffff"[^>]*/><text [^>]*>{re.escape(text)}</text>', svg
        )
        assert label and label.start() > last_line, text


def test_a_point_at_the_bottom_of_the_axis_keeps_its_label_inside_the_plot() -> None:
    """A label below a point near the axis' lowest tick would overlap the date labels under
    the plot: it stays above that point."""
    references = [Threshold(1.0, "100% minimum", "breach")]
    points = [Point("03-05", 1.5, "150.00%"), Point("03-06", 0.81, "81.00%", "breach")]
    svg = line_chart(points, axis_label="ratio", references=references, scale=100, suffix="%")
    y = float(re.findall(r'<circle cx="[^"]+" cy="([^"]+)"', svg)[1])
    label = float(re.search(r'<text x="[^"]+" y="([^"]+)"[^>]*>81\.00%</text>', svg).group(1))  # type: ignore[union-attr]
    axis = float(re.search(r'y2="([^"]+)" stroke="#333333" stroke-width="0.8"', svg).group(1))  # type: ignore[union-attr]
    assert axis - 13 < y <= axis  # the point sits just above the axis
    assert label < y


def test_a_reference_on_the_axis_floor_is_labelled_above_its_line() -> None:
    """The lowest reference is labelled below its line, unless the line is the plot's floor:
    there the label sat on the date labels ("100% minimum" over "03-02", CFTC page of
    2026-12-06)."""
    svg = line_chart(
        [Point("03-02", 3.0, "300%"), Point("03-03", 3.0, "300%")],
        axis_label="ratio",
        references=(Threshold(1.0, "100% minimum", "breach"), Threshold(1.5, "warning 150%")),
        scale=100,
        suffix="%",
    )
    lines = [
        float(y) for y in re.findall(r'<line x1="[^"]+" y1="([^"]+)"[^>]*stroke-dasharray', svg)
    ]
    label = float(re.search(r'<text x="[^"]+" y="([^"]+)"[^>]*>100% minimum<', svg).group(1))
    floor = max(lines)  # the 100% line, at the bottom of the plot
    assert label < floor


# --- mutation review of the report's assembly and rendering (2026-12-07) ----------------------

PLOT_RIGHT = 640 - 90  # bar_chart: the label area (170) and the plot end here; values after


def _bar_rects(svg: str) -> list[tuple[float, float, float, str]]:
    """(x, y, width, fill) of each bar (the white value patches left out)."""
    return [
        (float(x), float(y), float(w), fill)
        for x, y, w, fill in re.findall(
            r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="16.0" fill="([^"]+)"/>', svg
        )
    ]


def test_the_bar_axis_reaches_a_threshold_above_every_bar() -> None:
    """A breach line at 10% with bars of 2% and 4%: the axis left the thresholds out of its
    range, so the line was drawn beyond the plot, over the value labels and off the chart."""
    from reports.render.charts import Bar

    svg = _share_chart(Bar("G1 @ BTCUSDT", 0.02, "2.00%"), Bar("G2 @ BTCUSDT", 0.04, "4.00%"))
    dashed = [float(x) for x in re.findall(r'<line x1="([^"]+)"[^>]*stroke-dasharray="4 3"', svg)]
    assert len(dashed) == 2
    assert all(170 < x <= PLOT_RIGHT for x in dashed), dashed
    assert re.search(r">10%</text>", svg), "the axis reaches the 10% breach line"


def test_each_bar_takes_its_status_colour_and_each_threshold_its_own() -> None:
    """A breaching group's bar drawn in the plain colour (and a breach line in the warn colour)
    reads as within the limit: the colour is the chart's only sign of the status."""
    from reports.render.charts import STATUS_COLOURS, Bar, bar_chart

    svg = bar_chart(
        [Bar("a", 0.3, "30%", "breach"), Bar("b", 0.07, "7%", "warn"), Bar("c", 0.01, "1%")],
        axis_label="share",
        thresholds=(Threshold(0.05, "warn 5%"), Threshold(0.1, "breach 10%", "breach")),
    )
    fills = [fill for *_, fill in _bar_rects(svg)]
    assert fills == [STATUS_COLOURS["breach"], STATUS_COLOURS["warn"], STATUS_COLOURS["pass"]]
    lines = re.findall(r'<line [^>]*stroke="([^"]+)" stroke-width="1.2" stroke-dasharray', svg)
    assert lines == [STATUS_COLOURS["warn"], STATUS_COLOURS["breach"]]


def test_bars_fill_the_plot_from_its_top_to_the_axis() -> None:
    """Bars one slot down: the first slot was empty and the last bar sat under the axis line,
    over the tick labels."""
    from reports.render.charts import Bar, bar_chart

    svg = bar_chart([Bar(f"b{i}", 1.0 + i, str(i)) for i in range(3)], axis_label="USD")
    top_y = next(float(y) for y in re.findall(r'<line x1="170.0" y1="([^"]+)"', svg))
    axis = re.search(r'<line x1="170.0" y1="([^"]+)" x2="170.0" y2="([^"]+)" stroke="#333333"', svg)
    assert axis is not None
    ys = [y for _, y, _, _ in _bar_rects(svg)]
    assert ys[0] == float(axis.group(1)) == top_y
    assert ys[-1] + 16 <= float(axis.group(2))


def _circles(svg: str) -> list[tuple[float, float, str]]:
    return [
        (float(x), float(y), fill)
        for x, y, fill in re.findall(
            r'<circle cx="([^"]+)" cy="([^"]+)" r="[^"]+" fill="([^"]+)"/>', svg
        )
    ]


def _ticks(svg: str) -> list[str]:
    """The value axis' tick labels, bottom up."""
    return re.findall(r'text-anchor="end"[^>]*>([^<]+)</text>', svg)


def _ratio_chart(*points: Point) -> str:
    return line_chart(list(points), axis_label="ratio", scale=100, suffix="%")


def test_a_negative_ratio_is_plotted_inside_the_axis() -> None:
    """Negative own funds give a negative capital ratio: an axis floored at zero put that
    point (the day the firm was furthest below its minimum) below the plot, over the dates."""
    references = [Threshold(1.0, "100% minimum", "breach")]
    points = [Point("03-05", 1.5, "150.00%"), Point("03-06", -0.4, "-40.00%", "breach")]
    svg = line_chart(points, axis_label="ratio", references=references, scale=100, suffix="%")
    axis = re.search(r'y2="([^"]+)" stroke="#333333" stroke-width="0.8"', svg)
    assert axis is not None
    floor = float(axis.group(1))
    assert all(16 <= y <= floor for _, y, _ in _circles(svg))
    ticks = _ticks(svg)
    assert ticks[0].startswith("-"), ticks  # the axis starts below zero


def test_the_last_day_of_a_long_trend_shows_its_value() -> None:
    """With more than 12 days only the last point's value is printed: that is the as-of
    day's ratio, the one the reader looks for."""
    points = [Point(f"d{i:02d}", 2.0 + i / 100, f"{200 + i:.2f}%") for i in range(20)]
    svg = line_chart(points, axis_label="ratio", scale=100, suffix="%")
    assert ">219.00%</text>" in svg
    assert ">200.00%</text>" not in svg  # only the last one, at this length


def test_a_day_without_an_early_warning_level_breaks_the_stepped_line() -> None:
    """A day whose early-warning level is unknown (its statement could not be computed) has no
    step: the line joined the days on either side across it, as if the level were known."""
    points = [Point(f"03-0{d}", 1.6, "160%") for d in (2, 3, 4)]
    svg = line_chart(
        points, axis_label="ratio", steps=(1.1, None, 1.5), steps_label="each day", scale=100
    )
    steps = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="#d99a1e"', svg)
    assert [len(s.split()) for s in steps] == [2, 2]


def test_the_stepped_line_stays_inside_the_plot_and_its_label_above_it() -> None:
    """An early-warning level above every ratio and reference: the axis left the steps out of
    its range and drew them above the plot; the label sat on the lowest step, not above the
    highest."""
    points = [Point(f"03-0{d}", 1.2, "120%") for d in (2, 3, 4)]
    svg = line_chart(
        points,
        axis_label="ratio",
        references=(Threshold(1.0, "100% minimum", "breach"),),
        steps=(1.1, 1.5, 2.5),
        steps_label="early warning of each day",
        scale=100,
        suffix="%",
    )
    (steps,) = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="#d99a1e"', svg)
    levels = [float(p.split(",")[1]) for p in steps.split()]
    assert min(levels) >= 16.0  # the plot's top
    label = re.search(r'<text x="[^"]+" y="([^"]+)"[^>]*>early warning of each day<', svg)
    assert label is not None and float(label.group(1)) < min(levels)


def test_tick_labels_of_a_narrow_axis_are_distinct() -> None:
    """Ratios from 100% to 102% tick every 0.5%: printed without a decimal the ticks read
    "100%, 100%, 101%, 102%, 102%"."""
    ticks = _ticks(_ratio_chart(Point("03-02", 1.0, "100%"), Point("03-03", 1.02, "102%")))
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), ticks
    assert "100.5%" in ticks


def test_chart_text_from_the_data_is_escaped() -> None:
    """The SVG is marked safe in the template (reports.render.html): a custodian called
    "Smith & Co <EU>" made it malformed XML (WeasyPrint drops or misdraws the chart)."""
    import xml.etree.ElementTree as ET

    from reports.render.charts import Bar, bar_chart

    bars = bar_chart([Bar("Smith & Co <EU>", 0.4, "40%")], axis_label="share of A&B")
    line = line_chart([Point("03-02", 1.0, "100%")], axis_label="own funds <&> requirement")
    for svg in (bars, line):
        ET.fromstring(svg)  # well-formed
    assert ">Smith &amp; Co &lt;EU&gt;</text>" in bars
    assert ">own funds &lt;&amp;&gt; requirement</text>" in line


def test_the_points_are_centred_in_their_slots() -> None:
    """Each point sits in the middle of its day's slot, as the early-warning steps do: shifted
    by half a slot, the last point sat on the plot's right edge and each step was drawn
    half a day away from its point."""
    svg = line_chart(
        [Point(f"03-0{d}", 1.5, "150%") for d in (2, 3, 4, 5)],
        axis_label="ratio",
        steps=(1.1, 1.2, 1.3, 1.4),
        scale=100,
    )
    xs = [x for x, _, _ in _circles(svg)]
    left, right = 64.0, 640 - 20.0
    assert xs[0] - left == pytest.approx(right - xs[-1], abs=0.11)
    (steps,) = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="#d99a1e"', svg)
    ends = [float(p.split(",")[0]) for p in steps.split()]
    for i, x in enumerate(xs):
        assert ends[2 * i] < x < ends[2 * i + 1]


def test_the_lowest_reference_is_labelled_below_whatever_order_they_come_in() -> None:
    """The references given highest first: the early warning's label went below its line,
    onto the 100% minimum's label just under it."""
    references = (Threshold(1.1, "early warning 110%"), Threshold(1.0, "100% minimum", "breach"))
    svg = line_chart(
        [Point("03-02", 3.0, "300%"), Point("03-03", 0.5, "50%", "breach")],
        axis_label="ratio",
        references=references,
        scale=100,
        suffix="%",
    )
    lines = {
        label: (float(line_y), float(label_y))
        for line_y, label_y, label in re.findall(
            r'<line x1="[^"]+" y1="([^"]+)"[^>]*stroke-dasharray="4 3"/>'
            r'<text x="[^"]+" y="([^"]+)"[^>]*>([^<]+)</text>',
            svg,
        )
    }
    minimum_line, minimum_label = lines["100% minimum"]
    warning_line, warning_label = lines["early warning 110%"]
    assert minimum_label > minimum_line  # below its line
    assert warning_label < warning_line  # above its line


def test_every_tick_of_the_trend_axis_is_drawn() -> None:
    """Ratios of 14% to 18%: (0.2 - 0.14) / 0.02 is 2.9999... in floating point, and an axis
    that truncated it lost its top tick line and label."""
    ticks = _ticks(_ratio_chart(Point("03-02", 0.14, "14%"), Point("03-03", 0.18, "18%")))
    assert ticks[0] == "14%" and ticks[-1] == "18%", ticks


def test_tick_steps_land_on_one_two_five() -> None:
    """A span of exactly 5, 10 or 25 units ticks every 1, 2 or 5: a strict comparison made it
    the next step up (ticks of 2 over a span of 5: three ticks where five were meant)."""
    from reports.render.charts import nice_step

    assert [nice_step(s) for s in (5, 10, 25, 0.5)] == [1, 2, 5, 0.1]


def test_a_bar_label_shown_with_code_points_is_fitted_again() -> None:
    """Extreme-data review of 2026-12-07: a bar label was fitted to its room, then each
    character no font has was written as its code point ("[U+6C38]", 8 characters for 1), so
    the label ran off the chart's left edge: five bars read "...T-[U+6C38][U+7EED]-Ω" with the
    group ids that tell them apart cut off. The label is now fitted again once expanded."""
    from reports.render.charts import LABEL_EMS, label_ems
    from reports.render.pdf import shown_as_code_points

    label = "GROUP-" + "Z" * 54 + " @ BTC-USDT-永续-<u>"
    svg = bar_chart([Bar(label, 0.37, "37.14%", "breach")], axis_label="share")
    html = shown_as_code_points(svg, ("永", "续"))
    shown = re.findall(r'<text [^>]*text-anchor="end"[^>]*>([^<]*)</text>', html)
    assert len(shown) == 1
    text = shown[0].replace("&lt;", "<").replace("&gt;", ">")
    assert label_ems(text) <= LABEL_EMS
    assert text.startswith("GROUP-ZZZZ") and text.endswith("-<u>") and "\u2026" in text
    assert "永" not in html and "<u>" not in html  # shown as code points; escaped


def test_a_label_of_capitals_is_fitted_by_its_width_not_its_length() -> None:
    """Extreme-data review of 2026-12-07: labels were cut at 30 characters, which fit digits
    (0.64 em) but not capitals: a label of 30 capitals ran past the chart's left edge and lost
    its first letter. They are fitted by DejaVu Sans's advance widths now."""
    from reports.render.charts import LABEL_EMS, fit_label, label_ems

    capitals = "GROUPWMQ" * 3 + " @ BTCUSDT"  # 34 characters, about 27 em
    short = fit_label(capitals)
    assert label_ems(short) <= LABEL_EMS < label_ems(capitals)
    assert short.startswith("GROUPW") and short.endswith("@ BTCUSDT")
    digits = "1234567890" * 3  # 30 characters, 19.1 em: one too wide
    assert fit_label(digits[:29]) == digits[:29]
    assert fit_label(digits) != digits


def test_the_label_widths_are_dejavu_sans_own() -> None:
    """The widths fit_label counts are the font's (its hmtx table): a table copied wrong would
    let labels run off the chart again."""
    fonttools = pytest.importorskip("fontTools.ttLib")
    from pathlib import Path

    from reports.render.charts import label_ems

    path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not path.exists():
        pytest.skip("DejaVu Sans is not installed (fonts-dejavu-core)")
    font = fonttools.TTFont(path)
    cmap, metrics, units = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    for code in range(0x20, 0x7F):
        assert label_ems(chr(code)) == metrics[cmap[code]][0] / units, chr(code)
    assert label_ems("\u2026") == metrics[cmap[0x2026]][0] / units


def test_the_documents_title_keeps_the_characters_no_font_draws() -> None:
    """PDF/A audit of 2026-12-07: a firm named in Japanese was "[U+4E09]..." in the PDF's title
    and author (/Info and XMP, never drawn), so an archive searched by title did not find it.
    The head keeps them; only control characters, which XMP cannot hold, become code points
    there. The body still shows every one as its code point."""
    from reports.render.pdf import shown_as_code_points

    html = (
        '<html><head><title>三井\x1b - report</title><meta name="author" content="三井\x1b">'
        "</head><body><h1>三井\x1b</h1></body></html>"
    )
    shown = shown_as_code_points(html, ("三", "井", "\x1b"))
    head, body = shown.split("<body", 1)
    assert "<title>三井[U+001B] - report</title>" in head
    assert 'content="三井[U+001B]"' in head
    assert "<h1>[U+4E09][U+4E95][U+001B]</h1>" in body
