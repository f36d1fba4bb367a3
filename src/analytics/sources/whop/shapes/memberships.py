"""Memberships and members: store rows ⇄ Whop v1 JSON (whop-sdk 2.6.0 ``Membership`` and ``Member``).

Render functions take a store row plus the context columns the fake server joins in (names start with ``_``:
``_account_title``, ``_product_title``, …). Parse functions take one API item and return a store row; columns
the API does not expose are left out so an upsert never blanks them.

A member has no ``updated_at`` on the wire: :func:`parse_member` gives it the newest of the member's own
timestamps, and webhook deliveries that tie on it (a ``member.updated`` saying ``left`` and a late
``member.created`` saying ``joined``, with the same timestamps) are ordered by the delivery's own timestamp and
then by the status order ``joined`` < ``left`` (:mod:`analytics.sources.whop.delivery_order`), so a member's
status never goes backwards whatever order the deliveries arrive in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from whop_sdk.types.member import Member
from whop_sdk.types.membership import Membership

from analytics.errors import DataValidationError
from analytics.sources.whop.shapes.common import (
    ParseContext,
    Shape,
    account_of,
    enum_value,
    iso,
    money,
    money_to_minor,
    nested_id,
    obj,
    opt_int,
    parse_time,
    required,
    user_summary,
)
from analytics.store import schema

__all__ = ["MEMBERS", "MEMBERSHIPS"]

Row = dict[str, Any]


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
        "account_id": account_of(item, ctx, account.get("id")),
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
        "account_id": account_of(item, ctx, item.get("account_id")),
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
        # Member has no updated_at on the wire: the newest of its own timestamps orders webhook deliveries (ties:
        # the delivery's own timestamp, then the status order; analytics.sources.whop.delivery_order).
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
