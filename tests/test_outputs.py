"""The machine-readable outputs of `mir report` (DESIGN.md section 6): exact headers and keys,
half-even presentation rounding, byte-identical CSVs and summary.json across runs and across
shuffled input rows. No PDF here (tests/test_report.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from reports.config import Config
from reports.db import open_db
from reports.render import outputs
from reports.render.build import ensure_check_run, gather
from reports.render.report import output_files

AS_OF = dt.date(2026, 3, 2)
DAYS = (AS_OF,)  # one day keeps the module fast; the roll-forward checks are then not_evaluated

EXCEPTIONS_HEADER = (
    "check_id,status,entity_type,entity_id,instrument_id,asset,metric,value,threshold,message"
)
SEGREGATION_HEADER = (
    "asset,client_requirement,held,excess,coverage_ratio,price,requirement_usd,held_usd,"
    "excess_usd,deficits,isolated_bad_debt"
)
CAPITAL_HEADER = "line,item,amount"
STRESS_HEADER = "scenario,cover1_usd,cover2_usd,total_shortfall_usd,insurance_fund_usd,status"


def generate_snapshots(out: Path, accounts: int = 40, seed: int = 11) -> Path:
    from reports.generate import GenerateOptions, generate

    generate(
        GenerateOptions(
            accounts=accounts, days=len(DAYS), seed=seed, out=out, start=DAYS[0], inject=("all",)
        )
    )
    return out


def load_days(db: Path, snapshots: Path) -> None:
    from reports.load import load_snapshot

    with open_db(db) as con:
        for day in DAYS:
            load_snapshot(con, snapshots / day.isoformat())


def outputs_of(db: Path, config: Config, *, fresh_run: bool = False) -> dict[str, bytes]:
    """The output bytes; fresh_run runs the checks again instead of reusing the recorded run."""
    from reports.checks.engine import all_exceptions, run_checks
    from reports.render.build import CheckOutcomeRow, CheckRun

    with open_db(db) as con:
        if fresh_run:
            result = run_checks(con, AS_OF, config, record=False)
            outcomes = [
                CheckOutcomeRow(r.check_id, r.title, str(r.status), r.exceptions, r.message)
                for r in result.results
            ]
            run = CheckRun(result.run_id, AS_OF, False, outcomes, all_exceptions(result))
        else:
            run = ensure_check_run(con, AS_OF, config)
        return output_files(gather(con, AS_OF, config, run))


def shuffle_rows(directory: Path, seed: int) -> None:
    """Shuffle the data rows of every CSV of a snapshot directory (header kept)."""
    rng = random.Random(seed)
    for path in sorted(directory.glob("*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        body = lines[1:]
        rng.shuffle(body)
        path.write_text(lines[0] + "".join(body), encoding="utf-8")


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_snapshots(tmp_path_factory.mktemp("snapshots"))


@pytest.fixture(scope="module")
def database(snapshots: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("db") / "mir.duckdb"
    load_days(db, snapshots)
    return db


@pytest.fixture(scope="module")
def files(database: Path) -> dict[str, bytes]:
    return outputs_of(database, Config())


# --- rounding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("0.125", 2, "0.12"),  # half-even: down to the even cent
        ("0.135", 2, "0.14"),
        ("-0.125", 2, "-0.12"),
        ("2.5", 0, "2"),
        ("0.000000005", 8, "0.00000000"),
        ("0.000000015", 8, "0.00000002"),
        ("-0.001", 2, "0.00"),  # no negative zero
        ("1234567.891", 2, "1234567.89"),
        ("100", 8, "100.00000000"),
    ],
)
def test_decimal_text_rounds_half_even(value: str, places: int, expected: str) -> None:
    assert outputs.decimal_text(Decimal(value), places) == expected


def test_rounded_expr_matches_decimal_text() -> None:
    values = ["0.125", "0.135", "-0.125", "-0.001", "0.005000000000000001", "7"]
    frame = pl.DataFrame({"v": [Decimal(v) for v in values]}, schema={"v": pl.Decimal(38, 18)})
    got = frame.select(outputs.rounded_expr("v", 2)).get_column("v").to_list()
    assert got == [outputs.decimal_text(Decimal(v), 2) for v in values]
    assert got == ["0.12", "0.14", "-0.12", "0.00", "0.01", "7.00"]


def test_capital_frame_rounds_each_line_by_its_unit() -> None:
    lines = pl.DataFrame(
        {
            "line": [1, 2, 3, 4],
            "item": ["K-ASA: coefficient", "K-ASA: average", "K-ASA: days used", "Own funds"],
            "amount": [Decimal("0.0004"), Decimal("0.125"), Decimal("2.5"), Decimal("10.005")],
            "unit": ["ratio", "usd", "count", "usd"],
        },
        schema={
            "line": pl.Int64,
            "item": pl.String,
            "amount": pl.Decimal(38, 18),
            "unit": pl.String,
        },
    )
    amounts = outputs.capital_frame(lines).get_column("amount").to_list()
    assert amounts == ["0.00040000", "0.12", "2", "10.00"]


# --- contract: headers and keys ---------------------------------------------------------------


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_csv_headers_are_the_contract(files: dict[str, bytes]) -> None:
    assert files["exceptions.csv"].split(b"\n", 1)[0].decode() == EXCEPTIONS_HEADER
    assert files["segregation.csv"].split(b"\n", 1)[0].decode() == SEGREGATION_HEADER
    assert files["capital.csv"].split(b"\n", 1)[0].decode() == CAPITAL_HEADER
    assert files["stress.csv"].split(b"\n", 1)[0].decode() == STRESS_HEADER
    assert files["concentration.csv"].startswith(b"check_id,entity_type,entity_id,")
    for name in outputs.CSV_FILES:
        assert b"\r" not in files[name], name
        assert files[name].endswith(b"\n"), name


def test_summary_keys_are_the_contract(files: dict[str, bytes]) -> None:
    summary = json.loads(files["summary.json"])
    assert list(summary) == [
        "as_of",
        "run_id",
        "status",
        "checks",
        "segregation",
        "capital",
        "stress",
        "inputs",
    ]
    assert summary["as_of"] == AS_OF.isoformat()
    assert summary["status"] == "breach"  # the generator planted breaches
    for check in summary["checks"].values():
        assert list(check) == ["status", "exceptions"]
        assert check["status"] in ("pass", "warn", "breach", "not_evaluated", "error")
        assert isinstance(check["exceptions"], int)
    assert {"SEG-01", "CON-01", "CAP-01", "CAP-04"} <= set(summary["checks"])
    for figures in summary["segregation"].values():
        assert list(figures) == ["client_requirement", "held", "excess"]
        assert all(isinstance(v, str) and len(v.split(".")[1]) == 8 for v in figures.values())
    assert list(summary["capital"]) == ["regime", "own_funds", "requirement", "ratio"]
    assert summary["capital"]["regime"] == "ifr"
    assert len(summary["capital"]["own_funds"].split(".")[1]) == 2
    assert len(summary["capital"]["ratio"].split(".")[1]) == 8
    assert list(summary["stress"]) == ["down_30", "up_30"]
    for figures in summary["stress"].values():
        assert list(figures) == ["cover1_usd", "cover2_usd", "insurance_fund_usd", "status"]
    assert set(summary["inputs"]) >= {"accounts", "positions", "custody", "capital", "prices"}
    for entry in summary["inputs"].values():
        assert list(entry) == ["sha256", "rows"]
        assert len(entry["sha256"]) == 64 and isinstance(entry["rows"], int)


def test_exceptions_csv_holds_every_exception_sorted(files: dict[str, bytes]) -> None:
    summary = json.loads(files["summary.json"])
    rows = _rows(files["exceptions.csv"])[1:]
    assert len(rows) == sum(c["exceptions"] for c in summary["checks"].values())
    keys = [(r[0], r[3], r[4], r[5]) for r in rows]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1], k[2] or "\uffff", k[3] or "\uffff"))
    statuses = {r[0] for r in rows}
    assert {"SEG-01", "SEG-07"} <= statuses
    assert "SEG-04" not in statuses  # one stored day: the roll-forward is not evaluated
    for r in rows:
        for cell in (r[7], r[8]):  # value, threshold: 8 decimals or empty
            assert cell == "" or len(cell.split(".")[1]) == 8


# Every metric the checks emit, by the places exceptions.csv shows: reporting-currency amounts
# to 2 decimals, asset amounts, prices, ratios and indices to 8 (DESIGN.md section 4).
USD_EXCEPTION_METRICS = ("cet1", "cet1_at1", "total", "liquid_assets", "var", "es", "cover1",
                         "cover2", "cover3", "own_funds", "shortfall_usd")  # fmt: skip
UNIT_EXCEPTION_METRICS = (
    "excess", "negative_isolated_margin", "no_isolated_margin", "cross_margin",
    "rollforward_difference", "isolation_breach", "transfer_not_netting", "missed_liquidation",
    "bad_debt", "negative_equity", "reported_upnl_difference", "oi_share", "hhi",
    "custodian_share", "hot_wallet_share", "collateral_share", "large_exposure_share",
    "own_funds_ratio", "unpriced_shock_asset",
)  # fmt: skip


def _exceptions_of(metrics: tuple[str, ...], value: str) -> pl.DataFrame:
    from reports.checks.model import exception_schema

    rows = {
        "check_id": ["X-01"] * len(metrics),
        "status": ["breach"] * len(metrics),
        "entity_type": ["firm"] * len(metrics),
        "entity_id": list(metrics),
        "instrument_id": [None] * len(metrics),
        "asset": [None] * len(metrics),
        "metric": list(metrics),
        "value": [Decimal(value)] * len(metrics),
        "threshold": [Decimal(value) * 2] * len(metrics),
        "message": ["m"] * len(metrics),
    }
    return pl.DataFrame(rows, schema={"check_id": pl.String, **exception_schema()})


def test_exceptions_show_reporting_currency_metrics_in_cents() -> None:
    presented = outputs.exceptions_frame(
        _exceptions_of(USD_EXCEPTION_METRICS + UNIT_EXCEPTION_METRICS, "107595.439853035")
    )
    shown = {r["metric"]: (r["value"], r["threshold"]) for r in presented.iter_rows(named=True)}
    for metric in USD_EXCEPTION_METRICS:
        assert shown[metric] == ("107595.44", "215190.88"), metric
    for metric in UNIT_EXCEPTION_METRICS:
        assert shown[metric] == ("107595.43985304", "215190.87970607"), metric


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_exceptions_differing_only_by_entity_type_have_one_order(order: list[int]) -> None:
    """Review of 2026-12-04: entity_type was not a sort key, so two rows alike in every other
    column (a position and a transfer of the same id) could come out in either order."""
    two = _exceptions_of(("m1",), "1")
    two = pl.concat([two, two.with_columns(pl.lit("transfer").alias("entity_type"))])
    presented = outputs.exceptions_frame(two[order])
    assert presented["entity_type"].to_list() == ["firm", "transfer"]


def test_every_emitted_metric_has_its_places(database: Path) -> None:
    """Run every check with limits that trip the capital, stress and VaR checks: each metric in
    the result is one of the two lists above (a new metric must be placed in one)."""
    from reports.checks.engine import all_exceptions, run_checks
    from reports.config import parse_config

    config = parse_config(
        {
            "capital": {"early_warning": "10"},
            "var": {"own_funds_share_warn": "0.0000001"},
            "stress": {
                "scenarios": [{"name": "squeeze", "shocks": {"*": "9", "USDT": "-1", "USDC": "-1"}}]
            },
        }
    )
    with open_db(database) as con:
        result = run_checks(con, AS_OF, config, record=False)
    emitted = set(all_exceptions(result)["metric"].to_list())
    assert {"own_funds_ratio", "var"} <= emitted and emitted & {"cover1", "cover2"}
    assert emitted <= set(USD_EXCEPTION_METRICS) | set(UNIT_EXCEPTION_METRICS), emitted


def test_segregation_and_stress_rounding(files: dict[str, bytes]) -> None:
    header, *rows = _rows(files["segregation.csv"])
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    for r in rows:
        for name, cell in zip(header, r, strict=True):
            if name == "asset" or cell == "":
                continue
            places = 2 if name.endswith("_usd") else 8
            assert len(cell.split(".")[1]) == places, (name, cell)
        # excess = held - requirement, exactly, at 8 dp (half-even can differ by 1e-8)
        held, requirement, excess = (
            Decimal(r[header.index(c)]) for c in ("held", "client_requirement", "excess")
        )
        assert abs(held - requirement - excess) <= Decimal("0.00000001")
    header, *rows = _rows(files["stress.csv"])
    assert [r[0] for r in rows] == ["down_30", "up_30"]
    for r in rows:
        assert all(len(c.split(".")[1]) == 2 for c in r[1:5])
        assert r[5] in ("pass", "warn", "breach")


# --- determinism ------------------------------------------------------------------------------


def test_outputs_are_byte_identical_across_runs(
    database: Path, files: dict[str, bytes], duckdb_threads: Callable[[int], None], tmp_path: Path
) -> None:
    # a second, independent check run and computation over the same stored inputs, with DuckDB
    # on four threads where the suite runs it on one (conftest)
    duckdb_threads(4)
    import duckdb

    assert duckdb.connect().execute("SELECT current_setting('threads')").fetchone() == (4,)
    again = outputs_of(database, Config(), fresh_run=True)
    assert set(again) == set(files)
    for name in files:
        assert again[name] == files[name], name
    # and in a process of its own, with Polars on four threads too: the suite's Polars has one
    # (conftest), fixed when it is imported, and its group_by orders rows by hash and thread
    elsewhere = _outputs_in_a_process_of_its_own(database, tmp_path)
    assert set(elsewhere) == set(files)
    for name in files:
        assert elsewhere[name] == files[name], name


# outputs_of(DB, Config(), fresh_run=True) written to OUT, run by `python -c` with DuckDB and
# Polars on four threads each
_OUTPUTS_ON_FOUR_THREADS = """
import sys
from pathlib import Path

import duckdb

connect = duckdb.connect


def four(database=":memory:", *args, **kwargs):
    kwargs["config"] = {**(kwargs.get("config") or {}), "threads": 4}
    return connect(database, *args, **kwargs)


duckdb.connect = four
import polars as pl

from reports.config import Config
from tests.test_outputs import outputs_of

assert pl.thread_pool_size() == 4, pl.thread_pool_size()
out = Path(sys.argv[2])
for name, data in outputs_of(Path(sys.argv[1]), Config(), fresh_run=True).items():
    (out / name).write_bytes(data)
"""


def _outputs_in_a_process_of_its_own(database: Path, tmp_path: Path) -> dict[str, bytes]:
    import os
    import subprocess
    import sys

    out = tmp_path / "elsewhere"
    out.mkdir()
    env = {**os.environ, "POLARS_MAX_THREADS": "4"}
    subprocess.run(
        [sys.executable, "-c", _OUTPUTS_ON_FOUR_THREADS, str(database), str(out)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        check=True,
    )
    return {p.name: p.read_bytes() for p in out.iterdir()}


def test_shuffled_input_rows_change_no_csv_byte(
    snapshots: Path, files: dict[str, bytes], tmp_path: Path
) -> None:
    shuffled = tmp_path / "shuffled"
    shutil.copytree(snapshots, shuffled)
    for day in DAYS:
        shuffle_rows(shuffled / day.isoformat(), seed=day.toordinal())
    db = tmp_path / "shuffled.duckdb"
    load_days(db, shuffled)
    got = outputs_of(db, Config())
    for name in outputs.CSV_FILES:
        assert got[name] == files[name], name
    # summary.json differs only where the input files' bytes do: their hashes and the run id
    mine, theirs = json.loads(files["summary.json"]), json.loads(got["summary.json"])
    assert mine["run_id"] != theirs["run_id"]
    for key in ("as_of", "status", "checks", "segregation", "capital", "stress"):
        assert mine[key] == theirs[key], key
    assert {f: e["rows"] for f, e in mine["inputs"].items()} == {
        f: e["rows"] for f, e in theirs["inputs"].items()
    }


def test_a_figure_of_any_size_is_presented_not_refused() -> None:
    """Review of 2026-12-05: a VaR of 2e28 USD (a float statistic, without an amount's
    bounds) failed to round to cents with Python's default 28 digits (InvalidOperation)."""
    figure = Decimal("18446744073709551615000000000.005")
    assert outputs.decimal_text(figure, 2) == "18446744073709551615000000000.00"
    assert outputs.decimal_text(Decimal("2.675"), 2) == "2.68"  # half-even as before


# --- mutation review of 2026-12-06 (reports/render/outputs.py): rules no test held -------------


def test_exceptions_sort_by_entity_before_instrument_with_empty_keys_last() -> None:
    """exceptions.csv is sorted by check_id, entity_id, instrument_id, asset (DESIGN.md section
    6), in that order of precedence, an empty instrument or asset after the filled ones."""
    from reports.checks.model import exception_schema

    rows = [  # (entity_id, instrument_id, asset), shuffled
        ("acct-2", "BTC-PERP", None),
        ("acct-1", "ETH-PERP", "ETH"),
        ("acct-1", None, "BTC"),
        ("acct-1", "BTC-PERP", None),
        ("acct-1", "BTC-PERP", "BTC"),
    ]
    frame = pl.DataFrame(
        {
            "check_id": ["SEG-03"] * len(rows),
            "status": ["breach"] * len(rows),
            "entity_type": ["position"] * len(rows),
            "entity_id": [r[0] for r in rows],
            "instrument_id": [r[1] for r in rows],
            "asset": [r[2] for r in rows],
            "metric": ["cross_margin"] * len(rows),
            "value": [Decimal("1")] * len(rows),
            "threshold": [Decimal("0")] * len(rows),
            "message": ["m"] * len(rows),
        },
        schema={"check_id": pl.String, **exception_schema()},
    )
    presented = outputs.exceptions_frame(frame)
    assert list(presented.select("entity_id", "instrument_id", "asset").iter_rows()) == [
        ("acct-1", "BTC-PERP", "BTC"),
        ("acct-1", "BTC-PERP", None),
        ("acct-1", "ETH-PERP", "ETH"),
        ("acct-1", None, "BTC"),
        ("acct-2", "BTC-PERP", None),
    ]


# --- mutation review of 2026-12-07 (reports/render/outputs.py): rules no test held -------------


def _decimals(columns: dict[str, list[Any]]) -> pl.DataFrame:
    """A frame of exact decimals (DECIMAL(38,18)) and text, as the report's stages give them."""
    return pl.DataFrame(
        {
            name: [None if v is None else Decimal(v) for v in values]
            if name not in ("asset", "scenario", "status")
            else values
            for name, values in columns.items()
        },
        schema={
            name: pl.String if name in ("asset", "scenario", "status") else pl.Decimal(38, 18)
            for name in columns
        },
    )


def test_summary_document_states_each_figure_under_its_own_key() -> None:
    """summary.json (DESIGN.md section 6): each asset's, scenario's and capital figure under its
    own key, rounded half-even (asset amounts and the ratio 8 decimals, USD 2), checks and
    inputs by name, the scenarios in configuration order with their own statuses."""
    segregation = _decimals(
        {
            "asset": ["ETH", "BTC"],
            "client_requirement": ["2.000000015", "1.5"],
            "held": ["1.000000025", "3"],
            "excess": ["-1.00000001", "1.5"],
        }
    )
    stress = _decimals(
        {
            "scenario": ["up_30", "down_30"],  # as configured, not alphabetical
            "cover1_usd": ["10.005", "30"],
            "cover2_usd": ["20.015", "40"],
            "total_shortfall_usd": ["99", "99"],
            "insurance_fund_usd": ["15.125", "35"],
            "status": ["warn", "breach"],
        }
    )
    summary = outputs.summary_document(
        as_of="2026-03-02",
        run_id="r1",
        status="breach",
        checks=[("SEG-01", "breach", 2), ("CAP-04", "warn", 1)],
        segregation=segregation,
        capital={
            "regime": "ifr",
            "own_funds": Decimal("1000.005"),
            "requirement": Decimal("800.015"),
            "ratio": Decimal("1.249992185"),
        },
        stress=stress,
        inputs=[("prices", "b" * 64, 3), ("accounts", "a" * 64, 2)],
    )
    assert summary["checks"] == {
        "CAP-04": {"status": "warn", "exceptions": 1},
        "SEG-01": {"status": "breach", "exceptions": 2},
    }
    assert list(summary["checks"]) == ["CAP-04", "SEG-01"]
    assert summary["segregation"] == {
        "BTC": {"client_requirement": "1.50000000", "held": "3.00000000", "excess": "1.50000000"},
        "ETH": {"client_requirement": "2.00000002", "held": "1.00000002", "excess": "-1.00000001"},
    }
    assert summary["capital"] == {
        "regime": "ifr",
        "own_funds": "1000.00",
        "requirement": "800.02",
        "ratio": "1.24999218",
    }
    assert summary["stress"] == {
        "up_30": {
            "cover1_usd": "10.00",
            "cover2_usd": "20.02",
            "insurance_fund_usd": "15.12",
            "status": "warn",
        },
        "down_30": {
            "cover1_usd": "30.00",
            "cover2_usd": "40.00",
            "insurance_fund_usd": "35.00",
            "status": "breach",
        },
    }
    assert list(summary["stress"]) == ["up_30", "down_30"]
    assert list(summary["inputs"]) == ["accounts", "prices"]
    text = outputs.summary_bytes(summary)
    assert text.endswith(b"}\n") and json.loads(text) == summary


def test_summary_json_agrees_with_the_csvs(files: dict[str, bytes]) -> None:
    """A regulator re-checks summary.json against the CSVs: the same figures, as presented."""
    summary = json.loads(files["summary.json"])
    header, *rows = _rows(files["segregation.csv"])
    assert summary["segregation"] == {
        r[0]: {c: r[header.index(c)] for c in ("client_requirement", "held", "excess")}
        for r in rows
    }
    header, *rows = _rows(files["stress.csv"])
    assert summary["stress"] == {
        r[0]: {c: r[header.index(c)] for c in ("cover1_usd", "cover2_usd", "insurance_fund_usd")}
        | {"status": r[header.index("status")]}
        for r in rows
    }
    capital = _rows(files["capital.csv"])[1:]
    assert [r[0] for r in capital] == [
        str(n) for n in range(1, len(capital) + 1)
    ]  # whole, in order
    lines = {item: amount for _, item, amount in capital}
    assert summary["capital"]["own_funds"] == lines["Own funds = CET1 + AT1 + Tier 2 (IFR Art. 9)"]
    requirement = next(a for i, a in lines.items() if i.startswith("D = own funds requirement"))
    assert summary["capital"]["requirement"] == requirement
    assert summary["capital"]["ratio"] == lines["Own funds ratio = own funds / D"]


def test_stress_csv_keeps_the_configured_scenario_order() -> None:
    """stress.csv lists the scenarios as configured, as the PDF's stress table does."""
    table = _decimals(
        {
            "scenario": ["up_30", "down_30"],
            "cover1_usd": ["1", "2"],
            "cover2_usd": ["1", "2"],
            "total_shortfall_usd": ["1", "2"],
            "insurance_fund_usd": ["1", "2"],
            "status": ["pass", "pass"],
        }
    )
    assert outputs.stress_frame(table)["scenario"].to_list() == ["up_30", "down_30"]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_exceptions_differing_only_by_message_or_status_have_one_order(order: list[int]) -> None:
    """exceptions.csv is sorted on a total key: two rows of one check, entity and metric that
    differ only in their message (or status) come out in one order whatever the input order,
    so the same findings give the same bytes."""
    one = _exceptions_of(("m1",), "1")
    three = pl.concat(
        [
            one.with_columns(pl.lit("b").alias("message")),
            one.with_columns(pl.lit("a").alias("message")),
            one.with_columns(pl.lit("a").alias("message"), pl.lit("warn").alias("status")),
        ]
    )
    presented = outputs.exceptions_frame(three[order])
    assert list(presented.select("message", "status").iter_rows()) == [
        ("a", "breach"),
        ("a", "warn"),
        ("b", "breach"),
    ]


def test_a_missing_figure_is_an_empty_field() -> None:
    """A figure the report could not compute is an empty CSV field (not a word a reader would
    take for a value): stress.csv when the scenarios could not be valued."""
    from reports.stress.scenarios import error_table

    data = outputs.csv_bytes(outputs.stress_frame(error_table(["up_30", "down_30"])))
    assert data == (STRESS_HEADER + "\nup_30,,,,,error\ndown_30,,,,,error\n").encode()
