"""Report and dashboard commands: ``analytics run``, ``analytics dashboards``, ``analytics dashboard-link``."""

from __future__ import annotations

from pathlib import Path

import click

from analytics.auth import parse_duration
from analytics.cli.context import CliContext, pass_cli
from analytics.clock import utcnow
from analytics.dashboards import DASHBOARDS
from analytics.errors import ConfigError
from analytics.kernels import kernel_environment

__all__ = ["dashboard_link_command", "dashboards_command", "run_command"]


@click.command("run")
@click.argument("schedule", metavar="daily|weekly|monthly")
@click.option("--account", default=None, metavar="ID", help="Only this account (biz_…); default: every account.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day the run covers (YYYY-MM-DD); default: yesterday in each account's time zone.",
)
@click.option("--skip", multiple=True, metavar="NOTEBOOK", help="A notebook of the schedule not to run (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_cli
def run_command(
    cli: CliContext, schedule: str, account: str | None, as_of: object, skip: tuple[str, ...], quiet: bool
) -> None:
    """Execute the notebooks of params/SCHEDULE.yaml with Papermill (sync, snapshot, report).

    \b
    Output: <workspace>/runs/<date>/<schedule>/<account>/ with the executed notebooks and, for the
    report, report/*.html, *.pdf and tables/*.csv|json. A failed cell stops the run with the notebook,
    the cell and the error (exit code 1); the executed notebooks are kept in <account>.failed/.
    Schedule it with cron or a systemd timer (docs/reports-and-dashboards.md).
    """
    from analytics.reports.runner import run_schedule

    extra = {"as_of": as_of.date().isoformat()} if as_of is not None else None  # type: ignore[attr-defined]
    results = run_schedule(
        cli.settings,
        schedule,
        account=account,
        engine=cli.engine(),
        extra_parameters=extra,
        skip=skip,
        progress=not quiet,
    )
    for result in results:
        seconds = sum(s.seconds for s in result.steps)
        click.echo(f"{result.schedule} run for {result.account_id}: {result.run_dir} ({seconds:.1f} s)")
        for note in result.notes:
            click.echo(f"  note: {note}")
        for kind, path in sorted(result.reports.items()):
            click.echo(f"  {kind:<28} {path}")


@click.command("dashboards")
@click.option("--port", type=int, default=8866, show_default=True, help="Port to listen on.")
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address to listen on (put a proxy in front).")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of dashboard notebooks (default: the project's dashboards/).",
)
@click.option(
    "--pool-size",
    type=click.IntRange(min=0),
    default=None,
    help="Pre-heated kernels per dashboard, started ahead and waiting for a viewer "
    "(default ANALYTICS_DASHBOARD_POOL_SIZE, 1; 0 starts a kernel per page request).",
)
@click.option(
    "--max-kernels",
    type=click.IntRange(min=1),
    default=None,
    help="Viewer kernels at once; more viewers get a 'busy, retry in a moment' page "
    "(default ANALYTICS_DASHBOARD_MAX_KERNELS, or sized to the machine's memory).",
)
@pass_cli
def dashboards_command(
    cli: CliContext, port: int, ip: str, directory: Path | None, pool_size: int | None, max_kernels: int | None
) -> None:
    """Serve the Voilà dashboards (no source code, no tracebacks; each page needs a signed link).

    Make links with `analytics dashboard-link --account ID`. Errors go to this process's log, not to viewers.
    A refused link never starts a kernel; a viewer's kernel ends when the page is closed or left idle.
    """
    from dataclasses import replace

    from analytics.dashboards.server import dashboard_limits, dashboards_dir, serve_dashboards, with_secret_key

    settings, note = with_secret_key(cli.settings)
    if note:
        click.echo(note)
    cli.engine()  # create or upgrade the store before viewers arrive
    folder = directory or dashboards_dir()
    limits = dashboard_limits(settings, dashboards=len(list(folder.glob("*.ipynb"))))
    if pool_size is not None:
        limits = replace(limits, pool_size=pool_size)
    if max_kernels is not None:
        limits = replace(limits, max_viewers=max_kernels)
    click.echo(
        f"Serving {folder} on http://{ip}:{port}/ (Ctrl-C to stop): {limits.pool_size} pre-heated kernel(s) per "
        f"dashboard, at most {limits.max_viewers} viewer kernels."
    )
    with kernel_environment(settings, secrets=("secret_key",)):
        serve_dashboards(folder, port, ip, settings=settings, limits=limits)


@click.command("dashboard-link")
@click.option("--account", required=True, metavar="ID", help="The account (biz_…) the link opens.")
@click.option("--expires", default="7d", show_default=True, help="Lifetime: 30m, 12h, 7d, 2w …")
@click.option("--base-url", default="http://127.0.0.1:8866", show_default=True, help="Where the dashboards are served.")
@click.option(
    "--dashboard",
    "names",
    multiple=True,
    type=click.Choice(DASHBOARDS),
    help="Only these dashboards (repeatable; default: all).",
)
@pass_cli
def dashboard_link_command(cli: CliContext, account: str, expires: str, base_url: str, names: tuple[str, ...]) -> None:
    """Print signed links that open ACCOUNT's dashboards until they expire (HMAC with ANALYTICS_SECRET_KEY)."""
    import sqlalchemy as sa

    from analytics.dashboards.server import dashboard_links, with_secret_key
    from analytics.store.schema import accounts

    settings, note = with_secret_key(cli.settings)
    with cli.engine().connect() as conn:
        known = conn.execute(sa.select(accounts.c.id).where(accounts.c.id == account)).scalar()
    if known is None:
        raise ConfigError(f"account {account!r} is not in the store; check the id (biz_…) or sync first")
    lifetime = parse_duration(expires)
    links = dashboard_links(settings, account, base_url, expires_in=lifetime, names=names or DASHBOARDS)
    if note:
        click.echo(note, err=True)
    click.echo(f"Dashboards for {account} (valid until {utcnow() + lifetime:%Y-%m-%d %H:%M} UTC):", err=True)
    for name, url in links.items():
        click.echo(f"{name:<11} {url}")
