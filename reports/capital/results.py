"""Storing a check run's capital figures (table capital_results) for the capital_ratio_trend
investigation.

The check engine calls `record_capital_result` inside the transaction that appends the run's
check_results, so the figures and the outcomes are written together or not at all. Nothing is
computed again: the statement is the one CAP-01 already computed for the run
(`reports.capital.checks.run_statement`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

# Outcomes after which CAP-01 has computed the statement.
_RAN = ("pass", "warn", "breach")


def record_capital_result(
    con: Any, result: Any, as_of: dt.date, checked_at: dt.datetime, ctx: Any
) -> bool:
    """Append one capital_results row when CAP-01 ran in this run; return whether it did.

    `result` is the engine's RunResult, `ctx` the CheckContext the checks ran with.
    """
    from reports.capital.checks import run_statement

    if not any(r.check_id == "CAP-01" and str(r.status) in _RAN for r in result.results):
        return False
    statement = run_statement(ctx)
    if statement is None:  # CAP-01 replaced by a test double: nothing was computed
        return False
    con.execute(
        """
        INSERT INTO capital_results
            (run_id, as_of_date, regime, own_funds, requirement, ratio, early_warning_level,
             checked_at, capital_config_sha256, early_warning_amount)
        VALUES ($run_id, $as_of, $regime, $own_funds::DECIMAL(38,18),
                $requirement::DECIMAL(38,18), $ratio::DECIMAL(38,18),
                $early_warning_level::DECIMAL(38,18), $checked_at, $capital_config_sha256,
                $early_warning_amount::DECIMAL(38,18))
        """,
        {
            "run_id": result.run_id,
            "as_of": as_of,
            "regime": statement.regime,
            "own_funds": _text(statement.own_funds),
            "requirement": _text(statement.requirement),
            "ratio": _text(statement.ratio),
            "early_warning_level": _text(statement.early_warning_level),
            "checked_at": checked_at,
            # which configuration gave these figures: the report's trend chart takes only runs
            # of its own (long-history review of 2026-12-05: a what-if run was plotted)
            "capital_config_sha256": ctx.config.capital_sha256(),
            "early_warning_amount": _text(statement.early_warning_amount),
        },
    )
    return True


def _text(amount: Decimal | None) -> str | None:
    # Bound as text and cast in SQL: DuckDB binds a Decimal of more than 38 digits as a DOUBLE.
    return None if amount is None else format(amount, "f")
