"""The store: schema, engine, migrations and the one upsert helper."""

from analytics.store.engine import create_store_engine, dialect_name
from analytics.store.jobs import JobRun, job_run, new_id
from analytics.store.migrate import current_revision, head_revision, init_store
from analytics.store.quarantine import Rejected, quarantine_rows, quarantined
from analytics.store.schema import DOMAIN_TABLES, metadata
from analytics.store.upsert import upsert_rows

__all__ = [
    "DOMAIN_TABLES",
    "JobRun",
    "Rejected",
    "create_store_engine",
    "current_revision",
    "dialect_name",
    "head_revision",
    "init_store",
    "job_run",
    "metadata",
    "new_id",
    "quarantine_rows",
    "quarantined",
    "upsert_rows",
]
