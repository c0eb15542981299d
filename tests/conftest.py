"""Shared fixtures: an in-process CLI runner, a fresh database path, snapshot writers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reports.cli import cli

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mir.duckdb"


@pytest.fixture
def run_mir(db_path: Path) -> Callable[..., Result]:
    """Run `mir ARGS` in-process against the test's own database; returns click's Result."""

    def run(*args: str, db: Path | None = db_path) -> Result:
        argv = [str(a) for a in args]
        env = {"MIR_DB": str(db)} if db is not None else {}
        return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)

    return run
