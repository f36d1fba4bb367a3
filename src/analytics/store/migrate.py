"""Migrations with Alembic: create or upgrade a store to the latest revision.

The Alembic scripts live in ``analytics/store/migrations``; no ``alembic.ini`` is needed. DuckDB gets a small
Alembic implementation class so the same scripts run there.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from analytics.errors import MigrationError, StoreError

__all__ = ["alembic_config", "current_revision", "head_revision", "init_store"]

MIGRATIONS = Path(__file__).with_name("migrations")


class DuckDBImpl(DefaultImpl):
    """Alembic support for duckdb-engine (registered by name)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged scripts (and at ``connection`` when given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision this version of the workbook knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at (``None`` for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises ResolutionError/CommandError for an unknown id
        return False


def init_store(engine: Engine) -> str:
    """Create or upgrade the database behind ``engine`` to the latest revision; return that revision.

    Raises
    ------
    MigrationError
        The database is at a revision newer than this version of the workbook knows.
    StoreError
        The database cannot be reached.
    """
    script = ScriptDirectory.from_config(alembic_config())
    try:
        current = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot reach the store at {engine.url!r}: {exc.orig}") from exc
    if current is not None and not _known(script, current):
        raise MigrationError(
            f"the store is at revision {current}, which this version of the workbook does not know; "
            "upgrade the workbook (pip install -U creator-analytics)."
        )
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    return head_revision()
