"""Small helpers of the dashboards: how fresh an account's data is, snapshot periods, money for charts.

The numbers themselves come from registered metrics through :class:`analytics.kpis.AccountMetrics` or from
stored snapshots (:func:`analytics.snapshots.read_snapshots`).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.kpis import minor_scale
from analytics.store.schema import accounts, activity_events, membership_status_changes, payments

__all__ = [
    "latest_data_date",
    "snapshot_period",
    "to_major",
]

_SNAPSHOT_PERIODS = {"day": "daily", "week": "weekly", "month": "monthly"}


def latest_data_date(engine: Engine, account_id: str, *, today: date | None = None) -> date | None:
    """The last calendar day (account time zone) with any payment, membership change or activity, never after
    ``today`` (a renewal or a cancellation scheduled for later is not data yet).

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
    days = [i.astimezone(ZoneInfo(tz)).date() for i in instants if i is not None]
    if today is not None:
        days = [min(day, today) for day in days]
    return max(days) if days else None


def snapshot_period(grain: str) -> str:
    """The snapshot period matching a grain (``week`` → ``weekly``)."""
    return _SNAPSHOT_PERIODS[grain]


def to_major(frame: pd.DataFrame, columns: list[str], currency: str) -> pd.DataFrame:
    """Copy of ``frame`` with ``*_minor`` columns as major-unit floats for charts (display only)."""
    out = frame.copy()
    scale = minor_scale(currency)
    for column in columns:
        out[column.removesuffix("_minor")] = out[column].astype(float) / scale
    return out
