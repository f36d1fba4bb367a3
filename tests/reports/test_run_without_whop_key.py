"""A workspace without Whop credentials (the demo's) runs its schedules: the sync step is skipped with a note.

The schedule is the committed sync notebook followed by a small notebook reading the store, as ``weekly`` is
sync → snapshot → report; without ``WHOP_API_KEY`` the sync notebook used to fail the whole run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from analytics.cli import cli
from analytics.reports.runner import run_schedule
from analytics.settings import Settings
from analytics.store.schema import job_runs

ROOT = Path(__file__).resolve().parents[2]
PARAMS = 'account_id: str = ""  # Whop account (biz_…)'
COUNT_ACCOUNTS = """
import analytics, sqlalchemy as sa
from analytics.store.schema import accounts
with analytics.connect().connect() as conn:
    print("accounts in the store:", conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())
"""
NOTE = "sync skipped: WHOP_API_KEY is not set"


@pytest.fixture
def project(tmp_path: Path, notebook_writer: Any) -> Path:
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "sync.ipynb", root / "notebooks" / "sync.ipynb")
    notebook_writer(root / "notebooks" / "count.ipynb", COUNT_ACCOUNTS, parameters=PARAMS)
    (root / "params").mkdir()
    (root / "params" / "weekly.yaml").write_text("steps:\n  - notebook: sync\n  - notebook: count\n", encoding="utf-8")
    return root


def test_the_sync_step_is_skipped_with_a_note_and_the_run_completes(
    project: Path, one_account_store: Engine, workspace_settings: Settings
) -> None:
    assert workspace_settings.whop_api_key is None
    [result] = run_schedule(workspace_settings, "weekly", root=project, progress=False)
    [note] = result.notes
    assert note.startswith(NOTE) and "The other steps ran on the data already in the store." in note
    assert [s.notebook for s in result.steps] == ["count"]
    assert "accounts in the store: 1" in (result.run_dir / "count.ipynb").read_text()
    assert not (result.run_dir / "sync.ipynb").exists()
    assert (result.run_dir / "sync.skipped.txt").read_text().strip() == note
    with one_account_store.connect() as conn:
        job = conn.execute(sa.select(job_runs).where(job_runs.c.id == result.job_run_id)).one()
    assert job.status == "succeeded" and job.summary["notes"] == [note]


def test_analytics_run_prints_the_note(
    project: Path, one_account_store: Engine, workspace_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANALYTICS_PROJECT_DIR", str(project))
    for name in ("WHOP_API_KEY", "ANALYTICS_DATABASE_URL", "ANALYTICS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    workspace = str(workspace_settings.workspace)
    result = CliRunner().invoke(cli, ["--workspace", workspace, "run", "weekly", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "weekly run for biz_tiny:" in result.stdout and f"note: {NOTE}" in result.stdout
