"""The Alembic migrations build exactly the schema the models describe, on every engine."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from analytics.errors import MigrationError
from analytics.store import create_store_engine, current_revision, head_revision, init_store, metadata


def test_upgrade_of_an_empty_database_matches_the_models(store_url: str) -> None:
    engine = create_store_engine(store_url)
    assert current_revision(engine) is None

    assert init_store(engine) == head_revision()

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert set(metadata.tables) <= tables
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_init_is_idempotent(store_url: str) -> None:
    engine = create_store_engine(store_url)
    init_store(engine)
    init_store(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_sqlite_store_runs_in_wal_mode(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_unknown_newer_revision_is_refused_with_advice(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(MigrationError, match="upgrade the workbook"):
        init_store(sqlite_engine)


def test_every_domain_table_is_scoped_by_account() -> None:
    operational = {"fx_rates", "webhook_inbox", "job_runs", "quarantine", "accounts", "alembic_version"}
    for table in metadata.sorted_tables:
        if table.name in operational:
            continue
        assert "account_id" in table.c, table.name
        assert table.c.account_id.primary_key, table.name


def test_no_float_money_columns() -> None:
    for table in metadata.sorted_tables:
        for column in table.c:
            if column.name.endswith("_minor"):
                assert isinstance(column.type, sa.BigInteger), f"{table.name}.{column.name}"
            if isinstance(column.type, sa.Float):
                assert column.name == "probability", f"{table.name}.{column.name} must not be a float"
