"""The ``large`` benchmark stores, shared by the metric and churn benchmarks.

The large demo business (seed 7, 200,000 members, 28.7M rows, most of them activity events) is generated once as
Parquet and bulk-loaded into each engine by ``metrics_engagement.py prepare large ENGINE``; ``metrics_revenue.py``
and ``churn.py`` read the same stores instead of generating and importing it again (an hour per engine).
"""

from __future__ import annotations

import sqlalchemy as sa


def large_store_url(engine: str, *, pg_options: str = "") -> str:
    """The URL of the shared large store on ``engine`` (``sqlite``, ``duckdb`` or ``postgresql``).

    The location is the one ``metrics_engagement.py`` builds (its ``store_url``), so there is one place that says
    where the stores are; ``pg_options`` adds PostgreSQL session settings (``-cwork_mem=256MB``).
    """
    from metrics_engagement import store_url  # the script that builds the stores owns their location

    url = store_url("large", engine)
    if engine != "postgresql" or not pg_options:
        return url
    return sa.engine.make_url(url).update_query_dict({"options": pg_options}).render_as_string(hide_password=False)
