"""The sync notebook pulls an account from a (fake) Whop API over real HTTP into the workspace store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from analytics.demo.load import load_demo
from analytics.reports.export import read_notebook, report_tables
from analytics.reports.runner import execute_notebook
from analytics.settings import Settings
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.serving import serve_in_thread
from analytics.store import create_store_engine, init_store
from analytics.store.schema import accounts, job_runs, members, payments
from conftest import DEMO_END

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "sync.ipynb"


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_sync_notebook_copies_the_account(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On each engine (``store_url``: a SQLite file, or a throw-away PostgreSQL schema)."""
    source = create_store_engine(f"sqlite:///{tmp_path / 'whop-source.db'}")
    init_store(source)
    load_demo(source, seed=7, size="tiny", end=DEMO_END, progress=False)
    with source.connect() as conn:
        account_id = conn.execute(sa.select(accounts.c.id)).scalar_one()
    settings = Settings(workspace=tmp_path / "workspace", database_url=store_url)
    target = create_store_engine(settings.database_url)
    init_store(target)  # `analytics init` (or the runner) creates the store: the notebook only opens it
    target.dispose()
    with serve_in_thread(FakeWhop(source, api_key="sync-notebook-key").app) as api:
        # the key reaches the kernel through the environment only, never as a parameter
        monkeypatch.setenv("WHOP_API_BASE_URL", f"{api.url}/api/v1")
        monkeypatch.setenv("WHOP_API_KEY", "sync-notebook-key")
        out = execute_notebook(NOTEBOOK, tmp_path / "run" / "sync.ipynb", {"account_id": account_id}, settings=settings)
    nb = read_notebook(out)
    assert "sync-notebook-key" not in out.read_text()
    table = report_tables(nb)["sync"].set_index("resource")
    target = create_store_engine(settings.database_url)
    try:
        assert count(target, members) == count(source, members) > 0
        assert count(target, payments) == count(source, payments) > 0
        assert table.loc["total", "quarantined"] == 0
        assert table.loc["total", "fetched"] >= count(source, members) + count(source, payments)
        with target.connect() as conn:
            sync_runs = conn.execute(sa.select(job_runs.c.status).where(job_runs.c.kind == "sync")).scalars().all()
        assert sync_runs == ["succeeded"]
    finally:
        target.dispose()
        source.dispose()
