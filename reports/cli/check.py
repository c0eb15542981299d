"""`mir check`: run the checks for one as-of date and record their outcomes."""

from __future__ import annotations

import json
from typing import Any

import click

from reports.cli import cli, decide_exit, echo
from reports.cli.options import as_of_option, config_option, db_option, format_option
from reports.errors import ExitCode


@cli.command("check", short_help="Run every check for one day and record the run.")
@db_option
@config_option
@as_of_option()
@format_option("table", "json")
@click.option(
    "--fail-on",
    type=click.Choice(["breach", "warn"]),
    default="breach",
    show_default=True,
    help="Exit 1 when a check ends at this status or worse (warn: warnings fail too).",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="ID",
    help="Run only this check (SEG-01) or family (SEG); repeatable. Default: every check.",
)
@click.option(
    "--show-exceptions",
    "-x",
    is_flag=True,
    help="Also print every exception row (table) or include them (json).",
)
def check_command(
    db: str | None,
    config_path: str | None,
    as_of: Any,
    fmt: str,
    fail_on: str,
    only: tuple[str, ...],
    show_exceptions: bool,
) -> None:
    """Run every check (segregation, concentration, capital) for --as-of on the loaded snapshot,
    append the outcomes to check_results / check_exceptions and print one line per check.

    Exit 0 when nothing breached (warnings allowed), 1 when a check found a breach (or a warning
    with --fail-on warn), 2 when no snapshot of --as-of is loaded, --only names no known check
    or the configuration is bad, 4 when a check could not run (status error; the others still
    ran).
    """
    from reports.checks.engine import run_checks
    from reports.checks.model import CheckOutcome
    from reports.config import load_config
    from reports.db import open_db
    from reports.stress.scenarios import stable_assets_warning

    config = load_config(config_path)
    with open_db(db, must_exist=True) as con:
        result = run_checks(con, as_of, config, only=list(only) if only else None)
        stable_warning = stable_assets_warning(con, as_of, config)
    if stable_warning:
        echo(stable_warning, err=True)

    statuses = {r.status for r in result.results}
    failing = {CheckOutcome.BREACH} | ({CheckOutcome.WARN} if fail_on == "warn" else set())
    if CheckOutcome.ERROR in statuses:
        code = ExitCode.INTERNAL
    elif statuses & failing:
        code = ExitCode.BREACH
    else:
        code = ExitCode.OK
    decide_exit(code)  # before the output: a closed pipe must not change it
    if fmt == "json":
        summary = run_summary(result)
        if show_exceptions:
            summary["exceptions"] = exception_records(result)
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(render_table(result))
        if show_exceptions:
            for row in exception_records(result):
                where = "/".join(v for v in (row["instrument_id"], row["asset"]) if v)
                click.echo(
                    f"{row['check_id']} {row['status']} {row['entity_type']} {row['entity_id']}"
                    f"{' ' + where if where else ''}: {row['message']}"
                )

    if code == ExitCode.INTERNAL:
        click.echo("error: a check could not run; see its message above", err=True)
    if code != ExitCode.OK:
        click.get_current_context().exit(int(code))


def run_summary(result: Any) -> dict[str, Any]:
    """The run as JSON-ready data (status words as in summary.json)."""
    return {
        "as_of": result.as_of,
        "run_id": result.run_id,
        "status": str(result.status),
        "checks": {
            r.check_id: {
                "title": r.title,
                "status": str(r.status),
                "exceptions": r.exceptions,
                **({"message": r.message} if r.message else {}),
            }
            for r in result.results
        },
    }


def exception_records(result: Any) -> list[dict[str, Any]]:
    """Every exception row of the run, decimals as strings (exceptions.csv order)."""
    from reports.checks.engine import all_exceptions

    return [
        {
            k: (str(v) if v is not None and k in ("value", "threshold") else v)
            for k, v in row.items()
        }
        for row in all_exceptions(result).iter_rows(named=True)
    ]


def render_table(result: Any) -> str:
    rows = [("check", "title", "status", "exceptions")]
    rows += [(r.check_id, r.title, str(r.status), str(r.exceptions)) for r in result.results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
            + "  "
            + row[3].rjust(10)
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 10)
    for r in result.results:
        if r.message:
            lines.append(f"{r.check_id} {r.status}: {r.message}")
    lines.append(f"status: {result.status}  (as of {result.as_of}, run {result.run_id})")
    return "\n".join(lines)
