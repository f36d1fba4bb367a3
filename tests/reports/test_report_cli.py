"""The command line: `analytics run`, `analytics dashboard-link` (and `analytics dashboards --help`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from analytics.auth import verify_dashboard_token
from analytics.cli import cli
from analytics.settings import Secret, Settings

KEY = "reports-test-secret-key-0123456789"


@pytest.fixture
def env(workspace_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("ANALYTICS_SECRET_KEY", KEY)
    monkeypatch.setenv("ANALYTICS_CONFIG", "")
    monkeypatch.delenv("ANALYTICS_DATABASE_URL", raising=False)
    return {"workspace": str(workspace_settings.workspace)}


def test_dashboard_link_prints_signed_links(one_account_store: Engine, env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--workspace",
            env["workspace"],
            "dashboard-link",
            "--account",
            "biz_tiny",
            "--expires",
            "2h",
            "--base-url",
            "https://dash.example.com",
            "--dashboard",
            "overview",
            "--dashboard",
            "revenue",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert [name for name, _ in lines] == ["overview", "revenue"]
    url = urlparse(lines[0][1])
    assert (url.scheme, url.netloc, url.path) == ("https", "dash.example.com", "/voila/render/overview.ipynb")
    claims = verify_dashboard_token(Secret(KEY), parse_qs(url.query)["token"][0])
    assert claims.account_id == "biz_tiny"


def test_dashboard_link_refuses_an_unknown_account(one_account_store: Engine, env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["--workspace", env["workspace"], "dashboard-link", "--account", "biz_nope"])
    assert result.exit_code == 1
    assert "account 'biz_nope' is not in the store" in result.output


def test_run_command_runs_a_schedule(
    one_account_store: Engine,
    env: dict[str, str],
    tmp_path: Path,
    notebook_writer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = tmp_path / "project"
    notebook_writer(
        project / "notebooks" / "hello.ipynb",
        "print('hello', account_id)",
        parameters='account_id: str = ""  # account',
    )
    (project / "params").mkdir()
    (project / "params" / "daily.yaml").write_text("steps:\n  - notebook: hello\n", encoding="utf-8")
    monkeypatch.setenv("ANALYTICS_PROJECT_DIR", str(project))
    result = CliRunner().invoke(cli, ["--workspace", env["workspace"], "run", "daily", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "daily run for biz_tiny:" in result.stdout
    [executed] = list(Path(env["workspace"]).glob("runs/*/daily/biz_tiny/hello.ipynb"))
    assert "hello biz_tiny" in executed.read_text()


def test_dashboards_command_documents_its_options() -> None:
    result = CliRunner().invoke(cli, ["dashboards", "--help"])
    assert result.exit_code == 0 and "--pool-size" in result.stdout and "--port" in result.stdout
