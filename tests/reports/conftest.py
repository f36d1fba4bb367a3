"""Fixtures for reports and dashboards: the tiny demo business in a workspace (SQLite, and PostgreSQL in a
throw-away schema), a one-account store, notebooks written on the fly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import nbformat
import pytest
from sqlalchemy.engine import Engine

from analytics.settings import Secret, Settings
from analytics.store import create_store_engine, init_store, upsert_rows
from analytics.store.schema import accounts
from store_fixtures import postgres_schema

SECRET = "reports-test-secret-key-0123456789"
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
"""Parameters of fixtures that give the demo workspace on each engine (see :func:`demo_on`)."""
DEMO_END = date(2025, 7, 1)  # the tiny demo business (seed 7) as of 1 July 2025, 00:00 UTC
AS_OF = date(2025, 6, 30)  # reports cover the week of 23–29 June and the month of June 2025


@dataclass(frozen=True)
class DemoWorkspace:
    settings: Settings
    engine: Engine
    account_id: str


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorkspace]:
    """A SQLite workspace holding the tiny demo business (160 members), shared by the report and dashboard tests.

    Tests that write into it (runs, snapshots) only add periods of their own; nothing deletes data.
    """
    from analytics.demo.load import load_demo

    settings = Settings(workspace=tmp_path_factory.mktemp("demo") / "workspace", secret_key=Secret(SECRET))
    settings.workspace.mkdir(parents=True)
    engine = create_store_engine(settings.database_url)
    init_store(engine)
    load_demo(engine, seed=7, size="tiny", end=DEMO_END, progress=False)
    with engine.connect() as conn:
        account_id = conn.execute(accounts.select()).one().id
    yield DemoWorkspace(settings, engine, account_id)
    engine.dispose()


@pytest.fixture(scope="session")
def demo_workspace_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorkspace]:
    """The same tiny demo business in a throw-away PostgreSQL schema (dropped at the end of the session).

    The workspace folder (runs, logs) is local; the store URL names the schema through ``search_path``, so
    notebook kernels and the dashboard server, which get the URL through their environment, use it too.
    """
    from analytics.demo.load import load_demo

    with postgres_schema("r") as url:
        settings = Settings(
            workspace=tmp_path_factory.mktemp("demo-pg") / "workspace", database_url=url, secret_key=Secret(SECRET)
        )
        settings.workspace.mkdir(parents=True)
        engine = create_store_engine(settings.database_url)
        try:
            init_store(engine)
            load_demo(engine, seed=7, size="tiny", end=DEMO_END, progress=False)
            with engine.connect() as conn:
                account_id = conn.execute(accounts.select()).one().id
            yield DemoWorkspace(settings, engine, account_id)
        finally:
            engine.dispose()


def demo_on(request: pytest.FixtureRequest) -> DemoWorkspace:
    """The demo workspace on the engine named by ``request.param`` (for fixtures parametrized with ENGINES)."""
    name = "demo_workspace" if request.param == "sqlite" else "demo_workspace_pg"
    demo: DemoWorkspace = request.getfixturevalue(name)
    return demo


def write_notebook(path: Path, *cells: str, parameters: str | None = None) -> Path:
    """A notebook with an optional ``parameters`` cell followed by code cells (committed notebooks look alike)."""
    nb = nbformat.v4.new_notebook()
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def notebook_writer() -> object:
    """:func:`write_notebook`, for tests that build notebooks."""
    return write_notebook


@pytest.fixture
def workspace_settings(tmp_path: Path) -> Settings:
    """Settings of a fresh SQLite workspace in tmp_path, with a dashboard secret key."""
    return Settings(workspace=tmp_path / "workspace", secret_key=Secret(SECRET))


@pytest.fixture
def one_account_store(workspace_settings: Settings) -> Iterator[Engine]:
    """The workspace's store with one account, ``biz_tiny`` ("Tiny Academy", Europe/Paris, EUR)."""
    workspace_settings.workspace.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(workspace_settings.database_url)
    init_store(engine)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        upsert_rows(
            conn,
            accounts,
            [
                {
                    "id": "biz_tiny",
                    "title": "Tiny Academy",
                    "time_zone": "Europe/Paris",
                    "reporting_currency": "eur",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
    yield engine
    engine.dispose()
