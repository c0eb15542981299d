"""`mir init`: create or upgrade the database."""

from __future__ import annotations

import click

from reports.cli import cli
from reports.cli.options import db_option, quiet_option


@cli.command("init", short_help="Create or update the database's schema.")
@db_option
@quiet_option
def init_command(db: str | None, quiet: bool) -> None:
    """Create the DuckDB database with every table and view (idempotent)."""
    from reports.db import init_db, resolve_db_path

    path = init_db(resolve_db_path(db))
    if not quiet:
        click.echo(f"database ready: {path}")
