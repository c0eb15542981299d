"""The calculation views (queries/views/): v_asset_prices, v_positions, v_account_equity.

Tiny tables inserted straight into a fresh database; exact Decimal expectations. The defining
identities of DESIGN.md section 4 are checked with an independent Decimal model
(tests/views_builder.py): MM(LP) = isolated equity at LP, equity at BP = 0.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from reference_data import BTCUSDT_TIERS as BTCUSDT
from views_builder import Model, Tier, Venue, fresh_db, position_row, rows, tier_table

from reports import derive
from reports.db import connect

# A COIN-M-like inverse table, floors in BTC.
BTCUSD = [("0", "0.005"), ("5", "0.01"), ("10", "0.025"), ("20", "0.05"), ("50", "0.10")]

IDENTITY = Decimal("1e-10")


@pytest.fixture(scope="module")
def _new_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """views_builder.fresh_db's new database (schema, no rows), made once for the module;
    closed, so its file may be copied."""
    path = tmp_path_factory.mktemp("views") / "new.duckdb"
    with fresh_db(path):
        pass
    assert not path.with_name(path.name + ".wal").exists()
    return path


@pytest.fixture
def con(tmp_path: Path, _new_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A new database of the test's own: a copy of the module's (creating the schema took
    0.3-1 s a test)."""
    path = tmp_path / "views.duckdb"
    shutil.copyfile(_new_db, path)
    c = connect(path)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def venue(con: duckdb.DuckDBPyConnection) -> Venue:
    v = Venue(con)
    v.linear("BTCUSDT")
    v.inverse("BTCUSD", contract_size="100")
    v.asset("USDT", "0.9998")
    v.asset("BTC", "50000")
    return v


# --- re-tiering: the LP lies in another tier than the current notional ---------------------

# (id, instrument, quantity, entry = mark, isolated margin, tier now, tier at LP)
RETIER_CASES = [
    # linear long: 25 BTC at 40,000 = 1.0M notional (tier 4); at the LP (~28,230) 706k: tier 3
    ("linear_long", "BTCUSDT", "25", "40000", "300000", 4, 3),
    # linear short: 25 BTC at 36,000 = 900k (tier 3); at the LP (~47,465) 1.19M: tier 4
    ("linear_short", "BTCUSDT", "-25", "36000", "300000", 3, 4),
    # inverse long: 1M USD at 125,000 = 8 BTC (tier 2); at the LP (~96,019) 10.4 BTC: tier 3
    ("inverse_long", "BTCUSD", "10000", "125000", "2.5", 2, 3),
    # inverse short: 1M USD at 80,000 = 12.5 BTC (tier 3); at the LP (~104,486) 9.57 BTC: tier 2
    ("inverse_short", "BTCUSD", "-10000", "80000", "3", 3, 2),
]


@pytest.mark.parametrize(
    ("pid", "instrument", "qty", "entry", "margin", "tier_now", "tier_lp"),
    RETIER_CASES,
    ids=[c[0] for c in RETIER_CASES],
)
def test_liquidation_price_solves_in_the_tier_its_own_notional_selects(
    con: duckdb.DuckDBPyConnection,
    venue: Venue,
    pid: str,
    instrument: str,
    qty: str,
    entry: str,
    margin: str,
    tier_now: int,
    tier_lp: int,
) -> None:
    tables = {"BTCUSDT": venue.tiers("BTCUSDT", BTCUSDT), "BTCUSD": venue.tiers("BTCUSD", BTCUSD)}
    venue.mark(instrument, entry)
    venue.position(pid, instrument, qty, entry, isolated_margin=margin)
    row = position_row(con, pid)
    tiers = tables[instrument]
    model = Model(
        row["is_inverse"], Decimal(qty), row["contract_size"], Decimal(entry), Decimal(margin)
    )

    assert row["tier"] == tier_now
    lp = row["liquidation_price"]
    assert lp is not None
    lp_tier = Model.tier_of(tiers, model.notional(lp))
    assert lp_tier is not None and lp_tier.tier == tier_lp
    # the defining identity: maintenance margin = isolated equity at the liquidation price
    assert abs(model.maintenance(tiers, lp) - model.equity(lp)) < IDENTITY
    # and it is the solution of the LP's tier, not of the current one
    naive = model.solve(tiers[tier_now - 1].mmr, tiers[tier_now - 1].cum)
    assert naive is not None and abs(naive - lp) > 1
    expected = model.liquidation_price(tiers)
    assert expected is not None and abs(expected - lp) < IDENTITY
    # equity is above MM at the mark (not yet liquidatable): the LP is against the position
    assert (lp < Decimal(entry)) == (Decimal(qty) > 0)


@pytest.mark.parametrize(
    ("pid", "instrument", "qty", "entry", "margin"),
    [c[:5] for c in RETIER_CASES],
    ids=[c[0] for c in RETIER_CASES],
)
def test_equity_at_bankruptcy_price_is_zero(
    con: duckdb.DuckDBPyConnection,
    venue: Venue,
    pid: str,
    instrument: str,
    qty: str,
    entry: str,
    margin: str,
) -> None:
    venue.tiers(instrument, BTCUSDT if instrument == "BTCUSDT" else BTCUSD)
    venue.mark(instrument, entry)
    venue.position(pid, instrument, qty, entry, isolated_margin=margin)
    row = position_row(con, pid)
    model = Model(
        row["is_inverse"], Decimal(qty), row["contract_size"], Decimal(entry), Decimal(margin)
    )
    bp = row["bankruptcy_price"]
    assert bp is not None
    assert abs(model.equity(bp)) < IDENTITY
    # bankruptcy lies beyond liquidation as the price moves against the position
    assert (bp < row["liquidation_price"]) == (Decimal(qty) > 0)


def test_liquidation_exactly_on_a_tier_boundary(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    # Long 1 at 110 with margin 11; tiers 0 / 1% and 100 / 2% (cum 1). Both tiers' equations give
    # 100, whose notional 100 sits exactly on the floor: the boundary must not lose the solution.
    venue.linear("EDGE")
    venue.tiers("EDGE", [("0", "0.01"), ("100", "0.02")])
    venue.mark("EDGE", "110")
    venue.position("P", "EDGE", "1", "110", isolated_margin="11")
    assert position_row(con, "P")["liquidation_price"] == Decimal(100)


def test_over_margined_long_is_never_liquidated_and_cross_has_no_prices(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    venue.tiers("BTCUSDT", BTCUSDT)
    venue.tiers("BTCUSD", BTCUSD)
    venue.mark("BTCUSDT", "50000")
    venue.mark("BTCUSD", "50000")
    # a long whose margin exceeds its entry value cannot lose it: no LP, no BP
    venue.position("SAFE", "BTCUSDT", "1", "50000", isolated_margin="60000")
    # an inverse short holding more coin than Q / E is never bankrupt (price -> infinity)
    venue.position("SAFE_INV", "BTCUSD", "-10", "50000", isolated_margin="1")
    venue.position("CROSS", "BTCUSDT", "1", "50000")
    safe, safe_inv, cross = (position_row(con, p) for p in ("SAFE", "SAFE_INV", "CROSS"))
    assert safe["liquidation_price"] is None and safe["bankruptcy_price"] is None
    assert safe_inv["bankruptcy_price"] is None and safe_inv["liquidation_price"] is None
    assert safe["isolated_equity"] == Decimal(60000)
    assert cross["liquidation_price"] is None and cross["bankruptcy_price"] is None
    assert cross["isolated_equity"] is None
    assert cross["maintenance_margin"] == Decimal(50000) * Decimal("0.005") - 50


def test_notional_above_a_finite_last_cap_stays_in_the_last_tier(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """The reference's tier lookup (the last tier whose floor <= notional): a position beyond
    the venue's last cap keeps the last tier's margin, it does not lose its margin."""
    venue.linear("CAPPED")
    venue.tier_rows(
        "CAPPED",
        [
            Tier(1, Decimal(0), Decimal(100), Decimal("0.01"), Decimal(0)),
            Tier(2, Decimal(100), Decimal(200), Decimal("0.02"), Decimal(1)),
        ],
    )
    venue.mark("CAPPED", "1")
    # another instrument's tiers reach higher: the last tier is each instrument's own
    # (mutation review of 2026-12-07: the day's largest floor of any instrument passed)
    venue.linear("WIDE")
    venue.tiers("WIDE", [("0", "0.01"), ("1000000", "0.05")])
    venue.position("IN", "CAPPED", "199", "1")
    venue.position("AT", "CAPPED", "200", "1")
    venue.position("OUT", "CAPPED", "5000", "1.1", isolated_margin="50")
    assert position_row(con, "IN")["tier"] == 2
    for position_id, notional in (("AT", 200), ("OUT", 5000)):
        row = position_row(con, position_id)
        assert row["tier"] == 2, position_id
        assert row["maintenance_margin"] == Decimal(notional) * Decimal("0.02") - 1
    # its liquidation price is solved in the last tier too: LP = (WB + cum - Q x E) / (Q x mmr - Q)
    out = position_row(con, "OUT")
    expected = (Decimal(50) + 1 - 5000 * Decimal("1.1")) / (5000 * Decimal("0.02") - 5000)
    assert abs(out["liquidation_price"] - expected) < Decimal("1e-17")


def test_tier_of_a_notional_at_below_and_beyond_the_floors(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    # Tiers [0, 100), [100, 1000), [1000, unbounded): a notional exactly at a floor takes the
    # upper tier, one just below it the lower; the unbounded last tier takes any size.
    venue.linear("STEPS")
    venue.tiers("STEPS", [("0", "0.01"), ("100", "0.02"), ("1000", "0.05")])
    venue.mark("STEPS", "1")
    cases = {
        "T1": ("99.999999999999999999", 1),
        "T2_AT_FLOOR": ("100", 2),
        "T2": ("999.999999999999999999", 2),
        "T3_AT_FLOOR": ("1000", 3),
        "T3_HUGE": ("10000000000", 3),
    }
    for pid, (qty, _) in cases.items():
        venue.position(pid, "STEPS", qty, "1")
    for pid, (_, tier) in cases.items():
        assert position_row(con, pid)["tier"] == tier, pid
    # cum from the recursion: tier 2 = 100 x (0.02 - 0.01) = 1; MM at 100 = 100 x 0.02 - 1 = 1
    assert position_row(con, "T2_AT_FLOOR")["maintenance_margin"] == Decimal(1)


def test_position_columns_linear(con: duckdb.DuckDBPyConnection, venue: Venue) -> None:
    venue.linear("ETHUSDT", underlying="ETH", contract_size="0.01")
    venue.tiers("ETHUSDT", [("0", "0.01")])
    venue.mark("ETHUSDT", "2500")
    venue.position("P", "ETHUSDT", "-300", "2600", isolated_margin="750")
    row = position_row(con, "P")
    assert row["side"] == -1 and row["base_quantity"] == Decimal(3)
    assert row["notional"] == Decimal(7500)
    assert row["unrealized_pnl"] == Decimal(300)  # short 3 ETH, 2,600 -> 2,500
    assert row["settle_asset"] == "USDT" and row["settle_price"] == Decimal("0.9998")
    assert row["notional_usd"] == Decimal("7498.5")
    assert row["unrealized_pnl_usd"] == Decimal("299.94")
    assert row["maintenance_margin"] == Decimal(75)
    assert row["isolated_equity"] == Decimal(1050)
    assert row["account_type"] == "client" and row["group_id"] == "A1"
    assert row["mark_price"] == Decimal(2500) and row["is_inverse"] is False


# --- v_asset_prices ----------------------------------------------------------------------------


def test_asset_prices_add_usd_once_per_date(con: duckdb.DuckDBPyConnection) -> None:
    v = Venue(con)
    v.asset("BTC", "50000")
    v.on("2026-03-04").asset("USD", "1")  # shipped: not duplicated
    v.on("2026-03-04").asset("USDT", "1.0002")
    derive.refresh(con)
    got = con.execute(
        "SELECT as_of_date::VARCHAR, asset, price FROM v_asset_prices ORDER BY 1, 2"
    ).fetchall()
    assert got == [
        ("2026-03-03", "BTC", Decimal(50000)),
        ("2026-03-03", "USD", Decimal(1)),
        ("2026-03-04", "USD", Decimal(1)),
        ("2026-03-04", "USDT", Decimal("1.0002")),
    ]


# --- v_account_equity --------------------------------------------------------------------------


def test_account_equity_floors_isolated_losses_and_keeps_deficits(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    venue.tiers("BTCUSDT", BTCUSDT)
    venue.tiers("BTCUSD", BTCUSD)
    venue.mark("BTCUSDT", "40000")
    venue.mark("BTCUSD", "40000")
    venue.account("A1")
    venue.balance("A1", "USDT", "-1000")  # a debit: kept, not floored
    venue.balance("A1", "ETH", "2")  # held, no position, unpriced
    # isolated long 1 BTC from 50,000 with 2,000 margin: equity -8,000 -> bad debt 8,000
    venue.position("DEEP", "BTCUSDT", "1", "50000", isolated_margin="2000")
    # isolated short 1 BTC from 50,000 with 1,000 margin: equity 11,000
    venue.position("WIN", "BTCUSDT", "-1", "50000", isolated_margin="1000")
    # cross long 0.5 BTC from 38,000: uPnL +1,000
    venue.position("CROSS", "BTCUSDT", "0.5", "38000")
    # cross inverse short 40,000 USD from 50,000 at 40,000: uPnL +0.2 BTC (no BTC balance row)
    venue.position("INV", "BTCUSD", "-400", "50000")
    got = {
        r["asset"]: r for r in rows(con, "SELECT * FROM v_account_equity WHERE account_id = 'A1'")
    }
    assert set(got) == {"USDT", "ETH", "BTC"}
    usdt = got["USDT"]
    assert usdt["balance"] == Decimal(-1000)
    assert usdt["cross_upnl"] == Decimal(1000)
    assert usdt["isolated_equity"] == Decimal(11000)
    assert usdt["isolated_bad_debt"] == Decimal(8000)
    assert usdt["equity"] == Decimal(11000)
    assert usdt["price"] == Decimal("0.9998") and usdt["equity_usd"] == Decimal("10997.8")
    btc = got["BTC"]
    assert btc["balance"] == 0 and btc["cross_upnl"] == Decimal("0.2")
    assert btc["equity"] == Decimal("0.2") and btc["equity_usd"] == Decimal(10000)
    assert btc["isolated_bad_debt"] == 0
    eth = got["ETH"]
    assert eth["equity"] == Decimal(2) and eth["price"] is None and eth["equity_usd"] is None
    assert usdt["account_type"] == "client" and usdt["group_id"] == "A1"


def test_account_equity_joins_balances_as_loaded_and_aggregates_only_positions(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """The loader keeps (account_id, asset) unique per date, so the equity view joins balances
    without grouping them (a GROUP BY that only restated the key took 0.1-0.25 s of a
    1M-account load); the positions are what it sums. Read from DuckDB's plan: no aggregate
    has a scan of balances beneath it, one has the scan of position_values."""
    explained = con.execute("EXPLAIN (FORMAT json) SELECT * FROM v_account_equity_computed")
    plan = json.loads(explained.fetchall()[0][1])

    def scans(node: dict) -> list[str]:
        own = [str(node.get("extra_info", {}).get("Table", "")).rsplit(".", 1)[-1]]
        return own + [t for child in node.get("children", []) for t in scans(child)]

    def aggregated(node: dict) -> list[str]:
        below = [t for child in node.get("children", []) for t in aggregated(child)]
        if "GROUP_BY" in str(node.get("name", "")):
            below += scans(node)
        return below

    tables = [t for root in plan for t in aggregated(root)]
    assert "position_values" in tables
    assert "balances" not in tables


def test_stored_equity_usd_is_the_exact_product_rounded_half_even(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """equity_usd is stored from reports.derive.exact_product (Polars), not from the view's
    dmul: the exact product rounded half-even to 18 decimals (dmul rounds half-up: a tie of
    5e-19 would be 1e-18 there)."""
    venue.asset("HALF", "0.5")
    for account, balance in (("TIE_DOWN", "0.000000000000000001"), ("TIE_UP", "0.000000000000000003"),
                             ("NEG", "-0.000000000000000001"), ("BIG", "123456789.123456789123456789")):  # fmt: skip
        venue.account(account)
        venue.balance(account, "HALF", balance)
    got = {
        r["account_id"]: r["equity_usd"]
        for r in rows(
            con, "SELECT account_id, equity_usd FROM v_account_equity WHERE asset = 'HALF'"
        )
    }
    assert got == {
        "TIE_DOWN": Decimal(0),  # 5e-19: to the even 0
        "TIE_UP": Decimal("0.000000000000000002"),  # 1.5e-18: to the even 2e-18
        "NEG": Decimal(0),
        "BIG": Decimal("61728394.561728394561728394")
        + Decimal("0.5e-18").quantize(Decimal("1e-18")),
    }
    # the view still computes its own figure (dmul, half-up) and agrees within 1e-18
    computed = dict(
        con.execute(
            "SELECT account_id, equity_usd FROM v_account_equity_computed WHERE asset = 'HALF'"
        ).fetchall()
    )
    assert computed["TIE_DOWN"] == Decimal("0.000000000000000001")
    assert all(abs(computed[k] - got[k]) <= Decimal("1e-18") for k in got)


def test_an_equity_usd_beyond_decimal_range_is_an_overflow_as_before(
    con: duckdb.DuckDBPyConnection, venue: Venue, tmp_path: Path
) -> None:
    """A product from 1e20 raises DuckDB's OutOfRangeException, as dmul did, so the loader's
    overflow handling sees the same error. Inside a transaction (as the loader refreshes) the
    product's function cannot be removed once the statement failed; refreshing afterwards
    still works, on this connection and on another one to the same database (a fixed name
    left registered made both fail: "already created", "already exists")."""
    venue.asset("DEAR", "1000000000")
    venue.account("A1")
    venue.balance("A1", "DEAR", "1000000000000")  # 1e12 x 1e9 = 1e21
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.OutOfRangeException, match=r"account_equity_values\.equity_usd"):
        derive.refresh(con)
    con.execute("ROLLBACK")
    con.execute("UPDATE balances SET balance = 1 WHERE account_id = 'A1'")
    derive.refresh(con)
    query = "SELECT equity_usd FROM v_account_equity WHERE account_id = 'A1'"
    assert con.execute(query).fetchall() == [(Decimal(1000000000),)]
    other = connect(tmp_path / "views.duckdb")  # mir's settings: the same database instance
    try:
        con.execute("UPDATE balances SET balance = 2 WHERE account_id = 'A1'")
        derive.refresh(other)
        assert other.execute(query).fetchall() == [(Decimal(2000000000),)]
    finally:
        other.close()


def test_history_dates_never_mix(con: duckdb.DuckDBPyConnection, venue: Venue) -> None:
    day2 = venue.on("2026-03-04")
    day2.linear("BTCUSDT")
    day2.asset("USDT", "1")
    for v, mark in ((venue, "40000"), (day2, "45000")):
        v.tiers("BTCUSDT", BTCUSDT)
        v.mark("BTCUSDT", mark)
        v.account("A1", group_id="G")
        v.balance("A1", "USDT", "100")
        v.position("P", "BTCUSDT", "1", "42000")
    derive.refresh(con)
    got = con.execute(
        "SELECT as_of_date::VARCHAR, unrealized_pnl, settle_price, group_id FROM v_positions ORDER BY 1"
    ).fetchall()
    assert got == [
        ("2026-03-03", Decimal(-2000), Decimal("0.9998"), "G"),
        ("2026-03-04", Decimal(3000), Decimal(1), "G"),
    ]
    derive.refresh(con)
    equity = con.execute(
        "SELECT as_of_date::VARCHAR, equity FROM v_account_equity ORDER BY 1"
    ).fetchall()
    assert equity == [("2026-03-03", Decimal(-1900)), ("2026-03-04", Decimal(3100))]


def test_each_date_uses_its_own_tier_table(con: duckdb.DuckDBPyConnection, venue: Venue) -> None:
    # The same instrument and notional (40,000) on two dates whose tier tables differ: one tier
    # at 1% on the first; 2% up to 10,000 and 5% beyond on the second (cum 10,000 x 3% = 300).
    day2 = venue.on("2026-03-04")
    day2.linear("BTCUSDT")
    day2.asset("USDT", "1")
    venue.tiers("BTCUSDT", [("0", "0.01")])
    day2.tiers("BTCUSDT", [("0", "0.02"), ("10000", "0.05")])
    for v in (venue, day2):
        v.mark("BTCUSDT", "40000")
        v.account("A1", group_id="G")
        v.position("P", "BTCUSDT", "1", "40000")
    derive.refresh(con)
    got = con.execute(
        "SELECT as_of_date::VARCHAR, tier, maintenance_margin FROM v_positions ORDER BY 1"
    ).fetchall()
    assert got == [("2026-03-03", 1, Decimal(400)), ("2026-03-04", 2, Decimal(1700))]


# --- cross-check against the independent Decimal model -----------------------------------------


def test_random_positions_match_the_decimal_model(con: duckdb.DuckDBPyConnection) -> None:
    rng = random.Random(20260303)
    v = Venue(con)
    v.asset("USDT", "0.99971")
    v.asset("BTC", "61234.5")
    instruments = {
        "L1": (False, Decimal("0.001"), "BTC", "USDT", BTCUSDT),
        "L2": (
            False,
            Decimal(1),
            "XRP",
            "USDT",
            [("0", "0.01"), ("10000", "0.02"), ("100000", "0.05")],
        ),
        "I1": (True, Decimal(100), "BTC", "USD", BTCUSD),
        "I2": (True, Decimal(10), "BTC", "USD", [("0", "0.02"), ("1", "0.04")]),
    }
    tables: dict[str, list[Tier]] = {}
    marks: dict[str, Decimal] = {}
    for iid, (inverse, size, underlying, quote, table) in instruments.items():
        settle = underlying if inverse else quote
        v.instrument(
            iid,
            "inverse_perpetual" if inverse else "linear_perpetual",
            underlying,
            quote,
            settle,
            size,
        )
        tables[iid] = v.tiers(iid, table)
        marks[iid] = (
            Decimal(rng.randint(5_000, 90_000_000)) / 1000 if iid != "L2" else Decimal("0.5123")
        )
        v.mark(iid, marks[iid])
    models = {}
    con.execute("BEGIN TRANSACTION")  # one commit: a commit per row took most of the test
    for n in range(300):
        iid = rng.choice(sorted(instruments))
        inverse, size = instruments[iid][0], instruments[iid][1]
        quantity = (
            Decimal(rng.randint(1, 10**9)) / Decimal(10 ** rng.randint(0, 6)) * rng.choice((1, -1))
        )
        entry = (marks[iid] * Decimal(rng.randint(500_000, 1_500_000)) / 1_000_000).quantize(
            Decimal("1e-8")
        )
        isolated = rng.random() < 0.6
        notional_guess = abs(quantity) * size * (1 / entry if inverse else entry)
        margin = (
            (notional_guess * Decimal(rng.randint(-5, 150)) / 100).quantize(Decimal("1e-12"))
            if isolated
            else None
        )
        pid = f"P{n:03d}"
        v.position(pid, iid, quantity, entry, isolated_margin=margin, account_id=f"A{n % 17}")
        models[pid] = (iid, Model(inverse, quantity, size, entry, margin))
    con.execute("COMMIT")

    view = {r["position_id"]: r for r in rows(con, "SELECT * FROM v_positions")}
    assert len(view) == 300
    exact = Decimal("1e-15")
    checked_lp = 0
    for pid, (iid, model) in models.items():
        row, mark, tiers = view[pid], marks[iid], tables[iid]
        notional = model.notional(mark)
        tier = Model.tier_of(tiers, notional)
        assert tier is not None
        assert abs(row["notional"] - notional) < exact, pid
        assert abs(row["unrealized_pnl"] - model.upnl(mark)) < exact, pid
        assert row["tier"] == tier.tier, pid
        assert abs(row["maintenance_margin"] - (notional * tier.mmr - tier.cum)) < exact, pid
        settle_price = Decimal("61234.5") if model.inverse else Decimal("0.99971")
        assert abs(row["notional_usd"] - notional * settle_price) < Decimal("1e-12"), pid
        if model.isolated_margin is None:
            assert row["liquidation_price"] is None and row["isolated_equity"] is None
            continue
        assert abs(row["isolated_equity"] - model.equity(mark)) < exact, pid
        expected_lp = model.liquidation_price(tiers)
        if expected_lp is None:
            assert row["liquidation_price"] is None, pid
        else:
            checked_lp += 1
            assert abs(row["liquidation_price"] - expected_lp) <= expected_lp * Decimal("1e-15"), (
                pid
            )
            assert abs(model.maintenance(tiers, expected_lp) - model.equity(expected_lp)) < IDENTITY
        expected_bp = model.bankruptcy_price()
        if expected_bp is None:
            assert row["bankruptcy_price"] is None, pid
        else:
            assert abs(row["bankruptcy_price"] - expected_bp) <= expected_bp * Decimal("1e-15"), pid
    assert checked_lp > 100  # the data exercises the liquidation search, not only NULLs


def test_views_are_created_by_init_schema(con: duckdb.DuckDBPyConnection) -> None:
    names = {
        r[0]
        for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }
    assert {"v_asset_prices", "v_positions", "v_account_equity"} <= names
    columns = [r[0] for r in con.execute("DESCRIBE v_positions").fetchall()]
    assert columns == [
        "as_of_date",
        "position_id",
        "account_id",
        "account_type",
        "group_id",
        "instrument_id",
        "kind",
        "is_inverse",
        "margin_mode",
        "quantity",
        "side",
        "contract_size",
        "base_quantity",
        "entry_price",
        "mark_price",
        "underlying",
        "quote_asset",
        "settle_asset",
        "notional",
        "settle_price",
        "notional_usd",
        "unrealized_pnl",
        "unrealized_pnl_usd",
        "tier",
        "maintenance_margin_rate",
        "maintenance_amount",
        "maintenance_margin",
        "isolated_margin",
        "isolated_equity",
        "liquidation_price",
        "bankruptcy_price",
        "reported_unrealized_pnl",
        "leverage",
    ]
    # DESIGN.md section 6 (Contract): v_positions adds its figures to the positions' columns
    # (investigations review of 2026-12-05: `leverage` was missing)
    position_columns = {r[0] for r in con.execute("DESCRIBE positions").fetchall()}
    assert position_columns <= set(columns)
    equity_columns = [r[0] for r in con.execute("DESCRIBE v_account_equity").fetchall()]
    assert equity_columns == [
        "as_of_date",
        "account_id",
        "account_type",
        "group_id",
        "asset",
        "balance",
        "cross_upnl",
        "isolated_equity",
        "isolated_bad_debt",
        "equity",
        "price",
        "equity_usd",
    ]


def test_prices_beyond_decimal_range_are_null_and_only_such_a_chunk_is_valued_guarded(
    con: duckdb.DuckDBPyConnection, venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The liquidation and bankruptcy quotients are taken plainly (reports.valuation.quotient);
    one from 1e20, which Polars refuses, has the chunk valued again with div_or_null's guard,
    which makes it NULL, as it always was. Ordinary positions never pay for the guard."""
    from reports import valuation

    calls: list[bool] = []
    real = valuation._value_frame

    def recorded(*args: object, guarded: bool) -> object:
        calls.append(guarded)
        return real(*args, guarded=guarded)  # type: ignore[arg-type]

    monkeypatch.setattr(valuation, "_value_frame", recorded)
    venue.mark("BTCUSDT", "40000")
    venue.tiers("BTCUSDT", BTCUSDT)
    venue.position("PLAIN", "BTCUSDT", "1", "50000", isolated_margin="20000")
    derive.refresh(con)
    assert calls == [False]
    plain = position_row(con, "PLAIN")
    assert plain["liquidation_price"] is not None and plain["bankruptcy_price"] == Decimal(30000)
    # 1e12 of margin on 1e-9 BTC: WB / Q = 1e21, beyond DECIMAL(38,18) (bankruptcy E - WB / Q)
    venue.position("TINY", "BTCUSDT", "0.000000001", "50000", isolated_margin="1000000000000")
    calls.clear()
    derive.refresh(con)
    assert calls == [False, True]
    tiny = position_row(con, "TINY")
    assert tiny["liquidation_price"] is None and tiny["bankruptcy_price"] is None
    assert tiny["notional"] == Decimal("0.00004") and tiny["isolated_equity"] is not None
    assert position_row(con, "PLAIN") == plain  # the same figures, valued guarded


def test_dmul_rounds_the_exact_product_and_ddiv_stays_within_its_documented_bound() -> None:
    """The SQL macros (queries/schema/00_macros.sql) against Python Decimal on random operands
    across 37 orders of magnitude: dmul is the exact product rounded half away from zero to 18
    decimals; ddiv is within 1e-18 x (1 + 1/|b|) plus 1e-31 of the quotient (README "Numbers"),
    not exact, which is what the README says of it."""
    from decimal import ROUND_HALF_UP, localcontext

    rng = random.Random(11)
    pairs = []
    with localcontext() as ctx:
        ctx.prec = 90
        while len(pairs) < 3000:
            a = Decimal(rng.randint(1, 10**15)).scaleb(rng.randint(-18, 19) - 15)
            b = Decimal(rng.randint(1, 10**15)).scaleb(rng.randint(-18, 19) - 15)
            a = a.quantize(Decimal("1e-18")) * rng.choice((1, -1))
            b = b.quantize(Decimal("1e-18"))
            if a and b and abs(a) < Decimal("1e19") and b < Decimal("1e19"):
                pairs.append((a, b))
    con = duckdb.connect()
    con.execute((Path(__file__).parents[1] / "queries" / "schema" / "00_macros.sql").read_text())
    con.execute("CREATE TABLE t (a DECIMAL(38,18), b DECIMAL(38,18))")
    # one statement: executemany took 1.3 s for the 3000 rows
    con.execute(
        "INSERT INTO t SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
        [[str(a) for a, _ in pairs], [str(b) for _, b in pairs]],
    )
    rows = con.execute(
        "SELECT a, b, CASE WHEN abs(a::DOUBLE * b::DOUBLE) < 1e18 THEN dmul(a, b) END, "
        "CASE WHEN abs(a::DOUBLE / b::DOUBLE) < 1e18 THEN ddiv(a, b) END FROM t"
    ).fetchall()
    checked_mul = checked_div = 0
    with localcontext() as ctx:
        ctx.prec = 90
        for a, b, product, quotient in rows:
            if product is not None:
                exact = (a * b).quantize(Decimal("1e-18"), rounding=ROUND_HALF_UP)
                assert product == exact, (a, b)
                checked_mul += 1
            if quotient is not None:
                true = a / b
                bound = Decimal("1e-18") * (1 + 1 / abs(b)) + abs(true) * Decimal("1e-31")
                assert abs(quotient - true) <= bound, (a, b, quotient)
                checked_div += 1
    assert checked_mul > 1000 and checked_div > 1000


def test_mul_cmp_gives_the_exact_sign_of_x_minus_a_times_b() -> None:
    """mul_cmp (queries/schema/00_macros.sql), which grades shares against thresholds without a
    quotient, against Python Decimal: random operands of either sign and x at, just under and
    just over the exact product (ties included), or anywhere."""
    from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, localcontext

    rng = random.Random(17)
    step = Decimal("1e-18")
    cases = []
    with localcontext() as ctx:
        ctx.prec = 90
        while len(cases) < 3000:
            a, b = (
                (
                    Decimal(rng.randint(0, 10**15)).scaleb(rng.randint(-18, 4))
                    * rng.choice((1, -1))
                ).quantize(step)
                for _ in range(2)
            )
            product = a * b
            if abs(product) >= Decimal("1e19"):
                continue
            rounding = rng.choice((ROUND_FLOOR, ROUND_CEILING, ROUND_HALF_EVEN, None))
            x = (
                product.quantize(step, rounding=rounding)
                if rounding
                else Decimal(rng.randint(-(10**20), 10**20)).scaleb(-rng.randint(0, 18))
            )
            cases.append((x.quantize(step), a, b, (x > product) - (x < product)))
    con = duckdb.connect()
    con.execute((Path(__file__).parents[1] / "queries" / "schema" / "00_macros.sql").read_text())
    con.execute("CREATE TABLE t (i INTEGER, x DECIMAL(38,18), a DECIMAL(38,18), b DECIMAL(38,18))")
    # one statement: executemany took 1.5 s for the 3000 rows
    con.execute(
        "INSERT INTO t SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[])",
        [list(range(len(cases))), *([str(case[n]) for case in cases] for n in range(3))],
    )
    got = [row[0] for row in con.execute("SELECT mul_cmp(x, a, b) FROM t ORDER BY i").fetchall()]
    expected = [sign for *_, sign in cases]
    assert got == expected
    assert expected.count(0) > 200  # exact ties, where dmul's rounding decides


@pytest.mark.parametrize(
    ("q", "c", "t", "shown"),
    [
        ("0.099999999999999999", 0, "0.1", "0.1"),  # a tie: the threshold itself
        ("0.099999999999999999", 1, "0.1", "0.100000000000000001"),  # above: never under it
        ("0.100000000000000000", -1, "0.1", "0.099999999999999999"),  # below: never at it
        ("0.25", 1, "0.1", "0.25"),
        ("0.05", -1, "0.1", "0.05"),
        ("0.05", None, None, "0.05"),  # ungraded
    ],
)
def test_on_side_keeps_a_share_on_its_grades_side(
    q: str, c: int | None, t: str | None, shown: str
) -> None:
    con = duckdb.connect()
    con.execute((Path(__file__).parents[1] / "queries" / "schema" / "00_macros.sql").read_text())
    got = con.execute(
        "SELECT on_side(?::DECIMAL(38,18), ?::INTEGER, ?::DECIMAL(38,18))", [q, c, t]
    ).fetchall()[0][0]
    assert got == Decimal(shown)


# --- mutation review of 2026-12-06: the valuation and the calculation views ------------------


def test_a_notional_at_a_floor_takes_the_upper_tier_whatever_order_the_tiers_are_stored_in(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """DESIGN.md section 3: a position uses the tier with floor <= notional < cap, so a notional
    exactly at a floor (the lower tier's cap) is in the upper tier only. The tiers stored in
    descending order, a lookup that also let the lower tier hold its own cap picked it."""
    venue.linear("DESC")
    venue.tier_rows(
        "DESC", list(reversed(tier_table([("0", "0.01"), ("100", "0.02"), ("1000", "0.05")])))
    )
    venue.mark("DESC", "1")
    venue.position("AT100", "DESC", "100", "1")
    venue.position("AT1000", "DESC", "1000", "1")
    at100, at1000 = position_row(con, "AT100"), position_row(con, "AT1000")
    assert at100["tier"] == 2 and at100["maintenance_margin"] == Decimal(1)  # 100 x 2% - 1
    # 1000 x 5% - cum 31 (1 + 1000 x 3%)
    assert at1000["tier"] == 3 and at1000["maintenance_margin"] == Decimal(19)


def test_a_cross_position_carrying_margin_is_valued_as_cross(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """DESIGN.md section 4: isolated equity and the liquidation and bankruptcy prices belong to
    isolated positions (margin_mode), and the statement's isolated_margin sums the margins of
    isolated positions. A cross position carrying an isolated_margin (a venue finding for
    SEG-03, loaded as it is) has none of them: its uPnL is cross uPnL, its margin is not
    isolated margin."""
    venue.tiers("BTCUSDT", [("0", "0.005")])
    venue.mark("BTCUSDT", "40000")
    venue.position("X", "BTCUSDT", "1", "50000", isolated_margin="2000", margin_mode="cross")
    row = position_row(con, "X")
    assert row["margin_mode"] == "cross" and row["unrealized_pnl"] == Decimal(-10000)
    assert row["isolated_equity"] is None
    assert row["liquidation_price"] is None and row["bankruptcy_price"] is None
    (equity,) = rows(con, "SELECT * FROM v_account_equity WHERE asset = 'USDT'")
    assert equity["cross_upnl"] == Decimal(-10000) and equity["isolated_equity"] == 0
    assert equity["isolated_bad_debt"] == 0 and equity["equity"] == Decimal(-10000)
    (statement,) = rows(con, "SELECT * FROM v_segregation WHERE asset = 'USDT'")
    assert statement["isolated_margin"] == 0 and statement["net_ledger_balance"] == 0
    assert statement["cross_upnl"] == Decimal(-10000) and statement["isolated_upnl"] == 0


def test_a_long_margined_to_its_whole_entry_value_has_no_price_of_zero(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """reports.valuation (DESIGN.md section 4): a liquidation or bankruptcy price is kept only
    when > 0. A linear long of 1 BTC from 50,000 holding 50,000 of isolated margin (one tier,
    cum 0) solves both equations at a price of 0, which is no price: both are NULL."""
    venue.tiers("BTCUSDT", [("0", "0.005")])
    venue.mark("BTCUSDT", "40000")
    venue.position("FULL", "BTCUSDT", "1", "50000", isolated_margin="50000")
    row = position_row(con, "FULL")
    assert row["isolated_equity"] == Decimal(40000)
    assert row["liquidation_price"] is None and row["bankruptcy_price"] is None


def test_prices_from_1e19_are_null_when_valued_plainly_too(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """reports.valuation.quotient: a liquidation or bankruptcy price from 1e19 is NULL, whether
    its chunk is valued plainly or guarded (div_or_null), so a position's prices do not depend
    on another position of its chunk overflowing. A short of 1e-9 BTC from 50,000 holding 2e10
    USDT of margin would be bankrupt at 2e19 + 50,000 and liquidated near 1.99e19 (below 1e20:
    the plain quotient does not overflow)."""
    venue.tiers("BTCUSDT", [("0", "0.005")])
    venue.mark("BTCUSDT", "40000")
    venue.position("FAR", "BTCUSDT", "-0.000000001", "50000", isolated_margin="20000000000")
    row = position_row(con, "FAR")
    assert row["isolated_equity"] == Decimal("20000000000.00001")
    assert row["liquidation_price"] is None and row["bankruptcy_price"] is None


def test_an_inverse_future_is_valued_as_inverse(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """DESIGN.md section 3: kind inverse_future is an inverse contract (settle = underlying,
    contract size in quote units) like inverse_perpetual: notional = Q / M and uPnL =
    s x Q x (1/E - 1/M) in BTC (the reference's COIN-M figures: long 10,000 USD from 8,000 at
    9,000), and its open interest in USD is OI x contract_size x the quote asset's price."""
    venue.instrument("BTCUSD_0627", "inverse_future", "BTC", "USD", "BTC", "100")
    venue.tiers("BTCUSD_0627", [("0", "0.005")])
    venue.mark("BTCUSD_0627", "9000")
    venue.position("F", "BTCUSD_0627", "100", "8000")
    row = position_row(con, "F")
    assert row["is_inverse"] is True
    assert abs(row["notional"] - Decimal(10000) / Decimal(9000)) <= Decimal("1e-18")
    assert abs(
        row["unrealized_pnl"] - Decimal(10000) * (1 / Decimal(8000) - 1 / Decimal(9000))
    ) <= Decimal("2e-18")
    assert row["notional_usd"] == row["notional"] * Decimal(50000)
    (oi,) = rows(con, "SELECT * FROM v_open_interest WHERE instrument_id = 'BTCUSD_0627'")
    assert oi["open_interest"] == Decimal(100) and oi["open_interest_usd"] == Decimal(10000)


def test_a_liquidation_on_a_boundary_is_not_lost_to_the_rounding_of_its_price(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """DESIGN.md section 4: solve per tier and keep the solution whose own notional selects that
    tier. This short's solution lies on the floor 7,134.12 up to its 18th decimal; rounded to 18
    decimals, tier 1's price lands at or above tier 1's cap and tier 2's below tier 2's floor, so
    a tier test without reports.valuation's 1e-9 slack loses both and the price goes NULL."""
    venue.linear("EDGE2")
    table = venue.tiers("EDGE2", [("0", "0.17"), ("7134.12", "0.189")])
    venue.mark("EDGE2", "1099.24593745")
    qty, entry, margin = "-5.76607", "1099.24593745", "2008.591377447678500002"
    venue.position("S", "EDGE2", qty, entry, isolated_margin=margin)
    lp = position_row(con, "S")["liquidation_price"]
    model = Model(False, Decimal(qty), Decimal(1), Decimal(entry), Decimal(margin))
    expected = model.liquidation_price(table)
    assert expected is not None and abs(expected * Decimal(qty) + Decimal("7134.12")) < Decimal(
        "1e-15"
    )
    assert lp is not None and abs(lp - expected) <= Decimal("1e-17")


def test_the_tier_test_is_exact_beside_the_float_narrowing(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """DESIGN.md section 4 (solve per tier, keep the solution whose own notional selects that
    tier, floor <= notional < cap), with shipped maintenance amounts that break the recursion
    (MM jumps at the floor 100, so a tier's line can cross equity just outside its own range):

    - long A: tier 1 solves at 99.4949... (genuine); tier 2 (cum 0.5000098 instead of 1) at
      99.99999, 1e-7 below its floor: not in tier 2, however near (the Float64 narrowing's
      slack may only send it to the exact test, never accept it);
    - long B: tier 1 solves at 99.99999999, 1e-10 below its cap 100: inside tier 1 (the exact
      test's slack widens a bound, never narrows it); tier 2 (cum 5) at 95.9, below its floor."""
    for instrument_id, cum in (("JUMP_A", "0.5000098"), ("JUMP_B", "5")):
        venue.linear(instrument_id)
        venue.tier_rows(
            instrument_id,
            [
                Tier(1, Decimal(0), Decimal(100), Decimal("0.01"), Decimal(0)),
                Tier(2, Decimal(100), None, Decimal("0.02"), Decimal(cum)),
            ],
        )
        venue.mark(instrument_id, "110")
    venue.position("A", "JUMP_A", "1", "110", isolated_margin="11.5")
    venue.position("B", "JUMP_B", "1", "110", isolated_margin="11.0000000099")
    # A: (11.5 - 110) / (0.01 - 1) = 99.49..., tier 2's (11.5 + 0.5000098 - 110) / -0.98 = 99.99999
    a = position_row(con, "A")["liquidation_price"]
    assert abs(a - Decimal("98.5") / Decimal("0.99")) < Decimal("1e-17")
    # B: (11.0000000099 - 110) / (0.01 - 1) = 99.99999999 exactly
    assert position_row(con, "B")["liquidation_price"] == Decimal("99.99999999")


def test_usd_is_priced_on_a_loaded_date_without_price_rows(con: duckdb.DuckDBPyConnection) -> None:
    """DESIGN.md section 3: the reporting currency has price 1 when absent. A loaded date whose
    prices file is header-only (nothing held but USD, no position: no price is needed) still
    values its USD at 1: the date comes from the loads table (05_v_asset_prices.sql)."""
    v = Venue(con)
    con.execute(
        "INSERT INTO loads VALUES ('L1', ?, 'prices', 'prices.csv', 'csv', 'x', 0, "
        "TIMESTAMP '2026-03-03 23:00:00', 'test', false)",
        [v.as_of],
    )
    v.account("A1")
    v.balance("A1", "USD", "1250.5")
    (equity,) = rows(con, "SELECT * FROM v_account_equity")
    assert equity["price"] == Decimal(1) and equity["equity_usd"] == Decimal("1250.5")
    (statement,) = rows(con, "SELECT * FROM v_segregation")
    assert statement["requirement_usd"] == Decimal("1250.5")


def test_a_liquidation_notional_from_1e19_stays_in_an_unbounded_last_tier(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """reports.valuation: the notional at a candidate price is NULL from 1e19 (beyond what the
    guarded product holds), and only an unbounded last tier can hold it, so that tier keeps the
    solution. A long of 1e10 contracts whose liquidation lies at 1e9 + 0.001, a notional just
    above the last tier's floor of 1e19 (too near it for the Float64 narrowing to be sure)."""
    venue.linear("VAST")
    table = venue.tiers("VAST", [("0", "0.01"), ("10000000000000000000", "0.02")])
    venue.mark("VAST", "1100000000")
    venue.position("L", "VAST", "10000000000", "1100000000", isolated_margin="1099999999990200000")
    row = position_row(con, "L")
    assert row["tier"] == 2
    model = Model(
        False, Decimal(10**10), Decimal(1), Decimal(1100000000), Decimal("1099999999990200000")
    )
    assert model.liquidation_price(table) == Decimal("1000000000.001")
    assert row["liquidation_price"] == Decimal("1000000000.001")


def test_statement_counts_client_deficits_and_bad_debt_apart(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """DESIGN.md section 4 (segregation, client accounts only): deficits are the accounts with
    E < 0 (an account at exactly 0 is not in deficit: C0, and C2 whose isolated loss beyond
    its margin is the venue's bad debt, not the client's); isolated_margin sums the margins of
    client isolated positions only (the house's H is not client money); bad debt and deficits
    are separate magnitudes, each in USD at the asset's price."""
    venue.tiers("BTCUSDT", [("0", "0.005")])
    venue.mark("BTCUSDT", "40000")
    venue.account("C0")
    venue.balance("C0", "USDT", "0")
    venue.account("C1")
    venue.balance("C1", "USDT", "-100")
    # long 1 BTC from 50,000 with 2,000 of margin: isolated equity -8,000, bad debt 8,000
    venue.position("LOSS", "BTCUSDT", "1", "50000", isolated_margin="2000", account_id="C2")
    venue.position("CROSS", "BTCUSDT", "0.5", "38000", account_id="C3")  # cross uPnL +1,000
    venue.account("H", account_type="house")
    venue.position("HOUSE", "BTCUSDT", "-1", "50000", isolated_margin="5000", account_id="H")
    (s,) = rows(con, "SELECT * FROM v_segregation WHERE asset = 'USDT'")
    assert s["deficit_accounts"] == 1 and s["deficits"] == Decimal(100)
    assert s["isolated_margin"] == Decimal(2000) and s["isolated_bad_debt"] == Decimal(8000)
    # 0 - 100 + (2,000 - 10,000) + 1,000: the isolated loss unfloored
    assert s["net_equity"] == Decimal(-7100) and s["client_requirement"] == Decimal(1000)
    assert s["cross_upnl"] == Decimal(1000) and s["isolated_upnl"] == Decimal(-10000)
    assert s["unrealized_pnl"] == Decimal(-9000)
    assert s["deficits_usd"] == Decimal("99.98")
    assert s["isolated_bad_debt_usd"] == Decimal("7998.4")


def test_each_date_solves_liquidation_in_its_own_tier_table(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """All joins include as_of_date (DESIGN.md section 4 figures are per date): the same long
    of 1 BTC from 50,000 with 5,000 of margin, on a second date whose table is one tier at 1%:
    LP = (5,000 - 50,000) / (0.01 - 1) = 45,454.54...; the first date's 50% tier (which would
    put it at 90,000) is no candidate."""
    day2 = venue.on("2026-03-04")
    day2.linear("BTCUSDT")
    day2.asset("USDT", "1")
    venue.tiers("BTCUSDT", [("0", "0.5")])
    day2.tiers("BTCUSDT", [("0", "0.01")])
    for v in (venue, day2):
        v.mark("BTCUSDT", "50000")
        v.position("P", "BTCUSDT", "1", "50000", isolated_margin="5000")
    derive.refresh(con)
    got = dict(
        con.execute(
            "SELECT as_of_date::VARCHAR, liquidation_price FROM v_positions ORDER BY 1"
        ).fetchall()
    )
    assert got["2026-03-03"] == Decimal(90000)
    assert abs(got["2026-03-04"] - Decimal(45000) / Decimal("0.99")) < Decimal("1e-17")


def test_statement_splits_client_custody_by_wallet_and_custodian_type(
    con: duckdb.DuckDBPyConnection, venue: Venue
) -> None:
    """held is client custody only (the insurance fund's and the house's wallets are not funds in
    segregation), split by wallet_type and by custodian_type, each part under its own column
    (mutation review of 2026-12-07: the investment-firm part summing the 'other' wallets passed,
    and the exchange part summing the hot ones passed the view's tests)."""
    custody = [
        ("cold", "self", "1"),
        ("warm", "self", "20"),
        ("hot", "credit_institution", "300"),
        ("bank", "credit_institution", "4000"),
        ("exchange", "investment_firm", "50000"),
        ("cold", "other", "600000"),
    ]
    for n, (wallet_type, custodian_type, balance) in enumerate(custody):
        con.execute(
            "INSERT INTO custody VALUES (?, ?, 'K', 'USDT', ?, 'client', ?, ?)",
            [venue.as_of, f"w{n}", balance, wallet_type, custodian_type],
        )
    for designation in ("house", "insurance_fund"):
        con.execute(
            "INSERT INTO custody VALUES (?, ?, 'K', 'USDT', 7000000, ?, 'hot', 'other')",
            [venue.as_of, designation, designation],
        )
    (s,) = rows(con, "SELECT * FROM v_segregation WHERE asset = 'USDT'")
    held = {k: v for k, v in s.items() if k.startswith("held") and not k.endswith("_usd")}
    assert held == {
        "held": Decimal(654321),
        "held_cold": Decimal(600001),
        "held_warm": Decimal(20),
        "held_hot": Decimal(300),
        "held_bank": Decimal(4000),
        "held_exchange": Decimal(50000),
        "held_self": Decimal(21),
        "held_credit_institution": Decimal(4300),
        "held_investment_firm": Decimal(50000),
        "held_other": Decimal(600000),
    }
