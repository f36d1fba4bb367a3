"""Shared pandas steps of per-bucket metrics: fetching a Core query, dense bucket grids, states from changes, ratios.

Everything here works on small aggregated frames (one row per bucket and key), never on raw store rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.metrics.dialect import local_date, to_dates
from analytics.metrics.request import MetricRequest, account_settings, bucket_frame, period_instants

__all__ = ["daily_sums", "dense_grid", "fetch_frame", "ratio", "running_state"]


def fetch_frame(bind: sa.Engine | sa.Connection, query: Any, columns: list[str]) -> pd.DataFrame:
    """Run a Core statement and return its rows as a DataFrame with ``columns``."""
    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    else:
        rows = bind.execute(query).all()
    return pd.DataFrame(rows, columns=columns)


def dense_grid(
    raw: pd.DataFrame, request: MetricRequest, keys: list[str], sums: list[str], default_keys: dict[str, Any] | None
) -> pd.DataFrame:
    """Per-bucket sums (``bucket`` NULL = before the period) → a dense bucket × key grid.

    Returns every bucket of the request (``period_start``, ``first_day``, ``last_day``) for every key combination
    seen, the sums (0 where nothing happened) and ``opening_<sum>`` = the sum before the period for the key.
    When no key combination is seen at all, ``default_keys`` gives the one to report (e.g. the reporting currency);
    ``None`` returns an empty grid.
    """
    raw = raw.copy()
    for col in sums:
        raw[col] = pd.to_numeric(raw[col]).fillna(0).astype("int64")
    opening = raw[raw["bucket"].isna()].groupby(keys, dropna=False)[sums].sum() if keys else None
    body = to_dates(raw[raw["bucket"].notna()].copy(), "bucket").rename(columns={"bucket": "period_start"})
    buckets = bucket_frame(request)
    if keys:
        assert opening is not None
        combos = pd.concat([opening.reset_index()[keys], body[keys]]).drop_duplicates()
        if combos.empty and default_keys is not None:
            combos = pd.DataFrame({k: [v] for k, v in default_keys.items()})
        grid = buckets.merge(combos, how="cross")
    else:
        grid = buckets
    grid = grid.merge(body, on=["period_start", *keys], how="left")
    grid[sums] = grid[sums].fillna(0).astype("int64")
    if keys:
        assert opening is not None
        grid = grid.merge(opening.add_prefix("opening_").reset_index(), on=keys, how="left")
    else:
        before = raw[raw["bucket"].isna()][sums].sum()
        for col in sums:
            grid[f"opening_{col}"] = int(before[col])
    grid = grid.sort_values([*keys, "period_start"], kind="stable").reset_index(drop=True)
    for col in sums:
        grid[f"opening_{col}"] = grid[f"opening_{col}"].fillna(0).astype("int64")
    return grid


def running_state(grid: pd.DataFrame, keys: list[str], change: str) -> pd.Series:
    """State at each bucket end = opening value + cumulative change, per key (grid from :func:`dense_grid`)."""
    cumulative = grid.groupby(keys, sort=False, dropna=False)[change].cumsum() if keys else grid[change].cumsum()
    return (grid[f"opening_{change}"] + cumulative).astype("int64")


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
