"""Hypothesis properties of the loader over generated venues (issue 2, item 7):
the same day as CSV and as Parquet loads identical tables (typed Parquet: decimal columns as
Parquet DECIMAL(p,s) of random precision and scale or as integers, timestamps as UTC
TIMESTAMP), and shuffling input rows (of any file, in any order) changes no table content."""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshots import convert_all, load_tables, read_rows, write_rows

from reports.generate import GenerateOptions, generate

PROPERTY_SETTINGS = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _generated_day(root: Path, seed: int, accounts: int) -> Path:
    generate(GenerateOptions(accounts=accounts, days=1, seed=seed, out=root / "venue"))
    (day,) = sorted(p for p in (root / "venue").iterdir() if p.is_dir())
    return day


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**31 - 1),
    accounts=st.integers(40, 90),
    fmt=st.sampled_from(["parquet", "parquet-typed", "csv.gz"]),
    types_seed=st.integers(0, 2**31 - 1),
)
def test_csv_and_other_formats_load_identical_tables(
    seed: int, accounts: int, fmt: str, types_seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        day = _generated_day(root, seed, accounts)
        as_csv = load_tables(day)
        converted = root / "converted" / day.name
        shutil.copytree(day, converted)
        convert_all(converted, fmt, seed=types_seed)
        assert not list(converted.glob("*.csv"))
        assert load_tables(converted) == as_csv


@PROPERTY_SETTINGS
@given(seed=st.integers(0, 2**31 - 1), shuffle_seed=st.integers(0, 2**31 - 1))
def test_shuffling_input_rows_changes_no_table_content(seed: int, shuffle_seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        day = _generated_day(root, seed, 50)
        before = load_tables(day)
        rng = random.Random(shuffle_seed)
        for path in sorted(day.glob("*.csv")):
            header, rows = read_rows(day, path.name.removesuffix(".csv"))
            rng.shuffle(rows)
            write_rows(day, path.name.removesuffix(".csv"), header, rows)
        assert load_tables(day) == before
