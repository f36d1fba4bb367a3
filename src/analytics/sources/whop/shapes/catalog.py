"""Accounts, products, variants (and the deprecated plans path), promo codes and affiliates ⇄ Whop v1 JSON.

Variants and promo codes still carry plain float prices on the wire (whop-sdk 2.6.0 ``VariantListItem``,
``PromoCodeListItem``); they are rounded to the currency's minor units on the way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from whop_sdk.types.affiliate_list_item import AffiliateListItem
from whop_sdk.types.plan_list_item import PlanListItem
from whop_sdk.types.product_list_item import ProductListItem
from whop_sdk.types.promo_code_list_item import PromoCodeListItem
from whop_sdk.types.variant_list_item import VariantListItem

from analytics.errors import DataValidationError
from analytics.sources.whop.shapes.common import (
    ParseContext,
    Shape,
    enum_value,
    float_money,
    float_to_minor,
    iso,
    money,
    nested_id,
    obj,
    opt_int,
    parse_time,
    required,
)
from analytics.store import schema
from analytics.store.money import from_minor, is_currency

__all__ = ["ACCOUNTS", "AFFILIATES", "PLANS", "PRODUCTS", "PROMO_CODES", "VARIANTS"]

Row = dict[str, Any]


# --- accounts ---------------------------------------------------------------------------------------------


def render_account(row: Mapping[str, Any]) -> dict[str, Any]:
    # The 2.6.0 Account model requires ~25 nested objects (balances, payout settings, …) that analytics never
    # reads; the fake serves the identity subset and the sync does not validate accounts against the model.
    return {
        "id": row["id"],
        "title": row["title"],
        "route": row.get("route") or row["id"],
        "created_at": iso(row.get("created_at")),
        "metadata": {},
        "logo_url": None,
        "status": "active",
    }


def parse_account(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    return {
        "id": required(item, "id"),
        "title": required(item, "title"),
        "route": item.get("route"),
        "created_at": parse_time(item.get("created_at"), "created_at"),
    }


ACCOUNTS = Shape(
    resource="accounts",
    table=schema.accounts,
    model=None,
    render=render_account,
    parse=parse_account,
    visible=("title", "route", "created_at"),
)


# --- products ---------------------------------------------------------------------------------------------


def render_product(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "account": {"id": row["account_id"], "title": row.get("_account_title")},
        "average_review_rating": 0.0,
        "created_at": iso(row["created_at"]),
        "default_plan": None,
        "description": row.get("description"),
        "external_identifier": None,
        "gallery_images": [],
        "headline": None,
        "labels": [],
        "member_count": float(row.get("_member_count") or 0),
        "metadata": {"category": row["category"]} if row.get("category") else {},
        "published_reviews_count": 0.0,
        "route": row.get("route") or row["id"],
        "title": row["title"],
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
        "variant_attributes": None,
        "verified": False,
        "visibility": row.get("visibility"),
    }


def parse_product(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    metadata = obj(item, "metadata")
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "title": required(item, "title"),
        "route": item.get("route"),
        "category": metadata.get("category"),
        "visibility": item.get("visibility"),
        "description": item.get("description"),
        "created_at": parse_time(item.get("created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


PRODUCTS = Shape(
    resource="products",
    table=schema.products,
    model=ProductListItem,
    render=render_product,
    parse=parse_product,
    visible=("title", "route", "category", "visibility", "description", "created_at", "updated_at"),
)


# --- variants / plans -------------------------------------------------------------------------------------


def _formatted_price(minor: int, currency: str, days: int | None) -> str:
    amount = from_minor(minor, currency)
    text = f"${amount}" if currency == "usd" else f"{amount} {currency.upper()}"
    if not days:
        return text
    return f"{text} / {'month' if days == 30 else 'year' if days == 365 else f'{days} days'}"


def render_variant(row: Mapping[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    period = row.get("billing_period_days")
    trial = row.get("trial_period_days")
    return {
        "id": row["id"],
        "account": {"id": row["account_id"], "title": row.get("_account_title") or row["account_id"]},
        "adaptive_pricing_enabled": False,
        "billing_period": float(period) if period is not None else None,
        "created_at": iso(row["created_at"]),
        "currency": currency,
        "custom_fields": [],
        "description": None,
        "expiration_days": None,
        "formatted_price": _formatted_price(
            row["renewal_price_minor"] if period else row["initial_price_minor"], currency, period
        ),
        "initial_price": float_money(row["initial_price_minor"], currency),
        "initial_price_due": money(row["initial_price_minor"], currency),
        "member_count": None,
        "metadata": {},
        "plan_type": row["plan_type"],
        "product": {"id": row["product_id"], "title": row.get("_product_title")},
        "purchase_url": f"https://whop.com/checkout/{row['id']}",
        "release_method": row.get("release_method") or "buy_now",
        "renewal_price": float_money(row["renewal_price_minor"], currency),
        "title": row.get("title"),
        "trial_period_days": float(trial) if trial is not None else None,
        "unlimited_stock": True,
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
        "visibility": row.get("visibility") or "visible",
    }


def parse_variant(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    currency = str(required(item, "currency")).lower()
    if not is_currency(currency):
        raise DataValidationError(f"currency {currency!r} is not a known ISO 4217 code", column="currency")
    product_id = nested_id(item, "product")
    if not product_id:
        raise DataValidationError("variant has no product id", column="product")
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "product_id": product_id,
        "title": item.get("title"),
        "plan_type": enum_value(required(item, "plan_type"), "plans", "plan_type"),
        "currency": currency,
        "initial_price_minor": float_to_minor(item.get("initial_price") or 0, currency, "initial_price"),
        "renewal_price_minor": float_to_minor(item.get("renewal_price") or 0, currency, "renewal_price"),
        "billing_period_days": opt_int(item.get("billing_period"), "billing_period"),
        "trial_period_days": opt_int(item.get("trial_period_days"), "trial_period_days"),
        "visibility": item.get("visibility"),
        "release_method": item.get("release_method"),
        "created_at": parse_time(item.get("created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


_PLAN_VISIBLE = (
    "product_id",
    "title",
    "plan_type",
    "currency",
    "initial_price_minor",
    "renewal_price_minor",
    "billing_period_days",
    "trial_period_days",
    "visibility",
    "release_method",
    "created_at",
    "updated_at",
)
VARIANTS = Shape("variants", schema.plans, VariantListItem, render_variant, parse_variant, _PLAN_VISIBLE)
PLANS = Shape("plans", schema.plans, PlanListItem, render_variant, parse_variant, _PLAN_VISIBLE)


# --- promo codes ------------------------------------------------------------------------------------------


def render_promo_code(row: Mapping[str, Any]) -> dict[str, Any]:
    currency = row.get("currency") or "usd"
    if row["promo_type"] == "percentage":
        # "Percentage discounts are represented as a decimal fraction" (PromoCodeListItem.amount_off).
        amount_off = float(Decimal(row.get("percent_off") or 0) / 100)
    else:
        amount_off = float_money(row.get("amount_off_minor") or 0, currency) or 0.0
    stock = row.get("stock")
    return {
        "id": row["id"],
        "amount_off": amount_off,
        "churned_users_only": False,
        "code": row["code"],
        "created_at": iso(row["created_at"]),
        "currency": currency,
        "duration": row.get("duration") or "forever",
        "existing_memberships_only": False,
        "expires_at": iso(row.get("expires_at")),
        "metadata": {},
        "new_users_only": False,
        "one_per_customer": False,
        "product": {"id": row["product_id"], "title": row.get("_product_title") or row["product_id"]}
        if row.get("product_id")
        else None,
        "promo_duration_months": row.get("duration_months"),
        "promo_type": row["promo_type"],
        "status": row["status"],
        "stock": stock if stock is not None else 0,
        "unlimited_stock": stock is None,
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
        "uses": row.get("uses") or 0,
    }


def parse_promo_code(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    promo_type = enum_value(required(item, "promo_type"), "promo_codes", "promo_type")
    currency = str(item.get("currency") or "usd").lower()
    amount_off = item.get("amount_off")
    if isinstance(amount_off, bool) or not isinstance(amount_off, int | float):
        raise DataValidationError(f"amount_off {amount_off!r} is not a number", column="amount_off")
    percent = Decimal(repr(float(amount_off))) * 100 if promo_type == "percentage" else None
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "code": required(item, "code"),
        "promo_type": promo_type,
        "percent_off": percent.normalize() if percent is not None else None,
        "amount_off_minor": float_to_minor(amount_off, currency, "amount_off") if promo_type == "flat_amount" else None,
        "currency": currency,
        "duration": enum_value(item.get("duration"), "promo_codes", "duration"),
        "duration_months": opt_int(item.get("promo_duration_months"), "promo_duration_months"),
        "status": enum_value(required(item, "status"), "promo_codes", "status"),
        "product_id": nested_id(item, "product"),
        "uses": opt_int(item.get("uses"), "uses") or 0,
        "stock": None if item.get("unlimited_stock") else opt_int(item.get("stock"), "stock"),
        "expires_at": parse_time(item.get("expires_at"), "expires_at"),
        "created_at": parse_time(item.get("created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


PROMO_CODES = Shape(
    resource="promo_codes",
    table=schema.promo_codes,
    model=PromoCodeListItem,
    render=render_promo_code,
    parse=parse_promo_code,
    visible=(
        "code",
        "promo_type",
        "percent_off",
        "amount_off_minor",
        "duration",
        "duration_months",
        "status",
        "product_id",
        "uses",
        "stock",
        "expires_at",
        "created_at",
        "updated_at",
    ),
)


# --- affiliates -------------------------------------------------------------------------------------------


def render_affiliate(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row.get("status"),
        "company": {"id": row["account_id"], "title": row.get("_account_title") or row["account_id"]},
        "user": {
            "id": row.get("user_id") or row["id"],
            "name": row.get("_display_name"),
            "username": row.get("_username"),
        },
        "active_members_count": int(row.get("_active_members") or 0),
        "total_referrals_count": int(row.get("_referrals") or 0),
        "total_overrides_count": 0,
        "customer_retention_rate": "0%",
        "customer_retention_rate_ninety_days": "0%",
        "monthly_recurring_revenue_usd": "$0.00",
        "total_referral_earnings_usd": "$0.00",
        "total_revenue_usd": "$0.00",
        "created_at": iso(row.get("created_at")),
        "updated_at": iso(row.get("updated_at") or row.get("created_at")),
    }


def parse_affiliate(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "user_id": nested_id(item, "user"),
        "_user_id": nested_id(item, "user"),
        "status": enum_value(item.get("status") or "active", "affiliates", "status"),
        "created_at": parse_time(item.get("created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


AFFILIATES = Shape(
    resource="affiliates",
    table=schema.affiliates,
    model=AffiliateListItem,
    render=render_affiliate,
    parse=parse_affiliate,
    visible=("member_id", "user_id", "status", "created_at", "updated_at"),
)
