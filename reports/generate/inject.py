"""Planted findings (`mir generate --inject KIND`), each recorded in truth.csv as the check reports it.

Every plant changes exactly what its check looks at and keeps the rest of the day clean: a
custody shortfall moves custody, not ledgers; a missed liquidation is reached through a
legitimate user margin transfer; a roll-forward break edits a balance without a movement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from reports.errors import UsageError
from reports.generate.book import Ledger, position_metrics
from reports.generate.universe import ASSETS, UNIT, USD

if TYPE_CHECKING:
    from reports.generate.simulate import Venue

INJECT_KINDS = (
    "shortfall",
    "rollforward",
    "isolation",
    "missed_liquidation",
    "bad_debt",
    "concentration",
    "hot_wallet",
    "capital_squeeze",
)
TRUTH_COLUMNS = (
    "as_of",
    "inject",
    "check_id",
    "status",
    "entity_type",
    "entity_id",
    "instrument_id",
    "asset",
    "note",
)
SHORTFALL_ASSETS = ("ETH", "USDC", "BTC", "USDT", "SOL", "XRP", "DOGE", "USD")
HOT_SHARE = 0.12
SHORTFALL_COVER = 0.9


def position_id(pid: int) -> str:
    return f"P{pid}"


@dataclass
class InjectPlan:
    kinds: frozenset[str]
    day: int
    date: dt.date
    truth: list[dict[str, str]] = field(default_factory=list)
    used_pids: set[int] = field(default_factory=set)
    used_accounts: set[int] = field(default_factory=set)

    def active(self, kind: str, day: int) -> bool:
        return kind in self.kinds and day == self.day

    def record(
        self,
        inject: str,
        check_id: str,
        entity_type: str,
        entity_id: str,
        *,
        instrument_id: str = "",
        asset: str = "",
        note: str = "",
        status: str = "breach",
    ) -> None:
        self.truth.append(
            {
                "as_of": self.date.isoformat(),
                "inject": inject,
                "check_id": check_id,
                "status": status,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "instrument_id": instrument_id,
                "asset": asset,
                "note": note,
            }
        )


def _eligible(v: Venue, mk: np.ndarray, plan: InjectPlan, *, health: float = 2.5) -> np.ndarray:
    """Open client isolated positions untouched today and comfortably healthy."""
    p = v.pos
    r = v.rows(client=True, iso=True)
    r = r[
        ~p.opened[r]
        & ~p.touched[r]
        & (np.abs(p.qty[r]) == p.prev_abs[r])
        & ~v.acc.frozen[p.acct[r]]
    ]
    if plan.used_pids:
        r = r[~np.isin(p.pid[r], np.fromiter(plan.used_pids, np.int64))]
    if plan.used_accounts:
        r = r[~np.isin(p.acct[r], np.fromiter(plan.used_accounts, np.int64))]
    met = position_metrics(p, r, mk, v.arr)
    eq = p.margin[r] / UNIT + met.upnl
    return r[(eq > health * met.mm) & (p.margin[r] > 100)]


def _cannot_plant(kind: str, why: str) -> UsageError:
    """The venue has nothing to plant `kind` on: the options ask for what it cannot hold (a
    usage error, exit 2; it was an internal error, exit 4, after part of OUT was rewritten)."""
    msg = (
        f"cannot plant {kind}: {why} in this venue; generate more accounts (--accounts), another "
        f"--seed, or leave {kind} out of --inject"
    )
    return UsageError(msg)


def _pick(v: Venue, rows: np.ndarray, rng: np.random.Generator, what: str) -> int:
    if len(rows) == 0:
        raise _cannot_plant(what, "no suitable open isolated position")
    row = int(rows[rng.integers(len(rows))])
    return row


def _use(v: Venue, plan: InjectPlan, row: int) -> tuple[str, str, str]:
    p = v.pos
    plan.used_pids.add(int(p.pid[row]))
    plan.used_accounts.add(int(p.acct[row]))
    p.touched[row] = True
    inst = v.instruments[int(p.inst[row])]
    return position_id(int(p.pid[row])), inst.instrument_id, ASSETS[inst.settle]


def _set_loss(v: Venue, row: int, mk: np.ndarray, upnl_target: float) -> None:
    """Move the entry price (on tick) so the position's uPnL is about `upnl_target` (fallback only)."""
    p = v.pos
    i = int(p.inst[row])
    q = float(p.qty[row]) * v.arr.cs[i]
    m = mk[i] / UNIT
    entry = 1.0 / (1.0 / m + upnl_target / q) if v.arr.inverse[i] else m - upnl_target / q
    tick = int(v.arr.tick_units[i])
    p.entry[row] = max(round(entry * UNIT / tick), 1) * tick


def _drain_to(
    v: Venue, led: Ledger, row: int, mk: np.ndarray, equity_in_mm: float, ts: int
) -> None:
    """A user margin transfer (bucket <-> own cross wallet) leaving equity = factor x MM."""
    rows = np.array([row])
    met = position_metrics(v.pos, rows, mk, v.arr)
    target_margin = int(np.ceil((equity_in_mm * met.mm[0] - met.upnl[0]) * UNIT))
    amount = int(v.pos.margin[row]) - target_margin  # > 0: bucket -> cross
    acct = v.pos.acct[rows]
    asset = v.settle_of(rows)
    if amount > 0:
        led.transfer(
            kind="margin_transfer",
            by="user",
            ts=ts,
            asset=asset,
            amount=np.array([amount]),
            from_acct=acct,
            to_acct=acct,
            from_rows=rows,
        )
    elif amount < 0:
        led.transfer(
            kind="margin_transfer",
            by="user",
            ts=ts,
            asset=asset,
            amount=np.array([-amount]),
            from_acct=acct,
            to_acct=acct,
            to_rows=rows,
        )


def ledger_findings(
    v: Venue, led: Ledger, day: int, mk: np.ndarray, plan: InjectPlan | None
) -> None:
    if plan is None or day != plan.day:
        return
    p = v.pos
    acc = v.acc
    if plan.active("rollforward", day):
        rng = v.rng(day, 51)
        # SEG-04: a cross wallet that existed yesterday gains funds with no movement.
        nc = acc.n_clients
        flat = np.arange(nc) * v.n_assets + acc.trade_asset[:nc]
        ok = v.listed_prev[flat] & (v.balance[flat] > 10 * UNIT) & ~acc.frozen[:nc]
        ok &= ~np.isin(np.arange(nc), np.fromiter(plan.used_accounts, np.int64))
        cands = np.flatnonzero(ok)
        if len(cands) == 0:
            raise _cannot_plant("rollforward", "no client cross wallet with funds")
        acct = int(cands[rng.integers(len(cands))])
        asset = int(acc.trade_asset[acct])
        delta = int(v.balance[acct * v.n_assets + asset] // 100) + 1
        v.balance[acct * v.n_assets + asset] += delta
        plan.used_accounts.add(acct)
        plan.record(
            "rollforward",
            "SEG-04",
            "account",
            acc.ids[acct],
            asset=ASSETS[asset],
            note=f"cross-wallet balance raised by {delta / UNIT:.8f} {ASSETS[asset]} with no movement",
        )
        # SEG-05: an isolated bucket grows with no movement.
        row = _pick(v, _eligible(v, mk, plan), rng, "rollforward")
        delta = int(p.margin[row] // 100) + 1
        p.margin[row] += delta
        pid, inst, asset_name = _use(v, plan, row)
        plan.record(
            "rollforward",
            "SEG-05",
            "position",
            pid,
            instrument_id=inst,
            asset=asset_name,
            note=f"isolated_margin raised by {delta / UNIT:.8f} {asset_name} with no movement",
        )
    if plan.active("isolation", day):
        rng = v.rng(day, 52)
        # SEG-06 (a): an operator adjustment on an isolated bucket.
        row = _pick(v, _eligible(v, mk, plan), rng, "isolation")
        amount = int(p.margin[row] // 50) + 1
        led.post(
            acct=p.acct[[row]],
            asset=v.settle_of(np.array([row])),
            amount=np.array([amount]),
            kind="adjustment",
            by="operator",
            ts=15 * 3600 + 7,
            rows=np.array([row]),
        )
        pid, inst, asset_name = _use(v, plan, row)
        plan.record(
            "isolation",
            "SEG-06",
            "position",
            pid,
            instrument_id=inst,
            asset=asset_name,
            note="operator adjustment credited to the isolated bucket",
        )
        # SEG-06 (b): a margin transfer between two different accounts' buckets (same settle asset).
        cands = _eligible(v, mk, plan, health=4.0)
        settle = v.settle_of(cands)
        for asset in np.unique(settle):  # loop over assets
            same = cands[settle == asset]
            accts = p.acct[same]
            if len(np.unique(accts)) >= 2:
                break
        else:
            raise _cannot_plant(
                "isolation", "no two accounts hold isolated positions in one settle asset"
            )
        src = int(same[rng.integers(len(same))])
        others = same[p.acct[same] != p.acct[src]]
        dst = int(others[rng.integers(len(others))])
        met = position_metrics(p, np.array([src]), mk, v.arr)
        room = (p.margin[src] / UNIT + met.upnl[0]) - 2.0 * met.mm[0]
        amount = max(1, min(int(0.3 * room * UNIT), int(p.margin[src] // 2)))
        led.transfer(
            kind="margin_transfer",
            by="user",
            ts=16 * 3600 + 11,
            asset=np.array([asset]),
            amount=np.array([amount]),
            from_acct=p.acct[[src]],
            to_acct=p.acct[[dst]],
            from_rows=np.array([src]),
            to_rows=np.array([dst]),
        )
        # the sending bucket's transfer goes "to" the other account's bucket, the receiving
        # one's comes "from" it (the notes said the reverse until 2026-12-06)
        for row, side in ((src, "to"), (dst, "from")):
            pid, inst, asset_name = _use(v, plan, row)
            other = acc.ids[int(p.acct[dst if side == "to" else src])]
            plan.record(
                "isolation",
                "SEG-06",
                "position",
                pid,
                instrument_id=inst,
                asset=asset_name,
                note=f"margin_transfer {side} another account's bucket ({other})",
            )
    for kind, factor, threshold in (("missed_liquidation", 0.5, 0.4), ("bad_debt", -0.3, -0.6)):
        if not plan.active(kind, day):
            continue
        rng = v.rng(day, 53 if kind == "bad_debt" else 54)
        cands = _eligible(v, mk, plan)
        met = position_metrics(p, cands, mk, v.arr)
        losing = cands[met.upnl < threshold * met.mm]
        if len(losing):
            row = _pick(v, losing, rng, kind)
        else:  # no position losing enough today: its entry was worse (fallback for tiny venues)
            row = _pick(v, cands, rng, kind)
            rmet = position_metrics(p, np.array([row]), mk, v.arr)
            _set_loss(v, row, mk, -(abs(threshold) + 0.5) * rmet.mm[0] - 0.2 * p.margin[row] / UNIT)
        _drain_to(v, led, row, mk, factor, 17 * 3600 + (13 if kind == "bad_debt" else 17))
        pid, inst, asset_name = _use(v, plan, row)
        what = (
            "equity at half the maintenance margin"
            if kind == "missed_liquidation"
            else ("equity below zero (bad debt)")
        )
        plan.record(
            kind,
            "SEG-07",
            "position",
            pid,
            instrument_id=inst,
            asset=asset_name,
            note=f"open isolated position left with {what} after a user margin transfer",
        )


def concentration(
    v: Venue, led: Ledger, day: int, mk: np.ndarray, ap: np.ndarray, plan: InjectPlan | None
) -> tuple[int, int] | None:
    """CON-01: two accounts of one connected group open a large cross position in a big instrument."""
    if plan is None or not plan.active("concentration", day):
        return None
    rng = v.rng(day, 55)
    acc = v.acc
    p = v.pos
    members = np.flatnonzero((acc.group >= 0) & ~acc.frozen)
    counts = np.bincount(acc.group[members], minlength=acc.n_groups)
    groups = np.flatnonzero(counts >= 2)
    if len(groups) == 0:
        raise _cannot_plant("concentration", "no connected-client group")
    group = int(groups[rng.integers(len(groups))])
    pair = np.sort(members[acc.group[members] == group])[:2]
    cusd = v.contract_usd(mk, ap)
    r = v.rows(client=True)
    gross_usd = np.bincount(p.inst[r], np.abs(p.qty[r]) * cusd[p.inst[r]], v.n_inst)
    linear_perps = np.flatnonzero(v.arr.perpetual & ~v.arr.inverse)
    inst = int(linear_perps[np.argmax(gross_usd[linear_perps])])
    in_inst = r[p.inst[r] == inst]
    others = in_inst[acc.group[p.acct[in_inst]] != group]
    c0 = int(np.abs(p.qty[in_inst]).sum())
    gkey = acc.group_key[p.acct[others]]
    gmax = int(np.bincount(gkey, np.abs(p.qty[others])).max()) if len(others) else 0
    base = max(c0, 5 * gmax, int(np.ceil(1.5e6 / cusd[inst])), 2)
    share = oi_usd = 0.0
    for mult in (1, 2, 4):  # a few attempts at the size
        delta = base * mult
        qty = np.array([delta // 2, delta - delta // 2], np.int64)
        rows = p.append(
            pair,
            np.array([inst, inst]),
            np.zeros(2, bool),
            qty,
            np.full(2, mk[inst]),
            np.zeros(2, np.int64),
        )
        targets = v.house_targets(mk, ap, exclude=(group, inst))
        r2 = v.rows(client=True)
        r2 = r2[p.inst[r2] == inst]
        longs = int(p.qty[r2][p.qty[r2] > 0].sum()) + int(
            targets[:, inst][targets[:, inst] > 0].sum()
        )
        mine = r2[acc.group[p.acct[r2]] == group]
        share = float(np.abs(p.qty[mine]).sum()) / longs
        oi_usd = longs * float(cusd[inst])
        if share >= 0.12 and oi_usd >= 1.2e6:
            break
        p.alive[rows] = False  # not traded: try a larger size
    cv = v.contract_value(np.array([inst, inst]), mk)
    notional = qty * cv
    asset = int(v.arr.settle[inst])
    ts = np.array([14 * 3600 + 5, 14 * 3600 + 9])
    led.post(
        acct=pair,
        asset=asset,
        amount=np.ceil(notional / 2 * UNIT).astype(np.int64),
        kind="deposit",
        by="user",
        ts=ts - 60,
    )
    led.post(
        acct=pair,
        asset=asset,
        amount=-np.rint(notional * 0.0005 * UNIT).astype(np.int64),
        kind="fee",
        by="system",
        ts=ts,
    )
    v.record_volume(rows, qty, mk, ap)
    plan.used_accounts.update(int(a) for a in pair)
    gid = acc.group_ids[int(pair[0])]
    plan.record(
        "concentration",
        "CON-01",
        "group",
        str(gid),
        instrument_id=v.instruments[inst].instrument_id,
        note=f"accounts {acc.ids[int(pair[0])]} and {acc.ids[int(pair[1])]} hold {share:.1%} of open interest",
    )
    return group, inst


def custody_findings(
    v: Venue, day: int, custody: dict[str, list], requirement: np.ndarray, plan: InjectPlan | None
) -> None:
    if plan is None or day != plan.day:
        return
    assets = custody["asset"]
    if plan.active("shortfall", day):
        name = next(a for a in SHORTFALL_ASSETS if requirement[ASSETS.index(a)] > 0)
        held = 0
        for i, a in enumerate(assets):  # a few dozen custody rows
            if a == name and custody["designation"][i] == "client":
                custody["balance"][i] = int(custody["balance"][i] * SHORTFALL_COVER)
                held += custody["balance"][i]
        # the custody held the requirement plus a 2-5% excess: cut by 10% it covers 92-95% of it
        cover = held / UNIT / requirement[ASSETS.index(name)]
        plan.record(
            "shortfall",
            "SEG-01",
            "asset",
            name,
            asset=name,
            note=f"client custody of {name} cut by {1 - SHORTFALL_COVER:.0%}, "
            f"to {cover:.1%} of the requirement",
        )
    if plan.active("hot_wallet", day):
        for a, name in enumerate(ASSETS):  # loop over assets
            if a == USD:
                continue
            idx = [
                i
                for i, x in enumerate(assets)
                if x == name and custody["designation"][i] == "client"
            ]
            if not idx:
                continue
            total = sum(custody["balance"][i] for i in idx)
            hot = next(i for i in idx if custody["wallet_type"][i] == "hot")
            cold = next(i for i in idx if custody["wallet"][i] == "W-CLIENT-COLD-1")
            move = int(total * HOT_SHARE) - custody["balance"][hot]
            custody["balance"][hot] += move
            custody["balance"][cold] -= move
        plan.record(
            "hot_wallet",
            "CON-04",
            "firm",
            "firm",
            note=f"client crypto moved from cold to hot wallets: {HOT_SHARE:.0%} of each asset",
        )
