"""The one place that knows how the engines differ for metric SQL: dates, date arithmetic, epochs.

Timestamp columns are :class:`~analytics.store.types.UTCDateTime`: ``timestamptz`` on PostgreSQL, a UTC
``TIMESTAMP`` on DuckDB and integer epoch microseconds on SQLite. Every function here takes a column or
expression of that type and returns a SQLAlchemy expression, so metric modules never branch on the engine.

Calendar results (:func:`local_date`, :func:`bucket_start`) are ``DATE`` values on PostgreSQL/DuckDB and ISO
``'YYYY-MM-DD'`` text on SQLite; :func:`to_dates` turns either into ``datetime64`` in a DataFrame.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.errors import MetricError

__all__ = [
    "GRAINS",
    "Grain",
    "add_days",
    "bucket_start",
    "days_between",
    "epoch_seconds",
    "local_date",
    "to_dates",
]

Grain = Literal["day", "week", "month"]
GRAINS: tuple[str, ...] = ("day", "week", "month")
_US_PER_DAY = 86_400_000_000


def epoch_seconds(col: Any, dialect: str) -> ColumnElement[Any]:
    """Seconds since 1970-01-01 UTC (a number) of a timestamp expression."""
    if dialect == "sqlite":
        return sa.cast(col, sa.BigInteger) / 1_000_000
    if dialect == "duckdb":
        return sa.func.epoch(col)
    return sa.extract("epoch", col)


def add_days(col: Any, days: Any, dialect: str) -> ColumnElement[Any]:
    """A timestamp expression shifted by ``days`` (an int or an integer expression)."""
    if dialect == "sqlite":
        return col + sa.cast(days, sa.BigInteger) * _US_PER_DAY
    if dialect == "duckdb":
        return col + sa.func.to_days(sa.cast(days, sa.Integer))
    return col + sa.func.make_interval(0, 0, 0, sa.cast(days, sa.Integer))


def days_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """Fractional days from ``start`` to ``end`` (both timestamp expressions)."""
    return (epoch_seconds(end, dialect) - epoch_seconds(start, dialect)) / 86400.0


def local_date(col: Any, dialect: str, tz: str = "UTC") -> ColumnElement[Any]:
    """The calendar date of an instant in the time zone ``tz`` (an IANA name such as ``Europe/Paris``)."""
    if dialect == "sqlite":
        if tz == "UTC":
            return sa.func.date(sa.cast(col, sa.BigInteger) / 1_000_000, "unixepoch")
        return sa.func.analytics_local_date(col, tz)
    if dialect == "duckdb":
        if tz == "UTC":
            return sa.cast(col, sa.Date)
        return sa.cast(sa.func.timezone(tz, sa.func.timezone("UTC", col)), sa.Date)
    return sa.cast(sa.func.timezone(tz, col), sa.Date)


def bucket_start(col: Any, grain: str, dialect: str, tz: str = "UTC") -> ColumnElement[Any]:
    """First day of the day/week (Monday)/month containing the instant, in the time zone ``tz``."""
    if grain not in GRAINS:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    day = local_date(col, dialect, tz)
    if grain == "day":
        return day
    if dialect == "sqlite":
        if grain == "month":
            return sa.func.date(day, "start of month")
        # strftime('%w') is 0 for Sunday; Monday-based offset = (w + 6) % 7
        offset = (sa.cast(sa.func.strftime("%w", day), sa.Integer) + 6) % 7
        return sa.func.date(day, sa.func.printf("-%d days", offset))
    return sa.cast(sa.func.date_trunc(grain, day), sa.Date)


def to_dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Turn calendar columns returned by :func:`bucket_start`/:func:`local_date` into ``datetime64``."""
    for name in columns:
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
    return frame
