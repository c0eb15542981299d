"""Value at Risk and Expected Shortfall of the firm's own exposure (CAP-05, DESIGN.md sections 4-5).

Method: historical simulation, losses positive.
* Prices: the USD price of each asset per date up to the as-of date, from the stored snapshots'
  asset prices and the back-filled price_history rows (queries/stress/price_history.sql: one
  price per date and asset, the snapshot's wins; only rows loaded on or before the as-of date).
* Assets: an exposure asset whose own price history holds fewer than half the daily returns
  that the sample could have, min(window, the most any exposure asset has), is left out of the
  simulation (a coin listed this week would otherwise cut everyone's sample to a few days);
  its exposure is listed, and CAP-05 bounds its one-day loss by its whole exposure (below).
* Calendar: the dates on which every simulated asset has a price; a return is the simple return
  over one day, r_t = P_t / P_(t-1) - 1, where the calendar holds both day t and the day before
  (crypto prices every day: a move across a missing date is several days' move, not a daily
  return, and is left out); the last `[var] window` of them are used, so n = min(window, daily
  returns available). The report states n and the first and last price dates.
* Exposure (USD, exact, today's figures) of the house and insurance-fund accounts, per asset,
  stable assets ([firm] stable_assets) and the reporting currency excluded (cash-like for VaR;
  a de-peg belongs to a stress scenario naming the stablecoin):
    - linear positions: on the underlying, s x Q x M x P_quote (the brief's contract value),
      and on the quote (= settle) coin -s x Q x E x P_quote: the USD P&L s x Q x (M - E) x
      P_quote = s x Q x (P_u - E x P_quote) moves with both prices (only a non-stable quote
      counts, e.g. ETHBTC's BTC; USDT and USD are left out as below);
    - inverse positions: on the underlying (= settle coin), the coin value of the contracts plus
      their unrealised PnL, which is also held in that coin:
      s x Q / M x P_u + s x Q x (1/E - 1/M) x P_u = s x Q x P_u / E;
    - holdings: custody designated house or insurance_fund (what the firm really holds; the
      ledger balances of the house accounts are held there, so they are not added again).
  The same perimeter as K-NPR (DESIGN.md section 5).
* P&L_t = sum over assets of exposure_usd x r_t; loss_t = -P&L_t.
* VaR_q = the k-th worst loss, k = ceil(n x (1 - q)); ES_q = mean of the w worst losses,
  w = max(1, floor(n x (1 - q_es))); k and w are computed in exact decimal arithmetic (in
  floats 100 x (1 - 0.99) = 1.0000000000000009 would make k = 2).
* Statistics (returns, P&L, VaR, ES) are float64; VaR and ES are reported as Decimal rounded
  half-even to cents, from 1e13 USD to the 15 significant digits a float64 carries (shown).
CAP-05 compares max(VaR_q, ES_q_es) (the more severe of the two figures the report shows) with
[var] own_funds_share_warn x own funds: warn at or above. With assets left out, a figure below
the threshold passes only when it stays below it with the whole exposure of the left-out
assets added (a one-day loss bound: a long holding loses at most its value); otherwise CAP-05
is not_evaluated, naming them. Own funds by regime: ifr CET1 + AT1 +
T2, cftc adjusted_net_capital, mica CET1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from reports.capital.exact import half_even, unsigned_zero
from reports.memo import memoized_per_day
from reports.stress.scenarios import ZERO, dec, load_stress_inputs, run_query

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

    from reports.config import Config

FIRM_ACCOUNT_TYPES = ("house", "insurance_fund")
# What DECIMAL(38,18) holds (20 integer digits): a statistic (float) at or beyond it is stated
# in CAP-05's message, not stored as a figure.
DECIMAL_LIMIT = Decimal("1e20")
OWN_FUNDS_ITEMS = {
    "ifr": ("cet1", "at1", "tier2"),
    "cftc": ("adjusted_net_capital",),
    "mica": ("cet1",),
}
METHOD = (
    "Historical simulation over the last n daily returns of asset prices (stored snapshots and "
    "price_history, snapshot price wins; a move across a missing date is not a daily return "
    "and is left out), losses positive. Exposure: house and insurance-fund "
    "positions (linear s x Q x M x quote price on the underlying and -s x Q x entry x quote "
    "price on a non-stable quote coin; inverse s x Q x P / entry) plus house and "
    "insurance-fund custody, per non-stable asset, in USD at today's prices. "
    "P&L_t = sum of exposure x return_t. VaR_q = k-th worst loss, k = ceil(n x (1 - q)); "
    "ES_q' = mean of the w worst losses, w = max(1, floor(n x (1 - q'))), q' the ES confidence. "
    "An asset with fewer than half the daily returns of the sample is left out of it and "
    "listed; CAP-05 then passes only if the figure plus its whole exposure stays below the "
    "threshold. Statistics in float64."
)


@dataclass(frozen=True)
class TailStatistics:
    """VaR and ES of one P&L sample (pure result)."""

    n: int
    confidence: Decimal  # q of VaR
    k: int
    var: float
    es_confidence: Decimal
    w: int
    es: float


def tail_rank(n: int, confidence: Decimal) -> int:
    """k = ceil(n x (1 - q)), exact."""
    return int((Decimal(n) * (1 - Decimal(confidence))).to_integral_value(rounding=ROUND_CEILING))


def tail_count(n: int, es_confidence: Decimal) -> int:
    """w = max(1, floor(n x (1 - q))), exact."""
    return max(
        1, int((Decimal(n) * (1 - Decimal(es_confidence))).to_integral_value(rounding=ROUND_FLOOR))
    )


def historical_var_es(pnl: Any, confidence: Decimal, es_confidence: Decimal) -> TailStatistics:
    """VaR and ES by historical simulation of a P&L sample (gains positive, losses negative).

    VaR_q = the k-th worst loss, k = ceil(n x (1 - q)); ES = mean of the w worst losses,
    w = max(1, floor(n x (1 - q_es))). Losses are reported positive. float64 statistics.
    """
    import numpy as np

    values = np.asarray(pnl, dtype=np.float64)
    n = int(values.size)
    if n == 0:
        msg = "VaR needs at least one P&L observation"
        raise ValueError(msg)
    if not np.all(np.isfinite(values)):
        msg = "VaR P&L contains non-finite values"
        raise ValueError(msg)
    losses = np.sort(-values)[::-1]  # worst (largest loss) first
    k = min(tail_rank(n, confidence), n)
    w = min(tail_count(n, es_confidence), n)
    return TailStatistics(
        n=n,
        confidence=Decimal(confidence),
        k=k,
        var=float(losses[k - 1]),
        es_confidence=Decimal(es_confidence),
        w=w,
        es=float(math.fsum(losses[:w]) / w),
    )


# The significant digits a float64 carries (DBL_DIG): a VaR or ES from 1e13 USD has more than
# that to the cent, and its shortest repr's last digits mean nothing.
FLOAT_DIGITS = 15


def shown(value: float) -> Decimal:
    """A float statistic as presented: its shortest repr, rounded (half-even) to FLOAT_DIGITS
    significant digits where its cents would show more (from 1e13; an ES of absurd inputs read
    1,115,388,207,906,685.90 USD, 19 digits; numbers audit of 2026-12-07). Below 1e13 it is the
    repr itself, so normal figures are unchanged."""
    figure = unsigned_zero(Decimal(repr(value)))  # a loss of -0.0: every return 0
    if figure.is_finite() and not figure.is_zero() and figure.adjusted() >= FLOAT_DIGITS - 2:
        return half_even(figure, FLOAT_DIGITS - 1 - figure.adjusted())
    return figure


def shown_against(value: float, threshold: Decimal | None) -> Decimal:
    """shown(value) where it is graded against `threshold`: the float's own repr instead where
    the 15 digits would reach the threshold or cross it while the full figure does not (a VaR
    of 999,999,999,999,999.875 that passes against 1e15 read "1,000,000,000,000,000.00 ... is
    below ... 1,000,000,000,000,000.00"; review of 2026-12-07)."""
    figure = shown(value)
    if threshold is None:
        return figure
    full = Decimal(repr(value))
    if (figure >= threshold) != (full >= threshold) or (figure == threshold) != (full == threshold):
        return full
    return figure


def cents(figure: Decimal) -> Decimal:
    """A shown figure to the cent, half-even; a gain under half a cent is 0.00, not -0.00."""
    return unsigned_zero(half_even(figure, 2))


def to_cents(value: float) -> Decimal:
    return cents(shown(value))  # any size: CAP-05 warns with its figure


def returns_matrix(
    history: pl.DataFrame, assets: list[str], window: int
) -> tuple[list[date], np.ndarray]:
    """(price dates used, returns[n, len(assets)]) of the last `window` daily returns on the
    calendar of dates where every asset has a price: only pairs of consecutive days (a return
    across a missing date spans several days and is left out). The dates run from the base of
    the first return to the last. With no assets: the calendar of dates that have any price."""
    import numpy as np
    import polars as pl

    if assets:
        wide = (
            history.filter(pl.col("asset").is_in(assets))
            .with_columns(pl.col("price").cast(pl.Float64))  # statistics: float64
            .pivot(on="asset", index="date", values="price")
            .drop_nulls()
            .sort("date")
        )
        missing = [a for a in assets if a not in wide.columns]
        if missing:
            return [], np.zeros((0, len(assets)))
        wide = wide.select("date", *assets)
    else:
        wide = history.select("date").unique().sort("date")
    # row i + 1 over row i, kept where the two dates are one day apart
    daily = (
        wide.with_row_index("row")
        .filter((pl.col("date") - pl.col("date").shift(1)) == pl.duration(days=1))
        .tail(window)
        .get_column("row")
        .to_numpy()
    )
    if daily.size == 0:
        return wide.get_column("date").to_list()[-1:], np.zeros((0, len(assets)))
    dates = wide.get_column("date").to_list()[int(daily[0]) - 1 : int(daily[-1]) + 1]
    if not assets:
        return dates, np.zeros((daily.size, 0))
    prices = wide.select(assets).to_numpy()
    returns = prices[daily] / prices[daily - 1] - 1.0
    return dates, returns


def own_daily_returns(history: pl.DataFrame, assets: list[str]) -> dict[str, int]:
    """asset -> the number of daily returns in its own price history (dates whose previous
    calendar day is priced too), 0 for an asset without any."""
    import polars as pl

    counted = (
        history.filter(pl.col("asset").is_in(assets))
        .sort("asset", "date")
        .group_by("asset")
        .agg((pl.col("date").diff() == pl.duration(days=1)).sum().alias("returns"))
    )
    found = dict(counted.iter_rows())
    return {asset: int(found.get(asset) or 0) for asset in assets}


def short_histories(own: dict[str, int], window: int) -> list[str]:
    """The assets whose own history holds fewer than half the daily returns of the sample the
    others allow, min(window, the most any asset has): left out of the simulation, so that a
    coin listed yesterday does not shrink everyone's sample to one day (stress review of
    2026-12-05: n fell from 250 to 2 and CAP-05 passed). A gap of a few days, or a history a
    little shorter than the window, keeps its asset in (the sample is then the common one)."""
    target = min(window, max(own.values(), default=0))
    return sorted(asset for asset, count in own.items() if 2 * count < target)


def firm_exposure(
    inputs: Any, stable_assets: tuple[str, ...], reporting_currency: str
) -> pl.DataFrame:
    """asset, exposure_usd (exact): house + insurance-fund positions and custody, per asset."""
    import polars as pl

    from reports.valuation import float_estimate

    firm = inputs.positions.filter(pl.col("account_type").is_in(FIRM_ACCOUNT_TYPES))
    signed_q = pl.col("base_quantity") * pl.col("side")
    settle, entry = pl.col("settle_price"), pl.col("entry_price")
    is_inverse = pl.col("is_inverse").fill_null(False)
    # Linear and inverse apart (a when/then computed the linear formula on inverse rows too),
    # and an inverse contract's USD amount divided by its entry price before its coin's USD
    # price multiplies it where their product would leave Decimal(38, 18) (1e16 BTCUSD
    # contracts: 5e22 for a position that fits; fuzzing of 2026-12-05: CAP-05 failed and the
    # report stopped with exit 4); elsewhere multiplied first, which is exact.
    fits = float_estimate(pl.col("base_quantity")).abs() * float_estimate(settle) < 1e19
    position_delta = pl.concat(
        [
            firm.filter(~is_inverse).select(
                asset=pl.col("underlying"),
                exposure_usd=signed_q * pl.col("mark_price") * settle,
            ),
            firm.filter(is_inverse & fits).select(
                asset=pl.col("underlying"), exposure_usd=(signed_q * settle) / entry
            ),
            firm.filter(is_inverse & ~fits).select(
                asset=pl.col("underlying"), exposure_usd=(signed_q / entry) * settle
            ),
        ]
    )
    # a linear contract's USD P&L s x Q x (P_u - E x P_q) also moves with its quote (= settle)
    # coin: -s x Q x E x P_q on it; nothing for USDT or USD quotes, which are left out below
    # (stress review of 2026-12-05: an ETHBTC position's BTC risk was missing)
    quote_delta = firm.filter(~pl.col("is_inverse").fill_null(False)).select(
        asset=pl.col("settle_asset"),
        exposure_usd=-(signed_q * pl.col("entry_price") * pl.col("settle_price")),
    )
    holdings = inputs.firm_custody.join(inputs.prices, on="asset", how="left").select(
        "asset", exposure_usd=pl.col("balance") * pl.col("price")
    )
    excluded = [*stable_assets, reporting_currency]
    return (
        pl.concat([position_delta, quote_delta, holdings])
        .filter(~pl.col("asset").is_in(excluded))
        .group_by("asset")
        .agg(pl.col("exposure_usd").sum())
        .filter(pl.col("exposure_usd") != dec(ZERO))
        .sort("asset")
    )


def own_funds(capital: pl.DataFrame, regime: str) -> tuple[Decimal | None, str]:
    """(own funds, description) by regime; None when none of the regime's items is present."""
    items = OWN_FUNDS_ITEMS[regime]
    present = dict(
        zip(
            capital.get_column("item").to_list(),
            capital.get_column("amount").to_list(),
            strict=True,
        )
    )
    if not any(item in present for item in items):
        return None, f"capital item {' / '.join(items)} missing"
    total = sum((Decimal(present.get(item) or 0) for item in items), ZERO)
    return total, " + ".join(items)


@dataclass(frozen=True)
class VarResult:
    evaluated: bool
    reason: str | None  # why not evaluated
    n: int
    confidence: Decimal
    k: int
    es_confidence: Decimal
    w: int
    var_usd: Decimal | None  # presented figures: the statistics rounded to cents
    es_usd: Decimal | None
    window: int  # configured maximum number of returns
    window_start: date | None  # first price date (base of the first return)
    window_end: date | None  # last price date
    exposure: dict[str, Decimal] = field(default_factory=dict)  # asset -> USD
    # assets left out of the simulation for too short a price history (short_histories):
    # asset -> its own daily returns; their exposure is in `exposure`
    left_out: dict[str, int] = field(default_factory=dict)
    own_funds: Decimal | None = None
    own_funds_items: str = ""
    share: Decimal = Decimal("0.25")
    method: str = METHOD
    # The statistics at full precision (float64): CAP-05 compares these, not their cents, so
    # that a figure half a cent below the threshold is not flagged (DESIGN.md section 4:
    # compute at full precision, round only for presentation).
    var: float | None = None
    es: float | None = None

    @property
    def threshold_usd(self) -> Decimal | None:
        return None if self.own_funds is None else self.share * self.own_funds

    @property
    def measure(self) -> tuple[str, Decimal] | None:
        """CAP-05's figure: ('var' or 'es', its value in cents), the larger of the two at full
        precision (VaR on ties)."""
        if self.var is None or self.es is None or self.var_usd is None or self.es_usd is None:
            return None
        return ("var", self.var_usd) if self.var >= self.es else ("es", self.es_usd)

    @property
    def min_returns(self) -> int:
        """The fewest daily returns whose VaR CAP-05 lets pass: 1 / (1 - q) (100 at 99%), so
        that the k-th worst loss is a quantile and not merely the worst of a few days, or the
        configured window when it is shorter (a venue that chose it accepts that sample)."""
        return min(
            self.window, int((1 / (1 - self.confidence)).to_integral_value(rounding=ROUND_CEILING))
        )

    @property
    def left_out_usd(self) -> Decimal:
        """The sum of |exposure| of the assets left out: a bound on their one-day loss (a long
        holding loses at most its value; a short would need its price to double in a day)."""
        return sum((abs(self.exposure[a]) for a in self.left_out), Decimal(0))

    @property
    def full_measure(self) -> Decimal | None:
        """The larger of VaR and ES at full precision (the float's shortest decimal form), what
        CAP-05 grades; None when either is unknown."""
        if self.var is None or self.es is None:
            return None
        return Decimal(repr(max(self.var, self.es)))

    @property
    def shown_measure(self) -> Decimal | None:
        """full_measure as a message prints it: with the digits a float64 carries, on the
        threshold's side that full_measure is on (shown_against)."""
        if self.var is None or self.es is None:
            return None
        return shown_against(max(self.var, self.es), self.threshold_usd)

    @property
    def reaches_threshold(self) -> bool:
        """Whether the larger of VaR and ES, at full precision, is at or above the threshold
        (False when either is unknown)."""
        figure = self.full_measure
        if figure is None or self.threshold_usd is None:
            return False
        return figure >= self.threshold_usd


def not_evaluated(config: Config, reason: str | None) -> VarResult:
    """A VarResult of the configuration without figures or inputs: var_es's start, and the
    report's when var_es failed (`reason` says why)."""
    return VarResult(
        evaluated=False,
        reason=reason,
        n=0,
        confidence=config.var.confidence,
        k=0,
        es_confidence=config.var.es_confidence,
        w=0,
        var_usd=None,
        es_usd=None,
        window=config.var.window,
        window_start=None,
        window_end=None,
        share=config.var.own_funds_share_warn,
    )


@memoized_per_day  # computed once per run (reports/memo.py)
def var_es(con: Any, as_of: Any, config: Config) -> VarResult:
    """VaR and ES of the house + insurance-fund exposure on `as_of` (see the module docstring)."""
    inputs = load_stress_inputs(con, as_of, FIRM_ACCOUNT_TYPES)  # not the clients' millions
    exposure = firm_exposure(inputs, config.firm.stable_assets, config.firm.reporting_currency)
    assets = exposure.get_column("asset").to_list()
    history = run_query(con, "price_history", as_of)
    funds, items = own_funds(run_query(con, "capital", as_of), config.capital.regime)
    own = own_daily_returns(history, assets)
    short = short_histories(own, config.var.window)
    simulated = [a for a in assets if a not in short]
    dates, returns = returns_matrix(history, simulated, config.var.window)
    exposure_usd: dict[str, Decimal] = dict(
        zip(assets, exposure.get_column("exposure_usd").to_list(), strict=True)
    )
    result = replace(
        not_evaluated(config, None),
        window_start=dates[0] if dates else None,
        window_end=dates[-1] if dates else None,
        exposure=exposure_usd,
        left_out={asset: own[asset] for asset in short},
        own_funds=funds,
        own_funds_items=items,
    )
    if not assets:
        # no exposure to a non-stable asset: every return of every sample gives a P&L of 0, so
        # VaR and ES are 0 whatever history is stored (stress audit of 2026-12-07: CAP-05 was
        # not_evaluated, asking for a price_history that could change nothing)
        n = int(returns.shape[0])  # the daily returns of the stored prices, if any
        return replace(
            result,
            evaluated=True,
            n=n,
            k=min(tail_rank(n, result.confidence), n),
            w=min(tail_count(n, result.es_confidence), n),
            var_usd=to_cents(0.0),
            es_usd=to_cents(0.0),
            var=0.0,
            es=0.0,
        )
    if returns.shape[0] == 0:
        reason = (
            f"no two consecutive days with a price for every exposure asset "
            f"({', '.join(simulated) or 'none'}) up to {as_of}; load price_history to back-fill"
        )
        return replace(result, reason=reason)
    import numpy as np

    weights = np.array([float(exposure_usd[a]) for a in simulated], dtype=np.float64)
    pnl = returns @ weights if weights.size else np.zeros(returns.shape[0])
    stats = historical_var_es(pnl, config.var.confidence, config.var.es_confidence)
    return replace(
        result,
        evaluated=True,
        n=stats.n,
        k=stats.k,
        w=stats.w,
        var_usd=to_cents(stats.var),
        es_usd=to_cents(stats.es),
        var=stats.var,
        es=stats.es,
    )
