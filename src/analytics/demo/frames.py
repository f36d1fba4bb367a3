"""Turn generated columns into DataFrames in the store's import format (schema.py column names and types).

* timestamps: ``datetime64[us, UTC]`` (generated as int seconds; ``None`` or :data:`NO_TIME` means null)
* integers: ``int64``, or pandas ``Int64`` when a column has nulls; booleans likewise ``bool``/``boolean``
* exact decimals (rates, percentages): :class:`decimal.Decimal` objects; dates: :class:`datetime.date`
* JSON: dicts (or ``None``); strings: ``str`` with ``None`` for null

Columns a generator does not provide are filled with nulls, and the column order is the schema's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa

from analytics.store.keys import DERIVED_KEY
from analytics.store.schema import metadata
from analytics.store.types import ExactDecimal, JSONType, UTCDateTime

__all__ = ["NO_TIME", "or_none", "store_frame"]

NO_TIME = -1  # null sentinel in int64 time arrays


def _times(values: Any, n: int) -> pd.Series:
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        seconds = values.astype(np.int64)
        stamps = (seconds * 1_000_000).astype("datetime64[us]")
        stamps[seconds == NO_TIME] = np.datetime64("NaT")
        return pd.Series(stamps).dt.tz_localize("UTC")
    ints = pd.array(list(values) if not isinstance(values, list) else values, dtype="Int64")
    return pd.to_datetime(pd.Series(ints), unit="s", utc=True).astype("datetime64[us, UTC]")


def _integers(values: Any) -> Any:
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return values.astype(np.int64)
    seq = list(values)
    if any(v is None for v in seq):
        return pd.array(seq, dtype="Int64")
    return np.asarray(seq, dtype=np.int64)


def _booleans(values: Any) -> Any:
    if isinstance(values, np.ndarray) and values.dtype == bool:
        return values
    seq = list(values)
    if any(v is None for v in seq):
        return pd.array(seq, dtype="boolean")
    return np.asarray(seq, dtype=bool)


def _column(column: sa.Column[Any], values: Any, n: int) -> Any:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _times(values, n)
    if isinstance(kind, sa.Integer):  # BigInteger is a subclass
        return _integers(values)
    if isinstance(kind, sa.Boolean):
        return _booleans(values)
    if isinstance(kind, ExactDecimal | sa.Date) or kind is JSONType or isinstance(kind, sa.JSON):
        return pd.Series(list(values), dtype=object)
    return pd.Series(values if isinstance(values, np.ndarray) else list(values), index=range(n))


def store_frame(table: str, data: Mapping[str, Any], *, required: Sequence[str] = ()) -> pd.DataFrame:
    """A DataFrame for ``table`` with every importable schema column, typed as the import format expects.

    ``data`` maps column names to equal-length arrays or lists; absent columns become null. Unknown names are
    a programming error (the generator must speak the schema exactly).
    """
    schema = metadata.tables[table]
    unknown = set(data) - set(schema.c.keys())
    if unknown:
        raise KeyError(f"{table}: columns not in the schema: {sorted(unknown)}")
    lengths = {len(v) for v in data.values()}
    if len(lengths) > 1:
        raise ValueError(f"{table}: columns of different lengths {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    columns: dict[str, Any] = {}
    for column in schema.c:
        if DERIVED_KEY in column.info:  # member_key: the import derives it from the member id
            continue
        if column.name in data:
            columns[column.name] = _column(column, data[column.name], n)
        elif isinstance(column.type, UTCDateTime):
            columns[column.name] = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us, UTC]")
        elif isinstance(column.type, sa.Integer):
            columns[column.name] = pd.array([None] * n, dtype="Int64")
        elif isinstance(column.type, sa.Boolean):
            columns[column.name] = pd.array([None] * n, dtype="boolean")
        else:
            columns[column.name] = pd.Series([None] * n, dtype=object)
    return pd.DataFrame(columns, index=range(n))


def or_none(mask: npt.NDArray[np.bool_], values: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """``values`` where ``mask`` holds, else ``None`` (an object array)."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = np.asarray(values, dtype=object)[mask]
    return out
