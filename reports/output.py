"""Writing result frames as table, CSV, JSON, Markdown or Parquet (decimals stay exact)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "csv", "json", "markdown", "parquet")


def plain_decimal(value: Decimal) -> str:
    """Exact fixed-point text without DECIMAL(38,18)'s trailing zeros: 1.500000 -> 1.5, 100 -> 100.

    Not Decimal.normalize(): it rounds to the context's 28 significant digits, and a
    DECIMAL(38,18) has up to 38.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, dict)):  # LIST and STRUCT cells: as JSON, decimals exact
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_decimal(value)  # decimals as strings: exact, as in summary.json
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")  # JSON has no NaN
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_text_rows(frame: pl.DataFrame) -> list[list[str]]:
    return [[_cell(v) for v in row] for row in frame.iter_rows()]


def write_frame(frame: pl.DataFrame, fmt: str, stream: IO[str] | None, path: Path | None) -> None:
    """Write `frame` in `fmt` to `path` (any format) or `stream` (all but parquet)."""
    if fmt == "parquet":
        if path is None:
            msg = "--format parquet needs --output FILE"
            from reports.errors import UsageError

            raise UsageError(msg)
        frame.write_parquet(path)
        return
    text = render_text(frame, fmt)
    if path is not None:
        path.write_text(text, encoding="utf-8")
    elif stream is not None:
        stream.write(text)


def render_text(frame: pl.DataFrame, fmt: str) -> str:
    columns = frame.columns
    if fmt == "json":
        records = [
            {c: _json_value(v) for c, v in zip(columns, row, strict=True)}
            for row in frame.iter_rows()
        ]
        return json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(to_text_rows(frame))
        return buffer.getvalue()
    rows = to_text_rows(frame)
    if fmt == "markdown":
        escape = lambda s: s.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")  # noqa: E731
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    # table: aligned columns, numbers right-aligned
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
