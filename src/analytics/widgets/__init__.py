"""ipywidgets components for the Voilà dashboards: KPI cards, chart views, controls, panels and the frame.

Dashboards are thin layouts of these; the data comes from metric and snapshot functions, the drawing from
:mod:`analytics.charts`. Names are imported on first use (a refused link's page needs only ipywidgets).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ALL",
    "ChartPanel",
    "ChartView",
    "Controls",
    "DashboardFrame",
    "Filters",
    "KpiCard",
    "KpiPanel",
    "KpiRow",
    "NotAvailable",
    "Panel",
    "PlanOption",
    "ProductOption",
    "TablePanel",
    "no_data_page",
    "not_authorised_page",
    "server_log",
]

_HOMES = {
    "no_data_page": "access",
    "not_authorised_page": "access",
    "ChartView": "chart",
    "ALL": "controls",
    "Controls": "controls",
    "Filters": "controls",
    "PlanOption": "controls",
    "ProductOption": "controls",
    "DashboardFrame": "frame",
    "server_log": "frame",
    "KpiCard": "kpi",
    "KpiRow": "kpi",
    "ChartPanel": "panels",
    "KpiPanel": "panels",
    "NotAvailable": "panels",
    "Panel": "panels",
    "TablePanel": "panels",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"analytics.widgets.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'analytics.widgets' has no attribute {name!r}")
