"""The venue's books as numpy arrays: open positions, cross wallets, and the movement ledger.

Every change of a cross-wallet balance or an isolated bucket goes through `Ledger.post`, which
records the movement and applies it to the state in the same step, so the roll-forward
(previous balance + movements = balance) holds exactly by construction. Amounts are int64
counts of 1e-8 of the asset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reports.generate.universe import TIER_KEY_SPAN, UNIT, InstrumentArrays
from reports.spec import MOVEMENT_KINDS

KIND = {k: i for i, k in enumerate(MOVEMENT_KINDS)}
INITIATORS = ("user", "system", "operator")
BY = {k: i for i, k in enumerate(INITIATORS)}

_POSITION_FIELDS = {
    "pid": np.int64,
    "acct": np.int64,
    "inst": np.int64,
    "iso": np.bool_,
    "qty": np.int64,  # signed contracts
    "entry": np.int64,  # price units
    "margin": np.int64,  # isolated bucket, settle-asset units (0 for cross)
    "lev": np.int64,  # leverage chosen at opening (isolated), 0 for cross
    "alive": np.bool_,
    "prev_abs": np.int64,  # |quantity| at the previous close, 0 if opened today
    "opened": np.bool_,  # opened today
    "touched": np.bool_,  # traded, topped up, released or used by an injection today
}


@dataclass
class Positions:
    """Struct of arrays; rows of closed positions stay until `compact` at the end of the day."""

    cols: dict[str, np.ndarray] = field(
        default_factory=lambda: {k: np.zeros(0, dtype=t) for k, t in _POSITION_FIELDS.items()}
    )
    next_pid: int = 1

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name]
        raise AttributeError(name)

    def __len__(self) -> int:
        return len(self.cols["pid"])

    def append(
        self,
        acct: np.ndarray,
        inst: np.ndarray,
        iso: np.ndarray,
        qty: np.ndarray,
        entry: np.ndarray,
        lev: np.ndarray,
        margin: np.ndarray | None = None,
    ) -> np.ndarray:
        n = len(acct)
        new = {
            "pid": np.arange(self.next_pid, self.next_pid + n, dtype=np.int64),
            "acct": acct,
            "inst": inst,
            "iso": iso,
            "qty": qty,
            "entry": entry,
            "margin": np.zeros(n, np.int64) if margin is None else margin,
            "lev": lev,
            "alive": np.ones(n, bool),
            "prev_abs": np.zeros(n, np.int64),
            "opened": np.ones(n, bool),
            "touched": np.ones(n, bool),
        }
        self.next_pid += n
        start = len(self)
        for k, t in _POSITION_FIELDS.items():
            self.cols[k] = np.concatenate([self.cols[k], np.asarray(new[k]).astype(t, copy=False)])
        return np.arange(start, start + n)

    def compact(self) -> None:
        keep = self.cols["alive"]
        for k in self.cols:
            self.cols[k] = self.cols[k][keep]

    def start_day(self) -> None:
        self.cols["prev_abs"] = np.abs(self.cols["qty"])
        self.cols["opened"] = np.zeros(len(self), bool)
        self.cols["touched"] = np.zeros(len(self), bool)


@dataclass
class Metrics:
    upnl: np.ndarray  # settle asset, float (statistics-grade; the files carry exact inputs)
    notional: np.ndarray  # settle asset
    mm: np.ndarray  # maintenance margin, settle asset


def position_metrics(
    pos: Positions,
    rows: np.ndarray,
    mark_units: np.ndarray,
    arr: InstrumentArrays,
    qty: np.ndarray | None = None,
    entry_units: np.ndarray | None = None,
) -> Metrics:
    """uPnL, notional and maintenance margin per DESIGN.md section 4 (float64, for decisions)."""
    inst = pos.inst[rows]
    q = (pos.qty[rows] if qty is None else qty).astype(np.float64)
    e = (pos.entry[rows] if entry_units is None else entry_units) / UNIT
    m = mark_units[inst] / UNIT
    qcs = q * arr.cs[inst]
    upnl = qcs * (m - e)
    notional = np.abs(qcs) * m
    inv = np.flatnonzero(arr.inverse[inst])  # a minority: recompute only those
    if len(inv):
        upnl[inv] = qcs[inv] * (1.0 / e[inv] - 1.0 / m[inv])
        notional[inv] = np.abs(qcs[inv]) / m[inv]
    mm = maintenance_margin(inst, notional, arr)
    return Metrics(upnl, notional, mm)


def maintenance_margin(inst: np.ndarray, notional: np.ndarray, arr: InstrumentArrays) -> np.ndarray:
    """MM = notional x mmr - cum of the tier with floor <= notional < cap.

    One searchsorted over all instruments' floors, keyed instrument-major (float keys: MM is
    continuous in the notional, so a boundary off by a rounding error changes nothing).
    """
    key = inst * TIER_KEY_SPAN + np.minimum(notional, TIER_KEY_SPAN / 2)
    tier = np.searchsorted(arr.tier_keys, key, side="right") - 1
    return notional * arr.tier_mmr_flat[tier] - arr.tier_cum_flat[tier]


def trade_pnl(
    inv: np.ndarray,
    cs: np.ndarray,
    closed_qty: np.ndarray,
    entry_units: np.ndarray,
    mark_units: np.ndarray,
) -> np.ndarray:
    """Realized PnL (settle asset, float) of closing `closed_qty` signed contracts at the mark."""
    e = entry_units / UNIT
    m = mark_units / UNIT
    q = closed_qty.astype(np.float64)
    return np.where(inv, q * cs * (1.0 / e - 1.0 / m), q * cs * (m - e))


def to_int_units(x: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64) * UNIT).astype(np.int64)


class Ledger:
    """One day's movements, applied to the books as they are posted."""

    def __init__(
        self,
        balance: np.ndarray,
        listed: np.ndarray,
        n_assets: int,
        positions: Positions,
        next_transfer: int,
    ) -> None:
        self.balance = balance  # flat (accounts * assets), int64
        self.listed = listed  # flat bool: the (account, asset) row appears in balances
        self.n_assets = n_assets
        self.pos = positions
        self.next_transfer = next_transfer
        self.chunks: list[dict[str, np.ndarray]] = []

    def new_transfers(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_transfer, self.next_transfer + n, dtype=np.int64)
        self.next_transfer += n
        return ids

    def post(
        self,
        *,
        acct: np.ndarray,
        asset: np.ndarray | int,
        amount: np.ndarray,
        kind: str,
        by: str,
        ts: np.ndarray | int,
        rows: np.ndarray | None = None,
        transfer: np.ndarray | None = None,
    ) -> None:
        """Record movements and apply them: rows >= 0 hit that position's bucket, else the cross wallet."""
        acct = np.asarray(acct, dtype=np.int64)
        n = len(acct)
        if n == 0:
            return
        amount = np.broadcast_to(np.asarray(amount, dtype=np.int64), (n,)).copy()
        asset = np.broadcast_to(np.asarray(asset, dtype=np.int64), (n,)).copy()
        rows = (
            np.full(n, -1, np.int64)
            if rows is None
            else np.broadcast_to(np.asarray(rows, np.int64), (n,))
        )
        bucket = rows >= 0
        if bucket.any():
            np.add.at(self.pos.margin, rows[bucket], amount[bucket])
        cross = ~bucket
        if cross.any():
            flat = acct[cross] * self.n_assets + asset[cross]
            np.add.at(self.balance, flat, amount[cross])
            self.listed[flat] = True
        pid = np.where(bucket, self.pos.pid[np.maximum(rows, 0)], -1)
        chunk = {
            "acct": acct,
            "asset": asset,
            "amount": amount,
            "kind": np.full(n, KIND[kind], np.int8),
            "by": np.full(n, BY[by], np.int8),
            "ts": np.broadcast_to(np.asarray(ts, dtype=np.int64), (n,)).copy(),
            "pid": pid,
            "transfer": np.full(n, -1, np.int64)
            if transfer is None
            else np.asarray(transfer, np.int64),
        }
        nonzero = amount != 0  # a zero movement changes nothing; both legs of a zero transfer go
        if not nonzero.all():
            chunk = {k: v[nonzero] for k, v in chunk.items()}
        self.chunks.append(chunk)

    def transfer(
        self,
        *,
        kind: str,
        by: str,
        ts: np.ndarray | int,
        asset: np.ndarray | int,
        amount: np.ndarray,
        from_acct: np.ndarray,
        to_acct: np.ndarray,
        from_rows: np.ndarray | None = None,
        to_rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Two legs sharing a transfer_id that net to zero: -amount from, +amount to."""
        n = len(from_acct)
        ids = self.new_transfers(n)
        amount = np.asarray(amount, dtype=np.int64)
        self.post(
            acct=from_acct,
            asset=asset,
            amount=-amount,
            kind=kind,
            by=by,
            ts=ts,
            rows=from_rows,
            transfer=ids,
        )
        self.post(
            acct=to_acct,
            asset=asset,
            amount=amount,
            kind=kind,
            by=by,
            ts=ts,
            rows=to_rows,
            transfer=ids,
        )
        return ids

    def frame(self) -> dict[str, np.ndarray]:
        """All of the day's movements, in time order (stable on posting order)."""
        if not self.chunks:
            keys = ("acct", "asset", "amount", "kind", "by", "ts", "pid", "transfer")
            return {k: np.zeros(0, np.int64) for k in keys}
        out = {k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]}
        order = np.argsort(out["ts"], kind="stable")
        return {k: v[order] for k, v in out.items()}
