"""Storing a check run's stress and VaR headline figures (table run_figures).

The check engine calls `record_stress_figures` inside the transaction that appends the run's
check_results, and inside the run's memo scope (reports/memo.py): the figures are the ones
CAP-04 and CAP-05 computed, fetched from the memo, never computed again. The next day's report
reads them as its "previous day" figures (reports.render.build.previous_day).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

# Outcomes after which a check has computed its figures.
_RAN = ("pass", "warn", "breach")
WORST_COVER2 = "worst_cover2_usd"
WORST_FUND = "worst_insurance_fund_usd"
VAR = "var_usd"


def worst_cover(results: list[Any]) -> Any:
    """The scenario with the least insurance-fund headroom over Cover-2 (None without any)."""
    if not results:
        return None
    return min(results, key=lambda r: (r.insurance_fund_usd - r.cover2_usd, r.scenario))


def record_stress_figures(
    con: Any, result: Any, as_of: dt.date, checked_at: dt.datetime, ctx: Any
) -> int:
    """Append the run_figures rows of CAP-04 / CAP-05 when they ran; return how many."""
    from reports.stress import stress_results, var_es
    from reports.stress.var import DECIMAL_LIMIT

    ran = {r.check_id for r in result.results if str(r.status) in _RAN}
    figures: list[tuple[str, Decimal]] = []
    if "CAP-04" in ran:
        worst = worst_cover(stress_results(con, as_of, ctx.config))
        if worst is not None:
            figures += [(WORST_COVER2, worst.cover2_usd), (WORST_FUND, worst.insurance_fund_usd)]
    if "CAP-05" in ran:
        var_usd = var_es(con, as_of, ctx.config).var_usd
        if var_usd is not None and abs(var_usd) < DECIMAL_LIMIT:  # else not storable
            figures.append((VAR, var_usd))
    if figures:
        con.executemany(
            "INSERT INTO run_figures (run_id, as_of_date, figure, value, checked_at) "
            "VALUES (?, ?, ?, ?::DECIMAL(38,18), ?)",
            [
                [result.run_id, as_of, name, format(value, "f"), checked_at]
                for name, value in figures
            ],
        )
    return len(figures)


def stored_figures(con: Any, as_of: dt.date, run_id: str) -> dict[str, Decimal]:
    """The figures the run `run_id` of `as_of` stored ({} when none): the caller passes the run id
    of the current inputs, configuration and version, so a reloaded day or a changed
    configuration never brings back figures of other data."""
    rows = con.execute(
        "SELECT figure, arg_max(value, checked_at) FROM run_figures "
        "WHERE as_of_date = ? AND run_id = ? GROUP BY figure",
        [as_of, run_id],
    ).fetchall()
    return {name: value for name, value in rows}
