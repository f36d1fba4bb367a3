"""CSV that is safe to open in a spreadsheet (placeholder until the exports branch lands; same API)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["csv_text", "neutralise", "write_csv"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell starting with a formula trigger gets a leading single quote; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV text with text cells neutralised (numbers stay numbers)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    return str(safe.to_csv(index=False))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write :func:`csv_text` of ``frame`` to ``path``."""
    path.write_text(csv_text(frame), encoding="utf-8")
