"""What a click on a dashboard opens: the rows behind the number, from the library's drill-downs.

Each function returns a :class:`~analytics.widgets.drill.Drill` for a panel: the chart fields a click selects and
how they become a :func:`analytics.metrics.drilldown.rows_behind` call for the page's selection (the same
:class:`~analytics.metrics.request.MetricRequest` the panel's metric was asked with, narrowed to the chosen
product or plan the same way). The rows therefore add up to the number that was clicked. The churn page's rows
come from the stored scores it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from analytics.kpis import Filters, NotAvailable, kpi_window
from analytics.widgets.drill import Drill, DrillRows

if TYPE_CHECKING:
    from analytics.dashboards.session import Dashboard

__all__ = [
    "cohort_drill",
    "drill_rows",
    "factor_drill",
    "kpi_drills",
    "lesson_drill",
    "member_drill",
    "metric_drill",
    "movement_drill",
    "risk_level_drill",
    "score_band_drill",
]

MOVEMENT_STEPS = {
    "New": "new",
    "Expansion": "expansion",
    "Reactivation": "reactivation",
    "Contraction": "contraction",
    "Churn": "churn",
    "FX": "fx",
}
"""Waterfall bar labels (:func:`analytics.charts.waterfall_frame`) → movement kinds of the drill-down."""


def _narrowing(filters: Filters) -> dict[str, str]:
    if filters.plan_id:
        return {"plan": filters.plan_id}
    if filters.product_id:
        return {"product": filters.product_id}
    return {}


def drill_rows(
    dashboard: Dashboard, name: str, start: date, end: date, grain: str, filters: Filters, **selection: Any
) -> DrillRows:
    """Run the drill-down ``name`` for the account over ``[start, end]`` by ``grain``, narrowed like the page."""
    from analytics.errors import MetricError
    from analytics.metrics import MetricRequest
    from analytics.metrics.drilldown import get_drilldown

    spec = get_drilldown(name)
    request = MetricRequest.build(dashboard.account_id, start, end, grain)
    try:
        rows = spec(dashboard.engine, request, **selection, **_narrowing(filters))
    except MetricError as exc:
        if "broken down" in str(exc):
            raise NotAvailable("These rows cannot be narrowed to one product or plan; choose all of them.") from exc
        raise
    return DrillRows(spec.title, rows, note=spec.formula, currency=dashboard.account.currency)


def day_of(value: Any, time_zone: str | None) -> date:
    """A clicked temporal value as a day: Vega sends dates as epoch milliseconds of the browser's local midnight
    (``time_zone``, which the chart widget reports), or as an ISO string."""
    if isinstance(value, (int, float)):
        zone = ZoneInfo(time_zone) if time_zone else UTC
        return datetime.fromtimestamp(float(value) / 1000, tz=zone).date()
    return pd.Timestamp(str(value)).date()


def kpi_drills(dashboard: Dashboard, names: list[str]) -> dict[str, Drill]:
    """The drill-down behind each KPI card that has one (:data:`analytics.metrics.drilldown.KPI_DRILLDOWNS`), for
    the card's own period (the last complete bucket, :func:`analytics.kpis.kpi_window`)."""
    from analytics.metrics.drilldown import KPI_DRILLDOWNS

    drills: dict[str, Drill] = {}
    for name in names:
        if name not in KPI_DRILLDOWNS:
            continue
        drilldown, fixed = KPI_DRILLDOWNS[name]

        def rows(
            _selection: Mapping[str, Any], f: Filters, drilldown: str = drilldown, fixed: Any = fixed
        ) -> DrillRows:
            w = kpi_window(f)
            return drill_rows(dashboard, drilldown, w.current_start, w.current_end, w.grain, f, **dict(fixed))

        drills[name] = Drill((), rows)
    return drills


def metric_drill(
    dashboard: Dashboard,
    drilldown: str,
    fields: tuple[str, ...],
    *,
    fixed: Mapping[str, Any] | None = None,
    hint: str = "Click a mark to see the rows behind it.",
    as_of_end: bool = False,
) -> Drill:
    """A chart's click → ``drilldown`` with the clicked fields as its selection (temporal ``period_start`` values
    become days). ``as_of_end`` asks for the state on the range's last day (a members-by-status bar)."""

    def rows(selection: Mapping[str, Any], f: Filters) -> DrillRows:
        chosen = dict(fixed or {})
        for field in fields:
            value = selection.get(field)
            chosen[field] = day_of(value, selection.get("_time_zone")) if field == "period_start" else value
        start = f.end if as_of_end else f.start
        return drill_rows(dashboard, drilldown, start, f.end, "day" if as_of_end else f.grain, f, **chosen)

    return Drill(fields, rows, hint)


def movement_drill(dashboard: Dashboard) -> Drill:
    """A waterfall bar → the movements of that kind over the range (Start/End: the subscriptions paying then)."""

    def rows(selection: Mapping[str, Any], f: Filters) -> DrillRows:
        step = str(selection.get("step"))
        if step == "Start":
            return drill_rows(dashboard, "paying_subscriptions", f.start, f.start, "day", f)
        if step == "End":
            return drill_rows(dashboard, "paying_subscriptions", f.end, f.end, "day", f)
        if step not in MOVEMENT_STEPS:
            raise NotAvailable(f"No rows behind {step!r}.")
        return drill_rows(dashboard, "mrr_movement_rows", f.start, f.end, f.grain, f, movement=MOVEMENT_STEPS[step])

    return Drill(("step",), rows, "Click a bar to see its subscriptions or movements.")


def cohort_drill(dashboard: Dashboard) -> Drill:
    """A cohort heat-map cell → the cohort's customers with their starting MRR and their MRR ``period`` buckets on."""

    def rows(selection: Mapping[str, Any], f: Filters) -> DrillRows:
        grain = "month" if f.grain == "month" else "week"
        cohort = pd.Timestamp(str(selection["cohort"])).date()
        return drill_rows(
            dashboard, "cohort_cell_customers", cohort, f.end, grain, f, cohort=cohort, k=int(selection["period"])
        )

    return Drill(("cohort", "period"), rows, "Click a cell to see the cohort's customers.")


def lesson_drill(dashboard: Dashboard) -> Drill:
    """A lesson's bar → the learners who completed the lesson before it but not this one."""
    return metric_drill(
        dashboard, "lesson_dropoff_learners", ("lesson_id",), hint="Click a lesson to see who stopped before it."
    )


def score_band_drill(dashboard: Dashboard) -> Drill:
    """A score band of the histogram → the current members whose score falls in it (the metric's own rows)."""

    def rows(selection: Mapping[str, Any], f: Filters) -> DrillRows:
        low = int(selection["low"])
        scores = dashboard.metric("engagement_score", f.end, f.end, "day", f)
        high = 101 if low >= 90 else low + 10
        chosen = scores[(scores["score"] >= low) & (scores["score"] < high)].reset_index(drop=True)
        title = f"Members with an engagement score of {low}–{min(high, 101) - 1}"
        return DrillRows(title, chosen, currency=dashboard.account.currency)

    return Drill(("low",), rows, "Click a band to see its members.")


def _scores(dashboard: Dashboard) -> pd.DataFrame:
    from analytics.models.churn.predictions import latest_scores

    scores = latest_scores(dashboard.engine, dashboard.account_id)
    if scores.empty:
        raise NotAvailable("No churn scores yet.")
    return scores


def _score_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored scores as a table: factors and actions written out, probability as a share."""

    def join(items: Any) -> str:
        return "; ".join(str(item.get("text", item)) for item in (items or []))

    out = frame[["member", "member_id", "risk_level", "probability", "as_of"]].copy()
    out["why"] = [join(f) for f in frame["factors"]]
    out["what_to_do"] = [join(a) for a in frame["actions"]]
    return out.reset_index(drop=True)


def risk_level_drill(dashboard: Dashboard) -> Drill:
    """A risk-level bar → the scored members at that level (the stored scores the bar counts)."""

    def rows(selection: Mapping[str, Any], _f: Filters) -> DrillRows:
        level = str(selection["risk_level"])
        scores = _scores(dashboard)
        return DrillRows(f"Members at {level} risk", _score_rows(scores[scores["risk_level"] == level]))

    return Drill(("risk_level",), rows, "Click a bar to see its members.")


def factor_drill(dashboard: Dashboard) -> Drill:
    """A factor's bar → the members at medium risk or above for whom it is a top factor."""

    def rows(selection: Mapping[str, Any], _f: Filters) -> DrillRows:
        feature = str(selection["feature"])
        scores = _scores(dashboard)
        at_risk = scores[scores["risk_level"] != "low"]
        has = [any(item.get("feature") == feature for item in (f or [])) for f in at_risk["factors"]]
        return DrillRows(f"Members at risk because of {feature.replace('_', ' ')}", _score_rows(at_risk[has]))

    return Drill(("feature",), rows, "Click a factor to see its members.")


def member_drill(dashboard: Dashboard) -> Drill:
    """An at-risk member → their stored score with why and what to do, their payments and their activity of the
    last 90 days (:func:`analytics.metrics.drilldown_member.member_detail`)."""

    def rows(selection: Mapping[str, Any], _f: Filters) -> DrillRows:
        from datetime import timedelta

        from analytics.metrics import MetricRequest
        from analytics.metrics.drilldown_member import member_detail

        member_id = str(selection["member_id"])
        end = dashboard.latest() or dashboard.today()
        request = MetricRequest.build(dashboard.account_id, end - timedelta(days=89), end, "day")
        detail = member_detail(dashboard.engine, request, member_id)
        name = str(detail.risk["member"].iloc[0]) if len(detail.risk) and "member" in detail.risk else member_id
        return DrillRows(
            f"{name}: churn risk, why and what to do",
            detail.risk,
            currency=dashboard.account.currency,
            sections=(("Payments, last 90 days", detail.payments), ("Activity, last 90 days", detail.activity)),
        )

    return Drill(("member_id",), rows, "Click a member to see their payments and activity.", sections=2)
