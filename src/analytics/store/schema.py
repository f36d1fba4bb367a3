"""The store's schema: one SQLAlchemy ``MetaData`` for every domain of the product.

Conventions (the import docs and every module rely on them):

* Every domain row is scoped by ``account_id`` (the Whop ``biz_…`` id) and keyed by ``(account_id, id)``; the
  composite key makes each query account-scoped by construction and each upsert idempotent on its natural key.
  Operational tables that can exist before an account is known (webhook inbox, quarantine, job runs) have a
  nullable ``account_id``; ``fx_rates`` is market data shared by all accounts.
* Money: ``*_minor`` integer minor units plus a ``currency`` column (lower-case ISO 4217). Never floats.
* Time: :class:`~analytics.store.types.UTCDateTime` columns named ``*_at``; calendar days are ``Date``.
* Whop enumerations are plain strings validated on the way in (:mod:`analytics.store.enums`).
* ``properties``/``metadata``-like payloads are JSON.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn

from analytics.store.keys import DERIVED_KEY, key_default
from analytics.store.types import ExactDecimal, JSONType, UTCDateTime

__all__ = ["DOMAIN_TABLES", "DUCKDB_COMPRESSION", "metadata"]

#: ``Column.info`` key: the compression DuckDB stores the column with (``USING COMPRESSION …`` in its DDL; the
#: other engines ignore it). It applies when a table is created from this metadata: ``analytics optimize``
#: re-creates DuckDB's event logs from these definitions, so a store made by the migrations gets it there.
DUCKDB_COMPRESSION = "duckdb_compression"


@compiles(CreateColumn, "duckdb")
def _duckdb_column(element: CreateColumn, compiler: Any, **kw: Any) -> str | None:
    """DuckDB column DDL, with ``USING COMPRESSION`` when the column asks for one (:data:`DUCKDB_COMPRESSION`)."""
    text: str | None = compiler.visit_create_column(element, **kw)
    method = element.element.info.get(DUCKDB_COMPRESSION)
    return f"{text} USING COMPRESSION {method}" if text and method else text


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Str = sa.String(255)
Text = sa.Text()
Money = sa.BigInteger()
Currency = sa.String(3)


def _ts(name: str, nullable: bool = True, comment: str | None = None) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable, comment=comment)


def _member_key(source: str) -> sa.Column[object]:
    """``member_key``: the integer key of the row's member id (:mod:`analytics.store.keys`), filled by every writer.

    Core inserts get it from the column default; imports and bulk loads derive it (``info[DERIVED_KEY]`` names the
    id column it comes from), so no file or API payload carries it.
    """
    return sa.Column(
        "member_key",
        sa.BigInteger,
        nullable=False,
        default=key_default(source),
        info={DERIVED_KEY: source},
        comment=f"integer key of {source}: first 15 hex digits of md5({source}) (analytics.store.keys)",
    )


def _scoped(name: str, *columns: sa.Column[object] | sa.Index | sa.Constraint, comment: str) -> sa.Table:
    """A domain table keyed by (account_id, id)."""
    return sa.Table(
        name,
        metadata,
        sa.Column("account_id", Str, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("id", Str, primary_key=True),
        *columns,
        comment=comment,
    )


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", Str, primary_key=True, comment="Whop account (company) id, biz_…"),
    sa.Column("title", Str, nullable=False),
    sa.Column("route", Str),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("reporting_currency", Currency, nullable=False, server_default="usd"),
    _ts("created_at"),
    _ts("updated_at"),
    comment="Creator accounts (Whop companies); every other row belongs to one.",
)

products = _scoped(
    "products",
    sa.Column("title", Str, nullable=False),
    sa.Column("route", Str),
    sa.Column("category", sa.String(64), comment="community | course | trading | software | other"),
    sa.Column("visibility", sa.String(32)),
    sa.Column("description", Text),
    _ts("created_at"),
    _ts("updated_at"),
    comment="Whop products (access passes).",
)

plans = _scoped(
    "plans",
    sa.Column("product_id", Str, nullable=False),
    sa.Column("title", Str),
    sa.Column("plan_type", sa.String(16), nullable=False, comment="renewal | one_time"),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("initial_price_minor", Money, nullable=False),
    sa.Column("renewal_price_minor", Money, nullable=False),
    sa.Column("billing_period_days", sa.Integer, comment="null for one_time plans"),
    sa.Column("trial_period_days", sa.Integer),
    sa.Column("visibility", sa.String(32)),
    sa.Column("release_method", sa.String(32)),
    _ts("created_at"),
    _ts("updated_at"),
    comment="Whop variants (plans): price, currency, billing period in days, plan type, trial days.",
)

members = _scoped(
    "members",
    sa.Column("user_id", Str),
    sa.Column("email", Str),
    sa.Column("username", Str),
    sa.Column("display_name", Str),
    sa.Column("phone_number", sa.String(32)),
    sa.Column("country", sa.String(2)),
    sa.Column("status", sa.String(16), nullable=False, comment="joined | left"),
    sa.Column("access_level", sa.String(16)),
    sa.Column("most_recent_action", sa.String(32)),
    _ts("most_recent_action_at"),
    _ts("joined_at"),
    _ts("last_accessed_at"),
    sa.Column("usd_total_spent_minor", Money),
    _ts("created_at"),
    _ts("updated_at"),
    _member_key("id"),
    sa.Index(None, "account_id", "user_id"),
    sa.Index(None, "account_id", "member_key", unique=True),  # two members never share a key (analytics.store.keys)
    comment="Whop members: one buyer's relationship with the account.",
)

memberships = _scoped(
    "memberships",
    sa.Column("member_id", Str, nullable=False),
    sa.Column("user_id", Str),
    sa.Column("product_id", Str, nullable=False),
    sa.Column("plan_id", Str, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="Whop MembershipStatus"),
    sa.Column("currency", Currency),
    sa.Column("initial_price_minor", Money),
    sa.Column("renewal_price_minor", Money),
    sa.Column("billing_period_days", sa.Integer),
    _ts("current_period_start"),
    _ts("current_period_end"),
    sa.Column("cancel_at_period_end", sa.Boolean, nullable=False, server_default=sa.false()),
    _ts("canceled_at"),
    sa.Column("cancel_option", sa.String(32), comment="Whop cancel_option: too_expensive, switching, …"),
    sa.Column("cancellation_reason", Text),
    sa.Column("promo_code_id", Str),
    sa.Column("affiliate_id", Str),
    _ts("trial_ends_at"),
    _ts("expires_at"),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    sa.Index(None, "account_id", "member_id"),
    sa.Index(None, "account_id", "created_at"),
    comment="Whop memberships: a member's access to one product through one plan.",
)

membership_status_changes = _scoped(
    "membership_status_changes",
    sa.Column("membership_id", Str, nullable=False),
    sa.Column("member_id", Str, nullable=False),
    _ts("changed_at", nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="status from changed_at until the next change"),
    sa.Column("previous_status", sa.String(16)),
    sa.Column("plan_id", Str),
    sa.Column("currency", Currency),
    sa.Column("renewal_price_minor", Money, comment="recurring price in force from changed_at (after discounts)"),
    sa.Column("billing_period_days", sa.Integer),
    sa.Column("cancel_at_period_end", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.String(16), comment="sync | webhook | import | demo"),
    sa.Index(None, "account_id", "membership_id", "changed_at"),
    sa.Index(None, "account_id", "changed_at"),
    comment="Each row is a membership's state from changed_at on; the history MRR movements are computed from.",
)

payments = _scoped(
    "payments",
    sa.Column("member_id", Str),
    sa.Column("membership_id", Str),
    sa.Column("user_id", Str),
    sa.Column("product_id", Str),
    sa.Column("plan_id", Str),
    sa.Column("promo_code_id", Str),
    sa.Column("status", sa.String(16), nullable=False, comment="Whop ReceiptStatus (no 'refunded' value)"),
    sa.Column("substatus", sa.String(40), comment="Whop FriendlyReceiptStatus (refunded, failed, …)"),
    sa.Column("billing_reason", sa.String(32)),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("subtotal_minor", Money),
    sa.Column("total_minor", Money, nullable=False, comment="account-facing total, excludes buyer fees"),
    sa.Column("tax_minor", Money),
    sa.Column("amount_after_fees_minor", Money),
    sa.Column("usd_total_minor", Money),
    sa.Column("refunded_amount_minor", Money, nullable=False, server_default="0"),
    _ts("refunded_at"),
    _ts("paid_at"),
    sa.Column("payments_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failure_message", Text),
    sa.Column("decline_code", sa.String(64)),
    _ts("last_payment_attempt_at"),
    _ts("next_payment_attempt_at"),
    sa.Column("ip_hash", sa.String(64), comment="salted hash of the buyer IP (fraud signals)"),
    sa.Column("payment_method_fingerprint", sa.String(64)),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    sa.Index(None, "account_id", "created_at"),
    sa.Index(None, "account_id", "member_id"),
    sa.Index(None, "account_id", "membership_id"),
    comment="Whop payments (receipts) with status/substatus, exact amounts, refunds and failures.",
)

refunds = _scoped(
    "refunds",
    sa.Column("payment_id", Str, nullable=False),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("amount_minor", Money, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32)),
    sa.Column("provider", sa.String(32)),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    sa.Index(None, "account_id", "payment_id"),
    comment="Whop refunds.",
)

disputes = _scoped(
    "disputes",
    sa.Column("payment_id", Str, nullable=False),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("amount_minor", Money, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(64)),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    comment="Payment disputes (chargebacks) and their outcome.",
)

promo_codes = _scoped(
    "promo_codes",
    sa.Column("code", Str, nullable=False),
    sa.Column("promo_type", sa.String(16), nullable=False, comment="percentage | flat_amount"),
    sa.Column("percent_off", ExactDecimal(), comment="percentage promos: 25 means 25 %"),
    sa.Column("amount_off_minor", Money, comment="flat_amount promos, in currency"),
    sa.Column("currency", Currency),
    sa.Column("duration", sa.String(16), comment="forever | once | repeating"),
    sa.Column("duration_months", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("product_id", Str),
    sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stock", sa.Integer),
    _ts("expires_at"),
    _ts("created_at"),
    _ts("updated_at"),
    comment="Whop promo codes.",
)

courses = _scoped(
    "courses",
    sa.Column("product_id", Str),
    sa.Column("title", Str, nullable=False),
    sa.Column("total_lessons_count", sa.Integer),
    _ts("created_at"),
    _ts("updated_at"),
    comment="Whop courses.",
)

lessons = _scoped(
    "lessons",
    sa.Column("course_id", Str, nullable=False),
    sa.Column("chapter_id", Str),
    sa.Column("chapter_title", Str),
    sa.Column("title", Str, nullable=False),
    sa.Column("lesson_type", sa.String(16)),
    sa.Column("position", sa.Integer, nullable=False, comment="order within the course, from 1"),
    _ts("created_at"),
    sa.Index(None, "account_id", "course_id", "position"),
    comment="Course lessons in order.",
)

lesson_interactions = _scoped(
    "lesson_interactions",
    sa.Column("lesson_id", Str, nullable=False),
    sa.Column("course_id", Str),
    sa.Column("user_id", Str),
    sa.Column("member_id", Str),
    sa.Column("completed", sa.Boolean, nullable=False, server_default=sa.false()),
    _ts("created_at", nullable=False),
    _ts("completed_at"),
    _ts("updated_at"),
    sa.Index(None, "account_id", "lesson_id"),
    sa.Index(None, "account_id", "member_id"),
    comment="A member's progress on a lesson (Whop course lesson interactions).",
)

posts = _scoped(
    "posts",
    sa.Column("experience_id", Str),
    sa.Column("member_id", Str),
    sa.Column("user_id", Str),
    sa.Column("parent_id", Str, comment="set for comments"),
    sa.Column("title", Str),
    sa.Column("view_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("comment_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("like_count", sa.Integer, nullable=False, server_default="0"),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    comment="Forum posts and comments (content).",
)

chat_channels = _scoped(
    "chat_channels",
    sa.Column("experience_id", Str),
    sa.Column("product_id", Str),
    sa.Column("name", Str),
    _ts("created_at"),
    comment="Whop chat channels.",
)

activity_events = _scoped(
    "activity_events",
    # DuckDB: stored uncompressed. Every engagement metric and funnel groups or joins the log by member; with
    # DuckDB's default (FSST dictionaries) each scan first decompresses the 16-character Whop ids: the 3-step
    # funnel's SQL over 20.9M events took 1.18 s that way and 0.79 s uncompressed (+230 MB on disk for those ids).
    sa.Column("member_id", Str, nullable=False, info={DUCKDB_COMPRESSION: "uncompressed"}),
    sa.Column("kind", sa.String(32), nullable=False, comment="login | message | post | view | lesson_complete | …"),
    _ts("occurred_at", nullable=False),
    sa.Column("product_id", Str),
    sa.Column("object_id", Str, comment="the lesson, post, channel or page the event is about"),
    sa.Column("channel", sa.String(32), comment="whop_chat | forum | course | whatsapp | web | …"),
    sa.Column("properties", JSONType),
    _member_key("member_id"),  # DuckDB's engagement metrics and funnels group and join by it
    sa.Index(None, "account_id", "occurred_at", "kind", "member_id"),
    sa.Index(None, "account_id", "member_id", "occurred_at"),
    sa.Index(None, "account_id", "kind", "member_id", "occurred_at"),  # funnels: first event of a kind per member
    comment="Generic member activity: logins, messages, posts, views, lesson progress, funnel steps.",
)

wa_contacts = _scoped(
    "wa_contacts",
    sa.Column("wa_id", sa.String(32), nullable=False),
    sa.Column("member_id", Str),
    sa.Column("profile_name", Str),
    sa.Column("phone_number_id", sa.String(32), comment="our business phone number"),
    sa.Column("opted_in", sa.Boolean, nullable=False, server_default=sa.true()),
    _ts("created_at"),
    _ts("updated_at"),
    comment="WhatsApp contacts (wa_id), linked to members where known.",
)

wa_templates = _scoped(
    "wa_templates",
    sa.Column("name", Str, nullable=False),
    sa.Column("language", sa.String(16)),
    sa.Column("category", sa.String(32)),
    sa.Column("status", sa.String(32)),
    sa.Column("quality_score", sa.String(16)),
    _ts("updated_at"),
    comment="WhatsApp message templates and their review status/quality.",
)

wa_campaigns = _scoped(
    "wa_campaigns",
    sa.Column("name", Str, nullable=False),
    sa.Column("template_id", Str),
    sa.Column("phone_number_id", sa.String(32)),
    _ts("started_at"),
    _ts("created_at"),
    comment="WhatsApp broadcast campaigns.",
)

wa_conversations = _scoped(
    "wa_conversations",
    sa.Column("contact_id", Str, nullable=False),
    sa.Column("origin_type", sa.String(32)),
    sa.Column("status", sa.String(16), comment="open | closed"),
    _ts("opened_at"),
    _ts("expires_at"),
    _ts("closed_at"),
    _ts("first_response_at"),
    comment="WhatsApp conversations (pricing windows / support threads).",
)

wa_messages = _scoped(
    "wa_messages",
    sa.Column("contact_id", Str, nullable=False),
    sa.Column("direction", sa.String(8), nullable=False, comment="inbound | outbound"),
    sa.Column("campaign_id", Str),
    sa.Column("conversation_id", Str),
    sa.Column("phone_number_id", sa.String(32)),
    sa.Column("message_type", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False, comment="furthest status reached (read implies delivered)"),
    sa.Column("error_code", sa.Integer),
    sa.Column("pricing_category", sa.String(32)),
    sa.Column("billable", sa.Boolean),
    sa.Column("context_message_id", Str, comment="the message this one replies to"),
    _ts("sent_at", nullable=False),
    _ts("delivered_at"),
    _ts("read_at"),
    _ts("failed_at"),
    _ts("updated_at"),
    sa.Index(None, "account_id", "sent_at"),
    sa.Index(None, "account_id", "contact_id", "sent_at"),
    comment="WhatsApp messages (id = wamid) with the furthest status reached.",
)

wa_status_updates = _scoped(
    "wa_status_updates",
    sa.Column("message_id", Str, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _ts("occurred_at", nullable=False),
    sa.Column("recipient_id", sa.String(32)),
    sa.Column("conversation_id", Str),
    sa.Column("pricing_category", sa.String(32)),
    sa.Column("billable", sa.Boolean),
    sa.Column("error_code", sa.Integer),
    sa.Column("error_title", Str),
    _ts("received_at"),
    sa.Index(None, "account_id", "message_id"),
    comment="Every WhatsApp status webhook, idempotent by (wamid, status).",
)

affiliates = _scoped(
    "affiliates",
    sa.Column("member_id", Str),
    sa.Column("user_id", Str),
    sa.Column("code", Str),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("commission_type", sa.String(16), comment="percentage | flat_fee"),
    sa.Column("commission_percent", ExactDecimal()),
    sa.Column("commission_amount_minor", Money),
    sa.Column("currency", Currency),
    _ts("created_at"),
    _ts("updated_at"),
    comment="Affiliates who refer members for a commission.",
)

referral_clicks = _scoped(
    "referral_clicks",
    sa.Column("affiliate_id", Str, nullable=False),
    _ts("clicked_at", nullable=False),
    sa.Column("ip_hash", sa.String(64)),
    sa.Column("device_hash", sa.String(64)),
    sa.Column("user_agent", Str),
    sa.Column("landing_url", Text),
    sa.Column("is_bot", sa.Boolean),
    sa.Index(None, "account_id", "affiliate_id", "clicked_at"),
    comment="Clicks on referral links (IPs and devices stored as salted hashes).",
)

referrals = _scoped(
    "referrals",
    sa.Column("affiliate_id", Str, nullable=False),
    sa.Column("click_id", Str),
    sa.Column("member_id", Str, nullable=False, comment="the referred member"),
    sa.Column("membership_id", Str),
    _ts("signed_up_at", nullable=False),
    sa.Column("first_payment_id", Str),
    sa.Column("ip_hash", sa.String(64)),
    sa.Column("device_hash", sa.String(64)),
    comment="Attributed signups: click → signup → first payment.",
)

shares = _scoped(
    "shares",
    sa.Column("affiliate_id", Str),
    sa.Column("member_id", Str),
    sa.Column("platform", sa.String(16), nullable=False),
    _ts("shared_at", nullable=False),
    comment="Share events by platform.",
)

commissions = _scoped(
    "commissions",
    sa.Column("affiliate_id", Str, nullable=False),
    sa.Column("referral_id", Str),
    sa.Column("payment_id", Str),
    sa.Column("member_id", Str),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("amount_minor", Money, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    comment="Affiliate commissions per payment.",
)

fx_rates = sa.Table(
    "fx_rates",
    metadata,
    sa.Column("rate_date", sa.Date, primary_key=True),
    sa.Column("currency", Currency, primary_key=True),
    sa.Column("quote_currency", Currency, primary_key=True),
    sa.Column("rate", ExactDecimal(), nullable=False, comment="1 currency = rate quote_currency"),
    sa.Column("source", Str),
    comment="Exchange rates by date for reporting-currency conversion (shared market data).",
)

webhook_inbox = sa.Table(
    "webhook_inbox",
    metadata,
    sa.Column("id", Str, primary_key=True, comment="source:webhook-id (dedupe key)"),
    sa.Column("source", sa.String(16), nullable=False, comment="whop | whop_v5 | whatsapp"),
    sa.Column("account_id", Str),
    sa.Column("event_type", sa.String(64)),
    _ts("received_at", nullable=False),
    sa.Column("headers", JSONType),
    sa.Column("body", Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="received | processed | ignored | failed"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    _ts("processed_at"),
    sa.Column("error", Text),
    sa.Index(None, "status", "received_at"),
    comment="Raw accepted webhook deliveries, written before processing so nothing is lost.",
)

webhook_versions = sa.Table(
    "webhook_versions",
    metadata,
    sa.Column("table_name", sa.String(64), primary_key=True, comment="the table the record is in (memberships, …)"),
    sa.Column("account_id", Str, primary_key=True),
    sa.Column("record_id", Str, primary_key=True),
    _ts("updated_at", comment="the record's updated_at as the delivery whose state is stored gave it"),
    _ts("delivered_at", comment="that delivery's own timestamp (envelope timestamp, else its signature time)"),
    comment="Which webhook delivery's state each record holds, so deliveries that tie on updated_at are ordered "
    "by their own timestamps (analytics.sources.whop.delivery_order); also the per-record lock of the webhooks.",
)

sync_checkpoints = sa.Table(
    "sync_checkpoints",
    metadata,
    sa.Column("account_id", Str, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("cursor", Text, comment="page cursor of an unfinished run (resume point)"),
    _ts("high_watermark", comment="newest created_at/updated_at fully synced"),
    _ts("run_started_at"),
    sa.Column("job_run_id", Str),
    _ts("updated_at"),
    comment="Where each resource's sync got to, per account.",
)

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("id", Str, primary_key=True),
    sa.Column("account_id", Str),
    sa.Column("kind", sa.String(32), nullable=False, comment="import | sync | snapshot | report | demo | train | …"),
    sa.Column("status", sa.String(16), nullable=False, comment="running | succeeded | failed | abandoned"),
    _ts("started_at", nullable=False),
    _ts("finished_at"),
    _ts("heartbeat_at", comment="last sign of life of a running job (analytics.store.jobs)"),
    sa.Column("params", JSONType),
    sa.Column("summary", JSONType),
    sa.Column("error", Text),
    sa.Index(None, "kind", "started_at"),
    comment="Every import, sync, snapshot, report and training run with its summary.",
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", Str, primary_key=True),
    sa.Column("account_id", Str),
    sa.Column("source", sa.String(16), nullable=False, comment="import | sync | webhook"),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("file", Text),
    sa.Column("row_number", sa.Integer),
    sa.Column("column_name", sa.String(64)),
    sa.Column("reason", Text, nullable=False),
    sa.Column("raw", Text, comment="the rejected row/item as JSON"),
    sa.Column("job_run_id", Str),
    _ts("created_at", nullable=False),
    _ts("resolved_at"),
    sa.Column("resource", sa.String(64), comment="API resource of a rejected sync item (memberships, messages, …)"),
    sa.Column("item_id", Str, comment="API id of a rejected sync item: the next sync fetches it again by id"),
    sa.Column("parent", JSONType, comment="parent ids the item was listed under (channel_id, course_id, …)"),
    sa.Index(None, "table_name", "created_at"),
    sa.Index(None, "account_id", "item_id"),
    comment="Rejected rows and items with the reason; nothing is dropped silently.",
)

snapshots = _scoped(
    "snapshots",
    sa.Column("period", sa.String(8), nullable=False, comment="daily | weekly | monthly"),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("channel", sa.String(64), nullable=False, server_default="", comment="'' = the whole account"),
    sa.Column("metrics", JSONType, nullable=False),
    sa.Column("growth", JSONType),
    sa.Column("policies", JSONType, nullable=False),
    sa.Column("definitions_version", sa.String(32), nullable=False),
    _ts("computed_at", nullable=False),
    sa.Column("job_run_id", Str),
    sa.UniqueConstraint("account_id", "period", "period_start", "channel"),
    comment="Per-period metric snapshots: what dashboards and reports read.",
)

model_registry = _scoped(
    "model_registry",
    sa.Column("kind", sa.String(32), nullable=False, comment="churn | fraud"),
    sa.Column("estimator", Str, nullable=False),
    sa.Column("artifact_path", Text, nullable=False),
    sa.Column("artifact_sha256", sa.String(64), nullable=False),
    sa.Column("features", JSONType, nullable=False),
    sa.Column("metrics", JSONType),
    sa.Column("card", JSONType),
    sa.Column("training_start", sa.Date),
    sa.Column("training_end", sa.Date),
    sa.Column("is_current", sa.Boolean, nullable=False, server_default=sa.false()),
    _ts("created_at", nullable=False),
    _ts("promoted_at"),
    comment="Trained models (safe format) with card, features, window and backtest metrics.",
)

churn_predictions = _scoped(
    "churn_predictions",
    sa.Column("member_id", Str, nullable=False),
    sa.Column("model_id", Str, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("risk_level", sa.String(16), nullable=False, comment="low | medium | high | critical"),
    sa.Column("factors", JSONType),
    sa.Column("actions", JSONType),
    sa.Column("action_taken", sa.Boolean),
    _ts("action_taken_at"),
    sa.Column("churned", sa.Boolean, comment="outcome once the horizon has passed"),
    _ts("outcome_at"),
    _ts("created_at", nullable=False),
    sa.UniqueConstraint("account_id", "model_id", "member_id", "as_of"),
    comment="Churn risk per paying member with factors, actions and later outcomes.",
)

computed_results = _scoped(
    "computed_results",
    sa.Column("kind", sa.String(64), nullable=False, comment="what the result is (analytics.store.results.KINDS)"),
    sa.Column("as_of", sa.Date, nullable=False, comment="computed from the data before this day"),
    sa.Column("parameters", JSONType, nullable=False, comment="the inputs it was computed with"),
    sa.Column("definitions_version", sa.String(32), nullable=False),
    sa.Column("payload", JSONType, nullable=False, comment="the result frame: columns, types, data, attrs"),
    sa.Column("notes", JSONType, nullable=False, comment="quality notes shown with the result (a list of texts)"),
    _ts("computed_at", nullable=False),
    sa.Column("job_run_id", Str),
    sa.UniqueConstraint("account_id", "kind", "as_of"),
    comment="Results a job computed ahead for pages: retention projection, revenue forecast, cohort tables.",
)

fraud_flags = _scoped(
    "fraud_flags",
    sa.Column("subject_type", sa.String(16), nullable=False, comment="referral | click | commission | affiliate"),
    sa.Column("subject_id", Str, nullable=False),
    sa.Column("affiliate_id", Str),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("band", sa.String(8), nullable=False, comment="low | medium | high"),
    sa.Column("signals", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="open | approved | blocked"),
    _ts("created_at", nullable=False),
    _ts("reviewed_at"),
    sa.Column("reviewer", Str),
    comment="Referral fraud scores with explained signals and the review queue.",
)

coach_conversations = _scoped(
    "coach_conversations",
    sa.Column("title", Str),
    _ts("created_at", nullable=False),
    comment="AI coach conversations.",
)

coach_messages = _scoped(
    "coach_messages",
    sa.Column("conversation_id", Str, nullable=False),
    sa.Column("role", sa.String(16), nullable=False, comment="user | assistant"),
    sa.Column("content", Text, nullable=False),
    sa.Column("grounding", JSONType, comment="the snapshot numbers the answer was grounded in"),
    _ts("created_at", nullable=False),
    sa.Index(None, "account_id", "conversation_id", "created_at"),
    comment="Messages of AI coach conversations.",
)

DOMAIN_TABLES: tuple[str, ...] = tuple(
    t.name for t in metadata.sorted_tables if {"account_id", "id"} <= set(t.c.keys()) and t.c.account_id.primary_key
)
