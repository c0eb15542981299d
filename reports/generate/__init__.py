"""`mir generate`: a synthetic venue history with planted findings (and the truth about them).

    generate(GenerateOptions(accounts=300, days=5, seed=7, out=Path("samples"), inject=("all",)))

writes one snapshot directory per day (DESIGN.md section 3: every file, volumes included, and a
300-day price_history back-fill in the first day's directory) and DIR/truth.csv listing every
planted finding exactly as its check reports it. The same options give the same bytes.
The generator only writes snapshot directories; it knows nothing of the loader or the checks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

from reports.errors import UsageError
from reports.generate.inject import INJECT_KINDS, TRUTH_COLUMNS, InjectPlan
from reports.generate.market import HISTORY_DAYS
from reports.generate.simulate import CLIENT, HOUSE, DayState, Venue
from reports.generate.universe import (
    ASSETS,
    HOUSE_BANK_WALLET,
    JURISDICTIONS,
    PRICED,
    UNIT,
    to_units,
)
from reports.generate.writer import clear_snapshot_files, id_column, timestamps, write_table
from reports.spec import INSTRUMENT_KINDS, MOVEMENT_KINDS

__all__ = ["INJECT_KINDS", "GenerateOptions", "GenerateSummary", "generate"]

DEFAULT_START = dt.date(2026, 3, 2)
MIN_ACCOUNTS = 40
INITIATORS = ("user", "system", "operator")
ACCOUNT_TYPES = ("client", "house", "insurance_fund")


@dataclass(frozen=True)
class GenerateOptions:
    accounts: int
    days: int
    seed: int
    out: Path
    fmt: str = "csv"  # csv | parquet
    start: dt.date = DEFAULT_START
    inject: tuple[str, ...] = ()  # kinds of INJECT_KINDS, or "all"
    inject_on: dt.date | None = None  # default: the last day


@dataclass(frozen=True)
class GenerateSummary:
    out: Path
    days: int
    first: dt.date
    last: dt.date
    accounts: int
    positions: int  # open on the last day
    movements: int  # on the last day
    findings: int
    seconds: float
    # snapshot directories in `out` from an earlier run, which truth.csv does not describe
    other_days: tuple[str, ...] = ()

    def warning(self) -> str | None:
        """The earlier run's days left in `out`, for stderr (printed under -q too)."""
        if not self.other_days:
            return None
        return (
            f"{self.out} also holds {len(self.other_days)} day(s) of an earlier run "
            f"({', '.join(self.other_days[:3])}{', ...' if len(self.other_days) > 3 else ''}), "
            "not described by truth.csv"
        )

    def line(self) -> str:
        return (
            f"generated {self.days} day(s) {self.first}..{self.last} for {self.accounts} accounts: "
            f"{self.positions} open positions and {self.movements} movements on the last day, "
            f"{self.findings} planted finding(s) in truth.csv -> {self.out} ({self.seconds:.1f} s)"
        )


def _validate(opts: GenerateOptions) -> tuple[frozenset[str], int]:
    if opts.accounts < MIN_ACCOUNTS:
        msg = f"--accounts must be at least {MIN_ACCOUNTS} (house market makers and an insurance fund are included)"
        raise UsageError(msg)
    if opts.days < 1:
        msg = "--days must be at least 1"
        raise UsageError(msg)
    if opts.fmt not in ("csv", "parquet"):
        msg = f"--format must be csv or parquet, got {opts.fmt!r}"
        raise UsageError(msg)
    kinds = set(opts.inject)
    if "all" in kinds:
        kinds = set(INJECT_KINDS)
    unknown = sorted(kinds - set(INJECT_KINDS))
    if unknown:
        msg = f"unknown --inject kind {unknown[0]!r}; choose from all, {', '.join(INJECT_KINDS)}"
        raise UsageError(msg)
    day = opts.days - 1
    if opts.inject_on is not None:
        day = (opts.inject_on - opts.start).days
        if not 0 <= day < opts.days:
            msg = f"--inject-on {opts.inject_on} is outside the generated days"
            raise UsageError(msg)
        if kinds & {"rollforward"} and day == 0:
            msg = (
                "--inject rollforward needs a previous day: choose --inject-on after the first day"
            )
            raise UsageError(msg)
    return frozenset(kinds), day


def generate(
    opts: GenerateOptions, progress: Callable[[str], None] | None = None
) -> GenerateSummary:
    """Write the history into a staging folder inside OUT, then move its files into place: a
    run that fails (a finding it cannot plant, Ctrl-C, a full disk) leaves OUT as it was (it
    used to leave the days written so far beside an earlier run's, with that run's truth.csv).
    Only the final moves, one rename per file, can be cut short."""
    started = time.perf_counter()
    kinds, inject_day = _validate(opts)
    out = Path(opts.out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    try:
        positions, movements, findings = _write_history(opts, kinds, inject_day, stage, progress)
        _publish(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):  # only if nothing else is in it
                out.rmdir()
        raise
    shutil.rmtree(stage, ignore_errors=True)
    return GenerateSummary(
        out,
        opts.days,
        opts.start,
        opts.start + dt.timedelta(days=opts.days - 1),
        opts.accounts,
        positions,
        movements,
        findings,
        time.perf_counter() - started,
        _other_days(out, opts.start, opts.days),
    )


# The staging folder of a run in OUT: .mir-generate-<pid>-<random>.
STAGING_PREFIX = ".mir-generate-"


def _remove_abandoned(out: Path) -> None:
    """Remove the staging folders that killed runs (SIGKILL, power loss) left in OUT; a live
    run's (its process still exists) is left alone."""
    for folder in sorted(out.glob(f"{STAGING_PREFIX}*")):
        pid = folder.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _publish(stage: Path, out: Path) -> None:
    """Move the staged day directories' files and truth.csv into OUT. A day directory already
    there keeps its other files; its snapshot files of any format are replaced."""
    for staged in sorted(p for p in stage.iterdir() if p.is_dir()):
        target = out / staged.name
        target.mkdir(exist_ok=True)
        clear_snapshot_files(target)
        for path in sorted(staged.iterdir()):
            os.replace(path, target / path.name)
    os.replace(stage / "truth.csv", out / "truth.csv")


def _write_history(
    opts: GenerateOptions,
    kinds: frozenset[str],
    inject_day: int,
    out: Path,
    progress: Callable[[str], None] | None,
) -> tuple[int, int, int]:
    """Simulate and write every day, the firm figures and truth.csv into `out`; returns the last
    day's open positions and movements and the number of planted findings."""
    venue = Venue(opts.seed, opts.accounts, opts.days, opts.start)
    plan = InjectPlan(kinds, inject_day, opts.start + dt.timedelta(days=inject_day))
    statics = _static_frames(venue)
    states: list[DayState] = []
    next_movement = 1
    positions = movements = 0
    for day in range(opts.days):  # loop over days
        state, _ = venue.run_day(day, plan)
        directory = out / state.date.isoformat()
        directory.mkdir()
        for name, (frame, decimals) in statics.items():
            write_table(frame, directory, name, opts.fmt, decimals)
        write_table(_prices(venue, state), directory, "prices", opts.fmt, {"price": 8})
        write_table(_balances(venue), directory, "balances", opts.fmt, {"balance": 8})
        movements = len(state.movements["acct"])
        write_table(
            _movements(venue, state, next_movement), directory, "movements", opts.fmt, {"amount": 8}
        )
        next_movement += movements
        venue.pos.compact()
        positions = len(venue.pos)
        write_table(
            _positions(venue, state),
            directory,
            "positions",
            opts.fmt,
            {
                "quantity": 0,
                "entry_price": 8,
                "isolated_margin": 8,
                "leverage": 8,
                "reported_unrealized_pnl": 8,
            },
        )
        write_table(_volumes(venue, state), directory, "volumes", opts.fmt, {"traded_notional": 2})
        if day == 0:
            write_table(_price_history(venue), directory, "price_history", opts.fmt, {"price": 8})
        states.append(_slim(state))
        if progress:
            progress(f"{state.date}: {positions} positions, {movements} movements")
    # Firm figures need every day's exposure: written once the history is known.
    fixed_overheads_q = _fixed_overheads_quarter(states)
    for state in states:
        directory = out / state.date.isoformat()
        write_table(
            _custody(state, fixed_overheads_q), directory, "custody", opts.fmt, {"balance": 8}
        )
        squeeze = "capital_squeeze" in kinds and state.day == inject_day
        write_table(
            _capital(states, state, fixed_overheads_q, squeeze),
            directory,
            "capital",
            opts.fmt,
            {"amount": 2},
        )
    if "capital_squeeze" in kinds:
        plan.record(
            "capital_squeeze",
            "CAP-01",
            "firm",
            "firm",
            note="own funds (all CET1) at 90% of D = fixed overheads / 4; composition still met",
        )
    _write_truth(out, plan)
    return positions, movements, len(plan.truth)


def _other_days(out: Path, start: dt.date, days: int) -> tuple[str, ...]:
    """Snapshot directories (named YYYY-MM-DD) in `out` that this run did not write."""
    written = {(start + dt.timedelta(days=i)).isoformat() for i in range(days)}
    found = []
    for entry in out.iterdir():  # the folder's entries, not data rows
        try:
            dt.date.fromisoformat(entry.name)
        except ValueError:
            continue
        if entry.is_dir() and entry.name not in written:
            found.append(entry.name)
    return tuple(sorted(found))


def _slim(state: DayState) -> DayState:
    state.movements = {}  # the big arrays are written already
    return state


# ---- static frames -----------------------------------------------------------------------
def _static_frames(v: Venue) -> dict[str, tuple[pl.DataFrame, dict[str, int]]]:
    acc = v.acc
    kind = pl.Series(ACCOUNT_TYPES).gather(acc.kind.astype(np.int64))
    category = np.where(acc.professional, "professional", "retail")
    accounts = pl.DataFrame(
        {
            "account_id": acc.ids,
            "account_type": kind,
            "group_id": acc.group_ids,
            "client_category": category,
            "is_client": acc.kind == CLIENT,
            "jurisdiction": pl.Series(JURISDICTIONS).gather(acc.jurisdiction),
            "status": np.where(acc.frozen, "frozen", "active"),
        }
    ).with_columns(pl.when("is_client").then("client_category").alias("client_category"))
    inst = v.instruments
    instruments = pl.DataFrame(
        {
            "instrument_id": [i.instrument_id for i in inst],
            "kind": [i.kind for i in inst],
            "underlying": [ASSETS[i.underlying] for i in inst],
            "quote_asset": [ASSETS[i.quote] for i in inst],
            "settle_asset": [ASSETS[i.settle] for i in inst],
            "contract_size": [to_units(i.contract_size) for i in inst],
            "expiry": [None if i.perpetual else v.expiry.isoformat() for i in inst],
        },
        schema_overrides={"expiry": pl.String},
    )
    assert set(instruments["kind"]) <= set(INSTRUMENT_KINDS)
    tiers: dict[str, list] = {
        k: []
        for k in (
            "instrument_id",
            "tier",
            "notional_floor",
            "notional_cap",
            "maintenance_margin_rate",
            "maintenance_amount",
            "max_leverage",
        )
    }
    for i in inst:  # a dozen instruments, ten tiers at most
        cums = i.tiers.cum()
        n = len(i.tiers.floors)
        for t in range(n):
            tiers["instrument_id"].append(i.instrument_id)
            tiers["tier"].append(t + 1)
            tiers["notional_floor"].append(i.tiers.floors[t] * UNIT)
            tiers["notional_cap"].append(i.tiers.floors[t + 1] * UNIT if t + 1 < n else None)
            tiers["maintenance_margin_rate"].append(to_units(i.tiers.mmr[t]))
            tiers["maintenance_amount"].append(
                int(cums[t] * UNIT) if i.tiers.write_amount else None
            )
            tiers["max_leverage"].append(i.tiers.max_leverage[t] * UNIT)
    risk_tiers = pl.DataFrame(
        tiers, schema_overrides={k: pl.Int64 for k in tiers if k != "instrument_id"}
    )
    return {
        "accounts": (accounts, {}),
        "instruments": (instruments, {"contract_size": 8}),
        "risk_tiers": (
            risk_tiers,
            {
                "notional_floor": 8,
                "notional_cap": 8,
                "maintenance_margin_rate": 8,
                "maintenance_amount": 8,
                "max_leverage": 8,
            },
        ),
    }


# ---- daily frames ------------------------------------------------------------------------
def _prices(v: Venue, state: DayState) -> pl.DataFrame:
    priced = [a for a in range(len(ASSETS)) if PRICED[a]]
    return pl.DataFrame(
        {
            "kind": ["instrument"] * v.n_inst + ["asset"] * len(priced),
            "symbol": [i.instrument_id for i in v.instruments] + [ASSETS[a] for a in priced],
            "price": np.concatenate([state.mark_units, state.asset_units[priced]]),
        }
    )


def _balances(v: Venue) -> pl.DataFrame:
    flat = np.flatnonzero(v.listed)
    return pl.DataFrame(
        {
            "account_id": v.acc.ids.gather(flat // v.n_assets),
            "asset": pl.Series(ASSETS).gather(flat % v.n_assets),
            "balance": v.balance[flat],
        }
    )


def _movements(v: Venue, state: DayState, first_id: int) -> pl.DataFrame:
    m = state.movements
    n = len(m["acct"])
    date = state.date.isoformat()
    frame = pl.DataFrame(
        {
            "account_id": v.acc.ids.gather(m["acct"]),
            "asset": pl.Series(ASSETS).gather(m["asset"]),
            "amount": m["amount"],
            "kind": pl.Series(MOVEMENT_KINDS).gather(m["kind"].astype(np.int64)),
            "initiated_by": pl.Series(INITIATORS).gather(m["by"].astype(np.int64)),
            "ts": timestamps(date, m["ts"]),
        }
    )
    return frame.with_columns(
        id_column("M", np.arange(first_id, first_id + n), "movement_id"),
        id_column("P", m["pid"], "position_id"),
        id_column("T", m["transfer"], "transfer_id"),
    )


def _positions(v: Venue, state: DayState) -> pl.DataFrame:
    p = v.pos
    rows = np.argsort(p.pid)
    met = v.metrics(rows, state.mark_units)
    iso = p.iso[rows]
    inst_ids = pl.Series([i.instrument_id for i in v.instruments])
    frame = pl.DataFrame(
        {
            "account_id": v.acc.ids.gather(p.acct[rows]),
            "instrument_id": inst_ids.gather(p.inst[rows]),
            "margin_mode": np.where(iso, "isolated", "cross"),
            "quantity": p.qty[rows],
            "entry_price": p.entry[rows],
            "isolated_margin": p.margin[rows],
            "leverage": p.lev[rows] * UNIT,
            "is_isolated": iso,
            # the venue's own figure, rounded to 8 decimals (SEG-09 tolerates 0.01% of notional)
            "reported_unrealized_pnl": np.rint(met.upnl * UNIT).astype(np.int64),
        }
    )
    return frame.with_columns(
        id_column("P", p.pid[rows], "position_id"),
        pl.when("is_isolated").then("isolated_margin").alias("isolated_margin"),  # empty for cross
        pl.when("is_isolated").then("leverage").alias("leverage"),
    )


def _volumes(v: Venue, state: DayState) -> pl.DataFrame:
    cents = np.rint(state.volumes_usd * 100).astype(np.int64)
    ids = [i.instrument_id for i in v.instruments]
    return pl.DataFrame(
        {
            "instrument_id": ids * 2,
            "account_type": ["client"] * v.n_inst + ["house"] * v.n_inst,
            "traded_notional": np.concatenate([cents[:, CLIENT], cents[:, HOUSE]]),
        }
    )


def _price_history(v: Venue) -> pl.DataFrame:
    priced = [a for a in range(len(ASSETS)) if PRICED[a]]
    days = np.arange(-HISTORY_DAYS, 0)
    dates = [v.market.date(int(d)).isoformat() for d in days]  # 300 dates
    units = v.market.asset_units[:HISTORY_DAYS][:, priced]
    return pl.DataFrame(
        {
            "date": np.repeat(dates, len(priced)),
            "asset": np.tile([ASSETS[a] for a in priced], len(days)),
            "price": units.ravel(),
        }
    )


# ---- firm figures ------------------------------------------------------------------------
def _fixed_overheads_quarter(states: list[DayState]) -> int:
    """FOR (a quarter of fixed overheads), in whole USD: above PMR and twice any day's K-factor bound,
    so D = FOR exactly and CAP-01 can be planted precisely."""
    bound = max(s.kfr_bound for s in states)
    return int(np.ceil(max(1_000_000.0, 2.2 * bound) / 1_000.0)) * 1_000


def _custody(state: DayState, fixed_overheads_q: int) -> pl.DataFrame:
    c = {k: list(v) for k, v in state.custody.items()}
    wallet, custodian, ctype, wtype = HOUSE_BANK_WALLET
    # An operating account at a bank: a small exposure to a credit institution (CON-06, K-TCD).
    for key, value in (
        ("wallet", f"W-{wallet}"),
        ("custodian", custodian),
        ("custodian_type", ctype),
        ("wallet_type", wtype),
        ("asset", "USD"),
        ("balance", fixed_overheads_q // 200 * UNIT),
        ("designation", "house"),
    ):
        c[key].append(value)
    return pl.DataFrame(
        {
            "wallet_id": c["wallet"],
            "custodian": c["custodian"],
            "asset": c["asset"],
            "balance": c["balance"],
            "designation": c["designation"],
            "wallet_type": c["wallet_type"],
            "custodian_type": c["custodian_type"],
        },
        schema_overrides={"balance": pl.Int64},
    )


def _capital(
    states: list[DayState], state: DayState, fixed_overheads_q: int, squeeze: bool
) -> pl.DataFrame:
    f = Decimal(fixed_overheads_q)
    if squeeze:
        cet1, at1, tier2 = f * Decimal("0.9"), Decimal(0), Decimal(0)
    else:
        cet1, at1, tier2 = f * 2, f / 4, f / 4
    guarantees = f / 100
    liquid = f * Decimal("0.8") + guarantees * Decimal("0.016")
    anc = Decimal(int(3 * max(1_000_000.0, 0.08 * max(s.total_mm_usd for s in states))))
    items = {
        "cet1": cet1,
        "at1": at1,
        "tier2": tier2,
        "fixed_overheads_annual": f * 4,
        "liquid_assets": liquid,
        "client_guarantees": guarantees,
        "adjusted_net_capital": anc,
    }
    return pl.DataFrame(
        {
            "item": list(items),
            "amount": [int((value * 100).to_integral_value()) for value in items.values()],
        },
        schema_overrides={"amount": pl.Int64},
    )


def _write_truth(out: Path, plan: InjectPlan) -> None:
    rows = [{k: (value or None) for k, value in row.items()} for row in plan.truth]  # a dozen rows
    truth = pl.DataFrame(rows, schema={c: pl.String for c in TRUTH_COLUMNS})
    truth = truth.sort(["as_of", "check_id", "entity_id"])
    truth.write_csv(out / "truth.csv", line_terminator="\n")
