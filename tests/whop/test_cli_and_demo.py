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
from analytics.demo.load import load_demo
from analytics.settings import Settings
from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.demo import sync_demo
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.serving import RunningServer, serve_in_thread
from analytics.sources.whop.sync import sync_whop
from analytics.store import create_store_engine, init_store
from analytics.store.schema import accounts, job_runs, membership_status_changes, memberships, webhook_inbox
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


def test_analytics_webhooks_reprocess_attempts_every_delivery_and_ends_with_a_summary(env: str) -> None:
    """The second of three stored deliveries has "timestamp": 1e20: it is marked failed with its reason, the third
    is still replayed, and the command exits 1 with a summary instead of a traceback."""
    target = create_store_engine(env)
    bodies = [
        '{"type": "invoice.created", "account_id": "biz_tiny", "data": {}}',
        '{"type": "membership.activated", "account_id": "biz_tiny", "timestamp": 1e20, "data": {}}',
        '{"type": "invoice.paid", "account_id": "biz_tiny", "data": {}}',
    ]
    try:
        CliRunner().invoke(cli, ["init"])
        with target.begin() as conn:
            for n, body in enumerate(bodies, start=1):
                conn.execute(
                    webhook_inbox.insert().values(
                        id=f"whop:msg_{n}",
                        source="whop",
                        account_id="biz_tiny",
                        event_type=body.split('"')[3],
                        received_at=datetime(2025, 1, 1, n, tzinfo=UTC),
                        headers={},
                        body=body,
                        status="received",
                    )
                )
        result = CliRunner().invoke(cli, ["webhooks", "reprocess"])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        lines = result.output.splitlines()
        assert lines[0] == "whop:msg_1  invoice.created  ignored  unhandled event type 'invoice.created'"
        assert lines[1].startswith("whop:msg_2  membership.activated  failed  DataValidationError: column 'timestamp'")
        assert lines[2] == "whop:msg_3  invoice.paid  ignored  unhandled event type 'invoice.paid'"
        assert lines[3] == "replayed 3 deliveries: failed 1, ignored 2"
        assert "1 of 3 deliveries failed" in result.output and "Traceback" not in result.output
    finally:
        target.dispose()


def test_sync_demo_serves_syncs_and_delivers_webhooks(tmp_path: Path) -> None:
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


def test_a_full_sync_of_the_demo_business_equals_it_history_included(engine: Engine, tmp_path: Path) -> None:
    """The generated demo business (tiny), served by the fake and synced over HTTP, arrives record for record —
    and the membership history derived from the synced memberships and payments equals the generated one."""
    source = create_store_engine(f"sqlite:///{tmp_path}/demo-source.db")
    init_store(source)
    load_demo(source, seed=11, size="tiny", end=date(2025, 6, 30), progress=False)
    with source.connect() as conn:
        ids = list(conn.execute(sa.select(accounts.c.id)).scalars())
    fake = FakeWhop(source, api_key=API_KEY)
    with (
        serve_in_thread(fake.app) as server,
        WhopClient(f"{server.url}/api/v1", API_KEY, requests_per_second=1000) as client,
    ):
        result = sync_whop(engine, client, ids, full=True, progress=False)
    assert result.totals().quarantined == 0
    h = membership_status_changes
    history = sa.select(
        h.c.membership_id, h.c.changed_at, h.c.status, h.c.plan_id, h.c.renewal_price_minor, h.c.cancel_at_period_end
    ).order_by(h.c.membership_id, h.c.changed_at, h.c.id)
    with source.connect() as want, engine.connect() as got:
        assert [tuple(r) for r in got.execute(history)] == [tuple(r) for r in want.execute(history)]
    for account_id in ids:
        assert differences(source, engine, account_id) == {}
    source.dispose()


@pytest.mark.slow
def test_fake_whop_and_webhooks_commands_serve_over_http(tmp_path: Path, source_engine: Engine) -> None:
    """``analytics fake-whop`` and ``analytics webhooks`` as real processes on free loopback ports."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from analytics.sources.whop.signatures import sign_standard

    def port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def wait(url: str, headers: dict[str, str]) -> None:
        for _ in range(300):
            try:
                httpx.get(url, headers=headers, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"{url} did not come up")

    env = {**os.environ, "WHOP_API_KEY": "cli-key", "WHOP_WEBHOOK_SECRET": "ws_cli_secret"}
    env.pop("ANALYTICS_CONFIG", None)
    main = [
        sys.executable,
        "-c",
        "from analytics.cli import main; main()",
        "--database-url",
        f"sqlite:///{tmp_path}/t.db",
    ]
    api_port, hook_port = port(), port()
    source_url = source_engine.url.render_as_string(hide_password=False)
    procs = [
        subprocess.Popen([*main, "fake-whop", "--source-url", source_url, "--port", str(api_port)], env=env),
        subprocess.Popen([*main, "webhooks", "--port", str(hook_port)], env=env, stderr=subprocess.DEVNULL),
    ]
    try:
        headers = {"Authorization": "Bearer cli-key"}
        wait(f"http://127.0.0.1:{api_port}/_fake/stats", headers)
        page = httpx.get(
            f"http://127.0.0.1:{api_port}/api/v1/memberships", params={"account_id": "biz_tiny"}, headers=headers
        )
        assert page.status_code == 200 and len(page.json()["data"]) == 7
        hook = f"http://127.0.0.1:{hook_port}/webhooks/whop"
        wait(f"{hook}/stats", {})
        body = '{"id": "msg_c", "type": "invoice.created", "account_id": "biz_tiny", "data": {}}'
        answer = httpx.post(
            hook, content=body, headers=sign_standard("ws_cli_secret", "msg_c", body, datetime.now(UTC))
        )
        assert answer.json() == {"status": "ignored"}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
