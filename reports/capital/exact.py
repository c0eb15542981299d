"""Exact decimal helpers shared by the regimes: 60-digit arithmetic, rounded to 18 decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

SCALE = Decimal("1e-18")  # DECIMAL(38,18)
ZERO = Decimal("0")


def half_even(value: Decimal, places: int) -> Decimal:
    """Round half-even to `places` decimals, whatever the size: Python's default 28 digits
    raise from about 1e26 at 2 places (a VaR is a float statistic without an amount's bounds;
    review of 2026-12-05). More digits never change a rounding that succeeds."""
    with localcontext(prec=400):
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def unsigned_zero(value: Decimal) -> Decimal:
    """`value`, without its sign where it is zero: a figure that rounds to zero prints "0.00",
    never "-0.00" (a VaR of -0.0, every return 0: regime audit of 2026-12-07)."""
    return value.copy_abs() if value.is_zero() else value


def rounded(value: Decimal) -> Decimal:
    """Round half-even to 18 decimals (DECIMAL(38,18)), at a precision that keeps it exact."""
    return half_even(value, 18)


def against(figure: Decimal, threshold: Decimal, places: int) -> str:
    """`figure` to `places` decimals, thousands separated, or with every decimal it has (up to
    18) where those would print its threshold although it is not exactly that: the SQL checks'
    fmt_against (queries/schema/00_macros.sql). A breach must not read "ratio 100.00% is below
    100%" or "short by 0.00 USD" (capital review of 2026-12-05). Compared in magnitude: a
    difference's sign is beside the point. A figure exactly at a threshold that has more
    decimals gets them too, as the threshold is printed (concentration audit of 2026-12-07)."""
    x, t = rounded(figure), rounded(threshold)
    # copy_abs, not abs(): abs() rounds to the context's 28 digits, which would make two
    # figures above about 1e10 that differ only in their last decimals look alike
    if half_even(x.copy_abs(), places) == half_even(t.copy_abs(), places):
        text = f"{x:,f}".rstrip("0")
        if len(text.partition(".")[2]) > places:
            return text
    # `,f`, not `,`: a Decimal's str turns to scientific notation below 1e-6 ("0E-8" for an
    # excess exactly at its target; segregation audit of 2026-12-07)
    return f"{unsigned_zero(half_even(x, places)):,f}"


def exact(expression: object) -> Decimal:
    """Round an expression computed under `localcontext(prec=60)` to 18 decimals."""
    if not isinstance(expression, Decimal):
        msg = f"expected a Decimal, got {type(expression).__name__}"
        raise TypeError(msg)
    return rounded(expression)


def ratio(own_funds: Decimal, requirement: Decimal) -> Decimal | None:
    """own funds / requirement (1.05 = 105%); None when the requirement is 0."""
    if requirement == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        return rounded(own_funds / requirement)
