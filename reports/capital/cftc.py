"""CFTC net capital (17 CFR 1.17, early warning 1.12): pure calculations, Decimal in and out.

    requirement   = max(minimum dollar amount, risk margin rate x total maintenance margin)
                    (1.17(a)(1)(i): $1,000,000 and 8% of the risk maintenance margin by default)
    early warning = max(150% x minimum dollar amount, early-warning share x requirement)
                    (1.12(b): 110% of the risk-based amount, 150% of the minimum dollar amount)
    own funds     = the adjusted_net_capital item of the capital file.

Worked example (shared/reference/README.md): margin 40M + 10M, requirement max(1M, 8% x 50M) =
4.0M; early warning max(1.5M, 110% x 4.0M) = 4.4M.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from reports.capital.exact import exact

MINIMUM_WARNING_SHARE = Decimal("1.5")  # 1.12(b): 150% of the minimum dollar amount


def risk_based_amount(maintenance_margin: Decimal, risk_margin_rate: Decimal) -> Decimal:
    """The risk-based part: rate x the total (customer + noncustomer) maintenance margin."""
    with localcontext() as ctx:
        ctx.prec = 60
        return exact(risk_margin_rate * maintenance_margin)


def requirement(
    minimum: Decimal, maintenance_margin: Decimal, risk_margin_rate: Decimal
) -> Decimal:
    """Adjusted net capital requirement: max(minimum, rate x maintenance margin)."""
    return exact(max(minimum, risk_based_amount(maintenance_margin, risk_margin_rate)))


def early_warning_amount(
    minimum: Decimal, required: Decimal, early_warning_share: Decimal
) -> Decimal:
    """Early-warning level: max(150% x minimum dollar amount, early_warning_share x requirement)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return exact(max(MINIMUM_WARNING_SHARE * minimum, early_warning_share * required))
