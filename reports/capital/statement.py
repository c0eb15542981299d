"""The capital statement: own funds against the regime's requirement (DESIGN.md section 5).

`capital_statement(con, as_of, config)` is the public entry point (used by CAP-01..CAP-03, the
report renderer and summary.json). It gathers its inputs with reports.capital.inputs (SQL under
queries/capital/) and applies the pure formulas of reports.capital.ifr / cftc / mica. Its `lines`
frame becomes capital.csv: every component, K-factor, averaging window (with the days used),
own-funds item and the liquidity requirement, in order, so a reader can recompute the
requirement by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from reports.capital import cftc, ifr, inputs, mica
from reports.capital.exact import ZERO, ratio, rounded
from reports.config import CapitalConfig
from reports.errors import UsageError
from reports.memo import memoized_per_day

# capital.csv columns (DESIGN.md section 6).
LINE_COLUMNS = ("line", "item", "amount")
# How each line is presented (reports.render.outputs.capital_frame): USD at 2 decimals, a ratio
# at 8, a count whole.
LINE_UNITS = ("usd", "ratio", "count")

# What each averaged K-factor averages, for the statement's wording.
_WINDOW_SUBJECT = {
    "K-CMH": "client money held (client requirement in stable and fiat assets, USD)",
    "K-ASA": "assets safeguarded (client requirement in other assets, USD)",
    "K-COH": "client orders handled (client traded notional, USD)",
    "K-DTF": "trading flow (house traded notional, USD)",
}
_WINDOW_MONTHS = {"K-CMH": 9, "K-ASA": 9, "K-COH": 6, "K-DTF": 9}


@dataclass(frozen=True)
class WindowAverage:
    """One averaged K-factor: its IFR window, the stored days used, the average and the K-factor."""

    factor: str
    window_after: dt.date  # days d with window_after < d <= window_through
    window_through: dt.date
    days_in_window: int
    fallback: bool  # no stored day in the window: all stored days up to as_of were used
    days_used: int
    first_day: dt.date | None
    last_day: dt.date | None
    total: Decimal
    average: Decimal
    coefficient: Decimal
    requirement: Decimal
    volume_days: int


@dataclass(frozen=True)
class ConcentrationCharge:
    """K-CON of one large exposure."""

    kind: str  # custodian | client_group
    counterparty: str
    detail: ifr.KCon


@dataclass(frozen=True)
class CompositionTest:
    """One Art. 9(1) condition (CAP-02): an own-funds layer against its share of D."""

    metric: str  # cet1 | cet1_at1 | total
    label: str
    amount: Decimal
    share: Decimal
    minimum: Decimal

    @property
    def met(self) -> bool:
        return self.amount >= self.minimum


@dataclass(frozen=True)
class LiquidityTest:
    """Art. 43(1) (CAP-03): liquid assets against 1/3 of FOR + 1.6% of the client guarantees."""

    liquid_assets: Decimal
    fixed_overheads_part: Decimal
    client_guarantees: Decimal
    guarantees_part: Decimal
    requirement: Decimal

    @property
    def met(self) -> bool:
        return self.liquid_assets >= self.requirement


@dataclass
class CapitalStatement:
    """Own funds against the requirement of the configured regime, with every figure used."""

    as_of: dt.date
    regime: str  # ifr | cftc | mica
    currency: str
    own_funds: Decimal
    requirement: Decimal
    # own_funds / requirement; None when the requirement is 0 or the own funds are unknown
    ratio: Decimal | None
    early_warning_level: Decimal  # as a ratio of the requirement (IFR/MiCA: the configured 1.10)
    early_warning_amount: Decimal  # the same in reporting currency
    lines: Any  # polars.DataFrame: line (Int64), item (String), amount (Decimal(38,18))
    notes: list[str] = field(default_factory=list)
    items: dict[str, Decimal] = field(default_factory=dict)  # the day's capital file
    components: dict[str, Decimal] = field(default_factory=dict)  # PMR, FOR, KFR, K-..., D
    binding: str = ""  # which component sets the requirement (PMR, FOR, KFR, minimum, ...)
    windows: tuple[WindowAverage, ...] = ()
    large_exposures: tuple[inputs.LargeExposure, ...] = ()
    concentration_charges: tuple[ConcentrationCharge, ...] = ()
    composition: tuple[CompositionTest, ...] | None = None  # None: CAP-02 does not apply
    liquidity: LiquidityTest | None = None  # None: CAP-03 does not apply
    not_applicable: dict[str, str] = field(default_factory=dict)  # check id -> why not evaluated
    # why the statement could not be computed (unavailable_statement: the report's, with no
    # figure in it); None for a computed statement
    unavailable: str | None = None

    @property
    def own_funds_unknown(self) -> str | None:
        """Why the own funds are unknown (the regime's item is absent), or None."""
        return self.not_applicable.get("CAP-01")

    def summary(self) -> dict[str, Any]:
        """The "capital" object of summary.json (decimals; the writer turns them into strings):
        own funds and ratio null when unknown, never a stated 0."""
        unknown = self.own_funds_unknown is not None
        missing = self.unavailable is not None
        return {
            "regime": self.regime,
            "own_funds": None if unknown or missing else self.own_funds,
            "requirement": None if missing else self.requirement,
            "ratio": self.ratio,
        }


class _Lines:
    """capital.csv rows in order, each with the unit that decides its presentation
    (reports.render.outputs.capital_frame): "usd" (the default), "ratio" (coefficients, risk
    factors, weights, rates, ratios and shares) or "count" (days, positions). Stated where the
    line is made, never read off its wording: an item names venue-supplied custodians and
    counterparties, whose names must not change how a figure is rounded."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, Decimal, str]] = []

    def add(self, item: str, amount: Decimal | int, unit: str = "usd") -> None:
        if unit not in LINE_UNITS:
            raise ValueError(f"unknown capital line unit {unit!r}")
        self.rows.append((len(self.rows) + 1, item, rounded(Decimal(amount)), unit))

    def frame(self) -> Any:
        import polars as pl

        return pl.DataFrame(
            {
                "line": [r[0] for r in self.rows],
                "item": [r[1] for r in self.rows],
                "amount": [r[2] for r in self.rows],
                "unit": [r[3] for r in self.rows],
            },
            schema={
                "line": pl.Int64,
                "item": pl.String,
                "amount": pl.Decimal(38, 18),
                "unit": pl.String,
            },
        )


def _note_euro_default(notes: list[str], cap: Any, currency: str, what: str, where: str) -> None:
    """The embedded minimums are the laws' EUR figures, taken 1:1 in the reporting currency
    (DESIGN.md section 5); say so where that is what happened (regime review of 2026-12-06:
    MiCA's EUR 150,000 appeared as "150,000.00 USD" with no word of EUR anywhere)."""
    if cap.permanent_minimum is not None or currency == "EUR":
        return
    amount = f"{cap.effective_permanent_minimum:,}"
    notes.append(
        f"{what}: EUR {amount} ({where}), taken as {amount} {currency} (the embedded default); "
        f"set capital.permanent_minimum to the amount in {currency}"
    )


def _percent(share: Decimal) -> str:
    text = format((share * 100).normalize(), "f")
    return f"{text}%"


def _as_date(as_of: dt.date | str) -> dt.date:
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        msg = f"as-of date {as_of!r} is not a date; use YYYY-MM-DD"
        raise UsageError(msg) from None


def unavailable_statement(as_of: dt.date, config: Any, reason: str) -> CapitalStatement:
    """A statement without figures, for the report when capital_statement failed (`reason`):
    no lines, no ratio, own funds and requirement unknown (summary.json: null)."""
    return CapitalStatement(
        as_of=as_of,
        regime=config.capital.regime,
        currency=config.firm.reporting_currency,
        own_funds=Decimal(0),
        requirement=Decimal(0),
        ratio=None,
        early_warning_level=config.capital.early_warning,
        early_warning_amount=Decimal(0),
        lines=_Lines().frame(),
        unavailable=reason,
    )


@memoized_per_day  # computed once per run (reports/memo.py)
def capital_statement(con: Any, as_of: dt.date | str, config: Any) -> CapitalStatement:
    """Own funds against the requirement of `config.capital.regime` on `as_of`.

    Raises UsageError when nothing is stored for as_of. Capital items missing from the day's
    capital file are taken as 0 and named in the notes.
    """
    day = _as_date(as_of)
    if not inputs.is_stored_day(con, day):
        msg = (
            f"no data stored for {day.isoformat()}; load that day's snapshot first (`mir load DIR`)"
        )
        raise UsageError(msg)
    items = inputs.capital_items(con, day)
    regime = config.capital.regime
    # Amounts reach 20 integer digits and 18 decimals: 60 significant digits keep every sum and
    # product below exact; results are rounded to 18 decimals where they are stored.
    with localcontext() as ctx:
        ctx.prec = 60
        if regime == "cftc":
            statement = _cftc_statement(con, day, config, items)
        elif regime == "mica":
            statement = _mica_statement(day, config, items)
        else:
            statement = _ifr_statement(con, day, config, items)
    statement.notes.extend(_settings_of_other_regimes(config.capital))
    return statement


def _settings_of_other_regimes(cap: Any) -> list[str]:
    """Settings the chosen regime does not read, set away from their defaults: said, not
    silently ignored (a firm moving from ifr to cftc kept its PMR and saw no word that it no
    longer counts; regime review of 2026-12-06)."""
    default = CapitalConfig()
    unread = {
        "permanent_minimum": cap.regime == "cftc" and cap.permanent_minimum is not None,
        "k_npr_weight": cap.regime != "ifr" and cap.k_npr_weight != default.k_npr_weight,
        "cftc_minimum": cap.regime != "cftc" and cap.cftc_minimum != default.cftc_minimum,
        "cftc_risk_margin_rate": cap.regime != "cftc"
        and cap.cftc_risk_margin_rate != default.cftc_risk_margin_rate,
    }
    return [
        f"capital.{key} is configured but not used by the {cap.regime} regime"
        for key, configured in unread.items()
        if configured
    ]


def _item(
    items: dict[str, Decimal], name: str, notes: list[str], *, optional: bool = False
) -> Decimal:
    if name in items:
        return items[name]
    if not optional:
        notes.append(f"capital item {name} absent from the capital file: taken as 0")
    return ZERO


def _stable_and_fiat(config: Any) -> tuple[str, ...]:
    # The reporting currency is fiat even when the configured stable list leaves it out.
    return tuple(dict.fromkeys((*config.firm.stable_assets, config.firm.reporting_currency)))


# --------------------------------------------------------------------------------------------- IFR


def _averaged_k_factors(
    con: Any, day: dt.date, config: Any, notes: list[str]
) -> list[WindowAverage]:
    coefficient = {
        "K-CMH": ifr.K_CMH_SEGREGATED,
        "K-ASA": ifr.K_ASA_RATE,
        "K-COH": ifr.K_COH_DERIVATIVES,
        "K-DTF": ifr.K_DTF_DERIVATIVES,
    }
    formula = {
        # Client money sits in segregated accounts (SEG-01 checks that it does); every instrument
        # of the venue is a derivative, so the derivatives coefficients of K-COH and K-DTF apply.
        "K-CMH": lambda avg: ifr.k_cmh(segregated=avg),
        "K-ASA": ifr.k_asa,
        "K-COH": lambda avg: ifr.k_coh(derivatives=avg),
        "K-DTF": lambda avg: ifr.k_dtf(derivatives=avg),
    }
    averages: list[WindowAverage] = []
    for sums in inputs.window_sums(con, day, _stable_and_fiat(config)):
        average = ifr.window_average(sums.total_usd, sums.days_used)
        averages.append(
            WindowAverage(
                factor=sums.factor,
                window_after=sums.window_after,
                window_through=sums.window_through,
                days_in_window=sums.days_in_window,
                fallback=sums.fallback,
                days_used=sums.days_used,
                first_day=sums.first_day,
                last_day=sums.last_day,
                total=sums.total_usd,
                average=average,
                coefficient=coefficient[sums.factor],
                requirement=formula[sums.factor](average),
                volume_days=sums.volume_days,
            )
        )
        if sums.fallback:
            notes.append(
                f"{sums.factor} window (after {sums.window_after.isoformat()} through "
                f"{sums.window_through.isoformat()}: the previous {_WINDOW_MONTHS[sums.factor]} "
                f"months excluding the 3 most recent) had no stored day; used all "
                f"{sums.days_used} stored days up to the as-of date"
            )
    by_factor = {a.factor: a for a in averages}
    volume_factors = [by_factor[f] for f in ("K-COH", "K-DTF") if f in by_factor]
    if volume_factors and all(a.volume_days == 0 for a in volume_factors):
        notes.append("volumes absent: K-COH and K-DTF are 0")
    else:
        for a in volume_factors:
            if a.volume_days == 0:
                notes.append(f"volumes absent on the {a.days_used} days used: {a.factor} is 0")
            elif a.volume_days < a.days_used:
                notes.append(
                    f"{a.factor}: volumes present on {a.volume_days} of the {a.days_used} days "
                    f"used; days without volumes count as 0"
                )
    return averages


def _ifr_statement(
    con: Any, day: dt.date, config: Any, items: dict[str, Decimal]
) -> CapitalStatement:
    cap = config.capital
    notes: list[str] = []
    lines = _Lines()
    cet1 = _item(items, "cet1", notes)
    at1 = _item(items, "at1", notes)
    tier2 = _item(items, "tier2", notes)
    overheads = _item(items, "fixed_overheads_annual", notes)
    liquid_assets = _item(items, "liquid_assets", notes)
    guarantees = _item(items, "client_guarantees", notes, optional=True)
    own_funds = rounded(cet1 + at1 + tier2)

    lines.add("Own funds: CET1", cet1)
    lines.add("Own funds: AT1", at1)
    lines.add("Own funds: Tier 2", tier2)
    lines.add("Own funds = CET1 + AT1 + Tier 2 (IFR Art. 9)", own_funds)

    pmr = cap.effective_permanent_minimum
    lines.add("PMR: permanent minimum requirement (IFR Art. 14, IFD Art. 9)", pmr)
    _note_euro_default(notes, cap, config.firm.reporting_currency, "PMR", "IFD Art. 9")
    for_ = ifr.fixed_overheads_requirement(overheads)
    lines.add("Fixed overheads of the preceding year (annual)", overheads)
    lines.add("FOR = fixed overheads / 4 (IFR Art. 13)", for_)

    # Averaged K-factors (Art. 18, 19, 20, 33).
    averages = _averaged_k_factors(con, day, config, notes)
    for a in averages:
        span = f"after {a.window_after.isoformat()} through {a.window_through.isoformat()}"
        lines.add(f"{a.factor}: stored days in the window ({span})", a.days_in_window, "count")
        dates = (
            f"{a.first_day.isoformat()} to {a.last_day.isoformat()}"
            if a.first_day and a.last_day
            else "none"
        )
        if a.fallback:
            used = f"{a.factor}: days used (fallback: all stored days up to {day.isoformat()}: {dates})"
        else:
            used = f"{a.factor}: days used ({dates})"
        lines.add(used, a.days_used, "count")
        if a.factor in ("K-COH", "K-DTF"):
            lines.add(f"{a.factor}: days used with volumes", a.volume_days, "count")
        lines.add(f"{a.factor}: sum of daily {_WINDOW_SUBJECT[a.factor]}", a.total)
        lines.add(f"{a.factor}: average = sum / days used", a.average)
        lines.add(f"{a.factor}: coefficient", a.coefficient, "ratio")
        lines.add(f"{a.factor} = average x coefficient", a.requirement)
    factor_values = {a.factor: a.requirement for a in averages}

    # K-NPR (as of the day).
    weight = cap.k_npr_weight
    exposures = inputs.net_exposures(con, day, _stable_and_fiat(config))
    for net in exposures:
        lines.add(
            f"K-NPR: {net.underlying} house and insurance-fund positions (USD, signed)",
            net.position_usd,
        )
        lines.add(
            f"K-NPR: {net.underlying} house and insurance-fund custody (USD)", net.custody_usd
        )
        lines.add(f"K-NPR: {net.underlying} net exposure (USD)", net.net_usd)
        lines.add(
            f"K-NPR: {net.underlying} = |net exposure| x weight",
            ifr.k_npr_underlying(net.net_usd, weight),
        )
    k_npr = ifr.k_npr([net.net_usd for net in exposures], weight)
    lines.add("K-NPR: weight", weight, "ratio")
    lines.add("K-NPR = sum over underlyings", k_npr)

    # K-TCD (as of the day).
    tcd_total = ZERO
    for held in inputs.custodian_exposures(con, day):
        rf = ifr.tcd_risk_factor(held.custodian_type)
        k = ifr.k_tcd(held.exposure_usd, rf)
        tcd_total += k
        lines.add(
            f"K-TCD: {held.custodian} ({held.custodian_type}) EV: house custody (USD)",
            held.exposure_usd,
        )
        lines.add(f"K-TCD: {held.custodian} RF", rf, "ratio")
        lines.add(f"K-TCD: {held.custodian} = 1.2 x EV x RF x 1.5", k)
    k_tcd = rounded(tcd_total)
    lines.add("K-TCD = sum over custodians", k_tcd)

    # K-CON (as of the day, duration from the stored history).
    limit_share = ifr.LARGE_EXPOSURE_LIMIT
    large = inputs.large_exposures(con, day, config)
    charges: list[ConcentrationCharge] = []
    for x in large:
        if x.own_funds is None:
            notes.append(
                f"K-CON: own funds unknown for {x.kind} {x.counterparty}: no K-CON computed"
            )
        if not x.over_limit or x.own_funds is None:
            continue
        if not x.duration_found:
            notes.append(
                f"K-CON: {x.kind} {x.counterparty} is over the limit today but its history was not "
                "found: its excess is counted as 1 day old"
            )
        detail = ifr.k_con_detail(x.exposure_usd, x.own_funds, x.days_over, limit_share)
        charges.append(ConcentrationCharge(x.kind, x.counterparty, detail))
        who = f"K-CON: {x.kind} {x.counterparty}"
        lines.add(f"{who}: exposure EV (USD)", detail.exposure)
        lines.add(f"{who}: limit = {_percent(limit_share)} of own funds", detail.limit)
        lines.add(f"{who}: excess EVE = EV - limit", detail.excess)
        lines.add(f"{who}: consecutive stored days over the limit", detail.days_over, "count")
        lines.add(f"{who}: OFR = 8% x EV", detail.ofr)
        lines.add(f"{who}: OFRE = OFR x EVE / EV", detail.ofre)
        if detail.factor_rule == "short":
            lines.add(
                f"{who}: factor (excess lasted at most 10 days)", ifr.K_CON_SHORT_FACTOR, "ratio"
            )
        for t in detail.tranches:
            upper = "and above" if t.upper_share is None else f"to {_percent(t.upper_share)}"
            tranche = f"{who}: tranche {_percent(t.lower_share)} {upper} of own funds"
            lines.add(f"{tranche}: excess in tranche", t.excess_part)
            lines.add(f"{tranche}: {_percent(t.factor)} x OFRE x part / EVE", t.requirement)
        lines.add(f"{who} = K-CON of the counterparty", detail.k_con)
    k_con = rounded(sum((c.detail.k_con for c in charges), ZERO))
    lines.add("K-CON = sum over counterparties over the limit", k_con)

    components = {
        "K-CMH": factor_values.get("K-CMH", ZERO),
        "K-ASA": factor_values.get("K-ASA", ZERO),
        "K-COH": factor_values.get("K-COH", ZERO),
        "K-DTF": factor_values.get("K-DTF", ZERO),
        "K-NPR": k_npr,
        "K-TCD": k_tcd,
        "K-CON": k_con,
    }
    kfr = ifr.kfr(components.values())
    lines.add("KFR = K-CMH + K-ASA + K-COH + K-DTF + K-NPR + K-TCD + K-CON", kfr)
    requirement = ifr.own_funds_requirement(pmr, for_, kfr)
    lines.add("D = own funds requirement = max(PMR, FOR, KFR) (IFR Art. 11)", requirement)
    binding = max((("PMR", pmr), ("FOR", for_), ("KFR", kfr)), key=lambda kv: kv[1])[0]
    components = {"PMR": pmr, "FOR": for_, **components, "KFR": kfr, "D": requirement}

    capital_ratio = ratio(own_funds, requirement)
    if capital_ratio is not None:
        lines.add("Own funds ratio = own funds / D", capital_ratio, "ratio")
    early_warning = cap.early_warning
    early_amount = rounded(early_warning * requirement)
    lines.add("Early-warning level (share of D)", early_warning, "ratio")
    lines.add("Early-warning level (amount)", early_amount)

    minima = ifr.composition_minima(requirement)
    composition = (
        CompositionTest("cet1", "CET1", rounded(cet1), ifr.CET1_SHARE, minima["cet1"]),
        CompositionTest(
            "cet1_at1", "CET1 + AT1", rounded(cet1 + at1), ifr.TIER1_SHARE, minima["cet1_at1"]
        ),
        # The third layer of Art. 9(1), CET1 + AT1 + T2 >= 100% of D, is CAP-01 itself; CAP-02
        # (DESIGN.md section 5) tests only the two composition layers, so a shortfall is not
        # reported twice.
    )
    for layer in composition:
        lines.add(f"Composition: {layer.label}", layer.amount)
        lines.add(
            f"Composition: {layer.label} minimum = {_percent(layer.share)} of D (IFR Art. 9(1))",
            layer.minimum,
        )

    liquidity = LiquidityTest(
        liquid_assets=liquid_assets,
        fixed_overheads_part=ifr.liquidity_fixed_overheads_part(for_),
        client_guarantees=guarantees,
        guarantees_part=ifr.liquidity_guarantees_part(guarantees),
        requirement=ifr.liquidity_requirement(for_, guarantees),
    )
    lines.add("Liquidity: liquid assets", liquidity.liquid_assets)
    lines.add("Liquidity: 1/3 x FOR", liquidity.fixed_overheads_part)
    lines.add("Liquidity: client guarantees", liquidity.client_guarantees)
    lines.add("Liquidity: 1.6% x client guarantees", liquidity.guarantees_part)
    lines.add(
        "Liquidity requirement = 1/3 x FOR + 1.6% x client guarantees (IFR Art. 43)",
        liquidity.requirement,
    )

    stable = ", ".join(_stable_and_fiat(config))
    notes.append(
        f"K-CMH counts the client requirement in stable and fiat assets ({stable}) as client money "
        "held in segregated accounts (0.4%); K-ASA counts every other asset (0.04%)"
    )
    notes.append(
        "K-CON applies IFR Art. 39 to the CON-06 large exposures (house custody at non-self "
        "custodians, client-group deficits); the duration of an excess is counted over stored days"
    )
    return CapitalStatement(
        as_of=day,
        regime="ifr",
        currency=config.firm.reporting_currency,
        own_funds=own_funds,
        requirement=requirement,
        ratio=capital_ratio,
        early_warning_level=early_warning,
        early_warning_amount=early_amount,
        lines=lines.frame(),
        notes=notes,
        items=dict(items),
        components=components,
        binding=binding,
        windows=tuple(averages),
        large_exposures=tuple(large),
        concentration_charges=tuple(charges),
        composition=composition,
        liquidity=liquidity,
    )


# -------------------------------------------------------------------------------------------- CFTC


def _cftc_statement(
    con: Any, day: dt.date, config: Any, items: dict[str, Decimal]
) -> CapitalStatement:
    cap = config.capital
    notes: list[str] = []
    lines = _Lines()
    own_funds = _item(items, "adjusted_net_capital", notes, optional=True)
    unknown: dict[str, str] = {}
    if "adjusted_net_capital" not in items:
        # an optional item of the capital file (DESIGN.md section 3), and the only own funds of
        # this regime: unknown, not 0 (CAP-01 not evaluated, summary.json null)
        unknown["CAP-01"] = (
            "capital item adjusted_net_capital absent from the capital file: the own funds of "
            "the cftc regime are unknown"
        )
        notes.append(unknown["CAP-01"] + "; CAP-01 not evaluated")
    margin = inputs.cftc_margin(con, day)
    if margin.unmargined_positions:
        notes.append(
            f"{margin.unmargined_positions} of {margin.positions} positions have no maintenance "
            "margin in USD (no tier or no settle-asset price) and are not counted"
        )
    risk_based = cftc.risk_based_amount(margin.maintenance_margin_usd, cap.cftc_risk_margin_rate)
    requirement = cftc.requirement(
        cap.cftc_minimum, margin.maintenance_margin_usd, cap.cftc_risk_margin_rate
    )
    early_amount = cftc.early_warning_amount(cap.cftc_minimum, requirement, cap.early_warning)
    capital_ratio = None if unknown else ratio(own_funds, requirement)
    early_level = ratio(early_amount, requirement) or cap.early_warning

    if not unknown:
        lines.add("Adjusted net capital (own funds, 17 CFR 1.17(c)(5))", own_funds)
    lines.add("Positions counted", margin.positions - margin.unmargined_positions, "count")
    lines.add("Total maintenance margin of all positions (USD)", margin.maintenance_margin_usd)
    lines.add("Risk margin rate", cap.cftc_risk_margin_rate, "ratio")
    lines.add("Risk-based amount = rate x maintenance margin", risk_based)
    lines.add("Minimum dollar amount", cap.cftc_minimum)
    lines.add("Requirement = max(minimum, risk-based amount) (17 CFR 1.17(a)(1)(i))", requirement)
    if capital_ratio is not None:
        lines.add("Own funds ratio = adjusted net capital / requirement", capital_ratio, "ratio")
    lines.add(
        "Early warning: 150% x minimum dollar amount",
        rounded(cftc.MINIMUM_WARNING_SHARE * cap.cftc_minimum),
    )
    lines.add(
        f"Early warning: {_percent(cap.early_warning)} x requirement",
        rounded(cap.early_warning * requirement),
    )
    lines.add("Early-warning level (amount) = max of the two (17 CFR 1.12(b))", early_amount)
    lines.add("Early-warning level (share of the requirement)", early_level, "ratio")
    notes.append(
        "CFTC early warning follows 17 CFR 1.12(b): the greater of 150% of the minimum dollar "
        "amount and the configured early-warning share (default 110%) of the requirement"
    )
    why = "not applicable under the cftc regime (IFR Art. 9 composition and Art. 43 liquidity are EU rules)"
    return CapitalStatement(
        as_of=day,
        regime="cftc",
        currency=config.firm.reporting_currency,
        own_funds=rounded(own_funds),
        requirement=requirement,
        ratio=capital_ratio,
        early_warning_level=early_level,
        early_warning_amount=early_amount,
        lines=lines.frame(),
        notes=notes,
        items=dict(items),
        components={
            "maintenance_margin": margin.maintenance_margin_usd,
            "risk_based": risk_based,
            "minimum": cap.cftc_minimum,
            "requirement": requirement,
        },
        binding="minimum" if cap.cftc_minimum >= risk_based else "risk_based",
        not_applicable={"CAP-02": why, "CAP-03": why, **unknown},
    )


# -------------------------------------------------------------------------------------------- MiCA


def _mica_statement(day: dt.date, config: Any, items: dict[str, Decimal]) -> CapitalStatement:
    cap = config.capital
    notes: list[str] = []
    lines = _Lines()
    cet1 = _item(items, "cet1", notes)
    overheads = _item(items, "fixed_overheads_annual", notes)
    class_minimum = cap.effective_permanent_minimum
    for_ = mica.fixed_overheads_requirement(overheads)
    requirement = mica.requirement(class_minimum, for_)
    capital_ratio = ratio(cet1, requirement)
    early_amount = rounded(cap.early_warning * requirement)

    lines.add("Own funds = CET1 (MiCA Art. 67(4))", cet1)
    _note_euro_default(
        notes,
        cap,
        config.firm.reporting_currency,
        "The class minimum",
        "MiCA Annex IV, class 3; classes 1 and 2: EUR 50,000 and 125,000",
    )
    lines.add(
        "Permanent minimum capital of the class (MiCA Art. 67(1)(a), Annex IV)", class_minimum
    )
    lines.add("Fixed overheads of the preceding year (annual)", overheads)
    lines.add("FOR = fixed overheads / 4 (MiCA Art. 67(1)(b))", for_)
    lines.add("Requirement = max(class minimum, FOR)", requirement)
    if capital_ratio is not None:
        lines.add("Own funds ratio = CET1 / requirement", capital_ratio, "ratio")
    lines.add("Early-warning level (share of the requirement)", cap.early_warning, "ratio")
    lines.add("Early-warning level (amount)", early_amount)
    if items.get("at1") or items.get("tier2"):
        notes.append("AT1 and Tier 2 are not own funds under MiCA Art. 67(4): only CET1 counts")
    return CapitalStatement(
        as_of=day,
        regime="mica",
        currency=config.firm.reporting_currency,
        own_funds=rounded(cet1),
        requirement=requirement,
        ratio=capital_ratio,
        early_warning_level=cap.early_warning,
        early_warning_amount=early_amount,
        lines=lines.frame(),
        notes=notes,
        items=dict(items),
        components={"class_minimum": class_minimum, "FOR": for_, "requirement": requirement},
        binding="class_minimum" if class_minimum >= for_ else "FOR",
        not_applicable={
            "CAP-02": "not applicable under the mica regime: own funds are CET1 only (Art. 67(4))",
            "CAP-03": "not applicable under the mica regime: no liquidity requirement of IFR Art. 43",
        },
    )
