"""Store commands: ``analytics init`` and ``analytics optimize``."""

from __future__ import annotations

import click

from analytics.cli.context import CliContext, pass_cli
from analytics.store import create_store_engine, current_revision, init_store
from analytics.store.maintenance import TIME_ORDERED, optimize_store

__all__ = ["init_command", "optimize_command"]


@click.command("init")
@pass_cli
def init_command(cli: CliContext) -> None:
    """Create the store, or upgrade it to the latest schema revision (SQLite, PostgreSQL or DuckDB)."""
    cli.settings.workspace.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(cli.settings.database_url)
    before = current_revision(engine)
    after = init_store(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"store {url} is already at revision {after}")
    else:
        click.echo(f"store {url} upgraded from {before or 'empty'} to revision {after}")
    engine.dispose()


@click.command("optimize")
@click.option(
    "--table",
    "tables",
    multiple=True,
    type=click.Choice(sorted(TIME_ORDERED)),
    help="DuckDB: only rewrite this event log in time order (repeatable; default: all of them).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_cli
def optimize_command(cli: CliContext, tables: tuple[str, ...], quiet: bool) -> None:
    """Refresh planner statistics after a bulk import; on DuckDB also put the event logs in time order.

    Run it after `analytics import` of a large history (or weekly). On DuckDB the rewrite needs room for a second
    copy of each event log while it runs, and happens in one transaction.
    """
    engine = cli.engine()
    for step in optimize_store(engine, tables=tables or None, progress=not quiet):
        rows = "" if step.rows is None else f" ({step.rows:,} rows)"
        click.echo(f"{step.action} {step.table}{rows} in {step.seconds:.1f} s")
