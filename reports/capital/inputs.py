"""Gather the inputs of the capital statement from the database (queries/capital/*.sql).

Each function runs one SQL file and returns small records (aggregates, never data rows); the
formulas live in reports.capital.ifr / cftc / mica.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from reports.capital.ifr import LARGE_EXPOSURE_LIMIT
from reports.paths import read_query

# Start with this many stored days when counting how long a large exposure has lasted; widen
# (x4) only while a run reaches back to the first day looked at and older days exist.
LARGE_EXPOSURE_LOOKBACK = 16


def _rows(con: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = con.execute(read_query(f"capital/{name}.sql"), params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def is_stored_day(con: Any, as_of: dt.date) -> bool:
    """True when as_of has a recorded load or capital figures."""
    return bool(_rows(con, "stored_day", {"as_of": as_of})[0]["is_stored"])


def capital_items(con: Any, as_of: dt.date) -> dict[str, Decimal]:
    """The capital file of the day: item -> amount (items absent from the file are absent)."""
    return {r["item"]: Decimal(r["amount"]) for r in _rows(con, "capital_items", {"as_of": as_of})}


@dataclass(frozen=True)
class WindowSums:
    """The stored days of one averaged K-factor's IFR window and the sum of its daily values."""

    factor: str  # K-CMH, K-ASA, K-COH, K-DTF
    window_after: dt.date  # the window is window_after < day <= window_through
    window_through: dt.date
    days_in_window: int
    fallback: bool  # no stored day in the window: every stored day up to as_of was used
    days_used: int
    first_day: dt.date | None
    last_day: dt.date | None
    total_usd: Decimal
    volume_days: int  # days used that had volumes rows (K-COH, K-DTF)


# Which daily value each averaged K-factor averages (columns of ifr_daily_values.sql).
WINDOW_VALUE_COLUMNS = {
    "K-CMH": "client_money_usd",
    "K-ASA": "assets_safeguarded_usd",
    "K-COH": "client_orders_usd",
    "K-DTF": "trading_flow_usd",
}


def window_sums(con: Any, as_of: dt.date, stable_assets: tuple[str, ...]) -> list[WindowSums]:
    """The days each averaged K-factor uses and the sum of its daily values over them.

    Two queries: the days used per factor (ifr_window_days.sql, no views), then the daily values
    over the constant range of those days (ifr_daily_values.sql), joined here in Polars.
    """
    import polars as pl

    used = con.sql(read_query("capital/ifr_window_days.sql"), params={"as_of": as_of}).pl()
    days = used.get_column("day").drop_nulls()
    value_columns = list(WINDOW_VALUE_COLUMNS.values())
    if days.len():
        values = con.sql(
            read_query("capital/ifr_daily_values.sql"),
            params={
                "first_day": days.min(),
                "last_day": days.max(),
                "stable_assets": list(stable_assets),
            },
        ).pl()
    else:
        decimal = pl.Decimal(38, 18)
        values = pl.DataFrame(
            schema={
                "day": pl.Date,
                **dict.fromkeys(value_columns, decimal),
                "has_volumes": pl.Boolean,
            }
        )
    sums = (
        used.join(values, on="day", how="left")
        .group_by("factor", maintain_order=True)
        .agg(
            pl.col("window_after").first(),
            pl.col("window_through").first(),
            pl.col("days_in_window").first(),
            pl.col("fallback").first(),
            pl.col("day").count().alias("days_used"),
            pl.col("day").min().alias("first_day"),
            pl.col("day").max().alias("last_day"),
            *(pl.col(c).sum() for c in value_columns),
            pl.col("has_volumes").fill_null(False).sum().alias("volume_days"),
        )
    )
    return [
        WindowSums(
            factor=r["factor"],
            window_after=r["window_after"],
            window_through=r["window_through"],
            days_in_window=int(r["days_in_window"]),
            fallback=bool(r["fallback"]),
            days_used=int(r["days_used"]),
            first_day=r["first_day"],
            last_day=r["last_day"],
            total_usd=Decimal(r[WINDOW_VALUE_COLUMNS[r["factor"]]] or 0),
            volume_days=int(r["volume_days"]),
        )
        for r in sums.iter_rows(named=True)
    ]


@dataclass(frozen=True)
class NetExposure:
    underlying: str
    position_usd: Decimal
    custody_usd: Decimal
    net_usd: Decimal


def net_exposures(con: Any, as_of: dt.date, stable_assets: tuple[str, ...]) -> list[NetExposure]:
    rows = _rows(con, "k_npr", {"as_of": as_of, "stable_assets": list(stable_assets)})
    return [
        NetExposure(
            r["underlying"],
            Decimal(r["position_usd"]),
            Decimal(r["custody_usd"]),
            Decimal(r["net_usd"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class CustodianExposure:
    custodian: str
    custodian_type: str
    exposure_usd: Decimal


def custodian_exposures(con: Any, as_of: dt.date) -> list[CustodianExposure]:
    rows = _rows(con, "k_tcd", {"as_of": as_of})
    return [
        CustodianExposure(r["custodian"], r["custodian_type"], Decimal(r["exposure_usd"] or 0))
        for r in rows
    ]


@dataclass(frozen=True)
class LargeExposure:
    """A counterparty the firm is exposed to on as_of (CON-06) and how long it has been over the limit."""

    kind: str  # custodian | client_group (CON-06's kinds)
    counterparty: str
    exposure_usd: Decimal
    own_funds: Decimal | None  # None when the day's capital file lacks the own-funds items
    limit_usd: Decimal | None
    over_limit: bool  # exposure strictly above the limit
    days_over: int  # consecutive stored days ending on as_of over the limit (0 if not over)
    duration_found: bool = True  # False: CON-06 says over but the history query did not


def large_exposures(con: Any, as_of: dt.date, config: Any) -> list[LargeExposure]:
    """The day's large exposures, as CON-06 defines them, with the duration of their excess.

    The exposures come from reports.concentration.large_exposures (one definition for CON-06 and
    K-CON); the run of stored days over the limit is counted only when one is over, by
    queries/capital/large_exposure_runs.sql.
    """
    from reports.concentration import large_exposures as con06_exposures

    frame = con06_exposures(con, as_of, config)
    # CON-06's exposures and own funds; the limit is IFR's 25%, not CON-06's configured
    # thresholds (ifr.LARGE_EXPOSURE_LIMIT), floored at 0 as in ifr.k_con_detail
    exposures = [
        (
            kind,
            name,
            exposure,
            own_funds,
            None if own_funds is None else _limit(own_funds),
        )
        for kind, name, exposure, own_funds in frame.select(
            "kind", "counterparty", "exposure_usd", "own_funds"
        ).rows()
    ]
    over = {
        (kind, name)
        for kind, name, exposure, _, limit in exposures
        if limit is not None and exposure is not None and exposure > limit
    }
    runs = exposure_runs(con, as_of, LARGE_EXPOSURE_LIMIT, over) if over else {}
    result: list[LargeExposure] = []
    for kind, name, exposure, own_funds, limit in exposures:
        is_over = (kind, name) in over
        found = not is_over or (kind, name) in runs
        result.append(
            LargeExposure(
                kind=kind,
                counterparty=name,
                exposure_usd=Decimal(exposure or 0),
                own_funds=None if own_funds is None else Decimal(own_funds),
                limit_usd=None if limit is None else Decimal(limit),
                over_limit=is_over,
                # today is over by CON-06's figures, so the run is at least this day
                days_over=max(1, runs.get((kind, name), 1)) if is_over else 0,
                duration_found=found,
            )
        )
    return result


def _limit(own_funds: Decimal) -> Decimal:
    """IFR's large exposure limit, exact (final review of 2026-12-05: Python's default 28
    digits made an exposure of exactly 25% of own funds "over" it), floored at 0."""
    with localcontext() as ctx:
        ctx.prec = 80
        return max(LARGE_EXPOSURE_LIMIT * own_funds, Decimal(0))


def exposure_runs(
    con: Any, as_of: dt.date, limit_share: Decimal, counterparties: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(kind, counterparty) -> consecutive stored days ending on as_of over the limit, for the
    given counterparties (kind custodian or client_group) that are over it on as_of.

    Counted over a lookback of stored days that is widened (x4) only while a run reaches its
    first day and older days exist, so a long history is not scanned in full.
    """
    lookback = LARGE_EXPOSURE_LOOKBACK
    while True:
        rows = _rows(
            con,
            "large_exposure_runs",
            {
                "as_of": as_of,
                "lookback": lookback,
                "limit_share": limit_share,
                "custodians": sorted(n for k, n in counterparties if k == "custodian"),
                "groups": sorted(n for k, n in counterparties if k == "client_group"),
            },
        )
        if all(r["run_complete"] or not r["over_limit"] for r in rows):
            break
        lookback *= 4
    return {
        (r["counterparty_type"], r["counterparty"]): int(r["days_over"])
        for r in rows
        if r["over_limit"]
    }


@dataclass(frozen=True)
class MarginTotal:
    maintenance_margin_usd: Decimal
    positions: int
    unmargined_positions: int


def cftc_margin(con: Any, as_of: dt.date) -> MarginTotal:
    r = _rows(con, "cftc_margin", {"as_of": as_of})[0]
    return MarginTotal(
        Decimal(r["maintenance_margin_usd"]), int(r["positions"]), int(r["unmargined_positions"])
    )
