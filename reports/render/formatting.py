"""Numbers as the PDF shows them: half-even rounding (DESIGN.md section 4), thousands separated.

USD amounts 2 decimals, asset amounts and prices 8 decimals, ratios either as plain ratios (8
decimals) or, where a reader expects it, as percentages with 2 decimals. Missing values print
as an en dash.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reports.capital.exact import against as exact_against
from reports.render.outputs import UNIT_PLACES, USD_PLACES, quantize

MISSING = "\u2013"


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def number(value: Any, places: int) -> str:
    d = quantize(_dec(value), places)
    return MISSING if d is None else f"{d:,.{places}f}"


def usd(value: Any) -> str:
    return number(value, USD_PLACES)


def units(value: Any) -> str:
    return number(value, UNIT_PLACES)


def ratio(value: Any) -> str:
    """A plain ratio, 8 decimals (1.05 = 105%)."""
    return number(value, UNIT_PLACES)


def percent(value: Any, places: int = 2) -> str:
    d = _dec(value)
    return MISSING if d is None else number(d * 100, places) + "%"


def against(value: Any, threshold: Any, places: int) -> str:
    """A figure shown next to the threshold its status is graded against: `places` decimals,
    or as many as it takes where those would print the threshold itself for a figure that is
    not exactly it (reports.capital.exact.against, the checks' messages' rule). A PDF row read
    "liquid assets 333,333.33, requirement 333,333.33, BREACH" (a requirement of a third of
    the fixed overheads: 333,333.333...; PDF review of 2026-12-06)."""
    d, t = _dec(value), _dec(threshold)
    if d is None:
        return MISSING
    return number(d, places) if t is None else exact_against(d, t, places)


def usd_against(value: Any, threshold: Any) -> str:
    return against(value, threshold, USD_PLACES)


def usd_setting(value: Any) -> str:
    """A configured amount with every decimal it has, at least a cent's 2: the CON-01 floor of
    1,000,000.005 read "1,000,000.01" above an exempt instrument's "1,000,000.00" (audit of
    2026-12-07)."""
    return usd_against(value, value)


def price(value: Any) -> str:
    """A price to 8 decimals (DESIGN.md section 4), or with the digits that tell it from 0: a
    price of 1e-18 (the contract's prices are above 0) read "price 0.00000000 USD"
    (extreme-data audit of 2026-12-07)."""
    return against(value, 0, UNIT_PLACES)


def ratio_against(value: Any, threshold: Any) -> str:
    return against(value, threshold, UNIT_PLACES)


def percent_against(value: Any, threshold: Any) -> str:
    d, t = _dec(value), _dec(threshold)
    if d is None:
        return MISSING
    return against(d * 100, None if t is None else t * 100, 2) + "%"


def signed(text: str) -> str:
    return text if text.startswith(("-", MISSING)) or text.strip("0.,%") == "" else "+" + text


def usd_change(current: Any, previous: Any) -> str:
    """The change between two amounts as shown (each in cents): the column beside them adds up."""
    if current is None or previous is None:
        return ""
    delta = quantize(_dec(current), USD_PLACES) - quantize(_dec(previous), USD_PLACES)  # type: ignore[operator]
    return signed(usd(delta))


def percent_point_change(current: Any, previous: Any) -> str:
    """The change between two ratios as shown (each as a percentage to 2 places), in points."""
    if current is None or previous is None:
        return ""
    shown = [quantize(_dec(v) * 100, 2) for v in (current, previous)]  # type: ignore[operator]
    return signed(number(shown[0] - shown[1], 2)) + " pp"  # type: ignore[operator]


def shock_percent(move: Decimal) -> str:
    """A stress shock (a ratio) as a percentage with the digits it has, up to a ratio's 8
    decimals: -0.125 -> -12.5, -0.004 -> -0.4, 0.3 -> 30."""
    shown = quantize(move * 100, UNIT_PLACES - 2)
    assert shown is not None
    text = format(shown.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def setting_percent(ratio: Any) -> str:
    """A configured ratio (a confidence, a threshold) as a percentage with every digit it has:
    0.9995 -> '99.95%', 0.125 -> '12.5%', 0.25 -> '25%'. A setting is stated, not rounded (review
    of 2026-12-05: VaR 0.9995 was printed as "100.0%", a 12.5% threshold as "12%")."""
    d = _dec(ratio)
    return MISSING if d is None else shock_percent(d) + "%"


def threshold_percent(ratio: Any) -> str:
    """A configured threshold (a share of the configuration, at most 18 decimals) as a
    percentage with all its digits, not a ratio's 8 as setting_percent: a CON-04 breach share
    of 0.119999999930904664 read "breach at 12%" beside a share of 11.9999999930904665%
    (concentration audit of 2026-12-07)."""
    d = _dec(ratio)
    if d is None:
        return MISSING
    text = format((d * 100).normalize(), "f")
    return ("0" if text in ("-0", "0") else text) + "%"


def integer(value: Any) -> str:
    return MISSING if value is None else f"{int(value):,}"
