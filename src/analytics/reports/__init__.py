"""Reports: scheduled Papermill runs, what report notebooks display, and their HTML/PDF/CSV/JSON exports.

Names are imported on first use (the runner does not need altair, a report notebook does not need Papermill).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "SCHEDULES",
    "ProjectPaths",
    "RunResult",
    "execute_notebook",
    "export_report",
    "load_schedule",
    "project_paths",
    "report_tables",
    "run_demo_reports",
    "run_schedule",
    "show_chart",
    "show_heading",
    "show_highlights",
    "show_kpis",
    "show_table",
]

_HOMES = {
    "SCHEDULES": "runner",
    "RunResult": "runner",
    "execute_notebook": "runner",
    "load_schedule": "runner",
    "run_schedule": "runner",
    "export_report": "export",
    "report_tables": "export",
    "ProjectPaths": "locations",
    "project_paths": "locations",
    "run_demo_reports": "demo",
    "show_chart": "display",
    "show_heading": "display",
    "show_highlights": "display",
    "show_kpis": "display",
    "show_table": "display",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"analytics.reports.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'analytics.reports' has no attribute {name!r}")
