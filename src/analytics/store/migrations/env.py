"""Alembic environment: runs on the connection handed over in ``config.attributes`` (see migrate.py)."""

from __future__ import annotations

from alembic import context

from analytics.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the workbook always passes a connection
    raise RuntimeError("run migrations through analytics.store.init_store(engine) or `analytics init`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
