"""ipywidgets components for the Voilà dashboards: KPI cards, chart views, controls, panels and the frame.

Dashboards are thin layouts of these; the data comes from metric and snapshot functions, the drawing from
:mod:`analytics.charts`.
"""

from analytics.widgets.access import not_authorised_page
from analytics.widgets.chart import ChartView
from analytics.widgets.controls import ALL, Controls, Filters, PlanOption, ProductOption
from analytics.widgets.format import change_ratio, format_change, format_money, format_value
from analytics.widgets.frame import DashboardFrame, server_log
from analytics.widgets.kpi import Kpi, KpiCard, KpiRow
from analytics.widgets.panels import ChartPanel, KpiPanel, Panel, TablePanel

__all__ = [
    "ALL",
    "ChartPanel",
    "ChartView",
    "Controls",
    "DashboardFrame",
    "Filters",
    "Kpi",
    "KpiCard",
    "KpiPanel",
    "KpiRow",
    "Panel",
    "PlanOption",
    "ProductOption",
    "TablePanel",
    "change_ratio",
    "format_change",
    "format_money",
    "format_value",
    "not_authorised_page",
    "server_log",
]
