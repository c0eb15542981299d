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
