"""Every panel a dashboard can place, by subject (the dashboard notebooks only choose and arrange them)."""

from analytics.dashboards.engagement_panels import (
    content_kpis,
    course_table,
    engagement_kpis,
    engagement_trend_chart,
    heatmap_chart,
    idle_members_table,
    lesson_dropoff_chart,
    lifecycle_chart,
    score_chart,
    segments_chart,
    top_content_table,
    top_members_table,
)
from analytics.dashboards.revenue_panels import (
    KPI_METRICS,
    churn_chart,
    cohort_chart,
    failed_payments_table,
    kpis,
    movements_chart,
    mrr_chart,
    status_chart,
)

__all__ = [
    "KPI_METRICS",
    "churn_chart",
    "cohort_chart",
    "content_kpis",
    "course_table",
    "engagement_kpis",
    "engagement_trend_chart",
    "failed_payments_table",
    "heatmap_chart",
    "idle_members_table",
    "kpis",
    "lesson_dropoff_chart",
    "lifecycle_chart",
    "movements_chart",
    "mrr_chart",
    "score_chart",
    "segments_chart",
    "status_chart",
    "top_content_table",
    "top_members_table",
]
