"""Metrics: every definition once, as SQL pushed down to the store, returned as pandas DataFrames."""

from analytics.metrics.activity import active_members, activity_heatmap, lifecycle, stickiness
from analytics.metrics.catalog import MetricSpec, catalog, get, metric
from analytics.metrics.dialect import GRAINS, Grain
from analytics.metrics.engagement import (
    EngagementWeights,
    activity_counts,
    engagement_scores,
    engagement_segments,
    idle_members,
    top_members,
)
from analytics.metrics.funnels import SEED_FUNNELS, funnel
from analytics.metrics.policies import DEFINITIONS_VERSION, Policies
from analytics.metrics.retention import cohort_retention

__all__ = [
    "DEFINITIONS_VERSION",
    "GRAINS",
    "SEED_FUNNELS",
    "EngagementWeights",
    "Grain",
    "MetricSpec",
    "Policies",
    "active_members",
    "activity_counts",
    "activity_heatmap",
    "catalog",
    "cohort_retention",
    "engagement_scores",
    "engagement_segments",
    "funnel",
    "get",
    "idle_members",
    "lifecycle",
    "metric",
    "stickiness",
    "top_members",
]
