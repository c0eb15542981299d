"""Concentration (DESIGN.md section 5, CON-01..CON-06) and concentration.csv (section 6).

One SQL file per check under queries/concentration/ computes the check's figures for every
entity, each row graded (status) against the configured thresholds. The same rows feed both
outputs, so the report and the checks cannot disagree:

* the CON checks (reports.concentration.checks, registered with ``@python_check``) keep the rows
  whose status is warn or breach;
* ``concentration_table`` stacks all rows into concentration.csv (long format, TABLE_COLUMNS);
* ``large_exposures`` is CON-06 per counterparty, also for the capital engineer's K-CON.

Every value is an exact DECIMAL(38,18): shares come from ``ddiv`` (exact to 18 dp), and the HHI
is computed in decimals too (not float) so that the CSVs are byte-identical across runs.
Rounding for presentation is left to the renderer; ``present_concentration`` does it
(half-even; ratios, contracts and the HHI 8 dp, USD 2 dp) for whoever wants it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import TYPE_CHECKING, Any

from reports.checks.model import CheckContext
from reports.memo import memoized_per_day
from reports.paths import read_query

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from reports.config import Config

# check id -> metric SQL under queries/
METRIC_QUERIES: dict[str, str] = {
    "CON-01": "concentration/CON-01.sql",
    "CON-02": "concentration/CON-02.sql",
    "CON-03": "concentration/CON-03.sql",
    "CON-04": "concentration/CON-04.sql",
    "CON-05": "concentration/CON-05.sql",
}
LARGE_EXPOSURES_QUERY = "concentration/large_exposures.sql"

# The metric of each check's exception rows (the graded metric of its SQL).
CHECK_METRICS: dict[str, str] = {
    "CON-01": "oi_share",
    "CON-02": "hhi",
    "CON-03": "custodian_share",
    "CON-04": "hot_wallet_share",
    "CON-05": "collateral_share",
    "CON-06": "large_exposure_share",
}

# concentration.csv, long format: one row per (check, entity, metric).
#   unit:   ratio (plain ratio, 0.05 = 5%), usd (reporting currency), contracts, index (HHI
#           0-10,000), count.
#   status: pass | warn | breach for graded rows; exempt for CON-01/CON-02 rows of an
#           instrument under the OI floor (and its open_interest_usd row); not_evaluated for a
#           CON-06 row when the regime's own-funds item is missing, for CON-03's firm row when no
#           custodian holds client custody and for CON-04's share when nothing outside bank
#           accounts is held (value empty); empty for informational rows.
#   threshold: the threshold crossed, or for a pass row the first one that would be crossed.
TABLE_COLUMNS = (
    "check_id",
    "entity_type",
    "entity_id",
    "instrument_id",
    "asset",
    "metric",
    "unit",
    "value",
    "threshold",
    "status",
)
EXCEPTION_STATUSES = ("warn", "breach")
_SQL_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# How many client groups per instrument concentration.csv lists for CON-01 (besides every group
# with a warn or breach): set in queries/concentration/CON-01.sql.
TOP_GROUPS = 5


def _table_schema() -> dict[str, Any]:
    import polars as pl

    decimal = pl.Decimal(38, 18)
    return {
        "check_id": pl.String,
        "entity_type": pl.String,
        "entity_id": pl.String,
        "instrument_id": pl.String,
        "asset": pl.String,
        "metric": pl.String,
        "unit": pl.String,
        "value": decimal,
        "threshold": decimal,
        "status": pl.String,
        "message": pl.String,
    }


def _run_query(
    con: duckdb.DuckDBPyConnection, relative: str, as_of: dt.date, config: Config
) -> pl.DataFrame:
    """Run one query file with the named parameters it uses ($as_of and Config.sql_params())."""
    sql = read_query(relative)
    available = CheckContext(con=con, as_of=as_of, prev_as_of=None, config=config).params()
    params = {name: available[name] for name in sorted(set(_SQL_PARAMETER.findall(sql)))}
    # DuckDB 2 refuses new work while an earlier execute() result is unread (e.g. after a
    # fetchone()); finishing it here keeps one caller's leftover from failing this query.
    con.complete()
    return con.sql(sql, params=params).pl()


@memoized_per_day  # the check and concentration.csv share them (reports/memo.py)
def metric_rows(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config, check_id: str
) -> pl.DataFrame:
    """All graded rows of one CON check (concentration.csv columns plus message)."""
    import polars as pl

    schema = _table_schema()
    if check_id == "CON-06":
        frame = _large_exposure_rows(large_exposures(con, as_of, config))
    else:
        frame = _run_query(con, METRIC_QUERIES[check_id], as_of, config)
        frame = frame.with_columns(pl.lit(check_id).alias("check_id"))
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


@memoized_per_day  # computed once per run (reports/memo.py)
def large_exposures(con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config) -> pl.DataFrame:
    """CON-06 per counterparty with a positive exposure on as_of, sorted by kind, counterparty.

    Columns: counterparty, kind (custodian | client_group), custodian_type (NULL for groups),
    exposure_usd, own_funds (as the configured regime defines them), share (exposure / own
    funds; NULL when own funds are missing or <= 0), status (pass | warn | breach |
    not_evaluated), threshold (the one crossed, else the reporting threshold), limit_usd
    (large_exposure_breach x own funds), excess_usd (max(0, exposure - limit): IFR Art. 39's
    excess; with the limit, NULL when own funds are missing), message. Definitions:
    queries/concentration/large_exposures.sql.
    """
    import polars as pl

    frame = _run_query(con, LARGE_EXPOSURES_QUERY, as_of, config)
    schema = _large_exposure_schema()
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()]).sort(
        ["kind", "counterparty"]
    )


def _large_exposure_schema() -> dict[str, Any]:
    import polars as pl

    decimal = pl.Decimal(38, 18)
    return {
        "counterparty": pl.String,
        "kind": pl.String,
        "custodian_type": pl.String,
        "exposure_usd": decimal,
        "own_funds": decimal,
        "share": decimal,
        "status": pl.String,
        "threshold": decimal,
        "limit_usd": decimal,
        "excess_usd": decimal,
        "message": pl.String,
    }


def empty_large_exposures() -> pl.DataFrame:
    """large_exposures' columns without a row (the report's, when they cannot be computed)."""
    import polars as pl

    return pl.DataFrame(schema=_large_exposure_schema())


def _large_exposure_rows(exposures: pl.DataFrame) -> pl.DataFrame:
    """CON-06 in the long format: own funds (firm), and per counterparty its exposure and share."""
    import polars as pl

    text = pl.lit(None, dtype=pl.String)
    decimal = pl.lit(None, dtype=pl.Decimal(38, 18))
    base = exposures.with_columns(
        pl.lit("CON-06").alias("check_id"),
        pl.lit("counterparty").alias("entity_type"),
        pl.col("counterparty").alias("entity_id"),
        text.alias("instrument_id"),
        text.alias("asset"),
    )
    own_funds = base.head(1).select(
        "check_id",
        pl.lit("firm").alias("entity_type"),
        pl.lit("firm").alias("entity_id"),
        "instrument_id",
        "asset",
        pl.lit("own_funds").alias("metric"),
        pl.lit("usd").alias("unit"),
        pl.col("own_funds").alias("value"),
        decimal.alias("threshold"),
        text.alias("status"),
        text.alias("message"),
    )
    exposure = base.select(
        "check_id",
        "entity_type",
        "entity_id",
        "instrument_id",
        "asset",
        (pl.col("kind") + pl.lit("_exposure_usd")).alias("metric"),
        pl.lit("usd").alias("unit"),
        pl.col("exposure_usd").alias("value"),
        decimal.alias("threshold"),
        text.alias("status"),
        text.alias("message"),
    )
    share = base.select(
        "check_id",
        "entity_type",
        "entity_id",
        "instrument_id",
        "asset",
        pl.lit(CHECK_METRICS["CON-06"]).alias("metric"),
        pl.lit("ratio").alias("unit"),
        pl.col("share").alias("value"),
        "threshold",
        "status",
        "message",
    )
    return pl.concat([own_funds, exposure, share], how="vertical")


def concentration_table(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    config: Config,
    failed: dict[str, str] | None = None,
) -> pl.DataFrame:
    """concentration.csv: every CON check's figures in the long format TABLE_COLUMNS.

    Sorted by check_id, instrument_id, entity_type, entity_id, asset, metric (NULLs first), so
    an instrument's OI rows and its groups sit together. Values are exact (not rounded).
    `failed` (the report's): a check whose figures cannot be computed is left out and named
    there (check_id -> the error) instead of failing the whole table.
    """
    import polars as pl

    from reports.errors import attempt

    empty = pl.DataFrame(schema=_table_schema())

    def rows(check_id: str) -> pl.DataFrame:
        if failed is None:
            return metric_rows(con, as_of, config, check_id)
        return attempt(
            failed, check_id, functools.partial(metric_rows, con, as_of, config, check_id), empty
        )

    frames = [rows(check_id) for check_id in CHECK_METRICS]
    return sort_concentration(pl.concat(frames, how="vertical").select(TABLE_COLUMNS))


def sort_concentration(table: pl.DataFrame) -> pl.DataFrame:
    """concentration.csv's order: check_id, instrument_id, entity_type, entity_id, asset,
    metric (NULLs first), then the remaining columns, so that the order is total: a custodian
    and a client group of the same name are both CON-06 counterparties with the same metric
    (concentration review of 2026-12-05), and only their figures tell them apart."""
    keys = ["check_id", "instrument_id", "entity_type", "entity_id", "asset", "metric"]
    keys += [c for c in TABLE_COLUMNS if c not in keys]
    return table.sort(keys, nulls_last=False, maintain_order=True)


def exception_rows(ctx: CheckContext, check_id: str) -> pl.DataFrame:
    """The exceptions of one CON check (exception_schema columns): its graded metric's warn and
    breach rows."""
    import polars as pl

    from reports.checks.model import CheckNotEvaluated, exception_schema

    rows = metric_rows(ctx.con, ctx.as_of, ctx.config, check_id).filter(
        pl.col("metric") == CHECK_METRICS[check_id]
    )
    missing = rows.filter(pl.col("status") == "not_evaluated")
    if missing.height:  # DESIGN.md section 5: a check that cannot run
        msg = f"{check_id} cannot be evaluated: {missing['message'][0]}"
        if check_id == "CON-06":
            msg += (
                ". Add the item to the capital file, or set [capital] regime in mir.toml to the "
                "regime that applies"
            )
        raise CheckNotEvaluated(msg)
    schema = exception_schema()
    return rows.filter(pl.col("status").is_in(list(EXCEPTION_STATUSES))).select(
        [pl.col(name).cast(dtype) for name, dtype in schema.items()]
    )


def present_concentration(table: pl.DataFrame) -> pl.DataFrame:
    """concentration.csv as text, rounded half-even (DESIGN.md section 4): usd 2 dp; ratio,
    contracts and index 8 dp; count 0 dp. value and threshold become strings (empty = NULL)."""
    import polars as pl

    def rounded(column: str) -> pl.Expr:
        value = pl.col(column)
        unit = pl.col("unit")
        return (
            pl.when(unit == "usd")
            .then(value.round(2).cast(pl.Decimal(38, 2)).cast(pl.String))
            .when(unit == "count")
            .then(value.round(0).cast(pl.Decimal(38, 0)).cast(pl.String))
            .otherwise(value.round(8).cast(pl.Decimal(38, 8)).cast(pl.String))
            .alias(column)
        )

    return table.with_columns(rounded("value"), rounded("threshold"))
