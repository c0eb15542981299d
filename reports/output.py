"""Writing result frames as table, CSV, JSON, Markdown or Parquet (decimals stay exact)."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "csv", "json", "markdown", "parquet")
# Time zones whose offset is always 0: DuckDB hands a TIMESTAMPTZ over in the session's zone
# (the machine's: Etc/UTC here). Timestamps in them are spelled in Polars; in any other zone value
# by value (Python's tz database and Polars' could disagree on an offset).
UTC_ZONES = frozenset(
    ("UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "GMT",
     "Etc/GMT", "GMT0", "Etc/GMT0", "GMT+0", "Etc/GMT+0", "GMT-0", "Etc/GMT-0", "Greenwich",
     "Etc/Greenwich")
)  # fmt: skip
SLICE_ROWS = 10_000  # rows whose text (JSON, Markdown, table lines) is made at once
# What str.rstrip() strips: the characters for which str.isspace() is true (a test holds it to
# Python's own answer).
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


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
        return {_json_key(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _json_key(key: Any) -> Any:
    """A MAP key as JSON takes it: a decimal, date or blob key as its text, as its value would
    be (review of 2026-12-05: `MAP {1.5: 'v'}` was an internal error, exit 4, in every text
    format); text, numbers, booleans and null as json spells them."""
    text = _json_value(key)
    if text is None or isinstance(text, (str, int, float, bool)):
        return text
    return str(key)


# A string's escapes in json.dumps(..., ensure_ascii=False): backslash and quote, the five short
# control escapes, every other control character as \\u00XX (nothing else: not U+2028, not DEL).
_JSON_ESCAPES = (
    ("\\", "\\\\"),
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\b", "\\b"),
    ("\f", "\\f"),
    *((chr(code), f"\\u{code:04x}") for code in range(0x20) if chr(code) not in "\n\r\t\b\f"),
)


def json_column(series: pl.Series) -> pl.Series:
    """A column's cells as JSON text, as json.dumps(record, indent=2, ensure_ascii=False) puts
    each inside a record of the output's list: the types `text_series` makes in Polars made
    there too (floats as numbers, NaN and infinities as quoted text; decimals, blobs, dates,
    times and timestamps as quoted text), every other type value by value (nested values
    indented for their depth)."""
    import polars as pl

    dtype = series.dtype
    if dtype == pl.String:
        escaped = series
        for raw, escape in _JSON_ESCAPES:
            escaped = escaped.str.replace_all(raw, escape, literal=True)
        text = '"' + escaped + '"'
    elif dtype.is_integer() or dtype == pl.Boolean:  # true / false as JSON spells them
        text = series.cast(pl.String)
    elif dtype.is_float():  # repr() when finite; otherwise the text _json_value gives, quoted
        text = pl.select(
            pl.when(pl.lit(series).is_nan())
            .then(pl.lit('"NaN"'))
            .when(pl.lit(series).is_infinite())
            .then(
                pl.when(pl.lit(series) > 0)
                .then(pl.lit('"Infinity"'))
                .otherwise(pl.lit('"-Infinity"'))
            )
            .otherwise(pl.lit(float_text(series)))
        ).to_series()
    elif (plain := _polars_text(series, "T")) is not None:  # decimals, isoformat(): quoted
        text = '"' + plain + '"'
    else:
        values = [
            json.dumps(_json_value(value), indent=2, ensure_ascii=False).replace("\n", "\n    ")
            for value in _python_values(series)
        ]
        return pl.Series(values, dtype=pl.String)
    return text.fill_null("null")


def to_text_rows(frame: pl.DataFrame) -> Iterator[tuple[str, ...]]:
    """The frame's rows as the text cells `_cell` gives (csv, markdown, table)."""
    return zip(*(text_column(series) for series in frame.get_columns()), strict=True)


def text_column(series: pl.Series) -> list[str]:
    """A column's cells as `_cell` gives them (`text_series`), as Python strings."""
    return text_series(series).to_list()


def text_series(series: pl.Series) -> pl.Series:
    """A column's cells as `_cell` gives them, as a String series: text, integers, floats,
    decimals, booleans, blobs, dates, times and timestamps (without a zone or in UTC) in Polars
    (vectorised: at a million rows the per-cell Python was most of `mir sql`'s time); lists,
    structs, maps and the rarer types value by value."""
    import polars as pl

    text = _polars_text(series, " ")
    if text is None:
        return pl.Series([_cell(value) for value in _python_values(series)], dtype=pl.String)
    return text.fill_null("")


def _python_values(series: pl.Series) -> list[Any]:
    """The column's values as Python objects, for the types spelled value by value. A date or
    timestamp Python cannot hold (a year before 1 or after 9999 inside a list, struct or map)
    is a UsageError naming the column (it was "internal error: ValueError", exit 4)."""
    try:
        return series.to_list()
    except (ValueError, OverflowError) as exc:
        from reports.errors import UsageError

        msg = (
            f"column {series.name} holds a value Python cannot represent ({exc}), such as a "
            "date or timestamp before year 1 or after 9999 inside a list, struct or map: cast "
            "it to VARCHAR in the query, or write --format parquet"
        )
        raise UsageError(msg) from exc


def _polars_text(series: pl.Series, separator: str) -> pl.Series | None:
    """`_cell`'s text of the types Polars can spell alike, NULL kept (timestamps with
    `separator` between date and time: " " as str(), "T" as isoformat()); None for the others."""
    import polars as pl

    dtype = series.dtype
    if dtype == pl.String:
        return series
    if dtype.is_integer():
        return series.cast(pl.String)
    if dtype == pl.Boolean:  # Python's spelling
        return series.cast(pl.String).str.replace("true", "True").str.replace("false", "False")
    if dtype.is_float():
        return float_text(series)
    if dtype == pl.Binary:  # bytes.hex()
        return series.bin.encode("hex")
    if isinstance(dtype, pl.Decimal):
        # the scale's digits, then plain_decimal's trim: no trailing zeros, no lone point
        digits = series.cast(pl.String)
        trimmed = digits.str.replace(r"0+$", "").str.replace(r"\.$", "")
        return pl.select(
            pl.when(digits.str.contains(".", literal=True)).then(trimmed).otherwise(digits)
        ).to_series()
    return _temporal_text(series, separator)


def float_text(series: pl.Series) -> pl.Series:
    """Each float as Python's repr() spells it (str() and json.dumps do too), NULL kept.

    Polars writes the same shortest round-trip digits, but differs in three spellings, mended
    here: 1e-05 <= |x| < 1e-04 in fixed point (0.00006 for 6e-05), a one-digit exponent without
    its leading zero (1e-7 for 1e-07) and NaN for nan; before Polars 1.37 also an exponent
    without its sign (1e16 for 1e+16). A test holds it to repr() over about 89,000 values,
    every decimal exponent's neighbours included. A Float32 value is widened first: Python
    sees it as that double (0.10000000149011612)."""
    import polars as pl

    text = pl.lit(series.cast(pl.Float64)).cast(pl.String)
    return pl.select(
        text.str.replace(r"^(-?)0\.0000([1-9])$", "${1}${2}e-05")
        .str.replace(r"^(-?)0\.0000([1-9])([0-9]+)$", "${1}${2}.${3}e-05")
        .str.replace(r"e([0-9]+)$", "e+${1}")  # Polars before 1.37 wrote 1e16
        .str.replace(r"e([+-])([0-9])$", "e${1}0${2}")
        .str.replace(r"^-?NaN$", "nan")
    ).to_series()


def _temporal_text(series: pl.Series, separator: str) -> pl.Series | None:
    """Dates, times, and timestamps without a time zone or in UTC, as Python's str()
    (separator " ") or isoformat() ("T") spell them: microseconds only when not zero, a UTC
    timestamp's offset as +00:00. A year Python's dates do not hold (before 1, after 9999) in
    ISO 8601's expanded form, as Polars writes it: +12000-01-01, -0043-03-15 (44 BC), 0000 for
    1 BC (Python could not spell them: "internal error" until 2026-12-05). None for other types,
    for a time with nanoseconds and for other time zones (an offset of seconds in a zone's
    history is spelled otherwise): those keep the value-by-value path."""
    import polars as pl

    dtype = series.dtype
    if dtype == pl.Time:
        if (series.cast(pl.Int64) % 1000 != 0).any():  # nanoseconds: Python's time drops them
            return None
        return _with_microseconds(series, "%H:%M:%S", "")
    moment = (
        isinstance(dtype, pl.Datetime)
        and (dtype.time_zone is None or dtype.time_zone in UTC_ZONES)
        and dtype.time_unit != "ns"
    )
    if not (dtype == pl.Date or moment):
        return None
    if dtype == pl.Date:
        return series.cast(pl.String)
    offset = "+00:00" if isinstance(dtype, pl.Datetime) and dtype.time_zone else ""
    return _with_microseconds(series, f"%Y-%m-%d{separator}%H:%M:%S", offset)


def _with_microseconds(series: pl.Series, whole: str, offset: str) -> pl.Series:
    """`series` (times or timestamps) in the strftime pattern `whole`, then the microseconds
    when not zero, then `offset`: Python's str() and isoformat()."""
    import polars as pl

    value = pl.lit(series)
    return pl.select(
        pl.when(value.dt.microsecond() == 0)
        .then(value.dt.to_string(whole + offset))
        .otherwise(value.dt.to_string(whole + ".%6f" + offset))
    ).to_series()


def write_batches(
    schema: pl.Schema,
    batches: Iterable[pl.DataFrame],
    fmt: str,
    stream: IO[str] | None,
    path: Path | None,
) -> int:
    """Write a result given in batches (`schema`: its columns) in `fmt` to `path` (any format)
    or `stream` (all but parquet); returns the number of rows. Every format is written batch
    by batch, so memory stays that of one batch: `table`, which aligns its columns over every
    row, reads the batches twice (the widths, then the rows) when `batches` can be iterated
    again (a spooled result can; a one-shot iterator is held whole). A regular file is written
    under a temporary name and renamed when complete (keeping an existing file's permissions): an error or interruption
    midway leaves no half-written file; a link, device or pipe is written through."""
    if fmt == "parquet" and path is None:
        from reports.errors import UsageError

        msg = "--format parquet needs --output FILE"
        raise UsageError(msg)
    if path is None:
        assert stream is not None
        return _write_text(schema, batches, fmt, stream)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        # a link, a device or a pipe (-o /dev/stdout, the way to pipe parquet): written
        # through, as named; a rename would replace the link or the device itself (diff review
        # of 2026-12-05)
        return _write_file(schema, batches, fmt, path)
    partial = path.with_name(f".mir-{os.getpid()}.partial")  # short: any name length fits
    try:
        rows = _write_file(schema, batches, fmt, partial)
        if path.exists():  # the file keeps its permissions (a 0600 client extract stays so)
            shutil.copymode(path, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _write_file(schema: pl.Schema, batches: Iterable[pl.DataFrame], fmt: str, path: Path) -> int:
    if fmt == "parquet":
        if path.resolve().is_file() or not path.exists():
            return _write_parquet(schema, batches, path)
        # a pipe or device (-o /dev/stdout | ...): Parquet's writer seeks, so the file is made
        # aside and its bytes copied through (docs review of 2026-12-05: "lseek failed")
        import tempfile

        with tempfile.TemporaryDirectory(prefix="mir-parquet-") as folder:
            made = Path(folder) / "result.parquet"
            rows = _write_parquet(schema, batches, made)
            with made.open("rb") as source, path.open("wb") as target:
                shutil.copyfileobj(source, target)
        return rows
    with path.open("w", encoding="utf-8", newline="") as handle:
        return _write_text(schema, batches, fmt, handle)


def _write_parquet(schema: pl.Schema, batches: Iterable[pl.DataFrame], path: Path) -> int:
    import pyarrow.parquet as pq

    rows = 0
    writer = None
    try:
        for batch in batches:
            table = batch.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
            rows += batch.height
        if writer is None:  # no rows: the columns alone
            import polars as pl

            pl.DataFrame(schema=schema).write_parquet(path)
    finally:
        if writer is not None:
            writer.close()
    return rows


def _write_text(
    schema: pl.Schema, batches: Iterable[pl.DataFrame], fmt: str, stream: IO[str]
) -> int:
    columns = list(schema.names())
    rows = 0
    if fmt == "table":
        return _write_table(schema, batches, stream)
    if fmt == "csv":
        import csv

        writer_csv = csv.writer(stream, lineterminator="\n")
        writer_csv.writerow(columns)
        for batch in batches:
            writer_csv.writerows(to_text_rows(batch))
            rows += batch.height
        return rows
    if fmt == "markdown":
        import polars as pl

        stream.write("| " + " | ".join(columns) + " |\n")
        stream.write("|" + "|".join("---" for _ in columns) + "|\n")
        for batch in _slices(batches):
            cells = [
                pl.lit(text_series(series))
                .str.replace_all("|", "\\|", literal=True)
                .str.replace_all("\r\n", "<br>", literal=True)
                .str.replace_all("\n", "<br>", literal=True)
                for series in batch.get_columns()
            ]
            lines = pl.select(
                pl.concat_str([pl.lit("| "), pl.concat_str(cells, separator=" | "), pl.lit(" |")])
            ).to_series()
            _write_lines(stream, lines)
            rows += batch.height
        return rows
    # json: the same bytes as json.dumps(records, indent=2) of the whole list (each record's
    # lines indented by the list's two spaces), a batch of records at a time, made in Polars
    import polars as pl

    keys = [json.dumps(c, ensure_ascii=False) for c in columns]
    for piece in _slices(batches):
        parts: list[pl.Expr] = []
        for index, series in enumerate(piece.get_columns()):
            lead = "  {\n    " if index == 0 else ",\n    "
            parts += [pl.lit(lead + keys[index] + ": "), pl.lit(json_column(series))]
        records = pl.select(pl.concat_str([*parts, pl.lit("\n  }")])).to_series()
        stream.write("[\n" if rows == 0 else ",\n")
        stream.write(",\n".join(records.to_list()))
        rows += piece.height
    stream.write("[]\n" if rows == 0 else "\n]\n")
    return rows


def render_text(frame: pl.DataFrame, fmt: str) -> str:
    """`frame` in a text format, whole."""
    import io

    buffer = io.StringIO()
    _write_text(frame.schema, iter([frame]), fmt, buffer)
    return buffer.getvalue()


def _write_table(schema: pl.Schema, batches: Iterable[pl.DataFrame], stream: IO[str]) -> int:
    """Aligned columns, numbers right-aligned, then the row count. The widths need every row:
    a first pass takes them batch by batch and a second writes the rows (analyst review of
    2026-12-05: the rows held as text took about 10 times the result's size, and the default
    format of `mir sql "SELECT * FROM v_positions"` ran a million-account venue out of
    memory). A one-shot iterator is held, as it cannot be read twice."""
    if iter(batches) is batches:
        batches = list(batches)
    columns = list(schema.names())
    numeric = [dtype.is_numeric() for dtype in schema.dtypes()]
    widths = [len(c) for c in columns]
    for batch in batches:
        for index, series in enumerate(batch.get_columns()):
            widest = text_series(series).str.len_chars().max()
            widths[index] = max(widths[index], int(widest or 0))  # type: ignore[arg-type]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    import polars as pl

    stream.write(line(columns) + "\n" + "  ".join("-" * w for w in widths) + "\n")
    rows = 0
    for batch in _slices(batches):
        # the same line in Polars: padded to the widths in characters, as str.rjust/ljust, and
        # the end stripped of what str.rstrip() strips
        padded = [
            pl.lit(text_series(series)).str.pad_start(w)
            if num
            else pl.lit(text_series(series)).str.pad_end(w)
            for series, w, num in zip(batch.get_columns(), widths, numeric, strict=True)
        ]
        lines = pl.select(
            pl.concat_str(padded, separator="  ").str.strip_chars_end(PYTHON_WHITESPACE)
        ).to_series()
        _write_lines(stream, lines)
        rows += batch.height
    stream.write(f"({rows} row{'s' if rows != 1 else ''})\n")
    return rows


def _slices(batches: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The batches in pieces of at most SLICE_ROWS rows: a row's text (a JSON record, a table
    or Markdown line) is several times its size, so memory stays that of a piece."""
    for batch in batches:
        yield from batch.iter_slices(SLICE_ROWS)


def _write_lines(stream: IO[str], lines: pl.Series) -> None:
    if len(lines):
        stream.write("\n".join(lines.to_list()) + "\n")
