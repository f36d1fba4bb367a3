"""Job commands: ``analytics jobs`` lists the recorded runs (imports, syncs, snapshots, scheduled runs, …)."""

from __future__ import annotations

from datetime import timedelta

import click

from analytics.cli.context import CliContext, pass_cli

__all__ = ["jobs_command"]

_ERROR_WIDTH = 100


@click.command("jobs")
@click.option("--failed", is_flag=True, help="Only runs that did not succeed (failed or abandoned).")
@click.option("--slow", is_flag=True, help="Longest runs first.")
@click.option("--kind", default=None, metavar="KIND", help="Only this kind: import, sync, snapshot, run, train, …")
@click.option("--account", default=None, metavar="ID", help="Only runs for this account (biz_…).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, None), help="At most this many runs.")
@pass_cli
def jobs_command(cli: CliContext, failed: bool, slow: bool, kind: str | None, account: str | None, limit: int) -> None:
    """List the job runs, newest first: kind, account, status, start, duration, error.

    A run still marked running that has not sent a heartbeat for ANALYTICS_JOB_HEARTBEAT_TIMEOUT seconds is
    shown as abandoned: its process stopped without recording an outcome (killed or crashed).
    """
    from analytics.store.jobs import job_runs_frame

    frame = job_runs_frame(
        cli.engine(),
        heartbeat_timeout=timedelta(seconds=cli.settings.job_heartbeat_timeout),
        kind=kind,
        account_id=account,
        failed=failed,
        slow=slow,
        limit=limit,
    )
    if frame.empty:
        click.echo("no job runs" + (" that did not succeed" if failed else "") + " recorded")
        return
    shown = frame.drop(columns=["finished_at"]).fillna({"account_id": "", "error": ""})
    for column in ("started_at", "last_beat"):
        shown[column] = shown[column].map(lambda t: f"{t:%Y-%m-%d %H:%M:%S}")
    shown["error"] = shown["error"].map(lambda e: e if len(e) <= _ERROR_WIDTH else e[: _ERROR_WIDTH - 1] + "…")
    click.echo(shown.to_string(index=False))
