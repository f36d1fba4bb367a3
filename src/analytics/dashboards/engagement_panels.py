"""Engagement and content panels: scores, segments, activity heat map, lifecycle, members, courses and lessons.

Loaders call registered metrics (through :class:`analytics.kpis.AccountMetrics`) or read stored snapshots;
drawing is :mod:`analytics.charts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from analytics import charts
from analytics.dashboards import drills
from analytics.dashboards.data import snapshot_period
from analytics.kpis import Filters, Kpi, NotAvailable, kpi_window
from analytics.widgets.drill import Drill, DrillRows
from analytics.widgets.panels import ChartPanel, KpiPanel, TablePanel

if TYPE_CHECKING:
    from analytics.dashboards.session import Dashboard

__all__ = [
    "content_kpis",
    "course_table",
    "engagement_kpis",
    "engagement_trend_chart",
    "heatmap_chart",
    "idle_members_table",
    "lesson_dropoff_chart",
    "lifecycle_chart",
    "score_chart",
    "segments_chart",
    "top_content_table",
    "top_members_table",
]

SEGMENTS = ["high", "medium", "low"]


def _definition(metric_name: str) -> str:
    """The catalog's description and formula of a metric (what a panel's ⓘ shows)."""
    from analytics.metrics import get

    metric = get(metric_name)
    return f"{metric.description} {metric.formula}"


def _frame(
    dashboard: Dashboard, name: str, start: date, end: date, grain: str, f: Filters, **params: object
) -> pd.DataFrame:
    return dashboard.metric(name, start, end, grain, f, dict(params) or None)


def _as_of(dashboard: Dashboard, name: str, day: date, f: Filters) -> pd.DataFrame:
    """A state metric at the end of ``day`` (engagement scores, segments, idle members)."""
    return _frame(dashboard, name, day, day, "day", f)


def engagement_kpis(dashboard: Dashboard) -> KpiPanel:
    """Active members, average engagement score, high-engagement and idle members: this period vs the previous."""

    def load(f: Filters) -> Sequence[Kpi]:
        w = kpi_window(f)
        active = _frame(dashboard, "active_members", min(f.start, w.previous_start), f.end, w.grain, f)
        by_start = dict(zip(pd.to_datetime(active["period_start"]).dt.date, active["active_members"], strict=True))
        previous_end = w.previous_end
        scores_now, scores_before = (_as_of(dashboard, "engagement_score", d, f) for d in (w.current_end, previous_end))
        idle_now, idle_before = (_as_of(dashboard, "idle_members", d, f) for d in (w.current_end, previous_end))
        return [
            Kpi(
                "active_members",
                ENGAGEMENT_KPIS["active_members"][0],
                _int(by_start.get(w.current_start)),
                _int(by_start.get(w.previous_start)),
            ),
            Kpi(
                "engagement_score_avg",
                ENGAGEMENT_KPIS["engagement_score_avg"][0],
                _mean(scores_now),
                _mean(scores_before),
                "score",
            ),
            Kpi("engaged_high", ENGAGEMENT_KPIS["engaged_high"][0], _high(scores_now), _high(scores_before)),
            Kpi("idle_members", ENGAGEMENT_KPIS["idle_members"][0], len(idle_now), len(idle_before), better="down"),
        ]

    def at_window_end(name: str, **selection: object) -> Drill:
        def rows(_selection: object, f: Filters) -> DrillRows:
            end = kpi_window(f).current_end
            return drills.drill_rows(dashboard, name, end, end, "day", f, **selection)

        return Drill((), rows)

    return KpiPanel(
        "kpis",
        [(name, label) for name, (label, _) in ENGAGEMENT_KPIS.items()],
        load,
        caption=lambda f: kpi_window(f).label,
        definitions={name: definition for name, (_, definition) in ENGAGEMENT_KPIS.items()},
        drills={
            **drills.kpi_drills(dashboard, ["active_members"]),
            "engaged_high": at_window_end("engagement_segment_members", segment="high"),
            "idle_members": at_window_end("idle_member_rows"),
        },
    )


ENGAGEMENT_KPIS: dict[str, tuple[str, str]] = {
    "active_members": (
        "Engagement-active members",
        "Distinct members with any qualifying event (message, login, lesson, post, …) in the period; not the "
        "membership status 'active' and not paying customers.",
    ),
    "engagement_score_avg": (
        "Avg engagement score",
        "Mean engagement score (0–100) of current members at the period's end: "
        "100·(0.3·messages/10 + 0.2·logins/7 + 0.3·course progress + 0.2·recency), each part capped at 1.",
    ),
    "engaged_high": (
        "Highly engaged members",
        "Current members with an engagement score of 70 or more at the period's end.",
    ),
    "idle_members": (
        "Idle 7+ days",
        "Current members with no activity in the 7 days before the period's end.",
    ),
}


def _int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _mean(scores: pd.DataFrame) -> float | None:
    return round(float(scores["score"].mean()), 1) if len(scores) else None


def _high(scores: pd.DataFrame) -> int:
    return int((scores["segment"] == "high").sum()) if len(scores) else 0


def score_chart(dashboard: Dashboard) -> ChartPanel:
    """Distribution of engagement scores (0–100) at the end of the range."""
    return ChartPanel(
        "score_distribution",
        "Engagement scores of current members",
        lambda f: _as_of(dashboard, "engagement_score", f.end, f),
        lambda d, f: charts.score_histogram(d, title=f"Engagement scores on {f.end:%d %b %Y}"),
        definition=_definition("engagement_score"),
        drill=drills.score_band_drill(dashboard),
    )


def segments_chart(dashboard: Dashboard) -> ChartPanel:
    """Members per engagement segment (high ≥ 70, medium 40–69, low < 40) at the end of the range."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _as_of(dashboard, "engagement_segments", f.end, f)
        return frame[frame["segment"].isin(SEGMENTS)]

    return ChartPanel(
        "segments",
        "Engagement segments of current members",
        load,
        lambda d, f: charts.bar(
            d,
            category="segment",
            value="members",
            sort=SEGMENTS,
            title="Engagement segments",
            value_title="Members",
            category_title="Segment",
        ),
        definition="High: score ≥ 70, medium: 40–69, low: below 40 (each current member in exactly one segment).",
        drill=drills.metric_drill(
            dashboard,
            "engagement_segment_members",
            ("segment",),
            hint="Click a segment to see its members.",
            as_of_end=True,
        ),
    )


def heatmap_chart(dashboard: Dashboard) -> ChartPanel:
    """Events by weekday × hour in the account's time zone over the range."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _frame(dashboard, "activity_heatmap", f.start, f.end, "day", f)
        return frame if int(frame["events"].sum()) else frame.iloc[0:0]

    return ChartPanel(
        "activity_heatmap",
        "Activity by weekday and hour",
        load,
        lambda d, f: charts.weekday_hour_heatmap(d),
        definition=_definition("activity_heatmap"),
    )


def lifecycle_chart(dashboard: Dashboard) -> ChartPanel:
    """New, returning, resurrecting (up) and dormant (down) members per period, from the stored snapshots.

    Snapshots hold the lifecycle of every period already (the ``lifecycle`` metric recomputes activity over the
    whole history, too slow for a page); a range without snapshots says how to write them.
    """
    states = ["new", "returning", "resurrecting", "dormant"]

    def load(f: Filters) -> pd.DataFrame:
        from analytics.snapshots import read_snapshots

        period = snapshot_period(f.grain)
        frame = read_snapshots(dashboard.engine, dashboard.account_id, period, f.start, f.end)
        columns = [f"lifecycle_{s}" for s in states]
        if frame.empty or not set(columns) <= set(frame.columns):
            raise NotAvailable(
                f"No {period} snapshots in this range yet (they are written by `analytics run {period}`)."
            )
        frame = frame[["period_start", "complete", *columns]].rename(columns=dict(zip(columns, states, strict=True)))
        long = frame.melt(
            id_vars=["period_start", "complete"], value_vars=states, var_name="state", value_name="members"
        )
        return long if int(long["members"].sum()) else long.iloc[0:0]

    return ChartPanel(
        "lifecycle",
        "Member lifecycle (snapshots)",
        load,
        lambda d, f: charts.lifecycle_bars(d, complete="complete"),
        definition=_definition("lifecycle"),
    )


def engagement_trend_chart(dashboard: Dashboard) -> ChartPanel:
    """Average engagement score per period, from the stored snapshots (weekly or monthly)."""

    def load(f: Filters) -> pd.DataFrame:
        from analytics.snapshots import read_snapshots

        period = snapshot_period("week" if f.grain == "day" else f.grain)
        frame = read_snapshots(dashboard.engine, dashboard.account_id, period, f.start, f.end)
        if frame.empty or "engagement_score_avg" not in frame:
            raise NotAvailable(
                f"No {period} snapshots in this range yet (they are written by `analytics run {period}`)."
            )
        return frame[["period_start", "engagement_score_avg", "complete"]].dropna(subset=["engagement_score_avg"])

    return ChartPanel(
        "engagement_trend",
        "Average engagement score (snapshots)",
        load,
        lambda d, f: charts.line(
            d,
            x="period_start",
            y="engagement_score_avg",
            title="Average engagement score",
            y_title="Score",
            y_format=".0f",
            complete="complete",
        ),
        definition="Mean engagement score (0–100) of the current members at the end of each stored snapshot period.",
    )


def top_members_table(dashboard: Dashboard) -> TablePanel:
    """The ten most active members of the range."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _frame(dashboard, "top_members", f.start, f.end, "day", f, n=10)
        return frame[["rank", "display_name", "username", "events", "active_days"]]

    return TablePanel(
        "top_members",
        "Most active members",
        load,
        definition=_definition("top_members"),
        units={"events": "count"},
        columns={
            "rank": "#",
            "display_name": "Member",
            "username": "Username",
            "events": "Events",
            "active_days": "Active days",
        },
    )


def idle_members_table(dashboard: Dashboard) -> TablePanel:
    """Members idle for 7 days or more at the end of the range, most recently active first (easiest to win back)."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _as_of(dashboard, "idle_members", f.end, f).sort_values("days_inactive", kind="stable")
        return frame[["display_name", "username", "days_inactive"]]

    return TablePanel(
        "idle_members",
        "Idle current members (7+ days)",
        load,
        definition=_definition("idle_members"),
        units={"days_inactive": "count"},
        columns={"display_name": "Member", "username": "Username", "days_inactive": "Days inactive"},
    )


def content_kpis(dashboard: Dashboard) -> KpiPanel:
    """Lesson views and completions, course starters and completers: this period vs the previous."""

    def totals(f: Filters, start: date, end: date) -> dict[str, int]:
        lessons = _frame(dashboard, "lesson_stats", start, end, "day", f)
        courses = _frame(dashboard, "course_stats", start, end, "day", f)
        return {
            "lesson_views": int(lessons["views"].sum()),
            "lesson_completions": int(lessons["completions"].sum()),
            "course_starters": int(courses["starters"].sum()),
            "course_completers": int(courses["completers"].sum()),
        }

    labels = {
        "lesson_views": "Lesson views",
        "lesson_completions": "Lesson completions",
        "course_starters": "Course starters",
        "course_completers": "Course completers",
    }

    def load(f: Filters) -> Sequence[Kpi]:
        w = kpi_window(f)
        now = totals(f, w.current_start, w.current_end)
        before = totals(f, w.previous_start, w.previous_end)
        return [Kpi(name, label, now[name], before[name]) for name, label in labels.items()]

    definitions = {
        "lesson_views": "Lesson views in the period (every view, replays included). " + _definition("lesson_stats"),
        "lesson_completions": "Lesson completions in the period. " + _definition("lesson_stats"),
        "course_starters": "Members who started a course in the period. " + _definition("course_stats"),
        "course_completers": "Members who completed every lesson of a course in the period. "
        + _definition("course_stats"),
    }
    return KpiPanel("kpis", list(labels.items()), load, caption=lambda f: kpi_window(f).label, definitions=definitions)


def course_table(dashboard: Dashboard) -> TablePanel:
    """Courses over the range: viewers, starters, completers, completion rate and the drop-off lesson."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _frame(dashboard, "course_stats", f.start, f.end, "day", f)
        columns = ["title", "lessons", "unique_viewers", "starters", "completers", "completion_rate_pct"]
        return frame[[*columns, "drop_off_lesson_title"]].rename(columns={"drop_off_lesson_title": "drop_off_lesson"})

    return TablePanel(
        "courses",
        "Courses",
        load,
        definition=_definition("course_stats"),
        units={"completion_rate_pct": "percent_points"},
        columns={
            "title": "Course",
            "lessons": "Lessons",
            "unique_viewers": "Viewers",
            "starters": "Started",
            "completers": "Completed",
            "completion_rate_pct": "Completion rate",
            "drop_off_lesson": "Biggest drop-off at",
        },
    )


def lesson_dropoff_chart(dashboard: Dashboard) -> ChartPanel:
    """Completions per lesson of the most started course, the largest fall highlighted."""
    state: dict[str, str] = {}

    def load(f: Filters) -> pd.DataFrame:
        lessons = _frame(dashboard, "lesson_stats", f.start, f.end, "day", f)
        if lessons.empty or int(lessons["starters"].sum()) == 0:
            return lessons.iloc[0:0]
        top = lessons.groupby(["course_id", "course_title"])["starters"].sum().sort_values(ascending=False).index[0]
        state["course"] = str(top[1])
        return lessons[lessons["course_id"] == top[0]]

    return ChartPanel(
        "lesson_dropoff",
        "Lesson drop-off",
        load,
        lambda d, f: charts.lesson_dropoff(
            d, lesson="title", position="position", value="completions", title=f"Lesson completions: {state['course']}"
        ),
        drill=drills.lesson_drill(dashboard),
        definition=_definition("lesson_stats"),
    )


def top_content_table(dashboard: Dashboard) -> TablePanel:
    """The ten best lessons and posts of the range by content score."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _frame(dashboard, "content_ranking", f.start, f.end, "day", f, top=10)
        return frame[
            ["rank", "content_type", "title", "unique_viewers", "reactions", "comments", "completions", "score"]
        ]

    return TablePanel(
        "top_content",
        "Top content",
        load,
        definition=_definition("content_ranking"),
        units={"score": "score"},
        columns={
            "rank": "#",
            "content_type": "Type",
            "title": "Title",
            "unique_viewers": "Viewers",
            "reactions": "Reactions",
            "comments": "Comments",
            "completions": "Completions",
            "score": "Score",
        },
    )
