"""The check engine: discovery, requires, error isolation, status roll-up, recording, run ids, CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import with_one_balance_changed

from reports.checks.engine import (
    all_exceptions,
    compute_run_id,
    discover_checks,
    latest_load,
    parse_sql_check,
    previous_as_of,
    run_checks,
)
from reports.checks.model import (
    PYTHON_CHECKS,
    CheckContext,
    CheckOutcome,
    CheckSpec,
    exception_schema,
)
from reports.config import Config, SegregationConfig
from reports.db import init_schema
from reports.errors import CheckError, UsageError
from reports.load import load_snapshot

GOLDEN = Path(__file__).resolve().parent / "golden"
DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)


@pytest.fixture(scope="module")
def _clean_two_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean golden scenario (two days) loaded into a database file once for the module
    (closed, so that the file may be copied)."""
    path = tmp_path_factory.mktemp("checks-engine") / "clean.duckdb"
    connection = duckdb.connect(str(path))
    try:
        init_schema(connection)
        for day in ("2026-03-02", "2026-03-03"):
            load_snapshot(connection, GOLDEN / "clean" / day)
    finally:
        connection.close()
    assert not path.with_name(path.name + ".wal").exists()
    return path


@pytest.fixture
def con(tmp_path: Path, _clean_two_days: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The clean golden scenario (two days) in a fresh database: the test's own copy of the
    module's file."""
    path = tmp_path / "db" / "clean.duckdb"  # apart from the files a test writes in tmp_path
    path.parent.mkdir()
    shutil.copyfile(_clean_two_days, path)
    connection = duckdb.connect(str(path))
    yield connection
    connection.close()


def sql_spec(
    check_id: str, sql: str, *, requires: tuple[str, ...] = (), severity: str = "breach"
) -> CheckSpec:
    return CheckSpec(
        check_id, f"test {check_id}", severity, "", "", requires, sql=sql, source="test"
    )


# One exception per client balance row of the day (cheap: raw tables only).
BALANCE_ROWS = """
SELECT CASE WHEN balance > 15000 THEN 'breach' ELSE 'warn' END AS status, 'account' AS entity_type,
       account_id AS entity_id, NULL AS instrument_id, asset, 'balance' AS metric,
       balance AS value, 0 AS threshold, 'balance ' || balance AS message
FROM balances WHERE as_of_date = $as_of AND account_id LIKE 'C%'
"""
NOTHING = "SELECT 'warn' AS status, 'x' AS entity_type, 'x' AS entity_id, NULL AS instrument_id, NULL AS asset, 'm' AS metric, 0 AS value, 0 AS threshold, 'm' AS message WHERE false"


def crash(ctx: CheckContext) -> pl.DataFrame:
    raise ZeroDivisionError("boom")


def python_rows(ctx: CheckContext) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "status": ["warn"],
            "entity_type": ["firm"],
            "entity_id": ["firm"],
            "instrument_id": [None],
            "asset": [None],
            "metric": ["hhi"],
            "value": [1234.5],  # a float statistic: the engine casts it to Decimal(38,18)
            "threshold": [Decimal("1000")],
            "message": [f"as of {ctx.as_of} after {ctx.prev_as_of}"],
        }
    )


# ---------------------------------------------------------------------------------------------
# Discovery


def test_parse_sql_check_header(tmp_path: Path) -> None:
    path = tmp_path / "XYZ-01.sql"
    path.write_text(
        "-- id: XYZ-01\n-- title: A title\n-- severity: warn\n-- regulation: Art. 1\n"
        "-- row: one thing\n-- requires: previous_day\n-- requires: table:volumes\n"
        "--\n-- free text: with a colon is ignored\nSELECT 1\n",
        encoding="utf-8",
    )
    spec = parse_sql_check(path)
    assert (spec.check_id, spec.title, spec.severity, spec.regulation, spec.row_meaning) == (
        "XYZ-01",
        "A title",
        "warn",
        "Art. 1",
        "one thing",
    )
    assert spec.requires == ("previous_day", "table:volumes")
    assert spec.family == "XYZ"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("-- id: XYZ-01\n-- severity: warn\n", "lacks title"),
        ("-- id: XYZ-02\n-- title: t\n-- severity: warn\n", "differs from the file name"),
        ("-- id: XYZ-01\n-- title: t\n-- severity: fatal\n", "severity"),
        ("-- id: XYZ-01\n-- title: t\n", "lacks severity"),
        ("-- id: XYZ-01\n-- title: t\n-- severity: warn\n-- severity: breach\n", "twice"),
        ("-- id: XYZ-01\n-- title: t\n-- severity: warn\n-- partial: x\n", "must require it"),
    ],
)
def test_bad_headers_are_rejected(tmp_path: Path, header: str, problem: str) -> None:
    path = tmp_path / "XYZ-01.sql"
    path.write_text(header + "SELECT 1\n", encoding="utf-8")
    with pytest.raises(CheckError, match=problem):
        parse_sql_check(path)


def test_the_header_is_the_leading_comment_block_only(tmp_path: Path) -> None:
    """Catches a parser that reads `-- key: value` comments inside the query body as metadata
    (a commented-out `requires` would switch the check off), or that stops at a blank line
    before the header. Several requires may also share one line, comma-separated."""
    path = tmp_path / "XYZ-01.sql"
    path.write_text(
        "\n-- id: XYZ-01\n\n-- title: t\n-- severity: warn\n"
        "-- requires: previous_day, table:volumes\n"
        "SELECT 1\n-- requires: table:capital\n-- severity: breach\n",
        encoding="utf-8",
    )
    spec = parse_sql_check(path)
    assert (spec.title, spec.severity) == ("t", "warn")
    assert spec.requires == ("previous_day", "table:volumes")


def test_a_check_id_defined_in_sql_and_python_stops_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches discovery letting a @python_check silently replace the SQL check of the same id:
    the file's query would never run, and nothing would say so."""
    (tmp_path / "XYZ-01.sql").write_text(
        "-- id: XYZ-01\n-- title: t\n-- severity: warn\n" + NOTHING, encoding="utf-8"
    )
    twin = CheckSpec("XYZ-01", "python twin", "warn", "", "", function=python_rows, source="test")
    monkeypatch.setitem(PYTHON_CHECKS, "XYZ-01", twin)
    with pytest.raises(CheckError, match="XYZ-01 is defined twice"):
        discover_checks(tmp_path, modules=())


def test_a_python_checks_requires_are_honoured(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches @python_check dropping its `requires`: the check would run on a day without the
    data it needs instead of being not_evaluated."""
    from reports.checks import model

    monkeypatch.setattr(model, "PYTHON_CHECKS", {})
    model.python_check("TST-01", "needs volumes", "warn", "", "", requires=("table:volumes",))(
        python_rows
    )
    spec = model.PYTHON_CHECKS["TST-01"]
    assert spec.requires == ("table:volumes",)
    result = run_checks(con, DAY2, Config(), specs=[spec], record=False)
    assert result.results[0].status == CheckOutcome.NOT_EVALUATED


def test_a_broken_check_file_becomes_an_error_result(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    (tmp_path / "XYZ-01.sql").write_text("-- id: XYZ-01\nSELECT 1\n", encoding="utf-8")
    (tmp_path / "XYZ-02.sql").write_text(
        "-- id: XYZ-02\n-- title: t\n-- severity: warn\n" + NOTHING, encoding="utf-8"
    )
    specs = discover_checks(tmp_path, modules=())
    result = run_checks(
        con, DAY2, Config(), specs=[s for s in specs if s.family == "XYZ"], record=False
    )
    statuses = {r.check_id: r.status for r in result.results}
    assert statuses == {"XYZ-01": CheckOutcome.ERROR, "XYZ-02": CheckOutcome.PASS}


def test_discovery_finds_every_seg_check_in_id_order() -> None:
    specs = discover_checks()
    ids = [s.check_id for s in specs]
    assert ids == sorted(ids)
    assert {f"SEG-0{n}" for n in range(1, 10)} <= set(ids)
    seg = {s.check_id: s for s in specs if s.family == "SEG"}
    assert seg["SEG-04"].requires == ("previous_day",)
    assert seg["SEG-02"].requires == (
        "setting:segregation_target_residual_interest|segregation_target_residual_interest_pct",
    )
    assert all(s.title and s.severity in ("warn", "breach") and s.regulation for s in seg.values())


# ---------------------------------------------------------------------------------------------
# Running


def test_a_crashing_check_is_an_error_and_the_others_still_run(
    con: duckdb.DuckDBPyConnection,
) -> None:
    specs = [
        CheckSpec("TST-01", "crashes", "breach", "", "", function=crash, source="test"),
        sql_spec("TST-02", BALANCE_ROWS),
        sql_spec("TST-03", "SELECT * FROM no_such_table"),
        CheckSpec("TST-04", "python", "warn", "", "", function=python_rows, source="test"),
    ]
    result = run_checks(con, DAY2, Config(), specs=specs)
    by_id = {r.check_id: r for r in result.results}
    assert by_id["TST-01"].status == CheckOutcome.ERROR
    assert by_id["TST-01"].message == "ZeroDivisionError: boom"
    assert by_id["TST-03"].status == CheckOutcome.ERROR and "no_such_table" in (
        by_id["TST-03"].message or ""
    )
    assert by_id["TST-02"].status == CheckOutcome.BREACH and by_id["TST-02"].exceptions == 3
    assert by_id["TST-04"].status == CheckOutcome.WARN
    assert by_id["TST-04"].rows["value"].to_list() == [Decimal("1234.5")]
    assert by_id["TST-04"].rows["message"].to_list() == ["as of 2026-03-03 after 2026-03-02"]
    assert result.status == CheckOutcome.ERROR
    stored = con.execute(
        "SELECT check_id, status, exceptions, message FROM check_results WHERE run_id = ? ORDER BY check_id",
        [result.run_id],
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in stored] == [
        ("TST-01", "error", 0),
        ("TST-02", "breach", 3),
        ("TST-03", "error", 0),
        ("TST-04", "warn", 1),
    ]
    assert stored[0][3] == "ZeroDivisionError: boom"


@pytest.mark.parametrize(
    "interruption",
    [duckdb.InterruptException("INTERRUPT Error: Interrupted!"), RuntimeError("Query interrupted")],
)
def test_an_interrupted_query_stops_the_run_and_records_nothing(
    con: duckdb.DuckDBPyConnection, interruption: Exception
) -> None:
    """Regression: Ctrl-C reaching DuckDB mid-query surfaced as an ordinary error, which was
    recorded as the check's `error` outcome under the run's normal id (and reused by later
    reports) while the job went on to sign an ERROR report."""

    def interrupted(ctx: object) -> None:
        raise interruption

    specs = [
        sql_spec("TST-02", BALANCE_ROWS),
        CheckSpec("TST-01", "interrupted", "breach", "", "", function=interrupted, source="test"),
    ]
    before = con.execute("SELECT count(*) FROM check_results").fetchall()
    with pytest.raises(KeyboardInterrupt):
        run_checks(con, DAY2, Config(), specs=specs)
    assert con.execute("SELECT count(*) FROM check_results").fetchall() == before


def test_status_is_pass_without_rows_else_the_worst_row(con: duckdb.DuckDBPyConnection) -> None:
    warn_only = BALANCE_ROWS.replace("balance > 15000", "balance > 10000000")
    specs = [
        sql_spec("TST-01", NOTHING),
        sql_spec("TST-02", warn_only),
        sql_spec("TST-03", BALANCE_ROWS),
    ]
    result = run_checks(con, DAY2, Config(), specs=specs, record=False)
    assert [r.status for r in result.results] == [
        CheckOutcome.PASS,
        CheckOutcome.WARN,
        CheckOutcome.BREACH,
    ]
    assert result.status == CheckOutcome.BREACH


def test_rows_are_validated(con: duckdb.DuckDBPyConnection) -> None:
    bad_status = BALANCE_ROWS.replace("'warn'", "'info'")
    breach_in_warn_check = BALANCE_ROWS
    specs = [
        sql_spec("TST-01", bad_status),
        sql_spec("TST-02", breach_in_warn_check, severity="warn"),
    ]
    result = run_checks(con, DAY2, Config(), specs=specs, record=False)
    assert [r.status for r in result.results] == [CheckOutcome.ERROR, CheckOutcome.ERROR]
    assert "info" in (result.results[0].message or "")


def test_requires_conditions(con: duckdb.DuckDBPyConnection) -> None:
    specs = [
        sql_spec("TST-01", NOTHING, requires=("previous_day",)),
        sql_spec(
            "TST-02",
            NOTHING,
            requires=(
                "setting:segregation_target_residual_interest|segregation_target_residual_interest_pct",
            ),
        ),
        sql_spec("TST-03", NOTHING, requires=("table:volumes",)),
        sql_spec("TST-04", NOTHING, requires=("setting:no_such_setting",)),
        sql_spec("TST-05", NOTHING, requires=("table:balances",)),
    ]
    day1 = {
        r.check_id: r for r in run_checks(con, DAY1, Config(), specs=specs, record=False).results
    }
    assert day1["TST-01"].status == CheckOutcome.NOT_EVALUATED
    assert "no stored day before 2026-03-02" in (day1["TST-01"].message or "")
    assert day1["TST-02"].status == CheckOutcome.NOT_EVALUATED
    assert "target_residual_interest" in (day1["TST-02"].message or "")
    assert day1["TST-03"].status == CheckOutcome.NOT_EVALUATED
    assert day1["TST-04"].status == CheckOutcome.ERROR
    assert day1["TST-05"].status == CheckOutcome.PASS
    configured = Config(segregation=SegregationConfig(target_residual_interest_pct=Decimal("0")))
    day2 = {
        r.check_id: r for r in run_checks(con, DAY2, configured, specs=specs, record=False).results
    }
    assert day2["TST-01"].status == CheckOutcome.PASS
    assert day2["TST-02"].status == CheckOutcome.PASS  # an explicit 0 switches it on


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "NULL"),
        ("status", "'pass'"),
        ("entity_id", "NULL"),
        ("message", "NULL"),
    ],
)
def test_a_row_that_is_no_usable_exception_is_that_checks_error(
    con: duckdb.DuckDBPyConnection, column: str, value: str
) -> None:
    """Catches validation letting through a row without a status (the roll-up then crashed the
    whole run), a `pass` row counted as an exception, or a row naming no entity or giving no
    message; the other checks still run."""
    row = {
        "status": "'warn'",
        "entity_type": "'account'",
        "entity_id": "'C1'",
        "instrument_id": "NULL",
        "asset": "'USDT'",
        "metric": "'balance'",
        "value": "1",
        "threshold": "0",
        "message": "'m'",
    }
    row[column] = value
    bad = "SELECT " + ", ".join(f"{v} AS {k}" for k, v in row.items())
    specs = [sql_spec("TST-01", bad), sql_spec("TST-02", NOTHING)]
    result = run_checks(con, DAY2, Config(), specs=specs, record=False)
    assert [r.status for r in result.results] == [CheckOutcome.ERROR, CheckOutcome.PASS]


def test_unknown_requirements_are_errors_that_name_them(con: duckdb.DuckDBPyConnection) -> None:
    """Catches a misspelt condition (previous-day) counting as met, so the check runs on a day
    it cannot judge, and an unknown setting failing with a bare KeyError instead of naming it."""
    specs = [
        sql_spec("TST-01", BALANCE_ROWS, requires=("previous-day",)),
        sql_spec("TST-02", BALANCE_ROWS, requires=("setting:no_such_setting",)),
    ]
    result = run_checks(con, DAY2, Config(), specs=specs, record=False)
    assert [(r.status, r.message) for r in result.results] == [
        (CheckOutcome.ERROR, "CheckError: TST-01: unknown requires condition 'previous-day'"),
        (CheckOutcome.ERROR, "CheckError: TST-02: requires unknown setting 'no_such_setting'"),
    ]


def test_a_table_requirement_needs_rows_of_the_as_of_date(con: duckdb.DuckDBPyConnection) -> None:
    """Catches table:<name> being met by an earlier day's rows: volumes are optional per day, so
    a day without its volumes file must leave the check not_evaluated."""
    con.execute("INSERT INTO volumes VALUES (?, 'BTC-PERP', 'client', 1000)", [DAY1])
    specs = [sql_spec("TST-01", NOTHING, requires=("table:volumes",))]
    day1, day2 = (
        run_checks(con, day, Config(), specs=specs, record=False).results[0] for day in (DAY1, DAY2)
    )
    assert day1.status == CheckOutcome.PASS
    assert day2.status == CheckOutcome.NOT_EVALUATED
    assert day2.message == "no volumes rows for 2026-03-03 (the file is optional)"


def test_a_partial_run_still_needs_its_other_requirements(con: duckdb.DuckDBPyConnection) -> None:
    """Catches a partial check (previous day missing) running without checking its other
    requires: on the first day without volumes it must be not_evaluated for the volumes."""
    spec = dataclasses.replace(
        sql_spec("TST-01", BALANCE_ROWS, requires=("previous_day", "table:volumes")),
        partial="the roll-forward",
    )
    result = run_checks(con, DAY1, Config(), specs=[spec], record=False).results[0]
    assert result.status == CheckOutcome.NOT_EVALUATED
    assert result.message == "no volumes rows for 2026-03-02 (the file is optional)"


def test_a_partial_run_after_a_gap_gets_no_previous_date(tmp_path: Path) -> None:
    """Catches a partial run keeping $prev_as_of = an older stored day: the contract runs it
    with NULL (the gap's movements are missing, so nothing may be read from that day)."""
    con = duckdb.connect()
    init_schema(con)
    older = tmp_path / "2026-02-27"
    shutil.copytree(GOLDEN / "clean" / "2026-03-02", older)
    load_snapshot(con, older)
    load_snapshot(con, GOLDEN / "clean" / "2026-03-03")
    spec = CheckSpec(
        "TST-01",
        "in part",
        "warn",
        "",
        "",
        ("previous_day",),
        partial="the roll-forward",
        function=python_rows,
        source="test",
    )
    result = run_checks(con, DAY2, Config(), specs=[spec], record=False).results[0]
    assert result.status == CheckOutcome.WARN and result.partial
    assert result.rows["message"].to_list() == ["as of 2026-03-03 after None"]
    assert (result.message or "").startswith("evaluated in part (not evaluated: the roll-forward)")


def test_a_query_ending_in_a_semicolon_runs(con: duckdb.DuckDBPyConnection) -> None:
    """Catches the engine wrapping a check's query with its trailing `;` inside the subquery
    (a syntax error: every such check an `error`)."""
    specs = [sql_spec("TST-01", BALANCE_ROWS + ";\n"), sql_spec("TST-02", NOTHING + " ; ;")]
    result = run_checks(con, DAY2, Config(), specs=specs, record=False)
    assert [(r.status, r.exceptions) for r in result.results] == [
        (CheckOutcome.BREACH, 3),
        (CheckOutcome.PASS, 0),
    ]


def test_exceptions_follow_the_design_order_then_metric_and_message(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Catches a sort by other keys or in another order: DESIGN.md section 6 sorts by check_id,
    entity_id, instrument_id, asset; metric and message make the order total (the same bytes
    every run); NULLs come last."""
    wanted = [
        ("A", "I1", "BTC", "a", "z"),
        ("A", "I1", "BTC", "m", "x"),
        ("A", "I1", "BTC", "m", "y"),
        ("A", "I1", "ETH", "m", "x"),
        ("A", "I2", None, "m", "x"),
        ("A", None, "BTC", "m", "x"),
        ("B", "I0", "BTC", "m", "x"),
    ]
    values = ", ".join(
        "('warn', 'x', " + ", ".join("NULL" if v is None else f"'{v}'" for v in row) + ")"
        for row in reversed(wanted)
    )
    sql = (
        "SELECT status, entity_type, entity_id, instrument_id, asset, metric, 0 AS value, "
        f"0 AS threshold, message FROM (VALUES {values}) AS t(status, entity_type, entity_id, "
        "instrument_id, asset, metric, message)"
    )
    result = run_checks(con, DAY2, Config(), specs=[sql_spec("TST-01", sql)], record=False)
    rows = all_exceptions(result)
    keys = ["entity_id", "instrument_id", "asset", "metric", "message"]
    assert list(rows.select(keys).iter_rows()) == wanted


def test_exceptions_are_sorted_and_carry_the_check_id(con: duckdb.DuckDBPyConnection) -> None:
    specs = [
        sql_spec("TST-02", BALANCE_ROWS + " ORDER BY account_id DESC"),
        sql_spec("TST-01", BALANCE_ROWS),
    ]
    result = run_checks(con, DAY2, Config(), specs=specs, record=False)
    rows = all_exceptions(result)
    assert rows.columns[0] == "check_id"
    assert list(zip(rows["check_id"], rows["entity_id"], strict=True)) == [
        ("TST-01", "C1"),
        ("TST-01", "C2"),
        ("TST-01", "C3"),
        ("TST-02", "C1"),
        ("TST-02", "C2"),
        ("TST-02", "C3"),
    ]
    assert dict(rows.schema) == {"check_id": pl.String, **exception_schema()}


def test_results_are_append_only_and_the_run_id_is_deterministic(
    con: duckdb.DuckDBPyConnection,
) -> None:
    specs = [sql_spec("TST-01", BALANCE_ROWS), sql_spec("TST-02", NOTHING)]
    first = run_checks(con, DAY2, Config(), specs=specs)
    second = run_checks(con, DAY2, Config(), specs=specs)
    assert first.run_id == second.run_id and len(first.run_id) == 16
    assert con.execute("SELECT count(*) FROM check_results").fetchall() == [(4,)]
    assert con.execute(
        "SELECT count(*), count(DISTINCT run_id) FROM check_exceptions"
    ).fetchall() == [(6, 1)]
    # each recording's rows carry its checked_at, that of its check_results rows (analyst
    # review of 2026-12-05: the two copies could not be told apart)
    assert con.execute(
        "SELECT x.checked_at, count(*) FROM check_exceptions AS x JOIN check_results AS r "
        "USING (run_id, check_id, checked_at) GROUP BY ALL ORDER BY 1"
    ).fetchall() == [
        (r[0], 3)
        for r in con.execute("SELECT DISTINCT checked_at FROM check_results ORDER BY 1").fetchall()
    ]
    other_config = Config(segregation=SegregationConfig(rollforward_tolerance=Decimal("1")))
    third = run_checks(con, DAY2, other_config, specs=specs)
    assert third.run_id != first.run_id
    assert con.execute("SELECT count(*) FROM check_results").fetchall() == [(6,)]
    assert run_checks(con, DAY1, Config(), specs=specs).run_id != first.run_id


def test_a_recorded_run_names_its_titles_and_configuration(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Catches check_results rows that carry another title than the check's or the results-only
    configuration hash instead of Config.sha256() (the manifest's config_sha256, which tells a
    what-if `mir check --config` run from the daily job's)."""
    config = Config(segregation=SegregationConfig(rollforward_tolerance=Decimal("1")))
    result = run_checks(con, DAY2, config, specs=[sql_spec("TST-01", NOTHING)])
    assert con.execute(
        "SELECT check_id, title, config_sha256 FROM check_results WHERE run_id = ?",
        [result.run_id],
    ).fetchall() == [("TST-01", "test TST-01", config.sha256())]


def test_a_recording_that_fails_leaves_nothing_and_the_database_usable(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches record_run writing outside its transaction (the check_results rows stay without
    their exceptions and figures) or not rolling back (the connection is left in an aborted
    transaction and every later statement fails)."""
    import reports.capital.results

    def disk_full(*_args: object) -> None:
        raise duckdb.IOException("IO Error: disk full")

    specs = [sql_spec("TST-01", BALANCE_ROWS)]
    monkeypatch.setattr(reports.capital.results, "record_capital_result", disk_full)
    with pytest.raises(duckdb.IOException, match="disk full"):
        run_checks(con, DAY2, Config(), specs=specs)
    assert con.execute(
        "SELECT (SELECT count(*) FROM check_results), (SELECT count(*) FROM check_exceptions)"
    ).fetchall() == [(0, 0)]
    monkeypatch.undo()
    run_checks(con, DAY2, Config(), specs=specs)
    assert con.execute("SELECT count(*) FROM check_exceptions").fetchall() == [(3,)]


def test_an_older_database_gets_the_recording_time_of_its_exceptions(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A database made before check_exceptions.checked_at existed gets the column (its old
    rows NULL) the next time the schema scripts run, and new runs fill it."""
    specs = [sql_spec("TST-01", BALANCE_ROWS)]
    run_checks(con, DAY2, Config(), specs=specs)
    con.execute("ALTER TABLE check_exceptions DROP COLUMN checked_at")  # as made before
    init_schema(con)
    run_checks(con, DAY2, Config(), specs=specs)
    assert con.execute(
        "SELECT checked_at IS NULL, count(*) FROM check_exceptions GROUP BY ALL ORDER BY ALL"
    ).fetchall() == [(False, 3), (True, 3)]


def test_run_id_follows_the_inputs(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    before = compute_run_id(con, DAY2, Config())
    assert compute_run_id(con, DAY2, Config()) == before
    # reloading the previous day with other data changes the run id of DAY2 (SEG-04..06 read it)
    changed = tmp_path / "2026-03-02"
    shutil.copytree(GOLDEN / "clean" / "2026-03-02", changed)
    with (changed / "capital.csv").open("a") as f:
        f.write("client_guarantees,1\n")
    load_snapshot(con, changed)
    assert compute_run_id(con, DAY2, Config()) != before
    assert compute_run_id(con, DAY2, Config(), only=["SEG"]) != compute_run_id(con, DAY2, Config())


def test_run_id_follows_the_tool_version(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN.md section 6: run_id is derived from the inputs, config AND tool version; a run
    recorded by another release is not this release's (coverage audit of 2026-12-07: no test
    changed the version)."""
    from reports.checks import engine

    before = compute_run_id(con, DAY2, Config())
    monkeypatch.setattr(engine, "__version__", "999.0.0")
    assert compute_run_id(con, DAY2, Config()) != before


def test_run_id_follows_a_changed_value_not_only_a_changed_row_count(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """Catches a run id over the files' names and row counts without their hashes: a reload of
    the as-of day, or of the day before, with one balance changed (rows as many) must give
    another run id, or a recorded run of the old data is reused for the new."""
    before = compute_run_id(con, DAY2, Config())
    load_snapshot(con, with_one_balance_changed(GOLDEN / "clean" / "2026-03-03", tmp_path / "a"))
    as_of_changed = compute_run_id(con, DAY2, Config())
    assert as_of_changed != before
    load_snapshot(con, with_one_balance_changed(GOLDEN / "clean" / "2026-03-02", tmp_path / "b"))
    assert compute_run_id(con, DAY2, Config()) not in (before, as_of_changed)


def test_run_id_covers_every_stored_day_up_to_the_as_of_date(tmp_path: Path) -> None:
    """Review of 2026-12-04: only the as-of and the previous stored date were hashed, so a
    changed volumes file three days back (in the IFR K-factor windows) gave the same run id
    and another capital.csv. Every stored day up to the as-of date counts; later days do not."""
    con = duckdb.connect()
    init_schema(con)
    days = []
    for name in ("2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03"):
        source = GOLDEN / "clean" / ("2026-03-02" if name < "2026-03-03" else "2026-03-03")
        days.append(tmp_path / name)
        shutil.copytree(source, days[-1])
    for day in days[:3]:
        load_snapshot(con, day)
    as_of = dt.date(2026, 3, 2)
    before = compute_run_id(con, as_of, Config())
    with (days[0] / "capital.csv").open("a") as f:  # two stored days back
        f.write("client_guarantees,1\n")
    load_snapshot(con, days[0])
    changed = compute_run_id(con, as_of, Config())
    assert changed != before
    load_snapshot(con, days[3])  # a later day: nothing of 2026-03-02 reads it
    assert compute_run_id(con, as_of, Config()) == changed


def test_the_days_inputs_are_those_of_its_latest_load(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """Catches latest_load reading the day's first load: after a reload with other data,
    summary.json's inputs would give the replaced balances' hash."""
    import hashlib

    changed = with_one_balance_changed(GOLDEN / "clean" / "2026-03-03", tmp_path)
    load_snapshot(con, changed)
    inputs = {f: (h, n) for f, h, n in latest_load(con, DAY2)}
    balances = (changed / "balances.csv").read_bytes()
    assert inputs["balances"] == (hashlib.sha256(balances).hexdigest(), 5)
    assert latest_load(con, dt.date(2026, 3, 4)) == []


def test_dates(con: duckdb.DuckDBPyConnection) -> None:
    assert previous_as_of(con, DAY2) == DAY1
    assert previous_as_of(con, DAY1) is None
    assert previous_as_of(con, dt.date(2026, 3, 10)) == DAY2
    with pytest.raises(UsageError, match="run `mir load DIR` first"):
        run_checks(con, dt.date(2026, 3, 4), Config())
    with pytest.raises(UsageError, match="unknown check"):
        run_checks(con, DAY2, Config(), only=["SEG-99"])


def test_only_selects_ids_and_families(con: duckdb.DuckDBPyConnection) -> None:
    specs = [sql_spec("TST-01", NOTHING), sql_spec("TST-02", NOTHING), sql_spec("OTH-01", NOTHING)]
    assert [
        r.check_id
        for r in run_checks(con, DAY2, Config(), specs=specs, only=["TST"], record=False).results
    ] == ["TST-01", "TST-02"]
    assert [
        r.check_id
        for r in run_checks(con, DAY2, Config(), specs=specs, only=["OTH-01"], record=False).results
    ] == ["OTH-01"]


@pytest.mark.parametrize("only", [[""], ["  "], []])
def test_a_selection_of_no_check_is_refused(
    con: duckdb.DuckDBPyConnection, only: list[str]
) -> None:
    """`mir check --only "$CHECKS"` with an empty variable: a usage error, nothing recorded (it
    ran no check, recorded an empty run and exited 0, as if the day had been checked)."""
    before = con.execute("SELECT count(*) FROM check_results").fetchall()
    with pytest.raises(UsageError, match="--only names no check"):
        run_checks(con, DAY2, Config(), only=only)
    assert con.execute("SELECT count(*) FROM check_results").fetchall() == before


def test_a_family_is_everything_before_the_dash(con: duckdb.DuckDBPyConnection) -> None:
    """Catches a family read as the first three letters: ids have 2 to 5 letters (FX-01,
    LIQD-01), and `--only FX` must select that family."""
    specs = [sql_spec("FX-01", NOTHING), sql_spec("LIQD-01", NOTHING), sql_spec("LIQ-01", NOTHING)]
    assert [s.family for s in specs] == ["FX", "LIQD", "LIQ"]
    chosen = run_checks(con, DAY2, Config(), specs=specs, only=["FX", "LIQD"], record=False)
    assert [r.check_id for r in chosen.results] == ["FX-01", "LIQD-01"]


# ---------------------------------------------------------------------------------------------
# CLI


def _load(run_mir, scenario: str) -> None:
    for day in sorted(p for p in (GOLDEN / scenario).iterdir() if p.is_dir()):
        result = run_mir("load", str(day), "--quiet")
        assert result.exit_code == 0, result.output


def test_cli_check_exit_codes(run_mir) -> None:
    _load(run_mir, "seg06_isolation")
    result = run_mir("check", "--as-of", "2026-03-03", "--only", "SEG-06", "--only", "SEG-04")
    assert result.exit_code == 1, result.output
    assert (
        "SEG-06" in result.output
        and "breach" in result.output
        and "Isolation breach" in result.output
    )
    result = run_mir("check", "--as-of", "2026-03-03", "--only", "SEG-04", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "pass"
    assert data["checks"] == {
        "SEG-04": {"title": "Cross-wallet roll-forward", "status": "pass", "exceptions": 0}
    }
    result = run_mir("check", "--as-of", "2026-03-03", "--only", "SEG-06", "-x", "--format", "json")
    assert result.exit_code == 1, result.output
    rows = json.loads(result.output)["exceptions"]
    assert [(r["check_id"], r["entity_id"], r["value"]) for r in rows] == [
        ("SEG-06", "P1", "500.000000000000000000"),
        ("SEG-06", "P3", "0.005000000000000000"),
        ("SEG-06", "T4", "-10.000000000000000000"),
    ]
    result = run_mir("check", "--as-of", "2026-03-05", "--only", "SEG-04")
    assert result.exit_code == 2
    assert "mir load" in result.output


def test_cli_fail_on_warn(run_mir, tmp_path: Path) -> None:
    _load(run_mir, "seg08_deficit")
    result = run_mir("check", "--as-of", "2026-03-02", "--only", "SEG-08", "--only", "SEG-04")
    assert result.exit_code == 0, result.output
    assert "not_evaluated" in result.output  # SEG-04 on the first day, with its reason
    result = run_mir("check", "--as-of", "2026-03-02", "--only", "SEG-08", "--fail-on", "warn")
    assert result.exit_code == 1, result.output
    # a stable asset the day does not price is warned of on stderr (config audit 2026-12-07)
    config = tmp_path / "typo.toml"
    config.write_text('[firm]\nstable_assets = ["USD", "usdt"]\n', encoding="utf-8")
    typo = run_mir("check", "--as-of", "2026-03-02", "--only", "SEG-08", "--config", config)
    assert typo.exit_code == 0, typo.output
    assert "warning: [firm] stable_assets names usdt, which the venue" in typo.stderr


def test_the_run_id_changes_with_the_code(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run recorded by other code (an upgrade, a fix within the same version) must not be
    reused by `mir report` as this code's result: the code's hash is part of the run id."""
    from reports import paths
    from reports.checks import engine

    before = engine.compute_run_id(con, DAY2, Config())
    assert len(paths.code_fingerprint()) == 64
    monkeypatch.setattr(engine, "code_fingerprint", lambda: "0" * 64)
    assert engine.compute_run_id(con, DAY2, Config()) != before


def test_cli_check_an_error_beside_a_breach_exits_4(
    run_mir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that could not run is exit 4 even when another found a breach: exit 1 would tell
    the scheduler all checks ran (mutation review of 2026-12-07: deciding the breach first
    passed every test)."""
    from reports.checks import engine

    _load(run_mir, "seg06_isolation")
    real = engine.run_sql_check

    def failing_seg04(spec: CheckSpec, ctx: CheckContext) -> pl.DataFrame:
        if spec.check_id == "SEG-04":
            msg = "SEG-04 cannot run"
            raise CheckError(msg)
        return real(spec, ctx)

    monkeypatch.setattr(engine, "run_sql_check", failing_seg04)
    result = run_mir(
        "check", "--as-of", "2026-03-03", "--only", "SEG-06", "--only", "SEG-04", "--format", "json"
    )
    assert result.exit_code == 4, result.output
    checks = json.loads(result.stdout)["checks"]
    assert {k: v["status"] for k, v in checks.items()} == {"SEG-04": "error", "SEG-06": "breach"}
