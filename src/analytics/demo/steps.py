"""The demo's later stages, as pipeline steps: data arrives the way it does in production, then snapshots.

``sync`` replaces the foundation's direct ``load``. The demo business is generated into a source store
(``workspace/demo-source.db``) that the fake Whop API serves; it is synced into the workspace over real HTTP,
advanced a few days with signed webhooks delivered to the receiver, and caught up by an incremental sync (see
:func:`analytics.sources.whop.demo.sync_demo`). What the Whop API does not carry — tracking events (logins, views,
lesson and funnel events), WhatsApp, affiliate clicks/referrals/commissions, disputes and exchange rates — a creator
imports from their own exports; the demo imports it from the source store through the same import path
(:func:`analytics.sources.imports.import_frame`).
``snapshots`` backfills 12 months of daily snapshots and the weekly and monthly ones that dashboards and reports read;
``churn`` (from :mod:`analytics.models.churn.demo_step`) trains, promotes and scores; ``page_data`` (from
:mod:`analytics.snapshots.page_data`) stores the retention projection, revenue forecast and cohort tables the
dashboards read; ``reports`` runs the weekly report notebooks through Papermill (HTML, PDF, CSV, JSON) and signs a
dashboard link per account and dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.demo.pipeline import DemoContext, register_step
from analytics.models.churn.demo_step import churn_step
from analytics.reports.demo_step import reports_step
from analytics.snapshots.page_data import page_data_step
from analytics.store import create_store_engine
from analytics.store.schema import metadata

__all__ = ["IMPORTED_TABLES", "snapshots_step", "sync_step"]

SNAPSHOT_MONTHS = 12
SOURCE_FILE = "demo-source.db"
# Tables the Whop API does not serve: imported from exports (activity_events: every kind but Whop chat messages).
IMPORTED_TABLES: tuple[str, ...] = (
    "fx_rates",
    "activity_events",
    "disputes",
    "wa_templates",
    "wa_campaigns",
    "wa_contacts",
    "wa_conversations",
    "wa_messages",
    "wa_status_updates",
    "referral_clicks",
    "referrals",
    "shares",
    "commissions",
)
CHUNK_ROWS = 200_000


def sync_step(ctx: DemoContext) -> Mapping[str, Any]:
    """Fill the workspace from the fake Whop API over HTTP (full sync, simulated days with webhooks, catch-up)."""
    from analytics.sources.whop.demo import sync_demo

    source_path = ctx.settings.workspace / SOURCE_FILE
    source_path.unlink(missing_ok=True)
    source_url = f"sqlite:///{source_path}"
    result = sync_demo(
        ctx.settings,
        size=ctx.size,
        seed=ctx.seed,
        end=ctx.end,
        accounts=ctx.accounts,
        engine=ctx.engine,
        source_url=source_url,
        progress=ctx.progress,
        clock=ctx.clock,
    )
    source = create_store_engine(source_url)
    try:
        imported = import_exports(source, ctx.engine, ctx)
    finally:
        source.dispose()
    return {**result.as_dict(), "imported": imported}


def import_exports(source: Engine, target: Engine, ctx: DemoContext) -> dict[str, int]:
    """Import the :data:`IMPORTED_TABLES` of the demo's source store into the workspace through ``import_frame``."""
    from analytics.sources.imports import import_frame

    loaded: dict[str, int] = {}
    for name in IMPORTED_TABLES:
        table = metadata.tables[name]
        stmt = sa.select(table)
        if name == "activity_events":
            stmt = stmt.where(table.c.kind != "message")  # chat messages came over the Whop API
        loaded[name] = 0
        with source.connect() as conn:
            result = conn.execution_options(yield_per=CHUNK_ROWS).execute(stmt)
            for rows in result.partitions():
                frame = pd.DataFrame(rows, columns=list(result.keys()))
                report = import_frame(target, name, frame, source=f"demo export of {name}", clock=ctx.clock)
                loaded[name] += report.loaded
    return loaded


def snapshots_step(ctx: DemoContext) -> Mapping[str, Any]:
    """12 months of daily snapshots, and the weekly and monthly ones, up to the demo's last complete day."""
    from analytics.snapshots import backfill_snapshots

    last = ctx.end - timedelta(days=1)
    written: dict[str, int] = {}
    for period in ("daily", "weekly", "monthly"):
        frame = backfill_snapshots(
            ctx.engine,
            period=period,
            months=SNAPSHOT_MONTHS,
            end=last,
            accounts=ctx.account_ids,
            clock=ctx.clock,
            progress=ctx.progress,
        )
        written[period] = len(frame)
    return {"snapshots": written, "through": last.isoformat()}


register_step("load", sync_step, after="init")
register_step("snapshots", snapshots_step, after="load")
register_step("churn", churn_step, after="snapshots")
register_step("page_data", page_data_step, after="churn")
register_step("reports", reports_step, after="page_data")
