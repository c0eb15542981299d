"""Where the SQL and templates live, from a checkout or from an installed wheel."""

from __future__ import annotations

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
