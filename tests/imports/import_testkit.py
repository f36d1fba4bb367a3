"""What the import tests share: the demo account id, tiny-file writers and a table reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

ACCOUNT = "biz_demo"


def write_csv(path: Path, text: str) -> Path:
    """Write CSV text as UTF-8 (leading indentation of the test's triple-quoted string removed)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table_rows(engine: Engine, table: str) -> pd.DataFrame:
    """Every row of a table, ordered by its key, with the store's types (aware UTC datetimes, ints)."""
    from analytics.store.schema import metadata

    t = metadata.tables[table]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=list(t.c.keys()))
