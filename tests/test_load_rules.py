"""One test per rule of the snapshot contract (DESIGN.md section 3): a corrupted copy of the
fixture is rejected with exit code 3, naming the file, the 1-based data row and the column.

The cases run the library on one in-memory database (a rejected load changes nothing, so they
can share it) and render the error exactly as the CLI does (reports.cli.report_error); a few
tests at the end go through `mir load` itself.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from snapshots import (
    SNAPSHOT_MIN,
    add_column,
    copy_snapshot,
    delete_rows,
    drop_column,
    memory_db,
    read_rows,
    set_cell,
    to_parquet,
    write_rows,
)

from reports.cli import report_error
from reports.errors import ExitCode, MirError
from reports.load import load_snapshot

Mutation = Callable[[Path], object]


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutation
    file: str  # as named in the message, e.g. positions.csv
    row: int | None  # 1-based data row; None for a file-level problem
    column: str | None
    also: str = ""  # another substring the message must contain


def many_large_balances(snap: Path) -> None:
    """Twelve client accounts with 9e18 USDT each: no balance too large by itself, but the
    client total (about 1.1e20) is beyond DECIMAL(38,18)."""
    header, rows = read_rows(snap, "accounts")
    ids = [f"X{i:02d}" for i in range(12)]
    write_rows(snap, "accounts", header, rows + [[i, "client", "", "", "", ""] for i in ids])
    header, rows = read_rows(snap, "balances")
    write_rows(snap, "balances", header, rows + [[i, "USDT", "9" + "0" * 18] for i in ids])


def cell(file: str, row: int, column: str, value: str) -> Mutation:
    return lambda snap: set_cell(snap, file, row, column, value)


def drop(file: str, predicate: Callable[[dict[str, str]], bool]) -> Mutation:
    return lambda snap: delete_rows(snap, file, predicate)


def both(*mutations: Mutation) -> Mutation:
    def apply(snap: Path) -> None:
        for mutation in mutations:
            mutation(snap)

    return apply


def typed(file: str, types: dict[str, str], *mutations: Mutation) -> Mutation:
    """Apply ``mutations`` to the CSV, then write ``file`` as typed Parquet, the given columns
    with the given Parquet types (the loader's typed fast path)."""

    def apply(snap: Path) -> None:
        for mutation in mutations:
            mutation(snap)
        to_parquet(snap, file, typed=True, types=types)

    return apply


def _with_row(snap: Path, file: str, row: list[str]) -> tuple[list[str], list[list[str]]]:
    header, rows = read_rows(snap, file)
    return header, [*rows, row]


DECIMAL = "a decimal number"
# fmt: off
CASES = [
    # -- types, enums, required values (column rules) --
    Case("accounts.account_id.required", cell("accounts", 3, "account_id", ""), "accounts.csv", 3, "account_id", "a value"),
    Case("accounts.account_type.enum", cell("accounts", 2, "account_type", "customer"), "accounts.csv", 2, "account_type", "one of client, house, insurance_fund"),
    Case("accounts.account_type.case", cell("accounts", 1, "account_type", "Client"), "accounts.csv", 1, "account_type", "got 'Client'"),
    Case("accounts.client_category.enum", cell("accounts", 1, "client_category", "vip"), "accounts.csv", 1, "client_category", "retail, professional"),
    Case("accounts.status.enum", cell("accounts", 4, "status", "dormant"), "accounts.csv", 4, "status", "active, frozen, closed"),
    Case("instruments.kind.enum", cell("instruments", 2, "kind", "option"), "instruments.csv", 2, "kind", "linear_perpetual"),
    Case("instruments.underlying.required", cell("instruments", 1, "underlying", ""), "instruments.csv", 1, "underlying"),
    Case("instruments.contract_size.exponent", cell("instruments", 3, "contract_size", "1e2"), "instruments.csv", 3, "contract_size", DECIMAL),
    Case("instruments.contract_size.positive", cell("instruments", 1, "contract_size", "0"), "instruments.csv", 1, "contract_size", "> 0"),
    Case("instruments.expiry.date", cell("instruments", 2, "expiry", "27/03/2026"), "instruments.csv", 2, "expiry", "YYYY-MM-DD"),
    Case("instruments.expiry.real_date", cell("instruments", 4, "expiry", "2026-02-30"), "instruments.csv", 4, "expiry", "YYYY-MM-DD"),
    Case("instruments.expiry.year_zero", cell("instruments", 4, "expiry", "0000-01-01"), "instruments.csv", 4, "expiry", "year 0001 or later"),
    Case("risk_tiers.tier.integer", cell("risk_tiers", 5, "tier", "5.5"), "risk_tiers.csv", 5, "tier", "an integer"),
    Case("risk_tiers.tier.ten_digits", cell("risk_tiers", 5, "tier", "1000000000"), "risk_tiers.csv", 5, "tier", "an integer of at most 9 digits"),
    Case("risk_tiers.notional_floor.non_negative", cell("risk_tiers", 1, "notional_floor", "-1"), "risk_tiers.csv", 1, "notional_floor", ">= 0"),
    Case("risk_tiers.notional_cap.positive", cell("risk_tiers", 11, "notional_cap", "-100000"), "risk_tiers.csv", 11, "notional_cap", "> 0"),
    Case("risk_tiers.mmr.comma_decimal", cell("risk_tiers", 2, "maintenance_margin_rate", "0,005"), "risk_tiers.csv", 2, "maintenance_margin_rate", DECIMAL),
    Case("risk_tiers.maintenance_amount.decimal", cell("risk_tiers", 12, "maintenance_amount", "five hundred"), "risk_tiers.csv", 12, "maintenance_amount", DECIMAL),
    Case("risk_tiers.max_leverage.positive", cell("risk_tiers", 3, "max_leverage", "0"), "risk_tiers.csv", 3, "max_leverage", "> 0"),
    Case("prices.kind.enum", cell("prices", 2, "kind", "index"), "prices.csv", 2, "kind", "instrument, asset"),
    Case("prices.price.zero", cell("prices", 5, "price", "0"), "prices.csv", 5, "price", "> 0"),
    Case("prices.price.negative", cell("prices", 1, "price", "-62000"), "prices.csv", 1, "price", "> 0"),
    Case("prices.price.nan", cell("prices", 6, "price", "NaN"), "prices.csv", 6, "price", DECIMAL),
    Case("prices.price.infinity", cell("prices", 7, "price", "inf"), "prices.csv", 7, "price", DECIMAL),
    Case("prices.price.19_decimals", cell("prices", 5, "price", "62010.1234567890123456789"), "prices.csv", 5, "price", "18 decimals"),
    Case("prices.price.thousands_separator", cell("prices", 1, "price", "62,000.5"), "prices.csv", 1, "price", "no thousands separator"),
    Case("prices.symbol.required", cell("prices", 3, "symbol", ""), "prices.csv", 3, "symbol"),
    Case("prices.reporting_currency.not_1", lambda snap: write_rows(snap, "prices", *_with_row(snap, "prices", ["asset", "USD", "2"])), "prices.csv", 9, "price", "1: the price of the reporting currency USD in itself"),
    Case("balances.balance.text", cell("balances", 2, "balance", "abc"), "balances.csv", 2, "balance", DECIMAL),
    Case("balances.balance.21_integer_digits", cell("balances", 7, "balance", "123456789012345678901"), "balances.csv", 7, "balance", "20 integer digits"),
    Case("balances.balance.spaces", cell("balances", 1, "balance", " 10000.50"), "balances.csv", 1, "balance", DECIMAL),
    Case("positions.margin_mode.enum", cell("positions", 2, "margin_mode", "portfolio"), "positions.csv", 2, "margin_mode", "isolated, cross"),
    Case("positions.quantity.required", cell("positions", 5, "quantity", ""), "positions.csv", 5, "quantity", "a value"),
    Case("positions.entry_price.positive", cell("positions", 3, "entry_price", "0"), "positions.csv", 3, "entry_price", "> 0"),
    Case("positions.leverage.positive", cell("positions", 1, "leverage", "-20"), "positions.csv", 1, "leverage", "> 0"),
    Case("positions.reported_upnl.decimal", cell("positions", 2, "reported_unrealized_pnl", "-2.51E-3"), "positions.csv", 2, "reported_unrealized_pnl", DECIMAL),
    Case("movements.ts.naive", cell("movements", 1, "ts", "2026-03-02T08:00:00"), "movements.csv", 1, "ts", "UTC timestamp"),
    Case("movements.ts.other_offset", cell("movements", 2, "ts", "2026-03-02T09:15:30+01:00"), "movements.csv", 2, "ts", "UTC timestamp"),
    Case("movements.ts.space", cell("movements", 3, "ts", "2026-03-02 09:15:30Z"), "movements.csv", 3, "ts", "UTC timestamp"),
    Case("movements.ts.impossible", cell("movements", 4, "ts", "2026-02-30T10:00:00Z"), "movements.csv", 4, "ts", "UTC timestamp"),
    # year 0000: DuckDB holds it, Python's datetime does not (`mir sql` failed on the row)
    Case("movements.ts.year_zero", cell("movements", 4, "ts", "0000-01-01T00:00:00Z"), "movements.csv", 4, "ts", "year 0001 or later"),
    Case("movements.ts.after_the_close", cell("movements", 2, "ts", "2026-03-03T00:00:00Z"), "movements.csv", 2, "ts", "before the close of the snapshot (2026-03-03T00:00:00Z"),
    Case("movements.amount.exponent", cell("movements", 1, "amount", "5E3"), "movements.csv", 1, "amount", DECIMAL),
    Case("movements.kind.enum", cell("movements", 6, "kind", "bonus"), "movements.csv", 6, "kind", "deposit, withdrawal"),
    Case("movements.initiated_by.enum", cell("movements", 5, "initiated_by", "admin"), "movements.csv", 5, "initiated_by", "user, system, operator"),
    Case("movements.initiated_by.required", cell("movements", 5, "initiated_by", ""), "movements.csv", 5, "initiated_by", "a value"),
    Case("custody.designation.enum", cell("custody", 2, "designation", "clients"), "custody.csv", 2, "designation", "client, house, insurance_fund"),
    Case("custody.wallet_type.enum", cell("custody", 1, "wallet_type", "paper"), "custody.csv", 1, "wallet_type", "cold, warm, hot, bank, exchange"),
    Case("custody.custodian_type.enum", cell("custody", 3, "custodian_type", "bank"), "custody.csv", 3, "custodian_type", "credit_institution"),
    # review of 2026-12-05: a house wallet at Bank A with an empty custodian_type (self) fell out
    # of CON-06's exposure to Bank A, turning a breach into a warning
    Case("custody.custodian_type.one_per_custodian", lambda snap: write_rows(snap, "custody", *_with_row(snap, "custody", ["W-BANK2", "Bank A", "USD", "50", "house", "bank", ""])), "custody.csv", 7, "custodian_type", "the custodian_type of custodian Bank A on its first row (row 3: credit_institution)"),
    Case("custody.balance.decimal", cell("custody", 4, "balance", "2 ETH"), "custody.csv", 4, "balance", DECIMAL),
    Case("capital.item.enum", cell("capital", 6, "item", "cet2"), "capital.csv", 6, "item", "cet1"),
    Case("capital.amount.decimal", cell("capital", 1, "amount", "n/a"), "capital.csv", 1, "amount", DECIMAL),
    Case("volumes.account_type.enum", cell("volumes", 2, "account_type", "market_maker"), "volumes.csv", 2, "account_type"),
    Case("volumes.traded_notional.non_negative", cell("volumes", 3, "traded_notional", "-1"), "volumes.csv", 3, "traded_notional", ">= 0"),
    Case("price_history.date.date", cell("price_history", 2, "date", "2026-02-31"), "price_history.csv", 2, "date", "YYYY-MM-DD"),
    Case("price_history.price.positive", cell("price_history", 3, "price", "0"), "price_history.csv", 3, "price", "> 0"),
    # -- the same rules on typed Parquet columns (no text round trip; the value quoted as text) --
    Case("typed.prices.price.negative", typed("prices", {"price": "DECIMAL(18,9)"}, cell("prices", 1, "price", "-0.5")), "prices.parquet", 1, "price", "got '-0.500000000'; expected a number > 0"),
    Case("typed.prices.price.zero", typed("prices", {"price": "DECIMAL(38,9)"}, cell("prices", 5, "price", "0")), "prices.parquet", 5, "price", "got '0.000000000'; expected a number > 0"),
    Case("typed.custody.balance.required", typed("custody", {"balance": "DECIMAL(9,2)"}, cell("custody", 6, "balance", "")), "custody.parquet", 6, "balance", "expected a value"),
    Case("typed.prices.price.19_decimals", typed("prices", {"price": "DECIMAL(38,20)"}, cell("prices", 5, "price", "62010.1234567890123456789")), "prices.parquet", 5, "price", "got '62010.12345678901234567890'; expected a decimal number"),
    Case("typed.volumes.traded_notional.non_negative", typed("volumes", {"traded_notional": "DECIMAL(38,8)"}, cell("volumes", 3, "traded_notional", "-1")), "volumes.parquet", 3, "traded_notional", "got '-1.00000000'; expected a number >= 0"),
    Case("typed.risk_tiers.notional_floor.integer_non_negative", typed("risk_tiers", {"notional_floor": "INTEGER"}, cell("risk_tiers", 1, "notional_floor", "-1")), "risk_tiers.parquet", 1, "notional_floor", "got '-1'; expected a number >= 0"),
    Case("typed.risk_tiers.max_leverage.integer_positive", typed("risk_tiers", {"max_leverage": "USMALLINT"}, cell("risk_tiers", 3, "max_leverage", "0")), "risk_tiers.parquet", 3, "max_leverage", "got '0'; expected a number > 0"),
    Case("typed.positions.quantity.required", typed("positions", {"quantity": "DECIMAL(38,8)"}, cell("positions", 5, "quantity", "")), "positions.parquet", 5, "quantity", "expected a value (the column is required"),
    Case("typed.positions.entry_price.required_integer", typed("positions", {"entry_price": "BIGINT"}, cell("positions", 2, "entry_price", "")), "positions.parquet", 2, "entry_price", "expected a value"),
    Case("typed.capital.amount.21_integer_digits", typed("capital", {"amount": "DECIMAL(38,8)"}, cell("capital", 2, "amount", "100000000000000000000")), "capital.parquet", 2, "amount", "got '100000000000000000000.00000000'; expected a decimal number"),
    Case("typed.capital.amount.21_integer_digits_negative", typed("capital", {"amount": "DECIMAL(38,0)"}, cell("capital", 4, "amount", "-123456789012345678901")), "capital.parquet", 4, "amount", "20 integer digits"),
    Case("typed.movements.amount.required", typed("movements", {"amount": "DECIMAL(18,3)"}, cell("movements", 4, "amount", "")), "movements.parquet", 4, "amount", "expected a value"),
    Case("typed.movements.ts.required", typed("movements", {}, cell("movements", 3, "ts", "")), "movements.parquet", 3, "ts", "expected a value"),
    Case("typed.movements.ts.year_10000", typed("movements", {}, cell("movements", 2, "ts", "10000-01-01T00:00:00Z")), "movements.parquet", 2, "ts", "got '10000-01-01T00:00:00.000000Z'; expected a UTC timestamp"),
    Case("typed.movements.ts.year_zero", typed("movements", {}, cell("movements", 2, "ts", "0000-06-01T00:00:00Z")), "movements.parquet", 2, "ts", "year 0001 or later"),
    # -- uniqueness --
    Case("accounts.unique", cell("accounts", 5, "account_id", "C001"), "accounts.csv", 5, "account_id", "expected a unique account_id; the same value is on row 1"),
    Case("instruments.unique", cell("instruments", 4, "instrument_id", "BTCUSD"), "instruments.csv", 4, "instrument_id", "on row 3"),
    Case("risk_tiers.unique", cell("risk_tiers", 2, "tier", "1"), "risk_tiers.csv", 2, "instrument_id, tier", "on row 1"),
    Case("prices.unique", cell("prices", 8, "symbol", "USDT"), "prices.csv", 8, "kind, symbol", "on row 7"),
    Case("balances.unique", cell("balances", 2, "asset", "USDT"), "balances.csv", 2, "account_id, asset", "expected a unique (account_id, asset); the same value is on row 1"),
    Case("positions.unique", cell("positions", 6, "position_id", "P001"), "positions.csv", 6, "position_id", "on row 1"),
    Case("movements.unique", cell("movements", 3, "movement_id", "M002"), "movements.csv", 3, "movement_id", "on row 2"),
    Case("custody.unique", both(cell("custody", 6, "wallet_id", "W-HOUSE"), cell("custody", 6, "designation", "house")), "custody.csv", 6, "wallet_id, asset", "on row 5"),
    Case("capital.unique", cell("capital", 6, "item", "cet1"), "capital.csv", 6, "item", "on row 1"),
    Case("volumes.unique", cell("volumes", 2, "account_type", "client"), "volumes.csv", 2, "instrument_id, account_type", "on row 1"),
    Case("price_history.duplicate_date", cell("price_history", 3, "date", "2026-02-27"), "price_history.csv", 3, "date, asset", "on row 1"),
    # -- instruments --
    Case("instruments.linear_settles_in_quote", cell("instruments", 1, "settle_asset", "USDC"), "instruments.csv", 1, "settle_asset", "settle_asset = quote_asset (USDT)"),
    Case("instruments.inverse_settles_in_underlying", cell("instruments", 3, "settle_asset", "USD"), "instruments.csv", 3, "settle_asset", "settle_asset = underlying (BTC)"),
    Case("instruments.future_needs_expiry", cell("instruments", 2, "expiry", ""), "instruments.csv", 2, "expiry", "an expiry date for a future"),
    # -- risk tiers --
    Case("risk_tiers.instrument_exists", both(cell("risk_tiers", 19, "instrument_id", "XRPUSDT"), cell("risk_tiers", 20, "instrument_id", "XRPUSDT"), cell("risk_tiers", 19, "tier", "1"), cell("risk_tiers", 20, "tier", "2")), "risk_tiers.csv", 19, "instrument_id", "an instrument_id listed in instruments"),
    Case("risk_tiers.first_floor_zero", cell("risk_tiers", 1, "notional_floor", "10"), "risk_tiers.csv", 1, "notional_floor", "0 on the first tier of BTCUSDT"),
    Case("risk_tiers.gap", cell("risk_tiers", 3, "notional_floor", "250001"), "risk_tiers.csv", 3, "notional_floor", "previous tier 2 of BTCUSDT (250000)"),
    Case("risk_tiers.overlap", cell("risk_tiers", 14, "notional_floor", "9"), "risk_tiers.csv", 14, "notional_floor", "(10)"),
    Case("risk_tiers.only_last_cap_empty", cell("risk_tiers", 2, "notional_cap", ""), "risk_tiers.csv", 2, "notional_cap", "only the last tier of BTCUSDT"),
    Case("risk_tiers.cap_above_floor", cell("risk_tiers", 2, "notional_cap", "40000"), "risk_tiers.csv", 2, "notional_cap", "notional_cap > notional_floor (50000)"),
    Case("risk_tiers.tier_table_for_positions", drop("risk_tiers", lambda r: r["instrument_id"] == "ETHUSD-260327"), "positions.csv", 4, "instrument_id", "a risk tier table for ETHUSD-260327"),
    # -- positions --
    Case("positions.account_exists", cell("positions", 2, "account_id", "C999"), "positions.csv", 2, "account_id", "listed in accounts"),
    Case("positions.account_id.case_sensitive", cell("positions", 1, "account_id", "c001"), "positions.csv", 1, "account_id", "got 'c001'"),
    Case("positions.instrument_exists", cell("positions", 3, "instrument_id", "SOLUSDT"), "positions.csv", 3, "instrument_id", "listed in instruments"),
    Case("positions.value_in_range.linear", cell("positions", 1, "quantity", "99999999999999999999"), "positions.csv", 1, "quantity", "below 1e19"),
    Case("positions.value_in_range.inverse", cell("positions", 2, "quantity", "-99999999999999999999"), "positions.csv", 2, "quantity", "below 1e19"),
    Case("positions.value_in_range.isolated_margin", cell("positions", 3, "isolated_margin", "99999999999999999999"), "positions.csv", 3, "isolated_margin", "got '99999999999999999999'"),
    Case("positions.quantity_non_zero", cell("positions", 4, "quantity", "0.000"), "positions.csv", 4, "quantity", "non-zero"),
    Case("positions.isolated_needs_margin", cell("positions", 3, "isolated_margin", ""), "positions.csv", 3, "isolated_margin", "an isolated_margin for an isolated position"),
    # -- prices for what is held --
    Case("prices.mark_price_for_positions", drop("prices", lambda r: r["symbol"] == "ETHUSD-260327"), "positions.csv", 4, "instrument_id", "a mark price in prices (kind=instrument, symbol=ETHUSD-260327)"),
    Case("prices.settle_asset_of_positions", both(drop("prices", lambda r: r["symbol"] == "ETH"), drop("balances", lambda r: r["asset"] == "ETH"), drop("custody", lambda r: r["asset"] == "ETH"), drop("movements", lambda r: r["asset"] == "ETH")), "positions.csv", 4, "instrument_id", "symbol=ETH, the settle asset of ETHUSD-260327"),
    Case("prices.settle_asset_of_linear_positions", both(cell("instruments", 2, "quote_asset", "USDC"), cell("instruments", 2, "settle_asset", "USDC"), drop("prices", lambda r: r["symbol"] == "USDC"), drop("balances", lambda r: r["asset"] == "USDC")), "positions.csv", 3, "instrument_id", "symbol=USDC, the settle asset of ETHUSDT-260327"),
    Case("prices.quote_asset_of_inverse_positions", cell("instruments", 3, "quote_asset", "EUR"), "positions.csv", 2, "instrument_id", "symbol=EUR, the quote asset of BTCUSD"),
    Case("prices.asset_of_balances", drop("prices", lambda r: r["symbol"] == "USDC"), "balances.csv", 6, "asset", "an asset price in prices (kind=asset, symbol=USDC)"),
    Case("prices.asset_of_custody", cell("custody", 1, "asset", "SOL"), "custody.csv", 1, "asset", "symbol=SOL"),
    Case("prices.asset_of_movements", cell("movements", 1, "asset", "DOGE"), "movements.csv", 1, "asset", "symbol=DOGE"),
    # -- movements --
    Case("movements.account_exists", cell("movements", 4, "account_id", "C999"), "movements.csv", 4, "account_id", "listed in accounts"),
    # Regression: a balance of an unlisted account loaded and then fell out of the client requirement.
    Case("balances.account_exists", cell("balances", 2, "account_id", "C999"), "balances.csv", 2, "account_id", "listed in accounts"),
    # -- capital --
    Case("capital.required_item", drop("capital", lambda r: r["item"] == "liquid_assets"), "capital.csv", None, "item", "a row with item liquid_assets"),
    # Review of 2026-12-04: -50M of guarantees made the CAP-03 requirement negative (a pass with no liquid assets).
    Case("capital.magnitude_not_negative", cell("capital", 6, "amount", "-50000000"), "capital.csv", 6, "amount", "an amount >= 0 for client_guarantees"),
    Case("capital.overheads_not_negative", cell("capital", 4, "amount", "-1"), "capital.csv", 4, "amount", "an amount >= 0 for fixed_overheads_annual"),
    # -- files and columns --
    Case("file.required", lambda snap: (snap / "positions.csv").unlink(), "positions", None, None, "a file positions.csv, positions.csv.gz or positions.parquet"),
    Case("file.two_formats", lambda snap: (snap / "capital.csv.gz").write_bytes(b""), "capital", None, None, "exactly one of"),
    # a contract file's name on a folder: refused, not ignored (an optional file's stored rows
    # were replaced by none)
    # a contract file's name in other case: a misnamed delivery, not an extra file to ignore
    # a Parquet string that is not UTF-8: named by row and column (DuckDB names neither)
    Case("parquet.invalid_utf8", lambda snap: _parquet_with_bad_bytes(snap, "accounts", 3, "group_id"), "accounts.parquet", 3, "group_id", "xff1'; expected UTF-8 text"),
    Case("file.case", lambda snap: (snap / "volumes.csv").rename(snap / "Volumes.csv"), "Volumes.csv", None, None, "the name volumes.csv (file names are case-sensitive)"),
    Case("file.folder", lambda snap: _replace_by_folder(snap / "volumes.csv"), "volumes.csv", None, None, "got 'a folder'; expected a regular file"),
    Case("column.required", lambda snap: drop_column(snap, "positions", "quantity"), "positions.csv", None, "quantity", "required by the snapshot contract"),
    Case("column.required_in_header_only_file", lambda snap: write_rows(snap, "movements", ["movement_id", "ts"], []), "movements.csv", None, "account_id"),
    Case("column.duplicated", lambda snap: add_column(snap, "prices", "price", "1"), "prices.csv", 0, "price", "each column name once"),
    Case("csv.ragged_row", lambda snap: (snap / "accounts.csv").write_text(
        (snap / "accounts.csv").read_text() + "C005,client,,retail,DE,active,extra\n"), "accounts.csv", 7, None, "Expected Number of Columns"),
    Case("csv.empty_file", lambda snap: (snap / "volumes.csv").write_text(""), "volumes.csv", 0, None, "a header row"),
    # Values the contract's 20 integer digits hold, but too large to value (exit 3, not 4).
    Case("overflow.balance", cell("balances", 2, "balance", "12345678901234567890"), "balances.csv", 2, "balance", "an amount below 1e19"),
    Case("overflow.custody", cell("custody", 1, "balance", "10000000000000000"), "custody.csv", 1, "balance", "an amount below 1e19"),
    Case("overflow.asset_price", both(cell("prices", 5, "price", "99999999999999999999"), cell("balances", 2, "balance", "2")), "prices.csv", 5, "price", "a price below 1e19"),
    Case("overflow.tier_rate", cell("risk_tiers", 2, "maintenance_margin_rate", "99999999999999999999"), "risk_tiers.csv", 2, "maintenance_margin_rate", "notional_floor and the next tier's are below 1e19"),
    # fuzzing (2026-12-05): a large rate on a first tier (floor 0) overflowed the next tier's
    # computed maintenance amount, and no row was named (exit 4)
    Case("overflow.first_tier_rate", cell("risk_tiers", 1, "maintenance_margin_rate", "10000000000000000"), "risk_tiers.csv", 1, "maintenance_margin_rate", "the next tier's are below 1e19 (here about 5e+20)"),
    # fuzzing (2026-12-05): an instrument's open interest beyond DECIMAL(38,18) loaded, then
    # CON-01/02 failed and the report stopped with an internal error (exit 4). Named at the
    # contract_size when that is the cause, else at the instrument's largest position.
    Case("overflow.open_interest_contract_size", cell("instruments", 3, "contract_size", "100000000000000000"), "positions.csv", 2, "quantity", "the open interest of BTCUSD stays below 1e19 in contracts, in its quote asset and in USD (here its largest figure is about 1e+19: 100 contracts on its short side x contract_size 100000000000000000 (instruments row 3) x 1 USD per USD)"),
    # the larger side's largest position is named, not a larger short (row 5) on the smaller side
    Case("overflow.open_interest_positions", both(cell("positions", 1, "quantity", "97000000000000000"), cell("positions", 6, "quantity", "97000000000000001"), cell("positions", 5, "quantity", "-98000000000000000")), "positions.csv", 6, "quantity", "the open interest of BTCUSDT stays below 1e19 in contracts, in underlying units, in its quote asset and in USD (here its largest figure is about 1.2e+19: 1.94e+17 contracts on its long side x contract_size 0.001 (instruments row 1) x mark price 62000.5 (prices row 1) x 0.9998 USD per USDT (prices row 7))"),
    # with the mark price missing too (another rule names it), the message still says what it
    # found (it was NULL: review of 2026-12-05)
    Case("overflow.open_interest_no_mark", both(cell("instruments", 1, "contract_size", "100000000000000000"), drop("prices", lambda r: r["symbol"] == "BTCUSDT")), "positions.csv", 1, "quantity", "(instruments row 1) x mark price none x 0.9998 USD per USDT"),
    # a mark price of 9e18 on ordinary positions: every factor and its row in the message,
    # and the larger side's largest position named (not the short, review of 2026-12-05)
    Case("overflow.open_interest_mark", cell("prices", 1, "price", "9000000000000000000"), "positions.csv", 1, "quantity", "x mark price 9000000000000000000 (prices row 1)"),
    Case("overflow.sum", many_large_balances, "balances.csv", None, "balance", "sums fit DECIMAL(38,18)"),
    Case("csv.not_utf8", lambda snap: (snap / "accounts.csv").write_bytes(
        (snap / "accounts.csv").read_bytes().replace(b"ES,frozen", b"\xc9S,frozen")), "accounts.csv", 4, "jurisdiction", "got '\\\\xc9S'; expected UTF-8 text"),
]
# fmt: on

# Cases the mutation review of 2026-12-06 found untested: each failed under a bug that
# every other case let pass (tests/test_load_contract.py has the rest of that review).
CASES += [
    Case(
        "contract.custody_key_is_wallet_and_asset",
        cell("custody", 6, "wallet_id", "W-HOUSE"),
        "custody.csv",
        6,
        "wallet_id, asset",
        "on row 5",
    ),
    Case(
        "contract.negative_maintenance_rate",
        cell("risk_tiers", 1, "maintenance_margin_rate", "-0.004"),
        "risk_tiers.csv",
        1,
        "maintenance_margin_rate",
        "a number >= 0",
    ),
    Case(
        "contract.unknown_account_status",
        cell("accounts", 4, "status", "suspended"),
        "accounts.csv",
        4,
        "status",
        "one of active, frozen, closed",
    ),
    Case(
        "contract.required_capital_item_at1",
        drop("capital", lambda r: r["item"] == "at1"),
        "capital.csv",
        None,
        "item",
        "a row with item at1",
    ),
    Case(
        "contract.a_lone_decimal_point",
        cell("balances", 1, "balance", "."),
        "balances.csv",
        1,
        "balance",
        "a decimal number",
    ),
    Case(
        "contract.a_column_named_twice",
        lambda snap: add_column(snap, "accounts", "account_id", "X"),
        "accounts.csv",
        0,
        "account_id",
        "each column name once",
    ),
    Case(
        "contract.linear_future_settles_in_its_quote",
        cell("instruments", 2, "settle_asset", "USDC"),
        "instruments.csv",
        2,
        "settle_asset",
        "settle_asset = quote_asset (USDT)",
    ),
    Case(
        "contract.inverse_future_without_expiry",
        cell("instruments", 4, "expiry", ""),
        "instruments.csv",
        4,
        "expiry",
        "an expiry date for a future (inverse_future)",
    ),
    Case(
        "contract.tier_cap_at_its_floor",
        both(
            cell("risk_tiers", 2, "notional_cap", "50000"),
            cell("risk_tiers", 3, "notional_floor", "50000"),
        ),
        "risk_tiers.csv",
        2,
        "notional_cap",
        "notional_cap > notional_floor (50000)",
    ),
    Case(
        "contract.open_cap_before_the_last_tier",
        cell("risk_tiers", 11, "notional_cap", ""),
        "risk_tiers.csv",
        11,
        "notional_cap",
        "only the last tier of ETHUSDT-260327",
    ),
    Case(
        "contract.reporting_currency_priced_off_one",
        lambda snap: write_rows(
            snap, "prices", *_with_row(snap, "prices", ["asset", "USD", "0.5"])
        ),
        "prices.csv",
        9,
        "price",
        "1: the price of the reporting currency USD",
    ),
    Case(
        "contract.asset_priced_only_as_instrument",
        cell("prices", 5, "kind", "instrument"),
        "balances.csv",
        2,
        "asset",
        "an asset price in prices (kind=asset, symbol=BTC)",
    ),
    Case(
        "contract.negative_liquid_assets",
        cell("capital", 5, "amount", "-1"),
        "capital.csv",
        5,
        "amount",
        "an amount >= 0 for liquid_assets",
    ),
    Case(
        "contract.capital_amount_beyond_1e19",
        cell("capital", 1, "amount", "10000000000000000000"),
        "capital.csv",
        1,
        "amount",
        "an amount below 1e19 in the reporting currency",
    ),
]

# Cases the mutation review of 2026-12-07 found untested: a rule loosened or dropped (the bad
# input loaded) while every case above still passed.
CASES += [
    Case(
        "review.required_capital_item_fixed_overheads",
        drop("capital", lambda r: r["item"] == "fixed_overheads_annual"),
        "capital.csv",
        None,
        "item",
        "a row with item fixed_overheads_annual",
    ),
    # tiers start at 0: a first floor of 0.5 leaves notionals below it without a tier
    Case(
        "review.first_floor_just_above_zero",
        cell("risk_tiers", 13, "notional_floor", "0.5"),
        "risk_tiers.csv",
        13,
        "notional_floor",
        "0 on the first tier of BTCUSD",
    ),
    # the day's traded notionals together stay below 1e16, not only each row (the K-factors
    # average years of days)
    Case(
        "review.volumes_adding_up_beyond_1e16",
        both(
            cell("volumes", 1, "traded_notional", "9000000000000000"),
            cell("volumes", 3, "traded_notional", "8000000000000000"),
        ),
        "volumes.csv",
        1,
        "traded_notional",
        "this file's traded_notional values below 1e16 in all",
    ),
    # the last tier may be bounded, but not below its floor (an inverted interval)
    Case(
        "review.last_tier_cap_below_its_floor",
        cell("risk_tiers", 20, "notional_cap", "500"),
        "risk_tiers.csv",
        20,
        "notional_cap",
        "notional_cap > notional_floor (1000)",
    ),
    # one custodian_type per custodian, whatever the asset: Bank A's house BTC wallet with an
    # empty type (self) would fall out of Bank A's CON-06, K-TCD and K-CON exposure
    Case(
        "review.custodian_type_one_per_custodian_across_assets",
        lambda snap: write_rows(
            snap,
            "custody",
            *_with_row(snap, "custody", ["W-BANK-BTC", "Bank A", "BTC", "1", "house", "bank", ""]),
        ),
        "custody.csv",
        7,
        "custodian_type",
        "the custodian_type of custodian Bank A on its first row (row 3: credit_institution)",
    ),
    # a house or insurance-fund wallet needs its asset's price too (CON-06, K-factors value it)
    Case(
        "review.asset_of_house_custody",
        cell("custody", 5, "asset", "SOL"),
        "custody.csv",
        5,
        "asset",
        "an asset price in prices (kind=asset, symbol=SOL)",
    ),
    # amounts a roll-forward sums are bounded by their magnitude: a debit as much as a credit
    Case(
        "review.negative_balance_beyond_1e19",
        cell("balances", 3, "balance", "-50000000000000000000"),
        "balances.csv",
        3,
        "balance",
        "an amount below 1e19",
    ),
    Case(
        "review.negative_isolated_margin_beyond_1e19",
        cell("positions", 1, "isolated_margin", "-50000000000000000000"),
        "positions.csv",
        1,
        "isolated_margin",
        "an amount below 1e19",
    ),
    Case(
        "review.withdrawal_beyond_1e19",
        cell("movements", 2, "amount", "-20000000000000000000"),
        "movements.csv",
        2,
        "amount",
        "an amount below 1e19 in its asset",
    ),
    Case(
        "review.negative_reported_upnl_beyond_1e19",
        cell("positions", 1, "reported_unrealized_pnl", "-12345678900000000000"),
        "positions.csv",
        1,
        "reported_unrealized_pnl",
        "an amount below 1e19 in its settle asset",
    ),
    # an asset priced below 1 USD does not shrink the bound: 5e19 units are summed as such
    Case(
        "review.balance_of_a_cheap_asset_beyond_1e19",
        both(
            lambda snap: write_rows(
                snap, "prices", *_with_row(snap, "prices", ["asset", "SHIB", "0.00001"])
            ),
            lambda snap: write_rows(
                snap,
                "balances",
                *_with_row(snap, "balances", ["C001", "SHIB", "50000000000000000000"]),
            ),
        ),
        "balances.csv",
        9,
        "balance",
        "an amount below 1e19",
    ),
]

# Input review of 2026-12-07: a NUL byte in an id or text cell (valid UTF-8, but the mark of a
# damaged export) loaded and reached concentration.csv as a raw NUL byte.
CASES += [
    Case(
        "review.nul_in_csv_id",
        cell("accounts", 2, "group_id", "G\x0001"),
        "accounts.csv",
        2,
        "group_id",
        "got 'G\\x0001'; expected text without NUL bytes",
    ),
    Case(
        "review.nul_in_csv_text",
        cell("accounts", 4, "jurisdiction", "E\x00S"),
        "accounts.csv",
        4,
        "jurisdiction",
        "expected text without NUL bytes",
    ),
    # a column that must match another file's (checked) ids fails that rule instead: no look
    # of its own at each of 5M movements (ColumnSpec.references); the rule's text, which
    # quotes the cell, shows the NUL escaped
    Case(
        "review.nul_in_parquet_reference",
        typed("movements", {}, cell("movements", 2, "account_id", "C0\x0000161")),
        "movements.parquet",
        2,
        "account_id",
        "got 'C0\\x0000161'; expected an account_id listed in accounts",
    ),
    Case(
        "review.nul_in_parquet_asset",
        typed("balances", {}, cell("balances", 2, "asset", "US\x00DC")),
        "balances.parquet",
        2,
        "asset",
        "got 'US\\x00DC'; expected an asset price in prices (kind=asset, symbol=US\\x00DC)",
    ),
    Case(
        "review.nul_in_parquet_id",
        typed("positions", {}, cell("positions", 2, "position_id", "P\x0002")),
        "positions.parquet",
        2,
        "position_id",
        "got 'P\\x0002'; expected text without NUL bytes",
    ),
]

# Cases the second mutation review of 2026-12-07 found untested: a rule narrowed to one kind,
# margin mode or designation (the bad input of the others loaded) while every case above passed.
CASES += [
    # an inverse future settles in its underlying, like an inverse perpetual
    Case(
        "review.inverse_future_settles_in_its_underlying",
        cell("instruments", 4, "settle_asset", "USD"),
        "instruments.csv",
        4,
        "settle_asset",
        "settle_asset = underlying (ETH) for an inverse instrument",
    ),
    # quantity non-zero holds for isolated positions too, not only cross ones
    Case(
        "review.isolated_position_with_zero_quantity",
        cell("positions", 1, "quantity", "0"),
        "positions.csv",
        1,
        "quantity",
        "a non-zero quantity",
    ),
    # a mark price is a kind=instrument row: an asset price under the instrument's symbol is none
    Case(
        "review.mark_priced_only_as_asset",
        cell("prices", 4, "kind", "asset"),
        "positions.csv",
        4,
        "instrument_id",
        "a mark price in prices (kind=instrument, symbol=ETHUSD-260327)",
    ),
    # one custodian_type per custodian on client wallets too (a client wallet read as self
    # would leave the client assets at Bank A out of its custodian's figures)
    Case(
        "review.custodian_type_one_per_custodian_on_client_wallets",
        lambda snap: write_rows(
            snap,
            "custody",
            *_with_row(
                snap, "custody", ["W-BANK-USDT", "Bank A", "USDT", "10", "client", "bank", ""]
            ),
        ),
        "custody.csv",
        7,
        "custodian_type",
        "the custodian_type of custodian Bank A on its first row (row 3: credit_institution)",
    ),
    # every required column, not only positions.quantity: without designation no custody row
    # would count as held for clients (SEG-01)
    Case(
        "review.required_column_designation",
        lambda snap: drop_column(snap, "custody", "designation"),
        "custody.csv",
        None,
        "designation",
        "a column 'designation' (required by the snapshot contract)",
    ),
]


@pytest.fixture(scope="module")
def shared_db() -> Iterator[duckdb.DuckDBPyConnection]:
    con = memory_db()
    yield con
    con.close()


def load_like_the_cli(con: duckdb.DuckDBPyConnection, snapshot: Path) -> tuple[int, str]:
    """Load ``snapshot``; the exit code `mir load` would return and what it prints on stderr."""
    stderr = io.StringIO()
    try:
        load_snapshot(con, snapshot)
    except MirError as exc:
        with contextlib.redirect_stderr(stderr):
            report_error(exc)
        return int(exc.exit_code), stderr.getvalue()
    return int(ExitCode.OK), ""


def _parquet_with_bad_bytes(snap: Path, name: str, row: int, column: str) -> None:
    """`name`.csv as `name`.parquet whose `column` holds the bytes G, 0xFF, 1 on data `row`, in a
    column annotated as UTF-8 text (pyarrow writes the bytes as given)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    csv_path = snap / f"{name}.csv"
    options = pacsv.ConvertOptions(column_types={c: pa.string() for c in [column]})
    table = pacsv.read_csv(csv_path, convert_options=options)
    values = [v.encode() if v is not None else None for v in table.column(column).to_pylist()]
    values[row - 1] = b"G\xff1"
    binary = pa.array(values, type=pa.binary())
    text = pa.Array.from_buffers(pa.string(), len(binary), binary.buffers(), binary.null_count)
    table = table.set_column(table.schema.get_field_index(column), column, text)
    pq.write_table(table, snap / f"{name}.parquet")
    csv_path.unlink()


def _replace_by_folder(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_is_enforced(case: Case, tmp_path, shared_db) -> None:
    snap = copy_snapshot(tmp_path)
    case.mutate(snap)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    where = case.file
    if case.row is not None:
        where += f", row {case.row}"
    if case.column is not None:
        where += f", column {case.column}"
    lines = [ln for ln in output.splitlines() if ln.startswith(f"  {where}")]
    assert lines, f"no line for {where!r} in:\n{output}"
    if case.also:
        assert any(case.also in ln for ln in lines) or case.also in output, output
    # A rejected load changes nothing.
    assert shared_db.execute("SELECT count(*) FROM loads").fetchone() == (0,)


def test_every_violation_of_a_file_is_reported(tmp_path, shared_db) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 1, "quantity", "x")
    set_cell(snap, "positions", 3, "margin_mode", "both")
    set_cell(snap, "positions", 3, "entry_price", "-1")
    set_cell(snap, "positions", 6, "leverage", "1e2")
    set_cell(snap, "movements", 2, "kind", "gift")
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3
    for where in (
        "positions.csv, row 1, column quantity",
        "positions.csv, row 3, column margin_mode",
        "positions.csv, row 3, column entry_price",
        "positions.csv, row 6, column leverage",
        "movements.csv, row 2, column kind",
    ):
        assert f"  {where}:" in output, output
    assert "positions.csv: 4 problems" in output


def test_every_cross_file_violation_is_reported(tmp_path, shared_db) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 2, "account_id", "C998")
    set_cell(snap, "positions", 4, "quantity", "0")
    set_cell(snap, "instruments", 2, "expiry", "")
    delete_rows(snap, "capital", lambda r: r["item"] in ("cet1", "tier2"))
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3
    for where in (
        "positions.csv, row 2, column account_id: got 'C998'",
        "positions.csv, row 4, column quantity: got '0'",
        "instruments.csv, row 2, column expiry",
        "capital.csv, column item; expected a row with item cet1",
        "capital.csv, column item; expected a row with item tier2",
    ):
        assert f"  {where}" in output, output


def test_many_violations_are_capped_per_file_with_the_total(tmp_path, shared_db) -> None:
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "movements")
    template = rows[0]
    extra = []
    for i in range(30):
        row = list(template)
        row[header.index("movement_id")] = f"X{i:03d}"
        row[header.index("amount")] = "1,5"
        extra.append(row)
    write_rows(snap, "movements", header, rows + extra)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3
    assert "movements.csv: 30 problems (first 20 shown)" in output
    shown = [ln for ln in output.splitlines() if ln.startswith("  movements.csv, row")]
    assert len(shown) == 20
    assert shown[0].startswith("  movements.csv, row 7, column amount: got '1,5'")
    assert shown[-1].startswith("  movements.csv, row 26, column amount")


def test_row_numbers_stay_exact_in_a_larger_file(tmp_path, shared_db) -> None:
    """Row numbers come from the staging order: check them well past the first vector (2048)."""
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "movements")
    template = rows[0]
    extra = []
    for i in range(5000):
        row = list(template)
        row[header.index("movement_id")] = f"B{i:05d}"
        extra.append(row)
    extra[4321][header.index("ts")] = "2026-03-02T25:00:00Z"
    write_rows(snap, "movements", header, rows + extra)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3
    assert (
        f"  movements.csv, row {len(rows) + 4322}, column ts: got '2026-03-02T25:00:00Z'" in output
    )


def test_parquet_float_column_for_money_is_rejected(tmp_path, shared_db) -> None:
    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "balances")
    con = duckdb.connect()
    path = snap / "balances.parquet"
    con.execute(
        f"COPY (SELECT account_id, asset, CAST(balance AS DOUBLE) AS balance FROM read_parquet('{path}')) "
        f"TO '{tmp_path / 'b.parquet'}' (FORMAT parquet)"
    )
    con.close()
    (tmp_path / "b.parquet").replace(path)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3
    assert (
        "  balances.parquet, row 1, column balance: got 'DOUBLE'; expected an exact type" in output
    )
    assert "binary floating point cannot hold money exactly" in output


def test_parquet_decimal_beyond_38_digits_is_named_as_written(tmp_path, shared_db) -> None:
    """DuckDB reads a DECIMAL(50,18) as DOUBLE: the message names the file's own type."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    snap = copy_snapshot(tmp_path)
    path = to_parquet(snap, "balances")
    table = pq.read_table(path)
    wide = pa.array(
        [Decimal(v) for v in table.column("balance").to_pylist()], pa.decimal256(50, 18)
    )
    pq.write_table(table.set_column(table.schema.get_field_index("balance"), "balance", wide), path)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3
    assert (
        "  balances.parquet, row 1, column balance: got 'DECIMAL(50,18)'; expected an exact type "
        "for a "
        "decimal column (Parquet DECIMAL of at most 38 digits, an integer or a string); the "
        "file's DECIMAL(50,18) has more than 38 digits"
    ) in output


@pytest.mark.parametrize(
    ("parquet_type", "unscaled", "shown"),
    [
        # more integer digits than DECIMAL(30,10) holds, and more than the contract's 20
        # (Parquet stores DECIMAL(30,x) in 13 bytes and DECIMAL(18,x) in 8: the values are
        # chosen to fit those widths)
        ((30, 10), 10**30, "100000000000000000000.0000000000"),
        # 21 integer digits in a DECIMAL(38,18) column (which declares at most 20)
        ((38, 18), 15 * 10**37, "150000000000000000000.000000000000000000"),
        # a DECIMAL(18,9) cell beyond its own precision, yet within 20 integer digits
        ((18, 9), 10**18, "1000000000.000000000"),
    ],
    ids=["30_10", "38_18", "18_9"],
)
def test_parquet_decimal_cell_beyond_its_declared_type_is_bad_input(
    parquet_type, unscaled, shown, tmp_path, shared_db
) -> None:
    # Parquet lets a writer store more digits than a column's DECIMAL(p,s) declares, and DuckDB
    # reads them unchecked: the loader must name the cell (exit 3), not fail inside DuckDB or
    # store an out-of-range amount.
    import pyarrow as pa
    import pyarrow.parquet as pq

    snap = copy_snapshot(tmp_path)
    precision, scale = parquet_type
    to_parquet(snap, "prices", typed=True, types={"price": f"DECIMAL({precision},{scale})"})
    path = snap / "prices.parquet"
    table = pq.read_table(path)
    prices = table.column("price").combine_chunks()
    data = bytearray(prices.buffers()[1].to_pybytes()[prices.offset * 16 :])
    data[2 * 16 : 3 * 16] = unscaled.to_bytes(16, "little", signed=True)  # the third row
    patched = pa.Array.from_buffers(prices.type, len(prices), [None, pa.py_buffer(bytes(data))])
    pq.write_table(table.set_column(table.schema.get_field_index("price"), "price", patched), path)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert (
        f"  prices.parquet, row 3, column price: got '{shown}'; expected a value that fits "
        f"the column type DECIMAL({precision},{scale})"
    ) in output
    assert shared_db.execute("SELECT count(*) FROM loads").fetchone() == (0,)


def test_parquet_naive_timestamp_is_rejected(tmp_path, shared_db) -> None:
    snap = copy_snapshot(tmp_path)
    to_parquet(snap, "movements")
    con = duckdb.connect()
    path = snap / "movements.parquet"
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(replace(replace(ts, 'Z', ''), '+00:00', '') AS TIMESTAMP) AS ts) "
        f"FROM read_parquet('{path}')) TO '{tmp_path / 'm.parquet'}' (FORMAT parquet)"
    )
    con.close()
    (tmp_path / "m.parquet").replace(path)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3
    assert "  movements.parquet, column ts: got 'TIMESTAMP'; expected a UTC timestamp" in output


def test_venue_findings_are_not_load_errors(new_db, tmp_path) -> None:
    """Negative isolated margin, margin on a cross position, negative balances, unbalanced
    transfers and movements on closed positions all load: the checks report them."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 1, "isolated_margin", "-10")
    set_cell(snap, "positions", 2, "isolated_margin", "25")
    set_cell(snap, "balances", 1, "balance", "-1000")
    set_cell(snap, "movements", 3, "amount", "499")
    set_cell(snap, "movements", 4, "position_id", "CLOSED-1")
    # Decreasing maintenance margin rates are not part of the contract either.
    set_cell(snap, "risk_tiers", 20, "maintenance_margin_rate", "0.005")
    con = new_db()
    summary = load_snapshot(con, snap)
    assert summary.rows == 77


# -- through `mir load` itself ------------------------------------------------------------------


def test_cli_exit_code_and_message_for_a_cell(tmp_path, run_mir) -> None:
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "custody", 2, "wallet_type", "lukewarm")
    result = run_mir("load", snap)
    assert result.exit_code == 3
    assert (
        "custody.csv, row 2, column wallet_type: got 'lukewarm'; expected one of cold"
        in result.stderr
    )


def test_cli_exit_code_for_a_missing_file(tmp_path, run_mir) -> None:
    snap = copy_snapshot(tmp_path)
    (snap / "custody.csv").unlink()
    result = run_mir("load", snap)
    assert result.exit_code == 3
    assert "custody; expected a file custody.csv" in result.stderr


def test_fixture_is_valid(new_db, shared_db) -> None:
    """The cases above corrupt a fixture that itself loads (else they would prove nothing)."""
    code, output = load_like_the_cli(new_db(), SNAPSHOT_MIN)
    assert code == 0, output


def test_overflowing_rows_are_shown_twenty_per_file_with_their_total(tmp_path, shared_db) -> None:
    """25 balances too large to value: the first 20 by row are named, the total says 25."""
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "accounts")
    ids = [f"Y{i:02d}" for i in range(25)]
    write_rows(snap, "accounts", header, rows + [[i, "client", "", "", "", ""] for i in ids])
    header, rows = read_rows(snap, "balances")
    first = len(rows) + 1
    write_rows(snap, "balances", header, rows + [[i, "USDT", "5" + "0" * 19] for i in ids])
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3, output
    assert "balances.csv: 25 problems (first 20 shown)" in output
    named = [ln for ln in output.splitlines() if ln.startswith("  balances.csv, row ")]
    assert [int(ln.split("row ")[1].split(",")[0]) for ln in named] == list(
        range(first, first + 20)
    )


@pytest.mark.parametrize("column", ["account_id", "instrument_id"])
def test_a_position_id_stays_with_its_position_across_days(new_db, tmp_path, column: str) -> None:
    """DESIGN.md section 3: position_id "stable across days while open". The same id under
    another account or instrument at the next close is refused, naming the previous one."""
    from reports.load import load_snapshot

    con = new_db()
    load_snapshot(con, copy_snapshot(tmp_path / "a"))
    following = copy_snapshot(tmp_path / "b", "2026-03-03")
    header, rows = read_rows(following, "positions")
    first = dict(zip(header, rows[0], strict=True))
    replacement = next(
        r[header.index(column)] for r in rows if r[header.index(column)] != first[column]
    )
    set_cell(following, "positions", 1, column, replacement)
    code, output = load_like_the_cli(con, following)
    assert code == ExitCode.BAD_INPUT, output
    assert f"positions.csv, row 1, column {column}: got '{replacement}'" in output
    assert f"{first[column]}, the {column.removesuffix('_id')} of {first['position_id']}" in output
    assert "at the previous close 2026-03-02" in output
    # the same file two days later (that previous close not stored) loads: the rule needs it
    later = copy_snapshot(tmp_path / "c", "2026-03-05", source=following)
    assert load_like_the_cli(con, later)[0] == ExitCode.OK
    # ... and the day before it, loaded afterwards, loads with a warning naming the stored next
    # close: a correction spanning two stored days must be loadable one day at a time
    earlier = copy_snapshot(tmp_path / "d", "2026-03-04")
    summary = load_snapshot(con, earlier)
    (warning,) = [w for w in summary.warnings if "next stored close" in w]
    assert "at the next stored close 2026-03-05" in warning and first["position_id"] in warning
    assert "reload 2026-03-05" in warning


@pytest.mark.parametrize(
    "last", ["X99,client,,,", "X99,clientx,,,,"], ids=["short_row", "bad_enum"]
)
def test_row_numbers_agree_after_blank_lines(tmp_path, shared_db, last: str) -> None:
    """Regression: after blank lines a malformed row was numbered by its physical line (row 25)
    while a bad cell in the same place was numbered by data row (row 15)."""
    snap = copy_snapshot(tmp_path)
    path = snap / "accounts.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    with_blanks = [header] + [line for row in rows for line in (row, "")] + [last]
    path.write_text("\n".join(with_blanks) + "\n", encoding="utf-8")
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert f"accounts.csv, row {len(rows) + 1}" in output, output


@pytest.mark.parametrize(
    "last", ["X99,client,,,", "X99,clientx,,,,"], ids=["short_row", "bad_enum"]
)
def test_row_numbers_agree_after_quoted_fields_spanning_lines(
    tmp_path, shared_db, last: str
) -> None:
    """Regression: a quoted field spanning three lines, before a malformed row, shifted that
    row's number by two (DuckDB numbers records, not lines); a bad cell in the same place was
    numbered right. Blank lines in between still count for neither."""
    snap = copy_snapshot(tmp_path)
    path = snap / "accounts.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    first = rows[0].split(",")
    first[2] = '"G\nspanning\nlines"'  # group_id: free text, may hold newlines
    lines = [header, ",".join(first), "", *rows[1:], "", last]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert f"accounts.csv, row {len(rows) + 1}" in output, output


def test_amounts_the_checks_sum_are_bounded_like_the_valued_ones(tmp_path, shared_db) -> None:
    """Regression: a movement or a traded notional near 1e20 loaded, and the checks summing it
    (SEG-04, the IFR K-factors) then crashed with a DECIMAL overflow (exit 4). Such rows are now
    refused at load: a movement from 1e19 (at its asset's USD price), a traded notional from 1e16
    (the K-factors average up to years of them)."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "movements", 1, "amount", "2" + "0" * 19)  # USDT
    set_cell(snap, "volumes", 2, "traded_notional", "1" + "0" * 16)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert (
        "movements.csv, row 1, column amount: got '20000000000000000000'; expected an amount "
        "below 1e19 in its asset and at its asset's USD price (here about 2e+19)" in output
    ), output
    assert (
        "volumes.csv, row 2, column traded_notional: got '10000000000000000'; expected an "
        "amount below 1e16 in the reporting currency" in output
    ), output


def test_a_file_whose_amounts_add_up_beyond_1e20_is_named_at_its_largest_row(
    new_db, tmp_path, shared_db
) -> None:
    """Deposits of 9e18 USDT (each below 1e19): six (5.4e19) are refused once, at the largest
    row, as the roll-forward adds a balance on each side of them; five (4.5e19) load. Review of
    2026-12-04: with the earlier 1e20 bound, eleven of them (9.9e19) loaded, and a balance of
    5e18 beside them overflowed SEG-04."""
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "movements")
    first = len(rows) + 1
    big = [
        [
            f"MB{n:02d}",
            "2026-03-02T10:00:00Z",
            "C001",
            "USDT",
            "9" + "0" * 18,
            "deposit",
            "",
            "",
            "user",
        ]
        for n in range(6)
    ]
    big[2][4] = "95" + "0" * 17  # the largest: row first + 2
    write_rows(snap, "movements", header, rows + big[:5])
    assert load_like_the_cli(new_db(), snap)[0] == ExitCode.OK
    write_rows(snap, "movements", header, rows + big)
    code, output = load_like_the_cli(new_db(), snap)
    assert code == ExitCode.BAD_INPUT, output
    assert "movements.csv: 1 problem." in output, output
    assert (
        f"movements.csv, row {first + 2}, column amount: got '9500000000000000000'; expected "
        "amounts whose sums fit DECIMAL(38,18) (this file's amount values below 5e19 in all): "
        "they add up to about 5.45e+19 in their assets and at their USD prices; this is its "
        "largest"
    ) in output, output


@pytest.mark.parametrize("value", ["9999999999999999999.99", "10000000000000000000"])
def test_an_amount_just_below_1e19_is_below_it(new_db, tmp_path, value: str) -> None:
    """Numbers audit of 2026-12-07: a balance of 9999999999999999999.99 USDT is 1e19 in DOUBLE,
    and was refused as not "below 1e19 ... (here about 1e+19)". Where the magnitude is the
    cell itself (an asset priced at most 1 USD), it is compared exactly."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "balances", 1, "balance", value)  # USDT at 0.9998 USD
    code, output = load_like_the_cli(new_db(), snap)
    if value.startswith("9"):
        assert code == ExitCode.OK, output
    else:
        assert code == ExitCode.BAD_INPUT, output
        assert (
            "balances.csv, row 1, column balance: got '10000000000000000000'; expected an amount "
            "below 1e19 in its asset and at its asset's USD price (here about 1e+19)" in output
        ), output


def test_custody_balances_each_below_1e19_are_named_as_a_file_adding_up_beyond_1e20(
    new_db,
    tmp_path,
) -> None:
    """Numbers audit of 2026-12-07: eleven custody balances of 9999999999999999999.99 USDT
    (1.1e20 in all) overflowed the valuation and were each named as not "below 1e19 ... (here
    about 1e+19)"; they are each below it, and the file is named for its sum."""
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "custody")
    big = "9999999999999999999.99"
    extra = [[f"W-BIG-{n}", "self", "USDT", big, "client", "cold", ""] for n in range(11)]
    write_rows(snap, "custody", header, rows + extra)
    code, output = load_like_the_cli(new_db(), snap)
    assert code == ExitCode.BAD_INPUT, output
    assert (
        "custody.csv, column balance; expected amounts whose sums fit DECIMAL(38,18) (below "
        "1e20): this file's balance values add up to about 1.1e+20" in output
    ), output
    assert "below 1e19" not in output, output


@pytest.mark.parametrize(
    ("file", "column", "row"), [("balances", "balance", 1), ("positions", "isolated_margin", 1)]
)
def test_a_balance_or_margin_a_roll_forward_cannot_sum_is_refused(
    tmp_path, shared_db, file: str, column: str, row: int
) -> None:
    """Review of 2026-12-04: a balance or isolated margin of 5e19 loaded (the valuation's sums
    still fit) and then overflowed the roll-forward that adds the day's movements to it."""
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, file)
    if file == "positions":  # an isolated position
        row = next(n for n, r in enumerate(rows, 1) if r[header.index("margin_mode")] == "isolated")
    set_cell(snap, file, row, column, "5" + "0" * 19)
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert (
        f"{file}.csv, row {row}, column {column}: got '50000000000000000000'; expected an amount below 1e19"
        in output
    ), output


def test_a_reported_upnl_seg09_cannot_value_is_refused(new_db, tmp_path, shared_db) -> None:
    """Load review of 2026-12-05: a reported uPnL written in wei (1.23e18 ETH, 20 integer
    digits fit; here 1.2e19, refused at any USD price) loaded and SEG-09, which values its difference from the valuation's in USD,
    crashed with a DECIMAL overflow (exit 4)."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "positions", 1, "reported_unrealized_pnl", "12345678900000000000")
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    assert (
        "positions.csv, row 1, column reported_unrealized_pnl: got '12345678900000000000'; "
        "expected an amount below 1e19 in its settle asset and at that asset's USD price"
    ) in output, output
    # an ordinary figure loads (the bound is not read row by row on a normal day)
    set_cell(snap, "positions", 1, "reported_unrealized_pnl", "12345.678")
    assert load_like_the_cli(new_db(), snap)[0] == ExitCode.OK


def test_positions_whose_figures_sum_beyond_the_decimal_limit_are_bad_input(
    tmp_path, shared_db
) -> None:
    """Review of 2026-12-04 (second): three cross positions of one account, each with an
    unrealised PnL of about 4.3e19 USDT (each fits), summed beyond DECIMAL(38,18) in the
    account's equity: exit 4, "internal error". It is bad input naming the positions file.
    (Shorts entered at 6.2e13: their open interest is small, which the load bounds on its own
    since the fuzzing of 2026-12-05; longs this large now fail that rule first.)"""
    snap = copy_snapshot(tmp_path)
    header, rows = read_rows(snap, "positions")
    big = [[f"PX{i}", "C001", "BTCUSDT", "cross", "-690000000", "62000000000000"] for i in range(3)]
    write_rows(snap, "positions", header, rows + [r + [""] * (len(header) - 6) for r in big])
    code, output = load_like_the_cli(shared_db, snap)
    assert code == 3, output
    assert "positions.csv: 1 problem" in output
    assert "positions.csv; expected balances and positions whose valued figures" in output
    assert shared_db.execute(
        "SELECT count(*) FROM positions WHERE position_id LIKE 'PX%'"
    ).fetchall() == [(0,)]


def test_invalid_utf8_is_found_past_the_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row number counts the batches before the bad one (batches of 2 rows here)."""
    from reports.load import reader

    snap = copy_snapshot(tmp_path)
    _parquet_with_bad_bytes(snap, "accounts", 5, "account_type")
    monkeypatch.setattr(reader, "_UTF8_BATCH_ROWS", 2)
    source = reader.SourceFile("accounts", snap / "accounts.parquet", "parquet")
    found = reader._invalid_utf8(source, ["account_id", "account_type", "group_id"])
    assert found is not None
    assert (found.row, found.column, found.expected) == (5, "account_type", "UTF-8 text")


def test_a_small_rate_before_a_huge_floor_is_not_named(tmp_path, shared_db) -> None:
    """Review of 2026-12-05: weighing a rate by the next tier's floor x max(1, rate) named the
    first tier's 0.01 as too large when the second tier's rate of 3 on a floor of 5e19 was the
    cause (0.01 x 5e19 = 5e17 fits)."""
    snap = copy_snapshot(tmp_path)
    set_cell(snap, "risk_tiers", 19, "notional_cap", "50000000000000000000")
    set_cell(snap, "risk_tiers", 20, "notional_floor", "50000000000000000000")
    set_cell(snap, "risk_tiers", 20, "maintenance_margin_rate", "3")
    code, output = load_like_the_cli(shared_db, snap)
    assert code == ExitCode.BAD_INPUT, output
    named = [ln for ln in output.splitlines() if ln.startswith("  risk_tiers.csv")]
    assert named and all(ln.startswith("  risk_tiers.csv, row 20,") for ln in named), output
