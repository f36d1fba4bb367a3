"""Shared pandas steps of per-bucket metrics: fetching a Core query, dense bucket grids, states from changes, ratios.

Everything here works on small aggregated frames (one row per bucket and key), never on raw store rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.metrics.dialect import fetch_frame as dialect_fetch_frame
from analytics.metrics.dialect import local_date
from analytics.metrics.request import MetricRequest, account_settings, bucket_arrays, period_instants

__all__ = ["daily_sums", "dense_columns", "dense_grid", "fetch_frame", "ratio", "running_state", "running_totals"]


def fetch_frame(
    bind: sa.Engine | sa.Connection, query: Any, columns: list[str], *, instants: Sequence[str] = ()
) -> pd.DataFrame:
    """Run a Core statement and return its rows as a DataFrame with ``columns`` (see :func:`dialect.fetch_frame`).

    ``instants`` names the statement's columns (before renaming) selected with :func:`dialect.fetched_instant`;
    they come back as UTC timestamps on every engine.
    """
    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            return dialect_fetch_frame(conn, query, columns, instants=instants)
    return dialect_fetch_frame(bind, query, columns, instants=instants)


def dense_grid(
    raw: pd.DataFrame, request: MetricRequest, keys: list[str], sums: list[str], default_keys: dict[str, Any] | None
) -> pd.DataFrame:
    """Per-bucket sums (``bucket`` NULL = before the period) → a dense bucket × key grid.

    Returns every bucket of the request (``period_start``, ``first_day``, ``last_day``) for every key combination
    seen, ordered by key combination then bucket (each combination is one block of consecutive rows), with the
    sums (0 where nothing happened) and ``opening_<sum>`` = the sum before the period for the key. When no key
    combination is seen at all, ``default_keys`` gives the one to report (e.g. the reporting currency); ``None``,
    or defaults that do not cover every key (a plan or product breakdown), return an empty grid. Built with numpy
    on the aggregated rows (a few per bucket).
    """
    columns, n_buckets = dense_columns(raw, request, keys, sums, default_keys)
    grid = pd.DataFrame(columns, index=pd.RangeIndex(len(columns["period_start"])))
    grid.attrs["n_buckets"] = n_buckets
    return grid


def dense_columns(
    raw: pd.DataFrame, request: MetricRequest, keys: list[str], sums: list[str], default_keys: dict[str, Any] | None
) -> tuple[dict[str, np.ndarray], int]:
    """:func:`dense_grid` as numpy columns and the number of buckets, for callers that add columns before making
    their frame (inserting columns into a frame one by one costs more than the numpy work)."""
    labels, firsts, lasts = bucket_arrays(request.start, request.end, request.grain)
    n_buckets = len(labels)
    is_open = raw["bucket"].isna().to_numpy()
    if keys:
        index: pd.Index = (
            pd.MultiIndex.from_frame(raw[keys].astype(object)) if len(keys) > 1 else pd.Index(raw[keys[0]])
        )
        codes, uniques = index.factorize(sort=True)
        if len(keys) > 1:
            combos = {k: np.array([combo[i] for combo in uniques], dtype=object) for i, k in enumerate(keys)}
        else:
            combos = {keys[0]: np.asarray(uniques, dtype=object)}
        if not len(uniques):
            # nothing to report a breakdown value for: only keys with a default (the currency) are filled in
            if default_keys is None or not set(keys) <= set(default_keys):
                empty: dict[str, np.ndarray] = {
                    "period_start": labels[:0],
                    "first_day": firsts[:0],
                    "last_day": lasts[:0],
                    **{k: np.array([], dtype=object) for k in keys},
                }
                empty.update({c: np.array([], dtype="int64") for c in [*sums, *[f"opening_{c}" for c in sums]]})
                return empty, n_buckets
            combos = {k: np.array([v], dtype=object) for k, v in default_keys.items()}
        n_combos = len(next(iter(combos.values())))
    else:
        codes = np.zeros(len(raw), dtype="int64")
        combos, n_combos = {}, 1
    body = ~is_open
    positions = np.searchsorted(labels, pd.to_datetime(raw.loc[body, "bucket"]).to_numpy(dtype="datetime64[ns]"))
    columns: dict[str, np.ndarray] = {k: np.repeat(combos[k], n_buckets) for k in keys}
    for name, array in (("period_start", labels), ("first_day", firsts), ("last_day", lasts)):
        columns[name] = np.tile(array, n_combos)
    for col in sums:
        values = pd.to_numeric(raw[col]).fillna(0).to_numpy(dtype="int64")
        cells = np.zeros((n_combos, n_buckets), dtype="int64")
        np.add.at(cells, (codes[body], positions), values[body])
        opening = np.zeros(n_combos, dtype="int64")
        np.add.at(opening, codes[is_open], values[is_open])
        columns[col] = cells.ravel()
        columns[f"opening_{col}"] = np.repeat(opening, n_buckets)
    return columns, n_buckets


def running_totals(changes: np.ndarray, opening: np.ndarray, n_buckets: int) -> np.ndarray:
    """State at each bucket end = opening value + cumulative change, per block of ``n_buckets`` rows."""
    return opening.astype("int64") + changes.astype("int64").reshape(-1, max(n_buckets, 1)).cumsum(axis=1).ravel()


def running_state(grid: pd.DataFrame, keys: list[str], change: str) -> pd.Series:
    """State at each bucket end = opening value + cumulative change, per key (grid from :func:`dense_grid`)."""
    n_buckets = int(grid.attrs.get("n_buckets") or grid["period_start"].nunique() or 1)
    state = running_totals(grid[change].to_numpy(), grid[f"opening_{change}"].to_numpy(), n_buckets)
    return pd.Series(state, index=grid.index, dtype="int64")


def ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    """``scale × numerator ÷ denominator`` as float, NaN where the denominator is 0 (never infinity)."""
    num = numerator.to_numpy(dtype="float64")
    den = denominator.to_numpy(dtype="float64")
    out = np.full(len(num), np.nan)
    ok = den != 0
    out[ok] = scale * num[ok] / den[ok]
    return pd.Series(out, index=numerator.index)


def daily_sums(
    bind: sa.Engine | sa.Connection,
    request: MetricRequest,
    *,
    source: Any,
    at: Any,
    currency: Any,
    keys: dict[str, Any],
    sums: dict[str, Any],
    where: list[Any],
) -> pd.DataFrame:
    """``SELECT local day of at, currency, keys, sums FROM source WHERE at in the period AND where GROUP BY …``.

    The day is the calendar day of ``at`` in the account's time zone; the result has columns ``day``,
    ``currency``, the keys and the sums (one row per day, currency and key combination that has rows).
    """
    account = account_settings(bind, request.account_id)
    t0, t1 = period_instants(request, account.time_zone)
    dialect = bind.dialect.name
    day = local_date(at, dialect, account.time_zone, (t0, t1)).label("day")
    cur = sa.func.coalesce(currency, account.reporting_currency).label("currency")
    key_cols = [sa.func.coalesce(expr, "").label(name) for name, expr in keys.items()]
    query = (
        sa.select(day, cur, *key_cols, *[sa.cast(expr, sa.BigInteger).label(name) for name, expr in sums.items()])
        .select_from(source)
        .where(at >= t0, at < t1, *where)
        .group_by(day, cur, *key_cols)
    )
    return fetch_frame(bind, query, ["day", "currency", *keys, *sums])
