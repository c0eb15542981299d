"""The loader's contract, case by case, where a mutation review found it untested (2026-12-06).

60 realistic bugs were made in reports/load, reports/spec.py and queries/load; 19 passed every
load test. Each case here failed under one of them: a rule loosened (bad input loaded), a rule
tightened (good input refused), or bad input refused with the wrong words or exit code. Bad
input must exit 3 naming file, row and column, and leave nothing in the database.
The refused cells of that review are cases of tests/test_load_rules.py (ids `contract.*`);
here are the rest. (Written with the helpers of those two files.)"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from snapshots import (
    SNAPSHOT_MIN,
    copy_snapshot,
    delete_rows,
    drop_column,
    memory_db,
    read_rows,
    set_cell,
    to_parquet,
    write_rows,
)
from test_load_rules import cell, drop, load_like_the_cli

from reports.errors import ExitCode
from reports.load import load_snapshot

# the contract allows these: they load (exit 0)
ACCEPTED = [
    (
        "optional_transfer_id_column_left_out",
        lambda snap: drop_column(snap, "movements", "transfer_id"),
    ),
    ("an_adl_movement", cell("movements", 6, "kind", "adl")),
    (
        "a_seven_digit_fraction_of_a_second",
        cell("movements", 1, "ts", "2026-03-02T08:00:00.1234560Z"),
    ),
    ("an_account_without_balances_moves", drop("balances", lambda r: r["account_id"] == "C003")),
]


@pytest.mark.parametrize(("mid", "mutate"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_what_the_contract_allows_loads(mid, mutate, tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    mutate(snap)
    code, output = load_like_the_cli(memory_db(), snap)
    assert code == ExitCode.OK, output


def test_a_seven_digit_fraction_of_a_second_is_the_same_instant(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "movements", 1, "ts", "2026-03-02T08:00:00.1234560Z")
    con = memory_db()
    load_snapshot(con, snap)
    assert con.execute("SELECT ts FROM movements WHERE movement_id = 'M001'").fetchall() == [
        (dt.datetime(2026, 3, 2, 8, 0, 0, 123456),)
    ]


def test_the_first_twenty_problems_are_in_row_order(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "movements")
    extra = []
    for i in range(25):  # rows 7..31: amount '1,5'; row 31 also a bad ts
        row = list(rows[0])
        row[header.index("movement_id")] = f"X{i:03d}"
        row[header.index("amount")] = "1,5"
        extra.append(row)
    extra[-1][header.index("ts")] = "yesterday"
    write_rows(snap, "movements", header, rows + extra)
    code, output = load_like_the_cli(memory_db(), snap)
    assert code == ExitCode.BAD_INPUT
    assert "movements.csv: 26 problems (first 20 shown)" in output
    shown = [ln for ln in output.splitlines() if ln.startswith("  movements.csv, row")]
    assert shown[0].startswith("  movements.csv, row 7, column amount")
    assert shown[-1].startswith("  movements.csv, row 26, column amount")


def test_cross_file_problems_are_counted_per_file(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 2, "account_id", "C998")
    set_cell(snap, "positions", 4, "quantity", "0")
    set_cell(snap, "instruments", 2, "expiry", "")
    delete_rows(snap, "capital", lambda r: r["item"] in ("cet1", "tier2"))
    code, output = load_like_the_cli(memory_db(), snap)
    assert code == ExitCode.BAD_INPUT
    assert "instruments.csv: 1 problem;" in output, output
    assert "positions.csv: 2 problems;" in output, output
    assert "capital.csv: 2 problems." in output, output


def _rewrite_parquet(path, select: str) -> None:
    con = duckdb.connect()
    tmp = path.with_suffix(".tmp.parquet")
    con.execute(f"COPY (SELECT {select} FROM read_parquet('{path}')) TO '{tmp}' (FORMAT parquet)")
    con.close()
    tmp.replace(path)


def test_an_empty_parquet_string_is_a_missing_value(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "accounts", 3, "account_id", "")
    path = to_parquet(snap, "accounts")
    _rewrite_parquet(path, "* REPLACE (coalesce(account_id, '') AS account_id)")
    con = memory_db()
    code, output = load_like_the_cli(con, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert "  accounts.parquet, row 3, column account_id; expected a value" in output, output


def test_float32_money_in_parquet_is_refused(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "balances", types={"balance": "FLOAT"})
    code, output = load_like_the_cli(memory_db(), snap)
    assert code == ExitCode.BAD_INPUT, output
    assert "  balances.parquet, column balance: got 'FLOAT'; expected an exact type" in output, (
        output
    )


def test_reloading_an_earlier_day_keeps_the_later_days(tmp_path) -> None:
    con = memory_db()
    load_snapshot(con, copy_snapshot(tmp_path, "2026-03-03"))
    load_snapshot(con, SNAPSHOT_MIN)
    assert con.execute(
        "SELECT as_of_date, count(*) FROM positions GROUP BY 1 ORDER BY 1"
    ).fetchall() == [(dt.date(2026, 3, 2), 6), (dt.date(2026, 3, 3), 6)]


def test_an_empty_parquet_string_in_an_optional_column_takes_the_default(tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    path = to_parquet(snap, "accounts")
    _rewrite_parquet(path, "* REPLACE (coalesce(group_id, '') AS group_id)")
    con = memory_db()
    load_snapshot(con, snap)
    assert con.execute("SELECT group_id FROM accounts WHERE account_id = 'C003'").fetchall() == [
        ("C003",)
    ]
