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
