"""Metric tests run on SQLite, PostgreSQL and DuckDB: ``store_url`` here adds DuckDB to the shared engines."""

from __future__ import annotations

import pytest

from tiny_business import Business


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "duckdb"])
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """An empty database URL on each engine (the shared ``engine`` fixture migrates it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"  # type: ignore[str-bytes-safe]
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/store.duckdb"  # type: ignore[str-bytes-safe]
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def business(engine: object) -> Business:
    """An empty account ``biz_1`` (UTC) to add rows to."""
    return Business(engine)  # type: ignore[arg-type]
