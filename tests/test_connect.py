"""`analytics.connect()` finds the project's store from any folder of the project and never creates one silently.

The project in these tests is a folder holding ``notebooks/``, ``params/`` and ``workspace/analytics.db`` (as a
checkout after ``analytics demo``); a notebook kernel opened from ``notebooks/`` starts there, with no
``ANALYTICS_WORKSPACE`` in its environment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import analytics
from analytics.cli import cli
from analytics.errors import StoreNotFoundError
from analytics.settings import Settings, load_settings
from analytics.store import create_store_engine, current_revision, head_revision, init_store


@pytest.fixture(autouse=True)
def _no_configured_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No workspace or store from the environment or from a config file in the real home folder."""
    for name in ("ANALYTICS_WORKSPACE", "ANALYTICS_DATABASE_URL", "ANALYTICS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def make_project(root: Path, *, with_store: bool = True) -> Path:
    """A project folder; with ``with_store``, its ``workspace/analytics.db`` is a migrated store."""
    for folder in ("notebooks/drafts", "params", "workspace"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    if with_store:
        engine = create_store_engine(f"sqlite:///{root / 'workspace' / 'analytics.db'}")
        init_store(engine)
        engine.dispose()
    return root


@pytest.mark.parametrize("start", [".", "notebooks", "notebooks/drafts"])
def test_connect_from_any_folder_of_the_project_opens_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    project = make_project(tmp_path / "project")
    monkeypatch.chdir(project / start)
    engine = analytics.connect()
    try:
        assert Path(str(engine.url.database)) == project / "workspace" / "analytics.db"
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    # the defect: a kernel started in notebooks/ created notebooks/workspace/analytics.db
    assert not (project / "notebooks" / "workspace").exists()
    assert not (project / "notebooks" / "drafts" / "workspace").exists()


def test_settings_name_the_found_workspace_absolutely(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    settings = load_settings({}, config_file=tmp_path / "absent.toml", cwd=project / "notebooks")
    assert settings.workspace == project / "workspace"
    assert settings.database_url == f"sqlite:///{project / 'workspace' / 'analytics.db'}"


def test_no_store_anywhere_is_an_error_naming_the_paths_and_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "project", with_store=False)
    (project / ".git").mkdir()  # the project's top folder: the search stops here
    outside = tmp_path / "workspace"  # a store above the project belongs to something else
    outside.mkdir()
    create_store_engine(f"sqlite:///{outside / 'analytics.db'}").dispose()
    monkeypatch.chdir(project / "notebooks")
    with pytest.raises(StoreNotFoundError) as caught:
        analytics.connect()
    message = str(caught.value)
    # looked at: notebooks/workspace, then the project's workspace; never above the project's top folder
    for looked in (project / "notebooks" / "workspace" / "analytics.db", project / "workspace" / "analytics.db"):
        assert str(looked) in message
    assert str(outside / "analytics.db") not in message
    assert "`analytics init`" in message and "`analytics demo`" in message
    assert not (project / "notebooks" / "workspace").exists()
    assert not (project / "workspace" / "analytics.db").exists()


def test_a_missing_configured_store_is_an_error_not_a_new_empty_file(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "elsewhere")
    with pytest.raises(StoreNotFoundError, match=r"no store at .*elsewhere/analytics\.db; looked at"):
        analytics.connect(settings)
    assert not (tmp_path / "elsewhere").exists()


def test_create_makes_the_store_when_asked(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "fresh")
    engine = analytics.connect(settings, create=True)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert (tmp_path / "fresh" / "analytics.db").is_file()


def test_analytics_init_still_creates_the_store_that_connect_then_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "project", with_store=False)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert (project / "workspace" / "analytics.db").is_file()
    monkeypatch.chdir(project / "notebooks")
    engine = analytics.connect()
    try:
        assert Path(str(engine.url.database)) == project / "workspace" / "analytics.db"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_empty_postgres_database_is_not_turned_into_a_store_silently(postgres_schema_url: str) -> None:
    settings = Settings(database_url=postgres_schema_url)
    with pytest.raises(StoreNotFoundError, match=r"holds no analytics store yet.*`analytics init`"):
        analytics.connect(settings)
    probe = create_store_engine(postgres_schema_url)
    try:
        assert current_revision(probe) is None  # nothing was created
        init_store(probe)
    finally:
        probe.dispose()
    engine = analytics.connect(settings)
    engine.dispose()
