"""Stress scenarios and Cover-1 / Cover-2 (CAP-04, DESIGN.md section 5).

Each scenario shocks today's asset prices and instrument marks; the engine then measures, per
group of connected clients, the loss that margin and the accounts' own funds do not absorb (the
"shortfall"), and compares the largest one (Cover-1) or two (Cover-2, PFMI Principle 4) with the
insurance fund valued at the same stressed prices.

Conventions (all money exact: Polars Decimal(38,18), every product and quotient rounded to 18
decimals, no floats):

* Shock of an asset: the scenario's value for the asset when named, else the "*" value for
  every asset that is not in [firm] stable_assets nor the reporting currency, else 0. A named stablecoin IS shocked (a
  de-peg scenario names it); "*" never touches stablecoins. Stressed price P' = P x (1 + shock).
* Marks: a mark is a price of the underlying in the quote asset, so it moves by the underlying's
  shock relative to the quote's: M' = M x (1 + s_u) / (1 + s_q). With the quote asset unshocked
  (USD, stablecoins: every usual contract) this is M x (1 + s_u), "the mark moves by its
  underlying's shock". The formulas below are the DESIGN.md section 4 uPnL valued at the stressed
  settle price, rearranged so that no shock (even -100%) divides by zero:
      linear  (settle = quote):      uPnL' USD = s x Q x P_q x (M x (1+s_u) - E x (1+s_q))
      inverse (settle = underlying): uPnL' USD = s x Q x P_u x (1+s_u) / E - s x Q x P_u x (1+s_q) / M
* Client accounts only (house and insurance-fund accounts are the venue's, not counterparties).
  - isolated position: shortfall = max(0, -(isolated_margin x P'_settle + uPnL' USD)).
  - cross account: shortfall = max(0, -(sum over assets of balance x P'_asset
                                        + sum of uPnL' USD of its cross positions)),
    i.e. the cross equity per asset valued at stressed prices and netted across assets.
    Isolation (DESIGN.md section 4) works both ways: the positive equity of an isolated bucket
    is NOT available to the cross wallet (it is returned to the wallet only when the position
    closes) and an isolated loss beyond its margin does not reach the cross wallet (it is the
    venue's bad debt, counted as that position's shortfall).
  - group shortfall = sum of its accounts' cross and isolated shortfalls (accounts.group_id).
* Cover-1 = the largest group shortfall, Cover-2 = the sum of the two largest; the standard of
  CAP-04 is Cover-N with N = [stress] cover (default 2).
* Insurance fund = custody with designation insurance_fund, valued at stressed prices.
* CAP-04 status per scenario (the fund must be strictly below a cover figure to fail it: a fund
  equal to the shortfall covers it exactly, as PFMI's "sufficient to cover" reads):
    fund < Cover-1                       -> breach, metric cover1
    fund < Cover-N (N = [stress] cover)  -> breach, metric cover<N>
    N = 1 and fund < Cover-2             -> warn,   metric cover2 (informative: Cover-2 missed)
    otherwise                            -> pass
* With [stress] cascade_impact > 0 the scenario's prices are those at the end of the
  liquidation cascade (reports.stress.cascade), every position valued there (conservative:
  a position liquidated in an earlier round is valued at the final, worse prices).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from reports.errors import InputError, Violation
from reports.memo import memoized_per_day
from reports.paths import read_query

if TYPE_CHECKING:
    import polars as pl

    from reports.config import Config, Scenario

# The valuation functions take eager or lazy frames alike (all of the same kind) and return
# the same kind: evaluate_scenario runs them as one lazy plan, the cascade eagerly.
Frame = TypeVar("Frame", "pl.DataFrame", "pl.LazyFrame")

ZERO = Decimal("0")
ONE = Decimal("1")
CLIENT = "client"
INSURANCE_FUND = "insurance_fund"
# Scenarios valued in one Polars plan (evaluate_scenarios): each adds its columns to every client
# position, so memory grows with positions x scenarios. Up to this many position-scenarios share
# a plan: the two default scenarios at 1M accounts (2M positions) together; at 10M accounts one
# at a time, as before (`mir daily` peaked at 19.1 GiB with two per plan, 20 GiB being the target).
POSITION_SCENARIOS_PER_PLAN = 5_000_000
STRESS_COLUMNS = (
    "scenario",
    "cover1_usd",
    "cover2_usd",
    "total_shortfall_usd",
    "insurance_fund_usd",
    "status",
)


def decimal_type() -> Any:
    import polars as pl

    return pl.Decimal(38, 18)


def dec(value: Decimal | int | str) -> pl.Expr:
    """A Decimal(38,18) literal (Polars would otherwise infer scale 0 for whole numbers)."""
    import polars as pl

    return pl.lit(Decimal(value), dtype=decimal_type())


# --------------------------------------------------------------------------------------------
# Data gathering (SQL in queries/stress/)


ALL_ACCOUNT_TYPES = ("client", "house", "insurance_fund")


def run_query(con: Any, name: str, as_of: Any, **params: Any) -> pl.DataFrame:
    """Run queries/stress/<name>.sql for one as-of date and return a Polars frame."""
    return con.sql(read_query(f"stress/{name}.sql"), params={"as_of": as_of, **params}).pl()


def stable_assets_warning(con: Any, as_of: Any, config: Config) -> str | None:
    """A warning naming the configured [firm] stable_assets codes the day does not price (so
    holds none of: every held asset is priced), None when there is none. Such a code makes
    nothing stable: "usdt" for USDT left USDT shocked in every scenario, counted in K-ASA
    instead of K-CMH and in CON-05, without a word (config audit of 2026-12-07; CAP-04 already
    said so of a shock naming an asset the day does not price). The defaults are left out: a
    venue without USDC keeps them."""
    from reports.config import FirmConfig

    default = (*FirmConfig().stable_assets, config.firm.reporting_currency)
    priced = set(run_query(con, "asset_prices", as_of)["asset"].to_list())
    unknown = sorted({a for a in config.firm.stable_assets if a not in priced} - set(default))
    if not unknown:
        return None
    return (
        f"warning: [firm] stable_assets names {', '.join(unknown)}, which the venue neither "
        f"prices nor holds on {as_of}: it makes nothing stable (asset symbols are "
        "case-sensitive, as in prices.csv)"
    )


@dataclass(frozen=True)
class StressInputs:
    """Everything the stress engine and VaR read for one as-of date (today's figures)."""

    positions: pl.DataFrame  # queries/stress/positions.sql, of the account types asked for
    balances: pl.DataFrame  # queries/stress/balances.sql, likewise (cross wallets)
    prices: pl.DataFrame  # asset, price (USD)
    firm_custody: pl.DataFrame  # designation, asset, balance (house and insurance_fund)
    tiers: pl.DataFrame  # risk tiers (cascade)

    @functools.cached_property  # filtered once, not per scenario
    def client_positions(self) -> pl.DataFrame:
        import polars as pl

        return self.positions.filter(pl.col("account_type") == CLIENT)

    @functools.cached_property  # filtered once, not per scenario
    def client_balances(self) -> pl.DataFrame:
        import polars as pl

        return self.balances.filter(pl.col("account_type") == CLIENT)

    @functools.cached_property  # once, not per scenario (0.15 s over 2M positions)
    def assets(self) -> list[str]:
        """Every asset a scenario may need to shock (priced, held, or named by an instrument)."""
        assets: set[str] = set(self.prices.get_column("asset").to_list())
        for column in ("underlying", "quote_asset", "settle_asset"):
            assets |= set(self.positions.get_column(column).unique().drop_nulls().to_list())
        assets |= set(self.balances.get_column("asset").unique().to_list())
        assets |= set(self.firm_custody.get_column("asset").unique().to_list())
        return sorted(assets)

    @functools.cached_property  # filtered once, not per scenario
    def insurance_fund(self) -> pl.DataFrame:
        import polars as pl

        return self.firm_custody.filter(pl.col("designation") == INSURANCE_FUND)


def load_stress_inputs(
    con: Any, as_of: Any, account_types: tuple[str, ...] = ALL_ACCOUNT_TYPES
) -> StressInputs:
    """Read the day's positions, wallets, prices, firm custody and tiers from the database;
    positions and wallets of the given account types only (VaR reads the firm's alone)."""
    types = list(account_types)
    inputs = StressInputs(
        positions=run_query(con, "positions", as_of, account_types=types),
        balances=run_query(con, "balances", as_of, account_types=types),
        prices=run_query(con, "asset_prices", as_of),
        firm_custody=run_query(con, "firm_custody", as_of),
        tiers=run_query(con, "risk_tiers", as_of),
    )
    _require_prices(inputs)
    return inputs


def _require_prices(inputs: StressInputs) -> None:
    """Every asset the stress touches needs a price (the loader should have refused otherwise);
    a missing one would silently drop money from the sums, so stop here."""
    import polars as pl

    priced = set(inputs.prices.get_column("asset").to_list())
    needed = {
        ("balances", "asset"): inputs.balances.get_column("asset"),
        ("custody", "asset"): inputs.firm_custody.get_column("asset"),
        ("instruments", "settle_asset"): inputs.positions.get_column("settle_asset"),
    }
    for (file, column), assets in needed.items():
        # unique() first: a set of the distinct assets, not a Python list of 2M cells
        missing = sorted(set(assets.drop_nulls().unique().to_list()) - priced)
        if missing:
            msg = (
                f"no asset price for {', '.join(missing)} on this date ({file}.{column}); "
                "add a prices row (kind=asset) for it and reload the snapshot"
            )
            raise InputError(
                msg,
                [
                    Violation("prices", None, "symbol", a, "an asset price for every asset held")
                    for a in missing
                ],
            )
    unmarked = inputs.positions.filter(pl.col("mark_price").is_null())
    if unmarked.height:
        instruments = sorted(set(unmarked.get_column("instrument_id").unique().to_list()))
        msg = (
            f"no mark price for instrument(s) {', '.join(instruments)}; add prices rows "
            "(kind=instrument) and reload the snapshot"
        )
        raise InputError(msg)


# --------------------------------------------------------------------------------------------
# Pure calculation


def shock_frame(
    assets: list[str] | pl.Series,
    shocks: Mapping[str, Decimal],
    stable_assets: tuple[str, ...] | list[str],
) -> pl.DataFrame:
    """The relative shock of each asset: named override, else "*" for non-stable assets, else 0."""
    import polars as pl

    named = {k: Decimal(v) for k, v in shocks.items() if k != "*"}
    wildcard = Decimal(shocks.get("*", ZERO))
    universe = (
        pl.DataFrame({"asset": pl.Series(list(assets) + list(named), dtype=pl.String)})
        .drop_nulls()
        .unique()
        .sort("asset")
    )
    overrides = pl.DataFrame(
        {"asset": list(named), "named_shock": list(named.values())},
        schema={"asset": pl.String, "named_shock": decimal_type()},
    )
    return (
        universe.join(overrides, on="asset", how="left")
        .with_columns(
            shock=pl.coalesce(
                pl.col("named_shock"),
                pl.when(pl.col("asset").is_in(list(stable_assets)))
                .then(dec(ZERO))
                .otherwise(dec(wildcard)),
            )
        )
        .select("asset", "shock")
    )


def stressed_prices(prices: pl.DataFrame, shocks: pl.DataFrame) -> pl.DataFrame:
    """asset, price, shock, stressed_price = price x (1 + shock)."""
    import polars as pl

    return (
        prices.join(shocks, on="asset", how="left")
        .with_columns(pl.col("shock").fill_null(dec(ZERO)))
        .with_columns(stressed_price=pl.col("price") * (dec(ONE) + pl.col("shock")))
    )


def stress_positions(positions: Frame, shocks: Frame) -> Frame:
    """Positions valued at the stressed prices (columns added, all USD unless named otherwise):

    growth_underlying = 1 + s_u, growth_quote = 1 + s_q, stressed_settle_price,
    stressed_upnl_usd, stressed_notional_usd, tier_notional (settle units at the stressed mark,
    NULL where a -100% shock makes it unbounded), isolated_equity_usd (NULL for cross),
    isolated_shortfall_usd (0 for cross).
    """
    return _stress_positions(positions, [shocks], [""])


def _growth_factors(shocks: list[Frame], suffixes: list[str]) -> Frame:
    """asset, growth<suffix> = 1 + shock for each scenario (side by side, one row per asset)."""
    import polars as pl

    factors = [
        frame.select("asset", (dec(ONE) + pl.col("shock")).alias(f"growth{suffix}"))
        for frame, suffix in zip(shocks, suffixes, strict=True)
    ]
    wide = factors[0]
    for factor in factors[1:]:
        wide = wide.join(factor, on="asset", how="full", coalesce=True)
    return wide


def _stress_positions(positions: Frame, shocks: list[Frame], suffixes: list[str]) -> Frame:
    """stress_positions for several scenarios at once: the columns of scenario k end in
    suffixes[k]. The joins and the split by kind are made once for every scenario."""
    import polars as pl

    from reports.valuation import float_estimate

    factors = _growth_factors(shocks, suffixes)

    def factor_on(key: str, prefix: str) -> Frame:
        names = {"asset": key} | {f"growth{x}": f"{prefix}{x}" for x in suffixes}
        return factors.rename(names)

    valued = (
        positions.join(factor_on("underlying", "growth_underlying"), on="underlying", how="left")
        .join(factor_on("quote_asset", "growth_quote"), on="quote_asset", how="left")
        .with_columns(
            pl.col(f"{prefix}{x}").fill_null(dec(ONE))
            for x in suffixes
            for prefix in ("growth_underlying", "growth_quote")
        )
    )
    signed_q = pl.col("base_quantity") * pl.col("side")
    quantity = pl.col("base_quantity")
    price = pl.col("settle_price")
    mark, entry = pl.col("mark_price"), pl.col("entry_price")

    def linear(x: str) -> dict[str, pl.Expr]:
        # settle = quote, so P'_settle = P_q x g_q. Notional in settle units selects the tier;
        # a -100% shock of the divisor makes it unbounded (NULL).
        g_u, g_q = pl.col(f"growth_underlying{x}"), pl.col(f"growth_quote{x}")
        return {
            f"stressed_settle_price{x}": price * g_q,
            f"stressed_upnl_usd{x}": signed_q * price * (mark * g_u - entry * g_q),
            f"stressed_notional_usd{x}": quantity * mark * g_u * price,
            f"tier_notional{x}": pl.when(g_q > 0).then((quantity * mark * g_u) / g_q),
        }

    def inverse(x: str, *, exact: bool) -> dict[str, pl.Expr]:
        # settle = underlying, P'_settle = P_u x g_u.
        g_u, g_q = pl.col(f"growth_underlying{x}"), pl.col(f"growth_quote{x}")
        if exact:  # multiplied, then divided once: exact to 18 decimals
            upnl = (signed_q * price * g_u) / entry - (signed_q * price * g_q) / mark
            notional = (quantity * price * g_q) / mark
        else:  # divided first: the rounding of sQ / E (1e-18) is then scaled by the price
            upnl = (signed_q / entry) * price * g_u - (signed_q / mark) * price * g_q
            notional = (quantity / mark) * price * g_q
        return {
            f"stressed_settle_price{x}": price * g_u,
            f"stressed_upnl_usd{x}": upnl,
            f"stressed_notional_usd{x}": notional,
            f"tier_notional{x}": pl.when(g_u > 0).then((quantity * g_q) / (mark * g_u)),
        }

    # Linear and inverse rows are valued apart: a when/then/otherwise would evaluate both
    # formulas (and the inverse one's divisions) on every row. An unknown kind (NULL) is valued
    # as linear, as before; the loader refuses positions of unknown instruments anyway.
    # An inverse position whose quote units x USD price x growth would leave Decimal(38, 18)
    # (1e16 BTCUSD contracts: 5e22, while every figure of the position fits; fuzzing of
    # 2026-12-05: CAP-04 failed and the report stopped with exit 4) is divided first; the
    # others keep the exact order (estimated in floats, with a margin of ten).
    is_inverse = pl.col("is_inverse").fill_null(False)
    growth = pl.max_horizontal(
        float_estimate(pl.col(f"{prefix}{x}"))
        for x in suffixes
        for prefix in ("growth_underlying", "growth_quote")
    )
    fits = (
        float_estimate(quantity).abs() * float_estimate(price) * growth.clip(lower_bound=1.0) < 1e19
    )
    inverse_rows = valued.filter(is_inverse)  # the estimate on these rows only
    valued = pl.concat(
        [
            valued.filter(~is_inverse).with_columns(**_merged(linear(x) for x in suffixes)),
            inverse_rows.filter(fits).with_columns(
                **_merged(inverse(x, exact=True) for x in suffixes)
            ),
            inverse_rows.filter(~fits).with_columns(
                **_merged(inverse(x, exact=False) for x in suffixes)
            ),
        ],
        how="vertical",
    )
    isolated = pl.col("margin_mode") == "isolated"
    return valued.with_columns(
        pl.when(isolated)
        .then(
            pl.col("isolated_margin").fill_null(dec(ZERO)) * pl.col(f"stressed_settle_price{x}")
            + pl.col(f"stressed_upnl_usd{x}")
        )
        .alias(f"isolated_equity_usd{x}")
        for x in suffixes
    ).with_columns(
        pl.when(isolated)
        .then((-pl.col(f"isolated_equity_usd{x}")).clip(lower_bound=dec(ZERO)))
        .otherwise(dec(ZERO))
        .alias(f"isolated_shortfall_usd{x}")
        for x in suffixes
    )


def _merged(parts: Iterable[dict[str, pl.Expr]]) -> dict[str, pl.Expr]:
    return {name: expr for part in parts for name, expr in part.items()}


def cross_equity(valued_positions: Frame, balances: Frame, prices: Frame) -> Frame:
    """Per account: account_id, group_id, cross_equity_usd = wallets x P' + cross uPnL' (USD).

    One aggregation over the wallets and the cross positions stacked (exact Decimal sums, so
    the order does not matter), rather than two aggregations and a full join; an account with
    neither has no row. Sorted by account_id.
    """
    return _cross_equity(valued_positions, balances, prices, [""]).sort("account_id")


def _cross_equity(
    valued_positions: Frame, balances: Frame, prices: Frame, suffixes: list[str]
) -> Frame:
    """cross_equity for several scenarios at once (prices: stressed_price<suffix> per scenario,
    valued_positions: _stress_positions'); one aggregation for all of them, not sorted (the group
    shortfalls aggregate it again)."""
    import polars as pl

    stressed = [f"stressed_price{x}" for x in suffixes]
    wallets = balances.join(prices.select("asset", *stressed), on="asset", how="left").select(
        "account_id",
        "group_id",
        *((pl.col("balance") * pl.col(f"stressed_price{x}")).alias(f"value{x}") for x in suffixes),
    )
    cross_pnl = valued_positions.filter(pl.col("margin_mode") == "cross").select(
        "account_id",
        "group_id",
        *(pl.col(f"stressed_upnl_usd{x}").alias(f"value{x}") for x in suffixes),
    )
    return (
        pl.concat([wallets, cross_pnl], how="vertical")
        .group_by("account_id", "group_id")
        .agg(pl.col(f"value{x}").sum().alias(f"cross_equity_usd{x}") for x in suffixes)
    )


def group_shortfalls(valued_positions: Frame, balances: Frame, prices: Frame) -> Frame:
    """group_id, isolated_shortfall_usd, cross_shortfall_usd, shortfall_usd; largest first
    (ties by group_id, so the order is deterministic)."""
    return _group_shortfalls(valued_positions, balances, prices, [""]).sort(
        ["shortfall_usd", "group_id"], descending=[True, False]
    )


def _group_shortfalls(
    valued_positions: Frame, balances: Frame, prices: Frame, suffixes: list[str]
) -> Frame:
    """group_shortfalls for several scenarios at once (columns ending in the scenario's
    suffix), not sorted."""
    import polars as pl

    # only isolated positions have an isolated shortfall (0 on cross ones); a group without
    # any still gets its row from the cross side (the full join below)
    isolated = (
        valued_positions.filter(pl.col("margin_mode") == "isolated")
        .group_by("group_id")
        .agg(pl.col(f"isolated_shortfall_usd{x}").sum() for x in suffixes)
    )
    cross = (
        _cross_equity(valued_positions, balances, prices, suffixes)
        .select(
            "group_id",
            *(
                (-pl.col(f"cross_equity_usd{x}"))
                .clip(lower_bound=dec(ZERO))
                .alias(f"cross_shortfall_usd{x}")
                for x in suffixes
            ),
        )
        .group_by("group_id")
        .agg(pl.col(f"cross_shortfall_usd{x}").sum() for x in suffixes)
    )
    return (
        isolated.join(cross, on="group_id", how="full", coalesce=True)
        .with_columns(
            pl.col(f"{side}_shortfall_usd{x}").fill_null(dec(ZERO))
            for x in suffixes
            for side in ("isolated", "cross")
        )
        .with_columns(
            (pl.col(f"isolated_shortfall_usd{x}") + pl.col(f"cross_shortfall_usd{x}")).alias(
                f"shortfall_usd{x}"
            )
            for x in suffixes
        )
    )


def cover_figure(shortfalls: list[Decimal], n: int) -> Decimal:
    """Cover-n: the sum of the n largest shortfalls (fewer groups: all of them)."""
    return sum(sorted(shortfalls, reverse=True)[:n], ZERO)


def cover_status(
    fund: Decimal, cover1: Decimal, cover2: Decimal, cover_n: Decimal, n: int
) -> tuple[str, str | None, Decimal | None]:
    """(status, metric, threshold) of CAP-04 for one scenario; see the module docstring."""
    if fund < cover1:
        return "breach", "cover1", cover1
    if fund < cover_n:
        return "breach", f"cover{n}", cover_n
    if n < 2 and fund < cover2:
        return "warn", "cover2", cover2
    return "pass", None, None


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    shocks: dict[str, Decimal]  # effective relative move per asset (non-zero ones)
    groups: pl.DataFrame  # group_shortfalls(): largest first
    cover: int  # N of the standard
    cover1_usd: Decimal
    cover2_usd: Decimal
    cover_n_usd: Decimal
    total_shortfall_usd: Decimal
    insurance_fund_usd: Decimal
    status: str
    metric: str | None
    threshold_usd: Decimal | None
    cascade: Any = field(default=None)  # CascadeResult when [stress] cascade_impact > 0
    # with a cascade: the moves as configured (`shocks` then holds the final, post-cascade ones)
    configured_shocks: dict[str, Decimal] | None = None
    # the named assets with a non-zero move the day does not price (outside StressInputs.assets,
    # so they move nothing; sorted): CAP-04 warns of them, and a scenario whose covers pass then
    # has status warn (metric None), as its CAP-04 row
    unpriced: tuple[str, ...] = ()

    @property
    def missing_usd(self) -> Decimal:
        """How far the fund falls short of the failed cover figure (0 on pass)."""
        if self.threshold_usd is None:
            return ZERO
        return self.threshold_usd - self.insurance_fund_usd


def evaluate_scenario(
    inputs: StressInputs, name: str, shocks: pl.DataFrame, cover: int
) -> ScenarioResult:
    """Shortfalls, Cover-1/Cover-2 and the CAP-04 status of one scenario at the given shocks."""
    return evaluate_scenarios(inputs, [(name, shocks)], cover)[0]


def evaluate_scenarios(
    inputs: StressInputs, scenarios: list[tuple[str, pl.DataFrame]], cover: int
) -> list[ScenarioResult]:
    """evaluate_scenario for each (name, shocks), in order, valued together: the joins, the
    split by kind and the aggregation by account and by group are made once for all of them
    (at 1M accounts two scenarios cost 1.3 s instead of 2.2 s). Scenarios share a plan up to
    POSITION_SCENARIOS_PER_PLAN client positions x scenarios; more are valued in several."""
    import polars as pl

    per_plan = max(1, POSITION_SCENARIOS_PER_PLAN // max(1, inputs.client_positions.height))
    if len(scenarios) > per_plan:  # memory grows with positions x scenarios
        return [
            result
            for start in range(0, len(scenarios), per_plan)
            for result in evaluate_scenarios(inputs, scenarios[start : start + per_plan], cover)
        ]
    if not scenarios:
        return []
    suffixes = [f"_{k}" for k in range(len(scenarios))]
    prices = [stressed_prices(inputs.prices, shocks) for _, shocks in scenarios]
    wide_prices = inputs.prices.select("asset")
    for frame, suffix in zip(prices, suffixes, strict=True):
        wide_prices = wide_prices.join(
            frame.select("asset", pl.col("stressed_price").alias(f"stressed_price{suffix}")),
            on="asset",
            how="left",
        )
    # One lazy plan (the functions work on frames and lazy frames alike): Polars then computes
    # only the columns the shortfalls need and runs the independent branches in parallel.
    valued = _stress_positions(
        inputs.client_positions.lazy(), [shocks.lazy() for _, shocks in scenarios], suffixes
    )
    wide = _group_shortfalls(
        valued, inputs.client_balances.lazy(), wide_prices.lazy(), suffixes
    ).collect()
    results = []
    for (name, shocks), scenario_prices, suffix in zip(scenarios, prices, suffixes, strict=True):
        groups = wide.select(
            "group_id",
            *(
                pl.col(f"{figure}{suffix}").alias(figure)
                for figure in ("isolated_shortfall_usd", "cross_shortfall_usd", "shortfall_usd")
            ),
        ).sort(["shortfall_usd", "group_id"], descending=[True, False])
        results.append(_scenario_result(inputs, name, shocks, scenario_prices, groups, cover))
    return results


def _scenario_result(
    inputs: StressInputs,
    name: str,
    shocks: pl.DataFrame,
    prices: pl.DataFrame,
    groups: pl.DataFrame,
    cover: int,
) -> ScenarioResult:
    """The cover figures and the CAP-04 status of one scenario from its group shortfalls
    (largest first) and stressed prices."""
    import polars as pl

    # groups is sorted largest first: the cover figures need its head only (not a Python list
    # of a million shortfalls); the total is summed exactly in Polars Decimal
    largest = groups.get_column("shortfall_usd").head(max(2, cover)).to_list()
    total = groups.get_column("shortfall_usd").sum()
    fund = (
        inputs.insurance_fund.join(prices.select("asset", "stressed_price"), on="asset", how="left")
        .select((pl.col("balance") * pl.col("stressed_price")).sum())
        .item()
    )
    fund = Decimal(fund) if fund is not None else ZERO
    cover1, cover2, cover_n = (cover_figure(largest, k) for k in (1, 2, cover))
    status, metric, threshold = cover_status(fund, cover1, cover2, cover_n, cover)
    return ScenarioResult(
        scenario=name,
        shocks=_moves(shocks),
        groups=groups,
        cover=cover,
        cover1_usd=cover1,
        cover2_usd=cover2,
        cover_n_usd=cover_n,
        total_shortfall_usd=Decimal(total) if total is not None else ZERO,
        insurance_fund_usd=fund,
        status=status,
        metric=metric,
        threshold_usd=threshold,
    )


def scenario_shocks(inputs: StressInputs, scenario: Scenario, config: Config) -> pl.DataFrame:
    # The reporting currency is the unit of account: "*" never shocks it, even when
    # stable_assets leaves it out (as capital, VaR and CON-05 already treat it).
    unshocked = (*config.firm.stable_assets, config.firm.reporting_currency)
    return shock_frame(inputs.assets, scenario.shocks, unshocked)


# --------------------------------------------------------------------------------------------
# Public API


@memoized_per_day  # computed once per run (reports/memo.py)
def stress_results(con: Any, as_of: Any, config: Config) -> list[ScenarioResult]:
    """Every configured scenario, in configuration order (cascade applied when configured)."""
    from dataclasses import replace

    from reports.stress.cascade import run_cascade

    inputs = load_stress_inputs(con, as_of)
    shocks = [scenario_shocks(inputs, scenario, config) for scenario in config.stress.scenarios]
    cascades: list[Any] = [None] * len(shocks)
    configured = [_moves(frame) for frame in shocks]
    if config.stress.cascade_impact > 0:
        cascades = [
            run_cascade(inputs, scenario.name, scenario_shock, config.stress.cascade_impact)
            for scenario, scenario_shock in zip(config.stress.scenarios, shocks, strict=True)
        ]
        shocks = [cascade.final_shock_frame() for cascade in cascades]
    names = [scenario.name for scenario in config.stress.scenarios]
    results = evaluate_scenarios(inputs, list(zip(names, shocks, strict=True)), config.stress.cover)
    results = [
        result if cascade is None else replace(result, cascade=cascade, configured_shocks=moves)
        for result, cascade, moves in zip(results, cascades, configured, strict=True)
    ]
    # a named asset the day does not price moves nothing: CAP-04 warns of the scenario, and
    # stress.csv, summary.json and the PDF say warn for it too, not pass (stress audit of
    # 2026-12-07: the table said pass beside CAP-04's warning on the same scenario)
    universe = set(inputs.assets)
    marked = []
    for result, scenario in zip(results, config.stress.scenarios, strict=True):
        unpriced = tuple(
            sorted(
                a for a, m in scenario.shocks.items() if a != "*" and m != 0 and a not in universe
            )
        )
        if unpriced:
            status = "warn" if result.status == "pass" else result.status
            result = replace(result, unpriced=unpriced, status=status)
        marked.append(result)
    return marked


def _moves(shocks: pl.DataFrame) -> dict[str, Decimal]:
    """The non-zero moves of a shock frame, by asset."""
    import polars as pl

    moved = shocks.filter(pl.col("shock") != 0)
    return dict(
        zip(moved.get_column("asset").to_list(), moved.get_column("shock").to_list(), strict=True)
    )


def results_table(results: list[ScenarioResult]) -> pl.DataFrame:
    """The stress.csv frame of scenario results (exact decimals, full precision)."""
    return _table(
        {
            "scenario": [r.scenario for r in results],
            "cover1_usd": [r.cover1_usd for r in results],
            "cover2_usd": [r.cover2_usd for r in results],
            "total_shortfall_usd": [r.total_shortfall_usd for r in results],
            "insurance_fund_usd": [r.insurance_fund_usd for r in results],
            "status": [r.status for r in results],
        }
    )


def error_table(scenarios: list[str]) -> pl.DataFrame:
    """The stress.csv frame when the scenarios could not be valued (the report names the
    error): each configured scenario, without figures, status `error` (DESIGN.md section 6)."""
    none = [None] * len(scenarios)
    return _table(
        {
            "scenario": scenarios,
            "cover1_usd": none,
            "cover2_usd": none,
            "total_shortfall_usd": none,
            "insurance_fund_usd": none,
            "status": ["error"] * len(scenarios),
        }
    )


def _table(columns: dict[str, list[Any]]) -> pl.DataFrame:
    import polars as pl

    money = decimal_type()
    return pl.DataFrame(
        columns,
        schema={
            "scenario": pl.String,
            "cover1_usd": money,
            "cover2_usd": money,
            "total_shortfall_usd": money,
            "insurance_fund_usd": money,
            "status": pl.String,
        },
    )


def stress_table(con: Any, as_of: Any, config: Config) -> pl.DataFrame:
    """stress.csv: scenario, cover1_usd, cover2_usd, total_shortfall_usd, insurance_fund_usd,
    status (pass/warn/breach), one row per configured scenario in configuration order.

    Amounts are Decimal(38,18) at full precision; the writer rounds reporting-currency amounts
    to 2 decimals half-even (DESIGN.md section 4) when it presents them.
    """
    return results_table(stress_results(con, as_of, config))
