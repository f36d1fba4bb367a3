"""Snapshot commands: ``analytics snapshot``."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy.engine import Engine

from analytics.cli.context import CliContext, pass_cli

__all__ = ["snapshot_command"]


@click.command("snapshot")
@click.option(
    "--period",
    type=click.Choice(["daily", "weekly", "monthly"]),
    default="daily",
    show_default=True,
    help="Period kind (weeks are Monday–Sunday; periods are in each account's time zone).",
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (YYYY-MM-DD).")
@click.option("--account", "accounts", multiple=True, metavar="ID", help="Account id (repeatable; default: all).")
@click.option("--policy", "policies", multiple=True, metavar="NAME=VALUE", help="Metric policy (repeatable).")
@click.option(
    "--backfill-months",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Write N months of periods ending at --to (default yesterday), one transaction per month.",
)
@click.option("--recompute-touched", is_flag=True, help="Only rewrite stored periods made stale by late data.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_cli
def snapshot_command(
    cli: CliContext,
    period: str,
    start: object,
    end: object,
    accounts: tuple[str, ...],
    policies: tuple[str, ...],
    backfill_months: int | None,
    recompute_touched: bool,
    quiet: bool,
) -> None:
    """Write per-period snapshots of the key metrics (idempotent: a period written again is replaced).

    \b
    Examples:
      analytics snapshot --period daily                      yesterday, every account
      analytics snapshot --period weekly --from 2025-01-01 --to 2025-03-31 --account biz_XXXX
      analytics snapshot --period daily --backfill-months 12 the last 12 months, with a progress bar
      analytics snapshot --recompute-touched                 rewrite periods that late data changed
    """
    engine = cli.engine()
    try:
        _run(engine, period, start, end, accounts, policies, backfill_months, recompute_touched, quiet)
    finally:
        engine.dispose()


def _run(
    engine: Engine,
    period: str,
    start: object,
    end: object,
    accounts: tuple[str, ...],
    policies: tuple[str, ...],
    backfill_months: int | None,
    recompute_touched: bool,
    quiet: bool,
) -> None:
    from analytics.metrics.policies import Policies
    from analytics.snapshots import backfill_snapshots, write_snapshots
    from analytics.snapshots import recompute_touched as recompute

    pol = Policies.from_strings(policies) if policies else None
    first = start.date() if start is not None else None  # type: ignore[attr-defined]
    last = end.date() if end is not None else None  # type: ignore[attr-defined]
    chosen = list(accounts) or None
    if recompute_touched:
        done = recompute(engine, accounts=chosen, policies=pol, progress=not quiet)
        if done.empty:
            click.echo("no stored period is stale")
        for row in done.itertuples():
            click.echo(f"{row.account_id} {row.period}: recomputed {row.first_stale} … {row.last_period}")
        return
    if backfill_months is not None:
        if first is not None:
            raise click.UsageError("--backfill-months counts back from --to; do not give --from")
        summary = backfill_snapshots(
            engine, period=period, months=backfill_months, end=last, accounts=chosen, policies=pol, progress=not quiet
        )
    else:
        summary = write_snapshots(
            engine, period=period, start=first, end=last, accounts=chosen, policies=pol, progress=not quiet
        )
    if summary.empty:
        click.echo("no accounts in the store: import, sync or build the demo first")
        return
    totals = summary.groupby(["account_id", "channel"], as_index=False).agg(
        first=("first_period", "min"), last=("last_period", "max"), periods=("periods", "sum")
    )
    for row in totals.itertuples():
        where = str(row.account_id) + (f" [{row.channel!s}]" if row.channel else "")
        click.echo(f"{where}: {row.periods} {period} snapshot(s) {_d(row.first)} … {_d(row.last)}")


def _d(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
