"""`mir load`: a valid snapshot loads exactly; reloads are atomic and idempotent; formats agree."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import random
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_data import BTCUSDT_CUMS
from snapshots import (
    AS_OF,
    SNAPSHOT_MIN,
    add_column,
    convert_all,
    copy_snapshot,
    csv_path,
    delete_rows,
    drop_column,
    load_tables,
    memory_db,
    read_rows,
    set_cell,
    table_contents,
    to_csv_gz,
    to_parquet,
    write_rows,
)

from reports import __version__
from reports.db import ROW_GROUP_ROWS, open_db
from reports.errors import InputError, UsageError, Violation
from reports.load import LoadSummary, load_snapshot, reader, resolve_as_of, validate
from reports.spec import FILES


def all_tables(db_path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return table_contents(con)
    finally:
        con.close()


def loads_rows(db_path: Path) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(
            "SELECT load_id, as_of_date, file, format, sha256, rows, tool_version, replaced "
            "FROM loads ORDER BY loaded_at, file"
        ).fetchall()
    finally:
        con.close()


def query(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# -- the fixture loads, exactly ---------------------------------------------------------------


def the_violation(snap: Path) -> Violation:
    """The one problem loading `snap` into a fresh database finds (exactly one, else fail)."""
    with pytest.raises(InputError) as caught:
        load_snapshot(memory_db(), snap)
    [violation] = caught.value.violations
    return violation


def test_sigterm_rolls_the_load_back_and_says_so(
    run_mir, db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loader review of 2026-12-05: SIGTERM (a service manager's stop) killed `mir load`
    outright, exit 143 and no word, though the README promised what Ctrl-C gives."""
    import os
    import signal

    from reports import derive

    value = derive.refresh_dates

    def value_then_stop(con: Any, dates: Any) -> None:
        value(con, dates)
        os.kill(os.getpid(), signal.SIGTERM)  # mid-transaction: after writing, before COMMIT

    assert run_mir("init").exit_code == 0
    monkeypatch.setattr(derive, "refresh_dates", value_then_stop)
    previous = signal.getsignal(signal.SIGTERM)
    result = run_mir("load", SNAPSHOT_MIN)
    assert result.exit_code == 4, result.output
    assert "stopped by SIGTERM" in result.stderr
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is gone again
    assert query(db_path, "SELECT count(*) FROM loads") == [(0,)]
    assert query(db_path, "SELECT count(*) FROM positions") == [(0,)]


@pytest.fixture(scope="module")
def min_loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """`mir load` of the fixture snapshot into a new database, run once for the module: the
    database (closed; tests read it or copy it, never write it) and click's Result."""
    from click.testing import CliRunner

    from reports.cli import cli

    path = tmp_path_factory.mktemp("min-loaded") / "mir.duckdb"
    result = CliRunner().invoke(
        cli, ["load", str(SNAPSHOT_MIN)], env={"MIR_DB": str(path)}, catch_exceptions=False
    )
    assert not path.with_name(path.name + ".wal").exists()
    return path, result


@pytest.fixture
def min_loaded_copy(min_loaded: tuple[Path, Any], db_path: Path) -> Path:
    """The test's own database (db_path, which run_mir uses) as `mir load` of the fixture
    snapshot into a new database leaves it: a copy of min_loaded's."""
    path, result = min_loaded
    assert result.exit_code == 0, result.output
    shutil.copyfile(path, db_path)
    return db_path


def test_fixture_loads_with_summary_line(min_loaded) -> None:
    db_path, result = min_loaded
    assert result.exit_code == 0, result.output
    # One line on stdout; nothing else (no TTY -> no progress).
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("loaded 2026-03-02: 11 files, 77 rows in ")
    assert "(of which valuing the day " in lines[0]
    assert result.stderr == ""
    counts = {t: len(rows) for t, rows in all_tables(db_path).items()}
    assert counts == {
        "accounts": 6,
        "instruments": 4,
        "risk_tiers": 20,
        "prices": 8,
        "balances": 8,
        "positions": 6,
        "movements": 6,
        "custody": 6,
        "capital": 6,
        "volumes": 3,
        "price_history": 4,
    }


@pytest.fixture(scope="module")
def fixture_db() -> Iterator[duckdb.DuckDBPyConnection]:
    """The fixture snapshot loaded once into an in-memory database (read by several tests)."""
    con = memory_db()
    load_snapshot(con, SNAPSHOT_MIN)
    yield con
    con.close()


def test_values_are_exact_and_defaults_applied(fixture_db) -> None:
    def q(sql: str) -> list[tuple]:
        return fixture_db.execute(sql).fetchall()

    # 18 decimals survive exactly (no float on the way).
    assert q("SELECT balance FROM balances WHERE account_id = 'C003' AND asset = 'ETH'") == [
        (Decimal("2.000000000000000001"),)
    ]
    assert q("SELECT price FROM prices WHERE symbol = 'BTC'") == [(Decimal("62010.123456789"),)]
    # accounts: group_id defaults to account_id, client_category to retail, status to active.
    assert q(
        "SELECT account_id, group_id, client_category, status FROM accounts "
        "WHERE account_id IN ('C002', 'C003', 'H001') ORDER BY account_id",
    ) == [
        ("C002", "G01", "professional", "active"),
        ("C003", "C003", "retail", "active"),
        ("H001", "H001", "retail", "active"),
    ]
    # custody: wallet_type defaults to cold, custodian_type to self.
    assert q("SELECT wallet_type, custodian_type FROM custody WHERE wallet_id = 'W-IF'") == [
        ("cold", "self")
    ]
    # ts: Z, +00:00 and fractions all land as naive UTC.
    assert q(
        "SELECT movement_id, ts FROM movements WHERE movement_id IN ('M004', 'M005') ORDER BY 1"
    ) == [
        ("M004", dt.datetime(2026, 3, 2, 10, 0, 0, 250000)),
        ("M005", dt.datetime(2026, 3, 2, 16, 0, 0)),
    ]
    assert q("SELECT DISTINCT as_of_date FROM positions") == [(dt.date(2026, 3, 2),)]
    # Venue findings are not load errors: negative isolated margin loads as is.
    assert q("SELECT isolated_margin FROM positions WHERE position_id = 'P006'") == [
        (Decimal("-3"),)
    ]


def test_audit_rows_record_hashes_rows_and_version(min_loaded) -> None:
    db_path, result = min_loaded
    assert result.exit_code == 0
    audit = loads_rows(db_path)
    assert len(audit) == 11
    assert len({r[0] for r in audit}) == 1
    by_file = {r[2]: r for r in audit}
    expected_sha = hashlib.sha256((SNAPSHOT_MIN / "positions.csv").read_bytes()).hexdigest()
    assert by_file["positions"][4] == expected_sha
    assert by_file["positions"][5] == 6
    assert by_file["positions"][3] == "csv"
    assert by_file["positions"][6] == __version__
    assert not any(r[7] for r in audit)  # first load: nothing replaced


# -- maintenance_amount: the cum recursion ----------------------------------------------------


def cums_of(con: duckdb.DuckDBPyConnection, instrument_id: str) -> list[Decimal]:
    rows = con.execute(
        "SELECT maintenance_amount FROM risk_tiers WHERE instrument_id = ? ORDER BY tier",
        [instrument_id],
    ).fetchall()
    return [r[0] for r in rows]


def test_maintenance_amount_reproduces_the_btcusdt_reference_cums(fixture_db) -> None:
    """/work/shared/reference: BTCUSDT-like table -> 0, 50, 1,300, ..., 100,016,300."""
    cums = cums_of(fixture_db, "BTCUSDT")
    assert cums == [Decimal(x) for x in BTCUSDT_CUMS]


def test_maintenance_amount_reproduces_the_binance_coin_m_example(fixture_db) -> None:
    """Binance COIN-M BTCUSD (floors 0/10/20/30/50 BTC, 0.4/0.5/1/2.5/5%): level 5 = 1.81 BTC."""
    cums = cums_of(fixture_db, "BTCUSD")
    assert cums[3] == Decimal("0.56")
    assert cums[4] == Decimal("1.81")
    assert cums == [Decimal(x) for x in ("0", "0.01", "0.11", "0.56", "1.81", "6.81")]


def test_maintenance_amount_given_is_kept_and_anchors_the_empty_cells_after_it(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    # BTCUSDT tier 4 given as 20000 (not the recursion's 16300): tiers 5.. continue from it.
    set_cell(snap, "risk_tiers", 4, "maintenance_amount", "20000")
    con = memory_db()
    load_snapshot(con, snap)
    cums = cums_of(con, "BTCUSDT")
    assert cums[:5] == [
        Decimal("0"),
        Decimal("50"),
        Decimal("1300"),
        Decimal("20000"),
        Decimal("270000"),
    ]
    assert cums[-1] == Decimal("100020000")
    # The ETHUSD table starts at tier 0: numbering is free, order is by tier.
    eth = con.execute(
        "SELECT tier, maintenance_amount FROM risk_tiers WHERE instrument_id = 'ETHUSD-260327' ORDER BY tier"
    ).fetchall()
    assert eth == [(0, Decimal("0")), (1, Decimal("10"))]


def test_maintenance_amount_column_may_be_absent(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    drop_column(snap, "risk_tiers", "maintenance_amount")
    drop_column(snap, "risk_tiers", "max_leverage")
    con = memory_db()
    load_snapshot(con, snap)
    assert cums_of(con, "ETHUSDT-260327") == [Decimal("0"), Decimal("500")]
    assert cums_of(con, "BTCUSD")[4] == Decimal("1.81")
    assert con.execute(
        "SELECT count(*) FROM risk_tiers WHERE max_leverage IS NOT NULL"
    ).fetchone() == (0,)


# -- atomic, idempotent reloads ---------------------------------------------------------------


def test_bad_reload_leaves_the_database_exactly_as_it_was(
    tmp_path, run_mir, min_loaded_copy
) -> None:
    db_path = min_loaded_copy
    before = all_tables(db_path)
    audit_before = loads_rows(db_path)

    snap = copy_snapshot(tmp_path)
    set_cell(snap, "balances", 1, "balance", "999")  # a change that must NOT land
    set_cell(snap, "movements", 3, "amount", "5,00")  # the corrupted file
    result = run_mir("load", snap)
    assert result.exit_code == 3, result.output
    assert "movements.csv, row 3, column amount" in result.stderr
    assert "nothing was loaded" in result.stderr
    assert all_tables(db_path) == before
    assert loads_rows(db_path) == audit_before


def test_bad_cross_file_reload_leaves_the_database_unchanged(
    tmp_path, run_mir, min_loaded_copy
) -> None:
    db_path = min_loaded_copy
    before = all_tables(db_path)
    audit_before = loads_rows(db_path)
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 2, "account_id", "NOPE")
    result = run_mir("load", snap)
    assert result.exit_code == 3, result.output
    assert "positions.csv, row 2, column account_id: got 'NOPE'" in result.stderr
    assert all_tables(db_path) == before
    assert loads_rows(db_path) == audit_before


def test_reloading_the_same_data_is_idempotent(run_mir, min_loaded_copy) -> None:
    db_path = min_loaded_copy
    first = all_tables(db_path)
    result = run_mir("load", SNAPSHOT_MIN)
    assert result.exit_code == 0, result.output
    assert "(replaced previous load)" in result.stdout
    assert all_tables(db_path) == first
    audit = loads_rows(db_path)
    load_ids = list(dict.fromkeys(r[0] for r in audit))
    assert len(load_ids) == 2
    assert [r[7] for r in audit if r[0] == load_ids[1]] == [True] * 11
    assert {r[4] for r in audit if r[2] == "positions"} == {
        hashlib.sha256((SNAPSHOT_MIN / "positions.csv").read_bytes()).hexdigest()
    }


def test_reload_replaces_the_date_and_keeps_other_dates(tmp_path) -> None:
    con = memory_db()
    earlier = copy_snapshot(tmp_path / "a", "2026-03-01")
    header, rows = read_rows(earlier, "movements")  # timed within that day, before its close
    ts = header.index("ts")
    write_rows(
        earlier,
        "movements",
        header,
        [[*r[:ts], r[ts].replace("2026-03-02T", "2026-03-01T"), *r[ts + 1 :]] for r in rows],
    )
    load_snapshot(con, earlier)
    load_snapshot(con, SNAPSHOT_MIN)
    changed = copy_snapshot(tmp_path / "b")
    delete_rows(changed, "positions", lambda r: r["position_id"] == "P005")
    (changed / "volumes.csv").unlink()  # optional file: absent -> no rows for the date
    set_cell(changed, "balances", 1, "balance", "1.5")
    summary = load_snapshot(con, changed)
    assert summary.replaced

    def q(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    assert q("SELECT as_of_date, count(*) FROM positions GROUP BY 1 ORDER BY 1") == [
        (dt.date(2026, 3, 1), 6),
        (dt.date(2026, 3, 2), 5),
    ]
    assert q("SELECT as_of_date, count(*) FROM volumes GROUP BY 1 ORDER BY 1") == [
        (dt.date(2026, 3, 1), 3)
    ]
    assert q(
        "SELECT balance FROM balances WHERE as_of_date = DATE '2026-03-02' AND account_id = 'C001' AND asset = 'USDT'"
    ) == [(Decimal("1.5"),)]
    files_last = q(f"SELECT file FROM loads WHERE load_id = '{summary.load_id}' ORDER BY file")
    assert ("volumes",) not in files_last and len(files_last) == 10


# -- formats ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_tables() -> dict[str, list[tuple]]:
    """The fixture snapshot (CSV) loaded once, as sorted table contents."""
    return load_tables(SNAPSHOT_MIN)


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet", "parquet-typed"])
def test_every_format_loads_identical_tables(fmt, tmp_path, reference_tables) -> None:
    snap = copy_snapshot(tmp_path)
    convert_all(snap, fmt)
    assert not list(snap.glob("*.csv"))
    con = memory_db()
    summary = load_snapshot(con, snap)
    assert table_contents(con) == reference_tables
    assert {f.format for f in summary.files} == {fmt.removesuffix("-typed")}


def test_a_damaged_gzip_file_is_bad_input_and_loads_nothing(tmp_path) -> None:
    """Load review of 2026-12-05: DuckDB does not check a gzip file's CRC, so a byte changed
    in transit loaded a wrong amount (exit 0); a stream broken near its start was exit 4."""
    import zlib

    snap = copy_snapshot(tmp_path)
    path = to_csv_gz(snap, "balances")
    data = bytearray(path.read_bytes())
    data[-8:-4] = (zlib.crc32(b"not these bytes") & 0xFFFFFFFF).to_bytes(4, "little")  # CRC
    path.write_bytes(bytes(data))
    con = memory_db()
    with pytest.raises(InputError) as caught:
        load_snapshot(con, snap)
    assert "balances.csv.gz" in str(caught.value.violations[0].file)
    assert "CRC-32" in caught.value.violations[0].expected
    assert "CRC check failed" in caught.value.violations[0].expected
    assert con.execute("SELECT count(*) FROM loads").fetchall() == [(0,)]
    # a byte changed mid-stream: DuckDB reads garbled rows first, but the file is named as
    # damaged, not by a row (final review of 2026-12-05)
    good = to_csv_gz(copy_snapshot(tmp_path / "mid"), "movements")
    middle = bytearray(good.read_bytes())
    middle[len(middle) // 2] ^= 0xFF
    good.write_bytes(bytes(middle))
    with pytest.raises(InputError) as caught:
        load_snapshot(con, good.parent)
    [damage] = [v for v in caught.value.violations if v.file == "movements.csv.gz"]
    assert "damaged in transit or storage" in damage.expected and damage.row is None
    # the deflate stream itself broken near the start: the header cannot be read
    broken = bytearray(path.read_bytes())
    broken[10:40] = b"\xff" * 30
    path.write_bytes(bytes(broken))
    with pytest.raises(InputError) as caught:
        load_snapshot(con, snap)
    [broken_file] = caught.value.violations
    assert "Error -3 while decompressing data" in broken_file.expected
    assert "damaged in transit or storage" in broken_file.expected


def test_a_path_is_read_as_named_not_with_a_tilde_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load review of 2026-12-05: DuckDB expands a leading ~ to $HOME where Python reads the
    folder named ~, so the recorded hash was of one file and the rows of another."""
    home = tmp_path / "home"
    decoy = copy_snapshot(home)
    set_cell(decoy, "balances", 1, "balance", "999999.5")
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    named = copy_snapshot(work / "~")
    monkeypatch.chdir(work)
    relative = Path("~") / named.name
    con = memory_db()
    load_snapshot(con, relative)
    assert reader.duckdb_path(relative / "x.csv") == f"'{work}/~/{named.name}/x.csv'"
    expected = csv_path(named, "balances").read_text(encoding="utf-8").splitlines()[1].split(",")
    stored = con.execute(
        "SELECT balance FROM balances WHERE account_id = ? AND asset = ?", expected[:2]
    ).fetchall()
    assert stored == [(Decimal(expected[2]),)]


def test_formats_may_be_mixed_within_a_snapshot(tmp_path, reference_tables) -> None:
    snap = copy_snapshot(tmp_path)
    to_csv_gz(snap, "movements")
    to_parquet(snap, "positions", typed=True)
    to_parquet(snap, "risk_tiers")
    assert load_tables(snap) == reference_tables


# Parquet types a data lake might write for the decimal columns of positions.
TYPED_POSITIONS = {
    "quantity": "BIGINT",
    "entry_price": "DECIMAL(10,2)",
    "isolated_margin": "DECIMAL(38,8)",  # more than 20 integer digits possible: range checked
    "leverage": "UTINYINT",
    "reported_unrealized_pnl": "DECIMAL(20,5)",
}


def _stage(con: duckdb.DuckDBPyConnection, snap: Path, name: str) -> reader.StagedFile:
    files, violations, _ = reader.discover(snap)
    staged = reader.stage(con, files[name], violations, [])
    assert staged is not None, violations
    assert not violations
    return staged


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
        ).fetchall()
    )


def test_typed_parquet_columns_skip_the_text_round_trip(tmp_path, reference_tables) -> None:
    """Exact Parquet types stay typed from staging to the tables; the result is the CSV load."""
    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "positions", types=TYPED_POSITIONS)  # ids and enums stay text
    to_parquet(snap, "movements", typed=True, types={"amount": "DECIMAL(12,3)"})
    to_parquet(snap, "prices", types={"price": "DECIMAL(38,18)"})
    con = memory_db()
    positions = _stage(con, snap, "positions")
    assert positions.types == TYPED_POSITIONS
    assert _column_types(con, "raw_positions") == {
        "position_id": "VARCHAR",
        "account_id": "VARCHAR",
        "instrument_id": "VARCHAR",
        "margin_mode": "VARCHAR",
        **TYPED_POSITIONS,
    }
    movements = _stage(con, snap, "movements")
    assert movements.types == {"ts": "TIMESTAMP", "amount": "DECIMAL(12,3)"}
    assert _column_types(con, "raw_movements")["ts"] == "TIMESTAMP"
    prices = _stage(con, snap, "prices")
    assert prices.types == {"price": "DECIMAL(38,18)"}
    # Their column rules use no regular expression, their typed views parse no text.
    for spec, staged in ((FILES["movements"], movements), (FILES["prices"], prices)):
        sql = validate.column_rules_sql(spec, staged.columns, types=staged.types)
        assert sql is not None and "regexp" not in sql and "strptime" not in sql
        validate.create_typed_view(con, spec, staged.columns, staged.types)
    views = dict(
        con.execute("SELECT view_name, sql FROM duckdb_views() WHERE temporary").fetchall()
    )
    assert "strptime" not in views["staged_movements"]
    assert 'CAST("price"' not in views["staged_prices"]
    con.close()
    assert load_tables(snap) == reference_tables


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_text_timestamps_are_parsed_once_in_staging(fmt, tmp_path, reference_tables) -> None:
    """A text timestamp column is parsed once, as it is staged (`ts__parsed`, NULL where no
    format reads the cell); its column rule and the typed view read that column, so neither
    the rule pass, the cross-file rules nor the insert parses 5M timestamps again."""
    snap = copy_snapshot(tmp_path)
    if fmt == "parquet":
        to_parquet(snap, "movements")  # every column as text
    con = memory_db()
    movements = _stage(con, snap, "movements")
    assert "ts" not in movements.types
    types = _column_types(con, "raw_movements")
    assert (types["ts"], types["ts__parsed"]) == ("VARCHAR", "TIMESTAMP")
    rows = con.execute("SELECT ts, ts__parsed FROM raw_movements").fetchall()
    texts, parsed = [text for text, _ in rows], [value for _, value in rows]
    assert parsed == [
        dt.datetime.fromisoformat(t.replace("Z", "+00:00")).replace(tzinfo=None) for t in texts
    ]
    spec = FILES["movements"]
    for sql in (
        validate.column_rules_pass_sql(spec, movements.columns),
        validate.column_rules_sql(spec, movements.columns),
    ):
        assert sql is not None and "strptime" not in sql and '"ts__parsed" IS NULL' in sql
    validate.create_typed_view(con, spec, movements.columns)
    view = con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'staged_movements'"
    ).fetchall()[0][0]
    assert "strptime" not in view and "ts__parsed AS ts" in view
    con.close()
    assert load_tables(snap) == reference_tables


def test_typed_parquet_decimals_are_stored_exactly(tmp_path) -> None:
    """DECIMAL(10,2) 10000.50 -> 10000.500000000000000000, as through text; integers too."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "balances", 4, "balance", "2.5")  # was 2.000000000000000001
    as_csv = load_tables(snap)
    to_parquet(snap, "balances", types={"balance": "DECIMAL(10,2)"})
    to_parquet(snap, "risk_tiers", typed=True, types={"notional_floor": "UINTEGER"})
    con = memory_db()
    load_snapshot(con, snap)
    assert con.execute(
        "SELECT CAST(balance AS VARCHAR) FROM balances WHERE account_id = 'C001' AND asset = 'USDT'"
    ).fetchall() == [("10000.500000000000000000",)]
    assert table_contents(con) == as_csv


def test_typed_decimal_range_is_checked_per_cell(tmp_path) -> None:
    """DECIMAL(38,8) may hold 21 integer digits: exactly those cells are rejected; the largest
    values DECIMAL(38,18) holds are accepted and widened exactly."""
    largest = "99999999999999999999.99999999"
    values = [largest, "-" + largest, "100000000000000000000", "-100000000000000000000", "0.5"]
    path = tmp_path / "balances.parquet"
    con = memory_db()
    rows = ", ".join(
        f"('C001', 'A{i}', CAST('{v}' AS DECIMAL(38,8)))" for i, v in enumerate(values)
    )
    con.execute(
        f"COPY (SELECT * FROM (VALUES {rows}) t(account_id, asset, balance)) TO '{path}' (FORMAT parquet)"
    )
    staged = reader.stage(con, reader.SourceFile("balances", path, "parquet"), [], [])
    assert staged is not None and staged.types == {"balance": "DECIMAL(38,8)"}
    spec = FILES["balances"]
    found, total = validate.column_violations(
        con, spec, "balances.parquet", staged.columns, staged.types
    )
    assert total == 2
    assert [(v.row, v.column, v.value) for v in found] == [
        (3, "balance", "100000000000000000000.00000000"),
        (4, "balance", "-100000000000000000000.00000000"),
    ]
    validate.create_typed_view(con, spec, staged.columns, staged.types)
    stored = con.execute(
        "SELECT CAST(balance AS VARCHAR) FROM staged_balances WHERE _row IN (1, 2, 5) ORDER BY _row"
    ).fetchall()
    assert stored == [
        ("99999999999999999999.999999990000000000",),
        ("-99999999999999999999.999999990000000000",),
        ("0.500000000000000000",),
    ]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_typed_parquet_timestamps_do_not_depend_on_the_session_time_zone(
    zone, tmp_path, reference_tables
) -> None:
    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "movements", typed=True)
    con = memory_db()
    con.execute(f"SET TimeZone = '{zone}'")
    load_snapshot(con, snap)
    assert table_contents(con) == reference_tables


def _movements_in_nanoseconds(snap: Path, extra_ns: int = 0, second: int | None = None) -> None:
    """Rewrite movements.parquet with ts as a UTC timestamp in nanoseconds (pandas' and
    pyarrow's default), adding ``extra_ns`` to the second row's (or setting it to ``second``)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    to_parquet(snap, "movements", typed=True)
    path = snap / "movements.parquet"
    table = pq.read_table(path)
    ns = pc.cast(table.column("ts"), pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_pylist()
    ns[1] = second if second is not None else ns[1] + extra_ns
    column = pa.array(ns, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    pq.write_table(table.set_column(table.schema.get_field_index("ts"), "ts", column), path)


def test_parquet_timestamps_in_nanoseconds_load_as_microseconds(tmp_path, reference_tables) -> None:
    snap = copy_snapshot(tmp_path)
    _movements_in_nanoseconds(snap)
    con = memory_db()
    assert _stage(con, snap, "movements").types["ts"] == "TIMESTAMP_NS"
    con.close()
    assert load_tables(snap) == reference_tables


def test_a_sub_microsecond_parquet_timestamp_is_refused_by_row(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    _movements_in_nanoseconds(snap, extra_ns=7)
    con = memory_db()
    with pytest.raises(InputError) as caught:
        load_snapshot(con, snap)
    [violation] = caught.value.violations
    assert (violation.file, violation.row, violation.column) == ("movements.parquet", 2, "ts")
    assert violation.value is not None and violation.value.endswith("000007Z")
    assert "whole microseconds" in violation.expected
    assert con.execute("SELECT count(*) FROM movements").fetchone() == (0,)
    con.close()


@pytest.mark.parametrize("extreme", [-(2**63 - 1), 2**63 - 1])
def test_an_infinite_nanosecond_parquet_timestamp_is_refused(tmp_path, extreme) -> None:
    """Review of 2026-12-04: -(2^63-1) ns, which DuckDB reads as -infinity, loaded; every read
    of movements.ts then failed (`mir sql` panicked)."""
    snap = copy_snapshot(tmp_path)
    _movements_in_nanoseconds(snap, second=extreme)
    con = memory_db()
    with pytest.raises(InputError) as caught:
        load_snapshot(con, snap)
    [violation] = caught.value.violations
    assert (violation.file, violation.row, violation.column) == ("movements.parquet", 2, "ts")
    assert "a UTC timestamp in ISO 8601" in violation.expected
    assert con.execute("SELECT count(*) FROM movements").fetchone() == (0,)
    con.close()


def test_a_parquet_int96_timestamp_is_refused_naming_its_type(tmp_path) -> None:
    """Dialect review of 2026-12-07: INT96 (Spark's and Hive's default, pyarrow's
    use_deprecated_int96_timestamps) was refused as "got 'TIMESTAMP'; ... a timestamp without
    zone", naming a type the file does not hold. It records no zone, and DuckDB cuts its
    nanoseconds to microseconds unseen: refused naming INT96 and what to write instead."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    snap = copy_snapshot(tmp_path)
    _movements_in_nanoseconds(snap)
    path = snap / "movements.parquet"
    pq.write_table(pq.read_table(path), path, use_deprecated_int96_timestamps=True)
    assert pq.read_schema(path).field("ts").type == pa.timestamp("ns")  # INT96, read back
    violation = the_violation(snap)
    assert (violation.file, violation.row, violation.column, violation.value) == (
        "movements.parquet",
        None,
        "ts",
        "INT96",
    )
    assert "records no time zone" in violation.expected
    assert "write TIMESTAMP(us) adjusted to UTC" in violation.expected


def test_zeros_beyond_the_sixth_decimal_of_a_csv_timestamp_are_the_same_instant(
    tmp_path, reference_tables
) -> None:
    """Review of 2026-12-04: 2026-03-02T00:45:07.123456000Z (how Polars writes nanoseconds)
    was refused in CSV while the same instant loads from Parquet; a non-zero seventh decimal is
    refused as finer than the database holds, not as a malformed timestamp."""
    header, rows = read_rows(SNAPSHOT_MIN, "movements")
    column = header.index("ts")
    base = rows[0][column].removesuffix("Z")
    snap = copy_snapshot(tmp_path / "a")
    set_cell(snap, "movements", 1, "ts", base + ".123456000Z")
    padded = load_tables(snap)
    snap = copy_snapshot(tmp_path / "b")
    set_cell(snap, "movements", 1, "ts", base + ".123456Z")
    assert padded == load_tables(snap)
    snap = copy_snapshot(tmp_path / "c")
    set_cell(snap, "movements", 1, "ts", base + ".1234567Z")
    violation = the_violation(snap)
    assert (violation.row, violation.column) == (1, "ts")
    assert "whole microseconds" in violation.expected


def test_a_parquet_file_with_corrupt_data_pages_is_named_as_parquet(tmp_path) -> None:
    """Review of 2026-12-04: a Parquet file whose footer reads but whose pages do not was
    reported as "a well-formed UTF-8 CSV row"."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "movements", typed=True)
    path = snap / "movements.parquet"
    table = pa.concat_tables([pq.read_table(path)] * 500)
    # pages of distinct ids, large enough that the corruption below misses the footer at the end
    ids = pa.array([f"m{i:040x}" for i in range(len(table))])
    table = table.set_column(table.schema.get_field_index("movement_id"), "movement_id", ids)
    pq.write_table(table, path, compression="snappy", use_dictionary=False)
    data = bytearray(path.read_bytes())
    data[200 : len(data) // 2] = b"\xff" * (len(data) // 2 - 200)
    path.write_bytes(bytes(data))
    violation = the_violation(snap)
    assert violation.file == "movements.parquet"
    assert violation.expected.startswith("a readable Parquet file")


def _parquet_column(path: Path, name: str, values: Any) -> None:
    """Rewrite the Parquet file at `path` with column `name` replaced by the pyarrow array
    `values` (a type no CSV has: bytes without the string annotation, float64)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    pq.write_table(table.set_column(table.schema.get_field_index(name), name, values), path)


def test_parquet_text_written_as_bytes_is_read_as_its_utf8_text(tmp_path) -> None:
    """Parquet review of 2026-12-05: a text column written as bytes without the string
    annotation (some writers do) was stored escaped, first-b\xc3\xa4nk for first-bänk, and
    bytes that are not UTF-8 loaded as their escape sequence, both with exit 0."""
    import pyarrow as pa

    snap = copy_snapshot(tmp_path / "a")
    set_cell(snap, "custody", 1, "custodian", "first-bänk")
    expected = load_tables(snap)
    names = [row[1] for row in read_rows(snap, "custody")[1]]
    to_parquet(snap, "custody")
    _parquet_column(snap / "custody.parquet", "custodian", pa.array([n.encode() for n in names]))
    assert load_tables(snap) == expected
    bad = copy_snapshot(tmp_path / "b")
    to_parquet(bad, "custody")
    raw = [n.encode() for n in names]
    raw[1] = b"\xff\xfeDE"
    _parquet_column(bad / "custody.parquet", "custodian", pa.array(raw, pa.large_binary()))
    with pytest.raises(InputError) as caught:
        load_snapshot(memory_db(), bad)
    [violation] = caught.value.violations
    assert (violation.file, violation.row, violation.column) == ("custody.parquet", 2, "custodian")
    assert (violation.value, violation.expected) == ("\\xff\\xfeDE", "UTF-8 text")
    # fixed-size bytes too (diff review of 2026-12-05: "a readable Parquet file", no row)
    fixed = copy_snapshot(tmp_path / "c")
    ids = [row[0].encode() for row in read_rows(fixed, "accounts")[1]]
    to_parquet(fixed, "accounts")
    ids[1] = b"\xff\xfe02"
    _parquet_column(fixed / "accounts.parquet", "account_id", pa.array(ids, pa.binary(4)))
    with pytest.raises(InputError) as caught:
        load_snapshot(memory_db(), fixed)
    first = caught.value.violations[0]
    assert (first.file, first.row, first.column) == ("accounts.parquet", 2, "account_id")
    assert first.expected == "UTF-8 text"


def test_a_huge_bad_cell_is_shown_cut_with_its_length(tmp_path) -> None:
    """Parquet review of 2026-12-05: a 1 MB id that broke a rule was printed whole in the
    message (up to 20 times per file); the line shows its first 200 characters and its length,
    and the violation keeps the whole value."""
    snap = copy_snapshot(tmp_path)
    huge = "Z" * 1_000_000
    set_cell(snap, "positions", 1, "account_id", huge)  # no such account
    with pytest.raises(InputError) as caught:
        load_snapshot(memory_db(), snap)
    [violation] = [v for v in caught.value.violations if v.column == "account_id"]
    assert violation.value == huge
    line = str(violation)
    assert f"got {'Z' * 200!r}... (1,000,000 characters); expected" in line
    assert len(line) < 1000


def test_a_bad_cell_of_exactly_the_shown_length_is_shown_whole_and_one_more_is_cut() -> None:
    """A violation shows a bad cell whole up to SHOWN_VALUE_CHARS (200) characters; from 201 on
    it is cut, with the length said (mutation review of 2026-12-07: the boundary, and a cut
    value that did not say its length, went unnoticed)."""
    from reports.errors import SHOWN_VALUE_CHARS

    def line(value: str) -> str:
        return str(Violation("accounts.csv", 3, "account_id", value, "a known account"))

    assert SHOWN_VALUE_CHARS == 200
    assert line("A" * 200) == (
        f"accounts.csv, row 3, column account_id: got {'A' * 200!r}; expected a known account"
    )
    assert line("A" * 201) == (
        f"accounts.csv, row 3, column account_id: got {'A' * 200!r}... (201 characters); "
        "expected a known account"
    )
    # an empty cell is a value too (it is named), unlike a file-level problem (None)
    assert line("") == "accounts.csv, row 3, column account_id: got ''; expected a known account"
    assert str(Violation("accounts.csv", None, None, None, "the file")) == (
        "accounts.csv; expected the file"
    )


def test_positions_too_large_to_value_are_named_up_to_twenty_then_counted() -> None:
    """ValuationRangeError's message (what `mir` prints when a stored date is valued again)
    names the first 20 position_ids and counts the rest; each violation names its position."""
    from reports.errors import ExitCode, ValuationRangeError

    day = dt.date(2026, 3, 2)
    twenty = [f"p{i}" for i in range(1, 21)]
    exc = ValuationRangeError(day, twenty)
    assert exc.exit_code == ExitCode.BAD_INPUT
    assert str(exc) == ("positions of 2026-03-02 too large to value exactly: " + ", ".join(twenty))
    more = ValuationRangeError(day, [*twenty, "p21", "p22"])
    assert str(more).endswith(", p19, p20 and 2 more")
    assert [v.value for v in more.violations] == [*twenty, "p21", "p22"]
    assert {(v.file, v.row, v.column) for v in more.violations} == {("positions", None, "quantity")}


def test_a_parquet_timestamp_beyond_microseconds_is_named_by_row(tmp_path) -> None:
    """Parquet review of 2026-12-05: a millisecond timestamp DuckDB cannot hold in
    microseconds (a nanosecond count written with a millisecond unit) failed the whole file as
    "a readable Parquet file", naming no row or column."""
    import pyarrow as pa

    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "movements")
    stamps = [
        int(dt.datetime.fromisoformat(r[header.index("ts")].replace("Z", "+00:00")).timestamp())
        * 1000
        for r in rows
    ]
    stamps[2] = 10**16
    to_parquet(snap, "movements")
    column = pa.array(stamps, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    _parquet_column(snap / "movements.parquet", "ts", column)
    violation = the_violation(snap)
    assert (violation.file, violation.row, violation.column) == ("movements.parquet", 3, "ts")
    assert violation.value == "10000000000000000 (ms since 1970)"
    assert "a nanosecond count written with a millisecond unit?" in violation.expected


def test_a_parquet_id_column_in_floating_point_is_refused(tmp_path) -> None:
    """Parquet review of 2026-12-05: pandas writes an integer id column with nulls as float64,
    so movements' position_id 181 was stored as the text 181.0 (positions' as 181), and SEG-05
    and SEG-06 reported breaches that were not there. Refused by file and column, as floating
    point is for amounts; an integer id column stays allowed."""
    import pyarrow as pa

    snap = copy_snapshot(tmp_path / "a")
    rows = len(read_rows(snap, "movements")[1])
    to_parquet(snap, "movements")
    ids = pa.array([181.0 if i % 2 else None for i in range(rows)], pa.float64())
    _parquet_column(snap / "movements.parquet", "position_id", ids)
    violation = the_violation(snap)
    assert (violation.file, violation.row, violation.column, violation.value) == (
        "movements.parquet",
        2,  # the first row holding a value (none until 2026-12-07)
        "position_id",
        "DOUBLE",
    )
    assert "writes an id such as 181 as 181.0" in violation.expected
    # a float column holding no value at all (pandas' float64 for a column of None) has
    # nothing to misread: it loads as empty (diff review of 2026-12-05)
    empty = copy_snapshot(tmp_path / "c")
    to_parquet(empty, "movements")
    nothing = pa.array([None if i % 2 else float("nan") for i in range(rows)], pa.float64())
    _parquet_column(empty / "movements.parquet", "transfer_id", nothing)
    load_snapshot(loaded := memory_db(), empty)
    counts = loaded.execute("SELECT count(*), count(transfer_id) FROM movements").fetchall()
    assert counts == [(rows, 0)]
    whole = copy_snapshot(tmp_path / "b")
    to_parquet(whole, "movements")
    _parquet_column(
        whole / "movements.parquet",
        "transfer_id",
        pa.array([7 if i % 2 else None for i in range(rows)], pa.int64()),
    )
    load_snapshot(con := memory_db(), whole)
    assert ("7",) in con.execute("SELECT DISTINCT transfer_id FROM movements").fetchall()


def test_a_parquet_text_or_enum_column_of_none_in_floating_point_loads_as_empty(
    tmp_path,
) -> None:
    """Mutation review of 2026-12-07: pandas writes an optional text or enum column of None
    alone (jurisdiction, client_category) as float64 NaN; it loads as empty, never as the text
    'nan' (which the enum would refuse and a report would print)."""
    import pyarrow as pa

    snap = copy_snapshot(tmp_path)
    rows = len(read_rows(snap, "accounts")[1])
    to_parquet(snap, "accounts")
    nothing = pa.array([float("nan") if i % 2 else None for i in range(rows)], pa.float64())
    _parquet_column(snap / "accounts.parquet", "jurisdiction", nothing)
    _parquet_column(snap / "accounts.parquet", "client_category", nothing)
    load_snapshot(con := memory_db(), snap)
    found = con.execute(
        "SELECT count(*), count(jurisdiction), min(client_category), max(client_category) "
        "FROM accounts"
    ).fetchall()
    assert found == [(rows, 0, "retail", "retail")]


def test_a_parquet_money_column_of_none_in_floating_point_loads_as_empty(tmp_path) -> None:
    """Dialect review of 2026-12-07: pandas writes an optional money column left empty
    (reported_unrealized_pnl) as float64, all NaN or null; it was refused as binary floating
    point, though it holds no value to be inexact. It loads as NULL; one value in it is still
    refused, by file, column and the row holding it."""
    import pyarrow as pa

    snap = copy_snapshot(tmp_path / "a")
    rows = len(read_rows(snap, "positions")[1])
    to_parquet(snap, "positions")
    nothing = [float("nan") if i % 2 else None for i in range(rows)]
    path = snap / "positions.parquet"
    _parquet_column(path, "reported_unrealized_pnl", pa.array(nothing, pa.float64()))
    load_snapshot(con := memory_db(), snap)
    found = con.execute("SELECT count(*), count(reported_unrealized_pnl) FROM positions")
    assert found.fetchall() == [(rows, 0)]
    one = copy_snapshot(tmp_path / "b")
    to_parquet(one, "positions")
    nothing[2] = 0.1
    path = one / "positions.parquet"
    _parquet_column(path, "reported_unrealized_pnl", pa.array(nothing, pa.float64()))
    violation = the_violation(one)
    assert (violation.file, violation.row, violation.column, violation.value) == (
        "positions.parquet",
        3,
        "reported_unrealized_pnl",
        "DOUBLE",
    )
    assert "binary floating point cannot hold money exactly" in violation.expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffling_rows_changes_no_table_content(seed, tmp_path, reference_tables) -> None:
    snap = copy_snapshot(tmp_path)
    rng = random.Random(seed)
    for file in FILES:
        header, rows = read_rows(snap, file)
        rng.shuffle(rows)
        write_rows(snap, file, header, rows)
    assert load_tables(snap) == reference_tables


def test_bom_and_crlf_are_tolerated(tmp_path, reference_tables) -> None:
    snap = copy_snapshot(tmp_path)
    for file in ("accounts", "positions"):
        path = snap / f"{file}.csv"
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_tables(snap) == reference_tables


def _write_accounts(snap: Path, body: bytes, gz: bool) -> Path:
    """accounts.csv as `body`, or accounts.csv.gz in its place; the path written."""
    (snap / "accounts.csv").unlink()
    path = snap / ("accounts.csv.gz" if gz else "accounts.csv")
    path.write_bytes(gzip.compress(body) if gz else body)
    return path


@pytest.mark.parametrize(
    ("ending", "other", "gz"),
    [(b"\n", b"\r\n", False), (b"\r\n", b"\n", False), (b"\n", b"\r\n", True)],
)
def test_one_row_with_another_line_ending_is_named(tmp_path, ending, other, gz) -> None:
    """A known gap until 2026-12-05: one CRLF row in an LF file (a hand edit on Windows), or the
    reverse, failed the file with DuckDB's "state machine reached an invalid state" and no row.
    The row is named now (data row 3 here: a blank line before it does not count)."""
    snap = copy_snapshot(tmp_path)
    path = snap / "accounts.csv"
    lines = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
    lines.insert(2, b"")  # a blank line after data row 1
    body = ending.join(lines[:5]) + other + ending.join(lines[5:])  # after C003
    path = _write_accounts(snap, body, gz)
    violation = the_violation(snap)
    assert (violation.file, violation.row) == (path.name, 3), violation
    theirs, header = ("CRLF", "LF") if other == b"\r\n" else ("LF", "CRLF")
    assert violation.value == theirs
    assert violation.expected.startswith(f"the header's {header} line ending on every row")


@pytest.mark.parametrize("gz", [False, True])
def test_a_carriage_return_in_an_unquoted_field_is_named_by_row(tmp_path, gz) -> None:
    """Hostile-input review of 2026-12-07: a lone CR inside an unquoted field of an LF file
    (a cell pasted from an old Mac export) failed the file with DuckDB's "state machine reached
    an invalid state" and no row; the scan looked for CRLF only."""
    snap = copy_snapshot(tmp_path)
    path = snap / "accounts.csv"
    lines = path.read_bytes().split(b"\n")
    lines.insert(2, b"")  # a blank line after data row 1: not a data row
    lines[4] = lines[4].replace(b"client", b"cli\rent", 1)  # data row 3
    path = _write_accounts(snap, b"\n".join(lines), gz)
    violation = the_violation(snap)
    assert (violation.file, violation.row, violation.value) == (path.name, 3, "CR"), violation
    assert "carriage return" in violation.expected


@pytest.mark.parametrize("gz", [False, True])
def test_a_file_of_lines_ending_in_cr_alone_is_named_as_such(tmp_path, gz) -> None:
    """A file whose lines end in CR alone (classic Mac OS) was refused with Python's csv
    error, "do you need to open the file in universal-newline mode?" (review of 2026-12-07);
    the header row is named, with the carriage return and how to convert."""
    snap = copy_snapshot(tmp_path)
    body = (snap / "accounts.csv").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    path = _write_accounts(snap, body, gz)
    violation = the_violation(snap)
    assert (violation.file, violation.row, violation.value) == (path.name, 0, "CR"), violation
    assert violation.expected.startswith("a header row ending in LF or CRLF")
    assert "universal-newline" not in violation.expected


@pytest.mark.parametrize("gz", [False, True])
def test_bytes_that_are_not_utf8_are_named_by_row_and_column(tmp_path, gz) -> None:
    """Hostile-input review of 2026-12-07: a CSV cell that is not UTF-8 was named by row alone
    (DuckDB names the line); the column and the cell are named now, as for Parquet, also after
    a quoted field spanning lines."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "accounts", 1, "jurisdiction", "two\nlines")  # quoted, one record
    body = (snap / "accounts.csv").read_bytes().replace(b"ES,frozen", b"\xc9S,frozen")  # row 4
    path = _write_accounts(snap, body, gz)
    violation = the_violation(snap)
    where = (violation.file, violation.row, violation.column)
    assert where == (path.name, 4, "jurisdiction"), violation
    assert (violation.value, violation.expected) == ("\\xc9S", "UTF-8 text")


def test_a_bad_byte_is_named_in_the_loaded_column_not_an_ignored_one(tmp_path) -> None:
    """DuckDB reads only the contract's columns, so the cell it refuses is in one of them: an
    ignored column's bad byte before it in the row is not the one named (diff review of
    2026-12-07), and one alone is no error (the column is not read)."""
    snap = copy_snapshot(tmp_path)
    path = snap / "accounts.csv"
    lines = path.read_bytes().split(b"\n")
    lines = [b"note," + lines[0], *(b"x," + line if line else line for line in lines[1:])]
    lines[2] = lines[2].replace(b"x,", b"n\xff,", 1).replace(b",FR,", b",F\xffR,")  # row 2
    path.write_bytes(b"\n".join(lines))
    violation = the_violation(snap)
    assert (violation.row, violation.column, violation.value) == (2, "jurisdiction", "F\\xffR")
    path.write_bytes(path.read_bytes().replace(b",F\xffR,", b",FR,"))
    assert load_tables(snap)["accounts"]  # the ignored column's bad byte alone loads


def test_a_gzip_file_that_cannot_be_opened_is_not_called_damaged(tmp_path) -> None:
    """Hostile-input review of 2026-12-07: an unreadable balances.csv.gz (permission denied)
    was reported as damaged in transit, "deliver it again"; access is no damage."""
    assert reader.gzip_problem(tmp_path) is None  # a folder: IsADirectoryError, an OSError
    locked = tmp_path / "balances.csv.gz"
    locked.write_bytes(gzip.compress(b"account_id,asset,balance\n"))
    locked.chmod(0)
    try:
        if not os.access(locked, os.R_OK):  # not as root, who reads it anyway
            assert reader.gzip_problem(locked) is None
    finally:
        locked.chmod(0o644)
    damaged = tmp_path / "damaged.csv.gz"
    damaged.write_bytes(gzip.compress(b"a,b\n1,2\n")[:-3])
    assert "end-of-stream" in (reader.gzip_problem(damaged) or "")


def test_csv_columns_in_another_order_load_the_same_tables(tmp_path, reference_tables) -> None:
    """Columns are found by their header name, not by the contract's order (mutation review
    of 2026-12-07: reading them by position swapped two columns' values silently)."""
    snap = copy_snapshot(tmp_path)
    for file in ("accounts", "balances"):
        header, rows = read_rows(snap, file)
        write_rows(snap, file, header[::-1], [row[::-1] for row in rows])
    assert load_tables(snap) == reference_tables


def test_a_header_that_is_not_utf8_is_bad_input_at_row_0(tmp_path, run_mir, db_path) -> None:
    """A header row that is not UTF-8 (a UTF-16 or Latin-1 export) is exit 3 naming the file
    and its header row (row 0), not an internal error (mutation review of 2026-12-07)."""
    snap = copy_snapshot(tmp_path)
    path = snap / "capital.csv"
    path.write_bytes(path.read_text().encode("utf-16"))
    result = run_mir("load", snap)
    assert result.exit_code == 3, result.output
    assert "  capital.csv, row 0; expected a UTF-8 CSV header row (" in result.stderr
    assert not db_path.exists()


def test_a_broken_link_on_a_contract_name_is_refused_as_not_a_regular_file(tmp_path) -> None:
    """A link to nothing (or a pipe) under a contract file's name is refused by name before
    anything reads it (mutation review of 2026-12-07: a pipe would block the load forever)."""
    snap = copy_snapshot(tmp_path)
    (snap / "volumes.csv").unlink()
    (snap / "volumes.csv").symlink_to(tmp_path / "nowhere.csv")
    violation = the_violation(snap)
    assert (violation.file, violation.row, violation.value) == (
        "volumes.csv",
        None,
        "not a regular file",
    )


def test_a_truncated_gzip_file_is_named_as_damaged(tmp_path, run_mir, db_path) -> None:
    """A .csv.gz cut short in transit (its end-of-stream marker missing) is bad input naming
    the file as damaged, not an internal error (mutation review of 2026-12-07)."""
    snap = copy_snapshot(tmp_path)
    path = to_csv_gz(snap, "balances")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 12])
    assert run_mir("init").exit_code == 0
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    result = run_mir("load", snap)
    assert result.exit_code == 3, result.output
    assert "  balances.csv.gz; expected a gzip file whose CRC-32 and length" in result.stderr
    assert "end-of-stream marker" in result.stderr
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_a_gzip_file_padded_with_zero_bytes_is_named_for_its_padding(
    tmp_path, run_mir, db_path
) -> None:
    """gzip(1) and Python ignore zero bytes after a gzip member (a block writer's padding);
    DuckDB refuses the file. The load names the padding and how to remove it, not DuckDB's
    "Input is not a GZIP stream" behind "a well-formed UTF-8 CSV row" (review of 2026-12-07)."""
    snap = copy_snapshot(tmp_path)
    path = to_csv_gz(snap, "positions")
    path.write_bytes(path.read_bytes() + bytes(512))
    assert gzip.decompress(path.read_bytes())  # Python reads it: the file is not damaged
    assert run_mir("init").exit_code == 0
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    result = run_mir("load", snap)
    assert result.exit_code == 3, result.output
    assert (
        "  positions.csv.gz: got '512 zero byte(s) after the compressed data'; expected a gzip "
        "file that ends where its compressed data ends"
    ) in result.stderr
    assert "gzip -dc positions.csv.gz | gzip > new.csv.gz" in result.stderr
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (b"", 0),
        (bytes(7), 7),
        (bytes(3 << 20), 3 << 20),  # over several reads
        (gzip.compress(b"more,rows\n", mtime=0) + bytes(40), 40),  # a second member, padding
        (bytes(40) + b"x", 0),  # not padding: something follows the zeros
        (bytes((1 << 20) + 5) + b"x" + bytes(9), 0),  # ... in a later read
        (None, 0),  # zeros up to a read's end, then another member: not padding either
    ],
    # (ids: the same on every xdist worker; a gzip header's mtime made them differ)
    ids=["none", "7", "over_reads", "member_then", "zeros_then_x", "later_x", "zeros_member"],
)
def test_gzip_padding_counts_only_zero_bytes_after_the_last_member(
    tmp_path, tail: bytes | None, expected: int
) -> None:
    path = tmp_path / "f.csv.gz"
    body = random.Random(7).randbytes(3 << 20)  # incompressible: a member over several reads
    member = gzip.compress(body)
    if tail is None:
        tail = bytes(-len(member) % (1 << 20) or 1 << 20) + gzip.compress(b"x\n")
    path.write_bytes(member + tail)
    assert reader.gzip_padding(path) == expected
    path.write_bytes(gzip.compress(body)[:-20] + bytes(20))  # truncated, not padded
    assert reader.gzip_padding(path) == 0


def test_a_damaged_gzip_file_beyond_one_read_is_named_as_damaged(tmp_path) -> None:
    """The CRC-32 is checked at the end of the whole stream, not of its first megabyte
    (mutation review of 2026-12-07: a file read once, in one chunk, passed with a wrong CRC
    when it held more than 1 MiB, as real exports do)."""
    import zlib

    snap = copy_snapshot(tmp_path)
    add_column(snap, "balances", "note", "x" * 300_000)  # an unknown column: ignored
    path = to_csv_gz(snap, "balances")
    data = bytearray(path.read_bytes())
    data[-8:-4] = (zlib.crc32(b"not these bytes") & 0xFFFFFFFF).to_bytes(4, "little")  # CRC
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        load_snapshot(memory_db(), snap)
    [damage] = caught.value.violations
    assert damage.file == "balances.csv.gz" and "CRC check failed" in damage.expected


def test_empty_parquet_strings_are_nulls_like_empty_csv_fields(tmp_path, reference_tables) -> None:
    """A Parquet text column with '' where the CSV has an empty field (pandas' fillna('')) loads
    the same tables: '' is null, so group_id defaults to the account (mutation review of
    2026-12-07: '' kept put every such account in one group '')."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    snap = copy_snapshot(tmp_path)
    path = to_parquet(snap, "accounts")
    table = pq.read_table(path)
    for name in ("group_id", "client_category", "jurisdiction", "status"):
        index = table.schema.get_field_index(name)
        filled = pc.fill_null(table.column(name).cast(pa.string()), "")
        table = table.set_column(index, name, filled)
    assert "" in table.column("group_id").to_pylist()
    pq.write_table(table, path)
    assert load_tables(snap) == reference_tables


def test_a_naive_parquet_timestamp_in_nanoseconds_is_refused_as_ambiguous(tmp_path) -> None:
    """pandas writes a datetime64[ns] column without zone as a naive TIMESTAMP_NS: refused by
    file and column as ambiguous, like a naive TIMESTAMP, not row by row as unreadable text
    (mutation review of 2026-12-07)."""
    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "movements", types={"ts": "TIMESTAMP_NS"})
    v = the_violation(snap)
    assert (v.file, v.row, v.column, v.value) == ("movements.parquet", None, "ts", "TIMESTAMP_NS")
    assert "a timestamp without zone is ambiguous" in v.expected


def test_quoted_fields_and_ids_starting_with_hash_load_verbatim(tmp_path) -> None:
    """The dialect is fixed, not sniffed: '#' is data (the sniffer would take it for a comment)."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "accounts", 4, "jurisdiction", 'ES, "Madrid"')
    header, rows = read_rows(snap, "movements")
    rows[0][header.index("movement_id")] = "#M001"
    write_rows(snap, "movements", header, rows)
    tables = load_tables(snap)
    assert "C004" in {r[1] for r in tables["accounts"]}
    assert [r[5] for r in tables["accounts"] if r[1] == "C004"] == ['ES, "Madrid"']
    assert "#M001" in {r[1] for r in tables["movements"]}


def test_header_only_movements_and_absent_optional_files(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    header, _ = read_rows(snap, "movements")
    write_rows(snap, "movements", header, [])
    (snap / "volumes.csv").unlink()
    (snap / "price_history.csv").unlink()
    con = memory_db()
    summary = load_snapshot(con, snap)
    assert len(summary.files) == 9
    counts = con.execute(
        "SELECT (SELECT count(*) FROM movements), (SELECT count(*) FROM volumes), (SELECT count(*) FROM price_history)"
    ).fetchall()
    assert counts == [(0, 0, 0)]
    assert con.execute("SELECT rows FROM loads WHERE file = 'movements'").fetchall() == [(0,)]


# -- warnings, options, output ----------------------------------------------------------------


def test_unknown_column_and_file_warn_and_are_ignored(tmp_path, run_mir, db_path) -> None:
    snap = copy_snapshot(tmp_path)
    add_column(snap, "positions", "venue_note", "x")
    (snap / "README.txt").write_text("exported by the venue\n")
    result = run_mir("load", snap)
    assert result.exit_code == 0, result.output
    assert "warning: positions.csv: unknown column 'venue_note' ignored" in result.stderr
    assert "warning: README.txt: not a snapshot file of the contract; ignored" in result.stderr
    assert query(db_path, "SELECT count(*) FROM positions") == [(6,)]


def test_a_hidden_file_named_as_an_absent_contract_file_is_warned_of(
    tmp_path, run_mir, db_path
) -> None:
    """Review of 2026-12-07: `.volumes.csv` (an export still being written, or rsync's
    temporary `.volumes.csv.Ab12Cd`) was skipped without a word while volumes.csv was absent:
    the day's volumes were none, K-COH and K-DTF 0. It is warned of; a hidden file beside its
    contract file, or named as none, is still skipped silently."""
    snap = copy_snapshot(tmp_path)
    (snap / "volumes.csv").rename(snap / ".volumes.csv.Ab12Cd")
    (snap / ".positions.csv").write_text("a backup\n")  # positions.csv is there
    (snap / ".DS_Store").write_bytes(b"\0")
    result = run_mir("load", snap)
    assert result.exit_code == 0, result.output
    assert (
        "warning: .volumes.csv.Ab12Cd: a hidden file named as the contract's volumes file, "
        "which is absent; ignored (an export still being written?)"
    ) in result.stderr
    assert ".positions.csv" not in result.stderr and ".DS_Store" not in result.stderr
    # a hidden folder is named as one (it was called "a hidden file")
    (snap / ".volumes.csv.Ab12Cd").unlink()
    (snap / ".volumes.csv").mkdir()
    folder = run_mir("load", snap)
    assert folder.exit_code == 0, folder.output
    assert "warning: .volumes.csv: a hidden folder named as the contract's volumes file" in (
        folder.stderr
    )


def test_unnamed_and_repeated_unknown_columns_are_ignored(tmp_path, reference_tables) -> None:
    """A trailing comma (an unnamed column) and a repeated unknown column warn once each and
    change nothing; only a repeated contract column is ambiguous (test_load_rules)."""
    snap = copy_snapshot(tmp_path)
    add_column(snap, "balances", "")
    add_column(snap, "positions", "note", "a")
    add_column(snap, "positions", "note", "b")
    warnings: list[str] = []
    tables = load_tables(snap, on_warning=warnings.append)
    assert tables == reference_tables
    assert warnings == [
        "balances.csv: unknown column '' ignored",
        "positions.csv: unknown column 'note' ignored",
    ]


@pytest.mark.parametrize(
    ("amount", "warned"), [("250", False), ("250.000000000000000001", True), ("1000", True)]
)
def test_a_given_maintenance_amount_beyond_floor_times_rate_is_warned_of(
    tmp_path, amount: str, warned: bool
) -> None:
    """A venue's maintenance_amount above notional_floor x rate makes the maintenance margin
    negative near the tier's floor, so no missed liquidation there could be seen; the amounts
    DESIGN computes never do. It loads, as given, with a warning (review of 2026-12-07: 1e20 - 1
    loaded silently). BTCUSDT tier 2: floor 50,000 x 0.005 = 250; exactly 250 is a margin of 0."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "risk_tiers", 2, "maintenance_amount", amount)
    warnings: list[str] = []
    tables = load_tables(snap, on_warning=warnings.append)
    # (as_of_date, instrument_id, tier, floor, cap, rate, maintenance_amount, max_leverage)
    stored = {(row[1], row[2]): row[6] for row in tables["risk_tiers"]}
    assert stored[("BTCUSDT", 2)] == Decimal(amount)  # used as given
    expected = (
        "risk_tiers.csv: 1 tier(s) whose maintenance margin is negative at the tier's floor (e.g. "
        f"row 2, BTCUSDT tier 2: maintenance_amount {amount} above notional_floor x "
        "rate 250); the amounts are used as given, so positions there show no missed "
        "liquidation: check the export, or leave the cells empty to have them computed"
    )
    assert warnings == ([expected] if warned else [])


PRICE_HISTORY_AFTER = (
    "dated after the snapshot's date 2026-03-02",
    "a back-fill holds past prices, yet the VaR of the days from those dates on will use them: "
    "check the export's dates",
)
VOLUMES_UNKNOWN = (
    "name an instrument not in instruments.csv",
    "their traded notional still counts toward K-COH and K-DTF: check the export's instrument ids",
)


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "stored", "warning", "example"),
    [
        # a row of the snapshot's own date is a price known that day
        ("price_history", 3, "date", "2026-03-02", dt.date(2026, 3, 2), None, ""),
        # a later one (a mistyped year, another day's file): the VaR of the days from that
        # date on would read it (VaR review of 2026-12-07: 2027-01-01 loaded silently)
        (
            "price_history",
            3,
            "date",
            "2026-03-03",
            dt.date(2026, 3, 3),
            PRICE_HISTORY_AFTER,
            "2026-03-03 BTC",
        ),
        ("volumes", 2, "instrument_id", "BTCUSDT", "BTCUSDT", None, ""),
        # a mistyped id (audit of 2026-12-07: loaded silently); the notional is in USD already
        ("volumes", 2, "instrument_id", "BTCUSDX", "BTCUSDX", VOLUMES_UNKNOWN, "BTCUSDX"),
        # the id escaped and cut as a violation's cell is (numbers audit of 2026-12-07: a BEL
        # and a 5,000-character id were printed raw and whole)
        ("volumes", 2, "instrument_id", "BTC\aUSD", "BTC\aUSD", VOLUMES_UNKNOWN, "BTC\\x07USD"),
        (
            "volumes",
            2,
            "instrument_id",
            "X" * 300,
            "X" * 300,
            VOLUMES_UNKNOWN,
            "X" * 200 + "... (300 characters)",
        ),
    ],
)
def test_a_row_that_loads_but_is_worth_a_look_is_warned_of(
    tmp_path,
    file: str,
    row: int,
    column: str,
    value: str,
    stored: object,
    warning: tuple[str, str] | None,
    example: str,
) -> None:
    """Rows DESIGN sets no rule against load, but are warned of: a price_history row dated
    after the snapshot's own date, a volumes row naming an instrument the day does not list."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, file, row, column, value)
    warnings: list[str] = []
    tables = load_tables(snap, on_warning=warnings.append)
    assert stored in {r[1] for r in tables[file]}  # loaded
    expected = (
        []
        if warning is None
        else [f"{file}.csv: 1 row(s) {warning[0]} (e.g. row {row}: {example}); {warning[1]}"]
    )
    assert warnings == expected


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_nul_byte_is_named_beside_the_files_other_broken_cells(tmp_path, gzipped) -> None:
    """A plain CSV is looked at for NUL bytes cell by cell only when its bytes, scanned as
    they are hashed, hold one (reader.Digest): its NUL cells are then named with its other
    broken cells, in one refusal; a .csv.gz (compressed bytes say nothing) is always looked at
    (input review of 2026-12-07)."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "accounts", 2, "group_id", "G\x0001")
    set_cell(snap, "accounts", 3, "account_type", "clients")
    if gzipped:
        path = snap / "accounts.csv"
        (snap / "accounts.csv.gz").write_bytes(gzip.compress(path.read_bytes(), mtime=0))
        path.unlink()
    with pytest.raises(InputError) as caught:
        load_tables(snap)
    found = [(v.file, v.row, v.column) for v in caught.value.violations]
    name = "accounts.csv.gz" if gzipped else "accounts.csv"
    assert found == [(name, 2, "group_id"), (name, 3, "account_type")]
    assert "expected text without NUL bytes" in str(caught.value.violations[0])


def _keep_header_only(snap: Path, name: str) -> None:
    path = snap / f"{name}.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def test_a_header_only_file_loads_but_is_warned_of_unless_movements(tmp_path, run_mir) -> None:
    """A required file with a header and no rows loads (the contract does not forbid it) but
    is warned of: it is what a failed export looks like, and on a first day no roll-forward
    check sees it (header-only balances were checked as a venue owing its clients nothing).
    Movements may be header-only (DESIGN.md section 3): no warning."""
    snap = copy_snapshot(tmp_path)
    for name in ("balances", "positions", "movements"):
        _keep_header_only(snap, name)
    to_parquet(snap, "positions")
    warnings: list[str] = []
    tables = load_tables(snap, on_warning=warnings.append)
    assert tables["balances"] == tables["positions"] == tables["movements"] == []
    assert warnings == [
        "balances.csv holds no rows: the day is loaded with no balances; if the "
        "export failed, deliver the file again and reload the day",
        "positions.parquet holds no rows: the day is loaded with no positions; if "
        "the export failed, deliver the file again and reload the day",
    ]
    result = run_mir("load", snap, "--quiet")  # a warning, not progress: said under --quiet
    assert result.exit_code == 0, result.output
    assert "warning: balances.csv holds no rows" in result.stderr
    assert "movements" not in result.stderr


def test_a_repeated_parquet_column_is_refused_not_renamed(tmp_path) -> None:
    """DuckDB reads a second `balance` column as `balance_1`; the file's own names count."""
    import pyarrow.parquet as pq

    snap = copy_snapshot(tmp_path)
    path = to_parquet(snap, "balances")
    table = pq.read_table(path)
    pq.write_table(table.append_column("balance", table.column("balance")), path)
    con = memory_db()
    with pytest.raises(InputError) as caught:
        load_snapshot(con, snap)
    assert [(v.file, v.row, v.column, v.expected) for v in caught.value.violations] == [
        ("balances.parquet", 0, "balance", "each column name once in the header")
    ]
    con.close()


def test_quiet_prints_nothing_but_errors_and_warnings(tmp_path, run_mir) -> None:
    snap = copy_snapshot(tmp_path)
    result = run_mir("load", snap, "--quiet")
    assert result.exit_code == 0
    assert result.output == ""
    # a warning is not progress: an ignored column is still said under --quiet
    add_column(snap, "positions", "venue_note", "x")
    result = run_mir("load", snap, "--quiet")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "warning: positions.csv" in result.stderr and "venue_note" in result.stderr
    set_cell(snap, "positions", 1, "quantity", "abc")
    result = run_mir("load", snap, "--quiet")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "positions.csv, row 1, column quantity: got 'abc'" in result.stderr


def test_as_of_from_option_when_the_directory_is_not_a_date(tmp_path, run_mir, db_path) -> None:
    snap = copy_snapshot(tmp_path, "venue-export")
    result = run_mir("load", snap)
    assert result.exit_code == 3
    assert "--as-of" in result.stderr
    result = run_mir("load", snap, "--as-of", "2026-03-05")
    assert result.exit_code == 0, result.output
    assert query(db_path, "SELECT DISTINCT as_of_date FROM accounts") == [(dt.date(2026, 3, 5),)]


def test_as_of_contradicting_the_directory_name_is_a_usage_error(run_mir, db_path) -> None:
    result = run_mir("load", SNAPSHOT_MIN, "--as-of", "2026-03-03")
    assert result.exit_code == 2
    assert "contradicts the snapshot directory name 2026-03-02" in result.stderr
    result = run_mir("load", SNAPSHOT_MIN, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output


def test_missing_directory_is_a_usage_error(tmp_path, run_mir) -> None:
    result = run_mir("load", tmp_path / "2026-01-01")
    assert result.exit_code == 2


# -- the library API ----------------------------------------------------------------------------


def test_library_returns_a_summary_and_reports_progress(tmp_path) -> None:
    messages: list[str] = []
    with open_db(tmp_path / "lib.duckdb") as con:
        summary = load_snapshot(con, SNAPSHOT_MIN, progress=messages.append)
        again = load_snapshot(con, SNAPSHOT_MIN)
        # Temporary staging objects are gone: the connection is clean for the next caller.
        temps = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw_%' OR table_name LIKE 'staged_%'"
        ).fetchall()
    assert isinstance(summary, LoadSummary)
    assert summary.as_of == dt.date(2026, 3, 2)
    assert summary.rows == 77 and not summary.replaced and again.replaced
    assert summary.load_id != again.load_id
    assert [f.name for f in summary.files] == list(FILES)
    positions = next(f for f in summary.files if f.name == "positions")
    assert (
        positions.sha256
        == hashlib.sha256((SNAPSHOT_MIN / "positions.csv").read_bytes()).hexdigest()
    )
    assert positions.rows == 6 and positions.format == "csv"
    assert "reading positions.csv" in messages
    assert summary.describe().startswith("loaded 2026-03-02: 11 files, 77 rows in ")
    assert temps == []


def test_library_raises_typed_errors(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 2, "quantity", "1e3")
    with open_db(tmp_path / "lib.duckdb") as con:
        with pytest.raises(UsageError):
            load_snapshot(con, snap, dt.date(2026, 1, 1))
        with pytest.raises(InputError) as info:
            load_snapshot(con, snap)
        # The connection is still usable after a failed load.
        assert con.execute("SELECT count(*) FROM loads").fetchone() == (0,)
    [violation] = info.value.violations
    assert (violation.file, violation.row, violation.column, violation.value) == (
        "positions.csv",
        2,
        "quantity",
        "1e3",
    )


def test_usd_needs_no_price_but_another_reporting_currency_does(tmp_path) -> None:
    with open_db(tmp_path / "lib.duckdb") as con:
        # Balances and custody hold USD, and prices has no USD row: fine for the default.
        load_snapshot(con, SNAPSHOT_MIN)
        with pytest.raises(InputError) as info:
            load_snapshot(con, SNAPSHOT_MIN, reporting_currency="EUR")
    text = "\n".join(str(v) for v in info.value.violations)
    assert "balances.csv, row 5, column asset: got 'USD'" in text


@pytest.mark.parametrize(
    ("name", "as_of", "expected"),
    [
        ("2026-03-02", None, dt.date(2026, 3, 2)),
        ("2026-03-02", dt.date(2026, 3, 2), dt.date(2026, 3, 2)),
        ("export", dt.date(2026, 3, 4), dt.date(2026, 3, 4)),
        # not YYYY-MM-DD: the option decides
        ("20260302", dt.date(2026, 3, 4), dt.date(2026, 3, 4)),
        ("2026-W10-1", dt.date(2026, 3, 4), dt.date(2026, 3, 4)),
    ],
)
def test_resolve_as_of(name, as_of, expected) -> None:
    assert resolve_as_of(Path("/snapshots") / name, as_of) == expected


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("20260302", "is not YYYY-MM-DD"),
        ("2026-02-30", "is not a real date"),  # the form, not a date (loader review 2026-12-05)
        ("latest", "is not YYYY-MM-DD"),
    ],
)
def test_resolve_as_of_needs_the_option_when_the_name_is_not_a_date(name, why) -> None:
    with pytest.raises(InputError, match=f"its name {why}; rename it or pass --as-of"):
        resolve_as_of(Path("/snapshots") / name, None)


def test_resolve_as_of_reads_the_name_of_the_current_directory(tmp_path, monkeypatch) -> None:
    """`mir load .` inside the date's directory (Path('.').name is empty); a symlink keeps its
    own name (the name is taken lexically, not from the link's target)."""
    day = tmp_path / "2026-03-02"
    day.mkdir()
    monkeypatch.chdir(day)
    assert resolve_as_of(Path("."), None) == dt.date(2026, 3, 2)
    (tmp_path / "2026-03-05").symlink_to(day)
    assert resolve_as_of(tmp_path / "2026-03-05", None) == dt.date(2026, 3, 5)


def _accounts_in_polars_row_groups(tmp_path: Path, extra: int = 300_000) -> tuple[Path, list[str]]:
    """A snapshot whose accounts.parquet holds `extra` more accounts in row groups of 125,000
    rows, as Polars writes them (more than DuckDB's 122,880), and the file's account ids."""
    import pyarrow.parquet as pq

    snap = copy_snapshot(tmp_path)
    con = duckdb.connect()
    accounts = con.sql(
        f"SELECT * FROM read_csv('{snap / 'accounts.csv'}', all_varchar = true) UNION ALL "
        f"SELECT printf('X%07d', i), 'client', NULL, 'retail', 'DE', 'active' "
        f"FROM range({extra}) t(i)"
    ).to_arrow_table()
    pq.write_table(accounts, snap / "accounts.parquet", row_group_size=125_000)
    (snap / "accounts.csv").unlink()
    return snap, accounts.column("account_id").to_pylist()


def _row_groups(db: duckdb.DuckDBPyConnection, table: str) -> list[tuple[int, int]]:
    return db.execute(
        f"SELECT row_group_id, max(count) FROM pragma_storage_info('{table}') "
        "WHERE column_id = 0 GROUP BY ALL ORDER BY ALL"
    ).fetchall()


def test_a_file_in_row_groups_larger_than_duckdbs_is_stored_in_full_ones(tmp_path) -> None:
    """Parquet row groups of 125,000 rows (as Polars writes them) would each be stored as a full
    and a nearly empty DuckDB row group, which the next CHECKPOINT merges and rewrites (3-5 s at
    1M accounts); the loader inserts such a file without keeping the row order, so each of
    DuckDB's threads fills row groups of its own: at most one part-filled group per thread (the
    checkpoint may merge those few; which thread takes which rows varies from run to run), not
    one per row group of the file (five here: stored as they come, four were part-filled). Two
    threads, as on the 2-core machines mir targets, whatever this machine has. Every row is
    stored once."""
    snap, account_ids = _accounts_in_polars_row_groups(tmp_path, extra=600_000)
    with open_db(tmp_path / "mir.duckdb") as db:
        db.execute("SET threads = 2")
        load_snapshot(db, snap)
        groups = _row_groups(db, "accounts")
        stored = db.execute("SELECT account_id FROM accounts").fetchall()
        kept = db.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    part_filled = [count for _, count in groups if count < ROW_GROUP_ROWS]
    assert len(part_filled) <= 2, groups
    assert len(groups) <= -(-len(account_ids) // ROW_GROUP_ROWS) + 1, groups
    assert sorted(r[0] for r in stored) == sorted(account_ids)
    assert kept is True  # the database's setting restored after the insert


def test_an_unordered_insert_that_fails_leaves_the_insertion_order_setting_as_it_was(
    tmp_path,
) -> None:
    """The insert without row order switches DuckDB's preserve_insertion_order off for the
    database; when it fails, the transaction is aborted and no SET works until the ROLLBACK,
    after which the loader restores it (else every later query of the process, the checks
    included, would run without it). The date is left as it was."""
    snap, _ = _accounts_in_polars_row_groups(tmp_path)

    class FailingInsert(_Delegating):
        """The insert into accounts fails inside DuckDB (aborting the transaction), as a full
        disk would."""

        def execute(self, sql: str, *args: Any) -> Any:
            if sql.startswith("INSERT INTO accounts "):
                return self._con.execute("SELECT error('simulated: No space left on device')")
            return self._con.execute(sql, *args)

    with open_db(tmp_path / "mir.duckdb") as db:
        load_snapshot(db, SNAPSHOT_MIN)
        before = db.execute("SELECT count(*) FROM accounts").fetchall()
        with pytest.raises(duckdb.InvalidInputException, match="simulated"):
            load_snapshot(FailingInsert(db), snap)  # type: ignore[arg-type]
        kept = db.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        assert kept is True
        assert db.execute("SELECT count(*) FROM accounts").fetchall() == before


def test_movement_ids_are_stored_with_zstd_and_the_rest_as_duckdb_chooses(tmp_path) -> None:
    """movements.movement_id is declared ZSTD (queries/schema/10_tables.sql: dictionary + FSST
    cost 0.3-0.5 s more per 5M movements at insert and found nothing to share); every other text
    column keeps DuckDB's own choice."""
    with open_db(tmp_path / "mir.duckdb") as db:
        load_snapshot(db, SNAPSHOT_MIN)
        db.execute("CHECKPOINT")
        tables = [
            row[0]
            for row in db.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary"
            ).fetchall()
        ]
        stored = {
            (f"{table}.{column}", compression)
            for table in tables
            for column, compression in db.execute(
                f"SELECT column_name, compression FROM pragma_storage_info('{table}') "
                "WHERE segment_type = 'VARCHAR'"
            ).fetchall()
        }
    assert {name for name, compression in stored if compression == "ZSTD"} == {
        "movements.movement_id"
    }
    assert {"movements.account_id", "positions.position_id"} <= {name for name, _ in stored}


class _Delegating:
    """A load connection that passes everything through to `con`; the tests below override
    `execute` to record or fail statements."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@pytest.mark.parametrize("repeat", [False, True])
def test_a_unique_key_s_rows_are_looked_up_only_when_it_repeats(repeat, tmp_path) -> None:
    """Each unique key costs one aggregation on a clean file (validate.repeats_sql); the query
    naming each repeat and its first row (uniqueness_sql) runs only for a key that repeats."""
    snap = copy_snapshot(tmp_path)
    if repeat:
        set_cell(snap, "movements", 3, "movement_id", "M002")
    con = memory_db()
    executed: list[str] = []

    class Recording(_Delegating):
        def execute(self, sql: str, *args: Any) -> Any:
            executed.append(sql)
            return self._con.execute(sql, *args)

    if repeat:
        with pytest.raises(InputError) as raised:
            load_snapshot(Recording(con), snap)  # type: ignore[arg-type]
        found = [(v.file, v.row, v.column) for v in raised.value.violations]
        assert found == [("movements.csv", 3, "movement_id")]
        assert "the same value is on row 2" in raised.value.violations[0].expected
    else:
        load_snapshot(Recording(con), snap)  # type: ignore[arg-type]
    con.close()
    keys = [key for spec in FILES.values() for key in spec.unique]
    assert sum("HAVING count(*) > 1)" in sql and "EXISTS" in sql for sql in executed) == len(keys)
    named = [sql for sql in executed if "the same value is on row" in sql]
    assert [("staged_movements" in sql) for sql in named] == ([True] if repeat else [])


@pytest.mark.parametrize(
    "reason", ["No space left on device", "Read-only file system"], ids=["full", "read_only"]
)
def test_a_load_whose_checkpoint_fails_says_where_the_day_is(
    reason: str, run_mir, db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (disk review of 2026-12-07): the load's COMMIT reached the write-ahead log,
    then the CHECKPOINT that writes it into the database file failed (a 3 MB tmpfs filled by the
    samples' first day; an ext4 remounted read-only on an error), and DuckDB's close() swallows
    that: `mir load` said "loaded" and exited 0. It exits 4 naming the database, the reason and
    where the committed day is: in the log, which every open replays."""
    import reports.db

    real_connect = reports.db.connect

    class FailingCheckpoint(_Delegating):
        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "CHECKPOINT":  # as DuckDB 2.0 says it (and invalidates the database)
                raise duckdb.FatalException(
                    "FATAL Error: Failed to create checkpoint because of error: Could not write "
                    f'file "{db_path}": {reason}'
                )
            return self._con.execute(sql, *args)

    monkeypatch.setattr(
        reports.db, "connect", lambda *a, **k: FailingCheckpoint(real_connect(*a, **k))
    )
    result = run_mir("load", SNAPSHOT_MIN)
    assert result.exit_code == 4, result.output
    assert "loaded 2026" not in result.stdout
    assert reason.lower() in result.stderr.lower() and f"the database {db_path}" in result.stderr
    assert f"write-ahead log {db_path}.wal" in result.stderr
    assert "internal error" not in result.stderr


def test_a_failed_commit_is_reported_not_the_rollback_after_it(tmp_path) -> None:
    """Regression: a COMMIT that fails (disk full, permission denied) ends the transaction; the
    ROLLBACK that followed raised 'no transaction is active' and hid the real error."""
    con = memory_db()

    class FailingCommit(_Delegating):
        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "COMMIT":
                self._con.execute("ROLLBACK")  # as DuckDB does when the commit cannot be written
                raise duckdb.IOException('Could not write file "x.wal": No space left on device')
            return self._con.execute(sql, *args)

    with pytest.raises(duckdb.IOException, match="No space left on device"):
        load_snapshot(FailingCommit(con), copy_snapshot(tmp_path))  # type: ignore[arg-type]
    assert con.execute("SELECT count(*) FROM loads").fetchall() == [(0,)]
    con.close()


@pytest.mark.parametrize(
    "error",
    [
        duckdb.OutOfMemoryException(
            "Out of Memory Error: could not allocate block of size 256.0 KiB (859.9 KiB/976.5 KiB "
            "used)"
        ),
        duckdb.IOException(
            'Could not write file "mir.duckdb.tmp/duckdb_temp_storage-0.tmp": No '
            "space left on device"
        ),
    ],
    ids=["memory", "disk"],
)
def test_a_reader_that_runs_out_of_memory_or_disk_is_no_bad_input(error, tmp_path) -> None:
    """Regression (resource audit of 2026-12-07): DuckDB out of memory (MIR_MEMORY_LIMIT=1MB)
    or its spill disk full while reading a CSV was reported as a row of the file ("expected a
    well-formed UTF-8 CSV row (Out of Memory Error ...)"): bad input, exit 3, for a valid
    export. The machine's error is raised as it is (exit 4) and nothing is loaded."""
    con = memory_db()

    class Starved(_Delegating):
        def execute(self, sql: str, *args: Any) -> Any:
            if sql.startswith("CREATE OR REPLACE TEMP TABLE raw_accounts "):
                raise error
            return self._con.execute(sql, *args)

    with pytest.raises(type(error)):
        load_snapshot(Starved(con), copy_snapshot(tmp_path))  # type: ignore[arg-type]
    assert con.execute("SELECT count(*) FROM loads").fetchall() == [(0,)]
    con.close()


# -- the path names exactly the files loaded ----------------------------------------------------


def _glob_sibling(directory: Path) -> Path:
    """A copy of the fixture snapshot with other data: one balance 7777."""
    sibling = copy_snapshot(directory)
    set_cell(sibling, "balances", 1, "balance", "7777")
    return sibling


@pytest.fixture(scope="module")
def glob_expected(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[dict[str, list[tuple]], dict[str, list[tuple]]]]:
    """Per format, the tables of the fixture snapshot and of the sibling's data, each loaded
    once from a path without pattern characters (the same for every parent name)."""
    tables = {}
    for fmt in ("csv", "parquet"):
        root = tmp_path_factory.mktemp(f"glob-{fmt}")
        plain, sibling = copy_snapshot(root / "plain"), _glob_sibling(root / "sibling")
        for directory in (plain, sibling):
            convert_all(directory, fmt)
        tables[fmt] = (load_tables(plain), load_tables(sibling))
    return tables


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("parent", ["ex[1]", "ex*1", "ex?1"])
def test_glob_characters_in_the_path_name_only_that_directory(
    tmp_path: Path, parent: str, fmt: str, glob_expected
) -> None:
    """DuckDB reads a file name as a glob: `ex[1]/...` would load the sibling `ex1/...`, and the
    audit row would record the other file's hash."""
    named = copy_snapshot(tmp_path / parent)
    # a directory the pattern would match: ex[1] and ex*1 match ex1, ex?1 matches exa1
    sibling = _glob_sibling(tmp_path / ("exa1" if "?" in parent else "ex1"))
    for directory in (named, sibling):
        convert_all(directory, fmt)
    expected, siblings_tables = glob_expected[fmt]
    assert siblings_tables != expected  # the sibling's data differ
    assert load_tables(named) == expected


def test_a_key_value_parent_directory_adds_no_parquet_column(tmp_path: Path) -> None:
    """DuckDB's Hive partitioning would read `asset=USDT/` as a column asset = 'USDT' of every
    Parquet row (overwriting the file's own asset column) and warn of an unknown column `env`."""
    named = copy_snapshot(tmp_path / "env=prod" / "asset=USDT")
    convert_all(named, "parquet")
    expected = load_tables(copy_snapshot(tmp_path / "plain", source=named))
    con = memory_db()
    from reports.load import load_snapshot

    summary = load_snapshot(con, named)
    assert table_contents(con) == expected
    assert not summary.warnings
    assert {r[0] for r in con.execute("SELECT DISTINCT asset FROM balances").fetchall()} != {"USDT"}


def test_a_backslash_with_a_pattern_character_is_refused_and_alone_is_read(
    tmp_path: Path,
) -> None:
    plain = copy_snapshot(tmp_path / "p\\q")
    assert load_tables(plain) == load_tables(copy_snapshot(tmp_path / "plain"))
    both = copy_snapshot(tmp_path / "a\\[1]")
    with pytest.raises(UsageError, match="both a backslash and one of"):
        load_tables(both)


@pytest.mark.parametrize("how", ["replaced", "rewritten"])
def test_a_file_that_changes_during_the_load_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Review of 2026-12-04 (second): an export swapped in while the load ran recorded one
    version's SHA-256 with the other version's rows (11 of 15 runs). The file changes here while
    it is being hashed, after DuckDB read it: exit 3, nothing loaded."""
    import os

    snapshot = copy_snapshot(tmp_path)
    target = snapshot / "balances.csv"
    original_hash = reader.digest_of

    def hash_while_changing(path: Path) -> reader.Digest:
        if path.name == target.name:
            text = path.read_text(encoding="utf-8")
            if how == "replaced":  # an atomic re-delivery: same content, a new file
                fresh = path.with_name(".balances.csv.new")
                fresh.write_text(text, encoding="utf-8")
                os.replace(fresh, path)
            else:  # written again in place (the same rows: the reads before and after agree)
                path.write_text(text, encoding="utf-8")
        return original_hash(path)

    monkeypatch.setattr(reader, "digest_of", hash_while_changing)
    con = memory_db()
    with pytest.raises(InputError) as caught:
        load_snapshot(con, snapshot)
    (violation,) = caught.value.violations
    assert violation.file == "balances.csv" and violation.row is None
    assert "replaced or written to during the load" in str(violation)
    assert con.execute("SELECT count(*) FROM loads").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM balances").fetchall() == [(0,)]


class _CommitInterrupted(_Delegating):
    """A connection whose COMMIT is interrupted: after DuckDB saved the transaction (`saved`),
    as a Ctrl-C reaching COMMIT late does, or before it ran."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, saved: bool) -> None:
        super().__init__(con)
        self._saved = saved

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            if self._saved:
                self._con.execute(sql)
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
        return self._con.execute(sql, *args)


@pytest.mark.parametrize("saved", [True, False])
def test_an_interruption_at_commit_says_whether_the_date_was_replaced(tmp_path, saved) -> None:
    """CLI review of 2026-12-05: a Ctrl-C reaching DuckDB's COMMIT after the transaction was
    saved was reported as a failed load, though the date was replaced; the officer took the
    database for unchanged."""
    from reports.errors import CommittedThenInterrupted

    snap = copy_snapshot(tmp_path)
    con = memory_db()
    expected = CommittedThenInterrupted if saved else duckdb.InterruptException
    with pytest.raises(expected) as caught:
        load_snapshot(_CommitInterrupted(con, saved=saved), snap)
    loads = con.execute("SELECT count(DISTINCT load_id), count(*) FROM loads").fetchall()
    positions = con.execute("SELECT count(*) FROM positions").fetchall()[0][0]
    if saved:
        assert loads[0][0] == 1 and positions > 0
        message = str(caught.value)
        assert message.startswith(f"interrupted after the load of {AS_OF} was committed")
        assert "the database holds the new snapshot" in message
    else:
        assert loads == [(0, 0)] and positions == 0


@pytest.mark.parametrize("signal", [KeyboardInterrupt, "Terminated", "in a DuckDB query"])
@pytest.mark.parametrize("where", ["_drop_temporaries", "stale-run query"])
def test_a_signal_after_the_commit_returned_is_not_a_failed_load(
    tmp_path, monkeypatch, signal, where
) -> None:
    """Crash review of 2026-12-05: SIGTERM or Ctrl-C 10 ms after the COMMIT returned (while
    the staging tables were dropped, the hashing thread ended or the stale-run query ran) was
    reported as a failed load, though the date was replaced. Before the COMMIT the signal
    stays what it is, and the database unchanged."""
    from reports.errors import CommittedThenInterrupted, Terminated
    from reports.load import loader

    # a signal reaching a DuckDB query comes out as DuckDB's own error (diff review of
    # 2026-12-05: "Query interrupted" still read as a failed load)
    raised: BaseException = {
        "Terminated": Terminated("stopped by SIGTERM"),
        "in a DuckDB query": RuntimeError("Query interrupted"),
    }.get(signal, KeyboardInterrupt())
    snap = copy_snapshot(tmp_path)
    con = memory_db()
    if where == "_drop_temporaries":
        original = loader._drop_temporaries

        def drop(con_: Any) -> None:
            original(con_)
            if con_.execute("SELECT count(*) FROM loads").fetchall()[0][0]:  # after the COMMIT
                raise raised

        monkeypatch.setattr(loader, "_drop_temporaries", drop)
        target: Any = con
    else:

        class StaleQueryInterrupted(_CommitInterrupted):
            def execute(self, sql: str, *args: Any) -> Any:
                if "check_runs_stale" in sql:
                    raise raised
                return self._con.execute(sql, *args)

        target = StaleQueryInterrupted(con, saved=True)
    with pytest.raises(CommittedThenInterrupted) as caught:
        load_snapshot(target, snap)
    assert f"after the load of {AS_OF} was committed" in str(caught.value)
    assert con.execute("SELECT count(DISTINCT load_id) FROM loads").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM position_values").fetchall()[0][0] > 0
    # before the COMMIT: the signal itself, nothing loaded
    fresh = memory_db()
    monkeypatch.setattr(
        validate, "cross_file_violations", lambda *a, **k: (_ for _ in ()).throw(raised)
    )
    with pytest.raises(type(raised)):
        load_snapshot(fresh, copy_snapshot(tmp_path / "again"))
    assert fresh.execute("SELECT count(*) FROM loads").fetchall() == [(0,)]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 1 << 24])
def test_the_mixed_line_ending_scan_skips_quoted_fields_across_chunks(
    tmp_path, monkeypatch, chunk
) -> None:
    """Diff review of 2026-12-05: the scan read the whole file into memory (a multi-GB export on
    the error path) and took a CRLF inside a quoted field for the culprit. It now reads in
    chunks and counts quotes; every chunk size names the same record."""
    from reports.load import reader

    monkeypatch.setattr(reader, "_SCAN_BYTES", chunk)
    cases = {
        # LF file: a legitimate CRLF inside quotes on record 3, the stray CRLF ends record 5
        b'a,b\n1,x\n2,"Bank\r\nA"\n3,"q""uote"\n4,y\r\n5,z\n': (5, "CRLF", "LF"),
        # CRLF file: a bare LF inside quotes on record 2, a stray LF ends record 4
        b'a,b\r\n1,"x\ny"\r\n2,y\r\n3,z\n4,w\r\n': (4, "LF", "CRLF"),
        b"a,b\n1,x\n2,y\n": None,
    }
    for i, (data, expected) in enumerate(cases.items()):
        path = tmp_path / f"f{i}.csv"
        path.write_bytes(data)
        source = reader.SourceFile("accounts", path, "csv")
        assert reader._mixed_line_ending(source) == expected, data


@pytest.mark.parametrize("checks_follow", [False, True])
def test_a_reload_names_the_days_own_stale_run_unless_its_checks_follow(
    tmp_path, checks_follow
) -> None:
    """Long-history review of 2026-12-05: a reload with other data warned of the later days'
    stale runs only, never of the reloaded day's own. The daily job, which checks the day
    next, does not need telling (second diff review)."""
    from reports.checks.engine import run_checks
    from reports.config import Config

    snap = copy_snapshot(tmp_path)
    con = memory_db()
    load_snapshot(con, snap)
    run_checks(con, dt.date.fromisoformat(AS_OF), Config(), only=["SEG-01"], record=True)
    set_cell(snap, "balances", 1, "balance", "12345")
    warnings: list[str] = []
    load_snapshot(con, snap, on_warning=warnings.append, checks_follow=checks_follow)
    named = [w for w in warnings if f"{AS_OF} (this day)" in w]
    assert len(named) == (0 if checks_follow else 1), warnings


@pytest.fixture(scope="module")
def regex_con() -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB connection for the regular-expression examples: they only evaluate
    regexp_full_match, and opening a connection took 45 ms an example (9 s for 200)."""
    con = duckdb.connect()
    yield con
    con.close()


@settings(max_examples=200, deadline=None)
@given(cell=st.from_regex(validate.TIMESTAMP_FINER_RE, fullmatch=True))
def test_a_timestamp_finer_than_microseconds_is_malformed_to_the_pass_query_too(
    regex_con: duckdb.DuckDBPyConnection, cell: str
) -> None:
    """The pass over a clean file leaves out the finer-fraction clause (it only names the
    cell's fault): every cell it matches must break TIMESTAMP_RE, as DuckDB matches it."""
    matches = regex_con.execute(
        "SELECT regexp_full_match(?, ?), regexp_full_match(?, ?)",
        [cell, validate.TIMESTAMP_FINER_RE, cell, validate.TIMESTAMP_RE],
    ).fetchall()
    assert matches == [(True, False)], cell
