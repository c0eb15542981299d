"""`mir report`: one day's CSVs, summary.json, signed PDF and signed manifest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from reports.cli import cli, decide_exit, echo
from reports.cli.options import as_of_option, config_option, db_option, out_option, quiet_option
from reports.errors import ExitCode


@cli.command("report", short_help="Write the day's CSVs, summary and signed PDF.")
@db_option
@config_option
@as_of_option()
@out_option
@quiet_option
def report_command(
    db: str | None, config_path: str | None, as_of: dt.date, out_dir: str, quiet: bool
) -> None:
    """Write OUT/AS_OF/: exceptions.csv, segregation.csv, concentration.csv, capital.csv,
    stress.csv, summary.json, report.pdf (PDF/A-3b, PAdES-signed, the CSVs embedded) and
    manifest.json with its detached CMS signature manifest.json.p7s.

    The checks of the day are reused when `mir check` already recorded a run for the same
    inputs and configuration, else they run now. Signing uses [signing] pkcs12 and the
    passphrase in $MIR_SIGNING_PASSPHRASE (or [signing] passphrase_env); without a key, run
    `mir keys init` first.

    Prints the output directory and the overall status. Exit 0 when nothing breached (warnings
    allowed), 1 when a check found a breach (the report is still written), 4 when a check could
    not run (status error), the report could not compute some figures (it is written without
    them and names them) or signing failed.
    """
    from reports.config import load_config
    from reports.db import open_db
    from reports.render.report import write_report
    from reports.sign.manifest import broken_link_message, broken_links_after
    from reports.stress.scenarios import stable_assets_warning

    config = load_config(config_path)
    with open_db(db, must_exist=True) as con:
        result = write_report(con, as_of, out_dir, config)
        stable_warning = stable_assets_warning(con, as_of, config)
    code = (
        ExitCode.INTERNAL if result.errored else ExitCode.BREACH if result.breached else ExitCode.OK
    )
    decide_exit(code)  # before the output: a closed pipe must not change it
    if not quiet:
        size_kb = result.pdf_size / 1024
        reused = "reused the recorded check run" if result.checks_reused else "ran the checks"
        click.echo(
            f"wrote {result.day_dir} (report.pdf: {result.pages} pages, {size_kb:,.0f} KB; "
            f"{reused} {result.run_id}; {result.seconds:.1f} s)"
        )
        click.echo(f"status: {result.outcome}")
    if result.development_key:
        # a warning on stderr, under --quiet too, as `mir daily` gives it (README audit of
        # 2026-12-07: it was a line of the summary, which --quiet left out)
        echo("warning: signed with a DEVELOPMENT KEY - NOT FOR SUBMISSION", err=True)
    if result.substitution_warning:
        echo(result.substitution_warning, err=True)
    if stable_warning:
        echo(stable_warning, err=True)
    for later in broken_links_after(Path(out_dir), as_of, config.firm.lei):
        # the later days' packages link to the manifest this run replaced (security review of
        # 2026-12-05: only `mir daily` said so; the break showed at the regulator's verify)
        echo(broken_link_message(later, as_of, "mir report` and `mir package --force"), err=True)
    for line in result.unavailable_warnings:
        echo(line, err=True)
    if any(s == "error" for s in result.check_statuses.values()):
        click.echo("error: a check could not run; see exceptions and the report", err=True)
    if code != ExitCode.OK:
        click.get_current_context().exit(int(code))
