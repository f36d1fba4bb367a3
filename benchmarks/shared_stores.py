"""The ``large`` benchmark stores, shared by the metric and churn benchmarks.

The large demo business (seed 7, 200,000 members, 28.7M rows, most of them activity events) is generated once as
Parquet and bulk-loaded into each engine by ``metrics_engagement.py prepare large ENGINE``; ``metrics_revenue.py``
and ``churn.py`` read the same stores instead of generating and importing it again (an hour per engine).
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
LARGE = HERE / ".data" / "metrics_engagement" / "large"
PG_URL = os.environ.get("ANALYTICS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DATABASE = "bench_engagement_large"


def large_store_url(engine: str, *, pg_options: str = "") -> str:
    """The URL of the shared large store on ``engine`` (``sqlite``, ``duckdb`` or ``postgresql``)."""
    if engine == "sqlite":
        return f"sqlite:///{LARGE / 'store.db'}"
    if engine == "duckdb":
        return f"duckdb:///{LARGE / 'store.duckdb'}"
    url = sa.engine.make_url(PG_URL).set(database=PG_DATABASE)
    if pg_options:
        url = url.update_query_dict({"options": pg_options})
    return url.render_as_string(hide_password=False)
