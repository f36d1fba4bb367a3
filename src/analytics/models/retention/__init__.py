"""Contractual retention: the shifted-beta-geometric model, cohort LTV (DERL) and the 90-day revenue forecast.

Names are imported on first use (SciPy only when a model is fitted).
"""

from __future__ import annotations

import importlib
from typing import Any

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

_HOMES = {
    "RetentionProjection": "analytics.models.retention.forecast",
    "ShiftedBetaGeometricFitter": "analytics.models.retention.sbg",
    "cohort_retention": "analytics.models.retention.cohorts",
    "kaplan_meier": "analytics.models.retention.cohorts",
    "lifetime_value": "analytics.models.retention.forecast",
    "member_lifetimes": "analytics.models.retention.cohorts",
    "paying_members": "analytics.models.retention.cohorts",
    "retention_projection": "analytics.models.retention.forecast",
    "revenue_forecast": "analytics.models.retention.forecast",
    "survival_to_durations": "analytics.models.retention.sbg",
    "trailing_churn_rate": "analytics.models.retention.cohorts",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
