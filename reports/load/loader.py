"""`load_snapshot`: validate a snapshot directory completely, then replace its date atomically.

Nothing is written before every rule has passed; the write (DELETE the date's rows from every
snapshot table, INSERT the new ones, append the audit rows to `loads`, store the date's
valuation in the derived tables of reports.derive) is one transaction, so a
failed load leaves the database exactly as it was and a reload replaces a date as a whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reports import __version__, derive
from reports import db as mir_db
from reports.db import ROW_GROUP_ROWS, event_time
from reports.errors import (
    INTERRUPTION,
    TERMINATION,
    CommittedThenInterrupted,
    InputError,
    Terminated,
    UsageError,
    ValuationRangeError,
    Violation,
    is_interrupt,
    printable_value,
)
from reports.load import reader, validate
from reports.paths import read_query
from reports.spec import FILES, parse_iso_date

if TYPE_CHECKING:
    import duckdb

ProgressCallback = Callable[[str], None]
WarningCallback = Callable[[str], None]


@dataclass(frozen=True)
class FileLoad:
    """One file of a load, as recorded in the `loads` audit table."""

    name: str  # contract name, e.g. "positions"
    source_path: str
    format: str  # csv | csv.gz | parquet
    rows: int
    sha256: str


@dataclass(frozen=True)
class LoadSummary:
    """What `load_snapshot` did."""

    as_of: dt.date
    load_id: str
    directory: Path
    files: tuple[FileLoad, ...]
    replaced: bool  # the date was loaded before and has been replaced
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0  # the whole load, valuation included
    loaded_at: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None)
    )
    valuation_seconds: float = 0.0  # of which: valuing the date (reports.derive)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def describe(self) -> str:
        """One line for humans: what was loaded, how much, how long."""
        files = len(self.files)
        note = " (replaced previous load)" if self.replaced else ""
        return (
            f"loaded {self.as_of.isoformat()}: {files} file{'s' if files != 1 else ''}, "
            f"{self.rows:,} rows{note} in {self.seconds:.1f} s "
            f"(of which valuing the day {self.valuation_seconds:.1f} s)"
        )


def _looks_like_a_date(name: str) -> bool:
    digits = name[:4] + name[5:7] + name[8:]
    return len(name) == 10 and name[4] == name[7] == "-" and digits.isascii() and digits.isdigit()


# How far the recorded times may run ahead of the clock before a load says so (a few seconds are
# two events in quick succession, or NTP's small steps).
CLOCK_BEHIND_WARNING = dt.timedelta(minutes=1)


def resolve_as_of(directory: Path, as_of: dt.date | None) -> dt.date:
    """The as-of date: the directory name YYYY-MM-DD, else ``as_of``; both must agree."""
    from_name: dt.date | None = None
    # `mir load .` inside the date's directory names it too (lexically: a symlink named after
    # the date keeps its name)
    name = Path(os.path.abspath(directory)).name
    with contextlib.suppress(ValueError):
        from_name = parse_iso_date(name)
    if from_name is not None and as_of is not None and from_name != as_of:
        msg = (
            f"--as-of {as_of.isoformat()} contradicts the snapshot directory name {name}; "
            "drop --as-of or rename the directory"
        )
        raise UsageError(msg)
    resolved = from_name or as_of
    if resolved is None:
        # `2026-02-30` has the form but is no date (loader review of 2026-12-05: it was told
        # its name "is not YYYY-MM-DD")
        what = "is not a real date" if _looks_like_a_date(name) else "is not YYYY-MM-DD"
        msg = (
            f"cannot tell the as-of date of {directory}: its name {what}; "
            "rename it or pass --as-of YYYY-MM-DD"
        )
        raise InputError(
            msg,
            [
                Violation(
                    name,
                    None,
                    None,
                    name,
                    "a directory named YYYY-MM-DD, or --as-of",
                )
            ],
        )
    return resolved


def _raise_if_any(
    as_of: dt.date, directory: Path, violations: list[Violation], totals: dict[str, int]
) -> None:
    if not violations:
        return
    contract_order = {name: i for i, name in enumerate(FILES)}

    def file_rank(file: str) -> int:
        parsed = reader.split_suffix(file)
        return contract_order.get(parsed[0] if parsed else file, len(contract_order))

    # Files in contract order; within a file, file-level problems first, then by row (stable:
    # the order each rule produced is kept for the same row).
    violations.sort(key=lambda v: (file_rank(v.file), v.file, v.row is not None, v.row or 0))
    order = dict.fromkeys(v.file for v in violations)
    parts = []
    for file in order:
        shown = sum(1 for v in violations if v.file == file)
        total = max(totals.get(file, 0), shown)
        more = f" (first {shown} shown)" if total > shown else ""
        parts.append(f"{file}: {total:,} problem{'s' if total != 1 else ''}{more}")
    msg = (
        f"snapshot {as_of.isoformat()} in {directory} breaks the data contract; nothing was loaded. "
        + "; ".join(parts)
        + ". Fix the files and load them again (`mir load`, or `mir daily` for the scheduled job)."
    )
    raise InputError(msg, violations)


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    for spec in FILES.values():
        con.execute(f"DROP VIEW IF EXISTS staged_{spec.name}")
        con.execute(f"DROP TABLE IF EXISTS raw_{spec.name}")
    con.execute("DROP VIEW IF EXISTS staged_risk_tiers_filled")
    con.execute("DROP TABLE IF EXISTS load_violations")


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    present = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'loads' AND table_type = 'BASE TABLE'"
    ).fetchall()
    if not present or not present[0][0]:
        from reports.db import init_schema

        init_schema(con)


# Files of the contract a day may well deliver with no rows (DESIGN.md section 3: movements
# "may be header-only"). Any other required file without rows (a CSV header alone, an empty
# Parquet file) loads, as the contract allows, but is warned of: it is what a failed export
# looks like, and on a first day no roll-forward check can see it (review of 2026-12-07:
# header-only balances loaded, and checked, as a venue owing its clients nothing).
HEADER_ONLY_USUAL = frozenset({"movements"})


def _header_only(display: str, table: str) -> str:
    return (
        f"{display} holds no rows: the day is loaded with no {table}; "
        "if the export failed, deliver the file again and reload the day"
    )


def load_snapshot(
    con: duckdb.DuckDBPyConnection,
    directory: str | Path,
    as_of: dt.date | None = None,
    *,
    progress: ProgressCallback | None = None,
    on_warning: WarningCallback | None = None,
    reporting_currency: str = "USD",
    checks_follow: bool = False,
) -> LoadSummary:
    """Validate the snapshot in ``directory`` and load it as of its date, replacing that date.

    ``checks_follow``: the caller checks the day next (the daily job), so a recorded run of
    the day itself made stale by this load is not worth a warning; later days' still are.

    Raises InputError (with every violation found, up to 20 per file) when any file breaks the
    snapshot contract; the database is then unchanged. Raises UsageError when ``as_of``
    contradicts the directory name. ``progress`` receives one line per stage; ``on_warning``
    receives each warning as it is found (they are also in the summary).
    """
    committed: list[tuple[dt.date, str]] = []  # (as_of, load_id) once the COMMIT returned
    try:
        return _load_snapshot(
            con,
            directory,
            as_of,
            committed,
            progress=progress,
            on_warning=on_warning,
            reporting_currency=reporting_currency,
            checks_follow=checks_follow,
        )
    except BaseException as exc:
        signalled = (
            isinstance(exc, KeyboardInterrupt | Terminated)
            or is_interrupt(exc)  # a signal inside a DuckDB query: "Query interrupted"
            or TERMINATION.is_set()
            or INTERRUPTION.is_set()
        )
        if not committed or not signalled or isinstance(exc, CommittedThenInterrupted):
            raise
        # the date IS replaced: a signal after the COMMIT returned (dropping the staging
        # tables, the hashing thread's exit, the stale-run query) is not a failed load (crash
        # review of 2026-12-05: SIGTERM 10 ms after the COMMIT was logged as one)
        raise CommittedThenInterrupted(*committed[0]) from exc


def _load_snapshot(
    con: duckdb.DuckDBPyConnection,
    directory: str | Path,
    as_of: dt.date | None,
    committed: list[tuple[dt.date, str]],
    *,
    progress: ProgressCallback | None,
    on_warning: WarningCallback | None,
    reporting_currency: str,
    checks_follow: bool,
) -> LoadSummary:
    """load_snapshot's work; appends (as_of, load_id) to `committed` once the COMMIT returned."""
    import duckdb

    started = time.perf_counter()
    directory = Path(directory)
    as_of = resolve_as_of(directory, as_of)
    say = progress or (lambda _msg: None)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    _ensure_schema(con)
    files, violations, found_warnings = reader.discover(directory)
    for message in found_warnings:
        warn(message)
    totals: dict[str, int] = {}
    # Each file as found before anything reads it: the hashes recorded must be of the bytes
    # loaded (found in review: an export swapped in while the job ran gave one version's hash
    # with the other's rows).
    identities = {name: _identity(source.path) for name, source in files.items()}

    # Hash the files on a worker thread while DuckDB reads them (hashlib releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashes: dict[str, Future[reader.Digest]] = {
            n: pool.submit(reader.digest_of, s.path) for n, s in files.items()
        }
        # a gzip file's CRC and length, which DuckDB does not check (after the hashes)
        corrupt: dict[str, Future[str | None]] = {
            n: pool.submit(reader.gzip_problem, s.path)
            for n, s in files.items()
            if s.format == "csv.gz"
        }
        try:
            staged: dict[str, reader.StagedFile] = {}
            for spec in FILES.values():
                source = files.get(spec.name)
                if source is None:
                    reader.stage_empty(con, spec)
                    continue
                say(f"reading {source.display}")
                file_warnings: list[str] = []
                result = reader.stage(con, source, violations, file_warnings)
                for message in file_warnings:
                    warn(message)
                if result is None:
                    continue
                if result.rows == 0 and spec.required and spec.name not in HEADER_ONLY_USUAL:
                    warn(_header_only(source.display, spec.name))
                staged[spec.name] = result
                # a NUL byte in an id or text cell: looked for in each cell unless the file is
                # a plain CSV whose bytes hold none (its digest, taken beside the staging)
                nul = source.format != "csv" or hashes[spec.name].result().nul
                found, total = validate.column_violations(
                    con, spec, source.display, result.columns, result.types, nul=nul
                )
                violations.extend(found)
                if total:
                    totals[source.display] = total
            if violations:
                # a damaged gzip file usually shows first as a garbled row: say it is damaged
                # (final review of 2026-12-05: "row 386 ... Found: 10", never "deliver it again")
                for damage in _damaged(files, corrupt, {v.file for v in violations}):
                    violations = [v for v in violations if v.file != damage.file] + [damage]
                    totals.pop(damage.file, None)
            _raise_if_any(as_of, directory, violations, totals)

            say("checking cross-file rules")
            for spec in FILES.values():
                if spec.name in staged:
                    file = staged[spec.name]
                    validate.create_typed_view(con, spec, file.columns, file.types)
                else:
                    validate.create_typed_view(con, spec, spec.column_names)
            validate.set_rule_variables(con, reporting_currency, as_of)
            displays = {name: s.display for name, s in files.items()}
            cross, cross_totals = validate.cross_file_violations(con, displays)
            _raise_if_any(as_of, directory, cross, cross_totals)
            conflicts, example, stored_as = con.execute(
                read_query("load/next_close_conflicts.sql")
            ).fetchall()[0]
            if conflicts:
                following = (as_of + dt.timedelta(days=1)).isoformat()
                warn(
                    f"positions: {conflicts:,} position id(s) are held under another account or "
                    f"instrument at the next stored close {following} (e.g. "
                    f"{printable_value(example)}: {printable_value(stored_as)} there); reload "
                    f"{following} so that the days agree"
                )

            # rows that load but are worth a look: (how many, the first's row, what it holds)
            for query, table, says in (
                (
                    "load/future_price_history.sql",
                    "price_history",
                    f"dated after the snapshot's date {as_of.isoformat()}",
                ),
                (
                    "load/unknown_volume_instruments.sql",
                    "volumes",
                    f"name an instrument not in {displays.get('instruments', 'instruments')}",
                ),
            ):
                count, row, example = con.execute(read_query(query)).fetchall()[0]
                if count:
                    warn(
                        f"{displays.get(table, table)}: {count:,} row(s) {says} (e.g. row {row}: "
                        f"{printable_value(example)}); {LOADED_BUT[table]}"
                    )

            con.execute(
                "CREATE OR REPLACE TEMP VIEW staged_risk_tiers_filled AS "
                + read_query("load/maintenance_amount.sql")
            )
            try:
                negative, row, tier, amount, product = con.execute(
                    read_query("load/negative_maintenance.sql")
                ).fetchall()[0]
            except (duckdb.OutOfRangeException, duckdb.ConversionException):
                # a tier too large to value: the write below fails and names its rows
                negative = 0
            if negative:
                warn(
                    f"{displays.get('risk_tiers', 'risk_tiers')}: {negative:,} tier(s) whose "
                    f"maintenance margin is negative at the tier's floor (e.g. row {row}, {tier}: "
                    f"maintenance_amount {amount} above notional_floor x rate {product}); the "
                    "amounts are used as given, so positions there show no missed liquidation: "
                    "check the export, or leave the cells empty to have them computed"
                )
            loaded = tuple(
                FileLoad(
                    name=name,
                    source_path=str(files[name].path.resolve()),
                    format=files[name].format,
                    rows=staged[name].rows,
                    sha256=hashes[name].result().sha256,
                )
                for name in FILES
                if name in staged
            )
            # every read and hash is done: a file replaced or written to meanwhile is refused
            changed = [
                Violation(
                    source.display,
                    None,
                    None,
                    None,
                    "a file that does not change while it is loaded: it was replaced or written "
                    "to during the load (an export still being delivered?); load it again once "
                    "it is complete",
                )
                for name, source in files.items()
                if _identity(source.path) != identities[name]
            ]
            _raise_if_any(as_of, directory, changed, {})
            _raise_if_any(as_of, directory, _damaged(files, corrupt), {})
            say("writing")
            load_id = uuid.uuid4().hex
            clock = mir_db.utc_now()  # (through the module: tests set the clock there)
            loaded_at = event_time(con, clock)  # after every recorded load and run
            if loaded_at - clock > CLOCK_BEHIND_WARNING:
                # the recorded times ran ahead of this clock (it was once set ahead, or stepped
                # back): the load is dated after them to keep the order, which says nothing of
                # when it happened (a known gap until 2026-12-05: no word of it)
                warn(
                    f"this machine's clock reads {clock:%Y-%m-%d %H:%M:%S} UTC, earlier than the "
                    f"latest load or check run recorded; this load is recorded at "
                    f"{loaded_at:%Y-%m-%d %H:%M:%S.%f} UTC to keep the order of events: check "
                    "the clock (loads, check_results and the run log carry these times)"
                )
            try:
                replaced, valuation_seconds = _write(
                    con, as_of, load_id, loaded, loaded_at, say, committed
                )
            except ValuationRangeError as exc:  # rolled back; name the rows of the file
                found = _range_violations(con, exc, displays)
                totals = {v.file: len(exc.position_ids) for v in found}
                _raise_if_any(as_of, directory, found, totals)
                raise
            except (duckdb.OutOfRangeException, duckdb.ConversionException) as exc:
                # rolled back: an amount too large to value or sum in DECIMAL(38,18) (the
                # valuation's SQL or a computed tier amount); name it, or re-raise (a defect)
                found, totals = _overflow_violations(con, displays, str(exc))
                _raise_if_any(as_of, directory, found, totals)
                raise
        except BaseException:
            # Do not wait for the hashes of a load that failed.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            _drop_temporaries(con)

    # the latest recorded run of this day and of each later day that this load made stale (a
    # reload with other files, or a day filled in: their run ids hash this day's files too);
    # this day's own run first (long-history review of 2026-12-05: a reload warned of the later
    # days only, and of nothing when it was the latest day, the one whose figures changed);
    # run_is_stale of each, from the view check_runs_stale (the macro per run grows with the
    # square of the history: review of 2026-12-07)
    stale = con.execute(
        "SELECT bool_or(as_of_date = ?), min(as_of_date) FILTER (WHERE as_of_date > ?), "
        "max(as_of_date), count(*) FILTER (WHERE as_of_date > ?) FROM ("
        "SELECT as_of_date, max(checked_at) AS checked_at FROM check_results "
        "WHERE as_of_date >= ? GROUP BY as_of_date) JOIN check_runs_stale "
        "USING (as_of_date, checked_at) WHERE stale",
        [as_of, as_of, as_of, as_of],
    ).fetchall()[0]  # fetchall: an unfinished result would block the connection (DuckDB 2)
    itself, first, last, days = stale
    itself = itself and not checks_follow  # (second diff review of 2026-12-05)
    if itself or days:
        # their run ids hash this day's inputs (reports.checks.engine.compute_run_id): the
        # recorded results no longer belong to the stored data
        which = [f"{as_of.isoformat()} (this day)"] if itself else []
        if days:
            span = first.isoformat() if days == 1 else f"{first.isoformat()} to {last.isoformat()}"
            which.append(
                f"{span} ({days} later day(s), whose figures read this day: previous "
                "close, IFR windows, VaR history)"
            )
        # the reports and packages made from those runs are outdated too: `mir check` alone
        # records new runs and leaves them as they were, still verifying (review of
        # 2026-12-05: the officer followed this advice and kept the old packages)
        warn(
            f"the check runs recorded for {' and '.join(which)} predate this load of "
            f"{as_of.isoformat()}, and so do any reports and packages made from them: run "
            "`mir daily` again for those days, in date order (or `mir check`, `mir report` and "
            "`mir package --force` for each); the investigations mark them stale"
        )

    return LoadSummary(
        as_of=as_of,
        load_id=load_id,
        directory=directory,
        files=loaded,
        replaced=replaced,
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
        loaded_at=loaded_at,
        valuation_seconds=valuation_seconds,
    )


def _damaged(
    files: dict[str, reader.SourceFile],
    corrupt: dict[str, Future[str | None]],
    displays: set[str] | None = None,
) -> list[Violation]:
    """The gzip files (of `displays`, else all) whose CRC-32 or length does not match what
    they hold (reader.gzip_problem, run on the hashing thread): one file-level violation each."""
    found = []
    for name, future in corrupt.items():
        display = files[name].display
        if displays is not None and display not in displays:
            continue
        problem = future.result()
        if problem is not None:
            found.append(
                Violation(
                    display,
                    None,
                    None,
                    None,
                    f"a gzip file whose CRC-32 and length match its contents ({problem}): it "
                    "was damaged in transit or storage; deliver it again",
                )
            )
    return found


def _identity(path: Path) -> tuple[int, ...] | None:
    """What changes when a file is replaced (device, inode) or written to (size, times)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _range_violations(
    con: duckdb.DuckDBPyConnection, exc: ValuationRangeError, displays: dict[str, str]
) -> list[Violation]:
    """The rows of positions too large to value (reports.valuation), from the staged file: the
    cell named is isolated_margin when that amount is the one from 1e19, else quantity."""
    rows = con.execute(
        "SELECT _row, abs(isolated_margin) >= ?, mir_fmt(isolated_margin), mir_fmt(quantity) "
        "FROM staged_positions WHERE list_contains(?, position_id) ORDER BY _row LIMIT ?",
        [OVERFLOW_ROW, exc.position_ids, validate.MAX_SHOWN_PER_FILE],
    ).fetchall()
    file = displays.get("positions", "positions")
    return [
        Violation(
            file,
            int(row),
            "isolated_margin" if margin_large else "quantity",
            margin if margin_large else quantity,
            exc.EXPECTED,
        )
        for row, margin_large, margin, quantity in rows
    ]


# Magnitude from which one amount is too large to value: DECIMAL(38,18) holds < 1e20, and two
# amounts from 1e19 already sum beyond it (reports.valuation uses the same bound).
OVERFLOW_ROW = 1e19
OVERFLOW_SUM = 1e20
# What a value too large to value should be, by column (queries/load/overflow_rows.sql).
# What a row that loads with a warning (the queries above `_write`) will do, and what to check.
LOADED_BUT = {
    "price_history": "a back-fill holds past prices, yet the VaR of the days from those dates on "
    "will use them: check the export's dates",
    "volumes": "their traded notional still counts toward K-COH and K-DTF: check the export's "
    "instrument ids",
}
OVERFLOW_WHAT = {
    "price": "a price below 1e19",
    "maintenance_margin_rate": (
        "a rate whose products with the tier's notional_floor and the next tier's are below 1e19"
    ),
    "maintenance_amount": "an amount below 1e19",
}
OVERFLOW_AMOUNT = "an amount below 1e19, in its asset and at its asset's USD price"
OVERFLOW_WHY = (
    " (here about {magnitude:.3g}): the valuation multiplies and sums amounts in DECIMAL(38,18), "
    "which holds 20 integer digits"
)


def _overflow_violations(
    con: duckdb.DuckDBPyConnection, displays: dict[str, str], error: str = ""
) -> tuple[list[Violation], dict[str, int]]:
    """After the valuation overflowed: the staged rows too large to value by themselves (first
    MAX_SHOWN_PER_FILE per file) and their count per file; when there is none, each file whose
    amounts add up beyond DECIMAL(38,18) (a file-level violation); when none does and a sum
    or an addition overflowed, the balances and positions files together, whose valued figures
    (each below 1e20) were added up per account and asset (found in review: exit 4, "internal
    error"). Empty: the cause is unknown (an overflow in USD or in computed tier amounts is
    still exit 4; README)."""
    rows = con.execute(
        read_query("load/overflow_rows.sql"),
        {"limit": OVERFLOW_ROW, "shown": validate.MAX_SHOWN_PER_FILE},
    ).fetchall()  # at most MAX_SHOWN_PER_FILE + 1 rows per file
    found: list[Violation] = []
    totals: dict[str, int] = {}
    for file, row_no, column, value, magnitude, large, large_rows, _ in rows:
        if not large:
            continue
        display = displays.get(file, file)
        totals[display] = int(large_rows)
        expected = OVERFLOW_WHAT.get(column, OVERFLOW_AMOUNT) + OVERFLOW_WHY.format(
            magnitude=magnitude
        )
        found.append(Violation(display, int(row_no), column, value, expected))
    if found:
        return found, totals
    for file, _, column, _, _, _, _, file_magnitude in rows:
        if file_magnitude >= OVERFLOW_SUM:
            display = displays.get(file, file)
            expected = (
                f"amounts whose sums fit DECIMAL(38,18) (below 1e20): this file's {column} "
                f"values add up to about {file_magnitude:.3g}, in their assets and in USD"
            )
            found.append(Violation(display, None, column, None, expected))
            totals[display] = 1
    if not found and any(text in error for text in ("Overflow in SUM", "Overflow in addition")):
        # no row and no file is that large by itself, yet a sum of valued figures (a balance plus
        # its account's unrealised PnL and isolated equity, per account and asset, or over the
        # client accounts) left DECIMAL(38,18): both files take part, neither can be named alone
        expected = (
            "balances and positions whose valued figures (balances, unrealised PnL, isolated "
            "equity) add up, per account and asset and over client accounts, below 1e20: no row "
            "is that large by itself, but together they leave DECIMAL(38,18)"
        )
        for name in ("balances", "positions"):
            if name in displays:
                found.append(Violation(displays[name], None, None, None, expected))
                totals[displays[name]] = 1
    return found, totals


def _part_filled(con: duckdb.DuckDBPyConnection, name: str, loaded: tuple[FileLoad, ...]) -> bool:
    """Whether the staged file ``raw_<name>`` sits in part-filled row groups.

    The parallel insert keeps the source's row groups: a file written in row groups a little
    larger than DuckDB's (reports.db.ROW_GROUP_ROWS; Polars writes 125,000 rows) would be stored
    as a full and a nearly empty row group each, which the next CHECKPOINT merges and rewrites
    (3-5 s for a day of 1M accounts). Such a file is inserted without keeping the row order
    (_insert_unordered), which fills the row groups; a file already in full ones is inserted as
    it is.
    """
    rows = next((f.rows for f in loaded if f.name == name), 0)
    if rows <= 2 * ROW_GROUP_ROWS:
        return False
    groups = con.execute(
        f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('raw_{name}')"
    ).fetchall()[0][0]
    return groups > -(-rows // ROW_GROUP_ROWS) + 1


_RESTORE_ORDER = "RESET preserve_insertion_order"


def _insert_unordered(con: duckdb.DuckDBPyConnection, insert: str, as_of: dt.date) -> None:
    """Run ``insert`` with DuckDB's ``preserve_insertion_order`` off: each thread then appends
    to row groups of its own and fills them, so a file in part-filled row groups is stored in
    full ones (at most one part-filled per thread, which the checkpoint may merge) without a
    sort (2M positions at L: 1.0-1.1 s, against 1.35-1.56 s in row order and 1.0-1.2 s plus a
    1-2 s checkpoint as they come; tests/benchmarks/PERFORMANCE.md).

    The stored rows are then not in the file's order, which nothing reads: every check and
    report orders what it shows, with ties broken by ids, as it must anyway under DuckDB's
    parallel scans. The setting is the database's, not this statement's: it is restored at
    once, and by _write after its ROLLBACK when the insert fails (no SET works in an aborted
    transaction).
    """
    con.execute("SET preserve_insertion_order = false")
    con.execute(insert, [as_of])
    con.execute(_RESTORE_ORDER)


def _write(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    load_id: str,
    loaded: tuple[FileLoad, ...],
    loaded_at: dt.datetime,
    say: ProgressCallback,
    committed: list[tuple[dt.date, str]],
) -> tuple[bool, float]:
    """Replace the date and its valuation in one transaction; append (as_of, load_id) to
    `committed` as soon as the COMMIT returns.

    Returns whether the date had been loaded before, and the seconds spent valuing it.
    """
    import duckdb

    con.execute("BEGIN TRANSACTION")
    try:
        rows = con.execute(
            "SELECT count(*) > 0 FROM loads WHERE as_of_date = ?", [as_of]
        ).fetchall()
        replaced = bool(rows and rows[0][0])
        for spec in FILES.values():
            columns = ", ".join(reader.quote_ident(c) for c in spec.column_names)
            source = (
                "staged_risk_tiers_filled" if spec.name == "risk_tiers" else f"staged_{spec.name}"
            )
            con.execute(f"DELETE FROM {spec.name} WHERE as_of_date = ?", [as_of])
            insert = (
                f"INSERT INTO {spec.name} (as_of_date, {columns}) "
                f"SELECT CAST(? AS DATE), {columns} FROM {source}"
            )
            if _part_filled(con, spec.name, loaded):
                _insert_unordered(con, insert, as_of)
            else:
                con.execute(insert, [as_of])
        con.executemany(
            "INSERT INTO loads (load_id, as_of_date, file, source_path, format, sha256, rows, "
            "loaded_at, tool_version, replaced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    load_id,
                    as_of,
                    f.name,
                    f.source_path,
                    f.format,
                    f.sha256,
                    f.rows,
                    loaded_at,
                    __version__,
                    replaced,
                ]
                for f in loaded
            ],
        )
        say("valuing positions and accounts")
        valuing = time.perf_counter()
        derive.refresh_dates(con, [as_of])
        valuation_seconds = time.perf_counter() - valuing
        con.execute("COMMIT")
        committed.append((as_of, load_id))
    except BaseException as exc:
        # A failed COMMIT (disk full, permission denied) already ended the transaction: the
        # ROLLBACK then fails too, and must not hide the original error.
        ended = False
        try:
            con.execute("ROLLBACK")
        except duckdb.Error as rollback:
            ended = "no transaction" in str(rollback).lower()
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: whether the transaction ended is unknown
        with contextlib.suppress(duckdb.Error):  # (a failed _insert_unordered left it off)
            con.execute(_RESTORE_ORDER)
        # only a transaction that had ended before the ROLLBACK can have been committed (an
        # open one would show its own rows to the question below)
        if ended and _recorded(con, load_id):
            # A Ctrl-C or SIGTERM can reach DuckDB's COMMIT after the transaction is saved: it
            # reports the interruption, yet the date is replaced (CLI review of 2026-12-05: the
            # job said "failed load", and the officer took the database for unchanged).
            raise CommittedThenInterrupted(as_of, load_id) from exc
        raise
    return replaced, valuation_seconds


def _recorded(con: duckdb.DuckDBPyConnection, load_id: str) -> bool:
    """Whether the load `load_id` is in the database (its transaction committed)."""
    import duckdb

    try:
        rows = con.execute("SELECT count(*) FROM loads WHERE load_id = ?", [load_id]).fetchall()
    except (duckdb.Error, KeyboardInterrupt):
        return False
    return bool(rows and rows[0][0])
