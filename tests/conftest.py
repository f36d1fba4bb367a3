"""Shared fixtures: a fresh, migrated store on every engine the test asks for.

``store_url`` is parametrized over SQLite (a file in tmp_path) and PostgreSQL (a throw-away schema in the
server named by ``ANALYTICS_TEST_POSTGRES_URL``, default the local ``test`` database). Without a reachable
PostgreSQL the PostgreSQL cases are skipped with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from analytics.store import create_store_engine, init_store, metadata

# the PostgreSQL probe lives in store_fixtures (importable by any test module); re-exported for `from conftest import`
from store_fixtures import IN_CI, PG_URL, postgres_schema, postgres_unavailable, require_postgres

__all__ = ["IN_CI", "PG_URL", "postgres_unavailable", "require_postgres"]


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty (not migrated) database URL on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store built once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    eng = create_store_engine(f"sqlite:///{path}")
    init_store(eng)
    with eng.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_store() -> Iterator[Engine]:
    """A migrated PostgreSQL schema built once per session; emptied before each test that uses it."""
    with postgres_schema("s") as url:
        eng = create_store_engine(url)
        try:
            init_store(eng)
            yield eng
        finally:
            eng.dispose()


def _empty_all_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty store on each engine (SQLite: a copy of a session template; PostgreSQL: a session
    schema emptied before the test)."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        eng = create_store_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("_postgres_store")
    _empty_all_tables(eng)
    yield eng
    eng.pool.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "duckdb"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty store on SQLite, PostgreSQL and DuckDB."""
    if request.param == "postgresql":
        eng = request.getfixturevalue("_postgres_store")
        _empty_all_tables(eng)
        yield eng
        return
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), tmp_path / "store.db")
        eng = create_store_engine(f"sqlite:///{tmp_path}/store.db")
    else:
        eng = create_store_engine(f"duckdb:///{tmp_path}/store.duckdb")
        init_store(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, _sqlite_template: Path) -> Iterator[Engine]:
    """A migrated, empty SQLite store (for tests that need only the embedded default)."""
    path = tmp_path / "store.db"
    shutil.copyfile(_sqlite_template, path)
    eng = create_store_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()
