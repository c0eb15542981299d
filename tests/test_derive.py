"""The derived tables (reports.derive): each date's valuation stored by the loader.

v_positions, v_account_equity and v_segregation read tables the loader fills in the load's
transaction; these tests hold those tables to exactly what the computing views give, per date,
through reloads, failed loads and schema changes.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports import db as db_module
from reports import derive
from reports import valuation as valuation_module
from reports.db import connect, init_db, open_db
from reports.errors import InputError
from reports.load import load_snapshot
from reports.valuation import inputs as valuation_inputs
from reports.valuation import value_frame

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def _differences(con: duckdb.DuckDBPyConnection, table: str, view: str) -> int:
    """Rows in one but not the other (multiset difference, both ways)."""
    row = con.execute(
        f"SELECT (SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL SELECT * FROM {view})) "
        f"+ (SELECT count(*) FROM (SELECT * FROM {view} EXCEPT ALL SELECT * FROM {table}))"
    ).fetchall()
    return int(row[0][0])


def _counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[dt.date, int]:
    return dict(
        con.execute(f"SELECT as_of_date, count(*) FROM {table} GROUP BY 1 ORDER BY 1").fetchall()
    )


@pytest.fixture
def snapshots(tmp_path: Path) -> Path:
    """Two sample days copied (so a test may edit them)."""
    root = tmp_path / "snapshots"
    for day in (DAY1, DAY2):
        shutil.copytree(SAMPLES / day.isoformat(), root / day.isoformat())
    return root


@pytest.fixture
def con(tmp_path: Path, snapshots: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = init_db(tmp_path / "derive.duckdb")
    connection = connect(path)
    for day in (DAY1, DAY2):
        load_snapshot(connection, snapshots / day.isoformat())
    yield connection
    connection.close()


def _positions_differences(con: duckdb.DuckDBPyConnection, day: dt.date) -> int:
    """Stored position_values rows of `day` against a fresh Polars valuation of that day."""
    con.execute("SELECT 1").fetchall()  # completes a result the test left unfinished (fetchone)
    con.register("fresh_valuation", value_frame(*valuation_inputs(con, day)))
    try:
        return _differences(
            con,
            f"(SELECT * FROM position_values WHERE as_of_date = DATE '{day}')",
            "fresh_valuation",
        )
    finally:
        con.unregister("fresh_valuation")


def test_stored_valuation_equals_the_computing_views(con: duckdb.DuckDBPyConnection) -> None:
    for day in (DAY1, DAY2):
        assert _positions_differences(con, day) == 0, day
    for table, view in derive.DERIVED:
        counts = _counts(con, table)
        assert set(counts) == {DAY1, DAY2} and min(counts.values()) > 0, table
        assert _differences(con, table, view) == 0, table
    public = con.execute("SELECT count(*) FROM v_positions").fetchone()
    assert public == (sum(_counts(con, "position_values").values()),)


def test_reload_replaces_only_its_date(con: duckdb.DuckDBPyConnection, snapshots: Path) -> None:
    before_day1 = con.execute(
        "SELECT * FROM position_values WHERE as_of_date = ? ORDER BY position_id", [DAY1]
    ).fetchall()
    prices = snapshots / DAY2.isoformat() / "prices.csv"
    lines = prices.read_text(encoding="utf-8").splitlines()
    # every instrument mark of day 2 x 10: its linear notionals must follow
    edited = [lines[0]]
    for line in lines[1:]:
        kind, symbol, price = line.split(",")
        edited.append(f"{kind},{symbol},{Decimal(price) * 10}" if kind == "instrument" else line)
    prices.write_text("\n".join(edited) + "\n", encoding="utf-8")
    old_notional = con.execute(
        "SELECT sum(notional) FROM position_values WHERE as_of_date = ? AND NOT is_inverse", [DAY2]
    ).fetchone()
    load_snapshot(con, snapshots / DAY2.isoformat())

    new_notional = con.execute(
        "SELECT sum(notional) FROM position_values WHERE as_of_date = ? AND NOT is_inverse", [DAY2]
    ).fetchone()
    assert old_notional is not None and new_notional is not None
    assert new_notional[0] == old_notional[0] * 10
    assert _positions_differences(con, DAY2) == 0
    for table, view in derive.DERIVED:
        assert _differences(con, table, view) == 0, table
    after_day1 = con.execute(
        "SELECT * FROM position_values WHERE as_of_date = ? ORDER BY position_id", [DAY1]
    ).fetchall()
    assert after_day1 == before_day1


def test_failed_load_leaves_the_valuation_alone(
    con: duckdb.DuckDBPyConnection, snapshots: Path
) -> None:
    before = {table: _counts(con, table) for table, _ in derive.DERIVED}
    stored = con.execute(
        "SELECT sum(notional), sum(maintenance_margin) FROM v_positions"
    ).fetchone()
    positions = snapshots / DAY2.isoformat() / "positions.csv"
    text = positions.read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(text[1].split(",")[2], "NO-SUCH-INSTRUMENT", 1)
    positions.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_snapshot(con, snapshots / DAY2.isoformat())
    assert {table: _counts(con, table) for table, _ in derive.DERIVED} == before
    assert (
        con.execute("SELECT sum(notional), sum(maintenance_margin) FROM v_positions").fetchone()
        == stored
    )


def test_a_schema_change_values_every_date_again(tmp_path: Path, snapshots: Path) -> None:
    path = init_db(tmp_path / "upgrade.duckdb")
    con = connect(path)
    try:
        for day in (DAY1, DAY2):
            load_snapshot(con, snapshots / day.isoformat())
        # a database written by an older version: stale derived rows, another fingerprint
        con.execute("DELETE FROM position_values WHERE as_of_date = ?", [DAY1])
        con.execute("UPDATE account_equity_values SET equity = equity + 1")
        # ... whose valuation table lacked a column the new views read
        con.execute("ALTER TABLE position_values DROP COLUMN unrealized_pnl")
        con.execute("UPDATE mir_schema SET fingerprint = 'an older schema'")
    finally:
        con.close()
    with open_db(path) as upgraded:
        assert set(_counts(upgraded, "position_values")) == {DAY1, DAY2}
        for day in (DAY1, DAY2):
            assert _positions_differences(upgraded, day) == 0, day
        for table, view in derive.DERIVED:
            assert set(_counts(upgraded, table)) == {DAY1, DAY2}, table
            assert _differences(upgraded, table, view) == 0, table


def test_the_fingerprint_covers_the_polars_valuation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new version of reports/valuation.py values every stored date again, like a new view."""
    assert Path(valuation_module.__file__).resolve() in [
        p.resolve() for p in db_module.valuation_sources()
    ]
    source = tmp_path / "valuation.py"
    source.write_text("# one version\n", encoding="utf-8")
    monkeypatch.setattr(db_module, "valuation_sources", lambda: [source])
    before = db_module.schema_fingerprint()
    source.write_text("# another version\n", encoding="utf-8")
    assert db_module.schema_fingerprint() != before


def test_valuing_in_slices_stores_the_same_rows(con: duckdb.DuckDBPyConnection) -> None:
    """value_positions reads the inputs in slices beyond fetch_rows (through a temporary table)
    and values chunk_rows at a time (memory at 10M accounts): small slices store exactly the
    rows one pass does, and leave no temporary table behind."""
    for fetch_rows, chunk_rows in ((10**9, 250), (300, 100), (200, 1000)):
        for day in (DAY1, DAY2):
            count = _counts(con, "position_values")[day]
            assert count > 600  # several slices of each kind
            valuation_module.value_positions(con, day, chunk_rows=chunk_rows, fetch_rows=fetch_rows)
            assert _counts(con, "position_values")[day] == count
            assert _positions_differences(con, day) == 0, (day, fetch_rows, chunk_rows)
    tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'valuation_inputs'"
    ).fetchall()
    assert tables == [(0,)]


def test_valuation_chunks_fill_whole_row_groups() -> None:
    """Each chunk of position_values is one insert: a whole number of DuckDB row groups leaves no
    part-filled group for the checkpoint to merge and rewrite (reports.db.ROW_GROUP_ROWS)."""
    assert valuation_module.CHUNK_ROWS % db_module.ROW_GROUP_ROWS == 0
    assert valuation_module.FETCH_ROWS >= valuation_module.CHUNK_ROWS
