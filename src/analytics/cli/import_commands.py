"""Import commands: ``analytics import TABLE FILE…`` and ``analytics import-whop-export KIND FILE``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy.engine import Engine

from analytics.cli.context import CliContext, pass_cli
from analytics.errors import ImportFileError
from analytics.sources.import_readers import read_csv_header
from analytics.sources.import_spec import IMPORTABLE_TABLES, import_columns
from analytics.sources.imports import FileReport, ImportReport, import_files
from analytics.sources.whop_export import EXPORT_KINDS, import_whop_export, recognised_headers

__all__ = ["import_command", "import_whop_export_command"]

SHOWN_PROBLEMS = 5


def _engine(cli: CliContext) -> Engine:
    """The store engine, closed again when the command ends."""
    engine = cli.engine()
    click.get_current_context().call_on_close(engine.dispose)
    return engine


def _echo_file(report: FileReport) -> None:
    if report.error:
        click.echo(f"Error: {report.error}", err=True)
        return
    click.echo(f"{report.file}: {report.read:,} read, {report.loaded:,} loaded, {report.quarantined:,} quarantined")
    for problem in report.problems[:SHOWN_PROBLEMS]:
        click.echo(f"  quarantined: {problem}")
    more = report.quarantined - min(len(report.problems), SHOWN_PROBLEMS)
    if more > 0:
        click.echo(f"  … and {more:,} more; see the quarantine table (analytics.store.quarantined())")


def _echo_total(report: ImportReport) -> None:
    failed = f", {len(report.errors)} file(s) NOT imported" if report.errors else ""
    click.echo(
        f"total {report.table}: {report.read:,} read, {report.loaded:,} loaded, {report.quarantined:,} quarantined"
        f"{failed} in {report.duration_seconds:.1f} s (job run {report.job_run_id})"
    )


def _columns_help(table: str) -> str:
    lines = [f"columns of {table} (* = required):"]
    for col in import_columns(table):
        allowed = ""
        if col.allowed_values and col.type == "enum":
            allowed = f" one of {', '.join(col.allowed_values)}"
        lines.append(f"  {'*' if col.required else ' '} {col.name:<28} {col.type:<10}{allowed}")
    return "\n".join(lines)


@click.command("import")
@click.argument("table", metavar="TABLE")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False), metavar="FILE...")
@click.option("--columns", "show_columns", is_flag=True, help="Print TABLE's columns and types, then exit.")
@click.option("--no-progress", is_flag=True, help="Do not show progress bars.")
@pass_cli
def import_command(cli: CliContext, table: str, files: tuple[Path, ...], show_columns: bool, no_progress: bool) -> None:
    """Load CSV or Parquet FILEs (.csv, .csv.gz, .parquet) into the store table TABLE.

    Columns are the table's (see docs/import-schema.md or --columns): timestamps ISO 8601 with a zone, money
    in integer minor units with a lower-case currency. Bad rows are quarantined with file, row, column and
    reason; the rest loads. Each file is one transaction, and importing the same file again is safe (rows
    are upserted on their key).

    Exit code 1 when a file could not be imported at all (the other files are still imported).

    \b
    Examples:
      analytics import accounts accounts.csv
      analytics import payments exports/payments-jan.csv exports/payments-feb.parquet
      analytics import payments --columns
    """
    if show_columns:
        click.echo(_columns_help(table) if table in IMPORTABLE_TABLES else f"unknown table {table!r}")
        return
    if not files:
        raise click.UsageError(f"give at least one FILE to import into {table} (or --columns to list its columns)")
    report = import_files(
        _engine(cli),
        table,
        list(files),
        progress=not no_progress,
        on_error="skip",
        heartbeat_timeout=timedelta(seconds=cli.settings.job_heartbeat_timeout),
    )
    for file_report in report.per_file:
        _echo_file(file_report)
    _echo_total(report)
    if report.errors:
        raise SystemExit(1)


@click.command("import-whop-export")
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--account", "account_id", required=True, metavar="biz_…", help="Your Whop company id.")
@click.option("--currency", default="usd", show_default=True, help="Currency of amounts with no currency column.")
@click.option("--timezone", default="UTC", show_default=True, help="Zone of dates written without one (IANA name).")
@click.option("--title", default=None, help="Account title, when the account is new to the store.")
@pass_cli
def import_whop_export_command(
    cli: CliContext, kind: str, file: Path, account_id: str, currency: str, timezone: str, title: str | None
) -> None:
    """Import a Whop dashboard CSV export of KIND (members, memberships or payments) — no API key needed.

    Headers are recognised by name (case-insensitive; e.g. "Membership ID"/"ID", "Email", "Product", "Plan",
    "Status", "Created At"/"Date", "Amount"/"Total"); amounts in major units ("$49.00") are converted exactly
    to minor units. The recognised headers are listed in docs/import-schema.md.

    \b
    Example:
      analytics import-whop-export memberships ~/Downloads/memberships.csv --account biz_XXXXXXXX
      analytics import-whop-export payments payments.csv --account biz_XXXXXXXX --currency eur
    """
    try:
        report = import_whop_export(
            _engine(cli),
            kind,
            file,
            account_id=account_id,
            currency=currency,
            timezone=timezone,
            account_title=title,
        )
    except ImportFileError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from exc
    for file_report in report.per_file:
        _echo_file(file_report)
    _, ignored = recognised_headers(kind, read_csv_header(file, name=file.name))
    if ignored:
        click.echo(f"ignored columns (not mapped): {', '.join(ignored)}")
    _echo_total(report)
