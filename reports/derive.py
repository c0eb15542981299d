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

One column is stored as computed elsewhere: account_equity_values.equity_usd, equity x price, is
the product of `exact_product` (Polars, exact, rounded half-even to 18 decimals, as the
position valuation's USD figures), not of the view's `dmul` macro (half-up; the two differ at
most by 1e-18, at an exact tie). DuckDB's DECIMAL(38,18) product needs dmul's four hugeint
products and roundings: 1.0 s for the 1.5M account-asset rows of a 1M-account day, against
0.25 s in Polars, called by DuckDB on each vector of the insert (nothing fetched, nothing held).

Only the loader writes snapshot tables in the product. Code that inserts snapshot rows by other
means (tests) must call `refresh(con)` afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

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
# The derived columns computed by exact_product instead of the view's expression (module
# docstring): table -> (column, its two factors).
PRODUCTS: dict[str, tuple[str, str, str]] = {
    "account_equity_values": ("equity_usd", "equity", "price"),
}
# The prefix of the name under which refresh_dates registers exact_product on its connection
# (for its own statements only: no view or macro calls it, so other connections never need it).
EXACT_PRODUCT = "mir_exact_product"


def exact_product(a: Any, b: Any) -> Any:
    """a x b for two DECIMAL(38,18) Arrow arrays (DuckDB reads the annotations at registration,
    hence Any: pyarrow is not imported at module level): exact, rounded half-even to 18 decimals (what
    Polars' Decimal(38,18) product gives); NULL where either is. A product from 1e20 raises
    (Polars' ComputeError: it never wraps)."""
    import polars as pl

    return (pl.Series(a) * pl.Series(b)).to_arrow()


def refresh_dates(con: duckdb.DuckDBPyConnection, dates: Iterable[dt.date]) -> None:
    """Recompute the derived rows of these dates (inside the caller's transaction)."""
    import duckdb
    from duckdb.func import PythonUDFType

    from reports.valuation import value_positions

    # A name of its own for each call: a function left registered by a call whose transaction
    # failed (removing it fails there too) would otherwise block the next registration, on this
    # connection or on another connection to the same database.
    name = f"{EXACT_PRODUCT}_{secrets.token_hex(8)}"
    decimal = duckdb.decimal_type(38, 18)
    con.create_function(name, exact_product, [decimal, decimal], decimal, type=PythonUDFType.ARROW)
    try:
        for day in sorted(set(dates)):
            value_positions(con, day)
            for table, view in DERIVED:
                con.execute(f"DELETE FROM {table} WHERE as_of_date = ?", [day])
                _insert(con, table, view, day, name)
    finally:
        # Removed at once: nothing else calls it. In a transaction a failed statement aborted
        # this fails too (the function then stays, under its own name), and that statement's
        # error goes on.
        with contextlib.suppress(duckdb.Error):
            con.remove_function(name)


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, view: str, day: dt.date, product: str
) -> None:
    import duckdb

    # No ORDER BY: sorting 2M wide rows cost more time and memory than the valuation itself at
    # 1M accounts; every reader orders what it shows.
    if table not in PRODUCTS:
        con.execute(f"INSERT INTO {table} SELECT * FROM {view} WHERE as_of_date = ?", [day])
        return
    column, a, b = PRODUCTS[table]
    # (the view's own expression for the column is then never evaluated)
    replaced = f"* REPLACE ({product}({a}, {b}) AS {column})"
    try:
        con.execute(
            f"INSERT INTO {table} SELECT {replaced} FROM {view} WHERE as_of_date = ?", [day]
        )
    except duckdb.InvalidInputException as exc:
        if "overflow" not in str(exc).lower():
            raise
        # as DuckDB's own product would have raised it (the loader's overflow handling)
        msg = f"Overflow in multiplication: {table}.{column} ({a} x {b}): {exc}"
        raise duckdb.OutOfRangeException(msg) from exc


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
