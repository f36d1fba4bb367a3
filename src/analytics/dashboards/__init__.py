"""Voilà dashboards: the signed-link session, the panels they are built from, and the server that shows them.

A dashboard notebook in ``dashboards/`` is a thin layout::

    dashboard = open_dashboard(os.environ)     # verifies the link's token before any data is read
    dashboard.page("Overview", rows=[[panels.kpis(dashboard, [...])], [panels.chart(dashboard, "mrr")]])

Names are imported on first use, so the command line does not load ipywidgets to print its help.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DASHBOARDS",
    "Dashboard",
    "DashboardServer",
    "authorise_query",
    "dashboard_links",
    "dashboards_dir",
    "open_dashboard",
    "serve_dashboards",
    "start_dashboards",
]

DASHBOARDS: tuple[str, ...] = ("overview", "revenue", "engagement", "content", "churn")

_HOMES = {
    "Dashboard": "session",
    "authorise_query": "session",
    "open_dashboard": "session",
    "DashboardServer": "server",
    "dashboard_links": "server",
    "dashboards_dir": "server",
    "serve_dashboards": "server",
    "start_dashboards": "server",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"analytics.dashboards.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'analytics.dashboards' has no attribute {name!r}")
