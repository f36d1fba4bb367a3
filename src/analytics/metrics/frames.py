"""Small, vectorised clean-ups of query results: exact integer columns, UTC timestamps from epoch seconds, rates.

Drivers hand numbers back differently (PostgreSQL ``numeric`` as ``Decimal``, DuckDB as numpy types, SQLite as
Python ints); metric frames always leave here with ``int64``/``float64`` columns so results compare equal across
engines.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "as_float",
    "as_int",
    "float_array",
    "half_up",
    "int_array",
    "rate_pct",
    "rate_pct_array",
    "seconds_to_timestamp",
]


def int_array(column: pd.Series) -> np.ndarray:
    """``column`` as an ``int64`` array (missing values become 0: they are counts)."""
    if column.dtype == "int64":
        return column.to_numpy()
    if pd.api.types.is_integer_dtype(column.dtype):  # nullable Int64 and narrower integers: exact
        return column.to_numpy(dtype="int64", na_value=0)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype="float64", na_value=0.0).astype("int64")
    # Decimal objects (PostgreSQL numeric), None, strings of digits
    return pd.to_numeric(column.astype("object"), errors="coerce").fillna(0).to_numpy().astype("int64")


def float_array(column: pd.Series) -> np.ndarray:
    """``column`` as a ``float64`` array (missing values stay NaN)."""
    if column.dtype == "float64":
        return column.to_numpy()
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(column.astype("object"), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def as_int(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Make ``columns`` ``int64`` (missing values become 0: they are counts)."""
    for name in columns:
        column = frame[name]
        if column.dtype != "int64":
            frame[name] = int_array(column)
    return frame


def as_float(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Make ``columns`` ``float64`` (missing values stay NaN)."""
    for name in columns:
        column = frame[name]
        if column.dtype != "float64":
            frame[name] = float_array(column)
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
    """``numerator ÷ denominator × 100`` rounded to ``decimals``; a zero denominator gives 0 and a True flag.

    Computed on numpy arrays (pandas arithmetic costs about a millisecond per call however short the series).
    """
    rounded, zero = rate_pct_array(float_array(numerator), float_array(denominator), decimals)
    return pd.Series(rounded, index=numerator.index), pd.Series(zero, index=denominator.index)


def rate_pct_array(numerator: np.ndarray, denominator: np.ndarray, decimals: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rate_pct` on ``float64`` arrays: the rounded rates and the zero-denominator flags."""
    zero = denominator == 0
    with np.errstate(invalid="ignore"):  # NaN in, NaN out
        rate = np.where(zero, 0.0, numerator / np.where(zero, 1.0, denominator) * 100)
    factor = 10.0**decimals
    return half_up(rate * factor) / factor, zero
