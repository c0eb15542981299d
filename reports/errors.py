"""Exception hierarchy and the exit codes of DESIGN.md section 7.

Every error the user can cause or meet is one of these; the CLI's single error handler maps
them to exit codes, so library code never calls ``sys.exit``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import Any, TypeVar

T = TypeVar("T")


class ExitCode(IntEnum):
    """Process exit codes (DESIGN.md section 7, a contract with schedulers and scripts).

    OK: the command ran; warnings may have been found.
    BREACH: the command ran and found at least one breach (or a warning with ``--fail-on warn``).
    USAGE: bad command line or configuration; nothing was done.
    BAD_INPUT: an input file broke the snapshot contract; nothing was changed.
    INTERNAL: a bug, a signing failure, or a verification failure.
    """

    OK = 0
    BREACH = 1
    USAGE = 2
    BAD_INPUT = 3
    INTERNAL = 4


_MAX_NAMED = 20  # position_ids named in a ValuationRangeError's message


class MirError(Exception):
    """Base of every error `mir` raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(MirError):
    """A bad option, argument or configuration value (exit 2)."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """An unknown key or a bad value in mir.toml (exit 2)."""


@dataclass(frozen=True)
class Violation:
    """One broken rule in one input file: what a user needs to find and fix it.

    ``row`` is the 1-based data row (the header is row 0), or None for a file-level problem
    (a missing column, a missing file).
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        got = "" if self.value is None else f": got {_shown(self.value)}"
        return f"{where}{got}; expected {_printable(self.expected)}"


# The most of a bad cell's text a violation line shows: a 1 MB id was printed whole, 20 times
# a file (Parquet review of 2026-12-05); enough to recognise any real value.
SHOWN_VALUE_CHARS = 200


def _printable(text: str) -> str:
    """`text` with each character that is not printable escaped as repr escapes it: a rule's
    expected text may quote the cell (`symbol=US<NUL>DC`), which put a raw NUL on the
    terminal and in the run log (input review of 2026-12-07)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _shown(value: str) -> str:
    """The value as a violation shows it (repr: quotes, escapes), cut after SHOWN_VALUE_CHARS
    characters with the length said."""
    if len(value) <= SHOWN_VALUE_CHARS:
        return repr(value)
    return f"{value[:SHOWN_VALUE_CHARS]!r}... ({len(value):,} characters)"


def printable_value(value: str) -> str:
    """A cell's text quoted in a warning without quotes (an example row's id): escaped as
    _printable escapes it, cut as _shown cuts it. The load warning of volumes rows naming an
    unknown instrument printed the id raw, a BEL or a 5,000-character id whole (numbers audit
    of 2026-12-07)."""
    if len(value) <= SHOWN_VALUE_CHARS:
        return _printable(value)
    return f"{_printable(value[:SHOWN_VALUE_CHARS])}... ({len(value):,} characters)"


class InputError(MirError):
    """An input file broke the snapshot contract (exit 3); nothing was changed."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []


class ValuationRangeError(InputError):
    """Positions whose value would leave DECIMAL(38,18)'s 20 integer digits (bad input, exit 3).

    `position_ids` names them; the loader turns them into file, row and column.
    """

    EXPECTED = (
        "a position whose value fits the 20 integer digits of amounts (|quantity| x "
        "contract_size x price x USD price, and isolated_margin, below 1e19)"
    )

    def __init__(self, day: date, position_ids: list[str]) -> None:
        self.position_ids = position_ids
        shown = ", ".join(position_ids[:_MAX_NAMED])
        more = (
            f" and {len(position_ids) - _MAX_NAMED:,} more"
            if len(position_ids) > _MAX_NAMED
            else ""
        )
        super().__init__(
            f"positions of {day.isoformat()} too large to value exactly: {shown}{more}",
            [Violation("positions", None, "quantity", pid, self.EXPECTED) for pid in position_ids],
        )


class CheckError(MirError):
    """The check engine could not run at all (a single failing check is recorded, not raised)."""


class RenderError(MirError):
    """The report could not be rendered (a template or WeasyPrint problem; exit 4)."""


class SigningError(MirError):
    """A key, certificate or signature problem (exit 4)."""


class VerificationError(MirError):
    """`mir verify` found a mismatch (exit 4)."""


class LockedError(MirError):
    """Another `mir` run holds the database lock (exit 4)."""


# Set by the SIGTERM handler of `raise_on_termination` for the rest of the run: a DuckDB query
# the signal interrupted then reads as the termination it is, not as Ctrl-C or a failed check.
TERMINATION = threading.Event()
# Set by its SIGINT handler likewise: a Ctrl-C that a library turned into its own error (a
# WeasyPrint warning, a DuckDB interruption) still reads as the interruption.
INTERRUPTION = threading.Event()


class Terminated(MirError):
    """The job was stopped by SIGTERM (a service manager's stop or timeout): raised from the
    signal handler so that cleanup runs and the run log says `failed` (exit 4)."""


def raise_on_termination() -> Callable[[], None]:
    """Turn SIGTERM into a Terminated exception for this run (`mir daily`, `mir load`), and note
    SIGINT before raising KeyboardInterrupt as usual, so that either one a library reports as its own error is still
    logged as what it is (main thread only: elsewhere Python cannot set handlers); returns the
    function that restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_term(signum: int, frame: Any) -> None:
        TERMINATION.set()  # a DuckDB query this interrupts reads as the termination it is
        msg = "stopped by SIGTERM"
        raise Terminated(msg)

    def on_int(signum: int, frame: Any) -> None:
        INTERRUPTION.set()  # as above, for a Ctrl-C a library reports as its own error
        raise KeyboardInterrupt

    TERMINATION.clear()
    INTERRUPTION.clear()
    # A signal the caller ignores stays ignored (`mir daily ... &` from a script inherits an
    # ignored SIGINT, and must survive a Ctrl-C in that terminal).
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    for signum, handler in ((signal.SIGTERM, on_term), (signal.SIGINT, on_int)):
        if previous[signum] != signal.SIG_IGN:
            signal.signal(signum, handler)

    def restore() -> None:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)
        TERMINATION.clear()
        INTERRUPTION.clear()

    return restore


@contextmanager
def termination_as_error() -> Iterator[None]:
    """`raise_on_termination` for the block: a SIGTERM in it raises Terminated (exit 4), so
    its cleanup runs (a rolled-back load, an output file's temporary name removed)."""
    restore = raise_on_termination()
    try:
        yield
    finally:
        restore()


def defer_signals(then: Callable[[], None]) -> Callable[[bool], None]:
    """Hold SIGTERM and SIGINT from now: a handler that only notes them replaces the job's
    (main thread only). Returns `release(deliver)`, which calls `then` (restoring the handlers
    the job found: raise_on_termination's restore) and, with `deliver`, sends each signal held
    meanwhile again, to those handlers. For the daily job's bookkeeping once its package is
    published (crash review of 2026-12-05: a SIGTERM then logged `failed` for a published
    package, or ended the log with neither `done` nor `failed`). A signal mask would not do:
    any of the engines' threads may take a process-directed signal."""
    if threading.current_thread() is not threading.main_thread():
        return lambda _deliver: then()
    held: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(signum) not in (signal.SIG_IGN, None):
            signal.signal(signum, lambda number, _frame: held.append(number))
    released = False

    def release(deliver: bool) -> None:
        nonlocal released
        if released:
            return
        released = True
        then()
        for signum in dict.fromkeys(held) if deliver else ():
            signal.raise_signal(signum)

    return release


class CommittedThenInterrupted(MirError):
    """A signal reached the load's COMMIT after DuckDB had saved the transaction: the date IS
    replaced, and nothing after the load ran (exit 4). Said so, since "failed" would make the
    officer take the database for unchanged."""

    def __init__(self, as_of: date, load_id: str) -> None:
        how = "stopped by SIGTERM" if TERMINATION.is_set() else "interrupted"
        super().__init__(
            f"{how} after the load of {as_of.isoformat()} was committed: the database holds "
            f"the new snapshot of that date (load {load_id}); nothing after the load ran"
        )


class FinishedThenInterrupted(MirError, KeyboardInterrupt):
    """A Ctrl-C the daily job held until its `done` line: the run finished and its package is
    complete, and only the process's exit code (4) is the interruption's. Said so, since
    "Interrupted." (exit 4, no summary line) made the officer take a finished run for a failed
    one, its run log saying `done` (crash audit of 2026-12-07). Still a KeyboardInterrupt."""

    def __init__(self, as_of: date, status: str, exit_code: int, package: object) -> None:
        super().__init__(
            f"interrupted (Ctrl-C) after the run of {as_of.isoformat()} had finished: its "
            f"package {package} is complete, and the run log's `done` line says "
            f"{status.upper()} (exit {exit_code})"
        )


def is_interrupt(exc: BaseException) -> bool:
    """Whether DuckDB stopped a query because the user interrupted it: it turns the SIGINT it
    sees mid-query into an ordinary error (InterruptException, or "Query interrupted" through
    the Arrow stream Polars reads), which is the user's Ctrl-C, not a failure of the query."""
    import duckdb

    return isinstance(exc, duckdb.InterruptException) or "Query interrupted" in str(exc)


def is_failure(exc: BaseException) -> bool:
    """Whether `exc` is a computation's failure: an Exception, or Polars' PanicException (a
    BaseException from its Rust core); not SystemExit, GeneratorExit or KeyboardInterrupt."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def raise_if_stopped(exc: BaseException) -> None:
    """Re-raise `exc` as what it is when the run is being stopped rather than one computation
    failing: SIGTERM or Ctrl-C received (whatever error the computation then met: Terminated,
    KeyboardInterrupt), or the user's Ctrl-C that DuckDB reported as a query error. Otherwise
    return: the caller may record the failure and go on (a check's `error`, a report's missing
    figures)."""
    if isinstance(exc, Terminated):
        raise exc
    if TERMINATION.is_set():
        msg = "stopped by SIGTERM"
        raise Terminated(msg) from exc
    if INTERRUPTION.is_set() or is_interrupt(exc):  # a signal reached DuckDB mid-query
        raise KeyboardInterrupt from exc


def failure_text(exc: BaseException) -> str:
    """How a failed computation is named in messages and outputs: `Type: message`."""
    return f"{type(exc).__name__}: {exc}"


# How much of an error a one-line message quotes (the run log keeps it whole)
ERROR_SHOWN_CHARS = 300


def first_line(error: str | None) -> str:
    """An error's first line, cut to ERROR_SHOWN_CHARS, for one-line messages."""
    first = ((error or "").strip().splitlines() or ["no error given"])[0]
    if len(first) > ERROR_SHOWN_CHARS:
        first = first[: ERROR_SHOWN_CHARS - 3] + "..."
    return first


def attempt(failed: dict[str, str], what: str, compute: Callable[[], T], fallback: T) -> T:
    """compute(); when it fails (is_failure; not InputError or UsageError, and not a stop:
    raise_if_stopped), record `what` -> failure_text in `failed` and return `fallback`, so
    that one failed figure does not cost the report every other one (the report names what it
    could not compute)."""
    try:
        return compute()
    except BaseException as exc:
        # mir's own bad input and usage errors keep their exit codes (3, 2): the stored data
        # breaks the contract (rows that bypassed the loader), it is not a figure that failed
        if not is_failure(exc) or isinstance(exc, InputError | UsageError):
            raise
        raise_if_stopped(exc)
        failed[what] = failure_text(exc)
        return fallback


def naming_the_full_disk(exc: BaseException, path: object) -> BaseException:
    """`exc`, or when it is a full disk's OSError that names no file (a failed write() names
    none), the same error naming `path`, the file or folder being written: "no space left on
    the device written to ([Errno 28] No space left on device)" left the operator to guess
    between the database, OUT and TMPDIR (resource audit of 2026-12-07)."""
    import errno

    if (
        isinstance(exc, OSError)
        and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        and exc.filename is None
    ):
        return OSError(exc.errno, exc.strerror, str(path))
    return exc


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` reports a full disk or quota: Python's OSError (ENOSPC, EDQUOT), or a
    failed write of DuckDB or pyarrow, whose exceptions carry the system's message in their
    text."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def is_read_only_file_system(exc: BaseException) -> bool:
    """Whether `exc` reports a read-only file system (EROFS: a read-only mount, or one the
    kernel made read-only on an error, ext4's errors=remount-ro), as an OSError or in the text
    of DuckDB's error."""
    import errno

    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return True
    return "Read-only file system" in str(exc)


def environment_failure(exc: BaseException) -> str | None:
    """What the system refused, when `exc` is the machine's failure and not mir's: a full disk
    or quota, a read-only file system (exit 4, named as such, not "internal error"); None for
    any other failure."""
    if is_disk_full(exc):
        return "no space left on the device written to"
    if is_read_only_file_system(exc):
        return "the file system written to is read-only"
    return None


class NotCheckpointed(MirError):
    """The command committed, but the CHECKPOINT that writes the write-ahead log into the
    database file failed (a full disk, a file system turned read-only): what was committed is
    in the log only (exit 4). DuckDB's close() swallows that failure: `mir load` said "loaded",
    exit 0 (disk review of 2026-12-07)."""

    def __init__(self, path: object, cause: BaseException, committed: str) -> None:
        reason = environment_failure(cause) or "the checkpoint failed"
        wal = f"{path}.wal"
        if is_disk_full(cause):
            remedy = "free space on that disk"
        elif is_read_only_file_system(cause):
            remedy = "make that file system writable again"
        else:
            remedy = "remove the cause"
        super().__init__(
            f"{reason}: the database {path} could not be written "
            f"({type(cause).__name__}: {first_line(str(cause))}). {committed}: committed, but "
            f"only to its write-ahead log {wal}, which DuckDB replays whenever the database "
            "is opened (mir reads it as stored); the database file does not hold it yet. Do "
            f"not delete {wal}: {remedy}, then run "
            f"`mir init --db {path}` to write it into the database file"
        )
