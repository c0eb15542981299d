"""`write_report`: one day's outputs in <out>/<as_of>/ (DESIGN.md section 6).

Order of work (each step needs the previous one's files):

1. open the signing key first ([signing] pkcs12 + passphrase): a missing key fails in a second,
   before any work, with a SigningError telling the user to run `mir keys init`;
2. the check run: reuse the recorded run with the same run id, or run the checks now
   (reports.render.build.ensure_check_run);
3. gather the figures; write exceptions.csv, segregation.csv, concentration.csv, capital.csv,
   stress.csv and summary.json (byte-identical for the same inputs, configuration and version);
4. render HTML (Jinja), then PDF/A-3b (WeasyPrint) with the CSVs and summary.json embedded;
   sign it (PAdES, reports.sign.pades) as report.pdf;
5. manifest.json (every file's hash, inputs, config hash, hash chain to the previous day's
   manifest in the same output directory) and manifest.json.p7s (detached CMS).

Everything is written into a temporary directory beside the day directory, which replaces the
day directory only when every file is there: an interrupted run never leaves a half-written day
(nor a manifest that lists stale files).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.errors import UsageError, first_line, naming_the_full_disk
from reports.lock import directory_lock
from reports.outdir import remove_leftovers, replace_dir, umask_mode

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from reports.config import Config
    from reports.render.build import CheckRun, ReportData

REPORT_PDF = "report.pdf"


@dataclass(frozen=True)
class ReportResult:
    """What `write_report` produced."""

    day_dir: Path
    as_of: dt.date
    run_id: str
    status: str  # overall status word (pass, warn, breach, not_evaluated, error)
    checks_reused: bool
    files: dict[str, Path]
    pages: int
    pdf_size: int
    signer_subject: str
    development_key: bool
    seconds: float
    check_statuses: dict[str, str] = field(default_factory=dict)
    substituted: tuple[str, ...] = ()  # characters the PDF shows as [U+XXXX] (reports.render.pdf)
    # check id -> why the report could not compute its figures (reports.render.build.gather)
    unavailable: dict[str, str] = field(default_factory=dict)
    # the previous day's key figures that could not be computed, and why
    previous_unavailable: dict[str, str] = field(default_factory=dict)
    previous_as_of: dt.date | None = None

    @property
    def substitution_warning(self) -> str | None:
        """What the officer is told when the PDF shows characters as code points."""
        if not self.substituted:
            return None
        shown = ", ".join(f"U+{ord(c):04X}" for c in self.substituted[:10])
        more = f" and {len(self.substituted) - 10} more" if len(self.substituted) > 10 else ""
        return (
            f"warning: no installed font can draw {len(self.substituted)} character(s) of the "
            f"data ({shown}{more}); report.pdf shows them as [U+XXXX], the CSVs hold them as "
            "given (install a font that has them, e.g. Noto Sans CJK, to see them drawn)"
        )

    @property
    def breached(self) -> bool:
        return any(s == "breach" for s in self.check_statuses.values())

    @property
    def errored(self) -> bool:
        """A check crashed in the run signed, or the report lacks figures it could not
        compute: exit 4 either way (the job did not do all it should have)."""
        return bool(self.unavailable) or any(s == "error" for s in self.check_statuses.values())

    @property
    def outcome(self) -> str:
        """summary.json's status: the signed run's, or `error` when figures are missing."""
        return "error" if self.unavailable else self.status

    @property
    def unavailable_warnings(self) -> list[str]:
        """One error line per check whose figures the report lacks, naming the error and
        where the outputs miss them; one warning per figure of the previous day that could not
        be computed (no change shown for it; not an error of this day's report)."""
        from reports.render.build import CAPITAL_CHECKS, SEGREGATION_CHECKS

        where = {
            "CAP-04": "stress.csv lists each scenario with status error and no figures",
            "CAP-05": "VaR and ES are in no CSV file",
            CAPITAL_CHECKS: "capital.csv has no lines and summary.json's capital figures are null",
            SEGREGATION_CHECKS: (
                "segregation.csv has no rows and summary.json's segregation is empty"
            ),
        }
        return [
            f"error: the report could not compute the figures of {check_id} "
            f"({first_line(error)}); report.pdf names them, and "
            + where.get(check_id, "concentration.csv is without its rows")
            for check_id, error in sorted(self.unavailable.items())
        ] + [
            f"warning: the {figure} of the previous stored day {self.previous_as_of} could not "
            f"be computed ({first_line(error)}); the key figures show no change for it"
            for figure, error in sorted(self.previous_unavailable.items())
        ]


def output_files(data: Any) -> dict[str, bytes]:
    """The CSVs and summary.json of a ReportData, as bytes (no I/O)."""
    from reports.render import outputs

    run = data.run
    capital = data.capital.summary()
    summary = outputs.summary_document(
        as_of=data.as_of.isoformat(),
        run_id=run.run_id,
        status=data.status,
        checks=[(o.check_id, o.status, o.exceptions) for o in run.outcomes],
        segregation=data.statement,
        capital=capital,
        stress=data.stress_table,
        inputs=data.inputs,
    )
    return {
        "exceptions.csv": outputs.csv_bytes(outputs.exceptions_frame(run.exceptions)),
        "segregation.csv": outputs.csv_bytes(outputs.segregation_frame(data.statement)),
        "concentration.csv": outputs.csv_bytes(outputs.concentration_frame(data.concentration)),
        "capital.csv": outputs.csv_bytes(outputs.capital_frame(data.capital.lines)),
        "stress.csv": outputs.csv_bytes(outputs.stress_frame(data.stress_table)),
        outputs.SUMMARY_FILE: outputs.summary_bytes(summary),
    }


def _require_loaded(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    from reports.checks.engine import latest_load

    if not latest_load(con, as_of):
        msg = (
            f"no snapshot loaded for {as_of.isoformat()}; run `mir load DIR` for that day first, "
            "then `mir report`"
        )
        raise UsageError(msg)


def write_day_manifest(
    staging: Path, data: ReportData, config: Config, run_id: str, *, timestamped: bool
) -> Path:
    """manifest.json of a day directory being written (reports.sign.manifest): its inputs, the
    configuration hash, the run id, the firm's LEI and whether the signatures are timestamped
    (the benchmark's stages use it too)."""
    from reports.sign.manifest import write_manifest

    return write_manifest(
        staging,
        inputs={f: {"sha256": h, "rows": n} for f, h, n in data.inputs},
        config_sha256=config.sha256(),
        as_of=data.as_of,
        run_id=run_id,
        lei=config.firm.lei,
        timestamped=timestamped,
    )


def _refuse_replacing_the_snapshot(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, day_dir: Path
) -> None:
    """A day directory that is (or holds) the folder the day was loaded from would replace the
    venue's export with the report (`--out exports`, found in review): a usage error."""
    rows = con.execute(
        "SELECT DISTINCT source_path FROM loads WHERE as_of_date = ? AND load_id = "
        "(SELECT arg_max(load_id, (loaded_at, load_id)) FROM loads WHERE as_of_date = ?)",
        [as_of, as_of],
    ).fetchall()
    target = day_dir.resolve()
    for (source,) in rows:
        if source and target in Path(source).resolve().parents:
            msg = (
                f"--out {day_dir.parent}: the report would replace {day_dir}, which holds the "
                f"snapshot file {source} of {as_of.isoformat()}; write the outputs to another "
                "folder"
            )
            raise UsageError(msg)


def write_report(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    out_dir: str | os.PathLike[str],
    config: Config,
    *,
    timestamper: Any = None,
    signing_time: dt.datetime | None = None,
    run: CheckRun | None = None,
    after_reads: Callable[[], None] | None = None,
    before_publish: Callable[[], None] | None = None,
) -> ReportResult:
    """Write <out_dir>/<as_of>/ (CSVs, summary.json, signed report.pdf, signed manifest).

    The checks of the day are reused when a run with the same run id is recorded, else run
    now. `timestamper` (pyHanko TimeStamper; tests pass a DummyTimeStamper) makes the signatures
    PAdES B-T / CAdES-T; by default [signing] tsa_url decides. `signing_time` (timezone-aware)
    fixes the claimed signing time (default: now). Raises SigningError (exit 4) when the key is
    missing or cannot be opened, UsageError when the date is not loaded. `after_reads` is called
    once the database is no longer read (before the PDF is rendered): `mir daily` checkpoints the
    database on another thread meanwhile. `before_publish` is called once every file is written,
    before the day directory takes its place: if it raises, OUT is left as it was (`mir daily`
    waits for that checkpoint there).
    """
    from reports.memo import day_memo
    from reports.render.build import build_context, ensure_check_run, gather
    from reports.render.html import render_html
    from reports.render.pdf import render_pdf
    from reports.sign.cms import sign_manifest
    from reports.sign.keys import load_signer_from_config
    from reports.sign.pades import sign_pdf

    started = time.monotonic()
    _require_loaded(con, as_of)  # a date not loaded is a usage error, whatever the key
    key = load_signer_from_config(config.signing)  # fail fast: no key, no report
    if timestamper is None and config.signing.tsa_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(config.signing.tsa_url)
    when = (signing_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)

    root = Path(out_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the output directory {root}: {exc.strerror or exc}"
        raise UsageError(msg) from None
    _refuse_replacing_the_snapshot(con, as_of, root / as_of.isoformat())
    # one run writes OUT at a time (reports.lock; the daily job already holds it)
    with directory_lock(root, f"mir report {as_of.isoformat()}"):
        with day_memo():  # the checks and the report share their figures (reports/memo.py)
            check_run = run if run is not None else ensure_check_run(con, as_of, config)
            data = gather(con, as_of, config, check_run)
        if after_reads is not None:
            after_reads()  # nothing below reads the database
        files = output_files(data)

        day_dir = root / as_of.isoformat()
        remove_leftovers(root)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{as_of.isoformat()}.tmp-"))
        try:
            written = {}
            for name, payload in files.items():
                path = staging / name
                path.write_bytes(payload)
                written[name] = day_dir / name

            context = build_context(
                data,
                signer_subject=key.subject,
                development_key=key.is_development,
                signing_time=when,
                attachments=tuple(sorted(files)),
            )
            html = render_html(context)
            rendered = render_pdf(
                html,
                files,
                title=f"{config.firm.name} {as_of.isoformat()}",
                created=when,
            )
            signed = sign_pdf(
                rendered.data, staging / REPORT_PDF, key, timestamper=timestamper, signing_time=when
            )
            os.chmod(signed.path, umask_mode(0o666))  # mkstemp made it 0600: as the CSVs
            written[REPORT_PDF] = day_dir / REPORT_PDF

            manifest = write_day_manifest(
                staging, data, config, check_run.run_id, timestamped=timestamper is not None
            )
            signature = sign_manifest(manifest, key, signing_time=when, timestamper=timestamper)
            written[manifest.name] = day_dir / manifest.name
            written[signature.name] = day_dir / signature.name
            os.chmod(staging, umask_mode(0o777))  # mkdtemp: 0700; a day directory is a folder
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            named = naming_the_full_disk(exc, staging)
            if named is not exc:
                raise named from exc
            raise
        try:
            if before_publish is not None:
                before_publish()
            replace_dir(staging, day_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return ReportResult(
            day_dir=day_dir,
            as_of=as_of,
            run_id=check_run.run_id,
            status=check_run.status,
            checks_reused=check_run.reused,
            files=dict(sorted(written.items())),
            pages=rendered.pages,
            pdf_size=signed.size,
            signer_subject=key.subject,
            development_key=key.is_development,
            seconds=time.monotonic() - started,
            check_statuses={o.check_id: o.status for o in check_run.outcomes},
            substituted=rendered.substituted,
            unavailable=dict(data.unavailable),
            previous_unavailable=dict(data.previous.unavailable) if data.previous else {},
            previous_as_of=data.previous.as_of if data.previous else None,
        )
