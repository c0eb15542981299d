"""The snapshot data contract v1 (DESIGN.md section 3) as data.

One `FileSpec` per snapshot file. The loader validates against it, the schema in
queries/schema/ mirrors it, and the generator writes files that satisfy it. Column-level rules
(type, enum, required, default) live here; cross-row and cross-file rules (uniqueness, tier
tables, referential integrity, prices for what is held) live in reports.load.

Numeric policy: every amount, quantity, price and rate is DECIMAL(38,18) in DuckDB (20 integer
digits, 18 decimals). An input with more than 18 decimals is rejected rather than rounded, so
what is stored is exactly what the venue exported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["id", "text", "enum", "decimal", "integer", "date", "timestamp"]

DECIMAL_SQL = "DECIMAL(38,18)"
DECIMAL_SCALE = 18
DECIMAL_INTEGER_DIGITS = 20

SQL_TYPES: dict[ColumnType, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "decimal": DECIMAL_SQL,
    "integer": "INTEGER",
    "date": "DATE",
    "timestamp": "TIMESTAMP",  # UTC, stored without zone so output never depends on the session
}

ACCOUNT_TYPES = ("client", "house", "insurance_fund")
INSTRUMENT_KINDS = ("linear_perpetual", "linear_future", "inverse_perpetual", "inverse_future")
MOVEMENT_KINDS = (
    "deposit",
    "withdrawal",
    "realized_pnl",
    "fee",
    "funding",
    "margin_transfer",
    "margin_release",
    "liquidation",
    "insurance_fund",
    "adl",
    "internal_transfer",
    "adjustment",
)
CAPITAL_ITEMS = (
    "cet1",
    "at1",
    "tier2",
    "fixed_overheads_annual",
    "liquid_assets",
    "client_guarantees",
    "adjusted_net_capital",
)
CAPITAL_ITEMS_REQUIRED = ("cet1", "at1", "tier2", "fixed_overheads_annual", "liquid_assets")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD, as every date of mir is (directory names, --as-of, query
    parameters); ValueError otherwise. date.fromisoformat alone would also take 20260302 or
    2026-W10-1."""
    if not _ISO_DATE.fullmatch(text):
        msg = f"{text!r} is not a date of the form YYYY-MM-DD"
        raise ValueError(msg)
    return dt.date.fromisoformat(text)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: ColumnType
    required: bool = True  # the column must be present in the header
    nullable: bool = False  # an empty cell is allowed
    choices: tuple[str, ...] = ()  # for enums
    default: str | None = None  # SQL expression used when the column is absent or the cell empty
    positive: bool = False  # decimal > 0
    non_negative: bool = False  # decimal >= 0
    # "file.column" every cell must match, by a cross-file rule (queries/load/rules_*.sql),
    # whose own cells are looked at for NUL bytes: a NUL here then fails that rule, so the cell
    # needs no look of its own (reports.load.validate._column_check; 5M movements' account ids)
    references: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    required: bool = True  # the file must be in every snapshot
    unique: tuple[tuple[str, ...], ...] = ()  # column sets that must be unique
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: ColumnType, **kw: object) -> ColumnSpec:
    return ColumnSpec(name, type_, **kw)  # type: ignore[arg-type]


FILES: dict[str, FileSpec] = {
    f.name: f
    for f in (
        FileSpec(
            "accounts",
            (
                _c("account_id", "id"),
                _c("account_type", "enum", choices=ACCOUNT_TYPES),
                _c("group_id", "id", required=False, nullable=True, default="account_id"),
                _c(
                    "client_category",
                    "enum",
                    required=False,
                    nullable=True,
                    choices=("retail", "professional"),
                    default="'retail'",
                ),
                _c("jurisdiction", "text", required=False, nullable=True),
                _c(
                    "status",
                    "enum",
                    required=False,
                    nullable=True,
                    choices=("active", "frozen", "closed"),
                    default="'active'",
                ),
            ),
            unique=(("account_id",),),
        ),
        FileSpec(
            "instruments",
            (
                _c("instrument_id", "id"),
                _c("kind", "enum", choices=INSTRUMENT_KINDS),
                _c("underlying", "id"),
                _c("quote_asset", "id"),
                _c("settle_asset", "id"),
                _c("contract_size", "decimal", positive=True),
                _c("expiry", "date", required=False, nullable=True),
            ),
            unique=(("instrument_id",),),
        ),
        FileSpec(
            "risk_tiers",
            (
                _c("instrument_id", "id"),
                _c("tier", "integer"),
                _c("notional_floor", "decimal", non_negative=True),
                _c("notional_cap", "decimal", nullable=True, positive=True),
                _c("maintenance_margin_rate", "decimal", non_negative=True),
                _c("maintenance_amount", "decimal", required=False, nullable=True),
                _c("max_leverage", "decimal", required=False, nullable=True, positive=True),
            ),
            unique=(("instrument_id", "tier"),),
        ),
        FileSpec(
            "prices",
            (
                _c("kind", "enum", choices=("instrument", "asset")),
                _c("symbol", "id"),
                _c("price", "decimal", positive=True),
            ),
            unique=(("kind", "symbol"),),
        ),
        FileSpec(
            "balances",
            (
                _c("account_id", "id", references="accounts.account_id"),
                _c("asset", "id", references="prices.symbol"),
                _c("balance", "decimal"),
            ),
            unique=(("account_id", "asset"),),
        ),
        FileSpec(
            "positions",
            (
                _c("position_id", "id"),
                _c("account_id", "id", references="accounts.account_id"),
                _c("instrument_id", "id", references="instruments.instrument_id"),
                _c("margin_mode", "enum", choices=("isolated", "cross")),
                _c("quantity", "decimal"),
                _c("entry_price", "decimal", positive=True),
                _c("isolated_margin", "decimal", required=False, nullable=True),
                _c("leverage", "decimal", required=False, nullable=True, positive=True),
                _c("reported_unrealized_pnl", "decimal", required=False, nullable=True),
            ),
            unique=(("position_id",),),
        ),
        FileSpec(
            "movements",
            (
                _c("movement_id", "id"),
                _c("ts", "timestamp"),
                _c("account_id", "id", references="accounts.account_id"),
                _c("asset", "id", references="prices.symbol"),
                _c("amount", "decimal"),
                _c("kind", "enum", choices=MOVEMENT_KINDS),
                _c("position_id", "id", required=False, nullable=True),
                _c("transfer_id", "id", required=False, nullable=True),
                _c("initiated_by", "enum", choices=("user", "system", "operator")),
            ),
            unique=(("movement_id",),),
        ),
        FileSpec(
            "custody",
            (
                _c("wallet_id", "id"),
                _c("custodian", "id"),
                _c("asset", "id"),
                _c("balance", "decimal"),
                _c("designation", "enum", choices=ACCOUNT_TYPES),
                _c(
                    "wallet_type",
                    "enum",
                    required=False,
                    nullable=True,
                    choices=("cold", "warm", "hot", "bank", "exchange"),
                    default="'cold'",
                ),
                _c(
                    "custodian_type",
                    "enum",
                    required=False,
                    nullable=True,
                    choices=("self", "credit_institution", "investment_firm", "other"),
                    default="'self'",
                ),
            ),
            unique=(("wallet_id", "asset"),),
        ),
        FileSpec(
            "capital",
            (
                _c("item", "enum", choices=CAPITAL_ITEMS),
                _c("amount", "decimal"),
            ),
            unique=(("item",),),
        ),
        FileSpec(
            "volumes",
            (
                _c("instrument_id", "id"),
                _c("account_type", "enum", choices=ACCOUNT_TYPES),
                _c("traded_notional", "decimal", non_negative=True),
            ),
            required=False,
            unique=(("instrument_id", "account_type"),),
        ),
        FileSpec(
            "price_history",
            (
                _c("date", "date"),
                _c("asset", "id"),
                _c("price", "decimal", positive=True),
            ),
            required=False,
            unique=(("date", "asset"),),
        ),
    )
}

SNAPSHOT_FILES = tuple(FILES)
FILE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
