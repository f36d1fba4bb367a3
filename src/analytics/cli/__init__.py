"""The ``analytics`` command line.

Each command lives in the module of its stage (``store_commands``, ``demo_commands``, …) and is registered
here; the group reads the settings once and passes them on.
"""

from __future__ import annotations

from pathlib import Path

import click

from analytics.cli.churn_commands import CHURN_COMMANDS
from analytics.cli.context import CliContext, FriendlyGroup
from analytics.cli.demo_commands import demo_command
from analytics.cli.import_commands import import_command, import_whop_export_command
from analytics.cli.job_commands import jobs_command
from analytics.cli.metric_commands import metric_command
from analytics.cli.page_data_commands import precompute_command
from analytics.cli.report_commands import register_report_commands
from analytics.cli.snapshot_commands import snapshot_command
from analytics.cli.store_commands import init_command, optimize_command
from analytics.cli.whop_commands import fake_whop_command, sync_command, webhooks_command

__all__ = ["cli", "main"]


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Workspace folder (default $ANALYTICS_WORKSPACE or ./workspace).",
)
@click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="Store URL (default $ANALYTICS_DATABASE_URL or a SQLite file in the workspace).",
)
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None, database_url: str | None) -> None:
    """Creator Analytics Workbook: sync Whop data, compute metrics, write snapshots and reports.

    \b
    Start here:
      analytics demo                 build a demo workspace end to end (./workspace)
      analytics init                 create or upgrade the store
      analytics import TABLE FILE…   load CSV/Parquet files into a table
      analytics optimize             statistics (and DuckDB time order) after a bulk import
    Settings come from the environment (ANALYTICS_WORKSPACE, ANALYTICS_DATABASE_URL, WHOP_API_KEY, …);
    run `analytics COMMAND --help` for each command.
    """
    ctx.obj = CliContext.from_options(workspace, database_url)


cli.add_command(init_command)
cli.add_command(optimize_command)
register_report_commands(cli)
cli.add_command(demo_command)
cli.add_command(metric_command)
cli.add_command(snapshot_command)
cli.add_command(precompute_command)
cli.add_command(import_command)
cli.add_command(import_whop_export_command)
cli.add_command(sync_command)
cli.add_command(webhooks_command)
cli.add_command(fake_whop_command)
cli.add_command(jobs_command)
for _churn_command in CHURN_COMMANDS:
    cli.add_command(_churn_command)  # train, promote, score, models


def main() -> None:
    """Entry point of the ``analytics`` script."""
    cli()
