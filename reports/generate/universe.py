"""The static world of the synthetic venue: assets, instruments, risk tiers, custodians.

Everything here is small reference data (a dozen instruments, a handful of wallets), so plain
Python is fine; the per-account and per-position data lives in numpy arrays elsewhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np

UNIT = 100_000_000  # amounts, prices and rates are int64 counts of 1e-8
SCALE = 8

# Asset universe. USD is fiat (bank accounts); it is the reporting currency, so it has no price row.
ASSETS = ("USD", "USDT", "USDC", "BTC", "ETH", "SOL", "XRP", "DOGE")
ASSET_INDEX = {a: i for i, a in enumerate(ASSETS)}
USD, USDT, USDC, BTC, ETH, SOL, XRP, DOGE = range(len(ASSETS))
STABLE = np.array([a in ("USD", "USDT", "USDC") for a in ASSETS])
PRICED = np.array([a != "USD" for a in ASSETS])  # assets with a row in prices / price_history

START_PRICE = np.array([1.0, 1.0, 1.0, 87_000.0, 3_000.0, 140.0, 2.2, 0.18])
# Daily volatility of the idiosyncratic part and loading on a common crypto factor.
DAILY_VOL = np.array([0.0, 0.0, 0.0, 0.020, 0.025, 0.035, 0.032, 0.040])
FACTOR_BETA = np.array([0.0, 0.0, 0.0, 1.0, 1.2, 1.4, 1.2, 1.5])
FACTOR_VOL = 0.018
TIER_KEY_SPAN = 1e13  # instrument-major keys for one tier lookup over all instruments
MAX_DAILY_MOVE = (
    0.15  # returns are clipped: a cross account at 4x leverage cannot go negative overnight
)


@dataclass(frozen=True)
class TierTable:
    floors: tuple[int, ...]  # notional floors in settle-asset units (whole numbers)
    mmr: tuple[str, ...]  # maintenance margin rates as decimal strings
    max_leverage: tuple[int, ...]
    write_amount: bool  # False = leave maintenance_amount empty so the loader computes it

    def cum(self) -> list[Decimal]:
        """cum_n = floor_n x (mmr_n - mmr_(n-1)) + cum_(n-1), cum_1 = 0 (DESIGN.md section 3)."""
        out = [Decimal(0)]
        for n in range(1, len(self.floors)):
            out.append(
                Decimal(self.floors[n]) * (Decimal(self.mmr[n]) - Decimal(self.mmr[n - 1]))
                + out[-1]
            )
        return out


# The BTCUSDT-like table of shared/reference/README.md (USDT).
BTC_LINEAR = TierTable(
    (
        0,
        50_000,
        250_000,
        1_000_000,
        10_000_000,
        20_000_000,
        50_000_000,
        100_000_000,
        200_000_000,
        300_000_000,
    ),
    ("0.004", "0.005", "0.01", "0.025", "0.05", "0.1", "0.125", "0.15", "0.25", "0.5"),
    (125, 100, 50, 20, 10, 5, 4, 3, 2, 1),
    True,
)
ETH_LINEAR = TierTable(
    (0, 50_000, 250_000, 1_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000, 100_000_000),
    ("0.005", "0.0065", "0.01", "0.02", "0.05", "0.1", "0.125", "0.15", "0.25"),
    (100, 75, 50, 25, 10, 5, 4, 3, 2),
    True,
)
ALT_LINEAR = TierTable(
    (0, 10_000, 50_000, 250_000, 1_000_000, 5_000_000),
    ("0.01", "0.015", "0.025", "0.05", "0.1", "0.125"),
    (50, 40, 20, 10, 5, 4),
    True,
)
# Coin-margined tables, notional in BTC / ETH; maintenance_amount left to the loader.
BTC_INVERSE = TierTable(
    (0, 5, 10, 25, 50, 100, 200),
    ("0.004", "0.005", "0.01", "0.025", "0.05", "0.1", "0.125"),
    (125, 100, 50, 20, 10, 5, 4),
    False,
)
ETH_INVERSE = TierTable(
    (0, 50, 100, 250, 500, 1_000),
    ("0.005", "0.0065", "0.01", "0.02", "0.05", "0.1"),
    (100, 75, 50, 25, 10, 5),
    False,
)
BTC_LINEAR_FUTURE = TierTable(BTC_LINEAR.floors, BTC_LINEAR.mmr, BTC_LINEAR.max_leverage, False)
ETH_LINEAR_FUTURE = TierTable(ETH_LINEAR.floors, ETH_LINEAR.mmr, ETH_LINEAR.max_leverage, False)


@dataclass(frozen=True)
class Instrument:
    instrument_id: str
    kind: str
    underlying: int  # asset index
    quote: int
    settle: int
    contract_size: str  # decimal string: underlying units (linear) or USD (inverse)
    tick: str  # mark / entry price tick
    tiers: TierTable
    popularity: float  # relative weight when a client picks an instrument in its settle asset

    @property
    def inverse(self) -> bool:
        return self.kind.startswith("inverse")

    @property
    def perpetual(self) -> bool:
        return self.kind.endswith("perpetual")


def quarterly_expiry(after: dt.date) -> dt.date:
    """The last Friday of the first quarter-end month at least 30 days after `after`."""
    target = after + dt.timedelta(days=30)
    month = ((target.month - 1) // 3 + 1) * 3
    year = target.year
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - 4) % 7)


def build_instruments(expiry: dt.date) -> tuple[list[Instrument], dt.date]:
    suffix = expiry.strftime("%y%m%d")
    inst = [
        Instrument("BTCUSDT", "linear_perpetual", BTC, USDT, USDT, "0.001", "0.1", BTC_LINEAR, 40),
        Instrument("ETHUSDT", "linear_perpetual", ETH, USDT, USDT, "0.01", "0.01", ETH_LINEAR, 25),
        Instrument("SOLUSDT", "linear_perpetual", SOL, USDT, USDT, "0.1", "0.001", ALT_LINEAR, 10),
        Instrument("XRPUSDT", "linear_perpetual", XRP, USDT, USDT, "10", "0.0001", ALT_LINEAR, 7),
        Instrument(
            "DOGEUSDT", "linear_perpetual", DOGE, USDT, USDT, "100", "0.00001", ALT_LINEAR, 6
        ),
        Instrument(
            f"BTCUSDT-{suffix}",
            "linear_future",
            BTC,
            USDT,
            USDT,
            "0.001",
            "0.1",
            BTC_LINEAR_FUTURE,
            7,
        ),
        Instrument(
            f"ETHUSDT-{suffix}",
            "linear_future",
            ETH,
            USDT,
            USDT,
            "0.01",
            "0.01",
            ETH_LINEAR_FUTURE,
            5,
        ),
        Instrument("BTCUSDC", "linear_perpetual", BTC, USDC, USDC, "0.001", "0.1", BTC_LINEAR, 60),
        Instrument("ETHUSDC", "linear_perpetual", ETH, USDC, USDC, "0.01", "0.01", ETH_LINEAR, 40),
        Instrument("BTCUSD", "inverse_perpetual", BTC, USD, BTC, "100", "0.1", BTC_INVERSE, 80),
        Instrument(
            f"BTCUSD-{suffix}", "inverse_future", BTC, USD, BTC, "100", "0.1", BTC_INVERSE, 20
        ),
        Instrument("ETHUSD", "inverse_perpetual", ETH, USD, ETH, "10", "0.01", ETH_INVERSE, 100),
    ]
    return inst, expiry


def to_units(text: str) -> int:
    value = Decimal(text) * UNIT
    if value != value.to_integral_value():
        msg = f"{text} has more than {SCALE} decimals"
        raise ValueError(msg)
    return int(value)


@dataclass
class InstrumentArrays:
    """Per-instrument columns as numpy arrays, and the tier tables flattened for lookup."""

    underlying: np.ndarray
    quote: np.ndarray
    settle: np.ndarray
    inverse: np.ndarray
    perpetual: np.ndarray
    cs: np.ndarray  # contract size as float
    tick_units: np.ndarray  # int64
    tier_floor: list[np.ndarray]  # per instrument, floats
    tier_mmr: list[np.ndarray]
    tier_cum: list[np.ndarray]

    @cached_property
    def tier_keys(self) -> np.ndarray:
        return np.concatenate([i * TIER_KEY_SPAN + f for i, f in enumerate(self.tier_floor)])

    @cached_property
    def tier_mmr_flat(self) -> np.ndarray:
        return np.concatenate(self.tier_mmr)

    @cached_property
    def tier_cum_flat(self) -> np.ndarray:
        return np.concatenate(self.tier_cum)

    @classmethod
    def of(cls, instruments: list[Instrument]) -> InstrumentArrays:
        return cls(
            underlying=np.array([i.underlying for i in instruments]),
            quote=np.array([i.quote for i in instruments]),
            settle=np.array([i.settle for i in instruments]),
            inverse=np.array([i.inverse for i in instruments]),
            perpetual=np.array([i.perpetual for i in instruments]),
            cs=np.array([float(i.contract_size) for i in instruments]),
            tick_units=np.array([to_units(i.tick) for i in instruments], dtype=np.int64),
            tier_floor=[np.array(i.tiers.floors, dtype=np.float64) for i in instruments],
            tier_mmr=[np.array([float(m) for m in i.tiers.mmr]) for i in instruments],
            tier_cum=[np.array([float(c) for c in i.tiers.cum()]) for i in instruments],
        )


# Custody layout: (wallet suffix, custodian, custodian_type, wallet_type, share of the asset)
# Client crypto: the venue's own wallets hold 45% (cold/warm/hot), two third-party custodians
# the rest, so no custodian holds 50% and hot wallets stay near 3%.
CLIENT_CRYPTO_WALLETS = (
    ("CLIENT-COLD-1", "venue", "self", "cold", 0.24),
    ("CLIENT-COLD-2", "venue", "self", "cold", 0.10),
    ("CLIENT-WARM", "venue", "self", "warm", 0.08),
    ("CLIENT-HOT", "venue", "self", "hot", 0.03),
    ("CLIENT-ALPHA", "alpha-custody", "investment_firm", "cold", 0.30),
    ("CLIENT-BETA", "beta-trust", "other", "cold", 0.25),
)
CLIENT_FIAT_WALLETS = (
    ("CLIENT-BANK-1", "first-bank", "credit_institution", "bank", 0.55),
    ("CLIENT-BANK-2", "second-bank", "credit_institution", "bank", 0.45),
)
HOT_WALLET = "CLIENT-HOT"
COLD_WALLET = "CLIENT-COLD-1"
HOUSE_SELF_WALLET = ("HOUSE-COLD", "venue", "self", "cold")
HOUSE_BANK_WALLET = ("HOUSE-BANK", "first-bank", "credit_institution", "bank")
INSURANCE_WALLET = ("IF-COLD", "venue", "self", "cold")

JURISDICTIONS = ("DE", "FR", "NL", "IE", "MT", "CY", "LU", "AT", "ES", "IT", "PT", "FI")
JURISDICTION_WEIGHTS = np.array([18, 14, 10, 6, 8, 6, 4, 6, 10, 10, 4, 4], dtype=np.float64)
