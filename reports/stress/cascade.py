"""Liquidation cascade: how far a scenario's shock propagates through forced liquidations.

Starting from a scenario's shocked prices, in rounds:

1. value every open client position at the round's prices (reports.stress.scenarios) and its
   maintenance margin at the stressed mark, the tier recomputed from the stressed notional
   (MM USD = stressed notional USD x mmr - cum x P'_settle; a position whose instrument has no
   tiers has MM = 0; a notional beyond the last finite cap uses the last tier);
2. liquidate what is at or below maintenance (DESIGN.md section 4, "liquidation when equity <= MM"):
   - an isolated position when isolated_margin x P'_settle + uPnL' <= MM (USD);
   - a cross account, all its cross positions at once, when its cross equity (wallets at
     stressed prices + cross uPnL', netted across assets, USD) <= the sum of their MM;
3. the liquidated notional moves each underlying further in the direction of the scenario's
   shock of that underlying (a relative move, from today's price, ADDED to the shock):
       shock_u(next round) = max(-1, shock_u + sign(scenario shock_u) x impact x N_u)
   where N_u is the USD notional (at the round's prices) liquidated on underlying u in the
   round and impact = [stress] cascade_impact (per USD: impact 1e-9 moves a price 1% per
   10,000,000 USD liquidated). An underlying the scenario leaves unshocked has no direction and
   does not move. Only underlyings move: a price change of other assets is the scenario's.
4. stop when a round liquidates nothing new, when impact = 0 (round 1 only: no cascade), when no
   price moved, or after MAX_ROUNDS rounds (`capped` then says the cascade was cut short).

Each round is vectorised (Polars); only the rounds are a Python loop. Money is exact Decimal.
Since moves only ever push prices further in the scenario's direction, the set of liquidated
positions and the price moves grow monotonically from round to round.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reports.stress.scenarios import (
    ONE,
    ZERO,
    StressInputs,
    cross_equity,
    dec,
    decimal_type,
    load_stress_inputs,
    scenario_shocks,
    stress_positions,
    stressed_prices,
)

if TYPE_CHECKING:
    import polars as pl

    from reports.config import Config, Scenario

MAX_ROUNDS = 20
# The cascade moves a price up by at most this much beyond today's (+900%: ten times the
# price), or beyond the scenario's own shock when that is larger. Upward moves feed on
# themselves (a higher price liquidates more notional, which moves the price further): without
# a ceiling a large venue left DECIMAL(38,18) within 20 rounds (BTC x3,150,000 at 1M accounts
# and impact 1e-7; CAP-04 an error at 1e-6: review of 2026-12-05). `at_ceiling` says so.
MAX_UP_MOVE = Decimal(9)


@dataclass(frozen=True)
class CascadeRound:
    round: int  # 1 = liquidations at the scenario's own shocks
    price_moves: dict[str, Decimal]  # relative move from today's price in force during the round
    liquidated_positions: int  # newly liquidated in this round
    liquidated_notional_usd: Decimal
    cumulative_positions: int
    cumulative_notional_usd: Decimal


@dataclass(frozen=True)
class CascadeResult:
    scenario: str
    impact: Decimal
    max_rounds: int
    rounds: tuple[CascadeRound, ...]
    final_shocks: dict[str, Decimal]  # every asset's relative move at the end (zeros included)
    capped: bool  # stopped by MAX_ROUNDS while prices were still moving
    liquidated: pl.DataFrame  # position_id, account_id, group_id, underlying, round, notional_usd
    at_ceiling: bool = False  # an upward move stopped at MAX_UP_MOVE

    @property
    def total_positions(self) -> int:
        return self.rounds[-1].cumulative_positions if self.rounds else 0

    @property
    def total_notional_usd(self) -> Decimal:
        return self.rounds[-1].cumulative_notional_usd if self.rounds else ZERO

    def final_moves_text(self) -> str:
        """The final relative moves of the moved assets, e.g. 'BTC -47%, ETH -30%'."""
        moved = sorted((a, m) for a, m in self.final_shocks.items() if m != 0)
        return ", ".join(f"{a} {(m * 100).normalize():f}%" for a, m in moved) or "none"

    def final_shock_frame(self) -> pl.DataFrame:
        import polars as pl

        return pl.DataFrame(
            {"asset": list(self.final_shocks), "shock": list(self.final_shocks.values())},
            schema={"asset": pl.String, "shock": decimal_type()},
        )

    def rounds_frame(self) -> pl.DataFrame:
        """One row per round and moved asset: round, asset, price_move, liquidated_positions,
        liquidated_notional_usd, cumulative_positions, cumulative_notional_usd."""
        import polars as pl

        rows = [
            (
                r.round,
                asset,
                move,
                r.liquidated_positions,
                r.liquidated_notional_usd,
                r.cumulative_positions,
                r.cumulative_notional_usd,
            )
            for r in self.rounds
            for asset, move in _moves_or_none(r.price_moves)
        ]
        money = decimal_type()
        return pl.DataFrame(
            rows,
            schema={
                "round": pl.Int64,
                "asset": pl.String,
                "price_move": money,
                "liquidated_positions": pl.Int64,
                "liquidated_notional_usd": money,
                "cumulative_positions": pl.Int64,
                "cumulative_notional_usd": money,
            },
            orient="row",
        )


def _moves_or_none(moves: dict[str, Decimal]) -> list[tuple[str | None, Decimal]]:
    """The round's moves sorted by asset; one (None, 0) row when nothing moved."""
    return list(sorted(moves.items())) or [(None, ZERO)]


def with_maintenance_margin(valued: pl.DataFrame, tiers: pl.DataFrame) -> pl.DataFrame:
    """Add mmr, cum and maintenance_margin_usd at the stressed mark (tier recomputed)."""
    import polars as pl

    last_floor = tiers.group_by("instrument_id").agg(last_floor=pl.col("notional_floor").max())
    candidates = (
        valued.select("position_id", "instrument_id", "tier_notional")
        .join(tiers, on="instrument_id", how="inner")
        .join(last_floor, on="instrument_id", how="left")
        .filter(
            pl.when(pl.col("tier_notional").is_null())
            .then(pl.col("notional_floor") == pl.col("last_floor"))
            .otherwise(pl.col("tier_notional") >= pl.col("notional_floor"))
        )
        .sort(["position_id", "notional_floor"])
        .group_by("position_id", maintain_order=True)
        .last()
        .select(
            "position_id",
            mmr=pl.col("maintenance_margin_rate"),
            cum=pl.col("maintenance_amount"),
        )
    )
    return (
        valued.join(candidates, on="position_id", how="left")
        .with_columns(pl.col("mmr").fill_null(dec(ZERO)), pl.col("cum").fill_null(dec(ZERO)))
        .with_columns(
            maintenance_margin_usd=pl.col("stressed_notional_usd") * pl.col("mmr")
            - pl.col("cum") * pl.col("stressed_settle_price")
        )
    )


def liquidatable(
    positions: pl.DataFrame,
    balances: pl.DataFrame,
    prices: pl.DataFrame,
    tiers: pl.DataFrame,
    shocks: pl.DataFrame,
) -> pl.DataFrame:
    """The positions at or below maintenance at these shocks (isolated one by one, cross by
    account), with their stressed notional (USD)."""
    import polars as pl

    valued = with_maintenance_margin(stress_positions(positions, shocks), tiers)
    isolated = valued.filter(
        (pl.col("margin_mode") == "isolated")
        & (pl.col("isolated_equity_usd") <= pl.col("maintenance_margin_usd"))
    )
    cross_positions = valued.filter(pl.col("margin_mode") == "cross")
    cross_mm = cross_positions.group_by("account_id").agg(
        cross_mm_usd=pl.col("maintenance_margin_usd").sum()
    )
    failing_accounts = (
        cross_equity(valued, balances, stressed_prices(prices, shocks))
        .join(cross_mm, on="account_id", how="inner")
        .filter(pl.col("cross_equity_usd") <= pl.col("cross_mm_usd"))
        .select("account_id")
    )
    cross = cross_positions.join(failing_accounts, on="account_id", how="semi")
    columns = ["position_id", "account_id", "group_id", "underlying", "stressed_notional_usd"]
    return pl.concat([isolated.select(columns), cross.select(columns)]).sort("position_id")


def run_cascade(
    inputs: StressInputs,
    scenario: str,
    shocks: pl.DataFrame,
    impact: Decimal,
    max_rounds: int = MAX_ROUNDS,
) -> CascadeResult:
    """The cascade of one scenario (pure: inputs and the scenario's shock frame in)."""
    import polars as pl

    positions = inputs.client_positions
    balances = inputs.client_balances
    direction = shocks.select(
        "asset",
        direction=pl.when(pl.col("shock") > 0)
        .then(dec(ONE))
        .when(pl.col("shock") < 0)
        .then(dec(-1))
        .otherwise(dec(ZERO)),
    )
    current = shocks.select("asset", "shock")
    done = pl.DataFrame(
        schema={
            "position_id": pl.String,
            "account_id": pl.String,
            "group_id": pl.String,
            "underlying": pl.String,
            "round": pl.Int64,
            "notional_usd": decimal_type(),
        }
    )
    rounds: list[CascadeRound] = []
    capped = False
    at_ceiling = False
    for number in range(1, max_rounds + 1):
        open_positions = positions.join(done, on="position_id", how="anti")
        new = liquidatable(open_positions, balances, inputs.prices, inputs.tiers, current)
        if new.is_empty():
            break
        new = new.select(
            "position_id",
            "account_id",
            "group_id",
            "underlying",
            round=pl.lit(number, dtype=pl.Int64),
            notional_usd=pl.col("stressed_notional_usd"),
        )
        done = pl.concat([done, new])
        moved = current.filter(pl.col("shock") != 0)
        rounds.append(
            CascadeRound(
                round=number,
                price_moves=dict(
                    zip(moved["asset"].to_list(), moved["shock"].to_list(), strict=True)
                ),
                liquidated_positions=new.height,
                liquidated_notional_usd=_total(new),
                cumulative_positions=done.height,
                cumulative_notional_usd=_total(done),
            )
        )
        if impact == 0:
            break
        pressure = new.group_by("underlying").agg(notional_usd=pl.col("notional_usd").sum())
        updated = (
            current.join(pressure.rename({"underlying": "asset"}), on="asset", how="left")
            .join(direction, on="asset", how="left")
            .with_columns(
                moved=pl.max_horizontal(
                    dec(-1),
                    pl.col("shock")
                    + pl.col("direction").fill_null(dec(ZERO))
                    * dec(impact)
                    * pl.col("notional_usd").fill_null(dec(ZERO)),
                ),
                ceiling=pl.max_horizontal(dec(MAX_UP_MOVE), pl.col("shock")),
            )
            .with_columns(
                # the ceiling keeps every later product (a quantity x price x growth) in range
                shock=pl.min_horizontal(pl.col("ceiling"), pl.col("moved")),
                stopped=pl.col("moved") > pl.col("ceiling"),
            )
        )
        at_ceiling = at_ceiling or bool(updated.get_column("stopped").any())
        updated = updated.select("asset", "shock")
        if updated.equals(current):
            break
        current = updated
        if number == max_rounds:
            capped = True
    return CascadeResult(
        scenario=scenario,
        impact=impact,
        max_rounds=max_rounds,
        rounds=tuple(rounds),
        final_shocks=dict(zip(current["asset"].to_list(), current["shock"].to_list(), strict=True)),
        capped=capped,
        liquidated=done.sort(["round", "position_id"]),
        at_ceiling=at_ceiling,
    )


def _total(frame: pl.DataFrame) -> Decimal:
    value = frame.get_column("notional_usd").sum()
    return Decimal(value) if value is not None else ZERO


def cascade(con: Any, as_of: Any, config: Config, scenario: Scenario | str) -> CascadeResult:
    """The liquidation cascade of one configured scenario (by name or Scenario) on `as_of`,
    with the configured impact ([stress] cascade_impact; 0 = round 1 only)."""
    from reports.errors import UsageError

    if isinstance(scenario, str):
        by_name = {s.name: s for s in config.stress.scenarios}
        if scenario not in by_name:
            msg = (
                f"unknown stress scenario {scenario!r}; configured: "
                f"{', '.join(by_name) or 'none'} (see [[stress.scenarios]] in mir.toml)"
            )
            raise UsageError(msg)
        scenario = by_name[scenario]
    inputs = load_stress_inputs(con, as_of)
    shocks = scenario_shocks(inputs, scenario, config)
    return run_cascade(inputs, scenario.name, shocks, config.stress.cascade_impact)
