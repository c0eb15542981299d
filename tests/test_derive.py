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


@pytest.fixture(scope="module")
def _two_days_loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the two sample days loaded, built once for the module (closed, so its
    file may be copied); each test works on its own copy."""
    path = init_db(tmp_path_factory.mktemp("derive") / "two-days.duckdb")
    connection = connect(path)
    try:
        for day in (DAY1, DAY2):
            load_snapshot(connection, SAMPLES / day.isoformat())
    finally:
        connection.close()
    assert not path.with_name(path.name + ".wal").exists()
    return path


def _copy_of_two_days(source: Path, target: Path) -> Path:
    """The two loaded days as a fresh database file of the test's own, as init_db and two
    load_snapshot calls would leave it."""
    shutil.copyfile(source, target)
    return target


@pytest.fixture
def con(tmp_path: Path, _two_days_loaded: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(_copy_of_two_days(_two_days_loaded, tmp_path / "derive.duckdb"))
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


def test_reloading_an_earlier_date_keeps_the_later_dates_stored_rows(
    con: duckdb.DuckDBPyConnection, snapshots: Path
) -> None:
    """A reload refreshes its own date only: the stored rows of the dates after it stay (a
    refresh deleting from its date on left the later days with no valuation, hence no figures,
    until their own reload)."""
    before = {table: _counts(con, table) for table in derive.DERIVED_TABLES}
    assert all(set(counts) == {DAY1, DAY2} for counts in before.values()), before
    load_snapshot(con, snapshots / DAY1.isoformat())
    assert {table: _counts(con, table) for table in derive.DERIVED_TABLES} == before
    assert _positions_differences(con, DAY2) == 0
    for table, view in derive.DERIVED:
        assert _differences(con, table, view) == 0, table


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


def test_a_database_from_before_the_derivation_was_recorded_is_valued_again(
    two_days: Path,
) -> None:
    path = two_days
    con = connect(path)
    try:
        # a database written by an older version: stale derived rows, another fingerprint and
        # no record of how its derived rows were computed
        con.execute("DELETE FROM position_values WHERE as_of_date = ?", [DAY1])
        con.execute("UPDATE account_equity_values SET equity = equity + 1")
        con.execute("CREATE OR REPLACE TABLE mir_schema AS SELECT 'an older schema' AS fingerprint")
    finally:
        con.close()
    with open_db(path) as upgraded:
        assert set(_counts(upgraded, "position_values")) == {DAY1, DAY2}
        for day in (DAY1, DAY2):
            assert _positions_differences(upgraded, day) == 0, day
        for table, view in derive.DERIVED:
            assert set(_counts(upgraded, table)) == {DAY1, DAY2}, table
            assert _differences(upgraded, table, view) == 0, table


Edits = dict[str, list[tuple[str, str]]]


def _edited_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: Edits) -> None:
    """This version's schema and view scripts with `edits` (file name -> [(old, new) text, or
    ("", text) to append]), as the scripts reports.db runs from now on (a later version)."""
    folder = tmp_path / "edited-scripts"
    folder.mkdir()
    scripts = []
    for script in db_module.schema_scripts():
        text = script.read_text(encoding="utf-8")
        for old, new in edits.get(script.name, []):
            if old:
                assert old in text, (script.name, old)
                text = text.replace(old, new)
            else:
                text += new
        copy = folder / f"{script.parent.name}-{script.name}"
        copy.write_text(text, encoding="utf-8")
        scripts.append(copy)
    monkeypatch.setattr(db_module, "schema_scripts", lambda: scripts)


def _upgrade_after_tampering(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Marks the stored rows (what a revaluation would put right), then opens the database as a
    writable command does (which brings its schema up to date)."""
    con = connect(path)
    try:
        con.execute("UPDATE account_equity_values SET equity = equity + 1")
        con.execute("UPDATE position_values SET notional = notional + 1")
    finally:
        con.close()
    with open_db(path) as upgraded:
        yield upgraded


@pytest.fixture
def two_days(tmp_path: Path, _two_days_loaded: Path) -> Path:
    return _copy_of_two_days(_two_days_loaded, tmp_path / "upgrade.duckdb")


def test_a_script_change_outside_the_derivation_keeps_the_stored_rows(
    tmp_path: Path, two_days: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new presentation macro body, a new view and a comment in a computing view run the
    scripts again but do not value every date again (hours for years of history at 1M accounts):
    the stored rows, marked beforehand, are still there."""
    derivation = db_module.derivation()
    _edited_scripts(
        tmp_path,
        monkeypatch,
        {
            "00_macros.sql": [
                ("ELSE '' END", "ELSE '' END || ''"),
                # a comment and another layout inside a macro the derivation uses
                ("MACRO dmul(a, b) AS (", "MACRO dmul(a, b) AS ( -- a comment\n   "),
            ],
            "50_stale_runs.sql": [
                ("", "\nCREATE OR REPLACE VIEW v_new_in_this_version AS SELECT 1 AS x;\n")
            ],
            "20_v_account_equity.sql": [("", "\n-- a comment\n")],
        },
    )
    assert db_module.derivation() == derivation
    for upgraded in _upgrade_after_tampering(two_days):
        assert upgraded.execute("SELECT x FROM v_new_in_this_version").fetchall() == [(1,)]
        assert db_module.stored_fingerprint(upgraded) == db_module.schema_fingerprint()
        for table, view in derive.DERIVED:
            assert _differences(upgraded, table, view) > 0, table  # kept as they were
        assert _positions_differences(upgraded, DAY2) > 0


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param(  # a macro the computing views use (the same products, written otherwise)
            {
                "00_macros.sql": [
                    (
                        "trunc(a::DECIMAL(38,18))::DECIMAL(38,0) * trunc(b::DECIMAL(38,18))::DECIMAL(38,0)",
                        "trunc(b::DECIMAL(38,18))::DECIMAL(38,0) * trunc(a::DECIMAL(38,18))::DECIMAL(38,0)",
                    )
                ]
            },
            id="dmul",
        ),
        pytest.param(  # a typed parameter, which DuckDB's catalog text of the macro leaves out
            {"00_macros.sql": [("MACRO dmul(a, b) AS", "MACRO dmul(a, b DECIMAL(38,18)) AS")]},
            id="dmul_parameter_type",
        ),
        pytest.param(  # a view the valuation's input view reads
            {"05_v_asset_prices.sql": [("WHERE p.kind = 'asset'", "WHERE 'asset' = p.kind")]},
            id="v_asset_prices",
        ),
        pytest.param(  # a derived table's definition
            {"10_v_positions.sql": [("    tier INTEGER,\n", "    tier BIGINT,\n")]},
            id="position_values",
        ),
    ],
)
def test_a_change_to_the_derivation_values_every_date_again(
    tmp_path: Path,
    two_days: Path,
    monkeypatch: pytest.MonkeyPatch,
    edits: Edits,
) -> None:
    derivation = db_module.derivation()
    _edited_scripts(tmp_path, monkeypatch, edits)
    assert db_module.derivation().fingerprint != derivation.fingerprint
    for upgraded in _upgrade_after_tampering(two_days):
        for day in (DAY1, DAY2):
            assert _positions_differences(upgraded, day) == 0, day
        for table, view in derive.DERIVED:
            assert set(_counts(upgraded, table)) == {DAY1, DAY2}, table
            assert _differences(upgraded, table, view) == 0, table


def test_a_derived_table_defined_otherwise_is_made_anew(two_days: Path) -> None:
    """The recorded derivation matches, but a derived table is not what the scripts define (or is
    missing): it is created anew and every date valued again."""
    con = connect(two_days)
    try:
        con.execute("ALTER TABLE position_values DROP COLUMN unrealized_pnl")
        con.execute("DROP TABLE segregation_values")
        con.execute("UPDATE account_equity_values SET equity = equity + 1")
        con.execute("UPDATE mir_schema SET fingerprint = 'an older schema'")
    finally:
        con.close()
    with open_db(two_days) as upgraded:
        for day in (DAY1, DAY2):
            assert _positions_differences(upgraded, day) == 0, day
        for table, view in derive.DERIVED:
            assert set(_counts(upgraded, table)) == {DAY1, DAY2}, table
            assert _differences(upgraded, table, view) == 0, table


def test_the_derivation_covers_what_computes_the_rows() -> None:
    """Reached by name from the computing views and the valuation: the macros and views they
    use; not the presentation macros or the investigations' views."""
    objects = set(db_module.derivation().objects)
    assert {"dmul", "v_asset_prices", "v_position_inputs", "v_account_equity_computed",
            "v_segregation_computed"} <= objects  # fmt: skip
    assert not {"fmt_usd", "run_is_stale", "v_open_interest", "segregation_statement"} & objects


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


def test_a_valued_frame_goes_to_duckdb_without_a_copy(tmp_path: Path) -> None:
    """A valued frame's columns are chunked unlike each other (the computed ones unlike the
    inputs). arrow_table hands them over as they are: DataFrame.to_arrow would have aligned
    them by copying the whole frame into one chunk (1 s and 450 MiB at 1M accounts). DuckDB
    still reads the rows in order, every type intact."""
    import polars as pl

    amounts = pl.concat(
        [
            pl.Series("amount", [Decimal("1.5"), None], dtype=pl.Decimal(38, 18)),
            pl.Series("amount", [Decimal("-2.25")], dtype=pl.Decimal(38, 18)),
        ],
        rechunk=False,
    )
    ids = pl.concat(
        [pl.Series("position_id", ["p1"]), pl.Series("position_id", ["p2", "p3"])],
        rechunk=False,
    )
    flags = pl.Series("is_inverse", [True, None, False])
    frame = pl.DataFrame([ids, amounts, flags])
    chunks = frame.n_chunks("all")
    assert chunks == [2, 2, 1]  # misaligned: ids split 1+2, amounts 2+1

    table = valuation_module.arrow_table(frame)

    assert [column.num_chunks for column in table.columns] == chunks
    assert frame.n_chunks("all") == chunks  # the frame itself was not rechunked either
    connection = duckdb.connect(str(tmp_path / "arrow.duckdb"))
    connection.register("valued", table)
    rows = connection.execute("SELECT * FROM valued").fetchall()
    assert rows == [
        ("p1", Decimal("1.5"), True),
        ("p2", None, None),
        ("p3", Decimal("-2.25"), False),
    ]
    connection.close()


def test_each_valued_chunk_is_released_once_stored_inside_the_transaction(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load values a day chunk by chunk inside its one transaction. A chunk handed to
    DuckDB with con.register() stayed referenced until the transaction ended, unregistered or
    not (duckdb/duckdb-python#469): every chunk of the day was held until COMMIT, and the 10M-
    account load went past 20 GiB (41 chunks) and was killed. Each chunk's Arrow table must be
    gone once its rows are stored, while the transaction is still open."""
    import gc
    import weakref

    handed_over: list[weakref.ref[object]] = []
    alive_after_store: list[int] = []
    to_arrow = valuation_module.arrow_table
    store = valuation_module._store

    def tracked(frame: object) -> object:
        table = to_arrow(frame)  # type: ignore[arg-type]
        handed_over.append(weakref.ref(table))
        return table

    def store_and_count(*args: object) -> None:
        store(*args)  # type: ignore[arg-type]
        gc.collect()
        alive_after_store.append(sum(ref() is not None for ref in handed_over))

    monkeypatch.setattr(valuation_module, "arrow_table", tracked)
    monkeypatch.setattr(valuation_module, "_store", store_and_count)
    con.execute("BEGIN TRANSACTION")
    valuation_module.value_positions(con, DAY2, chunk_rows=100)
    assert len(handed_over) > 3
    assert alive_after_store == [0] * len(handed_over)
    con.execute("COMMIT")
    assert _positions_differences(con, DAY2) == 0  # the rows stored are the whole valuation


def test_the_valuation_values_each_chunk_as_one_piece(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk reaches Polars as one contiguous piece, read as such where DuckDB fills the
    batches (the day's join) and made so where it does not (slices of the temporary table, cut
    smaller and unevenly), and Polars gives every column of its valuation back in the same
    pieces: DuckDB then reads whole batches (a chunk spread over several input batches came back
    with its columns chunked unlike each other, and the insert at L took about 1 s longer). The
    last part is Polars' behaviour, which the speed relies on: a Polars that changes it fails
    here. The stored rows are those of one pass either way."""
    import pyarrow as pa

    positions = valuation_module._positions(con, DAY2, 250)
    assert positions.height > 600
    for column in positions.get_columns():
        sizes = [len(piece) for piece in pa.chunked_array(column).chunks]
        assert sizes[:-1] == [250] * (len(sizes) - 1) and 0 < sizes[-1] <= 250

    valued_pieces: list[set[tuple[int, ...]]] = []
    input_chunks: list[int] = []

    def value_and_record(chunk: object, tiers: object) -> object:
        input_chunks.append(chunk.n_chunks())  # type: ignore[attr-defined]
        valued = value_frame(chunk, tiers)  # type: ignore[arg-type]
        table = valuation_module.arrow_table(valued)
        valued_pieces.append({tuple(len(p) for p in column.chunks) for column in table.columns})
        return valued

    monkeypatch.setattr(valuation_module, "value_frame", value_and_record)
    fetch = valuation_module._positions

    def fetched_in_uneven_pieces(con: object, day: object, chunk_rows: int = 250) -> object:
        import polars as pl

        whole = fetch(con, day, chunk_rows)  # type: ignore[arg-type]
        pieces = [whole.slice(start, 37) for start in range(0, whole.height, 37)]
        return pl.concat(pieces, rechunk=False)  # as DuckDB cuts a filtered scan

    for fetch_rows, chunk_rows, uneven in (
        (10**9, 250, False),
        (300, 100, False),
        (10**9, 100, True),
    ):
        if uneven:
            monkeypatch.setattr(valuation_module, "_positions", fetched_in_uneven_pieces)
        input_chunks.clear()
        valued_pieces.clear()
        valuation_module.value_positions(con, DAY2, chunk_rows=chunk_rows, fetch_rows=fetch_rows)
        assert input_chunks and set(input_chunks) == {1}, (fetch_rows, input_chunks)
        assert all(len(pieces) == 1 for pieces in valued_pieces), valued_pieces
        assert _positions_differences(con, DAY2) == 0  # against a fresh valuation of one pass


def test_valuation_chunks_fill_whole_row_groups() -> None:
    """Each chunk of position_values is one insert: a whole number of DuckDB row groups leaves no
    part-filled group for the checkpoint to merge and rewrite (reports.db.ROW_GROUP_ROWS)."""
    assert valuation_module.CHUNK_ROWS % db_module.ROW_GROUP_ROWS == 0
    assert valuation_module.FETCH_ROWS >= valuation_module.CHUNK_ROWS


def test_the_engines_versions_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another DuckDB or Polars may compute other figures: it values every date again and gives
    other run ids (reports.paths.code_fingerprint)."""
    from reports import paths

    def fingerprints() -> tuple[str, str, str]:
        return (
            db_module.schema_fingerprint(),
            db_module.derivation().fingerprint,
            paths._code_fingerprint.__wrapped__(),  # uncached
        )

    before = fingerprints()
    other = b"duckdb 9.9.9\0polars 9.9.9"
    monkeypatch.setattr(db_module, "engine_versions", lambda: other)
    monkeypatch.setattr(paths, "engine_versions", lambda: other)
    assert all(new != old for new, old in zip(fingerprints(), before, strict=True))


def test_a_macros_default_and_a_quoted_view_name_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review of 2026-12-04 (second): DuckDB's catalog shows neither a macro parameter's default
    nor its type, and a word match missed a view named with characters outside [a-z0-9_]: a
    change to either kept stale figures."""
    view = "CREATE OR REPLACE VIEW v_asset_prices AS"
    helper = (
        "CREATE OR REPLACE MACRO scaled(x, t := 1) AS x * t;\n"
        'CREATE OR REPLACE VIEW "v-helper" AS SELECT 1 AS one;\n'
    )
    reads = (
        "WHERE p.kind = 'asset'",
        "WHERE p.kind = 'asset' AND scaled(1) = (SELECT one FROM \"v-helper\")",
    )

    def derivation_with(text: str, folder: str) -> db_module.Derivation:
        monkeypatch.undo()
        (tmp_path / folder).mkdir()
        edits = {"05_v_asset_prices.sql": [(view, text + view), reads]}
        _edited_scripts(tmp_path / folder, monkeypatch, edits)
        return db_module.derivation()

    first = derivation_with(helper, "first")
    assert {"scaled", "v-helper"} <= set(first.objects)
    default = derivation_with(helper.replace("t := 1", "t := 2"), "default")
    body = derivation_with(helper.replace("SELECT 1 AS one", "SELECT 2 - 1 AS one"), "body")
    assert len({first.fingerprint, default.fingerprint, body.fingerprint}) == 3


def _tie_day() -> duckdb.DuckDBPyConnection:
    """An in-memory database with one date whose one balance x its asset's price is an exact
    tie at the 18th decimal: 5e-10 x 5e-9 = 2.5e-18."""
    from snapshots import memory_db

    con = memory_db()
    con.execute("INSERT INTO balances VALUES (?, 'C1', 'TIE', 0.0000000005)", [DAY1])
    con.execute("INSERT INTO prices VALUES (?, 'asset', 'TIE', 0.000000005)", [DAY1])
    return con


def test_the_stored_equity_usd_is_the_exact_product_at_a_tie() -> None:
    """account_equity_values.equity_usd is exact_product's (half-even: 2e-18), not the view's
    dmul (half-up: 3e-18): what the position valuation's USD figures do (module docstring)."""
    con = _tie_day()
    try:
        derive.refresh(con)
        stored = con.execute(
            "SELECT equity_usd FROM account_equity_values WHERE asset = 'TIE'"
        ).fetchall()
        computed = con.execute(
            "SELECT equity_usd FROM v_account_equity_computed WHERE asset = 'TIE'"
        ).fetchall()
        assert stored == [(Decimal("2E-18"),)]
        assert computed == [(Decimal("3E-18"),)]  # dmul, which the stored column does not use
    finally:
        con.close()


def test_refreshing_leaves_no_product_function_behind_even_after_a_failure() -> None:
    """refresh_dates registers exact_product under a name of its own for its statements and
    removes it: none is left on the connection; and one left by a refresh whose transaction
    failed (its removal fails there too) does not block the next refresh (one fixed name did)."""
    con = _tie_day()

    def registered() -> list[tuple[str]]:
        return con.execute(
            "SELECT function_name FROM duckdb_functions() WHERE function_name LIKE ?",
            [derive.EXACT_PRODUCT + "%"],
        ).fetchall()

    try:
        derive.refresh(con)
        assert registered() == []
        # 1e19 x 1e19: the product overflows inside the transaction, which is then aborted
        con.execute("UPDATE balances SET balance = 9999999999999999999")
        con.execute("UPDATE prices SET price = 9999999999999999999")
        con.execute("BEGIN TRANSACTION")
        with pytest.raises(duckdb.OutOfRangeException, match=r"account_equity_values\.equity_usd"):
            derive.refresh(con)
        con.execute("ROLLBACK")
        con.execute("UPDATE balances SET balance = 2")
        con.execute("UPDATE prices SET price = 3")
        derive.refresh(con)
        assert con.execute("SELECT equity_usd FROM account_equity_values").fetchall() == [
            (Decimal(6),)
        ]
    finally:
        con.close()


def test_a_date_with_rows_in_any_one_snapshot_table_is_stored(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """refresh (after a schema change) values every date the valuation reads rows of: a date
    present in one snapshot table only (rows inserted by other means than the loader) counts."""
    later = dt.date(2026, 3, 9)
    for table in ("positions", "balances", "custody", "prices", "loads"):
        con.execute(
            f"INSERT INTO {table} SELECT * REPLACE (?::DATE AS as_of_date) FROM {table} "
            "WHERE as_of_date = ? LIMIT 1",
            [later, DAY2],
        )
        assert derive.stored_dates(con) == [DAY1, DAY2, later], table
        con.execute(f"DELETE FROM {table} WHERE as_of_date = ?", [later])


def test_the_derivation_covers_the_valuations_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored rows are valued again when reports/valuation.py or reports/derive.py changes:
    both are valuation sources, and their text counts in the derivation itself, not only in the
    schema fingerprint (which runs the scripts but keeps the derived rows)."""
    assert [p.resolve() for p in db_module.valuation_sources()] == [
        Path(valuation_module.__file__).resolve(),
        Path(derive.__file__).resolve(),
    ]
    sources = [tmp_path / "valuation.py", tmp_path / "derive.py"]
    for source in sources:
        source.write_text("# one version\n", encoding="utf-8")
    monkeypatch.setattr(db_module, "valuation_sources", lambda: sources)
    before = db_module.derivation().fingerprint
    sources[1].write_text("# another version\n", encoding="utf-8")
    assert db_module.derivation().fingerprint != before
