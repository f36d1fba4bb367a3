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

import functools
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.errors import MetricError
from analytics.metrics.frames import seconds_to_timestamp
from analytics.store.types import UTCDateTime, datetime_to_epoch_us, epoch_us_to_datetime

__all__ = [
    "GRAINS",
    "Grain",
    "add_days",
    "add_seconds",
    "bucket_index",
    "bucket_index_to_date",
    "bucket_start",
    "correlated_lookups",
    "count_distinct_in_groups",
    "date_bucket_index",
    "day_number",
    "days_between",
    "epoch_bucket",
    "epoch_seconds",
    "expand_range",
    "fetch_frame",
    "fetch_int_arrays",
    "int_div",
    "integer_member_keys",
    "local_date",
    "member_column",
    "metric_connection",
    "sort_key",
    "to_dates",
]

Grain = Literal["day", "week", "month"]
GRAINS: tuple[str, ...] = ("day", "week", "month")
_US_PER_DAY = 86_400_000_000
_MICROSECOND = timedelta(microseconds=1)


def _num(value: int | float) -> ColumnElement[Any]:
    """A numeric constant of the SQL text itself (not a bound value), so that the same expression in SELECT and
    GROUP BY renders identically; PostgreSQL refuses to match ``x / $1`` with ``x / $2``."""
    return sa.literal_column(repr(value), sa.BigInteger if isinstance(value, int) else sa.Float)


def _zone(tz: str) -> ColumnElement[Any]:
    """A time zone name rendered into the SQL text (quoted by SQLAlchemy), for the same reason as :func:`_num`."""
    return sa.literal(tz, sa.String, literal_execute=True)


def epoch_seconds(col: Any, dialect: str) -> ColumnElement[Any]:
    """Seconds since 1970-01-01 UTC of a timestamp expression, as a double on every engine.

    (PostgreSQL's ``extract`` gives ``numeric``, which drivers hand back as slow ``Decimal`` objects; microsecond
    instants of this era fit a double exactly enough for durations and recency.)
    """
    if dialect == "sqlite":
        return sa.cast(col, sa.BigInteger) / 1_000_000
    if dialect == "duckdb":
        return sa.func.epoch(col)
    return sa.cast(sa.extract("epoch", col), sa.Float)


def fetched_instant(col: Any, dialect: str) -> ColumnElement[Any]:
    """An instant to fetch for :func:`frames.seconds_to_timestamp`, in the form each engine hands back cheapest.

    DuckDB's own ``TIMESTAMP`` (UTC) arrives through Arrow as timestamps with no per-row work; elsewhere the
    column is epoch seconds (:func:`epoch_seconds`), since drivers build a Python object per timestamp.
    """
    return col if dialect == "duckdb" else epoch_seconds(col, dialect)


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


def days_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """Fractional days from ``start`` to ``end`` (both timestamp expressions)."""
    return (epoch_seconds(end, dialect) - epoch_seconds(start, dialect)) / 86400.0


@functools.lru_cache(maxsize=256)
def _offset_segments(tz: str, lo: datetime, hi: datetime) -> tuple[tuple[int, int, int], ...]:
    """``(start_us, end_us, utc_offset_us)`` pieces of ``[lo, hi)`` over which the zone's UTC offset is constant.

    Cached: every metric call over the same period asks again, and finding a transition probes the zone hundreds
    of times.
    """
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
    return tuple(pieces)


def local_date(
    col: Any, dialect: str, tz: str = "UTC", within: tuple[datetime, datetime] | None = None
) -> ColumnElement[Any]:
    """The calendar date of an instant in the time zone ``tz`` (an IANA name such as ``Europe/Paris``).

    ``within=(lo, hi)``: a hint that most instants lie in ``[lo, hi)``; on SQLite and DuckDB the zone's UTC offsets
    over that span become plain integer arithmetic instead of a Python function call (SQLite) or an ICU time-zone
    conversion (DuckDB) per row (instants outside still get the exact answer).
    """
    if dialect == "sqlite":
        if tz == "UTC":
            return sa.func.date(sa.cast(col, sa.BigInteger) / 1_000_000, "unixepoch")
        exact = sa.func.analytics_local_date(col, _zone(tz))
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
        return sa.cast(col if tz == "UTC" else _duckdb_wall_clock(col, tz, within), sa.Date)
    return sa.cast(sa.func.timezone(_zone(tz), col), sa.Date)


_DUCKDB_EPOCH: ColumnElement[Any] = sa.literal_column("TIMESTAMP '1970-01-01'")


def _duckdb_wall_clock(col: Any, tz: str, within: tuple[datetime, datetime] | None) -> ColumnElement[Any]:
    """The instant's wall-clock time in ``tz`` as a naive ``TIMESTAMP`` (DuckDB; ``col`` is a naive UTC one).

    Inside ``within``, the instant is shifted by the zone's UTC offset of its piece of the span: a ``CASE`` on the
    few transition instants and one addition, where an ICU conversion per row costs several times more. The
    expression is kept small on purpose: DuckDB binds and optimises every node of every query, and a
    ``CASE`` of per-piece arithmetic cost more to plan than to run at medium sizes. Others get ICU's answer.
    """
    exact = sa.func.timezone(_zone(tz), sa.func.timezone("UTC", col))
    if within is None or not _span(within):
        return exact
    pieces = _offset_segments(tz, within[0], within[1])
    offset: ColumnElement[Any] = sa.literal(pieces[-1][2], sa.BigInteger)
    if len(pieces) > 1:
        changes = [
            (col < _instant(epoch_us_to_datetime(end), "duckdb"), sa.literal(offset_us, sa.BigInteger))
            for _, end, offset_us in pieces[:-1]
        ]
        offset = sa.case(*changes, else_=offset)
    inside = sa.and_(col >= _instant(within[0], "duckdb"), col < _instant(within[1], "duckdb"))
    return sa.case((inside, col + sa.func.to_microseconds(offset)), else_=exact)


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


def correlated_lookups(dialect: str) -> bool:
    """Whether "the first event of member M after t" is fastest as a correlated index lookup per row (SQLite,
    PostgreSQL: nested loops over a b-tree) rather than as a join then ``GROUP BY`` (DuckDB: hash joins)."""
    return dialect != "duckdb"


def count_distinct_in_groups(dialect: str) -> bool:
    """Whether "distinct members per group" is fastest as ``count(DISTINCT member)`` per group (SQLite: one
    temporary B-tree instead of two) rather than ``SELECT DISTINCT`` pairs then ``count(*)`` (DuckDB, PostgreSQL:
    hash aggregates, where the two-step form is as fast or faster)."""
    return dialect == "sqlite"


def segments_by_bucket_ends(dialect: str) -> bool:
    """Whether "how long each status lasts, in buckets" is fastest from the bucket ends (the last change per
    membership and bucket, then the next such bucket by a join: DuckDB, whose ``lead() OVER (PARTITION BY …)``
    hash-partitions and sorts thousands of two- or three-row partitions, a third of signup retention's time)
    rather than from each change's next change by ``lead()`` (SQLite, PostgreSQL: one sort)."""
    return dialect == "duckdb"


def integer_member_keys(dialect: str) -> bool:
    """Whether metrics group and join ``activity_events`` and ``members`` by ``member_key`` (an integer derived from
    the member id, :mod:`analytics.store.keys`) rather than by ``member_id``.

    DuckDB: a 16-character id is not stored inline and every id shares the 4-byte prefix ``mber`` its comparisons
    start with, so hashing and comparing ids follows a pointer per row (the 3-step funnel over the large event log
    spent a third of its time there; signup retention's distinct (member, month) pairs used a row number for the
    same reason). SQLite and PostgreSQL keep the ids: their event indexes, which the funnels' per-member lookups
    use, are on ``member_id``.
    """
    return dialect == "duckdb"


def member_column(table: Any, dialect: str) -> ColumnElement[Any]:
    """The column a metric groups or joins ``table`` (``activity_events`` or ``members``) by on this engine.

    ``member_key`` where :func:`integer_member_keys` holds, else the member id (``member_id``, or ``id`` of
    ``members``).
    """
    if integer_member_keys(dialect):
        return table.c.member_key
    return table.c.member_id if "member_id" in table.c else table.c.id


def to_dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Turn calendar columns returned by :func:`bucket_start`/:func:`local_date` into ``datetime64``."""
    for name in columns:
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
    return frame


def int_div(numerator: Any, denominator: Any, dialect: str) -> ColumnElement[Any]:
    """Integer division of non-negative integer expressions (exact, no floating point).

    ``denominator`` may be a Python int (rendered into the SQL text, see :func:`_num`) or an integer expression.
    DuckDB's ``/`` is float division, so it gets its integer operator ``//``.
    """
    den = _num(denominator) if isinstance(denominator, int) else denominator
    if dialect == "duckdb":
        return sa.cast(sa.Grouping(numerator).op("//")(sa.Grouping(den)), sa.BigInteger)
    return sa.cast(sa.cast(numerator, sa.BigInteger) // den, sa.BigInteger)


def epoch_bucket(col: Any, seconds: int, dialect: str) -> ColumnElement[Any]:
    """``floor(epoch seconds / seconds)`` of a timestamp: which fixed-length UTC slice (e.g. quarter hour) it is in."""
    if dialect == "sqlite":
        return int_div(col, seconds * 1_000_000, dialect)
    return sa.cast(sa.func.floor(_epoch(col, dialect) / _num(seconds)), sa.BigInteger)


def _epoch(col: Any, dialect: str) -> ColumnElement[Any]:
    return sa.func.epoch(col) if dialect == "duckdb" else sa.extract("epoch", col)


def _local_epoch_seconds(col: Any, dialect: str, tz: str) -> ColumnElement[Any]:
    """Seconds since 1970 of the instant's wall-clock time in ``tz`` (PostgreSQL; DuckDB in UTC only, other zones
    use :func:`_duckdb_wall_clock`)."""
    if tz == "UTC":
        return _epoch(col, dialect)
    return sa.extract("epoch", sa.func.timezone(_zone(tz), col))


def _instant(value: datetime, dialect: str) -> ColumnElement[Any]:
    """A bound instant comparable with a UTCDateTime column (epoch microseconds on SQLite)."""
    if dialect == "sqlite":
        return sa.literal(datetime_to_epoch_us(value), sa.BigInteger)
    return sa.literal(value, UTCDateTime())


def _span(within: tuple[datetime, datetime] | None) -> bool:
    return within is not None and within[0] < within[1]


def day_number(
    col: Any, dialect: str, tz: str = "UTC", within: tuple[datetime, datetime] | None = None
) -> ColumnElement[Any]:
    """Whole days since 1970-01-01 of the instant's calendar date in ``tz`` (an integer on every engine).

    ``within``: see :func:`local_date` (on SQLite the day is then integer arithmetic on the epoch per UTC-offset
    piece of the span; on DuckDB days are counted on the wall-clock time of :func:`_duckdb_wall_clock`).
    """
    if dialect == "duckdb" and tz != "UTC":
        return sa.func.datediff("day", _DUCKDB_EPOCH, _duckdb_wall_clock(col, tz, within))
    if dialect != "sqlite":
        return sa.cast(sa.func.floor(_local_epoch_seconds(col, dialect, tz) / _num(86400)), sa.BigInteger)
    if tz == "UTC":
        return int_div(col, _US_PER_DAY, dialect)
    exact = sa.cast(sa.func.julianday(local_date(col, dialect, tz)) - _num(2440587.5), sa.BigInteger)
    if within is None or not _span(within):
        return exact
    epoch_us = sa.cast(col, sa.BigInteger)
    whens = [
        (
            sa.and_(col >= _instant(start, dialect), col < _instant(end, dialect)),
            int_div(epoch_us + sa.literal(offset // _MICROSECOND, sa.BigInteger), _US_PER_DAY, dialect),
        )
        for start, end, offset in _offset_pieces(tz, within[0], within[1])
    ]
    return sa.case(*whens, else_=exact)


def _offset_pieces(tz: str, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """:func:`_offset_segments` as (start, end, UTC offset) datetimes."""
    return [
        (epoch_us_to_datetime(start), epoch_us_to_datetime(end), timedelta(microseconds=offset))
        for start, end, offset in _offset_segments(tz, lo, hi)
    ]


def _month_index(
    col: Any, dialect: str, tz: str, within: tuple[datetime, datetime] | None = None
) -> ColumnElement[Any]:
    """Months since 1970-01 of the instant's calendar month in ``tz``: ``(year − 1970) × 12 + month − 1``.

    With ``within``, instants of the span avoid the per-row time-zone conversion and date formatting, which cost more
    than the rest of a query on SQLite and DuckDB: SQLite compares them with the months' first instants (a balanced
    tree of comparisons); DuckDB counts months (``datediff``) on the wall-clock time of :func:`_duckdb_wall_clock`,
    which shifts instants by the zone's UTC offset of their piece of the span (one piece per daylight-saving change).
    """
    if dialect == "duckdb":  # a naive TIMESTAMP holding UTC
        return sa.func.datediff("month", _DUCKDB_EPOCH, col if tz == "UTC" else _duckdb_wall_clock(col, tz, within))
    if dialect == "sqlite":
        day = local_date(col, dialect, tz)
        year = sa.cast(sa.func.substr(day, _num(1), _num(4)), sa.Integer)
        month = sa.cast(sa.func.substr(day, _num(6), _num(2)), sa.Integer)
    else:  # timestamptz: extract() would use the session time zone, so always convert explicitly
        local = sa.func.timezone(_zone(tz), col)
        year = sa.cast(sa.extract("year", local), sa.Integer)
        month = sa.cast(sa.extract("month", local), sa.Integer)
    exact = (year - _num(1970)) * _num(12) + month - _num(1)
    if within is None or not _span(within):
        return exact
    lo, hi = within
    zone = ZoneInfo(tz)
    first = lo.astimezone(zone).date().replace(day=1)
    bounds: list[datetime] = []  # the end of each month of the span (the last one clipped to hi)
    indexes: list[int] = []
    while True:
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        bound = datetime.combine(nxt, datetime.min.time(), tzinfo=zone)
        bounds.append(min(bound, hi))
        indexes.append((first.year - 1970) * 12 + first.month - 1)
        if bound >= hi:
            break
        first = nxt

    def search(low: int, high: int) -> Any:
        """Months low … high−1 as a balanced tree of comparisons (about log2(months) per row)."""
        if high - low == 1:
            return sa.literal(indexes[low])
        middle = (low + high) // 2
        return sa.case((col < _instant(bounds[middle - 1], dialect), search(low, middle)), else_=search(middle, high))

    return sa.case(
        (col < _instant(lo, dialect), exact), (col >= _instant(hi, dialect), exact), else_=search(0, len(bounds))
    )


def bucket_index(
    col: Any, grain: str, dialect: str, tz: str = "UTC", within: tuple[datetime, datetime] | None = None
) -> ColumnElement[Any]:
    """The day/week/month containing the instant in ``tz`` as one integer, consecutive buckets differing by 1.

    Days count from 1970-01-01, weeks are Monday–Sunday (week 0 starts Monday 1969-12-29), months count from
    1970-01. :func:`bucket_index_to_date` gives the first day of a bucket back; ``within``: see :func:`local_date`.
    """
    if grain not in GRAINS:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    if grain == "month":
        return _month_index(col, dialect, tz, within)
    day = day_number(col, dialect, tz, within)
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


def fetch_frame(
    conn: sa.Connection,
    statement: sa.Executable,
    columns: Sequence[str] | None = None,
    *,
    instants: Sequence[str] = (),
) -> pd.DataFrame:
    """Run ``statement`` and return its rows as a DataFrame (column names from the statement unless given).

    On DuckDB the frame comes from the native cursor's Arrow result (:func:`arrow_to_frame`) instead of Python
    rows: fetching row by row through the DB-API costs several times the query itself on large results, and
    DuckDB's own ``df()`` builds a Python object per string. Elsewhere the DB-API cursor's plain tuples are used
    (SQLAlchemy ``Row`` objects make pandas probe each row's attributes). Result type processing is skipped either
    way, so select plain numbers, strings or epoch seconds, not ``UTCDateTime``.

    ``instants`` names result columns selected with :func:`fetched_instant`; they come back as UTC timestamps
    (``datetime64[us, UTC]``). DuckDB's naive UTC timestamps are only marked UTC in Arrow, a change of type
    metadata with no pass over the rows; epoch seconds go through :func:`frames.seconds_to_timestamp`.
    """
    result = conn.execute(statement)
    names = list(result.keys())
    if conn.dialect.name == "duckdb":
        table = _duckdb_arrow(result)
        for name in instants:
            position = names.index(name)
            column = table.column(position)
            if pa.types.is_timestamp(column.type) and column.type.tz is None:
                table = table.set_column(position, name, column.cast(pa.timestamp("us", tz="UTC")))
        frame = arrow_to_frame(table)
    else:
        frame = pd.DataFrame.from_records(result.cursor.fetchall(), columns=names, coerce_float=False)
    result.close()
    for name in instants:
        if not isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = seconds_to_timestamp(frame[name])
    if columns is not None:
        frame.columns = list(columns)
    return frame


def _duckdb_arrow(result: sa.CursorResult[Any]) -> pa.Table:
    """The whole result of a DuckDB statement as one Arrow table, from the native cursor."""
    with warnings.catch_warnings():  # "Arrow output on a DB-API result makes an extra copy": a columnar one
        warnings.simplefilter("ignore", UserWarning)
        return result.cursor.to_arrow_table()


def fetch_int_arrays(conn: sa.Connection, statement: sa.Executable) -> dict[str, np.ndarray]:
    """Run ``statement`` whose columns are all non-NULL integers; return them as ``int64`` numpy arrays by name.

    For small aggregated results that are reshaped with numpy anyway: no DataFrame is built (on a few hundred
    rows, building one costs more than the reshaping). DuckDB's Arrow result is read column by column, other
    engines' tuples in one array.

    Raises
    ------
    MetricError
        A column holds NULLs (the statement must coalesce them).
    """
    result = conn.execute(statement)
    names = list(result.keys())
    if conn.dialect.name == "duckdb":
        table = _duckdb_arrow(result)
        result.close()
        if any(column.null_count for column in table.columns):
            raise MetricError(f"a query of integers returned NULLs in {names}")
        return {
            name: column.to_numpy().astype("int64", copy=False)
            for name, column in zip(names, table.columns, strict=True)
        }
    rows = result.cursor.fetchall()
    result.close()
    matrix = np.array(rows, dtype=object).reshape(len(rows), len(names))
    if (matrix == None).any():  # noqa: E711 - elementwise comparison with None
        raise MetricError(f"a query of integers returned NULLs in {names}")
    return {name: matrix[:, i].astype("int64") for i, name in enumerate(names)}


_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as the DataFrame DuckDB's ``df()`` would give, column by column without Python objects.

    The same dtypes as ``df()``: integers and booleans with NULLs become pandas' nullable types (plain numpy
    without), decimals and HUGEINT sums ``float64``, dates ``datetime64[us]``, strings pandas' ``str`` (a string
    column that is entirely NULL, or empty, is ``object``). The plain columns are converted in one
    ``Table.to_pandas`` (which builds the frame's blocks directly); the others are put in afterwards.
    """
    arrays: list[pa.ChunkedArray] = []
    special: dict[int, pd.Series] = {}  # by position: a result may repeat a column name
    for position, column in enumerate(table.columns):
        kind = column.type
        if pa.types.is_decimal(kind):
            column = column.cast(pa.float64())
        elif pa.types.is_date(kind):
            column = column.cast(pa.timestamp("us"))
        elif kind in _NULLABLE and column.null_count:
            special[position] = column.to_pandas(types_mapper=_NULLABLE.get)
        elif pa.types.is_string(kind) and column.null_count == len(column):  # also an empty result
            special[position] = pd.Series([None] * len(column), dtype=object)
        arrays.append(column)
    keys = [f"c{position}" for position in range(len(arrays))]
    frame = pa.Table.from_arrays(arrays, names=keys).to_pandas()
    for position, series in special.items():
        frame[keys[position]] = series
    frame.columns = pd.Index(table.column_names)
    return frame


@contextmanager
def metric_connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for analytical metric queries.

    On PostgreSQL the JIT compiler is switched off for the transaction (``SET LOCAL jit = off``): metric queries
    run for well under a second, and compiling them costs more than it saves (the planner's row estimates for
    window pipelines are far off, so it often decides to compile). Other engines need nothing.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL jit = off"))
        yield conn


def sort_key(col: Any, dialect: str) -> Any:
    """A text column as a window/sort key: byte order on PostgreSQL (``COLLATE "C"``).

    Ids only need a consistent order, and PostgreSQL compares text with the locale's rules (C.UTF-8 included)
    unless told otherwise, which makes sorting by ids several times slower. SQLite and DuckDB compare bytes.
    """
    return col.collate("C") if dialect == "postgresql" else col
