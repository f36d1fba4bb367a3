"""Scheduled runs: notebooks executed by Papermill per account, exported, recorded, and failing loudly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import fixed_clock
from analytics.errors import ConfigError, ReportError
from analytics.reports.export import read_notebook, report_tables
from analytics.reports.runner import load_schedule, run_schedule
from analytics.settings import Settings
from analytics.store.schema import job_runs

RUN_DAY = fixed_clock(datetime(2025, 2, 3, 6, 0, tzinfo=UTC))

PARAMS = 'account_id: str = ""  # Whop account (biz_…)\nlabel: str = "none"  # a label to echo'
# The notebook reads the account row through the same settings the runner has (passed by environment).
READ_ACCOUNT = """
import pandas as pd, sqlalchemy as sa, analytics
from analytics.store.schema import accounts
from analytics.reports import show_table
engine = analytics.connect()
with engine.connect() as conn:
    row = conn.execute(sa.select(accounts.c.title, accounts.c.time_zone).where(accounts.c.id == account_id)).one()
show_table("account", pd.DataFrame({"id": [account_id], "title": [row.title], "label": [label]}), title="Account")
"""


@pytest.fixture
def project(tmp_path: Path, notebook_writer: Any) -> Path:
    write_notebook = notebook_writer
    root = tmp_path / "project"
    write_notebook(root / "notebooks" / "echo.ipynb", READ_ACCOUNT, parameters=PARAMS)
    write_notebook(root / "notebooks" / "broken.ipynb", "x = 1", "y = 1 / 0  # the failing cell", parameters=PARAMS)
    (root / "params").mkdir()
    (root / "params" / "test.yaml").write_text(
        "description: echo then report\nsteps:\n  - notebook: echo\n    parameters: {label: first}\n"
        "  - notebook: echo\n    export: true\n    parameters: {label: report}\n",
        encoding="utf-8",
    )
    (root / "params" / "failing.yaml").write_text(
        "steps:\n  - notebook: echo\n  - notebook: broken\n", encoding="utf-8"
    )
    return root


def test_run_executes_notebooks_with_parameters_and_exports_the_report(
    project: Path, one_account_store: Engine, workspace_settings: Settings
) -> None:
    [result] = run_schedule(workspace_settings, "test", root=project, clock=RUN_DAY, progress=False)
    run_dir = workspace_settings.workspace.resolve() / "runs" / "2025-02-03" / "test" / "biz_tiny"
    assert result.run_dir == run_dir and result.account_id == "biz_tiny"
    # the notebook ran in a kernel that found the same store and account, with the step's parameters
    table = report_tables(read_notebook(run_dir / "echo.ipynb"))["account"]
    assert table.to_dict("records") == [{"id": "biz_tiny", "title": "Tiny Academy", "label": "report"}]
    assert json.loads((run_dir / "report" / "tables" / "account.json").read_text())["table"]["data"][0]["label"] == (
        "report"
    )
    assert (run_dir / "report" / "tables" / "account.csv").read_text().splitlines() == [
        "id,title,label",
        "biz_tiny,Tiny Academy,report",
    ]
    assert result.reports["echo.html"].is_file() and result.reports["echo.pdf"].read_bytes()[:5] == b"%PDF-"
    with one_account_store.connect() as conn:
        job = conn.execute(sa.select(job_runs).where(job_runs.c.id == result.job_run_id)).one()
    assert (job.kind, job.status, job.account_id) == ("run", "succeeded", "biz_tiny")
    assert job.params["schedule"] == "test" and job.summary["run_dir"] == str(run_dir)


def test_failed_cell_fails_the_run_naming_notebook_and_cell(
    project: Path, one_account_store: Engine, workspace_settings: Settings
) -> None:
    with pytest.raises(ReportError) as caught:
        run_schedule(workspace_settings, "failing", root=project, clock=RUN_DAY, progress=False)
    message = str(caught.value)
    # cell 3 of the committed notebook (parameters, x = 1, y = 1 / 0); In [4] after Papermill's injected cell
    assert "failing run for biz_tiny: notebook broken.ipynb failed in cell 3 (In [4]: 'y = 1 / 0" in message
    assert "ZeroDivisionError: division by zero" in message
    base = workspace_settings.workspace.resolve() / "runs" / "2025-02-03" / "failing"
    assert f"the executed notebook is {base / 'biz_tiny.failed' / 'broken.ipynb'}" in message
    assert not (base / "biz_tiny").exists()  # no half-written run folder
    assert (base / "biz_tiny.failed" / "broken.ipynb").is_file()  # the evidence is kept
    with one_account_store.connect() as conn:
        job = conn.execute(sa.select(job_runs).where(job_runs.c.kind == "run")).one()
    assert job.status == "failed" and "broken.ipynb" in job.error


def test_schedule_files_are_checked(project: Path, one_account_store: Engine, workspace_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="known schedules: failing, test"):
        load_schedule("hourly", project / "params")
    (project / "params" / "bad.yaml").write_text("steps:\n  - notebook: echo\n    parameters: {nope: 1}\n")
    with pytest.raises(ConfigError, match="echo has no parameter\\(s\\) nope"):
        run_schedule(workspace_settings, "bad", root=project, clock=RUN_DAY, progress=False)
    with pytest.raises(ConfigError, match="account 'biz_other' is not in the store"):
        run_schedule(workspace_settings, "test", account="biz_other", root=project, clock=RUN_DAY, progress=False)


def test_demo_reports_run_and_sign_links_with_a_workspace_key(
    project: Path, one_account_store: Engine, workspace_settings: Settings
) -> None:
    from analytics.auth import verify_dashboard_token
    from analytics.reports.demo import run_demo_reports
    from analytics.settings import Secret

    (project / "params" / "weekly.yaml").write_text("steps:\n  - notebook: echo\n    export: true\n", encoding="utf-8")
    keyless = workspace_settings.replace(secret_key=None)  # a fresh machine: no ANALYTICS_SECRET_KEY
    result = run_demo_reports(keyless, engine=one_account_store, root=project, clock=RUN_DAY, progress=False)
    key_file = keyless.workspace.resolve() / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    [link] = [result.links["biz_tiny"]["overview"]]
    assert link.startswith("http://127.0.0.1:8866/voila/render/overview.ipynb?token=")
    token = link.split("token=")[1]
    claims = verify_dashboard_token(Secret(key_file.read_text()), token, clock=RUN_DAY)
    assert claims.account_id == "biz_tiny"
    assert result.report_paths["biz_tiny"]["echo.pdf"].is_file()
    summary = result.summary()
    assert "echo.html" in summary and "overview" in summary and str(key_file) in summary
    assert result.server is None
