"""The DuckDB database: where it is, opening it, creating its schema and views."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from reports.errors import UsageError
from reports.paths import queries_dir

if TYPE_CHECKING:
    import duckdb

DEFAULT_DB = "mir.duckdb"
DB_ENV = "MIR_DB"


def resolve_db_path(db: str | os.PathLike[str] | None) -> Path:
    """--db wins, then $MIR_DB, then ./mir.duckdb."""
    return Path(db or os.environ.get(DB_ENV) or DEFAULT_DB)


def schema_scripts() -> list[Path]:
    """Schema, then views, each folder in file-name order (views may build on each other)."""
    root = queries_dir()
    return sorted((root / "schema").glob("*.sql")) + sorted((root / "views").glob("*.sql"))


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    import duckdb

    if read_only and not path.exists():
        msg = f"no database at {path}; run `mir init` and `mir load DIR` first (or pass --db)"
        raise UsageError(msg)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = f"cannot open the database {path}: {exc}"
        raise UsageError(msg) from exc


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table, macro and view; idempotent (CREATE IF NOT EXISTS / OR REPLACE)."""
    for script in schema_scripts():
        con.execute(script.read_text(encoding="utf-8"))


def init_db(path: Path) -> Path:
    """`mir init`: create the database file and its schema, or bring an existing one up to date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(path)
    try:
        con.execute("BEGIN TRANSACTION")
        init_schema(con)
        con.execute("COMMIT")
    finally:
        con.close()
    return path


@contextmanager
def open_db(db: str | os.PathLike[str] | None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database (creating the schema when writable) and close it afterwards."""
    path = resolve_db_path(db)
    if not read_only:
        init_db(path)
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def loaded_dates(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The as-of dates with data, oldest first (ISO strings)."""
    rows = con.execute(
        "SELECT DISTINCT as_of_date FROM loads ORDER BY as_of_date"
    ).fetchall()
    return [r[0].isoformat() for r in rows]
