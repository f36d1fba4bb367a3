"""Module-scoped stores on SQLite, PostgreSQL and DuckDB for the metric and snapshot tests.

PostgreSQL gets a throw-away schema (skipped with the reason when the server is unreachable, required when
``CI=true``), as the shared ``tests/conftest.py`` does per test.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store import create_store_engine, init_store

PG_URL = os.environ.get("ANALYTICS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "duckdb"]
_accounts = itertools.count(1)


def fresh_account_id() -> str:
    """A new account id for one test (``biz_t1``, ``biz_t2`` …)."""
    return f"biz_t{next(_accounts)}"


_pg_problem: str | None = None
_pg_checked = False


def postgres_unavailable() -> str | None:
    """The reason PostgreSQL can't be used, or None when it can (checked once per session)."""
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(sa.text("select 1"))
            eng.dispose()
        except Exception as exc:  # any failure to connect means "no server"
            _pg_problem = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}".splitlines()[0]
    return _pg_problem


def require_postgres() -> None:
    """Skip the test (or fail it when CI=true) if the PostgreSQL test server is unreachable."""
    problem = postgres_unavailable()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true requires PostgreSQL)")
        pytest.skip(problem)


@contextmanager
def postgres_schema(prefix: str = "t") -> Iterator[str]:
    """A throw-away PostgreSQL schema: yields a store URL whose ``search_path`` names it, dropped afterwards.

    Skips the test (or fails it when CI=true) if the server is unreachable. Engines opened on the URL must be
    disposed before the block ends (the ``DROP SCHEMA … CASCADE`` would wait for their connections).
    """
    require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def module_store(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Yield a migrated engine of ``kind`` and clean up after the module."""
    if kind == "postgresql":
        with postgres_schema() as url:
            engine = create_store_engine(url)
            try:
                init_store(engine)
                yield engine
            finally:
                engine.dispose()
        return
    folder = tmp_path_factory.mktemp(kind)
    url = f"sqlite:///{folder}/store.db" if kind == "sqlite" else f"duckdb:///{folder}/store.duckdb"
    engine = create_store_engine(url)
    init_store(engine)
    yield engine
    engine.dispose()
