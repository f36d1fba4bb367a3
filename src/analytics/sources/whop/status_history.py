"""Appending membership state changes to ``membership_status_changes`` as the sync and the webhooks see them.

Follows the history contract of :mod:`analytics.store.history`: a state is (``status``, ``plan_id``,
``renewal_price_minor``, ``cancel_at_period_end``), a row is written only when it changes, the price is 0 while
trialing and for one-time purchases, and the row key is ``change_id(membership, position)``. Memberships seen
for the first time get their whole history derived from the API-visible data instead, see
:func:`derive_history`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from analytics.store.history import change_id, rebuild_status_changes
from analytics.store.schema import membership_status_changes
from analytics.store.upsert import upsert_rows

__all__ = ["TRACKED", "append_status_changes", "derive_history", "status_change"]

TRACKED = ("status", "plan_id", "renewal_price_minor", "cancel_at_period_end")
"""The state tuple of the history contract."""


def _price(state: Mapping[str, Any]) -> int | None:
    if state.get("status") == "trialing" or not state.get("billing_period_days"):
        return 0
    price = state.get("renewal_price_minor")
    return int(price) if price is not None else None


def _state(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row.get("status"), row.get("plan_id"), _price(row), bool(row.get("cancel_at_period_end")))


def status_change(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], *, source: str, at: datetime | None = None
) -> dict[str, Any] | None:
    """The history row for ``before`` → ``after`` of one membership, or ``None`` when the state is unchanged.

    ``at`` defaults to the membership's ``created_at`` for a new membership and its ``updated_at`` otherwise.
    The row's ``id`` is filled in by :func:`append_status_changes` (it depends on the stored history).
    """
    merged = {**(before or {}), **after}
    if before is not None and _state(before) == _state(merged):
        return None
    changed_at = (
        at or (merged.get("created_at") if before is None else merged.get("updated_at")) or merged["created_at"]
    )
    return {
        "account_id": merged["account_id"],
        "id": None,
        "membership_id": merged["id"],
        "member_id": merged.get("member_id"),
        "changed_at": changed_at,
        "status": merged.get("status"),
        "previous_status": before.get("status") if before is not None else None,
        "plan_id": merged.get("plan_id"),
        "currency": merged.get("currency"),
        "renewal_price_minor": _price(merged),
        "billing_period_days": merged.get("billing_period_days"),
        "cancel_at_period_end": bool(merged.get("cancel_at_period_end")),
        "source": source,
    }


def append_status_changes(conn: sa.Connection, rows: Iterable[Mapping[str, Any] | None]) -> int:
    """Append the non-``None`` rows after each membership's stored history; returns how many were written."""
    t = membership_status_changes
    batch = [dict(r) for r in rows if r is not None]
    positions: dict[tuple[str, str], int] = {}
    for row in batch:
        key = (row["account_id"], row["membership_id"])
        if key not in positions:
            positions[key] = conn.execute(
                sa.select(sa.func.count()).where(t.c.account_id == key[0], t.c.membership_id == key[1])
            ).scalar_one()
        positions[key] += 1
        row["id"] = change_id(key[1], positions[key])
    return upsert_rows(conn, t, batch, update=[])


def derive_history(conn: sa.Connection, account_id: str, membership_ids: Iterable[str] | None, *, source: str) -> int:
    """Derive the history of first-seen memberships (``None``: all of the account's) from the stored memberships
    and payments (``analytics.store.history.rebuild_status_changes``); returns the rows written."""
    ids = None if membership_ids is None else sorted(set(membership_ids))
    if ids == []:
        return 0
    return rebuild_status_changes(conn, account_id, source=source, membership_ids=ids)
