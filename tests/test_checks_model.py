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


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [((P, NE, P), P), ((P, NE, W), W), ((NE, NE), NE), ((), NE)],
)
def test_the_report_rolls_up_the_status_as_mir_check_does(statuses, overall) -> None:
    """Regression: summary.json, the PDF's cover, footer and family table said not_evaluated on
    a clean day (SEG-02 off), while `mir check` and the run log said pass."""
    import datetime as dt

    from reports.render.build import CheckOutcomeRow, CheckRun, _families

    outcomes = [
        CheckOutcomeRow(f"SEG-0{i}", "t", str(s), 0, None) for i, s in enumerate(statuses, 1)
    ]
    run = CheckRun("r", dt.date(2026, 3, 6), False, outcomes, None)
    assert run.status == str(overall) == str(_run(*statuses).status)
    seg = next(f for f in _families(run) if f.family == "SEG")
    assert seg.status == str(overall)
    # the checks that did not count are named beside the status (regime audit of 2026-12-07)
    assert seg.not_evaluated == tuple(
        f"SEG-0{i}" for i, s in enumerate(statuses, 1) if str(s) == "not_evaluated"
    )
