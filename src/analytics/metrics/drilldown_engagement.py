"""Rows behind the engagement and content numbers: active, segment and idle members, a lesson's drop-off.

Per-member engagement metrics already return one row per member; their drill-downs are those rows for the clicked
segment, with the member's display name (see :mod:`analytics.metrics.drilldown` for the conventions).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa

from analytics.errors import MetricError
from analytics.metrics.activity import REQUEST_BREAKDOWNS, active_members
from analytics.metrics.content import lesson_stats
from analytics.metrics.dialect import fetch_frame, fetched_instant
from analytics.metrics.drilldown import bucket_days, drilldown, local_times, narrowed, titles
from analytics.metrics.engagement import SEGMENTS, engagement_scores, engagement_segments, idle_members
from analytics.metrics.events import event_filter
from analytics.metrics.frames import as_int
from analytics.metrics.keyword_metrics import request_arguments
from analytics.metrics.request import MetricRequest
from analytics.metrics.timeframe import resolve_window
from analytics.store.schema import activity_events, lesson_interactions, lessons, members

__all__ = ["active_member_rows", "engagement_segment_members", "idle_member_rows", "lesson_dropoff_learners"]

DateLike = date | datetime | str


def _names(conn: sa.Connection, account_id: str) -> pd.DataFrame:
    """``member_id`` and ``member`` (display name, else username, else the id) of every member of the account."""
    m = members.c
    stmt = sa.select(m.id.label("member_id"), sa.func.coalesce(m.display_name, m.username, m.id).label("member"))
    return fetch_frame(conn, stmt.where(m.account_id == account_id))


@drilldown("active_member_rows", title="Active members", metrics=("active_members",))
def active_member_rows(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    period_start: DateLike | None = None,
    product: str | None = None,
    channel: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """The members behind an ``active_members`` bucket: one row per member with a qualifying event in it.

    Formula: row count = ``active_members`` of the bucket (of the chosen product or channel)

    The bucket is ``period_start`` (required when the period has several buckets); qualifying events are the
    request's ``kinds`` parameter (every kind by default); ``product``/``channel`` are the event's. Columns:
    ``member``, ``member_id``, ``events``, ``first_event_at``, ``last_event_at`` (local time); most events first.
    """
    req, chosen = narrowed(
        request, "active_members", tuple(REQUEST_BREAKDOWNS), product=product, channel=channel, plan=plan
    )
    kinds = request_arguments("active_members", active_members, req, breakdowns=REQUEST_BREAKDOWNS).get("kinds")
    first, last = bucket_days(req, period_start, default="only")
    e = activity_events
    with engine.connect() as conn:
        window = resolve_window(conn, req.account_id, first, last)
        per = (
            sa.select(
                e.c.member_id,
                sa.func.count().label("events"),
                sa.func.min(e.c.occurred_at).label("first_at"),
                sa.func.max(e.c.occurred_at).label("last_at"),
            )
            .where(
                event_filter(req.account_id, window.start_utc, window.end_utc, kinds),
                *[e.c[key if key != "product" else "product_id"] == value for key, value in chosen.items()],
            )
            .group_by(e.c.member_id)
            .subquery("active")
        )
        source, (member,) = titles(per, req.account_id, member=per.c.member_id)
        d = conn.dialect.name
        stmt = sa.select(
            member,
            per.c.member_id,
            per.c.events,
            fetched_instant(per.c.first_at, d).label("first_event_at"),
            fetched_instant(per.c.last_at, d).label("last_event_at"),
        ).select_from(source)
        frame = as_int(fetch_frame(conn, stmt, instants=("first_event_at", "last_event_at")), ["events"])
    frame = frame.sort_values(["events", "member_id"], ascending=[False, True], ignore_index=True)
    return local_times(frame, window.tz, "first_event_at", "last_event_at")


@drilldown(
    "engagement_segment_members",
    title="Members in an engagement segment",
    metrics=("engagement_segments", "engagement_score"),
)
def engagement_segment_members(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    segment: str,
    product: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """The members behind an ``engagement_segments`` bar: their engagement scores at the end of the period.

    Formula: row count = ``engagement_segments.members`` of the segment

    ``segment`` is high, medium, low or idle (no event in the idle window); the rows are the metric's own per-member
    scores (``engagement_score`` with the request's weights) in that segment. Columns: ``member``, ``member_id``,
    ``score``, ``segment``, ``idle``, ``messages``, ``logins``, ``course_progress_pct``, ``days_since_active``,
    ``last_active_at`` (local time); highest score first.
    """
    if segment not in (*SEGMENTS, "idle"):
        raise MetricError(f"segment {segment!r} is not one of {', '.join((*SEGMENTS, 'idle'))}")
    req, _ = narrowed(request, "engagement_segments", (), product=product, plan=plan)
    kwargs = request_arguments("engagement_segments", engagement_segments, req, period="as_of")
    scores = engagement_scores(engine, req.account_id, **kwargs)
    rows = scores[scores["idle"]] if segment == "idle" else scores[scores["segment"] == segment]
    with engine.connect() as conn:
        rows = rows.merge(_names(conn, req.account_id), on="member_id", how="left")
        tz = resolve_window(conn, req.account_id, req.start, req.end).tz
    columns = ["member", "member_id", "score", "segment", "idle", "messages", "logins", "course_progress_pct"]
    rows = rows[[*columns, "days_since_active", "last_active_at"]]
    rows = rows.sort_values(["score", "member_id"], ascending=[False, True], ignore_index=True)
    return local_times(rows, tz, "last_active_at")


@drilldown("idle_member_rows", title="Idle members", metrics=("idle_members",))
def idle_member_rows(
    engine: sa.Engine, request: MetricRequest, *, product: str | None = None, plan: str | None = None
) -> pd.DataFrame:
    """The members behind ``idle_members``: no activity in the idle window before the period's end.

    Formula: row count = count(``idle_members``) for the same request (its ``days`` parameter)

    The rows are the metric's own, with the display name. Columns: ``member``, ``member_id``, ``username``,
    ``last_active_at`` (local time; NaT when never active), ``days_inactive``; longest idle first.
    """
    req, _ = narrowed(request, "idle_members", (), product=product, plan=plan)
    rows = idle_members(engine, req.account_id, **request_arguments("idle_members", idle_members, req, period="as_of"))
    rows.insert(0, "member", rows["display_name"].fillna(rows["username"]).fillna(rows["member_id"]))
    with engine.connect() as conn:
        tz = resolve_window(conn, req.account_id, req.start, req.end).tz
    rows = rows[["member", "member_id", "username", "last_active_at", "days_inactive"]]
    return local_times(rows, tz, "last_active_at")


_DROPOFF_COLUMNS = [
    "role",
    "member",
    "member_id",
    "previous_lesson_id",
    "previous_completed_at",
    "lesson_id",
    "lesson_completed_at",
]


@drilldown("lesson_dropoff_learners", title="Learners lost before a lesson", metrics=("lesson_stats", "course_stats"))
def lesson_dropoff_learners(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    lesson_id: str,
    product: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """The learners behind a lesson's drop-off: completed the previous lesson in the period, not this one.

    Formula: count(role = "dropped") − count(role = "completed_without_previous") = ``lesson_stats.completion_fall``
    of the lesson

    ``completion_fall`` compares counts: the period's completions of the previous lesson (in course order) minus
    this lesson's. Rows with ``role = "dropped"`` completed the previous lesson in the period and not this one;
    rows with ``role = "completed_without_previous"`` completed this one in the period but not the previous one
    (they offset the fall). The first lesson of a course has no previous lesson and no rows. Columns: ``role``,
    ``member``, ``member_id``, ``previous_lesson_id``, ``previous_completed_at`` (in the period, local time),
    ``lesson_id``, ``lesson_completed_at`` (the last completion of this lesson before the period's end, even
    before the period; NaT if none).
    """
    req, _ = narrowed(request, "lesson_stats", (), product=product, plan=plan)
    request_arguments("lesson_stats", lesson_stats, req)
    li = lesson_interactions
    with engine.connect() as conn:
        w = resolve_window(conn, req.account_id, req.start, req.end)
        course = sa.select(lessons.c.course_id).where(lessons.c.account_id == req.account_id, lessons.c.id == lesson_id)
        siblings = fetch_frame(
            conn,
            sa.select(lessons.c.id.label("lesson_id"), lessons.c.position).where(
                lessons.c.account_id == req.account_id, lessons.c.course_id == course.scalar_subquery()
            ),
        )
        if lesson_id not in set(siblings["lesson_id"]):
            raise MetricError(f"lesson {lesson_id!r} is not a lesson of account {req.account_id!r}")
        ordered = as_int(siblings, ["position"]).sort_values(["position", "lesson_id"], ignore_index=True)
        at = int(ordered.index[ordered["lesson_id"] == lesson_id][0])
        if at == 0:
            return pd.DataFrame({col: pd.Series(dtype=object) for col in _DROPOFF_COLUMNS})
        previous = str(ordered["lesson_id"].iloc[at - 1])
        done = sa.and_(li.c.completed.is_(True), li.c.member_id.is_not(None))
        in_period = sa.and_(li.c.completed_at >= w.start_utc, li.c.completed_at < w.end_utc)
        by_end = sa.or_(li.c.completed_at.is_(None), li.c.completed_at < w.end_utc)
        per = (
            sa.select(
                li.c.member_id,
                sa.func.max(sa.case((sa.and_(li.c.lesson_id == previous, in_period), li.c.completed_at))).label("p"),
                sa.func.max(sa.case((sa.and_(li.c.lesson_id == lesson_id, in_period), li.c.completed_at))).label("t"),
                sa.func.max(sa.case((sa.and_(li.c.lesson_id == lesson_id, by_end), li.c.completed_at))).label("e"),
            )
            .where(li.c.account_id == req.account_id, li.c.lesson_id.in_((previous, lesson_id)), done)
            .group_by(li.c.member_id)
            .subquery("completions")
        )
        source, (member,) = titles(per, req.account_id, member=per.c.member_id)
        d = conn.dialect.name
        dropped = sa.and_(per.c.p.is_not(None), per.c.t.is_(None))
        skipped = sa.and_(per.c.p.is_(None), per.c.t.is_not(None))
        stmt = (
            sa.select(
                sa.case((dropped, "dropped"), else_="completed_without_previous").label("role"),
                member,
                per.c.member_id,
                fetched_instant(per.c.p, d).label("previous_completed_at"),
                fetched_instant(per.c.e, d).label("lesson_completed_at"),
            )
            .select_from(source)
            .where(sa.or_(dropped, skipped))
        )
        frame = fetch_frame(conn, stmt, instants=("previous_completed_at", "lesson_completed_at"))
    frame["previous_lesson_id"], frame["lesson_id"] = previous, lesson_id
    frame = frame.sort_values(["role", "member_id"], ascending=[False, True], ignore_index=True)[_DROPOFF_COLUMNS]
    return local_times(frame, w.tz, "previous_completed_at", "lesson_completed_at")
