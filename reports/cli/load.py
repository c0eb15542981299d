"""`mir load DIR`: validate one snapshot directory and load it atomically."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from reports.cli import cli, echo
from reports.cli.options import as_of_option, config_option, db_option, quiet_option


@cli.command("load", short_help="Validate a snapshot directory and load it.")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@as_of_option(
    required=False,
    help="As-of date of the snapshot; needed only when DIRECTORY is not named YYYY-MM-DD "
    "(when it is, --as-of must agree with the name, else exit 2).",
)
@db_option
@config_option
@quiet_option
def load_command(
    directory: Path, as_of: dt.date | None, db: str | None, config_path: str | None, quiet: bool
) -> None:
    """Validate the snapshot in DIRECTORY and load it, replacing that date atomically.

    Every file is checked against the snapshot data contract before anything changes; on
    any problem the command lists them (file, row, column, what was expected), leaves the
    database as it was and exits with code 3. Reloading a date replaces it and is recorded,
    with each file's SHA-256 and row count, in the `loads` table.
    """
    from reports.config import load_config
    from reports.db import open_db
    from reports.errors import (
        INTERRUPTION,
        TERMINATION,
        CommittedThenInterrupted,
        Terminated,
        is_interrupt,
        termination_as_error,
    )
    from reports.load import load_snapshot

    # Only the reporting currency matters here: it is the asset that needs no price (1 when absent).
    reporting_currency = load_config(config_path).firm.reporting_currency

    show_progress = not quiet and sys.stderr is not None and sys.stderr.isatty()  # 2>&-: None

    # `echo`: a closed stderr drops the line, not the load (found in review: it stopped the
    # load mid-transaction, exit 0 with nothing loaded)
    def progress(message: str) -> None:
        echo(f"  {message}...", err=True)

    def warning(message: str) -> None:  # printed under --quiet too: it is not progress
        echo(f"warning: {message}", err=True)

    # SIGTERM (a service manager's stop) ends the load as Ctrl-C does: rolled back, or said to
    # be committed when it reached the COMMIT too late; not Python's silent exit 143 (loader
    # review of 2026-12-05)
    with termination_as_error():
        summary = None
        try:
            with open_db(db, committed="The day's load") as con:
                summary = load_snapshot(
                    con,
                    directory,
                    as_of,
                    progress=progress if show_progress else None,
                    on_warning=warning,
                    reporting_currency=reporting_currency,
                )
        except BaseException as exc:
            # (inside the handler's block: leaving it clears TERMINATION)
            if (
                summary is not None
                and not isinstance(exc, CommittedThenInterrupted)
                and (
                    isinstance(exc, KeyboardInterrupt | Terminated)
                    or TERMINATION.is_set()
                    or INTERRUPTION.is_set()
                    or is_interrupt(exc)  # DuckDB's own report of a Ctrl-C in the CHECKPOINT
                )
            ):
                # the load returned (committed); a signal during the final CHECKPOINT or the
                # close: "Interrupted." made the officer take the database for unchanged
                # (crash audit of 2026-12-07)
                raise CommittedThenInterrupted(summary.as_of, summary.load_id) from exc
            if TERMINATION.is_set() and not isinstance(exc, Terminated | CommittedThenInterrupted):
                # a DuckDB query the signal interrupted reports it as its own interruption
                raise Terminated("stopped by SIGTERM") from exc
            raise
    if not quiet:
        click.echo(summary.describe())
