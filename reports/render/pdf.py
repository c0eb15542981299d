"""Stage 2 of the PDF: HTML to PDF/A-3b with WeasyPrint, the CSVs and summary.json embedded as
PDF/A-3 associated files (/AF, AFRelationship /Data).

Any WeasyPrint warning or error during rendering (a CSS property it ignores, a missing font, an
unloadable resource) fails the render with RenderError: the template is ours, so a warning is a
bug to fix, not something to ship to a regulator. Fonts: DejaVu Sans/Mono from the system,
embedded (subset) by WeasyPrint as PDF/A requires.

One warning is about the data, not the template: a character no installed font has a glyph
for (a custodian named in Japanese, an emoji, a control character in an id), which WeasyPrint
would draw as a blank box. The venue's data is loaded as given, so the report must still be
made: the PDF is rendered again with each such character shown as its code point, "[U+4E09]",
and the caller told which (`RenderedPdf.substituted`); the CSVs embedded in it, and written
beside it, keep the characters as they are.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from reports.errors import RenderError

PDF_VARIANT = "pdf/a-3b"
ATTACHMENT_DESCRIPTIONS = {
    "exceptions.csv": "Every exception of the check run (DESIGN.md section 6)",
    "segregation.csv": "Client segregation statement per asset",
    "concentration.csv": "Concentration figures (CON-01..CON-06)",
    "capital.csv": "Capital statement lines",
    "stress.csv": "Stress scenarios: Cover-1, Cover-2, insurance fund",
    "summary.json": "Run summary: statuses, key figures, input hashes",
}


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int
    warnings: tuple[str, ...]
    substituted: tuple[str, ...] = ()  # characters shown as [U+XXXX] (no font has them)


# WeasyPrint's warning for a character without a glyph (weasyprint/draw/text.py), one per
# occurrence.
_MISSING_GLYPH = re.compile(r"^WARNING: \.notdef glyph rendered for .*\(U\+([0-9A-F]{4,6})\)$")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


@contextmanager
def weasyprint_warnings() -> Iterator[list[str]]:
    """Collect every WARNING-or-worse record of the `weasyprint` logger (and its children)."""
    logger = logging.getLogger("weasyprint")
    collector = _Collector()
    logger.addHandler(collector)
    try:
        yield collector.messages
    finally:
        logger.removeHandler(collector)


def _associated_files_once(document: Any, pdf: Any) -> None:
    """List each associated file once in the catalog's /AF (a WeasyPrint finisher).

    WeasyPrint's PDF/A-3 step adds every file specification twice: once from the EmbeddedFiles
    name tree, once from the Filespec objects themselves (WeasyPrint 6x-70). PDF/A-3 wants the
    catalog's /AF to list the document's associated files; a reader or validator should not see
    six CSVs as twelve. Order kept, first occurrence wins."""
    listed = pdf.catalog.get("AF")
    if listed is None:
        return
    unique: dict[str, Any] = {}
    for reference in listed:  # a few file specifications, not data rows
        unique.setdefault(str(reference), reference)
    listed.clear()
    listed.extend(unique.values())


def render_pdf(
    html: str,
    attachments: Mapping[str, bytes],
    *,
    title: str,
    created: dt.datetime,
    strict: bool = True,
) -> RenderedPdf:
    """The PDF/A-3b bytes of `html` with `attachments` ({file name: bytes}) embedded.

    `created` (timezone-aware) dates the attachments and the document, so the same inputs and
    signing time give the same unsigned PDF. With `strict`, any WeasyPrint warning raises
    RenderError (exit 4) naming it, but for characters no font can draw, which are shown as
    their code points instead (module docstring).
    """
    data, pages, found = _render(html, attachments, created)
    missing = [_MISSING_GLYPH.match(message) for message in found]
    substituted: tuple[str, ...] = ()
    if found and all(missing):
        substituted = tuple(sorted({chr(int(m.group(1), 16)) for m in missing if m}))
        data, pages, found = _render(shown_as_code_points(html, substituted), attachments, created)
    if strict and found:
        msg = f"WeasyPrint reported {len(found)} problem(s) rendering {title}: " + "; ".join(
            found[:5]
        )
        raise RenderError(msg)
    return RenderedPdf(data=data, pages=pages, warnings=found, substituted=substituted)


def shown_as_code_points(html: str, characters: tuple[str, ...]) -> str:
    """`html` with each of `characters` written as its code point, "[U+4E09]" (none of them is
    markup: they are the characters no font could draw)."""
    from html import escape, unescape

    from reports.render.charts import fit_label

    table = {ord(c): f"[U+{ord(c):04X}]" for c in characters}
    # the head (the title and author, which become the PDF's /Info and XMP metadata, never
    # drawn) keeps every character but the control ones, which XMP cannot hold (PDF/A audit of
    # 2026-12-07: a firm named in Japanese was "[U+4E09]..." in the document's title, so an
    # archive search by title did not find it)
    head, body_start, body = html.partition("<body")
    if body_start:
        controls = {k: v for k, v in table.items() if unicodedata.category(chr(k))[0] == "C"}
        html = head.translate(controls) + body_start + body.translate(table)
    else:
        html = html.translate(table)
    # a chart's bar label was fitted to its room before the characters were expanded: fit it
    # again (its start is kept), or the expanded one runs off the chart's left edge and the
    # start that tells the bars apart is lost (extreme-data review of 2026-12-07: five bars
    # read "...T-[U+6C38][U+7EED]-..." with their group ids cut off)
    return _BAR_LABEL.sub(lambda m: f"{m[1]}>{escape(fit_label(unescape(m[2])))}</text>", html)


# a bar label's <text class="bar-label" ...>FITTED</text> (reports.render.charts.bar_chart)
_BAR_LABEL = re.compile(r'(<text class="bar-label"[^>]*)>([^<]*)</text>')


def _render(
    html: str, attachments: Mapping[str, bytes], created: dt.datetime
) -> tuple[bytes, int, tuple[str, ...]]:
    """WeasyPrint's PDF of `html`, its page count and the warnings it logged."""
    from weasyprint import HTML, Attachment

    when = created.astimezone(dt.UTC).replace(tzinfo=None)  # WeasyPrint writes it as ...Z
    files = [
        Attachment(
            string=data,
            name=name,
            description=ATTACHMENT_DESCRIPTIONS.get(name, name),
            relationship="Data",
            created=when,
            modified=when,
        )
        for name, data in sorted(attachments.items())
    ]
    with weasyprint_warnings() as messages, warnings.catch_warnings():
        # WeasyPrint 70 leaves its sRGB ICC profile open for PDF/A output (a ResourceWarning
        # that is not ours to fix); collect it here rather than leak it to the caller
        warnings.simplefilter("ignore", ResourceWarning)
        document = HTML(string=html, base_url=None).render(pdf_variant=PDF_VARIANT)
        data = document.write_pdf(
            pdf_variant=PDF_VARIANT, attachments=files, finisher=_associated_files_once
        )
        pages = len(document.pages)
        del document
        gc.collect()
    return data, pages, tuple(messages)
