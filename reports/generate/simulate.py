"""The day-by-day simulation of a venue: accounts, trading, funding, liquidations, custody.

Each day starts from the previous close and changes the books only through `Ledger.post`
(see book.py). All per-account and per-position work is vectorised; the loops are over days,
assets, instruments and a handful of house accounts.

Clean-history invariants this module maintains (what the checks of DESIGN.md section 5 test):
isolated positions end every day with equity above 1.1 x maintenance margin (else they are
liquidated, the insurance fund covering any deficit); cross accounts stay under 4x leverage
(else their cross positions are closed); client custody covers the requirement per asset with
a 2-5% excess; house market makers take the other side of the clients' net and add depth so no
client group holds 5% of any open interest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from reports.generate.book import (
    Ledger,
    Metrics,
    Positions,
    position_metrics,
    to_int_units,
    trade_pnl,
)
from reports.generate.market import Market, marks_for_day, simulate_market
from reports.generate.universe import (
    ASSETS,
    BTC,
    DOGE,
    ETH,
    JURISDICTION_WEIGHTS,
    SOL,
    STABLE,
    UNIT,
    USD,
    USDC,
    USDT,
    XRP,
    InstrumentArrays,
    build_instruments,
    quarterly_expiry,
)

if TYPE_CHECKING:
    from reports.generate.inject import InjectPlan

CLIENT, HOUSE, INSURANCE = 0, 1, 2
FEE_RATE = 0.0005
LEVERAGES = np.array([2, 3, 5, 10, 20, 25, 50])
LEVERAGE_P = np.array([0.10, 0.15, 0.25, 0.25, 0.12, 0.08, 0.05])
TRADE_ASSETS = np.array([USDT, USDC, BTC, ETH])
TRADE_ASSET_P = np.array([0.66, 0.12, 0.14, 0.08])
POSITIONS_PER_CLIENT = 2.0
ISO_HEALTH = 1.1  # an isolated position with equity <= 1.1 x MM at the close is liquidated
CROSS_HEALTH = 0.25  # cross equity below 25% of cross notional (4x) closes the cross positions
OI_SHARE_CAP = 0.04  # house depth keeps every client group under 4% of open interest
OI_FLOOR_USD = 1_000_000.0  # CON-01/CON-02 exempt instruments with less open interest
SECONDS = 86_400


@dataclass
class Accounts:
    n: int
    n_clients: int
    n_house: int
    kind: np.ndarray
    group: np.ndarray  # connected-client group index, -1 for none
    n_groups: int
    size_usd: np.ndarray
    trade_asset: np.ndarray
    professional: np.ndarray
    jurisdiction: np.ndarray
    frozen: np.ndarray
    ids: pl.Series
    group_ids: pl.Series  # null for accounts that are their own group

    @property
    def insurance(self) -> int:
        return self.n - 1

    @property
    def house(self) -> np.ndarray:
        return np.arange(self.n_clients, self.n_clients + self.n_house)

    @property
    def group_key(self) -> np.ndarray:
        """Concentration group per account: its connected group, else itself."""
        return np.where(self.group >= 0, self.group, self.n_groups + np.arange(self.n))


def make_accounts(rng: np.random.Generator, n: int) -> Accounts:
    n_house = max(2, min(8, n // 5))
    nc = n - n_house - 1
    size = rng.lognormal(np.log(5_000.0), 1.7, nc)
    size = np.where(rng.random(nc) < 0.003, size * 15.0, size)  # a few whales
    for _ in range(2):
        size = np.minimum(size, max(0.02, 3.0 / nc) * size.sum())
    size = np.maximum(size, 50.0)
    # Connected clients: about 8% of clients in groups of 2-5.
    n_grouped = int(0.08 * nc)
    sizes = rng.integers(2, 6, max(1, n_grouped // 2 + 1))
    ends = np.cumsum(sizes)
    sizes = sizes[: np.searchsorted(ends, n_grouped) + 1]
    sizes[-1] -= max(0, int(sizes.sum()) - n_grouped)
    sizes = sizes[sizes >= 2]
    members = rng.permutation(nc)[: int(sizes.sum())]
    group = np.full(n, -1, np.int64)
    group[members] = np.repeat(np.arange(len(sizes)), sizes)
    kind = np.zeros(n, np.int8)
    kind[nc : nc + n_house] = HOUSE
    kind[n - 1] = INSURANCE
    size_all = np.concatenate([size, np.zeros(n_house + 1)])
    trade = np.full(n, USDT, np.int64)
    trade[:nc] = rng.choice(TRADE_ASSETS, nc, p=TRADE_ASSET_P)
    rank = np.argsort(np.argsort(-size))
    professional = np.zeros(n, bool)
    professional[:nc] = (rank < 0.08 * nc) | (rng.random(nc) < 0.03)
    juris = rng.choice(
        len(JURISDICTION_WEIGHTS), n, p=JURISDICTION_WEIGHTS / JURISDICTION_WEIGHTS.sum()
    )
    frozen = np.zeros(n, bool)
    frozen[:nc] = rng.random(nc) < 0.005
    width = max(6, len(str(nc)))
    idx = pl.int_range(1, nc + 1, eager=True).cast(pl.String).str.zfill(width)
    ids = pl.concat(
        [
            ("C" + idx),
            pl.Series([f"H{j + 1:03d}" for j in range(n_house)]),  # a handful of house accounts
            pl.Series(["IF001"]),
        ]
    ).rename("account_id")
    gidx = pl.Series(group).cast(pl.String).str.zfill(5)
    group_ids = pl.select(
        pl.when(pl.lit(pl.Series(group)) >= 0).then("G" + pl.lit(gidx))
    ).to_series()
    return Accounts(
        n,
        nc,
        n_house,
        kind,
        group,
        len(sizes),
        size_all,
        trade,
        professional,
        juris,
        frozen,
        ids,
        group_ids.rename("group_id"),
    )


@dataclass
class DayState:
    """What one simulated day produced, for the writer."""

    day: int
    date: dt.date
    asset_units: np.ndarray
    mark_units: np.ndarray
    movements: dict[str, np.ndarray]
    custody: dict[str, list]  # client, house and insurance-fund wallets (small)
    volumes_usd: np.ndarray  # (instruments, account kinds)
    requirement: np.ndarray  # client requirement per asset (float, asset units)
    kfr_bound: float
    total_mm_usd: float


@dataclass
class Venue:
    seed: int
    n_accounts: int
    days: int
    start: dt.date
    market: Market = field(init=False)
    acc: Accounts = field(init=False)

    def __post_init__(self) -> None:
        self.market = simulate_market(self.seed, self.days, self.start)
        expiry = quarterly_expiry(self.start + dt.timedelta(days=self.days))
        self.instruments, self.expiry = build_instruments(expiry)
        self.arr = InstrumentArrays.of(self.instruments)
        self.n_inst = len(self.instruments)
        self.n_assets = len(ASSETS)
        self.acc = make_accounts(self.rng(-1, 1), self.n_accounts)
        self.balance = np.zeros(self.acc.n * self.n_assets, np.int64)
        self.listed = np.zeros(self.acc.n * self.n_assets, bool)
        self.pos = Positions()
        self.next_transfer = 1
        self.volume = np.zeros((self.n_inst, 3))
        self.day = -1
        self._init_state()

    # ---- helpers -------------------------------------------------------------------------
    def rng(self, day: int, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, day + 1_000, stream])

    def marks(self, day: int) -> np.ndarray:
        return marks_for_day(self.market, day, self.arr, self.expiry)

    def contract_value(self, inst: np.ndarray, mk: np.ndarray) -> np.ndarray:
        """Notional of one contract in its settle asset."""
        m = mk[inst] / UNIT
        return np.where(self.arr.inverse[inst], self.arr.cs[inst] / m, self.arr.cs[inst] * m)

    def contract_usd(self, mk: np.ndarray, ap: np.ndarray) -> np.ndarray:
        """USD value of one contract per instrument."""
        m = mk / UNIT
        return np.where(self.arr.inverse, self.arr.cs, self.arr.cs * m * ap[self.arr.quote])

    def metrics(self, rows: np.ndarray, mk: np.ndarray) -> Metrics:
        return position_metrics(self.pos, rows, mk, self.arr)

    def bal(self, acct: np.ndarray, asset: np.ndarray) -> np.ndarray:
        return self.balance[np.asarray(acct) * self.n_assets + np.asarray(asset)]

    def rows(
        self, *, client: bool | None = None, iso: bool | None = None, kind: int | None = None
    ) -> np.ndarray:
        p = self.pos
        mask = p.alive.copy()
        if client is not None:
            mask &= (self.acc.kind[p.acct] == CLIENT) == client
        if kind is not None:
            mask &= self.acc.kind[p.acct] == kind
        if iso is not None:
            mask &= p.iso == iso
        return np.flatnonzero(mask)

    def settle_of(self, rows: np.ndarray) -> np.ndarray:
        return self.arr.settle[self.pos.inst[rows]]

    def cross_aggregates(self, mk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Client cross uPnL and cross notional per (account, settle asset), flat float arrays."""
        r = self.rows(client=True, iso=False)
        met = self.metrics(r, mk)
        flat = self.pos.acct[r] * self.n_assets + self.settle_of(r)
        size = self.acc.n * self.n_assets
        return (np.bincount(flat, met.upnl, size), np.bincount(flat, met.notional, size))

    def iso_equity_positive(self, mk: np.ndarray) -> np.ndarray:
        r = self.rows(client=True, iso=True)
        met = self.metrics(r, mk)
        eq = self.pos.margin[r] / UNIT + met.upnl
        flat = self.pos.acct[r] * self.n_assets + self.settle_of(r)
        return np.bincount(flat, np.maximum(eq, 0.0), self.acc.n * self.n_assets)

    def record_volume(
        self, rows: np.ndarray, contracts: np.ndarray, mk: np.ndarray, ap: np.ndarray
    ) -> None:
        inst = self.pos.inst[rows]
        usd = np.abs(contracts) * self.contract_usd(mk, ap)[inst]
        kind = self.acc.kind[self.pos.acct[rows]].astype(np.int64)
        np.add.at(self.volume, (inst, kind), usd)

    def trade_to(
        self, rows: np.ndarray, new_qty: np.ndarray, mk: np.ndarray, ap: np.ndarray | None
    ) -> np.ndarray:
        """Move positions to `new_qty` (same sign or 0) at the mark; returns realized PnL (float)."""
        p = self.pos
        inst = p.inst[rows]
        q0 = p.qty[rows]
        q1 = np.asarray(new_qty, np.int64)
        a0, a1 = np.abs(q0), np.abs(q1)
        reduce = a1 < a0
        closed = np.where(reduce, q0 - q1, 0)
        mark = mk[inst]
        inv = self.arr.inverse[inst]
        rpnl = trade_pnl(inv, self.arr.cs[inst], closed, p.entry[rows], mark)
        increase = a1 > a0
        if increase.any():
            e = p.entry[rows] / UNIT
            m = mark / UNIT
            added = (a1 - a0).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                lin = (a0 * e + added * m) / np.maximum(a1, 1)
                inv_e = a1 / (a0 / e + added / m)
            new_e = np.where(inv, inv_e, lin)
            tick = self.arr.tick_units[inst]
            new_units = np.maximum(np.rint(new_e * UNIT / tick), 1).astype(np.int64) * tick
            p.entry[rows] = np.where(increase, new_units, p.entry[rows])
        p.qty[rows] = q1
        p.touched[rows] = True
        if ap is not None:
            self.record_volume(rows, q1 - q0, mk, ap)
        return rpnl

    def release_bucket(
        self, led: Ledger, rows: np.ndarray, amount: np.ndarray, ts: np.ndarray
    ) -> None:
        """margin_release (system): bucket -> the same account's cross wallet."""
        amount = np.asarray(amount, np.int64)
        go = amount > 0
        r = rows[go]
        acct = self.pos.acct[r]
        led.transfer(
            kind="margin_release",
            by="system",
            ts=ts[go] if np.ndim(ts) else ts,
            asset=self.settle_of(r),
            amount=amount[go],
            from_acct=acct,
            to_acct=acct,
            from_rows=r,
        )

    def margin_transfer(
        self, led: Ledger, rows: np.ndarray, amount: np.ndarray, ts: np.ndarray | int
    ) -> None:
        """margin_transfer (user): the account's cross wallet -> its bucket (negative = back)."""
        acct = self.pos.acct[rows]
        led.transfer(
            kind="margin_transfer",
            by="user",
            ts=ts,
            asset=self.settle_of(rows),
            amount=np.asarray(amount, np.int64),
            from_acct=acct,
            to_acct=acct,
            to_rows=rows,
        )
        self.pos.touched[rows] = True

    def close(self, rows: np.ndarray) -> None:
        self.pos.alive[rows] = False

    # ---- initial state (day -1, never written) --------------------------------------------
    def _init_state(self) -> None:
        rng = self.rng(-1, 2)
        acc = self.acc
        nc = acc.n_clients
        ap = self.market.asset_prices(-1)
        mk = self.marks(-1)
        A = self.n_assets
        holdings = np.zeros((acc.n, A))
        holdings[np.arange(nc), acc.trade_asset[:nc]] = acc.size_usd[:nc] / ap[acc.trade_asset[:nc]]
        extras = (
            (USD, 0.12),
            (USDT, 0.10),
            (USDC, 0.10),
            (BTC, 0.10),
            (ETH, 0.06),
            (SOL, 0.03),
            (XRP, 0.03),
            (DOGE, 0.03),
        )
        for asset, share in extras:  # loop over assets
            has = rng.random(nc) < share
            holdings[:nc, asset] += np.where(
                has, acc.size_usd[:nc] * rng.uniform(0.05, 0.3, nc) / ap[asset], 0.0
            )
        # Client positions: about two per client, sized on the trade-asset holdings.
        k = rng.poisson(POSITIONS_PER_CLIENT, nc)
        acct = np.repeat(np.arange(nc), k)
        rows_new = self._new_positions(
            rng, acct, holdings[acct, acc.trade_asset[acct]], k[acct], mk, initial=True
        )
        p = self.pos
        inst = p.inst[rows_new]
        met = self.metrics(rows_new, mk)
        iso = p.iso[rows_new]
        margin = np.where(
            iso,
            np.maximum(
                met.notional / np.maximum(p.lev[rows_new], 1),
                2.5 * met.mm + np.maximum(0.0, -met.upnl),
            ),
            0.0,
        )
        p.margin[rows_new] = np.where(iso, np.ceil(margin * UNIT), 0).astype(np.int64)
        settle = self.arr.settle[inst]
        used = np.zeros((acc.n, A))
        np.add.at(used, (p.acct[rows_new], settle), p.margin[rows_new] / UNIT)
        free = np.maximum(
            holdings - used, 0.1 * holdings
        )  # short of funds: the client simply had more
        # House market makers: balances to carry their books; the insurance fund in stables + coins.
        total_equity_usd = float((holdings[:nc] * ap).sum())
        self._house_positions(mk, ap)
        hr = self.rows(kind=HOUSE)
        hmet = self.metrics(hr, mk)
        hsettle = self.settle_of(hr)
        house_need = np.zeros((acc.n, A))
        coin = ~STABLE[hsettle]  # a market maker's two-sided coin book needs little margin
        np.add.at(house_need, (p.acct[hr], hsettle), np.where(coin, 0.05, 0.5) * hmet.notional)
        free[acc.house] = house_need[acc.house]
        free[acc.house, USDT] += 0.01 * total_equity_usd / ap[USDT] / acc.n_house
        fund = acc.insurance
        free[fund, USDT] = max(0.03 * total_equity_usd, 1_000_000.0) / ap[USDT]
        free[fund, USDC] = 0.01 * total_equity_usd / ap[USDC]
        free[fund, BTC] = 0.004 * total_equity_usd / ap[BTC]
        free[fund, ETH] = 0.002 * total_equity_usd / ap[ETH]
        self.balance[:] = np.rint(free.ravel() * UNIT).astype(np.int64)
        self.listed[:] = self.balance != 0
        p.prev_abs[:] = np.abs(p.qty)

    def _new_positions(
        self,
        rng: np.random.Generator,
        acct: np.ndarray,
        avail: np.ndarray,
        k: np.ndarray,
        mk: np.ndarray,
        *,
        initial: bool,
    ) -> np.ndarray:
        """Choose instrument, side, mode and size for new client positions; append the viable ones."""
        n = len(acct)
        trade = self.acc.trade_asset[acct]
        inst = np.zeros(n, np.int64)
        for asset in TRADE_ASSETS:  # loop over settle assets
            sel = np.flatnonzero(trade == asset)
            cands = np.flatnonzero(self.arr.settle == asset)
            w = np.array([self.instruments[i].popularity for i in cands], dtype=np.float64)
            inst[sel] = rng.choice(cands, len(sel), p=w / w.sum())
        iso = rng.random(n) < 0.65
        lev = rng.choice(LEVERAGES, n, p=LEVERAGE_P)
        # Leverage no higher than 40% of the first tier's limit (keeps MM well under the margin).
        first_mmr = np.array([m[0] for m in self.arr.tier_mmr])[inst]
        lev = np.minimum(lev, np.floor(0.4 / first_mmr)).astype(np.int64)
        k = np.maximum(k, 1)
        margin_budget = np.maximum(avail, 0) * rng.uniform(0.05, 0.3, n) / k
        notional = np.where(
            iso, margin_budget * lev, np.maximum(avail, 0) * rng.uniform(0.3, 1.0, n) / k
        )
        cv = self.contract_value(inst, mk)
        qty = np.floor(notional / cv).astype(np.int64)
        side = np.where(rng.random(n) < 0.55, 1, -1)
        tick = self.arr.tick_units[inst]
        if initial:  # positions opened in the past: entry near, not at, the mark
            entry = mk[inst] * (1.0 + rng.normal(0.0, 0.01, n))
            entry = np.maximum(np.rint(entry / tick), 1).astype(np.int64) * tick
        else:
            entry = mk[inst].copy()
        ok = (qty >= 1) & (qty < 10**12)
        return self.pos.append(
            acct[ok], inst[ok], iso[ok], (side * qty)[ok], entry[ok], np.where(iso, lev, 0)[ok]
        )

    # ---- house market makers -------------------------------------------------------------
    def house_targets(
        self, mk: np.ndarray, ap: np.ndarray, exclude: tuple[int, int] | None = None
    ) -> np.ndarray:
        """Target house quantities (house accounts x instruments): take the clients' net, add depth.

        House longs = house shorts + ... such that longs = shorts over all accounts, so open
        interest = (client gross + house gross) / 2. Where open interest reaches the CON-01 floor,
        depth is added until no client group exceeds OI_SHARE_CAP of it.
        """
        p = self.pos
        r = self.rows(client=True)
        inst = p.inst[r]
        q = p.qty[r]
        n_inst = self.n_inst
        gross = np.bincount(inst, np.abs(q), n_inst)
        net = np.bincount(inst, q, n_inst).astype(np.int64)
        gross = gross.astype(np.int64)
        key = self.acc.group_key[p.acct[r]]
        keep = np.ones(len(r), bool)
        if exclude is not None:  # the planted concentration: no depth added against it
            keep = (self.acc.group[p.acct[r]] != exclude[0]) | (inst != exclude[1])
        gmax = np.zeros(n_inst, np.int64)
        if keep.any():
            combo = inst[keep] * (self.acc.n_groups + self.acc.n) + key[keep]
            uniq, inv = np.unique(combo, return_inverse=True)
            ggross = np.bincount(inv, np.abs(q[keep])).astype(np.int64)
            np.maximum.at(gmax, uniq // (self.acc.n_groups + self.acc.n), ggross)
        base = np.maximum.reduce([2 * gross, gross + 3 * np.abs(net) + 16])
        oi_usd = base / 2 * self.contract_usd(mk, ap)
        depth_needed = np.ceil(gmax / (OI_SHARE_CAP / 2)).astype(np.int64)
        total = np.where(oi_usd >= 0.9 * OI_FLOOR_USD, np.maximum(base, depth_needed), base)
        depth = total - gross
        shorts = (depth + net + 1) // 2
        longs = shorts - net
        nh = self.acc.n_house
        n_long = nh // 2
        n_short = nh - n_long
        j = np.arange(nh)[:, None]
        long_q = longs[None, :] // n_long + (j < longs[None, :] % n_long)
        short_q = shorts[None, :] // n_short + ((j - n_long) < shorts[None, :] % n_short)
        return np.where(j < n_long, long_q, -short_q).astype(np.int64)

    def _house_positions(self, mk: np.ndarray, ap: np.ndarray) -> None:
        targets = self.house_targets(mk, ap)
        nh = self.acc.n_house
        acct = np.repeat(self.acc.house, self.n_inst)
        inst = np.tile(np.arange(self.n_inst), nh)
        self.pos.append(
            acct,
            inst,
            np.zeros(len(acct), bool),
            targets.ravel(),
            mk[inst],
            np.zeros(len(acct), np.int64),
        )

    def rebalance_house(
        self, led: Ledger, mk: np.ndarray, ap: np.ndarray, exclude: tuple[int, int] | None = None
    ) -> None:
        targets = self.house_targets(mk, ap, exclude)
        hr = self.rows(kind=HOUSE)
        hr = hr[
            np.lexsort((self.pos.inst[hr], self.pos.acct[hr]))
        ]  # house account-major, instrument-minor
        new_qty = targets.ravel()
        rpnl = self.trade_to(hr, new_qty, mk, ap)
        ts = self.rng(self.day, 40).integers(22 * 3600, 23 * 3600, len(hr))
        led.post(
            acct=self.pos.acct[hr],
            asset=self.settle_of(hr),
            amount=to_int_units(rpnl),
            kind="realized_pnl",
            by="system",
            ts=ts,
        )

    # ---- the day --------------------------------------------------------------------------
    def run_day(self, day: int, plan: InjectPlan | None = None) -> tuple[DayState, Ledger]:
        from reports.generate import custody, inject

        self.day = day
        p = self.pos
        p.start_day()
        self.listed_prev = self.listed.copy()
        self.volume[:] = 0.0
        mk = self.marks(day)
        ap = self.market.asset_prices(day)
        led = Ledger(self.balance, self.listed, self.n_assets, p, self.next_transfer)
        self._funding(led, day, mk)
        self._liquidate_unhealthy(led, day, mk, ap, stream=10, ts_range=(3600, 4 * 3600))
        self._deposits_withdrawals(led, day, mk, ap)
        self._voluntary_trades(led, day, mk, ap)
        self._top_ups(led, day, mk)
        self._opens(led, day, mk, ap)
        excluded = inject.concentration(self, led, day, mk, ap, plan)
        self._internal_transfers(led, day)
        self._liquidate_unhealthy(
            led, day, mk, ap, stream=11, ts_range=(23 * 3600, 23 * 3600 + 1800)
        )
        self._cross_sweep(led, day, mk, ap)
        # House depth last, on the clients' final books, so open-interest shares hold at the close.
        self.rebalance_house(led, mk, ap, exclude=excluded)
        inject.ledger_findings(self, led, day, mk, plan)
        custody.size_insurance_fund(self, led, day, mk, ap)
        state = custody.day_state(self, led, day, mk, ap, plan)
        self.next_transfer = led.next_transfer
        return state, led

    def _funding(self, led: Ledger, day: int, mk: np.ndarray) -> None:
        rng = self.rng(day, 1)
        r = np.flatnonzero(self.pos.alive & self.arr.perpetual[self.pos.inst])
        met = self.metrics(r, mk)
        side = np.sign(self.pos.qty[r])
        inst = self.pos.inst[r]
        rows = np.where(self.pos.iso[r], r, -1)
        for event, ts in enumerate((8 * 3600, 20 * 3600)):  # funding settles every 12 hours
            rate = rng.normal(1e-4, 1.2e-4, self.n_inst)
            pay = -side * met.notional * rate[inst]
            led.post(
                acct=self.pos.acct[r],
                asset=self.settle_of(r),
                amount=to_int_units(pay),
                kind="funding",
                by="system",
                ts=ts + event,
                rows=rows,
            )

    def _liquidate_unhealthy(
        self,
        led: Ledger,
        day: int,
        mk: np.ndarray,
        ap: np.ndarray,
        *,
        stream: int,
        ts_range: tuple[int, int],
    ) -> None:
        """Close isolated positions whose bucket is empty, liquidate those at or near maintenance."""
        rng = self.rng(day, stream)
        r = self.rows(iso=True)
        met = self.metrics(r, mk)
        margin = self.pos.margin[r]
        eq = margin / UNIT + met.upnl
        liquidate = eq <= ISO_HEALTH * met.mm
        empty = ~liquidate & (margin <= 0)
        ts = rng.integers(*ts_range, len(r))
        if empty.any():  # deep in profit but the bucket ran dry: the client closes
            self.close_isolated(led, r[empty], mk, ap, ts[empty])
        lr = r[liquidate]
        if len(lr) == 0:
            return
        lmet = Metrics(met.upnl[liquidate], met.notional[liquidate], met.mm[liquidate])
        self.liquidate_isolated(led, lr, lmet, rng, ts[liquidate], mk, ap)

    def liquidate_isolated(
        self,
        led: Ledger,
        rows: np.ndarray,
        met: Metrics,
        rng: np.random.Generator,
        ts: np.ndarray,
        mk: np.ndarray,
        ap: np.ndarray,
    ) -> None:
        margin = self.pos.margin[rows]
        eq = margin / UNIT + met.upnl
        n = len(rows)
        slip = np.where(rng.random(n) < 0.4, rng.uniform(0.5, 2.0, n) * met.mm, 0.0)
        deficit = np.maximum(to_int_units(np.maximum(0.0, slip - eq)), 0)
        acct = self.pos.acct[rows]
        settle = self.settle_of(rows)
        led.post(
            acct=acct,
            asset=settle,
            amount=-(margin + deficit),
            kind="liquidation",
            by="system",
            ts=ts,
            rows=rows,
        )
        cover = deficit > 0
        if cover.any():
            led.transfer(
                kind="insurance_fund",
                by="system",
                ts=ts[cover] + 1,
                asset=settle[cover],
                amount=deficit[cover],
                from_acct=np.full(int(cover.sum()), self.acc.insurance),
                to_acct=acct[cover],
                to_rows=rows[cover],
            )
        self.trade_to(rows, np.zeros(n, np.int64), mk, ap)
        self.close(rows)

    def close_isolated(
        self, led: Ledger, rows: np.ndarray, mk: np.ndarray, ap: np.ndarray, ts: np.ndarray
    ) -> None:
        """A client closes isolated positions: PnL and fee on the bucket, then release the rest."""
        met = self.metrics(rows, mk)
        rpnl = self.trade_to(rows, np.zeros(len(rows), np.int64), mk, ap)
        acct = self.pos.acct[rows]
        settle = self.settle_of(rows)
        led.post(
            acct=acct,
            asset=settle,
            amount=to_int_units(rpnl),
            kind="realized_pnl",
            by="system",
            ts=ts,
            rows=rows,
        )
        led.post(
            acct=acct,
            asset=settle,
            amount=-to_int_units(FEE_RATE * met.notional),
            kind="fee",
            by="system",
            ts=ts,
            rows=rows,
        )
        self.release_bucket(led, rows, self.pos.margin[rows], ts + 1)
        short = self.pos.margin[rows] < 0  # never for a healthy position; the fund would cover it
        if short.any():
            led.transfer(
                kind="insurance_fund",
                by="system",
                ts=ts[short] + 1,
                asset=settle[short],
                amount=-self.pos.margin[rows[short]],
                from_acct=np.full(int(short.sum()), self.acc.insurance),
                to_acct=acct[short],
                to_rows=rows[short],
            )
        self.close(rows)

    def _deposits_withdrawals(self, led: Ledger, day: int, mk: np.ndarray, ap: np.ndarray) -> None:
        rng = self.rng(day, 2)
        acc = self.acc
        nc = acc.n_clients
        active = ~acc.frozen[:nc]
        dep = np.flatnonzero(active & (rng.random(nc) < 0.04))
        asset = np.where(rng.random(len(dep)) < 0.1, USD, acc.trade_asset[dep])
        amount = acc.size_usd[dep] * rng.uniform(0.02, 0.3, len(dep)) / ap[asset]
        led.post(
            acct=dep,
            asset=asset,
            amount=to_int_units(amount),
            kind="deposit",
            by="user",
            ts=rng.integers(0, SECONDS, len(dep)),
        )
        wd = np.flatnonzero(active & (rng.random(nc) < 0.03))
        asset = acc.trade_asset[wd]
        upnl, notional = self.cross_aggregates(mk)
        flat = wd * self.n_assets + asset
        free = self.balance[flat] / UNIT + np.minimum(upnl[flat], 0.0) - 0.5 * notional[flat]
        amount = np.maximum(free, 0.0) * rng.uniform(0.1, 0.4, len(wd))
        led.post(
            acct=wd,
            asset=asset,
            amount=-to_int_units(amount),
            kind="withdrawal",
            by="user",
            ts=rng.integers(0, SECONDS, len(wd)),
        )

    def _voluntary_trades(self, led: Ledger, day: int, mk: np.ndarray, ap: np.ndarray) -> None:
        rng = self.rng(day, 3)
        p = self.pos
        r = self.rows(client=True)
        r = r[~self.acc.frozen[p.acct[r]]]
        u = rng.random(len(r))
        ts = rng.integers(6 * 3600, 22 * 3600, len(r))
        iso = p.iso[r]
        # closes
        c = u < 0.06
        self.close_isolated(led, r[c & iso], mk, ap, ts[c & iso])
        cc = r[c & ~iso]
        met = self.metrics(cc, mk)
        rpnl = self.trade_to(cc, np.zeros(len(cc), np.int64), mk, ap)
        acct, settle = p.acct[cc], self.settle_of(cc)
        led.post(
            acct=acct,
            asset=settle,
            amount=to_int_units(rpnl),
            kind="realized_pnl",
            by="system",
            ts=ts[c & ~iso],
        )
        led.post(
            acct=acct,
            asset=settle,
            amount=-to_int_units(FEE_RATE * met.notional),
            kind="fee",
            by="system",
            ts=ts[c & ~iso],
        )
        self.close(cc)
        # reduces
        red = (u >= 0.06) & (u < 0.11) & (np.abs(p.qty[r]) >= 2)
        rr = r[red]
        q0 = p.qty[rr]
        keep_abs = np.clip(
            np.floor(np.abs(q0) * rng.uniform(0.2, 0.8, len(rr))), 1, np.abs(q0) - 1
        ).astype(np.int64)
        met = self.metrics(rr, mk)
        closed_notional = met.notional * (1.0 - keep_abs / np.abs(q0))
        margin_before = p.margin[rr].copy()
        rpnl = self.trade_to(rr, np.sign(q0) * keep_abs, mk, ap)
        acct, settle = p.acct[rr], self.settle_of(rr)
        rows_or_cross = np.where(p.iso[rr], rr, -1)
        led.post(
            acct=acct,
            asset=settle,
            amount=to_int_units(rpnl),
            kind="realized_pnl",
            by="system",
            ts=ts[red],
            rows=rows_or_cross,
        )
        led.post(
            acct=acct,
            asset=settle,
            amount=-to_int_units(FEE_RATE * closed_notional),
            kind="fee",
            by="system",
            ts=ts[red],
            rows=rows_or_cross,
        )
        # Release so the remaining bucket is the kept share of the bucket before the trade:
        # equity / MM of the remainder then stays where it was.
        remaining = np.ceil(margin_before * (keep_abs / np.abs(q0))).astype(np.int64)
        release = np.where(p.iso[rr], p.margin[rr] - remaining, 0)
        self.release_bucket(led, rr, np.maximum(release, 0), ts[red] + 1)
        # increases
        inc = (u >= 0.11) & (u < 0.16)
        ir = r[inc]
        q0 = p.qty[ir]
        add = np.maximum(np.ceil(np.abs(q0) * rng.uniform(0.1, 1.0, len(ir))), 1).astype(np.int64)
        q1 = q0 + np.sign(q0) * add
        met1 = position_metrics(p, ir, mk, self.arr, qty=q1)
        added_notional = met1.notional * (add / np.abs(q1))
        upnl_cross, notional_cross = self.cross_aggregates(mk)
        acct, settle = p.acct[ir], self.settle_of(ir)
        flat = acct * self.n_assets + settle
        cross_bal = self.balance[flat] / UNIT
        # isolated: margin for the added size, and enough to keep equity at 2.5 x MM
        fee = FEE_RATE * added_notional
        lev = np.maximum(p.lev[ir], 1)
        est_upnl = met1.upnl  # at the old entry; the averaged entry only moves it towards 0
        need = np.maximum(
            added_notional / lev, 2.5 * met1.mm - (p.margin[ir] / UNIT + est_upnl - fee)
        )
        ok_iso = p.iso[ir] & (need <= 0.3 * np.maximum(cross_bal, 0.0))
        ok_cross = ~p.iso[ir] & (
            notional_cross[flat] + added_notional <= 2.5 * (cross_bal + upnl_cross[flat])
        )
        ok = ok_iso | ok_cross
        ir, q1, need, fee, its = ir[ok], q1[ok], need[ok], fee[ok], ts[inc][ok]
        self.trade_to(ir, q1, mk, ap)
        iso_ir = p.iso[ir]
        self.margin_transfer(
            led, ir[iso_ir], np.ceil(need[iso_ir] * UNIT).astype(np.int64), its[iso_ir]
        )
        acct, settle = p.acct[ir], self.settle_of(ir)
        led.post(
            acct=acct,
            asset=settle,
            amount=-to_int_units(fee),
            kind="fee",
            by="system",
            ts=its + 1,
            rows=np.where(iso_ir, ir, -1),
        )

    def _top_ups(self, led: Ledger, day: int, mk: np.ndarray) -> None:
        rng = self.rng(day, 4)
        r = self.rows(client=True, iso=True)
        r = r[~self.acc.frozen[self.pos.acct[r]]]
        met = self.metrics(r, mk)
        eq = self.pos.margin[r] / UNIT + met.upnl
        want = (eq < 2.0 * met.mm) & (rng.random(len(r)) < 0.5)
        amount = np.ceil((3.0 * met.mm - eq) * UNIT).astype(np.int64)
        cross_bal = self.bal(self.pos.acct[r], self.settle_of(r))
        ok = want & (amount > 0) & (amount <= cross_bal // 2)
        self.margin_transfer(
            led, r[ok], amount[ok], rng.integers(6 * 3600, 22 * 3600, int(ok.sum()))
        )

    def _opens(self, led: Ledger, day: int, mk: np.ndarray, ap: np.ndarray) -> None:
        rng = self.rng(day, 5)
        acc = self.acc
        nc = acc.n_clients
        current = len(self.rows(client=True))
        n_open = max(0, int(POSITIONS_PER_CLIENT * nc) - current) + int(rng.poisson(0.01 * nc))
        active = np.flatnonzero(~acc.frozen[:nc])
        acct = np.sort(rng.choice(active, n_open))
        k = np.bincount(acct, minlength=acc.n)[acct]
        avail = self.bal(acct, acc.trade_asset[acct]) / UNIT
        upnl_cross, notional_cross = self.cross_aggregates(mk)  # before the new positions exist
        rows = self._new_positions(rng, acct, avail, k, mk, initial=False)
        p = self.pos
        met = self.metrics(rows, mk)
        iso = p.iso[rows]
        fee = to_int_units(FEE_RATE * met.notional)
        lev = np.maximum(p.lev[rows], 1)
        margin = np.ceil(np.maximum(met.notional / lev, 2.5 * met.mm) * UNIT).astype(np.int64) + fee
        cross_bal = self.bal(p.acct[rows], self.settle_of(rows))
        kk = np.bincount(p.acct[rows], minlength=acc.n)[p.acct[rows]]
        flat = p.acct[rows] * self.n_assets + self.settle_of(rows)
        too_big = np.where(
            iso,
            margin > 0.3 * np.maximum(cross_bal, 0) / np.maximum(kk, 1),
            notional_cross[flat] + met.notional * kk > 2.5 * (cross_bal / UNIT + upnl_cross[flat]),
        )
        p.alive[rows[too_big]] = False  # never traded: dropped before any movement
        rows, iso, margin, fee = rows[~too_big], iso[~too_big], margin[~too_big], fee[~too_big]
        ts = rng.integers(6 * 3600, 22 * 3600, len(rows))
        self.record_volume(rows, p.qty[rows], mk, ap)
        self.margin_transfer(led, rows[iso], margin[iso], ts[iso])
        led.post(
            acct=p.acct[rows],
            asset=self.settle_of(rows),
            amount=-fee,
            kind="fee",
            by="system",
            ts=ts + 1,
            rows=np.where(iso, rows, -1),
        )

    def _internal_transfers(self, led: Ledger, day: int) -> None:
        rng = self.rng(day, 6)
        acc = self.acc
        members = np.flatnonzero((acc.group >= 0) & ~acc.frozen)
        if len(members) == 0:
            return
        # each group's first and second member, to pair a sender with another member
        order = members[np.lexsort((members, acc.group[members]))]
        first = np.full(acc.n_groups, -1, np.int64)
        second = np.full(acc.n_groups, -1, np.int64)
        g = acc.group[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        first[g[starts]] = order[starts]
        has2 = (starts + 1 < len(order)) & (np.r_[g, -1][starts + 1] == g[starts])
        second[g[starts[has2]]] = order[starts[has2] + 1]
        send = members[rng.random(len(members)) < 0.05]
        grp = acc.group[send]
        to = np.where(first[grp] != send, first[grp], second[grp])
        ok = to >= 0
        send, to = send[ok], to[ok]
        asset = acc.trade_asset[send]
        amount = np.maximum(self.bal(send, asset), 0) // 10
        led.transfer(
            kind="internal_transfer",
            by="user",
            ts=rng.integers(0, SECONDS, len(send)),
            asset=asset,
            amount=amount,
            from_acct=send,
            to_acct=to,
        )

    def _cross_sweep(self, led: Ledger, day: int, mk: np.ndarray, ap: np.ndarray) -> None:
        """Close over-leveraged cross books; the insurance fund covers any client debit left."""
        rng = self.rng(day, 12)
        upnl, notional = self.cross_aggregates(mk)
        bal = self.balance / UNIT
        bad = (notional > 0) & (bal + upnl < CROSS_HEALTH * notional)
        r = self.rows(client=True, iso=False)
        flat = self.pos.acct[r] * self.n_assets + self.settle_of(r)
        hit = r[bad[flat]]
        ts = rng.integers(23 * 3600 + 1800, 23 * 3600 + 2400, len(hit))
        rpnl = self.trade_to(hit, np.zeros(len(hit), np.int64), mk, ap)
        led.post(
            acct=self.pos.acct[hit],
            asset=self.settle_of(hit),
            amount=to_int_units(rpnl),
            kind="liquidation",
            by="system",
            ts=ts,
        )
        self.close(hit)
        # Any client wallet still in debit with no cross position left: the fund makes it whole.
        upnl, notional = self.cross_aggregates(mk)
        nc = self.acc.n_clients
        client_flat = np.arange(nc * self.n_assets)
        debit = client_flat[
            (self.balance[: nc * self.n_assets] < 0) & (notional[: nc * self.n_assets] == 0)
        ]
        if len(debit):
            led.transfer(
                kind="insurance_fund",
                by="system",
                ts=23 * 3600 + 2500,
                asset=debit % self.n_assets,
                amount=-self.balance[debit],
                from_acct=np.full(len(debit), self.acc.insurance),
                to_acct=debit // self.n_assets,
            )
