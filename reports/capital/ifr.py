"""IFR (Regulation (EU) 2019/2033) own-funds requirement: pure calculations, Decimal in and out.

Nothing here touches the database: reports.capital.inputs gathers the figures and
reports.capital.statement assembles them, so every formula is unit-testable with the worked
figures of shared/reference/README.md.

    D   = max(PMR, FOR, KFR)                                       Art. 11(1)
    FOR = fixed overheads of the preceding year / 4                 Art. 13(1)
    KFR = K-CMH + K-ASA + K-COH + K-DTF + K-NPR + K-TCD + K-CON     Art. 15 (K-AUM: no asset management)

Every result is computed at 60 significant digits and rounded half-even to 18 decimals, the
scale of DECIMAL(38,18) in the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from reports.capital.exact import ZERO, rounded
from reports.capital.exact import exact as _exact

# K-factor coefficients (IFR Art. 15(2), table 1).
K_CMH_SEGREGATED = Decimal("0.004")  # client money held in segregated accounts
K_CMH_NON_SEGREGATED = Decimal("0.005")
K_ASA_RATE = Decimal("0.0004")
K_COH_CASH = Decimal("0.001")
K_COH_DERIVATIVES = Decimal("0.0001")
K_DTF_CASH = Decimal("0.001")
K_DTF_DERIVATIVES = Decimal("0.0001")

# K-TCD (Art. 26): K-TCD = alpha x EV x RF x CVA.
K_TCD_ALPHA = Decimal("1.2")
K_TCD_CVA = Decimal("1.5")
RF_FINANCIAL = Decimal("0.016")  # credit institutions and investment firms
RF_OTHER = Decimal("0.08")
FINANCIAL_CUSTODIAN_TYPES = ("credit_institution", "investment_firm")

# K-CON (Art. 39).
# The large exposure limit, 25% of own funds (IFR Art. 37(1); CRR Art. 395): fixed by the
# regulation, not CON-06's alert thresholds, which are configuration (review of 2026-12-05: a
# looser CON-06 breach threshold lowered K-CON and the requirement D).
LARGE_EXPOSURE_LIMIT = Decimal("0.25")
K_CON_OFR_RATE = Decimal("0.08")  # OFR = 8% of the exposure value
K_CON_SHORT_FACTOR = Decimal("2")  # 200% while the excess has lasted at most 10 days
K_CON_SHORT_DAYS = 10
# (lower, upper) share of own funds that the excess reaches, and the factor of that tranche.
K_CON_TRANCHES: tuple[tuple[Decimal, Decimal | None, Decimal], ...] = (
    (Decimal("0"), Decimal("0.40"), Decimal("2")),
    (Decimal("0.40"), Decimal("0.60"), Decimal("3")),
    (Decimal("0.60"), Decimal("0.80"), Decimal("4")),
    (Decimal("0.80"), Decimal("1.00"), Decimal("5")),
    (Decimal("1.00"), Decimal("2.50"), Decimal("6")),
    (Decimal("2.50"), None, Decimal("9")),
)

# Own-funds composition (Art. 9(1)).
CET1_SHARE = Decimal("0.56")
TIER1_SHARE = Decimal("0.75")
TOTAL_SHARE = Decimal("1")

# Liquidity (Art. 43(1)): one third of the fixed overheads requirement plus 1.6% of the
# client guarantees (Art. 45(1)).
LIQUIDITY_GUARANTEE_RATE = Decimal("0.016")


def fixed_overheads_requirement(fixed_overheads_annual: Decimal) -> Decimal:
    """FOR = a quarter of the fixed overheads of the preceding year (Art. 13(1))."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(fixed_overheads_annual / 4)


def k_cmh(segregated: Decimal, non_segregated: Decimal = ZERO) -> Decimal:
    """K-CMH (Art. 18): 0.4% of client money held in segregated accounts, 0.5% of the rest."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(K_CMH_SEGREGATED * segregated + K_CMH_NON_SEGREGATED * non_segregated)


def k_asa(assets_safeguarded: Decimal) -> Decimal:
    """K-ASA (Art. 19): 0.04% of assets safeguarded and administered."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(K_ASA_RATE * assets_safeguarded)


def k_coh(derivatives: Decimal, cash: Decimal = ZERO) -> Decimal:
    """K-COH (Art. 20): 0.01% of client orders handled in derivatives, 0.1% in cash trades."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(K_COH_DERIVATIVES * derivatives + K_COH_CASH * cash)


def k_dtf(derivatives: Decimal, cash: Decimal = ZERO) -> Decimal:
    """K-DTF (Art. 33): 0.01% of the daily trading flow in derivatives, 0.1% in cash trades."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(K_DTF_DERIVATIVES * derivatives + K_DTF_CASH * cash)


def window_average(total: Decimal, days: int) -> Decimal:
    """The rolling average of an IFR window: the sum of the daily values over the days used."""
    if days <= 0:
        return ZERO
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(total / days)


def k_npr_underlying(net_exposure: Decimal, weight: Decimal) -> Decimal:
    """K-NPR of one underlying: |net exposure| x weight (100% by default, Basel SCO60 Group 2b)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(abs(net_exposure) * weight)


def k_npr(net_exposures: Iterable[Decimal], weight: Decimal) -> Decimal:
    """K-NPR: the sum over underlyings of |net exposure| x weight (no netting across underlyings)."""
    return rounded(sum((k_npr_underlying(x, weight) for x in net_exposures), ZERO))


def tcd_risk_factor(custodian_type: str) -> Decimal:
    """RF of Art. 26: 1.6% for credit institutions and investment firms, 8% for other counterparties."""
    return RF_FINANCIAL if custodian_type in FINANCIAL_CUSTODIAN_TYPES else RF_OTHER


def k_tcd(exposure_value: Decimal, risk_factor: Decimal) -> Decimal:
    """K-TCD of one counterparty (Art. 26): 1.2 x EV x RF x 1.5 (CVA multiplier 1.5). An
    exposure value below zero (the venue owes the custodian: an overdraft) is no exposure, 0; it
    must not lower the requirement."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(K_TCD_ALPHA * max(exposure_value, ZERO) * risk_factor * K_TCD_CVA)


@dataclass(frozen=True)
class KConTranche:
    """One tranche of Art. 39(2)'s table: the part of the excess between two shares of own funds."""

    lower_share: Decimal
    upper_share: Decimal | None  # None = unbounded (above 250%)
    factor: Decimal
    excess_part: Decimal  # the part of the excess (EVE) falling in this tranche
    requirement: Decimal  # factor x OFRE x excess_part / EVE


@dataclass(frozen=True)
class KCon:
    """K-CON of one counterparty with every intermediate figure (Art. 39)."""

    exposure: Decimal  # EV
    own_funds: Decimal
    limit: Decimal  # 25% of own funds
    excess: Decimal  # EVE = EV - limit (0 when within the limit)
    ofr: Decimal  # own funds requirement of the exposure: 8% x EV
    ofre: Decimal  # own funds requirement of the excess: OFR x EVE / EV
    days_over: int
    factor_rule: str  # "none" (within the limit), "short" (<= 10 days: 200%), "tranches"
    tranches: tuple[KConTranche, ...]
    k_con: Decimal


def k_con_detail(
    exposure: Decimal,
    own_funds: Decimal,
    days_over: int,
    limit_share: Decimal = LARGE_EXPOSURE_LIMIT,
) -> KCon:
    """K-CON of one counterparty (IFR Art. 39).

    limit = limit_share x own funds; EVE = EV - limit; OFR = 8% x EV; OFRE = OFR x EVE / EV.
    While the excess has lasted at most 10 days: K-CON = 200% x OFRE. After that, the excess is cut
    into tranches by the share of own funds it reaches (0-40% 200%, 40-60% 300%, 60-80% 400%,
    80-100% 500%, 100-250% 600%, above 900%) and each tranche takes its factor on its pro-rated
    part of OFRE. With own funds <= 0 the shares are undefined: the whole excess takes 900%,
    and the whole exposure is the excess (the limit is taken as 0, never negative: a negative
    limit made the excess larger than the exposure and OFRE larger than OFR, found in review).
    """
    with localcontext() as ctx:
        ctx.prec = 60
        limit = max(limit_share * own_funds, ZERO)
        excess = exposure - limit
        if exposure <= 0 or excess <= 0:
            return KCon(
                rounded(exposure),
                rounded(own_funds),
                rounded(limit),
                ZERO,
                rounded(K_CON_OFR_RATE * max(exposure, ZERO)),
                ZERO,
                days_over,
                "none",
                (),
                ZERO,
            )
        ofr = K_CON_OFR_RATE * exposure
        ofre = ofr * excess / exposure
        if days_over <= K_CON_SHORT_DAYS:
            k = K_CON_SHORT_FACTOR * ofre
            return KCon(
                rounded(exposure),
                rounded(own_funds),
                rounded(limit),
                rounded(excess),
                rounded(ofr),
                rounded(ofre),
                days_over,
                "short",
                (),
                rounded(k),
            )
        tranches: list[KConTranche] = []
        if own_funds <= 0:
            top = K_CON_TRANCHES[-1][2]
            tranches.append(
                KConTranche(K_CON_TRANCHES[-1][0], None, top, rounded(excess), rounded(top * ofre))
            )
        else:
            for lower, upper, factor in K_CON_TRANCHES:
                low_amount = lower * own_funds
                high_amount = excess if upper is None else min(excess, upper * own_funds)
                part = high_amount - low_amount
                if part <= 0:
                    break
                requirement = factor * ofre * part / excess
                tranches.append(
                    KConTranche(lower, upper, factor, rounded(part), rounded(requirement))
                )
        total = sum((t.requirement for t in tranches), ZERO)
        return KCon(
            rounded(exposure),
            rounded(own_funds),
            rounded(limit),
            rounded(excess),
            rounded(ofr),
            rounded(ofre),
            days_over,
            "tranches",
            tuple(tranches),
            rounded(total),
        )


def k_con(
    exposure: Decimal,
    own_funds: Decimal,
    days_over: int,
    limit_share: Decimal = LARGE_EXPOSURE_LIMIT,
) -> Decimal:
    """K-CON of one counterparty (see k_con_detail)."""
    return k_con_detail(exposure, own_funds, days_over, limit_share).k_con


def kfr(k_factors: Iterable[Decimal]) -> Decimal:
    """KFR: the sum of the K-factor requirements (Art. 15(1))."""
    return rounded(sum(k_factors, ZERO))


def own_funds_requirement(
    permanent_minimum: Decimal, fixed_overheads: Decimal, k_factor_requirement: Decimal
) -> Decimal:
    """D = max(PMR, FOR, KFR) (Art. 11(1))."""
    return rounded(max(permanent_minimum, fixed_overheads, k_factor_requirement))


def composition_minima(requirement: Decimal) -> dict[str, Decimal]:
    """Art. 9(1) minima: CET1 >= 56% of D, CET1 + AT1 >= 75%, CET1 + AT1 + T2 >= 100%."""
    with localcontext() as ctx:
        ctx.prec = 60
        return {
            "cet1": _exact(CET1_SHARE * requirement),
            "cet1_at1": _exact(TIER1_SHARE * requirement),
            "total": _exact(TOTAL_SHARE * requirement),
        }


def liquidity_fixed_overheads_part(fixed_overheads: Decimal) -> Decimal:
    """One third of the fixed overheads requirement (Art. 43(1))."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(fixed_overheads / 3)


def liquidity_guarantees_part(client_guarantees: Decimal) -> Decimal:
    """1.6% of the total client guarantees (Art. 43(1), 45(1))."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(LIQUIDITY_GUARANTEE_RATE * client_guarantees)


def liquidity_requirement(fixed_overheads: Decimal, client_guarantees: Decimal) -> Decimal:
    """Art. 43(1): liquid assets >= one third of FOR + 1.6% of the client guarantees.

    Computed at full precision (1/3 of 2,000,000 = 666,666.67 only when presented).
    """
    with localcontext() as ctx:
        ctx.prec = 60
        return _exact(fixed_overheads / 3 + LIQUIDITY_GUARANTEE_RATE * client_guarantees)
