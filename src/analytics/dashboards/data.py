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

from analytics.kpis import Filters, minor_scale
from analytics.store.schema import accounts, activity_events, membership_status_changes, payments

__all__ = [
    "bucket_completeness",
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


def bucket_completeness(frame: pd.DataFrame, filters: Filters, column: str = "period_start") -> pd.DataFrame:
    """``frame`` with a ``complete`` column: False for a bucket the range covers only in part (its calendar day,
    week or month starts before the range or ends after it), which charts draw as "to date"."""
    starts = pd.to_datetime(frame[column]).dt.tz_localize(None).dt.normalize()
    offset = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}
    bucket_start = starts if filters.grain == "day" else _calendar_start(starts, filters.grain)
    ends = bucket_start + offset[filters.grain] - pd.Timedelta(days=1)
    first, last = pd.Timestamp(filters.start), pd.Timestamp(filters.end)
    return frame.assign(complete=((bucket_start >= first) & (ends <= last)).to_numpy())


def _calendar_start(starts: pd.Series, grain: str) -> pd.Series:
    if grain == "month":
        return starts - pd.to_timedelta(starts.dt.day - 1, unit="D")
    return starts - pd.to_timedelta(starts.dt.weekday, unit="D")


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
