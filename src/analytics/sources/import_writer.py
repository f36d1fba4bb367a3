"""Bulk upsert of validated import rows: the one module that knows how each engine loads fast.

All paths have the semantics of :func:`analytics.store.upsert.upsert_rows`: insert, or on a primary-key conflict
update the columns the file carries; when the file carries ``updated_at`` an existing row is only overwritten by
an equal or newer one, so an old export never moves a record back in time. A stored row whose values already
equal the incoming ones is left untouched. The statements are built with
SQLAlchemy Core and every value is bound or streamed, never formatted into SQL.

* **SQLite** — values are converted column by column the way the store's types keep them (``UTCDateTime`` as
  epoch microseconds, booleans 0/1, dates ``YYYY-MM-DD``, JSON and decimals as text), then the compiled
  ``INSERT … ON CONFLICT DO UPDATE`` runs through the DBAPI cursor's ``executemany`` in large batches.
* **PostgreSQL** — the chunk is written as CSV by pyarrow and streamed with psycopg 3 ``COPY`` into a temporary
  table, then one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` moves it into place.
* **DuckDB** — the chunk is registered as an Arrow table and inserted with ``INSERT … SELECT … ON CONFLICT``.
* Any other engine — :func:`~analytics.store.upsert.upsert_rows` with Python values.

Everything runs on the caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from analytics.sources.import_spec import TableSpec
from analytics.store.keys import member_keys
from analytics.store.upsert import upsert_rows

__all__ = ["RowWriter", "writer_for"]

RowWriter = Callable[[pd.DataFrame], int]

SQLITE_BATCH = 50_000


def _upsert(insert: Any, table: sa.Table, columns: Sequence[str], key: Sequence[str], newer: str | None) -> Any:
    update = [c for c in columns if c not in key]
    if not update:
        return insert.on_conflict_do_nothing(index_elements=list(key))
    # Only rows that differ are rewritten: re-importing an unchanged file writes nothing (no WAL growth on
    # SQLite, no dead row versions on PostgreSQL).
    where: Any = sa.or_(*(table.c[c].is_distinct_from(insert.excluded[c]) for c in update))
    if newer is not None and newer in columns:
        where = sa.and_(sa.or_(table.c[newer].is_(None), insert.excluded[newer] >= table.c[newer]), where)
    return insert.on_conflict_do_update(
        index_elements=list(key), set_={c: insert.excluded[c] for c in update}, where=where
    )


def _kinds(spec: TableSpec) -> dict[str, str]:
    """Column → import kind, with the derived keys (``member_key``) as integers."""
    return {**{c.name: c.type for c in spec.columns}, **{name: "integer" for name in spec.derived}}


def _nulls_to_none(values: list[Any], missing: np.ndarray) -> list[Any]:
    for i in np.flatnonzero(missing).tolist():
        values[i] = None
    return values


def _sqlite_column(s: pd.Series, kind: str) -> list[Any]:
    """Python values for sqlite3, converted the way the store's column types keep them."""
    missing = s.isna().to_numpy(dtype=bool)
    if kind == "timestamp":
        us = s.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us").to_numpy().view("int64")
        return _nulls_to_none(us.tolist(), missing)
    if kind in ("integer", "money"):
        return _nulls_to_none(s.to_numpy(dtype="int64", na_value=0).tolist(), missing)
    if kind == "boolean":
        return _nulls_to_none(s.to_numpy(dtype="int64", na_value=0).tolist(), missing)
    if kind == "number":
        return _nulls_to_none(s.to_numpy(dtype="float64", na_value=np.nan).tolist(), missing)
    if kind == "date":
        return _nulls_to_none(s.dt.strftime("%Y-%m-%d").to_numpy(dtype=object).tolist(), missing)
    return _nulls_to_none(s.to_numpy(dtype=object).tolist(), missing)


def _sqlite_writer(conn: sa.Connection, spec: TableSpec, columns: Sequence[str]) -> RowWriter:
    table = spec.table
    insert = sqlite.insert(table).values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
    compiled = _upsert(insert, table, columns, spec.key, spec.newer_column).compile(dialect=conn.dialect)
    order = list(compiled.positiontup or ())
    kinds = _kinds(spec)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def write(frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        for start in range(0, len(frame), SQLITE_BATCH):  # Python values for one batch at a time: little memory
            part = frame.iloc[start : start + SQLITE_BATCH]
            cursor.executemany(
                compiled.string, list(zip(*(_sqlite_column(part[c], kinds[c]) for c in order), strict=True))
            )
        return len(frame)

    return write


def _arrow_table(frame: pd.DataFrame, kinds: dict[str, str], *, naive_utc: bool) -> pa.Table:
    """The chunk as Arrow; timestamps stay UTC (or become naive UTC wall time), dates become date32."""
    arrays = []
    for name in frame.columns:
        s = frame[name]
        kind = kinds[name]
        if kind == "timestamp":
            s = s.dt.tz_convert("UTC").dt.as_unit("us")
            if naive_utc:
                s = s.dt.tz_localize(None)
            arrays.append(pa.array(s))
        elif kind == "date":
            days = s.to_numpy(dtype="datetime64[D]")
            arrays.append(pa.array(days, type=pa.date32(), mask=s.isna().to_numpy(dtype=bool)))
        elif kind in ("integer", "money"):
            arrays.append(pa.array(s.astype("Int64"), type=pa.int64()))
        elif kind == "boolean":
            arrays.append(pa.array(s.astype("boolean"), type=pa.bool_()))
        elif kind == "number":
            arrays.append(pa.array(s.astype("float64"), type=pa.float64()))
        elif isinstance(s.dtype, pd.StringDtype):
            arrays.append(pa.array(s.astype("string[pyarrow]").array).cast(pa.string()))
        else:
            arrays.append(pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True))
    return pa.Table.from_arrays(arrays, names=list(frame.columns))


def _postgres_writer(conn: sa.Connection, spec: TableSpec, columns: Sequence[str]) -> RowWriter:
    from psycopg import sql

    table = spec.table
    kinds = _kinds(spec)

    def write(frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        staging = sa.Table(
            f"import_{uuid.uuid4().hex[:12]}",
            sa.MetaData(),
            *(sa.Column(c, table.c[c].type) for c in columns),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        staging.create(conn)
        buffer = io.BytesIO()
        pcsv.write_csv(
            _arrow_table(frame[list(columns)], kinds, naive_utc=False),
            buffer,
            pcsv.WriteOptions(include_header=False),
        )
        copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(staging.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(copy) as stream:
            stream.write(buffer.getbuffer())
        insert = postgresql.insert(table).from_select(list(columns), sa.select(*(staging.c[c] for c in columns)))
        conn.execute(_upsert(insert, table, columns, spec.key, spec.newer_column))
        staging.drop(conn)
        return len(frame)

    return write


def _duckdb_writer(conn: sa.Connection, spec: TableSpec, columns: Sequence[str]) -> RowWriter:
    table = spec.table
    kinds = _kinds(spec)
    raw = conn.connection.driver_connection

    def write(frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        name = f"import_{uuid.uuid4().hex[:12]}"
        raw.register(name, _arrow_table(frame[list(columns)], kinds, naive_utc=True))  # type: ignore[union-attr]
        try:
            source = sa.table(name, *(sa.column(c) for c in columns))
            insert = postgresql.insert(table).from_select(list(columns), sa.select(*source.c))
            conn.execute(_upsert(insert, table, columns, spec.key, spec.newer_column))
        finally:
            raw.unregister(name)  # type: ignore[union-attr]
        return len(frame)

    return write


def _python_value(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if kind == "timestamp":
        return value.to_pydatetime()
    if kind == "date":
        return value.date()
    if kind in ("integer", "money"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "json":
        return json.loads(value)
    return value


def _generic_writer(conn: sa.Connection, spec: TableSpec, columns: Sequence[str]) -> RowWriter:
    kinds = _kinds(spec)

    def write(frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        data = frame[list(columns)].astype(object).where(frame[list(columns)].notna(), None)
        rows = [
            {c: _python_value(v, kinds[c]) for c, v in zip(columns, record, strict=True)}
            for record in data.itertuples(index=False, name=None)
        ]
        return upsert_rows(
            conn, spec.table, rows, where_newer=spec.newer_column if spec.newer_column in columns else None
        )

    return write


_WRITERS: dict[str, Callable[[sa.Connection, TableSpec, Sequence[str]], RowWriter]] = {
    "sqlite": _sqlite_writer,
    "postgresql": _postgres_writer,
    "duckdb": _duckdb_writer,
}


def writer_for(conn: sa.Connection, spec: TableSpec, columns: Sequence[str], *, fast: bool = True) -> RowWriter:
    """A function that upserts canonical chunks (see :mod:`analytics.sources.import_convert`) into the table.

    ``fast=False`` forces the portable :func:`~analytics.store.upsert.upsert_rows` path (used to cross-check).
    """
    factory = _WRITERS.get(conn.dialect.name) if fast else None
    if conn.dialect.name == "postgresql" and conn.dialect.driver != "psycopg":
        factory = None
    # keys derived from an id column (member_key): computed here for the bulk writers; upsert_rows gets them
    # from the column default
    derived = {name: source for name, source in spec.derived.items() if source in columns}
    if factory is None or not derived:
        return (factory or _generic_writer)(conn, spec, list(columns))
    write_all = factory(conn, spec, [*columns, *derived])

    def write(frame: pd.DataFrame) -> int:
        keys = {name: member_keys(frame[source]) for name, source in derived.items()}
        return write_all(frame.assign(**keys))

    return write
