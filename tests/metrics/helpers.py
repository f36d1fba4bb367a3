"""Small helpers for metric tests: run a metric by name and read columns as plain lists."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from analytics.metrics import compute


def run(
    engine: sa.Engine, name: str, account: str, start: str, end: str, grain: str = "month", **kw: Any
) -> pd.DataFrame:
    return compute(name, engine, account, start, end, grain, **kw)


def col(frame: pd.DataFrame, name: str) -> list[Any]:
    """A column as a list of plain Python values (NaN → None)."""
    values = frame[name].astype(object).where(frame[name].notna(), None).tolist()
    return [v.item() if hasattr(v, "item") else v for v in values]


def days(frame: pd.DataFrame, name: str = "period_start") -> list[str]:
    return [ts.strftime("%Y-%m-%d") for ts in frame[name]]
