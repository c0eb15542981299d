"""reports.memo: figures computed once per run scope, keyed by connection, date, config and name."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from reports.config import Config
from reports.memo import day_memo, memoized_per_day

DAY = dt.date(2026, 3, 3)
calls: list[tuple[Any, ...]] = []


@memoized_per_day
def figure(con: Any, as_of: dt.date, config: Config, name: str = "all") -> list[str]:
    calls.append((as_of, config.sha256(), name))
    return [name, as_of.isoformat()]


def test_outside_a_scope_nothing_is_cached() -> None:
    calls.clear()
    con = object()
    figure(con, DAY, Config(), "a")
    figure(con, DAY, Config(), "a")
    assert len(calls) == 2


def test_inside_a_scope_each_key_is_computed_once() -> None:
    calls.clear()
    con, other = object(), object()
    config = Config()
    changed = replace(config, firm=replace(config.firm, name="Another venue"))
    with day_memo():
        first = figure(con, DAY, config, "a")
        first.append("mutated by a caller")  # lists are handed out as copies
        assert figure(con, DAY, config, "a") == ["a", DAY.isoformat()]
        figure(con, DAY, config, "b")  # another name
        figure(con, DAY + dt.timedelta(days=1), config, "a")  # another date
        figure(other, DAY, config, "a")  # another connection
        figure(con, DAY, changed, "a")  # another configuration
        with day_memo():  # a nested scope shares the outer one
            figure(con, DAY, config, "b")
    assert len(calls) == 5
    with day_memo():  # a new scope starts empty
        figure(con, DAY, config, "a")
    assert len(calls) == 6


def test_keyword_arguments_are_not_cached() -> None:
    calls.clear()
    con = object()
    with day_memo():
        figure(con, DAY, Config(), name="a")
        figure(con, DAY, Config(), name="a")
    assert len(calls) == 2


def test_the_figures_the_checks_and_the_report_share_are_memoized() -> None:
    """Each is computed once per run (the checks, then the report): review of 2026-12-06 found
    capital_statement's decorator moved onto a helper inserted above it, so every run
    computed the capital statement twice and no test noticed."""
    from reports.capital.statement import capital_statement
    from reports.concentration import large_exposures, metric_rows
    from reports.stress import stress_results, var_es

    for fn in (capital_statement, large_exposures, metric_rows, stress_results, var_es):
        assert getattr(fn, "__wrapped__", None) is not None, fn.__qualname__


def test_a_call_shape_the_key_cannot_hold_is_not_cached() -> None:
    """A third argument that is not a configuration, or a name that is not a string, is not part
    of any key: such calls are computed each time (cached, 5 and 6 shared one result, and a list
    crashed the call as unhashable)."""

    @memoized_per_day
    def scaled(con: Any, as_of: dt.date, factor: Any, name: Any = "all") -> list[Any]:
        calls.append((as_of, factor, name))
        return [factor, name]

    calls.clear()
    con = object()
    with day_memo():
        assert scaled(con, DAY, 5) == [5, "all"]
        assert scaled(con, DAY, 6) == [6, "all"]
        assert figure(con, DAY, Config(), ["a"]) == [["a"], DAY.isoformat()]  # type: ignore[arg-type]
        figure(con, DAY, Config(), ["a"])  # type: ignore[arg-type]
    assert len(calls) == 4


def test_the_key_is_the_date_and_the_configuration_not_their_objects() -> None:
    """capital_statement takes the date as a date or its ISO text, and a consumer may hold its
    own equal copy of the configuration: the same figures either way, computed once."""
    calls.clear()
    con = object()
    with day_memo():
        figure(con, DAY, Config(), "a")
        figure(con, DAY.isoformat(), Config(), "a")  # type: ignore[arg-type]
    assert len(calls) == 1


def test_a_connection_gone_before_the_scope_ends_never_lends_its_figures() -> None:
    """The key holds id(con): the memo keeps each connection alive so that a later connection
    never gets its id, and with it another database's figures (a memo that let connections go
    handed a new connection the figures of one closed in the same scope)."""
    calls.clear()
    config = Config()
    with day_memo():
        for _ in range(20):
            con = object()
            figure(con, DAY, config, "a")
            del con  # closed and dropped: CPython hands its id to the next object()
    assert len(calls) == 20


@memoized_per_day
def other_figure(con: Any, as_of: dt.date, config: Config, name: str = "all") -> list[str]:
    calls.append(("other", as_of, name))
    return ["other", name]


def test_two_functions_of_one_module_called_alike_keep_their_own_figures() -> None:
    """The key names the function: two memoized figures of one module with the same arguments
    (as stress_results and var_es of one day and configuration) never get each other's."""
    calls.clear()
    con, config = object(), Config()
    with day_memo():
        assert figure(con, DAY, config, "a") == ["a", DAY.isoformat()]
        assert other_figure(con, DAY, config, "a") == ["other", "a"]
        assert figure(con, DAY, config, "a") == ["a", DAY.isoformat()]
    assert len(calls) == 2
