"""Store commands: ``analytics init``."""

from __future__ import annotations

import click

from analytics.cli.context import CliContext, pass_cli
from analytics.store import create_store_engine, current_revision, init_store

__all__ = ["init_command"]


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
