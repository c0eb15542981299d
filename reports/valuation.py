"""Position valuation (DESIGN.md section 4): one date's positions valued in Polars and stored in
`position_values`, which `v_positions` reads (reports.derive calls `value_positions` in the
load's transaction).

Per position, with Q = |quantity| x contract_size, s = sign(quantity), mark M, entry E:
  linear  (quote = settle asset): notional = Q x M;  uPnL = s x Q x (M - E)
  inverse (settle = underlying):  notional = Q / M;  uPnL = s x Q / E - s x Q / M
                                  (two quotients, each rounded once; taking 1/E first would
                                  scale its rounding up by Q)
  tier: the tier with floor <= notional < cap (NULL cap = unbounded); the loader guarantees an
        instrument's tiers contiguous from 0 without overlaps, so the tier with the largest
        floor <= notional is the only candidate. The last tier also takes a notional at or
        above its finite cap: the tier lookup of the reference (freqtrade's, "the last tier
        whose floor <= notional"; the venue's cap is a position limit, not a margin-free zone),
        so every priced position has a maintenance margin. A notional exactly at a floor takes
        the upper tier.
  maintenance_margin MM = notional x mmr - cum (cum = the tier's maintenance_amount).
  isolated_equity = isolated_margin + uPnL (NULL for cross positions).
  *_usd = amount x the USD price of the settle asset (v_asset_prices; NULL when unpriced).
  A position of an unknown instrument (only possible when rows bypass the loader) is valued as
  linear with NULL figures.

Liquidation price (isolated only, WB = isolated_margin, cum = tier's maintenance_amount):
  linear  LP = (WB + cum - s x Q x E) / (Q x mmr - s x Q)
  inverse LP = Q x (mmr + s) / (WB + cum + s x Q / E)
MM is continuous and piecewise linear in the price, so the equation is solved once per tier of
the instrument and the solution kept whose own notional (Q x LP, or Q / LP) selects that tier,
with LP > 0. For mmr < 1, equity - MM is strictly monotone in the price, so at most one tier's
solution is genuine; several survive only at a tier boundary, where they coincide (MM is
continuous there). The pick is deterministic: for a long the highest, for a short the lowest,
i.e. the first price reached as the market moves against the position from the mark. No solution
(e.g. a long so over-margined it can never be liquidated) -> NULL.
The tier test allows a relative slack of 1e-9 on each bound so that a solution lying exactly on
a boundary is not lost to the 18-decimal rounding of LP and of its notional (the two adjacent
tiers' solutions then differ only by that rounding, and the pick rule chooses one).
Before the exact test, the tiers are narrowed in Float64: the notional at a tier's solution has
the closed form (WB + cum + t) / (mmr -/+ s), t = -s x Q x E (linear) or s x Q / E (inverse); a
slack of 1e-7, far above Float64's error, means the narrowing only drops tiers the exact test
would reject, and skips the exact test where a tier surely holds. No float becomes a value.
Bankruptcy price: the same formulas with mmr = cum = 0 (one solution; NULL unless > 0).
Both prices are NULL for cross positions.

Arithmetic: Polars Decimal(38,18), exact; every product and quotient is rounded half-even to 18
decimals (as in reports.stress). A figure every position has (notional, uPnL, MM, the USD
values) beyond DECIMAL(38,18)'s 20 integer digits fails the valuation (Polars raises rather
than wrapping) with a ValuationRangeError naming the positions too large by themselves, or an
InputError naming risk_tiers when none is; in the liquidation and bankruptcy searches, a zero
divisor or a result from 1e19 gives NULL instead (mul_or_null / div_or_null, decided exactly).
Those quotients are first taken plainly (`quotient`): a result from 1e19 is still NULL, and only
one from 1e20 raises, whereupon the chunk is valued again with div_or_null's exact guard
(value_frame). The two give the same values wherever the plain one does not raise; the guard
took a fifth of the valuation's time (0.5-0.8 s at 1M accounts) for quotients that real
positions never bring near 1e20.

Why Polars and not the SQL view it replaces: DuckDB types a DECIMAL(38,18) product as
DECIMAL(38,36), so exact products needed a four-term macro and quotients a Float64 guess with a
correction; at 1M accounts (2M positions, 11M position x tier pairs) that took 11-15 s of the
load. Polars multiplies and divides Decimal(38,18) exactly with wide intermediates: about
2.5 s of Polars work for the same day, plus reading the inputs and writing the rows
(tests/benchmarks/).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, NoReturn

import polars as pl

from reports.db import ROW_GROUP_ROWS, quote_ident
from reports.errors import InputError, ValuationRangeError, Violation

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

DECIMAL = pl.Decimal(38, 18)
# Magnitude from which the guarded products and quotients give NULL: DECIMAL(38,18) holds < 1e20,
# and the margin keeps an 18-decimal rounding from reaching it.
LIMIT = 10**19
BOUND_SLACK = Decimal("0.000000001")  # relative slack of the exact tier test
NARROWING_SLACK = 1e-7  # relative slack of the Float64 narrowing
# Positions valued at once (the intermediate frames scale with it), and read at once: up to
# 2.5M positions (1M accounts) in one query, beyond in slices (10M accounts at once did not fit
# in 24 GiB; slicing costs a temporary table, about 1 s per 2M positions). A chunk is a whole
# number of DuckDB row groups (reports.db.ROW_GROUP_ROWS): each insert then fills its row groups,
# and the checkpoint has no part-filled ones to merge (rewrite).
CHUNK_ROWS = 4 * ROW_GROUP_ROWS
FETCH_ROWS = 2_500_000
# position_values' columns (queries/views/10_v_positions.sql), in its order.
STORED_COLUMNS = (
    "as_of_date", "position_id", "account_id", "account_type", "group_id", "instrument_id",
    "kind", "is_inverse", "margin_mode", "quantity", "side", "contract_size", "base_quantity",
    "entry_price", "mark_price", "underlying", "quote_asset", "settle_asset", "notional",
    "settle_price", "notional_usd", "unrealized_pnl", "unrealized_pnl_usd", "tier",
    "maintenance_margin_rate", "maintenance_amount", "maintenance_margin", "isolated_margin",
    "isolated_equity", "liquidation_price", "bankruptcy_price", "reported_unrealized_pnl",
    "leverage",
)  # fmt: skip


# The position's kind and margin mode as used by every step (an unknown instrument values as
# linear, with NULL figures).
IS_INVERSE = pl.col("is_inverse").fill_null(False)
IS_LINEAR = pl.col("is_inverse").not_().fill_null(True)
IS_ISOLATED = pl.col("is_isolated").fill_null(False)


def _dec(value: Decimal | int) -> pl.Expr:
    return pl.lit(Decimal(value), dtype=DECIMAL)


def float_estimate(expr: pl.Expr) -> pl.Expr:
    """A Decimal(38,18) column as Float64, for estimates only: its 128-bit integer / 1e18 (within
    an ulp or two; ten times faster than Polars' decimal-to-float cast)."""
    return expr.to_physical().cast(pl.Float64) / 1e18


def mul_or_null(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """a x b, NULL (never an error) where |a x b| >= 1e19 (DECIMAL(38,18) holds < 1e20).

    Decided without floats or overflow: for |a| <= 1 the product |a| x |b| fits and is
    compared; for |a| > 1, |b| is compared with 1e19 / |a| (a quotient that fits), which lets
    through products up to 1e19 + 50 at most; the product itself is then compared.
    """
    abs_a, abs_b = a.abs(), b.abs()
    fits = (pl.when(abs_a <= 1).then(abs_a) * abs_b < _dec(LIMIT)) | (
        abs_b <= _dec(LIMIT) / pl.when(abs_a > 1).then(abs_a)
    )
    return _below_limit(a * pl.when(fits).then(b))


def div_or_null(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """a / b, NULL (never an error) where b = 0 or |a / b| >= 1e19.

    Decided without floats or overflow: for |b| >= 10 the quotient is at most 1e20 / 10 = 1e19;
    otherwise |b| x 1e19 fits and |a| is compared with it; the quotient itself is then compared
    (its rounding to 18 decimals can reach 1e19).
    """
    abs_b = b.abs()
    fits = (abs_b >= 10) | (a.abs() < pl.when(abs_b < 10).then(abs_b) * _dec(LIMIT))
    return _below_limit(a / pl.when((b != 0) & fits).then(b))


def _below_limit(result: pl.Expr) -> pl.Expr:
    return pl.when(result.abs() < _dec(LIMIT)).then(result)


def quotient(a: pl.Expr, b: pl.Expr, *, guarded: bool) -> pl.Expr:
    """a / b for the liquidation and bankruptcy prices: NULL where b = 0 or |a / b| >= 1e19.
    Guarded, it is div_or_null (never an error). Unguarded, it divides plainly and a quotient
    from 1e20 raises (Polars' ComputeError) instead: where that does not happen, the two are
    equal (div_or_null's guard fails only where |a| >= |b| x 1e19, i.e. |a / b| >= 1e19, NULL
    both ways)."""
    if guarded:
        return div_or_null(a, b)
    return _below_limit(a / pl.when(b != 0).then(b))


def _valued(positions: pl.LazyFrame) -> pl.LazyFrame:
    """Side, Q, notional, uPnL and the liquidation equation's entry term t, per position."""
    q = pl.col("quantity")
    inverse, linear, isolated = IS_INVERSE, IS_LINEAR, IS_ISOLATED
    mark, entry = pl.col("mark_price"), pl.col("entry_price")
    # NULL operands switch each formula off where it does not apply, so that no branch can
    # overflow on rows it does not value (when/then evaluates both sides).
    return (
        positions.with_columns(
            side=pl.when(q > 0).then(1).when(q < 0).then(-1).otherwise(0).cast(pl.Int32),
            base_quantity=q.abs() * pl.col("contract_size"),
        )
        .with_columns(
            signed_quantity=pl.when(pl.col("side") < 0)
            .then(-pl.col("base_quantity"))
            .otherwise(pl.col("base_quantity")),
        )
        .with_columns(
            wallet_balance=pl.when(isolated).then(pl.col("isolated_margin")),
            isolated_signed_quantity=pl.when(isolated).then(pl.col("signed_quantity")),
            # plain quotients, as the linear products: a figure every position has raises from
            # 1e20 (ValuationRangeError) rather than going NULL from 1e19, which SEG-07/09 and
            # the segregation statement would then have counted as nothing (found in review)
            signed_quantity_over_entry=pl.when(inverse).then(pl.col("signed_quantity")) / entry,
        )
        .with_columns(
            notional=pl.coalesce(
                pl.when(linear).then(pl.col("base_quantity")) * mark,
                pl.when(inverse).then(pl.col("base_quantity")) / mark,
            ),
            unrealized_pnl=pl.coalesce(
                pl.when(linear).then(pl.col("signed_quantity")) * (mark - entry),
                pl.col("signed_quantity_over_entry")
                - pl.when(inverse).then(pl.col("signed_quantity")) / mark,
            ),
            liquidation_term=pl.coalesce(
                -(pl.when(linear).then(pl.col("isolated_signed_quantity")) * entry),
                pl.when(inverse & isolated).then(pl.col("signed_quantity_over_entry")),
            ),
        )
    )


def _tier_columns(valued: pl.DataFrame, tiers: pl.DataFrame) -> pl.DataFrame:
    """The tier of each position's notional (floor <= notional < cap; at most one, the loader
    keeps an instrument's tiers contiguous without overlaps): tier, maintenance_margin_rate and
    maintenance_amount, in `valued`'s row order, NULL where no tier holds the notional."""
    tiers = tiers.with_row_index("tier_row")
    notional, cap = pl.col("notional"), pl.col("notional_cap")
    # Streamed join of the positions with their instrument's tiers, filtered as it goes (20M
    # pairs at 1M accounts never held at once; sorting 2M decimals for an as-of join took more
    # memory than the whole valuation).
    matches = (
        valued.lazy()
        .select("row", "instrument_id", "notional")
        .join(
            tiers.lazy().select("tier_row", "instrument_id", "notional_floor", "notional_cap"),
            on="instrument_id",
            how="inner",
        )
        .filter(notional >= pl.col("notional_floor"), cap.is_null() | (notional < cap))
        .select("row", "tier_row")
        .collect(engine="streaming")
    )
    tier_row = pl.repeat(None, valued.height, dtype=pl.UInt32, eager=True).scatter(
        matches.get_column("row"), matches.get_column("tier_row")
    )
    found = tiers[tier_row]  # NULL row number -> NULL row
    return found.select(
        pl.col("tier").cast(pl.Int32), "maintenance_margin_rate", "maintenance_amount"
    )


def _liquidation(valued: pl.LazyFrame, tiers: pl.LazyFrame, *, guarded: bool) -> pl.LazyFrame:
    """Liquidation price per isolated position (module docstring): row, liquidation_price.
    `guarded`: the candidate prices' quotients (`quotient`)."""
    inverse, side = pl.col("is_inverse"), pl.col("side")
    wb, t = pl.col("wallet_balance"), pl.col("liquidation_term")
    isolated = valued.filter(IS_ISOLATED)
    tiers = tiers.with_row_index("tier_row")
    # Step 1 (Float64, narrowing only), on narrow frames: 11M position x tier pairs at 1M accounts.
    positions_d = isolated.select(
        "row",
        "instrument_id",
        inverse,
        side,
        numerator_part_d=float_estimate(wb) + float_estimate(t),
        magnitude_d=float_estimate(wb).abs() + float_estimate(t).abs(),
    )
    tiers_d = tiers.select(
        "tier_row",
        "instrument_id",
        cum_d=float_estimate(pl.col("maintenance_amount")),
        mmr_d=float_estimate(pl.col("maintenance_margin_rate")),
        floor_d=float_estimate(pl.col("notional_floor")),
        cap_d=float_estimate(pl.col("notional_cap")),
    )
    den_d = pl.when(inverse).then(pl.col("mmr_d") + side).otherwise(pl.col("mmr_d") - side)
    notional_d, slack_d = pl.col("notional_d"), pl.col("slack_d")
    floor_d, cap_d = pl.col("floor_d"), pl.col("cap_d")
    candidate_tiers = (
        positions_d.join(tiers_d, on="instrument_id", how="inner")
        .with_columns(den_d=pl.when(den_d != 0).then(den_d))  # 0: no solution in this tier
        .with_columns(
            notional_d=(pl.col("numerator_part_d") + pl.col("cum_d")) / pl.col("den_d"),
            slack_d=NARROWING_SLACK
            * (
                (pl.col("magnitude_d") + pl.col("cum_d")) / pl.col("den_d").abs()
                + floor_d
                + cap_d.fill_null(0.0)
            ),
        )
        # a tier whose solution may select it
        .filter(
            notional_d + slack_d > 0,
            notional_d + slack_d >= floor_d,
            cap_d.is_null() | (notional_d - slack_d < cap_d),
        )
        .select(
            "row",
            "tier_row",
            # it surely does: the exact test is skipped
            clearly_in_tier=(notional_d - slack_d > 0)
            & (notional_d - slack_d >= floor_d)
            & (cap_d.is_null() | (notional_d + slack_d < cap_d)),
        )
    )
    # Collected once: the four frames below (linear and inverse, each sure and tested) read it,
    # and in one lazy plan Polars' streaming engine computed it for each of them (the narrowing
    # join four times: 0.3 s of a 1M-account day's valuation).
    candidate_tiers = candidate_tiers.collect(engine="streaming").lazy()
    # Step 2 (exact): solve the remaining tiers and keep the solutions in their tier.
    exact_positions = isolated.select(
        "row", inverse, side, "base_quantity", "signed_quantity", "wallet_balance",
        "liquidation_term",
    )  # fmt: skip
    exact_tiers = tiers.select(
        "tier_row",
        "maintenance_margin_rate",
        "maintenance_amount",
        floor_with_slack=pl.col("notional_floor") - pl.col("notional_floor") * _dec(BOUND_SLACK),
        # (a cap from 1e19 keeps no slack: it could overflow, and a notional at a candidate
        # price is NULL from 1e19 anyway)
        cap_with_slack=pl.when(pl.col("notional_cap") < _dec(LIMIT))
        .then(pl.col("notional_cap") + pl.col("notional_cap") * _dec(BOUND_SLACK))
        .otherwise(pl.col("notional_cap")),
    )
    mmr, cum = pl.col("maintenance_margin_rate"), pl.col("maintenance_amount")
    q, candidate = pl.col("base_quantity"), pl.col("candidate_price")
    solved = candidate_tiers.join(exact_positions, on="row", how="inner").join(
        exact_tiers, on="tier_row", how="inner"
    )
    # Linear and inverse apart: each row evaluates its own formula only.
    linear = solved.filter(~inverse).with_columns(
        candidate_price=quotient(wb + cum + t, q * mmr - pl.col("signed_quantity"), guarded=guarded)
    )
    inverse_ = solved.filter(inverse).with_columns(
        candidate_price=quotient(q * (mmr + side.cast(DECIMAL)), wb + cum + t, guarded=guarded)
    )
    # The exact tier test, only where the narrowing was not sure: the notional at the
    # candidate price (NULL beyond DECIMAL range: only an unbounded last tier can hold it).
    unsure = pl.col("clearly_in_tier").not_() & (candidate > 0)
    tested = [
        frame.filter(unsure)
        .with_columns(notional_at_candidate=notional)
        .filter(
            (pl.col("notional_at_candidate") >= pl.col("floor_with_slack")).fill_null(True),
            (pl.col("notional_at_candidate") < pl.col("cap_with_slack")).fill_null(
                pl.col("cap_with_slack").is_null()
            ),
        )
        for frame, notional in (
            (linear, mul_or_null(q, candidate)),
            (inverse_, div_or_null(q, candidate)),
        )
    ]
    sure = [
        frame.filter(pl.col("clearly_in_tier") & (candidate > 0)) for frame in (linear, inverse_)
    ]
    return (
        pl.concat([f.select("row", "side", "candidate_price") for f in (*sure, *tested)])
        .group_by("row")
        .agg(
            pl.when(side.first() > 0)
            .then(candidate.max())
            .otherwise(candidate.min())
            .alias("liquidation_price")
        )
    )


def _last_tier_unbounded(tiers: pl.DataFrame) -> pl.DataFrame:
    """The tiers with each instrument's last tier (the largest floor) open above: a notional
    beyond its finite cap stays in it (module docstring, tier)."""
    floor = pl.col("notional_floor")
    last = floor == floor.max().over("instrument_id")
    return tiers.with_columns(
        notional_cap=pl.when(last).then(pl.lit(None, dtype=DECIMAL)).otherwise("notional_cap")
    )


def value_frame(positions: pl.DataFrame, tiers: pl.DataFrame) -> pl.DataFrame:
    """The valuation of `positions` (v_position_inputs rows of one date) against that date's
    `tiers`: position_values' columns, one row per position, in the input's order.

    The liquidation and bankruptcy quotients are taken plainly, and guarded only when that
    overflowed (`quotient`); an overflow then is a figure every position has (the caller's
    error)."""
    try:
        return _value_frame(positions, tiers, guarded=False)
    except pl.exceptions.ComputeError as exc:
        if "overflow" not in str(exc):
            raise
    return _value_frame(positions, tiers, guarded=True)


def _value_frame(positions: pl.DataFrame, tiers: pl.DataFrame, *, guarded: bool) -> pl.DataFrame:
    tiers = _last_tier_unbounded(tiers)
    valued = _valued(positions.with_row_index("row").lazy()).collect()
    # streaming: the 11M position x tier pairs are filtered as they are joined
    solved = _liquidation(valued.lazy(), tiers.lazy(), guarded=guarded).collect(engine="streaming")
    liquidation = (
        pl.repeat(None, valued.height, dtype=DECIMAL, eager=True)
        .scatter(solved.get_column("row"), solved.get_column("liquidation_price"))
        .alias("liquidation_price")
    )
    # Both in valued's row order: columns side by side, no join of the wide frame.
    tiered = valued.hstack(_tier_columns(valued, tiers)).with_columns(liquidation)
    isolated, linear = IS_ISOLATED, IS_LINEAR
    wb, t = pl.col("wallet_balance"), pl.col("liquidation_term")
    isq = pl.col("isolated_signed_quantity")
    bankruptcy = quotient(
        pl.when(linear).then(wb + t).otherwise(isq),
        pl.when(linear).then(-isq).otherwise(wb + t),
        guarded=guarded,
    )
    notional, upnl, settle = pl.col("notional"), pl.col("unrealized_pnl"), pl.col("settle_price")
    # lazy: Polars then computes the bankruptcy quotient once (eager, it is evaluated for each
    # use: 1.4 s instead of 0.4 s at 2M positions)
    return (
        tiered.lazy()
        .with_columns(
            notional_usd=notional * settle,
            unrealized_pnl_usd=upnl * settle,
            maintenance_margin=notional * pl.col("maintenance_margin_rate")
            - pl.col("maintenance_amount"),
            isolated_equity=pl.when(isolated).then(pl.col("isolated_margin") + upnl),
            bankruptcy_price=pl.when(bankruptcy > 0).then(bankruptcy),
        )
        .select(STORED_COLUMNS)
        .collect()
    )


def inputs(con: duckdb.DuckDBPyConnection, day: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What `value_frame` values for `day`: its positions (v_position_inputs) and tiers."""
    return _positions(con, day), _tiers(con, day)


def _positions(
    con: duckdb.DuckDBPyConnection, day: dt.date, chunk_rows: int = CHUNK_ROWS
) -> pl.DataFrame:
    """The day's v_position_inputs rows, in Arrow batches of at most `chunk_rows`. For this
    join DuckDB fills them (a 1M-account day: 491,520 rows each), so each chunk that
    value_positions values is one contiguous piece without a copy, and Polars gives back every
    column of its valuation in the same pieces. Slices of the installed DuckDB's default
    131,072-row batches came back with their columns chunked unlike each other, and the
    hand-over to DuckDB copied or re-cut them: a day's insert at L took 3.9-4.6 s against
    3.0-3.1 s, measured alone."""
    return con.sql("SELECT * FROM v_position_inputs WHERE as_of_date = ?", params=[day]).pl(
        batch_size=chunk_rows
    )


def _tiers(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    return con.sql(
        "SELECT instrument_id, tier, notional_floor, notional_cap, maintenance_margin_rate, "
        "maintenance_amount FROM risk_tiers WHERE as_of_date = ?",
        params=[day],
    ).pl()


def _slices(
    con: duckdb.DuckDBPyConnection, day: dt.date, count: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pl.DataFrame]:
    """The day's v_position_inputs rows in `count` slices (by a hash of position_id). The join
    runs once, into a temporary table (DuckDB's memory: bounded, spillable); each slice is read
    from it, so Polars never holds more than one slice of inputs. In batches of at most
    `chunk_rows`: DuckDB cuts a filtered scan into smaller, uneven ones, which value_positions
    makes contiguous chunk by chunk."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE valuation_inputs AS SELECT hash(position_id) % ? AS "
        "valuation_slice, * FROM v_position_inputs WHERE as_of_date = ?",
        [count, day],
    )
    try:
        for index in range(count):
            yield con.sql(
                "SELECT * EXCLUDE (valuation_slice) FROM valuation_inputs "
                "WHERE valuation_slice = ?",
                params=[index],
            ).pl(batch_size=chunk_rows)
    finally:
        con.execute("DROP TABLE IF EXISTS valuation_inputs")


def out_of_range(positions: pl.DataFrame) -> list[str]:
    """position_ids whose value, estimated in Float64, reaches 1e19: |quantity| x contract size
    x the larger of mark and entry (linear) or of their reciprocals (inverse) x the settle
    asset's USD price, or the isolated margin. Only on the error path, never a value."""
    size = float_estimate(pl.col("quantity")).abs() * float_estimate(pl.col("contract_size"))
    mark, entry = float_estimate(pl.col("mark_price")), float_estimate(pl.col("entry_price"))
    price = (
        pl.when(IS_INVERSE)
        .then(pl.max_horizontal(pl.lit(1.0), 1.0 / mark, 1.0 / entry))
        .otherwise(pl.max_horizontal(pl.lit(1.0), mark, entry))
    )
    value = size * price * pl.max_horizontal(pl.lit(1.0), float_estimate(pl.col("settle_price")))
    margin = float_estimate(pl.col("isolated_margin")).abs()
    large = pl.max_horizontal(value.fill_null(0.0), margin.fill_null(0.0)) >= float(LIMIT)
    return positions.filter(large).get_column("position_id").sort().to_list()


def value_positions(
    con: duckdb.DuckDBPyConnection,
    day: dt.date,
    *,
    chunk_rows: int = CHUNK_ROWS,
    fetch_rows: int = FETCH_ROWS,
) -> None:
    """Replace `day`'s rows of position_values with the valuation of its positions.

    Positions do not depend on each other, so memory is bounded by slicing: the inputs are read
    at once up to `fetch_rows` positions (beyond, in slices of about that many, `_slices`), and
    valued and stored `chunk_rows` at a time. Raises ValuationRangeError when a product or sum
    would leave DECIMAL(38,18) (Polars refuses to overflow; no real position comes within five
    orders of magnitude of it).
    """
    tiers = _tiers(con, day)
    count = con.execute("SELECT count(*) FROM positions WHERE as_of_date = ?", [day]).fetchall()
    positions = int(count[0][0])
    con.execute("DELETE FROM position_values WHERE as_of_date = ?", [day])
    if positions <= fetch_rows:
        fetched: Iterable[pl.DataFrame] = [_positions(con, day, chunk_rows)]
    else:
        fetched = _slices(con, day, -(-positions // fetch_rows), chunk_rows)
    for inputs_slice in fetched:
        for chunk in inputs_slice.iter_slices(chunk_rows):
            # One contiguous piece (a no-op when it already is: the 1M-account day, fetched in
            # batches of chunk_rows), so that Polars gives every valued column back chunked
            # alike and DuckDB reads whole batches; a slice of the temporary table comes in
            # smaller, uneven pieces, which this copies once, as the inputs.
            _store(con, day, chunk.rechunk(), inputs_slice, tiers)


def _store(
    con: duckdb.DuckDBPyConnection,
    day: dt.date,
    chunk: pl.DataFrame,
    inputs_slice: pl.DataFrame,
    tiers: pl.DataFrame,
) -> None:
    try:
        valued = value_frame(chunk, tiers)
    except pl.exceptions.ComputeError as exc:
        if "overflow" not in str(exc):
            raise
        _raise_out_of_range(day, chunk, inputs_slice, tiers, exc)
    # A relation over the Arrow table, not con.register(): a registered object is a temporary
    # view whose dependency on it lasts until the transaction ends, even once unregistered
    # (duckdb/duckdb-python#469), so every valued chunk of the load stayed in memory until its
    # COMMIT: 13 GB more at 10M accounts (41 chunks: the XL run passed 20 GiB and was killed),
    # about 0.5 GB of the peak at 1M. The relation goes with this call. Its columns are put in
    # the table's order by name (insert_into is positional): what INSERT ... BY NAME does.
    columns = ", ".join(quote_ident(name) for name in con.table("position_values").columns)
    con.from_arrow(arrow_table(valued)).project(columns).insert_into("position_values")


def arrow_table(frame: pl.DataFrame) -> pa.Table:
    """`frame` as an Arrow table without a copy, each column keeping its own chunks.

    Taken column by column through the Arrow C stream interface: strings go over as Arrow string
    views, shared (registering the frame itself converts at the oldest level, which copies the
    ten string columns: 0.5-0.8 s per 2M positions). `DataFrame.to_arrow` would first align the
    columns' chunks by copying the whole frame into one chunk. They are aligned when the chunk
    valued was one piece (value_positions sees to it), but not otherwise: a chunk of several
    input pieces came back with its computed columns chunked unlike the others, and at 1M
    accounts that copy was about 1 s and 450 MiB of peak RSS of the load. A table's columns
    may be chunked differently; DuckDB reads it in row order either way (same rows, same row
    groups)."""
    import pyarrow as pa

    return pa.Table.from_arrays(
        [pa.chunked_array(column) for column in frame.get_columns()], names=frame.columns
    )


def _raise_out_of_range(
    day: dt.date,
    chunk: pl.DataFrame,
    inputs_slice: pl.DataFrame,
    tiers: pl.DataFrame,
    exc: Exception,
) -> NoReturn:
    """A figure of the valuation left DECIMAL(38,18) (Polars raised instead of wrapping): name
    every position of the slice too large by itself, provided the chunk values without them;
    otherwise the cause is the day's risk tiers (an amount near 1e20, a rate far above 1)."""
    offenders = out_of_range(inputs_slice)
    try:
        value_frame(chunk.filter(~pl.col("position_id").is_in(offenders)), tiers)
    except pl.exceptions.ComputeError:
        offenders = []
    if offenders:
        raise ValuationRangeError(day, offenders) from exc
    msg = (
        f"the valuation of {day.isoformat()} leaves the 20 integer digits of DECIMAL(38,18) "
        f"({exc}) and no position is that large by itself: check risk_tiers "
        "(maintenance_amount, notional_cap, maintenance_margin_rate)"
    )
    expected = "tier amounts whose products with the positions' notionals stay below 1e20"
    raise InputError(msg, [Violation("risk_tiers", None, None, None, expected)]) from exc
