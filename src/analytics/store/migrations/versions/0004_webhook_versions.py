"""webhook_versions: which webhook delivery's state each record holds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00

Webhook deliveries that describe a record at the same ``updated_at`` (members have no ``updated_at`` on the wire,
so two deliveries often tie) are ordered by the delivery's own timestamp, then by a status order
(``analytics.sources.whop.delivery_order``). The stored record does not carry the delivery time, so this table
keeps it per record; its row is also what a delivery locks while it compares and writes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import analytics.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_versions",
        sa.Column(
            "table_name", sa.String(length=64), nullable=False, comment="the table the record is in (memberships, …)"
        ),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("record_id", sa.String(length=255), nullable=False),
        sa.Column(
            "updated_at",
            analytics.store.types.UTCDateTime(timezone=True),
            nullable=True,
            comment="the record's updated_at as the delivery whose state is stored gave it",
        ),
        sa.Column(
            "delivered_at",
            analytics.store.types.UTCDateTime(timezone=True),
            nullable=True,
            comment="that delivery's own timestamp (envelope timestamp, else its signature time)",
        ),
        sa.PrimaryKeyConstraint("table_name", "account_id", "record_id", name=op.f("pk_webhook_versions")),
        comment="Which webhook delivery's state each record holds, so deliveries that tie on updated_at are ordered "
        "by their own timestamps (analytics.sources.whop.delivery_order); also the per-record lock of the webhooks.",
    )


def downgrade() -> None:
    op.drop_table("webhook_versions")
