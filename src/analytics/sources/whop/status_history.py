"""Appending membership state changes to ``membership_status_changes`` as the sync and the webhooks see them.

A row is the membership's state from ``changed_at`` on (status, plan, recurring price, period, cancel flag).
Row ids are derived from the membership, the instant and the state, so replaying the same delivery or
re-running a sync never appends the same change twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from analytics.store.schema import membership_status_changes
from analytics.store.upsert import upsert_rows

__all__ = ["TRACKED", "append_status_changes", "status_change"]

TRACKED = ("status", "plan_id", "currency", "renewal_price_minor", "billing_period_days", "cancel_at_period_end")
"""Membership columns whose change starts a new history row."""


def status_change(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], *, source: str, at: datetime | None = None
) -> dict[str, Any] | None:
    """The history row for ``before`` → ``after`` of one membership, or ``None`` when nothing tracked changed.

    ``at`` defaults to the membership's ``created_at`` for a new membership and its ``updated_at`` otherwise.
    """
    if before is not None and all(before.get(c) == after.get(c) for c in TRACKED if c in after):
        return None
    changed_at = at or (after.get("created_at") if before is None else after.get("updated_at")) or after["created_at"]
    status = after.get("status") or (before or {}).get("status")
    key = f"{after['account_id']}|{after['id']}|{changed_at.isoformat()}|{status}|{after.get('cancel_at_period_end')}"
    merged = {**(before or {}), **after}
    return {
        "account_id": after["account_id"],
        "id": "msc_" + hashlib.sha256(key.encode()).hexdigest()[:28],
        "membership_id": after["id"],
        "member_id": merged.get("member_id"),
        "changed_at": changed_at,
        "status": status,
        "previous_status": before.get("status") if before is not None else None,
        "plan_id": merged.get("plan_id"),
        "currency": merged.get("currency"),
        "renewal_price_minor": merged.get("renewal_price_minor"),
        "billing_period_days": merged.get("billing_period_days"),
        "cancel_at_period_end": bool(merged.get("cancel_at_period_end")),
        "source": source,
    }


def append_status_changes(conn: sa.Connection, rows: Iterable[Mapping[str, Any] | None]) -> int:
    """Insert the non-``None`` history rows (already present ids are left alone); returns how many were sent."""
    batch = [dict(r) for r in rows if r is not None]
    return upsert_rows(conn, membership_status_changes, batch, update=[])
