"""The Polars valuation (reports.valuation) against the SQL valuation it replaced.

tests/oracles/v_positions_reference.sql is the view mir valued positions with until the
valuation moved to Polars: an independent implementation of the same DESIGN.md section 4
formulas (DuckDB DECIMAL through the dmul/ddiv macros, an ASOF-free tier join, the same
liquidation search). Random venues, seeded, are valued both ways; every column must agree:

- exactly: side, tier, the tier's rate and amount, and which figures are NULL;
- amounts within 8e-18 plus 1e-15 relative: the SQL rounded products half-up and approximated
  quotients to within 1e-18, Polars rounds both half-even, and a difference in the 18th decimal
  of a factor scales with the other factor;
- liquidation and bankruptcy prices within 1e-9 relative: a price is a quotient whose divisor
  can be small (Q x mmr - s x Q for a position of a few micro-contracts, WB + cum + s x Q / E
  for an inverse one), so a last-digit difference in it is amplified (1.6e-12 relative for a
  position of Q = 6e-7 in this data; at most 2e-16 on the benchmark's 1M accounts).

A wrong formula, a wrong tier, a lost NULL or a wrong pick among the liquidation candidates
gives a difference far beyond these bounds.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from views_builder import AS_OF, Model, Tier, Venue, position_row

from reports import derive
from reports.db import connect, init_db
from reports.errors import InputError, ValuationRangeError
from reports.valuation import DECIMAL, div_or_null, mul_or_null

ORACLE = Path(__file__).resolve().parent / "oracles" / "v_positions_reference.sql"
EXACT = {"side", "tier", "maintenance_margin_rate", "maintenance_amount"}
PRICES = {"liquidation_price", "bankruptcy_price"}
AMOUNTS = {
    "base_quantity",
    "notional",
    "notional_usd",
    "unrealized_pnl",
    "unrealized_pnl_usd",
    "maintenance_margin",
    "isolated_equity",
}
PASSED_THROUGH = {
    "as_of_date", "position_id", "account_id", "account_type", "group_id", "instrument_id",
    "kind", "is_inverse", "margin_mode", "quantity", "contract_size", "entry_price",
    "mark_price", "underlying", "quote_asset", "settle_asset", "settle_price",
    "isolated_margin", "reported_unrealized_pnl", "leverage",
}  # fmt: skip


@pytest.fixture(scope="module")
def _empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mir init`'s database (schema, no rows), made once for the module; closed, so its file
    may be copied."""
    path = init_db(tmp_path_factory.mktemp("oracle") / "empty.duckdb")
    assert not path.with_name(path.name + ".wal").exists()
    return path


@pytest.fixture
def fresh_db(
    _empty_db: Path,
) -> Callable[[Path], AbstractContextManager[duckdb.DuckDBPyConnection]]:
    """views_builder.fresh_db for this module: a copy of the module's new database at `path`
    (creating the schema took a second a test), connected."""

    @contextmanager
    def fresh(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        shutil.copyfile(_empty_db, path)
        con = connect(path)
        try:
            yield con
        finally:
            con.close()

    return fresh


def _amount(rng: random.Random, low: int, high: int, places: int) -> Decimal:
    """A random decimal with `places` decimals between 10**low and 10**high."""
    magnitude = Decimal(10) ** rng.randint(low, high)
    return (magnitude * Decimal(rng.random())).quantize(Decimal(1).scaleb(-places)) or Decimal(1)


def _venue(venue: Venue, rng: random.Random) -> None:
    """Instruments of both kinds with random tier tables, and positions around their marks."""
    venue.asset("USDT", "0.9995")
    venue.asset("BTC", "61234.5")
    venue.asset("ETH", "3021.75")  # ETHUSD settles in ETH; SOLUSD's SOL is left unpriced
    instruments = [
        ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", "0.001", "61000.1"),
        ("ETHUSDT", "linear_perpetual", "ETH", "USDT", "USDT", "0.000123456789", "3000.25"),
        ("BTCUSD", "inverse_perpetual", "BTC", "USD", "BTC", "100", "61111.3"),
        ("ETHUSD", "inverse_perpetual", "ETH", "USD", "ETH", "10", "2999.99"),
        ("SOLUSD", "inverse_perpetual", "SOL", "USD", "SOL", "1", "150.123456789"),
    ]
    for instrument_id, kind, underlying, quote, settle, size, mark in instruments:
        venue.instrument(instrument_id, kind, underlying, quote, settle, size)
        venue.mark(instrument_id, mark)
        floors = sorted({_amount(rng, 0, 7, 2) for _ in range(rng.randint(1, 6))})
        rates = sorted(_amount(rng, -3, -1, 4) for _ in floors)
        table = [(Decimal(0), rates[0]), *zip(floors[1:], rates[1:], strict=True)]
        venue.tiers(instrument_id, table)
    venue.instrument("NOMARK", "linear_perpetual", "BTC", "USDT", "USDT", "1")  # no mark price
    venue.tiers("NOMARK", [(0, "0.01")])
    for n in range(150):
        instrument_id, _, _, _, _, _, mark = rng.choice(instruments)
        if n % 50 == 49:
            instrument_id, mark = "NOMARK", "1000"
        quantity = _amount(rng, -2, 6, rng.choice([0, 3, 8])) * rng.choice([1, -1])
        entry = (Decimal(mark) * Decimal(rng.uniform(0.5, 1.5))).quantize(Decimal("0.01"))
        if rng.random() < 0.3:
            venue.position(f"P{n}", instrument_id, quantity, entry, account_id=f"A{n % 40}")
            continue
        margin = rng.choice(
            [
                _amount(rng, -4, 6, rng.choice([2, 8, 18])),
                Decimal(0),
                -_amount(rng, -2, 3, 8),  # negative: a venue finding, still valued
            ]
        )
        venue.position(
            f"P{n}", instrument_id, quantity, entry, isolated_margin=margin, account_id=f"A{n % 40}"
        )
    venue.position("PX", "UNKNOWN", "5", "100", isolated_margin="10")  # no instrument row


def _rows(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict[str, Any]]:
    cur = con.execute(f"SELECT * FROM {source} WHERE as_of_date = ?", [AS_OF])
    names = [c[0] for c in cur.description]
    return {r[1]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def _agrees(column: str, ours: Any, oracle: Any) -> bool:
    if ours is None or oracle is None:
        return ours is None and oracle is None
    if column in EXACT or column in PASSED_THROUGH:
        return bool(ours == oracle)
    relative = Decimal("1e-9") if column in PRICES else Decimal("1e-15")
    return abs(ours - oracle) <= Decimal("8e-18") + relative * abs(oracle)


@pytest.mark.parametrize("seed", range(12))
def test_polars_valuation_matches_the_sql_oracle(tmp_path: Path, seed: int, fresh_db) -> None:
    with fresh_db(tmp_path / "oracle.duckdb") as con:
        # one transaction: a commit per inserted row cost a second and a half a venue
        con.execute("BEGIN TRANSACTION")
        _venue(Venue(con), random.Random(seed))
        con.execute("COMMIT")
        derive.refresh(con)
        con.execute(ORACLE.read_text(encoding="utf-8"))
        ours, oracle = _rows(con, "v_positions"), _rows(con, "v_positions_reference")
        assert ours.keys() == oracle.keys()
        assert set(next(iter(ours.values()))) == EXACT | PRICES | AMOUNTS | PASSED_THROUGH
        differences = [
            (pid, column, ours[pid][column], oracle[pid][column])
            for pid in sorted(ours)
            for column in ours[pid]
            if not _agrees(column, ours[pid][column], oracle[pid][column])
        ]
        assert differences == []
        # the data exercises what the comparison is for
        valued = list(ours.values())
        assert sum(r["liquidation_price"] is not None for r in valued) >= 40
        assert any(
            r["liquidation_price"] is None and r["margin_mode"] == "isolated" for r in valued
        )
        assert any(r["tier"] is not None and r["tier"] > 1 for r in valued)
        assert any(r["notional_usd"] is None and r["notional"] is not None for r in valued)
        assert any(r["notional"] is None for r in valued)


def _tier(n: int, floor: str, cap: str | None, mmr: str, cum: str) -> Tier:
    return Tier(
        n, Decimal(floor), None if cap is None else Decimal(cap), Decimal(mmr), Decimal(cum)
    )


def test_two_genuine_tier_solutions_long_takes_the_highest_short_the_lowest(
    tmp_path: Path, fresh_db
) -> None:
    """A shipped maintenance_amount that breaks the recursion (negative here) can give two tiers
    a solution in their own range: the pick is the price reached first from the mark, for a
    long the highest, for a short the lowest (checked against the Decimal model)."""
    tiers = [_tier(1, "0", "95", "0.01", "0"), _tier(2, "95", None, "0.02", "-5")]
    short_tiers = [_tier(1, "0", "110", "0.01", "0"), _tier(2, "110", None, "0.02", "3")]
    with fresh_db(tmp_path / "pick.duckdb") as con:
        venue = Venue(con)
        for instrument_id, table in (("LONGS", tiers), ("SHORTS", short_tiers)):
            venue.linear(instrument_id)
            venue.tier_rows(instrument_id, table)
            venue.mark(instrument_id, "100")
        venue.position("L", "LONGS", "1", "100", isolated_margin="10")
        venue.position("S", "SHORTS", "-1", "100", isolated_margin="10")
        long_model = Model(False, Decimal(1), Decimal(1), Decimal(100), Decimal(10))
        short_model = Model(False, Decimal(-1), Decimal(1), Decimal(100), Decimal(10))
        # both tiers hold their own solution: the pick decides
        assert all(t.holds(long_model.notional(long_model.solve(t.mmr, t.cum))) for t in tiers)
        assert all(
            t.holds(short_model.notional(short_model.solve(t.mmr, t.cum))) for t in short_tiers
        )
        long_price = position_row(con, "L")["liquidation_price"]
        short_price = position_row(con, "S")["liquidation_price"]
    assert abs(long_price - long_model.liquidation_price(tiers)) < Decimal("1e-17")
    assert abs(short_price - short_model.liquidation_price(short_tiers)) < Decimal("1e-17")
    assert long_price > Decimal("96")  # tier 2's 96.94, not tier 1's 90.91
    assert short_price < Decimal("109")  # tier 1's 108.91, not tier 2's 110.78


# (a, b): products and quotients on both sides of 1e19, at zero, and below 1e-18
GUARD_CASES = [
    ("2", "3"),
    ("0.5", "19999999999999999999.99"),
    ("0.5", "19999999999999999997"),
    ("4", "2500000000000000000"),
    ("4", "2499999999999999999.5"),
    ("-3", "3333333333333333334"),
    ("99999999999999999999", "10"),
    ("99999999999999999999", "9.99"),
    ("99999999999999999999", "10.0000001"),
    ("10000000000000000000", "1"),
    ("9999999999999999999", "1"),
    ("1", "0.000000000000000001"),
    ("0.000000000000000001", "0.5"),
    ("1", "0"),
    ("-7", "0.0000001"),
    ("-0.7", "0.0000001"),
    ("0.0000001", "0.0000001"),
    ("99999999999999999999", "0.5"),  # a quotient beyond DECIMAL(38,18) itself
    ("1000", "0.00000000000000001"),
    ("-2000000000", "0.0000000002"),
]


def _expected(exact: Decimal | None) -> Decimal | None:
    """NULL from magnitude 1e19, else rounded half-even to 18 decimals (as Polars rounds)."""
    if exact is None or abs(exact) >= Decimal("1e19"):
        return None
    return exact.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN)


@pytest.mark.parametrize(("a", "b"), GUARD_CASES)
def test_guarded_products_and_quotients_are_null_from_1e19(a: str, b: str) -> None:
    x, y = Decimal(a), Decimal(b)
    frame = pl.DataFrame({"a": [x], "b": [y]}, schema={"a": DECIMAL, "b": DECIMAL})
    got = frame.select(
        product=mul_or_null(pl.col("a"), pl.col("b")),
        quotient=div_or_null(pl.col("a"), pl.col("b")),
    ).row(0)
    with localcontext() as ctx:
        ctx.prec = 80
        assert got == (_expected(x * y), _expected(None if y == 0 else x / y))


def test_a_position_too_large_to_value_is_named(tmp_path: Path, fresh_db) -> None:
    """Polars refuses a product beyond DECIMAL(38,18) (no wrap-around); the valuation names the
    position (the loader then names its file row: test_load_rules)."""
    with fresh_db(tmp_path / "huge.duckdb") as con:
        venue = Venue(con)
        venue.asset("USDT", "1")
        venue.linear("BTCUSDT", contract_size="0.001")
        venue.tiers("BTCUSDT", [(0, "0.005")])
        venue.mark("BTCUSDT", "60000")
        venue.position("FINE", "BTCUSDT", "2", "59000", isolated_margin="100")
        venue.position("HUGE", "BTCUSDT", "99999999999999999999", "59000")
        with pytest.raises(ValuationRangeError) as caught:
            derive.refresh(con)
    assert caught.value.position_ids == ["HUGE"]
    assert caught.value.exit_code == 3
    assert "HUGE" in str(caught.value)


def test_an_inverse_position_from_1e19_is_valued_and_beyond_1e20_named(
    tmp_path: Path, fresh_db
) -> None:
    """Review of 2026-12-04 (second): an inverse notional or uPnL from 1e19 came out NULL (the
    guarded quotient), and SEG-07, SEG-09 and the segregation statement counted the position as
    nothing; a linear one is valued up to 1e20 and named beyond. Both kinds now agree: 1e10
    contracts at a mark of 1e-9 have a notional of 1e19 and a loss of 5e18 (entry 2e-9)."""
    with fresh_db(tmp_path / "inverse.duckdb") as con:
        venue = Venue(con)
        venue.asset("MEME", "0.000000001")
        venue.inverse("MEMEUSD", underlying="MEME")
        venue.tiers("MEMEUSD", [(0, "0.01")])
        venue.mark("MEMEUSD", "0.000000001")
        venue.position("BIG", "MEMEUSD", "10000000000", "0.000000002", isolated_margin="1000000000")
        row = position_row(con, "BIG")
        assert row["notional"] == Decimal("1e19")
        assert row["unrealized_pnl"] == Decimal("-5e18")
        assert row["isolated_equity"] == Decimal("-4999999999000000000")
        assert row["maintenance_margin"] == Decimal("1e17")
        venue.position("HUGE", "MEMEUSD", "-100000000000", "0.000000001")  # notional 1e20
        with pytest.raises(ValuationRangeError) as caught:
            derive.refresh(con)
    assert caught.value.position_ids == ["HUGE"]


def _tier_venue(con: duckdb.DuckDBPyConnection, cap: str | None, cum: str) -> Venue:
    venue = Venue(con)
    venue.asset("USDT", "1")
    venue.linear("BTCUSDT")
    venue.tier_rows(
        "BTCUSDT",
        [_tier(1, "0", "1000", "0.01", "0"), _tier(2, "1000", cap, "0.02", cum)],
    )
    venue.mark("BTCUSDT", "100")
    venue.position("SMALL", "BTCUSDT", "2", "90", isolated_margin="10")
    return venue


def test_a_cap_near_the_decimal_limit_is_valued(tmp_path: Path, fresh_db) -> None:
    """A last-tier cap of 99999999999999999999 (valid input) must not overflow the tier test's
    1e-9 slack (reviewed: it did, failing the whole load)."""
    with fresh_db(tmp_path / "cap.duckdb") as con:
        _tier_venue(con, "99999999999999999999", "10")
        row = position_row(con, "SMALL")
    assert row["tier"] == 1 and row["liquidation_price"] is not None


def test_an_overflow_caused_by_the_tiers_names_the_tiers_not_a_position(
    tmp_path: Path, fresh_db
) -> None:
    """A maintenance rate of 1000 takes a 1e18 notional's margin beyond DECIMAL(38,18): the
    error is bad input naming risk_tiers (exit 3); a position of another instrument that is
    large (5e19) but values fine is not blamed for it."""
    with fresh_db(tmp_path / "rate.duckdb") as con:
        venue = Venue(con)
        venue.asset("USDT", "1")
        for instrument_id, rate in (("ABSURD", "1000"), ("NORMAL", "0.01")):
            venue.linear(instrument_id)
            venue.tier_rows(instrument_id, [_tier(1, "0", None, rate, "0")])
            venue.mark(instrument_id, "100")
        venue.position("MID", "ABSURD", "10000000000000000", "100")  # notional 1e18
        venue.position("LARGE", "NORMAL", "500000000000000000", "100")  # notional 5e19
        with pytest.raises(InputError) as caught:
            derive.refresh(con)
    assert not isinstance(caught.value, ValuationRangeError)
    assert caught.value.exit_code == 3
    assert "risk_tiers" in str(caught.value) and "LARGE" not in str(caught.value)
