"""Metric tests run on SQLite, PostgreSQL and DuckDB.

Stores are migrated once and shared (migrating takes a second or two); every test builds its tiny business in
an account of its own, so tests stay independent: ``engine`` + ``business`` (one store per engine and module)
for the engagement/content/funnel tests, ``shared_store`` + ``new_account`` (one store per engine and session)
for the revenue tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from store_fixtures import ENGINES, fresh_account_id, module_store
from tiny_business import Business


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated store on each engine, shared by the tests of a module (override of the per-test ``engine``)."""
    yield from module_store(request.param, tmp_path_factory)


@pytest.fixture
def business(engine: Engine) -> Business:
    """An empty account (UTC) of its own to add rows to."""
    return Business(engine, account_id=fresh_account_id())


@pytest.fixture(scope="session", params=ENGINES)
def shared_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated store per engine for the whole session (each test uses its own accounts)."""
    yield from module_store(request.param, tmp_path_factory)


@pytest.fixture
def new_account(request: pytest.FixtureRequest) -> str:
    """A unique account id for the calling test."""
    return f"biz_{request.node.name.split('[')[0][-30:]}_{uuid.uuid4().hex[:6]}"
