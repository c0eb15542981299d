"""The report's SVG charts (reports/render/charts.py): geometry that a reader depends on."""

from __future__ import annotations

import re

from reports.render.charts import Point, Threshold, line_chart


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
    from reports.render.charts import LABEL_CHARS, Bar, bar_chart, fit_label

    label = "d71e10ae-e31d-5834-bc2d-f6323bd5fb7e @ BTCUSDT"
    short = fit_label(label)
    assert len(short) == LABEL_CHARS
    assert short.startswith("d71e10ae-e31d-") and short.endswith("@ BTCUSDT") and "\u2026" in short
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


def test_bar_value_labels_are_painted_over_the_threshold_lines() -> None:
    """Regulator's review of 2026-12-06: the 5% warn line of the open-interest chart ran
    through the "4.00%" labels. Each bar's value label is drawn after the threshold lines, on
    a white patch."""
    from reports.render.charts import Bar, bar_chart

    svg = bar_chart(
        [Bar("C000273 @ ETHUSD", 0.04, "4.00%"), Bar("G00006 @ BTCUSDT", 0.37, "37.14%")],
        axis_label="share",
        thresholds=(Threshold(0.05, "warn 5%"), Threshold(0.1, "breach 10%", "breach")),
        scale=100,
        suffix="%",
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
