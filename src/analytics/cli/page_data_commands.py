"""Page-data command: ``analytics precompute``."""

from __future__ import annotations

import sys
from datetime import date

import click

from analytics.cli.context import CliContext, pass_cli

__all__ = ["precompute_command"]


@click.command("precompute")
@click.option("--account", "account_id", metavar="ID", default=None, help="Account (biz_…); default: every account.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Compute from the data before this day (YYYY-MM-DD; default today in the account's time zone).",
)
@click.option("--quiet", is_flag=True, help="No progress bar (there is none when the output is not a terminal).")
@pass_cli
def precompute_command(cli: CliContext, account_id: str | None, as_of: object, quiet: bool) -> None:
    """Compute and store what the dashboards show beyond snapshots and churn scores (pages only read it).

    \b
    The retention projection, the sBG fit and its quality notes, lifetime value, the 90-day revenue forecast and
    the net MRR retention cohort tables (monthly and weekly). Re-running for the same day replaces them. The daily
    run (`analytics run daily`) and `analytics demo` do this too.
    \b
    Examples:
      analytics precompute                          every account, as of today
      analytics precompute --account biz_XXXX --as-of 2025-07-01
    """
    from analytics.snapshots.page_data import store_page_data

    engine = cli.engine()
    day: date | None = as_of.date() if as_of is not None else None  # type: ignore[attr-defined]
    summary = store_page_data(engine, account_id, as_of=day, progress=not quiet and sys.stderr.isatty())
    if summary.empty:
        click.echo("no accounts in the store: import, sync or build the demo first")
    for row in summary.to_dict("records"):
        empty = f"; stored empty (see their notes): {row['empty']}" if row["empty"] else ""
        click.echo(
            f"{row['account_id']}: {row['stored']} results as of {row['as_of']} ({row['notes']} quality notes, "
            f"{row['seconds']:.1f} s){empty}"
        )
