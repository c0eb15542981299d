"""Helpers for tests that need a snapshot directory: copy the hand-made fixture, corrupt a cell,
drop a column or rows, convert a file to .csv.gz or Parquet.

Test data is tiny, so plain Python (csv module) is fine here; the loader itself is set-based.
"""

from __future__ import annotations

import csv
import gzip
import random
import shutil
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path

import duckdb

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SNAPSHOT_MIN = FIXTURES / "snapshot_min" / "2026-03-02"
AS_OF = "2026-03-02"

# Parquet column types for a "typed" Parquet export (what a venue's data lake would write);
# decimal columns get a type chosen per column by typed_decimal_type.
_PARQUET_TYPES = {
    "integer": "INTEGER",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
}
# Integer types and their ranges, for decimal columns whose values are all integers (Parquet has
# no 128-bit integer: DuckDB would write a HUGEINT as DOUBLE).
_INTEGER_RANGES = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "UTINYINT": (0, 2**8 - 1),
    "USMALLINT": (0, 2**16 - 1),
    "UINTEGER": (0, 2**32 - 1),
    "UBIGINT": (0, 2**64 - 1),
}


def copy_snapshot(root: Path, name: str = AS_OF, source: Path = SNAPSHOT_MIN) -> Path:
    """A fresh copy of the fixture snapshot at ``root/name``."""
    target = root / name
    shutil.copytree(source, target)
    return target


def csv_path(directory: Path, file: str) -> Path:
    return directory / f"{file}.csv"


def read_rows(directory: Path, file: str) -> tuple[list[str], list[list[str]]]:
    with csv_path(directory, file).open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_rows(directory: Path, file: str, header: list[str], rows: list[list[str]]) -> None:
    with csv_path(directory, file).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def set_cell(directory: Path, file: str, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` is the 1-based data row (as in the loader's messages)."""
    header, rows = read_rows(directory, file)
    rows[row - 1][header.index(column)] = value
    write_rows(directory, file, header, rows)


def delete_rows(directory: Path, file: str, predicate: Callable[[dict[str, str]], bool]) -> int:
    """Delete the rows for which ``predicate(row as dict)`` is true; returns how many."""
    header, rows = read_rows(directory, file)
    kept = [r for r in rows if not predicate(dict(zip(header, r, strict=True)))]
    write_rows(directory, file, header, kept)
    return len(rows) - len(kept)


def drop_column(directory: Path, file: str, column: str) -> None:
    header, rows = read_rows(directory, file)
    i = header.index(column)
    write_rows(directory, file, header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])


def add_column(directory: Path, file: str, column: str, value: str = "") -> None:
    header, rows = read_rows(directory, file)
    write_rows(directory, file, [*header, column], [[*r, value] for r in rows])


def to_csv_gz(directory: Path, file: str) -> Path:
    source = csv_path(directory, file)
    target = directory / f"{file}.csv.gz"
    # mtime=0: the same bytes every time, so hashes are reproducible.
    with source.open("rb") as fin, gzip.GzipFile(target, "wb", mtime=0) as fout:
        shutil.copyfileobj(fin, fout)
    source.unlink()
    return target


def typed_decimal_type(values: list[str], rng: random.Random) -> str:
    """A Parquet type that holds every value of a decimal column exactly, picked at random:
    an integer type (when the values are integers), or DECIMAL(p,s) with any scale from the
    one needed up to 20 and any precision that fits (so both p - s <= 20 and the DECIMAL(38,8)
    a data lake typically writes, and sometimes a scale above 18)."""
    numbers = [Decimal(v) for v in values if v != ""]
    scale = max((max(0, -int(n.normalize().as_tuple().exponent)) for n in numbers), default=0)
    digits = max((len(str(int(abs(n)))) for n in numbers), default=1)
    if scale == 0 and rng.random() < 0.4:
        low, high = (
            min((int(n) for n in numbers), default=0),
            max((int(n) for n in numbers), default=0),
        )
        fitting = [t for t, (lo, hi) in _INTEGER_RANGES.items() if lo <= low and high <= hi]
        return rng.choice(fitting)
    s = rng.randint(scale, max(scale, min(20, 38 - digits)))
    p = rng.randint(min(38, max(1, s + digits)), 38)
    return f"DECIMAL({p},{s})"


def to_parquet(
    directory: Path,
    file: str,
    *,
    typed: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
    seed: int = 0,
    types: Mapping[str, str] | None = None,
) -> Path:
    """Rewrite ``file.csv`` as ``file.parquet``: all text columns, or with the contract's types
    when ``typed`` (INTEGER, DATE, TIMESTAMPTZ; decimals as a Parquet DECIMAL or integer type
    chosen per column by typed_decimal_type from ``seed``). ``types`` sets the DuckDB type of
    given columns (e.g. {"price": "DECIMAL(10,2)"}) whatever ``typed`` says."""
    from reports.load.reader import duckdb_path
    from reports.spec import FILES

    source = csv_path(directory, file)
    target = directory / f"{file}.parquet"
    header, rows = read_rows(directory, file)
    spec = FILES[file]
    selects = []
    numeric: list[str] = []  # columns written as numbers: checked to hold the text exactly
    for i, name in enumerate(header):
        ident = '"' + name + '"'
        type_ = spec.column(name).type if typed and name in spec.column_names else "text"
        if types and name in types:
            expr = f"CAST({ident} AS {types[name]})"
            if "DECIMAL" in types[name] or "INT" in types[name]:
                numeric.append(name)
        elif type_ == "timestamp":
            expr = f"CAST(replace(replace({ident}, 'Z', '+00:00'), 'T', ' ') AS TIMESTAMPTZ)"
        elif type_ == "decimal":
            rng = random.Random(f"{seed}:{file}:{name}")
            expr = f"CAST({ident} AS {typed_decimal_type([r[i] for r in rows], rng)})"
            numeric.append(name)
        elif type_ in _PARQUET_TYPES:
            expr = f"CAST({ident} AS {_PARQUET_TYPES[type_]})"
        else:
            expr = ident
        selects.append(f"{expr} AS {ident}")
    columns = ", ".join(f"'{n}': 'VARCHAR'" for n in header)
    own = con is None
    con = con or duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"COPY (SELECT {', '.join(selects)} FROM read_csv({duckdb_path(source)}, "
            f"header = true, auto_detect = false, columns = {{{columns}}}, delim = ',', "
            "quote = '\"', escape = '\"', hive_partitioning = false)) "
            f"TO '{target}' (FORMAT parquet)"
        )
        # DuckDB rounds when a CAST drops decimals: make sure no test data was changed that way.
        for name in numeric:
            written = con.execute(
                f'SELECT CAST("{name}" AS VARCHAR) FROM '
                f"read_parquet({duckdb_path(target)}, hive_partitioning = false)"
            ).fetchall()
            original = [r[header.index(name)] for r in rows]
            for (got,), want in zip(written, original, strict=True):
                assert (got is None and want == "") or Decimal(got) == Decimal(want), (
                    f"{file}.{name}: {want!r} written as {got!r}"
                )
    finally:
        if own:
            con.close()
    source.unlink()
    return target


def convert_all(directory: Path, fmt: str, seed: int = 0) -> None:
    """Every CSV of the snapshot to ``fmt``: csv | csv.gz | parquet | parquet-typed (``seed``
    picks the Parquet types of the decimal columns, see typed_decimal_type)."""
    con = duckdb.connect()
    try:
        for path in sorted(directory.glob("*.csv")):
            file = path.name.removesuffix(".csv")
            if fmt == "csv.gz":
                to_csv_gz(directory, file)
            elif fmt in ("parquet", "parquet-typed"):
                to_parquet(directory, file, typed=fmt == "parquet-typed", con=con, seed=seed)
    finally:
        con.close()


def memory_db() -> duckdb.DuckDBPyConnection:
    """An in-memory database with the whole schema (the loader also values each date it loads,
    through the views)."""
    from reports.db import init_schema

    con = duckdb.connect()
    init_schema(con)
    return con


def table_contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every snapshot table's rows, sorted: equal contents compare equal whatever the row order."""
    from reports.spec import FILES

    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in FILES}


def load_tables(snapshot: Path, **kwargs: object) -> dict[str, list[tuple]]:
    """Load ``snapshot`` into a fresh in-memory database and return its table contents."""
    from reports.load import load_snapshot

    con = memory_db()
    try:
        load_snapshot(con, snapshot, **kwargs)  # type: ignore[arg-type]
        return table_contents(con)
    finally:
        con.close()
