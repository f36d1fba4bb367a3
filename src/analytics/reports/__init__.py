"""Reports: scheduled Papermill runs, what report notebooks display, and their HTML/PDF/CSV/JSON exports."""

from analytics.reports.display import show_chart, show_heading, show_highlights, show_kpis, show_table
from analytics.reports.export import export_report, report_tables
from analytics.reports.locations import ProjectPaths, project_paths
from analytics.reports.runner import SCHEDULES, RunResult, execute_notebook, load_schedule, run_schedule

__all__ = [
    "SCHEDULES",
    "ProjectPaths",
    "RunResult",
    "execute_notebook",
    "export_report",
    "load_schedule",
    "project_paths",
    "report_tables",
    "run_schedule",
    "show_chart",
    "show_heading",
    "show_highlights",
    "show_kpis",
    "show_table",
]
