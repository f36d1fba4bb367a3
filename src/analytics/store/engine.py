"""Opening the store: one function turns a URL into a configured SQLAlchemy engine."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from analytics.errors import StoreError
from analytics.store import account_cache
from analytics.store.types import epoch_us_to_datetime

__all__ = ["create_store_engine", "dialect_name"]


def _local_date(epoch_us: int | None, tz: str) -> str | None:
    """SQLite function ``analytics_local_date(us, tz)``: the ISO calendar date of an instant in a time zone."""
    if epoch_us is None:
        return None
    return epoch_us_to_datetime(epoch_us).astimezone(_zone(tz)).date().isoformat()


@functools.lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("analytics_local_date", 2, _local_date, deterministic=True)
    cursor = dbapi_connection.cursor()
    # WAL: dashboard kernels keep reading while a sync or an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.close()


def create_store_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a store URL (``sqlite:///file.db``, ``postgresql+psycopg://…``, ``duckdb:///file``).

    SQLite files get their folder created and WAL mode; a bare ``postgresql://`` URL uses psycopg 3.

    Raises
    ------
    StoreError
        The URL cannot be parsed or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"ANALYTICS_DATABASE_URL {url!r} is not a database URL: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no driver for {parsed.drivername!r}: {exc}. Install the matching package.") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name == "duckdb":
        # duckdb_engine opts out of SQLAlchemy's compiled-statement cache (supports_statement_cache = False, the
        # cautious default of third-party dialects), so every metric query was compiled on every call (3-5 ms for
        # the larger ones). Its SQL is PostgreSQL's compiler, which is cache-safe; it adds no value-dependent
        # compilation. Opt this engine in.
        engine.dialect._supports_statement_cache = True
        account_cache.install(engine)  # account settings read once per connection until accounts change
    return engine


def dialect_name(bind: Engine | sa.Connection) -> str:
    """The store's engine family: ``sqlite``, ``postgresql`` or ``duckdb``."""
    return bind.dialect.name
