"""Price paths: a seeded random walk per asset, stablecoins near (never assumed at) 1, marks on tick."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from reports.generate.universe import (
    DAILY_VOL,
    FACTOR_BETA,
    FACTOR_VOL,
    MAX_DAILY_MOVE,
    START_PRICE,
    UNIT,
    USDC,
    USDT,
    InstrumentArrays,
)

HISTORY_DAYS = 300  # back-filled asset prices before the first day (VaR window 250 + slack)
FUTURES_BASIS = 0.06  # annualised contango of the dated futures


@dataclass(frozen=True)
class Market:
    """Asset prices (USD) for day indices -HISTORY_DAYS .. days-1, as int64 units of 1e-8."""

    asset_units: np.ndarray  # shape (HISTORY_DAYS + days, assets)
    start: dt.date

    def asset_price_units(self, day: int) -> np.ndarray:
        return self.asset_units[HISTORY_DAYS + day]

    def asset_prices(self, day: int) -> np.ndarray:
        return self.asset_price_units(day) / UNIT

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)


def simulate_market(seed: int, days: int, start: dt.date) -> Market:
    rng = np.random.default_rng([seed, 0x5EED, 1])
    n = HISTORY_DAYS + days
    factor = rng.standard_normal(n) * FACTOR_VOL
    idio = rng.standard_normal((n, len(START_PRICE))) * DAILY_VOL
    returns = np.clip(factor[:, None] * FACTOR_BETA + idio, -MAX_DAILY_MOVE, MAX_DAILY_MOVE)
    returns[0] = 0.0
    path = np.cumsum(returns, axis=0)
    prices = START_PRICE * np.exp(
        path - path[HISTORY_DAYS - 1]
    )  # the day before the first is at START_PRICE
    # Stablecoins: a mean-reverting wobble of a few basis points around 1.
    noise = rng.standard_normal((n, 2)) * np.array([3e-4, 2e-4])
    wobble = np.zeros((n, 2))
    for t in range(1, n):  # loop over days (a few hundred), not over data rows
        wobble[t] = 0.8 * wobble[t - 1] + noise[t]
    wobble = np.clip(wobble, -0.003, 0.003)
    prices[:, USDT] = 1.0 + wobble[:, 0]
    prices[:, USDC] = 1.0 + wobble[:, 1]
    units = np.rint(prices * UNIT).astype(np.int64)
    for stable in (USDT, USDC):  # near 1 but never exactly 1
        exact = units[:, stable] == UNIT
        units[exact, stable] += 1 + stable
    units[:, 0] = UNIT  # USD
    return Market(units, start)


def marks_for_day(
    market: Market, day: int, arrays: InstrumentArrays, expiry: dt.date
) -> np.ndarray:
    """Mark prices (int64 units, on tick) of every instrument in its quote asset."""
    asset = market.asset_prices(day)
    mark = asset[arrays.underlying] / asset[arrays.quote]
    days_left = max((expiry - market.date(day)).days, 0)
    dated = ~arrays.perpetual
    mark[dated] *= 1.0 + FUTURES_BASIS * days_left / 365.0  # contango of the dated futures
    ticks = np.maximum(np.rint(mark * UNIT / arrays.tick_units), 1).astype(np.int64)
    return ticks * arrays.tick_units
