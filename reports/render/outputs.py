"""The machine-readable outputs of `mir report`: the CSVs and summary.json (DESIGN.md section 6).

Presentation rounding (DESIGN.md section 4), half-even, applied here and nowhere upstream:

* reporting-currency (USD) amounts: 2 decimals (the `*_usd` columns, capital amounts, stress);
* asset amounts, prices and ratios: 8 decimals;
* counts: whole numbers.

Numbers are written with a fixed number of decimals ("0.50", "1.00000000"), never in exponent
form. exceptions.csv `value` and `threshold` hold different units per check (ratios, asset
amounts, USD, an HHI), so each row's metric decides: reporting-currency metrics (USD_METRICS,
USD_METRIC_PATTERN) at 2 decimals, every other at 8, which keeps an asset amount to the satoshi.
concentration.csv uses its own `unit` column (reports.concentration.present_concentration).
capital.csv carries no unit column (contract: line, item, amount), so each line is rounded by
the unit the capital statement gives it where it makes the line (reports.capital.statement
._Lines): coefficients, risk factors, weights, rates, ratios and shares 8 decimals, day and
position counts whole, USD amounts 2 decimals.

Determinism: every frame is sorted on a total key before it is written, files are UTF-8 with
"\\n" line ends and no timestamps, so the same inputs, configuration and tool version give the
same bytes (tests/test_outputs.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.capital.exact import half_even, unsigned_zero
from reports.checks.model import EXCEPTION_COLUMNS
from reports.checks.segregation import SEGREGATION_CSV_COLUMNS

if TYPE_CHECKING:
    import polars as pl


USD_PLACES = 2
UNIT_PLACES = 8  # asset amounts, prices, ratios

# Exception metrics whose value and threshold are amounts in the reporting currency, shown to
# USD_PLACES (DESIGN.md section 4): CAP-02's own-funds layers, CAP-03's liquid assets, CAP-05's
# VaR and ES, CAP-04's Cover-N (cover1, cover2, ...: `cover` and a number) and any `*_usd`. Every
# other metric is an asset amount, a price, a ratio or an index (UNIT_PLACES);
# tests/test_outputs.py holds every metric the checks emit to one of the two.
USD_METRICS = frozenset({"cet1", "cet1_at1", "total", "liquid_assets", "var", "es", "own_funds"})
USD_METRIC_PATTERN = r"^(cover[0-9]+|.+_usd)$"

# segregation.csv's columns are defined once, beside the statement they are taken from
SEGREGATION_COLUMNS = SEGREGATION_CSV_COLUMNS
CAPITAL_COLUMNS = ("line", "item", "amount")
STRESS_COLUMNS = (
    "scenario",
    "cover1_usd",
    "cover2_usd",
    "total_shortfall_usd",
    "insurance_fund_usd",
    "status",
)
SUMMARY_KEYS = ("as_of", "run_id", "status", "checks", "segregation", "capital", "stress", "inputs")

CSV_FILES = ("exceptions.csv", "segregation.csv", "concentration.csv", "capital.csv", "stress.csv")
SUMMARY_FILE = "summary.json"

# --------------------------------------------------------------------------------------------
# Rounding


def quantize(value: Decimal | int | None, places: int) -> Decimal | None:
    """Round half-even to `places` decimals (None stays None)."""
    if value is None:
        return None
    return unsigned_zero(half_even(Decimal(value), places))  # no "-0.00"


def decimal_text(value: Decimal | int | None, places: int) -> str | None:
    """A decimal as presented in the CSVs and summary.json: fixed places, half-even."""
    rounded = quantize(value, places)
    return None if rounded is None else format(rounded, "f")


def rounded_expr(column: str, places: int) -> pl.Expr:
    """A Decimal column as fixed-place text, half-even (Polars rounds decimals half to even)."""
    import polars as pl

    value = pl.col(column).cast(pl.Decimal(38, 18))
    text = value.round(places).cast(pl.Decimal(38, places)).cast(pl.String)
    # "-0.00" (a tiny negative rounded to zero) is written "0.00"
    zero = "0" if places == 0 else "0." + "0" * places
    return pl.when(text == "-" + zero).then(pl.lit(zero)).otherwise(text).alias(column)


# --------------------------------------------------------------------------------------------
# Frames as presented


def exceptions_frame(exceptions: pl.DataFrame) -> pl.DataFrame:
    """exceptions.csv: EXCEPTION_COLUMNS, sorted by check_id, entity_id, instrument_id, asset
    (then metric, message, status, value, threshold, entity_type: a total order, so shuffled
    inputs give the same bytes); value and threshold at 2 decimals for a reporting-currency
    metric (USD_METRICS), 8 otherwise."""
    import polars as pl

    keys = [
        "check_id",
        "entity_id",
        "instrument_id",
        "asset",
        "metric",
        "message",
        "status",
        "value",
        "threshold",
        "entity_type",
    ]
    ordered = exceptions.select(EXCEPTION_COLUMNS).sort(keys, nulls_last=True)
    metric = pl.col("metric")
    usd = metric.is_in(sorted(USD_METRICS)) | metric.str.contains(USD_METRIC_PATTERN)
    return ordered.with_columns(
        pl.when(usd)
        .then(rounded_expr(column, USD_PLACES))
        .otherwise(rounded_expr(column, UNIT_PLACES))
        .alias(column)
        for column in ("value", "threshold")
    )


def segregation_frame(statement: pl.DataFrame) -> pl.DataFrame:
    """segregation.csv from reports.checks.segregation.segregation_statement (sorted by asset)."""
    usd = [c for c in SEGREGATION_COLUMNS if c.endswith("_usd")]
    units = [c for c in SEGREGATION_COLUMNS[1:] if c not in usd]
    return (
        statement.select(SEGREGATION_COLUMNS)
        .sort("asset")
        .with_columns(
            *(rounded_expr(c, USD_PLACES) for c in usd),
            *(rounded_expr(c, UNIT_PLACES) for c in units),
        )
    )


def concentration_frame(table: pl.DataFrame) -> pl.DataFrame:
    """concentration.csv: the concentration engineer's long table, rounded by its unit column
    (usd 2 dp; ratio, contracts and the HHI index 8 dp; count 0 dp)."""
    from reports.concentration import TABLE_COLUMNS, present_concentration, sort_concentration

    return present_concentration(sort_concentration(table.select(TABLE_COLUMNS)))


def capital_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """capital.csv (line, item, amount) from CapitalStatement.lines, in line order."""
    import polars as pl

    by_unit = {
        "usd": rounded_expr("amount", USD_PLACES),
        "count": rounded_expr("amount", 0),
        "ratio": rounded_expr("amount", UNIT_PLACES),
    }
    unit = pl.col("unit")
    amount = (
        pl.when(unit == "usd")
        .then(by_unit["usd"])
        .when(unit == "count")
        .then(by_unit["count"])
        .otherwise(by_unit["ratio"])
        .alias("amount")
    )
    return lines.sort("line").select(pl.col("line").cast(pl.Int64), "item", amount)


def stress_frame(table: pl.DataFrame) -> pl.DataFrame:
    """stress.csv: one row per configured scenario, in configuration order, USD at 2 dp."""
    return table.select(STRESS_COLUMNS).with_columns(
        *(rounded_expr(c, USD_PLACES) for c in STRESS_COLUMNS if c.endswith("_usd"))
    )


# --------------------------------------------------------------------------------------------
# Writing


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """RFC 4180 CSV, header row, "\\n" line ends, UTF-8, empty field = null."""
    text = frame.write_csv(line_terminator="\n", null_value="", quote_style="necessary")
    return text.encode("utf-8")


def summary_document(
    *,
    as_of: str,
    run_id: str,
    status: str,
    checks: Sequence[tuple[str, str, int]],
    segregation: pl.DataFrame,
    capital: Mapping[str, Any],
    stress: pl.DataFrame,
    inputs: Sequence[tuple[str, str, int]],
) -> dict[str, Any]:
    """summary.json as data, keys exactly as DESIGN.md section 6 lists them, decimals as strings.

    checks: (check_id, status, exceptions) per check; segregation: the statement (asset units,
    8 dp); capital: CapitalStatement.summary() (own funds and requirement USD 2 dp, ratio 8 dp,
    null when the requirement is 0); stress: the stress table (USD 2 dp); inputs: (file, sha256,
    rows) of the latest load of the as-of date.
    """
    seg = segregation.sort("asset").select(
        "asset",
        rounded_expr("client_requirement", UNIT_PLACES),
        rounded_expr("held", UNIT_PLACES),
        rounded_expr("excess", UNIT_PLACES),
    )
    st = stress_frame(stress)
    return {
        "as_of": as_of,
        "run_id": run_id,
        "status": status,
        "checks": {cid: {"status": s, "exceptions": int(n)} for cid, s, n in sorted(checks)},
        "segregation": {
            row["asset"]: {
                "client_requirement": row["client_requirement"],
                "held": row["held"],
                "excess": row["excess"],
            }
            for row in seg.iter_rows(named=True)  # one row per asset: an aggregate, not data rows
        },
        "capital": {
            "regime": capital["regime"],
            "own_funds": decimal_text(capital["own_funds"], USD_PLACES),
            "requirement": decimal_text(capital["requirement"], USD_PLACES),
            "ratio": decimal_text(capital["ratio"], UNIT_PLACES),
        },
        "stress": {
            row["scenario"]: {
                "cover1_usd": row["cover1_usd"],
                "cover2_usd": row["cover2_usd"],
                "insurance_fund_usd": row["insurance_fund_usd"],
                "status": row["status"],
            }
            for row in st.iter_rows(named=True)  # one row per configured scenario
        },
        "inputs": {file: {"sha256": sha, "rows": int(rows)} for file, sha, rows in sorted(inputs)},
    }


def summary_bytes(summary: Mapping[str, Any]) -> bytes:
    """summary.json text: 2-space indent, keys in contract order, ASCII, trailing newline."""
    return (json.dumps(summary, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def write_outputs(day_dir: Path, files: Mapping[str, bytes]) -> dict[str, Path]:
    """Write each file's bytes into day_dir; returns name -> path."""
    written: dict[str, Path] = {}
    for name, data in files.items():
        path = day_dir / name
        path.write_bytes(data)
        written[name] = path
    return written
