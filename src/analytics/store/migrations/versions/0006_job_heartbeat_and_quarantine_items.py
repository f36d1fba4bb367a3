"""job_runs.heartbeat_at; quarantine.resource, item_id and parent (the sync fetches rejected items again)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00

* ``job_runs.heartbeat_at``: a running job writes it periodically (``analytics.store.jobs``); a ``running`` row
  whose heartbeat is older than ``ANALYTICS_JOB_HEARTBEAT_TIMEOUT`` is shown as abandoned. Rows from before this
  revision have none; their ``started_at`` stands in.
* ``quarantine.resource``, ``item_id``, ``parent``: which API item a rejected sync item was, and the parent ids it
  was listed under, so the next incremental sync can fetch it again by id and mark the row resolved.

DuckDB cannot alter a table with secondary indexes, so there they are dropped and re-created around it (the
downgrade does not run on DuckDB, which cannot drop a column in the transaction that dropped an index of its table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import analytics.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEXES = {  # the secondary indexes of the altered tables as of this revision
    "job_runs": {"ix_job_runs_kind_started_at": ["kind", "started_at"]},
    "quarantine": {"ix_quarantine_table_name_created_at": ["table_name", "created_at"]},
}
_STATUS = {"old": "running | succeeded | failed", "new": "running | succeeded | failed | abandoned"}


def _columns() -> dict[str, list[sa.Column[object]]]:
    return {
        "job_runs": [
            sa.Column(
                "heartbeat_at",
                analytics.store.types.UTCDateTime(timezone=True),
                nullable=True,
                comment="last sign of life of a running job (analytics.store.jobs)",
            )
        ],
        "quarantine": [
            sa.Column(
                "resource",
                sa.String(length=64),
                nullable=True,
                comment="API resource of a rejected sync item (memberships, messages, …)",
            ),
            sa.Column(
                "item_id",
                sa.String(length=255),
                nullable=True,
                comment="API id of a rejected sync item: the next sync fetches it again by id",
            ),
            sa.Column(
                "parent",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
                comment="parent ids the item was listed under (channel_id, course_id, …)",
            ),
        ],
    }


def _status_comment(which: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return  # SQLite keeps no comments (and would rebuild the table for nothing)
    if dialect == "duckdb":  # Alembic has no comment DDL for DuckDB; its SQL is PostgreSQL's
        op.execute(f"COMMENT ON COLUMN job_runs.status IS '{_STATUS[which]}'")
        return
    other = "old" if which == "new" else "new"
    op.alter_column(
        "job_runs",
        "status",
        existing_type=sa.String(length=16),
        existing_nullable=False,
        comment=_STATUS[which],
        existing_comment=_STATUS[other],
    )


def upgrade() -> None:
    duckdb = op.get_bind().dialect.name == "duckdb"
    for table, columns in _columns().items():
        if duckdb:
            for index in _INDEXES[table]:
                op.drop_index(index, table_name=table)
        for column in columns:
            op.add_column(table, column)
        if duckdb:
            for index, names in _INDEXES[table].items():
                op.create_index(index, table, names, unique=False)
    _status_comment("new")
    op.create_index("ix_quarantine_account_id_item_id", "quarantine", ["account_id", "item_id"], unique=False)


def downgrade() -> None:
    duckdb = op.get_bind().dialect.name == "duckdb"
    op.drop_index("ix_quarantine_account_id_item_id", table_name="quarantine")
    _status_comment("old")
    for table, columns in _columns().items():
        if duckdb:
            for index in _INDEXES[table]:
                op.drop_index(index, table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_column(column.name)
        if duckdb:
            for index, names in _INDEXES[table].items():
                op.create_index(index, table, names, unique=False)
