"""VaR / ES by historical simulation (DESIGN.md section 4) and CAP-05."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reports.stress.checks  # noqa: F401  (registers CAP-04 and CAP-05)
from reports import derive
from reports.checks.engine import run_one
from reports.checks.model import PYTHON_CHECKS, CheckContext, CheckOutcome
from reports.config import Config, parse_config
from reports.db import connect, init_db
from reports.stress import var as var_mod
from reports.stress import var_es
from reports.stress.var import (
    historical_var_es,
    returns_matrix,
    tail_count,
    tail_rank,
    to_cents,
)

AS_OF = dt.date(2026, 3, 2)
D = Decimal
HISTORY_DAYS = 30
# CAP-05 passes only on at least 1 / (1 - q) returns (100 at 99%), or the window when shorter:
# the tests of its grading use a window of the history they build
SHORT_WINDOW = {"window": HISTORY_DAYS}


# ------------------------------------------------------------------------------------------
# Pure function


def reference_pnl() -> list[float]:
    """Reference README: 250 daily P&Ls whose ten worst losses are 520 ... 250."""
    worst = [520, 410, 380, 350, 330, 300, 290, 270, 260, 250]
    others = [float(i % 200) - 40.0 for i in range(240)]  # losses at most 40, and gains
    pnl = [-float(x) for x in worst] + others
    rng = np.random.default_rng(7)
    return list(rng.permutation(pnl))


def test_reference_var99_and_es975() -> None:
    stats = historical_var_es(reference_pnl(), D("0.99"), D("0.975"))
    assert (stats.n, stats.k, stats.w) == (250, 3, 6)
    assert stats.var == 380.0
    assert to_cents(stats.var) == D("380.00")
    assert to_cents(stats.es) == D("381.67")  # (520+410+380+350+330+300)/6


@pytest.mark.parametrize(
    ("var", "es", "expected"),
    [
        (380.0, 381.666666, ("es", D("381.67"))),  # the reference sample: ES above VaR
        (400.0, 381.666666, ("var", D("400.00"))),
        (380.0, 380.0, ("var", D("380.00"))),  # a tie reads as VaR
    ],
)
def test_cap05_figure_is_the_larger_of_var_and_es(
    var: float, es: float, expected: tuple[str, Decimal]
) -> None:
    """DESIGN.md section 5: CAP-05 compares the larger of VaR and ES with its threshold and
    names which it is (mutation review of 2026-12-06: taking the smaller failed no test of
    this file, since the CAP-05 tests' samples tie)."""
    result = var_mod.VarResult(
        evaluated=True,
        reason=None,
        n=250,
        confidence=D("0.99"),
        k=3,
        es_confidence=D("0.975"),
        w=6,
        var_usd=to_cents(var),
        es_usd=to_cents(es),
        window=250,
        window_start=None,
        window_end=None,
        var=var,
        es=es,
    )
    assert result.measure == expected


def test_cap05_grades_the_larger_of_var_and_es() -> None:
    """Diff review of 2026-12-06: the test above pins which figure CAP-05 names, not which it
    grades. VaR 380 and ES 381.67 against thresholds between and above them: between, the
    larger (ES) reaches it; above both, nothing does."""
    base = {
        "evaluated": True, "reason": None, "n": 250, "confidence": D("0.99"), "k": 3,
        "es_confidence": D("0.975"), "w": 6, "var_usd": D("380.00"), "es_usd": D("381.67"),
        "window": 250, "window_start": None, "window_end": None, "var": 380.0,
        "es": 381.666666, "share": D("0.25"),
    }  # fmt: skip
    between = var_mod.VarResult(**base, own_funds=D(4 * 381))  # threshold 381
    above = var_mod.VarResult(**base, own_funds=D(4 * 382))  # threshold 382
    assert between.threshold_usd == D(381) and between.reaches_threshold
    assert above.threshold_usd == D(382) and not above.reaches_threshold


@pytest.mark.parametrize(
    ("statistic", "shown"),
    [
        # an ES of house custody in the 1e12s of ETH: to the cent, 19 digits of which a float64
        # carries 15 (numbers audit of 2026-12-07: "1,115,388,207,906,685.90 USD")
        (1115388207906685.9, "1,115,388,207,906,690.00"),
        (12345678901234.56, "12,345,678,901,234.60"),
        # below 1e13 the cents have at most 15 digits: as before
        (9999999999999.994, "9,999,999,999,999.99"),
        (135547.08, "135,547.08"),
        (381.666666, "381.67"),
    ],
)
def test_a_float_statistic_is_shown_with_the_digits_a_float64_carries(
    statistic: float, shown: str
) -> None:
    """VaR and ES are float64: the table's figure (to_cents) and the PDF's (build._statistic,
    graded against a threshold far below it) show at most 15 significant digits."""
    from reports.render.build import _statistic

    assert f"{to_cents(statistic):,}" == shown
    assert _statistic(statistic, to_cents(statistic), D("2299725")) == shown


@pytest.mark.parametrize("statistic", [-0.0, -0.001, -0.004999])
def test_a_statistic_that_rounds_to_zero_has_no_sign(statistic: float) -> None:
    """Every return 0 gives a loss of -0.0 (-pnl): CAP-05 read "VaR 99% -0.00 USD" (regime
    audit of 2026-12-07); a gain under half a cent rounds to 0.00, not -0.00, in stress.csv's
    cents and in the messages' figures."""
    from reports.capital.exact import against

    assert str(to_cents(statistic)) == "0.00"
    assert against(Decimal(repr(statistic)), D("2299725"), 2) == "0.00"
    stats = historical_var_es([0.0] * 30, D("0.99"), D("0.975"))
    assert str(to_cents(stats.var)) == str(to_cents(stats.es)) == "0.00"


@pytest.mark.parametrize(
    ("statistic", "threshold", "shown"),
    [
        # 999,999,999,999,999.875 passes against 1e15: to 15 digits it would print the threshold
        (1e15 - 0.125, D(10) ** 15, "999,999,999,999,999.90"),
        # 1,000,000,000,000,004.125 warns against 1,000,000,000,000,004: to 15 digits below it
        (1000000000000004.125, D(1000000000000004), "1,000,000,000,000,004.10"),
        (1115388207906685.9, D("2299725"), "1,115,388,207,906,690.00"),  # far from it: 15 digits
    ],
)
def test_a_float_statistic_keeps_its_side_of_the_threshold(
    statistic: float, threshold: Decimal, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review of 2026-12-07: rounded to 15 significant digits, a VaR or ES from 1e13 graded
    against a threshold of as many digits printed the threshold itself, or fell below it,
    while CAP-05 graded its full precision ("VaR ... 1,000,000,000,000,000.00 USD ... is below
    ... = 1,000,000,000,000,000.00 USD"). Where the 15 digits would cross or reach the
    threshold, the float's own digits are shown."""
    from reports.render.build import _statistic

    assert _statistic(statistic, to_cents(statistic), threshold) == shown
    base = {
        "evaluated": True, "reason": None, "n": 250, "confidence": D("0.99"), "k": 3,
        "es_confidence": D("0.975"), "w": 6, "var_usd": to_cents(statistic),
        "es_usd": to_cents(statistic), "window": 250, "window_start": None, "window_end": None,
        "var": statistic, "es": statistic, "share": D("0.25"),
    }  # fmt: skip
    result = var_mod.VarResult(**base, own_funds=threshold * 4)
    assert result.threshold_usd == threshold
    printed = result.shown_measure
    assert printed is not None
    assert (printed >= threshold) == result.reaches_threshold
    assert printed != threshold
    # CAP-05's row and message: a warning's value is not below its threshold, and a pass on
    # too few returns does not print the threshold as its figure
    from dataclasses import replace

    short = replace(result, n=5)
    monkeypatch.setattr(var_mod, "var_es", lambda *_args: result)
    checked = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(None, AS_OF, None, Config()))
    if result.reaches_threshold:
        assert checked.rows["value"].item() >= threshold, checked.rows
    else:
        monkeypatch.setattr(var_mod, "var_es", lambda *_args: short)
        checked = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(None, AS_OF, None, Config()))
        assert checked.status == CheckOutcome.NOT_EVALUATED, checked.message
        assert f"VaR 99% {shown} USD over only n=5" in checked.message, checked.message


def test_tail_ranks_are_exact_decimals() -> None:
    # in floats 100 x (1 - 0.99) = 1.0000000000000009 and ceil would give 2
    assert tail_rank(100, D("0.99")) == 1
    assert tail_rank(250, D("0.99")) == 3
    assert tail_count(250, D("0.975")) == 6
    assert tail_count(30, D("0.975")) == 1  # floor 0.75 = 0 -> at least one
    assert tail_rank(1, D("0.99")) == 1


def test_all_gains_give_negative_var() -> None:
    stats = historical_var_es([1.0, 2.0, 3.0], D("0.99"), D("0.975"))
    assert stats.var == -1.0 and stats.es == -1.0  # the "worst loss" is the smallest gain


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300),
    st.randoms(use_true_random=False),
)
def test_var_is_the_kth_worst_loss_whatever_the_order(pnl: list[float], rnd: Any) -> None:
    stats = historical_var_es(pnl, D("0.99"), D("0.975"))
    losses = sorted((-x for x in pnl), reverse=True)
    assert stats.var == losses[stats.k - 1]
    assert min(losses[: stats.w]) - 1e-6 <= stats.es <= losses[0] + 1e-6
    shuffled = list(pnl)
    rnd.shuffle(shuffled)
    assert historical_var_es(shuffled, D("0.99"), D("0.975")) == stats


def test_pure_function_rejects_empty_sample() -> None:
    with pytest.raises(ValueError, match="at least one"):
        historical_var_es([], D("0.99"), D("0.975"))


# ------------------------------------------------------------------------------------------
# Database


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_db(tmp_path_factory.mktemp("schema") / "schema.duckdb")


def make_db(template: Path, folder: Path) -> Any:
    path = folder / "var.duckdb"
    shutil.copyfile(template, path)
    return connect(path)


def insert(
    con: Any, table: str, columns: str, rows: list[tuple[Any, ...]], as_of: dt.date = AS_OF
) -> None:
    names = ["as_of_date", *[c.strip() for c in columns.split(",")]]
    con.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [(as_of, *row) for row in rows],
    )


def history_prices() -> dict[str, list[float]]:
    """Prices of BTC and ETH on the HISTORY_DAYS days before AS_OF, oldest first (exact to cents)."""
    rng = np.random.default_rng(11)
    btc = 50000 * np.cumprod(1 + rng.normal(0, 0.03, HISTORY_DAYS))[::-1]
    eth = 2000 * np.cumprod(1 + rng.normal(0, 0.04, HISTORY_DAYS))[::-1]
    return {"BTC": [round(float(p), 2) for p in btc], "ETH": [round(float(p), 2) for p in eth]}


def add_firm(con: Any, *, history: bool = True, capital: dict[str, str] | None = None) -> None:
    """House: long 2 BTCUSDT @ 48000 (cross), custody 1 BTC. Insurance fund: short 100 BTCUSD
    (inverse, 100 USD each) @ 40000, custody 10 ETH and 1,000,000 USDT (stable: excluded).
    A client's long 50 BTCUSDT and client custody are not firm exposure.
    Exposure BTC = 2 x 50000 - 10000 x 50000 / 40000 + 1 x 50000 = 137500; ETH = 10 x 2000."""
    insert(
        con,
        "prices",
        "kind, symbol, price",
        [
            ("asset", "BTC", D(50000)),
            ("asset", "ETH", D(2000)),
            ("asset", "USDT", D(1)),
            ("instrument", "BTCUSDT", D(50000)),
            ("instrument", "BTCUSD", D(50000)),
        ],
    )
    insert(
        con,
        "instruments",
        "instrument_id, kind, underlying, quote_asset, settle_asset, contract_size",
        [
            ("BTCUSDT", "linear_perpetual", "BTC", "USDT", "USDT", D(1)),
            ("BTCUSD", "inverse_perpetual", "BTC", "USD", "BTC", D(100)),
        ],
    )
    insert(
        con,
        "accounts",
        "account_id, account_type, group_id, client_category, status",
        [
            ("h1", "house", "h1", "retail", "active"),
            ("if1", "insurance_fund", "if1", "retail", "active"),
            ("c1", "client", "c1", "retail", "active"),
        ],
    )
    insert(
        con,
        "positions",
        "position_id, account_id, instrument_id, margin_mode, quantity, entry_price, isolated_margin",
        [
            ("h1p", "h1", "BTCUSDT", "cross", D(2), D(48000), None),
            ("ifp", "if1", "BTCUSD", "cross", D(-100), D(40000), None),
            ("c1p", "c1", "BTCUSDT", "cross", D(50), D(50000), None),
        ],
    )
    insert(
        con,
        "custody",
        "wallet_id, custodian, asset, balance, designation, wallet_type, custodian_type",
        [
            ("w1", "self", "BTC", D(1), "house", "cold", "self"),
            ("w2", "self", "ETH", D(10), "insurance_fund", "cold", "self"),
            ("w3", "self", "USDT", D(1000000), "insurance_fund", "cold", "self"),
            ("w4", "self", "BTC", D(500), "client", "cold", "self"),
        ],
    )
    if capital:
        insert(con, "capital", "item, amount", [(k, D(v)) for k, v in capital.items()])
    if history:
        prices = history_prices()
        rows = [
            (AS_OF - dt.timedelta(days=HISTORY_DAYS - i), asset, D(str(prices[asset][i])))
            for asset in ("BTC", "ETH")
            for i in range(HISTORY_DAYS)
        ]
        # the snapshot's own price wins over a price_history row for the same date
        rows.append((AS_OF, "BTC", D(99999)))
        insert(con, "price_history", "date, asset, price", rows)
        # rows brought by a snapshot after AS_OF are not known on AS_OF
        insert(
            con,
            "price_history",
            "date, asset, price",
            [(AS_OF - dt.timedelta(days=1), "BTC", D(1))],
            as_of=AS_OF + dt.timedelta(days=1),
        )
    derive.refresh(con)  # rows inserted directly, not through the loader


def expected_pnl(window: int) -> np.ndarray:
    prices = history_prices()
    btc = np.array([*prices["BTC"], 50000.0])
    eth = np.array([*prices["ETH"], 2000.0])
    returns = np.column_stack([btc[1:] / btc[:-1] - 1, eth[1:] / eth[:-1] - 1])[-window:]
    return returns @ np.array([137500.0, 20000.0])


@pytest.fixture(scope="module")
def var_db(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    con = make_db(template, tmp_path_factory.mktemp("var"))
    add_firm(con, capital={"cet1": "1000000", "at1": "100000", "tier2": "50000"})
    yield con
    con.close()


def test_exposure_and_window(var_db: Any) -> None:
    result = var_es(var_db, AS_OF, Config())
    assert result.evaluated
    assert result.exposure == {"BTC": D("137500"), "ETH": D("20000")}
    assert result.n == HISTORY_DAYS  # 31 price dates, fewer than the 250-day window
    assert (result.k, result.w) == (1, 1)
    assert result.window_start == AS_OF - dt.timedelta(days=HISTORY_DAYS)
    assert result.window_end == AS_OF
    losses = np.sort(-expected_pnl(250))[::-1]
    assert result.var_usd == to_cents(float(losses[0]))
    assert result.es_usd == result.var_usd
    assert result.own_funds == D("1150000")
    assert "k = ceil(n x (1 - q))" in result.method


def test_window_limits_the_returns(var_db: Any) -> None:
    config = parse_config({"var": {"window": 10, "confidence": "0.8", "es_confidence": "0.75"}})
    result = var_es(var_db, AS_OF, config)
    assert result.n == 10
    assert result.window_start == AS_OF - dt.timedelta(days=10)
    assert (result.k, result.w) == (2, 2)
    losses = np.sort(-expected_pnl(10))[::-1]
    assert result.var_usd == to_cents(float(losses[1]))
    assert result.es_usd == to_cents(float((losses[0] + losses[1]) / 2))


def test_a_move_across_a_missing_date_is_not_a_daily_return() -> None:
    """Review of 2026-12-04: with 02-28 missing, 02-27 -> 03-01 (-10% over two days) was
    scored as one day's return and became the worst daily loss."""
    import polars as pl

    def day(d: int) -> dt.date:
        return dt.date(2026, 2, 26) + dt.timedelta(days=d)

    prices = {0: 100.0, 1: 110.0, 3: 99.0, 4: 100.0}  # day 2 (02-28) missing
    history = pl.DataFrame(
        {"date": [day(d) for d in prices], "asset": "BTC", "price": list(prices.values())}
    )
    dates, returns = returns_matrix(history, ["BTC"], 250)
    assert dates == [day(0), day(1), day(3), day(4)]
    assert returns[:, 0].tolist() == pytest.approx([0.1, 100 / 99 - 1])
    # the window counts daily returns: the last one only
    dates, returns = returns_matrix(history, ["BTC"], 1)
    assert (dates, returns[:, 0].tolist()) == ([day(3), day(4)], pytest.approx([100 / 99 - 1]))
    # another asset missing a date removes that date for all: BTC's returns around it go too
    other = pl.DataFrame(
        {"date": [day(d) for d in (0, 1, 3, 4)], "asset": "ETH", "price": [1.0, 1.0, 1.0, 1.0]}
    )
    full = pl.DataFrame(
        {"date": [day(d) for d in range(5)], "asset": "BTC", "price": [100.0, 110, 104, 99, 100]}
    )
    _, returns = returns_matrix(pl.concat([full, other]), ["BTC", "ETH"], 250)
    assert returns[:, 0].tolist() == pytest.approx([0.1, 100 / 99 - 1])
    # no two consecutive days: no return at all
    alone = history.filter(pl.col("date") != day(1)).filter(pl.col("date") != day(4))
    assert returns_matrix(alone, ["BTC"], 250)[1].shape == (0, 1)


def test_var_es_leaves_out_the_returns_across_a_gap(template: Path, tmp_path: Path) -> None:
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000"})
    gap = AS_OF - dt.timedelta(days=10)
    con.execute("DELETE FROM price_history WHERE date = ? AND asset = 'ETH'", [gap])
    result = var_es(con, AS_OF, Config())
    # 30 daily returns less the two that touch the missing date
    assert result.n == HISTORY_DAYS - 2
    assert result.window_start == AS_OF - dt.timedelta(days=HISTORY_DAYS)
    prices = history_prices()
    btc = np.array([*prices["BTC"], 50000.0])
    eth = np.array([*prices["ETH"], 2000.0])
    returns = np.column_stack([btc[1:] / btc[:-1] - 1, eth[1:] / eth[:-1] - 1])
    kept = [i for i in range(HISTORY_DAYS) if i not in (HISTORY_DAYS - 11, HISTORY_DAYS - 10)]
    pnl = returns[kept] @ np.array([137500.0, 20000.0])
    assert result.var_usd == to_cents(float(np.sort(-pnl)[::-1][0]))
    con.close()


def test_cap05_warn_and_control(var_db: Any) -> None:
    spec = PYTHON_CHECKS["CAP-05"]
    result = var_es(var_db, AS_OF, Config())
    figure = max(result.var_usd, result.es_usd)
    assert figure > 0
    # control: 25% of own funds 1,150,000 = 287,500 is above the one-day loss figure
    quiet = run_one(spec, CheckContext(var_db, AS_OF, None, parse_config({"var": SHORT_WINDOW})))
    assert quiet.status == CheckOutcome.PASS, quiet.message
    # a share small enough that the figure reaches it -> warn
    share = (figure / D("1150000")).quantize(D("0.000001")) - D("0.000001")
    config = parse_config({"var": {"own_funds_share_warn": str(share), **SHORT_WINDOW}})
    loud = run_one(spec, CheckContext(var_db, AS_OF, None, config))
    assert loud.status == CheckOutcome.WARN
    row = loud.rows.row(0, named=True)
    assert (row["entity_type"], row["entity_id"], row["metric"]) == ("firm", "firm", "var")
    assert row["value"] == figure
    assert row["threshold"] == share * D("1150000")
    assert "n=30" in row["message"]


def test_cap05_does_not_pass_on_too_few_returns(var_db: Any) -> None:
    """History review of 2026-12-05: CAP-05 passed on a VaR over one daily return. Below
    1 / (1 - q) returns (100 at 99%), the k-th worst loss is the worst of a few days, not a
    quantile: a figure below the threshold is not evaluated, saying why; one at or above it
    still warns. A window configured shorter than that is the venue's choice."""
    spec = PYTHON_CHECKS["CAP-05"]
    result = var_es(var_db, AS_OF, Config())
    assert (result.n, result.min_returns) == (HISTORY_DAYS, 100)
    short = run_one(spec, CheckContext(var_db, AS_OF, None, Config()))
    assert short.status == CheckOutcome.NOT_EVALUATED
    assert f"over only n={HISTORY_DAYS} daily returns" in (short.message or "")
    assert "needs at least 100 returns" in (short.message or "")
    assert "Load price_history" in (short.message or "")
    figure = max(result.var_usd, result.es_usd)
    share = (figure / D("1150000")).quantize(D("0.000001")) - D("0.000001")
    loud = run_one(
        spec,
        CheckContext(
            var_db, AS_OF, None, parse_config({"var": {"own_funds_share_warn": str(share)}})
        ),
    )
    assert loud.status == CheckOutcome.WARN
    # 99.9%: 1,000 returns; a window of 30 (the venue's choice): 30 suffice
    strict = parse_config({"var": {"confidence": "0.999"}})
    assert var_es(var_db, AS_OF, strict).min_returns == 250  # the default window is shorter
    assert var_es(var_db, AS_OF, parse_config({"var": SHORT_WINDOW})).min_returns == HISTORY_DAYS
    # 97%: 1 / 0.03 = 33.3 returns, so 34: 33 would make the 1st worst of 33 days a 97%
    # quantile (mutation review of 2026-12-06: rounding down passed)
    assert var_es(var_db, AS_OF, parse_config({"var": {"confidence": "0.97"}})).min_returns == 34
    assert (
        run_one(spec, CheckContext(var_db, AS_OF, None, parse_config({"var": SHORT_WINDOW}))).status
        == CheckOutcome.PASS
    )


def test_cap05_compares_the_full_precision_figure_not_its_cents(
    template: Path, tmp_path: Path
) -> None:
    """A threshold between the statistic and its cents decides by the statistic: exactly at it
    -> warn; a millionth above it -> pass (DESIGN.md section 4: round only for presentation)."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1"})
    spec = PYTHON_CHECKS["CAP-05"]
    figure = var_es(con, AS_OF, Config())
    assert figure.var is not None and figure.es is not None
    full = D(repr(max(figure.var, figure.es)))
    cents = max(figure.var_usd or 0, figure.es_usd or 0)
    assert full != cents  # the statistic is not a whole number of cents
    statuses = {}
    for label, threshold in (("at", full), ("above", full + D("0.000001"))):
        con.execute("DELETE FROM capital")
        # CAP-05's default share is 25%: own funds of 4 x threshold put it exactly there
        insert(con, "capital", "item, amount", [("cet1", 4 * threshold)])
        result = run_one(spec, CheckContext(con, AS_OF, None, parse_config({"var": SHORT_WINDOW})))
        statuses[label] = result.status
        if result.status == CheckOutcome.WARN:
            row = result.rows.row(0, named=True)
            assert (row["value"], row["threshold"]) == (cents, threshold)
    assert statuses == {"at": CheckOutcome.WARN, "above": CheckOutcome.PASS}
    con.close()


def test_cap05_regime_items(var_db: Any) -> None:
    mica = var_es(var_db, AS_OF, parse_config({"capital": {"regime": "mica"}}))
    assert mica.own_funds == D("1000000")
    ctx = CheckContext(var_db, AS_OF, None, parse_config({"capital": {"regime": "cftc"}}))
    result = run_one(PYTHON_CHECKS["CAP-05"], ctx)
    assert result.status == CheckOutcome.NOT_EVALUATED
    assert "adjusted_net_capital" in (result.message or "")


def test_cap05_not_evaluated_without_history(template: Path, tmp_path: Path) -> None:
    con = make_db(template, tmp_path)
    add_firm(con, history=False, capital={"cet1": "1000000"})
    assert not var_es(con, AS_OF, Config()).evaluated
    result = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(con, AS_OF, None, Config()))
    assert result.status == CheckOutcome.NOT_EVALUATED
    assert "no two consecutive days with a price" in (result.message or "")
    con.close()


def test_cap05_passes_with_no_exposure_to_a_non_stable_asset(
    template: Path, tmp_path: Path
) -> None:
    """Stress audit of 2026-12-07: a house and insurance fund holding only stablecoins have no
    exposure VaR counts, so VaR and ES are 0 over any sample; CAP-05 was `not_evaluated` ("no
    two consecutive days with a price for every exposure asset (none) ... load price_history",
    or with 30 days of prices "needs at least 100 returns"), which no back-fill can change."""
    con = make_db(template, tmp_path)
    insert(con, "prices", "kind, symbol, price", [("asset", "USDT", D("0.9996"))])
    insert(con, "accounts", "account_id, account_type, group_id, client_category, status",
           [("h1", "house", "h1", "retail", "active")])  # fmt: skip
    insert(con, "custody",
           "wallet_id, custodian, asset, balance, designation, wallet_type, custodian_type",
           [("w1", "self", "USDT", D(1000000), "house", "cold", "self")])  # fmt: skip
    insert(con, "capital", "item, amount", [("cet1", D(1000000))])
    derive.refresh(con)
    result = var_es(con, AS_OF, Config())
    assert result.evaluated and result.exposure == {}
    assert (result.var_usd, result.es_usd) == (D("0.00"), D("0.00"))
    outcome = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(con, AS_OF, None, Config()))
    assert outcome.status == CheckOutcome.PASS, outcome.message
    con.close()


def test_a_linear_contract_quoted_in_a_coin_is_exposed_to_that_coin(
    template: Path, tmp_path: Path
) -> None:
    """Stress review of 2026-12-05: a house long of 10 ETHBTC @ 0.05 (ETH 2,500 USD, BTC
    50,000) had no BTC exposure, so BTC +20% with ETH flat gave VaR 0 although the position's
    USD P&L, 10 x (P_ETH - 0.05 x P_BTC), loses 5,000. Its BTC delta is -s x Q x E x P_BTC."""
    con = make_db(template, tmp_path)
    insert(con, "prices", "kind, symbol, price",
           [("asset", "BTC", D(50000)), ("asset", "ETH", D(2500)), ("asset", "USDT", D(1)),
            ("instrument", "ETHBTC", D("0.05"))])  # fmt: skip
    insert(con, "instruments",
           "instrument_id, kind, underlying, quote_asset, settle_asset, contract_size",
           [("ETHBTC", "linear_perpetual", "ETH", "BTC", "BTC", D(1))])  # fmt: skip
    insert(con, "accounts", "account_id, account_type, group_id, client_category, status",
           [("h1", "house", "h1", "retail", "active")])  # fmt: skip
    insert(con, "positions",
           "position_id, account_id, instrument_id, margin_mode, quantity, entry_price",
           [("p1", "h1", "ETHBTC", "cross", D(10), D("0.05"))])  # fmt: skip
    before = [AS_OF - dt.timedelta(days=2), AS_OF - dt.timedelta(days=1)]
    insert(con, "price_history", "date, asset, price",
           [(before[0], "BTC", D(50000)), (before[1], "BTC", D(60000)),
            (before[0], "ETH", D(2500)), (before[1], "ETH", D(2500))])  # fmt: skip
    insert(con, "capital", "item, amount", [("cet1", D(1000000))])
    derive.refresh(con)
    result = var_es(con, AS_OF, Config())
    assert result.exposure == {"BTC": D("-25000"), "ETH": D("25000")}
    # returns: BTC +20% then -16.67%, ETH flat: P&L -5,000 and +4,166.67
    assert result.n == 2 and result.var_usd == D("5000.00")
    con.close()


def test_an_asset_with_a_short_history_is_left_out_not_everyone_cut_short() -> None:
    import polars as pl

    days = [AS_OF - dt.timedelta(days=i) for i in range(10)]
    history = pl.DataFrame(
        {"date": days + days[:2] + days[:8], "asset": ["BTC"] * 10 + ["NEW"] * 2 + ["ETH"] * 8,
         "price": [1.0] * 20},
    )  # fmt: skip
    own = var_mod.own_daily_returns(history, ["BTC", "ETH", "NEW", "NONE"])
    assert own == {"BTC": 9, "ETH": 7, "NEW": 1, "NONE": 0}
    # half of min(window, 9): ETH (7) stays, NEW (1) and NONE (0) are left out
    assert var_mod.short_histories(own, 250) == ["NEW", "NONE"]
    assert var_mod.short_histories(own, 2) == ["NONE"]  # a window of 2: one return is half
    assert var_mod.short_histories({"BTC": 0}, 250) == []  # nothing to compare with


def _with_new_coin(con: Any, units: str) -> None:
    """A house holding of `units` NEW at 1 USD, priced today and yesterday only (1 return)."""
    insert(con, "prices", "kind, symbol, price", [("asset", "NEW", D(1))])
    insert(con, "custody",
           "wallet_id, custodian, asset, balance, designation, wallet_type, custodian_type",
           [("w9", "self", "NEW", D(units), "house", "cold", "self")])  # fmt: skip
    insert(con, "price_history", "date, asset, price",
           [(AS_OF - dt.timedelta(days=1), "NEW", D(1))])  # fmt: skip


def test_a_coin_listed_yesterday_does_not_switch_cap05_off(template: Path, tmp_path: Path) -> None:
    """Stress review of 2026-12-05: VaR took only the dates on which every exposure asset was
    priced, so 1 USD of a coin listed yesterday cut n from 30 to 1 (or to nothing: CAP-05
    not_evaluated, which the overall status ignores) and hid the BTC risk."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000", "at1": "100000", "tier2": "50000"})
    plain = var_es(con, AS_OF, Config())
    _with_new_coin(con, "1")
    result = var_es(con, AS_OF, Config())
    assert result.left_out == {"NEW": 1} and result.exposure["NEW"] == D(1)
    assert (result.n, result.var_usd, result.es_usd) == (plain.n, plain.var_usd, plain.es_usd)
    spec = PYTHON_CHECKS["CAP-05"]
    # below the threshold even with the whole 1 USD lost: pass
    short = parse_config({"var": SHORT_WINDOW})
    assert run_one(spec, CheckContext(con, AS_OF, None, short)).status == CheckOutcome.PASS
    # a threshold the BTC/ETH figure reaches: warn, and the message names what was left out
    share = (max(plain.var_usd, plain.es_usd) / D("1150000")).quantize(D("0.000001"))
    share -= D("0.000001")
    loud = parse_config({"var": {"own_funds_share_warn": str(share), **SHORT_WINDOW}})
    warned = run_one(spec, CheckContext(con, AS_OF, None, loud))
    assert warned.status == CheckOutcome.WARN
    assert (
        "left out for too short a price history: NEW (1.00 USD, 1 daily returns)"
        in (warned.rows.row(0, named=True)["message"])
    )
    con.close()


@pytest.mark.parametrize("units", ["1000000", "-1000000"])
def test_cap05_cannot_pass_over_a_large_exposure_it_left_out(
    template: Path, tmp_path: Path, units: str
) -> None:
    """The left-out coin's whole exposure (a one-day loss bound) could take the figure to the
    threshold (287,500): CAP-05 says it cannot be evaluated, naming the coin, instead of
    passing. A short exposure (an overdraft) is bounded by its size too (mutation review of
    2026-12-06: adding the signed exposure passed)."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000", "at1": "100000", "tier2": "50000"})
    _with_new_coin(con, units)
    short = parse_config({"var": SHORT_WINDOW})
    result = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(con, AS_OF, None, short))
    assert result.status == CheckOutcome.NOT_EVALUATED
    assert f"NEW ({int(units):,}.00 USD, 1 daily returns)" in (result.message or "")
    assert "back-fill" in (result.message or "")
    con.close()


def test_var_is_deterministic(var_db: Any) -> None:
    assert var_es(var_db, AS_OF, Config()) == var_es(var_db, AS_OF, Config())


@pytest.mark.parametrize("low", ["0.000000000001", "0.000000000000000001"])
def test_a_var_beyond_what_an_amount_holds_is_a_warning_not_an_error(
    template: Path, tmp_path: Path, low: str
) -> None:
    """Fuzzing of 2026-12-05: prices a million times yesterday's gave an ES of 1.4e22 USD (a
    float statistic); CAP-05 then failed converting it to DECIMAL(38,18) and the job ended
    with exit 4. The warning stands, its figure in the message, the value left empty; the run's
    stored figures leave the VaR out (it would not fit either)."""
    from types import SimpleNamespace

    from reports.stress.results import record_stress_figures

    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000"})
    # the house also short 10 BTCUSDT: BTC exposure 137,500 - 500,000 = -362,500 USD
    insert(
        con,
        "positions",
        "position_id, account_id, instrument_id, margin_mode, quantity, entry_price, isolated_margin",
        [("h1s", "h1", "BTCUSDT", "cross", D(-10), D(50000), None)],
    )
    # one day's BTC close of 1e-12 (1e-18), so the next day's return is about +5e16 (5e22):
    # an ES of about 2e22 (2e28) USD; the second one also failed to round to cents (review)
    day = AS_OF - dt.timedelta(days=10)
    con.execute(
        "UPDATE price_history SET price = ?::DECIMAL(38,18) WHERE asset = 'BTC' AND date = ?",
        [low, day],
    )
    derive.refresh(con)
    result = var_es(con, AS_OF, Config())
    assert result.var_usd is not None and result.var_usd >= D("1e20")
    # at most the 15 significant digits a float64 carries, not its repr's 17 to the cent
    assert result.es_usd is not None
    assert all(len(f.normalize().as_tuple().digits) <= 15 for f in (result.var_usd, result.es_usd))
    checked = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(con, AS_OF, None, Config()))
    assert checked.status == CheckOutcome.WARN, checked.message
    row = checked.rows.row(0, named=True)
    assert row["value"] is None and row["threshold"] == D("250000")
    assert f"{max(result.var_usd, result.es_usd):,}"[:12] in row["message"]
    run = SimpleNamespace(run_id="r1", results=[SimpleNamespace(check_id="CAP-05", status="warn")])
    ctx = CheckContext(con, AS_OF, None, Config())
    assert record_stress_figures(con, run, AS_OF, dt.datetime(2026, 3, 2, 23), ctx) == 0
    assert con.execute("SELECT count(*) FROM run_figures").fetchall() == [(0,)]
    con.close()


@pytest.mark.parametrize("why", ["short sample", "left out"])
def test_cap05_a_figure_just_under_its_threshold_reads_as_under_it(
    var_db: Any, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    """README audit of 2026-12-06: a VaR half a cent under the threshold (not evaluated: too
    short a sample, or an asset left out whose exposure could reach it) read "VaR 99%
    287,500.00 USD ... is below 25% of own funds ... = 287,500.00 USD". The figure is graded at
    full precision and now printed so, the threshold too (own funds 1,150,000.013 make it
    287,500.00325)."""
    from dataclasses import replace

    real = var_es(var_db, AS_OF, Config())
    assert real.n < real.min_returns
    close = replace(
        real,
        own_funds=D("1150000.013"),
        var=287500.001,
        es=1.0,
        var_usd=D("287500.00"),
        es_usd=D("1.00"),
    )
    if why == "left out":
        close = replace(
            close, n=close.min_returns, left_out={"NEW": 1}, exposure={"NEW": D("1000")}
        )
    monkeypatch.setattr(var_mod, "var_es", lambda *_a, **_k: close)
    result = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(var_db, AS_OF, None, Config()))
    assert result.status == CheckOutcome.NOT_EVALUATED
    message = result.message or ""
    assert "VaR 99% 287,500.001 USD over " in message, message
    assert "= 287,500.00325 USD, but " in message
    assert ("needs at least" in message) == (why == "short sample")
    assert ("leaves out" in message) == (why == "left out")


def test_cap05_a_left_out_bound_exactly_at_the_threshold_is_not_a_pass(
    template: Path, tmp_path: Path
) -> None:
    """The figure plus the whole 1,000 USD of the coin left out is exactly 25% of own funds:
    the left-out coin could take the figure to the threshold, so CAP-05 cannot pass
    (DESIGN.md section 4: at the threshold is flagged; mutation review of 2026-12-06: `>` for
    `>=` passed)."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1"})
    _with_new_coin(con, "1000")
    figure = var_es(con, AS_OF, Config())
    assert figure.full_measure is not None and figure.left_out_usd == D(1000)
    short = parse_config({"var": SHORT_WINDOW})
    statuses = []
    for extra in (D(0), D("0.000001")):
        con.execute("DELETE FROM capital")
        own_funds = 4 * (figure.full_measure + D(1000) + extra)  # the 25% threshold at the bound
        insert(con, "capital", "item, amount", [("cet1", own_funds)])
        statuses.append(
            run_one(PYTHON_CHECKS["CAP-05"], CheckContext(con, AS_OF, None, short)).status
        )
    assert statuses == [CheckOutcome.NOT_EVALUATED, CheckOutcome.PASS]
    con.close()


def test_var_leaves_out_the_reporting_currency_whatever_the_stable_assets(
    template: Path, tmp_path: Path
) -> None:
    """USD, the reporting currency, has no USD risk: 1,000,000 USD of house custody is no VaR
    exposure even when the configured stable assets leave USD out (mutation review of
    2026-12-06: dropping the reporting currency from the exclusions passed)."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000"})
    insert(con, "prices", "kind, symbol, price", [("asset", "USD", D(1))])
    insert(con, "custody",
           "wallet_id, custodian, asset, balance, designation, wallet_type, custodian_type",
           [("w8", "BankA", "USD", D(1000000), "house", "bank", "credit_institution")])  # fmt: skip
    result = var_es(con, AS_OF, parse_config({"firm": {"stable_assets": ["USDT"]}}))
    assert set(result.exposure) == {"BTC", "ETH"} and not result.left_out
    con.close()


def test_a_snapshots_price_wins_over_back_filled_history_for_its_date(
    template: Path, tmp_path: Path
) -> None:
    """add_firm's price_history has BTC at 99,999 on AS_OF, beside the snapshot's 50,000; here
    BTC at 1 and ETH at 1 too (the lower of two rows loaded together wins among history rows).
    The snapshot's prices make the last return, so the figures are those of the history
    without these rows (mutation review of 2026-12-06: letting price_history win passed, the
    99,999 being a gain the worst losses never see)."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000"})
    plain = var_es(con, AS_OF, Config())
    insert(con, "price_history", "date, asset, price", [(AS_OF, "BTC", D(1)), (AS_OF, "ETH", D(1))])
    result = var_es(con, AS_OF, Config())
    assert (result.n, result.var_usd, result.es_usd) == (plain.n, plain.var_usd, plain.es_usd)
    losses = np.sort(-expected_pnl(250))[::-1]
    assert result.var_usd == to_cents(float(losses[0]))
    con.close()


# ------------------------------------------------------------------------------------------
# Mutation review of 2026-12-07 (stress): each test below failed under a realistic bug that
# every other test let pass (named in the docstring).


def test_cap05_message_states_n_q_k_and_w(var_db: Any) -> None:
    """DESIGN.md section 4: the report states n, q, k and w. VaR 90% over 30 returns is the
    k = 3rd worst loss, ES 95% the mean of the w = 1 worst: the warning says both (mutation:
    w printed as k passed, every other sample having k = w)."""
    from reports.stress.checks import usd

    tail = {"window": HISTORY_DAYS, "confidence": "0.9", "es_confidence": "0.95"}
    result = var_es(var_db, AS_OF, parse_config({"var": tail}))
    assert (result.n, result.k, result.w) == (HISTORY_DAYS, 3, 1)
    config = parse_config({"var": {**tail, "own_funds_share_warn": "0.000001"}})
    checked = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(var_db, AS_OF, None, config))
    assert checked.status == CheckOutcome.WARN
    message = checked.rows.row(0, named=True)["message"]
    assert f"VaR {usd(result.var_usd or 0)} k=3, ES {usd(result.es_usd or 0)} w=1" in message
    assert "n=30 daily returns" in message
    assert "is at or above 0.0001% of own funds" in message  # the >= of DESIGN.md section 4
    # under cftc in its words, as CAP-01 and the PDF (review of 2026-12-07); the module's
    # database is shared: the item is removed again
    var_db.execute(
        "INSERT INTO capital SELECT as_of_date, 'adjusted_net_capital', amount FROM capital LIMIT 1"
    )
    try:
        cftc = parse_config(
            {"var": {**tail, "own_funds_share_warn": "0.000001"}, "capital": {"regime": "cftc"}}
        )
        checked = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(var_db, AS_OF, None, cftc))
    finally:
        var_db.execute("DELETE FROM capital WHERE item = 'adjusted_net_capital'")
    message = checked.rows.row(0, named=True)["message"]
    assert "is at or above 0.0001% of adjusted net capital" in message, message


def test_cap05_not_evaluated_messages_under_cftc_say_adjusted_net_capital(
    template: Path, tmp_path: Path
) -> None:
    """Review of 2026-12-07: CAP-05's warning said "adjusted net capital" under cftc, but its
    not_evaluated messages (a short sample below the threshold; the capital item missing)
    still said "own funds", which that regime does not name."""
    cftc = parse_config({"capital": {"regime": "cftc"}})
    con = make_db(template, tmp_path)
    add_firm(con, capital={"adjusted_net_capital": "1000000"})
    short = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(con, AS_OF, None, cftc))
    assert short.status == CheckOutcome.NOT_EVALUATED
    assert "needs at least 100 returns" in (short.message or ""), short.message
    assert "of adjusted net capital 1,000,000.00" in (short.message or ""), short.message
    con.execute("DELETE FROM capital")
    missing = run_one(PYTHON_CHECKS["CAP-05"], CheckContext(con, AS_OF, None, cftc))
    assert missing.status == CheckOutcome.NOT_EVALUATED
    assert (missing.message or "").startswith("adjusted net capital unknown"), missing.message
    con.close()


def test_own_funds_are_the_days_not_every_stored_days(template: Path, tmp_path: Path) -> None:
    """CAP-05's own funds are those of the as-of date: a capital file stored for the day
    before does not add to them (mutation: capital.sql read with `as_of_date <= $as_of`
    doubled them)."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000", "at1": "100000", "tier2": "50000"})
    insert(
        con,
        "capital",
        "item, amount",
        [("cet1", D(900000)), ("at1", D(1)), ("tier2", D(1))],
        as_of=AS_OF - dt.timedelta(days=1),
    )
    result = var_es(con, AS_OF, Config())
    assert result.own_funds == D("1150000") and result.threshold_usd == D("287500")
    con.close()


def _var_before_and_after(template: Path, tmp_path: Path, change: Callable[[Any], None]) -> Any:
    """var_es on a one-firm day before and after `change(con)`: (before, after)."""
    con = make_db(template, tmp_path)
    add_firm(con, capital={"cet1": "1000000"})
    before = var_es(con, AS_OF, Config())
    change(con)
    after = var_es(con, AS_OF, Config())
    con.close()
    return before, after


def test_the_latest_loaded_history_row_wins_for_a_date(template: Path, tmp_path: Path) -> None:
    """price_history rows for one (date, asset) loaded on different days: the latest loaded
    one wins (a back-fill corrected later), so an older load's BTC at 1 USD ten days back
    changes nothing (mutation: the earliest loaded winning made it a -99.99% return)."""

    def older_load(con: Any) -> None:
        insert(
            con,
            "price_history",
            "date, asset, price",
            [(AS_OF - dt.timedelta(days=10), "BTC", D(1))],
            as_of=AS_OF - dt.timedelta(days=5),
        )

    plain, result = _var_before_and_after(template, tmp_path, older_load)
    assert (result.n, result.var_usd, result.es_usd) == (plain.n, plain.var_usd, plain.es_usd)


def test_a_later_days_snapshot_does_not_change_a_past_days_var(
    template: Path, tmp_path: Path
) -> None:
    """Only what was known on the as-of date is used (queries/stress/price_history.sql): the
    next day's snapshot, BTC at 1 USD, loaded since, leaves the as-of date's VaR as it was.
    Mutation: snapshot asset prices read whatever their date, so a report for a past date
    changed when later days were loaded."""

    def next_day(con: Any) -> None:
        insert(
            con,
            "prices",
            "kind, symbol, price",
            [("asset", "BTC", D(1)), ("asset", "ETH", D(2000)), ("asset", "USDT", D(1))],
            as_of=AS_OF + dt.timedelta(days=1),
        )
        derive.refresh(con)

    plain, result = _var_before_and_after(template, tmp_path, next_day)
    assert result.window_end == AS_OF
    assert (result.n, result.var_usd, result.es_usd) == (plain.n, plain.var_usd, plain.es_usd)
