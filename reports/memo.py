"""Per-run memo of day-level figures: compute each once per run, not once per consumer.

Several checks and the report need the same figures of a day: CON-06, CAP-01 (K-CON) and the
report's concentration and capital sections all call `large_exposures`; CAP-04 and the report
call `stress_results`; CAP-05 and the report call `var_es`; CAP-01..03 and the report call
`capital_statement`. Each is a full pass over the day's positions, so at a million accounts
the repeats cost more than everything else. (load_stress_inputs, which stress_results and var_es
both read, is deliberately not memoized: holding its frames for the whole run cost about 0.9 GiB
of peak RSS at 1M accounts for a gain within the noise.)

`day_memo()` opens a scope (run_checks, write_report and `mir daily` open one around work that
does not change the data); inside it a function decorated with `@memoized_per_day` runs once per
(connection, as-of date, configuration) and later calls get the same result. Outside any scope
nothing is cached, so a caller that changes tables between two calls always sees fresh figures.
Results are shared, not copied: callers treat them as read-only (frozen dataclasses, Polars
frames; lists are returned as new lists).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_SCOPE: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("mir_day_memo", default=None)


@contextmanager
def day_memo() -> Iterator[None]:
    """A memo scope; nested scopes share the outermost one."""
    if _SCOPE.get() is not None:
        yield
        return
    token = _SCOPE.set({})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def memoized_per_day(fn: F) -> F:
    """Memoize fn(con, as_of), fn(con, as_of, config) or fn(con, as_of, config, name, ...)
    (names: strings, part of the key) inside a `day_memo()` scope (see the module doc); any
    other call shape is not cached."""

    @functools.wraps(fn)
    def wrapper(con: Any, as_of: Any, *args: Any, **kwargs: Any) -> Any:
        cache = _SCOPE.get()
        digest = getattr(args[0], "sha256", None) if args else None
        names = args[1:]
        if (
            cache is None
            or kwargs
            or (args and not callable(digest))
            or not all(isinstance(n, str) for n in names)
        ):
            return fn(con, as_of, *args, **kwargs)
        key = (
            fn.__module__,
            fn.__qualname__,
            id(con),
            str(as_of),
            digest() if digest else "",
            *names,
        )
        if key not in cache:
            cache[key] = (con, fn(con, as_of, *args))  # keeps con alive: its id stays unique
        value = cache[key][1]
        return list(value) if isinstance(value, list) else value

    return wrapper  # type: ignore[return-value]
