"""``analytics demo`` builds a workspace and prints the rows per table; the pipeline takes plug-in steps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from analytics.cli import cli
from analytics.cli.context import CliContext
from analytics.cli.demo_commands import make_demo_command
from analytics.clock import fixed_clock
from analytics.demo import pipeline
from analytics.errors import ConfigError
from analytics.settings import Settings
from analytics.store import create_store_engine


def test_demo_command_builds_the_workspace_as_of_today(tmp_path: Path) -> None:
    # The default --end is "today" from the injected clock: 2026-03-05 (any time of that UTC day).
    command = make_demo_command(fixed_clock(datetime(2026, 3, 5, 17, 30, tzinfo=UTC)))
    settings = Settings(workspace=tmp_path / "ws")
    result = CliRunner().invoke(command, ["--size", "tiny", "--seed", "3", "--no-progress"], obj=CliContext(settings))
    assert result.exit_code == 0, result.output
    assert "as of 2026-03-05 00:00 UTC" in result.output
    assert f"workspace: {(tmp_path / 'ws').resolve()}" in result.output
    lines = {line.split()[0]: line.split()[-1] for line in result.output.splitlines() if line.strip()}
    assert lines["members"] == "160" and int(lines["activity_events"].replace(",", "")) > 1000
    engine = create_store_engine(f"sqlite:///{tmp_path / 'ws' / 'analytics.db'}")
    with engine.connect() as conn:
        last = conn.execute(sa.text("SELECT max(occurred_at) FROM activity_events")).scalar_one()
    engine.dispose()
    assert last < datetime(2026, 3, 5, tzinfo=UTC).timestamp() * 1_000_000  # SQLite keeps epoch microseconds


def test_workspace_option_on_the_group_and_on_the_command(tmp_path: Path) -> None:
    runner = CliRunner()
    for args, folder in (
        (["--workspace", str(tmp_path / "a"), "demo"], "a"),
        (["demo", "--workspace", str(tmp_path / "b")], "b"),
    ):
        result = runner.invoke(cli, [*args, "--size", "tiny", "--end", "2026-01-31", "--step", "init", "--no-progress"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / folder / "analytics.db").exists()
        assert "as of 2026-01-31" in result.output


def test_unknown_step_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path), "demo", "--size", "tiny", "--step", "nope"])
    assert result.exit_code == 1
    assert "unknown demo step(s) nope; known: init, load" in result.output


def test_plug_in_steps_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the foundation's steps only (later stages register theirs from STEP_MODULES)
    monkeypatch.setattr(pipeline, "_STEPS", {"init": pipeline._init_step, "load": pipeline._load_step})
    monkeypatch.setattr(pipeline, "STEP_MODULES", ())
    seen: list[str] = []
    pipeline.register_step("report", lambda ctx: seen.append("report") or {"ok": True})
    pipeline.register_step("sync", lambda ctx: seen.append(f"sync {ctx.account_ids[0][:4]}") or {}, after="load")
    assert pipeline.registered_steps() == ("init", "load", "sync", "report")
    summary = pipeline.run_demo(
        Settings(workspace=tmp_path),
        size="tiny",
        steps=["init", "sync", "report"],
        progress=False,
        clock=fixed_clock(datetime(2026, 1, 1, tzinfo=UTC)),
    )
    assert seen == ["sync biz_", "report"]
    assert summary.steps["report"] == {"ok": True} and summary.row_counts["members"] == 0
    with pytest.raises(ConfigError, match="unknown demo step"):
        pipeline.run_demo(Settings(workspace=tmp_path), size="tiny", steps=["nope"])
