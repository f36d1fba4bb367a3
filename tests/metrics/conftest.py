"""Metric test fixtures: the shared ``engine`` fixture also runs on DuckDB here, and a session-wide store per engine.

``engine`` (from tests/conftest.py) gets a fresh migrated store per test on SQLite, PostgreSQL and DuckDB (this
conftest adds DuckDB to ``store_url``). ``shared_store`` is one migrated store per engine for the whole session:
tests put each tiny business in its own account (unique ids), which keeps the suite fast.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store import create_store_engine, init_store

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "duckdb"]
PG_URL = os.environ.get("ANALYTICS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """An empty database URL on SQLite, PostgreSQL and DuckDB (overrides the two-engine fixture)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"  # type: ignore[str-bytes-safe]
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/store.duckdb"  # type: ignore[str-bytes-safe]
    return str(request.getfixturevalue("postgres_schema_url"))


def _pg_schema_url(schema: str) -> str | None:
    try:
        admin = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    except Exception as exc:  # no server: skip (or fail in CI)
        message = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    url = sa.engine.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=ENGINES)
def shared_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated store per engine for the whole session (each test uses its own accounts)."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/store.db"
    elif request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('duckdb')}/store.duckdb"
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        url = str(_pg_schema_url(schema))
    engine = create_store_engine(url)
    init_store(engine)
    yield engine
    engine.dispose()
    if schema is not None:
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def new_account(request: pytest.FixtureRequest) -> str:
    """A unique account id for the calling test."""
    return f"biz_{request.node.name.split('[')[0][-30:]}_{uuid.uuid4().hex[:6]}"
