"""Creator Analytics Workbook: Whop and WhatsApp data in your own store, with explained metrics.

In JupyterLab::

    import analytics
    engine = analytics.connect()                 # the store named by the settings (SQLite file by default)
    analytics.metrics.catalog()                  # every metric with its definition

Subpackages follow the data flow: ``sources`` → ``store`` → ``metrics`` → ``models`` → ``snapshots`` →
``reports``; they are imported on first use so ``import analytics`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from analytics.errors import AnalyticsError
from analytics.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# jsonschema (under altair) imports rfc3987_syntax, when installed, only to check the "iri" string format, which
# nothing in the workbook validates; that module builds an Earley parser when imported, 1–4 s of every kernel
# and command that draws a chart. Marking it absent makes jsonschema skip that one format check.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__all__ = ["AnalyticsError", "Settings", "__version__", "connect", "load_settings"]

__version__ = "0.1.0"

_SUBPACKAGES = {"demo", "metrics", "models", "reports", "snapshots", "sources", "store"}


def connect(settings: Settings | None = None, *, migrate: bool = True) -> Engine:
    """Open the store named by ``settings`` (default: read from the environment), upgrading it unless told not to."""
    from analytics.store import create_store_engine, init_store

    settings = settings or load_settings()
    engine = create_store_engine(settings.database_url)
    if migrate:
        init_store(engine)
    return engine


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"analytics.{name}")
    raise AttributeError(f"module 'analytics' has no attribute {name!r}")
