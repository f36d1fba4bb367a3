"""Recurring revenue: MRR and ARR series, ARPA/ARPU and LTV.

Amounts are integer minor units of the reporting currency (the account's, or the request's), converted at the
rate of each bucket's last day (:mod:`analytics.metrics.fx`), unless the request breaks down by currency.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.metrics.catalog import metric
from analytics.metrics.dialect import metric_connection
from analytics.metrics.fx import convert_amounts, load_rates
from analytics.metrics.membership_state import membership_deltas, scope_for
from analytics.metrics.movements import MOVEMENT_POLICIES, in_reporting_currency, rollforward_table, with_currency
from analytics.metrics.request import MetricRequest, account_settings
from analytics.metrics.series import dense_grid, fetch_frame, ratio, running_state
from analytics.metrics.shared import shared_table

__all__ = ["arpa", "arpu", "arr_series", "ltv", "mrr_series", "mrr_table"]

_VALUE_BREAKDOWNS = ("product", "plan", "currency")


def _reporting(bind: sa.Engine | sa.Connection, request: MetricRequest) -> str:
    return request.reporting_currency or account_settings(bind, request.account_id).reporting_currency


@shared_table
def mrr_table(bind: sa.Engine | sa.Connection, request: MetricRequest) -> pd.DataFrame:
    """MRR at the end of each bucket per key, in the reporting currency (or per currency when broken down by it).

    One aggregation of the membership deltas (no customer-level work): columns ``period_start``, ``product`` /
    ``plan`` when requested, ``currency``, ``mrr_minor``.
    """
    scope = scope_for(bind, request)
    d = membership_deltas(scope)
    keys = list(scope.keys)
    query = sa.select(d.c.bucket, *[d.c[k] for k in keys], sa.func.sum(d.c.delta).label("net")).group_by(
        d.c.bucket, *[d.c[k] for k in keys]
    )
    raw = fetch_frame(bind, query, ["bucket", *keys, "net"])
    keys = with_currency(raw, scope)
    grid = dense_grid(raw, request, keys, ["net"], {"currency": scope.default_currency})
    grid["mrr_minor"] = running_state(grid, keys, "net")
    others = [b for b in ("product", "plan") if b in request.breakdowns]
    if "currency" not in request.breakdowns:
        rates = load_rates(
            bind, grid["currency"].unique(), _reporting(bind, request), request.end, request.start - timedelta(days=1)
        )
        grid["mrr_minor"] = convert_amounts(grid["mrr_minor"], grid["currency"], grid["last_day"], rates)
        grid = grid.groupby(["period_start", *others], sort=True)["mrr_minor"].sum().reset_index()
        grid["currency"] = rates.reporting
    columns = ["period_start", *others, "currency", "mrr_minor"]
    return grid[columns].sort_values(["period_start", *others, "currency"], kind="stable").reset_index(drop=True)


@metric(
    "mrr",
    unit="minor units of the reporting currency",
    formula="MRR = Σ over paying memberships of renewal_price × 30 ÷ billing_period_days (365-day plans: price ÷ 12)",
    domain="revenue",
    policies=("churn_recognition", "past_due_in_mrr", "annual_normalisation", "discounts"),
)
def mrr_series(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Monthly recurring revenue at the end of each bucket.

    Formula: MRR = Σ over paying memberships of renewal_price × 30 ÷ billing_period_days (365-day plans: price ÷ 12)

    A membership pays while its status is active or canceling (past_due too under ``past_due_in_mrr``), its plan
    recurs and its price after discounts is positive; each membership's MRR is rounded half up to a whole minor
    unit. Trials, free, one-time, completed, canceled and expired memberships count 0. Columns: ``period_start``,
    breakdown keys, ``currency``, ``mrr_minor``.
    """
    request.only_breakdowns("mrr", _VALUE_BREAKDOWNS)
    with metric_connection(engine) as conn:
        return mrr_table(conn, request)


@metric(
    "arr",
    unit="minor units of the reporting currency",
    formula="ARR = 12 × MRR",
    domain="revenue",
    policies=("churn_recognition", "past_due_in_mrr", "annual_normalisation", "discounts"),
)
def arr_series(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Annual run rate at the end of each bucket.

    Formula: ARR = 12 × MRR

    Columns: ``period_start``, breakdown keys, ``currency``, ``arr_minor``.
    """
    request.only_breakdowns("arr", _VALUE_BREAKDOWNS)
    with metric_connection(engine) as conn:
        frame = mrr_table(conn, request)
    frame["arr_minor"] = frame.pop("mrr_minor") * 12
    return frame


def _converted_rollforward(conn: sa.Connection, request: MetricRequest) -> pd.DataFrame:
    return in_reporting_currency(conn, request, rollforward_table(conn, request))


@metric(
    "arpa",
    unit="minor units of the reporting currency per paying customer",
    formula="ARPA = MRR ÷ paying customers",
    domain="revenue",
    policies=MOVEMENT_POLICIES,
)
def arpa(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Average revenue per account (paying customer) at the end of each bucket.

    Formula: ARPA = MRR ÷ paying customers

    A customer is a member with MRR > 0 (several memberships are one customer). Columns: ``period_start``,
    breakdown keys, ``currency``, ``mrr_minor``, ``paying_customers``, ``arpa_minor`` (float; NaN with
    ``flag = "no_paying_customers"`` when there are none).
    """
    request.only_breakdowns("arpa", _VALUE_BREAKDOWNS)
    with metric_connection(engine) as conn:
        table = _converted_rollforward(conn, request)
    keys = [b for b in ("product", "plan") if b in request.breakdowns]
    out = table[["period_start", *keys, "currency"]].copy()
    out["mrr_minor"] = table["mrr_end_minor"]
    out["paying_customers"] = table["customers_end"]
    out["arpa_minor"] = ratio(out["mrr_minor"], out["paying_customers"])
    out["flag"] = np.where(out["paying_customers"] == 0, "no_paying_customers", "")
    return out.sort_values(["period_start", *keys], kind="stable").reset_index(drop=True)


@metric(
    "arpu",
    unit="minor units of the reporting currency per customer or member",
    formula="ARPU = MRR ÷ paying customers (policy arpu=per_paying_customer) or MRR ÷ members with access (per_member)",
    domain="revenue",
    policies=(*MOVEMENT_POLICIES, "arpu"),
)
def arpu(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Average revenue per user at the end of each bucket, per the ``arpu`` policy.

    Formula: ARPU = MRR ÷ paying customers (policy arpu=per_paying_customer) or MRR ÷ members with access (per_member)

    Members with access have a trialing, active, canceling, past_due or completed membership, paying or not (the
    access that makes a current member in the engagement metrics). Columns:
    ``period_start``, ``currency``, ``mrr_minor``, ``users``, ``arpu_minor`` (NaN with ``flag = "no_users"`` when 0).
    """
    request.only_breakdowns("arpu", ())
    with metric_connection(engine) as conn:
        table = _converted_rollforward(conn, request)
        if request.policies.arpu == "per_member":
            users = rollforward_table(conn, request, value="access")["customers_end"].to_numpy()
        else:
            users = table["customers_end"].to_numpy()
    out = table[["period_start", "currency"]].copy()
    out["mrr_minor"] = table["mrr_end_minor"]
    out["users"] = users
    out["arpu_minor"] = ratio(out["mrr_minor"], out["users"])
    out["flag"] = np.where(out["users"] == 0, "no_users", "")
    return out.reset_index(drop=True)


@metric(
    "ltv",
    unit="minor units of the reporting currency per customer",
    formula="LTV = ARPA ÷ (mean monthly customer churn rate of the previous ltv_churn_months months ÷ 100)",
    domain="revenue",
    policies=(*MOVEMENT_POLICIES, "same_period_signup_cancel", "ltv_churn_months"),
)
def ltv(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Customer lifetime value at the end of each bucket (ChartMogul: ARPA ÷ trailing customer churn).

    Formula: LTV = ARPA ÷ (mean monthly customer churn rate of the previous ltv_churn_months months ÷ 100)

    The churn rate is the ChartMogul monthly customer churn rate of the ``ltv_churn_months`` calendar months before
    the bucket's month (the current month excluded; months without customers at their start are skipped). LTV is
    undefined, not infinite: NaN with ``flag = "zero_churn"`` when that churn is 0, ``"no_churn_history"`` when no
    month qualifies, ``"no_paying_customers"`` when ARPA is undefined. Columns: ``period_start``, ``currency``,
    ``arpa_minor``, ``churn_rate_pct`` (the trailing mean), ``churn_months`` (months averaged), ``ltv_minor``,
    ``flag``.
    """
    from analytics.metrics.churn_rates import chartmogul_churn_table

    request.only_breakdowns("ltv", ())
    months = request.policies.ltv_churn_months
    first_month = request.start.replace(day=1)
    for _ in range(months):
        first_month = (first_month - timedelta(days=1)).replace(day=1)
    monthly = request.replace(start=first_month, grain="month", breakdowns=())
    with metric_connection(engine) as conn:
        churn = chartmogul_churn_table(conn, monthly)
    per_month = pd.Series(churn["customer_churn_rate_pct"].to_numpy(), index=churn["period_start"])
    base = arpa(engine, request)
    out = base[["period_start", "currency", "arpa_minor"]].copy()
    means, counts = [], []
    for last in base["period_start"]:
        month = pd.Timestamp(last).replace(day=1)
        window = per_month[(per_month.index < month) & (per_month.index >= month - pd.DateOffset(months=months))]
        window = window.dropna()
        counts.append(len(window))
        means.append(float(window.mean()) if len(window) else np.nan)
    out["churn_rate_pct"] = means
    out["churn_months"] = counts
    out["ltv_minor"] = ratio(out["arpa_minor"].fillna(0), out["churn_rate_pct"].fillna(0), scale=100.0)
    flag = np.where(out["churn_months"] == 0, "no_churn_history", "")
    flag = np.where((flag == "") & (out["churn_rate_pct"] == 0), "zero_churn", flag)
    flag = np.where((flag == "") & out["arpa_minor"].isna(), "no_paying_customers", flag)
    out.loc[flag != "", "ltv_minor"] = np.nan
    out["flag"] = flag
    return out.reset_index(drop=True)
