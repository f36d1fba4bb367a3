"""Metrics: every definition once, as SQL pushed down to the store, returned as pandas DataFrames.

Every registered metric is ``fn(engine, request: MetricRequest) -> DataFrame`` (see :mod:`analytics.metrics.catalog`).
Engagement, funnel, content and messaging metrics are also plain keyword functions for analysts, e.g.
``analytics.metrics.engagement_scores(engine, "biz_…", as_of="2025-12-31")``.
"""

from analytics.metrics.activity import active_members, activity_heatmap, lifecycle, stickiness
from analytics.metrics.catalog import MetricSpec, catalog, catalog_markdown, get, metric
from analytics.metrics.content import ContentScoreWeights, content_ranking, course_stats, lesson_stats, post_stats
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
from analytics.metrics.growth import growth_pct
from analytics.metrics.messaging import messaging_rates
from analytics.metrics.policies import DEFINITIONS_VERSION, Policies, policy_table
from analytics.metrics.request import BREAKDOWNS, MetricRequest, account_settings
from analytics.metrics.retention import cohort_retention

__all__ = [
    "BREAKDOWNS",
    "DEFINITIONS_VERSION",
    "GRAINS",
    "SEED_FUNNELS",
    "ContentScoreWeights",
    "EngagementWeights",
    "Grain",
    "MetricRequest",
    "MetricSpec",
    "Policies",
    "account_settings",
    "active_members",
    "activity_counts",
    "activity_heatmap",
    "catalog",
    "catalog_markdown",
    "cohort_retention",
    "content_ranking",
    "course_stats",
    "engagement_scores",
    "engagement_segments",
    "funnel",
    "get",
    "growth_pct",
    "idle_members",
    "lesson_stats",
    "lifecycle",
    "messaging_rates",
    "metric",
    "policy_table",
    "post_stats",
    "stickiness",
    "top_members",
]
