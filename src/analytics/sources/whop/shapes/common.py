"""Scalars of the Whop v1 wire format and the :class:`Shape` record that pairs a store table with its API model.

Both directions live here so that the fake server (store row → JSON) and the sync/webhooks (JSON → store row)
cannot drift: ISO 8601 ``Z`` timestamps (unix seconds accepted on the way in, as older models and v5 webhooks
send them), :class:`whop_sdk.types.money.Money` objects with exact decimal *string* amounts, and the plain floats
that variants, promo codes and legacy refunds still carry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from analytics.errors import DataValidationError
from analytics.store.enums import ENUMS
from analytics.store.money import CURRENCY_EXPONENTS, from_minor, is_currency, to_minor

__all__ = [
    "PLACEHOLDER_AVATAR",
    "ParseContext",
    "Shape",
    "account_of",
    "check_currency",
    "enum_value",
    "float_money",
    "float_to_minor",
    "iso",
    "money",
    "money_to_minor",
    "nested_id",
    "obj",
    "opt_int",
    "parse_time",
    "required",
    "user_summary",
]

Row = dict[str, Any]
Item = dict[str, Any]


@dataclass(frozen=True)
class ParseContext:
    """What a parse needs beyond the item: the account the listing was scoped to and its parent ids."""

    account_id: str
    parent: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Shape:
    """One Whop resource: its store table, its SDK model and both directions of the mapping.

    Attributes
    ----------
    resource:
        API path under ``/api/v1`` (``memberships``).
    table:
        The store table rows land in.
    model:
        The whop-sdk 2.6.0 pydantic model a list item must validate against (``None``: not validated).
    render:
        Store row (plus the joined context columns the fake server adds, named ``_…``) → API JSON.
    parse:
        API JSON → store row (raises :class:`~analytics.errors.DataValidationError` naming the field).
    visible:
        Store columns that survive the round trip (what "equal record for record" compares).
    """

    resource: str
    table: sa.Table
    model: type[Any] | None
    render: Callable[[Mapping[str, Any]], Item]
    parse: Callable[[Mapping[str, Any], ParseContext], Row]
    visible: tuple[str, ...]


# --- time -------------------------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix (milliseconds, or microseconds when the instant needs them)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond % 1000 == 0:
        return f"{base}.{value.microsecond // 1000:03d}Z"
    return f"{base}.{value.microsecond:06d}Z"


def parse_time(value: Any, name: str) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string (``Z`` or offset) or unix seconds; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise DataValidationError(f"timestamp {value!r} is not a time; expected ISO 8601", column=name)
    if isinstance(value, int | float):
        return _from_unix(value, value, name)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return _from_unix(int(text), value, name)
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise DataValidationError(f"timestamp {value!r} is not ISO 8601", column=name) from exc
        if parsed.tzinfo is None:
            raise DataValidationError(f"timestamp {value!r} has no time zone; Whop sends UTC with 'Z'", column=name)
        return parsed.astimezone(UTC)
    raise DataValidationError(f"timestamp {value!r} is not a string or a number", column=name)


def _from_unix(seconds: int | float, value: Any, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:  # NaN, infinity, or beyond the years 1-9999
        raise DataValidationError(
            f"timestamp {value!r} is not a time between the years 1 and 9999; expected unix seconds or ISO 8601",
            column=name,
        ) from exc


# --- money ------------------------------------------------------------------------------------------------


def money(minor: int | None, currency: str | None) -> Item | None:
    """A Whop ``Money`` object: ``{"amount": "10.00", "currency": "usd", "decimals": 2, "display_decimals": 2}``."""
    if minor is None or currency is None:
        return None
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return {
        "amount": str(from_minor(int(minor), currency)),
        "currency": currency,
        "decimals": exponent,
        "display_decimals": exponent,
    }


def money_to_minor(value: Any, name: str) -> tuple[int, str] | None:
    """``(minor units, currency)`` of a ``Money`` object; refuses float amounts (money is exact on the wire)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or "amount" not in value or "currency" not in value:
        raise DataValidationError(f"{value!r} is not a Money object with amount and currency", column=name)
    currency = str(value["currency"]).lower()
    amount = value["amount"]
    if isinstance(amount, float):
        raise DataValidationError(f"amount {amount!r} is a float; Money amounts are decimal strings", column=name)
    try:
        return to_minor(amount, currency), currency
    except DataValidationError as exc:
        raise DataValidationError(str(exc), column=name) from exc


def float_money(minor: int | None, currency: str) -> float | None:
    """The float major-unit amount variants, promo codes and legacy refunds carry."""
    if minor is None:
        return None
    return float(from_minor(int(minor), currency))


def float_to_minor(value: Any, currency: str, name: str) -> int | None:
    """Minor units of a float major-unit amount, rounded to the currency's exponent (floats are inexact)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataValidationError(f"amount {value!r} is not a number", column=name)
    if currency not in CURRENCY_EXPONENTS:
        raise DataValidationError(f"unknown currency {currency!r}; expected a lower-case ISO 4217 code", column=name)
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation as exc:
        raise DataValidationError(f"amount {value!r} is not a number", column=name) from exc
    if not amount.is_finite():
        raise DataValidationError(f"amount {value!r} is not finite", column=name)
    return int(amount.scaleb(CURRENCY_EXPONENTS[currency]).to_integral_value())


# --- fields -----------------------------------------------------------------------------------------------


def required(item: Mapping[str, Any], name: str) -> Any:
    """``item[name]``, or a validation error naming the missing field."""
    value = item.get(name)
    if value is None or value == "":
        raise DataValidationError(f"required field {name!r} is missing or null", column=name)
    return value


def enum_value(value: Any, table: str, column: str, *, nullable: bool = True) -> str | None:
    """Check ``value`` against the allowed values of ``table.column`` (:data:`analytics.store.enums.ENUMS`)."""
    if value is None:
        if nullable:
            return None
        raise DataValidationError(f"{column} is required", column=column)
    allowed = ENUMS[(table, column)]
    if value not in allowed:
        raise DataValidationError(
            f"{column} {value!r} is not one of the Whop values: {', '.join(sorted(allowed))}", column=column
        )
    return str(value)


def opt_int(value: Any, name: str) -> int | None:
    """An optional whole number (Whop sends some counts and day periods as floats)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataValidationError(f"{value!r} is not a number", column=name)
    if isinstance(value, float) and not value.is_integer():
        raise DataValidationError(f"{value!r} is not a whole number", column=name)
    return int(value)


def obj(item: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``item[name]`` when it is a JSON object, else an empty mapping."""
    value = item.get(name)
    return value if isinstance(value, Mapping) else {}


def nested_id(item: Mapping[str, Any], name: str) -> str | None:
    """``item[name]["id"]`` for nested summaries (``product``, ``user``, ``payment``), or ``None``."""
    value = item.get(name)
    if isinstance(value, Mapping):
        inner = value.get("id")
        return str(inner) if inner else None
    if isinstance(value, str) and value:
        return value
    return None


# --- shared by the commerce shapes ---------------------------------------------------------------------------

PLACEHOLDER_AVATAR = "https://assets.whop.com/images/default-avatar.png"


def user_summary(user_id: Any, name: Any, username: Any) -> dict[str, Any] | None:
    """The ``{id, name, username, profile_picture}`` summary Whop nests in payments, members and content."""
    if not user_id:
        return None
    return {
        "id": user_id,
        "name": name,
        "username": username or str(user_id),
        "profile_picture": {"url": PLACEHOLDER_AVATAR},
    }


def account_of(item: Mapping[str, Any], ctx: ParseContext, found: Any) -> str:
    if found and found != ctx.account_id:
        raise DataValidationError(
            f"item belongs to account {found!r} but was listed for {ctx.account_id!r}", column="account_id"
        )
    return ctx.account_id


def check_currency(code: Any, name: str) -> str:
    text = str(code or "").lower()
    if not is_currency(text):
        raise DataValidationError(f"currency {code!r} is not a known lower-case ISO 4217 code", column=name)
    return text
