"""The one upsert helper: insert rows, or update them when their natural key already exists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from analytics.store.keys import DERIVED_KEY

__all__ = ["upsert_rows"]


def upsert_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    where_newer: str | None = None,
) -> int:
    """Insert ``rows`` into ``table``; on a key conflict update the other columns. Returns the rows sent.

    Parameters
    ----------
    key:
        Conflict columns (default: the primary key).
    update:
        Columns to overwrite on conflict (default: every non-key column present in the rows); an empty
        sequence means "insert if absent, else leave alone".
    where_newer:
        A timestamp column: an existing row is only overwritten when the incoming value is newer or equal,
        so out-of-order deliveries never move a record back in time.
    """
    batch = [dict(r) for r in rows]
    if not batch:
        return 0
    key_cols = list(key) if key is not None else [c.name for c in table.primary_key.columns]
    present = list(batch[0].keys())
    update_cols = [c for c in (update if update is not None else present) if c not in key_cols]
    # a key derived from an updated id column (member_key, filled by its column default) is updated with it
    update_cols += [c.name for c in table.c if c.info.get(DERIVED_KEY) in update_cols and c.name not in update_cols]
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stmt: Any = sqlite.insert(table)
    else:  # postgresql and duckdb (duckdb-engine speaks the PostgreSQL dialect)
        stmt = postgresql.insert(table)
    if update_cols:
        where = None
        if where_newer is not None:
            existing = table.c[where_newer]
            where = sa.or_(existing.is_(None), stmt.excluded[where_newer] >= existing)
        stmt = stmt.on_conflict_do_update(
            index_elements=key_cols,
            set_={c: stmt.excluded[c] for c in update_cols},
            where=where,
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key_cols)
    conn.execute(stmt, batch)
    return len(batch)
