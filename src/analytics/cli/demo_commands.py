"""Demo commands: ``analytics demo`` builds a demo workspace end to end."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from analytics.cli.context import CliContext, pass_cli
from analytics.clock import Clock, utcnow
from analytics.demo.pipeline import DemoSummary, run_demo
from analytics.demo.sizes import SIZES

__all__ = ["demo_command", "format_summary", "make_demo_command"]


def format_summary(summary: DemoSummary) -> str:
    """The text ``analytics demo`` prints: rows per table and where the workspace is."""
    width = max(len(t) for t in summary.row_counts)
    lines = [
        f"Demo business ({summary.size}, seed {summary.seed}, as of {summary.end.isoformat()} 00:00 UTC) "
        f"built in {summary.seconds:.1f} s",
        f"accounts: {', '.join(summary.account_ids)}",
        "",
        f"{'table':<{width}}  {'rows':>12}",
        f"{'-' * width}  {'-' * 12}",
    ]
    lines += [f"{t:<{width}}  {n:>12,}" for t, n in summary.row_counts.items()]
    lines += ["", f"workspace: {summary.workspace}", f"store:     {summary.database_url}"]
    reports = summary.steps.get("reports", {}).get("summary")
    if reports:
        lines += ["", reports]
    quarantined = summary.steps.get("load", {}).get("quarantined")
    if quarantined:
        lines.append(f"WARNING: {quarantined} demo rows were quarantined (see the quarantine table); please report it")
    return "\n".join(lines)


def make_demo_command(clock: Clock = utcnow) -> click.Command:
    """The ``demo`` command; ``clock`` gives the default ``--end`` (today, UTC)."""

    @click.command("demo")
    @click.option(
        "--size",
        type=click.Choice(list(SIZES)),
        default="small",
        show_default=True,
        help="small ≈ 1,000 members (seconds); medium ≈ 10,000 members, 1M events; large ≈ 200,000, 20M.",
    )
    @click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=7,
        show_default=True,
        help="Random seed: the same seed, size and end give the same business.",
    )
    @click.option(
        "--end",
        "end",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        metavar="YYYY-MM-DD",
        help="Show the business as of this day (00:00 UTC). Default: today (UTC).",
    )
    @click.option(
        "--accounts",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Number of creator accounts (biz_…) in the demo.",
    )
    @click.option(
        "--workspace",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Workspace folder (same as the global --workspace).",
    )
    @click.option(
        "--step",
        "steps",
        multiple=True,
        metavar="NAME",
        help="Run only this step (repeatable; e.g. init, load). Default: every registered step.",
    )
    @click.option("--serve", is_flag=True, help="Keep the Voilà dashboards running afterwards (Ctrl-C stops them).")
    @click.option("--port", type=int, default=8866, show_default=True, help="Dashboard port with --serve.")
    @click.option("--progress/--no-progress", default=True, help="Show progress bars.")
    @pass_cli
    def demo_command(
        cli: CliContext,
        size: str,
        seed: int,
        end: datetime | None,
        accounts: int,
        workspace: Path | None,
        steps: tuple[str, ...],
        serve: bool,
        port: int,
        progress: bool,
    ) -> None:
        """Build a demo creator business in a workspace, end to end.

        \b
        Generates a realistic Whop creator (products, plans, trials, promo codes, renewals, failed payments and
        recoveries, cancellations, refunds, disputes, course progress, chat activity, WhatsApp campaigns,
        affiliates with a little planted fraud), loads it into the store through the import path and prints
        the rows per table. Re-running replaces the demo accounts' data.

        \b
        Example:
          analytics demo --workspace ./workspace --size small --seed 7
        """
        if workspace is not None:
            cli.use_settings(cli.settings.replace(workspace=workspace))
        summary = run_demo(
            cli.settings,
            size=size,
            seed=seed,
            end=end.date() if end else None,
            accounts=accounts,
            steps=steps or None,
            progress=progress,
            clock=clock,
        )
        click.echo(format_summary(summary))
        if serve:
            from analytics.dashboards.server import start_dashboards, with_secret_key

            settings, _ = with_secret_key(cli.settings, create=True)
            server = start_dashboards(settings, port=port)
            click.echo(f"Dashboards running at {server.url} (open the signed links above); Ctrl-C stops them.")
            server.wait()

    return demo_command


demo_command = make_demo_command()
