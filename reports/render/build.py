"""Gather one day's figures (ReportData) and shape them into the template context (ReportContext).

Data come only from the other stages' public functions (segregation_statement,
concentration_table, large_exposures, capital_statement, stress_results, var_es) and from the
recorded check run, so the PDF, the CSVs and the checks cannot disagree. Loops here run over
aggregates (assets, instruments, scenarios, check ids) or over the first N rows that the PDF
shows, never over accounts or positions.

Check run (`ensure_check_run`): the run id is a hash of the inputs, the configuration and the
tool version (reports.checks.engine.compute_run_id). When check_results already holds a run
with that id for the as-of date (e.g. `mir check` ran first, as `mir daily` does), it is reused:
same id means same outcomes. Otherwise the checks are run now and recorded.

Capital-ratio trend: computing the capital statement of every stored day would cost about a
second per day, so the earlier days' ratios and early-warning levels are those their latest
check runs recorded (capital_results, under the regime in force;
queries/report/capital_trend.sql), plus today's. The previous stored day's are exact for
today's inputs and configuration: its recorded run of the same run id, else computed with
capital_statement (one extra day), so that the day-over-day change is always shown and right. Nothing is read from the output directory: a
report depends on the database and the configuration only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports import __version__
from reports.capital.words import ratio_numerator, regime_name
from reports.checks.model import EXCEPTION_COLUMNS, overall_status
from reports.errors import attempt
from reports.paths import read_query
from reports.render import charts
from reports.render import formatting as fmt
from reports.render.context import (
    EXCEPTIONS_SHOWN,
    GROUP_SHORTFALLS_SHOWN,
    INTEGRITY_SHOWN,
    LARGE_EXPOSURES_SHOWN,
    OI_BARS_SHOWN,
    TREND_POINTS_SHOWN,
    CapitalLine,
    CapitalSection,
    CascadeRoundRow,
    Chart,
    CheckRow,
    CompositionRow,
    ConcentrationSection,
    Convention,
    ExceptionRow,
    FamilyStatus,
    GroupShortfall,
    InstrumentConcentration,
    IntegrityRow,
    KeyFigure,
    LargeExposureRow,
    LineageRow,
    ReportContext,
    SegregationAsset,
    SegregationTotalRow,
    ShareRow,
    StatementLine,
    StressRow,
    StressSection,
    VarSection,
)
from reports.stress.cascade import MAX_UP_MOVE
from reports.stress.results import worst_cover

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from reports.capital.statement import CapitalStatement
    from reports.config import Config
    from reports.stress import ScenarioResult, VarResult

FAMILIES = (
    ("SEG", "Segregation and isolated margin"),
    ("CON", "Concentration"),
    ("CAP", "Capital, stress and VaR"),
)
INTEGRITY_CHECKS = ("SEG-03", "SEG-05", "SEG-06", "SEG-07")
REGIME_LABELS = {
    "ifr": "IFR (Regulation (EU) 2019/2033)",
    "cftc": "CFTC net capital (17 CFR 1.17, 1.12)",
    "mica": "MiCA own funds (Regulation (EU) 2023/1114, Art. 67)",
}
# Each regime's own words for its figures in the capital section: the statement's component
# keys are names for code (IFR's PMR, FOR, K-... and D are the regulation's own; a regime
# review of 2026-12-06 found the CFTC and MiCA tables printing `maintenance_margin`,
# `risk_based` and "binding: class_minimum").
OWN_FUNDS_LABELS = {"cftc": "Adjusted net capital (own funds)", "mica": "Own funds (CET1)"}
REQUIREMENT_LABELS = {"cftc": "Net capital requirement"}
COMPONENT_LABELS = {
    "cftc": {
        "maintenance_margin": "Maintenance margin of all positions",
        "risk_based": "Risk-based amount (rate x margin)",
        "minimum": "Minimum dollar amount",
        "requirement": "Requirement (the greater)",
    },
    "mica": {
        "class_minimum": "Permanent minimum of the class (Annex IV)",
        "FOR": "FOR (fixed overheads / 4)",
        "requirement": "Requirement (the greater)",
    },
}
BINDING_LABELS = {
    "cftc": {"minimum": "minimum dollar amount", "risk_based": "risk-based amount"},
    "mica": {"class_minimum": "class minimum"},
}


# --------------------------------------------------------------------------------------------
# Check run


@dataclass(frozen=True)
class CheckOutcomeRow:
    check_id: str
    title: str
    status: str
    exceptions: int
    message: str | None


@dataclass
class CheckRun:
    """The outcomes and exception rows of the check run a report is made of."""

    run_id: str
    as_of: dt.date
    reused: bool
    outcomes: list[CheckOutcomeRow]
    exceptions: Any  # polars.DataFrame, EXCEPTION_COLUMNS, every row of the run

    @property
    def status(self) -> str:
        """The overall status, by the rule `mir check` uses (reports.checks.model.overall_status:
        the worst outcome of the checks that ran)."""
        return str(overall_status(o.status for o in self.outcomes))

    def outcome(self, check_id: str) -> CheckOutcomeRow | None:
        return next((o for o in self.outcomes if o.check_id == check_id), None)

    def status_of(self, check_id: str) -> str:
        found = self.outcome(check_id)
        return found.status if found else ""


def ensure_check_run(con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config) -> CheckRun:
    """The recorded run for these inputs and configuration, or a new one (see the module doc)."""
    from reports.checks.engine import all_exceptions, compute_run_id, run_checks

    run_id = compute_run_id(con, as_of, config)
    params = {"as_of": as_of, "run_id": run_id}
    recorded = con.execute(read_query("report/check_run.sql"), params).fetchall()
    if recorded:
        outcomes = [
            CheckOutcomeRow(str(c), str(t), str(s), int(n), m) for c, t, s, n, m, _ in recorded
        ]
        exceptions = con.sql(read_query("report/check_run_exceptions.sql"), params=params).pl()
        counts = dict(exceptions.group_by("check_id").len().iter_rows())
        complete = all(counts.get(o.check_id, 0) == o.exceptions for o in outcomes)
        if complete and not any(o.status == "error" for o in outcomes):
            return CheckRun(run_id, as_of, True, outcomes, _exception_frame(exceptions))
        # the recorded rows do not add up (an interrupted recording?) or a check crashed in
        # that run (a memory limit, a stopped job): run again rather than sign its outcome
    result = run_checks(con, as_of, config)
    outcomes = [
        CheckOutcomeRow(r.check_id, r.title, str(r.status), r.exceptions, r.message)
        for r in result.results
    ]
    frame = all_exceptions(result)
    return CheckRun(result.run_id, as_of, False, outcomes, _exception_frame(frame))


def _exception_frame(frame: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    from reports.checks.model import exception_schema

    schema = {"check_id": pl.String, **exception_schema()}
    return frame.select([pl.col(c).cast(schema[c]) for c in EXCEPTION_COLUMNS])


# --------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class TrendPoint:
    """One day of the capital-ratio trend: its ratio and its own early-warning level (None when
    unknown). Under CFTC the level moves with the requirement (max(150% x minimum, 110% x
    requirement) / requirement), so a past day is graded against its level, not today's."""

    ratio: Decimal
    early_warning: Decimal | None


@dataclass(frozen=True)
class PreviousDay:
    """Key figures of the previous stored day, for the day-over-day changes (None = unknown)."""

    as_of: dt.date
    requirement_usd: Decimal | None = None
    held_usd: Decimal | None = None
    excess_usd: Decimal | None = None
    deficiency_usd: Decimal | None = None  # the per-asset deficiencies, summed, never netted
    capital_ratio: Decimal | None = None
    early_warning_level: Decimal | None = None  # the capital ratio's, that day
    cover2_usd: Decimal | None = None
    insurance_fund_usd: Decimal | None = None
    var_usd: Decimal | None = None
    # figure -> why it could not be computed (the key figures then show no change for it)
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass
class ReportData:
    """Everything one report is made of (full precision; rounding happens when presented)."""

    as_of: dt.date
    config: Config
    run: CheckRun
    statement: Any  # segregation_statement frame
    concentration: Any  # concentration_table frame
    large_exposures: Any
    capital: CapitalStatement
    stress: list[ScenarioResult]
    stress_table: Any
    var: VarResult
    inputs: list[tuple[str, str, int]]
    lineage: Any
    specs: dict[str, Any]
    totals: dict[str, Decimal | int | None]
    previous: PreviousDay | None
    trend: list[tuple[dt.date, TrendPoint]] = field(default_factory=list)
    trend_source: str = ""
    positions: Any = None  # details of the positions the integrity section shows
    # earlier stored days the run id covers: (count, first, last)
    earlier: tuple[int, dt.date | None, dt.date | None] = (0, None, None)
    # check id -> why the report could not compute its figures (that part of the report and its
    # CSV rows are missing and say so; the job exits 4): a check whose own run crashed
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The day's status in summary.json and the PDF: the signed run's, or `error` when
        figures are missing (the day is incomplete, whatever its checks found)."""
        return "error" if self.unavailable else str(self.run.status)


def _totals(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, prev: dt.date | None
) -> dict[dt.date, dict[str, Any]]:
    frame = con.sql(
        read_query("report/segregation_totals.sql"), params={"as_of": as_of, "prev_as_of": prev}
    ).pl()
    return {row["as_of_date"]: row for row in frame.iter_rows(named=True)}  # <= 2 rows


def previous_day(
    con: duckdb.DuckDBPyConnection,
    prev: dt.date,
    config: Config,
    totals: dict[str, Any] | None,
) -> PreviousDay:
    """The previous stored day's key figures; a figure that cannot be computed stays None.

    The capital ratio is the one its recorded check run for the same inputs, configuration and
    version stored (capital_results), else computed now; the stress and VaR figures likewise
    from run_figures, else computed now.
    """
    from reports.capital import capital_statement
    from reports.checks.engine import compute_run_id
    from reports.stress import stress_results, var_es
    from reports.stress.results import VAR, WORST_COVER2, WORST_FUND, stored_figures

    run_id = compute_run_id(con, prev, config)  # the full run these inputs and config give
    stored = stored_figures(con, prev, run_id)
    # a figure of that day that cannot be computed (its own check crashed) is only unknown
    # here: today's report shows no change for it, and the job warns (PreviousDay.unavailable)
    ignored: dict[str, str] = {}
    ratio, level = _stored_capital(con, prev, run_id)
    if ratio is None:
        computed = attempt(
            ignored, "capital ratio", lambda: capital_statement(con, prev, config), None
        )
        if computed is not None:
            ratio, level = computed.ratio, computed.early_warning_level
    cover2, fund = stored.get(WORST_COVER2), stored.get(WORST_FUND)
    if cover2 is None or fund is None:
        worst = attempt(
            ignored,
            "Cover-2 and insurance fund",
            lambda: worst_cover(stress_results(con, prev, config)),
            None,
        )
        cover2 = worst.cover2_usd if worst else None
        fund = worst.insurance_fund_usd if worst else None
    var_usd = stored.get(VAR)
    if var_usd is None:
        var_usd = attempt(ignored, "VaR", lambda: var_es(con, prev, config).var_usd, None)
    totals = totals or {}
    return PreviousDay(
        as_of=prev,
        requirement_usd=totals.get("requirement_usd"),
        held_usd=totals.get("held_usd"),
        excess_usd=totals.get("excess_usd"),
        deficiency_usd=totals.get("total_deficiency_usd"),
        capital_ratio=ratio,
        early_warning_level=level,
        cover2_usd=cover2,
        insurance_fund_usd=fund,
        var_usd=var_usd,
        unavailable=ignored,
    )


def _stored_capital(
    con: duckdb.DuckDBPyConnection, day: dt.date, run_id: str
) -> tuple[Decimal | None, Decimal | None]:
    """The capital ratio and early-warning level the run `run_id` of `day` stored (None, None
    if it stored none)."""
    rows = con.execute(
        "SELECT arg_max(ratio, checked_at), arg_max(early_warning_level, checked_at) "
        "FROM capital_results WHERE as_of_date = ? AND run_id = ?",
        [day, run_id],
    ).fetchall()  # fetchall, not fetchone: DuckDB 2 refuses new work after an unread result
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def _named_days(days: list[dt.date]) -> str:
    named = ", ".join(d.isoformat() for d in days[:5])
    return named + (f" and {len(days) - 5} more" if len(days) > 5 else "")


def left_out_note(
    left_out: set[dt.date],
    plotted: list[dt.date],
    points: int,
    unknown: set[dt.date] | frozenset[dt.date] = frozenset(),
) -> str:
    """The trend caption's note on the days left out (`recorded_ratios`) that the chart would
    show had they a usable run: among the latest `points` of the plotted and left-out days
    together (so not a day only beyond the chart's points, which checking again would not
    bring in: third diff review), and not a day plotted anyway (the previous day, from its
    exact figure: diff review of 2026-12-05). A left-out day before the first plotted point
    counts (PDF review of 2026-12-05: the days checked under another regime were dropped).
    `unknown`: days whose own funds were unknown under this configuration (CAP-01
    not_evaluated: no ratio to plot), named apart, since checking again does not bring them in
    (regime audit of 2026-12-07: such a day vanished from the chart without a word)."""
    window = sorted(left_out | set(plotted) | set(unknown))[-points:]
    missing = sorted(d for d in window if d in left_out and d not in plotted and d not in unknown)
    no_ratio = sorted(d for d in window if d in unknown and d not in plotted)
    note = ""
    if missing:
        note += (
            f"; {len(missing)} earlier day(s) in that span left out, no current run of this "
            f"capital configuration: {_named_days(missing)} (run `mir check --as-of` for them)"
        )
    if no_ratio:
        note += (
            f"; {len(no_ratio)} earlier day(s) in that span without a ratio, the own funds "
            f"unknown (CAP-01 not evaluated): {_named_days(no_ratio)}"
        )
    return note


def own_funds_unknown_days(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config
) -> set[dt.date]:
    """The days before as_of whose latest current run of this configuration found the own funds
    unknown (CAP-01 not_evaluated; queries/report/capital_unknown_days.sql)."""
    rows = con.execute(
        read_query("report/capital_unknown_days.sql"), {"as_of": as_of, "config": config.sha256()}
    ).fetchall()
    return {row[0] for row in rows}


def trend_source_text(regime: str) -> str:
    """Where the capital-ratio trend's points come from (the chart's caption). Not "as `mir
    query capital_ratio_trend` lists them": that lists each day's latest run of any regime and
    configuration, a what-if run included (history review of 2026-12-05)."""
    return (
        "today's statement; the previous stored day for today's inputs and configuration (its "
        "recorded check run, else computed now); earlier days as their latest check run "
        f"under the {regime_name(regime)} regime and this capital "
        "configuration recorded them, "
        "unless a reload has made that run stale (capital_results; `mir query "
        "capital_ratio_trend` lists each day's latest run of any regime or configuration)"
    )


def recorded_ratios(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config, regime: str, points: int
) -> tuple[dict[dt.date, TrendPoint], set[dt.date]]:
    """The capital ratios and early-warning levels of the `points` stored days before as_of,
    as their usable runs recorded them, and the days of that span left out
    (capital_trend.sql)."""
    rows = con.execute(
        read_query("report/capital_trend.sql"),
        {"as_of": as_of, "regime": regime, "points": points, "config": config.capital_sha256()},
    ).fetchall()
    ratios = {day: TrendPoint(ratio, level) for day, ratio, level in rows if ratio is not None}
    return ratios, {day for day, ratio, _ in rows if ratio is None}


def gather(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    config: Config,
    run: CheckRun,
) -> ReportData:
    """Compute every figure of the day's report."""
    import polars as pl

    from reports.capital import capital_statement
    from reports.capital.statement import unavailable_statement
    from reports.checks.engine import discover_checks, latest_load, previous_as_of
    from reports.checks.segregation import empty_statement, segregation_statement
    from reports.concentration import concentration_table, empty_large_exposures, large_exposures
    from reports.stress import stress_results, var_es
    from reports.stress.scenarios import error_table, results_table
    from reports.stress.var import not_evaluated

    # The figures the report computes again after their checks (shared with the check run
    # through reports/memo.py): one that fails is named and left out, so that the rest of the
    # day is still reported and signed (exit 4) rather than nothing at all
    unavailable: dict[str, str] = {}
    statement = attempt(
        unavailable,
        SEGREGATION_CHECKS,
        lambda: segregation_statement(con, as_of, config),
        empty_statement(),
    )
    concentration = concentration_table(con, as_of, config, failed=unavailable)
    exposures = attempt(
        unavailable, "CON-06", lambda: large_exposures(con, as_of, config), empty_large_exposures()
    )
    capital = attempt(
        unavailable, CAPITAL_CHECKS, lambda: capital_statement(con, as_of, config), None
    )
    if capital is None:
        capital = unavailable_statement(as_of, config, unavailable[CAPITAL_CHECKS])
    stress = attempt(unavailable, "CAP-04", lambda: stress_results(con, as_of, config), None)
    var = attempt(unavailable, "CAP-05", lambda: var_es(con, as_of, config), None)
    if var is None:
        var = not_evaluated(config, f"could not be computed ({unavailable['CAP-05']})")
    inputs = latest_load(con, as_of)
    lineage = con.sql(read_query("report/lineage.sql"), params={"as_of": as_of}).pl()
    days, first, last = con.execute(
        read_query("report/earlier_loads.sql"), {"as_of": as_of}
    ).fetchall()[0]
    specs = {s.check_id: s for s in discover_checks()}

    prev = previous_as_of(con, as_of)
    totals_by_day = _totals(con, as_of, prev)
    totals = totals_by_day.get(as_of, {})

    previous = None
    if prev is not None:
        previous = previous_day(con, prev, config, totals_by_day.get(prev))
    trend, left_out = recorded_ratios(con, as_of, config, capital.regime, TREND_POINTS_SHOWN)
    if previous is not None and previous.capital_ratio is not None:
        # exact for today's inputs and config
        trend[previous.as_of] = TrendPoint(previous.capital_ratio, previous.early_warning_level)
    if capital.ratio is not None:
        trend[as_of] = TrendPoint(capital.ratio, capital.early_warning_level)
    trend_points = sorted(trend.items())[-TREND_POINTS_SHOWN:]
    unknown = own_funds_unknown_days(con, as_of, config)
    computed_unknown = previous is not None and "capital ratio" not in previous.unavailable
    if previous is not None and previous.capital_ratio is None and computed_unknown:
        unknown.add(previous.as_of)  # computed, without a ratio: its own funds unknown
    trend_source = trend_source_text(capital.regime) + left_out_note(
        left_out, [day for day, _ in sorted(trend.items())], TREND_POINTS_SHOWN, unknown
    )

    integrity = (
        shown_in_turn(
            run.exceptions.filter(pl.col("check_id").is_in(list(INTEGRITY_CHECKS))), INTEGRITY_SHOWN
        )
        .filter(pl.col("entity_type") == "position")
        .get_column("entity_id")
        .unique()
        .sort()
        .to_list()
    )
    positions = con.sql(
        read_query("report/position_details.sql"),
        params={"as_of": as_of, "position_ids": integrity},
    ).pl()

    return ReportData(
        as_of=as_of,
        config=config,
        run=run,
        statement=statement,
        concentration=concentration,
        large_exposures=exposures,
        capital=capital,
        stress=stress or [],
        stress_table=(
            results_table(stress)
            if stress is not None
            else error_table([scenario.name for scenario in config.stress.scenarios])
        ),
        var=var,
        inputs=inputs,
        lineage=lineage,
        specs=specs,
        totals=totals,
        previous=previous,
        trend=trend_points,
        trend_source=trend_source,
        positions=positions,
        earlier=(int(days), first, last),
        unavailable=unavailable,
    )


# --------------------------------------------------------------------------------------------
# Context


def _row_meaning(data: ReportData, check_id: str) -> str:
    """What one exception row of the check means, with the configured thresholds it names
    (CON-06's shares: PDF review of 2026-12-05, "10% / 25%" whatever the configuration)."""
    text = getattr(data.specs.get(check_id), "row_meaning", "") or ""
    concentration = data.config.concentration
    for name in ("large_exposure_warn", "large_exposure_breach"):
        text = text.replace(f"{{{name}}}", fmt.threshold_percent(getattr(concentration, name)))
    return text


def shown_in_turn(exceptions: pl.DataFrame, count: int) -> pl.DataFrame:
    """At most `count` exception rows for a PDF list, taken from each check in turn (the first
    row of every check, then the second, ...), a check's breaches before its warnings, shown in
    their given order: the first `count` rows in CSV order could all be one check's, and 80
    SEG-04 differences hid every SEG-06 and SEG-07 breach (outputs review of 2026-12-05); 74
    CON-01 warnings hid its one breach (PDF review of 2026-12-05)."""
    import polars as pl

    position = pl.int_range(pl.len())
    # rows without a status (the integrity list) keep their order
    severity = (pl.col("status") != "breach") if "status" in exceptions.columns else pl.lit(False)
    order = pl.col("_severity").cast(pl.Int64) * pl.len() + pl.col("_position")
    return (
        exceptions.with_columns(_position=position, _severity=severity)
        .with_columns(_turn=order.rank("ordinal").over("check_id"))
        .sort("_turn", "_position")
        .head(count)
        .sort("_position")
        .drop("_position", "_severity", "_turn")
    )


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return list(frame.iter_rows(named=True))


def _worst(statuses: list[str]) -> str:
    """A family's status, by the run's rule (a check that could not run does not count)."""
    return str(overall_status(s for s in statuses if s))


def _families(run: CheckRun) -> tuple[FamilyStatus, ...]:
    families = []
    for family, label in FAMILIES:
        rows = [o for o in run.outcomes if o.check_id.split("-")[0] == family]
        families.append(
            FamilyStatus(
                family=family,
                label=label,
                status=_worst([o.status for o in rows]),
                checks=len(rows),
                exceptions=sum(o.exceptions for o in rows),
                breaches=tuple(o.check_id for o in rows if o.status == "breach"),
                warnings=tuple(o.check_id for o in rows if o.status == "warn"),
                not_evaluated=tuple(o.check_id for o in rows if o.status == "not_evaluated"),
            )
        )
    return tuple(families)


def _headline(run: CheckRun) -> str:
    breaches = [o.check_id for o in run.outcomes if o.status == "breach"]
    warnings = [o.check_id for o in run.outcomes if o.status == "warn"]
    errors = [o.check_id for o in run.outcomes if o.status == "error"]
    skipped = [o.check_id for o in run.outcomes if o.status == "not_evaluated"]
    parts = [f"{len(run.outcomes)} checks"]  # ("run" read wrong beside "1 not evaluated")
    if breaches:
        parts.append(f"{len(breaches)} breached ({', '.join(breaches)})")
    if warnings:
        parts.append(f"{len(warnings)} warned ({', '.join(warnings)})")
    if errors:
        parts.append(f"{len(errors)} could not run ({', '.join(errors)})")
    if skipped:
        parts.append(f"{len(skipped)} not evaluated ({', '.join(skipped)})")
    passed = len(run.outcomes) - len(breaches) - len(warnings) - len(errors) - len(skipped)
    parts.append(f"{passed} passed")
    return "; ".join(parts) + "."


def _key_figures(data: ReportData) -> tuple[KeyFigure, ...]:
    t, p, run = data.totals, data.previous, data.run
    cap = data.capital
    worst = worst_cover(data.stress)
    deficiency = t.get("total_deficiency_usd")
    short_assets = int(t.get("assets_in_deficiency") or 0)
    figures = [
        KeyFigure(
            "Client requirement (USD, all assets)",
            fmt.usd(t.get("requirement_usd")),
            fmt.usd(p.requirement_usd) if p else "",
            fmt.usd_change(t.get("requirement_usd"), p.requirement_usd if p else None),
        ),
        KeyFigure(
            "Client assets held in segregation (USD)",
            fmt.usd(t.get("held_usd")),
            fmt.usd(p.held_usd) if p else "",
            fmt.usd_change(t.get("held_usd"), p.held_usd if p else None),
        ),
        KeyFigure(
            # DESIGN.md section 4: crypto is segregated in kind and deficits are never netted:
            # the headline is the sum of the assets' deficiencies (review of 2026-12-04: the
            # net excess, 186,695.42 next to BREACH, hid ETH's 28,319.24 shortfall)
            "Segregation shortfall (USD, sum of the assets in deficiency, not netted)",
            fmt.usd_against(deficiency if deficiency is not None else 0, 0),
            fmt.usd(p.deficiency_usd) if p and p.deficiency_usd is not None else "",
            fmt.usd_change(deficiency, p.deficiency_usd if p else None),
            run.status_of("SEG-01"),
            (
                f"{short_assets} asset(s) short: each asset must be covered in kind"
                if short_assets
                else "every asset covered in kind"
            ),
        ),
        KeyFigure(
            "Net excess over all assets (USD; information only: a surplus in one asset does not "
            "cover another)",
            fmt.usd(t.get("excess_usd")),
            fmt.usd(p.excess_usd) if p else "",
            fmt.usd_change(t.get("excess_usd"), p.excess_usd if p else None),
        ),
        KeyFigure(
            f"Capital ratio ({ratio_numerator(cap.regime)} / requirement, "
            f"{regime_name(cap.regime)})",
            fmt.percent_against(cap.ratio, _ratio_bound(cap)),
            fmt.percent(p.capital_ratio) if p and p.capital_ratio is not None else "",
            fmt.percent_point_change(cap.ratio, p.capital_ratio if p else None),
            run.status_of("CAP-01"),
            f"{ratio_numerator(cap.regime)} "
            f"{fmt.usd_against(_own_funds_shown(cap), _own_funds_bound(cap))}"
            f" vs requirement {fmt.usd_against(cap.requirement, cap.own_funds)} USD"
            if cap.unavailable is None
            else f"the capital statement could not be computed ({cap.unavailable})",
        ),
    ]
    prev_headroom = (
        p.insurance_fund_usd - p.cover2_usd
        if p and p.insurance_fund_usd is not None and p.cover2_usd is not None
        else None
    )
    if worst is not None:
        headroom = worst.insurance_fund_usd - worst.cover2_usd
        figures.append(
            KeyFigure(
                f"Insurance fund over Cover-2 (USD, each day's worst scenario; today {worst.scenario})",
                fmt.usd_against(headroom, 0),
                fmt.usd(prev_headroom) if prev_headroom is not None else "",
                fmt.usd_change(headroom, prev_headroom),
                run.status_of("CAP-04"),
                f"Cover-2 {fmt.usd_against(worst.cover2_usd, worst.insurance_fund_usd)} vs "
                f"insurance fund {fmt.usd_against(worst.insurance_fund_usd, worst.cover2_usd)} USD",
            )
        )
    elif "CAP-04" in data.unavailable:
        figures.append(
            KeyFigure(
                "Insurance fund over Cover-2 (USD, each day's worst scenario)",
                "not computed",
                fmt.usd(prev_headroom) if prev_headroom is not None else "",
                status=run.status_of("CAP-04"),
                note=f"the stress figures could not be computed ({data.unavailable['CAP-04']})",
            )
        )
    var = data.var
    figures.append(
        KeyFigure(
            f"VaR {fmt.setting_percent(var.confidence)} 1-day, house + insurance fund (USD)",
            fmt.usd(var.var_usd) if var.evaluated else "not evaluated",
            fmt.usd(p.var_usd) if p and p.var_usd is not None else "",
            fmt.usd_change(var.var_usd, p.var_usd if p else None),
            run.status_of("CAP-05"),
            (
                f"ES {fmt.setting_percent(var.es_confidence)} {fmt.usd(var.es_usd)} USD; n = {var.n}"
                if var.evaluated
                else (var.reason or "")
            ),
        )
    )
    return tuple(figures)


# The statement's two breakdowns of the funds held (v_segregation column, line label); the
# lines with nothing in them are left out.
WALLET_LINES = (
    ("held_cold", "By wallet type: cold wallets"),
    ("held_warm", "By wallet type: warm wallets"),
    ("held_hot", "By wallet type: hot wallets"),
    ("held_bank", "By wallet type: bank accounts"),
    ("held_exchange", "By wallet type: exchange accounts"),
)
CUSTODIAN_LINES = (
    ("held_self", "By custodian: the venue's own custody"),
    ("held_credit_institution", "By custodian: credit institutions"),
    ("held_investment_firm", "By custodian: investment firms"),
    ("held_other", "By custodian: other custodians"),
)


def _segregation(
    data: ReportData,
) -> tuple[tuple[SegregationTotalRow, ...], tuple[SegregationAsset, ...]]:
    totals, assets = [], []
    seg02 = {
        r["entity_id"]
        for r in _rows(data.run.exceptions.filter(data.run.exceptions["check_id"] == "SEG-02"))
    }
    for row in _rows(data.statement):  # one row per asset
        price = row["price"]

        def in_usd(amount: Any, price: Any = price) -> Any:
            return amount * price if amount is not None and price is not None else None

        status = "breach" if row["excess"] < 0 else ("warn" if row["asset"] in seg02 else "pass")
        totals.append(
            SegregationTotalRow(
                asset=row["asset"],
                requirement_usd=fmt.usd(row["requirement_usd"]),
                held_usd=fmt.usd(row["held_usd"]),
                excess_usd=fmt.usd_against(row["excess_usd"], 0),
                coverage_ratio=fmt.ratio_against(row["coverage_ratio"], 1),
                status=status,
            )
        )

        def line(
            label: str, column: str, kind: str = "line", row: dict[str, Any] = row
        ) -> StatementLine:
            return StatementLine(label, fmt.units(row[column]), fmt.usd(in_usd(row[column])), kind)

        def graded(label: str, column: str, row: dict[str, Any] = row) -> StatementLine:
            """A result line, graded against 0 (the asset's status is the sign of its excess):
            with the digits that tell it from 0, in the asset and in USD (a deficiency of
            1e-12 read 0.00000000 beside BREACH)."""
            amount = row[column]
            return StatementLine(
                label,
                fmt.against(amount, 0, fmt.UNIT_PLACES),
                fmt.usd_against(in_usd(amount), 0),
                "result",
            )

        lines = [
            line("Cross-wallet balances of client accounts", "cross_balance", "sub"),
            line("Isolated margin of client positions", "isolated_margin", "sub"),
            line("Net ledger balance", "net_ledger_balance"),
            line("Unrealized PnL, cross positions", "cross_upnl", "sub"),
            line("Unrealized PnL, isolated positions", "isolated_upnl", "sub"),
            line("Net unrealized profit (loss) in open positions", "unrealized_pnl"),
            line("Net equity", "net_equity", "total"),
            line(
                f"Add: accounts with debit/deficit balances ({row['deficit_accounts']})", "deficits"
            ),
            line("Add: isolated bad debt (losses beyond isolated margin)", "isolated_bad_debt"),
            line("Amount required to be segregated", "client_requirement", "total"),
        ]
        # Two breakdowns of the same funds, each adding up to the held total: by wallet type
        # above the total, by custodian apart below the result (a regulator's review of
        # 2026-12-06: printed one after the other above the total, they read as one list
        # adding up to twice the funds held).
        lines.extend(line(label, column, "sub") for column, label in WALLET_LINES if row[column])
        lines.append(line("Funds held in segregation", "held", "total"))
        lines.append(graded("Excess (deficiency) of funds in segregation", "excess"))
        if row.get("target_residual_interest") is not None:
            lines.append(line("Target residual interest", "target_residual_interest"))
            lines.append(graded("Excess over target residual interest", "excess_over_target"))
        lines.append(line("Funds held in segregation, by custodian:", "held"))
        lines.extend(line(label, column, "sub") for column, label in CUSTODIAN_LINES if row[column])
        assets.append(
            SegregationAsset(
                asset=row["asset"],
                price=fmt.price(price),
                status=status,
                coverage_ratio=fmt.ratio_against(row["coverage_ratio"], 1),
                deficit_accounts=int(row["deficit_accounts"]),
                lines=tuple(lines),
            )
        )
    return tuple(totals), tuple(assets)


def _integrity(
    data: ReportData,
) -> tuple[tuple[IntegrityRow, ...], int, tuple[tuple[str, str, int], ...]]:
    import polars as pl

    exceptions = data.run.exceptions.filter(pl.col("check_id").is_in(list(INTEGRITY_CHECKS)))
    shown = shown_in_turn(exceptions, INTEGRITY_SHOWN)
    details = (
        {r["position_id"]: r for r in _rows(data.positions)} if data.positions is not None else {}
    )
    rows = []
    for r in _rows(shown):  # at most INTEGRITY_SHOWN rows
        d = details.get(r["entity_id"], {}) if r["entity_type"] == "position" else {}
        equity = d.get("isolated_equity")
        # SEG-07: equity against 0 when under water, else against the maintenance margin
        bound = 0 if equity is not None and equity < 0 else d.get("maintenance_margin")
        rows.append(
            IntegrityRow(
                check_id=r["check_id"],
                status=r["status"],
                metric=r["metric"],
                position_id=r["entity_id"]
                if r["entity_type"] == "position"
                else f"{r['entity_type']} {r['entity_id']}",
                account_id=d.get("account_id") or fmt.MISSING,
                instrument_id=r["instrument_id"] or d.get("instrument_id") or fmt.MISSING,
                asset=r["asset"] or d.get("settle_asset") or fmt.MISSING,
                margin_mode=d.get("margin_mode")
                or ("closed" if r["entity_type"] == "position" else fmt.MISSING),
                quantity=fmt.units(d.get("quantity")),
                # beside the status, the figures SEG-03 and SEG-07 grade with the digits that
                # tell them from their bounds: a cross position carrying 3e-9 of margin read
                # 0.00000000 beside BREACH, a bad debt of 1e-12 an equity of 0.00000000
                isolated_margin=fmt.against(d.get("isolated_margin"), 0, fmt.UNIT_PLACES),
                isolated_equity=fmt.against(equity, bound, fmt.UNIT_PLACES),
                maintenance_margin=fmt.against(
                    d.get("maintenance_margin"), equity, fmt.UNIT_PLACES
                ),
                value=fmt.units(r["value"]),
                message=r["message"],
            )
        )
    counts = tuple(
        (o.check_id, o.status, o.exceptions)
        for o in data.run.outcomes
        if o.check_id in INTEGRITY_CHECKS
    )
    return tuple(rows), exceptions.height, counts


def _concentration(data: ReportData) -> ConcentrationSection:
    import polars as pl

    table = data.concentration
    cfg = data.config.concentration

    def metric(check: str, name: str) -> pl.DataFrame:
        return table.filter((pl.col("check_id") == check) & (pl.col("metric") == name))

    oi = {r["entity_id"]: r for r in _rows(metric("CON-01", "open_interest"))}
    oi_usd = {r["entity_id"]: r for r in _rows(metric("CON-01", "open_interest_usd"))}
    hhi = {r["entity_id"]: r for r in _rows(metric("CON-02", "hhi"))}
    holders = {r["entity_id"]: r for r in _rows(metric("CON-02", "holders"))}
    # graded shares first (an instrument under the OI floor is exempt: informative only)
    shares = (
        metric("CON-01", "oi_share")
        .with_columns((pl.col("status") == "exempt").fill_null(False).alias("exempt"))
        .sort(
            ["exempt", "value", "instrument_id", "entity_id"],
            descending=[False, True, False, False],
        )
    )
    top = {
        r["instrument_id"]: r
        for r in _rows(shares.group_by("instrument_id", maintain_order=True).first())
    }
    instruments = []
    for instrument in sorted(set(oi) | set(hhi)):  # one row per instrument
        h, t = hhi.get(instrument, {}), top.get(instrument, {})
        instruments.append(
            InstrumentConcentration(
                instrument_id=instrument,
                open_interest=fmt.units(oi.get(instrument, {}).get("value")),
                open_interest_usd=fmt.usd_against(
                    oi_usd.get(instrument, {}).get("value"), cfg.oi_floor
                ),
                hhi=fmt.against(h.get("value"), h.get("threshold"), 2),
                holders=fmt.integer(holders.get(instrument, {}).get("value")),
                hhi_status=h.get("status") or "",
                top_group=t.get("entity_id") or fmt.MISSING,
                top_group_share=fmt.percent_against(t.get("value"), t.get("threshold")),
                top_group_status=t.get("status") or "",
                exempt=(h.get("status") == "exempt"),
                top_group_share_ratio=fmt.ratio_against(t.get("value"), t.get("threshold"))
                if t.get("value") is not None
                else "",
            )
        )
    bars = [
        charts.Bar(
            f"{r['entity_id']} @ {r['instrument_id']}",
            float(r["value"]),  # geometry only
            fmt.percent(r["value"]),
            r["status"] or "",
        )
        for r in _rows(shares.head(OI_BARS_SHOWN))
    ]
    oi_chart = (
        Chart(
            "Largest open-interest shares of client groups (CON-01)",
            charts.bar_chart(
                bars,
                axis_label="share of the instrument's open interest",
                thresholds=(
                    charts.Threshold(
                        float(cfg.oi_share_warn),
                        f"warn {fmt.threshold_percent(cfg.oi_share_warn)}",
                        "warn",
                    ),
                    charts.Threshold(
                        float(cfg.oi_share_breach),
                        f"breach {fmt.threshold_percent(cfg.oi_share_breach)}",
                        "breach",
                    ),
                ),
                scale=100,
                suffix="%",
            ),
            f"{len(bars)} group/instrument pairs: the largest shares in instruments graded by "
            "CON-01 (open interest at or above the floor of "
            f"{fmt.usd_setting(cfg.oi_floor)} USD) first, "
            "then, in grey, those of exempt instruments under the floor, if room is left. All "
            "groups: concentration.csv.",
        )
        if bars
        else None
    )

    custodian_shares = metric("CON-03", "custodian_share")
    # no share when no custodian holds client custody (every custodian's nets to 0 or less):
    # a firm row instead, not_evaluated, whose message is in the check table. Every custodian
    # is listed all the same, with its (negative) custody, as in concentration.csv: the table
    # showed its header only (concentration audit of 2026-12-07).
    firm_share = custodian_shares.filter(pl.col("entity_type") == "firm")
    graded_shares = custodian_shares.filter(pl.col("entity_type") == "custodian")
    unshared = firm_share.row(0, named=True)["status"] if firm_share.height else None
    custodian_rows = (
        metric("CON-03", "client_custody_usd")
        .filter(pl.col("entity_type") == "custodian")
        .select("entity_id", pl.col("value").alias("custody_usd"))
        .join(
            graded_shares,
            on="entity_id",
            how="left",
        )
        .sort(
            ["value", "custody_usd", "entity_id"],
            descending=[True, True, False],
            nulls_last=True,
        )
    )
    threshold = cfg.custodian_share_warn
    custodians = tuple(
        ShareRow(
            r["entity_id"],
            fmt.usd(r["custody_usd"]),
            fmt.percent_against(r["value"], threshold),
            "warn at " + fmt.threshold_percent(threshold),
            r["status"] or unshared or "",
            fmt.ratio_against(r["value"], threshold) if r["value"] is not None else "",
        )
        for r in _rows(custodian_rows)  # one row per custodian
    )
    custodian_chart = (
        Chart(
            "Client custody by custodian (CON-03)",
            charts.bar_chart(
                [
                    charts.Bar(
                        r["entity_id"],
                        float(r["value"]),
                        fmt.percent(r["value"]),
                        r["status"] or "",
                    )
                    for r in _rows(custodian_rows.filter(pl.col("value").is_not_null()))
                ],
                axis_label="share of client custody (USD)",
                thresholds=(
                    charts.Threshold(
                        float(cfg.custodian_share_warn),
                        f"warn {fmt.threshold_percent(cfg.custodian_share_warn)}",
                        "warn",
                    ),
                ),
                scale=100,
                suffix="%",
            ),
        )
        if graded_shares.height
        else None
    )
    hot = metric("CON-04", "hot_wallet_share")
    hot_usd = metric("CON-04", "hot_wallet_usd")
    non_bank = metric("CON-04", "non_bank_client_custody_usd")
    hot_wallet = None
    if hot.height:
        r = hot.row(0, named=True)
        # its base, unlike the custodians' share above (all client custody): shown, as a
        # regulator's review of 2026-12-06 could not find it in the table
        base = fmt.usd(non_bank.row(0, named=True)["value"]) if non_bank.height else fmt.MISSING
        hot_wallet = ShareRow(
            f"{base} {data.config.firm.reporting_currency}",
            fmt.usd(hot_usd.row(0, named=True)["value"]) if hot_usd.height else fmt.MISSING,
            fmt.percent_against(r["value"], r["threshold"]),
            "breach at " + fmt.threshold_percent(r["threshold"]),
            r["status"] or "",
            fmt.ratio_against(r["value"], r["threshold"]) if r["value"] is not None else "",
        )
    equity_usd = {r["entity_id"]: r["value"] for r in _rows(metric("CON-05", "equity_usd"))}
    collateral = tuple(
        ShareRow(
            r["entity_id"],
            fmt.usd(equity_usd.get(r["entity_id"])),
            fmt.percent_against(r["value"], r["threshold"]),
            fmt.threshold_percent(r["threshold"]) if r["threshold"] is not None else "stable",
            r["status"] or "",
            fmt.ratio_against(r["value"], r["threshold"]),
        )
        for r in _rows(metric("CON-05", "collateral_share").sort("entity_id"))  # one per asset
    )
    exposures = data.large_exposures.sort(
        ["share", "exposure_usd", "counterparty"], descending=[True, True, False], nulls_last=True
    )
    large = tuple(
        LargeExposureRow(
            counterparty=r["counterparty"],
            kind=r["kind"],
            exposure_usd=fmt.usd(r["exposure_usd"]),
            share=fmt.percent_against(r["share"], r["threshold"]),
            limit_usd=fmt.usd_against(r["limit_usd"], r["exposure_usd"]),
            excess_usd=fmt.usd_against(r["excess_usd"], 0),
            status=r["status"] or "",
            share_ratio=fmt.ratio_against(r["share"], r["threshold"]),
        )
        for r in _rows(exposures.head(LARGE_EXPOSURES_SHOWN))
    )
    return ConcentrationSection(
        instruments=tuple(instruments),
        oi_chart=oi_chart,
        custodians=custodians,
        custodian_chart=custodian_chart,
        hot_wallet=hot_wallet,
        collateral=collateral,
        large_exposures=large,
        large_exposures_total=exposures.height,
        oi_floor=fmt.usd_setting(cfg.oi_floor),
        unavailable=_unavailable_text(data, [c for c in data.unavailable if c.startswith("CON-")]),
    )


# The keys under which ReportData.unavailable names a capital or segregation statement that
# failed: CAP-01..03 all read the one, SEG-01..02 the other.
CAPITAL_CHECKS = "CAP-01..03"
SEGREGATION_CHECKS = "SEG-01..02"


def _unavailable_text(data: ReportData, check_ids: list[str]) -> str:
    """What a section says of its checks whose figures the report could not compute."""
    if not check_ids:
        return ""
    named = "; ".join(f"{c}: {data.unavailable[c]}" for c in sorted(check_ids))
    return (
        f"The figures of {', '.join(sorted(check_ids))} could not be computed ({named}); they are "
        "missing from this section and from the CSV files, and the job exited 4."
    )


def trend_chart(
    points_by_day: list[tuple[dt.date, TrendPoint]],
    early_warning: Decimal | None,
    source: str,
    numerator: str = "own funds",
) -> Chart | None:
    """The capital-ratio trend chart of the PDF (None without points).

    A point below 100% is drawn as a breach, one below its own day's early-warning level as a
    warning (CAP-01's grades, on the ratio and level as recorded, both to 18 decimals). The
    early-warning line is one level across the chart while every day had today's; when the
    days' levels differ (under CFTC the level moves with the requirement) it steps from day to
    day. No early-warning line when no level is known (today's statement could not be
    computed and no point carries one)."""
    if not points_by_day:
        return None
    # the year in every label when the points span more than one (long-history review of
    # 2026-12-05: "11-17 ... 01-15" hid the turn of the year)
    one_year = points_by_day[0][0].year == points_by_day[-1][0].year
    label = "%m-%d" if one_year else "%Y-%m-%d"
    points = [
        charts.Point(  # float: geometry only
            day.strftime(label),
            float(p.ratio),
            fmt.percent(p.ratio, 2),  # as the statement above the chart shows it
            "breach"
            if p.ratio < 1
            else ("warn" if p.early_warning is not None and p.ratio < p.early_warning else ""),
        )
        for day, p in points_by_day
    ]
    levels = {p.early_warning for _, p in points_by_day if p.early_warning is not None}
    levels |= set() if early_warning is None else {early_warning}
    single = next(iter(levels)) if len(levels) == 1 else None
    stepped = len(levels) > 1
    span = (points_by_day[-1][0] - points_by_day[0][0]).days + 1
    return Chart(
        "Capital ratio over the stored history",
        charts.line_chart(
            points,
            axis_label=f"{numerator} / requirement",
            references=(
                charts.Threshold(1.0, "100% minimum", "breach"),
                *(
                    ()
                    if single is None
                    else (
                        charts.Threshold(
                            float(single), f"early warning {fmt.setting_percent(single)}", "warn"
                        ),
                    )
                ),
            ),
            steps=(
                [
                    None if p.early_warning is None else float(p.early_warning)
                    for _, p in points_by_day
                ]
                if stepped
                else ()
            ),
            steps_label="early warning of each day",
            scale=100,
            suffix="%",
        ),
        f"{len(points)} day(s), from {points_by_day[0][0].isoformat()} to "
        f"{points_by_day[-1][0].isoformat()}"
        + (
            f" (of {span} calendar days: the points are evenly spaced, not by date)"
            if span != len(points)
            else ""
        )
        + (
            "; the early-warning line is each day's own level (from "
            + f"{fmt.setting_percent(min(levels))} to {fmt.setting_percent(max(levels))})"
            if stepped
            else ""
        )
        + f"; source: {source}.",
    )


def _capital(data: ReportData) -> CapitalSection:
    from reports.render.outputs import capital_frame

    cap = data.capital
    presented = capital_frame(cap.lines)
    lines = tuple(
        CapitalLine(int(r["line"]), r["item"], _thousands(r["amount"]))
        for r in _rows(presented)  # the capital statement's lines (tens, not accounts)
    )
    composition = tuple(
        CompositionRow(
            c.label,
            fmt.usd_against(c.amount, c.minimum),
            fmt.setting_percent(c.share),
            fmt.usd_against(c.minimum, c.amount),
            c.met,
        )
        for c in (cap.composition or ())
    )
    liquidity: tuple[tuple[str, str], ...] = ()
    if cap.liquidity is not None:
        liq = cap.liquidity
        liquidity = (
            # the two graded figures with the digits that tell them apart (a requirement of a
            # third of the fixed overheads often has more than two decimals)
            ("Liquid assets", fmt.usd_against(liq.liquid_assets, liq.requirement)),
            ("1/3 of the fixed overheads requirement", fmt.usd(liq.fixed_overheads_part)),
            ("1.6% of client guarantees", fmt.usd(liq.guarantees_part)),
            (
                "Liquidity requirement (IFR Art. 43)",
                fmt.usd_against(liq.requirement, liq.liquid_assets),
            ),
        )
    missing = cap.unavailable is not None  # no figure: each shows as MISSING
    trend = trend_chart(
        data.trend,
        None if missing else cap.early_warning_level,
        data.trend_source
        + ("; today's statement could not be computed, so it has no point" if missing else ""),
        ratio_numerator(cap.regime),
    )
    return CapitalSection(
        regime=cap.regime,
        regime_label=REGIME_LABELS.get(cap.regime, cap.regime),
        currency=cap.currency,
        own_funds=fmt.usd_against(
            None if cap.own_funds_unknown or missing else cap.own_funds, _own_funds_bound(cap)
        ),
        requirement=fmt.usd_against(None if missing else cap.requirement, cap.own_funds),
        ratio=fmt.percent_against(cap.ratio, _ratio_bound(cap)),
        ratio_plain=fmt.ratio_against(cap.ratio, _ratio_bound(cap)),
        # (under cftc the level is computed: none to show without the statement)
        early_warning_level=fmt.MISSING
        if missing
        else fmt.setting_percent(cap.early_warning_level),
        early_warning_amount=fmt.usd_against(
            None if missing else cap.early_warning_amount, cap.own_funds
        ),
        own_funds_label=OWN_FUNDS_LABELS.get(cap.regime, "Own funds"),
        requirement_label=REQUIREMENT_LABELS.get(cap.regime, "Own funds requirement"),
        ratio_numerator=ratio_numerator(cap.regime),
        binding=BINDING_LABELS.get(cap.regime, {}).get(cap.binding, cap.binding) or fmt.MISSING,
        status=data.run.status_of("CAP-01"),
        components=tuple(
            (COMPONENT_LABELS.get(cap.regime, {}).get(name, name), fmt.usd(value))
            for name, value in cap.components.items()
        ),
        composition=composition,
        liquidity=liquidity,
        liquidity_met=cap.liquidity.met if cap.liquidity is not None else None,
        lines=lines,
        notes=tuple(cap.notes),
        trend=trend,
        trend_source=data.trend_source,
        unavailable=_unavailable_text(data, [c for c in data.unavailable if c == CAPITAL_CHECKS]),
    )


def _statistic(full: float | None, cents: Decimal | None, threshold: Decimal | None) -> str:
    """A VaR or ES figure: its cents, or its full-precision digits where the cents would print
    the threshold it is graded against (each at most the digits a float64 carries: shown)."""
    if full is None or threshold is None:
        return fmt.usd(cents)
    from reports.stress.var import shown_against

    return fmt.usd_against(shown_against(full, threshold), threshold)


def _own_funds_shown(cap: Any) -> Decimal | None:
    return None if cap.own_funds_unknown else cap.own_funds


def _own_funds_bound(cap: Any) -> Decimal | None:
    """The amount CAP-01 grades the own funds against where they lie: the requirement below
    it, the early-warning amount above (own funds 1e-18 under an early-warning amount of
    11,243,100.00 read "11,243,100.00" beside WARN; capital audit of 2026-12-07)."""
    own, requirement = cap.own_funds, cap.requirement
    if own is None or requirement is None or own < requirement:
        return requirement
    return requirement if cap.early_warning_amount is None else cap.early_warning_amount


def _ratio_bound(cap: Any) -> Decimal | None:
    """The bound CAP-01 grades the capital ratio against where it lies: 100% below it, the
    early-warning level above (a ratio of 0.99996 must not read 100.00% beside BREACH, nor
    1.09996 read 110.00% beside WARN)."""
    if cap.ratio is None:
        return None
    if cap.ratio < 1 or cap.early_warning_level is None:
        return Decimal(1)
    return Decimal(cap.early_warning_level)


def _thousands(text: str | None) -> str:
    """Thousands separators for an already rounded decimal string."""
    if text is None or text == "":
        return fmt.MISSING
    places = len(text.split(".")[1]) if "." in text else 0
    return fmt.number(Decimal(text), places)


def _shocks_text(shocks: dict[str, Decimal]) -> str:
    if not shocks:
        return "none"
    return ", ".join(
        f"{asset} {fmt.signed(fmt.shock_percent(move))}%" for asset, move in sorted(shocks.items())
    )


def _stress(data: ReportData) -> StressSection:
    cfg = data.config
    rows, groups, rounds, notes = [], [], [], []
    bars = []
    if "CAP-04" in data.unavailable:  # no figures: each configured scenario, status error
        rows = [
            StressRow(
                scenario=scenario.name,
                shocks=fmt.MISSING,
                cover1_usd=fmt.MISSING,
                cover2_usd=fmt.MISSING,
                total_shortfall_usd=fmt.MISSING,
                insurance_fund_usd=fmt.MISSING,
                status="error",
            )
            for scenario in cfg.stress.scenarios
        ]
    for r in data.stress:  # one per configured scenario
        rows.append(
            StressRow(
                scenario=r.scenario,
                # with a cascade, the scenario as configured and where the cascade took it
                # (capital review of 2026-12-05: the final moves were shown as the scenario's)
                shocks=_shocks_text(r.shocks)
                if r.configured_shocks is None
                else f"{_shocks_text(r.configured_shocks)} (after the cascade: "
                f"{_shocks_text(r.shocks)})",
                # the covers and the fund with the digits that tell them apart (a fund half
                # a cent under Cover-2 must not read as equal to it beside BREACH)
                cover1_usd=fmt.usd_against(r.cover1_usd, r.insurance_fund_usd),
                cover2_usd=fmt.usd_against(r.cover2_usd, r.insurance_fund_usd),
                total_shortfall_usd=fmt.usd(r.total_shortfall_usd),
                insurance_fund_usd=fmt.usd_against(
                    r.insurance_fund_usd, r.threshold_usd or r.cover2_usd
                ),
                status=r.status,
            )
        )
        for g in _rows(r.groups.head(GROUP_SHORTFALLS_SHOWN)):
            if g["shortfall_usd"] and g["shortfall_usd"] > 0:
                groups.append(
                    GroupShortfall(
                        r.scenario,
                        g["group_id"],
                        fmt.usd(g["isolated_shortfall_usd"]),
                        fmt.usd(g["cross_shortfall_usd"]),
                        fmt.usd(g["shortfall_usd"]),
                    )
                )
        bars.append(
            charts.Bar(
                f"{r.scenario}: Cover-1", float(r.cover1_usd), fmt.usd(r.cover1_usd), r.status
            )
        )
        bars.append(
            charts.Bar(
                f"{r.scenario}: Cover-2", float(r.cover2_usd), fmt.usd(r.cover2_usd), r.status
            )
        )
        bars.append(
            charts.Bar(
                f"{r.scenario}: insurance fund",
                float(r.insurance_fund_usd),
                fmt.usd(r.insurance_fund_usd),
                "exempt",
            )
        )
        if r.cascade is not None:
            c = r.cascade
            for rd in c.rounds:
                rounds.append(
                    CascadeRoundRow(
                        scenario=r.scenario,
                        round=rd.round,
                        price_moves=_shocks_text({a: m for a, m in rd.price_moves.items() if m}),
                        liquidated_positions=rd.liquidated_positions,
                        liquidated_notional_usd=fmt.usd(rd.liquidated_notional_usd),
                        cumulative_notional_usd=fmt.usd(rd.cumulative_notional_usd),
                    )
                )
            notes.append(
                f"{r.scenario}: {c.total_positions} position(s) liquidated in {len(c.rounds)} "
                f"round(s), final moves {c.final_moves_text()}"
                + (" (cut short at the round limit)" if c.capped else "")
                + (
                    f" (upward moves stopped at their ceiling: +{int(MAX_UP_MOVE * 100)}%, ten "
                    "times the price, or the scenario's own shock if larger)"
                    if c.at_ceiling
                    else ""
                )
            )
    chart = (
        Chart(
            "Cover-1 / Cover-2 against the insurance fund per scenario (CAP-04)",
            charts.bar_chart(bars, axis_label="USD at stressed prices"),
            "Coloured bars: the scenario's CAP-04 status; grey: the insurance fund at the same "
            "stressed prices.",
        )
        if bars
        else None
    )
    v = data.var
    var = VarSection(
        evaluated=v.evaluated,
        reason=v.reason or "",
        n=v.n,
        confidence=fmt.setting_percent(v.confidence),
        k=v.k,
        es_confidence=fmt.setting_percent(v.es_confidence),
        w=v.w,
        window=v.window,
        window_start=v.window_start.isoformat() if v.window_start else fmt.MISSING,
        window_end=v.window_end.isoformat() if v.window_end else fmt.MISSING,
        # CAP-05 grades the larger statistic at full precision: it and the threshold with the
        # digits that tell them apart (a VaR of 9,999.996 read 10,000.00 beside a pass)
        var_usd=_statistic(v.var, v.var_usd, v.threshold_usd),
        es_usd=_statistic(v.es, v.es_usd, v.threshold_usd),
        own_funds=fmt.usd(v.own_funds),
        threshold_usd=fmt.usd_against(v.threshold_usd, v.full_measure),
        share=fmt.setting_percent(v.share),
        status=data.run.status_of("CAP-05"),
        exposure=tuple((asset, fmt.usd(value)) for asset, value in sorted(v.exposure.items())),
        left_out=tuple(sorted(v.left_out.items())),
        method=v.method,
    )
    shown_short = {g.scenario for g in groups}
    return StressSection(
        cover=cfg.stress.cover,
        cascade_impact=format(cfg.stress.cascade_impact.normalize(), "f"),
        rows=tuple(rows),
        groups=tuple(groups),
        cascade=tuple(rounds),
        cascade_notes=tuple(notes),
        chart=chart,
        var=var,
        unavailable=_unavailable_text(data, [c for c in data.unavailable if c == "CAP-04"]),
        no_shortfall=tuple(r.scenario for r in data.stress if r.scenario not in shown_short),
    )


def _exceptions(
    data: ReportData,
) -> tuple[tuple[ExceptionRow, ...], int, tuple[tuple[str, int], ...]]:
    from reports.render.outputs import exceptions_frame

    presented = exceptions_frame(data.run.exceptions)
    rows = tuple(
        ExceptionRow(
            check_id=r["check_id"],
            status=r["status"],
            entity_type=r["entity_type"],
            entity_id=r["entity_id"],
            instrument_id=r["instrument_id"] or "",
            asset=r["asset"] or "",
            metric=r["metric"],
            value=_thousands(r["value"]),
            threshold=_thousands(r["threshold"]),
            message=r["message"],
        )
        for r in _rows(shown_in_turn(presented, EXCEPTIONS_SHOWN))
    )
    by_check = tuple((o.check_id, o.exceptions) for o in data.run.outcomes if o.exceptions)
    return rows, presented.height, by_check


def _lineage(data: ReportData) -> tuple[LineageRow, ...]:
    return tuple(
        LineageRow(
            file=r["file"],
            format=r["format"],
            rows=int(r["rows"]),
            sha256=r["sha256"],
            loaded_at=r["loaded_at"].strftime("%Y-%m-%d %H:%M:%S UTC") if r["loaded_at"] else "",
            source=Path(r["source_path"]).name if r["source_path"] else "",
        )
        for r in _rows(data.lineage)  # one row per snapshot file
    )


def _span(first: dt.date | None, last: dt.date | None) -> str:
    """ "2026-03-01 to 2026-03-05", one date alone, or "" for none."""
    if first is None or last is None:
        return ""
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _conventions(config: Config) -> tuple[Convention, ...]:
    stable = ", ".join(config.firm.stable_assets)
    return (
        Convention(
            "Segregation",
            "Per asset, client accounts only (17 CFR 1.20/1.32 adapted to isolated margin): account "
            "equity = cross balance + cross uPnL + the positive part of each isolated position's "
            "equity; requirement = sum of max(0, equity) over client accounts (deficits reported, "
            "never netted); held = custody designated client; excess = held - requirement. Crypto "
            "is segregated in kind: each asset is covered on its own.",
        ),
        Convention(
            "Isolated margin",
            "A client's loss on an isolated position stops at its isolated margin; the negative part "
            "of isolated equity is the venue's bad debt. Liquidation when equity <= maintenance "
            "margin (MM = notional x mmr of the tier - cum).",
        ),
        Convention(
            "Valuation",
            "Linear: notional = Q x mark, uPnL = s x Q x (mark - entry); inverse: notional = Q / "
            "mark, uPnL = s x Q x (1/entry - 1/mark). USD values use the day's asset prices; "
            f"stablecoins ({stable}) are NOT assumed to be worth 1 USD.",
        ),
        Convention(
            "Rounding",
            "Computed at full precision (DECIMAL(38,18)); presented half-even: asset amounts, prices "
            "and ratios 8 decimals, reporting-currency amounts 2 decimals. Ratios are plain ratios "
            "(1.05 = 105%); the PDF also shows percentages, with the ratio to 8 decimals beneath "
            "a share. Deficits and bad debt are positive magnitudes; an excess is signed. Each "
            "figure is rounded on its own, from its full-precision value: a printed total may "
            "differ by a cent from the sum of its printed lines.",
        ),
        Convention(
            "Thresholds",
            "Warn/breach at or beyond the threshold (>= upper limits, <= lower limits), except "
            "SEG-01 (breach only when excess < 0), CAP-01 (breach below 100%, warn strictly "
            "below the early-warning level: exactly at it passes), CAP-02 and CAP-03 (breach "
            "strictly below the minimum), CON-06 (breach strictly "
            "above the breach share), CAP-04 (a scenario fails only when the fund is strictly "
            "below its cover) and the tolerances of SEG-04/05/09 (a difference strictly above "
            "the tolerance: the default 0 means exact).",
        ),
        Convention(
            "VaR / ES",
            "Historical simulation over the last n daily returns (at most [var] window), losses "
            "positive: VaR_q = the k-th worst loss, k = ceil(n x (1 - q)); ES_q' = mean of the w "
            "worst losses, w = max(1, floor(n x (1 - q'))), q' the ES confidence. Only returns "
            "between consecutive days. Statistics in float64, reported to the cent.",
        ),
        Convention(
            "Exposure (K-NPR, VaR)",
            "Both take the house and insurance-fund positions plus their non-stable custody, per "
            "underlying, in USD. For a linear contract both count s x Q x mark x quote price "
            "on the underlying and the opposite position in a non-stable quote coin (ETHBTC: "
            "short BTC), K-NPR at its notional (-s x Q x mark x quote price), VaR at its delta "
            "(-s x Q x entry x quote price), again apart by the unrealised PnL held in the coin. "
            "For an inverse contract K-NPR counts its signed USD notional (Q / mark x coin price, "
            "about Q USD), VaR its full USD delta, which includes the unrealised PnL it holds in "
            "the coin (s x Q x coin price / entry): the two differ by that PnL, "
            "s x Q x (coin price / entry - coin price / mark).",
        ),
        Convention(
            "Stress",
            "Each scenario shocks asset prices and marks (stablecoins unshocked unless named); "
            "client accounts only: an isolated position's shortfall is what its stressed loss "
            "takes beyond its isolated margin, a cross account's what its stressed cross equity, "
            "netted across assets in USD, falls below zero; summed per client group. Cover-1 = "
            "largest group shortfall, Cover-2 = two largest (PFMI Principle 4), against the "
            "insurance fund at stressed prices.",
        ),
        Convention(
            "Capital",
            "IFR: D = max(PMR, FOR, KFR), own funds CET1 + AT1 + T2 (Art. 9, 11, 13, 14, 15-39); "
            "CFTC: adjusted net capital >= max(minimum, "
            f"{fmt.setting_percent(config.capital.cftc_risk_margin_rate)} of maintenance margin) "
            "(17 CFR 1.17); "
            "MiCA: CET1 >= max(class minimum, FOR) (Art. 67).",
        ),
        Convention(
            "Status roll-up",
            "Overall status = the worst outcome of the checks that ran, in the order pass < warn "
            "< breach < error (as `mir check`); a check that cannot run on the data is "
            "not_evaluated and does not count (the status is not_evaluated only when no check ran).",
        ),
    )


def build_context(
    data: ReportData,
    *,
    signer_subject: str,
    development_key: bool,
    signing_time: dt.datetime,
    attachments: tuple[str, ...],
) -> ReportContext:
    """The template context of report.pdf."""
    config = data.config
    run = data.run
    checks = tuple(
        CheckRow(
            check_id=o.check_id,
            title=o.title,
            status=o.status,
            exceptions=o.exceptions,
            message=o.message or "",
            regulation=getattr(data.specs.get(o.check_id), "regulation", "") or "",
            row_meaning=_row_meaning(data, o.check_id),
        )
        for o in run.outcomes
    )
    seg_totals, seg_assets = _segregation(data)
    integrity, integrity_total, integrity_counts = _integrity(data)
    exceptions, exceptions_total, by_check = _exceptions(data)
    seg = config.segregation
    return ReportContext(
        firm_name=config.firm.name,
        lei=config.firm.lei,
        as_of=data.as_of.isoformat(),
        run_id=run.run_id,
        status=data.status,
        signer_subject=signer_subject,
        development_key=development_key,
        signing_time=signing_time.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        tool_version=__version__,
        config_source=config.source,
        config_sha256=config.sha256(),
        reporting_currency=config.firm.reporting_currency,
        checks_reused=run.reused,
        previous_as_of=data.previous.as_of.isoformat() if data.previous else "",
        families=_families(run),
        key_figures=_key_figures(data),
        headline=_headline(run),
        checks=checks,
        segregation_totals=seg_totals,
        segregation_unavailable=_unavailable_text(
            data, [c for c in data.unavailable if c == SEGREGATION_CHECKS]
        ),
        segregation_assets=seg_assets,
        target_configured=(
            seg.target_residual_interest is not None or seg.target_residual_interest_pct is not None
        ),
        integrity=integrity,
        integrity_total=integrity_total,
        integrity_counts=integrity_counts,
        concentration=_concentration(data),
        capital=_capital(data),
        stress=_stress(data),
        exceptions=exceptions,
        exceptions_total=exceptions_total,
        exceptions_by_check=by_check,
        lineage=_lineage(data),
        earlier_days=data.earlier[0],
        earlier_span=_span(data.earlier[1], data.earlier[2]),
        unavailable=tuple(sorted(data.unavailable.items())),
        conventions=_conventions(config),
        attachments=attachments,
        shown_limits={
            "exceptions": EXCEPTIONS_SHOWN,
            "integrity": INTEGRITY_SHOWN,
            "large_exposures": LARGE_EXPOSURES_SHOWN,
            "group_shortfalls": GROUP_SHORTFALLS_SHOWN,
        },
    )
