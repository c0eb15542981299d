"""The loader's contract, case by case, where a mutation review found it untested (2026-12-06).

60 realistic bugs were made in reports/load, reports/spec.py and queries/load; 19 passed every
load test. Each case here failed under one of them: a rule loosened (bad input loaded), a rule
tightened (good input refused), or bad input refused with the wrong words or exit code. Bad
input must exit 3 naming file, row and column, and leave nothing in the database.
The refused cells of that review are cases of tests/test_load_rules.py (ids `contract.*`);
here are the rest. (Written with the helpers of those two files.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from snapshots import (
    SNAPSHOT_MIN,
    copy_snapshot,
    delete_rows,
    drop_column,
    read_rows,
    set_cell,
    to_parquet,
    write_rows,
)
from test_load_rules import both, cell, drop, load_like_the_cli

from reports.errors import ExitCode, InputError
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
    # mutation review of 2026-12-07: each entry failed under a rule tightened beyond the contract
    (
        "an_adjustment_by_an_operator",
        both(
            cell("movements", 6, "kind", "adjustment"),
            cell("movements", 6, "initiated_by", "operator"),
        ),
    ),
    ("no_client_guarantees_row", drop("capital", lambda r: r["item"] == "client_guarantees")),
    (
        "optional_columns_left_out",
        both(
            lambda snap: drop_column(snap, "movements", "position_id"),
            lambda snap: drop_column(snap, "accounts", "jurisdiction"),
        ),
    ),
    (
        "no_expiry_column_without_futures",
        both(
            cell("instruments", 2, "kind", "linear_perpetual"),
            cell("instruments", 4, "kind", "inverse_perpetual"),
            lambda snap: drop_column(snap, "instruments", "expiry"),
        ),
    ),
    ("volumes_of_the_insurance_fund", cell("volumes", 3, "account_type", "insurance_fund")),
    # own funds may be negative (a loss); only overheads, liquid assets and guarantees may not
    ("a_negative_cet1", cell("capital", 1, "amount", "-1000")),
]


@pytest.mark.parametrize(("mid", "mutate"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_what_the_contract_allows_loads(new_db, mid, mutate, tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    mutate(snap)
    code, output = load_like_the_cli(new_db(), snap)
    assert code == ExitCode.OK, output


def test_a_seven_digit_fraction_of_a_second_is_the_same_instant(new_db, tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "movements", 1, "ts", "2026-03-02T08:00:00.1234560Z")
    con = new_db()
    load_snapshot(con, snap)
    assert con.execute("SELECT ts FROM movements WHERE movement_id = 'M001'").fetchall() == [
        (dt.datetime(2026, 3, 2, 8, 0, 0, 123456),)
    ]


def test_the_first_twenty_problems_are_in_row_order(new_db, tmp_path) -> None:
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
    code, output = load_like_the_cli(new_db(), snap)
    assert code == ExitCode.BAD_INPUT
    assert "movements.csv: 26 problems (first 20 shown)" in output
    shown = [ln for ln in output.splitlines() if ln.startswith("  movements.csv, row")]
    assert shown[0].startswith("  movements.csv, row 7, column amount")
    assert shown[-1].startswith("  movements.csv, row 26, column amount")


def test_cross_file_problems_are_counted_per_file(new_db, tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 2, "account_id", "C998")
    set_cell(snap, "positions", 4, "quantity", "0")
    set_cell(snap, "instruments", 2, "expiry", "")
    delete_rows(snap, "capital", lambda r: r["item"] in ("cet1", "tier2"))
    code, output = load_like_the_cli(new_db(), snap)
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


def test_an_empty_parquet_string_is_a_missing_value(new_db, tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "accounts", 3, "account_id", "")
    path = to_parquet(snap, "accounts")
    _rewrite_parquet(path, "* REPLACE (coalesce(account_id, '') AS account_id)")
    con = new_db()
    code, output = load_like_the_cli(con, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert "  accounts.parquet, row 3, column account_id; expected a value" in output, output


def test_float32_money_in_parquet_is_refused(new_db, tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "balances", types={"balance": "FLOAT"})
    code, output = load_like_the_cli(new_db(), snap)
    assert code == ExitCode.BAD_INPUT, output
    assert (
        "  balances.parquet, row 1, column balance: got 'FLOAT'; expected an exact type" in output
    ), output


def test_reloading_an_earlier_day_keeps_the_later_days(new_db, tmp_path) -> None:
    con = new_db()
    load_snapshot(con, copy_snapshot(tmp_path, "2026-03-03"))
    load_snapshot(con, SNAPSHOT_MIN)
    assert con.execute(
        "SELECT as_of_date, count(*) FROM positions GROUP BY 1 ORDER BY 1"
    ).fetchall() == [(dt.date(2026, 3, 2), 6), (dt.date(2026, 3, 3), 6)]


def test_an_empty_parquet_string_in_an_optional_column_takes_the_default(new_db, tmp_path) -> None:
    snap = copy_snapshot(tmp_path)
    path = to_parquet(snap, "accounts")
    _rewrite_parquet(path, "* REPLACE (coalesce(group_id, '') AS group_id)")
    con = new_db()
    load_snapshot(con, snap)
    assert con.execute("SELECT group_id FROM accounts WHERE account_id = 'C003'").fetchall() == [
        ("C003",)
    ]


def test_optional_columns_left_out_take_their_defaults(new_db, tmp_path) -> None:
    """DESIGN.md section 3: group_id defaults to account_id, client_category to retail, status
    to active, wallet_type to cold and custodian_type to self, also when the column is absent
    (not only for an empty cell): a NULL custodian_type falls out of every exposure check."""
    snap = copy_snapshot(tmp_path)
    for column in ("group_id", "client_category", "status"):
        drop_column(snap, "accounts", column)
    for column in ("wallet_type", "custodian_type"):
        drop_column(snap, "custody", column)
    con = new_db()
    load_snapshot(con, snap)
    assert con.execute(
        "SELECT DISTINCT group_id = account_id, client_category, status FROM accounts"
    ).fetchall() == [(True, "retail", "active")]
    assert con.execute("SELECT DISTINCT wallet_type, custodian_type FROM custody").fetchall() == [
        ("cold", "self")
    ]


def test_plain_decimal_notations_load_exactly(new_db, tmp_path) -> None:
    """A leading +, no digit before the point, and zeros beyond the 18th decimal are plain
    decimals of the same value (README: at most 18 decimals, trailing zeros aside)."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "balances", 1, "balance", "+10000.50")
    set_cell(snap, "balances", 2, "balance", ".25")
    set_cell(snap, "prices", 5, "price", "62010.12345678900000000000")
    con = new_db()
    load_snapshot(con, snap)
    assert con.execute(
        "SELECT asset, balance FROM balances WHERE account_id = 'C001' ORDER BY asset"
    ).fetchall() == [("BTC", Decimal("0.25")), ("USDT", Decimal("10000.5"))]
    assert con.execute("SELECT price FROM prices WHERE symbol = 'BTC'").fetchall() == [
        (Decimal("62010.123456789"),)
    ]


def test_the_reporting_currencys_own_price_must_be_1_whichever_currency_it_is(
    new_db, tmp_path
) -> None:
    """With EUR as the reporting currency, a EUR price row other than 1 is refused (it would
    scale every reporting-currency figure); USD is then an asset like any other."""
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "prices")
    write_rows(snap, "prices", header, [*rows, ["asset", "USD", "0.92"], ["asset", "EUR", "1.09"]])
    with pytest.raises(InputError) as info:
        load_snapshot(new_db(), snap, reporting_currency="EUR")
    assert [str(v) for v in info.value.violations] == [
        "prices.csv, row 10, column price: got '1.09'; expected 1: the price of the reporting "
        "currency EUR in itself"
    ]
    set_cell(snap, "prices", 10, "price", "1")
    load_snapshot(new_db(), snap, reporting_currency="EUR")
