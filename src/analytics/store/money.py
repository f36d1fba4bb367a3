"""Exact money: decimal major units <-> integer minor units, per ISO 4217 currency exponent."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from analytics.errors import DataValidationError

__all__ = ["CURRENCY_EXPONENTS", "from_minor", "is_currency", "to_minor"]

# ISO 4217 minor-unit exponents for the currencies Whop settles in (lower-case, as Whop sends them).
CURRENCY_EXPONENTS: dict[str, int] = {
    "usd": 2,
    "eur": 2,
    "gbp": 2,
    "cad": 2,
    "aud": 2,
    "nzd": 2,
    "chf": 2,
    "sek": 2,
    "nok": 2,
    "dkk": 2,
    "pln": 2,
    "czk": 2,
    "huf": 2,
    "ron": 2,
    "bgn": 2,
    "try": 2,
    "brl": 2,
    "mxn": 2,
    "ars": 2,
    "clp": 0,
    "cop": 2,
    "pen": 2,
    "inr": 2,
    "idr": 2,
    "php": 2,
    "thb": 2,
    "myr": 2,
    "sgd": 2,
    "hkd": 2,
    "twd": 2,
    "cny": 2,
    "jpy": 0,
    "krw": 0,
    "vnd": 0,
    "ils": 2,
    "aed": 2,
    "sar": 2,
    "zar": 2,
    "ngn": 2,
    "kes": 2,
    "egp": 2,
    "kwd": 3,
    "bhd": 3,
    "omr": 3,
    "jod": 3,
}


def is_currency(code: object) -> bool:
    """True for a known lower-case ISO 4217 code."""
    return isinstance(code, str) and code in CURRENCY_EXPONENTS


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Convert a major-unit amount (``"10.00"`` usd) to integer minor units (``1000``).

    Raises
    ------
    DataValidationError
        Unknown currency, an amount that is not a number, or one with more decimals than the currency has.
    """
    if not is_currency(currency):
        raise DataValidationError(
            f"unknown currency {currency!r}; use a lower-case ISO 4217 code such as 'usd' or 'eur'"
        )
    if isinstance(amount, float):
        raise DataValidationError(f"money amount {amount!r} is a float; pass a decimal string such as '10.00'")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise DataValidationError(f"money amount {amount!r} is not a decimal number") from exc
    if not value.is_finite():
        raise DataValidationError(f"money amount {amount!r} is not a finite number")
    scaled = value.scaleb(CURRENCY_EXPONENTS[currency])
    if scaled != scaled.to_integral_value():
        raise DataValidationError(
            f"money amount {amount!r} has more decimals than {currency} allows ({CURRENCY_EXPONENTS[currency]})"
        )
    return int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))


def from_minor(minor: int, currency: str) -> Decimal:
    """Convert integer minor units back to an exact major-unit :class:`~decimal.Decimal`."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return Decimal(int(minor)).scaleb(-exponent)
