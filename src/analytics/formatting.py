"""How numbers are written for people: money, percentages, counts and changes (dashboards and reports alike).

One formatter for every surface, so the number a KPI card shows, the number in the PDF and the number a test
computes from the library are the same string.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from analytics.store.money import CURRENCY_EXPONENTS, from_minor

__all__ = ["change_ratio", "format_change", "format_money", "format_value"]

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "brl": "R$", "cad": "CA$", "aud": "A$"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_money(amount: Decimal | float | int, currency: str) -> str:
    """``$1,234.50`` / ``€12.00`` / ``1,234.50 CHF`` (major units in, exponent-aware for JPY etc.)."""
    exponent = CURRENCY_EXPONENTS.get(currency.lower(), 2)
    value = Decimal(str(amount)).quantize(Decimal(1).scaleb(-exponent))
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.{exponent}f}"
    symbol = _SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"


def format_value(value: Any, unit: str, currency: str = "usd") -> str:
    """Write a metric value for people according to its catalog unit.

    Units: ``money_minor`` (integer minor units), ``money`` (major units), ``percent`` (a fraction, 0.031 →
    ``3.1 %``), ``percent_points`` (already ×100), ``count``, ``ratio`` (``1.75×``), ``days``, ``score``;
    anything else is written with two decimals. Missing values (``None``/NaN) are ``–``.
    """
    if _missing(value):
        return "–"
    if unit == "money_minor":
        return format_money(from_minor(round(float(value)), currency.lower()), currency)
    if unit == "money":
        return format_money(value, currency)
    if unit == "percent":
        return f"{float(value) * 100:.1f} %"
    if unit == "percent_points":
        return f"{float(value):.1f} %"
    if unit in ("count", "members", "customers"):
        return f"{round(float(value)):,}"
    if unit == "ratio":
        return f"{float(value):.2f}×"
    if unit == "days":
        return f"{float(value):.1f} days"
    if unit == "score":
        return f"{float(value):.0f}"
    return f"{float(value):,.2f}"


def change_ratio(value: Any, previous: Any) -> float | None:
    """Relative change ``(value − previous) ÷ |previous|``; ``None`` when either is missing or previous is 0."""
    if _missing(value) or _missing(previous) or float(previous) == 0:
        return None
    return (float(value) - float(previous)) / abs(float(previous))


def format_change(value: Any, previous: Any, unit: str) -> str:
    """The change versus the previous period: ``+12.3 %`` for amounts and counts, ``+1.2 pts`` for rates.

    A previous value of zero gives ``new``; a missing one gives ``–`` (growth is undefined, never infinite).
    """
    if _missing(value) or _missing(previous):
        return "–"
    if unit in ("percent", "percent_points"):
        scale = 100.0 if unit == "percent" else 1.0
        points = (float(value) - float(previous)) * scale
        return f"{points:+.1f} pts"
    ratio = change_ratio(value, previous)
    if ratio is None:
        return "new" if float(value) != 0 else "±0 %"
    return f"{ratio * 100:+.1f} %"
