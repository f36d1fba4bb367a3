"""Store maintenance after bulk loads: planner statistics, and time order for DuckDB's event logs.

``analytics optimize`` (and :func:`optimize_store`) brings a store into the shape the metric queries are written
for, on each engine:

* **SQLite**: ``ANALYZE`` then ``PRAGMA optimize`` (the planner picks the account/time indexes from statistics).
* **PostgreSQL**: ``VACUUM ANALYZE`` of the store's tables (autovacuum gets there eventually; right after an import
  the planner has no statistics, and the visibility map that lets the account/time indexes answer without visiting
  the table is empty).
* **DuckDB**: the event logs (:data:`TIME_ORDERED`) are rewritten in ``(account_id, time)`` order, then
  ``ANALYZE`` and a checkpoint. DuckDB has no ordered index for range scans: it skips a row group (~122,880 rows)
  only when the group's min/max of the filtered column miss the range. Rows imported in key order (or a history
  imported after the live sync) spread every month over every row group, so a 30-day engagement window reads the
  whole log; in time order it reads the groups of those 30 days. Appends by the sync and the webhooks arrive
  roughly in time order and keep the property, so the rewrite is needed after a bulk import, not after each sync.

The rewrite copies the table into a new one with the schema's definition (primary key, foreign key and DuckDB
storage settings such as an uncompressed ``activity_events.member_id``, see
:data:`~analytics.store.schema.DUCKDB_COMPRESSION`), in order, swaps the names and re-creates the secondary indexes,
all in one transaction: a failure leaves the table as it was. It needs room for a second copy of the table while it
runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.errors import StoreError
from analytics.store.schema import metadata

__all__ = ["TIME_ORDERED", "OptimizeStep", "optimize_store", "time_order"]

#: Event logs kept in time order on DuckDB: table → the time column their metrics filter on.
TIME_ORDERED: dict[str, str] = {
    "activity_events": "occurred_at",
    "wa_messages": "sent_at",
    "wa_status_updates": "occurred_at",
}


@dataclass(frozen=True)
class OptimizeStep:
    """One step of :func:`optimize_store`: what was done to which table, how many rows, how long it took."""

    table: str
    action: str
    rows: int | None
    seconds: float


def optimize_store(
    engine: Engine, *, tables: Iterable[str] | None = None, progress: bool = False
) -> list[OptimizeStep]:
    """Refresh planner statistics and, on DuckDB, put the event logs in ``(account_id, time)`` order.

    Parameters
    ----------
    tables:
        DuckDB event logs to rewrite (default: every table of :data:`TIME_ORDERED`).
    progress:
        Show a progress bar (one step per table).

    Raises
    ------
    StoreError
        A table named in ``tables`` is not an event log kept in time order.
    """
    names = list(TIME_ORDERED) if tables is None else list(tables)
    unknown = [n for n in names if n not in TIME_ORDERED]
    if unknown:
        raise StoreError(
            f"cannot time-order {', '.join(unknown)}: only the event logs {', '.join(TIME_ORDERED)} are kept in "
            "time order"
        )
    steps: list[OptimizeStep] = []
    dialect = engine.dialect.name
    if dialect == "duckdb":
        for name in tqdm(names, desc="time order", unit="table", disable=not progress):
            steps.append(time_order(engine, name))
    started = time.perf_counter()
    if dialect == "postgresql":  # the store's tables only (the database may hold other schemas)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            present = set(sa.inspect(conn).get_table_names())
            names_sql = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name in present)
            conn.exec_driver_sql(f"VACUUM ANALYZE {names_sql}")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            if dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA optimize")
            conn.commit()
            if dialect == "duckdb":  # write the rewritten tables to the file now, not at the next automatic checkpoint
                conn.exec_driver_sql("CHECKPOINT")
    steps.append(
        OptimizeStep(
            "all tables",
            "vacuum analyze" if dialect == "postgresql" else "analyze",
            None,
            round(time.perf_counter() - started, 3),
        )
    )
    return steps


def time_order(engine: Engine, name: str) -> OptimizeStep:
    """Rewrite one DuckDB event log in ``(account_id, <time column>, id)`` order, in one transaction.

    The new table is created from the schema's own definition (same columns, primary key and foreign key), filled
    with ``INSERT … SELECT … ORDER BY``, renamed over the old one, and the secondary indexes are re-created (DuckDB
    refuses to rename a table that has indexes, and builds an index over existing rows in bulk).
    """
    if engine.dialect.name != "duckdb":
        raise StoreError(f"time_order rewrites DuckDB tables; this store is {engine.dialect.name}")
    table = metadata.tables[name]
    staging_name = f"{name}__ordered"
    staging_md = sa.MetaData()
    for referred in {fk.column.table for fk in table.foreign_keys}:
        referred.to_metadata(staging_md)
    staging = table.to_metadata(staging_md, name=staging_name)
    for index in list(staging.indexes):
        staging.indexes.discard(index)
    columns = ", ".join(f'"{c.name}"' for c in table.c)
    order = f'"account_id", "{TIME_ORDERED[name]}", "id"'
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("SET enable_progress_bar = false")  # DuckDB's own bar would print to the terminal
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{staging_name}"')
        for index in table.indexes:
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
        staging.create(conn)
        rows = conn.exec_driver_sql(
            f'INSERT INTO "{staging_name}" ({columns}) SELECT {columns} FROM "{name}" ORDER BY {order}'
        ).rowcount
        conn.exec_driver_sql(f'DROP TABLE "{name}"')
        conn.exec_driver_sql(f'ALTER TABLE "{staging_name}" RENAME TO "{name}"')
        for index in table.indexes:
            index.create(conn)
    return OptimizeStep(name, "time order", rows, round(time.perf_counter() - started, 3))
