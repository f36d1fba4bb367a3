"""Computed results: frames a job computed ahead (projections, forecasts, cohort tables) so that pages only read.

A result is one DataFrame per (account, ``kind``, ``as_of``) in the ``computed_results`` table, with the parameters
and definitions version it was computed with, when and by which job run, and its quality notes (texts a page shows
under the chart: a model fit that did not converge, what a forecast's first month is…). Writing the same key
again replaces the row (:func:`replace_results`); kinds written with ``keep_history=False`` keep only their newest
``as_of`` (large tables that are recomputed whole every day).

The frame is stored in a portable JSON form (:func:`frame_to_payload`): column names, a type per column and the
values column by column, plus the frame's JSON-able ``attrs``. Types: ``int``, ``float``, ``bool``, ``str``,
``date`` (ISO days), ``timestamp[unit]`` (naive ``datetime64`` of that unit, ISO text), ``timestamp_utc[unit]``
(aware, ISO text in UTC) and ``json`` (lists and dicts as they are). NaN and missing values are stored as
``null`` (JSON has no NaN); infinite floats as the texts ``"inf"``/``"-inf"``. The index is not stored.
:func:`payload_to_frame` turns it back into the same frame on SQLite, PostgreSQL (JSONB) and DuckDB alike.

Readers (:func:`read_result`) return the newest stored result of a kind; the frame carries its notes as
``frame.attrs["notes"]``.

Kinds (:data:`KINDS`) and what writes them: the retention model's outputs
(:mod:`analytics.models.retention.stored`) and the net MRR retention cohort tables
(:mod:`analytics.snapshots.cohort_tables`), both run by :func:`analytics.snapshots.page_data.store_page_data`
(``analytics precompute``, the daily run's ``page_data`` step, ``analytics demo``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store.schema import computed_results as cr

__all__ = [
    "KINDS",
    "PRODUCED_BY",
    "ComputedResult",
    "StoredResult",
    "frame_to_payload",
    "missing_message",
    "payload_to_frame",
    "read_result",
    "replace_results",
    "result_id",
]

#: Every kind of computed result: what its frame holds.
KINDS: dict[str, str] = {
    "retention_curve": "share still paying after t periods: observed (Kaplan–Meier) and projected (sBG)",
    "retention_cohorts": "share of each first-payment month still paying after t periods (long: cohort, period)",
    "retention_fit": "the sBG fit: α, β, mean churn μ, polarisation φ, standard errors, convergence, data size",
    "lifetime_value": "LTV per currency: ARPA × DEL(d) beside ARPA ÷ churn rate; residual value of the base",
    "revenue_forecast": "month 0 = MRR now, months 1…3 = expected MRR with a bootstrap interval",
    "net_mrr_retention_month": "the net_mrr_retention metric by monthly first-payment cohort over the whole history",
    "net_mrr_retention_week": "the net_mrr_retention metric by weekly first-payment cohort over the whole history",
}


#: The command that computes and stores every kind (the daily run and ``analytics demo`` run it too).
PRODUCED_BY = "analytics precompute"


def missing_message(what: str, account_id: str) -> str:
    """What a page says when a result was never stored: ``No retention projection stored yet: run …``."""
    return (
        f"No {what} stored yet: run `{PRODUCED_BY} --account {account_id}` "
        "(the daily run and `analytics demo` do it too)."
    )


def result_id(kind: str, as_of: date) -> str:
    """The row id of a result (unique within its account): ``revenue_forecast:2026-12-08``."""
    return f"{kind}:{as_of.isoformat()}"


@dataclass
class ComputedResult:
    """A result to store: its kind, the frame (``attrs`` JSON-able), inputs, definitions and quality notes."""

    kind: str
    frame: pd.DataFrame
    parameters: dict[str, Any]
    definitions_version: str
    notes: list[str] = field(default_factory=list)
    keep_history: bool = True


@dataclass(frozen=True)
class StoredResult:
    """A result as read back: the frame (with ``attrs["notes"]``) and where it came from."""

    kind: str
    as_of: date
    frame: pd.DataFrame
    parameters: dict[str, Any]
    definitions_version: str
    notes: list[str]
    computed_at: datetime
    job_run_id: str | None


def _type_of(column: pd.Series) -> str:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return f"timestamp_utc[{dtype.unit}]"
    if pd.api.types.is_datetime64_dtype(dtype):
        return f"timestamp[{np.datetime_data(np.dtype(str(dtype)))[0]}]"
    values = [v for v in column.tolist() if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if values and all(isinstance(v, date) and not isinstance(v, datetime) for v in values):
        return "date"
    if values and all(isinstance(v, str) for v in values):
        return "str"
    if values and all(isinstance(v, bool | np.bool_) for v in values):
        return "bool"
    if values and all(isinstance(v, datetime) and v.tzinfo is not None for v in values):
        return "timestamp_utc"
    return "json"


def _float(value: Any) -> float | str | None:
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else ("inf" if number > 0 else "-inf")


def _encode(column: pd.Series, kind: str) -> list[Any]:
    if kind == "float":
        return [_float(v) for v in column.tolist()]
    if kind.startswith("timestamp["):
        return [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in column.tolist()]
    if kind.startswith("timestamp_utc"):
        return [None if pd.isna(v) else pd.Timestamp(v).tz_convert("UTC").isoformat() for v in column.tolist()]
    if kind == "date":
        return [None if v is None or pd.isna(v) else v.isoformat() for v in column.tolist()]
    if kind in ("int", "bool"):
        cast = int if kind == "int" else bool
        return [None if v is None or pd.isna(v) else cast(v) for v in column.tolist()]
    if kind == "str":
        return [None if v is None or pd.isna(v) else str(v) for v in column.tolist()]
    return [_plain(v) for v in column.tolist()]


def _plain(value: Any) -> Any:
    """A JSON-able copy (numpy scalars to Python numbers, NaN to None) of a ``json`` cell or an attrs value."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def frame_to_payload(frame: pd.DataFrame) -> dict[str, Any]:
    """The portable JSON form of ``frame`` (see the module docstring); the index is dropped.

    Raises
    ------
    ValueError
        A column name is not a string or is repeated.
    """
    names = list(frame.columns)
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ValueError(f"stored frames need distinct string column names, got {names!r}")
    types = [_type_of(frame[n]) for n in names]
    return {
        "columns": names,
        "types": types,
        "data": [_encode(frame[n], t) for n, t in zip(names, types, strict=True)],
        "attrs": _plain({k: v for k, v in frame.attrs.items() if k != "notes"}),
    }


def _decode(values: list[Any], kind: str) -> pd.Series:
    if kind == "int":
        series = pd.Series(values, dtype="Int64")
        return series if series.isna().any() else series.astype("int64")
    if kind == "float":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if kind == "bool":
        return pd.Series(values, dtype="boolean" if None in values else "bool")
    if kind.startswith("timestamp"):  # isoformat() leaves out zero fractions: the texts need not share a format
        aware = kind.startswith("timestamp_utc")
        parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=aware)
        unit = cast(Literal["s", "ms", "us", "ns"], kind[kind.index("[") + 1 : -1])
        return parsed.dt.as_unit(unit)
    if kind == "date":
        return pd.Series([None if v is None else date.fromisoformat(v) for v in values], dtype=object)
    if kind == "str":  # the default text dtype of the pandas in use, as a frame built from the same lists
        return pd.Series(values)
    return pd.Series(values, dtype=object)


def payload_to_frame(payload: dict[str, Any]) -> pd.DataFrame:
    """The frame stored by :func:`frame_to_payload` (same columns, types and values; a fresh index)."""
    columns = {
        name: _decode(values, kind)
        for name, kind, values in zip(payload["columns"], payload["types"], payload["data"], strict=True)
    }
    frame = pd.DataFrame(columns, columns=list(payload["columns"]))
    frame.attrs.update(payload.get("attrs") or {})
    return frame


def replace_results(
    conn: sa.Connection,
    account_id: str,
    as_of: date,
    results: Sequence[ComputedResult],
    *,
    computed_at: datetime,
    job_run_id: str | None = None,
) -> int:
    """Store ``results`` as of ``as_of`` in the caller's transaction, replacing the same (kind, as_of) rows.

    A result with ``keep_history=False`` also removes the older ``as_of`` rows of its kind. Returns the rows
    written.
    """
    for result in results:
        if result.kind not in KINDS:
            raise ValueError(f"unknown computed result kind {result.kind!r}; known: {', '.join(KINDS)}")
        scope = sa.and_(cr.c.account_id == account_id, cr.c.kind == result.kind)
        conn.execute(sa.delete(cr).where(scope, cr.c.as_of == as_of if result.keep_history else sa.true()))
    rows = [
        {
            "account_id": account_id,
            "id": result_id(r.kind, as_of),
            "kind": r.kind,
            "as_of": as_of,
            "parameters": _plain(r.parameters),
            "definitions_version": r.definitions_version,
            "payload": frame_to_payload(r.frame),
            "notes": [str(n) for n in r.notes],
            "computed_at": computed_at,
            "job_run_id": job_run_id,
        }
        for r in results
    ]
    if rows:
        conn.execute(cr.insert(), rows)
    return len(rows)


def read_result(
    bind: Engine | sa.Connection, account_id: str, kind: str, *, on_or_before: date | None = None
) -> StoredResult | None:
    """The newest stored result of ``kind`` (as of ``on_or_before`` or earlier when given); None when none is.

    The frame carries the result's quality notes as ``frame.attrs["notes"]``.
    """
    query = sa.select(cr).where(cr.c.account_id == account_id, cr.c.kind == kind)
    if on_or_before is not None:
        query = query.where(cr.c.as_of <= on_or_before)
    query = query.order_by(cr.c.as_of.desc()).limit(1)
    if isinstance(bind, sa.Connection):
        row = bind.execute(query).first()
    else:
        with bind.connect() as conn:
            row = conn.execute(query).first()
    if row is None:
        return None
    frame = payload_to_frame(row.payload)
    notes = [str(n) for n in (row.notes or [])]
    frame.attrs["notes"] = list(notes)
    as_of = row.as_of if isinstance(row.as_of, date) else date.fromisoformat(str(row.as_of)[:10])
    return StoredResult(
        kind=row.kind,
        as_of=as_of,
        frame=frame,
        parameters=dict(row.parameters or {}),
        definitions_version=row.definitions_version,
        notes=notes,
        computed_at=row.computed_at,
        job_run_id=row.job_run_id,
    )
