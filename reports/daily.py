"""`mir daily`: the scheduled job. Load, check, report, package, under one lock.

Each stage is a library call of its own module; this module only sequences them, times them,
and writes a machine-readable run log (JSON lines, one event per stage) beside the outputs.
Re-running a day is safe: the load replaces the date atomically, checks append a new run, the
day directory is rewritten, and an existing package is kept in `<out>/superseded/` (never
overwritten silently) as the new one, already complete, replaces it in one rename.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports import __version__
from reports.checks.model import CheckOutcome, CheckResult
from reports.config import UNKNOWN_LEI, Config
from reports.errors import (
    INTERRUPTION,
    TERMINATION,
    CommittedThenInterrupted,
    ExitCode,
    FinishedThenInterrupted,
    InputError,
    MirError,
    NotCheckpointed,
    SigningError,
    Terminated,
    UsageError,
    defer_signals,
    first_line,
    is_interrupt,
    raise_on_termination,
)
from reports.lock import directory_lock, exclusive_lock
from reports.outdir import remove_leftovers

if TYPE_CHECKING:
    from reports.sign.manifest import StoredManifest

RUN_LOG_NAME = "mir-daily.jsonl"
# The daily job warns when its signing certificate expires within this time.
CERTIFICATE_WARNING = dt.timedelta(days=30)

Say = Callable[[str], None]


@dataclass
class DailyResult:
    as_of: dt.date
    status: str  # the check run's overall status (pass | warn | breach | ...), or error when
    # the report lacks figures (summary.json's)
    exit_code: int
    day_dir: Path
    report_pdf: Path
    package: Path
    superseded: Path | None
    run_id: str
    log_path: Path
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)

    def summary_line(self) -> str:
        moved = f"; previous package moved to {self.superseded}" if self.superseded else ""
        return (
            f"mir daily {self.as_of}: {self.status.upper()} (exit {self.exit_code}) in {self.seconds:.1f} s; "
            f"report {self.report_pdf}; package {self.package}{moved}"
        )


class RunLog:
    """Appends one JSON object per line to <out>/mir-daily.jsonl (flushed at each event)."""

    def __init__(self, path: Path, as_of: dt.date | None, snapshot_dir: Path) -> None:
        self.path = path
        self.base = {
            "as_of": as_of.isoformat() if as_of else None,
            "snapshot": str(snapshot_dir),
            "pid": os.getpid(),
        }
        self.failed_stage: str | None = None  # the stage that raised, for the `failed` event
        path.parent.mkdir(parents=True, exist_ok=True)
        # The job refuses an OUT it cannot write (exit 2, before anything changes); until then
        # the log is written where the OS allows it, and skipped where not. Opening the log is
        # the test that counts (root passes os.access on /sys; a read-only log file in a
        # writable folder fails only here).
        self.writable = os.access(path.parent, os.W_OK | os.X_OK)
        # why the log cannot be opened where the folder passes os.access (a folder, or a
        # read-only file, named mir-daily.jsonl): not the folder's "permission denied"
        self.why_unwritable: str | None = None
        if self.writable:
            try:
                with path.open("a", encoding="utf-8"):
                    pass
            except OSError as exc:
                self.writable = False
                self.why_unwritable = f"its run log {path.name}: {exc.strerror or exc}"

    def event(self, event: str, **fields: Any) -> None:
        record = {
            "ts": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "event": event,
            **self.base,
            **fields,
        }
        line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
        with (
            contextlib.suppress(*(() if self.writable else (OSError,))),
            self.path.open("ab", buffering=0) as handle,
        ):
            end = os.fstat(handle.fileno()).st_size
            try:
                view = memoryview(self._on_a_line_of_its_own(line, end))
                while view:
                    view = view[handle.write(view) or 0 :]
            except OSError as exc:
                # a line cut short (a full disk) broke `jq` on the whole log, for this run's
                # later lines and every later run's: cut it off, and name the log (resource
                # audit of 2026-12-07: "no space left on the device written to" named nothing)
                with contextlib.suppress(OSError):
                    self._cut_partial_line(handle.fileno(), end)
                raise OSError(exc.errno, exc.strerror, str(self.path)) from exc

    def _on_a_line_of_its_own(self, line: bytes, end: int) -> bytes:
        """`line`, after a newline when the log's last byte is not one: a line another writer
        left cut short (a power loss, or a process killed mid-write), which this one would
        otherwise continue, making both one invalid JSON line (review of 2026-12-07)."""
        if end:
            # best effort: a log the job may append to but not read (mode 0200 or 0620) is
            # written as before, not refused (every `mir daily` failed, exit 4)
            with contextlib.suppress(OSError), self.path.open("rb") as log:
                log.seek(end - 1)
                if log.read(1) not in (b"\n", b""):
                    return b"\n" + line
        return line

    def _cut_partial_line(self, fd: int, end: int) -> None:
        """Remove the start of a line a failed write left at the log's end: only this job's
        bytes, after `end` (the size before the write). Another process may append to the log
        meanwhile (a run refused by the lock logs its `failed` line): a complete line of its,
        before the cut one, is kept (review of 2026-12-07: truncating to `end` removed it); a
        line it wrote after the cut one is left alone, cut line included."""
        pos = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND: just after this job's last byte
        if pos <= end or os.fstat(fd).st_size != pos:
            return
        with self.path.open("rb") as log:
            log.seek(end)
            tail = log.read(pos - end)
        os.ftruncate(fd, end + tail.rfind(b"\n") + 1)  # a cut JSON line holds no newline

    @contextmanager
    def stage(self, name: str, timings: dict[str, float], say: Say) -> Iterator[dict[str, Any]]:
        details: dict[str, Any] = {}
        say(f"{name} ...")
        self.event("stage_start", stage=name)
        started = time.perf_counter()
        try:
            yield details
        except BaseException as exc:
            seconds = time.perf_counter() - started
            code = exc.exit_code if isinstance(exc, MirError) else ExitCode.INTERNAL
            self.failed_stage = name
            # the stage's own error is the one to report: a log that cannot take this line
            # (OUT made read-only) must not replace it (crash review of 2026-12-05)
            with contextlib.suppress(OSError):
                self.event(
                    "stage_failed",
                    stage=name,
                    seconds=round(seconds, 3),
                    error=str(exc),
                    error_type=type(exc).__name__,
                    exit_code=int(code),
                )
            raise
        seconds = time.perf_counter() - started
        timings[name] = seconds
        self.event("stage_done", stage=name, seconds=round(seconds, 3), **details)


class BackgroundCheckpoint:
    """CHECKPOINT the database on a second thread while the report renders its PDF.

    Closing the database writes the day's data from the write-ahead log into the file (2-3 s at
    1M accounts); the PDF stage (about 3 s, pure Python) leaves the second core idle meanwhile.
    DuckDB releases the GIL while it works, and the checkpoint runs on its own cursor once the
    report no longer reads the database. `join` waits for it and raises what it raised, as
    NotCheckpointed (the day is in the write-ahead log only) when it failed.
    """

    def __init__(self, con: Any, path: Path) -> None:
        self._con = con
        self._path = path
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        cursor = self._con.cursor()

        def work() -> None:
            try:
                cursor.execute("CHECKPOINT")
            except BaseException as exc:  # surfaced by join() on the main thread
                self._error = exc
            finally:
                cursor.close()

        self._thread = threading.Thread(target=work, name="mir-checkpoint", daemon=True)
        self._thread.start()

    def join(self, *, raise_error: bool = True) -> None:
        if self._thread is None:
            return
        self._thread.join()
        self._thread = None
        error, self._error = self._error, None
        if error is not None and raise_error:
            if isinstance(error, Exception) and not is_interrupt(error):
                committed = "The day's load and its check results"
                raise NotCheckpointed(self._path, error, committed) from error
            raise error


def _logged_warnings(log: RunLog, show: Say) -> Say:
    """`show`, which also writes each warning to the run log (a `warning` event)."""

    def warn(message: str) -> None:
        log.event("warning", message=message)
        show(message)

    return warn


def _incomplete_lines(results: Iterable[CheckResult]) -> list[str]:
    """One line per check that crashed, naming it and its error's first line (review of
    2026-12-05: the job said "ERROR (exit 4)" and named no check anywhere but the run log's
    stage event); one per reason a check could not run, naming its checks (e.g. the
    roll-forwards when the previous close is not stored); and one per check that ran only in
    part and found something (SEG-06 without the previous close: its message says what it left
    out)."""
    errors: list[str] = []
    by_reason: dict[str, list[str]] = {}
    partial: list[str] = []
    for result in results:
        if result.status == CheckOutcome.ERROR:
            errors.append(f"error: {result.check_id} could not run: {first_line(result.message)}")
        elif result.status == CheckOutcome.NOT_EVALUATED:
            by_reason.setdefault(result.message or "no reason given", []).append(result.check_id)
        elif result.partial:
            partial.append(f"{result.check_id} {result.status}, {result.message}")
    lines = [f"not evaluated: {', '.join(ids)}: {reason}" for reason, ids in by_reason.items()]
    return errors + lines + partial


def findings_line(statuses: Mapping[str, str]) -> str | None:
    """One line naming the checks that breached, then those that warned, in check-id order,
    e.g. "findings: breach CAP-01, SEG-06; warn CON-02 (...)"; None when there is none (user
    review of 2026-12-06: the job said BREACH and named no check, so a pager or cron reader
    had to open the PDF to learn which)."""
    parts = []
    for status in (CheckOutcome.BREACH, CheckOutcome.WARN):
        ids = sorted(check for check, found in statuses.items() if found == str(status))
        if ids:
            parts.append(f"{status} {', '.join(ids)}")
    if not parts:
        return None
    return f"findings: {'; '.join(parts)} (exceptions.csv and the report list each one)"


def _unpackaged_previous_close(
    previous_close: dt.date | None, linked: StoredManifest | None
) -> str | None:
    """A warning when the hash chain links past the previous stored day: the day's checks
    compare with that close (roll-forwards, previous-day figures), yet it has no package in OUT
    and the chain goes to an earlier one (history review of 2026-12-05: `mir verify` said
    "hash chain: ok" and nothing named the day left out). None when the chain links to the
    previous stored day, or starts here (no earlier package)."""
    if previous_close is None or linked is None or linked.day >= previous_close:
        return None
    day = previous_close.isoformat()
    return (
        f"warning: the previous stored day {day}, whose close this day's checks compare with, "
        f"has no report or package in OUT: the hash chain links to {linked.day.isoformat()} "
        f"instead; run `mir daily` for {day}, then for this day again, to chain every day"
    )


def unfinished_run(log_path: Path) -> dict[str, Any] | None:
    """The run log's last run when it started and never ended: no `done` or `failed` line of
    its pid and as_of after its `start` (killed outright: SIGKILL, the OOM killer, a power
    loss). Asked by a job holding OUT's lock, so that run is not running. None when the last
    run ended, or the log cannot be read. Returns its `start` event, with `stage` the last stage it began."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    last: dict[str, Any] | None = None
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("event") == "start":
            last = {**event, "stage": None}
        elif last is not None and (event.get("pid"), event.get("as_of")) == (
            last.get("pid"),
            last.get("as_of"),
        ):
            # its pid and its as_of: a job refused before the locks (a bad configuration, no
            # export yet) logs `failed` with no as_of, and in a fresh container every day's
            # job has the same pid (review of 2026-12-07: such a refusal ended a killed run)
            if event.get("event") in ("done", "failed"):
                last = None
            elif event.get("event") == "stage_start":
                last["stage"] = event.get("stage")
    return last


def _note_unfinished(log: RunLog) -> str | None:
    """A `failed` line for the last run when it never ended (killed outright), written in its
    name (its pid and as_of) by the next job, and a warning: until then `done` or `failed`
    lines counted one per run only for the runs that ended, and the README's recipe for runs
    that did not exit 0 missed a killed one (crash audit of 2026-12-07). Returns the warning,
    which the job gives once its own `start` is logged; None when the last run ended."""
    killed = unfinished_run(log.path)
    if killed is None:
        return None
    stage = killed["stage"]
    at = f"in its {stage} stage" if stage else "before its load"
    message = (
        f"the run started at {killed.get('ts')} (pid {killed.get('pid')}, as_of "
        f"{killed.get('as_of')}) ended {at} without a `done` or `failed` line: it was killed "
        f"(SIGKILL, out of memory, a power loss); run the job for {killed.get('as_of')} again if "
        "this run is not of that day"
    )
    log.event(
        "failed",
        **{k: killed.get(k) for k in ("as_of", "snapshot", "pid")},
        stage=stage,
        error=message,
        error_type="Killed",
        exit_code=None,
        seconds=None,
        noted_by=os.getpid(),
    )
    return f"warning: {message}"


def _why_unwritable(directory: Path) -> str:
    """Why the job cannot write `directory` (os.access said so, without a reason): a read-only
    file system, or the permissions (the message named neither: disk review of 2026-12-07)."""
    try:
        read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError as exc:
        return exc.strerror or "not accessible"
    return "a read-only file system" if read_only else "permission denied"


def _working_directory() -> str | None:
    """The working directory, or None when it has been removed (absolute paths still work)."""
    try:
        return os.getcwd()
    except OSError:
        return None


def log_refusal(out_dir: Path, snapshot_dir: Path, stage: str, exc: MirError) -> None:
    """A `failed` event in OUT's run log for a job refused before it could start (a bad
    configuration), best effort: the refusal itself is what the caller reports."""
    with contextlib.suppress(OSError):
        RunLog(out_dir / RUN_LOG_NAME, None, snapshot_dir).event(
            "failed",
            stage=stage,
            error=str(exc),
            error_type=type(exc).__name__,
            exit_code=int(exc.exit_code),
            seconds=0.0,  # refused before it started
        )


def run_daily(
    snapshot_dir: Path,
    out_dir: Path,
    *,
    db_path: Path,
    config: Config,
    as_of: dt.date | None = None,
    say: Say | None = None,
    timestamper: Any = None,
    warn: Say | None = None,
) -> DailyResult:
    """Load `snapshot_dir`, run every check, write and sign the report, build the package.

    Raises the stage's MirError (InputError exit 3, SigningError exit 4, LockedError ...) after
    logging it; the database is unchanged by a failed load. Returns the result with the exit
    code of DESIGN.md section 7 (1 when a breach was found, else 0). `say` receives progress,
    `warn` (default: `say`) what an officer must see even when progress is off: load warnings,
    the checks that could not run or ran in part, a hash chain to re-link.
    """
    from reports.checks.engine import previous_as_of, run_checks
    from reports.db import connect, holds_no_load, init_schema, remove_database
    from reports.load import load_snapshot, resolve_as_of
    from reports.memo import day_memo
    from reports.render.report import write_report
    from reports.sign.keys import certificate_lei, key_exposure_warning, load_signer_from_config
    from reports.sign.manifest import (
        broken_link_message,
        broken_links_after,
        find_previous_manifest,
    )
    from reports.sign.package import build_package
    from reports.stress.scenarios import stable_assets_warning

    say = say or (lambda _msg: None)
    show_warning = warn or say
    started = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        log = RunLog(out_dir / RUN_LOG_NAME, None, snapshot_dir)
    except OSError as exc:
        msg = f"cannot create the output directory {out_dir} ({exc.strerror}); nothing was done"
        raise UsageError(msg) from exc
    warn = _logged_warnings(log, show_warning)  # in the run log too (a closed stderr)
    try:
        if not snapshot_dir.is_dir():  # the export did not arrive: say so in the run log too
            msg = (
                f"no snapshot directory {snapshot_dir} (the export has not arrived, or the "
                "path is wrong); nothing was done: run `mir daily` on it once it is there"
            )
            raise UsageError(msg)
        as_of = resolve_as_of(snapshot_dir, as_of)
    except MirError as exc:
        log.event(
            "failed",
            stage="resolve_as_of",
            error=str(exc),
            error_type=type(exc).__name__,
            exit_code=int(exc.exit_code),
            seconds=round(time.perf_counter() - started, 3),
        )
        raise
    log.base["as_of"] = as_of.isoformat()
    restore_sigterm = raise_on_termination()
    held = contextlib.ExitStack()
    # (as_of, load_id) from the load's return until the check stage starts: a signal then is
    # no failed load, the date is replaced (crash review of 2026-12-05)
    committed_load: tuple[dt.date, str] | None = None
    load_committed: tuple[dt.date, str] | None = None  # (as_of, load_id) once the load returned
    # once the report is published, signals wait until the run log says `done`
    release_signals: Callable[[bool], None] | None = None
    try:
        # The locks first, then `start`: a run refused because another holds them adds only its
        # `failed` line to that run's log, not a `start` in the middle of it.
        log.failed_stage = "lock"
        purpose = f"mir daily {as_of.isoformat()}"
        held.enter_context(exclusive_lock(db_path, purpose))
        held.enter_context(directory_lock(out_dir, purpose))
        killed = _note_unfinished(log)  # OUT is this job's: a run that never ended was killed
        log.event(
            "start",
            db=str(db_path),
            out=str(out_dir),
            cwd=_working_directory(),  # the paths are as typed: relative ones resolve there
            config=config.source,
            config_sha256=config.sha256(),
            tool_version=__version__,
        )
        if killed is not None:
            warn(killed)
        log.failed_stage = "out"
        if not log.writable:  # before anything changes: not after the load and checks
            why = log.why_unwritable or _why_unwritable(out_dir)
            msg = f"cannot write to the output directory {out_dir} ({why}); nothing was done"
            raise UsageError(msg)
        day_dir = (out_dir / as_of.isoformat()).resolve()
        if day_dir == snapshot_dir.resolve() or day_dir in snapshot_dir.resolve().parents:
            # the report replaces OUT/<as_of> whole: with --out the exports folder, that is the
            # venue's export itself (found in review: the inputs were deleted)
            msg = (
                f"--out {out_dir}: the report would replace {day_dir}, which holds the snapshot "
                f"{snapshot_dir}; write the outputs to another folder. Nothing was done"
            )
            raise UsageError(msg)
        log.failed_stage = "key"
        # no key, a wrong passphrase, an expired certificate: before the load
        signer = load_signer_from_config(config.signing)
        first = min(signer.path, key=lambda c: c.not_valid_after_utc)  # the key or an issuer
        expires = first.not_valid_after_utc
        if expires - dt.datetime.now(dt.UTC) < CERTIFICATE_WARNING:
            which = "signing certificate" if first is signer.certificate else "certificate"
            warn(
                f"warning: the {which} {first.subject.rfc4514_string()} expires on "
                f"{expires:%Y-%m-%d %H:%M} UTC; renew it before then, or the job will stop"
            )
        exposed = key_exposure_warning(config.signing.pkcs12)
        if exposed is not None:
            warn(exposed)
        named = certificate_lei(signer.certificate)
        if named is not None and named != config.firm.lei:
            # `mir package` would refuse the package at the end (signer LEI): say so first
            msg = (
                f"the signing certificate names LEI {named} (organizationIdentifier), but "
                f"[firm] lei is {config.firm.lei}: the package would name another firm than "
                "its signer; fix [firm] lei or [signing] pkcs12. Nothing was done"
            )
            raise SigningError(msg)
        if named is None and config.firm.lei != UNKNOWN_LEI and signer.is_development:
            # `mir keys init` run before [firm] lei was set (onboarding audit of 2026-12-07)
            warn(
                f"warning: the development key {config.signing.pkcs12} names no LEI, but "
                f"[firm] lei is {config.firm.lei}: `mir verify` reads `signer LEI: NOT "
                "CHECKED` for its packages; run `mir keys init --force` to make one that "
                "names it (organizationIdentifier LEIXG-<LEI>)"
            )
        log.failed_stage = "open"  # opening the database (another writer may hold it)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        created = not os.path.lexists(db_path)  # (a dangling link is not "no database")
        con = connect(db_path)
        checkpoint = BackgroundCheckpoint(con, db_path)
        try:
            con.execute("BEGIN TRANSACTION")
            init_schema(con, force=False)
            con.execute("COMMIT")
            log.failed_stage = None
            with log.stage("load", timings, say) as details:
                loaded = load_snapshot(
                    con,
                    snapshot_dir,
                    as_of,
                    reporting_currency=config.firm.reporting_currency,
                    # as found: a load that then fails keeps its warnings in the run log
                    on_warning=lambda message: warn(f"warning: {message}"),
                    checks_follow=True,  # the check stage runs the day's checks again
                )
                committed_load = load_committed = (loaded.as_of, loaded.load_id)
                details.update(
                    rows=loaded.rows,
                    files=len(loaded.files),
                    replaced=loaded.replaced,
                    warnings=len(loaded.warnings),
                    valuation_seconds=round(loaded.valuation_seconds, 3),
                )
            # what killed runs left in OUT, cleared once the load has passed (OUT is locked; bad
            # input changes nothing): not only by a run that gets as far as its report (crash
            # review of 2026-12-05)
            remove_leftovers(out_dir)
            with day_memo():  # the checks and the report share figures (reports/memo.py)
                with log.stage("check", timings, say) as details:
                    committed_load = None  # from here a signal stops the checks
                    run = run_checks(con, as_of, config)
                    previous_close = previous_as_of(con, as_of)
                    details.update(
                        run_id=run.run_id,
                        status=str(run.status),
                        checks={r.check_id: str(r.status) for r in run.results},
                    )
                    for line in _incomplete_lines(run.results):
                        warn(line)
                    stable_warning = stable_assets_warning(con, as_of, config)
                    if stable_warning:
                        warn(stable_warning)
                with log.stage("report", timings, say) as details:
                    report = write_report(
                        con,
                        as_of,
                        out_dir,
                        config,
                        timestamper=timestamper,
                        after_reads=checkpoint.start,
                        # part of the report stage (it ran beside the PDF), and before the
                        # day directory is replaced: a failed checkpoint leaves OUT as it
                        # was (found in review: a new report beside the old package)
                        before_publish=checkpoint.join,
                    )
                    details.update(day_dir=str(report.day_dir))
                    if report.unavailable:  # checks whose figures the report lacks
                        details.update(unavailable=sorted(report.unavailable))
                    # signals wait from here until `done`: the day directory is published, and
                    # closing the database (its final checkpoint: seconds at 1M accounts) and
                    # packaging are better finished, published and logged than stopped halfway
                    # (crash audit of 2026-12-07: a Ctrl-C during the close, its final
                    # CHECKPOINT, logged `failed` with no stage, after the report and before
                    # any package)
                    release_signals = defer_signals(restore_sigterm)
        except BaseException:
            # never close the database under the checkpoint; the stage's error is the one
            # to report (a failed checkpoint leaves the log for the next open to replay)
            checkpoint.join(raise_error=False)
            if created and holds_no_load(con):  # a failed first load leaves no database
                remove_database(db_path)  # (while the connection holds DuckDB's lock)
            raise
        finally:
            con.close()
        with log.stage("package", timings, say) as details:
            package = build_package(out_dir, as_of, lei=config.firm.lei, supersede=True)
            superseded = package.superseded
            if superseded is not None:
                say(f"an earlier package of {as_of} was kept as {superseded}")
                details.update(superseded=str(superseded))
            details.update(package=str(package.path), sha256=package.sha256, size=package.size)
            for check in package.report.checks:
                if check.name == "linked package":
                    for message in check.warnings:
                        warn(f"warning: {message}")
            others = sorted(
                p.name
                for p in Path(out_dir).glob(f"*_{as_of.isoformat()}.zip")
                if p.name != package.path.name
            )
            if others:  # e.g. firm.lei changed: a regulator must not get both
                warn(
                    f"warning: {', '.join(others)} in {out_dir} is another package of "
                    f"{as_of} (another LEI prefix), not this run's {package.path.name}"
                )
                details.update(other_packages=others)
            for later in broken_links_after(Path(out_dir), as_of, config.firm.lei):
                warn(broken_link_message(later, as_of, "mir daily"))
                details.update(chain_broken_at=later.isoformat())
            skipped = _unpackaged_previous_close(
                previous_close, find_previous_manifest(Path(out_dir), as_of, config.firm.lei)
            )
            if skipped is not None:
                warn(skipped)
                details.update(chain_skips=previous_close.isoformat() if previous_close else None)
    except BaseException as exc:  # every failure ends the log with one `failed` event (Ctrl-C
        # and SIGTERM included), then propagates
        failure: BaseException = exc
        interrupted = isinstance(exc, KeyboardInterrupt | Terminated)
        if isinstance(exc, CommittedThenInterrupted):
            pass  # it names the signal, and that the load did happen
        elif committed_load is not None and (
            interrupted or TERMINATION.is_set() or INTERRUPTION.is_set()
        ):
            # after the load returned, before the checks: the date IS replaced
            failure = CommittedThenInterrupted(*committed_load)
        elif TERMINATION.is_set() and not isinstance(exc, Terminated):
            # SIGTERM reached a DuckDB query, which reports it as its own interruption
            failure = Terminated("stopped by SIGTERM")
        elif INTERRUPTION.is_set() and not isinstance(exc, KeyboardInterrupt | Terminated):
            # Ctrl-C that a library turned into its own error (WeasyPrint, DuckDB)
            failure = KeyboardInterrupt()
        code = failure.exit_code if isinstance(failure, MirError) else ExitCode.INTERNAL
        # bad input: the file, row and column lines too (up to 20 per file), not only on stderr
        violations = (
            {"violations": [str(v) for v in failure.violations]}
            if isinstance(failure, InputError) and failure.violations
            else {}
        )
        if load_committed is not None and not isinstance(failure, CommittedThenInterrupted):
            # a failure after the load (a check that crashed, a signal in the checks or the
            # report) said only its error, and the officer took the database for unchanged
            # (crash audit of 2026-12-07)
            with contextlib.suppress(OSError):
                warn(
                    f"warning: the job stopped after the load of {load_committed[0]} was "
                    f"committed (load {load_committed[1]}): the database holds the new "
                    "snapshot of that date; run the job for that day again"
                )
        with contextlib.suppress(OSError):  # as in RunLog.stage: the run's error comes first
            log.event(
                "failed",
                stage=log.failed_stage,
                error=str(failure) or "interrupted (Ctrl-C)",
                error_type=type(failure).__name__,
                exit_code=int(code),
                seconds=round(time.perf_counter() - started, 3),
                **violations,
            )
        if release_signals is not None:
            release_signals(False)  # failing anyway: the signal is no news
        if failure is not exc:
            raise failure from exc
        raise
    finally:
        try:
            held.close()
        except BaseException:
            # the locks failed to close: the handlers the job found come back either way
            # (diff review of 2026-12-05: the note-only handlers would have stayed)
            if release_signals is not None:
                release_signals(False)
            raise
        finally:
            if release_signals is None:
                restore_sigterm()
    assert release_signals is not None  # set once the report was published
    result: DailyResult | None = None
    try:
        result = _finish(
            log, warn, run, report, package, superseded, signer, as_of, started, timings
        )
        return result
    finally:
        try:
            release_signals(True)  # a signal held meanwhile takes effect now, after `done`
        except KeyboardInterrupt as exc:
            if result is None:
                raise
            raise FinishedThenInterrupted(
                as_of, result.status, result.exit_code, result.package
            ) from exc


def _finish(
    log: RunLog,
    warn: Say,
    run: Any,
    report: Any,
    package: Any,
    superseded: Path | None,
    signer: Any,
    as_of: dt.date,
    started: float,
    timings: dict[str, float],
) -> DailyResult:
    """The job's last words once its package is published: warnings, the `done` event."""
    # What was signed decides: the report reruns the checks when the check stage recorded an
    # error (found in review: a check that crashed once gave exit 4 with a complete package)
    status = str(report.status)
    if status != str(run.status):
        warn(
            f"warning: the check stage ended {str(run.status).upper()} (run {run.run_id}); the "
            f"report ran the checks again and the package carries that run ({report.run_id}, "
            f"{status.upper()})"
        )
    status = report.outcome  # `error` when the report lacks figures (summary.json's status)
    if report.substitution_warning:
        warn(report.substitution_warning)
    findings = findings_line(report.check_statuses)
    if findings is not None:
        warn(findings)
    if signer.is_development:  # as `mir report` and `mir package` say (found in review)
        warn("warning: signed with a DEVELOPMENT KEY - NOT FOR SUBMISSION")
    for line in report.unavailable_warnings:
        warn(line)
    exit_code = int(ExitCode.BREACH if status == "breach" else ExitCode.OK)
    if report.errored:  # a check crashed, or figures are missing: not all was done
        exit_code = int(ExitCode.INTERNAL)
    result = DailyResult(
        as_of=as_of,
        status=status,
        exit_code=exit_code,
        day_dir=report.day_dir,
        report_pdf=report.day_dir / "report.pdf",
        package=package.path,
        superseded=superseded,
        run_id=report.run_id,
        log_path=log.path,
        seconds=time.perf_counter() - started,
        stages=timings,
    )
    log.event(
        "done",
        status=status,
        exit_code=exit_code,
        run_id=report.run_id,
        seconds=round(result.seconds, 3),
        package=str(package.path),
    )
    return result
