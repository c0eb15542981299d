"""v_positions against the published worked examples of /work/shared/reference/README.md.

Each test names its source. Where a venue's convention differs from DESIGN.md section 4 (Bybit
takes maintenance margin on the entry value), the test checks our convention.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import pytest
from reference_data import BTCUSDT_CUMS
from reference_data import BTCUSDT_TIERS as BTCUSDT
from views_builder import Tier, Venue, fresh_db, position_row, tier_table

from reports import derive


def q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with fresh_db(tmp_path / "views.duckdb") as c:
        yield c


@pytest.fixture
def venue(con: duckdb.DuckDBPyConnection) -> Venue:
    return Venue(con)


def test_freqtrade_binance_isolated_liquidation_price_long_and_short(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    # freqtrade's Binance test: entry 10, 1 contract, isolated wallet 2, MMR 1%, cum 0.01.
    venue.linear("X")
    venue.tier_rows("X", [Tier(1, Decimal(0), None, Decimal("0.01"), Decimal("0.01"))])
    venue.mark("X", "10")
    venue.position("LONG", "X", "1", "10", isolated_margin="2")
    venue.position("SHORT", "X", "-1", "10", isolated_margin="2")
    long_, short = position_row(con, "LONG"), position_row(con, "SHORT")
    assert q(long_["liquidation_price"], 6) == Decimal("8.070707")
    assert q(short["liquidation_price"], 6) == Decimal("11.891089")
    # full precision: 7.99 / 0.99 and 12.01 / 1.01, to 18 decimals
    assert long_["liquidation_price"] == Decimal("8.070707070707070707")
    assert short["liquidation_price"] == Decimal("11.891089108910891089")
    # the README's check: at the long LP, equity = MM = 0.070707...
    lp = long_["liquidation_price"]
    assert abs((2 + (lp - 10)) - (lp * Decimal("0.01") - Decimal("0.01"))) < Decimal("1e-15")


def test_bybit_inputs_under_our_convention(con: duckdb.DuckDBPyConnection, venue: Venue) -> None:
    # Bybit: 1 BTC at 20,000, 50x (isolated margin 400), MMR 0.5%. Bybit publishes 19,700 (MM on
    # the entry value); with MM on the liquidation price: (400 - 20,000) / (0.005 - 1).
    venue.linear("BTCUSDT")
    venue.tiers("BTCUSDT", [("0", "0.005")])
    venue.mark("BTCUSDT", "20000")
    venue.position("P", "BTCUSDT", "1", "20000", isolated_margin="400")
    row = position_row(con, "P")
    assert q(row["liquidation_price"], 2) == Decimal("19698.49")
    assert row["bankruptcy_price"] == Decimal("19600")


def test_inverse_upnl_binance_coin_m(con: duckdb.DuckDBPyConnection, venue: Venue) -> None:
    # Long 10,000 USD of contracts, entry 8,000, mark 9,000: 10,000 x (1/8,000 - 1/9,000) BTC.
    venue.inverse("BTCUSD", contract_size="100")
    venue.tiers("BTCUSD", [("0", "0.005")])
    venue.mark("BTCUSD", "9000")
    venue.asset("BTC", "9000")
    venue.position("P", "BTCUSD", "100", "8000")
    row = position_row(con, "P")
    assert row["base_quantity"] == Decimal("10000")
    assert q(row["unrealized_pnl"], 8) == Decimal("0.13888889")
    assert abs(
        row["unrealized_pnl"] - Decimal(10000) * (1 / Decimal(8000) - 1 / Decimal(9000))
    ) <= Decimal("2e-18")
    assert q(row["notional"], 8) == Decimal("1.11111111")
    assert row["settle_asset"] == "BTC"
    assert q(row["unrealized_pnl_usd"], 2) == Decimal("1250.00")


def test_btcusdt_tier_cums_by_recursion() -> None:
    assert [t.cum for t in tier_table(BTCUSDT)] == [Decimal(c) for c in BTCUSDT_CUMS]


def test_binance_coin_m_level_5_cum() -> None:
    """Binance COIN-M FAQ: level 5 = 50 BTC x (5% - 2.5%) + 0.56 = 1.81 BTC, computed by the
    loader's recursion (queries/load/maintenance_amount.sql) from level 4's given 0.56. (Until
    a test-strength review of 2026-12-06 this test did the arithmetic on literals alone and
    could not fail.)"""
    from reports.db import init_schema
    from reports.paths import read_query

    con = duckdb.connect()
    init_schema(con)
    con.execute(
        "CREATE TEMP TABLE staged_risk_tiers AS SELECT * FROM (VALUES "
        "(1, 'BTCUSD', 4, 20.0, 50.0, 0.025, 0.56, NULL), "
        "(2, 'BTCUSD', 5, 50.0, 100.0, 0.05, NULL, NULL)) AS t(_row, instrument_id, tier, "
        "notional_floor, notional_cap, maintenance_margin_rate, maintenance_amount, max_leverage)"
    )
    con.execute(
        "CREATE TEMP TABLE typed AS SELECT _row, instrument_id, tier, "
        "notional_floor::DECIMAL(38,18) AS notional_floor, "
        "notional_cap::DECIMAL(38,18) AS notional_cap, "
        "maintenance_margin_rate::DECIMAL(38,18) AS maintenance_margin_rate, "
        "maintenance_amount::DECIMAL(38,18) AS maintenance_amount, max_leverage "
        "FROM staged_risk_tiers"
    )
    con.execute("DROP TABLE staged_risk_tiers")
    con.execute("ALTER TABLE typed RENAME TO staged_risk_tiers")
    amounts = con.execute(
        f"SELECT tier, maintenance_amount FROM ({read_query('load/maintenance_amount.sql')}) "
        "ORDER BY tier"
    ).fetchall()
    assert amounts == [(4, Decimal("0.56")), (5, Decimal("1.81"))]


@pytest.mark.parametrize("at_floor", [False, True])
def test_btcusdt_tier_choice_per_notional(
    con: duckdb.DuckDBPyConnection, venue: Venue, at_floor: bool
) -> None:
    # One position per tier (mark 1, contract size 1: notional = quantity). Inside the tier, or
    # exactly at its floor (which picks that, the upper, tier).
    venue.linear("BTCUSDT")
    venue.tier_rows(
        "BTCUSDT",
        [
            Tier(t.tier, t.floor, t.cap, t.mmr, Decimal(c))  # the published cums, as shipped
            for t, c in zip(tier_table(BTCUSDT), BTCUSDT_CUMS, strict=True)
        ],
    )
    venue.mark("BTCUSDT", "1")
    floors = [Decimal(f) for f, _ in BTCUSDT]
    for n, floor in enumerate(floors):
        if at_floor:
            quantity = floor or Decimal(1)  # a zero quantity is not a position
        elif n + 1 < len(floors):
            quantity = (floor + floors[n + 1]) / 2
        else:
            quantity = floor * 2
        venue.position(f"T{n + 1}", "BTCUSDT", quantity, "1")
    derive.refresh(con)
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT position_id, tier, maintenance_amount, maintenance_margin_rate, notional, "
            "maintenance_margin FROM v_positions"
        ).fetchall()
    }
    for n, (cum, (_, mmr)) in enumerate(zip(BTCUSDT_CUMS, BTCUSDT, strict=True)):
        tier, amount, rate, notional, mm = got[f"T{n + 1}"]
        assert tier == n + 1
        assert amount == Decimal(cum)
        assert rate == Decimal(mmr)
        assert mm == notional * Decimal(mmr) - Decimal(cum)


def test_notional_just_below_a_floor_keeps_the_lower_tier(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    venue.linear("BTCUSDT")
    venue.tiers("BTCUSDT", BTCUSDT)
    venue.mark("BTCUSDT", "1")
    venue.position("BELOW", "BTCUSDT", "49999.999999999999999999", "1")
    venue.position("AT", "BTCUSDT", "50000", "1")
    assert position_row(con, "BELOW")["tier"] == 1
    assert position_row(con, "AT")["tier"] == 2
