"""Where each resource's sync got to, per account (``sync_checkpoints``).

``cursor`` holds the state of an unfinished listing as JSON (its query, the page cursor to ask for next, the
newest ``created_at`` seen so far); it is written in the same transaction as the page's rows, so a run killed
at any point resumes from the first page not yet stored. ``high_watermark`` is the newest ``created_at`` of a
finished listing, from which the next incremental run starts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store.schema import sync_checkpoints
from analytics.store.upsert import upsert_rows

__all__ = ["Checkpoint", "checkpoint_key", "checkpoints", "finish_listing", "load_checkpoint", "save_progress"]


@dataclass(frozen=True)
class Checkpoint:
    """A stored checkpoint: the unfinished listing's state (or ``None``) and the high watermark."""

    state: dict[str, Any] | None
    high_watermark: datetime | None


def checkpoint_key(resource: str, parent_id: str | None = None) -> str:
    """``resource`` or ``resource:parent`` (hashed when longer than the 64-character column)."""
    key = f"{resource}:{parent_id}" if parent_id else resource
    if len(key) <= 64:
        return key
    return f"{resource[:40]}:{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def load_checkpoint(conn: sa.Connection, account_id: str, key: str) -> Checkpoint:
    t = sync_checkpoints
    row = conn.execute(
        sa.select(t.c.cursor, t.c.high_watermark).where(t.c.account_id == account_id, t.c.resource == key)
    ).first()
    if row is None:
        return Checkpoint(None, None)
    return Checkpoint(json.loads(row.cursor) if row.cursor else None, row.high_watermark)


def save_progress(
    conn: sa.Connection, account_id: str, key: str, state: dict[str, Any], *, job_run_id: str, now: datetime
) -> None:
    """Record the resume point of an unfinished listing (call inside the page's transaction)."""
    upsert_rows(
        conn,
        sync_checkpoints,
        [
            {
                "account_id": account_id,
                "resource": key,
                "cursor": json.dumps(state, default=str),
                "job_run_id": job_run_id,
                "run_started_at": datetime.fromisoformat(state["started_at"]),
                "updated_at": now,
            }
        ],
        update=["cursor", "job_run_id", "run_started_at", "updated_at"],
    )


def finish_listing(
    conn: sa.Connection, account_id: str, key: str, high_watermark: datetime | None, *, job_run_id: str, now: datetime
) -> None:
    """Clear the resume point and move the high watermark forward (never back)."""
    t = sync_checkpoints
    previous = conn.execute(
        sa.select(t.c.high_watermark).where(t.c.account_id == account_id, t.c.resource == key)
    ).scalar_one_or_none()
    marks = [m for m in (previous, high_watermark) if m is not None]
    upsert_rows(
        conn,
        t,
        [
            {
                "account_id": account_id,
                "resource": key,
                "cursor": None,
                "high_watermark": max(marks) if marks else None,
                "job_run_id": job_run_id,
                "updated_at": now,
            }
        ],
        update=["cursor", "high_watermark", "job_run_id", "updated_at"],
    )


def checkpoints(engine: Engine, account_id: str | None = None) -> pd.DataFrame:
    """The checkpoints as a DataFrame (``unfinished`` is true where a run was interrupted)."""
    t = sync_checkpoints
    stmt = sa.select(t).order_by(t.c.account_id, t.c.resource)
    if account_id:
        stmt = stmt.where(t.c.account_id == account_id)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=list(t.c.keys()))
    frame["unfinished"] = frame["cursor"].notna()
    return frame.drop(columns=["cursor"])
