"""Allowed values of enumerated columns, as the Whop v1 API (whop-sdk 2.6.0) and WhatsApp Cloud API define them.

Imports and sync validate against these sets; a value outside them is quarantined with the list of allowed ones.
"""

from __future__ import annotations

__all__ = ["ENUMS"]

MEMBERSHIP_STATUSES = frozenset(
    {
        "trialing",
        "active",
        "past_due",
        "completed",
        "canceled",
        "expired",
        "unresolved",
        "drafted",
        "canceling",
    }
)
CANCEL_OPTIONS = frozenset(
    {
        "too_expensive",
        "switching",
        "missing_features",
        "technical_issues",
        "bad_experience",
        "unused",
        "other",
        "testing",
    }
)
PAYMENT_STATUSES = frozenset({"draft", "open", "authorized", "paid", "pending", "uncollectible", "unresolved", "void"})
PAYMENT_SUBSTATUSES = frozenset(
    {
        "succeeded",
        "requires_capture",
        "pending",
        "failed",
        "blocked",
        "past_due",
        "canceled",
        "price_too_low",
        "uncollectible",
        "refunded",
        "auto_refunded",
        "partially_refunded",
        "dispute_warning",
        "dispute_needs_response",
        "dispute_warning_needs_response",
        "resolution_needs_response",
        "dispute_under_review",
        "dispute_warning_under_review",
        "resolution_under_review",
        "dispute_won",
        "dispute_warning_closed",
        "resolution_won",
        "dispute_lost",
        "dispute_closed",
        "resolution_lost",
        "drafted",
        "incomplete",
        "unresolved",
        "open_dispute",
        "open_resolution",
    }
)
BILLING_REASONS = frozenset(
    {"subscription_create", "subscription_cycle", "subscription_update", "one_time", "manual", "subscription"}
)
REFUND_STATUSES = frozenset({"pending", "requires_action", "succeeded", "failed", "canceled"})
REFUND_REASONS = frozenset(
    {"duplicate", "fraudulent", "requested_by_customer", "expired_uncaptured_charge", "dispute_alert"}
)
DISPUTE_STATUSES = frozenset(
    {
        "warning_needs_response",
        "warning_under_review",
        "warning_closed",
        "needs_response",
        "under_review",
        "won",
        "lost",
        "closed",
    }
)
PLAN_TYPES = frozenset({"renewal", "one_time"})
MEMBER_STATUSES = frozenset({"joined", "left"})
PROMO_TYPES = frozenset({"percentage", "flat_amount"})
PROMO_DURATIONS = frozenset({"forever", "once", "repeating"})
PROMO_STATUSES = frozenset({"active", "inactive", "archived", "expired"})
LESSON_TYPES = frozenset({"text", "video", "pdf", "multi", "quiz", "knowledge_check"})
ACTIVITY_KINDS = frozenset(
    {
        "login",
        "message",
        "post",
        "comment",
        "reaction",
        "view",
        "post_view",
        "lesson_view",
        "lesson_start",
        "lesson_complete",
        "download",
        "funnel_view",
        "checkout_start",
        "purchase",
    }
)
WA_MESSAGE_STATUSES = frozenset({"accepted", "sent", "delivered", "read", "played", "failed", "received"})
WA_DIRECTIONS = frozenset({"inbound", "outbound"})
AFFILIATE_STATUSES = frozenset({"active", "archived", "deleted"})
COMMISSION_STATUSES = frozenset({"pending", "approved", "paid", "reversed", "held"})
SHARE_PLATFORMS = frozenset(
    {
        "x",
        "instagram",
        "tiktok",
        "youtube",
        "discord",
        "whatsapp",
        "telegram",
        "email",
        "facebook",
        "reddit",
        "other",
    }
)

ENUMS: dict[tuple[str, str], frozenset[str]] = {
    ("memberships", "status"): MEMBERSHIP_STATUSES,
    ("memberships", "cancel_option"): CANCEL_OPTIONS,
    ("membership_status_changes", "status"): MEMBERSHIP_STATUSES,
    ("payments", "status"): PAYMENT_STATUSES,
    ("payments", "substatus"): PAYMENT_SUBSTATUSES,
    ("payments", "billing_reason"): BILLING_REASONS,
    ("refunds", "status"): REFUND_STATUSES,
    ("refunds", "reason"): REFUND_REASONS,
    ("disputes", "status"): DISPUTE_STATUSES,
    ("plans", "plan_type"): PLAN_TYPES,
    ("members", "status"): MEMBER_STATUSES,
    ("promo_codes", "promo_type"): PROMO_TYPES,
    ("promo_codes", "duration"): PROMO_DURATIONS,
    ("promo_codes", "status"): PROMO_STATUSES,
    ("lessons", "lesson_type"): LESSON_TYPES,
    ("activity_events", "kind"): ACTIVITY_KINDS,
    ("wa_messages", "status"): WA_MESSAGE_STATUSES,
    ("wa_messages", "direction"): WA_DIRECTIONS,
    ("wa_status_updates", "status"): WA_MESSAGE_STATUSES,
    ("affiliates", "status"): AFFILIATE_STATUSES,
    ("commissions", "status"): COMMISSION_STATUSES,
    ("shares", "platform"): SHARE_PLATFORMS,
}
