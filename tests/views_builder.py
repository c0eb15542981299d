"""Tiny hand-made tables for the view tests: rows inserted straight into a fresh database.

No loader involved: each helper inserts rows with SQL parameters (amounts as decimal strings, so
nothing passes through a float). Test data is a handful of rows, so plain Python is fine here.
Also an independent Decimal re-implementation of DESIGN.md section 4, used to cross-check the views.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import duckdb

from reports import derive
from reports.db import connect, init_db

AS_OF = "2026-03-03"

Num = Decimal | str | int


def _d(value: Num | None) -> str | None:
    return None if value is None else str(value)


@contextmanager
def fresh_db(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    init_db(path)
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


@dataclass
class Venue:
    """Writes one date's rows; `on(date)` switches the date for the following inserts."""

    con: duckdb.DuckDBPyConnection
    as_of: str = AS_OF
    _accounts: set[tuple[str, str]] = field(default_factory=set)

    def on(self, as_of: str) -> Venue:
        return Venue(self.con, as_of, self._accounts)

    def account(
        self, account_id: str, account_type: str = "client", group_id: str | None = None
    ) -> None:
        self.con.execute(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, 'retail', NULL, 'active')",
            [self.as_of, account_id, account_type, group_id or account_id],
        )
        self._accounts.add((self.as_of, account_id))

    def instrument(
        self,
        instrument_id: str,
        kind: str,
        underlying: str,
        quote: str,
        settle: str,
        contract_size: Num,
    ) -> None:
        self.con.execute(
            "INSERT INTO instruments VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            [self.as_of, instrument_id, kind, underlying, quote, settle, _d(contract_size)],
        )

    def linear(
        self,
        instrument_id: str,
        underlying: str = "BTC",
        quote: str = "USDT",
        contract_size: Num = 1,
    ) -> None:
        self.instrument(instrument_id, "linear_perpetual", underlying, quote, quote, contract_size)

    def inverse(
        self,
        instrument_id: str,
        underlying: str = "BTC",
        quote: str = "USD",
        contract_size: Num = 1,
    ) -> None:
        self.instrument(
            instrument_id, "inverse_perpetual", underlying, quote, underlying, contract_size
        )

    def tiers(self, instrument_id: str, table: Sequence[tuple[Num, Num]]) -> list[Tier]:
        """(floor, mmr) rows in order; caps from the next floor, cums by the recursion."""
        built = tier_table(table)
        self.con.executemany(
            "INSERT INTO risk_tiers VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                [self.as_of, instrument_id, t.tier, _d(t.floor), _d(t.cap), _d(t.mmr), _d(t.cum)]
                for t in built
            ],
        )
        return built

    def tier_rows(self, instrument_id: str, rows: Sequence[Tier]) -> None:
        self.con.executemany(
            "INSERT INTO risk_tiers VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                [self.as_of, instrument_id, t.tier, _d(t.floor), _d(t.cap), _d(t.mmr), _d(t.cum)]
                for t in rows
            ],
        )

    def price(self, kind: str, symbol: str, price: Num) -> None:
        self.con.execute(
            "INSERT INTO prices VALUES (?, ?, ?, ?)", [self.as_of, kind, symbol, _d(price)]
        )

    def mark(self, instrument_id: str, price: Num) -> None:
        self.price("instrument", instrument_id, price)

    def asset(self, asset: str, price: Num) -> None:
        self.price("asset", asset, price)

    def balance(self, account_id: str, asset: str, balance: Num) -> None:
        self.con.execute(
            "INSERT INTO balances VALUES (?, ?, ?, ?)", [self.as_of, account_id, asset, _d(balance)]
        )

    def position(
        self,
        position_id: str,
        instrument_id: str,
        quantity: Num,
        entry: Num,
        *,
        isolated_margin: Num | None = None,
        account_id: str = "A1",
        margin_mode: str | None = None,
    ) -> None:
        if (self.as_of, account_id) not in self._accounts:
            self.account(account_id)
        mode = margin_mode or ("cross" if isolated_margin is None else "isolated")
        self.con.execute(
            "INSERT INTO positions VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            [
                self.as_of,
                position_id,
                account_id,
                instrument_id,
                mode,
                _d(quantity),
                _d(entry),
                _d(isolated_margin),
            ],
        )


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    """The rows of a query, as dicts; the derived tables are brought up to date first (the rows
    here are inserted straight into the snapshot tables, not through the loader)."""
    derive.refresh(con)
    cur = con.execute(sql, params or [])
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def position_row(
    con: duckdb.DuckDBPyConnection, position_id: str, as_of: str = AS_OF
) -> dict[str, Any]:
    found = rows(
        con,
        "SELECT * FROM v_positions WHERE position_id = ? AND as_of_date = ?",
        [position_id, as_of],
    )
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------------------------------------
# Independent Decimal model of DESIGN.md section 4 (no SQL, 60 significant digits)


@dataclass(frozen=True)
class Tier:
    tier: int
    floor: Decimal
    cap: Decimal | None
    mmr: Decimal
    cum: Decimal

    def holds(self, notional: Decimal) -> bool:
        return self.floor <= notional and (self.cap is None or notional < self.cap)


def tier_table(table: Sequence[tuple[Num, Num]]) -> list[Tier]:
    floors = [Decimal(str(f)) for f, _ in table]
    rates = [Decimal(str(m)) for _, m in table]
    out: list[Tier] = []
    cum = Decimal(0)
    for n, (floor, mmr) in enumerate(zip(floors, rates, strict=True)):
        if n:
            cum = floor * (mmr - rates[n - 1]) + cum
        cap = floors[n + 1] if n + 1 < len(floors) else None
        out.append(Tier(n + 1, floor, cap, mmr, cum))
    return out


@dataclass(frozen=True)
class Model:
    """One position, valued with Python Decimal."""

    inverse: bool
    quantity: Decimal
    contract_size: Decimal
    entry: Decimal
    isolated_margin: Decimal | None = None

    @property
    def q(self) -> Decimal:
        return abs(self.quantity) * self.contract_size

    @property
    def s(self) -> int:
        return 1 if self.quantity > 0 else -1

    def notional(self, price: Decimal) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 60
            return self.q / price if self.inverse else self.q * price

    def upnl(self, price: Decimal) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 60
            if self.inverse:
                return self.s * self.q * (1 / self.entry - 1 / price)
            return self.s * self.q * (price - self.entry)

    def equity(self, price: Decimal) -> Decimal:
        assert self.isolated_margin is not None
        return self.isolated_margin + self.upnl(price)

    @staticmethod
    def tier_of(tiers: Sequence[Tier], notional: Decimal) -> Tier | None:
        return next((t for t in tiers if t.holds(notional)), None)

    def maintenance(self, tiers: Sequence[Tier], price: Decimal) -> Decimal:
        n = self.notional(price)
        t = self.tier_of(tiers, n)
        assert t is not None
        with localcontext() as ctx:
            ctx.prec = 60
            return n * t.mmr - t.cum

    def solve(self, mmr: Decimal, cum: Decimal) -> Decimal | None:
        wb = self.isolated_margin
        assert wb is not None
        q, s, e = self.q, self.s, self.entry
        with localcontext() as ctx:
            ctx.prec = 60
            if self.inverse:
                den = wb + cum + s * q / e
                return None if den == 0 else q * (mmr + s) / den
            den = q * mmr - s * q
            return None if den == 0 else (wb + cum - s * q * e) / den

    def liquidation_price(self, tiers: Sequence[Tier]) -> Decimal | None:
        found = []
        for t in tiers:
            lp = self.solve(t.mmr, t.cum)
            if lp is not None and lp > 0 and t.holds(self.notional(lp)):
                found.append(lp)
        if not found:
            return None
        return max(found) if self.s > 0 else min(found)

    def bankruptcy_price(self) -> Decimal | None:
        bp = self.solve(Decimal(0), Decimal(0))
        return bp if bp is not None and bp > 0 else None
