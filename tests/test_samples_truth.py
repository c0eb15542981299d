"""samples/ against its truth.csv: on the planted day, every check (all families) finds exactly
what the generator planted, and nothing else."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest
from conftest import SAMPLES

from reports.checks.engine import all_exceptions, run_checks
from reports.config import Config
from reports.db import init_schema
from reports.load import load_snapshot

KEY = ("check_id", "status", "entity_type", "entity_id", "instrument_id", "asset")


@pytest.mark.slow
def test_every_planted_finding_is_found_and_nothing_else() -> None:
    with (SAMPLES / "truth.csv").open(newline="") as handle:
        truth_rows = list(csv.DictReader(handle))
    (planted_day,) = {row["as_of"] for row in truth_rows}
    days = sorted(p for p in SAMPLES.iterdir() if p.is_dir() and p.name <= planted_day)
    con = duckdb.connect()
    init_schema(con)
    for day in days[-2:]:  # the planted day and the one before it (roll-forward checks)
        load_snapshot(con, day)
    result = run_checks(con, dt.date.fromisoformat(planted_day), Config())
    assert not [r.check_id for r in result.results if r.status == "error"]
    found = {
        tuple(row[k] or "" for k in KEY) for row in all_exceptions(result).iter_rows(named=True)
    }
    planted = {tuple(row[k] for k in KEY) for row in truth_rows}
    assert found - planted == set(), "found but not planted"
    assert planted - found == set(), "planted but not found"
    families = {row[0].split("-")[0] for row in planted}
    assert families == {"SEG", "CON", "CAP"}


def test_truth_notes_give_a_cross_account_transfer_its_direction() -> None:
    """Regulator's review of 2026-12-06: truth.csv said the sending bucket's transfer came
    "from" the other account's bucket and the receiving one's went "to" it. The note now
    follows the sign of the bucket's own margin_transfer leg."""
    with (SAMPLES / "truth.csv").open(newline="") as handle:
        notes = {
            row["entity_id"]: row["note"]
            for row in csv.DictReader(handle)
            if "another account's bucket" in row["note"]
        }
    assert notes
    day = sorted(p for p in SAMPLES.iterdir() if p.is_dir())[-1]
    with (day / "movements.csv").open(newline="") as handle:
        legs = {
            row["position_id"]: row["amount"]
            for row in csv.DictReader(handle)
            if row["kind"] == "margin_transfer" and row["position_id"] in notes
        }
    for position, note in notes.items():
        direction = "to" if legs[position].startswith("-") else "from"
        assert note.startswith(f"margin_transfer {direction} another account's bucket"), note
