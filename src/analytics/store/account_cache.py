"""Account settings kept per DuckDB connection, dropped by every write to ``accounts`` in the process.

Every metric reads its account's time zone and reporting currency first. On DuckDB that point lookup is a
separate query of about a millisecond (DuckDB's fixed cost per statement, plus SQLAlchemy's), a sixth of a
medium-sized engagement query. It can be kept because of how DuckDB shares a file: one process writes, or several
only read, never both. While this process holds a connection to a DuckDB store, no other process can change
``accounts``; every change comes from this process, through SQLAlchemy, and passes :func:`install`'s listeners.

* Each DuckDB database (by real path) has a **version**. A statement that writes ``accounts`` (``INSERT``,
  ``UPDATE``, ``DELETE``, DDL … naming the table) bumps it when it runs and again when its transaction commits or
  rolls back, so a connection that read the old row between the write and the commit does not keep it.
* Settings are kept in the pooled DBAPI connection's ``info`` (they go when the connection is closed) with the
  version they were read at, and used only while the version is unchanged.

Statements sent on the raw DuckDB connection (``driver_connection``) bypass SQLAlchemy and are not seen; nothing in
the workbook writes ``accounts`` that way. SQLite and PostgreSQL stores are shared with other processes (a sync, a
notebook, a teammate): they are always read.
"""

from __future__ import annotations

import os
import re
import weakref
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

__all__ = ["cached", "install", "remember", "version"]

_VERSIONS: defaultdict[str, int] = defaultdict(int)
_DATABASES: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()
_WRITES_ACCOUNTS = re.compile(
    r"^\s*(?:(?:insert|update|delete|merge|create|drop|alter|truncate|copy|import)\b"
    r"|with\b.*\b(?:insert|update|delete)\b).*\baccounts\b",
    re.IGNORECASE | re.DOTALL,
)
_KEY = "analytics.account_settings"
_WROTE = "analytics.wrote_accounts"


def _database(engine: sa.Engine) -> str:
    name = engine.url.database
    if not name or name == ":memory:":
        return f"memory:{id(engine)}"
    return os.path.realpath(name)


def install(engine: sa.Engine) -> None:
    """Track writes to ``accounts`` on a DuckDB engine (no-op on other engines)."""
    if engine.dialect.name != "duckdb":
        return
    database = _database(engine)
    _DATABASES[engine] = database

    def after_cursor_execute(conn: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
        if _WRITES_ACCOUNTS.search(statement):
            _VERSIONS[database] += 1
            conn.info[_WROTE] = True

    def end(conn: sa.Connection) -> None:
        if conn.info.pop(_WROTE, False):
            _VERSIONS[database] += 1

    sa.event.listen(engine, "after_cursor_execute", after_cursor_execute)
    sa.event.listen(engine, "commit", end)
    sa.event.listen(engine, "rollback", end)


def version(conn: sa.Connection) -> int | None:
    """The version of ``accounts`` this DuckDB connection's database is at (None: not cached on this engine).

    Read it *before* querying the settings and pass it to :func:`remember`: a write committed while the query ran
    then leaves the remembered settings at an older version, never used.
    """
    database = _DATABASES.get(conn.engine)
    return None if database is None else _VERSIONS[database]


def cached(conn: sa.Connection, account_id: str) -> Any | None:
    """The settings this DuckDB connection read for ``account_id``, if no write to ``accounts`` happened since."""
    current = version(conn)
    if current is None:
        return None
    held, by_account = conn.connection.info.get(_KEY, (None, {}))
    return by_account.get(account_id) if held == current else None


def remember(conn: sa.Connection, account_id: str, settings: Any, read_at: int | None) -> None:
    """Keep ``settings``, read when the database was at version ``read_at``, on this DuckDB connection."""
    if read_at is None:
        return
    held, by_account = conn.connection.info.get(_KEY, (None, {}))
    if held != read_at:
        by_account = {}
    by_account[account_id] = settings
    conn.connection.info[_KEY] = (read_at, by_account)
