"""Contractual retention: the shifted-beta-geometric model, cohort LTV (DERL) and the 90-day revenue forecast."""

from analytics.models.retention.cohorts import (
    cohort_retention,
    kaplan_meier,
    member_lifetimes,
    paying_members,
    trailing_churn_rate,
)
from analytics.models.retention.forecast import (
    RetentionProjection,
    lifetime_value,
    retention_projection,
    revenue_forecast,
)
from analytics.models.retention.sbg import ShiftedBetaGeometricFitter, survival_to_durations

__all__ = [
    "RetentionProjection",
    "ShiftedBetaGeometricFitter",
    "cohort_retention",
    "kaplan_meier",
    "lifetime_value",
    "member_lifetimes",
    "paying_members",
    "retention_projection",
    "revenue_forecast",
    "survival_to_durations",
    "trailing_churn_rate",
]
