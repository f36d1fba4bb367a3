"""The Whop dashboard export headers this workbook recognises, per export kind, and the status mappings.

Whop does not document its dashboard CSV headers; these are reasonable variants seen in exports and in the API's
field names. Matching ignores case and treats spaces, ``_`` and ``-`` alike; for each field the first header
present in the file wins. ``docs/import-schema.md`` lists them (generated from :data:`EXPORT_FIELDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "EXPORT_FIELDS",
    "EXPORT_KINDS",
    "PAYMENT_STATUS_MAP",
    "REQUIRED_FIELDS",
    "STATUS_ALIASES",
    "ExportField",
    "ExportKind",
]

ExportKind = Literal["members", "memberships", "payments"]
EXPORT_KINDS: tuple[str, ...] = ("members", "memberships", "payments")


@dataclass(frozen=True)
class ExportField:
    """One store column filled from a Whop export: the headers recognised for it and how cells convert."""

    column: str
    headers: tuple[str, ...]
    convert: str  # text | lower | status | timestamp | amount | boolean | member | product | plan
    note: str = ""


_MEMBER = ExportField(
    "member_id",
    ("member id", "member", "user id", "email", "customer email"),
    "member",
    "Member ID (a user_… id counts as User ID), else mber_user_<User ID>, else mber_email_<hash of Email>",
)
_PRODUCT = ExportField(
    "product_id",
    ("product id", "product", "product name", "product title", "access pass"),
    "product",
    "a prod_… id as is; a name becomes prod_export_<name>",
)
_PLAN = ExportField(
    "plan_id",
    ("plan id", "plan", "plan name", "plan title", "pricing option"),
    "plan",
    "a plan_… id as is; a name becomes plan_export_<product>_<plan>",
)

EXPORT_FIELDS: dict[str, tuple[ExportField, ...]] = {
    "members": (
        ExportField(
            "id",
            ("member id", "id", "user id", "email", "customer email"),
            "member",
            "Member ID (a user_… id counts as User ID), else mber_user_<User ID>, else mber_email_<hash of Email>",
        ),
        ExportField("user_id", ("user id",), "text"),
        ExportField("email", ("email", "email address", "customer email"), "text"),
        ExportField("username", ("username", "user name"), "text"),
        ExportField("display_name", ("name", "display name", "full name", "customer name"), "text"),
        ExportField("phone_number", ("phone", "phone number"), "text"),
        ExportField(
            "status",
            ("status", "member status"),
            "status",
            "Active/Joined → joined, Left/Churned → left; no column: joined",
        ),
        ExportField(
            "joined_at", ("joined at", "date joined", "join date", "joined", "created at", "date"), "timestamp"
        ),
        ExportField(
            "created_at", ("created at", "joined at", "date joined", "join date", "joined", "date"), "timestamp"
        ),
        ExportField("last_accessed_at", ("last accessed at", "last active", "last seen"), "timestamp"),
        ExportField(
            "usd_total_spent_minor", ("total spent", "usd total spent", "lifetime value", "ltv"), "amount", "in usd"
        ),
    ),
    "memberships": (
        ExportField("id", ("membership id", "id", "membership"), "text"),
        _MEMBER,
        ExportField("user_id", ("user id",), "text"),
        _PRODUCT,
        _PLAN,
        ExportField("status", ("status", "membership status"), "status", "Cancelled → canceled, Past Due → past_due"),
        ExportField("currency", ("currency",), "lower"),
        ExportField(
            "renewal_price_minor", ("renewal price", "price", "amount", "recurring price"), "amount", "major units"
        ),
        ExportField("initial_price_minor", ("initial price",), "amount", "major units"),
        ExportField(
            "created_at",
            ("created at", "date", "created", "start date", "started at", "joined at", "purchased at"),
            "timestamp",
        ),
        ExportField(
            "current_period_start", ("renewal period start", "current period start", "period start"), "timestamp"
        ),
        ExportField(
            "current_period_end",
            (
                "renewal period end",
                "current period end",
                "period end",
                "next renewal",
                "renews at",
                "next billing date",
            ),
            "timestamp",
        ),
        ExportField("expires_at", ("expires at", "expiration date", "expiry"), "timestamp"),
        ExportField("canceled_at", ("canceled at", "cancelled at", "cancellation date"), "timestamp"),
        ExportField("cancel_at_period_end", ("cancel at period end",), "boolean"),
        ExportField("cancel_option", ("cancel option",), "status"),
        ExportField("cancellation_reason", ("cancellation reason", "cancel reason"), "text"),
        ExportField("promo_code_id", ("promo code", "promo code id", "coupon"), "text"),
        ExportField("updated_at", ("updated at",), "timestamp"),
    ),
    "payments": (
        ExportField("id", ("payment id", "receipt id", "id", "receipt", "transaction id"), "text"),
        ExportField("membership_id", ("membership id", "membership"), "text"),
        _MEMBER,
        ExportField("user_id", ("user id",), "text"),
        _PRODUCT,
        _PLAN,
        ExportField("status", ("status", "payment status"), "status", "see the payment status table"),
        ExportField("substatus", ("substatus",), "status"),
        ExportField("billing_reason", ("billing reason",), "status"),
        ExportField("currency", ("currency",), "lower"),
        ExportField(
            "total_minor",
            ("total", "amount", "final amount", "total paid", "amount paid", "price"),
            "amount",
            "major units",
        ),
        ExportField("subtotal_minor", ("subtotal",), "amount", "major units"),
        ExportField("tax_minor", ("tax", "tax amount"), "amount", "major units"),
        ExportField("amount_after_fees_minor", ("amount after fees", "net amount", "net"), "amount", "major units"),
        ExportField(
            "refunded_amount_minor", ("refunded amount", "amount refunded", "refunded"), "amount", "major units"
        ),
        ExportField("refunded_at", ("refunded at", "refund date"), "timestamp"),
        ExportField("paid_at", ("paid at", "payment date"), "timestamp"),
        ExportField("created_at", ("created at", "date", "created", "paid at", "payment date"), "timestamp"),
        ExportField("failure_message", ("failure message", "failure reason", "error"), "text"),
        ExportField("decline_code", ("decline code",), "text"),
        ExportField("promo_code_id", ("promo code", "coupon"), "text"),
        ExportField("updated_at", ("updated at",), "timestamp"),
    ),
}

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "members": ("id",),
    "memberships": ("id", "member_id", "product_id", "status", "created_at"),
    "payments": ("id", "status", "total_minor", "created_at"),
}

STATUS_ALIASES: dict[str, dict[str, str]] = {
    "members": {"active": "joined", "member": "joined", "joined": "joined", "left": "left", "churned": "left"},
    "memberships": {
        "cancelled": "canceled",
        "cancelling": "canceling",
        "trial": "trialing",
        "in_trial": "trialing",
        "free_trial": "trialing",
        "pastdue": "past_due",
        "ended": "expired",
    },
}

# Dashboard payment statuses -> Whop (status, substatus). Whop's ReceiptStatus has no "refunded": refunds are
# paid receipts with a refund substatus.
PAYMENT_STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "succeeded": ("paid", "succeeded"),
    "successful": ("paid", "succeeded"),
    "success": ("paid", "succeeded"),
    "paid": ("paid", "succeeded"),
    "complete": ("paid", "succeeded"),
    "completed": ("paid", "succeeded"),
    "refunded": ("paid", "refunded"),
    "partially_refunded": ("paid", "partially_refunded"),
    "auto_refunded": ("paid", "auto_refunded"),
    "failed": ("open", "failed"),
    "declined": ("open", "failed"),
    "past_due": ("open", "past_due"),
    "pending": ("pending", "pending"),
    "processing": ("pending", "pending"),
    "canceled": ("void", "canceled"),
    "cancelled": ("void", "canceled"),
    "void": ("void", "canceled"),
    "voided": ("void", "canceled"),
    "uncollectible": ("uncollectible", "uncollectible"),
    "draft": ("draft", "drafted"),
    "drafted": ("draft", "drafted"),
    "open": ("open", None),
    "authorized": ("authorized", "requires_capture"),
    "unresolved": ("unresolved", "unresolved"),
}
