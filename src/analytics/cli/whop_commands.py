"""Whop commands: ``analytics sync``, ``analytics webhooks`` (and ``webhooks reprocess``), ``analytics fake-whop``.

Secrets come from the settings only (``WHOP_API_KEY``, ``WHOP_WEBHOOK_SECRET``); the fake server's own key may be
given with ``--api-key`` because it guards nothing but local demo data.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import click
import uvicorn

from analytics.cli.context import CliContext, pass_cli
from analytics.errors import ConfigError
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.simulator import WebhookTarget
from analytics.sources.whop.sync import SyncResult, sync_with_settings
from analytics.sources.whop.webhook_events import inbox_report, reprocess
from analytics.sources.whop.webhooks import WEBHOOK_PATH, WebhookReceiver
from analytics.store import create_store_engine, init_store

__all__ = ["fake_whop_command", "sync_command", "webhooks_command"]


def _summary_lines(result: SyncResult) -> list[str]:
    lines = [f"{'resource':<28}{'fetched':>9}{'inserted':>10}{'updated':>9}{'quarantined':>13}"]
    for name, c in sorted(result.resources.items()):
        lines.append(f"{name:<28}{c.fetched:>9}{c.inserted:>10}{c.updated:>9}{c.quarantined:>13}")
    total = result.totals()
    lines.append(f"{'total':<28}{total.fetched:>9}{total.inserted:>10}{total.updated:>9}{total.quarantined:>13}")
    lines.append(f"{result.requests} requests ({result.retries} retried) in {result.seconds:.1f}s")
    return lines


@click.command("sync")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="BIZ_ID",
    help="Account to sync (repeatable; default: every account the key sees).",
)
@click.option("--full", is_flag=True, help="List everything instead of starting from the stored checkpoints.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Start dated listings at this UTC date.",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Whop API base URL (default $WHOP_API_BASE_URL or https://api.whop.com/api/v1).",
)
@click.option("--page-size", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
@pass_cli
def sync_command(
    cli: CliContext,
    accounts: tuple[str, ...],
    full: bool,
    since: datetime | None,
    base_url: str | None,
    page_size: int,
    no_progress: bool,
) -> None:
    """Sync Whop accounts over the API into the store (incremental and resumable; key from WHOP_API_KEY).

    Rate limits are waited out as the API asks (up to ANALYTICS_SYNC_MAX_RETRY_AFTER per wait) and slow the sync
    down; a run that reaches ANALYTICS_SYNC_TIME_BUDGET stops, and the next one resumes where it stopped.
    Items quarantined earlier are fetched again by id.
    """
    result = sync_with_settings(
        cli.engine(),
        cli.settings,
        list(accounts) or None,
        base_url=base_url,
        full=full,
        page_size=page_size,
        since=since.replace(tzinfo=UTC) if since else None,
        progress=not no_progress,
    )
    for line in _summary_lines(result):
        click.echo(line)


@click.group("webhooks", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def webhooks_command(ctx: click.Context, host: str, port: int) -> None:
    """Receive Whop webhooks on POST /webhooks/whop (secret from WHOP_WEBHOOK_SECRET; bodies over
    ANALYTICS_WEBHOOK_MAX_BODY_BYTES are refused with 413)."""
    if ctx.invoked_subcommand is not None:
        return
    cli: CliContext = ctx.ensure_object(CliContext)
    settings = cli.settings
    receiver = WebhookReceiver(
        cli.engine(), settings.require("whop_webhook_secret"), max_body_bytes=settings.webhook_max_body_bytes
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"receiving Whop webhooks on http://{host}:{port}{WEBHOOK_PATH}")
    uvicorn.run(receiver.app, host=host, port=port, log_level="info")


@webhooks_command.command("reprocess")
@click.option("--all", "everything", is_flag=True, help="Replay processed and ignored deliveries too.")
@pass_cli
def reprocess_command(cli: CliContext, everything: bool) -> None:
    """Replay the webhook inbox (received and failed deliveries by default) into the normalized tables.

    Prints each delivery's outcome, then the inbox report. Every delivery is attempted; exit code 1 when any failed
    (each keeps its reason in the inbox).
    """
    statuses = ("received", "failed", "processed", "ignored") if everything else ("received", "failed")
    engine = cli.engine()
    outcomes = reprocess(engine, statuses=statuses)
    for outcome in outcomes:
        note = f"  {outcome.note}" if outcome.note else ""
        click.echo(f"{outcome.inbox_id}  {outcome.event_type or '-'}  {outcome.status}{note}")
    counts = Counter(outcome.status for outcome in outcomes)
    click.echo(f"replayed {len(outcomes)} deliveries: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    report = inbox_report(engine)
    if not report.empty:
        click.echo(report.to_string(index=False))
    if counts["failed"]:
        click.echo(
            f"{counts['failed']} of {len(outcomes)} deliveries failed; each is kept in the inbox as failed with its "
            "reason (above). Fix the cause, then run `analytics webhooks reprocess` again.",
            err=True,
        )
        raise SystemExit(1)


@click.command("fake-whop")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--size", default="small", show_default=True, help="Demo size: tiny, small, medium or large.")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day of the demo (default today).")
@click.option("--accounts", default=1, show_default=True, type=int)
@click.option("--source-url", default=None, metavar="URL", help="Serve this store instead of generating the demo.")
@click.option("--api-key", default=None, help="Bearer key the fake accepts (default $WHOP_API_KEY, else 'demo').")
@click.option("--webhook-url", default=None, metavar="URL", help="Where POST /_fake/advance delivers signed webhooks.")
@pass_cli
def fake_whop_command(
    cli: CliContext,
    host: str,
    port: int,
    size: str,
    seed: int,
    end: datetime | None,
    accounts: int,
    source_url: str | None,
    api_key: str | None,
    webhook_url: str | None,
) -> None:
    """Serve a demo business (or a store) as a local fake of the Whop API v1."""
    settings = cli.settings
    key = api_key or (settings.whop_api_key.reveal() if settings.whop_api_key else "demo")
    webhook = None
    if webhook_url:
        webhook = WebhookTarget(webhook_url, settings.require("whop_webhook_secret").reveal())
    with tempfile.TemporaryDirectory(prefix="fake-whop-") as tmp:
        url = source_url or f"sqlite:///{Path(tmp) / 'source.db'}"
        engine = create_store_engine(url)
        init_store(engine)
        if source_url is None:
            try:
                from analytics.demo.load import load_demo
            except ImportError as exc:
                raise ConfigError("the demo generator is not installed in this build; pass --source-url") from exc
            load_demo(engine, seed=seed, size=size, end=(end.date() if end else date.today()), accounts=accounts)
        fake = FakeWhop(engine, api_key=key, webhook=webhook, seed=seed)
        key_from = "--api-key" if api_key else "WHOP_API_KEY" if settings.whop_api_key else "the default 'demo'"
        click.echo(f"fake Whop API on http://{host}:{port}/api/v1 (bearer key: {key_from})")
        try:
            uvicorn.run(fake.app, host=host, port=port, log_level="warning")
        finally:
            engine.dispose()
