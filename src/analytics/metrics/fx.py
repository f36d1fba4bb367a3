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

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.errors import MetricError
from analytics.metrics.request import MetricRequest, bucket_frame
from analytics.store.money import CURRENCY_EXPONENTS
from analytics.store.schema import fx_rates

__all__ = ["RateTable", "convert_amounts", "convert_rollforward", "daily_to_buckets", "load_rates"]


class RateTable:
    """Rates from several currencies into one reporting currency, looked up as of a day."""

    def __init__(self, reporting: str, frame: pd.DataFrame) -> None:
        self.reporting = reporting
        self.frame = frame.sort_values(["currency", "rate_date"]).reset_index(drop=True)

    def rates(self, currencies: pd.Series, days: pd.Series) -> np.ndarray:
        """The rate into the reporting currency for each (currency, day) pair (1.0 for the reporting currency)."""
        out = np.ones(len(currencies), dtype="float64")
        cur = currencies.to_numpy()
        day = pd.to_datetime(days).to_numpy(dtype="datetime64[ns]")
        for code in pd.unique(cur):
            if code == self.reporting:
                continue
            mask = cur == code
            table = self.frame[self.frame["currency"] == code]
            dates = table["rate_date"].to_numpy(dtype="datetime64[ns]")
            pos = np.searchsorted(dates, day[mask], side="right") - 1
            if len(dates) == 0 or (pos < 0).any():
                first = pd.Timestamp(day[mask][pos < 0].min() if len(dates) else day[mask].min()).date()
                raise MetricError(
                    f"no exchange rate from {code} to {self.reporting} on or before {first}; add rows to fx_rates "
                    f"(rate_date, currency={code!r}, quote_currency={self.reporting!r}, rate) or report in {code}"
                )
            out[mask] = table["rate"].to_numpy(dtype="float64")[pos]
        return out


def load_rates(bind: sa.Engine | sa.Connection, currencies: Iterable[str], reporting: str, last_day: date) -> RateTable:
    """Every stored rate (direct or inverse) from ``currencies`` into ``reporting`` dated on or before ``last_day``."""
    wanted = sorted({c for c in currencies if c and c != reporting})
    frame = pd.DataFrame({"rate_date": pd.Series(dtype="datetime64[ns]"), "currency": [], "rate": []})
    if wanted:
        r = fx_rates.c
        query = sa.select(r.rate_date, r.currency, r.quote_currency, r.rate).where(
            r.rate_date <= last_day,
            sa.or_(
                sa.and_(r.currency.in_(wanted), r.quote_currency == reporting),
                sa.and_(r.currency == reporting, r.quote_currency.in_(wanted)),
            ),
        )
        if isinstance(bind, sa.Engine):
            with bind.connect() as conn:
                rows = conn.execute(query).all()
        else:
            rows = bind.execute(query).all()
        raw = pd.DataFrame(rows, columns=["rate_date", "currency", "quote_currency", "rate"])
        direct = raw[raw["quote_currency"] == reporting]
        inverse = raw[raw["currency"] == reporting]
        frame = pd.concat(
            [
                pd.DataFrame(
                    {
                        "rate_date": direct["rate_date"],
                        "currency": direct["currency"],
                        "rate": direct["rate"].map(float),
                    }
                ),
                pd.DataFrame(
                    {
                        "rate_date": inverse["rate_date"],
                        "currency": inverse["quote_currency"],
                        "rate": 1.0 / inverse["rate"].map(float),
                    }
                ),
            ]
        )
        frame["rate_date"] = pd.to_datetime(frame["rate_date"]).astype("datetime64[ns]")
        # a direct rate wins over an inverse one for the same day
        frame = frame.drop_duplicates(["currency", "rate_date"], keep="first")
    return RateTable(reporting, frame)


def _scale(currencies: pd.Series, reporting: str) -> np.ndarray:
    exp_rep = CURRENCY_EXPONENTS.get(reporting, 2)
    exps = currencies.map(lambda c: CURRENCY_EXPONENTS.get(c, 2)).to_numpy(dtype="int64")
    return np.power(10.0, exp_rep - exps)


def convert_amounts(amounts: pd.Series, currencies: pd.Series, days: pd.Series, table: RateTable) -> pd.Series:
    """Minor units in their own currencies → minor units of the reporting currency (rounded half to even).

    Raises
    ------
    MetricError
        A non-zero amount has no rate on or before its day (the message says which rows to add to ``fx_rates``).
    """
    raw = amounts.to_numpy(dtype="float64")
    values = np.zeros(len(raw))
    nonzero = raw != 0  # a zero needs no rate (so an empty opening balance needs no rate before the period)
    if nonzero.any():
        cur, when = currencies[nonzero], pd.Series(np.asarray(days)[nonzero])
        factor = table.rates(cur, when) * _scale(cur, table.reporting)
        values[nonzero] = np.rint(raw[nonzero] * factor)
    return pd.Series(values.astype("int64"), index=amounts.index)


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
    out = frame.copy()
    before = out["first_day"] - timedelta(days=1)
    out["mrr_start_minor"] = convert_amounts(out["mrr_start_minor"], out["currency"], before, table)
    out["mrr_end_minor"] = convert_amounts(out["mrr_end_minor"], out["currency"], out["last_day"], table)
    for col in movement_cols:
        out[col] = convert_amounts(out[col], out["currency"], out["last_day"], table)
    sums = ["mrr_start_minor", *movement_cols, "mrr_end_minor", *count_cols]
    agg = out.groupby(list(group_cols), sort=True, dropna=False)[sums].sum().reset_index()
    agg["currency"] = table.reporting
    signed = {"new_minor": 1, "expansion_minor": 1, "reactivation_minor": 1, "contraction_minor": -1, "churn_minor": -1}
    moved = sum(agg[c] * signed[c] for c in movement_cols if c in signed)
    agg["fx_minor"] = (agg["mrr_end_minor"] - agg["mrr_start_minor"] - moved).astype("int64")
    return agg


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
