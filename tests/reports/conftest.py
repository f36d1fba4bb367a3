"""Fixtures for reports and dashboards: a tiny store with one account, and notebooks written on the fly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from sqlalchemy.engine import Engine

from analytics.settings import Secret, Settings
from analytics.store import create_store_engine, init_store, upsert_rows
from analytics.store.schema import accounts

SECRET = "reports-test-secret-key-0123456789"


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
