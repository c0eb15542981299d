"""Rendering: one day's CSVs, summary.json and the signed PDF/A-3b report (DESIGN.md section 6).

    context  typed template context (dataclasses, already formatted text)
    build    the check run (reused or run), the day's figures, the context
    outputs  CSVs and summary.json: presentation rounding, deterministic bytes
    charts   deterministic inline SVG
    html     Jinja -> HTML (templates/report.html.j2)
    pdf      HTML -> PDF/A-3b with the CSVs as associated files (WeasyPrint)
    report   write_report: the whole day directory, signed

Import from the submodules; `write_report` and `ReportResult` are re-exported lazily so that
`import reports.render` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReportResult", "write_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from reports.render import report

        return getattr(report, name)
    msg = f"module 'reports.render' has no attribute {name!r}"
    raise AttributeError(msg)
