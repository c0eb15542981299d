"""Snapshot files from the simulated books: exact decimals, vectorised formatting, stable bytes.

Amounts are int64 counts of 10^-scale. CSV gets plain decimal strings built with Polars string
operations (trailing zeros trimmed); Parquet gets DECIMAL(38, scale) columns made by
reinterpreting the integers, so no value ever passes through a binary float.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from reports.spec import FILE_SUFFIXES, FILES

SCALE = 8


def decimal_text(column: str, scale: int = SCALE) -> pl.Expr:
    """int64 units of 10^-scale -> '-123.45' (no exponent, trailing zeros trimmed, null stays null)."""
    value = pl.col(column)
    unit = 10**scale
    magnitude = value.abs()
    fraction = ((magnitude % unit) + unit).cast(pl.String).str.slice(1).str.strip_chars_end("0")
    return pl.concat_str(
        [
            pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (magnitude // unit).cast(pl.String),
            pl.when(fraction == "").then(pl.lit("")).otherwise(pl.lit(".") + fraction),
        ]
    ).alias(column)


def decimal_column(series: pl.Series, scale: int = SCALE) -> pl.Series:
    """int64 units -> Decimal(38, scale) with the same digits (a reinterpretation, not arithmetic)."""
    arrow = series.cast(pl.Int64).to_arrow()
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    as_decimal = arrow.cast(pa.decimal128(38, 0)).view(pa.decimal128(38, scale))
    return pl.Series(series.name, as_decimal)


def write_table(
    frame: pl.DataFrame, directory: Path, name: str, fmt: str, decimals: dict[str, int]
) -> Path:
    """Write one snapshot file; `decimals` maps each decimal column to its scale."""
    columns = FILES[name].column_names
    frame = frame.select([c for c in columns if c in frame.columns])
    if fmt == "csv":
        frame = frame.with_columns([decimal_text(c, s) for c, s in decimals.items()])
        path = directory / f"{name}.csv"
        frame.write_csv(path, null_value="", line_terminator="\n")
    else:
        frame = frame.with_columns([decimal_column(frame[c], s) for c, s in decimals.items()])
        path = directory / f"{name}.parquet"
        frame.write_parquet(path, compression="snappy", statistics=False)
    return path


def clear_snapshot_files(directory: Path) -> None:
    """Remove contract files of any format so a rewrite never leaves two versions of one file."""
    if not directory.is_dir():
        return
    for name in FILES:
        for suffix in FILE_SUFFIXES:
            (directory / f"{name}{suffix}").unlink(missing_ok=True)


def id_column(prefix: str, values: np.ndarray, name: str) -> pl.Expr:
    """prefix + number (P123, T45, M6789), null where the value is negative."""
    series = pl.Series(name, values)
    text = pl.concat_str([pl.lit(prefix), pl.lit(series).cast(pl.String)])
    return pl.when(pl.lit(series) >= 0).then(text).alias(name)


def timestamps(date: str, seconds: np.ndarray) -> pl.Series:
    """ISO 8601 UTC timestamps of one day, gathered from the day's 86,400 possible strings."""
    return clock_table(date).gather(seconds).rename("ts")


@lru_cache(maxsize=4)
def clock_table(date: str) -> pl.Series:
    """'<date>THH:MM:SSZ' for every second of a day (a fixed table, not data rows)."""
    seconds = pl.int_range(0, 86_400, eager=True)
    parts = [(seconds // 3600), (seconds // 60 % 60), (seconds % 60)]
    text = [p.cast(pl.String).str.zfill(2) for p in parts]
    return date + "T" + text[0] + ":" + text[1] + ":" + text[2] + "Z"
