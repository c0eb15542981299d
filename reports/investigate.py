"""Read-only SQL for analysts: `mir sql` and the named investigations of `mir query`.

Every statement runs on a connection that is read-only AND has external access disabled with the
configuration locked: no writes, no COPY, no ATTACH, no reading or writing files, no extensions.
Results leave through Python (Arrow), never through DuckDB's file writers.

An investigation is queries/investigations/<name>.sql with a header:

    -- description: One isolated position's margin roll-forward with every movement.
    -- param: position_id text (required): the position to trace
    -- param: from date (optional): first as-of date [default: the first stored day]

Parameters are bound as DuckDB named parameters ($position_id), never interpolated.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.db import connect_with, quote_ident, schema_fingerprint, stored_fingerprint
from reports.errors import MirError, UsageError, is_disk_full, is_interrupt
from reports.paths import queries_dir
from reports.spec import parse_iso_date

if TYPE_CHECKING:
    import duckdb
    import polars as pl

READ_ONLY_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}

# count: a whole number >= 1 (how many rows); boolean: true or false (nothing else, so that a
# typo is an error, not a silent false)
PARAM_TYPES = ("text", "date", "integer", "count", "boolean", "decimal", "check_id")
# integer and count parameters bind as SQL INTEGER (LIMIT, day counts): bounded to its range
MAX_INTEGER = 2**31 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]{1,20}(\.[0-9]{0,18})?|\.[0-9]{1,18})", re.ASCII)
_PARAM_LINE = re.compile(
    r"^--\s*param:\s*(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>\w+)\s*\((?P<req>required|optional)\)\s*:\s*(?P<help>.*)$"
)


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    return connect_with(path, read_only=True, config=dict(READ_ONLY_CONFIG), must_exist=True)


@dataclass(frozen=True)
class QueryResult:
    frame: pl.DataFrame
    elapsed_seconds: float
    # the database's schema and views are not this mir's (an older or newer version made them;
    # read-only commands do not update them): results may differ, errors may name missing tables
    schema_outdated: bool = False
    # no mir_schema at all: a DuckDB database mir did not make (mir init refuses it)
    not_mir: bool = False


@dataclass(frozen=True)
class QueryStream:
    """A result read in batches (`mir sql`, `mir query`): memory stays that of one batch, not
    of the result, however many rows it has (analyst review of 2026-12-05: a day of
    v_positions as JSON needed 20 GB at a million accounts)."""

    schema: pl.Schema  # the result's columns and their Polars types
    # read from the spool each time it is iterated (the `table` format reads it twice)
    batches: Iterable[pl.DataFrame]
    started: float  # time.perf_counter() when the statement was sent
    schema_outdated: bool = False
    not_mir: bool = False


# Rows per batch of a streamed result: a few MB of Arrow for typical rows.
BATCH_ROWS = 100_000


def run_sql(path: Path, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
    """Run one read-only statement (or several; the last one's result is returned), whole."""
    import polars as pl

    with stream_sql(path, sql, params) as result:
        frames = list(result.batches)
        frame = pl.concat(frames) if frames else pl.DataFrame(schema=result.schema)
    return QueryResult(
        frame,
        time.perf_counter() - result.started,
        schema_outdated=result.schema_outdated,
        not_mir=result.not_mir,
    )


@contextmanager
def stream_sql(
    path: Path, sql: str, params: dict[str, Any] | None = None, *, batch_rows: int = BATCH_ROWS
) -> Iterator[QueryStream]:
    """Run one read-only statement (or several; the last one's result is streamed): its rows
    in batches of `batch_rows`. The result is first spooled, batch by batch, to a temporary
    Arrow file and the database closed: a reader that takes its time (`mir sql ... | less`)
    must not hold the database's lock against the daily job (diff review of 2026-12-05: it
    made `mir daily` fail). An error while fetching (a value mir cannot output, found only
    when reached) is the same UsageError as one in the statement, raised before any row is
    written."""
    import tempfile

    import polars as pl
    import pyarrow as pa
    import pyarrow.ipc

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mir-sql-") as spool_dir:
        spool = Path(spool_dir) / "result.arrow"
        con = connect_read_only(path)
        try:
            stored = stored_fingerprint(con)
            outdated = stored != schema_fingerprint()
            hint = (
                f" (this database's schema is not this mir's: run `mir init --db {path}`)"
                if stored is not None
                # no table at all: a first `mir daily` or `mir load` killed before its schema
                # was written leaves such a file (crash audit of 2026-12-07: "not made by mir")
                else " (this database is empty: nothing was ever loaded into it)"
                if not con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
                else " (this database was not made by mir: its tables and views are not mir's)"
            )
            with _sql_errors(hint if outdated else ""):
                relation = con.sql(sql, params=params or {})
                if relation is not None:  # None: a statement without a result
                    _spool(_projected(relation), spool, batch_rows)
        finally:
            con.close()
        if not spool.exists():
            yield QueryStream(
                pl.Schema(), iter([]), started, schema_outdated=outdated, not_mir=stored is None
            )
            return
        # read, not memory-mapped: the frames own their memory once the spool is gone
        with pa.OSFile(str(spool), "rb") as source:
            reader = pyarrow.ipc.open_file(source)
            schema = pl.DataFrame(pl.from_arrow(reader.schema.empty_table())).schema
            yield QueryStream(
                schema,
                _SpooledBatches(reader),
                started,
                schema_outdated=outdated,
                not_mir=stored is None,
            )


class _SpooledBatches:
    """The spooled result's batches as frames, read anew on each iteration (one batch in
    memory at a time)."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def __iter__(self) -> Iterator[pl.DataFrame]:
        import polars as pl

        for index in range(self._reader.num_record_batches):
            yield pl.DataFrame(pl.from_arrow(self._reader.get_batch(index)))


def _spool(relation: Any, spool: Path, batch_rows: int) -> None:
    """The relation's rows into the Arrow file `spool`, one batch at a time. Repeated column
    names get suffixes, as Polars gave them before results were streamed (`a`, `a_1`: a
    `SELECT *` over a join). Fetching errors come out of the Arrow stream as OSError (or an
    ArrowException): they are DuckDB's, re-raised as duckdb.Error for `_sql_errors`."""
    import duckdb
    import pyarrow as pa
    import pyarrow.ipc

    to_reader = getattr(relation, "to_arrow_reader", None)
    if to_reader is None:  # DuckDB before 1.4
        to_reader = relation.fetch_record_batch
    reader = to_reader(batch_rows)
    names = _unique_names(reader.schema.names)
    schema = pa.schema([f.with_name(n) for f, n in zip(reader.schema, names, strict=True)])
    try:
        with pyarrow.ipc.new_file(str(spool), schema) as writer:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (OSError, pa.ArrowException) as exc:
                    raise duckdb.Error(str(exc)) from exc
                writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        # a full disk where the result is spooled: an "internal error" until 2026-12-05
        msg = (
            f"no space left to spool the result in {spool.parent.parent} (mir sql and mir "
            "query write the whole result there before printing it, so that the database is "
            "not held while it is read): free space there, set TMPDIR to a folder with room "
            "for about the result's size, or narrow the query"
        )
        raise MirError(msg) from exc


def _unique_names(names: list[str]) -> list[str]:
    """`names` with each repeat suffixed _1, _2, ... (past any name already used)."""
    seen: set[str] = set()
    unique = []
    for name in names:
        new, suffix = name, 0
        while new in seen:
            suffix += 1
            new = f"{name}_{suffix}"
        seen.add(new)
        unique.append(new)
    return unique


# DuckDB's own refusals that come as invalid input, not as a permission error: a write on the
# read-only connection, a setting on the locked configuration. Matched on DuckDB's whole phrase
# at the start of its message, not on words anywhere in it: an error the query raises itself,
# e.g. error('account locked'), is an SQL error, not a refusal (found in review 2026-12-07).
_REFUSAL = re.compile(
    r"(Invalid Input Error: )?(Cannot execute statement of type .* in read-only mode"
    r"|Cannot change configuration option .* the configuration has been locked)"
)


@contextmanager
def _sql_errors(hint: str) -> Iterator[None]:
    """DuckDB's errors as mir's: a refused write or file access, an SQL error (exit 2), the
    user's Ctrl-C as DuckDB reports it."""
    import duckdb

    try:
        try:
            yield
        except Exception as exc:
            # the user's Ctrl-C, as DuckDB reports it: not an SQL error nor an internal one
            # (investigations review of 2026-12-05: exit 4 "internal error")
            if is_interrupt(exc):
                raise KeyboardInterrupt from None
            raise
    except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
        text = str(exc)
        if isinstance(exc, duckdb.PermissionException) or _REFUSAL.match(text):
            msg = f"mir sql is read-only: writes, COPY, ATTACH, file access and settings changes are refused ({text.splitlines()[0]})"
            raise UsageError(msg) from None
        msg = f"SQL error: {text}{hint}"
        raise UsageError(msg) from None
    except duckdb.Error as exc:
        msg = f"SQL error: {exc}{hint}"
        raise UsageError(msg) from None


# DuckDB types Polars cannot hold, or that the output formats would alter: returned as their
# DuckDB text (e.g. '1 day'), also inside a list, struct or map (found in review: an interval in
# a struct made Polars panic; review of 2026-12-05: TIMESTAMP_NS lost its nanoseconds, TIMETZ its
# offset, BIT and BIGNUM printed their internal bytes, a UNION was an internal error; and so did
# TIME_NS lose its nanoseconds, found in the next review).
# Matched on the type's id, walking lists, arrays, structs and maps: not on the type's text, where
# a struct field named INTERVAL_X or BITS read as such a type (the column came out as DuckDB's
# text of the whole struct instead of JSON; a known gap of earlier notes).
_AS_TEXT = frozenset(
    ("interval", "timestamp_ns", "time_ns", "time with time zone", "bit", "bignum", "varint",
     "union")
)  # fmt: skip
_CONTAINERS = frozenset(("list", "array", "struct", "map"))
_TIME = frozenset(("time",))  # Polars' time ends before 24:00:00 (checked inside containers)
# 128-bit integers (sum() of integers): as DECIMAL(38,0), exact, as DuckDB hands them to Arrow
# anyway, but cast in SQL so that a value from 1e38 fails, naming its column, instead of wrapping.
_AS_DECIMAL = ("HUGEINT", "UHUGEINT")
# Dates and timestamps (scalar columns; not lists of them, where isfinite() does not apply):
# Polars has no infinity (it panicked); such a cell fails, naming its column.
_FINITE = re.compile(r"DATE|TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE")


def _held_as_text(kind: Any) -> bool:
    """Whether a DuckDB type (a DuckDBPyType) is, or holds, one of the _AS_TEXT types."""
    return _holds(kind, _AS_TEXT)


def _holds(kind: Any, ids: frozenset[str]) -> bool:
    """Whether a DuckDB type is, or holds in a list, array, struct or map, a type of `ids`."""
    if kind.id in ids:
        return True
    if kind.id in _CONTAINERS:  # children: (name, type) pairs; an array's size is an int
        return any(hasattr(child, "id") and _holds(child, ids) for _, child in kind.children)
    return False


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _projected(relation: Any) -> Any:
    """The relation with columns of a type Polars cannot hold as text; a value it cannot hold
    (a 39-digit integer, an infinite date) an error naming its column, when it is fetched.

    Columns are referred to by position (#1, #2, ...), never by name: a result may repeat a
    name (a `SELECT *` over a join) or hold names differing only in case, and a name resolves
    to the first such column (review of 2026-12-05: with a date, timestamp or time column in the
    result, a join's second `balance` printed the first one's values)."""
    columns = relation.columns
    types = list(relation.types)

    def select(position: int, name: str, duck_type: Any) -> str | None:
        q, alias = f"#{position}", quote_ident(name)
        kind = str(duck_type)
        if _held_as_text(duck_type):
            return f"CAST({q} AS VARCHAR) AS {alias}"
        if kind in _AS_DECIMAL:
            why = _sql_text(
                f"column {name} holds an integer of more than 38 digits, beyond what mir "
                "outputs exactly: cast it to VARCHAR in the query"
            )
            return f"coalesce(TRY_CAST({q} AS DECIMAL(38,0)), CASE WHEN {q} IS NOT NULL THEN error({why}) END) AS {alias}"
        if duck_type.id in _CONTAINERS and _holds(duck_type, _TIME):
            # a time inside a list, struct or map: 24:00:00 printed as null (Polars' time ends
            # before midnight); refused, judged on the value's text (a text field of the same
            # value spelling 24:00:00 is refused too: cast the column to VARCHAR then)
            why = _sql_text(
                f"column {name} holds the time 24:00:00 (or the text 24:00:00 beside a time) "
                "inside a list, struct or map, which mir cannot output as a time: cast it to "
                "VARCHAR in the query"
            )
            return (
                f"CASE WHEN strpos(CAST({q} AS VARCHAR), '24:00:00') > 0 THEN error({why}) "
                f"ELSE {q} END AS {alias}"
            )
        if kind == "TIME":
            # Polars' time ends before midnight: DuckDB's 24:00:00 came out as an empty cell
            # (review of 2026-12-05); refused by name, as an infinite date is
            why = _sql_text(
                f"column {name} holds the time 24:00:00, which mir cannot output as a time "
                "(it would print as empty): cast it to VARCHAR in the query"
            )
            return f"CASE WHEN {q} IS NULL OR {q} < TIME '24:00:00' THEN {q} ELSE error({why}) END AS {alias}"
        if _FINITE.fullmatch(kind):
            why = _sql_text(
                f"column {name} holds an infinite date or timestamp, which mir cannot output: "
                "cast it to VARCHAR in the query"
            )
            return (
                f"CASE WHEN {q} IS NULL OR isfinite({q}) THEN {q} ELSE error({why}) END AS {alias}"
            )
        return None

    projected = [
        select(position, name, kind)
        for position, (name, kind) in enumerate(zip(columns, types, strict=True), start=1)
    ]
    if any(projected):
        relation = relation.project(
            ", ".join(
                p or f"#{position} AS {quote_ident(c)}"
                for position, (p, c) in enumerate(zip(projected, columns, strict=True), start=1)
            )
        )
    return relation


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    help: str

    def convert(self, raw: str, recorded: Callable[[], Iterable[str]] | None = None) -> Any:
        """`raw` as this parameter's type; a UsageError when it is not one. `recorded`: the
        check ids the database holds results of (a check_id may name a check this version of
        mir no longer has, to look at its history), asked only for an id the code does not
        know."""
        try:
            if self.type == "date":
                return parse_iso_date(raw)
            if self.type in ("integer", "count"):
                # ASCII digits only (int() also takes '3_0' and other scripts' digits)
                if not _INTEGER_TEXT.fullmatch(raw):
                    raise ValueError(raw)
                low = 1 if self.type == "count" else -MAX_INTEGER
                if not low <= int(raw) <= MAX_INTEGER:
                    raise ValueError(raw)
                return int(raw)
            if self.type == "boolean":
                if raw not in ("true", "false"):
                    raise ValueError(raw)
                return raw == "true"
            if self.type == "decimal":
                # plain, finite, within DECIMAL(38,18) (Decimal() also takes NaN, Infinity and
                # 1e400, which DuckDB would bind as floats)
                if not _DECIMAL_TEXT.fullmatch(raw):
                    raise ValueError(raw)
                return Decimal(raw)
            if self.type == "check_id":
                # as `mir check --only` (investigations review of 2026-12-05: an unknown or
                # mis-cased id such as seg-06 returned no rows, exit 0)
                from reports.checks.engine import discover_checks

                known = sorted(spec.check_id for spec in discover_checks())
                if raw not in known and (recorded is None or raw not in set(recorded())):
                    msg = (
                        f"parameter {self.name}: unknown check {raw!r}, and the database holds "
                        f"no results of it; known checks: {', '.join(known)}"
                    )
                    raise UsageError(msg)
        except (ValueError, InvalidOperation):
            kinds = {
                "count": f"whole number from 1 to {MAX_INTEGER:,}",
                "integer": f"whole number within +-{MAX_INTEGER:,}",
                "boolean": "true or false",
                "decimal": "plain decimal (at most 20 integer digits and 18 decimals)",
                "date": "date (YYYY-MM-DD)",
            }
            msg = f"parameter {self.name}: {raw!r} is not a valid {kinds.get(self.type, self.type)}"
            raise UsageError(msg) from None
        return raw


@dataclass(frozen=True)
class Investigation:
    name: str
    description: str
    parameters: tuple[Parameter, ...]
    sql: str
    path: Path

    def bind(
        self, raw: dict[str, str], recorded: Callable[[], Iterable[str]] | None = None
    ) -> dict[str, Any]:
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            msg = f"{self.name} has no parameter {unknown[0]!r}; it takes: {', '.join(known) or 'none'}"
            raise UsageError(msg)
        bound: dict[str, Any] = {}
        for param in self.parameters:
            if param.name in raw:
                bound[param.name] = param.convert(raw[param.name], recorded)
            elif param.required:
                msg = f"{self.name} needs -p {param.name}=... ({param.help})"
                raise UsageError(msg)
            else:
                bound[param.name] = None
        return bound


def parse_investigation(path: Path) -> Investigation:
    text = path.read_text(encoding="utf-8")
    description = ""
    params: list[Parameter] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if line.startswith("-- description:"):
            description = line.split(":", 1)[1].strip()
        elif match := _PARAM_LINE.match(line):
            if match["type"] not in PARAM_TYPES:
                msg = f"{path}: parameter {match['name']} has unknown type {match['type']}"
                raise ValueError(msg)
            params.append(
                Parameter(
                    match["name"], match["type"], match["req"] == "required", match["help"].strip()
                )
            )
    if not description:
        msg = f"{path}: missing '-- description:' header"
        raise ValueError(msg)
    return Investigation(path.stem, description, tuple(params), text, path)


def investigations() -> dict[str, Investigation]:
    folder = queries_dir() / "investigations"
    return {p.stem: parse_investigation(p) for p in sorted(folder.glob("*.sql"))}


def get_investigation(name: str) -> Investigation:
    known = investigations()
    if name not in known:
        msg = f"no investigation named {name!r}; `mir queries` lists them: {', '.join(known)}"
        raise UsageError(msg)
    return known[name]


def recorded_check_ids(path: Path) -> set[str]:
    """The check ids of every result the database at `path` holds (none when it has no
    check_results table)."""
    import duckdb

    con = connect_read_only(path)
    try:
        rows = con.execute("SELECT DISTINCT check_id FROM check_results").fetchall()
    except duckdb.Error:  # no such table, or not mir's (no check_id column): none recorded
        return set()
    finally:
        con.close()
    return {str(row[0]) for row in rows}


def run_investigation(path: Path, name: str, raw_params: dict[str, str]) -> QueryResult:
    investigation = get_investigation(name)
    bound = investigation.bind(raw_params, lambda: recorded_check_ids(path))
    return run_sql(path, investigation.sql, bound)


def empty_note(path: Path, name: str, raw_params: dict[str, str]) -> str | None:
    """What an empty result of the investigation means, when it has a note for that
    (queries/investigations/when_empty/<name>.sql, same parameters, one `note`); else None.
    Zero rows of check_exceptions alone cannot tell a check that passed from one never run
    that day, one that crashed, or a run made stale by a later load."""
    script = queries_dir() / "investigations" / "when_empty" / f"{name}.sql"
    if not script.is_file():
        return None
    investigation = get_investigation(name)
    bound = investigation.bind(raw_params, lambda: recorded_check_ids(path))
    rows = run_sql(path, script.read_text(encoding="utf-8"), bound).frame
    return str(rows.item(0, 0)) if rows.height and rows.item(0, 0) is not None else None


def stream_investigation(
    path: Path, name: str, raw_params: dict[str, str]
) -> contextlib.AbstractContextManager[QueryStream]:
    """The investigation's result in batches (`stream_sql`); parameters checked first."""
    investigation = get_investigation(name)
    bound = investigation.bind(raw_params, lambda: recorded_check_ids(path))
    return stream_sql(path, investigation.sql, bound)
