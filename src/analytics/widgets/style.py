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
.analytics-row { width: 100%; }
.analytics-row > .widget-box, .analytics-row > .widget-vbox { flex: 1 1 420px; min-width: 320px; margin: 0 6px 8px 0; }
.analytics-chart { border: 1px solid #e4e7eb; border-radius: 8px; padding: 8px; background: #fff; min-height: 60px;
  box-sizing: border-box; }
.analytics-chart-canvas, .analytics-chart-canvas > * { width: 100%; }
.analytics-chart-canvas .vega-embed { width: 100%; }
.analytics-panel-head { font-size: 14px; margin: 0 0 4px 2px; }
.analytics-hint { color: #9aa5b1; font-size: 12px; margin-left: 8px; font-weight: normal; }
.analytics-info { display: inline-block; width: 14px; height: 14px; line-height: 14px; border-radius: 7px;
  background: #e8eef7; color: #3b6fb6; cursor: help; font: italic bold 11px Georgia, serif; text-align: center;
  text-transform: none; margin-left: 4px; vertical-align: middle; }
.analytics-note { color: #8a5a00; background: #fff8e6; border-radius: 4px; padding: 4px 8px; font-size: 12px;
  margin-top: 4px; }
.analytics-skeleton { background: linear-gradient(90deg, #f3f4f6 25%, #e9ecef 37%, #f3f4f6 63%);
  background-size: 400% 100%; animation: analytics-shimmer 1.4s ease infinite; border-radius: 6px; min-height: 120px; }
@keyframes analytics-shimmer { 0% { background-position: 100% 50%; } 100% { background-position: 0 50%; } }
.analytics-kpi-card { margin: 0 8px 8px 0; }
.analytics-kpi-card .analytics-kpi .value.analytics-skeleton { min-height: 30px; min-width: 90px; }
.analytics-kpi-card { border: 1px solid #e4e7eb; border-radius: 8px; background: #fff; }
.analytics-kpi-card .analytics-kpi { border: none; }
.analytics-kpi-drill { font-size: 12px !important; height: 24px !important; background: transparent !important;
  color: #3b6fb6 !important; box-shadow: none !important; text-align: left !important;
  padding: 0 14px 6px 14px !important; margin: 0 !important; }
.analytics-kpi-drill:hover { text-decoration: underline; }
.analytics-download a { font-size: 12px; color: #3b6fb6; }
.analytics-drill { border-left: 3px solid #3b6fb6; background: #f8fafc; padding: 8px 12px; margin: 0 6px 10px 0; }
.analytics-grid { gap: 0; font-size: 13px; }
.analytics-grid .analytics-cell { border-bottom: 1px solid #e4e7eb; padding: 2px 8px; margin: 0; }
.analytics-row-link { background: none !important; color: #3b6fb6 !important; text-align: left !important;
  box-shadow: none !important; text-decoration: underline; padding: 0 8px !important; }
.analytics-problem { color: #b42318; font-size: 13px; padding: 2px 4px; }
.analytics-state { color: #616e7c; padding: 24px 12px; text-align: center; font-size: 14px; }
.analytics-state.error { color: #b42318; }
.analytics-loading { color: #3b6fb6; font-size: 13px; padding: 4px 0; }
.analytics-notice { border: 1px solid #f5c2c7; background: #fdf2f3; border-radius: 8px; padding: 24px;
  max-width: 640px; }
.analytics-notice h2 { margin-top: 0; }
.analytics-table table { border-collapse: collapse; font-size: 13px; }
.analytics-table th, .analytics-table td { border-bottom: 1px solid #e4e7eb; padding: 4px 10px; vertical-align: top; }
.analytics-table .num { text-align: right; white-space: nowrap; }
.analytics-table .text { text-align: left; }
.analytics-table { overflow-x: auto; }
</style>
"""
