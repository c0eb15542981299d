"""What a check is, what it returns, and how its outcome is recorded (the engine's contract).

A check is either
  * a SQL file queries/checks/<ID>.sql whose header comment block declares its metadata and whose
    query returns one row per exception, or
  * a Python function registered with `@python_check(...)` (Polars, where SQL is a poor fit),
    returning a polars.DataFrame with the same columns.

Header of a SQL check (each line `-- key: value`; `requires` may repeat, or list several
conditions separated by commas):

    -- id: SEG-01
    -- title: Client asset coverage per asset
    -- severity: breach
    -- regulation: 17 CFR 1.20, 1.32 (adapted to crypto, in kind)
    -- row: one asset whose client custody does not cover the client requirement
    -- requires: previous_day
    -- partial: the tests against the previous close

The query may use the named parameters $as_of (DATE), $prev_as_of (DATE, the latest stored
date before $as_of, NULL if none) and any key of `Config.sql_params()` (e.g.
$segregation_rollforward_tolerance). It returns exactly EXCEPTION_COLUMNS (minus check_id, which
the engine adds), one row per exception.

`requires` conditions, any unmet one makes the check `not_evaluated` (with a message):
    previous_day           the previous close is stored: $prev_as_of is the calendar day before
                           $as_of (the day's movements start there; an older stored day would
                           leave the gap's movements out of a roll-forward)
    setting:<param>        Config.sql_params()[<param>] is not None (SEG-02's target)
    setting:<a>|<b>        at least one of them is set
    table:<name>           the table has rows for $as_of (e.g. table:volumes)

`partial` (optional): the check also runs without its previous close, in part. When
`previous_day` is the unmet condition (and every other is met), the check runs with $prev_as_of
NULL and must then report only what needs no previous close (never a finding the full check would
not make). Its rows are its exceptions, with a message saying the evaluation was partial and
naming what was left out (the header's text); with no rows it is `not_evaluated`, saying that the
rest found nothing. A day after a gap, or the first day, then still shows e.g. SEG-06's
unbalanced transfers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckOutcome(StrEnum):
    """Status of one check in one run (also the status words of summary.json)."""

    PASS = "pass"
    WARN = "warn"
    BREACH = "breach"
    NOT_EVALUATED = "not_evaluated"
    ERROR = "error"


# Severity order used to roll statuses up (overall status = the worst).
STATUS_ORDER = {
    CheckOutcome.PASS: 0,
    CheckOutcome.NOT_EVALUATED: 1,
    CheckOutcome.WARN: 2,
    CheckOutcome.BREACH: 3,
    CheckOutcome.ERROR: 4,
}

# Columns of one exception row, in the order of exceptions.csv (DESIGN.md section 6).
EXCEPTION_COLUMNS = (
    "check_id",
    "status",
    "entity_type",
    "entity_id",
    "instrument_id",
    "asset",
    "metric",
    "value",
    "threshold",
    "message",
)


@dataclass(frozen=True)
class CheckContext:
    """What a Python check gets: the open database, the dates and the configuration."""

    con: Any  # duckdb.DuckDBPyConnection
    as_of: Any  # datetime.date
    prev_as_of: Any  # datetime.date | None: the latest stored date before as_of
    config: Any  # reports.config.Config

    def params(self) -> dict[str, Any]:
        """Named parameters for SQL: $as_of, $prev_as_of and every Config.sql_params() key."""
        return {"as_of": self.as_of, "prev_as_of": self.prev_as_of, **self.config.sql_params()}


def exception_schema() -> dict[str, Any]:
    """Polars schema of an exception frame (EXCEPTION_COLUMNS minus check_id).

    value and threshold are exact decimals; statistics (HHI, VaR) are converted to Decimal
    before they are stored.
    """
    import polars as pl

    text = pl.String
    return {
        "status": text,
        "entity_type": text,
        "entity_id": text,
        "instrument_id": text,
        "asset": text,
        "metric": text,
        "value": pl.Decimal(38, 18),
        "threshold": pl.Decimal(38, 18),
        "message": text,
    }


@dataclass(frozen=True)
class CheckSpec:
    check_id: str
    title: str
    severity: str  # the worst status it can give: warn or breach
    regulation: str
    row_meaning: str
    requires: tuple[str, ...] = ()
    sql: str | None = None  # the query, for SQL checks
    # what a partial evaluation without the previous close leaves out ("" = no partial run)
    partial: str = ""
    function: Callable[..., Any] | None = None  # for Python checks
    source: str = ""  # file or module:function it came from

    @property
    def family(self) -> str:
        return self.check_id.split("-")[0]  # SEG, CON, CAP


@dataclass
class CheckResult:
    check_id: str
    title: str
    status: CheckOutcome
    exceptions: int
    message: str | None = None
    rows: Any = None  # polars.DataFrame of exception rows (EXCEPTION_COLUMNS)
    partial: bool = False  # ran in part, without the previous close (message: what it left out)


@dataclass
class RunResult:
    run_id: str
    as_of: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def status(self) -> CheckOutcome:
        """The run's overall status (`overall_status`)."""
        return overall_status(r.status for r in self.results)


def overall_status(statuses: Iterable[CheckOutcome | str]) -> CheckOutcome:
    """The worst outcome of the checks that ran. A check that could not run (SEG-02 with no
    target, roll-forwards on the first day) does not make a clean day `not_evaluated`; a run is
    `not_evaluated` only when no check could run at all. One rule for `mir check`, the run log,
    summary.json and the report."""
    ran = [CheckOutcome(s) for s in statuses if CheckOutcome(s) != CheckOutcome.NOT_EVALUATED]
    if not ran:
        return CheckOutcome.NOT_EVALUATED
    return max(ran, key=STATUS_ORDER.__getitem__)


PYTHON_CHECKS: dict[str, CheckSpec] = {}


def python_check(
    check_id: str,
    title: str,
    severity: str,
    regulation: str,
    row_meaning: str,
    requires: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a Polars check. The function is called as fn(ctx) with a CheckContext (engine)
    and returns a polars.DataFrame with EXCEPTION_COLUMNS minus check_id."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        PYTHON_CHECKS[check_id] = CheckSpec(
            check_id,
            title,
            severity,
            regulation,
            row_meaning,
            requires,
            function=fn,
            source=f"{fn.__module__}:{fn.__qualname__}",
        )
        return fn

    return register


class CheckNotEvaluated(Exception):
    """Raised by a Python check that cannot run on the data at hand (e.g. CAP-05 with fewer than
    two price dates); the engine records the check as not_evaluated with this message."""
