"""Metrics: every definition once, as SQL pushed down to the store, returned as pandas DataFrames."""

from analytics.metrics.catalog import MetricSpec, catalog, get, metric
from analytics.metrics.dialect import GRAINS, Grain
from analytics.metrics.policies import DEFINITIONS_VERSION, Policies

__all__ = ["DEFINITIONS_VERSION", "GRAINS", "Grain", "MetricSpec", "Policies", "catalog", "get", "metric"]
