"""Metrics: every definition once, as SQL pushed down to the store, returned as pandas DataFrames.

Every registered metric is ``fn(engine, request: MetricRequest) -> DataFrame`` (see :mod:`analytics.metrics.catalog`).
"""

from analytics.metrics.catalog import MetricSpec, catalog, catalog_markdown, get, metric
from analytics.metrics.dialect import GRAINS, Grain
from analytics.metrics.policies import DEFINITIONS_VERSION, Policies, policy_table
from analytics.metrics.request import BREAKDOWNS, MetricRequest, account_settings

__all__ = [
    "BREAKDOWNS",
    "DEFINITIONS_VERSION",
    "GRAINS",
    "Grain",
    "MetricRequest",
    "MetricSpec",
    "Policies",
    "account_settings",
    "catalog",
    "catalog_markdown",
    "get",
    "metric",
    "policy_table",
]
