"""A tiny, hand-checkable creator business written straight into a source store.

Account ``biz_tiny`` ("Tiny Trading Club"), at 2025-06-30 12:00 UTC:

* 2 products (community, course), 3 variants: monthly $20.00 (30 days), yearly $200.00 with a 7-day trial,
  one-time €49.00; one 25 % promo code.
* 6 members, 7 memberships: mem_1 active monthly, mem_2 trialing yearly, mem_3 canceled, mem_4 past_due,
  mem_5 active but canceling at period end (promo: $15.00 renewal), mem_6 and mem_7 one-time (completed).
* 9 payments (one failed/open, one partly refunded by rf_1 €10.00).
* 1 course, 2 chapters, 3 lessons, 4 lesson interactions (2 completed); 1 chat channel with 3 messages;
  a forum with 2 posts and 1 comment; 1 affiliate.

A second account ``biz_other`` holds one member, membership and payment (tenancy checks).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from analytics.store import schema as s
from analytics.store.upsert import upsert_rows

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
A = "biz_tiny"


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _member(i: int, joined: str, *, status: str = "joined", spent: int = 0, account: str = A) -> dict[str, Any]:
    return {
        "account_id": account,
        "id": f"mber_{i}",
        "user_id": f"user_{i}",
        "email": f"m{i}@example.com",
        "username": f"member{i}",
        "display_name": f"Member {i}",
        "status": status,
        "access_level": "customer",
        "most_recent_action": "paid_subscriber" if status == "joined" else "churned",
        "most_recent_action_at": at(joined),
        "joined_at": at(joined),
        "last_accessed_at": at("2025-06-29"),
        "usd_total_spent_minor": spent,
        "created_at": at(joined),
        "updated_at": at(joined),
    }


def _membership(i: int, member: int, plan: str, status: str, created: str, **kw: Any) -> dict[str, Any]:
    prices = {
        "plan_monthly": ("prod_community", "usd", 2000, 2000, 30),
        "plan_yearly": ("prod_community", "usd", 20000, 20000, 365),
        "plan_once": ("prod_course", "eur", 4900, None, None),
    }
    product, currency, initial, renewal, period = prices[plan]
    row = {
        "account_id": A,
        "id": f"mem_{i}",
        "member_id": f"mber_{member}",
        "user_id": f"user_{member}",
        "product_id": product,
        "plan_id": plan,
        "status": status,
        "currency": currency,
        "initial_price_minor": initial,
        "renewal_price_minor": renewal,
        "billing_period_days": period,
        "current_period_start": None,
        "current_period_end": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancel_option": None,
        "cancellation_reason": None,
        "promo_code_id": None,
        "affiliate_id": None,
        "trial_ends_at": None,
        "expires_at": None,
        "created_at": at(created),
        "updated_at": at(created),
    }
    row.update(kw)
    return row


def _payment(i: int, membership: str, member: int, plan: str, day: str, total: int, **kw: Any) -> dict[str, Any]:
    currency = "eur" if plan == "plan_once" else "usd"
    row = {
        "account_id": A,
        "id": f"pay_{i}",
        "member_id": f"mber_{member}",
        "membership_id": membership,
        "user_id": f"user_{member}",
        "product_id": "prod_course" if plan == "plan_once" else "prod_community",
        "plan_id": plan,
        "promo_code_id": None,
        "status": "paid",
        "substatus": "succeeded",
        "billing_reason": "one_time" if plan == "plan_once" else "subscription_cycle",
        "currency": currency,
        "subtotal_minor": total,
        "total_minor": total,
        "tax_minor": 0,
        "amount_after_fees_minor": total - 90,
        "usd_total_minor": total if currency == "usd" else None,
        "refunded_amount_minor": 0,
        "refunded_at": None,
        "paid_at": at(day),
        "payments_failed": 0,
        "failure_message": None,
        "decline_code": None,
        "last_payment_attempt_at": at(day),
        "next_payment_attempt_at": None,
        "created_at": at(day),
        "updated_at": at(day),
    }
    row.update(kw)
    return row


def build(engine: Engine) -> None:
    """Write the business into ``engine`` (a migrated store)."""
    with engine.begin() as conn:
        upsert_rows(
            conn,
            s.accounts,
            [
                {
                    "id": A,
                    "title": "Tiny Trading Club",
                    "route": "tiny-trading",
                    "created_at": at("2024-12-01"),
                    "updated_at": at("2024-12-01"),
                },
                {
                    "id": "biz_other",
                    "title": "Other Co",
                    "route": "other",
                    "created_at": at("2025-01-01"),
                    "updated_at": at("2025-01-01"),
                },
            ],
        )
        upsert_rows(
            conn,
            s.products,
            [
                {
                    "account_id": A,
                    "id": "prod_community",
                    "title": "Trading Community",
                    "route": "community",
                    "category": "community",
                    "visibility": "visible",
                    "description": "Daily calls",
                    "created_at": at("2024-12-01"),
                    "updated_at": at("2025-01-05"),
                },
                {
                    "account_id": A,
                    "id": "prod_course",
                    "title": "Chart Course",
                    "route": "course",
                    "category": "course",
                    "visibility": "visible",
                    "description": None,
                    "created_at": at("2024-12-02"),
                    "updated_at": at("2024-12-02"),
                },
                {
                    "account_id": "biz_other",
                    "id": "prod_o",
                    "title": "Other Product",
                    "route": "o",
                    "category": "other",
                    "visibility": "hidden",
                    "description": None,
                    "created_at": at("2025-01-01"),
                    "updated_at": at("2025-01-01"),
                },
            ],
        )
        plan = {
            "visibility": "visible",
            "release_method": "buy_now",
            "created_at": at("2024-12-01"),
            "updated_at": at("2024-12-01"),
        }
        upsert_rows(
            conn,
            s.plans,
            [
                {
                    "account_id": A,
                    "id": "plan_monthly",
                    "product_id": "prod_community",
                    "title": "Monthly",
                    "plan_type": "renewal",
                    "currency": "usd",
                    "initial_price_minor": 2000,
                    "renewal_price_minor": 2000,
                    "billing_period_days": 30,
                    "trial_period_days": None,
                    **plan,
                },
                {
                    "account_id": A,
                    "id": "plan_yearly",
                    "product_id": "prod_community",
                    "title": "Yearly",
                    "plan_type": "renewal",
                    "currency": "usd",
                    "initial_price_minor": 20000,
                    "renewal_price_minor": 20000,
                    "billing_period_days": 365,
                    "trial_period_days": 7,
                    **plan,
                },
                {
                    "account_id": A,
                    "id": "plan_once",
                    "product_id": "prod_course",
                    "title": "Lifetime",
                    "plan_type": "one_time",
                    "currency": "eur",
                    "initial_price_minor": 4900,
                    "renewal_price_minor": 0,
                    "billing_period_days": None,
                    "trial_period_days": None,
                    **plan,
                },
                {
                    "account_id": "biz_other",
                    "id": "plan_o",
                    "product_id": "prod_o",
                    "title": "O",
                    "plan_type": "renewal",
                    "currency": "usd",
                    "initial_price_minor": 999,
                    "renewal_price_minor": 999,
                    "billing_period_days": 30,
                    "trial_period_days": None,
                    **plan,
                },
            ],
        )
        upsert_rows(
            conn,
            s.promo_codes,
            [
                {
                    "account_id": A,
                    "id": "promo_summer",
                    "code": "SUMMER25",
                    "promo_type": "percentage",
                    "percent_off": Decimal("25"),
                    "amount_off_minor": None,
                    "currency": None,
                    "duration": "forever",
                    "duration_months": None,
                    "status": "active",
                    "product_id": "prod_community",
                    "uses": 1,
                    "stock": 100,
                    "expires_at": at("2025-09-01"),
                    "created_at": at("2025-05-01"),
                    "updated_at": at("2025-05-01"),
                },
            ],
        )
        upsert_rows(
            conn,
            s.members,
            [
                _member(1, "2025-03-01", spent=8000),
                _member(2, "2025-06-28"),
                _member(3, "2025-01-10", status="left", spent=6000),
                _member(4, "2025-02-01", spent=8000),
                _member(5, "2025-05-20", spent=1500),
                _member(6, "2025-05-05"),
                _member(9, "2025-02-02", account="biz_other", spent=999),
            ],
        )
        upsert_rows(
            conn,
            s.memberships,
            [
                _membership(
                    1,
                    1,
                    "plan_monthly",
                    "active",
                    "2025-03-01",
                    current_period_start=at("2025-06-15"),
                    current_period_end=at("2025-07-15"),
                    updated_at=at("2025-06-15"),
                ),
                _membership(
                    2,
                    2,
                    "plan_yearly",
                    "trialing",
                    "2025-06-28",
                    current_period_start=at("2025-06-28"),
                    current_period_end=at("2025-07-05"),
                    trial_ends_at=at("2025-07-05"),
                ),
                _membership(
                    3,
                    3,
                    "plan_monthly",
                    "canceled",
                    "2025-01-10",
                    canceled_at=at("2025-04-10"),
                    cancel_option="too_expensive",
                    cancellation_reason="Costs too much",
                    updated_at=at("2025-04-10"),
                ),
                _membership(
                    4,
                    4,
                    "plan_monthly",
                    "past_due",
                    "2025-02-01",
                    current_period_start=at("2025-06-01"),
                    current_period_end=at("2025-07-01"),
                    updated_at=at("2025-06-29"),
                ),
                _membership(
                    5,
                    5,
                    "plan_monthly",
                    "active",
                    "2025-05-20",
                    renewal_price_minor=1500,
                    promo_code_id="promo_summer",
                    current_period_start=at("2025-06-19"),
                    current_period_end=at("2025-07-19"),
                    cancel_at_period_end=True,
                    canceled_at=at("2025-06-20"),
                    cancel_option="unused",
                    updated_at=at("2025-06-20"),
                ),
                _membership(6, 6, "plan_once", "completed", "2025-05-05"),
                _membership(7, 1, "plan_once", "completed", "2025-04-01", affiliate_id="aff_1"),
            ],
        )
        upsert_rows(
            conn,
            s.memberships,
            [
                {
                    **_membership(9, 9, "plan_monthly", "active", "2025-02-02"),
                    "account_id": "biz_other",
                    "plan_id": "plan_o",
                    "product_id": "prod_o",
                    "renewal_price_minor": 999,
                    "initial_price_minor": 999,
                },
            ],
        )
        upsert_rows(
            conn,
            s.payments,
            [
                _payment(1, "mem_1", 1, "plan_monthly", "2025-03-01", 2000, billing_reason="subscription_create"),
                _payment(2, "mem_1", 1, "plan_monthly", "2025-04-15", 2000),
                _payment(3, "mem_1", 1, "plan_monthly", "2025-05-15", 2000),
                _payment(4, "mem_1", 1, "plan_monthly", "2025-06-15", 2000),
                _payment(5, "mem_3", 3, "plan_monthly", "2025-01-10", 2000, billing_reason="subscription_create"),
                _payment(
                    6,
                    "mem_4",
                    4,
                    "plan_monthly",
                    "2025-06-01",
                    2000,
                    status="open",
                    substatus="failed",
                    paid_at=None,
                    payments_failed=2,
                    failure_message="Card declined",
                    decline_code="insufficient_funds",
                    next_payment_attempt_at=at("2025-07-02"),
                    updated_at=at("2025-06-29"),
                ),
                _payment(
                    7,
                    "mem_5",
                    5,
                    "plan_monthly",
                    "2025-05-20",
                    1500,
                    promo_code_id="promo_summer",
                    billing_reason="subscription_create",
                ),
                _payment(
                    8,
                    "mem_6",
                    6,
                    "plan_once",
                    "2025-05-05",
                    4900,
                    refunded_amount_minor=1000,
                    refunded_at=at("2025-05-07"),
                    substatus="partially_refunded",
                    updated_at=at("2025-05-07"),
                ),
                _payment(9, "mem_7", 1, "plan_once", "2025-04-01", 4900),
            ],
        )
        upsert_rows(
            conn,
            s.payments,
            [
                {
                    **_payment(19, "mem_9", 9, "plan_monthly", "2025-02-02", 999),
                    "account_id": "biz_other",
                    "plan_id": "plan_o",
                    "product_id": "prod_o",
                },
            ],
        )
        upsert_rows(
            conn,
            s.refunds,
            [
                {
                    "account_id": A,
                    "id": "rf_1",
                    "payment_id": "pay_8",
                    "currency": "eur",
                    "amount_minor": 1000,
                    "status": "succeeded",
                    "reason": "requested_by_customer",
                    "provider": "stripe",
                    "created_at": at("2025-05-07"),
                    "updated_at": at("2025-05-07"),
                },
            ],
        )
        upsert_rows(
            conn,
            s.courses,
            [
                {
                    "account_id": A,
                    "id": "cors_1",
                    "product_id": "prod_course",
                    "title": "Reading Charts",
                    "total_lessons_count": 3,
                    "created_at": at("2024-12-02"),
                    "updated_at": at("2024-12-03"),
                },
            ],
        )
        upsert_rows(
            conn,
            s.lessons,
            [
                {
                    "account_id": A,
                    "id": "lesn_1",
                    "course_id": "cors_1",
                    "chapter_id": "chap_1",
                    "chapter_title": "Basics",
                    "title": "Candles",
                    "lesson_type": "video",
                    "position": 1,
                    "created_at": at("2024-12-02"),
                },
                {
                    "account_id": A,
                    "id": "lesn_2",
                    "course_id": "cors_1",
                    "chapter_id": "chap_1",
                    "chapter_title": "Basics",
                    "title": "Trends",
                    "lesson_type": "text",
                    "position": 2,
                    "created_at": at("2024-12-02"),
                },
                {
                    "account_id": A,
                    "id": "lesn_3",
                    "course_id": "cors_1",
                    "chapter_id": "chap_2",
                    "chapter_title": "Advanced",
                    "title": "Patterns",
                    "lesson_type": "quiz",
                    "position": 3,
                    "created_at": at("2024-12-03"),
                },
            ],
        )
        upsert_rows(
            conn,
            s.lesson_interactions,
            [
                {
                    "account_id": A,
                    "id": f"crlp_{i}",
                    "lesson_id": lesson,
                    "course_id": "cors_1",
                    "user_id": f"user_{m}",
                    "member_id": f"mber_{m}",
                    "completed": done,
                    "created_at": at(day),
                    "completed_at": at(day) if done else None,
                    "updated_at": at(day),
                }
                for i, (lesson, m, done, day) in enumerate(
                    [
                        ("lesn_1", 6, True, "2025-05-06"),
                        ("lesn_2", 6, False, "2025-05-08"),
                        ("lesn_1", 1, True, "2025-04-02"),
                        ("lesn_3", 1, False, "2025-06-01"),
                    ],
                    1,
                )
            ],
        )
        upsert_rows(
            conn,
            s.chat_channels,
            [
                {
                    "account_id": A,
                    "id": "chan_1",
                    "experience_id": "exp_chat",
                    "product_id": "prod_community",
                    "name": "General",
                    "created_at": at("2024-12-01"),
                },
            ],
        )
        upsert_rows(
            conn,
            s.activity_events,
            [
                {
                    "account_id": A,
                    "id": f"chmsg_{i}",
                    "member_id": f"mber_{m}",
                    "kind": "message",
                    "occurred_at": at(day, 9 + i),
                    "product_id": "prod_community",
                    "object_id": "chan_1",
                    "channel": "whop_chat",
                    "properties": {"content": text},
                }
                for i, (m, day, text) in enumerate(
                    [(1, "2025-06-01", "gm"), (2, "2025-06-28", "hello"), (5, "2025-06-29", "thanks")], 1
                )
            ],
        )
        upsert_rows(
            conn,
            s.posts,
            [
                {
                    "account_id": A,
                    "id": "post_1",
                    "experience_id": "exp_forum",
                    "member_id": "mber_1",
                    "user_id": "user_1",
                    "parent_id": None,
                    "title": "My setup",
                    "view_count": 40,
                    "comment_count": 1,
                    "like_count": 5,
                    "created_at": at("2025-06-02"),
                    "updated_at": at("2025-06-03"),
                },
                {
                    "account_id": A,
                    "id": "post_2",
                    "experience_id": "exp_forum",
                    "member_id": "mber_2",
                    "user_id": "user_2",
                    "parent_id": None,
                    "title": "New here",
                    "view_count": 3,
                    "comment_count": 0,
                    "like_count": 0,
                    "created_at": at("2025-06-28"),
                    "updated_at": at("2025-06-28"),
                },
                {
                    "account_id": A,
                    "id": "post_3",
                    "experience_id": "exp_forum",
                    "member_id": "mber_3",
                    "user_id": "user_3",
                    "parent_id": "post_1",
                    "title": None,
                    "view_count": 0,
                    "comment_count": 0,
                    "like_count": 1,
                    "created_at": at("2025-06-03"),
                    "updated_at": at("2025-06-03"),
                },
            ],
        )
        upsert_rows(
            conn,
            s.affiliates,
            [
                {
                    "account_id": A,
                    "id": "aff_1",
                    "member_id": "mber_2",
                    "user_id": "user_2",
                    "code": "MEMBER2",
                    "status": "active",
                    "commission_type": "percentage",
                    "commission_percent": Decimal("20"),
                    "commission_amount_minor": None,
                    "currency": "usd",
                    "created_at": at("2025-03-15"),
                    "updated_at": at("2025-03-15"),
                },
            ],
        )
