"""Capital adequacy: IFR / CFTC / MiCA formulas, the capital statement and CAP-01..CAP-03.

The pure formulas reproduce shared/reference/README.md (IFR, K-CON, CFTC); the statement and the
checks run against small databases built here, row by row, with exactly the figures needed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from reports import derive
from reports.capital import cftc, ifr, inputs, mica
from reports.capital.checks import check_cap_01, check_cap_02, check_cap_03, statement_for
from reports.capital.statement import capital_statement, unavailable_statement
from reports.checks.model import PYTHON_CHECKS, CheckContext, CheckNotEvaluated, CheckOutcome
from reports.config import CapitalConfig, Config, parse_config
from reports.db import init_schema
from reports.errors import UsageError
from reports.render.outputs import capital_frame

D = Decimal
M = D(1_000_000)


# ------------------------------------------------------------------ reference figures (pure)


def test_ifr_reference_k_factors_and_requirement() -> None:
    # shared/reference/README.md, IFR: fixed overheads 8.0M, PMR 750k and the listed K-factors.
    fixed_overheads = ifr.fixed_overheads_requirement(D(8) * M)
    assert fixed_overheads == D(2) * M
    k_cmh = ifr.k_cmh(segregated=D(200) * M, non_segregated=D(20) * M)
    assert k_cmh == D(900_000)
    k_asa = ifr.k_asa(D(300) * M)
    assert k_asa == D(120_000)
    k_coh = ifr.k_coh(derivatives=D(500) * M)
    assert k_coh == D(50_000)
    k_npr = ifr.k_npr([D(1_500_000)], D(1))
    assert k_npr == D(1_500_000)
    k_tcd = ifr.k_tcd(D(10) * M, ifr.tcd_risk_factor("other"))
    assert k_tcd == D(1_440_000)
    k_dtf = ifr.k_dtf(derivatives=D(2000) * M)
    assert k_dtf == D(200_000)
    k_con = ifr.k_con(D(8) * M, D(20) * M, days_over=1)
    assert k_con == D(480_000)
    kfr = ifr.kfr([k_cmh, k_asa, k_coh, k_npr, k_tcd, k_dtf, k_con])
    assert kfr == D(4_690_000)
    requirement = ifr.own_funds_requirement(D(750_000), fixed_overheads, kfr)
    assert requirement == D(4_690_000)


def test_ifr_reference_composition_and_liquidity() -> None:
    minima = ifr.composition_minima(D(4_690_000))
    assert minima == {"cet1": D(2_626_400), "cet1_at1": D(3_517_500), "total": D(4_690_000)}
    # 1/3 x 2.0M = 666,666.67 (666,667 in the reference, rounded to units) + 1.6% x 5M = 80,000.
    part = ifr.liquidity_fixed_overheads_part(D(2) * M)
    assert part.quantize(D("0.01")) == D("666666.67")
    assert part.quantize(D(1)) == D(666_667)
    assert ifr.liquidity_guarantees_part(D(5) * M) == D(80_000)
    liquidity = ifr.liquidity_requirement(D(2) * M, D(5) * M)
    assert liquidity.quantize(D("0.01")) == D("746666.67")
    assert liquidity.quantize(D(1)) == D(746_667)
    assert liquidity == D("746666.666666666666666667")  # full precision, 18 decimals half-even


def test_k_con_reference_tranches() -> None:
    # Own funds 20M, exposure 20M: OFR 1.6M, OFRE 1.2M, excess 15M = 75% of own funds.
    long_run = ifr.k_con_detail(D(20) * M, D(20) * M, days_over=11)
    assert (long_run.limit, long_run.excess) == (D(5) * M, D(15) * M)
    assert (long_run.ofr, long_run.ofre) == (D(1_600_000), D(1_200_000))
    assert long_run.factor_rule == "tranches"
    assert [(t.excess_part, t.factor, t.requirement) for t in long_run.tranches] == [
        (D(8) * M, D(2), D(1_280_000)),
        (D(4) * M, D(3), D(960_000)),
        (D(3) * M, D(4), D(960_000)),
    ]
    assert long_run.k_con == D(3_200_000)
    # At most 10 days: 200% x OFRE.
    assert ifr.k_con(D(20) * M, D(20) * M, days_over=10) == D(2_400_000)
    # 8M exposure: excess 3M, OFRE 640k x 3/8 = 240k, K-CON 480k.
    short = ifr.k_con_detail(D(8) * M, D(20) * M, days_over=3)
    assert (short.ofr, short.ofre, short.k_con) == (D(640_000), D(240_000), D(480_000))
    # Within the limit (25% exactly is not above it): nothing.
    assert ifr.k_con(D(5) * M, D(20) * M, days_over=30) == 0


def test_k_con_tranches_beyond_250_percent() -> None:
    # Own funds 1M, exposure 3.25M: excess 3M = 300% of own funds, 0.08 x each tranche x factor.
    detail = ifr.k_con_detail(D("3250000"), M, days_over=20)
    assert [t.factor for t in detail.tranches] == [D(2), D(3), D(4), D(5), D(6), D(9)]
    expected = D("0.08") * (
        D(400_000) * 2
        + D(200_000) * 3
        + D(200_000) * 4
        + D(200_000) * 5
        + D(1_500_000) * 6
        + D(500_000) * 9
    )
    assert detail.k_con == expected


def test_cftc_reference() -> None:
    # 17 CFR 1.17 / 1.12: margin 40M + 10M -> max(1M, 8% x 50M) = 4.0M; early warning 4.4M.
    required = cftc.requirement(M, D(40) * M + D(10) * M, D("0.08"))
    assert required == D(4) * M
    assert cftc.early_warning_amount(M, required, D("1.10")) == D("4400000")
    # A small venue: the 1M minimum binds and 150% of it (1.5M) is the early-warning level.
    small = cftc.requirement(M, D(5) * M, D("0.08"))
    assert small == M
    assert cftc.early_warning_amount(M, small, D("1.10")) == D("1500000")


def test_mica_requirement() -> None:
    assert mica.requirement(D(150_000), mica.fixed_overheads_requirement(D(400_000))) == D(150_000)
    assert mica.requirement(D(150_000), mica.fixed_overheads_requirement(D(800_000))) == D(200_000)


def test_window_average_and_zero_days() -> None:
    assert ifr.window_average(D(5), 2) == D("2.5")
    assert ifr.window_average(D(5), 0) == 0
    assert ifr.window_average(D(1), 3) == D("0.333333333333333333")


def test_checks_are_registered() -> None:
    for check_id in ("CAP-01", "CAP-02", "CAP-03"):
        spec = PYTHON_CHECKS[check_id]
        assert spec.function is not None and spec.source.startswith("reports.capital.checks:")
        assert spec.severity == "breach"


# ------------------------------------------------------------------ a small database


@pytest.fixture(scope="module")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with the schema, created once: copying it is faster than init_schema."""
    path = tmp_path_factory.mktemp("capital") / "template.duckdb"
    connection = duckdb.connect(str(path))
    init_schema(connection)
    connection.close()
    return path


@pytest.fixture
def con(schema_template: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path / "capital.duckdb"
    shutil.copyfile(schema_template, path)
    connection = duckdb.connect(str(path))
    connection.execute("SET threads = 1")  # tiny data: planning dominates, and CI has 2 cores
    yield connection
    connection.close()


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, day: dt.date, rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    marks = ", ".join(["?"] * (len(rows[0]) + 1))
    con.executemany(f"INSERT INTO {table} VALUES ({marks})", [(day, *row) for row in rows])


def stored_day(
    con: duckdb.DuckDBPyConnection,
    day: dt.date,
    *,
    cet1: str = "1000000",
    at1: str = "0",
    tier2: str = "0",
    fixed_overheads: str = "400000",
    liquid_assets: str = "1000000",
    client_guarantees: str | None = None,
    adjusted_net_capital: str | None = None,
    client_balances: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    custody: list[tuple[str, str, str, str, str, str, str]] | None = None,
    volumes: list[tuple[str, str, str]] | None = None,
    accounts: list[tuple[str, str, str]] | None = None,
    balances: list[tuple[str, str, str]] | None = None,
) -> None:
    """One stored day: capital file, one client account C1 (group G1) with `client_balances`,
    asset prices, custody rows (wallet, custodian, asset, balance, designation, wallet type,
    custodian type) and volumes (instrument, account type, notional). One transaction: a
    commit per statement cost a third of the time of a day."""
    con.execute("BEGIN TRANSACTION")
    capital = [
        ("cet1", D(cet1)),
        ("at1", D(at1)),
        ("tier2", D(tier2)),
        ("fixed_overheads_annual", D(fixed_overheads)),
        ("liquid_assets", D(liquid_assets)),
    ]
    if client_guarantees is not None:
        capital.append(("client_guarantees", D(client_guarantees)))
    if adjusted_net_capital is not None:
        capital.append(("adjusted_net_capital", D(adjusted_net_capital)))
    _insert(con, "capital", day, capital)
    all_accounts = [("C1", "client", "G1"), *(accounts or [])]
    _insert(con, "accounts", day, [(a, t, g, "retail", None, "active") for a, t, g in all_accounts])
    rows = [("C1", asset, D(amount)) for asset, amount in (client_balances or {}).items()]
    rows += [(a, asset, D(amount)) for a, asset, amount in balances or []]
    _insert(con, "balances", day, rows)
    _insert(
        con, "prices", day, [("asset", s, D(p)) for s, p in {"USDT": "1", **(prices or {})}.items()]
    )
    _insert(
        con,
        "custody",
        day,
        [(w, c, a, D(b), des, wt, ct) for w, c, a, b, des, wt, ct in custody or []],
    )
    _insert(con, "volumes", day, [(i, t, D(n)) for i, t, n in volumes or []])
    derive.refresh_dates(con, [day])  # rows inserted directly, not through the loader
    con.execute("COMMIT")


def _one_cross_position(
    con: duckdb.DuckDBPyConnection,
    instrument: tuple[Any, ...],
    account: str = "C1",
    quantity: int = 400,
) -> None:
    """On DAY: the instrument (an instruments row), one tier at 1% maintenance, a mark of
    50,000 and `account`'s cross long of `quantity` contracts entered at the mark; valued."""
    symbol = instrument[0]
    _insert(con, "instruments", DAY, [instrument])
    _insert(con, "risk_tiers", DAY, [(symbol, 1, D(0), None, D("0.01"), D(0), None)])
    _insert(con, "prices", DAY, [("instrument", symbol, D(50_000))])
    _insert(
        con,
        "positions",
        DAY,
        [("P1", account, symbol, "cross", D(quantity), D(50_000), None, None, None)],
    )
    derive.refresh(con)


def ctx_for(
    con: duckdb.DuckDBPyConnection, day: dt.date, config: Config | None = None
) -> CheckContext:
    return CheckContext(con=con, as_of=day, prev_as_of=None, config=config or Config())


def line(statement: Any, item_prefix: str) -> Decimal:
    hits = statement.lines.filter(pl.col("item").str.starts_with(item_prefix))
    assert hits.height == 1, (item_prefix, statement.lines["item"].to_list())
    return hits["amount"][0]


DAY = dt.date(2026, 3, 31)


def test_statement_needs_a_stored_day(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UsageError, match="no data stored for 2026-03-31"):
        capital_statement(con, DAY, Config())


# ------------------------------------------------------------------ CAP-01, CAP-02, CAP-03
# Each scenario is one stored day with only the capital file (no K-factors): D = max(PMR 750k,
# FOR, 0). The checks of a run share one statement (statement_for), as in the engine.


def test_cap_checks_trigger(con: duckdb.DuckDBPyConnection) -> None:
    # Own funds 500k of D 750k; FOR = 400k / 4 = 100k; liquidity 1/3 x 100k + 1.6% x 1M = 49,333.33.
    stored_day(
        con,
        DAY,
        cet1="300000",
        at1="100000",
        tier2="100000",
        liquid_assets="49333",
        client_guarantees="1000000",
    )
    ctx = ctx_for(con, DAY)
    statement = statement_for(ctx)
    assert (statement.requirement, statement.own_funds, statement.binding) == (
        D(750_000),
        D(500_000),
        "PMR",
    )

    cap01 = check_cap_01(ctx)
    assert cap01.select(
        "status", "entity_type", "entity_id", "metric", "value", "threshold"
    ).rows() == [
        ("breach", "firm", "firm", "own_funds_ratio", D("0.666666666666666667"), D(1)),
    ]
    assert "shortfall 250,000.00 USD" in cap01["message"][0]

    # CET1 300k < 420k, CET1 + AT1 400k < 562.5k; total 500k < 750k is CAP-01's, not repeated here
    cap02 = check_cap_02(ctx)
    assert sorted(cap02.select("status", "metric", "value", "threshold").rows()) == [
        ("breach", "cet1", D(300_000), D(420_000)),
        ("breach", "cet1_at1", D(400_000), D(562_500)),
    ]
    assert set(cap02["entity_id"]) == {"firm"}
    assert any("short by 120,000.00 USD" in m for m in cap02["message"])

    cap03 = check_cap_03(ctx)
    assert cap03.select("status", "metric", "value", "threshold").rows() == [
        ("breach", "liquid_assets", D(49_333), D("49333.333333333333333333")),
    ]
    assert "49,333.33" in cap03["message"][0]
    # each part of the requirement under its own name (the two swapped passed)
    assert "(1/3 x FOR 33,333.33 + 1.6% x client guarantees 16,000.00)" in cap03["message"][0]


def test_cap_messages_never_print_a_figure_as_its_threshold(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Capital review of 2026-12-05: "ratio 100.00% is below 100%", "CET1 420,000.00 is below
    ... minimum 420,000.00, short by 0.00 USD". Figures next to their threshold get the
    decimals that tell them apart, as the SQL checks' fmt_against does."""
    stored_day(
        con,
        DAY,
        cet1="419999.996",
        at1="142500",
        tier2="187499.994",
        liquid_assets="49333.3333",
        client_guarantees="1000000",
    )
    ctx = ctx_for(con, DAY)
    cap01 = check_cap_01(ctx)["message"][0]
    assert "ratio 99.9999986666666667% is below 100%; shortfall 0.01 USD" in cap01
    (cap02,) = [m for m in check_cap_02(ctx)["message"] if m.startswith("CET1 419")]
    assert "CET1 419,999.996 USD is below" in cap02 and "short by 0.004 USD" in cap02
    cap03 = check_cap_03(ctx)["message"][0]
    assert "liquid assets 49,333.3333 USD are below" in cap03
    assert "requirement 49,333.333333333333333333 USD" in cap03  # not 49,333.33, below it
    assert "short by 0.000033333333333333 USD" in cap03


def test_a_figure_is_told_from_its_threshold_at_any_size() -> None:
    """`against` (the Python checks' fmt_against) compares magnitudes exactly: with abs() in
    the context's 28 digits, 12,345,678,901.000000000000000001 (29 digits) equalled its
    threshold 12,345,678,901 and printed as it (review of 2026-12-06)."""
    from reports.capital.exact import against

    big, limit = D("12345678901.000000000000000001"), D("12345678901")
    assert against(big, limit, 2) == "12,345,678,901.000000000000000001"
    assert against(limit, big, 2) == "12,345,678,901.00"  # the threshold itself is exact
    assert against(D("-0.004"), D(0), 2) == "-0.004"
    assert against(D("1234.5"), D(0), 2) == "1,234.50"  # clear of it: the usual decimals
    assert against(D("0.125"), D("0.12"), 2) == "0.125"  # 0.12 at two decimals, above it
    assert against(D("0.135"), D("1"), 2) == "0.14"  # half-even


def test_cap01_own_funds_half_a_cent_under_the_requirement_read_as_under_it(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """README audit of 2026-12-06: own funds of 749,999.996 against the PMR of 750,000 read "own
    funds 750,000.00 USD against a requirement of 750,000.00 USD"."""
    stored_day(
        con,
        DAY,
        cet1="419999.996",
        at1="142500",
        tier2="187500",
        liquid_assets="49333.3333",
        client_guarantees="1000000",
    )
    (message,) = check_cap_01(ctx_for(con, DAY))["message"].to_list()
    assert "own funds 749,999.996 USD against a requirement of 750,000.00 USD" in message


def test_k_con_limit_is_exact_and_a_sub_unit_shortfall_reads_right(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Final review of 2026-12-05: the K-CON limit was 25% of own funds in Python's default 28
    digits (an exposure exactly at it counted as over), and a shortfall below 1e-18 of D
    printed "ratio 100.00% is below 100%"."""
    from reports.capital.inputs import _limit

    own = D("123456789012.123456789012345656")
    assert _limit(own) == D("30864197253.030864197253086414")  # exact: 25% x own funds
    assert _limit(D(-5)) == 0
    stored_day(con, DAY, cet1="749999.999999999999999999", liquid_assets="49334")
    message = check_cap_01(ctx_for(con, DAY))["message"][0]
    assert "ratio below 100% by less than 1e-18" in message
    assert "100.00% is below" not in message


def test_cap01_warn_1e18_under_the_early_warning_amount_reads_right(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Capital audit of 2026-12-07: own funds 1e-18 under the early-warning amount (825,000 =
    110% of D = 750k) warned with "own funds 825,000.00 ... ratio 110.00% is below the
    early-warning level 110.00% (825,000.00 USD)": the own funds were printed against the
    requirement, and the ratio rounded to 18 decimals is the level itself."""
    stored_day(con, DAY, cet1="824999.999999999999999999", fixed_overheads="1200000")
    ctx = ctx_for(con, DAY)
    assert statement_for(ctx).early_warning_amount == D(825_000)
    ((status, message),) = check_cap_01(ctx).select("status", "message").rows()
    assert status == "warn"
    assert "own funds 824,999.999999999999999999 USD" in message
    assert (
        "ratio below the early-warning level 110.00% (825,000.00 USD) by less than 1e-18"
    ) in message
    assert "110.00% is below" not in message


def test_cap01_warn_with_cap02_cap03_controls(con: duckdb.DuckDBPyConnection) -> None:
    # Own funds 800k = 106.67% of 750k: below the 110% early-warning level, above 100%.
    # CAP-02 and CAP-03 controls: CET1 alone covers D; liquid assets 49,334 > 49,333.33.
    stored_day(con, DAY, cet1="800000", liquid_assets="49334", client_guarantees="1000000")
    ctx = ctx_for(con, DAY)
    cap01 = check_cap_01(ctx)
    assert cap01.select("status", "metric", "value", "threshold").rows() == [
        ("warn", "own_funds_ratio", D("1.066666666666666667"), D("1.1")),
    ]
    assert "early-warning level 110.00%" in cap01["message"][0]
    assert check_cap_02(ctx).height == 0
    assert check_cap_03(ctx).height == 0


def test_cap_checks_pass_exactly_at_their_minima(con: duckdb.DuckDBPyConnection) -> None:
    # CET1 420k = 56%, + AT1 142.5k = 75%, + T2 262.5k = 825k = 110% of D exactly;
    # liquidity: 1/3 x (1.2M / 4) + 1.6% x 1M = 100k + 16k = 116k, held exactly.
    stored_day(
        con,
        DAY,
        cet1="420000",
        at1="142500",
        tier2="262500",
        fixed_overheads="1200000",
        liquid_assets="116000",
        client_guarantees="1000000",
    )
    ctx = ctx_for(con, DAY)
    statement = statement_for(ctx)
    assert statement.ratio == D("1.1")
    assert check_cap_01(ctx).height == 0
    assert check_cap_02(ctx).height == 0
    assert check_cap_03(ctx).height == 0
    assert statement.liquidity is not None and statement.liquidity.requirement == D(116_000)

    # capital.csv: every figure is on a line, and the lines recompute D.
    frame = statement.lines
    assert frame.columns == ["line", "item", "amount", "unit"]
    assert frame.schema["amount"] == pl.Decimal(38, 18)
    assert frame["line"].to_list() == list(range(1, frame.height + 1))
    assert frame["item"].n_unique() == frame.height
    for_ = line(statement, "FOR = fixed overheads / 4")
    kfr = line(statement, "KFR = ")
    assert for_ == D(300_000)
    assert (
        line(statement, "D = own funds requirement")
        == max(D(750_000), for_, kfr)
        == statement.requirement
    )
    parts = ("K-CMH = ", "K-ASA = ", "K-COH = ", "K-DTF = ", "K-NPR = ", "K-TCD = ", "K-CON = ")
    assert sum(line(statement, p) for p in parts) == kfr
    assert line(statement, "Own funds = CET1 + AT1 + Tier 2") == statement.own_funds == D(825_000)
    assert line(statement, "Composition: CET1 minimum = 56% of D") == D(420_000)
    assert line(statement, "Liquidity requirement") == D(116_000)
    assert statement.summary() == {
        "regime": "ifr",
        "own_funds": D(825_000),
        "requirement": D(750_000),
        "ratio": D("1.1"),
    }


# ------------------------------------------------------------------ windows and volumes


def test_window_fallback_and_no_volumes_notes(con: duckdb.DuckDBPyConnection) -> None:
    # Two stored days, both within the 3 most recent months: no window holds a stored day.
    stored_day(con, dt.date(2026, 3, 30), client_balances={"USDT": "1000000"})
    stored_day(con, DAY, client_balances={"USDT": "3000000"})
    statement = capital_statement(con, DAY, Config())
    for factor in ("K-CMH", "K-ASA", "K-COH", "K-DTF"):
        window = next(w for w in statement.windows if w.factor == factor)
        assert window.fallback and window.days_in_window == 0 and window.days_used == 2
    assert any(
        n.startswith("K-CMH window (after 2025-06-30 through 2025-12-31")
        and n.endswith("had no stored day; used all 2 stored days up to the as-of date")
        for n in statement.notes
    ), statement.notes
    assert "volumes absent: K-COH and K-DTF are 0" in statement.notes
    # K-CMH = 0.4% x average(1M, 3M) = 8,000.
    assert statement.components["K-CMH"] == D(8_000)
    assert (statement.components["K-COH"], statement.components["K-DTF"]) == (0, 0)
    assert line(statement, "K-CMH: days used (fallback") == 2
    # K-COH's window is the previous 6 months, not 9 (a note naming 9 for every factor passed)
    assert any(
        n.startswith("K-COH window (after 2025-09-30 through 2025-12-31: the previous 6 months ")
        for n in statement.notes
    ), statement.notes


def test_windows_use_stored_days_inside_them(con: duckdb.DuckDBPyConnection) -> None:
    # As of 2026-03-31: K-CMH/K-ASA/K-DTF window = (2025-06-30, 2025-12-31], K-COH (2025-09-30, 2025-12-31].
    stored_day(
        con,
        dt.date(2025, 5, 15),
        client_balances={"USDT": "1000000"},
        volumes=[("BTCUSDT", "client", "999000000")],
    )  # before every window
    stored_day(con, dt.date(2025, 8, 15), client_balances={"USDT": "2000000"})  # no volumes file
    stored_day(
        con,
        dt.date(2025, 11, 15),
        client_balances={"USDT": "3000000", "BTC": "10"},
        prices={"BTC": "50000"},
        volumes=[("BTCUSDT", "client", "300000000"), ("BTCUSDT", "house", "50000000")],
    )
    stored_day(
        con, DAY, client_balances={"USDT": "10000000"}, volumes=[("BTCUSDT", "client", "999000000")]
    )  # the most recent 3 months: excluded
    statement = capital_statement(con, DAY, Config())
    windows = {w.factor: w for w in statement.windows}
    assert {f: (w.days_in_window, w.days_used, w.fallback) for f, w in windows.items()} == {
        "K-CMH": (2, 2, False),
        "K-ASA": (2, 2, False),
        "K-COH": (1, 1, False),
        "K-DTF": (2, 2, False),
    }
    assert windows["K-CMH"].average == D(2_500_000)
    assert statement.components["K-CMH"] == D(10_000)  # 0.4% x (2M + 3M) / 2
    assert statement.components["K-ASA"] == D(100)  # 0.04% x (0 + 500k) / 2
    assert statement.components["K-COH"] == D(30_000)  # 0.01% x 300M (one day in its window)
    assert statement.components["K-DTF"] == D(2_500)  # 0.01% x (0 + 50M) / 2
    assert (
        "K-DTF: volumes present on 1 of the 2 days used; days without volumes count as 0"
        in statement.notes
    )
    assert not any("fallback" in n or "no stored day" in n for n in statement.notes)
    assert line(statement, "K-CMH: days used (2025-08-15 to 2025-11-15)") == 2
    assert line(statement, "K-COH = average x coefficient") == D(30_000)


# ------------------------------------------------------------------ K-NPR, K-TCD, K-CON


def test_k_npr_and_k_tcd_from_positions_and_custody(con: duckdb.DuckDBPyConnection) -> None:
    stored_day(
        con,
        DAY,
        prices={"BTC": "50000"},
        accounts=[("H1", "house", "H1")],
        custody=[
            ("w1", "self", "BTC", "2", "house", "cold", "self"),  # 100k of BTC, own wallet
            ("w2", "BankCo", "USDT", "1000000", "house", "bank", "credit_institution"),
            ("w3", "Broker", "USDT", "500000", "house", "exchange", "other"),
            ("w4", "Broker", "BTC", "1", "client", "exchange", "other"),  # client: not K-TCD
            # an overdraft: the venue owes the bank; no exposure, and no relief either
            ("w5", "OverdraftBank", "USDT", "-500000", "house", "bank", "credit_institution"),
        ],
    )
    _insert(
        con,
        "instruments",
        DAY,
        [("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None)],
    )
    _insert(con, "risk_tiers", DAY, [("BTCUSDT", 1, D(0), None, D("0.005"), D(0), None)])
    _insert(con, "prices", DAY, [("instrument", "BTCUSDT", D(50_000))])
    _insert(
        con,
        "positions",
        DAY,
        [("P1", "H1", "BTCUSDT", "cross", D(-1), D(50_000), None, None, None)],
    )
    derive.refresh(con)
    statement = capital_statement(con, DAY, Config())
    # BTC: custody +100k, short position -50k -> net 50k x 100%.
    assert statement.components["K-NPR"] == D(50_000)
    assert line(statement, "K-NPR: BTC net exposure") == D(50_000)
    # 1.2 x 1M x 1.6% x 1.5 + 1.2 x 500k x 8% x 1.5 = 28,800 + 72,000 (+ 0 for the overdraft,
    # not -14,400).
    assert statement.components["K-TCD"] == D(100_800)
    assert line(statement, "K-TCD: BankCo RF") == D("0.016")


def test_capital_csv_rounds_by_the_line_unit_not_a_custodian_name(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Venue-supplied names are part of the items; they must not change how a figure is rounded
    # (capital.csv used to read each line's unit off its wording: "share of D" meant a ratio).
    stored_day(
        con,
        DAY,
        custody=[
            ("w1", "Trust share of D", "USDT", "1000.005", "house", "bank", "credit_institution"),
            ("w2", "days used RF", "USDT", "10.125", "house", "exchange", "other"),
        ],
    )
    statement = capital_statement(con, DAY, Config())
    presented = dict(capital_frame(statement.lines).select("item", "amount").iter_rows())
    ev = "K-TCD: {} ({}) EV: house custody (USD)"
    assert presented[ev.format("Trust share of D", "credit_institution")] == "1000.00"
    assert presented[ev.format("days used RF", "other")] == "10.12"
    assert presented["K-TCD: Trust share of D RF"] == "0.01600000"
    assert presented["K-TCD: days used RF RF"] == "0.08000000"
    units = dict(statement.lines.select("item", "unit").iter_rows())
    assert units["K-NPR: weight"] == units["Own funds ratio = own funds / D"] == "ratio"
    assert units["K-CMH: coefficient"] == units["Early-warning level (share of D)"] == "ratio"
    averaged = [i for i in units if i.startswith(("K-CMH: ", "K-ASA: ", "K-COH: ", "K-DTF: "))]
    assert {units[i] for i in averaged if ": days used" in i or ": stored days" in i} == {"count"}
    assert units["D = own funds requirement = max(PMR, FOR, KFR) (IFR Art. 11)"] == "usd"


def test_k_npr_counts_the_quote_coin_leg_of_a_linear_contract(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Review of 2026-12-05: a house long of 10 ETHBTC at mark 0.05 (ETH 2,500, BTC 50,000
    USD) counted +25,000 USD of ETH and nothing in BTC; the contract is also short 0.5 BTC."""
    stored_day(con, DAY, prices={"BTC": "50000", "ETH": "2500"}, accounts=[("H1", "house", "H1")])
    _insert(
        con, "instruments", DAY, [("ETHBTC", "linear_perpetual", "ETH", "BTC", "BTC", D(1), None)]
    )
    _insert(con, "risk_tiers", DAY, [("ETHBTC", 1, D(0), None, D("0.005"), D(0), None)])
    _insert(con, "prices", DAY, [("instrument", "ETHBTC", D("0.05"))])
    _insert(
        con, "positions", DAY, [("P1", "H1", "ETHBTC", "cross", D(10), D("0.04"), None, None, None)]
    )
    derive.refresh(con)
    statement = capital_statement(con, DAY, Config())
    assert line(statement, "K-NPR: ETH net exposure") == D(25_000)
    assert line(statement, "K-NPR: BTC net exposure") == D(-25_000)
    assert statement.components["K-NPR"] == D(50_000)  # 100% of |net| per coin


def _large_exposure_history(
    con: duckdb.DuckDBPyConnection, over: list[bool], first: dt.date
) -> dt.date:
    """One stored day per entry, two calendar days apart (calendar gaps do not matter): house
    custody at Broker of 1M (over the 250k limit of 1M own funds) or 100k (under)."""
    day = first
    for is_over in over:
        amount = "1000000" if is_over else "100000"
        stored_day(
            con, day, custody=[("w", "Broker", "USDT", amount, "house", "exchange", "other")]
        )
        day += dt.timedelta(days=2)
    return day - dt.timedelta(days=2)


def test_k_con_duration_counts_consecutive_stored_days(con: duckdb.DuckDBPyConnection) -> None:
    # 2 days over, 1 under, then 11 over: the run ending on the as-of date is 11 stored days.
    as_of = _large_exposure_history(con, [True, True, False] + [True] * 11, dt.date(2026, 1, 1))
    statement = capital_statement(con, as_of, Config())
    (charge,) = statement.concentration_charges
    assert (charge.kind, charge.counterparty, charge.detail.days_over) == (
        "custodian",
        "Broker",
        11,
    )
    # Excess 750k = 75% of own funds 1M: 8% x (400k x 2 + 200k x 3 + 150k x 4) = 160k.
    assert charge.detail.factor_rule == "tranches"
    assert statement.components["K-CON"] == D(160_000)
    assert line(statement, "K-CON: custodian Broker: consecutive stored days over the limit") == 11


def test_k_con_within_ten_days_uses_200_percent(con: duckdb.DuckDBPyConnection) -> None:
    as_of = _large_exposure_history(
        con, [True, True, True, False] + [True] * 10, dt.date(2026, 1, 1)
    )
    statement = capital_statement(con, as_of, Config())
    (charge,) = statement.concentration_charges
    assert charge.detail.days_over == 10 and charge.detail.factor_rule == "short"
    assert statement.components["K-CON"] == D(120_000)  # 200% x 8% x 750k


def test_k_con_a_stored_day_without_the_exposure_breaks_the_run(
    con: duckdb.DuckDBPyConnection,
) -> None:
    first = dt.date(2026, 1, 1)
    _large_exposure_history(con, [True] * 5, first)
    gap = first + dt.timedelta(days=10)
    stored_day(con, gap)  # stored, but nothing held at Broker that day
    as_of = _large_exposure_history(con, [True] * 3, gap + dt.timedelta(days=1))
    assert inputs.exposure_runs(con, as_of, D("0.25"), {("custodian", "Broker")}) == {
        ("custodian", "Broker"): 3
    }


def test_k_con_lookback_widens_for_long_runs(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over the limit on every stored day: a lookback of 4 days reaches its first day, so the
    # count is redone over 16 (more than the 12 stored), where the run meets the first stored day.
    monkeypatch.setattr(inputs, "LARGE_EXPOSURE_LOOKBACK", 4)
    as_of = _large_exposure_history(con, [True] * 12, dt.date(2026, 1, 1))
    assert inputs.exposure_runs(con, as_of, D("0.25"), {("custodian", "Broker")}) == {
        ("custodian", "Broker"): 12
    }


def test_k_con_takes_the_ifr_limit_not_con06s_thresholds(con: duckdb.DuckDBPyConnection) -> None:
    """Capital review of 2026-12-05: K-CON's limit followed `large_exposure_breach`, CON-06's
    configurable alert, so loosening the alert lowered the requirement D. IFR Art. 37(1) fixes
    the limit at 25% of own funds. 14 stored days, 11 over 250k: 160k as in the duration test."""
    as_of = _large_exposure_history(con, [True, True, False] + [True] * 11, dt.date(2026, 1, 1))
    for breach in ("0.25", "0.5", "0.2", "0.95"):
        config = parse_config({"concentration": {"large_exposure_breach": breach}})
        statement = capital_statement(con, as_of, config)
        assert statement.components["K-CON"] == D(160_000), breach
        assert line(statement, "K-CON: custodian Broker: limit = 25% of own funds") == D(250_000)


def test_k_con_excess_is_never_more_than_the_exposure() -> None:
    """Capital review of 2026-12-05: with own funds below 0 the limit (25% of them) was
    negative and the excess larger than the exposure, so K-CON reached 15x the exposure. The
    limit is 0 then: the whole exposure is the excess and takes 900% (72% of EV at most)."""
    detail = ifr.k_con_detail(D(10_000), D(-4_000_000), days_over=11)
    assert (detail.limit, detail.excess, detail.ofre) == (0, D(10_000), D(800))
    assert detail.k_con == D(7_200)  # 900% x 8% x 10,000
    assert ifr.k_con(D(10_000), D(-4_000_000), days_over=3) == D(1_600)  # 200% in 10 days
    assert ifr.k_con(D(10_000), D(0), days_over=3) == D(1_600)


def test_k_con_client_group_deficit(con: duckdb.DuckDBPyConnection) -> None:
    # Client C1 (group G1) owes 300k: above 25% of own funds 1M by 50k, first day -> 200% x 8% x 50k.
    stored_day(con, DAY, client_balances={"USDT": "-300000"})
    statement = capital_statement(con, DAY, Config())
    (charge,) = statement.concentration_charges
    assert (charge.kind, charge.counterparty, charge.detail.days_over) == ("client_group", "G1", 1)
    assert statement.components["K-CON"] == D(8_000)


# ------------------------------------------------------------------ CFTC and MiCA


def test_cftc_statement_and_not_applicable_checks(con: duckdb.DuckDBPyConnection) -> None:
    stored_day(con, DAY, adjusted_net_capital="1200000", accounts=[("H1", "house", "H1")])
    # 400 BTC at 50k = 20M notional, 1% maintenance = 200k; 8% of it = 16k < the 1M minimum.
    _one_cross_position(con, ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None))
    config = replace(Config(), capital=CapitalConfig(regime="cftc"))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert (statement.regime, statement.own_funds, statement.requirement) == (
        "cftc",
        D(1_200_000),
        M,
    )
    assert statement.components["maintenance_margin"] == D(200_000)
    assert statement.early_warning_amount == D(1_500_000)  # 150% of the 1M minimum
    assert statement.early_warning_level == D("1.5")
    rows = check_cap_01(ctx)
    assert rows.select("status", "value", "threshold").rows() == [("warn", D("1.2"), D("1.5"))]
    with pytest.raises(CheckNotEvaluated, match="cftc"):
        check_cap_02(ctx)
    with pytest.raises(CheckNotEvaluated, match="cftc"):
        check_cap_03(ctx)
    # The engine records them as not_evaluated, with the reason.
    from reports.checks.engine import run_one

    outcome = run_one(PYTHON_CHECKS["CAP-03"], ctx)
    assert outcome.status == CheckOutcome.NOT_EVALUATED
    assert outcome.message is not None and "cftc" in outcome.message


def test_cftc_without_adjusted_net_capital_is_not_evaluated(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Review of 2026-12-04: with the optional adjusted_net_capital absent, CAP-01 breached
    with own funds "0.00" and summary.json stated 0. They are unknown: not evaluated, null."""
    from reports.checks.engine import run_one

    stored_day(con, DAY)
    derive.refresh(con)
    config = replace(Config(), capital=CapitalConfig(regime="cftc"))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert statement.own_funds_unknown is not None
    assert statement.summary()["own_funds"] is None and statement.summary()["ratio"] is None
    assert statement.summary()["requirement"] == M
    assert not [r for r in statement.lines.rows() if "Adjusted net capital" in r[1]]
    outcome = run_one(PYTHON_CHECKS["CAP-01"], ctx)
    assert outcome.status == CheckOutcome.NOT_EVALUATED
    assert "adjusted_net_capital absent" in (outcome.message or "")


def test_cap01_compares_amounts_not_a_rounded_or_missing_ratio(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Review of 2026-12-04: a requirement of 0 (permanent_minimum 0, no overheads, no
    K-factors) passed negative own funds (no ratio), and own funds 1e-18 below D gave a ratio
    rounded to 1 (warn instead of breach)."""
    stored_day(con, DAY, cet1="-500000", fixed_overheads="0")
    zero = replace(Config(), capital=CapitalConfig(permanent_minimum=D(0)))
    ctx = ctx_for(con, DAY, zero)
    assert statement_for(ctx).requirement == 0 and statement_for(ctx).ratio is None
    assert check_cap_01(ctx).select("status", "metric", "value", "threshold").rows() == [
        ("breach", "own_funds", D(-500_000), D(0))
    ]
    con.execute("DELETE FROM capital")
    stored_day(con, DAY + dt.timedelta(days=1), cet1="749999.999999999999999999")
    ctx = ctx_for(con, DAY + dt.timedelta(days=1))
    assert statement_for(ctx).requirement == D(750_000)
    assert check_cap_01(ctx)["status"].to_list() == ["breach"]


def test_cap01_at_exactly_the_requirement_warns_and_does_not_breach(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """DESIGN.md section 5: CAP-01 breaches below 100% of D only. Own funds exactly D (750k,
    the permanent minimum; FOR 300k) is the early-warning band: warn at ratio 1 against 1.1
    (mutation review of 2026-12-06: `<=` for `<` gave a false breach, and no test failed)."""
    stored_day(con, DAY, cet1="750000", fixed_overheads="1200000")
    ctx = ctx_for(con, DAY)
    statement = statement_for(ctx)
    assert (statement.own_funds, statement.requirement, statement.ratio) == (
        D(750_000),
        D(750_000),
        D(1),
    )
    assert check_cap_01(ctx).select("status", "metric", "value", "threshold").rows() == [
        ("warn", "own_funds_ratio", D(1), D("1.1"))
    ]


def test_k_con_a_group_credit_does_not_net_its_deficits(con: duckdb.DuckDBPyConnection) -> None:
    """C1 owes 300k; C2 in the same group holds 500k: K-CON still charges 200% x 8% x (300k -
    250k), deficits never netted (DESIGN.md section 4; mutation review of 2026-12-06)."""
    stored_day(
        con,
        DAY,
        client_balances={"USDT": "-300000"},
        accounts=[("C2", "client", "G1")],
        balances=[("C2", "USDT", "500000")],
    )
    statement = capital_statement(con, DAY, Config())
    (charge,) = statement.concentration_charges
    assert (charge.kind, charge.counterparty) == ("client_group", "G1")
    assert statement.components["K-CON"] == D(8_000)


def test_mica_statement(con: duckdb.DuckDBPyConnection) -> None:
    stored_day(con, DAY, cet1="180000", at1="500000", fixed_overheads="800000")
    config = replace(Config(), capital=CapitalConfig(regime="mica"))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    # Requirement max(150k class minimum, 800k / 4 = 200k) = 200k; own funds = CET1 only.
    assert (statement.own_funds, statement.requirement, statement.ratio) == (
        D(180_000),
        D(200_000),
        D("0.9"),
    )
    assert check_cap_01(ctx)["status"].to_list() == ["breach"]
    with pytest.raises(CheckNotEvaluated, match="mica"):
        check_cap_02(ctx)
    # AT1 alone (no Tier 2) is already worth the word that it does not count (`and` for `or`
    # passed)
    assert "AT1 and Tier 2 are not own funds under MiCA Art. 67(4): only CET1 counts" in (
        statement.notes
    )


def test_cftc_risk_based_amount_binds_and_counts_house_positions(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """17 CFR 1.17(a)(1)(i): the requirement is the greater of the minimum dollar amount and
    8% of the margin of all positions, house ones included (DESIGN.md section 4; README, "Known
    limits"). The other CFTC test has the minimum binding, so a requirement of the minimum
    alone, or a margin of client positions only, passed it (regime review of 2026-12-06)."""
    stored_day(con, DAY, adjusted_net_capital="21000", accounts=[("H1", "house", "H1")])
    _one_cross_position(con, ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None))
    # the house's cross long of 100 at 50k: 1% maintenance = 50k, beside the client's 200k
    _insert(
        con,
        "positions",
        DAY,
        [("P2", "H1", "BTCUSDT", "cross", D(100), D(50_000), None, None, None)],
    )
    derive.refresh(con)
    config = replace(Config(), capital=CapitalConfig(regime="cftc", cftc_minimum=D(10_000)))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert statement.components["maintenance_margin"] == D(250_000)
    # 8% x 250k = 20k above the 10k minimum; early warning max(150% x 10k, 110% x 20k) = 22k
    assert (statement.requirement, statement.binding) == (D(20_000), "risk_based")
    assert (statement.early_warning_amount, statement.early_warning_level) == (
        D(22_000),
        D("1.1"),
    )
    assert check_cap_01(ctx).select("status", "value", "threshold").rows() == [
        ("warn", D("1.05"), D("1.1"))
    ]


def test_cftc_reference_through_the_stored_positions(con: duckdb.DuckDBPyConnection) -> None:
    """shared/reference: margin 40M (customer) + 10M (noncustomer) -> requirement 4.0M, early
    warning 4.4M, here from the stored positions (test_cftc_reference passes the margin to the
    formulas); own funds exactly at the level pass, a cent below warns (regime audit of
    2026-12-07)."""
    stored_day(con, DAY, adjusted_net_capital="4400000", accounts=[("H1", "house", "H1")])
    # 80,000 x 50k x 1% = 40M for the client, 20,000 x 50k x 1% = 10M for the house
    _one_cross_position(
        con, ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None), quantity=80_000
    )
    _insert(
        con,
        "positions",
        DAY,
        [("P2", "H1", "BTCUSDT", "cross", D(-20_000), D(50_000), None, None, None)],
    )
    derive.refresh(con)
    config = replace(Config(), capital=CapitalConfig(regime="cftc"))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert statement.components["maintenance_margin"] == D(50) * M
    assert (statement.requirement, statement.early_warning_amount) == (D(4) * M, D("4400000"))
    assert check_cap_01(ctx).height == 0
    con.execute("UPDATE capital SET amount = 4399999.99 WHERE item = 'adjusted_net_capital'")
    ctx = ctx_for(con, DAY, config)
    ((status, message),) = check_cap_01(ctx).select("status", "message").rows()
    assert status == "warn"
    # in CFTC's words (CAP-01 printed "own funds ... (cftc)"; capital words of 2026-12-07)
    assert message.startswith(
        "adjusted net capital 4,399,999.99 USD against a requirement of 4,000,000.00 USD (CFTC)"
    )


def test_mica_class_minimum_binds_and_warns_below_the_early_warning_level(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """MiCA Art. 67(1): max(the class minimum, a quarter of the fixed overheads), CET1 against
    it; 160k of CET1 against the 150k minimum (FOR 100k) is 106.7%, in the early-warning band
    below 110% (regime review of 2026-12-06: the other MiCA test has FOR binding and a breach,
    so a wrong class minimum or a missing warning level passed it)."""
    stored_day(con, DAY, cet1="160000", fixed_overheads="400000")
    config = replace(Config(), capital=CapitalConfig(regime="mica"))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert (statement.requirement, statement.binding) == (D(150_000), "class_minimum")
    assert line(statement, "Permanent minimum capital of the class") == D(150_000)
    assert line(statement, "FOR = fixed overheads / 4") == D(100_000)
    assert statement.early_warning_amount == D(165_000)
    (row,) = check_cap_01(ctx).select("status", "value", "threshold").rows()
    assert row[0] == "warn" and row[2] == D("1.1")
    assert round(row[1], 6) == D("1.066667")


def test_cap02_does_not_repeat_a_cap01_shortfall(con: duckdb.DuckDBPyConnection) -> None:
    """Regression: own funds below D (all CET1) broke CAP-02 too, through a third `total >= 100%`
    layer. DESIGN.md's CAP-02 is the two Art. 9 composition layers; the 100% layer is CAP-01."""
    # D = PMR 750k; own funds 675k = 90% of D, all CET1: CET1 >= 420k and CET1 + AT1 >= 562.5k hold.
    stored_day(con, DAY, cet1="675000", liquid_assets="1000000")
    ctx = ctx_for(con, DAY)
    assert check_cap_01(ctx).select("status", "metric").rows() == [("breach", "own_funds_ratio")]
    assert check_cap_02(ctx).height == 0


# --- pinned after a test-strength review of 2026-12-06 (each mutation survived) ----------------


def test_kcmh_values_a_stablecoin_at_its_price(con: duckdb.DuckDBPyConnection) -> None:
    stored_day(con, DAY, client_balances={"USDT": "1000000"}, prices={"USDT": "0.99"})
    st = capital_statement(con, DAY, Config())
    assert st.components["K-CMH"] == Decimal("3960")  # 0.4% x 1,000,000 x 0.99


def test_knpr_counts_insurance_fund_custody(con: duckdb.DuckDBPyConnection) -> None:
    stored_day(
        con,
        DAY,
        prices={"BTC": "50000"},
        custody=[("w", "self", "BTC", "2", "insurance_fund", "cold", "self")],
    )
    st = capital_statement(con, DAY, Config())
    assert st.components["K-NPR"] == Decimal(100000)


def test_cftc_margin_is_in_usd(con: duckdb.DuckDBPyConnection) -> None:
    stored_day(con, DAY, adjusted_net_capital="1200000", prices={"BTC": "50000"})
    _one_cross_position(
        con, ("BTCUSD", "inverse_perpetual", "BTC", "USD", "BTC", Decimal(100), None)
    )
    st = capital_statement(con, DAY, replace(Config(), capital=CapitalConfig(regime="cftc")))
    # 400 x 100 USD / 50,000 = 0.8 BTC notional, 1% = 0.008 BTC = 400 USD
    assert st.components["maintenance_margin"] == Decimal(400)


def test_ifr_window_bounds(con: duckdb.DuckDBPyConnection) -> None:
    # as of 2026-03-31: window (2025-06-30, 2025-12-31]; both edges stored
    stored_day(con, dt.date(2025, 6, 30), client_balances={"USDT": "9000000"})
    stored_day(con, dt.date(2025, 12, 31), client_balances={"USDT": "2000000"})
    stored_day(con, DAY, client_balances={"USDT": "10000000"})
    st = capital_statement(con, DAY, Config())
    assert st.components["K-CMH"] == Decimal(8000)  # 0.4% x 2M, the one day inside


def test_settings_another_regime_reads_are_named_not_silently_ignored(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Regime review of 2026-12-06: `regime = "cftc"` with a PMR configured ran without a word
    that the PMR no longer counts."""
    stored_day(con, DAY, adjusted_net_capital="1200000")

    def unused(**settings: Any) -> list[str]:
        config = replace(Config(), capital=CapitalConfig(**settings))
        return [n for n in capital_statement(con, DAY, config).notes if "not used by" in n]

    assert unused() == [] and unused(regime="cftc") == [] and unused(regime="mica") == []
    assert unused(regime="cftc", permanent_minimum=D(800_000)) == [
        "capital.permanent_minimum is configured but not used by the cftc regime"
    ]
    assert unused(cftc_minimum=D(5), cftc_risk_margin_rate=D("0.1")) == [
        "capital.cftc_minimum is configured but not used by the ifr regime",
        "capital.cftc_risk_margin_rate is configured but not used by the ifr regime",
    ]
    assert unused(regime="mica", k_npr_weight=D("0.5")) == [
        "capital.k_npr_weight is configured but not used by the mica regime"
    ]
    assert unused(regime="cftc", cftc_minimum=D(5), k_npr_weight=D("0.5")) == [
        "capital.k_npr_weight is configured but not used by the cftc regime"
    ]


# ------------------------------------------------------------------ mutation review of 2026-12-06
# Each test below failed under a realistic bug (a mutation of the IFR code) that every other
# test let pass; the mutation is named in the docstring. Defaults of stored_day: own funds 1M
# (the K-CON limit 25% = 250k), fixed overheads 400k (FOR 100k), PMR 750k.

BROKER = "Broker"


def _house_custody(amount: str, custodian: str = BROKER, asset: str = "USDT", kind: str = "other"):
    return (f"w-{custodian}-{asset}", custodian, asset, amount, "house", "exchange", kind)


def test_the_requirement_is_the_largest_of_pmr_for_and_kfr(con: duckdb.DuckDBPyConnection) -> None:
    """D = max(PMR, FOR, KFR) (IFR Art. 11). KFR binding: no PMR, no fixed overheads, and a
    client group owing 300k, 50k over the limit: K-CON = 200% x 8% x 50k = 8,000 = KFR = D.
    FOR binding: fixed overheads of 4M, FOR 1M above the PMR (KFR left out of D, K-CON left
    out of KFR, and FOR left out of D all passed)."""
    stored_day(con, DAY, client_balances={"USDT": "-300000"}, fixed_overheads="0")
    no_pmr = replace(Config(), capital=CapitalConfig(permanent_minimum=D(0)))
    st = capital_statement(con, DAY, no_pmr)
    assert (st.components["KFR"], st.requirement, st.binding) == (D(8_000), D(8_000), "KFR")
    assert st.ratio == D(125)
    con.execute("DELETE FROM capital")
    _insert(con, "capital", DAY, [("cet1", D(M)), ("fixed_overheads_annual", D(4) * M),
                                  ("liquid_assets", D(M))])  # fmt: skip
    st = capital_statement(con, DAY, Config())
    assert (st.requirement, st.binding, st.ratio) == (D(M), "FOR", D(1))


def test_k_con_sums_the_charges_of_every_counterparty_over_the_limit(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """BrokerA 300k (50k over: 8% x 50k x 200% = 8,000) and BrokerB 400k (150k over: 24,000):
    K-CON 32,000 (the largest charge instead of their sum passed). A custodian at exactly the
    limit, or under it, has no charge and no K-CON lines (`>=` for `>`, and charging every
    large exposure, passed)."""
    stored_day(con, DAY, custody=[_house_custody("300000", "BrokerA"),
                                  _house_custody("400000", "BrokerB")])  # fmt: skip
    assert capital_statement(con, DAY, Config()).components["K-CON"] == D(32_000)


@pytest.mark.parametrize("amount", ["250000", "100000"])
def test_an_exposure_within_the_limit_has_no_concentration_charge(
    con: duckdb.DuckDBPyConnection, amount: str
) -> None:
    stored_day(con, DAY, custody=[_house_custody(amount)])
    st = capital_statement(con, DAY, Config())
    assert st.concentration_charges == ()
    assert st.lines.filter(pl.col("item").str.starts_with("K-CON: ")).height == 0
    assert not [n for n in st.notes if "history was not found" in n], st.notes


@pytest.mark.parametrize(
    ("custody", "rf", "k_tcd"),
    [
        # an investment firm is a financial counterparty: 1.6% (an RF of 1.6% for credit
        # institutions only passed)
        ([_house_custody("100000", "FirmCo", kind="investment_firm")], D("0.016"), D(2_880)),
        # 2 BTC at 50,000: 100k USD at 8% (the balance unpriced passed)
        ([_house_custody("2", asset="BTC")], D("0.08"), D(14_400)),
    ],
    ids=["investment_firm", "priced_in_usd"],
)
def test_k_tcd_of_house_custody(
    con: duckdb.DuckDBPyConnection, custody: list[Any], rf: Decimal, k_tcd: Decimal
) -> None:
    """K-TCD = 1.2 x exposure (USD) x RF x 1.5 (IFR Art. 26)."""
    stored_day(con, DAY, prices={"BTC": "50000"}, custody=custody)
    st = capital_statement(con, DAY, Config())
    assert line(st, f"K-TCD: {custody[0][1]} RF") == rf
    assert st.components["K-TCD"] == k_tcd


@pytest.mark.parametrize(
    ("account", "instrument", "quantity"),
    [
        # the insurance fund's positions are the firm's own (dropping them passed)
        ("IF", ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None), 1),
        # 400 BTCUSD contracts of 100 USD: 40,000 USD of BTC, and no leg in the settle coin
        # (BTC), which would net it to 0 (a settle-coin leg for inverse contracts passed)
        ("H1", ("BTCUSD", "inverse_perpetual", "BTC", "USD", "BTC", D(100), None), 400),
    ],
    ids=["insurance_fund_linear", "house_inverse"],
)
def test_k_npr_counts_the_firms_own_positions(
    con: duckdb.DuckDBPyConnection, account: str, instrument: tuple[Any, ...], quantity: int
) -> None:
    kind = "insurance_fund" if account == "IF" else "house"
    stored_day(con, DAY, prices={"BTC": "50000"}, accounts=[(account, kind, account)])
    _one_cross_position(con, instrument, account=account, quantity=quantity)
    st = capital_statement(con, DAY, Config())
    assert st.components["K-NPR"] == (D(50_000) if account == "IF" else D(40_000))


def test_k_factor_coefficients_are_stated(con: duckdb.DuckDBPyConnection) -> None:
    """IFR Art. 15(2): K-CMH 0.4%, K-ASA 0.04%, K-COH 0.1% (of cash trades: 0.01% here as
    for derivatives), K-DTF 0.01% (a K-ASA line of 0.4% passed: no test read a coefficient)."""
    stored_day(con, DAY)
    st = capital_statement(con, DAY, Config())
    assert [line(st, f"{f}: coefficient") for f in ("K-CMH", "K-ASA", "K-COH", "K-DTF")] == [
        D("0.004"), D("0.0004"), D("0.0001"), D("0.0001")
    ]  # fmt: skip


def test_reporting_currency_client_money_is_k_cmh(con: duckdb.DuckDBPyConnection) -> None:
    """Client money in USD, the reporting currency, is cash (K-CMH 0.4% of 1M = 4,000), not
    assets (K-ASA) even when the stable assets leave USD out (a reporting currency treated as
    fiat only when listed passed)."""
    config = replace(Config(), firm=replace(Config().firm, stable_assets=("USDT",)))
    stored_day(con, DAY, client_balances={"USD": "1000000"})
    st = capital_statement(con, DAY, config)
    assert (st.components["K-CMH"], st.components["K-ASA"]) == (D(4_000), D(0))


def test_volume_notes_name_what_is_missing_only(con: duckdb.DuckDBPyConnection) -> None:
    """No note for client_guarantees, which is optional; none on partial volumes when every
    day has them; and with house volumes on one day only, K-DTF is 50 (0.01% x 1M / 2 days)
    and only K-COH is said to be 0 ("all" for "any", "<=" for "<" and a required
    client_guarantees each passed)."""
    stored_day(con, DAY, volumes=[("BTCUSDT", "client", "1000000"),
                                  ("BTCUSDT", "house", "1000000")])  # fmt: skip
    st = capital_statement(con, DAY, Config())
    assert not [n for n in st.notes if "client_guarantees" in n or "volumes present on" in n]
    con.execute("DELETE FROM volumes")
    stored_day(con, dt.date(2025, 8, 15), volumes=[("BTCUSDT", "house", "1000000")])
    stored_day(con, dt.date(2025, 11, 15))
    st = capital_statement(con, DAY, Config())
    assert st.components["K-DTF"] == D(50)
    assert "volumes absent on the 1 days used: K-COH is 0" in st.notes
    assert "volumes absent: K-COH and K-DTF are 0" not in st.notes


def test_k_con_beyond_ten_days_with_zero_own_funds(con: duckdb.DuckDBPyConnection) -> None:
    """Own funds of 0: the whole exposure is the excess, and after 10 days over the limit the
    factor is 900% (IFR Art. 39 table 1 for OFRE; `< 0` for `<= 0` gave K-CON 0)."""
    detail = ifr.k_con_detail(D(10_000), D(0), days_over=11)
    assert (detail.excess, detail.ofre, detail.k_con) == (D(10_000), D(800), D(7_200))


def test_capital_items_are_the_days_own(con: duckdb.DuckDBPyConnection) -> None:
    """Two stored days of 1M CET1: own funds 1M, not 2M (summing every day up to as_of
    passed the unit tests; only the samples' truth caught it)."""
    stored_day(con, DAY - dt.timedelta(days=1))
    stored_day(con, DAY)
    assert capital_statement(con, DAY, Config()).own_funds == D(M)


@pytest.mark.parametrize(
    "day_before",
    [
        # exactly at the limit that day (`>=` for `>`)
        {"custody": [_house_custody("250000")]},
        # own funds of 1M + 3M tier2: 900k is within 25% (tier2 left out)
        {"tier2": "3000000", "custody": [_house_custody("900000")]},
        # 1M of client money at Broker is not the firm's exposure (designation dropped)
        {
            "custody": [
                _house_custody("100000"),
                ("wc", BROKER, "USDT", "1000000", "client", "exchange", "other"),
            ]
        },
    ],
    ids=["at_the_limit", "tier2_in_own_funds", "client_custody"],
)
def test_a_day_within_the_limit_ends_a_run_of_days_over(
    con: duckdb.DuckDBPyConnection, day_before: dict[str, Any]
) -> None:
    """Ten days over the limit after a day within it: K-CON 200% x 8% x 750k = 120,000 (the
    day counted as over made 11 days, tranches 160,000)."""
    stored_day(con, dt.date(2025, 12, 30), **day_before)
    as_of = _large_exposure_history(con, [True] * 10, dt.date(2026, 1, 1))
    st = capital_statement(con, as_of, Config())
    (charge,) = st.concentration_charges
    assert (charge.detail.days_over, st.components["K-CON"]) == (10, D(120_000))


@pytest.mark.parametrize(
    ("days", "over"),
    [
        # C1 owes 300k and C2 of the same group holds 500k: the group owes 300k, never netted
        (
            [
                {
                    "client_balances": {"USDT": "-300000"},
                    "accounts": [("C2", "client", "G1")],
                    "balances": [("C2", "USDT", "500000")],
                }
            ]
            * 2,
            2,
        ),
        # 20 BTC at 50,000 at Broker: 1M USD, not 20
        ([{"prices": {"BTC": "50000"}, "custody": [_house_custody("20", asset="BTC")]}] * 2, 2),
        # the day before: own funds of -3M (limit 0) and nothing at Broker; then 1M
        (
            [
                {"cet1": "-4000000", "custody": [_house_custody("0")]},
                {"custody": [_house_custody("1000000")]},
            ],
            1,
        ),
        # the day before: C1 owes 200k and a house account of group G1 100k (not a client
        # exposure); then C1 300k
        (
            [
                {
                    "client_balances": {"USDT": "-200000"},
                    "accounts": [("H1", "house", "G1")],
                    "balances": [("H1", "USDT", "-100000")],
                },
                {"client_balances": {"USDT": "-300000"}},
            ],
            1,
        ),
    ],
    ids=["group_not_netted", "custody_in_usd", "no_exposure_no_run", "clients_only"],
)
def test_the_days_over_the_limit_are_counted_as_each_day_stood(
    con: duckdb.DuckDBPyConnection, days: list[dict[str, Any]], over: int
) -> None:
    """The run of days over the limit (IFR Art. 39) is read back through the stored days,
    each judged as CON-06 judges a day; a wrong history also adds a false "history was not
    found" note (the mutations: netting a group's balances, unpriced custody, a negative
    limit, house accounts of a client group)."""
    for offset, day in enumerate(days):
        stored_day(con, DAY - dt.timedelta(days=len(days) - 1 - offset), **day)
    st = capital_statement(con, DAY, Config())
    (charge,) = st.concentration_charges
    assert charge.detail.days_over == over
    assert not [n for n in st.notes if "history was not found" in n], st.notes


# ------------------------------------------------------------------ mutation review of the CFTC and MiCA regimes
# Each test below failed under a realistic bug of the CFTC / MiCA code that every other test let
# pass (mutation review of 2026-12-06, second round; the mutation is named in the docstring).


def _position_on(
    con: duckdb.DuckDBPyConnection, day: dt.date, pid: str, account: str, quantity: int
) -> None:
    """On `day`: BTCUSDT (linear, one tier at 1% maintenance) marked at 50,000, and `account`'s
    cross long of `quantity` entered at the mark (1% maintenance = 500 USD per contract)."""
    if not con.execute(
        "SELECT count(*) FROM instruments WHERE as_of_date = ? AND instrument_id = 'BTCUSDT'",
        [day],
    ).fetchone()[0]:
        _insert(
            con,
            "instruments",
            day,
            [("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None)],
        )
        _insert(con, "risk_tiers", day, [("BTCUSDT", 1, D(0), None, D("0.01"), D(0), None)])
        _insert(con, "prices", day, [("instrument", "BTCUSDT", D(50_000))])
    _insert(
        con,
        "positions",
        day,
        [(pid, account, "BTCUSDT", "cross", D(quantity), D(50_000), None, None, None)],
    )


def test_cftc_margin_is_every_account_types_on_the_day_only(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """17 CFR 1.17(a)(1)(i)(B), DESIGN.md section 5: 8% of the total maintenance margin of ALL
    positions, of the as-of day. Client 100 (50k), house 20 (10k) and insurance fund 40 (20k)
    contracts: 80k of margin, 6.4k at 8%; the previous day's 1,000 contracts (500k) are not
    today's. Mutations: the previous days summed too (`<=` for `=`), the client positions only,
    the insurance fund's left out."""
    firm = [("H1", "house", "H1"), ("F1", "insurance_fund", "F1")]
    before = DAY - dt.timedelta(days=1)
    stored_day(con, before, adjusted_net_capital="100000", accounts=firm)
    _position_on(con, before, "P0", "C1", 1_000)
    stored_day(con, DAY, adjusted_net_capital="100000", accounts=firm)
    _position_on(con, DAY, "P1", "C1", 100)
    _position_on(con, DAY, "P2", "H1", 20)
    _position_on(con, DAY, "P3", "F1", 40)
    derive.refresh(con)
    config = replace(Config(), capital=CapitalConfig(regime="cftc", cftc_minimum=D(1_000)))
    statement = capital_statement(con, DAY, config)
    assert statement.components["maintenance_margin"] == D(80_000)
    assert (statement.requirement, statement.binding) == (D(6_400), "risk_based")


def test_cftc_early_warning_takes_the_configured_share(con: duckdb.DuckDBPyConnection) -> None:
    """17 CFR 1.12(b) as DESIGN.md section 5 configures it: the early-warning level is the
    greater of 150% of the minimum and `capital.early_warning` x the requirement. With the
    share set to 2 and the 1M minimum binding (no positions), the level is 2M: 1.9M of
    adjusted net capital warns at ratio 1.9 against 2. Mutations: the share hard-coded at
    1.10, and the share applied to the risk-based amount (0) instead of the requirement, both
    gave a level of 1.5M and no warning."""
    stored_day(con, DAY, adjusted_net_capital="1900000")
    derive.refresh(con)
    config = replace(Config(), capital=CapitalConfig(regime="cftc", early_warning=D(2)))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert statement.requirement == M
    assert (statement.early_warning_amount, statement.early_warning_level) == (D(2) * M, D(2))
    assert check_cap_01(ctx).select("status", "value", "threshold").rows() == [
        ("warn", D("1.9"), D(2))
    ]


def test_mica_early_warning_is_a_share_of_the_requirement_not_the_class_minimum(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """MiCA: CAP-01 warns below 110% of the requirement max(class minimum, FOR) (DESIGN.md
    section 5). With FOR binding (800k / 4 = 200k over the 150k minimum) the level is 220k,
    so 210k of CET1 (105%) warns. Mutation: the level taken on the class minimum (165k)
    passed it."""
    stored_day(con, DAY, cet1="210000", fixed_overheads="800000")
    config = replace(Config(), capital=CapitalConfig(regime="mica"))
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert (statement.requirement, statement.binding) == (D(200_000), "FOR")
    assert statement.early_warning_amount == D(220_000)
    assert line(statement, "Early-warning level (amount)") == D(220_000)
    assert check_cap_01(ctx).select("status", "value", "threshold").rows() == [
        ("warn", D("1.05"), D("1.1"))
    ]


def test_a_tie_names_the_fixed_minimum_as_binding(con: duckdb.DuckDBPyConnection) -> None:
    """The statement names what sets the requirement (the report prints "binding: ..."); on a
    tie it names the fixed minimum, as IFR's max(PMR, FOR, KFR) names PMR. CFTC: 8% of 200k of
    margin = 16k = the configured minimum; MiCA: FOR 600k / 4 = the 150k class minimum; IFR:
    the same FOR and a permanent minimum of 150k. Mutations: `>` for `>=` named the risk-based
    amount / FOR instead; under IFR, FOR put before PMR."""
    stored_day(con, DAY, adjusted_net_capital="100000", fixed_overheads="600000")
    _one_cross_position(con, ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None))
    cftc_config = replace(Config(), capital=CapitalConfig(regime="cftc", cftc_minimum=D(16_000)))
    statement = capital_statement(con, DAY, cftc_config)
    assert statement.components["risk_based"] == statement.requirement == D(16_000)
    assert statement.binding == "minimum"
    mica_config = replace(Config(), capital=CapitalConfig(regime="mica"))
    statement = capital_statement(con, DAY, mica_config)
    assert statement.components["FOR"] == statement.requirement == D(150_000)
    assert statement.binding == "class_minimum"
    # IFR: a permanent minimum of 150k ties with the FOR; PMR is named
    ifr_config = replace(Config(), capital=CapitalConfig(permanent_minimum=D(150_000)))
    statement = capital_statement(con, DAY, ifr_config)
    assert statement.components["FOR"] == statement.requirement == D(150_000)
    assert statement.binding == "PMR"


# ------------------------------------------------------------------ mutation review of 2026-12-07
# Each test below failed under a realistic bug that every other test let pass (the mutation is
# named in the docstring).


def test_ifr_early_warning_is_a_share_of_d_when_for_binds(con: duckdb.DuckDBPyConnection) -> None:
    """CAP-01 warns below 110% of D = max(PMR, FOR, KFR) (DESIGN.md section 5). Fixed overheads
    of 4M: FOR 1M binds over the 750k PMR; own funds of 1.05M are 105% of D: warn against a
    level of 1.1M. Mutation: the level taken on the PMR (825k) passed every other test, whose
    D was the PMR."""
    stored_day(con, DAY, cet1="1050000", fixed_overheads="4000000")
    ctx = ctx_for(con, DAY)
    statement = statement_for(ctx)
    assert (statement.requirement, statement.binding) == (M, "FOR")
    assert statement.early_warning_amount == D(1_100_000)
    assert line(statement, "Early-warning level (amount)") == D(1_100_000)
    assert check_cap_01(ctx).select("status", "value", "threshold").rows() == [
        ("warn", D("1.05"), D("1.1"))
    ]


def test_insurance_fund_volumes_are_neither_client_orders_nor_house_flow(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """K-COH is 0.01% of CLIENT traded notional, K-DTF of HOUSE traded notional (DESIGN.md
    section 5); the insurance fund's traded notional (liquidations taken over) is neither.
    Client 1M and insurance fund 5M on the one stored day: K-COH 100, K-DTF 0. Mutation: every
    non-house row counted as client orders (K-COH 600) passed."""
    stored_day(con, DAY, volumes=[("BTCUSDT", "client", "1000000"),
                                  ("BTCUSDT", "insurance_fund", "5000000")])  # fmt: skip
    st = capital_statement(con, DAY, Config())
    assert (st.components["K-COH"], st.components["K-DTF"]) == (D(100), D(0))


def test_k_tcd_counts_house_custody_only(con: duckdb.DuckDBPyConnection) -> None:
    """K-TCD's exposure value is HOUSE-designated custody at non-self custodians (DESIGN.md
    section 5; K-NPR, unlike it, names the insurance fund too). 100k of house custody at Broker
    (8%: 14,400) beside 1M of insurance-fund custody there. Mutation: insurance-fund custody
    counted too (K-TCD 158,400) passed."""
    stored_day(
        con,
        DAY,
        custody=[
            _house_custody("100000"),
            ("w-if", BROKER, "USDT", "1000000", "insurance_fund", "exchange", "other"),
        ],
    )
    st = capital_statement(con, DAY, Config())
    assert line(st, f"K-TCD: {BROKER} (other) EV: house custody (USD)") == D(100_000)
    assert st.components["K-TCD"] == D(14_400)


def test_an_unavailable_statement_states_no_requirement() -> None:
    """When the capital statement could not be computed, summary.json's capital figures are
    null, never a stated 0 (DESIGN.md section 6: figures as strings, unknown = null). Mutation:
    the requirement of the figureless statement (0) passed into summary.json."""
    st = unavailable_statement(DAY, Config(), "capital_items failed")
    assert st.summary() == {"regime": "ifr", "own_funds": None, "requirement": None, "ratio": None}


@pytest.mark.parametrize(
    ("regime", "cet1", "requirement"),
    [("ifr", "900000", D(750_000)), ("mica", "180000", D(150_000))],
)
def test_the_configured_early_warning_level_is_the_one_applied(
    con: duckdb.DuckDBPyConnection, regime: str, cet1: str, requirement: Decimal
) -> None:
    """`capital.early_warning` (DESIGN.md section 5, a configuration key) sets CAP-01's warning
    level under IFR and MiCA alike. At 125%, own funds of 120% of the requirement warn, against
    a threshold of 1.25 (mutations: the IFR level hard-coded at 110%, which passed 120% without
    a word, and MiCA's level stated as 1.1 beside an amount of 125%, both passed)."""
    config = replace(Config(), capital=CapitalConfig(regime=regime, early_warning=D("1.25")))
    stored_day(con, DAY, cet1=cet1)
    ctx = ctx_for(con, DAY, config)
    statement = statement_for(ctx)
    assert statement.requirement == requirement
    assert statement.early_warning_amount == D("1.25") * requirement
    assert check_cap_01(ctx).select("status", "value", "threshold").rows() == [
        ("warn", D("1.2"), D("1.25"))
    ]


def test_a_large_exposure_whose_history_is_not_found_counts_as_one_day_old(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the limit today by CON-06's figures, but the stored history does not show it: the
    excess is counted as 1 day old (200%), and the statement says so (the run of today itself;
    mutation: 0 days, beside a note saying 1, passed)."""
    monkeypatch.setattr(inputs, "exposure_runs", lambda *args: {})
    stored_day(con, DAY, custody=[_house_custody("300000")])
    st = capital_statement(con, DAY, Config())
    (charge,) = st.concentration_charges
    assert (charge.detail.days_over, st.components["K-CON"]) == (1, D(8_000))
    assert line(st, f"K-CON: custodian {BROKER}: consecutive stored days over the limit") == 1
    assert [n for n in st.notes if "history was not found" in n] == [
        f"K-CON: custodian {BROKER} is over the limit today but its history was not found: "
        "its excess is counted as 1 day old"
    ]


def test_capital_results_keep_the_statements_early_warning_level(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """The trend chart grades each day against that day's own early-warning level, read back
    from capital_results. Under CFTC with the 1M minimum binding it is 150% (17 CFR 1.12(b)),
    not the configured 110% share (mutation: the configured share stored, which the chart
    would have drawn at 1.32M instead of 1.5M, passed)."""
    from reports.checks.engine import run_checks

    stored_day(con, DAY, adjusted_net_capital="1200000")
    con.execute(  # the run names the day's loaded files: one, recorded as the loader would
        "INSERT INTO loads VALUES ('L1', ?, 'capital', 'capital.csv', 'csv', ?, 6, ?, 't', false)",
        [DAY, "0" * 64, dt.datetime(2026, 4, 1)],
    )
    derive.refresh(con)
    config = replace(Config(), capital=CapitalConfig(regime="cftc"))
    run_checks(con, DAY, config, only=["CAP-01"])
    assert con.execute(
        "SELECT regime, own_funds, requirement, ratio, early_warning_level FROM capital_results"
    ).fetchall() == [("cftc", D(1_200_000), M, D("1.2"), D("1.5"))]


def test_capital_ratio_trend_shows_the_cftc_early_warning_amount_itself(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Capital audit of 2026-12-07: capital_ratio_trend computed the amount as level x
    requirement. Under CFTC the level is amount / requirement rounded to 18 decimals: 150% of
    a 2.2M minimum = 3.3M against a risk-based 2.8M is 1.178571428571428571..., and the
    investigation read 3,299,999.999999999999... for the 3.3M CAP-01 graded against."""
    from reports.checks.engine import run_checks
    from reports.paths import read_query

    stored_day(con, DAY, adjusted_net_capital="3500000")
    # 70,000 x 50k x 1% = 35M of margin: 8% = 2.8M, above the 2.2M minimum
    _one_cross_position(
        con, ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None), quantity=70_000
    )
    con.execute(
        "INSERT INTO loads VALUES ('L1', ?, 'capital', 'capital.csv', 'csv', ?, 6, ?, 't', false)",
        [DAY, "0" * 64, dt.datetime(2026, 4, 1)],
    )
    derive.refresh(con)
    config = replace(Config(), capital=CapitalConfig(regime="cftc", cftc_minimum=D(2_200_000)))
    run_checks(con, DAY, config, only=["CAP-01"])
    sql = read_query("investigations/capital_ratio_trend.sql")
    params = {"from": None, "to": None, "config": None}
    ((requirement, amount),) = con.execute(
        f"SELECT requirement, early_warning_amount FROM ({sql.rstrip().rstrip(';')})", params
    ).fetchall()
    assert (requirement, amount) == (D(2_800_000), D(3_300_000))
    # a row recorded before the amount was stored falls back to level x requirement
    con.execute("UPDATE capital_results SET early_warning_amount = NULL")
    ((fallback,),) = con.execute(
        f"SELECT early_warning_amount FROM ({sql.rstrip().rstrip(';')})", params
    ).fetchall()
    assert fallback != D(3_300_000) and abs(fallback - D(3_300_000)) < D("1e-11")


def test_k_npr_takes_the_configured_weight(con: duckdb.DuckDBPyConnection) -> None:
    """`capital.k_npr_weight` (DESIGN.md section 5) weights each underlying's |net exposure|.
    2 BTC of house custody at 50,000, weight 50%: the BTC line and K-NPR are 50,000. Mutations:
    the weight fixed at 100% (K-NPR 100,000), and the underlying's line computed on its
    positions (0 here) instead of its net exposure, both passed."""
    config = replace(Config(), capital=CapitalConfig(k_npr_weight=D("0.5")))
    stored_day(
        con,
        DAY,
        prices={"BTC": "50000"},
        custody=[("w", "self", "BTC", "2", "house", "cold", "self")],
    )
    st = capital_statement(con, DAY, config)
    assert line(st, "K-NPR: weight") == D("0.5")
    assert line(st, "K-NPR: BTC = |net exposure| x weight") == D(50_000)
    assert st.components["K-NPR"] == D(50_000)


def test_cftc_requirement_takes_the_configured_risk_margin_rate(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """`capital.cftc_risk_margin_rate` (DESIGN.md section 5) sets the risk-based requirement:
    10% of the client's 200k of maintenance margin = 20k over a 10k minimum (mutation: the
    requirement at a fixed 8%, 16k, while the statement's line said 10%, passed)."""
    stored_day(con, DAY, adjusted_net_capital="100000")
    _one_cross_position(con, ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1), None))
    config = replace(
        Config(),
        capital=CapitalConfig(
            regime="cftc", cftc_minimum=D(10_000), cftc_risk_margin_rate=D("0.10")
        ),
    )
    st = capital_statement(con, DAY, config)
    assert line(st, "Risk-based amount = rate x maintenance margin") == D(20_000)
    assert (st.requirement, st.binding) == (D(20_000), "risk_based")


# ------------------------------------------------------------------ mutation audit of 2026-12-07 (mutcap)


def test_k_coh_and_k_dtf_cash_trade_coefficients() -> None:
    """IFR Art. 15(2), table 1: K-COH and K-DTF take 0.1% of cash trades and 0.01% of
    derivatives. The reference example has derivatives only, so a cash coefficient of 0.01%
    (the derivatives one) passed every test: 500M of cash orders -> 500,000; 2,000M of cash
    trading flow -> 2,000,000; both legs together add up."""
    assert ifr.k_coh(derivatives=D(0), cash=D(500) * M) == D(500_000)
    assert ifr.k_dtf(derivatives=D(0), cash=D(2000) * M) == D(2_000_000)
    assert ifr.k_coh(derivatives=D(500) * M, cash=D(10) * M) == D(50_000) + D(10_000)
    assert ifr.k_dtf(derivatives=D(2000) * M, cash=D(10) * M) == D(200_000) + D(10_000)


def test_k_con_of_a_negative_exposure_states_no_negative_ofr() -> None:
    """An exposure below zero (an overdraft at a custodian) is within any limit: no excess, no
    K-CON, and its OFR (8% x EV) is 0, not -8% of the overdraft (`max(exposure, 0)` dropped
    passed)."""
    detail = ifr.k_con_detail(D(-1_000_000), D(20) * M, days_over=30)
    assert (detail.factor_rule, detail.excess, detail.ofr, detail.k_con) == ("none", 0, 0, 0)


def test_cap02_tier1_layer_is_cet1_plus_at1_not_tier2(con: duckdb.DuckDBPyConnection) -> None:
    """IFR Art. 9(1)(b): CET1 + AT1 >= 75% of D; Tier 2 is not Tier 1. D = PMR 750k; CET1 420k
    (56% exactly), AT1 0, Tier 2 500k: own funds 920k meet D (no CAP-01), CET1 meets 56%, and
    CET1 + AT1 = 420k is short of 562,500 by 142,500. Every other test had AT1 = Tier 2 (or
    Tier 2 = 0), so a layer of CET1 + Tier 2 (reading 920k, no breach) passed."""
    stored_day(con, DAY, cet1="420000", at1="0", tier2="500000")
    ctx = ctx_for(con, DAY)
    assert statement_for(ctx).requirement == D(750_000)
    assert check_cap_01(ctx).height == 0
    cap02 = check_cap_02(ctx)
    assert cap02.select("status", "metric", "value", "threshold").rows() == [
        ("breach", "cet1_at1", D(420_000), D(562_500)),
    ]
    assert "short by 142,500.00 USD" in cap02["message"][0]
    # AT1 counts in the layer, Tier 2 does not: AT1 142.5k and no Tier 2 meet it exactly
    con.execute("UPDATE capital SET amount = 142500 WHERE item = 'at1'")
    con.execute("UPDATE capital SET amount = 0 WHERE item = 'tier2'")
    assert check_cap_02(ctx_for(con, DAY)).height == 0
