"""The store: schema, engine, migrations and the one upsert helper."""

from analytics.store.engine import create_store_engine, dialect_name
from analytics.store.migrate import current_revision, head_revision, init_store
from analytics.store.schema import DOMAIN_TABLES, metadata
from analytics.store.upsert import upsert_rows

__all__ = [
    "DOMAIN_TABLES",
    "create_store_engine",
    "current_revision",
    "dialect_name",
    "head_revision",
    "init_store",
    "metadata",
    "upsert_rows",
]
