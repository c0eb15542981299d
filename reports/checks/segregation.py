"""The client segregation statement of one day (17 CFR 1.20/1.32 layout adapted to crypto).

`v_segregation` (queries/views/30_v_segregation.sql) holds the statement per (as_of_date, asset);
the target residual interest needs the configuration, so the table macro
`segregation_statement(as_of, target_abs, target_pct)` defined beside it adds
target_residual_interest(_usd) and excess_over_target(_usd). SEG-02 reads the same macro, so the
statement and the check cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from reports.config import Config

# The columns of segregation.csv (DESIGN.md section 6), in order; all are columns of the statement.
SEGREGATION_CSV_COLUMNS = (
    "asset",
    "client_requirement",
    "held",
    "excess",
    "coverage_ratio",
    "price",
    "requirement_usd",
    "held_usd",
    "excess_usd",
    "deficits",
    "isolated_bad_debt",
)


def segregation_statement(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config
) -> pl.DataFrame:
    """One row per asset (sorted by asset): every v_segregation column of that day plus
    target_residual_interest_usd, target_residual_interest (asset units), excess_over_target and
    excess_over_target_usd (NULL when no target is configured). Exact Decimal(38,18) amounts."""
    seg = config.segregation
    return con.sql(
        "SELECT * FROM segregation_statement($as_of, $target_abs, $target_pct) ORDER BY asset",
        params={
            "as_of": as_of,
            "target_abs": seg.target_residual_interest,
            "target_pct": seg.target_residual_interest_pct,
        },
    ).pl()


def empty_statement() -> pl.DataFrame:
    """segregation.csv's columns without a row: the report's statement when
    segregation_statement failed (every amount is DECIMAL(38,18))."""
    import polars as pl

    amounts = {column: pl.Decimal(38, 18) for column in SEGREGATION_CSV_COLUMNS[1:]}
    return pl.DataFrame(schema={"asset": pl.String, **amounts})


def segregation_csv_frame(statement: pl.DataFrame) -> pl.DataFrame:
    """The columns of segregation.csv, from a statement frame (rounding is the writer's job)."""
    return statement.select(SEGREGATION_CSV_COLUMNS)
