"""`mir sql`, `mir query`, `mir queries`: read-only investigation of the stored history."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from reports.cli import cli
from reports.cli.options import db_option
from reports.output import FORMATS

_format = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)
_output = click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the result to FILE instead of standard output (required for parquet).",
)


def _check_output(output: str | None, db: Path) -> None:
    """--output must not be the database (or its WAL) and must be in an existing directory;
    checked before the query runs."""
    from reports.errors import UsageError

    if output is None:
        return
    target = Path(output).resolve()
    database = db.resolve()
    protected = (database, database.with_name(database.name + ".wal"))
    # the same file by another name too (a hard link; found in review: one truncated the
    # database through -o)
    if target in protected or any(
        target.exists() and path.exists() and os.path.samefile(target, path) for path in protected
    ):
        msg = f"--output {output} is the database itself; mir sql never writes to it"
        raise UsageError(msg)
    if not target.parent.is_dir():
        msg = f"--output {output}: no directory {target.parent}"
        raise UsageError(msg)


def _emit(result: Any, fmt: str, output: str | None, db: Path) -> int:
    """Write a streamed result (reports.investigate.QueryStream), then its row count and time
    on standard error; return the row count."""
    import time

    from reports.errors import UsageError, is_disk_full
    from reports.output import write_batches

    try:
        rows = write_batches(
            result.schema,
            result.batches,
            fmt,
            _utf8(sys.stdout) if output is None else None,
            Path(output) if output else None,
        )
    except OSError as exc:
        if output is None or is_disk_full(exc):
            # a full disk is exit 4 wherever the rows go, as on stdout (SQL-interface review of
            # 2026-12-07: -o on a full disk was a usage error, exit 2)
            raise
        msg = f"cannot write --output {output}: {exc.strerror or exc}"
        raise UsageError(msg) from None
    # the time includes writing the rows: they are fetched as they are written
    elapsed = time.perf_counter() - result.started
    click.echo(f"{rows} row(s) in {elapsed:.3f} s", err=True)
    if result.not_mir:
        click.echo(
            "warning: this database was not made by mir (it has no mir_schema): mir's tables, "
            "views and investigations are not in it",
            err=True,
        )
    elif result.schema_outdated:
        click.echo(
            f"warning: this database's schema and views are not this mir's (made by another "
            f"version): run `mir init --db {db}` to bring them up to date",
            err=True,
        )
    return int(rows)


def _utf8(stream: Any) -> Any:
    """Standard output set to UTF-8, as a --output file is: under PYTHONIOENCODING=ascii or a
    Latin-1 locale, a custodian named in Japanese stopped the rows half-way with an "internal
    error" (exit 4), and the same query gave other bytes on another machine (environment audit
    of 2026-12-07). Nothing has been written to it yet."""
    import codecs

    encoding = getattr(stream, "encoding", None) or "ascii"
    if codecs.lookup(encoding).name != "utf-8" and hasattr(stream, "reconfigure"):
        stream.reconfigure(encoding="utf-8")
    return stream


@contextmanager
def _representable() -> Iterator[None]:
    """A result Polars cannot hold (an infinite date or timestamp, a value beyond its types)
    makes Polars panic, a BaseException that would end the run with a traceback and exit 1
    ("breach found"): a usage error (exit 2) naming the way out instead."""
    from reports.errors import UsageError

    try:
        yield
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        msg = (
            "the result holds a value mir cannot represent (e.g. an infinite date or timestamp, "
            f"or a number beyond 38 digits: {str(exc).splitlines()[0] if str(exc) else exc!r}); "
            "cast that column to VARCHAR in the query"
        )
        raise UsageError(msg) from None


@cli.command("sql", short_help="Run read-only SQL over the whole history.")
@click.argument("statement", required=False)
@click.option(
    "-f",
    "--file",
    "sql_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Read the SQL from FILE.",
)
@_format
@_output
@db_option
def sql_command(
    statement: str | None, sql_file: str | None, fmt: str, output: str | None, db: str | None
) -> None:
    """Run ad-hoc SQL over the whole history, read-only.

    Tables: accounts, instruments, risk_tiers, prices, balances, positions, movements, custody,
    capital, volumes, price_history (each with as_of_date), loads, check_results,
    check_exceptions, capital_results, run_figures; views v_asset_prices, v_positions, v_account_equity,
    v_segregation, check_runs_stale (whether each check run is stale: the macro run_is_stale of
    every run at once). Writes, COPY, ATTACH, file access, extensions and settings changes are
    refused (exit 2). The elapsed time and row count go to standard error.

    Example: mir sql "SELECT as_of_date, count(*) FROM positions GROUP BY ALL ORDER BY 1"
    """
    from reports.db import resolve_db_path
    from reports.errors import UsageError, termination_as_error
    from reports.investigate import stream_sql

    if statement is not None and sql_file is not None:
        msg = "give either a SQL statement or -f FILE, not both"
        raise UsageError(msg)
    if statement is None and sql_file is None:
        msg = 'give a SQL statement or -f FILE (e.g. mir sql "SELECT count(*) FROM positions")'
        raise UsageError(msg)
    if statement is not None:
        text = statement
    else:
        try:
            text = Path(sql_file).read_text(encoding="utf-8")  # type: ignore[arg-type]
        except (UnicodeDecodeError, OSError) as exc:
            msg = f"cannot read the SQL in {sql_file} as UTF-8 text: {exc}"
            raise UsageError(msg) from None
    if not text.strip():
        msg = "the SQL is empty: give a statement (mir sql --help has an example)"
        raise UsageError(msg)
    _check_output(output, resolve_db_path(db))
    with (
        termination_as_error(),  # a stopped export leaves no temporary file
        _representable(),
        stream_sql(resolve_db_path(db), text) as result,
    ):
        _emit(result, fmt, output, resolve_db_path(db))


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    from reports.errors import UsageError

    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            msg = f"-p takes key=value, got {pair!r}"
            raise UsageError(msg)
        if key.strip() in params:
            msg = f"-p {key.strip()} is given twice; give each parameter once"
            raise UsageError(msg)
        if key != key.rstrip():
            # "account_id = A1": the spaces around '=' are layout, not part of the value (CLI
            # review of 2026-12-05: the value " A1" matched nothing); "account_id= A1" keeps
            # its leading space, as an id may have one
            value = value.lstrip()
        params[key.strip()] = value
    return params


@cli.command("query", short_help="Run a named investigation.")
@click.argument("name")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter (repeatable)."
)
@_format
@_output
@db_option
def query_command(
    name: str, params: tuple[str, ...], fmt: str, output: str | None, db: str | None
) -> None:
    """Run a named, parameterised investigation (read-only); `mir queries` lists them.

    Parameters are bound, never pasted into the SQL.

    Example: mir query position_trail -p position_id=P350
    """
    from reports.db import resolve_db_path
    from reports.errors import termination_as_error
    from reports.investigate import empty_note, stream_investigation

    _check_output(output, resolve_db_path(db))
    bound = _parse_params(params)
    with termination_as_error():
        with (
            _representable(),
            stream_investigation(resolve_db_path(db), name, bound) as result,
        ):
            rows = _emit(result, fmt, output, resolve_db_path(db))
        # zero rows can mean several things (a pass, no run that day, a crash, a stale run)
        note = empty_note(resolve_db_path(db), name, bound) if rows == 0 else None
        if note:
            click.echo(f"note: {note}", err=True)


@cli.command("queries", short_help="List the named investigations.")
@db_option(used=False)
def queries_command(db: str | None) -> None:  # --db accepted like every command; not needed here
    """List the named investigations with their descriptions and parameters."""
    from reports.investigate import investigations

    for inv in investigations().values():
        click.echo(f"{inv.name}\n    {inv.description}")
        for p in inv.parameters:
            need = "required" if p.required else "optional"
            click.echo(f"    -p {p.name}=<{p.type}>  ({need}) {p.help}")
