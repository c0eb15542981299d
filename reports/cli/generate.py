"""`mir generate`: write a synthetic snapshot history with planted findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from reports.cli import cli, echo
from reports.cli.options import ISO_DATE, db_option, quiet_option

INJECT_CHOICES = (
    "all",
    "shortfall",
    "rollforward",
    "isolation",
    "missed_liquidation",
    "bad_debt",
    "concentration",
    "hot_wallet",
    "capital_squeeze",
)


@cli.command("generate", short_help="Generate a synthetic venue history.")
@click.option(
    "--accounts",
    # reports.generate.MIN_ACCOUNTS, not imported here: that module loads NumPy and Polars,
    # which every `mir` command would then pay for (tests/test_generate.py holds them equal)
    type=click.IntRange(min=40, max=50_000_000),
    required=True,
    help="Number of accounts (clients, house, insurance fund).",
)
@click.option(
    "--days",
    type=click.IntRange(min=1, max=3660),
    required=True,
    help="Number of consecutive days (at most ten years).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    required=True,
    help="Random seed (0 or more): the same seed gives the same bytes.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Output directory: one YYYY-MM-DD/ per day and truth.csv.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="File format of the snapshot files.",
)
@click.option(
    "--start", type=ISO_DATE, default="2026-03-02", show_default=True, help="First as-of date."
)
@click.option(
    "--inject",
    "inject",
    type=click.Choice(INJECT_CHOICES),
    multiple=True,
    help="Plant a finding of this kind (repeatable; `all` = every kind). Listed in truth.csv.",
)
@click.option(
    "--inject-on",
    "inject_on",
    type=ISO_DATE,
    default=None,
    help="Day to plant the findings on [default: the last day].",
)
@quiet_option
@db_option(used=False)
def generate_command(
    accounts: int,
    days: int,
    seed: int,
    out_dir: str,
    fmt: str,
    start: dt.date,
    inject: tuple[str, ...],
    inject_on: dt.date | None,
    quiet: bool,
    db: str | None,  # accepted like every command; the generator only writes files
) -> None:
    """Generate a synthetic venue history: one snapshot directory per day under --out.

    Every file of the snapshot contract is written (with volumes, and a 300-day price_history
    back-fill in the first day). Balances and isolated margins roll forward exactly through the
    movements; custody covers the client requirement; capital is comfortable. --inject plants
    findings (on the last day unless --inject-on) and lists them in OUT/truth.csv.
    """
    from reports.errors import UsageError
    from reports.generate import GenerateOptions, generate

    # the generator lists futures expiring at the quarter ends after start + days + 30
    if (dt.date.max - start).days <= days + 30 + 93:
        msg = f"--start {start.isoformat()} with --days {days} runs past the year 9999"
        raise UsageError(msg)
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the output directory {out_dir}: {exc.strerror or exc}"
        raise UsageError(msg) from None
    options = GenerateOptions(
        accounts=accounts,
        days=days,
        seed=seed,
        out=Path(out_dir),
        fmt=fmt,
        start=start,
        inject=inject,
        inject_on=inject_on,
    )
    summary = generate(options)
    if not quiet:
        click.echo(summary.line())
    warning = summary.warning()
    if warning:
        echo(f"warning: {warning}", err=True)
