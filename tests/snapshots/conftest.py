"""Metric tests run on SQLite, PostgreSQL and DuckDB.

One migrated store per engine and test module (migrating takes a second or two); every test builds its tiny
business in a fresh account of it (``business.account_id``), so tests stay independent.
"""

from __future__ import annotations

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
