"""The one place that knows how the engines differ for metric SQL: dates, date arithmetic, epochs.

Timestamp columns are :class:`~analytics.store.types.UTCDateTime`: ``timestamptz`` on PostgreSQL, a UTC
``TIMESTAMP`` on DuckDB and integer epoch microseconds on SQLite. Every function here takes a column or
expression of that type and returns a SQLAlchemy expression, so metric modules never branch on the engine.

Calendar results (:func:`local_date`, :func:`bucket_start`) are ``DATE`` values on PostgreSQL/DuckDB and ISO
``'YYYY-MM-DD'`` text on SQLite; :func:`to_dates` turns either into ``datetime64`` in a DataFrame.

Integer calendar arithmetic (windows of N days, "the previous week") uses :func:`bucket_index`: whole days,
Monday-based weeks or months since 1970 as one integer on every engine; :func:`bucket_index_to_date` turns it back
into the bucket's first day. :func:`epoch_bucket` counts fixed-length UTC slices (quarter hours for heat maps).
:func:`fetch_frame` runs a statement and returns a DataFrame (Arrow-backed on DuckDB, where row fetching is slow).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.errors import MetricError

__all__ = [
    "GRAINS",
    "Grain",
    "add_days",
    "add_seconds",
    "bucket_index",
    "bucket_index_to_date",
    "bucket_start",
    "day_number",
    "days_between",
    "epoch_bucket",
    "epoch_seconds",
    "fetch_frame",
    "int_div",
    "local_date",
    "to_dates",
]

Grain = Literal["day", "week", "month"]
GRAINS: tuple[str, ...] = ("day", "week", "month")
_US_PER_DAY = 86_400_000_000


def _num(value: int | float) -> ColumnElement[Any]:
    """A numeric constant of the SQL text itself (not a bound value), so that the same expression in SELECT and
    GROUP BY renders identically; PostgreSQL refuses to match ``x / $1`` with ``x / $2``."""
    return sa.literal_column(repr(value), sa.BigInteger if isinstance(value, int) else sa.Float)


def _zone(tz: str) -> ColumnElement[Any]:
    """A time zone name rendered into the SQL text (quoted by SQLAlchemy), for the same reason as :func:`_num`."""
    return sa.literal(tz, sa.String, literal_execute=True)


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


def add_seconds(col: Any, seconds: int, dialect: str) -> ColumnElement[Any]:
    """A timestamp expression shifted by a whole number of ``seconds``."""
    if dialect == "sqlite":
        return col + sa.cast(seconds, sa.BigInteger) * 1_000_000
    if dialect == "duckdb":
        return col + sa.func.to_seconds(sa.cast(seconds, sa.BigInteger))
    return col + sa.func.make_interval(0, 0, 0, 0, 0, 0, sa.cast(seconds, sa.Integer))


def days_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """Fractional days from ``start`` to ``end`` (both timestamp expressions)."""
    return (epoch_seconds(end, dialect) - epoch_seconds(start, dialect)) / 86400.0


def local_date(col: Any, dialect: str, tz: str = "UTC") -> ColumnElement[Any]:
    """The calendar date of an instant in the time zone ``tz`` (an IANA name such as ``Europe/Paris``)."""
    if dialect == "sqlite":
        if tz == "UTC":
            return sa.func.date(sa.cast(col, sa.BigInteger) / 1_000_000, "unixepoch")
        return sa.func.analytics_local_date(col, _zone(tz))
    if dialect == "duckdb":
        if tz == "UTC":
            return sa.cast(col, sa.Date)
        return sa.cast(sa.func.timezone(_zone(tz), sa.func.timezone("UTC", col)), sa.Date)
    return sa.cast(sa.func.timezone(_zone(tz), col), sa.Date)


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


def int_div(numerator: Any, denominator: int, dialect: str) -> ColumnElement[Any]:
    """Integer division, floored (``//`` renders ``/`` on integer engines and ``FLOOR(a / b)`` on DuckDB)."""
    return sa.cast(sa.cast(numerator, sa.BigInteger) // _num(denominator), sa.BigInteger)


def epoch_bucket(col: Any, seconds: int, dialect: str) -> ColumnElement[Any]:
    """``floor(epoch seconds / seconds)`` of a timestamp: which fixed-length UTC slice (e.g. quarter hour) it is in."""
    if dialect == "sqlite":
        return int_div(col, seconds * 1_000_000, dialect)
    return sa.cast(sa.func.floor(_epoch(col, dialect) / _num(seconds)), sa.BigInteger)


def _epoch(col: Any, dialect: str) -> ColumnElement[Any]:
    return sa.func.epoch(col) if dialect == "duckdb" else sa.extract("epoch", col)


def _local_epoch_seconds(col: Any, dialect: str, tz: str) -> ColumnElement[Any]:
    """Seconds since 1970 of the instant's wall-clock time in ``tz`` (PostgreSQL and DuckDB only)."""
    if tz == "UTC":
        return _epoch(col, dialect)
    if dialect == "duckdb":
        return sa.func.epoch(sa.func.timezone(_zone(tz), sa.func.timezone("UTC", col)))
    return sa.extract("epoch", sa.func.timezone(_zone(tz), col))


def day_number(col: Any, dialect: str, tz: str = "UTC") -> ColumnElement[Any]:
    """Whole days since 1970-01-01 of the instant's calendar date in ``tz`` (an integer on every engine)."""
    if dialect == "sqlite":
        if tz == "UTC":
            return int_div(col, _US_PER_DAY, dialect)
        return sa.cast(sa.func.julianday(local_date(col, dialect, tz)) - _num(2440587.5), sa.BigInteger)
    return sa.cast(sa.func.floor(_local_epoch_seconds(col, dialect, tz) / _num(86400)), sa.BigInteger)


def _month_index(col: Any, dialect: str, tz: str) -> ColumnElement[Any]:
    """Months since 1970-01 of the instant's calendar month in ``tz``: ``(year − 1970) × 12 + month − 1``."""
    if dialect == "sqlite":
        day = local_date(col, dialect, tz)
        year = sa.cast(sa.func.substr(day, _num(1), _num(4)), sa.Integer)
        month = sa.cast(sa.func.substr(day, _num(6), _num(2)), sa.Integer)
    else:
        if dialect == "duckdb":  # a naive TIMESTAMP holding UTC
            local = col if tz == "UTC" else sa.func.timezone(_zone(tz), sa.func.timezone("UTC", col))
        else:  # timestamptz: extract() would use the session time zone, so always convert explicitly
            local = sa.func.timezone(_zone(tz), col)
        year = sa.cast(sa.extract("year", local), sa.Integer)
        month = sa.cast(sa.extract("month", local), sa.Integer)
    return (year - _num(1970)) * _num(12) + month - _num(1)


def bucket_index(col: Any, grain: str, dialect: str, tz: str = "UTC") -> ColumnElement[Any]:
    """The day/week/month containing the instant in ``tz`` as one integer, consecutive buckets differing by 1.

    Days count from 1970-01-01, weeks are Monday–Sunday (week 0 starts Monday 1969-12-29), months count from
    1970-01. :func:`bucket_index_to_date` gives the first day of a bucket back.
    """
    if grain not in GRAINS:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    if grain == "month":
        return _month_index(col, dialect, tz)
    day = day_number(col, dialect, tz)
    if grain == "day":
        return day
    return int_div(day + _num(3), 7, dialect)


def date_bucket_index(value: date, grain: str) -> int:
    """:func:`bucket_index` of a calendar date, computed in Python (for bounds and grids)."""
    if grain == "month":
        return (value.year - 1970) * 12 + value.month - 1
    days = (value - date(1970, 1, 1)).days
    if grain == "day":
        return days
    if grain == "week":
        return (days + 3) // 7
    raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")


def bucket_index_to_date(index: Sequence[int] | pd.Series | np.ndarray, grain: str) -> pd.Series:
    """First day (``datetime64``) of each bucket index made by :func:`bucket_index` (vectorised)."""
    values = np.asarray(pd.Series(index, dtype="int64"), dtype="int64")
    if grain == "day":
        days = values
    elif grain == "week":
        days = values * 7 - 3
    elif grain == "month":
        return pd.Series(values.astype("datetime64[M]").astype("datetime64[ns]"))
    else:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    return pd.Series(days.astype("datetime64[D]").astype("datetime64[ns]"))


def fetch_frame(conn: sa.Connection, statement: sa.Executable, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Run ``statement`` and return its rows as a DataFrame (column names from the statement unless given).

    On DuckDB the frame comes straight from the native cursor (``df()``) instead of Python rows: fetching row by
    row through the DB-API costs several times the query itself on large results. Result type processing is
    skipped, so select plain numbers, strings or epoch seconds, not ``UTCDateTime`` values.
    """
    result = conn.execute(statement)
    names = list(result.keys())
    if conn.dialect.name == "duckdb":
        frame = result.cursor.df()
        result.close()
    else:
        frame = pd.DataFrame(result.fetchall(), columns=names)
    if columns is not None:
        frame.columns = list(columns)
    return frame
