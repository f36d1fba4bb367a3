"""The one place that knows how the engines differ for metric SQL: dates, date arithmetic, epochs.

Timestamp columns are :class:`~analytics.store.types.UTCDateTime`: ``timestamptz`` on PostgreSQL, a UTC
``TIMESTAMP`` on DuckDB and integer epoch microseconds on SQLite. Every function here takes a column or
expression of that type and returns a SQLAlchemy expression, so metric modules never branch on the engine.

Calendar results (:func:`local_date`, :func:`bucket_start`) are ``DATE`` values on PostgreSQL/DuckDB and ISO
``'YYYY-MM-DD'`` text on SQLite; :func:`to_dates` turns either into ``datetime64`` in a DataFrame.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.errors import MetricError
from analytics.store.types import datetime_to_epoch_us

__all__ = [
    "GRAINS",
    "Grain",
    "add_days",
    "add_seconds",
    "bucket_index",
    "bucket_start",
    "bucket_to_index",
    "day_number",
    "days_between",
    "epoch_seconds",
    "expand_range",
    "index_to_bucket",
    "int_div",
    "local_date",
    "to_dates",
]

Grain = Literal["day", "week", "month"]
GRAINS: tuple[str, ...] = ("day", "week", "month")
_US_PER_DAY = 86_400_000_000
_MICROSECOND = timedelta(microseconds=1)


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
    """A timestamp expression shifted by a whole number of ``seconds`` (a Python int)."""
    if dialect == "sqlite":
        return col + sa.literal(int(seconds) * 1_000_000, sa.BigInteger)
    if dialect == "duckdb":
        return col + sa.func.to_seconds(sa.literal(int(seconds), sa.BigInteger))
    return col + sa.func.make_interval(0, 0, 0, 0, 0, 0, sa.literal(int(seconds), sa.Integer))


def int_div(numerator: Any, denominator: Any, dialect: str) -> ColumnElement[Any]:
    """Integer division of two integer expressions, truncated toward zero (exact; no floating point)."""
    if dialect == "duckdb":
        return sa.cast(sa.Grouping(numerator).op("//")(sa.Grouping(denominator)), sa.BigInteger)
    return sa.cast(numerator // denominator, sa.BigInteger)


def days_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """Fractional days from ``start`` to ``end`` (both timestamp expressions)."""
    return (epoch_seconds(end, dialect) - epoch_seconds(start, dialect)) / 86400.0


def _offset_segments(tz: str, lo: datetime, hi: datetime) -> list[tuple[int, int, int]]:
    """``(start_us, end_us, utc_offset_us)`` pieces of ``[lo, hi)`` over which the zone's UTC offset is constant."""
    zone = ZoneInfo(tz)

    def offset(at: datetime) -> timedelta:
        return at.astimezone(zone).utcoffset() or timedelta(0)

    pieces: list[tuple[int, int, int]] = []
    start, current, probe = lo, offset(lo), lo
    while probe < hi:
        nxt = min(probe + timedelta(days=1), hi)
        if offset(nxt) != current:  # a transition in (probe, nxt]: find its first instant exactly
            a, b = probe, nxt
            while b - a > _MICROSECOND:
                mid = a + (b - a) / 2
                a, b = (mid, b) if offset(mid) == current else (a, mid)
            pieces.append((datetime_to_epoch_us(start), datetime_to_epoch_us(b), current // _MICROSECOND))
            start, current = b, offset(b)
        probe = nxt
    pieces.append((datetime_to_epoch_us(start), datetime_to_epoch_us(hi), current // _MICROSECOND))
    return pieces


def local_date(
    col: Any, dialect: str, tz: str = "UTC", within: tuple[datetime, datetime] | None = None
) -> ColumnElement[Any]:
    """The calendar date of an instant in the time zone ``tz`` (an IANA name such as ``Europe/Paris``).

    ``within=(lo, hi)``: a hint that most instants lie in ``[lo, hi)``; on SQLite the zone's UTC offsets over that
    span become plain integer arithmetic instead of a Python function call per row (instants outside still get
    the exact answer from ``analytics_local_date``).
    """
    if dialect == "sqlite":
        if tz == "UTC":
            return sa.func.date(sa.cast(col, sa.BigInteger) / 1_000_000, "unixepoch")
        exact = sa.func.analytics_local_date(col, tz)
        if within is None or within[0] >= within[1]:
            return exact
        whens = [
            (
                sa.and_(col >= sa.literal(start, sa.BigInteger), col < sa.literal(end, sa.BigInteger)),
                sa.func.date(
                    (sa.cast(col, sa.BigInteger) + sa.literal(offset_us, sa.BigInteger)) // 1_000_000, "unixepoch"
                ),
            )
            for start, end, offset_us in _offset_segments(tz, within[0], within[1])
        ]
        return sa.case(*whens, else_=exact)
    if dialect == "duckdb":
        if tz == "UTC":
            return sa.cast(col, sa.Date)
        return sa.cast(sa.func.timezone(tz, sa.func.timezone("UTC", col)), sa.Date)
    return sa.cast(sa.func.timezone(tz, col), sa.Date)


def bucket_start(
    col: Any, grain: str, dialect: str, tz: str = "UTC", within: tuple[datetime, datetime] | None = None
) -> ColumnElement[Any]:
    """First day of the day/week (Monday)/month containing the instant, in the time zone ``tz``.

    ``within``: see :func:`local_date`.
    """
    if grain not in GRAINS:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    day = local_date(col, dialect, tz, within)
    if grain == "day":
        return day
    if dialect == "sqlite":
        if grain == "month":
            return sa.func.date(day, "start of month")
        # strftime('%w') is 0 for Sunday; Monday-based offset = (w + 6) % 7
        offset = (sa.cast(sa.func.strftime("%w", day), sa.Integer) + 6) % 7
        return sa.func.date(day, sa.func.printf("-%d days", offset))
    return sa.cast(sa.func.date_trunc(grain, day), sa.Date)


def day_number(day: Any, dialect: str) -> ColumnElement[Any]:
    """Days since 1970-01-01 of a calendar date from :func:`local_date` (an integer)."""
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(day) - 2440587.5, sa.Integer)
    return sa.cast(day - sa.literal(date(1970, 1, 1), sa.Date), sa.Integer)


def bucket_index(day: Any, grain: str, dialect: str) -> ColumnElement[Any]:
    """An integer numbering of the buckets of a calendar date (consecutive buckets differ by 1).

    day: days since 1970-01-01; week: Monday-based weeks since 1969-12-29; month: year × 12 + month − 1.
    :func:`index_to_bucket` turns the number back into the bucket's first day.
    """
    if grain not in GRAINS:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    if grain == "day":
        return day_number(day, dialect)
    if grain == "week":
        return int_div(day_number(day, dialect) + 3, sa.literal(7), dialect)
    year: ColumnElement[Any]
    month: ColumnElement[Any]
    if dialect == "sqlite":
        year, month = sa.func.strftime("%Y", day), sa.func.strftime("%m", day)
    else:
        year, month = sa.extract("year", day), sa.extract("month", day)
    return sa.cast(year, sa.Integer) * 12 + sa.cast(month, sa.Integer) - 1


def index_to_bucket(index: int, grain: str) -> date:
    """The first day of the bucket numbered ``index`` by :func:`bucket_index`."""
    if grain == "day":
        return date(1970, 1, 1) + timedelta(days=index)
    if grain == "week":
        return date(1969, 12, 29) + timedelta(days=7 * index)
    return date(index // 12, index % 12 + 1, 1)


def bucket_to_index(day: date, grain: str) -> int:
    """The :func:`bucket_index` number of the bucket containing ``day`` (Python side)."""
    if grain == "day":
        return (day - date(1970, 1, 1)).days
    if grain == "week":
        return ((day - date(1970, 1, 1)).days + 3) // 7
    return day.year * 12 + day.month - 1


def expand_range(
    columns: list[Any], source: Any, lo: Any, hi: Any, dialect: str, span: tuple[int, int]
) -> sa.Select[Any]:
    """``SELECT columns, i FROM source`` with one row per integer ``i`` in ``[lo, hi)`` (clipped to ``span``).

    ``span = (first, last)`` bounds ``i`` (inclusive); PostgreSQL uses ``generate_series``, DuckDB
    ``unnest(range(…))`` and SQLite a join with a numbers table of the span.
    """
    first, last = span
    low = sa.func.max(lo, first) if dialect == "sqlite" else sa.func.greatest(lo, first)
    high = sa.func.min(hi, last + 1) if dialect == "sqlite" else sa.func.least(hi, last + 1)
    if dialect == "postgresql":
        return sa.select(*columns, sa.func.generate_series(low, high - 1).label("i")).select_from(source)
    if dialect == "duckdb":
        return sa.select(*columns, sa.func.unnest(sa.func.range(low, high)).label("i")).select_from(source)
    numbers = sa.select(sa.literal(first, sa.Integer).label("i")).cte("numbers", recursive=True)
    numbers = numbers.union_all(sa.select(numbers.c.i + 1).where(numbers.c.i < last))
    return (
        sa.select(*columns, numbers.c.i.label("i"))
        .select_from(source)
        .join(numbers, sa.and_(numbers.c.i >= lo, numbers.c.i < hi))
    )


def to_dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Turn calendar columns returned by :func:`bucket_start`/:func:`local_date` into ``datetime64``."""
    for name in columns:
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
    return frame
