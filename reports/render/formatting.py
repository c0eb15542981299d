"""Numbers as the PDF shows them: half-even rounding (DESIGN.md section 4), thousands separated.

USD amounts 2 decimals, asset amounts and prices 8 decimals, ratios either as plain ratios (8
decimals) or, where a reader expects it, as percentages with 2 decimals. Missing values print
as an en dash.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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


def signed(text: str) -> str:
    return text if text.startswith(("-", MISSING)) or text.strip("0.,%") == "" else "+" + text


def usd_change(current: Any, previous: Any) -> str:
    if current is None or previous is None:
        return ""
    return signed(usd(_dec(current) - _dec(previous)))  # type: ignore[operator]


def percent_point_change(current: Any, previous: Any) -> str:
    if current is None or previous is None:
        return ""
    delta = (_dec(current) - _dec(previous)) * 100  # type: ignore[operator]
    return signed(number(delta, 2)) + " pp"


def integer(value: Any) -> str:
    return MISSING if value is None else f"{int(value):,}"
