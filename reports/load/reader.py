"""Find the files of a snapshot directory and stage each one in DuckDB as ``raw_<name>``.

Staging keeps every cell as the exact text the venue wrote (CSV) or its text rendering
(Parquet), so validation sees what is in the file and nothing is rounded on the way in. The
exception is the typed fast path for Parquet: a column whose physical type is already exact for
its contract type keeps that type in ``raw_<name>`` (no text round trip), namely

* a decimal column stored as Parquet DECIMAL(p,s) with s <= 18, or as an integer (up to 64
  bits): kept as is; validation checks each DECIMAL cell's range (20 integer digits, and the
  column's own type), so a too large value is still reported by row;
* a timestamp column stored as a UTC Parquet TIMESTAMP (DuckDB TIMESTAMP WITH TIME ZONE):
  kept as the naive UTC TIMESTAMP (``AT TIME ZONE 'UTC'``, whatever the session time zone);
  in nanoseconds (TIMESTAMPTZ_NS, what pandas and pyarrow write by default) as TIMESTAMP_NS,
  and validation refuses a cell with a sub-microsecond part, as the text path does.

Every other column is VARCHAR. A timestamp column staged as text also gets ``<name>__parsed``
(parsed_column): the text parsed once, NULL where no accepted format reads it, which the column
rule and the typed view read. Each staged table keeps the file's row order: its ``rowid`` + 1
is the 1-based data row the error messages quote (DuckDB preserves insertion order on CREATE
TABLE AS).
"""

from __future__ import annotations

import collections
import csv
import gzip
import hashlib
import io
import itertools
import operator
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from reports.db import quote_ident
from reports.errors import UsageError, Violation
from reports.spec import (
    DECIMAL_SCALE,
    FILE_SUFFIXES,
    FILES,
    FileSpec,
)

if TYPE_CHECKING:
    import duckdb

FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"}
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
# DuckDB parquet types that hold binary floating point: money must never pass through them.
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")
# Integer types every value of which fits DECIMAL(38,18) (at most 20 integer digits). Parquet
# has no 128-bit integer (DuckDB writes HUGEINT as DOUBLE), so these are all it can hold.
_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)
_DECIMAL_TYPE = re.compile(r"DECIMAL\(([0-9]+),\s*([0-9]+)\)")
# The staged type of a typed UTC timestamp column, and the text a Parquet UTC timestamp is
# rendered as (on the text path, and for a typed cell quoted in an error message).
TYPED_TIMESTAMP = "TIMESTAMP"
TYPED_TIMESTAMP_NS = "TIMESTAMP_NS"
# DuckDB's types of a Parquet timestamp adjusted to UTC -> the staged (naive UTC) type.
_UTC_TIMESTAMPS = {
    "TIMESTAMP WITH TIME ZONE": TYPED_TIMESTAMP,
    "TIMESTAMPTZ_NS": TYPED_TIMESTAMP_NS,
}
TIMESTAMP_TEXT = "'%Y-%m-%dT%H:%M:%S.%fZ'"
TIMESTAMP_TEXT_NS = "'%Y-%m-%dT%H:%M:%S.%nZ'"
# The ISO 8601 UTC forms a text timestamp may take (validate.TIMESTAMP_RE says which exactly).
_TIMESTAMP_FORMATS = (
    "['%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%fZ', "
    "'%Y-%m-%dT%H:%M:%S+00:00', '%Y-%m-%dT%H:%M:%S.%f+00:00']"
)


def _timestamp_text(c: str) -> str:
    """The cell without zeros beyond the sixth decimal (strptime's %f takes six digits). Only
    a cell longer than 2026-03-03T14:05:00.123456Z (27 characters) can have them: the others
    skip the regular expression (5M timestamps: 0.15 s less per pass)."""
    stripped = f"regexp_replace({c}, '(\\.[0-9]{{6}})0+(Z|\\+00:00)$', '\\1\\2')"
    return f"CASE WHEN length({c}) <= 27 THEN {c} ELSE {stripped} END"


def parsed_column(name: str) -> str:
    """The staging column holding text timestamp column `name` parsed once, NULL where the text
    is not a timestamp: the column rule, the cross-file rules and the insert read it instead of
    parsing 5M timestamps each (0.3 s a pass at 1M accounts)."""
    return f"{name}__parsed"


def _parsed_select(names: Sequence[str]) -> str:
    """`, try_strptime(...) AS "<name>__parsed"` for each text timestamp column in `names`."""
    return "".join(
        f", try_strptime({_timestamp_text(quote_ident(name))}, {_TIMESTAMP_FORMATS}) "
        f"AS {quote_ident(parsed_column(name))}"
        for name in names
    )


@dataclass(frozen=True)
class SourceFile:
    """One snapshot file found on disk."""

    name: str  # contract name, e.g. "positions"
    path: Path
    format: str  # csv | csv.gz | parquet

    @property
    def spec(self) -> FileSpec:
        return FILES[self.name]

    @property
    def display(self) -> str:
        return self.path.name


@dataclass
class StagedFile:
    """A file staged as ``raw_<name>``, with the contract columns it holds."""

    source: SourceFile
    columns: tuple[str, ...]  # contract columns present in the file, in contract order
    rows: int
    # The columns staged with their Parquet type (the typed fast path) -> that DuckDB type;
    # every other column is VARCHAR text.
    types: dict[str, str] = field(default_factory=dict)


def typed_decimal_fits(type_: str) -> bool:
    """Whether a Parquet column of DuckDB type ``type_`` can stay typed for a decimal column:
    an integer (up to 64 bits) or a DECIMAL(p,s) with s <= 18. Validation bounds each cell to 20
    integer digits (and to its declared type). Any other type takes the text path (a DECIMAL
    with more than 18 decimals, so the "18 decimals" error still quotes the cell)."""
    if type_.upper() in _INTEGER_TYPES:
        return True
    declared = declared_decimal(type_)
    return declared is not None and declared[1] <= DECIMAL_SCALE


def declared_decimal(type_: str) -> tuple[int, int] | None:
    """(precision, scale) of a DuckDB DECIMAL type name; None for any other type."""
    match = _DECIMAL_TYPE.fullmatch(type_.upper())
    return None if match is None else (int(match.group(1)), int(match.group(2)))


def split_suffix(filename: str) -> tuple[str, str] | None:
    """``positions.csv.gz`` -> ("positions", "csv.gz"); None when the suffix is not a snapshot format."""
    for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
        if filename.endswith(suffix) and len(filename) > len(suffix):
            return filename[: -len(suffix)], FORMATS[suffix]
    return None


def _named_as(name: str) -> str | None:
    """The contract file that `name` (a hidden file's, without its leading dots) is named as:
    `volumes.csv`, or a temporary copy of it such as rsync's `volumes.csv.Ab12Cd`; else None."""
    for suffix in FORMATS:
        base = name.partition(suffix)[0] if suffix in name else None
        if base in FILES and (name == base + suffix or name.startswith(base + suffix + ".")):
            return base
    return None


def discover(directory: Path) -> tuple[dict[str, SourceFile], list[Violation], list[str]]:
    """The snapshot files in ``directory``: found files, file-level violations, warnings.

    Violations: a required file missing, one file present in two formats, a contract file's
    name in other letter case, or on something that is not a regular file. Warnings: files that are not part of the
    contract, and a hidden file named as an absent contract file (other hidden files are skipped
    silently).
    """
    found: dict[str, list[SourceFile]] = {}
    warnings: list[str] = []
    violations: list[Violation] = []
    # (a hidden entry's name, what it is, the contract file it is named as)
    hidden: list[tuple[str, str, str]] = []
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith("."):
            named = _named_as(entry.name.lstrip("."))
            if named is not None:
                kind = "a hidden folder" if entry.is_dir() else "a hidden file"
                hidden.append((entry.name, kind, named))
            continue
        parsed = split_suffix(entry.name)
        if parsed is None or parsed[0] not in FILES:
            folded = split_suffix(entry.name.lower())
            if folded is not None and folded[0] in FILES:
                # `Volumes.csv`: a contract file misnamed, not an extra one; ignored, an optional
                # file's stored rows were replaced by none (determinism review of 2026-12-05:
                # K-COH and K-DTF 0, KFR understated)
                expected = f"the name {folded[0]}.{folded[1]} (file names are case-sensitive)"
                violations.append(Violation(entry.name, None, None, entry.name, expected))
                continue
            warnings.append(f"{entry.name}: not a snapshot file of the contract; ignored")
            continue
        if not entry.is_file():
            # a contract file's name on a folder (or a link to one, or a broken link): ignored,
            # an optional file's stored rows were replaced by none (loader review of
            # 2026-12-05: volumes.csv a link to /tmp emptied the day's volumes, K-COH and
            # K-DTF 0)
            kind = "a folder" if entry.is_dir() else "not a regular file"
            violations.append(
                Violation(entry.name, None, None, kind, "a regular file (the snapshot contract)")
            )
            continue
        name, fmt = parsed
        found.setdefault(name, []).append(SourceFile(name, entry, fmt))

    for name, kind, named in hidden:
        if named not in found:
            # `.volumes.csv` (an export still being written, rsync's `.volumes.csv.Ab12Cd`): the
            # file itself absent, an optional file's stored rows were replaced by none without a
            # word (K-COH and K-DTF 0; review of 2026-12-07)
            warnings.append(
                f"{name}: {kind} named as the contract's {named} file, which is absent; "
                "ignored (an export still being written?)"
            )
    files: dict[str, SourceFile] = {}
    for name, spec in FILES.items():
        candidates = found.get(name, [])
        if len(candidates) > 1:
            names = ", ".join(c.path.name for c in candidates)
            violations.append(
                Violation(
                    name,
                    None,
                    None,
                    names,
                    f"exactly one of {name}.csv, {name}.csv.gz, {name}.parquet",
                )
            )
        elif candidates:
            files[name] = candidates[0]
        elif spec.required:
            violations.append(
                Violation(
                    name,
                    None,
                    None,
                    None,
                    f"a file {name}.csv, {name}.csv.gz or {name}.parquet in the snapshot directory "
                    "(required by the snapshot contract)",
                )
            )
    return files, violations, warnings


class Digest(NamedTuple):
    """A file's SHA-256, and whether its bytes (as stored: compressed, for a .csv.gz) hold a
    NUL byte. A plain CSV without one needs no look for a NUL in each cell (validate
    ._column_check's `nul`): 0.2-0.3 s of the load per 5M-row file of ids, spared."""

    sha256: str
    nul: bool


def digest_of(path: Path) -> Digest:
    digest, nul = hashlib.sha256(), False
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            nul = nul or b"\0" in chunk
    return Digest(digest.hexdigest(), nul)


def gzip_problem(path: Path) -> str | None:
    """Why a .csv.gz is corrupt (its CRC-32 or length does not match what it holds, or its
    stream is broken), or None. DuckDB does not check the CRC, so a byte changed in transit
    loaded a wrong amount (load review of 2026-12-05); reading the file through Python's gzip to
    its end checks both. Run beside the load, on the hashing thread (zlib releases the GIL)."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        return str(exc) or type(exc).__name__
    except OSError:
        # not the file's bytes but access to them (permission denied, an I/O error): the
        # staging names that; "damaged in transit, deliver it again" would send the user
        # after a new delivery that cannot help (hostile-input review of 2026-12-07)
        return None
    return None


def gzip_padding(path: Path) -> int:
    """How many zero bytes follow the last gzip member of ``path`` (0 when none, or when the
    file cannot be read to its end). gzip(1) and Python ignore such padding (a tape or block
    writer's), DuckDB's reader does not ("Input is not a GZIP stream")."""
    zeros = 0
    member = zlib.decompressobj(wbits=31)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                while chunk:
                    if zeros or (member.eof and chunk[0] == 0):
                        if chunk.strip(b"\0"):
                            return 0  # something other than zeros after them
                        zeros += len(chunk)
                        break
                    if member.eof:  # a member ended: another one follows
                        member = zlib.decompressobj(wbits=31)
                    while chunk and not member.eof:
                        member.decompress(chunk, 1 << 20)
                        chunk = member.unconsumed_tail
                    chunk = member.unused_data if member.eof else b""
    except (OSError, zlib.error):
        return 0
    return zeros  # (counted only after a member's end)


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# DuckDB reads a file name as a glob pattern: `ex[1]/balances.csv` would read `ex1/balances.csv`
# and `a*b/` every matching directory. Each pattern character is escaped as a one-character
# class, so the pattern matches exactly the file named.
_GLOB_ESCAPES = str.maketrans({"[": "[[]", "*": "[*]", "?": "[?]"})


def duckdb_path(path: Path) -> str:
    """A file path as a DuckDB reader's SQL string literal that names exactly that file.

    A path holding a backslash as well as a pattern character cannot be named so (DuckDB then
    matches nothing): a UsageError asks for another directory name."""
    # absolute: DuckDB expands a leading ~ to $HOME, where Python (which hashes the file) reads
    # a directory named ~ (load review of 2026-12-05: the hash of one file, the rows of another)
    text = str(path.absolute())
    if "\\" in text and any(c in text for c in "[*?"):
        msg = (
            f"{text}: a path holding both a backslash and one of [ * ? cannot be read exactly "
            "(DuckDB reads file names as patterns); load it from a directory without them"
        )
        raise UsageError(msg)
    return _quote_literal(text.translate(_GLOB_ESCAPES))


class LoneCarriageReturn(Exception):
    """A CSV header row holding a carriage return: the file's lines end in CR alone."""


def read_csv_header(source: SourceFile) -> list[str] | None:
    """The header row of a CSV (BOM tolerated), or None for an empty file."""
    opener = gzip.open if source.format == "csv.gz" else open
    with opener(source.path, "rb") as fh:
        first = fh.readline()
    if b"\r" in first.rstrip(b"\r\n"):
        # no LF before a CR: lines ending in CR alone, the classic Mac OS form (review of
        # 2026-12-07: Python's csv error asked about "universal-newline mode")
        raise LoneCarriageReturn
    text = first.decode("utf-8-sig").rstrip("\r\n")
    if not text.strip():
        return None
    return next(csv.reader(io.StringIO(text)))


def _columns_of(
    source: SourceFile, header: list[str], violations: list[Violation], warnings: list[str]
) -> tuple[str, ...] | None:
    """Check the header against the contract; the contract columns present, or None if unusable."""
    spec = source.spec
    ok = True
    seen: set[str] = set()
    for column in header:
        known = column in spec.column_names
        if column in seen and known:  # which of the two would be the contract's column?
            violations.append(
                Violation(source.display, 0, column, column, "each column name once in the header")
            )
            ok = False
        elif not known and column not in seen:  # unknown columns (even unnamed or repeated)
            warnings.append(f"{source.display}: unknown column {column!r} ignored")
        seen.add(column)
    for col in spec.columns:
        if col.required and col.name not in seen:
            violations.append(
                Violation(
                    source.display,
                    None,
                    col.name,
                    None,
                    f"a column {col.name!r} (required by the snapshot contract)",
                )
            )
            ok = False
    if not ok:
        return None
    return tuple(c for c in spec.column_names if c in seen)


def _parquet_columns(
    con: duckdb.DuckDBPyConnection, path: str
) -> list[tuple[str, tuple[int, int] | None]]:
    """The top-level columns of a Parquet file as written (repeats included), in order: name
    and, for a DECIMAL, its declared (precision, scale); [] when the schema cannot be read (the
    caller then keeps DuckDB's names)."""
    import duckdb

    try:
        rows = con.execute(
            "SELECT name, num_children, converted_type, precision, scale "
            f"FROM parquet_schema({path})"
        ).fetchall()
    except duckdb.Error:
        return []

    def subtree_end(index: int) -> int:  # the index after the element at `index` and its children
        end = index + 1
        for _ in range(rows[index][1] or 0):
            end = subtree_end(end)
        return end

    columns: list[tuple[str, tuple[int, int] | None]] = []
    index = 1  # rows[0] is the schema's root
    while index < len(rows):
        name, _, converted, precision, scale = rows[index]
        decimal = (int(precision), int(scale)) if converted == "DECIMAL" else None
        columns.append((str(name), decimal))
        index = subtree_end(index)
    return columns


def _duckdb_reason(exc: Exception) -> str:
    """The first informative lines of a DuckDB reader error, without its 'possible fixes' advice."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    keep = [ln for ln in lines[:4] if not ln.startswith(("Possible", "*", "Original Line"))]
    return " ".join(keep).removeprefix("Invalid Input Error: ")[:300]


def _raise_if_out_of_resources(exc: Exception) -> None:
    """Re-raise a reader error that is the machine's, not the file's: DuckDB out of memory
    (MIR_MEMORY_LIMIT) or a full disk where it spills. Reported as a row the file got wrong,
    it was bad input (exit 3, "breaks the data contract") for a valid export (resource
    audit of 2026-12-07); raised, it is exit 4 and names what ran out."""
    import duckdb

    from reports.errors import is_disk_full

    if isinstance(exc, duckdb.OutOfMemoryException) or is_disk_full(exc):
        raise exc


def _unreadable_parquet(source: SourceFile, exc: Exception) -> Violation:
    """A Parquet file DuckDB cannot read: its schema, or (footer readable) its pages."""
    return Violation(
        source.display, None, None, None, f"a readable Parquet file ({_duckdb_reason(exc)})"
    )


# DuckDB's refusal of a Parquet string that is not UTF-8 ("Invalid string encoding found in
# Parquet file: value ... is not valid UTF8!"): it names no row or column.
# DuckDB's errors for bytes that are not UTF-8: in a string column, and in decode() of bytes
_UTF8_ERRORS = ("is not valid UTF8", "could not convert blob to UTF8 string")
_UTF8_BATCH_ROWS = 65_536


def _invalid_utf8(source: SourceFile, columns: Sequence[str]) -> Violation | None:
    """The first cell of the contract's `columns` whose bytes are not UTF-8 (row, column and
    value; the loader review of 2026-12-05 found the file named alone), read with pyarrow,
    which does not check the encoding: each batch's string columns are validated whole, and a
    failing one is searched by halves for its first bad cell. Error path only."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source.path)
        names = [
            f.name
            for f in parquet.schema_arrow
            if f.name in columns
            and (
                pa.types.is_string(f.type)
                or pa.types.is_large_string(f.type)
                or pa.types.is_binary(f.type)
                or pa.types.is_large_binary(f.type)
                or pa.types.is_fixed_size_binary(f.type)  # read as bytes too (diff review)
            )
        ]
        offset = 0
        for batch in parquet.iter_batches(batch_size=_UTF8_BATCH_ROWS, columns=names):
            found = [
                (index, name)
                for name in names
                if (index := _first_invalid(batch.column(name))) is not None
            ]
            if found:
                index, name = min(found, key=lambda hit: hit[0])  # ties: the file's column order
                raw = batch.column(name).cast(pa.binary())[index].as_py()
                return not_utf8(source.display, offset + index + 1, name, raw)
            offset += batch.num_rows
    except (OSError, pa.ArrowException):
        return None
    return None


# DuckDB's error for a Parquet timestamp in seconds or milliseconds beyond its microseconds
_TIMESTAMP_RANGE_ERROR = "Could not convert Timestamp("
# The largest magnitude of a timestamp in each unit that microseconds (int64) can hold
_MICROSECOND_LIMITS = {"s": (2**63 - 1) // 10**6, "ms": (2**63 - 1) // 10**3}


def _timestamp_out_of_range(source: SourceFile, columns: Sequence[str]) -> Violation | None:
    """The first cell of a Parquet timestamp column in seconds or milliseconds that DuckDB
    cannot hold in microseconds (a nanosecond epoch written as milliseconds, an int64 sentinel):
    row, column and the raw value. DuckDB fails the whole file ("Could not convert
    Timestamp(MS)"), which named the file alone as unreadable (Parquet review of 2026-12-05).
    Error path only; each batch is compared whole (pyarrow.compute)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source.path)
        units = {
            f.name: f.type.unit
            for f in parquet.schema_arrow
            if f.name in columns
            and pa.types.is_timestamp(f.type)
            and f.type.unit in _MICROSECOND_LIMITS
        }
        offset = 0
        for batch in parquet.iter_batches(batch_size=_UTF8_BATCH_ROWS, columns=list(units)):
            found = []
            for name, unit in units.items():
                raw = batch.column(name).cast(pa.int64())
                beyond = pc.greater(
                    pc.abs_checked(raw.cast(pa.decimal128(20, 0))), _MICROSECOND_LIMITS[unit]
                )
                index = pc.index(beyond, True).as_py()
                if index >= 0:
                    found.append((index, name, raw[index].as_py(), unit))
            if found:
                index, name, value, unit = min(found, key=lambda hit: hit[0])
                return Violation(
                    source.display,
                    offset + index + 1,
                    name,
                    f"{value} ({unit} since 1970)",
                    "a timestamp within DuckDB's range (microseconds since 1970 in 64 bits, "
                    "about 290,000 years either way): a nanosecond count written with a "
                    "millisecond unit?",
                )
            offset += batch.num_rows
    except (OSError, pa.ArrowException):
        return None
    return None


def _first_invalid(array: Any) -> int | None:
    """The index of the first value of a string or binary `array` that is not UTF-8, or None
    (a binary array is valid text when it casts to string, which checks the encoding)."""
    import pyarrow as pa

    binary = (
        pa.types.is_binary(array.type)
        or pa.types.is_large_binary(array.type)
        or pa.types.is_fixed_size_binary(array.type)
    )

    def valid(length: int) -> bool:
        try:
            part = array.slice(0, length)
            if binary:
                part.cast(pa.large_string())
            else:
                part.validate(full=True)
        except pa.ArrowInvalid:
            return False
        return True

    if valid(len(array)):
        return None
    low, high = 0, len(array)  # the first `low` values are valid, the first `high` are not
    while high - low > 1:
        middle = (low + high) // 2
        if valid(middle):
            low = middle
        else:
            high = middle
    return low


def stage(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    violations: list[Violation],
    warnings: list[str],
) -> StagedFile | None:
    """Create ``raw_<name>`` from the file; None (with violations) when the file cannot be used."""
    import duckdb

    table = f"raw_{source.name}"
    path = duckdb_path(source.path)
    typed: dict[str, str] = {}
    if source.format == "parquet":
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {_read_parquet(path)}").fetchall()
        except duckdb.Error as exc:
            _raise_if_out_of_resources(exc)
            violations.append(_unreadable_parquet(source, exc))
            return None
        # The file's own column names: DuckDB renames a repeated one (balance -> balance_1),
        # which would hide a second `balance` column behind an unknown name.
        written = _parquet_columns(con, path)
        if len(written) != len(described):
            written = [(str(name), None) for name, *_ in described]
        names = [name for name, _ in written]
        declared = dict(reversed(written))  # name -> its DECIMAL(p,s) (first occurrence)
        columns = _columns_of(source, names, violations, warnings)
        if columns is None:
            return None
        # contract column -> (DuckDB's name for it, its type); each appears once (checked)
        exposed = {
            name: (str(d[0]), str(d[1]))
            for name, d in zip(names, described, strict=True)
            if name in columns
        }
        selects = []

        def refuse(column: str, row: int | None, file_type: str, expected: str) -> None:
            """A column whose Parquet type the contract cannot take (file and column named; a
            float column also by the first row holding a value)."""
            violations.append(Violation(source.display, row, column, file_type, expected))

        for name in columns:
            spec_col = source.spec.column(name)
            type_ = exposed[name][1].upper()
            ident = quote_ident(name)
            source_ident = quote_ident(exposed[name][0])
            # The typed fast path: the Parquet type is already exact for the contract type.
            if spec_col.type == "decimal" and typed_decimal_fits(type_):
                typed[name] = type_
                selects.append(f"{source_ident} AS {ident}")
                continue
            if spec_col.type == "timestamp" and type_ in _UTC_TIMESTAMPS:
                typed[name] = _UTC_TIMESTAMPS[type_]
                selects.append(f"{source_ident} AT TIME ZONE 'UTC' AS {ident}")
                continue
            in_float = spec_col.type in ("decimal", "id", "text", "enum") and type_ in _FLOAT_TYPES
            first = _first_value_row(con, path, source_ident) if in_float else (False, None)
            if in_float and not first[0]:
                # pandas writes a column of None alone as float64 (NaN): no value, nothing inexact
                # (a money column so was refused until 2026-12-07, failing a venue's ordinary
                # export); the column's null rules then apply as to an empty CSV column
                selects.append(f"CAST(NULL AS VARCHAR) AS {ident}")
                continue
            if spec_col.type == "decimal" and type_ in _FLOAT_TYPES:
                wide = declared.get(name)
                why = (
                    "binary floating point cannot hold money exactly"
                    if wide is None
                    else f"the file's DECIMAL({wide[0]},{wide[1]}) has more than 38 digits, "
                    "which DuckDB reads only as binary floating point"
                )
                refuse(
                    name,
                    first[1],
                    type_ if wide is None else f"DECIMAL({wide[0]},{wide[1]})",
                    "an exact type for a decimal column (Parquet DECIMAL of at most 38 digits, "
                    f"an integer or a string); {why}",
                )
                continue
            if in_float:
                # pandas writes an integer id column with nulls as float64: 181 becomes the text
                # '181.0', unlike the same id elsewhere, and no rule can tell (Parquet review of
                # 2026-12-05: movements' position_id so gave false SEG-05 and SEG-06 breaches)
                refuse(
                    name,
                    first[1],
                    type_,
                    f"an exact type for a{'n' if spec_col.type == 'id' else ''} {spec_col.type} "
                    "column (Parquet string, or an integer): binary floating point writes an id "
                    "such as 181 as 181.0",
                )
                continue
            if type_ in _UTC_TIMESTAMPS:
                expr = f"strftime({source_ident} AT TIME ZONE 'UTC', {TIMESTAMP_TEXT})"
            elif type_ == "BLOB":
                # bytes without the string annotation (some writers leave it off): their UTF-8
                # text, or an error naming the cell (_invalid_utf8); CAST would give the escaped
                # bytes, 'first-b\xC3\xA4nk' for first-bänk (Parquet review of 2026-12-05)
                expr = f"decode({source_ident})"
            elif spec_col.type == "timestamp" and type_.startswith("TIMESTAMP"):
                if _physical_type(con, path, name) == "INT96":
                    # Spark's default (outputTimestampType); DuckDB reads it as a TIMESTAMP
                    # without zone (Spark writes UTC, Impala local time) and cuts nanoseconds
                    # to microseconds unseen: until 2026-12-07 refused as a zoneless TIMESTAMP
                    refuse(
                        name,
                        None,
                        "INT96",
                        "a UTC timestamp: INT96 (a deprecated Parquet timestamp) records no time "
                        "zone, and its nanoseconds would be cut to microseconds unseen; write "
                        "TIMESTAMP(us) adjusted to UTC (pyarrow: tz='UTC' without "
                        "use_deprecated_int96_timestamps; Spark: "
                        "spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS) or ISO 8601 text",
                    )
                    continue
                refuse(
                    name,
                    None,
                    type_,
                    "a UTC timestamp: Parquet TIMESTAMP adjusted to UTC (pyarrow tz='UTC') or "
                    "ISO 8601 text like 2026-03-03T14:05:00Z; a timestamp without zone is ambiguous",
                )
                continue
            else:
                expr = f"CAST({source_ident} AS VARCHAR)"
            # An empty string in a Parquet text column means the same as an empty CSV field: null.
            selects.append(f"nullif({expr}, '') AS {ident}")
        if len(selects) < len(columns):
            return None
        select = f"SELECT {', '.join(selects) or '1 AS _none'} FROM {_read_parquet(path)}"
    else:
        try:
            header = read_csv_header(source)
        except LoneCarriageReturn:
            violations.append(
                Violation(
                    source.display,
                    0,
                    None,
                    "CR",
                    "a header row ending in LF or CRLF (this file's lines end in a carriage "
                    "return alone, the classic Mac OS form: convert them to LF)",
                )
            )
            return None
        except (OSError, UnicodeDecodeError, EOFError, csv.Error, zlib.error) as exc:
            # zlib.error: a gzip stream corrupt near its start (load review of 2026-12-05:
            # exit 4, "internal error")
            violations.append(
                Violation(source.display, 0, None, None, f"a UTF-8 CSV header row ({exc})")
            )
            return None
        if header is None:
            violations.append(
                Violation(source.display, 0, None, None, "a header row naming the columns")
            )
            return None
        columns = _columns_of(source, header, violations, warnings)
        if columns is None:
            return None
        # auto_detect=false: the sniffer would otherwise guess a comment character ('#') or
        # a header, and silently drop or shift rows; the contract fixes the dialect instead.
        # Columns are read by position (c0, c1, ...): a header may hold unknown columns that
        # are unnamed (a trailing comma) or repeated, which DuckDB cannot name.
        spec_columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
        select_list = ", ".join(f"c{header.index(c)} AS {quote_ident(c)}" for c in columns)
        select = (
            f"SELECT {select_list} FROM read_csv({path}, "
            f"header = true, auto_detect = false, columns = {{{spec_columns}}}, delim = ',', "
            "quote = '\"', escape = '\"', encoding = 'utf-8', hive_partitioning = false)"
        )
    text_timestamps = [
        name
        for name in columns
        if source.spec.column(name).type == "timestamp" and name not in typed
    ]
    sql = (
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT *{_parsed_select(text_timestamps)} FROM ({select})"
    )
    try:
        created = con.execute(sql).fetchall()  # CREATE TABLE AS returns the row count
    except duckdb.Error as exc:
        _raise_if_out_of_resources(exc)
        if source.format == "parquet":  # footer readable, data pages not (corrupt, truncated)
            utf8 = any(text in str(exc) for text in _UTF8_ERRORS)
            bad = _invalid_utf8(source, columns) if utf8 else None
            if bad is None and _TIMESTAMP_RANGE_ERROR in str(exc):
                bad = _timestamp_out_of_range(source, columns)
            violations.append(bad or _unreadable_parquet(source, exc))
            return None
        gzip_text = source.format == "csv.gz" and _NOT_GZIP in str(exc)
        padding = gzip_padding(source.path) if gzip_text else 0
        if padding:
            violations.append(
                Violation(
                    source.display,
                    None,
                    None,
                    f"{padding:,} zero byte(s) after the compressed data",
                    "a gzip file that ends where its compressed data ends (gzip ignores "
                    "trailing zero bytes, the reader does not): deliver it again without "
                    f"them, or recompress it (gzip -dc {source.path.name} | gzip > new.csv.gz)",
                )
            )
            return None
        match = _CSV_LINE.search(str(exc))
        mixed = None if match else _mixed_line_ending(source)
        if mixed is not None:
            line, ending, usual = mixed
            expected = (
                f"the header's {usual} line ending on every row (a file uses one line ending)"
                if ending != "CR"
                else "no carriage return outside quotes in a file of LF line endings (a field "
                "holding one is quoted)"
            )
            violations.append(
                Violation(source.display, _data_row(source, line), None, ending, expected)
            )
            return None
        row = _data_row(source, int(match.group(1))) if match else None
        cell = (
            _invalid_utf8_cell(source, int(match.group(1)), header or (), columns)
            if match is not None and _CSV_NOT_UTF8 in str(exc)
            else None
        )
        if cell is not None:
            violations.append(not_utf8(source.display, row, *cell))
            return None
        violations.append(
            Violation(
                source.display,
                row,
                None,
                None,
                f"a well-formed UTF-8 CSV row ({_duckdb_reason(exc)})",
            )
        )
        return None
    rows = int(created[0][0]) if created else 0
    return StagedFile(source, columns, rows, typed)


# DuckDB's CSV error for bytes that are not UTF-8: it names the line, not the column
_CSV_NOT_UTF8 = "Invalid unicode"
# DuckDB's refusal of bytes after a gzip member that start no other member (zero padding)
_NOT_GZIP = "Input is not a GZIP stream"


def not_utf8(display: str, row: int | None, column: str, raw: bytes) -> Violation:
    """A cell whose bytes are not UTF-8, shown with them escaped (CSV and Parquet alike)."""
    return Violation(display, row, column, raw.decode("utf-8", "backslashreplace"), "UTF-8 text")


def _invalid_utf8_cell(
    source: SourceFile, line: int, header: Sequence[str], loaded: Sequence[str]
) -> tuple[str, bytes] | None:
    """(column, the cell's bytes) of the first field of DuckDB's record
    `line` (header = 1, as _data_row counts) that is not UTF-8, among the `loaded` columns (the
    only ones DuckDB reads: a bad byte in an ignored column is no error), or None; the loader
    named the row alone (hostile-input review of 2026-12-07), as it had for Parquet. Error
    path only."""
    opener = gzip.open if source.format == "csv.gz" else open
    try:
        with opener(
            source.path, "rt", encoding="utf-8", errors="surrogateescape", newline=""
        ) as fh:
            record = next(itertools.islice(csv.reader(fh), line - 1, None), None)
    except (OSError, EOFError, csv.Error, zlib.error):
        return None
    read = {header.index(column) for column in loaded if column in header}
    for index, text in enumerate(record or ()):
        raw = text.encode("utf-8", "surrogateescape")
        if index in read and raw.decode("utf-8", "replace") != text:
            return header[index], raw
    return None


def _first_value_row(
    con: duckdb.DuckDBPyConnection, path: str, column: str
) -> tuple[bool, int | None]:
    """Whether the Parquet file's float `column` (a quoted identifier) holds a value (not null,
    not NaN), and the 1-based data row of the first one (None when the file has a column of its
    own named file_row_number, which DuckDB then cannot add). One query, no loop over rows:
    read only for a column written in floating point, refused when it holds a value."""
    import duckdb

    value = f"{column} IS NOT NULL AND NOT isnan({column})"
    try:
        [(first,)] = con.execute(
            f"SELECT min(file_row_number) FILTER (WHERE {value}) "
            f"FROM read_parquet({path}, hive_partitioning = false, file_row_number = true)"
        ).fetchall()
    except duckdb.BinderException:
        [(count,)] = con.execute(
            f"SELECT count(*) FILTER (WHERE {value}) FROM {_read_parquet(path)}"
        ).fetchall()
        return bool(count), None
    return first is not None, None if first is None else int(first) + 1


def _physical_type(con: duckdb.DuckDBPyConnection, path: str, name: str) -> str | None:
    """The Parquet physical type of the top-level column `name` (its first occurrence), e.g.
    INT96; None when the schema cannot be read. On the refusal path only."""
    import duckdb

    try:
        found = con.execute(
            f"SELECT type FROM parquet_schema({path}) WHERE name = ? LIMIT 1", [name]
        ).fetchall()
    except duckdb.Error:
        return None
    return str(found[0][0]) if found else None


def _read_parquet(path: str) -> str:
    """read_parquet of one file, without Hive partitioning: a parent directory named
    `asset=USDT` would otherwise add or overwrite a column `asset` in every row."""
    return f"read_parquet({path}, hive_partitioning = false)"


def _data_row(source: SourceFile, line: int) -> int | None:
    """The 1-based data row of the record DuckDB's CSV error calls line `line`.

    DuckDB numbers records, not physical lines: the header is line 1, a quoted field spanning
    several lines is one, and each blank line counts as one; the other messages number data
    rows, which skip blank lines (as DuckDB's reading does). So the data row is line - 1 minus
    the blank records before it, counted with the csv module (same quoting; a blank line is an
    empty record). On the error path only, and without a Python loop over the records: the
    reader, islice, map and sum all iterate in C."""
    opener = gzip.open if source.format == "csv.gz" else open
    try:
        with opener(source.path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            records = itertools.islice(csv.reader(fh), 1, max(line - 1, 1))  # after the header
            blank = sum(map(operator.not_, records))
    except (OSError, EOFError, csv.Error, zlib.error):
        return line - 1
    return line - 1 - blank


# Bytes scanned at a time for a line ending unlike the header's (error path only).
_SCAN_BYTES = 1 << 24
# In an LF file any carriage return outside a quoted field breaks DuckDB's reader, the CR of
# a CRLF and a lone CR alike (hostile-input review of 2026-12-07: a CR inside an unquoted
# field named no row)
_CR = re.compile(rb"\r")
_BARE_LF = re.compile(rb"(?<!\r)\n")


def _mixed_line_ending(source: SourceFile) -> tuple[int, str, str] | None:
    """(line, its ending, the header's ending) of the first record ending otherwise than the
    header (CRLF in an LF file, or the reverse, or a lone CR in an LF file), numbered as
    DuckDB numbers records (header = 1); None when the endings agree. DuckDB's CSV reader
    fails such a file without naming a line (a known gap until 2026-12-05: "the CSV Parser
    state machine reached an invalid state"). On the error path only, in chunks (memory does not grow with the file: diff review
    of 2026-12-05), an ending inside a quoted field not counted; the scanning and the record
    count run in C (re, bytes.count, csv, deque)."""
    opener = gzip.open if source.format == "csv.gz" else open
    try:
        with opener(source.path, "rb") as fh:
            found = _first_other_ending(fh)
        if found is None:
            return None
        end, header_crlf = found
        with opener(source.path, "rb") as fh:
            prefix = io.TextIOWrapper(
                io.BufferedReader(_Prefix(fh, end)), encoding="utf-8", errors="replace", newline=""
            )
            counted = collections.deque(enumerate(csv.reader(prefix), 1), maxlen=1)
            # in an LF file `end` is just past a CR: a CRLF, or a CR alone
            fh.seek(end)
            lone_cr = not header_crlf and fh.read(1) != b"\n"
    except (OSError, EOFError, zlib.error, csv.Error):
        return None
    line = counted[0][0] if counted else 1
    if header_crlf:
        return line, "LF", "CRLF"
    return line, "CR" if lone_cr else "CRLF", "LF"


def _first_other_ending(fh: io.BufferedIOBase) -> tuple[int, bool] | None:
    """(the file offset just past it, whether the header ends in CRLF) of the first line ending
    outside a quoted field that differs from the header's; None when there is none. A quoted
    field is one with an odd number of quote characters before it (RFC 4180 doubles a quote
    inside a field, which keeps the parity)."""
    header_crlf: bool | None = None
    quotes = 0  # quote characters before this chunk
    consumed = 0  # bytes before this chunk
    previous = b""  # the byte before this chunk (a CR whose LF starts the chunk)
    while chunk := fh.read(_SCAN_BYTES):
        data = previous + chunk
        start = len(previous)
        if header_crlf is None:
            first = data.find(b"\n")
            if first >= 0:
                header_crlf = data[first - 1 : first] == b"\r"
        if header_crlf is not None:  # else the header goes on in the next chunk
            pattern, search_from = (_BARE_LF, start) if header_crlf else (_CR, start)
            seen, counted = quotes, start  # quotes before `counted` (a running count: linear)
            for match in pattern.finditer(data, search_from):
                newline = match.end() - 1
                seen += data.count(b'"', counted, newline)
                counted = newline
                if seen % 2 == 0:
                    return consumed - start + newline + 1, header_crlf
        quotes += chunk.count(b'"')
        consumed += len(chunk)
        previous = chunk[-1:]
    return None


class _Prefix(io.RawIOBase):
    """The first `limit` bytes of a binary stream."""

    def __init__(self, stream: io.BufferedIOBase, limit: int) -> None:
        self._stream, self._left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        count = self._stream.readinto(view) or 0
        self._left -= count
        return count


def stage_empty(con: duckdb.DuckDBPyConnection, spec: FileSpec) -> None:
    """An empty ``raw_<name>`` for an absent optional file, so every rule query can run."""
    cols = [f"{quote_ident(c)} VARCHAR" for c in spec.column_names]
    cols += [
        f"{quote_ident(parsed_column(c.name))} TIMESTAMP"
        for c in spec.columns
        if c.type == "timestamp"
    ]
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{spec.name} ({', '.join(cols)})")
