"""Options shared by several commands, written once (sqlmesh cli/options.py style)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class IsoDate(click.ParamType):
    """A YYYY-MM-DD date, returned as datetime.date."""

    name = "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        from reports.spec import parse_iso_date

        try:
            return parse_iso_date(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date of the form YYYY-MM-DD", param, ctx)


ISO_DATE = IsoDate()


def db_option(f: F | None = None, *, used: bool = True) -> Any:
    """--db (every command takes it; `used=False`: accepted for uniformity, not read)."""
    text = "DuckDB database file [default: ./mir.duckdb]."
    if not used:
        text = "Accepted like on every command; this one reads no database."

    def decorate(g: F) -> F:
        return click.option(
            "--db",
            envvar="MIR_DB",
            type=click.Path(dir_okay=False),
            default=None,
            show_envvar=True,
            help=text,
        )(g)

    return decorate(f) if f is not None else decorate


def config_option(f: F) -> F:
    return click.option(
        "--config",
        "config_path",
        envvar="MIR_CONFIG",
        type=click.Path(dir_okay=False),
        default=None,
        show_envvar=True,
        help="Configuration file [default: ./mir.toml if present, else the embedded defaults].",
    )(f)


def as_of_option(
    required: bool = True, help: str = "As-of date (end of day, UTC)."
) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        return click.option("--as-of", "as_of", type=ISO_DATE, required=required, help=help)(f)

    return decorate


def out_option(f: F) -> F:
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        required=True,
        help="Output directory.",
    )(f)


QUIET_HELP = "No progress or summary line, only errors and warnings."
# `mir daily` keeps its summary line under --quiet: a scheduler's log records the outcome
DAILY_QUIET_HELP = "No progress; warnings, errors and the one summary line still print."


def quiet_option(f: F, help_text: str = QUIET_HELP) -> F:
    return click.option("--quiet", "-q", is_flag=True, help=help_text)(f)


def daily_quiet_option(f: F) -> F:
    return quiet_option(f, DAILY_QUIET_HELP)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    def decorate(f: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="Output format.",
        )(f)

    return decorate
