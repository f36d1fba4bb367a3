"""Shared fixtures: a fresh, migrated store on every engine the test asks for.

``store_url`` is parametrized over SQLite (a file in tmp_path) and PostgreSQL (a throw-away schema in the
server named by ``ANALYTICS_TEST_POSTGRES_URL``, default the local ``test`` database). Without a reachable
PostgreSQL the PostgreSQL cases are skipped with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store import create_store_engine, init_store

PG_URL = os.environ.get("ANALYTICS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

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
    problem = postgres_unavailable()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true requires PostgreSQL)")
        pytest.skip(problem)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """An empty database URL on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"  # type: ignore[str-bytes-safe]
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A migrated, empty store on each engine."""
    eng = create_store_engine(store_url)
    init_store(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: object) -> Iterator[Engine]:
    """A migrated, empty SQLite store (for tests that need only the embedded default)."""
    eng = create_store_engine(f"sqlite:///{tmp_path}/store.db")
    init_store(eng)
    yield eng
    eng.dispose()
