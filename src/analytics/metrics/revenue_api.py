"""Public convenience functions for the revenue metrics: ``mrr(engine, account_id, start, end, grain="month", …)``.

Each builds a :class:`~analytics.metrics.request.MetricRequest` and calls the registered metric of the same name
(see ``analytics.metrics.catalog()`` for formulas, units and policies). ``**options`` are the keyword arguments
of :func:`compute`: ``breakdowns``, ``policies`` (a :class:`~analytics.metrics.policies.Policies` or a dict of
policy names to values), ``reporting_currency``, ``params``. Dates are ``datetime.date`` or ISO strings (calendar
days in the account's time zone, both inclusive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.metrics.catalog import get
from analytics.metrics.policies import Policies
from analytics.metrics.request import MetricRequest

__all__ = [
    "arpa",
    "arpu",
    "arr",
    "cash_revenue",
    "churn_by_reason",
    "compute",
    "customer_churn_rate",
    "disputes",
    "failed_payments",
    "gross_mrr_churn_rate",
    "ltv",
    "memberships_by_status",
    "mrr",
    "mrr_movement_log",
    "mrr_movements",
    "net_mrr_churn_rate",
    "net_mrr_retention",
    "quick_ratio",
    "refunds",
    "signup_retention",
    "trials",
]

DateLike = date | str
PolicyLike = Policies | Mapping[str, Any] | None


def compute(
    name: str,
    engine: Engine,
    account_id: str,
    start: DateLike,
    end: DateLike,
    grain: str = "month",
    *,
    breakdowns: Iterable[str] = (),
    policies: PolicyLike = None,
    reporting_currency: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Compute any registered metric by name (what every function below does)."""
    request = MetricRequest.build(
        account_id,
        start,
        end,
        grain,
        breakdowns=breakdowns,
        policies=policies,
        reporting_currency=reporting_currency,
        params=params,
    )
    result: pd.DataFrame = get(name).function(engine, request)
    return result


def mrr(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """MRR at the end of each bucket."""
    return compute("mrr", engine, account_id, start, end, grain, **options)


def arr(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """ARR (12 × MRR) at the end of each bucket."""
    return compute("arr", engine, account_id, start, end, grain, **options)


def mrr_movements(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """MRR roll-forward per bucket: new, expansion, reactivation, contraction, churn, FX."""
    return compute("mrr_movements", engine, account_id, start, end, grain, **options)


def mrr_movement_log(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Every customer MRR movement of the period."""
    return compute("mrr_movement_log", engine, account_id, start, end, grain, **options)


def arpa(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Average revenue per paying customer at the end of each bucket."""
    return compute("arpa", engine, account_id, start, end, grain, **options)


def arpu(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Average revenue per user (policy ``arpu``) at the end of each bucket."""
    return compute("arpu", engine, account_id, start, end, grain, **options)


def ltv(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Customer lifetime value (ARPA ÷ trailing churn), undefined when churn is 0."""
    return compute("ltv", engine, account_id, start, end, grain, **options)


def customer_churn_rate(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Customer churn rate per bucket (policy ``churn_rate``)."""
    return compute("customer_churn_rate", engine, account_id, start, end, grain, **options)


def gross_mrr_churn_rate(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Gross MRR churn rate per bucket."""
    return compute("gross_mrr_churn_rate", engine, account_id, start, end, grain, **options)


def net_mrr_churn_rate(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Net MRR churn rate per bucket."""
    return compute("net_mrr_churn_rate", engine, account_id, start, end, grain, **options)


def quick_ratio(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Quick ratio per bucket (policy ``quick_ratio``)."""
    return compute("quick_ratio", engine, account_id, start, end, grain, **options)


def trials(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Trial starts and conversion per bucket."""
    return compute("trials", engine, account_id, start, end, grain, **options)


def failed_payments(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Failed payments and recoveries per bucket."""
    return compute("failed_payments", engine, account_id, start, end, grain, **options)


def churn_by_reason(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Delinquent versus voluntary churn per bucket."""
    return compute("churn_by_reason", engine, account_id, start, end, grain, **options)


def cash_revenue(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Cash collected per bucket, net of refunds (policy ``refunds``)."""
    return compute("cash_revenue", engine, account_id, start, end, grain, **options)


def refunds(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Refunds per bucket."""
    return compute("refunds", engine, account_id, start, end, grain, **options)


def disputes(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Disputes opened per bucket and their outcome."""
    return compute("disputes", engine, account_id, start, end, grain, **options)


def net_mrr_retention(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Net MRR retention of first-payment cohorts."""
    return compute("net_mrr_retention", engine, account_id, start, end, grain, **options)


def signup_retention(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Signup-cohort retention of members with access."""
    return compute("signup_retention", engine, account_id, start, end, grain, **options)


def memberships_by_status(
    engine: Engine, account_id: str, start: DateLike, end: DateLike, grain: str = "month", **options: Any
) -> pd.DataFrame:
    """Memberships (and distinct members) in each status at the end of each bucket."""
    return compute("memberships_by_status", engine, account_id, start, end, grain, **options)
