"""Metrics: every definition once, as SQL pushed down to the store, returned as pandas DataFrames.

Every registered metric is ``fn(engine, request: MetricRequest) -> DataFrame`` (see :mod:`analytics.metrics.catalog`);
importing this package registers them. ``catalog()`` lists them; the convenience functions
(``mrr(engine, account_id, start, end, grain="month", …)``, …) build the request for you.
"""

from analytics.metrics import billing, cash, churn_rates, cohorts, movements, revenue  # noqa: F401  (registration)
from analytics.metrics.catalog import MetricSpec, catalog, catalog_markdown, get, metric
from analytics.metrics.dialect import GRAINS, Grain
from analytics.metrics.policies import DEFINITIONS_VERSION, Policies, policy_table
from analytics.metrics.request import BREAKDOWNS, MetricRequest, account_settings
from analytics.metrics.revenue_api import (
    arpa,
    arpu,
    arr,
    cash_revenue,
    churn_by_reason,
    compute,
    customer_churn_rate,
    disputes,
    failed_payments,
    gross_mrr_churn_rate,
    ltv,
    mrr,
    mrr_movement_log,
    mrr_movements,
    net_mrr_churn_rate,
    net_mrr_retention,
    quick_ratio,
    refunds,
    signup_retention,
    trials,
)

__all__ = [
    "BREAKDOWNS",
    "DEFINITIONS_VERSION",
    "GRAINS",
    "Grain",
    "MetricRequest",
    "MetricSpec",
    "Policies",
    "account_settings",
    "arpa",
    "arpu",
    "arr",
    "cash_revenue",
    "catalog",
    "catalog_markdown",
    "churn_by_reason",
    "compute",
    "customer_churn_rate",
    "disputes",
    "failed_payments",
    "get",
    "gross_mrr_churn_rate",
    "ltv",
    "metric",
    "mrr",
    "mrr_movement_log",
    "mrr_movements",
    "net_mrr_churn_rate",
    "net_mrr_retention",
    "policy_table",
    "quick_ratio",
    "refunds",
    "signup_retention",
    "trials",
]
