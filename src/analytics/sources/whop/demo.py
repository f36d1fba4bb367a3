"""The Whop part of the demo: serve a generated business from a fake Whop API, sync it over HTTP, then let time
pass and deliver the signed webhooks — the same path production data takes.

``analytics demo`` calls :func:`sync_demo`; it can also be called from a notebook.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.errors import ConfigError
from analytics.settings import Settings
from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.serving import serve_in_thread
from analytics.sources.whop.simulator import AdvanceResult, WebhookTarget
from analytics.sources.whop.sync import SyncResult, sync_whop
from analytics.sources.whop.webhooks import WEBHOOK_PATH, WebhookReceiver
from analytics.store import create_store_engine, init_store
from analytics.store.schema import accounts as accounts_table

__all__ = ["DemoSyncResult", "sync_demo"]


@dataclass
class DemoSyncResult:
    """What the Whop demo did: the full sync, the simulated days and their webhooks, the catch-up sync."""

    account_ids: list[str]
    full_sync: SyncResult
    advance: AdvanceResult | None
    webhooks: dict[str, int] = field(default_factory=dict)
    catch_up: SyncResult | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.account_ids,
            "full_sync": self.full_sync.as_dict(),
            "advance": self.advance.as_dict() if self.advance else None,
            "webhooks": self.webhooks,
            "catch_up_sync": self.catch_up.as_dict() if self.catch_up else None,
        }


def _load(engine: Engine, *, seed: int, size: str, end: date, accounts: int, progress: bool, clock: Clock) -> None:
    try:
        from analytics.demo.load import load_demo
    except ImportError as exc:  # pragma: no cover - the generator ships with the demo stage
        raise ConfigError("the demo generator (analytics.demo) is not available in this build") from exc
    load_demo(engine, seed=seed, size=size, end=end, accounts=accounts, progress=progress, clock=clock)


def sync_demo(
    settings: Settings,
    *,
    size: str = "small",
    seed: int = 7,
    end: date | None = None,
    accounts: int = 1,
    days: int = 3,
    engine: Engine | None = None,
    source_url: str | None = None,
    catch_up: bool = True,
    page_size: int = 100,
    requests_per_second: float = 500.0,
    progress: bool = True,
    clock: Clock = utcnow,
) -> DemoSyncResult:
    """Generate the demo business into a source store, serve it as a fake Whop API on a free loopback port, sync
    it over HTTP into the workspace store, advance ``days`` days delivering signed webhooks to a receiver (also on
    loopback), and finally run an incremental sync for what webhooks do not carry (refund totals, spend).

    Parameters
    ----------
    settings:
        The workspace settings; the store is ``settings.database_url`` unless ``engine`` is given. The fake's key
        is ``WHOP_API_KEY`` (else ``demo``) and the webhook secret ``WHOP_WEBHOOK_SECRET`` (else a fresh one).
    size, seed, end, accounts:
        The demo business (see ``analytics.demo``); it is generated up to ``end - days`` so that the simulated
        days end on ``end`` (default: today, from ``clock``).
    source_url:
        Where to keep the source store (default: a temporary SQLite file, deleted afterwards).
    requests_per_second:
        The sync's request rate against the local fake (the production default is lower).
    """
    end = end or clock().date()
    api_key = settings.whop_api_key.reveal() if settings.whop_api_key else "demo"
    secret = settings.whop_webhook_secret.reveal() if settings.whop_webhook_secret else f"ws_{secrets.token_hex(16)}"
    target = engine or create_store_engine(settings.database_url)
    init_store(target)
    with tempfile.TemporaryDirectory(prefix="whop-demo-") as tmp:
        source = create_store_engine(source_url or f"sqlite:///{Path(tmp) / 'whop-source.db'}")
        try:
            init_store(source)
            _load(
                source,
                seed=seed,
                size=size,
                end=end - timedelta(days=days),
                accounts=accounts,
                progress=progress,
                clock=clock,
            )
            with source.connect() as conn:
                ids = list(conn.execute(sa.select(accounts_table.c.id).order_by(accounts_table.c.id)).scalars())
            return _run(
                source, target, ids, api_key, secret, days, catch_up, page_size, requests_per_second, progress, clock
            )
        finally:
            source.dispose()
            if engine is None:
                target.dispose()


def _run(
    source: Engine,
    target: Engine,
    ids: list[str],
    api_key: str,
    secret: str,
    days: int,
    catch_up: bool,
    page_size: int,
    rate: float,
    progress: bool,
    clock: Clock,
) -> DemoSyncResult:
    receiver = WebhookReceiver(target, secret, clock=clock)
    with serve_in_thread(receiver.app) as hooks, httpx.Client(timeout=30) as http:
        fake = FakeWhop(source, api_key=api_key, webhook=WebhookTarget(f"{hooks.url}{WEBHOOK_PATH}", secret, http))
        with serve_in_thread(fake.app) as api:
            client = WhopClient(f"{api.url}/api/v1", api_key, http=http, requests_per_second=rate, max_concurrency=4)
            full = sync_whop(target, client, ids, full=True, page_size=page_size, progress=progress, clock=clock)
            advance = fake.advance(days) if days > 0 else None
            later = (
                sync_whop(target, client, ids, page_size=page_size, progress=progress, clock=clock)
                if catch_up
                else None
            )
    return DemoSyncResult(ids, full, advance, dict(receiver.stats), later)
