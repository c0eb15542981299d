"""The snapshot loader: read, validate (every rule of DESIGN.md section 3), load atomically.

    from reports.load import load_snapshot
    summary = load_snapshot(con, "snapshots/2026-03-02")

``reader`` stages each file as all-VARCHAR text in DuckDB, ``validate`` checks the contract with
set-based SQL (queries/load/), ``loader`` replaces the date in one transaction and records the
load in the `loads` audit table.
"""

from __future__ import annotations

from reports.load.loader import FileLoad, LoadSummary, load_snapshot, resolve_as_of

__all__ = ["FileLoad", "LoadSummary", "load_snapshot", "resolve_as_of"]
