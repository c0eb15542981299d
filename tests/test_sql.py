"""`mir sql`, `mir query`, `mir queries` (issue 6): read-only enforcement, output formats, exact
decimals, and every named investigation on samples/ (loaded and checked), with values checked
against the planted findings of samples/truth.csv and the sample files themselves."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import with_one_balance_changed

from reports.investigate import investigations

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DAYS = sorted(p for p in SAMPLES.iterdir() if p.is_dir() and p.name[:4].isdigit())
LAST = dt.date.fromisoformat(DAYS[-1].name)
PREVIOUS = dt.date.fromisoformat(DAYS[-2].name)
INJECTION = "x'; DROP TABLE positions; --"
ELAPSED = re.compile(r"^\d+ row\(s\) in \d+\.\d{3} s$", re.MULTILINE)


def truth() -> list[dict[str, str]]:
    with (SAMPLES / "truth.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every sample day loaded; the last day fully checked, the day before it by CAP-01 alone
    (a partial run: it feeds capital_ratio_trend a second day without the cost of every check)."""
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db
    from reports.load import load_snapshot

    db = tmp_path_factory.mktemp("sql") / "mir.duckdb"
    with open_db(db) as con:
        for day in DAYS:
            load_snapshot(con, day)
        run_checks(con, PREVIOUS, Config(), only=["CAP-01"])
        run_checks(con, LAST, Config())
    return db


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def mir(run_mir: Callable[..., Result], history: Path) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        return run_mir(*args, db=history)

    return run


def query_rows(mir: Callable[..., Result], name: str, **params: str) -> list[dict[str, Any]]:
    """Run `mir query NAME -p k=v ... --format json` and return its rows."""
    args = ["query", name, "--format", "json"]
    for key, value in params.items():
        args += ["-p", f"{key}={value}"]
    result = mir(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


# --------------------------------------------------------------------------------------------
# mir sql: read-only


REFUSED = [
    "INSERT INTO capital VALUES (DATE '2026-03-06', 'cet1', 1)",
    "UPDATE capital SET amount = 0",
    "DELETE FROM positions",
    "CREATE TABLE scratch (x INTEGER)",
    "COPY capital TO '{tmp}/stolen.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SET enable_external_access = true",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT 1; DROP TABLE positions",
    "EXPORT DATABASE '{tmp}/export'",
    "SET threads = 1",  # the locked configuration: DuckDB says so as invalid input
    "PRAGMA enable_profiling",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_sql_refuses_writes_and_file_access(
    statement: str, mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    before = sha256(history)
    result = mir("sql", statement.format(tmp=tmp_path))
    assert result.exit_code == 2, result.output
    assert "error: mir sql is read-only" in result.stderr
    assert result.stdout == ""
    assert sha256(history) == before  # the database file did not change by a byte
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing attached or created


def test_sql_read_only_while_the_database_is_unchanged(
    mir: Callable[..., Result], history: Path
) -> None:
    import duckdb

    result = mir("sql", "DROP TABLE positions")
    assert result.exit_code == 2
    con = duckdb.connect(str(history), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM positions").fetchall()[0][0]
    finally:
        con.close()
    assert rows > 0


@pytest.mark.parametrize(
    "message", ["account locked", "ledger is read-only", "feed disabled by configuration"]
)
def test_an_error_the_query_raises_is_an_sql_error_not_a_refusal(
    message: str, mir: Callable[..., Result]
) -> None:
    # the refusal is recognised by DuckDB's own phrase, not by a word in any message
    result = mir("sql", f"SELECT error('{message}')")
    assert result.exit_code == 2, result.output
    assert f"error: SQL error: Invalid Input Error: {message}" in result.stderr
    assert "read-only" not in result.stderr.replace(message, "")


def test_sql_syntax_error_is_a_usage_error(mir: Callable[..., Result]) -> None:
    result = mir("sql", "SELEC 1")
    assert result.exit_code == 2
    assert "SQL error" in result.stderr


def test_sql_needs_a_database(run_mir: Callable[..., Result], tmp_path: Path) -> None:
    result = run_mir("sql", "SELECT 1", db=tmp_path / "absent.duckdb")
    assert result.exit_code == 2
    assert "no database at" in result.stderr
    assert not (tmp_path / "absent.duckdb").exists()


# --------------------------------------------------------------------------------------------
# mir sql: formats, --output, -f, elapsed time

COUNTS = "SELECT as_of_date, count(*) AS positions FROM positions GROUP BY ALL ORDER BY as_of_date"


def expected_counts() -> list[tuple[str, int]]:
    out = []
    for day in DAYS:
        with (day / "positions.csv").open(newline="", encoding="utf-8") as handle:
            out.append((day.name, sum(1 for _ in csv.DictReader(handle))))
    return out


def test_sql_format_table(mir: Callable[..., Result]) -> None:
    result = mir("sql", COUNTS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["as_of_date", "positions"]
    assert set(lines[1]) <= {"-", " "}
    assert [tuple(line.split()) for line in lines[2:-1]] == [
        (d, str(n)) for d, n in expected_counts()
    ]
    assert lines[-1] == f"({len(DAYS)} rows)"
    assert ELAPSED.search(result.stderr), result.stderr


def test_sql_format_csv(mir: Callable[..., Result]) -> None:
    result = mir("sql", COUNTS, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["as_of_date", "positions"]
    assert [tuple(r) for r in rows[1:]] == [(d, str(n)) for d, n in expected_counts()]
    assert ELAPSED.search(result.stderr)
    assert "row(s)" not in result.stdout  # the timing goes to stderr only


def test_sql_format_json(mir: Callable[..., Result]) -> None:
    result = mir("sql", COUNTS, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"as_of_date": d, "positions": n} for d, n in expected_counts()
    ]


@pytest.mark.parametrize("charset", ["ascii", "latin-1"])
@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_rows_reach_a_stdout_that_is_not_utf8_as_utf8(
    history: Path, charset: str, fmt: str
) -> None:
    """PYTHONIOENCODING=ascii, or a Latin-1 locale: a custodian named in Japanese made `mir sql`
    an "internal error" (exit 4) after half its output (environment audit of 2026-12-07); the
    rows are UTF-8 on standard output as in a --output file, whatever the terminal's encoding."""
    from click.testing import CliRunner

    from reports.cli import cli

    statement = "SELECT 'première-banque-日本 €' AS custodian"
    result = CliRunner(charset=charset).invoke(
        cli, ["sql", statement, "--format", fmt], env={"MIR_DB": str(history)}
    )
    assert result.exit_code == 0, result.output
    assert "première-banque-日本 €" in result.stdout_bytes.decode("utf-8")


def test_sql_format_markdown(mir: Callable[..., Result]) -> None:
    result = mir("sql", COUNTS, "--format", "markdown")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "| as_of_date | positions |"
    assert lines[1] == "|---|---|"
    assert lines[2:] == [f"| {d} | {n} |" for d, n in expected_counts()]


def test_sql_format_parquet_needs_output(mir: Callable[..., Result]) -> None:
    result = mir("sql", COUNTS, "--format", "parquet")
    assert result.exit_code == 2
    assert "--output" in result.stderr


def test_sql_format_parquet_round_trips(mir: Callable[..., Result], tmp_path: Path) -> None:
    import polars as pl

    target = tmp_path / "result.parquet"
    statement = (
        "SELECT as_of_date, sum(balance) AS total FROM balances GROUP BY ALL ORDER BY as_of_date"
    )
    result = mir("sql", statement, "--format", "parquet", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    frame = pl.read_parquet(target)
    assert frame.schema["total"] == pl.Decimal(38, 18)
    assert frame["as_of_date"].to_list() == [dt.date.fromisoformat(d.name) for d in DAYS]
    assert frame["total"].to_list() == [balance_total(day) for day in DAYS]


def balance_total(day: Path) -> Decimal:
    with (day / "balances.csv").open(newline="", encoding="utf-8") as handle:
        return sum((Decimal(r["balance"]) for r in csv.DictReader(handle)), Decimal(0))


def test_sql_output_file_and_sql_file(mir: Callable[..., Result], tmp_path: Path) -> None:
    script = tmp_path / "counts.sql"
    script.write_text(f"-- positions per day\n{COUNTS};\n", encoding="utf-8")
    target = tmp_path / "counts.csv"
    result = mir("sql", "-f", str(script), "--format", "csv", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert ELAPSED.search(result.stderr)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [tuple(r) for r in rows[1:]] == [(d, str(n)) for d, n in expected_counts()]


def test_sql_statement_xor_file(mir: Callable[..., Result], tmp_path: Path) -> None:
    script = tmp_path / "one.sql"
    script.write_text("SELECT 1", encoding="utf-8")
    neither = mir("sql")
    assert neither.exit_code == 2
    # (analyst review of 2026-12-05: it said "(not both)" when none was given)
    assert "give a SQL statement or -f FILE" in neither.stderr and "both" not in neither.stderr
    both = mir("sql", "SELECT 1", "-f", str(script))
    assert both.exit_code == 2
    assert "not both" in both.stderr


EXACT = (
    "SELECT 12345678901234567890.123456789012345678::DECIMAL(38,18) AS big, "
    "0.000000000000000001::DECIMAL(38,18) AS tiny, -1.5::DECIMAL(38,18) AS negative, "
    "100::DECIMAL(38,18) AS whole"
)
EXACT_VALUES = {
    "big": "12345678901234567890.123456789012345678",
    "tiny": "0.000000000000000001",
    "negative": "-1.5",
    "whole": "100",
}


def test_decimals_stay_exact_in_csv_json_and_parquet(
    mir: Callable[..., Result], tmp_path: Path
) -> None:
    import polars as pl

    as_csv = mir("sql", EXACT, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows == [EXACT_VALUES]
    as_json = mir("sql", EXACT, "--format", "json")
    assert json.loads(as_json.stdout) == [EXACT_VALUES]  # strings, never floats
    target = tmp_path / "exact.parquet"
    assert mir("sql", EXACT, "--format", "parquet", "-o", str(target)).exit_code == 0
    frame = pl.read_parquet(target)
    assert {c: frame[c][0] for c in frame.columns} == {
        k: Decimal(v) for k, v in EXACT_VALUES.items()
    }


def test_sum_of_balances_is_exact(mir: Callable[..., Result]) -> None:
    result = mir(
        "sql",
        f"SELECT sum(balance) AS total FROM balances WHERE as_of_date = DATE '{LAST}'",
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.output
    assert Decimal(result.stdout.splitlines()[1]) == balance_total(DAYS[-1])


# --------------------------------------------------------------------------------------------
# mir queries / mir query: the catalogue and parameter handling

EXPECTED_INVESTIGATIONS = {
    "account_history",
    "bad_debt_by_instrument",
    "breaches_by_day",
    "capital_ratio_trend",
    "check_exceptions",
    "position_trail",
    "segregation_trend",
    "top_oi_groups",
}


def test_queries_lists_every_investigation(run_mir: Callable[..., Result]) -> None:
    result = run_mir("queries")
    assert result.exit_code == 0, result.output
    known = investigations()
    files = {
        p.stem
        for p in (Path(__file__).resolve().parent.parent / "queries" / "investigations").glob(
            "*.sql"
        )
    }
    assert set(known) == files
    assert files >= EXPECTED_INVESTIGATIONS
    for inv in known.values():
        assert f"{inv.name}\n    {inv.description}\n" in result.stdout
        assert len(inv.description) > 20
        for p in inv.parameters:
            need = "required" if p.required else "optional"
            assert f"    -p {p.name}=<{p.type}>  ({need}) {p.help}" in result.stdout


def test_a_full_disk_under_the_spool_is_said_so(
    mir: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """mir sql spools the whole result to $TMPDIR before printing it; a full disk there was
    "internal error: OSError ..." until 2026-12-05. It now says where, why, and what to do
    (exit 4, nothing printed, the spool removed)."""
    import errno

    import pyarrow.ipc

    class FullDisk:
        def __init__(self, *args: object) -> None:
            pass

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def write_batch(self, batch: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # $TMPDIR, as read at start
    monkeypatch.setattr(pyarrow.ipc, "new_file", FullDisk)
    result = mir("sql", "SELECT * FROM v_positions", "--format", "csv")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert f"no space left to spool the result in {tmp_path}" in result.stderr
    assert "set TMPDIR to a folder with room" in result.stderr
    assert "internal error" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_to_a_full_disk_is_said_so(
    mir: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review of 2026-12-05: stdout redirected to a full disk was "internal error: OSError"."""
    import errno

    import reports.output

    def full(*args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(reports.output, "_write_text", full)
    result = mir("sql", "SELECT 1 AS one", "--format", "csv")
    assert result.exit_code == 4
    assert "error: no space left on the device written to" in result.stderr
    assert "internal error" not in result.stderr
    # DuckDB's own write failure is no OSError (a load onto a full disk: its WAL)
    import duckdb

    def wal_full(*args: object) -> int:
        raise duckdb.TransactionException('Could not write file "x.wal": No space left on device')

    monkeypatch.setattr(reports.output, "_write_text", wal_full)
    result = mir("sql", "SELECT 1 AS one", "--format", "csv")
    assert result.exit_code == 4
    assert "no space left on the device written to (TransactionException:" in result.stderr
    assert "internal error" not in result.stderr


def test_query_unknown_name(mir: Callable[..., Result]) -> None:
    result = mir("query", "no_such_thing")
    assert result.exit_code == 2
    assert "no investigation named 'no_such_thing'" in result.stderr
    assert "mir queries" in result.stderr


def test_query_unknown_parameter(mir: Callable[..., Result]) -> None:
    result = mir("query", "position_trail", "-p", "position_id=P350", "-p", "colour=red")
    assert result.exit_code == 2
    assert "has no parameter 'colour'" in result.stderr
    assert "position_id" in result.stderr


@pytest.mark.parametrize("query", ["check_exceptions", "breaches_by_day"])
def test_query_unknown_check_id_is_refused(mir: Callable[..., Result], query: str) -> None:
    """Investigations review of 2026-12-05: seg-06 or SEG-6 returned no rows, exit 0, where
    `mir check --only` refuses them."""
    for wrong in ("seg-06", "SEG-6", ""):
        result = mir("query", query, "-p", f"check_id={wrong}")
        assert result.exit_code == 2, (wrong, result.output)
        assert (
            f"unknown check {wrong!r}, and the database holds no results of it; known checks: CAP-01"
            in result.stderr
        )
    assert mir("query", query, "-p", "check_id=SEG-06").exit_code == 0


def test_query_takes_a_check_id_the_database_holds_results_of(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """A check this version of mir no longer has (renamed, withdrawn) keeps its recorded
    history: `-p check_id=` takes an id the database holds results of; one neither the code
    nor the database knows is still refused (a gap of earlier notes: such history could not be
    queried by name)."""
    import duckdb

    db = tmp_path / "history.duckdb"
    shutil.copy(history, db)
    con = duckdb.connect(str(db))
    con.execute(
        "INSERT INTO check_results BY NAME SELECT * REPLACE ('SEG-99' AS check_id, 'breach' AS "
        "status) FROM check_results WHERE check_id = 'SEG-06' ORDER BY checked_at DESC LIMIT 1"
    )
    con.close()
    result = run_mir("query", "breaches_by_day", "-p", "check_id=SEG-99", "--format", "csv", db=db)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["check_id"], r["status"]) for r in rows] == [("SEG-99", "breach")]
    refused = run_mir("query", "breaches_by_day", "-p", "check_id=SEG-98", db=db)
    assert refused.exit_code == 2
    assert "unknown check 'SEG-98', and the database holds no results of it" in refused.stderr
    # a database mir did not make, whose check_results has no check_id (review of the change:
    # "internal error", exit 4): none recorded, the same refusal
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE check_results (x INTEGER)")
    con.close()
    refused = run_mir("query", "breaches_by_day", "-p", "check_id=SEG-98", db=foreign)
    assert refused.exit_code == 2, refused.output
    assert "unknown check 'SEG-98', and the database holds no results of it" in refused.stderr


def test_query_missing_required_parameter(mir: Callable[..., Result]) -> None:
    result = mir("query", "account_history")
    assert result.exit_code == 2
    assert "needs -p account_id=" in result.stderr


@pytest.mark.parametrize(
    "value", ["2026-13-01", "yesterday", "06/03/2026", "20260303", "2026-W10-1"]
)
def test_query_bad_date(mir: Callable[..., Result], value: str) -> None:
    result = mir("query", "breaches_by_day", "-p", f"from={value}")
    assert result.exit_code == 2
    assert f"{value!r} is not a valid date (YYYY-MM-DD)" in result.stderr


def test_query_bad_integer_and_malformed_pair(mir: Callable[..., Result]) -> None:
    for value in ("ten", "0", "-1"):
        bad = mir("query", "top_oi_groups", "-p", f"top={value}")
        assert bad.exit_code == 2
        assert f"{value!r} is not a valid whole number from 1 to 2,147,483,647" in bad.stderr
    for value in ("yes", "1", "TRUE"):
        flag = mir("query", "breaches_by_day", "-p", f"all={value}")
        assert flag.exit_code == 2
        assert f"{value!r} is not a valid true or false" in flag.stderr
    malformed = mir("query", "top_oi_groups", "-p", "top")
    assert malformed.exit_code == 2
    assert "key=value" in malformed.stderr


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("account_history", "account_id"),
        ("position_trail", "position_id"),
        ("segregation_trend", "asset"),
        ("top_oi_groups", "instrument_id"),
    ],
)  # check_id parameters take only a known check id (test_query_unknown_check_id_is_refused)
def test_parameters_are_bound_not_interpolated(
    mir: Callable[..., Result], history: Path, name: str, param: str
) -> None:
    import duckdb

    before = sha256(history)
    result = mir("query", name, "-p", f"{param}={INJECTION}", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []  # a value no row has, not SQL
    assert sha256(history) == before
    con = duckdb.connect(str(history), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM positions").fetchall()[0][0] > 0
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Every investigation on samples/


def test_position_trail_shows_the_planted_rollforward_break(mir: Callable[..., Result]) -> None:
    planted = next(r for r in truth() if r["check_id"] == "SEG-05")
    rows = query_rows(mir, "position_trail", position_id=planted["entity_id"])
    closes = [r for r in rows if r["record"] == "close"]
    assert [r["as_of_date"] for r in closes] == [d.name for d in DAYS]
    difference = {r["as_of_date"]: dec(r["rollforward_difference"]) for r in closes}
    assert difference[DAYS[0].name] is None  # no stored day before the first: not checkable
    for day in DAYS[1:-1]:
        assert difference[day.name] == 0, day.name
    # reported - (previous + movements), as SEG-05: the margin was raised without a movement
    assert difference[LAST.isoformat()] == Decimal("6.56702398")
    (seg05,) = query_rows(mir, "check_exceptions", check_id="SEG-05")
    assert (seg05["entity_id"], Decimal(seg05["value"])) == (
        planted["entity_id"],
        Decimal("6.56702398"),
    )
    assert all(r["instrument_id"] == planted["instrument_id"] for r in closes)
    # each day's movement rows, in time order, come before its close row (mutation review)
    for day in {r["as_of_date"] for r in rows}:
        records = [r["record"] for r in rows if r["as_of_date"] == day]
        assert records == sorted(records, key=lambda record: record != "movement"), day
        times = [r["ts"] for r in rows if r["as_of_date"] == day and r["record"] == "movement"]
        assert times == sorted(times), day
    # every close row's movement total is the sum of that day's movement rows
    for close in closes:
        moves = [
            r for r in rows if r["record"] == "movement" and r["as_of_date"] == close["as_of_date"]
        ]
        assert moves, close["as_of_date"]
        assert sum(Decimal(m["amount"]) for m in moves) == Decimal(close["amount"])
    # the reported margins are those of positions.csv
    for close in closes:
        day = SAMPLES / close["as_of_date"]
        with (day / "positions.csv").open(newline="", encoding="utf-8") as handle:
            row = next(
                r for r in csv.DictReader(handle) if r["position_id"] == planted["entity_id"]
            )
        assert Decimal(close["isolated_margin"]) == Decimal(row["isolated_margin"])


def test_breaches_by_day_lists_exactly_the_breaching_checks(mir: Callable[..., Result]) -> None:
    rows = query_rows(mir, "breaches_by_day")
    planted: dict[str, int] = {}
    for row in truth():
        planted[row["check_id"]] = planted.get(row["check_id"], 0) + 1
    assert {r["as_of_date"] for r in rows} == {LAST.isoformat()}  # the day before was clean
    assert {r["check_id"]: r["exceptions"] for r in rows} == planted
    assert {r["status"] for r in rows} == {"breach"}
    everything = query_rows(mir, "breaches_by_day", all="true", **{"from": LAST.isoformat()})
    statuses = {r["check_id"]: r["status"] for r in everything}
    assert statuses["SEG-03"] == "pass"
    assert statuses["SEG-02"] == "not_evaluated"
    assert len(everything) == len(statuses)  # one row per check: no run counted twice
    one = query_rows(mir, "breaches_by_day", check_id="SEG-06")
    assert [(r["check_id"], r["exceptions"]) for r in one] == [("SEG-06", 3)]
    before = query_rows(mir, "breaches_by_day", all="true", to=PREVIOUS.isoformat())
    assert [(r["as_of_date"], r["check_id"], r["status"]) for r in before] == [
        (PREVIOUS.isoformat(), "CAP-01", "pass")
    ]


def test_account_history_has_no_roll_forward_across_a_gap(tmp_path: Path) -> None:
    """With 2026-03-04 missing, 03-05's movements start at a close that is not stored: no
    previous balance and no roll-forward difference that day (SEG-04 is not_evaluated too)."""
    from reports.db import open_db
    from reports.investigate import run_investigation
    from reports.load import load_snapshot

    db = tmp_path / "gap.duckdb"
    with open_db(db) as con:
        for day in ("2026-03-02", "2026-03-03", "2026-03-05"):
            load_snapshot(con, SAMPLES / day)
    planted = next(r for r in truth() if r["check_id"] == "SEG-04")
    frame = run_investigation(db, "account_history", {"account_id": planted["entity_id"]}).frame
    rows = {
        r["as_of_date"].isoformat(): r
        for r in frame.iter_rows(named=True)
        if r["asset"] == planted["asset"]
    }
    assert sorted(rows) == ["2026-03-02", "2026-03-03", "2026-03-05"]
    assert rows["2026-03-03"]["previous_balance"] is not None
    assert rows["2026-03-03"]["cross_rollforward_difference"] == 0
    assert rows["2026-03-05"]["previous_balance"] is None
    assert rows["2026-03-05"]["cross_rollforward_difference"] is None
    # the same for an isolated bucket's trail (SEG-05's figure)
    both_days = _isolated_position_open_on(db, ("2026-03-03", "2026-03-05"))
    trail = run_investigation(db, "position_trail", {"position_id": both_days}).frame
    closes = {
        r["as_of_date"].isoformat(): r
        for r in trail.iter_rows(named=True)
        if r["record"] == "close"
    }
    assert closes["2026-03-03"]["rollforward_difference"] is not None
    assert closes["2026-03-05"]["previous_margin"] is None
    assert closes["2026-03-05"]["rollforward_difference"] is None
    # segregation_trend's change spans the gap: since the previous stored day, as documented
    # (history audit of 2026-12-07: the README called it day-on-day)
    trend = run_investigation(db, "segregation_trend", {"asset": "ETH"}).frame
    excess = {r["as_of_date"].isoformat(): r for r in trend.iter_rows(named=True)}
    assert excess["2026-03-05"]["excess_change"] == (
        excess["2026-03-05"]["excess"] - excess["2026-03-03"]["excess"]
    )


_FIRST_DAY: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def _first_day_folder(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The folder of _edited_days' database of samples/ 2026-03-02 alone, made when needed."""
    _FIRST_DAY["folder"] = tmp_path_factory.mktemp("first-day")
    yield
    _FIRST_DAY.clear()


def _edited_days(tmp_path: Path, edits: dict[str, list[str]]) -> Path:
    """samples/ 2026-03-02 and 2026-03-03 with rows of 03-03's files edited, loaded: `edits`
    maps a file to (pattern, replacement) lines, applied with re.sub per line (an empty
    replacement drops the line). 03-02 is loaded once a module into a database that each call
    copies (a new database and that load took 1-2 s a call on a slow host)."""
    import re

    from reports.db import open_db
    from reports.load import load_snapshot

    first = _FIRST_DAY["folder"] / "first.duckdb"
    if not first.exists():
        shutil.copytree(SAMPLES / "2026-03-02", first.parent / "2026-03-02")
        with open_db(first.parent / "loading.duckdb") as con:
            load_snapshot(con, first.parent / "2026-03-02")
        (first.parent / "loading.duckdb").rename(first)
    shutil.copytree(SAMPLES / "2026-03-03", tmp_path / "2026-03-03")
    for name, rules in edits.items():
        path = tmp_path / "2026-03-03" / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for pattern, replacement in zip(rules[::2], rules[1::2], strict=True):
            lines = [re.sub(pattern, replacement, line) for line in lines]
        path.write_text("".join(lines), encoding="utf-8")
    db = tmp_path / "edited.duckdb"
    shutil.copyfile(first, db)
    with open_db(db) as con:
        load_snapshot(con, tmp_path / "2026-03-03")
    return db


def _seg_figures(db: Path, check_id: str) -> dict[tuple[str, str], Decimal]:
    """(entity_id, asset) -> value of the check's exceptions on 2026-03-03."""
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db

    with open_db(db) as con:
        run = run_checks(con, dt.date(2026, 3, 3), Config(), only=[check_id], record=False)
    rows = run.results[0].rows
    return {(r["entity_id"], r["asset"]): Decimal(r["value"]) for r in rows.iter_rows(named=True)}


def test_position_trail_has_seg05s_rows_per_day_and_asset(tmp_path: Path) -> None:
    """Investigations review of 2026-12-05: the trail had no row for the day an isolated
    position vanished without a movement (its margin lost: SEG-05's breach), netted movements
    in different assets, and counted a cross position's margin; SEG-05 does none of this."""
    from reports.investigate import run_investigation

    def closes(db: Path, position: str) -> dict[tuple[str, str], Any]:
        frame = run_investigation(db, "position_trail", {"position_id": position}).frame
        return {
            (r["as_of_date"].isoformat(), r["asset"]): r["rollforward_difference"]
            for r in frame.iter_rows(named=True)
            if r["record"] == "close"
        }

    gone = _edited_days(
        tmp_path / "gone",
        {"positions.csv": [r"^P350,.*\n", ""], "movements.csv": [r"^.*,P350,.*\n", ""]},
    )
    seg05 = _seg_figures(gone, "SEG-05")
    assert seg05[("P350", "USDT")] == Decimal("-651.84449929")
    assert closes(gone, "P350")[("2026-03-03", "USDT")] == seg05[("P350", "USDT")]

    adjusted = _edited_days(
        tmp_path / "assets",
        {
            "movements.csv": [
                r"^(M2015,.*)$",
                r"\1\nMX1,2026-03-03T12:00:00Z,C000174,USDT,10,adjustment,P350,,operator\n"
                r"MX2,2026-03-03T12:00:01Z,C000174,USDC,-10,adjustment,P350,,operator",
            ]
        },
    )
    seg05 = _seg_figures(adjusted, "SEG-05")
    trail = closes(adjusted, "P350")
    assert seg05 == {("P350", "USDT"): Decimal(-10), ("P350", "USDC"): Decimal(10)}
    assert {k: v for k, v in trail.items() if k[0] == "2026-03-03"} == {
        ("2026-03-03", "USDT"): Decimal(-10),
        ("2026-03-03", "USDC"): Decimal(10),
    }

    crossed = _edited_days(
        tmp_path / "cross", {"positions.csv": [r"^(P350,[^,]*,[^,]*),isolated,", r"\1,cross,"]}
    )
    seg05 = _seg_figures(crossed, "SEG-05")
    assert closes(crossed, "P350")[("2026-03-03", "USDT")] == seg05[("P350", "USDT")]
    assert seg05[("P350", "USDT")] == Decimal("-653.05069477")


def test_position_trail_of_a_bucket_open_at_neither_close(tmp_path: Path) -> None:
    """A position opened and closed within the day is SEG-05's bucket too: 100 USDT moved in,
    60 released, and no position at either close leaves 40 unaccounted for, a roll-forward
    difference of 0 - (0 + 40) (mutation review: it was NULL, not a bucket)."""
    from reports.investigate import run_investigation

    moves = (
        "MZ1,2026-03-03T09:00:00Z,C000017,USDT,-100,margin_transfer,,TZ1,user\n"
        "MZ2,2026-03-03T09:00:00Z,C000017,USDT,100,margin_transfer,PZ9,TZ1,user\n"
        "MZ3,2026-03-03T10:00:00Z,C000017,USDT,-60,margin_release,PZ9,TZ2,system\n"
        "MZ4,2026-03-03T10:00:00Z,C000017,USDT,60,margin_release,,TZ2,system"
    )
    db = _edited_days(tmp_path, {"movements.csv": [r"^(M2015,.*)$", r"\1\n" + moves]})
    frame = run_investigation(db, "position_trail", {"position_id": "PZ9"}).frame
    rows = [(r["record"], r["kind"], r["asset"]) for r in frame.iter_rows(named=True)]
    assert rows == [
        ("movement", "margin_transfer", "USDT"),  # the bucket's legs only
        ("movement", "margin_release", "USDT"),
        ("close", "closed", "USDT"),
    ]
    close = frame.row(-1, named=True)
    assert (close["amount"], close["rollforward_difference"]) == (Decimal(40), Decimal(-40))


def test_position_trail_of_a_closed_cross_position_has_no_day_after(tmp_path: Path) -> None:
    """The day after a close is a key only when the position was isolated at that close (its
    bucket may have vanished): a cross position gone without a movement has no row that day
    (mutation review: it had a `closed` row, as if a bucket)."""
    from reports.investigate import run_investigation

    db = _edited_days(tmp_path, {"positions.csv": [r"^P31,C000017,BTCUSDT,cross,.*\n", ""]})
    frame = run_investigation(db, "position_trail", {"position_id": "P31"}).frame
    assert [(r["as_of_date"].isoformat(), r["record"]) for r in frame.iter_rows(named=True)] == [
        ("2026-03-02", "close")
    ]


# C000017 on 2026-03-03: its SOL wallet gone without a movement, and a DOGE deposit that
# reached no wallet (two SEG-04 breaches; edits for _edited_days)
WALLET_GONE_AND_DEPOSIT_UNHELD = {
    "balances.csv": [r"^C000017,SOL,.*\n", ""],
    "movements.csv": [
        r"^(M2015,.*)$",
        r"\1\nMX1,2026-03-03T12:00:00Z,C000017,DOGE,100,deposit,,,user",
    ],
}


def test_account_history_has_seg04s_rows_for_vanished_wallets(tmp_path: Path) -> None:
    """Investigations review of 2026-12-05: a wallet gone without a movement, and a deposit
    that reached no wallet, were SEG-04 breaches with no row in account_history."""
    from reports.investigate import run_investigation

    db = _edited_days(tmp_path, WALLET_GONE_AND_DEPOSIT_UNHELD)
    seg04 = _seg_figures(db, "SEG-04")
    assert seg04 == {
        ("C000017", "SOL"): Decimal("-3.63234507"),
        ("C000017", "DOGE"): Decimal(-100),
    }
    frame = run_investigation(db, "account_history", {"account_id": "C000017"}).frame
    rows = {(r["as_of_date"].isoformat(), r["asset"]): r for r in frame.iter_rows(named=True)}
    for (_, asset), value in seg04.items():
        row = rows[("2026-03-03", asset)]
        assert row["cross_rollforward_difference"] == value, asset
        assert (row["balance"], row["account_type"]) == (0, "client")


def test_account_history_has_no_vanished_wallet_row_across_a_gap(tmp_path: Path) -> None:
    """A wallet gone since the previous close gets a row (SEG-04's key) only when that close is
    the calendar day before: across a gap in the stored days nothing is rolled forward, so a
    wallet of 2026-03-03 missing on 2026-03-05 (03-04 not loaded) has no row on 03-05
    (mutation review: the stored day before, however far back, was taken)."""
    from reports.db import open_db
    from reports.investigate import run_investigation
    from reports.load import load_snapshot

    for day in ("2026-03-02", "2026-03-03", "2026-03-05"):
        shutil.copytree(SAMPLES / day, tmp_path / day)
    balances = tmp_path / "2026-03-05" / "balances.csv"
    lines = balances.read_text(encoding="utf-8").splitlines(keepends=True)
    balances.write_text("".join(x for x in lines if not x.startswith("C000017,SOL,")), "utf-8")
    db = tmp_path / "gap.duckdb"
    with open_db(db) as con:
        for day in ("2026-03-02", "2026-03-03", "2026-03-05"):
            load_snapshot(con, tmp_path / day)
    frame = run_investigation(db, "account_history", {"account_id": "C000017"}).frame
    sol = [r["as_of_date"].isoformat() for r in frame.iter_rows(named=True) if r["asset"] == "SOL"]
    assert sol == ["2026-03-02", "2026-03-03"]


def test_check_exceptions_join_an_accounts_equity_in_the_exceptions_asset(
    tmp_path: Path,
) -> None:
    """An account exception joins the account's equity row of its own asset: one row per
    exception, not one per asset the account holds (mutation review: without the asset in the
    join, C000017's two SEG-04 rows came out once per asset it holds)."""
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db
    from reports.investigate import run_investigation

    db = _edited_days(tmp_path, WALLET_GONE_AND_DEPOSIT_UNHELD)
    with open_db(db) as con:
        run_checks(con, dt.date(2026, 3, 3), Config(), only=["SEG-04"])
        held = con.execute(
            "SELECT count(*) FROM v_account_equity "
            "WHERE as_of_date = DATE '2026-03-03' AND account_id = 'C000017'"
        ).fetchall()[0][0]
    assert held > 1  # the account holds other assets, which must not join
    frame = run_investigation(db, "check_exceptions", {"check_id": "SEG-04"}).frame
    rows = [(r["entity_id"], r["asset"], r["account_balance"]) for r in frame.iter_rows(named=True)]
    assert sorted(rows) == [("C000017", "DOGE", None), ("C000017", "SOL", None)]


def _isolated_position_open_on(db: Path, days: tuple[str, ...]) -> str:
    """An isolated position open at every one of these closes."""
    from reports.investigate import run_sql

    found = run_sql(
        db,
        "SELECT position_id FROM positions WHERE margin_mode = 'isolated' "
        "AND as_of_date IN (SELECT unnest($days)::DATE) GROUP BY position_id "
        "HAVING count(*) = len($days) ORDER BY position_id LIMIT 1",
        {"days": list(days)},
    ).frame
    return str(found["position_id"][0])


def test_account_history_of_the_seg04_account(mir: Callable[..., Result]) -> None:
    planted = next(r for r in truth() if r["check_id"] == "SEG-04")
    rows = query_rows(mir, "account_history", account_id=planted["entity_id"])
    usdc = [r for r in rows if r["asset"] == planted["asset"]]
    assert [r["as_of_date"] for r in usdc] == [d.name for d in DAYS]
    assert all(r["account_id"] == planted["entity_id"] for r in rows)
    difference = {r["as_of_date"]: dec(r["cross_rollforward_difference"]) for r in usdc}
    assert difference[DAYS[0].name] is None
    assert [difference[d.name] for d in DAYS[1:-1]] == [0] * (len(DAYS) - 2)
    assert difference[LAST.isoformat()] == Decimal("104.32377688")
    # balances are those of balances.csv; equity = balance + cross uPnL + isolated equity
    for row in usdc:
        with (SAMPLES / row["as_of_date"] / "balances.csv").open(
            newline="", encoding="utf-8"
        ) as handle:
            expected = sum(
                (
                    Decimal(b["balance"])
                    for b in csv.DictReader(handle)
                    if b["account_id"] == planted["entity_id"] and b["asset"] == planted["asset"]
                ),
                Decimal(0),
            )
        assert Decimal(row["balance"]) == expected
        assert Decimal(row["equity"]) == (
            Decimal(row["balance"]) + Decimal(row["cross_upnl"]) + Decimal(row["isolated_equity"])
        )
    # the day's movements of movements.csv, counted apart: cross (no position_id) and isolated
    # (mutation review: a count of every movement passed as the cross count)
    seen = {"cross": 0, "isolated": 0}
    for row in rows:
        with (SAMPLES / row["as_of_date"] / "movements.csv").open(
            newline="", encoding="utf-8"
        ) as handle:
            moves = [
                m
                for m in csv.DictReader(handle)
                if m["account_id"] == planted["entity_id"] and m["asset"] == row["asset"]
            ]
        for kind, moved in (
            ("cross", [m for m in moves if not m["position_id"]]),
            ("isolated", [m for m in moves if m["position_id"]]),
        ):
            assert row[f"{kind}_movements"] == len(moved), (row["as_of_date"], row["asset"], kind)
            net = sum((Decimal(m["amount"]) for m in moved), Decimal(0))
            assert Decimal(row[f"{kind}_movements_net"]) == net, (row["as_of_date"], kind)
            seen[kind] += len(moved)
    assert seen["cross"] > 0 and seen["isolated"] > 0, seen  # both kinds are compared
    limited = query_rows(
        mir,
        "account_history",
        account_id=planted["entity_id"],
        to=PREVIOUS.isoformat(),
        **{"from": PREVIOUS.isoformat()},
    )
    assert {r["as_of_date"] for r in limited} == {PREVIOUS.isoformat()}


def test_check_exceptions_of_seg06_join_the_positions(mir: Callable[..., Result]) -> None:
    planted = {r["entity_id"]: r for r in truth() if r["check_id"] == "SEG-06"}
    rows = query_rows(mir, "check_exceptions", check_id="SEG-06")
    assert {r["entity_id"] for r in rows} == set(planted)
    with (DAYS[-1] / "positions.csv").open(newline="", encoding="utf-8") as handle:
        positions = {p["position_id"]: p for p in csv.DictReader(handle)}
    for row in rows:
        position = positions[row["entity_id"]]
        assert row["as_of_date"] == LAST.isoformat()
        assert row["instrument_id"] == planted[row["entity_id"]]["instrument_id"]
        assert row["position_account_id"] == position["account_id"]
        assert row["position_margin_mode"] == "isolated"
        assert Decimal(row["position_isolated_margin"]) == Decimal(position["isolated_margin"])
        assert Decimal(row["position_quantity"]) == Decimal(position["quantity"])
        assert row["position_account_id"] in row["message"]


def test_check_exceptions_of_seg01_and_seg04_join_asset_and_account(
    mir: Callable[..., Result],
) -> None:
    (seg01,) = query_rows(mir, "check_exceptions", check_id="SEG-01", as_of=LAST.isoformat())
    assert seg01["entity_id"] == "ETH"
    assert dec(seg01["asset_excess"]) == dec(seg01["value"]) < 0
    assert dec(seg01["asset_coverage_ratio"]) < 1
    (seg04,) = query_rows(mir, "check_exceptions", check_id="SEG-04")
    assert (seg04["entity_id"], seg04["asset"]) == ("C000062", "USDC")
    assert seg04["account_type"] == "client"
    assert dec(seg04["value"]) == Decimal("104.32377688")
    assert dec(seg04["account_balance"]) is not None
    assert query_rows(mir, "check_exceptions", check_id="SEG-04", as_of=PREVIOUS.isoformat()) == []


def test_segregation_trend_shows_the_eth_shortfall(mir: Callable[..., Result]) -> None:
    rows = query_rows(mir, "segregation_trend", asset="ETH")
    assert [r["as_of_date"] for r in rows] == [d.name for d in DAYS]
    assert {r["asset"] for r in rows} == {"ETH"}
    for row in rows:
        assert Decimal(row["excess"]) == Decimal(row["held"]) - Decimal(row["client_requirement"])
    ratios = {r["as_of_date"]: Decimal(r["coverage_ratio"]) for r in rows}
    assert all(ratios[d.name] > 1 for d in DAYS[:-1])
    assert ratios[LAST.isoformat()] < 1
    (seg01,) = query_rows(mir, "check_exceptions", check_id="SEG-01")
    assert Decimal(rows[-1]["excess"]) == Decimal(seg01["value"])
    assert rows[0]["excess_change"] is None
    assert Decimal(rows[-1]["excess_change"]) == Decimal(rows[-1]["excess"]) - Decimal(
        rows[-2]["excess"]
    )
    every = query_rows(mir, "segregation_trend", **{"from": LAST.isoformat()})
    assert {r["as_of_date"] for r in every} == {LAST.isoformat()}
    assert {"ETH", "BTC", "USDT", "USDC"} <= {r["asset"] for r in every}
    # the first day of a `from` window compares with the stored day before it (analyst review
    # of 2026-12-05: it was NULL)
    (eth,) = [r for r in every if r["asset"] == "ETH"]
    assert eth["excess_change"] == rows[-1]["excess_change"]


def test_capital_ratio_trend(mir: Callable[..., Result]) -> None:
    rows = query_rows(mir, "capital_ratio_trend")
    assert [r["as_of_date"] for r in rows] == [PREVIOUS.isoformat(), LAST.isoformat()]
    previous, last = rows
    assert last["cap01_status"] == "breach"
    assert previous["cap01_status"] == "pass"
    assert {r["regime"] for r in rows} == {"ifr"}
    # samples/README.md: own funds at 2.5 x the requirement, squeezed to 90% on the last day
    assert Decimal(previous["ratio"]) == Decimal("2.5")
    assert Decimal(last["ratio"]) == Decimal("0.9")
    assert (
        Decimal(last["headroom"]) == Decimal(last["own_funds"]) - Decimal(last["requirement"]) < 0
    )
    assert Decimal(last["early_warning_level"]) == Decimal("1.1")
    # the level's amount is that share of the requirement, not of own funds (mutation review)
    for row in rows:
        amount = Decimal(row["early_warning_level"]) * Decimal(row["requirement"])
        assert abs(Decimal(row["early_warning_amount"]) - amount) <= Decimal("1e-18"), row
    (cap01,) = query_rows(mir, "check_exceptions", check_id="CAP-01")
    assert Decimal(cap01["value"]) == Decimal(last["ratio"])
    assert query_rows(mir, "capital_ratio_trend", to=PREVIOUS.isoformat()) == [previous]


def test_capital_results_are_written_only_when_cap01_ran(history: Path, tmp_path: Path) -> None:
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db

    db = tmp_path / "copy.duckdb"
    shutil.copyfile(history, db)
    with open_db(db) as con:
        before = con.execute("SELECT count(*) FROM capital_results").fetchall()[0][0]
        run_checks(con, LAST, Config(), only=["SEG-04"])
        assert con.execute("SELECT count(*) FROM capital_results").fetchall()[0][0] == before
        run = run_checks(con, LAST, Config(), only=["CAP"])
        rows = con.execute(
            "SELECT run_id, own_funds, requirement, ratio FROM capital_results "
            "WHERE as_of_date = $d ORDER BY checked_at DESC LIMIT 1",
            {"d": LAST},
        ).fetchall()
        stored_at = con.execute(
            "SELECT count(DISTINCT checked_at) FROM check_results WHERE run_id = $r",
            {"r": run.run_id},
        ).fetchall()[0][0]
    assert rows[0][0] == run.run_id
    assert rows[0][3] == Decimal("0.9")
    assert stored_at == 1


def test_top_oi_groups_finds_the_planted_concentration(mir: Callable[..., Result]) -> None:
    planted = next(r for r in truth() if r["check_id"] == "CON-01")
    rows = query_rows(mir, "top_oi_groups", instrument_id=planted["instrument_id"], top="2")
    assert len(rows) == 2
    assert rows[0]["group_or_account"] == planted["entity_id"]
    assert Decimal(rows[0]["gross_quantity"]) >= Decimal(rows[1]["gross_quantity"])
    assert round(Decimal(rows[0]["oi_share"]), 3) == Decimal("0.371")
    (con01,) = query_rows(mir, "check_exceptions", check_id="CON-01")
    assert Decimal(rows[0]["oi_share"]) == Decimal(con01["value"])
    earlier = query_rows(mir, "top_oi_groups", as_of=DAYS[0].name, top="1")
    assert {r["as_of_date"] for r in earlier} == {DAYS[0].name}
    assert len(earlier) == len({r["instrument_id"] for r in earlier}) >= 10


def test_top_oi_groups_counts_short_positions_by_their_size(mir: Callable[..., Result]) -> None:
    """A holder's gross quantity is the sum of |quantity|: a short counts by its size, as in
    CON-01 (mutation review: a signed sum let shorts cancel longs, and put short holders last).
    The samples' book is balanced (every long has its short), so over every holder of an
    instrument the gross quantities add up to twice the open interest (the longs)."""
    planted = next(r for r in truth() if r["check_id"] == "CON-01")
    rows = query_rows(mir, "top_oi_groups", instrument_id=planted["instrument_id"], top="100000")
    assert all(Decimal(r["gross_quantity"]) > 0 for r in rows)
    (open_interest,) = {Decimal(r["open_interest"]) for r in rows}
    assert sum(Decimal(r["gross_quantity"]) for r in rows) == 2 * open_interest


def test_top_oi_groups_names_a_house_holder_by_its_account(tmp_path: Path) -> None:
    """Each house account is a holder of its own, named by its account id even when house
    accounts share a group id (as CON-02 holds them; mutation review: the group id was shown,
    two holders under one name)."""
    from reports.investigate import run_investigation

    db = _edited_days(tmp_path, {"accounts.csv": [r"^(H00[12]),house,,", r"\1,house,HG,"]})
    frame = run_investigation(db, "top_oi_groups", {"top": "100000"}).frame
    house = {
        r["group_or_account"] for r in frame.iter_rows(named=True) if r["account_type"] == "house"
    }
    assert {"H001", "H002"} <= house
    assert "HG" not in house


def test_bad_debt_by_instrument_finds_the_planted_bad_debt(mir: Callable[..., Result]) -> None:
    planted = next(r for r in truth() if r["check_id"] == "SEG-07" and r["inject"] == "bad_debt")
    rows = query_rows(mir, "bad_debt_by_instrument")
    assert [
        (r["as_of_date"], r["instrument_id"], r["settle_asset"], r["positions"]) for r in rows
    ] == [(LAST.isoformat(), planted["instrument_id"], planted["asset"], 1)]
    seg07 = {r["entity_id"]: r for r in query_rows(mir, "check_exceptions", check_id="SEG-07")}
    assert Decimal(rows[0]["bad_debt"]) == Decimal(seg07[planted["entity_id"]]["value"]) > 0
    assert query_rows(mir, "bad_debt_by_instrument", to=PREVIOUS.isoformat()) == []
    # a window includes both its ends: a one-day window of the last day holds its rows
    one_day = {"from": LAST.isoformat(), "to": LAST.isoformat()}
    assert query_rows(mir, "bad_debt_by_instrument", **one_day) == rows
    # in USD at the settle asset's price of prices.csv (ETH here), not the instrument's mark
    # (mutation review: the ETHUSD mark, 3139.34, passed for ETH's 3139.33947419)
    with (SAMPLES / LAST.isoformat() / "prices.csv").open(newline="", encoding="utf-8") as f:
        price = next(
            Decimal(p["price"])
            for p in csv.DictReader(f)
            if (p["kind"], p["symbol"]) == ("asset", planted["asset"])
        )
    usd = Decimal(rows[0]["bad_debt"]) * price
    assert abs(Decimal(rows[0]["bad_debt_usd"]) - usd) <= Decimal("1e-18"), (usd, rows[0])


def test_bad_debt_by_instrument_leaves_out_equity_of_exactly_zero(tmp_path: Path) -> None:
    """Bad debt is equity below zero: an isolated position whose equity is exactly 0 (entry at
    the mark, no margin) has none (mutation review: `<= 0` listed it)."""
    from reports.db import open_db
    from reports.investigate import run_investigation

    # P30, XRPUSDT isolated: entry at 2026-03-03's mark 2.3527, isolated margin 0
    db = _edited_days(
        tmp_path,
        {
            "positions.csv": [
                r"^P30,C000017,XRPUSDT,isolated,16,.*$",
                "P30,C000017,XRPUSDT,isolated,16,2.3527,0,2,0",
            ]
        },
    )
    with open_db(db) as con:
        (equity,) = con.execute(
            "SELECT isolated_equity FROM v_positions "
            "WHERE as_of_date = DATE '2026-03-03' AND position_id = 'P30'"
        ).fetchall()
    assert equity == (0,)
    frame = run_investigation(db, "bad_debt_by_instrument", {"from": "2026-03-03"}).frame
    assert "XRPUSDT" not in frame["instrument_id"].to_list()


def test_run_figures_are_recorded_and_feed_the_next_days_report(
    history: Path, tmp_path: Path
) -> None:
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db
    from reports.render.build import previous_day
    from reports.stress import stress_results, var_es
    from reports.stress.results import worst_cover

    db = tmp_path / "copy.duckdb"
    shutil.copyfile(history, db)
    config = Config()
    with open_db(db) as con:
        run_checks(con, PREVIOUS, config, only=["SEG-04"])  # neither CAP-04 nor CAP-05
        assert con.execute(
            "SELECT count(*) FROM run_figures WHERE as_of_date = ?", [PREVIOUS]
        ).fetchall() == [(0,)]
        partial = run_checks(con, PREVIOUS, config, only=["CAP-04", "CAP-05"])
        run = run_checks(con, PREVIOUS, config)  # the full run, as the daily job records it
        stored = dict(
            con.execute(
                "SELECT figure, value FROM run_figures WHERE run_id = ?", [run.run_id]
            ).fetchall()
        )
        worst = worst_cover(stress_results(con, PREVIOUS, config))
        var_usd = var_es(con, PREVIOUS, config).var_usd
        assert stored == {
            "worst_cover2_usd": worst.cover2_usd,
            "worst_insurance_fund_usd": worst.insurance_fund_usd,
            "var_usd": var_usd,
        }
        # the next day's report reads them (planted values prove nothing is computed again);
        # figures of another run (other inputs, configuration or a partial run) are not used
        con.execute(
            "UPDATE run_figures SET value = value + 1 WHERE run_id = ?", [run.run_id]
        ).fetchall()
        con.execute(
            "UPDATE run_figures SET value = value + 7 WHERE run_id = ?", [partial.run_id]
        ).fetchall()
        got = previous_day(con, PREVIOUS, config, None)
        con.execute("DELETE FROM run_figures WHERE run_id = ?", [run.run_id]).fetchall()
        recomputed = previous_day(con, PREVIOUS, config, None)
    assert (got.cover2_usd, got.insurance_fund_usd, got.var_usd) == (
        worst.cover2_usd + 1,
        worst.insurance_fund_usd + 1,
        var_usd + 1,
    )
    assert got.capital_ratio == Decimal("2.5")  # PREVIOUS's CAP-01 run (capital_results)
    assert (recomputed.cover2_usd, recomputed.var_usd) == (worst.cover2_usd, var_usd)


# --- review of 2026-12-04: usage errors that were internal errors or did damage ----------------


def test_output_never_overwrites_the_database_and_needs_its_directory(
    mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    before = sha256(history)
    for args in (("sql", "SELECT 1 AS a", "--format", "csv"), ("query", "breaches_by_day")):
        result = mir(*args, "-o", str(history))
        assert result.exit_code == 2
        assert "is the database itself" in result.stderr
    assert sha256(history) == before
    missing = mir("sql", "SELECT 1", "-o", str(tmp_path / "no" / "dir" / "x.csv"))
    assert missing.exit_code == 2 and "no directory" in missing.stderr


def test_a_sql_file_that_is_not_utf8_is_a_usage_error(mir, tmp_path: Path) -> None:
    path = tmp_path / "bad.sql"
    path.write_bytes(b"SELECT '\xff'")
    result = mir("sql", "-f", str(path))
    assert result.exit_code == 2 and "as UTF-8 text" in result.stderr


def test_intervals_blobs_and_non_finite_floats_are_output(mir: Callable[..., Result]) -> None:
    result = mir(
        "sql",
        "SELECT INTERVAL 1 DAY AS i, 'x'::BLOB AS b, 'nan'::DOUBLE AS n, '-inf'::DOUBLE AS m",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"i": "1 day", "b": "78", "n": "NaN", "m": "-Infinity"}]
    table = mir("sql", "SELECT INTERVAL 2 HOURS AS i")
    assert table.exit_code == 0 and "02:00:00" in table.stdout


def test_types_the_formats_would_alter_are_output_as_their_text(
    mir: Callable[..., Result],
) -> None:
    """Investigations review of 2026-12-05: nanoseconds were cut to microseconds, a TIMETZ lost
    its offset (another instant), BIT and BIGNUM printed internal bytes, a UNION was exit 4."""
    query = (
        "SELECT '2026-01-01 10:00:00.123456789'::TIMESTAMP_NS AS ns, '10:00:00+02'::TIMETZ AS tz, "
        "'101'::BIT AS bits, 123::BIGNUM AS big, union_value(k := 1) AS u"
    )
    expected = {
        "ns": "2026-01-01 10:00:00.123456789",
        "tz": "10:00:00+02",
        "bits": "101",
        "big": "123",
        "u": "1",
    }
    result = mir("sql", query, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [expected]
    as_csv = mir("sql", query, "--format", "csv")
    assert as_csv.stdout.splitlines()[1] == ",".join(expected.values())


def test_time_ns_and_years_python_cannot_hold_are_output(mir: Callable[..., Result]) -> None:
    """Found in review: a TIME_NS lost its nanoseconds (TIMESTAMP_NS did not), and a date or
    timestamp beyond year 9999 or before year 1 was "internal error", exit 4 (Python's dates
    end there). The time is DuckDB's text; the years are ISO 8601's expanded form, as Polars
    writes them (1 BC is year 0000)."""
    query = (
        "SELECT '12:00:00.123456789'::TIME_NS AS t, DATE '12000-01-01' AS d, "
        "TIMESTAMP '12000-01-01 10:00:00.5' AS ts, '0044-03-15 (BC)'::DATE AS bc, "
        "'0001-03-15 (BC)'::DATE AS zero, TIMESTAMPTZ '12000-01-01 10:00:00+00' AS tz"
    )
    result = mir("sql", query, "--format", "csv")
    assert result.exit_code == 0, result.output
    stamp = "+12000-01-01 10:00:00.500000"
    assert result.stdout.splitlines()[1] == (
        f"12:00:00.123456789,+12000-01-01,{stamp},-0043-03-15,0000-03-15,"
        "+12000-01-01 10:00:00+00:00"
    )
    as_json = mir("sql", query, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)[0]["ts"] == stamp.replace(" ", "T")


def test_a_year_python_cannot_hold_inside_a_list_is_named(mir: Callable[..., Result]) -> None:
    """Review of 2026-12-05: a list, struct or map holding a date beyond year 9999 (or before
    year 1) is formatted value by value, and Python's dates end there: "internal error", exit
    4. It is now a usage error naming the column and what to do; Parquet writes it."""
    for query in (
        "SELECT [DATE '12000-01-01'] AS v",
        "SELECT {'t': TIMESTAMP '0044-03-15 (BC) 10:00'} AS v",
    ):
        for fmt in ("csv", "json", "table"):
            result = mir("sql", query, "--format", fmt)
            assert result.exit_code == 2, (query, fmt, result.output)
            assert "column v holds a value Python cannot represent" in result.stderr
            assert "internal error" not in result.stderr


def test_a_field_named_like_such_a_type_keeps_its_struct(mir: Callable[..., Result]) -> None:
    """Only a column that is or holds such a type is text: a struct with a field named
    INTERVAL_X or BITS is JSON like any struct (the type's text used to be searched for the
    names, a known gap of earlier notes), while an interval inside a struct, list or map is
    still text."""
    query = (
        "SELECT {'INTERVAL_X': 1, 'BITS': 'a', 'UNIONS': [2]} AS s, {'k': INTERVAL 1 DAY} AS t, "
        "[INTERVAL 2 DAY] AS l, map([1], [INTERVAL 3 DAY]) AS m, [1, 2]::INTEGER[2] AS a, "
        "['BIT'::ENUM('BIT', 'x')] AS e"
    )
    result = mir("sql", query, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "s": {"INTERVAL_X": 1, "BITS": "a", "UNIONS": [2]},
            "t": "{'k': 1 day}",
            "l": "[2 days]",
            "m": "{1=3 days}",
            "a": [1, 2],
            "e": ["BIT"],  # an enum value named like such a type: a list, as any
        }
    ]


def test_a_map_with_decimal_date_or_blob_keys_is_output(mir: Callable[..., Result]) -> None:
    """JSON keys are text: a MAP keyed by decimals, dates or blobs has them as their text, as
    its values (review of 2026-12-05: an internal error, exit 4, in every text format)."""
    query = (
        "SELECT MAP {1.5::DECIMAL(4,1): 'v'} AS m, MAP {DATE '2026-01-01': 1.50::DECIMAL(5,2)} "
        "AS d, MAP {'\\x01'::BLOB: 2} AS b, MAP {'a': 1} AS s"
    )
    result = mir("sql", query, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"m": {"1.5": "v"}, "d": {"2026-01-01": "1.5"}, "b": {"01": 2}, "s": {"a": 1}}
    ]
    as_csv = mir("sql", query, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout.splitlines()[1].startswith('"{""1.5"": ""v""}"')


def test_ctrl_c_in_a_query_is_an_interrupt_not_an_internal_error(
    mir: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Investigations review of 2026-12-05: DuckDB reports a Ctrl-C mid-query as an ordinary
    error ("Query interrupted" through the Arrow stream Polars reads), which `mir sql` printed
    as "internal error ... rerun with --debug"; it is the user's interrupt."""
    import reports.investigate

    def interrupted(_relation: Any) -> Any:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(reports.investigate, "_projected", interrupted)
    result = mir("sql", "SELECT 1 AS x")
    assert result.exit_code == 4
    assert result.stderr.strip() == "Interrupted."


def test_breaches_by_day_all_includes_the_passes(mir: Callable[..., Result]) -> None:
    failing = query_rows(mir, "breaches_by_day")
    every = query_rows(mir, "breaches_by_day", all="true")
    assert {r["status"] for r in failing} <= {"warn", "breach", "error"}
    assert "pass" in {r["status"] for r in every} and len(every) > len(failing)
    assert query_rows(mir, "breaches_by_day", all="false") == failing


def test_read_only_commands_honour_the_memory_limit(
    mir: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIR_MEMORY_LIMIT", "123MiB")
    result = mir("sql", "SELECT current_setting('memory_limit') AS m", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "123.0 MiB"


def test_check_and_report_do_not_create_a_missing_database(run_mir, tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"
    for args in (
        ("check", "--as-of", "2026-03-02"),
        ("report", "--as-of", "2026-03-02", "--out", str(tmp_path / "out")),
    ):
        result = run_mir(*args, db=missing)
        assert result.exit_code == 2 and "no database at" in result.stderr
        assert not missing.exists()


@pytest.mark.parametrize("value", ["20260302", "2026-W10-1"])
def test_as_of_takes_only_yyyy_mm_dd(mir: Callable[..., Result], value: str) -> None:
    result = mir("check", "--as-of", value)
    assert result.exit_code == 2
    assert "is not a date of the form YYYY-MM-DD" in result.output


def test_a_database_held_by_another_process_is_exit_4(history: Path, tmp_path: Path) -> None:
    """Another process's write connection (a load, a report) holds DuckDB's file lock: the
    same exit code as the daily job's own lock, 4 (README), not a usage error."""
    import subprocess
    import sys

    from reports.errors import LockedError
    from reports.investigate import run_sql

    copy = tmp_path / "held.duckdb"
    shutil.copyfile(history, copy)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,sys; c=duckdb.connect({str(copy)!r}); "
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match="in use by another process"):
            run_sql(copy, "SELECT 1")
        assert LockedError.exit_code == 4
    finally:
        holder.communicate("")


def test_check_exceptions_after_a_recording_in_which_the_check_crashed(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_mir: Callable[..., Result]
) -> None:
    """Regression: a run id recorded twice, SEG-06 crashing in the first recording (a memory
    limit, which is not part of the run id), showed none of SEG-06's rows afterwards: the
    copies were divided by every recording, not by those that wrote rows."""
    import polars as pl

    from reports.checks import engine
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db
    from reports.render.build import ensure_check_run

    db = tmp_path / "copy.duckdb"
    shutil.copyfile(history, db)
    original = engine.run_sql_check

    def crashing(spec: Any, ctx: Any) -> Any:
        if spec.check_id == "SEG-06":
            raise MemoryError("Out of Memory Error: could not allocate block")
        return original(spec, ctx)

    with open_db(db) as con:
        monkeypatch.setattr(engine, "run_sql_check", crashing)
        crashed = run_checks(con, LAST, Config())  # the full run: the report's run id
        monkeypatch.setattr(engine, "run_sql_check", original)
        assert {r.check_id: str(r.status) for r in crashed.results}["SEG-06"] == "error"
        # the report does not sign the crashed recording: it runs the checks again
        run = ensure_check_run(con, LAST, Config())
        assert not run.reused
    rows = query_rows(lambda *a: run_mir(*a, db=db), "check_exceptions", check_id="SEG-06")
    planted = {r["entity_id"] for r in truth() if r["check_id"] == "SEG-06"}
    assert {r["entity_id"] for r in rows} == planted and len(rows) == len(planted)
    with open_db(db) as con:
        again = ensure_check_run(con, LAST, Config())  # now reused, rows counted once
        assert again.reused
        seg06 = again.exceptions.filter(pl.col("check_id") == "SEG-06")
        assert set(seg06["entity_id"].to_list()) == planted and seg06.height == len(planted)


def _check_with_seg06_crashing(
    db: Path, monkeypatch: pytest.MonkeyPatch, only: list[str] | None = None
) -> Any:
    """Run the checks of LAST on `db` (or `only` those) with SEG-06 crashing (`error`), as
    running out of memory would; the run's result."""
    from reports.checks import engine
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db

    original = engine.run_sql_check

    def crashing(spec: Any, ctx: Any) -> Any:
        if spec.check_id == "SEG-06":
            raise MemoryError("Out of Memory Error: could not allocate block")
        return original(spec, ctx)

    monkeypatch.setattr(engine, "run_sql_check", crashing)
    with open_db(db) as con:
        return run_checks(con, LAST, Config(), only=only)


def test_check_exceptions_of_a_run_shown_crashed_are_none(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_mir: Callable[..., Result]
) -> None:
    """The recording shown is the latest: when the check crashed in it (`error`), it recorded
    no rows, and none are shown, not those an earlier recording of the same run id kept (the
    note says it crashed; mutation review: the earlier rows were shown under the error)."""
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(history, db)  # LAST checked in full: SEG-06's planted rows are recorded
    crashed = _check_with_seg06_crashing(db, monkeypatch)  # the same run id, recorded again
    assert {r.check_id: str(r.status) for r in crashed.results}["SEG-06"] == "error"
    args = ["query", "check_exceptions", "-p", "check_id=SEG-06", "--format", "json"]
    result = run_mir(*args, db=db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert "error, the check crashed in that run and recorded no rows" in result.stderr


def test_list_struct_and_multiline_cells_print_exactly_in_every_text_format() -> None:
    """Regression: a LIST of decimals printed as [Decimal('298.000000000000000000')] in csv,
    table and markdown, and a newline in a cell broke the markdown table."""
    from decimal import Decimal

    import polars as pl

    from reports.output import render_text

    frame = pl.DataFrame(
        {
            "amounts": [[Decimal("298"), Decimal("0.5")]],
            "note": ["first line\nsecond | line"],
        },
        schema={"amounts": pl.List(pl.Decimal(38, 18)), "note": pl.String},
    )
    for fmt in ("csv", "table", "markdown"):
        text = render_text(frame, fmt)
        assert "Decimal(" not in text, fmt
        assert '["298", "0.5"]' in text.replace('""', '"'), fmt
    markdown = render_text(frame, "markdown").splitlines()
    assert markdown[2] == '| ["298", "0.5"] | first line<br>second \\| line |'


def test_an_integer_parameter_beyond_sql_integer_is_a_usage_error(
    mir: Callable[..., Result],
) -> None:
    result = mir("query", "top_oi_groups", "-p", "top=99999999999")
    assert result.exit_code == 2, result.output
    assert "top: '99999999999' is not a valid whole number from 1 to 2,147,483,647" in result.output


def test_a_database_of_another_mir_version_is_named_as_such(
    history: Path, tmp_path: Path, run_mir: Callable[..., Result]
) -> None:
    """Read-only commands do not update a database's schema: on one made by another version
    they say so, and an error on a missing table says to run `mir init`."""
    import duckdb

    db = tmp_path / "older.duckdb"
    shutil.copyfile(history, db)
    con = duckdb.connect(str(db))
    con.execute("UPDATE mir_schema SET fingerprint = 'an older mir'")
    con.execute("DROP TABLE run_figures")
    con.close()
    ok = run_mir("sql", "SELECT count(*) AS n FROM loads", db=db)
    assert (
        ok.exit_code == 0
        and "warning: this database's schema and views are not this mir's" in ok.stderr
    )
    failed = run_mir("sql", "SELECT * FROM run_figures", db=db)
    assert failed.exit_code == 2
    assert f"run `mir init --db {db}`" in failed.output
    current = run_mir("sql", "SELECT count(*) AS n FROM loads", db=history)
    assert "warning" not in current.stderr


# --- review of 2026-12-04 (fourth session) --------------------------------------------------


def test_values_polars_cannot_hold_are_named_not_a_crash(mir: Callable[..., Result]) -> None:
    """Found in review: an interval inside a struct and an infinite date made Polars panic
    (a traceback, exit 1 = "breach found"); a 39-digit HUGEINT came out as another number."""
    nested = mir(
        "sql",
        "SELECT {'waited': TIMESTAMP '2026-03-04 10:00' - TIMESTAMP '2026-03-04 08:00'} AS s",
        "--format",
        "json",
    )
    assert nested.exit_code == 0, nested.output
    assert json.loads(nested.stdout) == [{"s": "{'waited': '02:00:00'}"}]
    for sql, what in (
        ("SELECT 'infinity'::DATE AS d", "column d holds an infinite date or timestamp"),
        ("SELECT TIME '24:00:00' AS t", "column t holds the time 24:00:00"),
        ("SELECT [TIME '24:00:00'] AS l", "column l holds the time 24:00:00"),
        ("SELECT {'a': [TIME '24:00:00']} AS s", "column s holds the time 24:00:00"),
        ("SELECT '-infinity'::TIMESTAMP AS t", "column t holds an infinite date or timestamp"),
        (
            "SELECT 170141183460469231731687303715884105727::HUGEINT AS h",
            "column h holds an integer of more than 38 digits",
        ),
    ):
        for fmt in ("json", "csv", "table"):
            result = mir("sql", sql, "--format", fmt)
            assert result.exit_code == 2, result.output
            assert what in result.stderr and "cast it to VARCHAR" in result.stderr
    times = mir("sql", "SELECT [TIME '23:59:59.5', NULL] AS l", "--format", "csv")
    assert times.exit_code == 0 and times.stdout.splitlines()[1] == '"[""23:59:59.500000"", null]"'
    exact = mir(
        "sql", "SELECT 99999999999999999999999999999999999999::HUGEINT AS h", "--format", "csv"
    )
    assert exact.exit_code == 0 and exact.stdout.splitlines()[1] == "9" * 38


def test_a_polars_panic_is_exit_2_in_sql_and_exit_4_elsewhere(
    mir: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyo3's PanicException is a BaseException: it escaped the error handler (exit 1). `mir
    query` is guarded as `mir sql` is (mutation review of 2026-12-07: without its guard, a
    traceback and exit 1, "breach found")."""
    import reports.investigate

    PanicException = type("PanicException", (BaseException,), {})

    def panic(*_args: Any, **_kwargs: Any) -> Any:
        raise PanicException("out-of-range date")

    monkeypatch.setattr(reports.investigate, "stream_sql", panic)
    result = mir("sql", "SELECT 1")
    assert result.exit_code == 2, result.output
    assert "cannot represent" in result.stderr
    monkeypatch.setattr(reports.investigate, "stream_investigation", panic)
    queried = mir("query", "breaches_by_day")
    assert queried.exit_code == 2, queried.output
    assert "the result holds a value mir cannot represent" in queried.stderr
    assert "cast that column to VARCHAR" in queried.stderr
    monkeypatch.setattr(reports.investigate, "investigations", panic)
    listed = mir("queries")
    assert listed.exit_code == 4, listed.output
    assert "internal error: PanicException: out-of-range date" in listed.stderr


def test_output_through_a_hard_link_to_the_database_is_refused(
    mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """Found in review: -o naming a hard link of the database truncated the database."""
    before = sha256(history)
    link = tmp_path / "innocent.csv"
    link.hardlink_to(history)
    result = mir("sql", "SELECT 1 AS a", "--format", "csv", "-o", str(link))
    assert result.exit_code == 2 and "is the database itself" in result.stderr
    assert sha256(history) == before


def test_empty_sql_and_a_repeated_parameter_are_usage_errors(mir: Callable[..., Result]) -> None:
    empty = mir("sql", "  ")
    assert empty.exit_code == 2 and "the SQL is empty" in empty.stderr
    twice = mir("query", "account_history", "-p", "account_id=A", "-p", "account_id=B")
    assert twice.exit_code == 2 and "-p account_id is given twice" in twice.stderr


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("decimal", "NaN"),
        ("decimal", "Infinity"),
        ("decimal", "1e400"),
        ("decimal", "sNaN"),
        ("decimal", "0.0000000000000000001"),
        ("decimal", "123456789012345678901"),
        ("integer", "3_0"),
        ("integer", "\u0663"),
        ("count", " 3"),
    ],
)
def test_parameter_values_outside_their_type_are_usage_errors(kind: str, raw: str) -> None:
    """Found in review: a decimal parameter took NaN, Infinity and 1e400 (bound as floats) and
    19 decimals; an integer took '3_0' and Arabic-Indic digits (Python's int() does)."""
    from reports.errors import UsageError
    from reports.investigate import Parameter

    with pytest.raises(UsageError, match=f"parameter p: {re.escape(repr(raw))} is not a valid"):
        Parameter("p", kind, True, "").convert(raw)
    assert Parameter("p", "decimal", True, "").convert("-12.500000000000000001") == Decimal(
        "-12.500000000000000001"
    )
    assert Parameter("p", "integer", True, "").convert("-30") == -30


def test_lists_of_dates_are_output_as_before(mir: Callable[..., Result]) -> None:
    """Review of the session's diff: the infinite-date guard applied isfinite() to DATE[]
    columns too, and list(as_of_date) failed with a binder error."""
    result = mir(
        "sql",
        "SELECT [DATE '2026-01-01', DATE '2026-01-02'] AS days, list(1) AS one",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"days": ["2026-01-01", "2026-01-02"], "one": [1]}]


def test_a_reload_after_the_clock_stepped_back_still_marks_runs_stale(
    run_mir: Callable[..., Result],
    history: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A known gap until 2026-12-05: `stale` compares loaded_at with checked_at, so a reload
    made while the clock read earlier than the last run (NTP stepping back, a restored VM)
    left that run looking current. Loads and runs are now recorded after every earlier one."""
    import duckdb

    import reports.db

    db = tmp_path / "mir.duckdb"
    shutil.copy(history, db)
    con = duckdb.connect(str(db), read_only=True)
    (checked_at,) = con.execute("SELECT max(checked_at) FROM check_results").fetchall()[0]
    con.close()
    monkeypatch.setattr(reports.db, "utc_now", lambda: checked_at - dt.timedelta(hours=1))
    changed = with_one_balance_changed(DAYS[-2], tmp_path / "changed")
    reloaded = run_mir("load", str(changed), db=db)
    assert reloaded.exit_code == 0, reloaded.output
    assert "predate this load" in reloaded.stderr
    # and the officer is told the clock reads behind the recorded times (a known gap until
    # 2026-12-05: a clock once set ahead pinned every later time with no word)
    assert "clock reads" in reloaded.stderr and "check the clock" in reloaded.stderr
    con = duckdb.connect(str(db), read_only=True)
    loaded_at = con.execute("SELECT max(loaded_at) FROM loads").fetchall()[0][0]
    assert loaded_at == checked_at + dt.timedelta(microseconds=1)
    assert con.execute("SELECT run_is_stale(?, ?)", [LAST, checked_at]).fetchall()[0][0]
    con.close()
    # a check run recorded now comes after that load, as it happened
    result = run_mir("check", "--as-of", LAST.isoformat(), "--only", "CAP-01", db=db)
    assert result.exit_code in (0, 1), result.output
    con = duckdb.connect(str(db), read_only=True)
    latest = con.execute("SELECT max(checked_at) FROM check_results").fetchall()[0][0]
    assert latest == loaded_at + dt.timedelta(microseconds=1)
    assert not con.execute("SELECT run_is_stale(?, ?)", [LAST, latest]).fetchall()[0][0]
    con.close()


def test_the_view_check_runs_stale_is_run_is_stale_of_every_run() -> None:
    """Review of 2026-12-07: run_is_stale per run compares each run with every later load (3,000
    days checked twice, then restated and checked again: minutes and 15 GB); the investigations,
    the report's capital trend and the loader now read check_runs_stale, computed over all runs
    at once. It must say what the macro says of every run, on the histories that tell them
    apart: an identical reload, A -> B -> A, A -> B -> C, a gap filled later, a partial (--only)
    run, two loads at one loaded_at, a load whose files were recorded at different times, runs
    sharing a checked_at, a run before any load of its day, a capital_results row alone."""
    import duckdb

    from reports.db import init_schema

    con = duckdb.connect()
    init_schema(con)
    t0 = dt.datetime(2026, 3, 6, 9)

    def at(minute: int) -> dt.datetime:
        return t0 + dt.timedelta(minutes=minute)

    def load(load_id: str, day: int, minute: int, files: dict[str, str]) -> None:
        for name, sha in files.items():
            late = 2 if load_id == "L6" and name == "b" else 0  # its files at two times
            con.execute(
                "INSERT INTO loads VALUES (?, ?, ?, 'p', 'csv', ?, 1, ?, 't', false)",
                [load_id, dt.date(2026, 1, day), name, sha, at(minute + late)],
            )

    def run(day: int, minute: int, checks: tuple[str, ...] = ("C1", "C2"), run_id: str = "R"):
        for check in checks:
            con.execute(
                "INSERT INTO check_results VALUES (?, ?, ?, ?, 'pass', 0, NULL, ?, 'k')",
                [f"{run_id}{day}-{minute}", dt.date(2026, 1, day), check, check, at(minute)],
            )

    load("L1", 1, 10, {"a": "1", "b": "1"})
    run(1, 11)
    load("L1s", 1, 12, {"b": "1", "a": "1"})  # identical reload
    run(1, 13)
    load("L2a", 2, 20, {"a": "2"})
    run(2, 21)
    load("L4", 4, 25, {"a": "4"})  # day 3 not loaded yet
    run(4, 26)
    load("L2b", 2, 30, {"a": "22"})  # B
    run(2, 31)
    run(2, 32, ("C1",))  # --only
    load("L2c", 2, 35, {"a": "2"})  # back to A
    load("L1x", 1, 40, {"a": "9"})  # two loads at one time: the greater load_id is the latest
    load("L1y", 1, 40, {"a": "1", "b": "1"})
    run(1, 40)
    load("L3", 3, 50, {"a": "3"})  # the gap filled
    run(4, 51)
    run(1, 55)
    run(2, 55)
    run(2, 55, ("C1",), run_id="Q")  # another run_id, same checked_at
    con.execute(
        "INSERT INTO capital_results VALUES ('RC', ?, 'ifr', 1, 1, 1, 1.2, ?, NULL, NULL)",
        [dt.date(2026, 1, 4), at(52)],
    )
    run(5, 59)  # before any load of its day
    load("L5b", 5, 60, {"a": "55"})  # in force from 60 (L5a < L5b), until 65
    load("L5a", 5, 60, {"a": "5"})
    run(5, 60)
    load("L5z", 5, 65, {"a": "5"})
    run(5, 66)
    load("L6", 6, 70, {"a": "6", "b": "6"})  # b recorded at 72
    run(6, 71)
    run(6, 72)
    load("L7a", 7, 75, {"a": "A"})  # A -> C -> D (a restatement)
    run(7, 76)
    load("L7c", 7, 80, {"a": "C"})
    run(7, 85)
    load("L7d", 7, 90, {"a": "D"})
    run(7, 91)

    view = con.execute(
        "SELECT as_of_date, checked_at, stale FROM check_runs_stale ORDER BY ALL"
    ).fetchall()
    macro = con.execute(
        "SELECT as_of_date, checked_at, run_is_stale(as_of_date, checked_at) FROM "
        "(SELECT as_of_date, checked_at FROM check_results UNION "
        "SELECT as_of_date, checked_at FROM capital_results) ORDER BY ALL"
    ).fetchall()
    assert view == macro
    stale = {(d.day, int((c - t0).total_seconds() // 60)) for d, c, s in view if s}
    current = {(d.day, int((c - t0).total_seconds() // 60)) for d, c, s in view if not s}
    assert current == {
        (1, 11), (1, 13), (1, 40), (1, 55), (2, 21), (2, 55), (4, 51), (4, 52), (5, 66), (6, 72),
        (7, 91),
    }  # fmt: skip
    assert stale == {(2, 31), (2, 32), (4, 26), (5, 59), (5, 60), (6, 71), (7, 76), (7, 85)}
    con.close()


def test_each_event_is_recorded_after_every_earlier_one() -> None:
    """event_time: the clock's reading, or 1 us after the latest load or check run recorded
    when the clock reads no later, the very same instant included (two events within one tick
    of a coarse clock, or a clock stepped back onto it, were recorded at one time, and a run
    then did not follow the load it came after)."""
    import duckdb

    from reports.db import event_time

    con = duckdb.connect()
    con.execute("CREATE TABLE loads (loaded_at TIMESTAMP)")
    con.execute("CREATE TABLE check_results (checked_at TIMESTAMP)")
    now, tick = dt.datetime(2026, 3, 6, 17, 30), dt.timedelta(microseconds=1)
    assert event_time(con, now) == now  # nothing recorded yet
    con.execute("INSERT INTO loads VALUES (?)", [now])
    assert event_time(con, now) == now + tick
    assert event_time(con, now - dt.timedelta(hours=1)) == now + tick
    assert event_time(con, now + tick) == now + tick
    con.execute("INSERT INTO check_results VALUES (?)", [now + dt.timedelta(seconds=1)])
    assert event_time(con, now) == now + dt.timedelta(seconds=1) + tick
    con.execute("INSERT INTO loads VALUES (?)", [now + dt.timedelta(seconds=2)])
    assert event_time(con, now) == now + dt.timedelta(seconds=2) + tick
    con.close()


def _with_a_what_if_run(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path, toml: str
) -> tuple[Path, Path]:
    """A copy of the history database whose last day was checked again under a what-if
    configuration file holding `toml`: (database, that configuration file)."""
    db = tmp_path / "mir.duckdb"
    shutil.copy(history, db)
    whatif = tmp_path / "whatif.toml"
    whatif.write_text(toml, encoding="utf-8")
    checked = run_mir("check", "--as-of", LAST.isoformat(), "--config", str(whatif), db=db)
    assert checked.exit_code in (0, 1), checked.output
    return db, whatif


def test_breaches_by_day_tells_a_what_if_run_by_its_configuration(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """History review of 2026-12-05: a what-if `mir check --config` run became the day's result
    in breaches_by_day, with nothing telling it from the daily job's. Each run now records its
    configuration's SHA-256 (the manifest's config_sha256), shown, and `-p config=` keeps the
    runs of one configuration."""
    from reports.config import Config

    db, whatif = _with_a_what_if_run(
        run_mir, history, tmp_path, '[concentration]\nhhi_warn = "1"\n'
    )

    def rows(**params: str) -> list[dict[str, Any]]:
        return query_rows(functools.partial(run_mir, db=db), "breaches_by_day", **params)

    ours = Config().sha256()
    latest = rows(check_id="CON-02", all="true", **{"from": LAST.isoformat()})
    assert [(r["status"], r["config_sha256"]) for r in latest] == [("warn", mir_sha(whatif))]
    daily = rows(check_id="CON-02", all="true", config=ours, **{"from": LAST.isoformat()})
    assert [(r["status"], r["config_sha256"]) for r in daily] == [("pass", ours)]
    # the hash is matched in either case, as check_exceptions matches it (mutation review)
    upper = rows(check_id="CON-02", all="true", config=ours.upper(), **{"from": LAST.isoformat()})
    assert [(r["status"], r["config_sha256"]) for r in upper] == [("pass", ours)]
    # a warning is listed without all=true: only passes and not_evaluated are left out
    listed = {(r["check_id"], r["status"]) for r in rows(**{"from": LAST.isoformat()})}
    assert ("CON-02", "warn") in listed
    assert all(status in ("warn", "breach", "error") for _, status in listed)
    assert rows(config="0" * 64, all="true") == []

    # check_exceptions takes the same filter: the what-if run's CON-02 warning, or the daily's
    # pass (its note then says so)
    def exceptions(**params: str) -> Result:
        args = ["query", "check_exceptions", "-p", "check_id=CON-02", "--format", "json"]
        return run_mir(*args, *[f"-p{k}={v}" for k, v in params.items()], db=db)

    assert {r["status"] for r in json.loads(exceptions().stdout)} == {"warn"}
    daily_run = exceptions(config=ours.upper())
    assert json.loads(daily_run.stdout) == []
    assert f"note: CON-02 on {LAST}, run " in daily_run.stderr
    assert ": pass, no exceptions" in daily_run.stderr
    assert f"no run of CON-02 under configuration {'0' * 64} is recorded" in (
        exceptions(config="0" * 64).stderr
    )


def test_capital_ratio_trend_tells_a_what_if_run_by_its_configuration(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """Closing note of 2026-12-05: capital_ratio_trend had no `-p config=` filter, so a what-if
    run (here a 150% early warning) stood in for the daily job's day with nothing to select
    the daily job's figures. It now takes the same filter as breaches_by_day."""
    from reports.config import Config

    db, whatif = _with_a_what_if_run(
        run_mir, history, tmp_path, '[capital]\nearly_warning = "1.5"\n'
    )

    def levels(**params: str) -> dict[str, Decimal]:
        rows = query_rows(functools.partial(run_mir, db=db), "capital_ratio_trend", **params)
        return {r["as_of_date"]: Decimal(r["early_warning_level"]) for r in rows}

    assert levels()[LAST.isoformat()] == Decimal("1.5")  # the what-if run is the latest
    daily = levels(config=Config().sha256().upper())
    assert daily[LAST.isoformat()] == Decimal("1.1")
    assert set(levels(config=mir_sha(whatif)).values()) == {Decimal("1.5")}
    assert levels(config="0" * 64) == {}


def mir_sha(config_file: Path) -> str:
    from reports.config import load_config

    return load_config(config_file).sha256()


def test_an_empty_check_exceptions_on_a_day_not_loaded_says_to_load_it(
    mir: Callable[..., Result],
) -> None:
    """History audit of 2026-12-07: on a date with no snapshot (a typo, a day not delivered)
    the note said to run `mir check --as-of D`, which refuses such a date (exit 2, "no
    snapshot loaded"). It now says the date is not loaded."""
    day = (LAST + dt.timedelta(days=3)).isoformat()
    result = mir("query", "check_exceptions", "-p", "check_id=SEG-03", "-p", f"as_of={day}")
    assert result.exit_code == 0, result.output
    assert f"note: no run of SEG-03 is recorded for {day}, and no snapshot of that date is " in (
        result.stderr
    )


def test_an_empty_check_exceptions_says_what_the_run_shown_was(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """History review of 2026-12-05: zero rows of check_exceptions could be a check that
    passed, one never run that day, one not evaluated, or a run made stale by a later load;
    the `stale` column is on each row, so an empty result could not say it."""
    db = tmp_path / "mir.duckdb"
    shutil.copy(history, db)

    def note(**params: str) -> str:
        args = ["query", "check_exceptions"] + [f"-p{k}={v}" for k, v in params.items()]
        result = run_mir(*args, db=db)
        assert result.exit_code == 0, result.output
        assert "0 row(s)" in result.stderr, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
        assert len(lines) == 1, result.stderr
        return lines[0]

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    ((run_id,),) = con.execute(
        "SELECT DISTINCT run_id FROM check_results WHERE as_of_date = ?", [LAST]
    ).fetchall()
    con.close()
    assert note(check_id="SEG-03") == f"note: SEG-03 on {LAST}, run {run_id}: pass, no exceptions"
    assert note(check_id="SEG-02").startswith(
        f"note: SEG-02 on {LAST}, run {run_id}: not evaluated (not configured"
    )
    first = DAYS[0].name
    assert note(check_id="SEG-03", as_of=first) == (
        f"note: no run of SEG-03 is recorded for {first}: run `mir check --as-of {first}` "
        "(or the daily job) for the day"
    )
    # a warning recorded without rows (a check that ran in part) says so, with its message
    con = duckdb.connect(str(db))
    con.execute(
        "INSERT INTO check_results BY NAME SELECT * REPLACE ('warn' AS status, 0 AS exceptions, "
        "'evaluated in part' AS message, checked_at + INTERVAL 1 SECOND AS checked_at) "
        "FROM check_results WHERE as_of_date = ? AND check_id = 'SEG-08'",
        [LAST],
    )
    con.close()
    assert note(check_id="SEG-08") == (
        f"note: SEG-08 on {LAST}, run {run_id}: warn with no exception rows (evaluated in part)"
    )
    # a result with rows has no note
    rows = run_mir("query", "check_exceptions", "-p", "check_id=SEG-04", db=db)
    assert "1 row(s)" in rows.stderr and "note:" not in rows.stderr, rows.stderr
    # the previous day reloaded with other data: the pass shown is a stale run's
    changed = with_one_balance_changed(DAYS[-2], tmp_path / "changed")
    assert run_mir("load", str(changed), db=db).exit_code == 0
    stale = note(check_id="SEG-03")
    assert stale.startswith(f"note: SEG-03 on {LAST}, run {run_id}: pass, no exceptions; that run ")
    assert "is STALE: a load after it changed the files of that day or an earlier one" in stale
    assert f"run `mir check --as-of {LAST}` again" in stale


def test_runs_that_predate_a_reload_are_marked_stale(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """Review of 2026-12-04: after the previous day was reloaded with other data, the
    investigations kept showing the last day's recorded run (SEG-04 passed) while
    account_history showed the new roll-forward break, with nothing saying the run was stale."""
    db = tmp_path / "mir.duckdb"
    shutil.copy(history, db)

    def rows(name: str, **params: str) -> list[dict[str, Any]]:
        return query_rows(functools.partial(run_mir, db=db), name, **params)

    fresh = rows("breaches_by_day", **{"from": LAST.isoformat()})
    assert fresh and not any(r["stale"] for r in fresh)
    assert not any(r["stale"] for r in rows("capital_ratio_trend"))
    # the same files again (a re-delivery): every run id, so every recorded run, still holds
    # (review of 2026-12-04, second session: this counted as stale)
    same = run_mir("load", str(DAYS[-2]), db=db)
    assert same.exit_code == 0, same.output
    assert "predate" not in same.stderr
    assert not any(r["stale"] for r in rows("breaches_by_day", **{"from": PREVIOUS.isoformat()}))
    # other data for the previous day
    changed = with_one_balance_changed(DAYS[-2], tmp_path / "changed")
    reloaded = run_mir("load", str(changed), db=db)
    assert reloaded.exit_code == 0, reloaded.output
    # the reloaded day's own run first (long-history review of 2026-12-05: not named)
    assert (
        f"the check runs recorded for {PREVIOUS.isoformat()} (this day) and {LAST.isoformat()} "
        "(1 later day(s), whose figures read this day" in " ".join(reloaded.stderr.split())
    )
    # the remedy renews the reports and packages too, not only the check runs (review of
    # 2026-12-05: `mir check` alone left packages of the old figures that still verify)
    assert (
        "and so do any reports and packages made from them: run `mir daily` again for those "
        "days, in date order" in " ".join(reloaded.stderr.split())
    )
    assert all(r["stale"] for r in rows("breaches_by_day", **{"from": LAST.isoformat()}))
    assert all(r["stale"] for r in rows("check_exceptions", check_id="SEG-04"))
    trend = {r["as_of_date"]: r["stale"] for r in rows("capital_ratio_trend")}
    assert trend == {PREVIOUS.isoformat(): True, LAST.isoformat(): True}
    # back to the files the runs saw (A -> B -> A): current again, and no warning (review of
    # the fixes: the loader compared with the previous load, not with what the runs saw)
    back = run_mir("load", str(DAYS[-2]), db=db)
    assert back.exit_code == 0, back.output
    assert "predate" not in back.stderr
    assert not any(r["stale"] for r in rows("breaches_by_day", **{"from": PREVIOUS.isoformat()}))


def test_the_investigations_show_a_current_run_over_a_later_stale_one(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """Run A on files X, a reload with Y and run B, then X again (A -> B -> A): A holds again,
    B is stale. breaches_by_day, check_exceptions and capital_ratio_trend show A, current, not
    the later B marked stale (a gap of earlier notes); with no current run, the latest stale
    one is still shown, marked."""
    db = tmp_path / "mir.duckdb"
    shutil.copy(history, db)

    def rows(name: str, **params: str) -> list[dict[str, Any]]:
        return query_rows(functools.partial(run_mir, db=db), name, **params)

    def shown() -> tuple[tuple[str, bool], tuple[str, bool], set[bool]]:
        """(run id, stale) of CAP-01 in breaches_by_day and of capital_ratio_trend on the last
        day, and the stale flags of its SEG-04 exceptions (check_exceptions names no run)."""
        (breaches,) = rows("breaches_by_day", check_id="CAP-01", all="true",
                           **{"from": LAST.isoformat()})  # fmt: skip
        (trend,) = [r for r in rows("capital_ratio_trend") if r["as_of_date"] == LAST.isoformat()]
        exceptions = rows("check_exceptions", check_id="SEG-04", as_of=LAST.isoformat())
        assert exceptions
        return (
            (breaches["run_id"], breaches["stale"]),
            (trend["run_id"], trend["stale"]),
            {r["stale"] for r in exceptions},
        )

    run_a = shown()[0][0]
    assert shown() == ((run_a, False), (run_a, False), {False})
    changed = run_mir("load", str(with_one_balance_changed(DAYS[-2], tmp_path / "y")), db=db)
    assert changed.exit_code == 0, changed.output
    assert shown() == ((run_a, True), (run_a, True), {True})  # no current run: marked
    checked = run_mir("check", "--as-of", LAST.isoformat(), db=db)
    assert checked.exit_code in (0, 1), checked.output
    run_b = shown()[0][0]
    assert run_b != run_a and shown() == ((run_b, False), (run_b, False), {False})
    back = run_mir("load", str(DAYS[-2]), db=db)
    assert back.exit_code == 0, back.output
    assert shown() == ((run_a, False), (run_a, False), {False})


def test_runs_checked_day_by_day_stay_current_after_an_identical_reload(
    run_mir: Callable[..., Result], tmp_path: Path
) -> None:
    """Analyst review of 2026-12-05: with the days loaded and checked one after the other (the
    daily job's order), `run_is_stale(as_of_date, checked_at)` in a WHERE clause bound its
    `day` to loads.as_of_date inside the macro and called every run stale once a later day was
    loaded; `mir load` of identical files then told the officer to re-check every later day."""
    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.db import open_db
    from reports.load import load_snapshot

    db = tmp_path / "mir.duckdb"
    with open_db(db) as con:
        for day in DAYS[:3]:
            load_snapshot(con, day)
            run_checks(con, dt.date.fromisoformat(day.name), Config(), only=["CAP-01"])
        where = "SELECT count(*) FROM check_results WHERE run_is_stale(as_of_date, checked_at)"
        assert con.execute(where).fetchall() == [(0,)]
    same = run_mir("load", str(DAYS[0]), db=db)
    assert same.exit_code == 0, same.output
    assert "predate" not in same.stderr
    changed = run_mir("load", str(with_one_balance_changed(DAYS[1], tmp_path / "c")), db=db)
    assert changed.exit_code == 0, changed.output
    assert f"{DAYS[2].name} (1 later day(s)" in " ".join(changed.stderr.split())
    with open_db(db) as con:
        stale = f"SELECT as_of_date FROM ({where.replace('count(*)', '*')}) ORDER BY 1"
        assert [r[0].isoformat() for r in con.execute(stale).fetchall()] == [
            d.name for d in DAYS[1:3]
        ]
        # the README's re-check recipe: the days on which some check has no current run
        recipe = _readme_sql("while read -r day")
        assert [r[0].isoformat() for r in con.execute(recipe).fetchall()] == [
            d.name for d in DAYS[1:3]
        ]


def _readme_sql(marker: str) -> str:
    """The SQL of the README's `mir sql "..."` example whose line (or block) holds `marker`."""
    readme = (SAMPLES.parent / "README.md").read_text(encoding="utf-8")
    for match in re.finditer(r'mir sql "([^"]+)"', readme):
        if marker in readme[match.end() :].split("mir sql", 1)[0][:400]:
            return match.group(1)
    raise AssertionError(f"no `mir sql` example with {marker!r} in the README")


def test_the_readmes_history_queries_agree_with_the_investigations(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """History audit of 2026-12-07: the README's re-check recipe took each day's latest run
    only, so after `mir check --only` on a day whose full run a reload had made stale it
    re-checked nothing there while breaches_by_day still showed 19 stale checks (and after a
    reload back, A -> B -> A, it re-checked days whose current run holds again); its "latest
    outcome per day" example showed the stale run of B's data, which breaches_by_day does
    not. Both now pick runs as the investigations do: the recipe lists exactly the days on
    which some check's shown run is stale, and (analyst audit of 2026-12-07: it read
    check_results alone) those on which some check never ran: loaded and never checked, or
    checked with `--only` (the history's first three days, and PREVIOUS's CAP-01 run)."""
    db = tmp_path / "mir.duckdb"
    shutil.copy(history, db)
    recipe = _readme_sql("while read -r day")
    latest = _readme_sql("each check's latest outcome per day")

    def days(sql: str) -> list[str]:
        result = run_mir("sql", sql, "--format", "json", db=db)
        assert result.exit_code == 0, result.output
        return [r["as_of_date"] for r in json.loads(result.stdout)]

    def stale_days() -> list[str]:
        rows = query_rows(functools.partial(run_mir, db=db), "breaches_by_day", all="true")
        return sorted({r["as_of_date"] for r in rows if r["stale"]})

    # the day before LAST reloaded with other data (B): LAST's full run is stale; a partial run
    # of LAST on B's data is current for its one check only
    changed = with_one_balance_changed(DAYS[-2], tmp_path / "changed")
    assert run_mir("load", str(changed), db=db).exit_code == 0
    partial = run_mir("check", "--as-of", LAST.isoformat(), "--only", "SEG-04", db=db)
    assert partial.exit_code in (0, 1), partial.output
    never_run = [d.name for d in DAYS[:-1]]  # every check of them, or all but CAP-01
    assert stale_days() == [PREVIOUS.isoformat(), LAST.isoformat()]
    assert days(recipe) == sorted({*never_run, *stale_days()})
    # back to the files the first runs checked (A): they hold again, the partial run is stale
    assert run_mir("load", str(DAYS[-2]), db=db).exit_code == 0
    assert stale_days() == []
    assert days(recipe) == never_run
    # once every check has run on PREVIOUS, it is left out
    done = run_mir("check", "--as-of", PREVIOUS.isoformat(), db=db)
    assert done.exit_code in (0, 1), done.output
    assert days(recipe) == never_run[:-1]
    # the latest outcome per day is the run breaches_by_day shows (LAST's SEG-04 of A: one
    # exception; the partial run of B's data, now stale, had two)
    shown = {
        (r["as_of_date"], r["check_id"], r["status"], r["exceptions"])
        for r in query_rows(functools.partial(run_mir, db=db), "breaches_by_day")
    }
    result = run_mir("sql", latest, "--format", "json", db=db)
    assert result.exit_code == 0, result.output
    listed = {
        (r["as_of_date"], r["check_id"], r["status"], r["exceptions"])
        for r in json.loads(result.stdout)
        if r["status"] in ("warn", "breach", "error")
    }
    assert (LAST.isoformat(), "SEG-04", "breach", 1) in listed
    assert listed == shown


def test_spaces_around_a_parameters_equals_sign_are_layout() -> None:
    """CLI review of 2026-12-05: `-p "account_id = A1"` looked for the value " A1" and silently
    matched nothing."""
    from reports.cli.sql import _parse_params

    assert _parse_params(("account_id = A1", "as_of=2026-03-03")) == {
        "account_id": "A1",
        "as_of": "2026-03-03",
    }
    assert _parse_params(("account_id= A1",)) == {"account_id": " A1"}  # an id may start so


# --- streamed output (analyst review of 2026-12-05: the whole result was held in memory, 9.6 KB
# per row as JSON: a day of v_positions at a million accounts needed about 20 GB) ------------


def test_streamed_output_is_the_whole_result_written_at_once(tmp_path: Path) -> None:
    """Batch by batch, each text format gives the bytes it gives for the whole result: JSON as
    json.dumps of the full list (a line separator U+2028 inside a string included)."""
    import polars as pl

    from reports.output import write_batches

    frame = pl.DataFrame(
        {
            "id": ["a", "b\u2028c", "d|e", None, "f\ng"],
            "amount": [Decimal("1.50"), None, Decimal("-0.000000000000000001"), Decimal(0), None],
            "tags": [["x"], [], None, ["y", "z"], ["w"]],
        },
        schema={"id": pl.String, "amount": pl.Decimal(38, 18), "tags": pl.List(pl.String)},
    )
    records = [
        {"id": "a", "amount": "1.5", "tags": ["x"]},
        {"id": "b\u2028c", "amount": None, "tags": []},
        {"id": "d|e", "amount": "-0.000000000000000001", "tags": None},
        {"id": None, "amount": "0", "tags": ["y", "z"]},
        {"id": "f\ng", "amount": None, "tags": ["w"]},
    ]
    expected_json = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    for batches in ([frame], [frame.slice(0, 2), frame.slice(2, 1), frame.slice(3, 2)]):
        out = {}
        for fmt in ("json", "csv", "markdown"):
            buffer = io.StringIO()
            assert write_batches(frame.schema, iter(batches), fmt, buffer, None) == 5
            out[fmt] = buffer.getvalue()
        assert out["json"] == expected_json
        assert out["csv"].splitlines()[:2] == ["id,amount,tags", 'a,1.5,"[""x""]"']
        assert out["markdown"].split("\n")[4] == "| d\\|e | -0.000000000000000001 |  |"
        assert "| f<br>g |" in out["markdown"]
    empty = io.StringIO()
    assert write_batches(frame.schema, iter([]), "json", empty, None) == 0
    assert empty.getvalue() == "[]\n"
    # table: the widths over every batch, whether the batches can be read twice or not
    whole = io.StringIO()
    assert write_batches(frame.schema, [frame], "table", whole, None) == 5
    assert whole.getvalue().splitlines()[-1] == "(5 rows)"
    for batches in ([frame.slice(0, 2), frame.slice(2, 1), frame.slice(3, 2)],):
        for given in (batches, iter(batches)):
            buffer = io.StringIO()
            assert write_batches(frame.schema, given, "table", buffer, None) == 5
            assert buffer.getvalue() == whole.getvalue()


def test_text_cells_made_in_polars_are_the_ones_python_made() -> None:
    """Text, integers, decimals, booleans, dates and time-zone-free timestamps are turned into
    text column by column in Polars; every cell is exactly what the value-by-value formatting
    gives (`_cell`), which other types still use."""
    import polars as pl

    from reports.output import _cell, text_column

    columns = [
        pl.Series(["a", "", None, "x\ny", "ü|\u2028"], dtype=pl.String),
        pl.Series([0, -128, 127, None, 5], dtype=pl.Int8),
        pl.Series([0, 2**64 - 1, None, 1, 10], dtype=pl.UInt64),
        pl.Series([True, False, None, True, False], dtype=pl.Boolean),
        pl.Series([None, None, None, None, None], dtype=pl.Boolean),
    ]
    decimals = [
        Decimal("1.5"),
        Decimal("100"),
        Decimal("-0.000000000000000001"),
        Decimal("0"),
        None,
        Decimal("99999999999999999999.999999999999999999"),
        Decimal("-100.10"),
        Decimal("10"),
        Decimal("0.1"),
    ]
    columns.append(pl.Series(decimals, dtype=pl.Decimal(38, 18)))
    for scale in (0, 2, 5):
        values = [Decimal("100"), Decimal("-5"), None, Decimal("0"), Decimal("120")]
        columns.append(pl.Series(values, dtype=pl.Decimal(20, scale)))
    import datetime as dt

    columns.append(pl.Series([dt.date(1, 1, 1), dt.date(999, 12, 31), None, dt.date(9999, 12, 31)]))
    moments = [
        dt.datetime(1, 1, 1),
        dt.datetime(2026, 3, 3, 14, 5, 0, 123000),
        dt.datetime(2026, 3, 3, 14, 5),
        None,
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
        dt.datetime(2026, 1, 1, 0, 0, 0, 1),
    ]
    stamps = pl.Series(moments, dtype=pl.Datetime("us"))
    columns += [stamps, stamps.cast(pl.Datetime("ms")), stamps.dt.replace_time_zone("UTC")]
    for column in columns:
        expected = [_cell(value) for value in column.to_list()]
        assert text_column(column) == expected, column.dtype


def _floats_python_spells_in_every_way() -> list[float | None]:
    """Floats across every decimal exponent, each with its neighbours (repr() switches to an
    exponent below 1e-04 and from 1e+16; Polars' own spelling switches elsewhere), random bit
    patterns (subnormals, NaN payloads), the special values and NULL."""
    import math
    import random
    import struct

    values: list[float | None] = [None, 0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan]
    values += [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3]
    for exponent in range(-324, 309):
        for mantissa in ("1", "9.999999999999999", "5", "2.5", "1.0000000000000002"):
            value = float(f"{mantissa}e{exponent}")
            for near in (value, math.nextafter(value, 0.0), math.nextafter(value, math.inf)):
                values += [near, -near]
    generator = random.Random(7)
    values += [
        struct.unpack("<d", generator.getrandbits(64).to_bytes(8, "little"))[0]
        for _ in range(50_000)
    ]
    values += [generator.random() * 10.0 ** generator.randint(-30, 30) for _ in range(20_000)]
    return values


def test_floats_blobs_times_and_utc_timestamps_are_spelled_in_polars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Floats (as repr(): 1e-05, 1e+16, nan), blobs (hex), times and timestamps without a zone or
    in UTC are turned into text in Polars, never value by value; every cell, and every JSON
    value, is what the value-by-value formatting gives. Other time zones, nanosecond times and
    lists still go value by value."""
    import polars as pl

    import reports.output
    from reports.output import _cell, _json_value, json_column, text_series

    floats = _floats_python_spells_in_every_way()
    moments = [dt.datetime(1, 1, 1), dt.datetime(2026, 3, 3, 14, 5, 0, 500000), None]
    moments += [dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(2026, 1, 1, 0, 0, 0, 1)]
    stamps = pl.Series(moments, dtype=pl.Datetime("us"))
    columns = [
        pl.Series(floats, dtype=pl.Float64),
        pl.Series(floats, dtype=pl.Float64).cast(pl.Float32),
        pl.Series([b"", b"\xab\x00", None, bytes(range(256))], dtype=pl.Binary),
        pl.Series([dt.time(0), dt.time(23, 59, 59, 999999), None, dt.time(1, 2, 3, 500000)]),
        *(stamps.dt.replace_time_zone(zone) for zone in ("UTC", "Etc/UTC", "GMT")),
        stamps.cast(pl.Datetime("ms")).dt.replace_time_zone("Etc/UTC"),
    ]
    expected = [[_cell(v) for v in c.to_list()] for c in columns]
    expected_json = [[json.dumps(_json_value(v)) for v in c.to_list()] for c in columns]
    assert "1e-05" in expected[0] and "1e+16" in expected[0] and "nan" in expected[0]

    def refuse(value: object) -> str:
        raise AssertionError(f"{value!r} was spelled value by value")

    monkeypatch.setattr(reports.output, "_cell", refuse)
    monkeypatch.setattr(reports.output, "_json_value", refuse)
    for column, cells, json_cells in zip(columns, expected, expected_json, strict=True):
        assert text_series(column).to_list() == cells, column.dtype
        assert json_column(column).to_list() == json_cells, column.dtype
    # the others still are: a zone with offsets of its own, nanoseconds, a list
    for other in (
        stamps.dt.replace_time_zone("Europe/Berlin"),
        pl.Series([5_000_000_001], dtype=pl.Int64).cast(pl.Time),
        pl.Series([[1.5]], dtype=pl.List(pl.Float64)),
    ):
        with pytest.raises(AssertionError, match="value by value"):
            text_series(other)


def test_json_made_in_polars_is_json_dumps_of_the_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON records are made a slice at a time in Polars (strings escaped as json.dumps
    escapes them with ensure_ascii=False: every control character, quote and backslash, and
    nothing else); the bytes are those of json.dumps(records, indent=2) of the whole list, with
    decimals as exact text, nested values indented for their depth."""
    import datetime as dt

    import polars as pl

    import reports.output
    from reports.output import write_batches

    monkeypatch.setattr(reports.output, "SLICE_ROWS", 2)  # several slices per batch
    every_control = "".join(chr(code) for code in range(0x20))
    texts = [every_control, 'q"b\\s/\u2028\u2029\x7fü€😀', "", None, "plain"]
    frame = pl.DataFrame(
        {
            "text": texts,
            "n": [0, -(2**63), 2**63 - 1, None, 7],
            "flag": [True, False, None, True, False],
            "amount": [
                Decimal("1.50"),
                Decimal("-0.000000000000000001"),
                None,
                Decimal(0),
                Decimal("100"),
            ],
            "day": [dt.date(2026, 3, 3), None, dt.date(1, 1, 1), dt.date(9999, 12, 31), None],
            "at": [
                dt.datetime(2026, 3, 3, 14, 5),
                dt.datetime(2026, 3, 3, 14, 5, 0, 120),
                None,
                dt.datetime(1, 1, 1),
                dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
            ],
            "ratio": [0.1, None, 1e-05, float("inf"), -0.0],
            "tags": [["x", None], [], None, ["y"], ["z"]],
            "pair": [{"a": Decimal("2.5"), "b": "c"}, None, {"a": None, "b": ""}, None, None],
        },
        schema={
            "text": pl.String,
            "n": pl.Int64,
            "flag": pl.Boolean,
            "amount": pl.Decimal(38, 18),
            "day": pl.Date,
            "at": pl.Datetime("us"),
            "ratio": pl.Float64,
            "tags": pl.List(pl.String),
            "pair": pl.Struct({"a": pl.Decimal(38, 18), "b": pl.String}),
        },
    )
    records = [
        {c: reports.output._json_value(v) for c, v in row.items()}
        for row in frame.iter_rows(named=True)
    ]
    expected = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    for batches in ([frame], [frame.slice(0, 3), frame.slice(3, 2)]):
        out = io.StringIO()
        assert write_batches(frame.schema, batches, "json", out, None) == 5
        assert out.getvalue() == expected
        assert json.loads(out.getvalue())[0]["text"] == every_control


def test_table_and_markdown_lines_made_in_polars_are_pythons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Table and Markdown lines are made a slice at a time in Polars; they are the lines the
    per-row Python made: cells padded with str.rjust (numbers) or str.ljust, joined by two
    spaces, the end stripped as str.rstrip() strips it (every character str.isspace() calls
    whitespace, not only what Polars would strip); Markdown cells with | escaped and line
    breaks as <br>."""
    import polars as pl

    import reports.output
    from reports.output import PYTHON_WHITESPACE, _cell, write_batches

    python_whitespace = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert python_whitespace == PYTHON_WHITESPACE
    monkeypatch.setattr(reports.output, "SLICE_ROWS", 2)
    frame = pl.DataFrame(
        {
            "n": [1, -20, None, 300, 5],
            "text": ["a|b", "x\r\ny\nz", None, "", "é😀"],
            "last": ["tail \x1c", "wide\u3000 ", "\x85", None, "end\t"],
        },
        schema={"n": pl.Int64, "text": pl.String, "last": pl.String},
    )
    rows = [[_cell(v) for v in row] for row in frame.iter_rows()]
    numeric = [True, False, False]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(frame.columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    table = [line(frame.columns), "  ".join("-" * w for w in widths)]
    table += [line(r) for r in rows] + ["(5 rows)"]
    markdown = ["| n | text | last |", "|---|---|---|"] + [
        "| "
        + " | ".join(c.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>") for c in r)
        + " |"
        for r in rows
    ]
    for batches in ([frame], [frame.slice(0, 3), frame.slice(3, 2)]):
        out = io.StringIO()
        assert write_batches(frame.schema, batches, "table", out, None) == 5
        assert out.getvalue() == "\n".join(table) + "\n"
        out = io.StringIO()
        assert write_batches(frame.schema, batches, "markdown", out, None) == 5
        assert out.getvalue() == "\n".join(markdown) + "\n"


def test_the_table_format_holds_one_batch_at_a_time(
    mir: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`table` (the default) aligns its columns over every row, so it reads the spooled result
    twice rather than holding it (analyst review of 2026-12-05: the rows held as text took
    about 10 times the result, and `mir sql "SELECT * FROM v_positions"` ran a million-account
    venue out of memory). Same text as the whole result gives."""
    import gc
    import weakref

    import reports.investigate

    stream_sql = reports.investigate.stream_sql
    alive: set[int] = set()
    most = [0]

    class Watched:
        def __init__(self, batches: Any) -> None:
            self.batches = batches

        def __iter__(self) -> Any:
            for batch in self.batches:
                key = id(batch)
                alive.add(key)
                weakref.finalize(batch, alive.discard, key)
                most[0] = max(most[0], len(alive))
                yield batch

    @contextlib.contextmanager
    def watched(*args: Any, **kwargs: Any) -> Any:
        with stream_sql(*args, batch_rows=1000) as result:
            yield dataclasses.replace(result, batches=Watched(result.batches))

    sql = "SELECT range AS i, 'row ' || range AS label FROM range(10000)"
    gc.collect()
    monkeypatch.setattr(reports.investigate, "stream_sql", watched)
    streamed = mir("sql", sql)
    monkeypatch.undo()
    assert streamed.exit_code == 0, streamed.output
    assert 1 <= most[0] <= 2, most[0]  # ten batches, never more than two alive
    lines = streamed.stdout.splitlines()
    assert lines[0].split() == ["i", "label"] and lines[-1] == "(10000 rows)"
    assert lines[2] == "   0  row 0   ".rstrip() and lines[-2] == "9999  row 9999"
    whole = mir("sql", sql)  # one batch of 100,000 rows: the whole result at once
    assert whole.stdout == streamed.stdout


def test_rows_are_written_before_the_result_is_fetched_in_full(
    mir: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first rows reach the output while later batches are still to be fetched: memory is
    that of a batch, not of the result."""
    import reports.investigate
    import reports.output

    monkeypatch.setattr(reports.investigate, "BATCH_ROWS", 1000)
    stream_sql = reports.investigate.stream_sql
    seen: list[int] = []
    target = tmp_path / "rows.csv"
    partial = tmp_path / f".mir-{os.getpid()}.partial"

    @contextlib.contextmanager
    def watched(*args: Any, **kwargs: Any) -> Any:
        with stream_sql(*args, batch_rows=1000) as result:

            def batches() -> Any:
                for batch in result.batches:
                    seen.append(partial.stat().st_size if partial.exists() else 0)
                    yield batch

            yield dataclasses.replace(result, batches=batches())

    monkeypatch.setattr(reports.investigate, "stream_sql", watched)
    result = mir("sql", "SELECT range AS i FROM range(5000)", "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "5000 row(s)" in result.stderr
    assert len(seen) == 5 and seen[0] == 0 and seen[-1] > 0  # written as it came
    assert target.read_text(encoding="utf-8").splitlines()[-1] == "4999"
    assert not partial.exists()


def test_an_error_midway_leaves_no_output_file(mir: Callable[..., Result], tmp_path: Path) -> None:
    """A value found bad only when its batch is fetched: exit 2, and -o FILE is not created
    (nothing half-written), nor is its temporary file left behind."""
    target = tmp_path / "out.json"
    sql = (
        "SELECT CASE WHEN i < 250000 THEN i ELSE error('bad row ' || i) END AS i "
        "FROM range(300000) t(i)"
    )
    result = mir("sql", sql, "--format", "json", "-o", str(target))
    assert result.exit_code == 2, result.output
    assert "SQL error" in result.stderr and "bad row" in result.stderr
    assert "cannot write" not in result.stderr  # not blamed on the file (diff review)
    assert list(tmp_path.iterdir()) == []
    # on standard output too: DuckDB's error, exit 2, before any row is written (diff review of
    # 2026-12-05: past the first batch it came out of the Arrow stream as an OSError, exit 4)
    for fmt in ("json", "table"):
        printed = mir("sql", sql, "--format", fmt)
        assert printed.exit_code == 2, printed.output
        assert "SQL error" in printed.stderr and "bad row" in printed.stderr
        assert printed.stdout == ""


def test_the_database_is_closed_before_the_rows_are_written(history: Path) -> None:
    """A slow reader (`mir sql ... | less`) must not hold the database against the daily job
    (diff review of 2026-12-05: streaming from the open connection made `mir daily` fail)."""
    import duckdb

    from reports.investigate import stream_sql

    with stream_sql(history, "SELECT * FROM v_positions", batch_rows=10) as result:
        writer = duckdb.connect(str(history))  # read-write: refused while mir sql holds it
        writer.close()
        assert sum(batch.height for batch in result.batches) > 10


def test_repeated_column_names_get_suffixes(mir: Callable[..., Result]) -> None:
    """As Polars named them before results were streamed (diff review of 2026-12-05: an
    internal error); a SELECT * over a join repeats names."""
    result = mir("sql", "SELECT 1 AS a, 2 AS a, 3 AS a_1", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["a,a_1,a_1_1", "1,2,3"]


def test_a_repeated_name_keeps_its_own_values_beside_a_date_or_time(
    mir: Callable[..., Result],
) -> None:
    """Review of 2026-12-05: with a date, timestamp or time column in the result (wrapped to
    refuse values Polars cannot hold), every column was re-selected by name, and a repeated
    name (or one differing only in case) took the first column's values: a join's custody
    `balance` printed the client balance beside it, with no error."""
    query = (
        "SELECT 1 AS a, 2 AS a, DATE '2026-03-03' AS d, TIME '09:00' AS t, 3 AS A, "
        "TIMESTAMP '2026-03-03 10:00' AS d"
    )
    result = mir("sql", query, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "a,a_1,d,t,A,d_1",
        "1,2,2026-03-03,09:00:00,3,2026-03-03 10:00:00",
    ]
    join = (
        "SELECT b.balance, c.balance{} FROM balances AS b JOIN custody AS c "
        "USING (as_of_date, asset) ORDER BY ALL LIMIT 20"
    )
    plain = mir("sql", join.format(""), "--format", "csv")
    dated = mir("sql", join.format(", b.as_of_date"), "--format", "csv")
    assert plain.exit_code == 0 and dated.exit_code == 0, dated.output
    pairs = [line.split(",")[:2] for line in dated.stdout.splitlines()[1:]]
    assert pairs == [line.split(",") for line in plain.stdout.splitlines()[1:]]
    assert any(client != custody for client, custody in pairs)


def test_output_through_a_link_is_written_through_and_a_file_keeps_its_mode(
    mir: Callable[..., Result], tmp_path: Path
) -> None:
    """-o renames a complete temporary file over a regular file, keeping its permissions; a
    link (or a device, as -o /dev/stdout) is written through, not replaced (diff review of
    2026-12-05)."""
    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert mir("sql", "SELECT 1 AS x", "--format", "csv", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "x\n1\n"
    private = tmp_path / "private.csv"
    private.write_text("", encoding="utf-8")
    private.chmod(0o600)
    assert mir("sql", "SELECT 1 AS x", "--format", "csv", "-o", str(private)).exit_code == 0
    assert private.read_text(encoding="utf-8") == "x\n1\n"
    assert private.stat().st_mode & 0o777 == 0o600
    long_name = tmp_path / ("n" * 250 + ".csv")
    assert mir("sql", "SELECT 1 AS x", "--format", "csv", "-o", str(long_name)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_sigterm_during_an_export_leaves_no_temporary_file(
    mir: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Diff review of 2026-12-05: `timeout` or cron stopping `mir sql -o FILE` left the hidden
    temporary file behind (SIGTERM killed Python without its cleanup)."""
    import signal

    import reports.investigate

    stream_sql = reports.investigate.stream_sql

    @contextlib.contextmanager
    def stopped(*args: Any, **kwargs: Any) -> Any:
        with stream_sql(*args, batch_rows=1000) as result:

            def batches() -> Any:
                for number, batch in enumerate(result.batches):
                    if number == 2:
                        os.kill(os.getpid(), signal.SIGTERM)
                    yield batch

            yield dataclasses.replace(result, batches=batches())

    monkeypatch.setattr(reports.investigate, "stream_sql", stopped)
    target = tmp_path / "rows.csv"
    result = mir("sql", "SELECT range AS i FROM range(5000)", "--format", "csv", "-o", str(target))
    assert result.exit_code == 4, result.output
    assert "stopped by SIGTERM" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_parquet_can_be_piped_through_dev_stdout(history: Path, tmp_path: Path) -> None:
    """Docs review of 2026-12-05: with results streamed, `--format parquet -o /dev/stdout | ...`
    failed ("lseek failed": Parquet's writer seeks); it is made aside and copied through."""
    import subprocess
    import sys

    import polars as pl

    mir = Path(sys.executable).with_name("mir")
    target = tmp_path / "piped.parquet"
    done = subprocess.run(
        [
            "sh",
            "-c",
            f'"{mir}" sql --db "{history}" "SELECT 3 AS b" --format parquet -o /dev/stdout '
            f'| cat > "{target}"',
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert pl.read_parquet(target)["b"].to_list() == [3]


# --- mutation review of 2026-12-06 (reports/output.py): rules no test held ---------------------


def test_csv_output_is_the_exact_bytes_with_unix_line_ends(tmp_path: Path) -> None:
    """`--format csv` writes "\\n" line ends (not csv's default "\\r\\n"), quotes only what needs
    it, and spells decimals exactly without trailing zeros: the same bytes to a stream and to a
    file, so an extract diffs cleanly against the report's CSVs."""
    import polars as pl

    from reports.output import render_text, write_batches

    frame = pl.DataFrame(
        {"asset": ["BTC", "a,b"], "amount": [Decimal("1.5"), Decimal("-100")]},
        schema={"asset": pl.String, "amount": pl.Decimal(38, 18)},
    )
    expected = 'asset,amount\nBTC,1.5\n"a,b",-100\n'
    assert render_text(frame, "csv") == expected
    path = tmp_path / "extract.csv"
    assert write_batches(frame.schema, iter([frame]), "csv", None, path) == 2
    assert path.read_bytes() == expected.encode()


# --- mutation review of 2026-12-07 (reports/investigate.py, reports/cli/sql.py): rules no test
# held --------------------------------------------------------------------------------------


def test_an_infinite_timestamp_with_time_zone_is_refused_by_its_column(
    mir: Callable[..., Result],
) -> None:
    """A TIMESTAMPTZ of +-infinity is refused naming its column before anything is printed, as
    an infinite DATE or TIMESTAMP is; left to Polars (the guard's type list without TIMESTAMP
    WITH TIME ZONE), csv printed the header, then Polars panicked with a Rust backtrace."""
    for fmt in ("csv", "json", "table"):
        result = mir("sql", "SELECT 1 AS n, '-infinity'::TIMESTAMPTZ AS t", "--format", fmt)
        assert result.exit_code == 2, result.output
        assert "column t holds an infinite date or timestamp" in result.stderr
        assert result.stdout == ""


def test_an_sql_error_on_a_database_mir_did_not_make_says_so(
    run_mir: Callable[..., Result], tmp_path: Path
) -> None:
    """On a DuckDB file mir did not make (no mir_schema), an SQL error says its tables and views
    are not mir's: the hint was lost when such a database, having no stored fingerprint, was not
    taken as one whose schema differs from this mir's."""
    import duckdb

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    result = run_mir("sql", "SELECT * FROM positions", db=other)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: SQL error: ")
    assert "(this database was not made by mir: its tables and views are not mir's)" in (
        result.stderr
    )


def test_an_sql_error_on_an_empty_database_says_it_is_empty(
    run_mir: Callable[..., Result], tmp_path: Path
) -> None:
    """Crash audit of 2026-12-07: a first `mir daily` killed (SIGKILL) before its schema was
    written leaves a DuckDB file with no table, and `mir sql "select * from loads"` said "this
    database was not made by mir", though mir made it."""
    import duckdb

    empty = tmp_path / "mir.duckdb"
    duckdb.connect(str(empty)).close()
    result = run_mir("sql", "SELECT * FROM loads", db=empty)
    assert result.exit_code == 2, result.output
    assert "(this database is empty: nothing was ever loaded into it)" in result.stderr
    assert "not made by mir" not in result.stderr


def test_count_and_integer_parameters_take_the_ends_of_their_range(
    mir: Callable[..., Result],
) -> None:
    """2,147,483,647 (SQL INTEGER's largest) is a valid count and integer, as the message of a
    refused value says ("from 1 to 2,147,483,647"); an off-by-one bound refused it. It binds as
    the LIMIT of top_oi_groups."""
    from reports.investigate import MAX_INTEGER, Parameter

    assert MAX_INTEGER == 2_147_483_647
    assert Parameter("p", "count", True, "").convert("2147483647") == MAX_INTEGER
    assert Parameter("p", "count", True, "").convert("1") == 1
    assert Parameter("p", "integer", True, "").convert("2147483647") == MAX_INTEGER
    assert Parameter("p", "integer", True, "").convert("-2147483647") == -MAX_INTEGER
    every = query_rows(mir, "top_oi_groups", top="2147483647")
    assert every and every == query_rows(mir, "top_oi_groups", top="1000000")


@pytest.mark.parametrize(("raw", "value"), [(".5", "0.5"), ("5.", "5"), ("+1.25", "1.25")])
def test_a_decimal_parameter_takes_plain_forms_only(raw: str, value: str) -> None:
    """A decimal parameter is plain digits (README: `decimal`; the refusal says "plain
    decimal"): .5, 5. and +1.25 are taken, exactly; the exponent forms 1e3 and 2.5E-1, which
    Decimal() takes too, are refused (a pattern that allowed a short exponent let them through,
    and one without the leading-point branch refused .5)."""
    from reports.errors import UsageError
    from reports.investigate import Parameter

    decimal = Parameter("p", "decimal", True, "")
    converted = decimal.convert(raw)
    assert isinstance(converted, Decimal) and converted == Decimal(value)
    for exponent in ("1e3", "2.5E-1", f"{raw}e0"):
        with pytest.raises(UsageError, match="is not a valid plain decimal"):
            decimal.convert(exponent)


def test_an_investigation_header_is_read_whole_and_checked(tmp_path: Path) -> None:
    """The header of queries/investigations/<name>.sql: the description whole, colons included
    (cut at its second colon, `mir queries` showed "One account across days" of account_history),
    each parameter's type, need and help; a header with an unknown type or no description is an
    error, not an investigation whose parameter is silently untyped or whose listing is empty."""
    from reports.investigate import Parameter, parse_investigation

    good = tmp_path / "trail.sql"
    good.write_text(
        "-- description: One position: its movements, then closes.\n"
        "-- param: position_id text (required): the position, e.g. P350\n"
        "-- param: top count (optional): rows [default: 10; not required]\n"
        "SELECT $position_id AS id, $top AS top\n",
        encoding="utf-8",
    )
    investigation = parse_investigation(good)
    assert investigation.name == "trail"
    assert investigation.description == "One position: its movements, then closes."
    assert investigation.parameters == (
        Parameter("position_id", "text", True, "the position, e.g. P350"),
        Parameter("top", "count", False, "rows [default: 10; not required]"),
    )
    typo = tmp_path / "typo.sql"
    typo.write_text(
        "-- description: A typo in a type.\n-- param: top cuont (optional): rows\nSELECT 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="parameter top has unknown type cuont"):
        parse_investigation(typo)
    bare = tmp_path / "bare.sql"
    bare.write_text("-- param: x text (required): a value\nSELECT $x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing '-- description:' header"):
        parse_investigation(bare)


def test_an_investigation_header_ends_at_the_first_line_of_sql(tmp_path: Path) -> None:
    """The header is the comment lines before the SQL: a `-- description:` or `-- param:`
    comment inside the statement is SQL, not the description or a parameter (mutation review of
    2026-12-07: reading on past the header made such a comment a required parameter)."""
    from reports.investigate import Parameter, parse_investigation

    path = tmp_path / "inner.sql"
    path.write_text(
        "-- description: Rows of a day.\n"
        "-- param: as_of date (optional): the day\n"
        "SELECT $as_of AS d\n"
        "-- description: not the description\n"
        "-- param: x text (required): not a parameter\n",
        encoding="utf-8",
    )
    investigation = parse_investigation(path)
    assert investigation.description == "Rows of a day."
    assert investigation.parameters == (Parameter("as_of", "date", False, "the day"),)


def test_an_empty_result_as_parquet_is_a_file_of_its_columns(
    mir: Callable[..., Result], tmp_path: Path
) -> None:
    """No rows still make a Parquet file, holding the columns and their types (mutation review
    of 2026-12-07: without it the export of an empty result failed)."""
    import polars as pl

    target = tmp_path / "empty.parquet"
    statement = "SELECT 1::INTEGER AS a, 'x' AS b WHERE false"
    result = mir("sql", statement, "--format", "parquet", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("0 row(s) in ")
    frame = pl.read_parquet(target)
    assert frame.height == 0
    assert dict(frame.schema) == {"a": pl.Int32, "b": pl.String}


def test_an_unsigned_128_bit_integer_beyond_38_digits_is_refused(
    mir: Callable[..., Result],
) -> None:
    """A UHUGEINT is output exactly up to 38 digits and refused, by its column, beyond (mutation
    review of 2026-12-07: cast as HUGEINT alone, the largest UHUGEINT printed as -1)."""
    fits = mir(
        "sql", "SELECT 99999999999999999999999999999999999999::UHUGEINT AS u", "--format", "csv"
    )
    assert fits.exit_code == 0, fits.output
    assert fits.stdout == "u\n" + "9" * 38 + "\n"
    largest = "SELECT 340282366920938463463374607431768211455::UHUGEINT AS u"
    refused = mir("sql", largest, "--format", "csv")
    assert refused.exit_code == 2
    assert "column u holds an integer of more than 38 digits" in refused.stderr


def test_breaches_by_day_lists_a_check_that_crashed(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_mir: Callable[..., Result]
) -> None:
    """A check that crashed (`error`) is listed by default, beside the warnings and breaches: a
    check that could not run is a finding (mutation review of 2026-12-07: nothing held it)."""
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(history, db)
    _check_with_seg06_crashing(db, monkeypatch, only=["SEG-06"])
    rows = query_rows(lambda *a: run_mir(*a, db=db), "breaches_by_day", check_id="SEG-06")
    assert [(r["as_of_date"], r["status"]) for r in rows] == [(LAST.isoformat(), "error")]


def test_queries_lists_the_investigations_in_name_order(run_mir: Callable[..., Result]) -> None:
    """`mir queries` lists the investigations sorted by name, the same on every machine: in the
    directory's order (glob() unsorted) the listing changed with the file system."""
    result = run_mir("queries")
    assert result.exit_code == 0, result.output
    names = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert set(names) == set(investigations()) >= EXPECTED_INVESTIGATIONS
    assert names == sorted(names)


def test_output_onto_the_databases_wal_is_refused(
    run_mir: Callable[..., Result], history: Path, tmp_path: Path
) -> None:
    """-o naming the database's write-ahead log (FILE.wal, replayed into the database when it
    is next opened) is refused as the database itself is, by `mir sql` and `mir query` alike:
    with only the database file protected, the result was written as mir.duckdb.wal."""
    db = tmp_path / "mir.duckdb"
    shutil.copyfile(history, db)
    wal = tmp_path / "mir.duckdb.wal"
    for args in (("sql", "SELECT 1 AS a", "--format", "csv"), ("query", "breaches_by_day")):
        result = run_mir(*args, "-o", str(wal), db=db)
        assert result.exit_code == 2, (args, result.output)
        assert f"--output {wal} is the database itself" in result.stderr
    assert not wal.exists()


def test_an_output_file_that_cannot_be_written_is_a_usage_error(
    mir: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o FILE that cannot be written (here: permission denied) is exit 2 naming the file, not
    "internal error" (exit 4): the OSError was let through when the handler re-raised it."""
    import errno

    import reports.output

    def denied(*_args: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(reports.output, "_write_file", denied)
    target = tmp_path / "out.csv"
    result = mir("sql", "SELECT 1 AS a", "--format", "csv", "-o", str(target))
    assert result.exit_code == 2, result.output
    assert f"error: cannot write --output {target}: Permission denied" in result.stderr
    assert "internal error" not in result.stderr


def test_an_output_file_on_a_full_disk_is_exit_4_as_on_stdout(
    mir: Callable[..., Result],
) -> None:
    """A full disk is no usage error wherever the rows go: `-o /dev/full` exits 4 naming the
    full device, as stdout on a full disk does (test_output_to_a_full_disk_is_said_so); it was
    exit 2, "cannot write --output" (SQL-interface review of 2026-12-07)."""
    result = mir("sql", "SELECT 1 AS a", "--format", "csv", "-o", "/dev/full")
    assert result.exit_code == 4, result.output
    assert "error: no space left on the device written to" in result.stderr
    assert "cannot write --output" not in result.stderr


def test_a_parameter_is_named_and_given_once_however_it_is_spaced(
    mir: Callable[..., Result],
) -> None:
    """-p key=value: a key given twice is refused also when one of them is spaced
    ("account_id=A" then "account_id = B": the second silently won, as the spaced key was not
    compared stripped), and a pair without a key ("=C000062") is malformed, not a parameter
    named ''."""
    twice = mir("query", "account_history", "-p", "account_id=A", "-p", "account_id = B")
    assert twice.exit_code == 2, twice.output
    assert "-p account_id is given twice" in twice.stderr
    nameless = mir("query", "account_history", "-p", "=C000062")
    assert nameless.exit_code == 2, nameless.output
    assert "-p takes key=value, got '=C000062'" in nameless.stderr


def test_the_table_format_ends_with_its_row_count_in_words(mir: Callable[..., Result]) -> None:
    """`--format table` ends with "(N rows)", and "(1 row)" for one, "(0 rows)" under the header
    of an empty result: a count always spelled "rows" said "(1 rows)"."""
    one = mir("sql", "SELECT 1 AS a")
    assert one.exit_code == 0, one.output
    assert one.stdout.splitlines() == ["a", "-", "1", "(1 row)"]
    none = mir("sql", "SELECT 1 AS a WHERE false")
    assert none.exit_code == 0, none.output
    assert none.stdout.splitlines() == ["a", "-", "(0 rows)"]
