"""Small, vectorised clean-ups of query results: exact integer columns, UTC timestamps from epoch seconds, rates.

Drivers hand numbers back differently (PostgreSQL ``numeric`` as ``Decimal``, DuckDB as numpy types, SQLite as
Python ints); metric frames always leave here with ``int64``/``float64`` columns so results compare equal across
engines.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["as_float", "as_int", "half_up", "rate_pct", "seconds_to_timestamp"]


def as_int(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Make ``columns`` ``int64`` (missing values become 0: they are counts)."""
    for name in columns:
        column = frame[name]
        if column.dtype == "int64":
            continue
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
            frame[name] = column.fillna(0).astype("int64")
        else:  # Decimal objects (PostgreSQL numeric), None, strings of digits
            frame[name] = pd.to_numeric(column.astype("object"), errors="coerce").fillna(0).astype("int64")
    return frame


def as_float(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Make ``columns`` ``float64`` (missing values stay NaN)."""
    for name in columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column.dtype) and column.dtype == "float64":
            continue
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
            frame[name] = column.astype("float64")
        else:
            frame[name] = pd.to_numeric(column.astype("object"), errors="coerce").astype("float64")
    return frame


def seconds_to_timestamp(values: pd.Series) -> pd.Series:
    """Epoch seconds (any numeric type, NaN/None for missing) to timezone-aware UTC timestamps (microseconds).

    Naive timestamps holding UTC (DuckDB's ``TIMESTAMP``, see :func:`dialect.fetched_instant`) are only marked UTC.
    """
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.astype("datetime64[us]").dt.tz_localize("UTC")
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        seconds = values.astype("float64").to_numpy(na_value=np.nan)
    else:  # Decimal objects (PostgreSQL numeric), None
        seconds = pd.to_numeric(values.astype("object"), errors="coerce").astype("float64").to_numpy()
    micros = np.round(seconds * 1e6)
    ok = ~np.isnan(micros)
    stamps = np.where(ok, micros, 0).astype("int64").astype("datetime64[us]")
    return pd.Series(stamps, index=values.index).dt.tz_localize("UTC").where(ok)


def half_up(values: pd.Series | np.ndarray) -> np.ndarray:
    """Round halves up (0.5 → 1), the same on every engine and platform (Python's round() is half-even)."""
    # rounding to 9 decimals first absorbs float noise such as 64.99999999999999 for an exact 65
    return np.floor(np.round(np.asarray(values, dtype="float64"), 9) + 0.5)


def rate_pct(numerator: pd.Series, denominator: pd.Series, decimals: int = 2) -> tuple[pd.Series, pd.Series]:
    """``numerator ÷ denominator × 100`` rounded to ``decimals``; a zero denominator gives 0 and a True flag."""
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    zero = den == 0
    rate = (num / den.where(~zero, 1.0) * 100).where(~zero, 0.0)
    factor = 10.0**decimals
    rounded = pd.Series(half_up(rate * factor) / factor, index=numerator.index)
    return rounded, zero
