"""Payments and refunds: store rows ⇄ Whop v1 JSON (whop-sdk 2.6.0 ``Payment``, ``Refund``, and the
``RefundLegacy`` that refund webhooks carry with a float amount).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whop_sdk.types.payment import Payment
from whop_sdk.types.refund import Refund

from analytics.errors import DataValidationError
from analytics.sources.whop.shapes.common import (
    ParseContext,
    Shape,
    account_of,
    check_currency,
    enum_value,
    float_money,
    float_to_minor,
    iso,
    money,
    money_to_minor,
    nested_id,
    opt_int,
    parse_time,
    required,
    user_summary,
)
from analytics.store import schema

__all__ = ["PAYMENTS", "REFUNDS", "parse_refund_legacy", "render_refund_legacy"]

Row = dict[str, Any]


# --- payments ---------------------------------------------------------------------------------------------

_SUBSTATUS_OF_STATUS = {"paid": "succeeded", "open": "pending", "pending": "pending", "draft": "drafted"}


def render_payment(row: Mapping[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    total = row["total_minor"]
    refunded = row.get("refunded_amount_minor") or 0
    status = row["status"]
    return {
        "id": row["id"],
        "account_id": row["account_id"],
        "amount_after_fees": money(
            row["amount_after_fees_minor"] if row.get("amount_after_fees_minor") is not None else total, currency
        ),
        "auto_refunded": False,
        "billing_address": None,
        "billing_reason": row.get("billing_reason"),
        "created_at": iso(row["created_at"]),
        "currency": currency,
        "customer_email": row.get("_email"),
        "decline_code": row.get("decline_code"),
        "failure_message": row.get("failure_message"),
        "holds": [],
        "last_payment_attempt_at": iso(row.get("last_payment_attempt_at")),
        "line_items": [
            {
                "id": None,
                "label": row.get("_plan_title"),
                "plan_id": row.get("plan_id"),
                "product_id": row.get("product_id"),
                "product_title": row.get("_product_title"),
                "quantity": 1.0,
                "subtotal": money(row.get("subtotal_minor"), currency),
            }
        ],
        "member_id": row.get("member_id"),
        "membership_id": row.get("membership_id"),
        "metadata": {},
        "next_payment_attempt_at": iso(row.get("next_payment_attempt_at")),
        "paid_at": iso(row.get("paid_at")),
        "payment_rule_matches": [],
        "payments_failed": float(row.get("payments_failed") or 0),
        "plan_id": row.get("plan_id"),
        "product_id": row.get("product_id"),
        "promo_code_id": row.get("promo_code_id"),
        "refundable": status == "paid" and refunded < total,
        "refunded_amount": money(refunded, currency),
        "refunded_at": iso(row.get("refunded_at")),
        "retryable": status in ("open", "uncollectible"),
        "risk_signals": None,
        "status": status,
        "substatus": row.get("substatus") or _SUBSTATUS_OF_STATUS.get(status, "failed"),
        "subtotal": money(row.get("subtotal_minor"), currency),
        "tax_amount": money(row.get("tax_minor"), currency),
        "tax_refunded_amount": money(0, currency),
        "three_ds_verified": False,
        "total": money(total, currency),
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
        "usd_total": money(row.get("usd_total_minor"), "usd"),
        "user": user_summary(row.get("user_id"), row.get("_display_name"), row.get("_username")),
        "voidable": status == "open",
    }


def _minor_in(item: Mapping[str, Any], name: str, currency: str) -> int | None:
    value = money_to_minor(item.get(name), name)
    if value is None:
        return None
    if value[1] != currency:
        raise DataValidationError(f"{name} is in {value[1]} but the payment in {currency}", column=name)
    return value[0]


def parse_payment(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    currency = check_currency(required(item, "currency"), "currency")
    total = _minor_in(item, "total", currency)
    if total is None:
        raise DataValidationError("required field 'total' is missing or null", column="total")
    usd = money_to_minor(item.get("usd_total"), "usd_total")
    return {
        "account_id": account_of(item, ctx, item.get("account_id")),
        "id": required(item, "id"),
        "member_id": item.get("member_id"),
        "membership_id": item.get("membership_id"),
        "user_id": nested_id(item, "user"),
        "product_id": item.get("product_id"),
        "plan_id": item.get("plan_id"),
        "promo_code_id": item.get("promo_code_id"),
        "status": enum_value(required(item, "status"), "payments", "status"),
        "substatus": enum_value(item.get("substatus"), "payments", "substatus"),
        "billing_reason": enum_value(item.get("billing_reason"), "payments", "billing_reason"),
        "currency": currency,
        "subtotal_minor": _minor_in(item, "subtotal", currency),
        "total_minor": total,
        "tax_minor": _minor_in(item, "tax_amount", currency),
        "amount_after_fees_minor": _minor_in(item, "amount_after_fees", currency),
        "usd_total_minor": usd[0] if usd else None,
        "refunded_amount_minor": _minor_in(item, "refunded_amount", currency) or 0,
        "refunded_at": parse_time(item.get("refunded_at"), "refunded_at"),
        "paid_at": parse_time(item.get("paid_at"), "paid_at"),
        "payments_failed": opt_int(item.get("payments_failed"), "payments_failed") or 0,
        "failure_message": item.get("failure_message"),
        "decline_code": item.get("decline_code"),
        "last_payment_attempt_at": parse_time(item.get("last_payment_attempt_at"), "last_payment_attempt_at"),
        "next_payment_attempt_at": parse_time(item.get("next_payment_attempt_at"), "next_payment_attempt_at"),
        "created_at": parse_time(required(item, "created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


PAYMENTS = Shape(
    resource="payments",
    table=schema.payments,
    model=Payment,
    render=render_payment,
    parse=parse_payment,
    visible=(
        "member_id",
        "membership_id",
        "user_id",
        "product_id",
        "plan_id",
        "promo_code_id",
        "status",
        "substatus",
        "billing_reason",
        "currency",
        "subtotal_minor",
        "total_minor",
        "tax_minor",
        "amount_after_fees_minor",
        "usd_total_minor",
        "refunded_amount_minor",
        "refunded_at",
        "paid_at",
        "payments_failed",
        "failure_message",
        "decline_code",
        "last_payment_attempt_at",
        "next_payment_attempt_at",
        "created_at",
        "updated_at",
    ),
)


# --- refunds ----------------------------------------------------------------------------------------------


def render_refund(row: Mapping[str, Any]) -> dict[str, Any]:
    amount = money(row["amount_minor"], row["currency"])
    return {
        "id": row["id"],
        "account_id": row["account_id"],
        "amount": amount,
        "original_amount": amount,
        "created_at": iso(row["created_at"]),
        "provider_created_at": iso(row["created_at"]),
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
        "failure_message": None,
        "failure_reason": None,
        "metadata": {},
        "payment_id": row["payment_id"],
        "provider": row.get("provider") or "stripe",
        "reason": row.get("reason"),
        "reference_status": None,
        "reference_type": None,
        "reference_value": None,
        "status": row["status"],
        "visa_rdr": False,
    }


def parse_refund(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    amount = money_to_minor(item.get("amount"), "amount") or money_to_minor(
        item.get("original_amount"), "original_amount"
    )
    if amount is None:
        raise DataValidationError("refund has neither amount nor original_amount", column="amount")
    return {
        "account_id": account_of(item, ctx, item.get("account_id")),
        "id": required(item, "id"),
        "payment_id": required(item, "payment_id"),
        "currency": amount[1],
        "amount_minor": amount[0],
        "status": enum_value(required(item, "status"), "refunds", "status"),
        "reason": enum_value(item.get("reason"), "refunds", "reason"),
        "provider": item.get("provider"),
        "created_at": parse_time(required(item, "created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


REFUNDS = Shape(
    resource="refunds",
    table=schema.refunds,
    model=Refund,
    render=render_refund,
    parse=parse_refund,
    visible=("payment_id", "currency", "amount_minor", "status", "reason", "provider", "created_at", "updated_at"),
)


# --- refund webhooks (RefundLegacy) -------------------------------------------------------------------------


def render_refund_legacy(row: Mapping[str, Any], payment: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``RefundLegacy`` that ``refund.created``/``refund.updated`` webhooks carry: a *float* amount."""
    currency = row["currency"]
    return {
        "id": row["id"],
        "amount": float_money(row["amount_minor"], currency),
        "currency": currency,
        "created_at": iso(row["created_at"]),
        "metadata": {},
        "payment": {
            "id": row["payment_id"],
            "created_at": iso((payment or {}).get("created_at") or row["created_at"]),
            "currency": currency,
            "membership": None,
            "total": float_money(payment["total_minor"], currency) if payment else None,
        },
        "provider": row.get("provider") or "stripe",
        "provider_created_at": iso(row["created_at"]),
        "reference_status": None,
        "reference_type": None,
        "reference_value": None,
        "status": row["status"],
    }


def parse_refund_legacy(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    """A refund row from ``RefundLegacy``; it has no ``updated_at``, so the delivery's timestamp stands in."""
    currency = check_currency(required(item, "currency"), "currency")
    payment_id = nested_id(item, "payment")
    if not payment_id:
        raise DataValidationError("refund webhook has no payment id", column="payment")
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "payment_id": payment_id,
        "currency": currency,
        "amount_minor": float_to_minor(required(item, "amount"), currency, "amount"),
        "status": enum_value(required(item, "status"), "refunds", "status"),
        "provider": item.get("provider"),
        "created_at": parse_time(required(item, "created_at"), "created_at"),
        "updated_at": ctx.parent.get("delivered_at") or parse_time(required(item, "created_at"), "created_at"),
    }
