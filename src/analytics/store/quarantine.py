"""The quarantine: rows and items that failed validation, kept with the reason instead of being dropped.

A rejected API item (source ``sync``) also records its ``resource``, ``item_id`` and the ``parent`` ids it was
listed under: the next incremental sync fetches it again by id (:func:`unresolved_items`), and a row is marked
resolved (``resolved_at``) as soon as its item loads (:func:`resolve_items`). The same item rejected again updates
its unresolved row instead of adding another.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from analytics.clock import Clock, utcnow
from analytics.store.jobs import new_id
from analytics.store.schema import quarantine

__all__ = ["QuarantinedItem", "Rejected", "quarantine_rows", "quarantined", "resolve_items", "unresolved_items"]


@dataclass(frozen=True)
class Rejected:
    """One rejected row or API item and why."""

    source: str  # import | sync | webhook
    table_name: str
    reason: str
    raw: Any = None
    account_id: str | None = None
    file: str | None = None
    row_number: int | None = None
    column_name: str | None = None
    resource: str | None = None
    item_id: str | None = None
    parent: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class QuarantinedItem:
    """An unresolved rejected API item: enough to fetch it again by id and parse it as when it was listed."""

    id: str
    table_name: str
    resource: str
    item_id: str
    parent: dict[str, Any]
    job_run_id: str | None


def _as_json(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str | bytes):
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return json.dumps(raw, default=str, ensure_ascii=False)


def _plain(parent: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The parent ids as plain JSON values."""
    return None if parent is None else dict(json.loads(json.dumps(dict(parent), default=str)))


def _waiting(conn: sa.Connection, r: Rejected) -> str | None:
    """The id of the unresolved row already holding this API item, if any."""
    if r.item_id is None:
        return None
    q = quarantine.c
    return conn.execute(
        sa.select(q.id)
        .where(
            q.account_id == r.account_id if r.account_id is not None else q.account_id.is_(None),
            q.item_id == r.item_id,
            q.source == r.source,
            q.table_name == r.table_name,
            q.resolved_at.is_(None),
        )
        .order_by(q.created_at)
        .limit(1)
    ).scalar()


def quarantine_rows(
    conn: sa.Connection, rejected: Iterable[Rejected], *, job_run_id: str | None = None, clock: Clock = utcnow
) -> int:
    """Write rejected rows to the quarantine table; returns how many were rejected.

    An API item (``item_id`` set) already waiting unresolved gets its row updated (reason, raw, job run).
    """
    now = clock()
    rows = []
    updated = 0
    for r in rejected:
        row = {
            "account_id": r.account_id,
            "source": r.source,
            "table_name": r.table_name,
            "file": r.file,
            "row_number": r.row_number,
            "column_name": r.column_name,
            "reason": r.reason,
            "raw": _as_json(r.raw),
            "job_run_id": job_run_id,
            "resource": r.resource,
            "item_id": r.item_id,
            "parent": _plain(r.parent),
        }
        waiting = _waiting(conn, r)
        if waiting is None:
            rows.append({"id": new_id("q_"), **row, "created_at": now})
        else:
            conn.execute(sa.update(quarantine).where(quarantine.c.id == waiting).values(**row))
            updated += 1
    if rows:
        conn.execute(quarantine.insert(), rows)
    return len(rows) + updated


def unresolved_items(conn: sa.Connection, account_id: str, *, source: str = "sync") -> list[QuarantinedItem]:
    """The account's rejected API items not loaded since (oldest first), with what fetching them again needs."""
    q = quarantine.c
    rows = conn.execute(
        sa.select(q.id, q.table_name, q.resource, q.item_id, q.parent, q.job_run_id)
        .where(
            q.account_id == account_id,
            q.source == source,
            q.resolved_at.is_(None),
            q.resource.is_not(None),
            q.item_id.is_not(None),
        )
        .order_by(q.created_at, q.id)
    ).all()
    return [
        QuarantinedItem(r.id, r.table_name, r.resource, r.item_id, dict(r.parent or {}), r.job_run_id) for r in rows
    ]


def resolve_items(
    conn: sa.Connection,
    account_id: str,
    table_name: str,
    item_ids: Iterable[str],
    *,
    now: datetime,
    source: str = "sync",
) -> int:
    """Mark the unresolved rows of these loaded items resolved; returns how many rows."""
    ids = sorted(set(item_ids))
    q = quarantine.c
    done = 0
    for i in range(0, len(ids), 500):
        done += conn.execute(
            sa.update(quarantine)
            .where(
                q.account_id == account_id,
                q.source == source,
                q.table_name == table_name,
                q.item_id.in_(ids[i : i + 500]),
                q.resolved_at.is_(None),
            )
            .values(resolved_at=now)
        ).rowcount
    return done


def quarantined(engine: sa.Engine, *, table_name: str | None = None) -> pd.DataFrame:
    """The quarantine as a DataFrame (optionally for one table), newest first."""
    stmt = sa.select(quarantine).order_by(quarantine.c.created_at.desc())
    if table_name is not None:
        stmt = stmt.where(quarantine.c.table_name == table_name)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=list(quarantine.c.keys()))
