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

import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.db import connect_with, schema_fingerprint, stored_fingerprint
from reports.errors import UsageError
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
PARAM_TYPES = ("text", "date", "integer", "count", "boolean", "decimal")
# integer and count parameters bind as SQL INTEGER (LIMIT, day counts): bounded to its range
MAX_INTEGER = 2**31 - 1
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


def run_sql(path: Path, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
    """Run one read-only statement (or several; the last one's result is returned)."""
    import duckdb
    import polars as pl

    con = connect_read_only(path)
    started = time.perf_counter()
    outdated = stored_fingerprint(con) != schema_fingerprint()
    hint = f" (this database's schema is not this mir's: run `mir init --db {path}`)"
    try:
        relation = con.sql(sql, params=params or {})
        frame = _frame(relation) if relation is not None else pl.DataFrame()
    except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
        text = str(exc)
        refused = (
            "read-only",
            "disabled by configuration",
            "disabled through configuration",
            "locked",
        )
        if isinstance(exc, duckdb.PermissionException) or any(word in text for word in refused):
            msg = f"mir sql is read-only: writes, COPY, ATTACH, file access and settings changes are refused ({text.splitlines()[0]})"
            raise UsageError(msg) from None
        msg = f"SQL error: {text}" + (hint if outdated else "")
        raise UsageError(msg) from None
    except duckdb.Error as exc:
        msg = f"SQL error: {exc}" + (hint if outdated else "")
        raise UsageError(msg) from None
    finally:
        con.close()
    return QueryResult(frame, time.perf_counter() - started, schema_outdated=outdated)


# DuckDB types Polars cannot hold: returned as their DuckDB text (e.g. '1 day').
_AS_TEXT = ("INTERVAL",)


def _frame(relation: Any) -> pl.DataFrame:
    """The relation's rows as a Polars frame; columns of a type Polars cannot hold as text."""
    columns = relation.columns
    types = [str(t) for t in relation.types]
    if any(t.startswith(_AS_TEXT) for t in types):
        quoted = ['"' + c.replace('"', '""') + '"' for c in columns]
        relation = relation.project(
            ", ".join(
                f"CAST({q} AS VARCHAR) AS {q}" if t.startswith(_AS_TEXT) else q
                for q, t in zip(quoted, types, strict=True)
            )
        )
    return relation.pl()


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    help: str

    def convert(self, raw: str) -> Any:
        try:
            if self.type == "date":
                return parse_iso_date(raw)
            if self.type == "integer":
                if not -MAX_INTEGER <= int(raw) <= MAX_INTEGER:
                    raise ValueError(raw)
                return int(raw)
            if self.type == "count":
                if not 1 <= int(raw) <= MAX_INTEGER:
                    raise ValueError(raw)
                return int(raw)
            if self.type == "boolean":
                if raw not in ("true", "false"):
                    raise ValueError(raw)
                return raw == "true"
            if self.type == "decimal":
                return Decimal(raw)
        except (ValueError, InvalidOperation):
            kinds = {
                "count": f"whole number from 1 to {MAX_INTEGER:,}",
                "integer": f"whole number within +-{MAX_INTEGER:,}",
                "boolean": "true or false",
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

    def bind(self, raw: dict[str, str]) -> dict[str, Any]:
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            msg = f"{self.name} has no parameter {unknown[0]!r}; it takes: {', '.join(known) or 'none'}"
            raise UsageError(msg)
        bound: dict[str, Any] = {}
        for param in self.parameters:
            if param.name in raw:
                bound[param.name] = param.convert(raw[param.name])
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


def run_investigation(path: Path, name: str, raw_params: dict[str, str]) -> QueryResult:
    investigation = get_investigation(name)
    return run_sql(path, investigation.sql, investigation.bind(raw_params))
