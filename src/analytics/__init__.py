"""Creator Analytics Workbook: Whop and WhatsApp data in your own store, with explained metrics.

In JupyterLab::

    import analytics
    engine = analytics.connect()                 # the project's store (found from any folder of the project)
    analytics.metrics.catalog()                  # every metric with its definition

Subpackages follow the data flow: ``sources`` → ``store`` → ``metrics`` → ``models`` → ``snapshots`` →
``reports``; they are imported on first use so ``import analytics`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.errors import AnalyticsError, StoreError, StoreNotFoundError
from analytics.settings import STORE_FILE, WORKSPACE_DIR, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# jsonschema (under altair) imports rfc3987_syntax, when installed, only to check the "iri" string format, which
# nothing in the workbook validates; that module builds an Earley parser when imported, 1–4 s of every kernel
# and command that draws a chart. Marking it absent makes jsonschema skip that one format check.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__all__ = ["AnalyticsError", "Settings", "__version__", "connect", "load_settings"]

__version__ = "0.1.0"

_SUBPACKAGES = {"demo", "metrics", "models", "reports", "snapshots", "sources", "store"}


def connect(settings: Settings | None = None, *, migrate: bool = True, create: bool = False) -> Engine:
    """Open the store named by ``settings``, upgrading its schema unless told not to.

    Parameters
    ----------
    settings:
        Default: read from the environment and config file; without a configured workspace that is the nearest
        ``workspace/analytics.db`` in the current folder or its parents (:func:`~analytics.settings.find_workspace`),
        so a notebook opened from any folder of the project finds the project's store.
    migrate:
        Create or upgrade the schema to the latest revision (a store that exists is only upgraded).
    create:
        Create the store when it does not exist yet. Off by default: ``analytics init`` and ``analytics demo``
        create stores; opening one that is missing is an error rather than a new empty store.

    Raises
    ------
    StoreNotFoundError
        The store does not exist (a missing SQLite or DuckDB file, or a database without the workbook's schema);
        the message names the paths looked at and the command that creates a store.
    """
    from analytics.store import create_store_engine, init_store

    settings = settings or load_settings()
    store_file = _store_file(settings.database_url)
    if not create and store_file is not None and not store_file.is_file():
        raise StoreNotFoundError(_missing_file_message(settings, store_file))
    engine = create_store_engine(settings.database_url)
    try:
        if not create and store_file is None:
            _require_schema(engine)
        if migrate:
            init_store(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _store_file(url: str) -> Path | None:
    """The file of a SQLite or DuckDB store URL (None for a server database, an in-memory one or a bad URL)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # create_store_engine names the problem
    if parsed.get_backend_name() not in ("sqlite", "duckdb") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().absolute()


def _missing_file_message(settings: Settings, store_file: Path) -> str:
    looked = dict.fromkeys([store_file, *(p.absolute() for p in settings.workspace_search)])
    searched = (
        f" (no {WORKSPACE_DIR}/{STORE_FILE} in the current folder or its parent folders)"
        if settings.workspace_search
        else ""
    )
    return (
        f"no store at {store_file}{searched}; looked at: {', '.join(map(str, looked))}. Create one with "
        "`analytics init` (empty) or `analytics demo` (sample data) in the project folder, or point "
        "ANALYTICS_WORKSPACE or ANALYTICS_DATABASE_URL at an existing store."
    )


def _require_schema(engine: Engine) -> None:
    """A server database must already hold the workbook's schema: connect() does not create one silently."""
    import sqlalchemy as sa

    from analytics.store import current_revision

    try:
        revision = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot reach the store at {engine.url!r}: {exc.orig}") from exc
    if revision is None:
        raise StoreNotFoundError(
            f"the database {engine.url!r} holds no analytics store yet. Create the schema with `analytics init` "
            "(or load sample data with `analytics demo`), or point ANALYTICS_DATABASE_URL at an existing store."
        )


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"analytics.{name}")
    raise AttributeError(f"module 'analytics' has no attribute {name!r}")
