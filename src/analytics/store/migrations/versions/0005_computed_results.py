"""computed_results: what a job computed ahead so that pages only read

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 09:00:00

One row per (account, kind, as_of): the retention projection, the revenue forecast, cohort tables…, each a frame
in a portable JSON form with the parameters and definitions it was computed with and its quality notes
(``analytics.store.results``). Writing the same key again replaces the row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import analytics.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "computed_results",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column(
            "kind", sa.String(length=64), nullable=False, comment="what the result is (analytics.store.results.KINDS)"
        ),
        sa.Column("as_of", sa.Date(), nullable=False, comment="computed from the data before this day"),
        sa.Column("parameters", _json(), nullable=False, comment="the inputs it was computed with"),
        sa.Column("definitions_version", sa.String(length=32), nullable=False),
        sa.Column("payload", _json(), nullable=False, comment="the result frame: columns, types, data, attrs"),
        sa.Column("notes", _json(), nullable=False, comment="quality notes shown with the result (a list of texts)"),
        sa.Column("computed_at", analytics.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("job_run_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_computed_results_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_computed_results")),
        sa.UniqueConstraint("account_id", "kind", "as_of", name=op.f("uq_computed_results_account_id_kind_as_of")),
        comment="Results a job computed ahead for pages: retention projection, revenue forecast, cohort tables.",
    )


def downgrade() -> None:
    op.drop_table("computed_results")
