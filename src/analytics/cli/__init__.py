"""The ``analytics`` command line.

Each command lives in the module of its stage (``store_commands``, ``demo_commands``, …) and is listed in
:data:`LAZY_COMMANDS` with the line ``analytics --help`` shows for it: a command's module is imported only when
that command runs or shows its own help, so ``analytics --help`` and ``analytics metric --help`` do not load
scikit-learn, the dashboards or the sync (a test checks each line against the command's docstring, and that
``import analytics.cli`` stays light). The group reads the settings once and passes them on.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from analytics.cli.context import CliContext, FriendlyGroup

__all__ = ["LAZY_COMMANDS", "LazyGroup", "cli", "main"]

LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    # name: ("module:attribute", the first sentence of the command's docstring, as `analytics --help` shows it)
    "init": (
        "analytics.cli.store_commands:init_command",
        "Create the store, or upgrade it to the latest schema revision (SQLite, PostgreSQL or DuckDB).",
    ),
    "optimize": (
        "analytics.cli.store_commands:optimize_command",
        "Refresh planner statistics after a bulk import; on DuckDB also put the event logs in time order.",
    ),
    "run": (
        "analytics.cli.report_commands:run_command",
        "Execute the notebooks of params/SCHEDULE.yaml with Papermill (sync, snapshot, report).",
    ),
    "dashboards": (
        "analytics.cli.report_commands:dashboards_command",
        "Serve the Voilà dashboards (no source code, no tracebacks; each page needs a signed link).",
    ),
    "dashboard-link": (
        "analytics.cli.report_commands:dashboard_link_command",
        "Print signed links that open ACCOUNT's dashboards until they expire (HMAC with ANALYTICS_SECRET_KEY).",
    ),
    "demo": ("analytics.cli.demo_commands:demo_command", "Build a demo creator business in a workspace, end to end."),
    "metric": (
        "analytics.cli.metric_commands:metric_command",
        "Print any metric of the catalog for an account and a period.",
    ),
    "precompute": (
        "analytics.cli.page_data_commands:precompute_command",
        "Compute and store what the dashboards show beyond snapshots and churn scores (pages only read it).",
    ),
    "jobs": (
        "analytics.cli.job_commands:jobs_command",
        "List the job runs, newest first: kind, account, status, start, duration, error.",
    ),
    "snapshot": (
        "analytics.cli.snapshot_commands:snapshot_command",
        "Write per-period snapshots of the key metrics (idempotent: a period written again is replaced).",
    ),
    "import": (
        "analytics.cli.import_commands:import_command",
        "Load CSV or Parquet FILEs (.csv, .csv.gz, .parquet) into the store table TABLE.",
    ),
    "import-whop-export": (
        "analytics.cli.import_commands:import_whop_export_command",
        "Import a Whop dashboard CSV export of KIND (members, memberships or payments) — no API key needed.",
    ),
    "sync": (
        "analytics.cli.whop_commands:sync_command",
        "Sync Whop accounts over the API into the store (incremental and resumable; key from WHOP_API_KEY).",
    ),
    "webhooks": (
        "analytics.cli.whop_commands:webhooks_command",
        "Receive Whop webhooks on POST /webhooks/whop (secret from WHOP_WEBHOOK_SECRET; bodies over "
        "ANALYTICS_WEBHOOK_MAX_BODY_BYTES are refused with 413).",
    ),
    "fake-whop": (
        "analytics.cli.whop_commands:fake_whop_command",
        "Serve a demo business (or a store) as a local fake of the Whop API v1.",
    ),
    "train": (
        "analytics.cli.churn_commands:train_command",
        "Train a churn model, backtest it against the baseline and register it (model card in workspace/models).",
    ),
    "promote": (
        "analytics.cli.churn_commands:promote_command",
        "Make MODEL_ID the current churn model (refused if worse than the current one on the same backtest).",
    ),
    "score": (
        "analytics.cli.churn_commands:score_command",
        "Score every paying member: churn probability, risk level, top factors and recommended actions.",
    ),
    "models": (
        "analytics.cli.churn_commands:models_command",
        "List the registered churn models with their backtest metrics (current one marked with *).",
    ),
}
"""Every command of the ``analytics`` group by name: where it is defined and its line in ``analytics --help``."""


class LazyGroup(FriendlyGroup):
    """A group whose commands (``lazy``: name → ``("module:attribute", short help)``) are imported on first use.

    Listing the commands (``--help``) uses the stored short help and imports nothing; commands added with
    :meth:`add_command` work as usual.
    """

    def __init__(self, *args: object, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name][0].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise TypeError(f"{self.lazy[cmd_name][0]} is not the click command {cmd_name!r}")
            self.add_command(command)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
                continue
            command = self.commands[name]
            if not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    """Entry point of the ``analytics`` script."""
    cli()
