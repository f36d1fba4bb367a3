"""Reporting-currency conversion with the ``fx_rates`` table, and the FX line of the MRR roll-forward.

Amounts are stored per row in their own currency (integer minor units). To report them in one currency, an
amount on calendar day ``d`` is converted at the latest rate dated on or before ``d`` (a stored inverse pair is
used as ``1 / rate``), then rounded half to even to a whole minor unit of the reporting currency. Conversion
happens on small aggregated frames (per bucket and currency), never on raw rows.

For MRR, the opening MRR of a bucket is converted at the rate of the day before the bucket, the movements and the
closing MRR at the rate of the bucket's last day; the **FX effect** is what remains:
``fx = MRR_end − MRR_start − (new + expansion + reactivation − contraction − churn)``, so the roll-forward holds
exactly in the reporting currency and FX is never counted as a movement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.errors import MetricError
from analytics.metrics.request import MetricRequest, bucket_frame
from analytics.metrics.series import fetch_frame
from analytics.metrics.statements import reused_statement
from analytics.store.money import CURRENCY_EXPONENTS
from analytics.store.schema import fx_rates

__all__ = ["RateTable", "convert_amounts", "convert_rollforward", "daily_to_buckets", "load_rates"]


class RateTable:
    """Rates from several currencies into one reporting currency, looked up as of a day."""

    def __init__(self, reporting: str, codes: np.ndarray, dates: np.ndarray, rates: np.ndarray) -> None:
        """Rates into ``reporting`` from rows ordered by (currency, date): codes, ``datetime64[ns]`` days, rates."""
        self.reporting = reporting
        self._series = self._blocks(codes, dates, rates)

    @staticmethod
    def _blocks(codes: np.ndarray, dates: np.ndarray, rates: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """One (dates, rates) pair per currency from rows ordered by (currency, date)."""
        if not len(codes):
            return {}
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]
        return {str(codes[a]): (dates[a:b], rates[a:b]) for a, b in zip(starts, ends, strict=True)}

    def factors(self, currencies: pd.Series | np.ndarray, days: pd.Series | np.ndarray) -> np.ndarray:
        """Minor units of a currency → minor units of the reporting currency, per (currency, day) pair.

        The rate is the latest dated on or before the day, times the difference of the currencies' minor-unit
        exponents; NaN where no rate is known (see :func:`convert_amounts`).
        """
        cur = np.asarray(currencies, dtype=object)
        day = np.asarray(pd.to_datetime(days), dtype="datetime64[ns]")
        out = np.full(len(cur), np.nan)
        exp_rep = CURRENCY_EXPONENTS.get(self.reporting, 2)
        for code in pd.unique(cur):
            mask = cur == code
            if code == self.reporting:
                out[mask] = 1.0
                continue
            scale = 10.0 ** (exp_rep - CURRENCY_EXPONENTS.get(str(code), 2))
            dates, rates = self._series.get(str(code), (np.array([], dtype="datetime64[ns]"), np.array([])))
            pos = np.searchsorted(dates, day[mask], side="right") - 1
            found = np.where(pos >= 0, rates[np.clip(pos, 0, None)] if len(rates) else np.nan, np.nan)
            out[mask] = found * scale
        return out

    def missing(self, currencies: np.ndarray, days: np.ndarray) -> MetricError:
        """The error for amounts without a rate (names the first currency and day)."""
        code, day = currencies[0], pd.Timestamp(days[0]).date()
        return MetricError(
            f"no exchange rate from {code} to {self.reporting} on or before {day}; add rows to fx_rates "
            f"(rate_date, currency={code!r}, quote_currency={self.reporting!r}, rate) or report in {code}"
        )


def load_rates(
    bind: sa.Engine | sa.Connection,
    currencies: Iterable[str],
    reporting: str,
    last_day: date,
    first_day: date | None = None,
) -> RateTable:
    """Stored rates (direct or inverse) from ``currencies`` into ``reporting`` dated on or before ``last_day``.

    With ``first_day``, only rates from a month before it are read (rates are usually daily), unless a currency
    has none that early, in which case all of its older rates are read.
    """
    wanted = sorted({c for c in currencies if c and c != reporting})
    if not wanted:
        return RateTable(reporting, np.array([], dtype=object), np.array([], "datetime64[ns]"), np.array([]))
    columns = ["rate_date", "currency", "quote_currency", "rate"]
    if first_day is not None:
        since = first_day - timedelta(days=31)
        raw = fetch_frame(bind, _rates_query(tuple(wanted), reporting, last_day, since), columns)
        days = _days(raw["rate_date"])
        early = days <= np.datetime64(first_day, "ns")
        covered = set(raw["currency"].to_numpy(dtype=object)[early]) | set(
            raw["quote_currency"].to_numpy(dtype=object)[early]
        )
        if not set(wanted) <= covered:
            raw = fetch_frame(bind, _rates_query(tuple(wanted), reporting, last_day, None), columns)
            days = _days(raw["rate_date"])
    else:
        raw = fetch_frame(bind, _rates_query(tuple(wanted), reporting, last_day, None), columns)
        days = _days(raw["rate_date"])
    # numpy on the few hundred rows: direct pairs first, then inverse ones as 1 / rate
    base = raw["currency"].to_numpy(dtype=object)
    quote = raw["quote_currency"].to_numpy(dtype=object)
    rates = raw["rate"].to_numpy(dtype="float64")
    direct, inverse = quote == reporting, base == reporting
    codes = np.concatenate([base[direct], quote[inverse]])
    dates = np.concatenate([days[direct], days[inverse]])
    values = np.concatenate([rates[direct], 1.0 / rates[inverse]])
    # a direct rate wins over an inverse one for the same day: sort stably by (currency, day) and keep the first
    order = np.lexsort((dates, codes.astype(str)))
    codes, dates, values = codes[order], dates[order], values[order]
    keep = np.ones(len(codes), dtype=bool)
    keep[1:] = (codes[1:] != codes[:-1]) | (dates[1:] != dates[:-1])
    return RateTable(reporting, codes[keep], dates[keep], values[keep])


@reused_statement
def _rates_query(wanted: tuple[str, ...], reporting: str, last_day: date, since: date | None) -> sa.Select[Any]:
    """Direct (``wanted`` → ``reporting``) and inverse rate rows dated in ``[since, last_day]``."""
    r = fx_rates.c
    pairs = sa.or_(
        sa.and_(r.currency.in_(wanted), r.quote_currency == reporting),
        sa.and_(r.currency == reporting, r.quote_currency.in_(wanted)),
    )
    # the rate as a float in SQL: it is used as a float, and parsing exact decimals row by row costs more
    rate: sa.Cast[float] = sa.cast(r.rate, sa.Double())
    query = sa.select(r.rate_date, r.currency, r.quote_currency, rate).where(r.rate_date <= last_day, pairs)
    return query if since is None else query.where(r.rate_date >= since)


def _days(values: pd.Series) -> np.ndarray:
    """Rate dates (``DATE`` values or ISO text, by engine) as ``datetime64[ns]``."""
    return np.asarray(pd.to_datetime(values), dtype="datetime64[ns]")


def _apply(
    amounts: np.ndarray, factor: np.ndarray, currencies: np.ndarray, days: np.ndarray, table: RateTable
) -> np.ndarray:
    """Round amounts × factor half to even; a non-zero amount without a rate is an error (a zero needs none)."""
    bad = np.isnan(factor) & (amounts != 0)
    if bad.any():
        raise table.missing(currencies[bad], days[bad])
    return np.rint(np.where(amounts != 0, amounts * np.nan_to_num(factor), 0.0)).astype("int64")


def convert_amounts(amounts: pd.Series, currencies: pd.Series, days: pd.Series, table: RateTable) -> pd.Series:
    """Minor units in their own currencies → minor units of the reporting currency (rounded half to even).

    Raises
    ------
    MetricError
        A non-zero amount has no rate on or before its day (the message says which rows to add to ``fx_rates``).
    """
    cur = np.asarray(currencies, dtype=object)
    day = np.asarray(pd.to_datetime(days), dtype="datetime64[ns]")
    values = _apply(amounts.to_numpy(dtype="float64"), table.factors(cur, day), cur, day, table)
    return pd.Series(values, index=amounts.index)


def convert_rollforward(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    table: RateTable,
    movement_cols: Sequence[str],
    count_cols: Sequence[str],
) -> pd.DataFrame:
    """Convert a per-(bucket, currency) MRR roll-forward into the reporting currency and add the ``fx_minor`` line.

    ``frame`` has ``period_start``, ``first_day``, ``last_day``, ``currency``, ``mrr_start_minor``,
    ``mrr_end_minor``, the movement columns and count columns; the result is summed over currencies per
    ``group_cols`` (which must include ``period_start``) with ``currency`` = the reporting currency.
    """
    # numpy column by column and one frame at the end: the frames are small, and pandas' per-operation cost
    # (inserting columns, aligning Series) was most of the conversion's time
    sums = ["mrr_start_minor", *movement_cols, "mrr_end_minor", *count_cols]
    values = {col: frame[col].to_numpy(dtype="int64") for col in sums}
    cur = frame["currency"].to_numpy(dtype=object)
    if (cur != table.reporting).any():
        before = frame["first_day"].to_numpy(dtype="datetime64[ns]") - np.timedelta64(1, "D")
        last = frame["last_day"].to_numpy(dtype="datetime64[ns]")
        start_factor, end_factor = table.factors(cur, before), table.factors(cur, last)
        values["mrr_start_minor"] = _apply(
            values["mrr_start_minor"].astype("float64"), start_factor, cur, before, table
        )
        for col in ["mrr_end_minor", *movement_cols]:
            values[col] = _apply(values[col].astype("float64"), end_factor, cur, last, table)
    n_buckets = int(frame.attrs.get("n_buckets", 0))
    if n_buckets and set(group_cols) == {"period_start", "first_day", "last_day"}:
        # a dense grid (one block of buckets per currency): sum the blocks
        columns: dict[str, np.ndarray] = {col: frame[col].to_numpy()[:n_buckets] for col in group_cols}
        columns.update({col: values[col].reshape(-1, n_buckets).sum(axis=0) for col in sums})
    else:
        converted = pd.DataFrame({**{col: frame[col].to_numpy() for col in group_cols}, **values})
        grouped = converted.groupby(list(group_cols), sort=True, dropna=False)[sums].sum().reset_index()
        columns = {col: grouped[col].to_numpy() for col in grouped.columns}
    signed = {"new_minor": 1, "expansion_minor": 1, "reactivation_minor": 1, "contraction_minor": -1, "churn_minor": -1}
    moved = np.zeros(len(columns["mrr_end_minor"]), dtype="int64")
    for col in movement_cols:
        moved += columns[col] * signed.get(col, 0)
    columns["currency"] = np.full(len(moved), table.reporting, dtype=object)
    columns["fx_minor"] = (columns["mrr_end_minor"] - columns["mrr_start_minor"] - moved).astype("int64")
    return pd.DataFrame(columns)


def daily_to_buckets(
    frame: pd.DataFrame,
    request: MetricRequest,
    table: RateTable | None,
    amounts: Sequence[str],
    counts: Sequence[str],
    keys: Sequence[str],
) -> pd.DataFrame:
    """Per-(local day, currency, keys) sums → per-bucket sums over every bucket of the request (zero-filled).

    Amount columns are converted at each day's rate when ``table`` is given (then ``currency`` becomes the
    reporting currency); with ``table=None`` amounts stay in their currencies and ``currency`` is a key.
    """
    out_keys = [*keys] if table is not None else ["currency", *keys]
    work = frame.copy()
    work["day"] = pd.to_datetime(work["day"]).astype("datetime64[ns]")
    for col in [*amounts, *counts]:
        work[col] = pd.to_numeric(work[col]).fillna(0).astype("int64")
    if table is not None and len(work):
        for col in amounts:
            work[col] = convert_amounts(work[col], work["currency"], work["day"], table)
    buckets = bucket_frame(request)
    starts = buckets["period_start"].to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(starts, work["day"].to_numpy(dtype="datetime64[ns]"), side="right") - 1
    work["period_start"] = starts[np.clip(pos, 0, len(starts) - 1)]
    sums = work.groupby(["period_start", *out_keys], sort=True, dropna=False)[[*amounts, *counts]].sum().reset_index()
    grid = buckets[["period_start"]]
    if out_keys:
        grid = grid.merge(sums[out_keys].drop_duplicates(), how="cross")
    grid = grid.merge(sums, on=["period_start", *out_keys], how="left")
    grid[[*amounts, *counts]] = grid[[*amounts, *counts]].fillna(0).astype("int64")
    if table is not None:
        grid["currency"] = table.reporting
    return grid.sort_values(["period_start", *out_keys], kind="stable").reset_index(drop=True)
