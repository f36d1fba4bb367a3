"""Paying lifetimes from the store: when each member first paid, when they stopped, what they pay.

One SQL query per question (scoped by account, reading only rows before the cut ``as_of 00:00 UTC``); one row per
member comes back, and the discrete-time bookkeeping of the retention model happens in pandas:

* a member's *lifetime* starts at their first paying state (``membership_status_changes``) and ends at the first
  instant they stopped paying because their memberships ended (see :mod:`analytics.models.churn.population`);
  a later reactivation is not a continuation (the lifetime ended);
* with periods of ``period_days`` (default 30), a member who stopped after ``s`` days churned in period
  ``T = max(1, ⌈s / period_days⌉)``; one still paying after ``s`` days has survived ``⌊s / period_days⌋`` periods
  (censored).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.models.churn.population import (
    PAYING_STATUSES,
    cut_instant,
    cuts_cte,
    ensure_planner_statistics,
    in_force,
    is_paying,
    state_intervals,
    stop_events,
)
from analytics.store.schema import membership_status_changes as msc
from analytics.store.types import UTCDateTime

__all__ = ["cohort_retention", "kaplan_meier", "member_lifetimes", "paying_members", "trailing_churn_rate"]


def _frame(engine: Engine, query: sa.Select[Any]) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _monthly(iv: Any) -> Any:
    return sa.case(
        (iv.c.billing_period_days.in_((365, 366)), iv.c.renewal_price_minor / 12.0),
        else_=iv.c.renewal_price_minor * 30.0 / iv.c.billing_period_days,
    )


def member_lifetimes(engine: Engine, account_id: str, *, as_of: date, period_days: int = 30) -> pd.DataFrame:
    """Every member who paid before ``as_of``: first paid, stopped (NaT if still paying), price, periods.

    Returns
    -------
    pandas.DataFrame
        ``member_id``, ``first_paid_at``, ``stopped_at``, ``currency``, ``first_monthly_minor`` (normalised monthly
        price of the first paying state), ``cohort`` (UTC month of the first payment, a Timestamp),
        ``age_periods`` (fractional periods from first paid to ``as_of``), ``duration`` (T if churned, survived
        periods otherwise) and ``churned``.
    """
    ensure_planner_statistics(engine)
    cut = cut_instant(as_of)
    paying_changes = sa.and_(
        msc.c.account_id == account_id,
        msc.c.changed_at < cut,
        msc.c.status.in_(PAYING_STATUSES),
        msc.c.billing_period_days.is_not(None),
        msc.c.renewal_price_minor > 0,
    )
    ranked = (
        sa.select(
            msc.c.member_id,
            msc.c.changed_at,
            msc.c.currency,
            _monthly(msc).label("monthly"),
            sa.func.row_number().over(partition_by=msc.c.member_id, order_by=(msc.c.changed_at, msc.c.id)).label("rn"),
        )
        .where(paying_changes)
        .subquery("ranked")
    )
    first = sa.select(ranked).where(ranked.c.rn == 1).cte("first_paid")
    iv = state_intervals(account_id)
    stops = stop_events(iv, until=sa.literal(cut, UTCDateTime()))
    query = (
        sa.select(
            first.c.member_id,
            first.c.changed_at.label("first_paid_at"),
            sa.func.min(stops.c.stopped_at).label("stopped_at"),
            first.c.currency,
            first.c.monthly.label("first_monthly_minor"),
        )
        .select_from(
            first.outerjoin(
                stops, sa.and_(stops.c.member_id == first.c.member_id, stops.c.stopped_at > first.c.changed_at)
            )
        )
        .group_by(first.c.member_id, first.c.changed_at, first.c.currency, first.c.monthly)
    )
    frame = _frame(engine, query)
    columns = [
        "member_id",
        "first_paid_at",
        "stopped_at",
        "currency",
        "first_monthly_minor",
        "cohort",
        "age_periods",
        "duration",
        "churned",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    first_paid = pd.to_datetime(frame["first_paid_at"], utc=True)
    stopped = pd.to_datetime(frame["stopped_at"], utc=True)
    period = pd.Timedelta(days=period_days)
    churned = stopped.notna()
    lived = ((stopped.where(churned, pd.Timestamp(cut))) - first_paid) / period
    frame["first_paid_at"], frame["stopped_at"] = first_paid, stopped
    frame["first_monthly_minor"] = frame["first_monthly_minor"].astype(float)
    frame["cohort"] = first_paid.dt.tz_convert(None).dt.to_period("M").dt.to_timestamp()
    frame["age_periods"] = (pd.Timestamp(cut) - first_paid) / period
    frame["churned"] = churned
    frame["duration"] = np.where(churned, np.maximum(1, np.ceil(lived - 1e-9)), np.floor(lived)).astype(int)
    return frame[columns]


def paying_members(engine: Engine, account_id: str, *, as_of: date) -> pd.DataFrame:
    """Members paying at ``as_of`` with their monthly-normalised recurring revenue per currency.

    Returns
    -------
    pandas.DataFrame
        ``member_id``, ``currency``, ``monthly_minor`` (sum over the member's paying memberships).
    """
    cuts = cuts_cte([as_of])
    iv = state_intervals(account_id)
    query = (
        sa.select(iv.c.member_id, iv.c.currency, sa.func.sum(_monthly(iv)).label("monthly_minor"))
        .select_from(cuts.join(iv, in_force(iv, cuts.c.cut, inclusive=True)))
        .where(is_paying(iv))
        .group_by(iv.c.member_id, iv.c.currency)
    )
    frame = _frame(engine, query)
    if frame.empty:
        return pd.DataFrame(columns=["member_id", "currency", "monthly_minor"])
    frame["monthly_minor"] = frame["monthly_minor"].astype(float)
    return frame


def kaplan_meier(lifetimes: pd.DataFrame, periods: int) -> pd.DataFrame:
    """Observed survival by period, censoring honoured: ``S(t) = Π_{u ≤ t} (1 − churned in u ÷ at risk in u)``."""
    durations = lifetimes["duration"].to_numpy(dtype=int)
    churned = lifetimes["churned"].to_numpy(dtype=bool)
    rows, survival = [{"period": 0, "at_risk": len(durations), "churned": 0, "survival": 1.0}], 1.0
    for t in range(1, periods + 1):
        at_risk = int((durations >= t).sum())  # churned in t or later, or seen surviving t periods
        lost = int(((durations == t) & churned).sum())
        if at_risk == 0:
            break
        survival *= 1 - lost / at_risk
        rows.append({"period": t, "at_risk": at_risk, "churned": lost, "survival": survival})
    return pd.DataFrame(rows)


def cohort_retention(lifetimes: pd.DataFrame, periods: int = 12) -> pd.DataFrame:
    """Share of each monthly cohort still paying after ``t`` periods (NaN while not observable for every member).

    Rows are cohorts (first-payment month), columns periods ``0 … periods``.
    """
    out = {}
    for cohort, g in lifetimes.groupby("cohort", sort=True):
        d, c = g["duration"].to_numpy(), g["churned"].to_numpy(dtype=bool)
        row = {}
        for t in range(periods + 1):
            observable = c | (d >= t)
            if not observable.all():
                row[t] = np.nan
                continue
            alive = (~c & (d >= t)) | (c & (d > t))
            row[t] = float(alive.mean())
        out[cohort] = row
    return pd.DataFrame.from_dict(out, orient="index").rename_axis("cohort")


def trailing_churn_rate(lifetimes: pd.DataFrame, *, as_of: date, periods: int = 6, period_days: int = 30) -> float:
    """Average churn per period over the last ``periods`` periods: Σ churned ÷ Σ paying at each period start."""
    cut = pd.Timestamp(cut_instant(as_of))
    first, stopped = lifetimes["first_paid_at"], lifetimes["stopped_at"]
    churned_total, at_risk_total = 0, 0
    for k in range(periods, 0, -1):
        start = cut - pd.Timedelta(days=period_days * k)
        end = start + pd.Timedelta(days=period_days)
        present = (first <= start) & (stopped.isna() | (stopped > start))
        churned_total += int((present & stopped.notna() & (stopped <= end)).sum())
        at_risk_total += int(present.sum())
    return churned_total / at_risk_total if at_risk_total else float("nan")
