"""Which calendar days a scheduled run covers: the last complete day, week (Monday–Sunday) or month."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.errors import ReportError
from analytics.kpis import Filters, kpi_window
from analytics.store.schema import accounts

__all__ = ["PERIOD_GRAINS", "default_as_of", "period_range"]

PERIOD_GRAINS = {"daily": "day", "weekly": "week", "monthly": "month"}


def default_as_of(engine: Engine, account_id: str | None, clock: Clock = utcnow) -> date:
    """Yesterday in the account's time zone (UTC when no single account is named)."""
    tz = "UTC"
    if account_id:
        with engine.connect() as conn:
            tz = conn.execute(sa.select(accounts.c.time_zone).where(accounts.c.id == account_id)).scalar() or "UTC"
    return clock().astimezone(ZoneInfo(tz)).date() - timedelta(days=1)


def period_range(period: str, as_of: date, periods: int = 1) -> tuple[date, date]:
    """First and last day of the ``periods`` complete periods ending on or before ``as_of``.

    ``period_range("weekly", date(2025, 6, 29), 2)`` is Monday 16 June to Sunday 29 June 2025; with ``as_of``
    a Wednesday, the week in progress is left out.

    Raises
    ------
    ReportError
        Unknown period or a count below 1.
    """
    if period not in PERIOD_GRAINS:
        raise ReportError(f"period {period!r} is not one of {', '.join(PERIOD_GRAINS)}")
    if periods < 1:
        raise ReportError(f"periods must be at least 1, not {periods}")
    window = kpi_window(Filters(as_of, as_of, PERIOD_GRAINS[period]))
    start = window.current_start
    for _ in range(periods - 1):
        day_before = start - timedelta(days=1)
        start = kpi_window(Filters(day_before, day_before, PERIOD_GRAINS[period])).current_start
    return start, window.current_end
