"""The dashboards' stylesheet (one ``<style>`` element shared by every widget of a page)."""

from __future__ import annotations

__all__ = ["STYLESHEET"]

STYLESHEET = """
<style>
.analytics-page { font-family: -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; color: #1f2933; }
.analytics-row { gap: 12px; }
.analytics-caption { color: #616e7c; font-size: 12px; margin: 2px 0 6px 2px; }
.analytics-page.widget-vbox { gap: 10px; }
.analytics-header h1 { font-size: 22px; margin: 4px 0 2px 0; }
.analytics-header .subtitle { color: #616e7c; font-size: 13px; }
.analytics-kpi { border: 1px solid #e4e7eb; border-radius: 8px; padding: 10px 14px; min-width: 150px;
  background: #fff; }
.analytics-kpi .label { color: #616e7c; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.analytics-kpi .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.analytics-kpi .change { font-size: 13px; }
.analytics-kpi .change.up { color: #2e9d5b; } .analytics-kpi .change.down { color: #d1495b; }
.analytics-kpi .change.flat { color: #616e7c; }
.analytics-kpi .previous { color: #9aa5b1; font-size: 12px; }
.analytics-chart { border: 1px solid #e4e7eb; border-radius: 8px; padding: 8px; background: #fff; min-height: 60px; }
.analytics-chart svg { max-width: 100%; height: auto; }
.analytics-state { color: #616e7c; padding: 24px 12px; text-align: center; font-size: 14px; }
.analytics-state.error { color: #b42318; }
.analytics-loading { color: #3b6fb6; font-size: 13px; padding: 4px 0; }
.analytics-notice { border: 1px solid #f5c2c7; background: #fdf2f3; border-radius: 8px; padding: 24px;
  max-width: 640px; }
.analytics-notice h2 { margin-top: 0; }
.analytics-table table { border-collapse: collapse; font-size: 13px; }
.analytics-table th, .analytics-table td { border-bottom: 1px solid #e4e7eb; padding: 4px 10px; text-align: right; }
.analytics-table th:first-child, .analytics-table td:first-child { text-align: left; }
</style>
"""
