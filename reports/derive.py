"""Derived tables: each date's valuations, computed once and stored.

`v_positions`, `v_account_equity` and `v_segregation` read the tables `position_values`,
`account_equity_values` and `segregation_values`. Those hold, per as_of_date, the valuation of
reports.valuation (positions, in Polars) and exactly what the views `v_account_equity_computed`
and `v_segregation_computed` compute from the snapshot tables (queries/views/). The loader refreshes a date in the same transaction that
replaces its snapshot rows, so the stored valuation of a date always belongs to its data; a
change to what computes them (reports.db.derivation: these views, the macros and views they
use, reports.valuation, this module, the DuckDB or Polars version) values every date again.

Why: a day's valuation (2M positions at 1M accounts) costs seconds, and every check, report
figure and investigation reads it; computing it once per load instead of once per query is what
keeps the daily job within its time budget (tests/benchmarks/).

Only the loader writes snapshot tables in the product. Code that inserts snapshot rows by other
means (tests) must call `refresh(con)` afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

# (table, the view computing it), in dependency order after position_values (reports.valuation):
# account equity reads v_positions, segregation reads v_account_equity.
DERIVED: tuple[tuple[str, str], ...] = (
    ("account_equity_values", "v_account_equity_computed"),
    ("segregation_values", "v_segregation_computed"),
)
# Every derived table: reports.db.init_schema keeps them across script changes that do not touch
# how they are computed (reports.db.derivation).
DERIVED_TABLES: tuple[str, ...] = ("position_values", *(table for table, _ in DERIVED))


def refresh_dates(con: duckdb.DuckDBPyConnection, dates: Iterable[dt.date]) -> None:
    """Recompute the derived rows of these dates (inside the caller's transaction)."""
    from reports.valuation import value_positions

    for day in sorted(set(dates)):
        value_positions(con, day)
        for table, view in DERIVED:
            con.execute(f"DELETE FROM {table} WHERE as_of_date = ?", [day])
            # No ORDER BY: sorting 2M wide rows cost more time and memory than the valuation
            # itself at 1M accounts; every reader orders what it shows.
            con.execute(f"INSERT INTO {table} SELECT * FROM {view} WHERE as_of_date = ?", [day])


def stored_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """Every date with snapshot rows the valuation reads (or a recorded load)."""
    rows = con.execute(
        "SELECT as_of_date FROM loads UNION SELECT as_of_date FROM positions "
        "UNION SELECT as_of_date FROM balances UNION SELECT as_of_date FROM custody "
        "UNION SELECT as_of_date FROM prices ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Value every stored date again (after a schema change), one date at a time: memory stays
    that of one day's valuation however long the history."""
    refresh_dates(con, stored_dates(con))
