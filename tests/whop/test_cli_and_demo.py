"""The Whop commands through the real CLI, and the demo path (fake API → HTTP sync → signed webhooks)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from compare import differences
from sqlalchemy.engine import Engine

from analytics.cli import cli
from analytics.settings import Settings
from analytics.sources.whop.serving import RunningServer
from analytics.store import create_store_engine
from analytics.store.schema import job_runs, memberships, webhook_inbox
from conftest import API_KEY


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_server: RunningServer) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.delenv("ANALYTICS_CONFIG", raising=False)
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", url)
    monkeypatch.setenv("WHOP_API_BASE_URL", f"{fake_server.url}/api/v1")
    monkeypatch.setenv("WHOP_API_KEY", API_KEY)
    monkeypatch.setenv("ANALYTICS_SYNC_REQUESTS_PER_SECOND", "1000")
    return url


def test_analytics_sync_prints_a_summary_and_keeps_the_key_out_of_it(env: str, source_engine: Engine) -> None:
    result = CliRunner().invoke(cli, ["sync", "--account", "biz_tiny", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "memberships" in result.output and API_KEY not in result.output
    target = create_store_engine(env)
    try:
        assert differences(source_engine, target) == {}
        with target.connect() as conn:
            params = conn.execute(sa.select(job_runs.c.params)).scalar_one()
        assert API_KEY not in str(params)
    finally:
        target.dispose()


def test_analytics_sync_without_a_key_says_what_to_set(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHOP_API_KEY")
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 1 and "WHOP_API_KEY is not set" in result.output


def test_analytics_webhooks_reprocess(env: str) -> None:
    target = create_store_engine(env)
    try:
        CliRunner().invoke(cli, ["init"])
        with target.begin() as conn:
            conn.execute(
                webhook_inbox.insert().values(
                    id="whop:msg_1",
                    source="whop",
                    account_id="biz_tiny",
                    event_type="invoice.created",
                    received_at=datetime(2025, 1, 1, tzinfo=UTC),
                    headers={},
                    body='{"type": "invoice.created", "account_id": "biz_tiny", "data": {}}',
                    status="received",
                )
            )
        result = CliRunner().invoke(cli, ["webhooks", "reprocess"])
        assert result.exit_code == 0, result.output
        assert "replayed 1 deliveries: ignored 1" in result.output and "invoice.created" in result.output
    finally:
        target.dispose()


def test_sync_demo_serves_syncs_and_delivers_webhooks(tmp_path: Path) -> None:
    pytest.importorskip("analytics.demo.load", reason="the demo generator (branch demo) is not merged yet")
    from analytics.sources.whop.demo import sync_demo

    settings = Settings(workspace=tmp_path)
    result = sync_demo(settings, size="tiny", seed=3, end=date(2025, 6, 30), days=2, progress=False)
    assert result.full_sync.totals().inserted > 1000 and result.full_sync.totals().quarantined == 0
    assert result.advance is not None and result.advance.delivered == len(result.advance.events) > 0
    assert result.webhooks.get("processed") == result.advance.delivered
    target = create_store_engine(settings.database_url)
    try:
        with target.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(memberships)).scalar_one() > 0
    finally:
        target.dispose()
