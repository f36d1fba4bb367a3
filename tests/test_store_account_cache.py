"""Account settings are read once per DuckDB connection and read again after any write to ``accounts``.

A DuckDB file is written by one process at a time, so the only changes to ``accounts`` a DuckDB store can see while
this process holds it are this process's own; each kind of write below must make the next metric read the new
time zone. SQLite and PostgreSQL stores are shared with other processes and are read every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.metrics.request import account_settings
from analytics.sources import import_frame
from analytics.store import create_store_engine, init_store
from analytics.store.schema import accounts

ACCOUNT = "biz_cache"


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[Engine]:
    engine = create_store_engine(f"duckdb:///{tmp_path}/store.duckdb")
    init_store(engine)
    with engine.begin() as conn:
        conn.execute(accounts.insert().values(id=ACCOUNT, title="Cache", time_zone="UTC"))
    yield engine
    engine.dispose()


def _reads(engine: Engine) -> list[str]:
    """Every statement that reads the accounts table, from now on."""
    seen: list[str] = []

    def listen(conn: sa.Connection, cursor: object, statement: str, *args: object) -> None:
        if "FROM accounts" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    return seen


def _zone(engine: Engine) -> str:
    with engine.connect() as conn:
        return account_settings(conn, ACCOUNT).time_zone


def test_duckdb_reads_the_settings_once_per_connection(duck: Engine) -> None:
    reads = _reads(duck)
    assert [_zone(duck) for _ in range(3)] == ["UTC", "UTC", "UTC"]
    assert len(reads) == 1  # the pooled connection keeps what it read


@pytest.mark.parametrize(
    "change",
    [
        "core update",
        "sql text",
        "import",
        "other engine",
    ],
)
def test_every_write_to_accounts_is_seen_by_the_next_read(duck: Engine, change: str, tmp_path: Path) -> None:
    assert _zone(duck) == "UTC"
    if change == "core update":
        with duck.begin() as conn:
            conn.execute(accounts.update().where(accounts.c.id == ACCOUNT).values(time_zone="Europe/Paris"))
    elif change == "sql text":
        with duck.begin() as conn:
            conn.execute(sa.text("UPDATE accounts SET time_zone = 'Europe/Paris' WHERE id = :a"), {"a": ACCOUNT})
    elif change == "import":
        import_frame(
            duck, "accounts", pd.DataFrame({"id": [ACCOUNT], "title": ["Cache"], "time_zone": ["Europe/Paris"]})
        )
    else:  # a second engine on the same file, named by another path: the same database
        other = create_store_engine(f"duckdb:///{tmp_path}/../{tmp_path.name}/store.duckdb")
        with other.begin() as conn:
            conn.execute(accounts.update().values(time_zone="Europe/Paris"))
        other.dispose()
    assert _zone(duck) == "Europe/Paris"


def test_a_read_during_an_open_write_is_not_kept(duck: Engine) -> None:
    """Another connection reads while a change is uncommitted: it sees the old row, and must not keep it."""
    writer = duck.connect()
    writer.begin()
    writer.execute(accounts.update().values(time_zone="Asia/Tokyo"))
    assert _zone(duck) == "UTC"  # the committed row, read (and kept) while the write is open
    writer.commit()
    writer.close()
    assert _zone(duck) == "Asia/Tokyo"


def test_sqlite_reads_the_settings_every_time(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(accounts.insert().values(id=ACCOUNT, title="Cache", time_zone="UTC"))
    reads = _reads(sqlite_engine)
    for _ in range(3):
        _zone(sqlite_engine)
    assert len(reads) == 3  # another process may change the account at any time
