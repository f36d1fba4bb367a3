"""member_key on members and activity_events: an integer key derived from the member id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00

DuckDB groups and joins the event log by member; with 16-character Whop ids (one 4-byte prefix, ``mber``, for all)
every comparison follows a pointer. ``member_key`` = the first 15 hex digits of md5(member id) as an integer
(``analytics.store.keys``). Existing rows get it here, computed by the engine (SQLite through the Python function
the migration registers on its connection; DuckDB by a column type change with USING, because after an UPDATE
it cannot set NOT NULL in the same transaction). DuckDB cannot alter a table with secondary indexes either, so
there they are dropped and re-created around it.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> (the id column the key is derived from, the table's secondary indexes as of this revision)
_TABLES = {
    "members": ("id", {"ix_members_account_id_user_id": ["account_id", "user_id"]}),
    "activity_events": (
        "member_id",
        {
            "ix_activity_events_account_id_occurred_at_kind_member_id": [
                "account_id",
                "occurred_at",
                "kind",
                "member_id",
            ],
            "ix_activity_events_account_id_member_id_occurred_at": ["account_id", "member_id", "occurred_at"],
            "ix_activity_events_account_id_kind_member_id_occurred_at": [
                "account_id",
                "kind",
                "member_id",
                "occurred_at",
            ],
        },
    ),
}
_COMMENT = "integer key of {}: first 15 hex digits of md5({}) (analytics.store.keys)"


def _sqlite_key(member_id: str | None) -> int | None:  # frozen copy of analytics.store.keys.member_key
    if member_id is None:
        return None
    return int(hashlib.md5(member_id.encode("utf-8"), usedforsecurity=False).hexdigest()[:15], 16)


def _key_sql(source: str, dialect: str) -> sa.ColumnElement[int]:
    column = sa.column(source, sa.String)
    digits = sa.func.substr(sa.func.md5(column), 1, 15)
    if dialect == "postgresql":
        return sa.cast(sa.cast(sa.literal("x0") + digits, postgresql.BIT(64)), sa.BigInteger)
    return sa.func.analytics_member_key(column, type_=sa.BigInteger)


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        bind.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "analytics_member_key", 1, _sqlite_key, deterministic=True
        )
    for name, (source, indexes) in _TABLES.items():
        if dialect == "duckdb":
            for index in indexes:
                op.drop_index(index, table_name=name)
        op.add_column(
            name, sa.Column("member_key", sa.BigInteger, nullable=True, comment=_COMMENT.format(source, source))
        )
        if dialect == "duckdb":  # an UPDATE would leave the transaction unable to set NOT NULL; a type change can
            op.execute(
                f'ALTER TABLE "{name}" ALTER COLUMN member_key SET DATA TYPE BIGINT '
                f"USING CAST('0x' || substr(md5(\"{source}\"), 1, 15) AS BIGINT)"
            )
        else:
            table = sa.table(name, sa.column(source, sa.String), sa.column("member_key", sa.BigInteger))
            op.execute(table.update().values(member_key=_key_sql(source, dialect)))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("member_key", existing_type=sa.BigInteger(), nullable=False)
        if dialect == "duckdb":
            for index, columns in indexes.items():
                op.create_index(index, name, columns, unique=False)
    op.create_index("ix_members_account_id_member_key", "members", ["account_id", "member_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_members_account_id_member_key", table_name="members")
    dialect = op.get_bind().dialect.name
    for name, (_source, indexes) in _TABLES.items():
        if dialect == "duckdb":
            for index in indexes:
                op.drop_index(index, table_name=name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("member_key")
        if dialect == "duckdb":
            for index, columns in indexes.items():
                op.create_index(index, name, columns, unique=False)
