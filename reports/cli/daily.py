"""`mir daily DIR --out OUT`: the scheduled job (load + check + report + package)."""

from __future__ import annotations

from pathlib import Path

import click

from reports.cli import cli, decide_exit, echo
from reports.cli.options import (
    ISO_DATE,
    config_option,
    daily_quiet_option,
    db_option,
    out_option,
)


@cli.command("daily", short_help="The scheduled job: load, check, report, package.")
@click.argument("snapshot_dir", type=click.Path(file_okay=False))
@out_option
@click.option(
    "--as-of",
    "as_of",
    type=ISO_DATE,
    default=None,
    help="As-of date [default: the snapshot directory's name, YYYY-MM-DD].",
)
@db_option
@config_option
@daily_quiet_option
@click.pass_context
def daily_command(
    ctx: click.Context,
    snapshot_dir: str,
    out_dir: str,
    as_of: object,
    db: str | None,
    config_path: str | None,
    quiet: bool,
) -> None:
    """Run the daily job on one snapshot: load it, run every check, write the signed report and
    the submission package, all under a lock on the database.

    The as-of date is the directory's name (YYYY-MM-DD) unless --as-of is given; both must agree.
    Re-running a day is safe: the load replaces the date, the CSVs and summary.json come out
    byte-identical, and an existing package is kept in OUT/superseded/ as the new one replaces it.
    A second run on the same database stops at once, naming the lock's holder (lock file DB.lock).

    Progress goes to stderr (--quiet drops it; warnings, checks not evaluated or evaluated in
    part, a hash chain to re-link, and the line naming the checks that breached or warned are
    printed all the same); a job that ran ends with one
    summary line on stdout, a job that failed with its error on stderr.
    Every stage is logged as JSON lines in OUT/mir-daily.jsonl (events start, stage_start,
    stage_done, warning, stage_failed, failed, done).

    \b
    Exit codes:
      0  ran, nothing breached (warnings possible)
      1  ran, a breach was found
      2  usage or configuration error (e.g. --as-of contradicts the directory name, or
         the snapshot directory is missing: the export did not arrive); nothing done
      3  bad input: the snapshot breaks the contract; nothing was loaded
      4  internal or signing error, a check that crashed, figures the report could not
         compute (the day is still reported and packaged without them), or a lock
         (database or OUT) is held

    \b
    Example (/etc/cron.d/mir, 01:30, yesterday's export; the passphrase in /etc/mir/env; any
    exit but 0 pages, as the output goes to the log and cron mails nothing; see the README's
    "Scheduling"):
      30 1 * * * mir (cd /srv/mir && set -a && . /etc/mir/env && set +a && exec .venv/bin/mir daily /data/exports/$(date -u -d yesterday +\\%F) --out /srv/mir/out) >> /var/log/mir/daily.log 2>&1; rc=$?; [ $rc = 0 ] || /usr/local/bin/page-compliance "mir daily: exit $rc (1 = breach found, 2-4 = failed; see /var/log/mir/daily.log)"
    """
    from reports.config import load_config
    from reports.daily import log_refusal, run_daily
    from reports.db import resolve_db_path
    from reports.errors import ConfigError

    try:
        config = load_config(config_path)
    except ConfigError as exc:  # a scheduled job's log must show this day's refusal too
        log_refusal(Path(out_dir), Path(snapshot_dir), "config", exc)
        raise

    def warn(message: str) -> None:
        echo(message, err=True)  # a closed stderr loses the line, not the job (run log has it)

    say = (lambda _m: None) if quiet else warn
    result = run_daily(
        Path(snapshot_dir),
        Path(out_dir),
        db_path=resolve_db_path(db),
        config=config,
        as_of=as_of,  # type: ignore[arg-type]
        say=say,
        warn=warn,
    )
    decide_exit(result.exit_code)  # before the output: a closed pipe must not change it
    click.echo(result.summary_line())
    ctx.exit(result.exit_code)
