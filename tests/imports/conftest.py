"""Fixtures for the import tests: a store with one creator account."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from import_testkit import ACCOUNT
from sqlalchemy.engine import Engine

from analytics.sources import import_frame


@pytest.fixture
def store(engine: Engine) -> Iterator[Engine]:
    """A migrated store (SQLite and PostgreSQL) holding the one account ``biz_demo``."""
    import_frame(engine, "accounts", pd.DataFrame({"id": [ACCOUNT], "title": ["Demo Creator"]}))
    yield engine
