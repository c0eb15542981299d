"""Stage 1 of the PDF: the template context rendered to HTML with Jinja (templates/report.html.j2).

Autoescaping is on; charts are SVG made by reports.render.charts and marked safe here, nowhere
else. StrictUndefined turns a misspelt context field into an error instead of an empty cell.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from reports.paths import templates_dir

if TYPE_CHECKING:
    import jinja2

    from reports.render.context import ReportContext

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
STATUS_LABELS = {
    "pass": "PASS",
    "warn": "WARN",
    "breach": "BREACH",
    "not_evaluated": "NOT EVALUATED",
    "error": "ERROR",
    "exempt": "EXEMPT",
}


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["status_label"] = lambda s: STATUS_LABELS.get(s or "", (s or "").upper())
    env.filters["svg"] = _safe_svg
    env.filters["wrappable"] = wrappable
    return env


# A figure at least this long may wrap after its thousands separators (the widest the sample
# venue prints, 1,752,625.00000000, has 18 characters and stays on one line).
WRAPPABLE_FROM = 20


def wrappable(figure: Any) -> Any:
    """`figure` (a formatted number) escaped, with a line-break opportunity (U+200B, which
    WeasyPrint neither draws nor puts in the text layer) after each thousands separator when it
    is long: a position marked at 1e9 gave figures of 28 characters that made the positions
    table wider than the page, and the maintenance margin was cut after "1,512,499,818,2" (a
    clipped digit is a wrong number: extreme-data review of 2026-12-07)."""
    from markupsafe import Markup, escape

    text = escape("" if figure is None else figure)
    if len(text) < WRAPPABLE_FROM:
        return text
    return Markup('<span class="wrappable">') + text.replace(",", ",\u200b") + Markup("</span>")


def _safe_svg(svg: str) -> Any:
    from markupsafe import Markup

    return Markup(svg)


def stylesheet() -> str:
    return (templates_dir() / STYLESHEET).read_text(encoding="utf-8")


def render_html(context: ReportContext) -> str:
    """The report as one HTML document (the stylesheet inlined, so it renders anywhere)."""
    template = environment().get_template(TEMPLATE)
    return template.render(report=context, css=stylesheet())
