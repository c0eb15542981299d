"""Helpers for tests that need a snapshot directory: copy the hand-made fixture, corrupt a cell,
drop a column or rows, convert a file to .csv.gz or Parquet.

Test data is tiny, so plain Python (csv module) is fine here; the loader itself is set-based.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SNAPSHOT_MIN = FIXTURES / "snapshot_min" / "2026-03-02"
AS_OF = "2026-03-02"

# Parquet column types for a "typed" Parquet export (what a venue's data lake would write).
_PARQUET_TYPES = {
    "decimal": "DECIMAL(38,18)",
    "integer": "INTEGER",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
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


def to_parquet(
    directory: Path, file: str, *, typed: bool = False, con: duckdb.DuckDBPyConnection | None = None
) -> Path:
    """Rewrite ``file.csv`` as ``file.parquet``: all text columns, or with the contract's types
    (DECIMAL(38,18), INTEGER, DATE, TIMESTAMPTZ) when ``typed``."""
    from reports.spec import FILES

    source = csv_path(directory, file)
    target = directory / f"{file}.parquet"
    header, _ = read_rows(directory, file)
    spec = FILES[file]
    selects = []
    for name in header:
        ident = '"' + name + '"'
        type_ = spec.column(name).type if typed and name in spec.column_names else "text"
        if type_ == "timestamp":
            expr = f"CAST(replace(replace({ident}, 'Z', '+00:00'), 'T', ' ') AS TIMESTAMPTZ)"
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
            f"COPY (SELECT {', '.join(selects)} FROM read_csv('{source}', header = true, "
            f"auto_detect = false, columns = {{{columns}}}, delim = ',', quote = '\"', escape = '\"')) "
            f"TO '{target}' (FORMAT parquet)"
        )
    finally:
        if own:
            con.close()
    source.unlink()
    return target


def convert_all(directory: Path, fmt: str) -> None:
    """Every CSV of the snapshot to ``fmt``: csv | csv.gz | parquet | parquet-typed."""
    con = duckdb.connect()
    try:
        for path in sorted(directory.glob("*.csv")):
            file = path.name.removesuffix(".csv")
            if fmt == "csv.gz":
                to_csv_gz(directory, file)
            elif fmt in ("parquet", "parquet-typed"):
                to_parquet(directory, file, typed=fmt == "parquet-typed", con=con)
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
