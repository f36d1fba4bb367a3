"""Small lookups the dashboards need besides metrics: how fresh the account's data is."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store.schema import accounts, activity_events, membership_status_changes, payments, snapshots

__all__ = ["latest_data_date"]


def latest_data_date(engine: Engine, account_id: str) -> date | None:
    """The last calendar day (account time zone) with any payment, membership change, activity or snapshot.

    Dashboards end their default date range there, so a workspace synced or generated some time ago still
    opens on its data rather than on empty days. ``None`` when the account has no data at all.
    """
    stamps = [
        sa.select(sa.func.max(payments.c.created_at)).where(payments.c.account_id == account_id),
        sa.select(sa.func.max(membership_status_changes.c.changed_at)).where(
            membership_status_changes.c.account_id == account_id
        ),
        sa.select(sa.func.max(activity_events.c.occurred_at)).where(activity_events.c.account_id == account_id),
    ]
    with engine.connect() as conn:
        tz = conn.execute(sa.select(accounts.c.time_zone).where(accounts.c.id == account_id)).scalar() or "UTC"
        instants = [conn.execute(q).scalar() for q in stamps]
        snapshot_end = conn.execute(
            sa.select(sa.func.max(snapshots.c.period_end)).where(snapshots.c.account_id == account_id)
        ).scalar()
    days = [i.astimezone(ZoneInfo(tz)).date() for i in instants if i is not None]
    if snapshot_end is not None:
        days.append(snapshot_end if isinstance(snapshot_end, date) else date.fromisoformat(str(snapshot_end)))
    return max(days) if days else None
