"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 08:40:12.378176
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import analytics.store.types

from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=255), nullable=False, comment="Whop account (company) id, biz_…"),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("route", sa.String(length=255), nullable=True),
        sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("reporting_currency", sa.String(length=3), server_default="usd", nullable=False),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        comment="Creator accounts (Whop companies); every other row belongs to one.",
    )
    op.create_table(
        "fx_rates",
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quote_currency", sa.String(length=3), nullable=False),
        sa.Column(
            "rate",
            analytics.store.types.ExactDecimal(precision=24, scale=10),
            nullable=False,
            comment="1 currency = rate quote_currency",
        ),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("rate_date", "currency", "quote_currency", name=op.f("pk_fx_rates")),
        comment="Exchange rates by date for reporting-currency conversion (shared market data).",
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="import | sync | snapshot | report | demo | train | …",
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="running | succeeded | failed"),
        sa.Column("started_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        comment="Every import, sync, snapshot, report and training run with its summary.",
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_kind_started_at"), ["kind", "started_at"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False, comment="import | sync | webhook"),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("column_name", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True, comment="the rejected row/item as JSON"),
        sa.Column("job_run_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        comment="Rejected rows and items with the reason; nothing is dropped silently.",
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_table_name_created_at"), ["table_name", "created_at"], unique=False
        )

    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.String(length=255), nullable=False, comment="source:webhook-id (dedupe key)"),
        sa.Column("source", sa.String(length=16), nullable=False, comment="whop | whop_v5 | whatsapp"),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=True),
        sa.Column("received_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, comment="received | processed | ignored | failed"),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("processed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_inbox")),
        comment="Raw accepted webhook deliveries, written before processing so nothing is lost.",
    )
    with op.batch_alter_table("webhook_inbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_inbox_status_received_at"), ["status", "received_at"], unique=False
        )

    op.create_table(
        "activity_events",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="login | message | post | view | lesson_complete | …",
        ),
        sa.Column("occurred_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column(
            "object_id",
            sa.String(length=255),
            nullable=True,
            comment="the lesson, post, channel or page the event is about",
        ),
        sa.Column(
            "channel",
            sa.String(length=32),
            nullable=True,
            comment="whop_chat | forum | course | whatsapp | web | …",
        ),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_activity_events_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_activity_events")),
        comment="Generic member activity: logins, messages, posts, views, lesson progress, funnel steps.",
    )
    with op.batch_alter_table("activity_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_events_account_id_member_id_occurred_at"),
            ["account_id", "member_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_activity_events_account_id_occurred_at_kind_member_id"),
            ["account_id", "occurred_at", "kind", "member_id"],
            unique=False,
        )

    op.create_table(
        "affiliates",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("code", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("commission_type", sa.String(length=16), nullable=True, comment="percentage | flat_fee"),
        sa.Column("commission_percent", analytics.store.types.ExactDecimal(precision=24, scale=10), nullable=True),
        sa.Column("commission_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_affiliates_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_affiliates")),
        comment="Affiliates who refer members for a commission.",
    )
    op.create_table(
        "chat_channels",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("experience_id", sa.String(length=255), nullable=True),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_chat_channels_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_chat_channels")),
        comment="Whop chat channels.",
    )
    op.create_table(
        "churn_predictions",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("model_id", sa.String(length=255), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False, comment="low | medium | high | critical"),
        sa.Column(
            "factors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("action_taken", sa.Boolean(), nullable=True),
        sa.Column("action_taken_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("churned", sa.Boolean(), nullable=True, comment="outcome once the horizon has passed"),
        sa.Column("outcome_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_churn_predictions_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_churn_predictions")),
        sa.UniqueConstraint(
            "account_id",
            "model_id",
            "member_id",
            "as_of",
            name=op.f("uq_churn_predictions_account_id_model_id_member_id_as_of"),
        ),
        comment="Churn risk per paying member with factors, actions and later outcomes.",
    )
    op.create_table(
        "coach_conversations",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_coach_conversations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_coach_conversations")),
        comment="AI coach conversations.",
    )
    op.create_table(
        "coach_messages",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False, comment="user | assistant"),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "grounding",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="the snapshot numbers the answer was grounded in",
        ),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_coach_messages_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_coach_messages")),
        comment="Messages of AI coach conversations.",
    )
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coach_messages_account_id_conversation_id_created_at"),
            ["account_id", "conversation_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "commissions",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("affiliate_id", sa.String(length=255), nullable=False),
        sa.Column("referral_id", sa.String(length=255), nullable=True),
        sa.Column("payment_id", sa.String(length=255), nullable=True),
        sa.Column("member_id", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_commissions_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_commissions")),
        comment="Affiliate commissions per payment.",
    )
    op.create_table(
        "courses",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("total_lessons_count", sa.Integer(), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_courses_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_courses")),
        comment="Whop courses.",
    )
    op.create_table(
        "disputes",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("payment_id", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_disputes_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_disputes")),
        comment="Payment disputes (chargebacks) and their outcome.",
    )
    op.create_table(
        "fraud_flags",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column(
            "subject_type",
            sa.String(length=16),
            nullable=False,
            comment="referral | click | commission | affiliate",
        ),
        sa.Column("subject_id", sa.String(length=255), nullable=False),
        sa.Column("affiliate_id", sa.String(length=255), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False, comment="low | medium | high"),
        sa.Column(
            "signals",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="open | approved | blocked"),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_fraud_flags_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_fraud_flags")),
        comment="Referral fraud scores with explained signals and the review queue.",
    )
    op.create_table(
        "lesson_interactions",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("lesson_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("member_id", sa.String(length=255), nullable=True),
        sa.Column("completed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_lesson_interactions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_lesson_interactions")),
        comment="A member's progress on a lesson (Whop course lesson interactions).",
    )
    with op.batch_alter_table("lesson_interactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesson_interactions_account_id_lesson_id"),
            ["account_id", "lesson_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_lesson_interactions_account_id_member_id"),
            ["account_id", "member_id"],
            unique=False,
        )

    op.create_table(
        "lessons",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.String(length=255), nullable=False),
        sa.Column("chapter_id", sa.String(length=255), nullable=True),
        sa.Column("chapter_title", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("lesson_type", sa.String(length=16), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False, comment="order within the course, from 1"),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_lessons_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_lessons")),
        comment="Course lessons in order.",
    )
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lessons_account_id_course_id_position"),
            ["account_id", "course_id", "position"],
            unique=False,
        )

    op.create_table(
        "members",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("phone_number", sa.String(length=32), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, comment="joined | left"),
        sa.Column("access_level", sa.String(length=16), nullable=True),
        sa.Column("most_recent_action", sa.String(length=32), nullable=True),
        sa.Column("most_recent_action_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("joined_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_accessed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("usd_total_spent_minor", sa.BigInteger(), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_members_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_members")),
        comment="Whop members: one buyer's relationship with the account.",
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_account_id_user_id"), ["account_id", "user_id"], unique=False)

    op.create_table(
        "membership_status_changes",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("membership_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("changed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="status from changed_at until the next change",
        ),
        sa.Column("previous_status", sa.String(length=16), nullable=True),
        sa.Column("plan_id", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "renewal_price_minor",
            sa.BigInteger(),
            nullable=True,
            comment="recurring price in force from changed_at (after discounts)",
        ),
        sa.Column("billing_period_days", sa.Integer(), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True, comment="sync | webhook | import | demo"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_membership_status_changes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_membership_status_changes")),
        comment="Each row is a membership's state from changed_at on; the history MRR movements are computed from.",
    )
    with op.batch_alter_table("membership_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_status_changes_account_id_changed_at"),
            ["account_id", "changed_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_membership_status_changes_account_id_membership_id_changed_at"),
            ["account_id", "membership_id", "changed_at"],
            unique=False,
        )

    op.create_table(
        "memberships",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("product_id", sa.String(length=255), nullable=False),
        sa.Column("plan_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, comment="Whop MembershipStatus"),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("initial_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("renewal_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("billing_period_days", sa.Integer(), nullable=True),
        sa.Column("current_period_start", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("current_period_end", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("canceled_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "cancel_option",
            sa.String(length=32),
            nullable=True,
            comment="Whop cancel_option: too_expensive, switching, …",
        ),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("promo_code_id", sa.String(length=255), nullable=True),
        sa.Column("affiliate_id", sa.String(length=255), nullable=True),
        sa.Column("trial_ends_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_memberships_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_memberships")),
        comment="Whop memberships: a member's access to one product through one plan.",
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_account_id_created_at"), ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_memberships_account_id_member_id"), ["account_id", "member_id"], unique=False
        )

    op.create_table(
        "model_registry",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False, comment="churn | fraud"),
        sa.Column("estimator", sa.String(length=255), nullable=False),
        sa.Column("artifact_path", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "features",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "card",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("training_start", sa.Date(), nullable=True),
        sa.Column("training_end", sa.Date(), nullable=True),
        sa.Column("is_current", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_model_registry_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_model_registry")),
        comment="Trained models (safe format) with card, features, window and backtest metrics.",
    )
    op.create_table(
        "payments",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=True),
        sa.Column("membership_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column("plan_id", sa.String(length=255), nullable=True),
        sa.Column("promo_code_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, comment="Whop ReceiptStatus (no 'refunded' value)"),
        sa.Column(
            "substatus",
            sa.String(length=40),
            nullable=True,
            comment="Whop FriendlyReceiptStatus (refunded, failed, …)",
        ),
        sa.Column("billing_reason", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=True),
        sa.Column(
            "total_minor",
            sa.BigInteger(),
            nullable=False,
            comment="account-facing total, excludes buyer fees",
        ),
        sa.Column("tax_minor", sa.BigInteger(), nullable=True),
        sa.Column("amount_after_fees_minor", sa.BigInteger(), nullable=True),
        sa.Column("usd_total_minor", sa.BigInteger(), nullable=True),
        sa.Column("refunded_amount_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunded_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payments_failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("last_payment_attempt_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_payment_attempt_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "ip_hash",
            sa.String(length=64),
            nullable=True,
            comment="salted hash of the buyer IP (fraud signals)",
        ),
        sa.Column("payment_method_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_payments_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_payments")),
        comment="Whop payments (receipts) with status/substatus, exact amounts, refunds and failures.",
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_account_id_created_at"), ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_account_id_member_id"), ["account_id", "member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_account_id_membership_id"), ["account_id", "membership_id"], unique=False
        )

    op.create_table(
        "plans",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("plan_type", sa.String(length=16), nullable=False, comment="renewal | one_time"),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("initial_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("renewal_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("billing_period_days", sa.Integer(), nullable=True, comment="null for one_time plans"),
        sa.Column("trial_period_days", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=32), nullable=True),
        sa.Column("release_method", sa.String(length=32), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_plans_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_plans")),
        comment="Whop variants (plans): price, currency, billing period in days, plan type, trial days.",
    )
    op.create_table(
        "posts",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("experience_id", sa.String(length=255), nullable=True),
        sa.Column("member_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("parent_id", sa.String(length=255), nullable=True, comment="set for comments"),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("view_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("comment_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("like_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_posts_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_posts")),
        comment="Forum posts and comments (content).",
    )
    op.create_table(
        "products",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("route", sa.String(length=255), nullable=True),
        sa.Column(
            "category",
            sa.String(length=64),
            nullable=True,
            comment="community | course | trading | software | other",
        ),
        sa.Column("visibility", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_products_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_products")),
        comment="Whop products (access passes).",
    )
    op.create_table(
        "promo_codes",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("promo_type", sa.String(length=16), nullable=False, comment="percentage | flat_amount"),
        sa.Column(
            "percent_off",
            analytics.store.types.ExactDecimal(precision=24, scale=10),
            nullable=True,
            comment="percentage promos: 25 means 25 %",
        ),
        sa.Column("amount_off_minor", sa.BigInteger(), nullable=True, comment="flat_amount promos, in currency"),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("duration", sa.String(length=16), nullable=True, comment="forever | once | repeating"),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("expires_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_promo_codes_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_promo_codes")),
        comment="Whop promo codes.",
    )
    op.create_table(
        "referral_clicks",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("affiliate_id", sa.String(length=255), nullable=False),
        sa.Column("clicked_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("landing_url", sa.Text(), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_referral_clicks_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_referral_clicks")),
        comment="Clicks on referral links (IPs and devices stored as salted hashes).",
    )
    with op.batch_alter_table("referral_clicks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_clicks_account_id_affiliate_id_clicked_at"),
            ["account_id", "affiliate_id", "clicked_at"],
            unique=False,
        )

    op.create_table(
        "referrals",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("affiliate_id", sa.String(length=255), nullable=False),
        sa.Column("click_id", sa.String(length=255), nullable=True),
        sa.Column("member_id", sa.String(length=255), nullable=False, comment="the referred member"),
        sa.Column("membership_id", sa.String(length=255), nullable=True),
        sa.Column("signed_up_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_payment_id", sa.String(length=255), nullable=True),
        sa.Column("ip_hash", sa.String(length=64), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_referrals_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_referrals")),
        comment="Attributed signups: click → signup → first payment.",
    )
    op.create_table(
        "refunds",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("payment_id", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_refunds_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_refunds")),
        comment="Whop refunds.",
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refunds_account_id_payment_id"), ["account_id", "payment_id"], unique=False
        )

    op.create_table(
        "shares",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("affiliate_id", sa.String(length=255), nullable=True),
        sa.Column("member_id", sa.String(length=255), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("shared_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_shares_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_shares")),
        comment="Share events by platform.",
    )
    op.create_table(
        "snapshots",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False, comment="daily | weekly | monthly"),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column(
            "channel",
            sa.String(length=64),
            server_default="",
            nullable=False,
            comment="'' = the whole account",
        ),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "growth",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "policies",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("definitions_version", sa.String(length=32), nullable=False),
        sa.Column("computed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("job_run_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_snapshots_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_snapshots")),
        sa.UniqueConstraint(
            "account_id",
            "period",
            "period_start",
            "channel",
            name=op.f("uq_snapshots_account_id_period_period_start_channel"),
        ),
        comment="Per-period metric snapshots: what dashboards and reports read.",
    )
    op.create_table(
        "sync_checkpoints",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True, comment="page cursor of an unfinished run (resume point)"),
        sa.Column(
            "high_watermark",
            analytics.store.types.UTCDateTime(timezone=True),
            nullable=True,
            comment="newest created_at/updated_at fully synced",
        ),
        sa.Column("run_started_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("job_run_id", sa.String(length=255), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_sync_checkpoints_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "resource", name=op.f("pk_sync_checkpoints")),
        comment="Where each resource's sync got to, per account.",
    )
    op.create_table(
        "wa_campaigns",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("template_id", sa.String(length=255), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=True),
        sa.Column("started_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_wa_campaigns_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_wa_campaigns")),
        comment="WhatsApp broadcast campaigns.",
    )
    op.create_table(
        "wa_contacts",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=True),
        sa.Column("profile_name", sa.String(length=255), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=True, comment="our business phone number"),
        sa.Column("opted_in", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_wa_contacts_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_wa_contacts")),
        comment="WhatsApp contacts (wa_id), linked to members where known.",
    )
    op.create_table(
        "wa_conversations",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("contact_id", sa.String(length=255), nullable=False),
        sa.Column("origin_type", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True, comment="open | closed"),
        sa.Column("opened_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_wa_conversations_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_wa_conversations")),
        comment="WhatsApp conversations (pricing windows / support threads).",
    )
    op.create_table(
        "wa_messages",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("contact_id", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False, comment="inbound | outbound"),
        sa.Column("campaign_id", sa.String(length=255), nullable=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=True),
        sa.Column("message_type", sa.String(length=32), nullable=True),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="furthest status reached (read implies delivered)",
        ),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("pricing_category", sa.String(length=32), nullable=True),
        sa.Column("billable", sa.Boolean(), nullable=True),
        sa.Column(
            "context_message_id",
            sa.String(length=255),
            nullable=True,
            comment="the message this one replies to",
        ),
        sa.Column("sent_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("read_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_wa_messages_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_wa_messages")),
        comment="WhatsApp messages (id = wamid) with the furthest status reached.",
    )
    with op.batch_alter_table("wa_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wa_messages_account_id_contact_id_sent_at"),
            ["account_id", "contact_id", "sent_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_wa_messages_account_id_sent_at"), ["account_id", "sent_at"], unique=False)

    op.create_table(
        "wa_status_updates",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recipient_id", sa.String(length=32), nullable=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("pricing_category", sa.String(length=32), nullable=True),
        sa.Column("billable", sa.Boolean(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=255), nullable=True),
        sa.Column("received_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_wa_status_updates_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_wa_status_updates")),
        comment="Every WhatsApp status webhook, idempotent by (wamid, status).",
    )
    with op.batch_alter_table("wa_status_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wa_status_updates_account_id_message_id"),
            ["account_id", "message_id"],
            unique=False,
        )

    op.create_table(
        "wa_templates",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("quality_score", sa.String(length=16), nullable=True),
        sa.Column("updated_at", analytics.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_wa_templates_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_wa_templates")),
        comment="WhatsApp message templates and their review status/quality.",
    )


def downgrade() -> None:

    op.drop_table("wa_templates")
    with op.batch_alter_table("wa_status_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wa_status_updates_account_id_message_id"))

    op.drop_table("wa_status_updates")
    with op.batch_alter_table("wa_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wa_messages_account_id_sent_at"))
        batch_op.drop_index(batch_op.f("ix_wa_messages_account_id_contact_id_sent_at"))

    op.drop_table("wa_messages")
    op.drop_table("wa_conversations")
    op.drop_table("wa_contacts")
    op.drop_table("wa_campaigns")
    op.drop_table("sync_checkpoints")
    op.drop_table("snapshots")
    op.drop_table("shares")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_account_id_payment_id"))

    op.drop_table("refunds")
    op.drop_table("referrals")
    with op.batch_alter_table("referral_clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_clicks_account_id_affiliate_id_clicked_at"))

    op.drop_table("referral_clicks")
    op.drop_table("promo_codes")
    op.drop_table("products")
    op.drop_table("posts")
    op.drop_table("plans")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_account_id_membership_id"))
        batch_op.drop_index(batch_op.f("ix_payments_account_id_member_id"))
        batch_op.drop_index(batch_op.f("ix_payments_account_id_created_at"))

    op.drop_table("payments")
    op.drop_table("model_registry")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_account_id_member_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_account_id_created_at"))

    op.drop_table("memberships")
    with op.batch_alter_table("membership_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_status_changes_account_id_membership_id_changed_at"))
        batch_op.drop_index(batch_op.f("ix_membership_status_changes_account_id_changed_at"))

    op.drop_table("membership_status_changes")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_account_id_user_id"))

    op.drop_table("members")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lessons_account_id_course_id_position"))

    op.drop_table("lessons")
    with op.batch_alter_table("lesson_interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_interactions_account_id_member_id"))
        batch_op.drop_index(batch_op.f("ix_lesson_interactions_account_id_lesson_id"))

    op.drop_table("lesson_interactions")
    op.drop_table("fraud_flags")
    op.drop_table("disputes")
    op.drop_table("courses")
    op.drop_table("commissions")
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coach_messages_account_id_conversation_id_created_at"))

    op.drop_table("coach_messages")
    op.drop_table("coach_conversations")
    op.drop_table("churn_predictions")
    op.drop_table("chat_channels")
    op.drop_table("affiliates")
    with op.batch_alter_table("activity_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_events_account_id_occurred_at_kind_member_id"))
        batch_op.drop_index(batch_op.f("ix_activity_events_account_id_member_id_occurred_at"))

    op.drop_table("activity_events")
    with op.batch_alter_table("webhook_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_inbox_status_received_at"))

    op.drop_table("webhook_inbox")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_table_name_created_at"))

    op.drop_table("quarantine")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_runs_kind_started_at"))

    op.drop_table("job_runs")
    op.drop_table("fx_rates")
    op.drop_table("accounts")
