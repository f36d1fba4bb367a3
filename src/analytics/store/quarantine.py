"""The quarantine: rows and items that failed validation, kept with the reason instead of being dropped."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from analytics.clock import Clock, utcnow
from analytics.store.jobs import new_id
from analytics.store.schema import quarantine

__all__ = ["Rejected", "quarantine_rows", "quarantined"]


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


def _as_json(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str | bytes):
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return json.dumps(raw, default=str, ensure_ascii=False)


def quarantine_rows(
    conn: sa.Connection, rejected: Iterable[Rejected], *, job_run_id: str | None = None, clock: Clock = utcnow
) -> int:
    """Write rejected rows to the quarantine table; returns how many."""
    now = clock()
    rows = [
        {
            "id": new_id("q_"),
            "account_id": r.account_id,
            "source": r.source,
            "table_name": r.table_name,
            "file": r.file,
            "row_number": r.row_number,
            "column_name": r.column_name,
            "reason": r.reason,
            "raw": _as_json(r.raw),
            "job_run_id": job_run_id,
            "created_at": now,
        }
        for r in rejected
    ]
    if rows:
        conn.execute(quarantine.insert(), rows)
    return len(rows)


def quarantined(engine: sa.Engine, *, table_name: str | None = None) -> pd.DataFrame:
    """The quarantine as a DataFrame (optionally for one table), newest first."""
    stmt = sa.select(quarantine).order_by(quarantine.c.created_at.desc())
    if table_name is not None:
        stmt = stmt.where(quarantine.c.table_name == table_name)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=list(quarantine.c.keys()))
