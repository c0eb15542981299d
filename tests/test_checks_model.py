from __future__ import annotations

import pytest

from reports.checks.model import CheckOutcome, CheckResult, RunResult

P, NE, W, B, E = (
    CheckOutcome.PASS,
    CheckOutcome.NOT_EVALUATED,
    CheckOutcome.WARN,
    CheckOutcome.BREACH,
    CheckOutcome.ERROR,
)


def _run(*statuses: CheckOutcome) -> RunResult:
    run = RunResult(run_id="r", as_of="2026-03-06")
    run.results = [CheckResult(f"SEG-0{i}", "t", s, 0) for i, s in enumerate(statuses, 1)]
    return run


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [
        # Regression: SEG-02 is off by default, so a clean day read `not_evaluated` overall.
        ((P, NE, P), P),
        ((P, NE, W), W),
        ((W, B, NE), B),
        ((B, E), E),
        ((NE, NE), NE),
        ((), NE),
    ],
)
def test_overall_status_is_the_worst_of_the_checks_that_ran(statuses, overall) -> None:
    assert _run(*statuses).status == overall
