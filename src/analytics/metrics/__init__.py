"""Metrics: every definition once, as SQL pushed down to the store, returned as pandas DataFrames.

Every registered metric is ``fn(engine, request: MetricRequest) -> DataFrame`` (see :mod:`analytics.metrics.catalog`);
importing this package registers them. ``catalog()`` lists them; the convenience functions
(``mrr(engine, account_id, start, end, grain="month", …)``, …) build the request for you. Engagement, funnel, content
and messaging metrics are also plain keyword functions for analysts, e.g.
``analytics.metrics.engagement_scores(engine, "biz_…", as_of="2025-12-31")``.

Drill-downs return the rows behind a number for the same request: ``rows_behind("paying_subscriptions", engine,
request)`` (``drilldowns()`` lists them; see :mod:`analytics.metrics.drilldown`).
"""

from analytics.metrics import (  # noqa: F401  (registration)
    billing,
    cash,
    churn_rates,
    cohorts,
    drilldown_billing,
    drilldown_engagement,
    drilldown_member,
    drilldown_revenue,
    membership_status,
    movements,
    revenue,
)
from analytics.metrics.activity import active_members, activity_heatmap, lifecycle, stickiness
from analytics.metrics.catalog import MetricSpec, catalog, catalog_markdown, get, metric
from analytics.metrics.content import ContentScoreWeights, content_ranking, course_stats, lesson_stats, post_stats
from analytics.metrics.dialect import GRAINS, Grain
from analytics.metrics.drilldown import KPI_DRILLDOWNS, DrilldownSpec, drilldowns, get_drilldown, rows_behind
from analytics.metrics.drilldown_billing import failed_payment_rows, memberships_in_status
from analytics.metrics.drilldown_engagement import (
    active_member_rows,
    engagement_segment_members,
    idle_member_rows,
    lesson_dropoff_learners,
)
from analytics.metrics.drilldown_member import (
    MemberDetail,
    member_activity,
    member_churn_risk,
    member_detail,
    member_payments,
)
from analytics.metrics.drilldown_revenue import (
    cohort_cell_customers,
    customer_churn_rows,
    mrr_movement_rows,
    paying_subscriptions,
)
from analytics.metrics.engagement import (
    POPULATIONS,
    EngagementWeights,
    Population,
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
    memberships_by_status,
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
    "KPI_DRILLDOWNS",
    "POPULATIONS",
    "SEED_FUNNELS",
    "ContentScoreWeights",
    "DrilldownSpec",
    "EngagementWeights",
    "Grain",
    "MemberDetail",
    "MetricRequest",
    "MetricSpec",
    "Policies",
    "Population",
    "account_settings",
    "active_member_rows",
    "active_members",
    "activity_counts",
    "activity_heatmap",
    "arpa",
    "arpu",
    "arr",
    "cash_revenue",
    "catalog",
    "catalog_markdown",
    "churn_by_reason",
    "cohort_cell_customers",
    "cohort_retention",
    "compute",
    "content_ranking",
    "course_stats",
    "customer_churn_rate",
    "customer_churn_rows",
    "disputes",
    "drilldowns",
    "engagement_scores",
    "engagement_segment_members",
    "engagement_segments",
    "failed_payment_rows",
    "failed_payments",
    "funnel",
    "get",
    "get_drilldown",
    "gross_mrr_churn_rate",
    "growth_pct",
    "idle_member_rows",
    "idle_members",
    "lesson_dropoff_learners",
    "lesson_stats",
    "lifecycle",
    "ltv",
    "member_activity",
    "member_churn_risk",
    "member_detail",
    "member_payments",
    "memberships_by_status",
    "memberships_in_status",
    "messaging_rates",
    "metric",
    "mrr",
    "mrr_movement_log",
    "mrr_movement_rows",
    "mrr_movements",
    "net_mrr_churn_rate",
    "net_mrr_retention",
    "paying_subscriptions",
    "policy_table",
    "post_stats",
    "quick_ratio",
    "refunds",
    "rows_behind",
    "signup_retention",
    "stickiness",
    "top_members",
    "trials",
]
