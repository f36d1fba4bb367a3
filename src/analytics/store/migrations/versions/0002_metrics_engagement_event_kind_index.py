"""activity_events index by kind then member: funnels and per-kind member lookups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 10:30:00

Funnel steps look up "the first event of kind K of member M after t"; with (account_id, kind, member_id,
occurred_at) that is one index range per member, and the first step's MIN(occurred_at) per member is read from
the index alone.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_events_account_id_kind_member_id_occurred_at"),
            ["account_id", "kind", "member_id", "occurred_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_events_account_id_kind_member_id_occurred_at"))
