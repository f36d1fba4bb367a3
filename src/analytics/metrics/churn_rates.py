"""Churn rates: customer churn (ChartMogul or Stripe 30-day policy), gross and net MRR churn, quick ratio.

Rates are percentages (0–100 for the customer churn rate); a zero denominator gives NaN with a ``flag`` column
saying why, never an exception or infinity.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.metrics.catalog import metric
from analytics.metrics.dialect import metric_connection
from analytics.metrics.movements import MOVEMENT_POLICIES, in_reporting_currency, rollforward_table
from analytics.metrics.request import MetricRequest, bucket_frame
from analytics.metrics.series import ratio

__all__ = [
    "chartmogul_churn_table",
    "customer_churn_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "quick_ratio",
    "stripe_churn_table",
]

_KEYS = ("product", "plan")
_CHURN_FORMULA = (
    "customer churn rate = 100 × churned customers ÷ customers at period start (chartmogul); "
    "100 × churned in the last 30 days ÷ (active 30 days ago + new in those 30 days) (stripe_30d)"
)


def _keys(request: MetricRequest) -> list[str]:
    return [k for k in _KEYS if k in request.breakdowns]


def _flag(mask: pd.Series | np.ndarray, text: str) -> np.ndarray:
    return np.where(mask, text, "")


def chartmogul_churn_table(bind: sa.Engine | sa.Connection, request: MetricRequest) -> pd.DataFrame:
    """Customer churn per bucket, ChartMogul style, summed over currencies.

    churned = customers paying at the bucket start and not at its end (churned then reactivated within the bucket
    does not count). ``same_period_signup_cancel=include`` adds the customers who joined and churned within the
    bucket to the numerator and the bucket's new customers to the denominator.
    """
    table = rollforward_table(bind, request, customer_periods=True)
    keys = _keys(request)
    cols = ["customers_start", "churned_net_customers", "joined_customers", "joined_churned_customers"]
    agg = table.groupby(["period_start", *keys], sort=True)[cols].sum().reset_index()
    churned = agg["churned_net_customers"].copy()
    base = agg["customers_start"].copy()
    if request.policies.same_period_signup_cancel == "include":
        churned += agg["joined_churned_customers"]
        base += agg["joined_customers"]
    out = agg[["period_start", *keys]].copy()
    out["base_customers"] = base.astype("int64")
    out["churned_customers"] = churned.astype("int64")
    out["customer_churn_rate_pct"] = ratio(out["churned_customers"], out["base_customers"], 100.0)
    out["flag"] = _flag(out["base_customers"] == 0, "no_customers_at_start")
    return out


def stripe_churn_table(bind: sa.Engine | sa.Connection, request: MetricRequest) -> pd.DataFrame:
    """Customer churn per bucket, Stripe style: the 30 days ending on the bucket's last day.

    churned = churn movements in those 30 days; base = customers paying 30 days before + new and reactivated
    customers in those 30 days (each churn follows one of those, so the rate stays within 0–100).
    """
    keys = _keys(request)
    daily = request.replace(start=request.start - timedelta(days=31), grain="day")
    table = rollforward_table(bind, daily)
    cols = ["customers_end", "new_customers", "reactivated_customers", "churned_customers"]
    days = table.groupby(["period_start", *keys], sort=True)[cols].sum().reset_index()
    days["joined"] = days["new_customers"] + days["reactivated_customers"]
    days = days.sort_values([*keys, "period_start"], kind="stable")
    grouped = days.groupby(keys, sort=False) if keys else None
    if grouped is not None:
        days["churned_30"] = grouped["churned_customers"].transform(lambda s: s.rolling(30, min_periods=1).sum())
        days["joined_30"] = grouped["joined"].transform(lambda s: s.rolling(30, min_periods=1).sum())
        days["active_before"] = grouped["customers_end"].shift(30).fillna(0)
    else:
        days["churned_30"] = days["churned_customers"].rolling(30, min_periods=1).sum()
        days["joined_30"] = days["joined"].rolling(30, min_periods=1).sum()
        days["active_before"] = days["customers_end"].shift(30).fillna(0)
    buckets = bucket_frame(request)
    ends = buckets.rename(columns={"last_day": "day"})[["period_start", "day"]]
    picked = ends.merge(days.rename(columns={"period_start": "day"}), on="day", how="left")
    out = picked[["period_start", *keys]].copy()
    out["base_customers"] = (picked["active_before"] + picked["joined_30"]).fillna(0).astype("int64")
    out["churned_customers"] = picked["churned_30"].fillna(0).astype("int64")
    out["customer_churn_rate_pct"] = ratio(out["churned_customers"], out["base_customers"], 100.0)
    out["flag"] = _flag(out["base_customers"] == 0, "no_customers_at_start")
    return out.sort_values(["period_start", *keys], kind="stable").reset_index(drop=True)


@metric(
    "customer_churn_rate",
    unit="percent of customers",
    formula=_CHURN_FORMULA,
    domain="revenue",
    policies=(*MOVEMENT_POLICIES, "churn_rate", "same_period_signup_cancel"),
)
def customer_churn_rate(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Share of paying customers lost per bucket, per the ``churn_rate`` policy.

    Formula: customer churn rate = 100 × churned customers ÷ customers at period start (chartmogul); 100 × churned
    in the last 30 days ÷ (active 30 days ago + new in those 30 days) (stripe_30d)

    Columns: ``period_start``, breakdown keys, ``base_customers`` (the denominator), ``churned_customers``,
    ``customer_churn_rate_pct`` (NaN with ``flag = "no_customers_at_start"`` when the denominator is 0).
    """
    request.only_breakdowns("customer_churn_rate", _KEYS)
    with metric_connection(engine) as conn:
        if request.policies.churn_rate == "stripe_30d":
            return stripe_churn_table(conn, request)
        return chartmogul_churn_table(conn, request).reset_index(drop=True)


def _converted(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    with metric_connection(engine) as conn:
        table = in_reporting_currency(conn, request, rollforward_table(conn, request))
    keys = _keys(request)
    return table.sort_values(["period_start", *keys], kind="stable").reset_index(drop=True)


@metric(
    "gross_mrr_churn_rate",
    unit="percent of MRR at period start",
    formula="gross MRR churn = 100 × (churn + contraction) ÷ MRR at period start",
    domain="revenue",
    policies=MOVEMENT_POLICIES,
)
def gross_mrr_churn_rate(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """MRR lost to churn and contraction per bucket, relative to the opening MRR.

    Formula: gross MRR churn = 100 × (churn + contraction) ÷ MRR at period start

    Movements of customers who joined during the bucket count too, so a customer who joins and leaves within it
    can push the rate above 100. Columns: ``period_start``, breakdown keys, ``currency``, ``mrr_start_minor``,
    ``lost_minor``, ``gross_mrr_churn_rate_pct`` (NaN with ``flag = "no_mrr_at_start"``).
    """
    request.only_breakdowns("gross_mrr_churn_rate", _KEYS)
    table = _converted(engine, request)
    out = table[["period_start", *_keys(request), "currency", "mrr_start_minor"]].copy()
    out["lost_minor"] = table["churn_minor"] + table["contraction_minor"]
    out["gross_mrr_churn_rate_pct"] = ratio(out["lost_minor"], out["mrr_start_minor"], 100.0)
    out["flag"] = _flag(out["mrr_start_minor"] == 0, "no_mrr_at_start")
    return out


@metric(
    "net_mrr_churn_rate",
    unit="percent of MRR at period start",
    formula="net MRR churn = 100 × (churn + contraction − expansion − reactivation) ÷ MRR at period start",
    domain="revenue",
    policies=MOVEMENT_POLICIES,
)
def net_mrr_churn_rate(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """MRR lost net of expansion and reactivation per bucket, relative to the opening MRR (negative = net growth).

    Formula: net MRR churn = 100 × (churn + contraction − expansion − reactivation) ÷ MRR at period start

    Columns: ``period_start``, breakdown keys, ``currency``, ``mrr_start_minor``, ``net_lost_minor``,
    ``net_mrr_churn_rate_pct`` (NaN with ``flag = "no_mrr_at_start"``).
    """
    request.only_breakdowns("net_mrr_churn_rate", _KEYS)
    table = _converted(engine, request)
    out = table[["period_start", *_keys(request), "currency", "mrr_start_minor"]].copy()
    out["net_lost_minor"] = (
        table["churn_minor"] + table["contraction_minor"] - table["expansion_minor"] - table["reactivation_minor"]
    )
    out["net_mrr_churn_rate_pct"] = ratio(out["net_lost_minor"], out["mrr_start_minor"], 100.0)
    out["flag"] = _flag(out["mrr_start_minor"] == 0, "no_mrr_at_start")
    return out


@metric(
    "quick_ratio",
    unit="ratio",
    formula="quick ratio = (new + expansion + reactivation) ÷ (contraction + churn) (chartmogul); "
    "(new + expansion) ÷ (contraction + churn) (baremetrics)",
    domain="revenue",
    policies=(*MOVEMENT_POLICIES, "quick_ratio"),
)
def quick_ratio(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """SaaS quick ratio per bucket: MRR gained per unit of MRR lost, per the ``quick_ratio`` policy.

    Formula: quick ratio = (new + expansion + reactivation) ÷ (contraction + churn) (chartmogul); (new + expansion)
    ÷ (contraction + churn) (baremetrics)

    Columns: ``period_start``, breakdown keys, ``currency``, ``gained_minor``, ``lost_minor``, ``quick_ratio`` (NaN
    with ``flag = "no_losses"`` when nothing was lost).
    """
    request.only_breakdowns("quick_ratio", _KEYS)
    table = _converted(engine, request)
    out = table[["period_start", *_keys(request), "currency"]].copy()
    gained = table["new_minor"] + table["expansion_minor"]
    if request.policies.quick_ratio == "chartmogul":
        gained = gained + table["reactivation_minor"]
    out["gained_minor"] = gained
    out["lost_minor"] = table["contraction_minor"] + table["churn_minor"]
    out["quick_ratio"] = ratio(out["gained_minor"], out["lost_minor"])
    out["flag"] = _flag(out["lost_minor"] == 0, "no_losses")
    return out
