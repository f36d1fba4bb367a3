"""Memberships, members, payments and refunds: store rows ⇄ Whop v1 JSON (whop-sdk 2.6.0 models).

Render functions take a store row plus the context columns the fake server joins in (names start with ``_``:
``_account_title``, ``_product_title``, ``_username``, …). Parse functions take one API item and return a store
row; columns the API does not expose are left out so an upsert never blanks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from whop_sdk.types.member import Member
from whop_sdk.types.membership import Membership
from whop_sdk.types.payment import Payment
from whop_sdk.types.refund import Refund

from analytics.errors import DataValidationError
from analytics.sources.whop.shapes.common import (
    ParseContext,
    Shape,
    enum_value,
    float_money,
    float_to_minor,
    iso,
    money,
    money_to_minor,
    nested_id,
    obj,
    opt_int,
    parse_time,
    required,
)
from analytics.store import schema
from analytics.store.money import is_currency

__all__ = [
    "MEMBERS",
    "MEMBERSHIPS",
    "PAYMENTS",
    "REFUNDS",
    "parse_refund_legacy",
    "render_refund_legacy",
    "user_summary",
]

Row = dict[str, Any]
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


def _account_of(item: Mapping[str, Any], ctx: ParseContext, found: Any) -> str:
    if found and found != ctx.account_id:
        raise DataValidationError(
            f"item belongs to account {found!r} but was listed for {ctx.account_id!r}", column="account_id"
        )
    return ctx.account_id


def _check_currency(code: Any, name: str) -> str:
    text = str(code or "").lower()
    if not is_currency(text):
        raise DataValidationError(f"currency {code!r} is not a known lower-case ISO 4217 code", column=name)
    return text


# --- memberships ------------------------------------------------------------------------------------------


def _most_recent_action(row: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    status = row["status"]
    if status == "trialing" and row.get("trial_ends_at"):
        action = "trial_canceling_on" if row.get("cancel_at_period_end") else "trial_ends_at"
        return action, row["trial_ends_at"]
    if row.get("cancel_at_period_end") and status in ("active", "canceling", "past_due"):
        return "canceling_on", row.get("current_period_end")
    if status == "canceled":
        return "canceled_on", row.get("canceled_at")
    if status == "past_due":
        return "past_due", row.get("updated_at")
    if status == "active" and row.get("current_period_end"):
        return "renewing_on", row["current_period_end"]
    if row.get("expires_at"):
        return "ending_on", row["expires_at"]
    return None, None


def render_membership(row: Mapping[str, Any]) -> dict[str, Any]:
    currency = row.get("currency") or row.get("_plan_currency") or "usd"
    action, action_at = _most_recent_action(row)
    affiliate = None
    if row.get("affiliate_id"):
        percent = row.get("_affiliate_percent")
        affiliate = {
            "id": row["affiliate_id"],
            "user_id": row.get("_affiliate_user_id") or "",
            "enabled": True,
            "commission_type": row.get("_affiliate_commission_type") or "percentage",
            "commission_percentage": float(percent) if percent is not None else None,
            "commission_amount": money(row.get("_affiliate_amount_minor"), currency),
            "applies_to_payments": "all_payments",
        }
    return {
        "id": row["id"],
        "account": {
            "id": row["account_id"],
            "logo_url": None,
            "route": row.get("_account_route") or row["account_id"],
            "title": row.get("_account_title") or row["account_id"],
        },
        "affiliate": affiliate,
        "billing_period_days": row.get("billing_period_days"),
        "cancel_at_period_end": bool(row.get("cancel_at_period_end")),
        "cancel_option": row.get("cancel_option"),
        "canceled_at": iso(row.get("canceled_at")),
        "cancellation_reason": row.get("cancellation_reason"),
        "collection_method": "charge_automatically" if row.get("billing_period_days") else None,
        "created_at": iso(row["created_at"]),
        "current_period_end": iso(row.get("current_period_end")),
        "current_period_start": iso(row.get("current_period_start")),
        "expires_at": iso(row.get("expires_at")),
        "feedback_option": None,
        "initial_price": money(row.get("initial_price_minor") or 0, currency),
        "license_key": None,
        "manage_url": None,
        "member": None,
        "member_id": row.get("member_id"),
        "metadata": {},
        "most_recent_action": action,
        "most_recent_action_at": iso(action_at),
        "phone_number": None,
        "plan_id": row["plan_id"],
        "product": {"id": row["product_id"], "logo_url": None, "title": row.get("_product_title") or row["product_id"]},
        "product_id": row["product_id"],
        "promo_code_id": row.get("promo_code_id"),
        "renewal_price": money(row.get("renewal_price_minor"), currency),
        "split_pay_current_payments": None,
        "split_pay_required_payments": None,
        "status": row["status"],
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
        "user_id": row.get("user_id"),
    }


def parse_membership(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    account = obj(item, "account")
    initial = money_to_minor(item.get("initial_price"), "initial_price")
    renewal = money_to_minor(item.get("renewal_price"), "renewal_price")
    if initial and renewal and initial[1] != renewal[1]:
        raise DataValidationError(
            f"renewal_price is in {renewal[1]} but initial_price in {initial[1]}", column="renewal_price"
        )
    member_id = item.get("member_id")
    if not member_id:
        raise DataValidationError(
            "membership has no member_id (unclaimed); it is stored once a member claims it", column="member_id"
        )
    row: Row = {
        "account_id": _account_of(item, ctx, account.get("id")),
        "id": required(item, "id"),
        "member_id": member_id,
        "user_id": item.get("user_id"),
        "product_id": required(item, "product_id"),
        "plan_id": required(item, "plan_id"),
        "status": enum_value(required(item, "status"), "memberships", "status"),
        "currency": (initial or renewal or (0, None))[1],
        "initial_price_minor": initial[0] if initial else None,
        "renewal_price_minor": renewal[0] if renewal else None,
        "billing_period_days": opt_int(item.get("billing_period_days"), "billing_period_days"),
        "current_period_start": parse_time(item.get("current_period_start"), "current_period_start"),
        "current_period_end": parse_time(item.get("current_period_end"), "current_period_end"),
        "cancel_at_period_end": bool(item.get("cancel_at_period_end")),
        "canceled_at": parse_time(item.get("canceled_at"), "canceled_at"),
        "cancel_option": enum_value(item.get("cancel_option"), "memberships", "cancel_option"),
        "cancellation_reason": item.get("cancellation_reason"),
        "promo_code_id": item.get("promo_code_id"),
        "affiliate_id": nested_id(item, "affiliate"),
        "expires_at": parse_time(item.get("expires_at"), "expires_at"),
        "created_at": parse_time(required(item, "created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }
    if item.get("most_recent_action") in ("trial_ends_at", "trial_canceling_on"):
        row["trial_ends_at"] = parse_time(item.get("most_recent_action_at"), "most_recent_action_at")
    return row


MEMBERSHIPS = Shape(
    resource="memberships",
    table=schema.memberships,
    model=Membership,
    render=render_membership,
    parse=parse_membership,
    visible=(
        "member_id",
        "user_id",
        "product_id",
        "plan_id",
        "status",
        "currency",
        "initial_price_minor",
        "renewal_price_minor",
        "billing_period_days",
        "current_period_start",
        "current_period_end",
        "cancel_at_period_end",
        "canceled_at",
        "cancel_option",
        "cancellation_reason",
        "promo_code_id",
        "affiliate_id",
        "expires_at",
        "created_at",
        "updated_at",
    ),
)


# --- members ----------------------------------------------------------------------------------------------


def render_member(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "access_level": row.get("access_level") or "customer",
        "account_id": row["account_id"],
        "created_at": iso(row["created_at"]),
        "display_name": row.get("display_name") or row.get("username") or row["id"],
        "email": row.get("email"),
        "id": row["id"],
        "joined_at": iso(row.get("joined_at") or row["created_at"]),
        "last_accessed_at": iso(row.get("last_accessed_at")),
        "most_recent_action": row.get("most_recent_action"),
        "most_recent_action_at": iso(row.get("most_recent_action_at")),
        "phone_number": row.get("phone_number"),
        "status": row.get("status") or "joined",
        "token_balance": 0.0,
        "usd_total_spent": money(row.get("usd_total_spent_minor") or 0, "usd"),
        "user": user_summary(row.get("user_id"), row.get("display_name"), row.get("username")),
    }


def parse_member(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    user = obj(item, "user") or None
    spent = money_to_minor(item.get("usd_total_spent"), "usd_total_spent")
    if spent and spent[1] != "usd":
        raise DataValidationError(f"usd_total_spent is in {spent[1]}, not usd", column="usd_total_spent")
    times = {
        name: parse_time(item.get(name), name)
        for name in ("created_at", "joined_at", "last_accessed_at", "most_recent_action_at")
    }
    if times["created_at"] is None:
        raise DataValidationError("required field 'created_at' is missing or null", column="created_at")
    return {
        "account_id": _account_of(item, ctx, item.get("account_id")),
        "id": required(item, "id"),
        "user_id": user.get("id") if user else None,
        "email": item.get("email"),
        "username": user.get("username") if user else None,
        "display_name": user.get("name") if user else item.get("display_name"),
        "phone_number": item.get("phone_number"),
        "status": enum_value(required(item, "status"), "members", "status"),
        "access_level": item.get("access_level"),
        "most_recent_action": item.get("most_recent_action"),
        **times,
        "usd_total_spent_minor": spent[0] if spent else None,
        # Member has no updated_at on the wire: the newest of its own timestamps orders webhook deliveries.
        "updated_at": max(t for t in times.values() if t is not None),
    }


MEMBERS = Shape(
    resource="members",
    table=schema.members,
    model=Member,
    render=render_member,
    parse=parse_member,
    visible=(
        "user_id",
        "email",
        "username",
        "display_name",
        "phone_number",
        "status",
        "access_level",
        "most_recent_action",
        "most_recent_action_at",
        "joined_at",
        "last_accessed_at",
        "usd_total_spent_minor",
        "created_at",
    ),
)


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
    currency = _check_currency(required(item, "currency"), "currency")
    total = _minor_in(item, "total", currency)
    if total is None:
        raise DataValidationError("required field 'total' is missing or null", column="total")
    usd = money_to_minor(item.get("usd_total"), "usd_total")
    return {
        "account_id": _account_of(item, ctx, item.get("account_id")),
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
        "account_id": _account_of(item, ctx, item.get("account_id")),
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
    currency = _check_currency(required(item, "currency"), "currency")
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
