"""Voilà dashboards: the signed-link session, the panels they are built from, and the server that shows them.

A dashboard notebook in ``dashboards/`` is a thin layout::

    dashboard = open_dashboard(os.environ)     # verifies the link's token before any data is read
    dashboard.page("Overview", rows=[[panels.kpis(dashboard, [...])], [panels.chart(dashboard, "mrr")]])
"""

from analytics.dashboards.server import (
    DASHBOARDS,
    DashboardServer,
    dashboard_links,
    dashboards_dir,
    serve_dashboards,
    start_dashboards,
)
from analytics.dashboards.session import AccountInfo, Dashboard, authorise_query, open_dashboard

__all__ = [
    "DASHBOARDS",
    "AccountInfo",
    "Dashboard",
    "DashboardServer",
    "authorise_query",
    "dashboard_links",
    "dashboards_dir",
    "open_dashboard",
    "serve_dashboards",
    "start_dashboards",
]
