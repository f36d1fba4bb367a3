"""Periods in the account's time zone: which UTC instants a calendar range covers, and its grain buckets.

Metric functions take calendar dates ``start`` and ``end``, **both inclusive**, meaning local days of the account
(``accounts.time_zone``), as :class:`~analytics.metrics.request.MetricRequest` does; buckets are clipped to the
period and labelled by their first day. ``as_of`` arguments are instants: a date means its local midnight, so
``as_of=date(2026, 1, 1)`` looks at the data of 2025-12-31 and before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.errors import MetricError
from analytics.metrics.dialect import GRAINS, bucket_index_to_date, date_bucket_index
from analytics.metrics.request import account_settings, check_day

__all__ = [
    "DateLike",
    "TimeWindow",
    "account_time_zone",
    "add_grain",
    "floor_to_grain",
    "resolve_window",
    "to_local_date",
    "to_utc",
    "zone",
]

DateLike = date | datetime | str


@lru_cache(maxsize=64)
def zone(tz: str) -> ZoneInfo:
    """The IANA time zone ``tz`` (validated by :func:`account_time_zone`)."""
    return ZoneInfo(tz)


def account_time_zone(bind: sa.Engine | sa.Connection, account_id: str) -> str:
    """``accounts.time_zone`` of ``account_id``; an unknown account or zone is an error that says so."""
    return account_settings(bind, account_id).time_zone


def _parse(value: DateLike, what: str) -> date | datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise MetricError(f"{what} {value!r} is not an ISO date (YYYY-MM-DD) or datetime") from exc
        return parsed.date() if len(value) <= 10 else parsed
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def to_utc(value: DateLike, tz: str, what: str = "as_of") -> datetime:
    """The instant ``value`` in UTC: a date is its local midnight in ``tz``; a datetime must be aware."""
    parsed = _parse(value, what)
    if isinstance(parsed, datetime):
        if parsed.tzinfo is None:
            raise MetricError(f"{what} {parsed.isoformat()} has no time zone; pass an aware datetime or a date")
        check_day(parsed.date(), what, midnight=True)
        return parsed.astimezone(UTC)
    return datetime.combine(check_day(parsed, what, midnight=True), time(), zone(tz)).astimezone(UTC)


def to_local_date(value: DateLike, tz: str, what: str = "start") -> date:
    """The local calendar date of ``value`` in ``tz`` (a date is taken as is)."""
    parsed = _parse(value, what)
    if isinstance(parsed, datetime):
        if parsed.tzinfo is None:
            raise MetricError(f"{what} {parsed.isoformat()} has no time zone; pass an aware datetime or a date")
        check_day(parsed.date(), what)  # before converting: a day near the limits of datetime would overflow
        return check_day(parsed.astimezone(zone(tz)).date(), what)
    return check_day(parsed, what)


def floor_to_grain(value: date, grain: str) -> date:
    """First day of the day/week (Monday)/month containing ``value``."""
    if grain == "day":
        return value
    if grain == "week":
        return value - timedelta(days=value.weekday())
    if grain == "month":
        return value.replace(day=1)
    raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")


def add_grain(value: date, grain: str, n: int = 1) -> date:
    """``value`` moved by ``n`` days/weeks/months (month moves keep day 1 on day 1)."""
    if grain == "day":
        return value + timedelta(days=n)
    if grain == "week":
        return value + timedelta(weeks=n)
    if grain == "month":
        months = value.year * 12 + value.month - 1 + n
        return value.replace(year=months // 12, month=months % 12 + 1)
    raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")


@dataclass(frozen=True)
class TimeWindow:
    """A local calendar range of one account: ``start`` inclusive, ``end`` exclusive (the day after the last)."""

    account_id: str
    tz: str
    start: date
    end: date
    grain: str = "day"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def start_utc(self) -> datetime:
        return to_utc(self.start, self.tz)

    @property
    def end_utc(self) -> datetime:
        return to_utc(self.end, self.tz)

    @property
    def within(self) -> tuple[datetime, datetime]:
        """``(start_utc, end_utc)``: the hint that lets SQLite bucket instants of this window without a UDF call."""
        return self.start_utc, self.end_utc

    @property
    def first_bucket(self) -> int:
        return date_bucket_index(self.start, self.grain)

    @property
    def last_bucket(self) -> int:
        """Index of the last bucket (inclusive)."""
        return date_bucket_index(self.last_day, self.grain)

    def buckets(self) -> np.ndarray:
        """Every bucket index of the window, in order."""
        return np.arange(self.first_bucket, self.last_bucket + 1, dtype="int64")

    def grid(self) -> pd.DataFrame:
        """One row per bucket: ``bucket`` index and ``period_start`` (``datetime64``, the bucket's first day)."""
        idx = self.buckets()
        return pd.DataFrame({"bucket": idx, "period_start": bucket_index_to_date(idx, self.grain)})

    def previous_bucket(self) -> TimeWindow:
        """The whole bucket before the first one (lifecycle and growth compare with it)."""
        first = add_grain(floor_to_grain(self.start, self.grain), self.grain, -1)
        return TimeWindow(self.account_id, self.tz, first, floor_to_grain(self.start, self.grain), self.grain)


def resolve_window(
    bind: sa.Engine | sa.Connection, account_id: str, start: DateLike, end: DateLike, grain: str = "day"
) -> TimeWindow:
    """The account's period from ``start`` to ``end`` (both inclusive local dates) in buckets of ``grain``."""
    if grain not in GRAINS:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    tz = account_time_zone(bind, account_id)
    first = to_local_date(start, tz, "start")
    last = to_local_date(end, tz, "end")
    if last < first:
        raise MetricError(f"the period starts ({first}) after it ends ({last}); swap start and end")
    return TimeWindow(account_id, tz, first, last + timedelta(days=1), grain)
