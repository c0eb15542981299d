"""Client requirement, custody, insurance-fund sizing and capital bounds for one simulated day.

Sizing figures (requirement, stress shortfalls, K-factor bounds) are float64: they only decide
how much custody, insurance fund and capital the venue holds, always with a wide margin, and
never enter a ledger amount except through an integer deposit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from reports.generate.book import Ledger, position_metrics, to_int_units
from reports.generate.universe import (
    ASSETS,
    CLIENT_CRYPTO_WALLETS,
    CLIENT_FIAT_WALLETS,
    HOUSE_SELF_WALLET,
    INSURANCE_WALLET,
    STABLE,
    UNIT,
    USD,
    USDT,
)

if TYPE_CHECKING:
    from reports.generate.inject import InjectPlan
    from reports.generate.simulate import DayState, Venue

STRESS_SHOCKS = (-0.30, 0.30)
TRADED_MULTIPLE = 3.0  # intraday round trips: the day's traded notional vs the end-of-day changes
NPR_SLACK = 1.25  # covers other conventions of the USD delta of inverse contracts


def client_equity(v: Venue, mk: np.ndarray) -> np.ndarray:
    """E(account, asset) of DESIGN.md section 4 for client accounts, shape (clients, assets)."""
    upnl, _ = v.cross_aggregates(mk)
    iso = v.iso_equity_positive(mk)
    equity = v.balance / UNIT + upnl + iso
    return equity.reshape(v.acc.n, v.n_assets)[: v.acc.n_clients]


def stress(v: Venue, mk: np.ndarray, ap: np.ndarray) -> tuple[float, float]:
    """(largest Cover-2 over the scenarios, smallest stressed insurance-fund value), USD."""
    acc = v.acc
    A = v.n_assets
    cover2 = 0.0
    fund_value = np.inf
    iso = v.rows(client=True, iso=True)
    cross = v.rows(client=True, iso=False)
    nonstable = ~STABLE
    balances = v.balance.reshape(acc.n, A) / UNIT
    for shock in STRESS_SHOCKS:
        ap_s = np.where(nonstable, ap * (1.0 + shock), ap)
        mk_s = mk * (1.0 + shock)
        met = position_metrics(v.pos, iso, mk_s, v.arr)
        short_iso = np.maximum(0.0, -(v.pos.margin[iso] / UNIT + met.upnl)) * ap_s[v.settle_of(iso)]
        cmet = position_metrics(v.pos, cross, mk_s, v.arr)
        cross_equity = balances[: acc.n_clients] @ ap_s
        cross_equity += np.bincount(v.pos.acct[cross], cmet.upnl * ap_s[v.settle_of(cross)], acc.n)[
            : acc.n_clients
        ]
        short_cross = np.maximum(0.0, -cross_equity)
        key = acc.group_key
        groups = np.bincount(key[v.pos.acct[iso]], short_iso, acc.n_groups + acc.n)
        groups += np.bincount(key[: acc.n_clients], short_cross, acc.n_groups + acc.n)
        top = np.sort(groups)[-2:]
        cover2 = max(cover2, float(top.sum()))
        fund_value = min(fund_value, float(balances[acc.insurance].clip(min=0) @ ap_s))
    return cover2, fund_value


def size_insurance_fund(v: Venue, led: Ledger, day: int, mk: np.ndarray, ap: np.ndarray) -> None:
    """Keep the fund solvent in every settle asset and above 1.5 x Cover-2 under the scenarios."""
    fund = v.acc.insurance
    equity = client_equity(v, mk)
    requirement = np.maximum(equity, 0.0).sum(axis=0)
    settle_assets = np.unique(v.arr.settle)
    floor = 0.01 * requirement[settle_assets]
    have = v.bal(np.full(len(settle_assets), fund), settle_assets) / UNIT
    low = have < floor
    led.post(
        acct=np.full(int(low.sum()), fund),
        asset=settle_assets[low],
        amount=to_int_units(2.0 * floor[low] - have[low]),
        kind="deposit",
        by="operator",
        ts=23 * 3600 + 3000,
    )
    cover2, fund_value = stress(v, mk, ap)
    if fund_value < 1.5 * cover2:
        top_up = (3.0 * cover2 - fund_value) / ap[USDT]
        led.post(
            acct=np.array([fund]),
            asset=USDT,
            amount=to_int_units(np.array([top_up])),
            kind="deposit",
            by="operator",
            ts=23 * 3600 + 3001,
        )


def _split(total: int, shares: list[float]) -> list[int]:
    parts = [int(total * s) for s in shares[:-1]]
    return [*parts, total - sum(parts)]


def client_custody(requirement: np.ndarray, rng: np.random.Generator) -> dict[str, list]:
    """Client wallets holding the requirement plus a 2-5% excess, per asset."""
    rows: dict[str, list] = {
        k: []
        for k in (
            "wallet",
            "custodian",
            "custodian_type",
            "wallet_type",
            "asset",
            "balance",
            "designation",
        )
    }
    excess = rng.uniform(0.02, 0.05, len(ASSETS))
    for a, name in enumerate(ASSETS):  # loop over assets and a handful of wallets
        if requirement[a] <= 0:
            continue
        held = int(np.ceil(requirement[a] * (1.0 + excess[a]) * UNIT))
        layout = CLIENT_FIAT_WALLETS if a == USD else CLIENT_CRYPTO_WALLETS
        jitter = np.array([w[4] for w in layout]) * rng.uniform(0.9, 1.1, len(layout))
        hot = [i for i, w in enumerate(layout) if w[3] == "hot"]
        shares = list(jitter / jitter.sum())
        for i in hot:  # hot wallets stay well under 5% of the asset
            shares[i] = min(shares[i], 0.035)
        parts = _split(held, [*shares[:-1], 1.0 - sum(shares[:-1])])
        for w, amount in zip(layout, parts, strict=True):
            rows["wallet"].append(f"W-{w[0]}")
            rows["custodian"].append(w[1])
            rows["custodian_type"].append(w[2])
            rows["wallet_type"].append(w[3])
            rows["asset"].append(name)
            rows["balance"].append(amount)
            rows["designation"].append("client")
    return rows


def day_state(
    v: Venue, led: Ledger, day: int, mk: np.ndarray, ap: np.ndarray, plan: InjectPlan | None
) -> DayState:
    from reports.generate import inject
    from reports.generate.simulate import HOUSE, DayState

    acc = v.acc
    A = v.n_assets
    equity = client_equity(v, mk)
    requirement = np.maximum(equity, 0.0).sum(axis=0)
    custody = client_custody(requirement, v.rng(day, 30))
    inject.custody_findings(v, day, custody, requirement, plan)
    balances = v.balance.reshape(acc.n, A)
    house_total = np.maximum(balances[acc.house].sum(axis=0), 0)
    fund_total = np.maximum(balances[acc.insurance], 0)
    for (wallet, custodian, ctype, wtype), totals, designation in (
        (HOUSE_SELF_WALLET, house_total, "house"),
        (INSURANCE_WALLET, fund_total, "insurance_fund"),
    ):
        for a in np.flatnonzero(totals > 0):  # loop over assets
            custody["wallet"].append(f"W-{wallet}")
            custody["custodian"].append(custodian)
            custody["custodian_type"].append(ctype)
            custody["wallet_type"].append(wtype)
            custody["asset"].append(ASSETS[a])
            custody["balance"].append(int(totals[a]))
            custody["designation"].append(designation)
    # K-factor upper bound: K-CMH + K-ASA <= 0.4% of the requirement, K-COH + K-DTF = 0.01% of
    # traded notional, K-NPR <= sum over underlyings of |house net| + house and fund coin holdings.
    volumes = v.volume * TRADED_MULTIPLE
    requirement_usd = float(requirement @ ap)
    hr = v.rows(kind=HOUSE)
    hmet = position_metrics(v.pos, hr, mk, v.arr)
    usd_per_settle = ap[v.settle_of(hr)]
    signed_usd = np.sign(v.pos.qty[hr]) * hmet.notional * usd_per_settle
    net = np.abs(np.bincount(v.arr.underlying[v.pos.inst[hr]], signed_usd, A))
    coins = (house_total + fund_total) / UNIT * ap * ~STABLE
    k_npr = float((net + coins).sum()) * NPR_SLACK
    kfr_bound = 0.004 * requirement_usd + 0.0001 * float(volumes.sum()) + k_npr
    allr = v.rows()
    amet = position_metrics(v.pos, allr, mk, v.arr)
    total_mm_usd = float((amet.mm * ap[v.settle_of(allr)]).sum())
    return DayState(
        day=day,
        date=v.market.date(day),
        asset_units=v.market.asset_price_units(day).copy(),
        mark_units=mk,
        movements=led.frame(),
        custody=custody,
        volumes_usd=volumes.copy(),
        requirement=requirement,
        kfr_bound=kfr_bound,
        total_mm_usd=total_mm_usd,
    )
