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
    return env


def _safe_svg(svg: str) -> Any:
    from markupsafe import Markup

    return Markup(svg)


def stylesheet() -> str:
    return (templates_dir() / STYLESHEET).read_text(encoding="utf-8")


def render_html(context: ReportContext) -> str:
    """The report as one HTML document (the stylesheet inlined, so it renders anywhere)."""
    template = environment().get_template(TEMPLATE)
    return template.render(report=context, css=stylesheet())
