"""The check engine: discovers the checks, runs them for one as-of date, records every outcome.

Checks come from two places (reports/checks/model.py is the contract):
  * queries/checks/<ID>.sql, whose header comment block declares the metadata;
  * Python functions registered with `@python_check` in the modules of CHECK_MODULES.

`run_checks` evaluates each check's `requires` conditions (unmet -> not_evaluated), runs it
(an exception inside one check -> `error`, the others still run), rolls the rows up into a status
(pass when there are none, else the worst row status) and appends one `check_results` row per
check and every exception row to `check_exceptions`, in one transaction, under a run_id derived
from the inputs, the configuration and the tool version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports import __version__
from reports.checks.model import (
    EXCEPTION_COLUMNS,
    PYTHON_CHECKS,
    STATUS_ORDER,
    CheckContext,
    CheckNotEvaluated,
    CheckOutcome,
    CheckResult,
    CheckSpec,
    RunResult,
    exception_schema,
)
from reports.db import event_time
from reports.errors import CheckError, UsageError, failure_text, is_failure, raise_if_stopped
from reports.paths import code_fingerprint, queries_dir

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from reports.config import Config

# Modules holding `@python_check` functions; importing one registers its checks. Engineers who
# write CON/CAP checks in Polars add their module here.
CHECK_MODULES: tuple[str, ...] = (
    "reports.stress.checks",
    "reports.capital.checks",
    "reports.concentration.checks",
)

HEADER_KEYS = ("id", "title", "severity", "regulation", "row", "requires", "partial")
REQUIRED_HEADER_KEYS = ("id", "title", "severity")
SEVERITIES = ("warn", "breach")
ROW_STATUSES = ("warn", "breach")
RUN_ID_LENGTH = 16

_HEADER_LINE = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*?)\s*$")
_SQL_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_CHECK_ID = re.compile(r"^[A-Z]{2,5}-\d{2}$")


# --------------------------------------------------------------------------------------------
# Discovery


def parse_sql_check(path: Path) -> CheckSpec:
    """Read the header comment block of one queries/checks/<ID>.sql file (model.py's format).

    The header is the leading run of `--` lines; `-- key: value` lines with a known key are
    metadata (`requires` may repeat), any other comment line is free text. A header that lacks
    id, title or severity, or whose id is not the file name, raises CheckError.
    """
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    requires: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = _HEADER_LINE.match(stripped)
        if not match or match.group(1) not in HEADER_KEYS:
            continue
        key, value = match.groups()
        if key == "requires":
            requires.extend(part.strip() for part in value.split(",") if part.strip())
        elif key in meta:
            msg = f"{path}: header key {key!r} appears twice"
            raise CheckError(msg)
        else:
            meta[key] = value
    missing = [key for key in REQUIRED_HEADER_KEYS if not meta.get(key)]
    if missing:
        msg = f"{path}: the header lacks {', '.join(missing)} (see reports/checks/model.py)"
        raise CheckError(msg)
    if meta["id"] != path.stem:
        msg = f"{path}: header id {meta['id']!r} differs from the file name {path.stem!r}"
        raise CheckError(msg)
    if meta["severity"] not in SEVERITIES:
        msg = f"{path}: severity {meta['severity']!r} is not one of {', '.join(SEVERITIES)}"
        raise CheckError(msg)
    if meta.get("partial") and "previous_day" not in requires:
        msg = f"{path}: a partial check runs in part without the previous day; it must require it"
        raise CheckError(msg)
    return CheckSpec(
        check_id=meta["id"],
        title=meta["title"],
        severity=meta["severity"],
        regulation=meta.get("regulation", ""),
        row_meaning=meta.get("row", ""),
        requires=tuple(requires),
        sql=text,
        partial=meta.get("partial", ""),
        source=str(path),
    )


def _broken_check(check_id: str, source: str, problem: str) -> CheckSpec:
    """A check whose definition cannot be read: it runs as `error` instead of stopping the run."""

    def fail(ctx: CheckContext) -> Any:
        raise CheckError(problem)

    return CheckSpec(
        check_id, f"(unreadable: {source})", "breach", "", "", function=fail, source=source
    )


def import_check_modules(modules: Iterable[str] = CHECK_MODULES) -> None:
    for module in modules:
        importlib.import_module(module)


def discover_checks(
    checks_dir: Path | None = None, modules: Iterable[str] | None = None
) -> list[CheckSpec]:
    """Every check, SQL and Python, sorted by check id (the run order and the report order)."""
    folder = checks_dir if checks_dir is not None else queries_dir() / "checks"
    specs: dict[str, CheckSpec] = {}
    for path in sorted(folder.glob("*.sql")):
        try:
            spec = parse_sql_check(path)
        except CheckError as exc:
            spec = _broken_check(path.stem, str(path), str(exc))
        specs[spec.check_id] = spec
    import_check_modules(CHECK_MODULES if modules is None else modules)
    for check_id, spec in PYTHON_CHECKS.items():
        if check_id in specs:
            msg = f"check {check_id} is defined twice: {specs[check_id].source} and {spec.source}"
            raise CheckError(msg)
        specs[check_id] = spec
    return [specs[check_id] for check_id in sorted(specs)]


def select_checks(specs: list[CheckSpec], only: Iterable[str] | None) -> list[CheckSpec]:
    """Keep the checks named in `only`: ids (SEG-01) or families (SEG); None keeps all."""
    if only is None:
        return specs
    wanted = [name.strip() for name in only if name.strip()]
    if not wanted:
        # `mir check --only "$CHECKS"` with an empty variable ran no check and exited 0
        # (check-engine review of 2026-12-07): a selection of nothing is a mistake, not a run
        msg = (
            "--only names no check (an empty value): name a check (SEG-01) or a family (SEG), "
            "or leave --only out to run every check"
        )
        raise UsageError(msg)
    known_ids = {s.check_id for s in specs}
    known_families = {s.family for s in specs}
    unknown = [name for name in wanted if name not in known_ids and name not in known_families]
    if unknown:
        msg = f"unknown check {unknown[0]!r}; known checks: {', '.join(sorted(known_ids))}"
        raise UsageError(msg)
    return [s for s in specs if s.check_id in wanted or s.family in wanted]


# --------------------------------------------------------------------------------------------
# Dates and run id


def latest_load(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[tuple[str, str, int]]:
    """(file, sha256, rows) of the latest load of that date, by file name; [] if never loaded."""
    rows = con.execute(
        """
        SELECT file, sha256, rows FROM loads
        WHERE as_of_date = $as_of AND load_id = (
            SELECT load_id FROM loads WHERE as_of_date = $as_of
            ORDER BY loaded_at DESC, load_id DESC LIMIT 1)
        ORDER BY file, sha256
        """,
        {"as_of": as_of},
    ).fetchall()
    return [(str(f), str(h), int(n)) for f, h, n in rows]


def previous_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dt.date | None:
    """The latest loaded date before as_of (not necessarily the calendar day before)."""
    rows = con.execute(
        "SELECT max(as_of_date) FROM loads WHERE as_of_date < $as_of", {"as_of": as_of}
    ).fetchall()
    return rows[0][0] if rows else None


def stored_inputs(
    con: duckdb.DuckDBPyConnection, as_of: dt.date
) -> list[tuple[dt.date, str, str, int]]:
    """(date, file, sha256, rows) of the latest load of every stored date up to and including
    as_of, by date and file."""
    rows = con.execute(
        """
        WITH latest AS (
            SELECT as_of_date, arg_max(load_id, (loaded_at, load_id)) AS load_id
            FROM loads WHERE as_of_date <= $as_of GROUP BY as_of_date
        )
        SELECT l.as_of_date, l.file, l.sha256, l.rows
        FROM loads AS l JOIN latest USING (as_of_date, load_id)
        ORDER BY l.as_of_date, l.file, l.sha256
        """,
        {"as_of": as_of},
    ).fetchall()
    return [(d, str(f), str(h), int(n)) for d, f, h, n in rows]


def compute_run_id(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    config: Config,
    *,
    only: Iterable[str] | None = None,
) -> str:
    """A short sha256 over what a run's results depend on.

    The inputs are the latest load's file hashes of the as-of date and of EVERY stored date
    before it: the roll-forward checks read the previous close, the IFR K-factors average
    stored days over windows reaching nine months back (or all stored days up to the as-of date
    when none falls in a window), K-CON counts consecutive stored days, VaR reads the
    price_history of earlier loads. (Found in review, 2026-12-04: with only the as-of and the
    previous date hashed, a changed volumes file three days back gave the same run id and
    another capital.csv, and a recorded run of other figures would have been reused.) Then
    the configuration hash, the tool version, a hash of mir's code (reports.paths.
    code_fingerprint: a run recorded by other code is never reused) and, for a partial run, the
    selected checks. Dates after the as-of date do not count: nothing of the as-of date reads
    them. Same inputs + config + code -> same run id.
    """
    stored = stored_inputs(con, as_of)  # one query: the day's files and every earlier day's
    files = [(f, h, n) for d, f, h, n in stored if d == as_of]
    if not files:
        msg = f"no snapshot loaded for {as_of.isoformat()}; run `mir load DIR` first"
        raise UsageError(msg)
    digest = hashlib.sha256()
    lines = [f"mir-run\t{__version__}", f"as_of\t{as_of.isoformat()}"]
    lines += [f"input\t{f}\t{h}\t{n}" for f, h, n in files]
    lines += [f"stored_input\t{d.isoformat()}\t{f}\t{h}\t{n}" for d, f, h, n in stored if d < as_of]
    lines.append(f"config\t{config.results_sha256()}")
    lines.append(f"code\t{code_fingerprint()}")
    if only is not None:
        lines.append("only\t" + ",".join(sorted(only)))
    digest.update("\n".join(lines).encode())
    return digest.hexdigest()[:RUN_ID_LENGTH]


# --------------------------------------------------------------------------------------------
# Running


@dataclass(frozen=True)
class Requirement:
    met: bool
    message: str | None = None
    condition: str | None = None  # the unmet one


def evaluate_requires(
    spec: CheckSpec, ctx: CheckContext, *, ignore: tuple[str, ...] = ()
) -> Requirement:
    """First unmet `requires` condition (other than those in `ignore`) -> not met, with the
    reason a user can act on."""
    params = ctx.config.sql_params()
    for condition in spec.requires:
        if condition in ignore:
            continue
        unmet = _unmet(spec, ctx, condition, params)
        if unmet is not None:
            return Requirement(False, unmet, condition)
    return Requirement(True)


def _unmet(
    spec: CheckSpec, ctx: CheckContext, condition: str, params: dict[str, Any]
) -> str | None:
    """Why `condition` does not hold for this run (None: it holds)."""
    if condition == "previous_day":
        previous_close = ctx.as_of - dt.timedelta(days=1)
        if ctx.prev_as_of is None:
            return f"no stored day before {ctx.as_of.isoformat()}: load the previous day to evaluate it"
        if ctx.prev_as_of != previous_close:
            # Movements are the changes since the previous close: rolled forward from an
            # older day they would miss the gap's movements and report false breaches.
            return (
                f"the previous close {previous_close.isoformat()} is not stored (the latest "
                f"stored day before {ctx.as_of.isoformat()} is {ctx.prev_as_of.isoformat()}); "
                f"{ctx.as_of.isoformat()}'s movements start at the previous close: load "
                f"{previous_close.isoformat()} to evaluate it"
            )
        return None
    if condition.startswith("setting:"):
        names = condition.removeprefix("setting:").split("|")
        unknown = [n for n in names if n not in params]
        if unknown:
            msg = f"{spec.check_id}: requires unknown setting {unknown[0]!r}"
            raise CheckError(msg)
        if all(params[n] is None for n in names):
            keys = " or ".join(_config_key(n) for n in names)
            return f"not configured: set {keys} in mir.toml"
        return None
    if condition.startswith("table:"):
        table = condition.removeprefix("table:")
        if not re.fullmatch(r"[a-z_]+", table):
            msg = f"{spec.check_id}: bad table name in requires: {table!r}"
            raise CheckError(msg)
        rows = ctx.con.execute(
            f"SELECT count(*) FROM {table} WHERE as_of_date = $as_of", {"as_of": ctx.as_of}
        ).fetchall()
        if not rows or rows[0][0] == 0:
            return f"no {table} rows for {ctx.as_of.isoformat()} (the file is optional)"
        return None
    msg = f"{spec.check_id}: unknown requires condition {condition!r}"
    raise CheckError(msg)


def _config_key(param: str) -> str:
    section, _, key = param.partition("_")
    return f"[{section}] {key}"


def _wrap_sql(spec: CheckSpec) -> str:
    """The check's query with its columns cast to the exception schema (so SQL and Polars checks
    give identical frames), after checking it is one statement."""
    assert spec.sql is not None
    body = spec.sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return f"""
        SELECT
            status::VARCHAR AS status,
            entity_type::VARCHAR AS entity_type,
            entity_id::VARCHAR AS entity_id,
            instrument_id::VARCHAR AS instrument_id,
            asset::VARCHAR AS asset,
            metric::VARCHAR AS metric,
            value::DECIMAL(38,18) AS value,
            threshold::DECIMAL(38,18) AS threshold,
            message::VARCHAR AS message
        FROM (
{body}
        ) AS check_rows
    """


def run_sql_check(spec: CheckSpec, ctx: CheckContext) -> pl.DataFrame:
    params_all = ctx.params()
    names = sorted(set(_SQL_PARAMETER.findall(spec.sql or "")))
    unknown = [n for n in names if n not in params_all]
    if unknown:
        msg = f"{spec.check_id}: unknown parameter ${unknown[0]} (known: {', '.join(sorted(params_all))})"
        raise CheckError(msg)
    params = {n: params_all[n] for n in names}
    return ctx.con.sql(_wrap_sql(spec), params=params).pl()


def run_python_check(spec: CheckSpec, ctx: CheckContext) -> pl.DataFrame:
    import polars as pl

    assert spec.function is not None
    frame = spec.function(ctx)
    if not isinstance(frame, pl.DataFrame):
        msg = f"{spec.check_id}: {spec.source} returned {type(frame).__name__}, not a polars.DataFrame"
        raise CheckError(msg)
    schema = exception_schema()
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        msg = f"{spec.check_id}: {spec.source} returned no column {missing[0]!r}"
        raise CheckError(msg)
    # A float statistic goes through its shortest text so 1234.5 is stored as 1234.5, not as the
    # binary double's 1234.4999999...; Decimals and integers cast directly.
    columns = [
        pl.col(c).cast(pl.String).cast(t) if frame.schema[c].is_float() else pl.col(c).cast(t)
        for c, t in schema.items()
    ]
    return frame.select(columns)


def validate_rows(spec: CheckSpec, rows: pl.DataFrame) -> None:
    """Rows a check returns must be usable exceptions: a status, an entity, a metric, a message."""
    import polars as pl

    bad_status = rows.filter(
        ~pl.col("status").is_in(list(ROW_STATUSES)) | pl.col("status").is_null()
    )
    if bad_status.height:
        msg = f"{spec.check_id}: row status {bad_status['status'][0]!r} is not one of {', '.join(ROW_STATUSES)}"
        raise CheckError(msg)
    if spec.severity == "warn" and rows.filter(pl.col("status") == "breach").height:
        msg = f"{spec.check_id}: severity is warn but a row says breach"
        raise CheckError(msg)
    for column in ("entity_type", "entity_id", "metric", "message"):
        if rows[column].null_count():
            msg = f"{spec.check_id}: a row has no {column}"
            raise CheckError(msg)


def sort_exceptions(rows: pl.DataFrame) -> pl.DataFrame:
    """DESIGN.md section 6 order (check_id, entity_id, instrument_id, asset), then metric and
    message so that the order is total and every run prints the same bytes. NULLs last."""
    keys = ["check_id", "entity_id", "instrument_id", "asset", "metric", "message"]
    return rows.sort(keys, nulls_last=True, maintain_order=True)


def empty_exceptions() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema={"check_id": pl.String, **exception_schema()})


def run_one(spec: CheckSpec, ctx: CheckContext) -> CheckResult:
    """Run one check; every failure inside it becomes an `error` result, never an exception."""
    import polars as pl

    partial: str | None = None  # why the check runs only in part (model.py, `partial`)
    try:
        requirement = evaluate_requires(spec, ctx)
        if not requirement.met and spec.partial and requirement.condition == "previous_day":
            partial = requirement.message
            requirement = evaluate_requires(spec, ctx, ignore=("previous_day",))
            ctx = dataclasses.replace(ctx, prev_as_of=None)
        if not requirement.met:
            return CheckResult(
                spec.check_id,
                spec.title,
                CheckOutcome.NOT_EVALUATED,
                0,
                requirement.message,
                empty_exceptions(),
            )
        rows = run_sql_check(spec, ctx) if spec.sql is not None else run_python_check(spec, ctx)
        validate_rows(spec, rows)
    except CheckNotEvaluated as exc:  # a Python check that cannot run on this data
        return CheckResult(
            spec.check_id, spec.title, CheckOutcome.NOT_EVALUATED, 0, str(exc), empty_exceptions()
        )
    except BaseException as exc:  # one broken check must not stop the others: record it
        if not is_failure(exc):  # KeyboardInterrupt, SystemExit
            raise
        raise_if_stopped(exc)  # SIGTERM or Ctrl-C: stop the run, record nothing
        return CheckResult(
            spec.check_id,
            spec.title,
            CheckOutcome.ERROR,
            0,
            failure_text(exc),
            empty_exceptions(),
        )
    rows = sort_exceptions(
        rows.with_columns(pl.lit(spec.check_id).alias("check_id")).select(EXCEPTION_COLUMNS)
    )
    if partial is not None and rows.height == 0:
        nothing = f"{partial}; in part, without it, nothing found (not evaluated: {spec.partial})"
        return CheckResult(
            spec.check_id, spec.title, CheckOutcome.NOT_EVALUATED, 0, nothing, rows, partial=True
        )
    if rows.height == 0:
        status = CheckOutcome.PASS
    else:
        status = max(
            (CheckOutcome(s) for s in rows["status"].unique()), key=STATUS_ORDER.__getitem__
        )
    note = (
        None if partial is None else f"evaluated in part (not evaluated: {spec.partial}): {partial}"
    )
    return CheckResult(
        spec.check_id, spec.title, status, rows.height, note, rows, partial=partial is not None
    )


def run_checks(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    config: Config,
    *,
    only: Iterable[str] | None = None,
    record: bool = True,
    specs: list[CheckSpec] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> RunResult:
    """Run every check (or those in `only`) for as_of and record the outcomes (append-only).

    Raises UsageError when the date is not loaded. `specs` replaces discovery (tests);
    `record=False` runs without writing to check_results / check_exceptions.
    """
    from reports.memo import day_memo

    only_list = sorted(set(only)) if only is not None else None
    run_id = compute_run_id(con, as_of, config, only=only_list)
    chosen = select_checks(specs if specs is not None else discover_checks(), only_list)
    ctx = CheckContext(con=con, as_of=as_of, prev_as_of=previous_as_of(con, as_of), config=config)
    result = RunResult(run_id=run_id, as_of=as_of.isoformat())
    with day_memo():  # figures several checks share are computed once (reports/memo.py)
        result.results = [run_one(spec, ctx) for spec in chosen]
        if record:  # inside the scope: the figures recorded are the ones the checks computed
            # after every recorded load and run, even if the clock was stepped back
            now = event_time(con, clock() if clock else None)
            record_run(con, result, as_of, now, ctx=ctx)
    return result


def all_exceptions(result: RunResult) -> pl.DataFrame:
    """Every exception row of a run in the order of exceptions.csv."""
    import polars as pl

    frames = [r.rows for r in result.results if r.rows is not None and r.rows.height]
    if not frames:
        return empty_exceptions()
    return sort_exceptions(pl.concat(frames, how="vertical"))


def record_run(
    con: duckdb.DuckDBPyConnection,
    result: RunResult,
    as_of: dt.date,
    checked_at: dt.datetime,
    *,
    ctx: CheckContext | None = None,
) -> None:
    """Append the run's outcomes and exception rows in one transaction (all or nothing).

    With the run's `ctx`, the capital figures CAP-01 computed go to capital_results, and the
    stress and VaR figures CAP-04 and CAP-05 computed to run_figures, in the same transaction
    (reports.capital.results, reports.stress.results).
    """
    import polars as pl

    outcomes = pl.DataFrame(
        {
            "run_id": [result.run_id] * len(result.results),
            "as_of_date": [as_of] * len(result.results),
            "check_id": [r.check_id for r in result.results],
            "title": [r.title for r in result.results],
            "status": [str(r.status) for r in result.results],
            "exceptions": [r.exceptions for r in result.results],
            "message": [r.message for r in result.results],
            "checked_at": [checked_at] * len(result.results),
            # which configuration the run used: a what-if `mir check --config` run and the
            # daily job's are told apart (history review of 2026-12-05)
            "config_sha256": [ctx.config.sha256() if ctx is not None else None]
            * len(result.results),
        },
        schema={
            "run_id": pl.String,
            "as_of_date": pl.Date,
            "check_id": pl.String,
            "title": pl.String,
            "status": pl.String,
            "exceptions": pl.Int64,
            "message": pl.String,
            "checked_at": pl.Datetime("us"),
            "config_sha256": pl.String,
        },
    )
    exceptions = all_exceptions(result).with_columns(
        pl.lit(result.run_id).alias("run_id"),
        pl.lit(as_of).alias("as_of_date"),
        pl.lit(checked_at, dtype=pl.Datetime("us")).alias("checked_at"),
    )
    # Our own transaction: run_checks must not be called inside the caller's (a failing check
    # query would abort it, and DuckDB has no nested transactions).
    import duckdb

    con.execute("BEGIN TRANSACTION")
    try:
        con.register("mir_run_outcomes", outcomes)
        con.register("mir_run_exceptions", exceptions)
        con.execute(
            """
            INSERT INTO check_results
                (run_id, as_of_date, check_id, title, status, exceptions, message, checked_at,
                 config_sha256)
            SELECT run_id, as_of_date, check_id, title, status, exceptions, message, checked_at,
                   config_sha256
            FROM mir_run_outcomes
            """
        )
        con.execute(
            """
            INSERT INTO check_exceptions
                (run_id, as_of_date, check_id, status, entity_type, entity_id, instrument_id,
                 asset, metric, value, threshold, message, checked_at)
            SELECT run_id, as_of_date, check_id, status, entity_type, entity_id, instrument_id,
                   asset, metric, value, threshold, message, checked_at
            FROM mir_run_exceptions
            """
        )
        if ctx is not None:
            from reports.capital.results import record_capital_result

            record_capital_result(con, result, as_of, checked_at, ctx)
            from reports.stress.results import record_stress_figures

            record_stress_figures(con, result, as_of, checked_at, ctx)
        con.execute("COMMIT")
    except BaseException:  # Ctrl-C included; a failed COMMIT already ended the transaction
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("mir_run_outcomes")
        con.unregister("mir_run_exceptions")
