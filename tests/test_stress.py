"""Stress engine (CAP-04): shortfalls, Cover-1/Cover-2, insurance fund, cascade.

The scenario database is built row by row through SQL into a schema made by reports.db.init_db,
so the real views (v_positions, v_asset_prices) value the positions.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import reports.stress.checks  # noqa: F401  (registers CAP-04 and CAP-05)
from reports import derive
from reports.checks.engine import run_one
from reports.checks.model import PYTHON_CHECKS, CheckContext, CheckOutcome
from reports.config import Config, Scenario, StressConfig, parse_config
from reports.db import connect, init_db
from reports.stress import STRESS_COLUMNS, cascade, stress_results, stress_table
from reports.stress import scenarios as scenarios_module
from reports.stress.cascade import run_cascade
from reports.stress.scenarios import (
    cover_figure,
    cover_status,
    evaluate_scenario,
    evaluate_scenarios,
    load_stress_inputs,
    scenario_shocks,
    shock_frame,
)

AS_OF = dt.date(2026, 3, 2)
D = Decimal


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with the schema, made once by init_db (creating the schema takes a
    second or two on a busy machine; copying the file does not)."""
    return init_db(tmp_path_factory.mktemp("schema") / "schema.duckdb")


def make_db(template: Path, folder: Path, name: str = "stress.duckdb") -> Any:
    """A fresh database: a copy of the template."""
    path = folder / name
    shutil.copyfile(template, path)
    return connect(path)


def insert(con: Any, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows (as_of_date first) into a raw table."""
    names = ["as_of_date", *[c.strip() for c in columns.split(",")]]
    marks = ", ".join("?" for _ in names)
    con.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
        [(AS_OF, *row) for row in rows],
    )


def add_market(con: Any, usdt: D | int = 1) -> None:
    """BTC 50,000 and ETH 2,000 USD, USDT at `usdt`; BTCUSDT, ETHUSDT (linear) and BTCUSD
    (inverse, contract 100 USD) marked at those, each one tier at 1%."""
    insert(
        con,
        "prices",
        "kind, symbol, price",
        [
            ("asset", "BTC", D(50000)),
            ("asset", "ETH", D(2000)),
            ("asset", "USDT", D(usdt)),
            ("instrument", "BTCUSDT", D(50000)),
            ("instrument", "ETHUSDT", D(2000)),
            ("instrument", "BTCUSD", D(50000)),
        ],
    )
    insert(
        con,
        "instruments",
        "instrument_id, kind, underlying, quote_asset, settle_asset, contract_size",
        [
            ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1)),
            ("ETHUSDT", "linear_perpetual", "ETH", "USDT", "USDT", D(1)),
            ("BTCUSD", "inverse_perpetual", "BTC", "USD", "BTC", D(100)),
        ],
    )
    insert(
        con,
        "risk_tiers",
        "instrument_id, tier, notional_floor, notional_cap, maintenance_margin_rate, maintenance_amount",
        [
            ("BTCUSDT", 1, D(0), None, D("0.01"), D(0)),
            ("ETHUSDT", 1, D(0), None, D("0.01"), D(0)),
            ("BTCUSD", 1, D(0), None, D("0.01"), D(0)),
        ],
    )


def add_accounts(con: Any, rows: list[tuple[str, str, str]]) -> None:
    insert(
        con,
        "accounts",
        "account_id, account_type, group_id, client_category, status",
        [(a, t, g, "retail", "active") for a, t, g in rows],
    )


def add_position(
    con: Any,
    pid: str,
    account: str,
    instrument: str,
    mode: str,
    qty: str,
    entry: str,
    margin: str | None,
) -> None:
    insert(
        con,
        "positions",
        "position_id, account_id, instrument_id, margin_mode, quantity, entry_price, isolated_margin",
        [(pid, account, instrument, mode, D(qty), D(entry), None if margin is None else D(margin))],
    )


@pytest.fixture(scope="module")
def scenario_db(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Clients in three groups, a house account, an insurance fund in custody.

    down_30 (by hand): c1 isolated long 1 BTCUSDT @50000, margin 5000 -> -10000 -> 10000 short.
    c2 (G1) cross: USDT -5000 + long 1 BTCUSDT (-15000) = -20000 USDT; ETH 10 x 1400 = 14000
    -> netted -6000 -> 6000 short (20000 without netting); its isolated short ETH gains +600,
    not available to the cross wallet. G1 = 16000.
    c4 (G2): USDT 1000 (stable, unshocked), isolated short 1 ETHUSDT margin 200: gains. G2 = 0.
    c5 (G3): inverse isolated long 1000 x 100 USD @50000, margin 0.5 BTC:
    uPnL' = 100000 x 0.7 - 100000 = -30000 USD, margin 0.5 x 35000 = 17500 -> 12500 short.
    h1 (house) has a big loss that must not count. Insurance fund: 5000 USDT + 0.5 BTC = 22500.
    Cover-1 16000, Cover-2 28500 -> breach cover2.
    """
    con = make_db(template, tmp_path_factory.mktemp("scenario"))
    add_market(con)
    add_accounts(
        con,
        [
            ("c1", "client", "G1"),
            ("c2", "client", "G1"),
            ("c4", "client", "G2"),
            ("c5", "client", "G3"),
            ("h1", "house", "h1"),
            ("if1", "insurance_fund", "if1"),
        ],
    )
    add_position(con, "p1", "c1", "BTCUSDT", "isolated", "1", "50000", "5000")
    add_position(con, "p2", "c2", "BTCUSDT", "cross", "1", "50000", None)
    add_position(con, "p3", "c2", "ETHUSDT", "isolated", "-1", "2000", "200")
    add_position(con, "p4", "c4", "ETHUSDT", "isolated", "-1", "2000", "200")
    add_position(con, "p5", "c5", "BTCUSD", "isolated", "1000", "50000", "0.5")
    add_position(con, "p6", "h1", "BTCUSDT", "isolated", "10", "50000", "0")
    insert(
        con,
        "balances",
        "account_id, asset, balance",
        [
            ("c2", "USDT", D(-5000)),
            ("c2", "ETH", D(10)),
            ("c4", "USDT", D(1000)),
            ("h1", "USDT", D(-1000000)),
        ],
    )
    insert(
        con,
        "custody",
        "wallet_id, custodian, asset, balance, designation, wallet_type, custodian_type",
        [
            ("w1", "self", "USDT", D(5000), "insurance_fund", "cold", "self"),
            ("w2", "self", "BTC", D("0.5"), "insurance_fund", "cold", "self"),
            ("w3", "self", "BTC", D(100), "client", "cold", "self"),
        ],
    )
    derive.refresh(con)  # rows inserted directly, not through the loader
    yield con
    con.close()


def by_scenario(table: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["scenario"]: row for row in table.iter_rows(named=True)}


# ------------------------------------------------------------------------------------------
# Pure functions


def test_pfmi_reference_cover1_cover2_exact() -> None:
    # reference README, PFMI Principle 4: shortfalls 120M, 90M, 60M; resources 180M
    shortfalls = [D("60000000"), D("120000000"), D("90000000")]
    cover1, cover2 = cover_figure(shortfalls, 1), cover_figure(shortfalls, 2)
    assert cover1 == D("120000000")
    assert cover2 == D("210000000")
    fund = D("180000000")
    assert cover_status(fund, cover1, cover2, cover2, 2) == ("breach", "cover2", D("210000000"))
    assert cover2 - fund == D("30000000")
    # Cover-1 as the standard: met, Cover-2 missed -> warn
    assert cover_status(fund, cover1, cover2, cover1, 1) == ("warn", "cover2", D("210000000"))
    assert cover_status(D("119999999.99"), cover1, cover2, cover2, 2)[:2] == ("breach", "cover1")
    assert cover_status(D("210000000"), cover1, cover2, cover2, 2) == ("pass", None, None)


def test_cover_status_names_the_configured_cover() -> None:
    """With `stress.cover = 3`, a fund that covers the two largest shortfalls but not the three
    misses Cover-3 and says so (mutation review of 2026-12-06: "cover2" there survived)."""
    shortfalls = [D(50), D(40), D(30)]
    c1, c2, c3 = (cover_figure(shortfalls, k) for k in (1, 2, 3))
    assert cover_status(D(100), c1, c2, c3, 3) == ("breach", "cover3", D(120))
    assert cover_status(D(120), c1, c2, c3, 3) == ("pass", None, None)


def test_cover_figure_with_fewer_groups_than_n() -> None:
    assert cover_figure([], 2) == 0
    assert cover_figure([D(5)], 2) == D(5)


def test_shock_frame_wildcard_named_and_stable() -> None:
    frame = shock_frame(
        ["BTC", "ETH", "USDT", "USDC", "USD"],
        {"*": D("-0.3"), "ETH": D("-0.5"), "USDC": D("-0.1")},
        ("USD", "USDT", "USDC"),
    )
    shocks = dict(frame.iter_rows())
    assert shocks == {"BTC": D("-0.3"), "ETH": D("-0.5"), "USD": 0, "USDC": D("-0.1"), "USDT": 0}


# ------------------------------------------------------------------------------------------
# Scenario database


def test_stress_table_columns_and_figures(scenario_db: Any) -> None:
    table = stress_table(scenario_db, AS_OF, Config())
    assert tuple(table.columns) == STRESS_COLUMNS
    assert table["scenario"].to_list() == ["down_30", "up_30"]
    rows = by_scenario(table)
    down = rows["down_30"]
    assert down["cover1_usd"] == D("16000")
    assert down["cover2_usd"] == D("28500")
    assert down["total_shortfall_usd"] == D("28500")
    assert down["insurance_fund_usd"] == D("22500")  # 5000 USDT + 0.5 BTC x 35000
    assert down["status"] == "breach"
    up = rows["up_30"]
    # c2's and c4's isolated ETH shorts: 200 - 600 = -400 each, G1 and G2
    assert (up["cover1_usd"], up["cover2_usd"], up["total_shortfall_usd"]) == (
        D(400),
        D(800),
        D(800),
    )
    assert up["insurance_fund_usd"] == D("37500")
    assert up["status"] == "pass"


@pytest.mark.parametrize("per_plan", [1, 2, 3])
def test_scenarios_valued_together_equal_one_at_a_time(
    scenario_db: Any, per_plan: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """evaluate_scenarios values several scenarios in one plan (columns per scenario), up to
    POSITION_SCENARIOS_PER_PLAN positions x scenarios: each result is the one evaluate_scenario
    gives alone, in the order asked, repeats included, however the scenarios are batched."""
    inputs = load_stress_inputs(scenario_db, AS_OF)
    positions = inputs.client_positions.height
    monkeypatch.setattr(
        scenarios_module, "POSITION_SCENARIOS_PER_PLAN", per_plan * positions + positions - 1
    )
    assert evaluate_scenarios(inputs, [], cover=2) == []
    config = Config()
    named = [(s.name, scenario_shocks(inputs, s, config)) for s in config.stress.scenarios]
    named = [named[1], named[0], named[1]]
    together = evaluate_scenarios(inputs, named, cover=2)
    assert [r.scenario for r in together] == ["up_30", "down_30", "up_30"]
    assert together[0].cover1_usd != together[1].cover1_usd  # the scenarios differ
    for (name, shocks), result in zip(named, together, strict=True):
        alone = evaluate_scenario(inputs, name, shocks, cover=2)
        assert result.groups.equals(alone.groups)
        assert (result.cover1_usd, result.cover2_usd, result.total_shortfall_usd) == (
            alone.cover1_usd,
            alone.cover2_usd,
            alone.total_shortfall_usd,
        )
        assert (result.insurance_fund_usd, result.status) == (
            alone.insurance_fund_usd,
            alone.status,
        )


def test_group_shortfalls_isolated_vs_cross_netting(scenario_db: Any) -> None:
    down = stress_results(scenario_db, AS_OF, Config())[0]
    groups = {r["group_id"]: r for r in down.groups.iter_rows(named=True)}
    # G1: c1's isolated shortfall 10000 + c2's cross shortfall netted across USDT and ETH 6000
    # (the USDT leg alone is -20000; c2's profitable isolated ETH short does not help the wallet)
    assert groups["G1"]["isolated_shortfall_usd"] == D("10000")
    assert groups["G1"]["cross_shortfall_usd"] == D("6000")
    assert groups["G2"]["shortfall_usd"] == 0  # stablecoin balance unshocked, short gains
    assert groups["G3"]["isolated_shortfall_usd"] == D("12500")  # inverse
    assert "h1" not in groups  # house accounts are not counterparties
    assert down.groups["group_id"].to_list() == ["G1", "G3", "G2"]  # largest first


def test_stablecoins_unshocked_by_wildcard_but_shocked_by_name(scenario_db: Any) -> None:
    inputs = load_stress_inputs(scenario_db, AS_OF)
    shocks = dict(scenario_shocks(inputs, Scenario("s", {"*": D("-0.3")}), Config()).iter_rows())
    assert shocks["USDT"] == 0 and shocks["USD"] == 0 and shocks["BTC"] == D("-0.3")
    config = replace(
        Config(), stress=StressConfig(scenarios=(Scenario("depeg", {"USDT": D("-0.5")}),))
    )
    depeg = stress_results(scenario_db, AS_OF, config)[0]
    # fund: 5000 USDT x 0.5 + 0.5 BTC x 50000 = 27500
    assert depeg.insurance_fund_usd == D("27500")
    # Marks are quoted in USDT, so they double in USDT (M' = M x 1 / 0.5): the BTCUSDT longs
    # gain, each isolated short 1 ETHUSDT (margin 200 USDT) loses 1 x (2000 x 0.5 - 2000 x 1)
    # = -1000 USD against 100 USD of margin -> 900 short, in G1 (c2) and G2 (c4).
    assert depeg.total_shortfall_usd == D("1800")
    assert depeg.cover1_usd == D("900") and depeg.cover2_usd == D("1800")
    assert depeg.status == "pass"


def test_wildcard_never_shocks_the_reporting_currency(scenario_db: Any) -> None:
    """Regression: with USD left out of stable_assets, "*" shocked USD itself by -30%."""
    inputs = load_stress_inputs(scenario_db, AS_OF)
    config = parse_config({"firm": {"stable_assets": ["USDT", "USDC"]}})
    shocks = dict(scenario_shocks(inputs, Scenario("s", {"*": D("-0.3")}), config).iter_rows())
    assert shocks["USD"] == 0 and shocks["USDT"] == 0 and shocks["BTC"] == D("-0.3")
    with_usd = stress_results(scenario_db, AS_OF, Config())
    without_usd = stress_results(scenario_db, AS_OF, config)
    assert [r.cover2_usd for r in without_usd] == [r.cover2_usd for r in with_usd]
    assert [r.insurance_fund_usd for r in without_usd] == [r.insurance_fund_usd for r in with_usd]


def test_cap04_breach_cover2_cover1_and_pass(scenario_db: Any) -> None:
    config = parse_config(
        {
            "stress": {
                "scenarios": [
                    {"name": "down_30", "shocks": {"*": "-0.30"}},
                    {"name": "down_50", "shocks": {"*": "-0.50"}},
                    {"name": "up_30", "shocks": {"*": "0.30"}},
                ]
            }
        }
    )
    ctx = CheckContext(scenario_db, AS_OF, None, config)
    result = run_one(PYTHON_CHECKS["CAP-04"], ctx)
    assert result.status == CheckOutcome.BREACH
    rows = {r["entity_id"]: r for r in result.rows.iter_rows(named=True)}
    assert set(rows) == {"down_30", "down_50"}  # up_30 passes: no row
    assert rows["down_30"]["metric"] == "cover2"
    assert rows["down_30"]["value"] == D("22500") and rows["down_30"]["threshold"] == D("28500")
    assert "short by 6,000.00 USD" in rows["down_30"]["message"]
    # the two groups that make Cover-2 (mutation review of 2026-12-07: naming one passed)
    assert (
        "(largest group shortfalls: G1 16,000.00 USD, G3 12,500.00 USD)"
        in (rows["down_30"]["message"])
    )
    # down_50: G1 = 20000 + 20000, G3 = 37500; fund 5000 + 12500 = 17500 < Cover-1 40000
    assert rows["down_50"]["metric"] == "cover1"
    assert rows["down_50"]["threshold"] == D("40000")
    assert rows["down_50"]["status"] == "breach" and rows["down_50"]["entity_type"] == "scenario"


def test_cap04_message_tells_a_fund_just_under_its_cover_from_the_cover(
    scenario_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README audit of 2026-12-06: a fund half a cent under Cover-2 read "insurance fund
    28,500.00 USD ... below Cover-2 28,500.00 USD ... short by 0.00 USD". The figures next to
    their threshold print the decimals that tell them apart (as CAP-02/03 and the SQL checks)."""
    config = parse_config(
        {"stress": {"scenarios": [{"name": "down_30", "shocks": {"*": "-0.30"}}]}}
    )
    (real,) = stress_results(scenario_db, AS_OF, config)
    assert real.metric == "cover2" and real.threshold_usd == D("28500")
    close = replace(real, insurance_fund_usd=D("28499.996"))
    monkeypatch.setattr(scenarios_module, "stress_results", lambda *_a, **_k: [close])
    result = run_one(PYTHON_CHECKS["CAP-04"], CheckContext(scenario_db, AS_OF, None, config))
    (message,) = result.rows["message"].to_list()
    assert "insurance fund 28,499.996 USD at stressed prices" in message, message
    assert "below Cover-2 28,500.00 USD" in message and "short by 0.004 USD" in message


def test_cap04_cover1_standard_gives_warn(scenario_db: Any) -> None:
    config = parse_config({"stress": {"cover": 1}})
    result = run_one(PYTHON_CHECKS["CAP-04"], CheckContext(scenario_db, AS_OF, None, config))
    assert result.status == CheckOutcome.WARN
    assert result.rows["metric"].to_list() == ["cover2"]
    table = stress_table(scenario_db, AS_OF, config)
    assert table["status"].to_list() == ["warn", "pass"]
    # stress.csv's cover2_usd is Cover-2 under the Cover-1 standard too, not the standard's
    # figure (mutation review of 2026-12-07: Cover-N written there passed)
    assert table.select("cover1_usd", "cover2_usd").row(0) == (D("16000"), D("28500"))


def test_pfmi_reference_through_the_database(template: Path, tmp_path: Path) -> None:
    con = make_db(template, tmp_path)
    insert(con, "prices", "kind, symbol, price", [("asset", "USDT", D(1))])
    add_accounts(
        con,
        [
            ("a", "client", "GA"),
            ("b", "client", "GB"),
            ("c", "client", "GC"),
            ("b2", "client", "GB"),
        ],
    )
    insert(
        con,
        "balances",
        "account_id, asset, balance",
        [
            ("a", "USDT", D("-120000000")),
            ("b", "USDT", D("-50000000")),
            ("b2", "USDT", D("-40000000")),
            ("c", "USDT", D("-60000000")),
        ],
    )
    insert(
        con,
        "custody",
        "wallet_id, custodian, asset, balance, designation, wallet_type, custodian_type",
        [("f", "self", "USDT", D("180000000"), "insurance_fund", "cold", "self")],
    )
    derive.refresh(con)
    results = stress_results(con, AS_OF, Config())
    for result in results:  # stablecoin debits: the same under both default scenarios
        assert result.cover1_usd == D("120000000")
        assert result.cover2_usd == D("210000000")  # GB = 50M + 40M summed per group
        assert result.status == "breach" and result.metric == "cover2"
        assert result.missing_usd == D("30000000")
        # every group's shortfall, not the cover figures' head (mutation review of 2026-12-06)
        assert result.total_shortfall_usd == D("270000000")
    con.close()


def test_no_clients_no_shortfall_passes(template: Path, tmp_path: Path) -> None:
    con = make_db(template, tmp_path)
    insert(con, "prices", "kind, symbol, price", [("asset", "BTC", D(100))])
    derive.refresh(con)
    table = stress_table(con, AS_OF, Config())
    assert table["cover1_usd"].to_list() == [0, 0]
    assert table["status"].to_list() == ["pass", "pass"]
    con.close()


def test_deterministic_and_row_order_independent(
    scenario_db: Any, template: Path, tmp_path: Path
) -> None:
    first = stress_table(scenario_db, AS_OF, Config())
    assert stress_table(scenario_db, AS_OF, Config()).equals(first)
    # the same data inserted in reverse order gives the same frame
    other = make_db(template, tmp_path, "reverse.duckdb")
    for table in (
        "prices",
        "instruments",
        "risk_tiers",
        "accounts",
        "positions",
        "balances",
        "custody",
    ):
        rows = scenario_db.execute(f"SELECT * FROM {table}").fetchall()
        cols = len(rows[0])
        other.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * cols)})", rows[::-1])
    derive.refresh(other)
    assert stress_table(other, AS_OF, Config()).equals(first)
    other.close()


# ------------------------------------------------------------------------------------------
# Cascade


@pytest.fixture(scope="module")
def cascade_db(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Isolated longs of 1 BTCUSDT @50000 (mmr 1%): liquidated when M' <= (50000 - margin)/0.99:
    q1 margin 5000 -> 45454.55, q2 5500 -> 44949.49, q3 5800 -> 44646.46, q4 20000 -> 30303.03.
    Cross account x1: wallet 7000 USDT, long 1 BTCUSDT: M' <= 43000/0.99 = 43434.34."""
    con = make_db(template, tmp_path_factory.mktemp("cascade"))
    add_market(con)
    add_accounts(
        con, [(f"c{i}", "client", f"G{i}") for i in range(1, 5)] + [("x1", "client", "GX")]
    )
    for i, margin in enumerate(("5000", "5500", "5800", "20000"), start=1):
        add_position(con, f"q{i}", f"c{i}", "BTCUSDT", "isolated", "1", "50000", margin)
    add_position(con, "x1p", "x1", "BTCUSDT", "cross", "1", "50000", None)
    insert(con, "balances", "account_id, asset, balance", [("x1", "USDT", D(7000))])
    derive.refresh(con)
    yield con
    con.close()


def test_cascade_propagates_stops_and_is_monotone(cascade_db: Any) -> None:
    config = parse_config(
        {
            "stress": {
                "cascade_impact": "0.0000001",
                "scenarios": [{"name": "down_10", "shocks": {"*": "-0.10"}}],
            }
        }
    )
    result = cascade(cascade_db, AS_OF, config, "down_10")
    # round 1 at 45000: q1; +1e-7 x 45000 = 0.45% -> 44775: q2; +0.44775% -> 44551.125: q3;
    # +0.445511% -> 44352.37...: nothing new (x1 needs 43434.34, q4 30303.03) -> stop
    assert [r.liquidated_positions for r in result.rounds] == [1, 1, 1]
    assert result.liquidated["position_id"].to_list() == ["q1", "q2", "q3"]
    assert result.rounds[0].price_moves["BTC"] == D("-0.10")
    assert result.rounds[1].price_moves["BTC"] == D("-0.1045")
    # each round's move adds the notional liquidated in THAT round (q2's 44,775, then q3's
    # 44,551.125), not everything liquidated so far (mutation review of 2026-12-07)
    assert result.rounds[2].price_moves["BTC"] == D("-0.1089775")
    assert result.final_shocks["BTC"] == D("-0.1134326125")
    assert result.rounds[0].liquidated_notional_usd == D("45000")
    assert result.rounds[1].liquidated_notional_usd == D("44775")
    assert not result.capped
    moves = [r.price_moves["BTC"] for r in result.rounds] + [result.final_shocks["BTC"]]
    assert moves == sorted(moves, reverse=True)  # ever further down
    cumulative = [r.cumulative_notional_usd for r in result.rounds]
    assert cumulative == sorted(cumulative)
    assert result.rounds[-1].cumulative_positions == 3
    frame = result.rounds_frame()
    assert frame["round"].unique().sort().to_list() == [1, 2, 3]
    assert frame.filter(pl.col("asset") == "BTC")["price_move"].to_list()[:2] == [
        D("-0.1"),
        D("-0.1045"),
    ]


def test_cascade_without_impact_is_one_round_and_liquidates_cross_accounts(cascade_db: Any) -> None:
    config = parse_config(
        {"stress": {"scenarios": [{"name": "down_15", "shocks": {"*": "-0.15"}}]}}
    )
    result = cascade(cascade_db, AS_OF, config, "down_15")
    assert len(result.rounds) == 1
    # 42500: q1, q2, q3 and the cross account x1 (7000 - 7500 <= 425); q4 survives
    assert result.liquidated["position_id"].to_list() == ["q1", "q2", "q3", "x1p"]
    assert result.final_shocks["BTC"] == D("-0.15")


def test_cascade_cap_of_rounds(cascade_db: Any) -> None:
    inputs = load_stress_inputs(cascade_db, AS_OF)
    shocks = scenario_shocks(inputs, Scenario("down_10", {"*": D("-0.10")}), Config())
    result = run_cascade(inputs, "down_10", shocks, D("0.0000001"), max_rounds=2)
    assert len(result.rounds) == 2 and result.capped
    # the cascade ends by itself in round 4 (nothing new): a limit of 4 did not cut it short
    # (mutation review of 2026-12-07: `capped` set one round early passed)
    ended = run_cascade(inputs, "down_10", shocks, D("0.0000001"), max_rounds=4)
    assert len(ended.rounds) == 3 and not ended.capped


def test_cascade_upward_moves_stop_at_ten_times_the_price(template: Path, tmp_path: Path) -> None:
    """Diff review of 2026-12-05: upward moves feed on themselves (a higher price liquidates
    more short notional); at 1M accounts and the largest impact allowed, CAP-04 overflowed
    DECIMAL(38,18). They stop at +900% (or the scenario's own shock, if larger)."""
    con = make_db(template, tmp_path)
    add_market(con)
    add_accounts(con, [(f"s{i}", "client", f"G{i}") for i in range(1, 6)])
    for i in range(1, 6):
        add_position(con, f"sh{i}", f"s{i}", "BTCUSDT", "isolated", "-1", "50000", str(1000 * i))
    derive.refresh(con)
    inputs = load_stress_inputs(con, AS_OF)
    shocks = scenario_shocks(inputs, Scenario("up_30", {"*": D("0.30")}), Config())
    result = run_cascade(inputs, "up_30", shocks, D("0.001"))  # beyond the configurable 1e-6
    assert result.at_ceiling
    assert result.final_shocks["BTC"] == D(9)
    assert all(move <= D(9) for r in result.rounds for move in r.price_moves.values())
    larger = scenario_shocks(inputs, Scenario("up_1500", {"*": D("15")}), Config())
    assert run_cascade(inputs, "up_1500", larger, D("0.001")).final_shocks["BTC"] == D(15)
    con.close()


def test_cascade_impact_feeds_cap04(cascade_db: Any) -> None:
    base = parse_config({"stress": {"scenarios": [{"name": "down_10", "shocks": {"*": "-0.10"}}]}})
    with_cascade = parse_config(
        {
            "stress": {
                "cascade_impact": "0.0000001",
                "scenarios": [{"name": "down_10", "shocks": {"*": "-0.10"}}],
            }
        }
    )
    plain = stress_results(cascade_db, AS_OF, base)[0]
    deeper = stress_results(cascade_db, AS_OF, with_cascade)[0]
    assert plain.cascade is None and deeper.cascade is not None
    assert deeper.total_shortfall_usd > plain.total_shortfall_usd
    assert deeper.shocks["BTC"] == deeper.cascade.final_shocks["BTC"]


def test_cascade_unknown_scenario_is_usage_error(cascade_db: Any) -> None:
    from reports.errors import UsageError

    with pytest.raises(UsageError, match="unknown stress scenario"):
        cascade(cascade_db, AS_OF, Config(), "nope")


def test_stress_refuses_an_unpriced_asset_or_instrument() -> None:
    # The loader refuses these; the stress engine checks again rather than drop money silently.
    from reports.errors import InputError
    from reports.stress.scenarios import StressInputs, _require_prices

    money = pl.Decimal(38, 18)
    positions = pl.DataFrame(
        {
            "settle_asset": ["USDT", "USDT", "BTC"],
            "mark_price": [D("1"), D("1"), None],
            "instrument_id": ["A", "A", "B"],
        },
        schema={"settle_asset": pl.String, "mark_price": money, "instrument_id": pl.String},
    )
    inputs = StressInputs(
        positions=positions,
        balances=pl.DataFrame({"asset": ["USDT", "XRP", "XRP"]}),
        prices=pl.DataFrame({"asset": ["USDT", "BTC"]}),
        firm_custody=pl.DataFrame({"asset": ["USDT"]}),
        tiers=pl.DataFrame(),
    )
    with pytest.raises(InputError, match=r"no asset price for XRP on this date \(balances.asset\)"):
        _require_prices(inputs)
    priced = replace(inputs, balances=pl.DataFrame({"asset": ["USDT"]}))
    with pytest.raises(InputError, match=r"no mark price for instrument\(s\) B;"):
        _require_prices(priced)


def test_cap04_warns_of_a_named_asset_the_day_does_not_price(scenario_db: Any) -> None:
    """Review of 2026-12-04: a scenario naming "btc" (prices say BTC) shocked nothing and
    passed, silently. CAP-04 now warns, naming the asset; a priced one raises no warning."""
    config = replace(
        Config(),
        stress=StressConfig(
            scenarios=(Scenario("typo", {"btc": D("-0.9")}), Scenario("fine", {"BTC": D("-0.1")}))
        ),
    )
    result = run_one(PYTHON_CHECKS["CAP-04"], CheckContext(scenario_db, AS_OF, None, config))
    rows = result.rows.filter(pl.col("metric") == "unpriced_shock_asset")
    assert rows.select("status", "entity_id").rows() == [("warn", "typo")]
    assert "names btc, which the venue neither prices nor holds on" in rows["message"][0]
    assert result.status in (CheckOutcome.WARN, CheckOutcome.BREACH)


def test_stress_csv_warns_for_a_scenario_cap04_warns_of_an_unpriced_asset(
    scenario_db: Any,
) -> None:
    """Stress audit of 2026-12-07: a scenario naming an unpriced asset ("btc") made CAP-04 warn
    on that scenario, while stress.csv, summary.json's stress and the PDF's table said pass
    for it. The table's status is now the scenario's CAP-04 status: warn."""
    config = replace(
        Config(),
        stress=StressConfig(
            scenarios=(Scenario("typo", {"btc": D("-0.9")}), Scenario("fine", {"BTC": D("-0.1")}))
        ),
    )
    rows = stress_table(scenario_db, AS_OF, config).select("scenario", "status").rows()
    assert rows == [("typo", "warn"), ("fine", "pass")]
    assert [r.status for r in stress_results(scenario_db, AS_OF, config)] == ["warn", "pass"]
    # the cover figures themselves are graded as before: no cover row for the warned scenario
    result = run_one(PYTHON_CHECKS["CAP-04"], CheckContext(scenario_db, AS_OF, None, config))
    assert result.rows.select("entity_id", "metric").rows() == [("typo", "unpriced_shock_asset")]


def test_a_stable_asset_the_day_does_not_price_is_warned_of(scenario_db: Any) -> None:
    """Config audit of 2026-12-07: stable_assets = ["usdt"] for USDT made nothing stable and
    left USDT shocked by "*", in K-ASA and in CON-05, without a word (a shock naming "btc" is
    warned of by CAP-04). The defaults (USDC here) and the reporting currency are not named."""
    from reports.stress.scenarios import stable_assets_warning

    assert stable_assets_warning(scenario_db, AS_OF, Config()) is None
    typo = parse_config({"firm": {"stable_assets": ["USD", "usdt", "USDC", "DAI"]}})
    warning = stable_assets_warning(scenario_db, AS_OF, typo)
    assert warning == (
        "warning: [firm] stable_assets names DAI, usdt, which the venue neither prices nor "
        "holds on 2026-03-02: it makes nothing stable (asset symbols are case-sensitive, as "
        "in prices.csv)"
    )


def test_cap04_does_not_warn_of_an_underlying_shocked_through_the_marks(
    template: Path, tmp_path: Path
) -> None:
    """Review of the fix above: PEPE, the underlying of an open PEPEUSDT position, has no asset
    price (nobody holds PEPE) but a shock on it moves the position's mark: no warning."""
    con = make_db(template, tmp_path)
    add_market(con)
    insert(con, "prices", "kind, symbol, price", [("instrument", "PEPEUSDT", D("0.001"))])
    insert(
        con,
        "instruments",
        "instrument_id, kind, underlying, quote_asset, settle_asset, contract_size",
        [("PEPEUSDT", "linear_perpetual", "PEPE", "USDT", "USDT", D(1000))],
    )
    insert(
        con,
        "risk_tiers",
        "instrument_id, tier, notional_floor, notional_cap, maintenance_margin_rate, maintenance_amount",
        [("PEPEUSDT", 1, D(0), None, D("0.01"), D(0))],
    )
    add_accounts(con, [("c1", "client", "G1"), ("if1", "insurance_fund", "if1")])
    add_position(con, "p1", "c1", "PEPEUSDT", "isolated", "1000", "0.001", "100")
    derive.refresh(con)
    config = replace(
        Config(), stress=StressConfig(scenarios=(Scenario("pepe", {"PEPE": D("-0.9")}),))
    )
    result = run_one(PYTHON_CHECKS["CAP-04"], CheckContext(con, AS_OF, None, config))
    assert result.rows.filter(pl.col("metric") == "unpriced_shock_asset").height == 0
    assert stress_results(con, AS_OF, config)[0].total_shortfall_usd > 0  # it did move
    con.close()


def test_an_inverse_position_whose_quote_units_times_its_price_overflow_is_stressed(
    template: Path, tmp_path: Path
) -> None:
    """Fuzzing of 2026-12-05: 1e16 BTCUSD contracts (1e18 USD, 2e13 BTC: every figure of the
    position fits DECIMAL(38,18)) made CAP-04 and CAP-05 fail and the report stop with an
    internal error (exit 4): the formulas multiplied the quote units by the coin's USD price
    (5e22) before dividing by the mark, and a when/then valued inverse rows as linear too."""
    from reports.stress.var import FIRM_ACCOUNT_TYPES, firm_exposure

    con = make_db(template, tmp_path)
    add_market(con)
    add_accounts(con, [("c5", "client", "G3"), ("h1", "house", "h1")])
    add_position(
        con, "p5", "c5", "BTCUSD", "isolated", "10000000000000000", "50000", "2000000000000"
    )
    add_position(con, "p6", "h1", "BTCUSD", "cross", "-10000000000000000", "50000", None)
    derive.refresh(con)
    results = {r.scenario: r for r in stress_results(con, AS_OF, Config())}
    # down_30: uPnL 1e18 x 0.7 - 1e18 = -3e17 USD; margin 2e12 BTC x 35,000 = 7e16 USD
    assert results["down_30"].cover1_usd == D("230000000000000000")
    assert all(r.cover1_usd == 0 for name, r in results.items() if name != "down_30")
    inputs = load_stress_inputs(con, AS_OF, FIRM_ACCOUNT_TYPES)
    exposure = firm_exposure(inputs, Config().firm.stable_assets, "USD")
    assert exposure.rows() == [("BTC", D("-1000000000000000000"))]  # -1e18 USD / 50,000 x 50,000
    con.close()


def test_an_ordinary_inverse_position_is_stressed_exactly(template: Path, tmp_path: Path) -> None:
    """Review of 2026-12-05: dividing by the entry price before the coin's USD price
    multiplies (the overflow fix above) scaled the quotient's rounding by the price, about
    5e-14 USD here, enough to move a cent at a tie; positions whose products fit keep the
    exact order (one rounding, below 1e-18)."""
    con = make_db(template, tmp_path)
    add_market(con)
    add_accounts(con, [("c5", "client", "G3"), ("h1", "house", "h1")])
    add_position(con, "p5", "c5", "BTCUSD", "isolated", "1", "3", "1")
    add_position(con, "p6", "h1", "BTCUSD", "cross", "-1", "3", None)
    derive.refresh(con)
    inputs = load_stress_inputs(con, AS_OF)
    down = next(s for s in Config().stress.scenarios if s.name == "down_30")
    stressed = scenarios_module.stress_positions(
        inputs.client_positions, scenario_shocks(inputs, down, Config())
    ).row(0, named=True)
    # 100 USD x 50,000 x 0.7 / 3 - 100 USD x 50,000 / 50,000, to 18 decimals
    exact = D("1166566.666666666666666667")
    assert abs(stressed["stressed_upnl_usd"] - exact) <= D("2e-18"), stressed["stressed_upnl_usd"]
    assert stressed["stressed_notional_usd"] == D("100")
    # VaR's exposure likewise: -100 USD x 50,000 / 3
    from reports.stress.var import FIRM_ACCOUNT_TYPES, firm_exposure

    firm = load_stress_inputs(con, AS_OF, FIRM_ACCOUNT_TYPES)
    exposure = firm_exposure(firm, Config().firm.stable_assets, "USD")
    [(asset, usd)] = exposure.rows()
    assert asset == "BTC" and abs(usd - D("-1666666.666666666666666667")) <= D("1e-18"), usd
    con.close()


def test_stress_linear_with_a_stablecoin_not_at_one(template: Path, tmp_path: Path) -> None:
    """Test-strength review of 2026-12-06: every stress test priced USDT at 1, so a linear uPnL
    taken without the quote coin's price went unseen (DESIGN: stablecoins are not 1)."""
    con = make_db(template, tmp_path)
    add_market(con, usdt=Decimal("0.9"))
    add_accounts(con, [("c1", "client", "G1")])
    add_position(con, "p1", "c1", "BTCUSDT", "isolated", "1", "50000", "5000")
    derive.refresh(con)
    down = stress_results(con, AS_OF, Config())[0]
    # uPnL' = 1 x 0.9 x (35000 - 50000) = -13500 USD; margin 5000 x 0.9 = 4500 -> 9000
    assert down.cover1_usd == Decimal(9000)


def test_the_insurance_fund_is_its_own_custody_not_the_houses(scenario_db: Any) -> None:
    """House custody beside the fund does not cover the stress shortfall: the fund is the
    custody designated insurance_fund (mutation review of 2026-12-06: counting every firm
    wallet survived every test, the fixture holding none of the house's)."""
    scenario_db.execute("BEGIN")
    try:
        insert(
            scenario_db,
            "custody",
            "wallet_id, custodian, asset, balance, designation, wallet_type, custodian_type",
            [("w4", "self", "USDT", D(1_000_000), "house", "hot", "self")],
        )
        down = by_scenario(stress_table(scenario_db, AS_OF, Config()))["down_30"]
        assert (down["insurance_fund_usd"], down["status"]) == (D("22500"), "breach")
    finally:
        scenario_db.execute("ROLLBACK")


def test_a_groups_isolated_shortfalls_add_up(scenario_db: Any) -> None:
    """c6 joins G3 with an isolated long of 1 BTC at 50,000 on 1,000 of margin: 14,000 short
    at -30%, beside c5's 12,500, so G3 is 26,500 short and Cover-1 (mutation review of
    2026-12-06: the group's largest isolated shortfall instead of their sum survived)."""
    scenario_db.execute("BEGIN")
    try:
        add_accounts(scenario_db, [("c6", "client", "G3")])
        add_position(scenario_db, "p7", "c6", "BTCUSDT", "isolated", "1", "50000", "1000")
        derive.refresh(scenario_db)
        down = by_scenario(stress_table(scenario_db, AS_OF, Config()))["down_30"]
        assert (down["cover1_usd"], down["cover2_usd"]) == (D("26500"), D("42500"))
    finally:
        scenario_db.execute("ROLLBACK")


def _add_btct(con: Any) -> None:
    """The add_market day plus BTCT, a linear BTC/USDT perpetual marked at 50,000 USDT."""
    add_market(con)
    insert(con, "prices", "kind, symbol, price", [("instrument", "BTCT", D(50000))])
    insert(
        con,
        "instruments",
        "instrument_id, kind, underlying, quote_asset, settle_asset, contract_size",
        [("BTCT", "linear_perpetual", "BTC", "USDT", "USDT", D(1))],
    )


def _cascade_on(
    template: Path,
    folder: Path,
    positions: list[tuple[str, str, str, str, str]],
    balances: list[tuple[str, str, str]],
    shocks: dict[str, str],
    impact: str = "0",
) -> Any:
    """The cascade of one scenario over the add_market day plus BTCT, a linear BTC/USDT perp
    of two tiers (1% up to 47,500 USDT; 2% less 475 from there, continuous at 47,500), and the
    given client positions (id, account, instrument, quantity at an entry of the mark, isolated
    margin or "" for cross), each account a group of its own."""
    con = make_db(template, folder)
    _add_btct(con)
    insert(
        con,
        "risk_tiers",
        "instrument_id, tier, notional_floor, notional_cap, maintenance_margin_rate, maintenance_amount",
        [
            ("BTCT", 1, D(0), D(47500), D("0.01"), D(0)),
            ("BTCT", 2, D(47500), None, D("0.02"), D(475)),
        ],
    )
    marks = {"BTCT": "50000", "BTCUSDT": "50000", "ETHUSDT": "2000"}
    accounts = sorted({p[1] for p in positions} | {b[0] for b in balances})
    add_accounts(con, [(a, "client", a.upper()) for a in accounts])
    for pid, account, instrument, qty, margin in positions:
        mode = "isolated" if margin else "cross"
        add_position(con, pid, account, instrument, mode, qty, marks[instrument], margin or None)
    insert(con, "balances", "account_id, asset, balance", [(a, s, D(v)) for a, s, v in balances])
    derive.refresh(con)
    inputs = load_stress_inputs(con, AS_OF)
    scenario = Scenario("test", {k: D(v) for k, v in shocks.items()})
    result = run_cascade(inputs, "test", scenario_shocks(inputs, scenario, Config()), D(impact))
    con.close()
    return result


def test_cascade_maintenance_margin_at_the_stressed_notionals_tier(
    template: Path, tmp_path: Path
) -> None:
    """BTC -10%: 1 BTCT is 45,000 USDT (tier 1, MM 450), 2 BTCT 90,000 (tier 2, MM 1,800 - 475
    = 1,325). Liquidated at equity <= MM (DESIGN.md section 4), isolated and cross alike:
    a1 at 440 and a2 at exactly 450, b1 at 1,000 and the cross account x at exactly 450; b2 at
    1,500 is not. Mutation review of 2026-12-06: `<` for `<=` (isolated, cross), the tier of
    today's notional (tier 2 for 1 BTCT), the first tier instead of the highest reached, and
    + cum for - cum all passed every test."""
    result = _cascade_on(
        template,
        tmp_path,
        [
            ("a1", "a1", "BTCT", "1", "5440"),
            ("a2", "a2", "BTCT", "1", "5450"),
            ("b1", "b1", "BTCT", "2", "11000"),
            ("b2", "b2", "BTCT", "2", "11500"),
            ("xp", "x", "BTCT", "1", ""),
        ],
        [("x", "USDT", "5450")],
        {"*": "-0.10"},
    )
    assert result.liquidated["position_id"].to_list() == ["a1", "a2", "b1", "xp"]


def test_cascade_values_cross_wallets_at_stressed_prices(template: Path, tmp_path: Path) -> None:
    """x's collateral is 0.11 BTC (5,500 USD) beside a long of 1 BTCUSDT: at BTC -10% the
    wallet is worth 4,950 and the long loses 5,000, equity -50 <= MM 450, liquidated (at
    today's BTC price the equity would be 500; mutation review of 2026-12-06)."""
    result = _cascade_on(
        template, tmp_path, [("xp", "x", "BTCUSDT", "1", "")], [("x", "BTC", "0.11")], {"*": "-0.1"}
    )
    assert result.liquidated["position_id"].to_list() == ["xp"]


def test_cascade_margin_of_a_hedged_cross_account_when_its_quote_asset_fails(
    template: Path, tmp_path: Path
) -> None:
    """USDT -100%: the tier notional in USDT is unbounded, so each position's margin is its
    last tier's (1% of 50,000 USD). x's long BTCUSDT and short of 25 ETHUSDT offset (uPnL 0):
    its 0.01 BTC (500 USD) is below their MM of 1,000 (mutation review of 2026-12-06: no tier,
    MM 0, passed)."""
    result = _cascade_on(
        template,
        tmp_path,
        [("xl", "x", "BTCUSDT", "1", ""), ("xs", "x", "ETHUSDT", "-25", "")],
        [("x", "BTC", "0.01")],
        {"USDT": "-1"},
    )
    assert result.liquidated["position_id"].to_list() == ["xl", "xs"]


def test_cascade_prices_move_in_their_own_shocks_direction_and_not_below_zero(
    template: Path, tmp_path: Path
) -> None:
    """x's cross long of 1 BTCUSDT and 1 ETHUSDT on 5,000 USDT fails at BTC -10% (equity 0,
    MM 470): its ETH notional is liquidated too, but the scenario leaves ETH unshocked, so ETH
    has no direction and does not move. An impact of 1e-3 per USD would take BTC 45 times
    below zero: it stops at -100% (mutation review of 2026-12-06: moving unshocked assets
    down, and a floor of -1,000%, passed)."""
    result = _cascade_on(
        template,
        tmp_path,
        [("xb", "x", "BTCUSDT", "1", ""), ("xe", "x", "ETHUSDT", "1", "")],
        [("x", "USDT", "5000")],
        {"BTC": "-0.1"},
        impact="0.001",
    )
    assert result.liquidated["position_id"].to_list() == ["xb", "xe"]
    assert result.final_shocks["BTC"] == D(-1)
    assert result.final_shocks["ETH"] == 0


# ------------------------------------------------------------------------------------------
# Mutation review of the scenarios and CAP-04 outside the cascade (2026-12-06, second round):
# each test below failed under a realistic bug that every other test let pass (named in the
# docstring).


def test_a_fund_exactly_at_a_cover_figure_meets_it() -> None:
    """The fund must be strictly below a cover figure to fail it (module docstring; PFMI's
    "sufficient to cover"). Reference shortfalls 120M, 90M, 60M: a fund of exactly Cover-1
    (120M) meets Cover-1 and misses Cover-2 (breach, metric cover2, not cover1); under the
    Cover-1 standard a fund of exactly Cover-2 (210M) passes rather than warns. Mutations:
    `<=` for `<` at Cover-1 and at the informative Cover-2."""
    shortfalls = [D("120000000"), D("90000000"), D("60000000")]
    cover1, cover2 = cover_figure(shortfalls, 1), cover_figure(shortfalls, 2)
    assert cover_status(cover1, cover1, cover2, cover2, 2) == ("breach", "cover2", cover2)
    assert cover_status(cover2, cover1, cover2, cover1, 1) == ("pass", None, None)
    assert cover_status(cover1, cover1, cover2, cover1, 1) == ("warn", "cover2", cover2)


def test_a_groups_shortfall_sums_its_accounts_shortfalls_without_netting_credits(
    template: Path, tmp_path: Path
) -> None:
    """DESIGN.md section 5 (CAP-04): each client account's shortfall is max(0, -(its own
    stressed equity)), then summed per group: a's 1,000 USDT debit is not offset by b's 5,000
    USDT credit in the same group GA (b's funds are b's, as the segregation requirement never
    nets deficits). GA 1,000, GC 300: Cover-1 1,000, Cover-2 1,300. Mutation: the group's
    cross equity netted before the max(0, .) made GA 0."""
    con = make_db(template, tmp_path)
    insert(con, "prices", "kind, symbol, price", [("asset", "USDT", D(1))])
    add_accounts(con, [("a", "client", "GA"), ("b", "client", "GA"), ("c", "client", "GC")])
    insert(
        con,
        "balances",
        "account_id, asset, balance",
        [("a", "USDT", D(-1000)), ("b", "USDT", D(5000)), ("c", "USDT", D(-300))],
    )
    derive.refresh(con)
    for result in stress_results(con, AS_OF, Config()):
        assert (result.cover1_usd, result.cover2_usd) == (D(1000), D(1300)), result.scenario
        assert result.groups.select("group_id", "cross_shortfall_usd").rows() == [
            ("GA", D(1000)),
            ("GC", D(300)),
        ]
    con.close()


def test_insurance_fund_accounts_are_not_counterparties(scenario_db: Any) -> None:
    """CAP-04 counts client accounts only (DESIGN.md section 5): the insurance-fund account's
    own wallet debit and its losing isolated long of 10 BTCUSDT on no margin are the venue's,
    not a client group's shortfall; down_30 keeps Cover-1 16,000 and Cover-2 28,500.
    Mutations: the client filter written as "not house" (positions, then wallets) let them in."""
    scenario_db.execute("BEGIN")
    try:
        insert(
            scenario_db, "balances", "account_id, asset, balance", [("if1", "USDT", D(-1_000_000))]
        )
        add_position(scenario_db, "p8", "if1", "BTCUSDT", "isolated", "10", "50000", "0")
        derive.refresh(scenario_db)
        down = stress_results(scenario_db, AS_OF, Config())[0]
        assert (down.cover1_usd, down.cover2_usd) == (D("16000"), D("28500"))
        assert "if1" not in down.groups["group_id"].to_list()
    finally:
        scenario_db.execute("ROLLBACK")


def test_a_stored_previous_day_does_not_enter_todays_stress(
    scenario_db: Any, template: Path, tmp_path: Path
) -> None:
    """Each scenario shocks TODAY's marks and asset prices (DESIGN.md section 5): with the
    same venue stored for the day before too, stress.csv is the one-day database's. Mutations:
    the positions, wallets, firm custody or asset prices read with `as_of_date <= $as_of`."""
    other = make_db(template, tmp_path, "two_days.duckdb")
    before = AS_OF - dt.timedelta(days=1)
    for table in ("prices", "instruments", "risk_tiers", "accounts", "positions", "balances"):
        rows = scenario_db.execute(f"SELECT * FROM {table}").fetchall()
        marks = ", ".join("?" * len(rows[0]))
        other.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        other.executemany(f"INSERT INTO {table} VALUES ({marks})", [(before, *r[1:]) for r in rows])
    custody = scenario_db.execute("SELECT * FROM custody").fetchall()
    marks = ", ".join("?" * len(custody[0]))
    other.executemany(f"INSERT INTO custody VALUES ({marks})", custody)
    other.executemany(f"INSERT INTO custody VALUES ({marks})", [(before, *r[1:]) for r in custody])
    derive.refresh(other)
    assert stress_table(other, AS_OF, Config()).equals(stress_table(scenario_db, AS_OF, Config()))
    other.close()


def test_the_worst_scenario_is_the_one_with_least_headroom_over_cover2() -> None:
    """The figures carried to the next day's report are those of the scenario whose insurance
    fund has the least headroom over Cover-2 (reports/stress/results.py): "b" (fund 1,000
    against Cover-2 990: 10), not "a" (100 against 50: 50), although "a" has the smaller fund
    and the larger Cover-1 headroom. Mutations: max for min, Cover-1 for Cover-2."""
    from types import SimpleNamespace

    from reports.stress.results import worst_cover

    a = SimpleNamespace(scenario="a", insurance_fund_usd=D(100), cover1_usd=D(10), cover2_usd=D(50))
    b = SimpleNamespace(
        scenario="b", insurance_fund_usd=D(1000), cover1_usd=D(900), cover2_usd=D(990)
    )
    assert worst_cover([a, b]) is b and worst_cover([b, a]) is b
    # "c" has the largest Cover-2 but 3,000 of headroom (mutation review of 2026-12-07: the
    # largest Cover-2 taken for the worst passed)
    c = SimpleNamespace(
        scenario="c", insurance_fund_usd=D(5000), cover1_usd=D(1500), cover2_usd=D(2000)
    )
    assert worst_cover([a, b, c]) is b and worst_cover([c, b, a]) is b
    assert worst_cover([]) is None


def test_a_breached_cap04_run_records_its_figures(scenario_db: Any) -> None:
    """A run whose CAP-04 breached computed its figures like a passing one and records them
    for the next day's report (reports/stress/results.py: pass, warn and breach); down_30 is the
    worst scenario (fund 22,500 against Cover-2 28,500). Mutation: a breach left out of the
    outcomes that record, so the next day's report recomputed (or lost) them."""
    from types import SimpleNamespace

    from reports.stress.results import (
        WORST_COVER2,
        WORST_FUND,
        record_stress_figures,
        stored_figures,
    )

    run = SimpleNamespace(
        run_id="r1", results=[SimpleNamespace(check_id="CAP-04", status="breach")]
    )
    ctx = CheckContext(scenario_db, AS_OF, None, Config())
    scenario_db.execute("BEGIN")
    try:
        assert record_stress_figures(scenario_db, run, AS_OF, dt.datetime(2026, 3, 2, 23), ctx) == 2
        assert stored_figures(scenario_db, AS_OF, "r1") == {
            WORST_COVER2: D("28500"),
            WORST_FUND: D("22500"),
        }
    finally:
        scenario_db.execute("ROLLBACK")


def test_cap04_does_not_warn_of_an_unpriced_asset_a_scenario_leaves_unmoved(
    scenario_db: Any,
) -> None:
    """CAP-04's unpriced-asset warning says "the shock moves nothing": it is for a named asset
    with a move the day cannot apply. A scenario template naming XRP at 0 (no move intended)
    is not that, so no warning; XRP at -0.2 is (reports/stress/checks.py). Mutation: the
    `move != 0` condition dropped warned of every unmoved name."""
    config = replace(
        Config(),
        stress=StressConfig(
            scenarios=(
                Scenario("still", {"XRP": D(0), "BTC": D("-0.1")}),
                Scenario("moved", {"XRP": D("-0.2"), "BTC": D("-0.1")}),
            )
        ),
    )
    result = run_one(PYTHON_CHECKS["CAP-04"], CheckContext(scenario_db, AS_OF, None, config))
    rows = result.rows.filter(pl.col("metric") == "unpriced_shock_asset")
    assert rows["entity_id"].to_list() == ["moved"]


# ------------------------------------------------------------------------------------------
# Mutation review of 2026-12-07 (stress): each test below failed under a realistic bug that
# every other test let pass (named in the docstring).


TWO_TIERS = [(1, "0", "45000", "0.01"), (2, "45000", None, "0.02")]


def _tiered_cascade(
    template: Path,
    folder: Path,
    margin: str,
    tiers: list[tuple[int, str, str | None, str]],
    previous_day: list[tuple[int, str, str | None, str]] | None = None,
) -> Any:
    """BTC -10% over one isolated long of 1 BTCT at 50,000 (45,000 USDT stressed) on `margin`
    USDT; BTCT's tiers (tier, floor, cap, rate) as the venue gives them, each with a
    maintenance amount of 0, and `previous_day` the tiers stored for the day before."""
    folder.mkdir(exist_ok=True)
    con = make_db(template, folder)
    _add_btct(con)
    columns = (
        "as_of_date, instrument_id, tier, notional_floor, notional_cap, "
        "maintenance_margin_rate, maintenance_amount"
    )
    for day, table in ((AS_OF, tiers), (AS_OF - dt.timedelta(days=1), previous_day)):
        if not table:
            continue
        con.executemany(
            f"INSERT INTO risk_tiers ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (day, "BTCT", tier, D(floor), None if cap is None else D(cap), D(rate), D(0))
                for tier, floor, cap, rate in table
            ],
        )
    add_accounts(con, [("a", "client", "GA")])
    add_position(con, "a1", "a", "BTCT", "isolated", "1", "50000", margin)
    derive.refresh(con)
    inputs = load_stress_inputs(con, AS_OF)
    shocks = scenario_shocks(inputs, Scenario("down_10", {"*": D("-0.10")}), Config())
    result = run_cascade(inputs, "down_10", shocks, D(0))
    con.close()
    return result


def test_cascade_a_notional_at_a_tiers_floor_takes_that_tier(
    template: Path, tmp_path: Path
) -> None:
    """DESIGN.md section 3: a position uses the tier with floor <= notional < cap. BTCT: 1% up
    to 45,000, then 2% with a venue-given maintenance amount of 0 (not the continuous 450). At
    BTC -10% the long's notional is 45,000, tier 2's floor: MM 900, not tier 1's 450, so an
    equity of 600 (margin 5,600 less the 5,000 loss) is liquidated and 1,000 is not.
    Mutation: `>` for `>=` against the floor (tier 1 there) passed, every other tier table
    being continuous at its floors."""
    at_floor = _tiered_cascade(template, tmp_path / "a", "5600", TWO_TIERS)
    assert at_floor.liquidated["position_id"].to_list() == ["a1"]
    assert _tiered_cascade(template, tmp_path / "b", "6000", TWO_TIERS).liquidated.is_empty()


def test_cascade_uses_todays_tiers_not_a_stored_previous_days(
    template: Path, tmp_path: Path
) -> None:
    """Today's maintenance tiers only: today BTCT has one tier of 1% (MM 450 at the stressed
    45,000), the day before had 50% from 40,000 (MM 22,500), which would liquidate the long's
    equity of 15,000 (20,000 of margin). Mutation: risk_tiers.sql read with
    `as_of_date <= $as_of` passed."""
    result = _tiered_cascade(
        template,
        tmp_path,
        "20000",
        [(1, "0", None, "0.01")],
        previous_day=[(1, "0", "40000", "0.01"), (2, "40000", None, "0.5")],
    )
    assert result.liquidated.is_empty() and result.rounds == ()
