"""Where the SQL and templates live, from a checkout or from an installed wheel."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    # A wheel ships queries/ and templates/ inside the package as _queries/_templates
    # (pyproject force-include); an editable install or a checkout reads the top-level folders.
    installed = _PACKAGE / f"_{name}"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    msg = f"cannot find the {name}/ folder next to {_PACKAGE}; reinstall mir"
    raise FileNotFoundError(msg)


def queries_dir() -> Path:
    return _resource_dir("queries")


def templates_dir() -> Path:
    return _resource_dir("templates")


def read_query(relative: str) -> str:
    """The text of one SQL file under queries/, e.g. ``read_query("views/v_positions.sql")``."""
    return (queries_dir() / relative).read_text(encoding="utf-8")


@functools.cache
def engine_versions() -> bytes:
    """DuckDB's and Polars' versions: the engines that compute every figure (part of the code
    fingerprint and of the schema's, reports.db)."""
    from importlib.metadata import version

    return f"duckdb {version('duckdb')}\0polars {version('polars')}".encode()


def code_fingerprint() -> str:
    """SHA-256 over mir's own code, the SQL of queries/ and the Python of the package, and the
    engines' versions: part of a check run's id (reports.checks.engine.compute_run_id), so that
    a run recorded by other code (an upgrade, a fix between releases of the same version, another
    DuckDB or Polars) is never reused as if it were this code's result. Computed once per
    process."""
    return _code_fingerprint()


@functools.cache
def _code_fingerprint() -> str:
    digest = hashlib.sha256(engine_versions())
    root = queries_dir()
    files = [(f"queries/{p.relative_to(root).as_posix()}", p) for p in root.rglob("*.sql")]
    files += [(f"reports/{p.relative_to(_PACKAGE).as_posix()}", p) for p in _PACKAGE.rglob("*.py")]
    for name, path in sorted(files):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
