"""The end of ``analytics demo``: run the reports, print the dashboard links, optionally keep the dashboards up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.dashboards.server import DashboardServer, dashboard_links, start_dashboards, with_secret_key
from analytics.reports.locations import project_paths
from analytics.reports.runner import RunResult, load_schedule, run_schedule
from analytics.settings import Settings

__all__ = ["DemoReports", "run_demo_reports"]

DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8866"


@dataclass
class DemoReports:
    """What the demo produced: the report runs, a link per account and dashboard, and the server if started."""

    runs: list[RunResult]
    links: dict[str, dict[str, str]]
    server: DashboardServer | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def report_paths(self) -> dict[str, dict[str, Path]]:
        """Report files by account (``business_report.html``, ``.pdf``, ``.tables``)."""
        return {run.account_id: run.reports for run in self.runs}

    def summary(self) -> str:
        """What to print at the end of the demo."""
        lines = []
        for run in self.runs:
            lines.append(f"Reports for {run.account_id} ({run.schedule}): {run.run_dir}")
            for kind, path in sorted(run.reports.items()):
                lines.append(f"  {kind:<28} {path}")
        for account_id, links in self.links.items():
            lines.append(f"Dashboards for {account_id} (signed links):")
            for name, url in links.items():
                lines.append(f"  {name:<11} {url}")
        lines.extend(self.notes)
        return "\n".join(lines)


def run_demo_reports(
    settings: Settings,
    *,
    engine: Engine | None = None,
    schedule: str = "weekly",
    as_of: date | None = None,
    account: str | None = None,
    serve: bool = False,
    port: int | None = None,
    expires_in: timedelta = timedelta(days=7),
    root: Path | None = None,
    clock: Clock = utcnow,
    progress: bool = True,
) -> DemoReports:
    """Run ``schedule`` (without its sync step: the demo has just loaded the data) and make dashboard links.

    Parameters
    ----------
    as_of:
        Last day the reports cover (default: the notebooks' own default, yesterday in the account's zone).
    serve:
        Start the dashboard server (in a subprocess) and return it in :attr:`DemoReports.server`; the caller
        keeps it running (``analytics demo --serve``) and stops it with ``server.stop()``.
    port:
        Port for the server (default: 8866 when serving on the usual port is possible, else a free one).
    """
    settings, note = with_secret_key(settings, create=True)
    extra = {"as_of": as_of.isoformat()} if as_of else None
    steps = {step.notebook for step in load_schedule(schedule, project_paths(root).params).steps}
    runs = run_schedule(
        settings,
        schedule,
        account=account,
        engine=engine,
        root=root,
        extra_parameters=extra,
        skip=("sync",) if "sync" in steps else (),
        clock=clock,
        progress=progress,
    )
    server = start_dashboards(settings, port=port) if serve else None
    base_url = server.url if server else DEFAULT_DASHBOARD_URL
    links = {
        run.account_id: dashboard_links(settings, run.account_id, base_url, expires_in=expires_in, clock=clock)
        for run in runs
    }
    notes = [note] if note else []
    if server is None:
        notes.append(
            f"Start the dashboards with: analytics dashboards --port {DEFAULT_DASHBOARD_URL.rsplit(':', 1)[1]}"
        )
    return DemoReports(runs, links, server, notes)
