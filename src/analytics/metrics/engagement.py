"""Engagement per member: activity counts, the engagement score and its segments, idle and top members.

The score (``docs/metrics.md``, weights are parameters)::

    score = round(100 × (w_msg·min(messages/10, 1) + w_login·min(logins/7, 1)
                         + w_course·min(course_progress_pct/100, 1) + w_recency·max(0, 1 − days_since_active/30))
                  ÷ (w_msg + w_login + w_course + w_recency))

with messages and logins counted over the 7 days before ``as_of``, the course progress as of ``as_of`` and the
whole days since the member's last event (any kind) within the 30 days before ``as_of``; no activity in those
30 days (or ever) gives recency 0. With the default weights (0.3, 0.2, 0.3, 0.2; sum 1) the divisor is 1.

Who is counted (``population``) — the per-member state metrics (:func:`engagement_scores`,
:func:`engagement_segments`, :func:`idle_members`) take one of :data:`POPULATIONS`:

* ``"current"`` (default): the **current members** at ``as_of`` — members who joined before ``as_of`` and have
  access at that instant: some membership of theirs whose last status change before ``as_of`` has a status in
  :data:`~analytics.metrics.membership_state.ACCESS_STATUSES` (trialing, active, canceling, past_due,
  completed; free memberships included). Formula: ``current(m, t) = joined(m) < t ∧ ∃ membership of m: status
  at t ∈ {trialing, active, canceling, past_due, completed}``. Members who left (every membership canceled or
  expired) and leads who never had a membership are not current.
* ``"all"``: every member who joined before ``as_of`` (``joined_at``, else ``created_at``; unknown counts),
  including members who left long ago; before this parameter existed, this was the only population.

Metrics of a period (:func:`activity_counts`, :func:`top_members` and the activity counts of
:mod:`analytics.metrics.activity`) count members by their events in the period, so they take no population.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.dialect import (
    correlated_lookups,
    day_number,
    epoch_seconds,
    fetch_frame,
    fetched_instant,
    integer_member_keys,
    member_column,
    sort_key,
)
from analytics.metrics.events import LESSON_COMPLETE, LOGIN, MESSAGE, event_filter
from analytics.metrics.frames import as_float, as_int, half_up, seconds_to_timestamp
from analytics.metrics.keyword_metrics import keyword_metric
from analytics.metrics.membership_state import ACCESS_STATUSES, members_with_access
from analytics.metrics.shared import shared_table
from analytics.metrics.statements import reused_statement
from analytics.metrics.timeframe import DateLike, account_time_zone, resolve_window, to_utc, zone
from analytics.store.schema import (
    activity_events,
    courses,
    lesson_interactions,
    lessons,
    members,
    membership_status_changes,
)

__all__ = [
    "POPULATIONS",
    "SEGMENTS",
    "EngagementWeights",
    "Population",
    "activity_counts",
    "current_member_days",
    "engagement_scores",
    "engagement_segments",
    "idle_members",
    "member_join_time",
    "member_population",
    "top_members",
]

SEGMENTS: tuple[str, ...] = ("high", "medium", "low")

Population = Literal["current", "all"]
POPULATIONS: tuple[str, ...] = get_args(Population)
"""Who a per-member state metric counts at ``as_of``: ``current`` members (with access then) or ``all`` who joined."""


@dataclass(frozen=True)
class EngagementWeights:
    """Weights, targets and windows of the engagement score (defaults from docs/metrics.md).

    Attributes
    ----------
    messages, logins, course_progress, recency:
        Weights of the four parts; the score divides by their sum, so it stays within 0–100.
    messages_target, logins_target:
        Counts that earn the full part (10 messages, 7 logins in the count window).
    count_window_days:
        Days before ``as_of`` in which messages and logins are counted (7).
    recency_window_days:
        Days after which recency reaches 0 (30).
    high, medium:
        Segment thresholds: high ≥ 70, medium 40–69, low < 40.
    idle_days:
        A member with no activity in this many days before ``as_of`` is idle (7).
    """

    messages: float = 0.3
    logins: float = 0.2
    course_progress: float = 0.3
    recency: float = 0.2
    messages_target: int = 10
    logins_target: int = 7
    count_window_days: int = 7
    recency_window_days: int = 30
    high: int = 70
    medium: int = 40
    idle_days: int = 7

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise MetricError(f"engagement weight {f.name}={getattr(self, f.name)!r} must not be negative")
        if self.total_weight <= 0:
            raise MetricError("engagement weights sum to 0; give at least one part a positive weight")
        for name in ("messages_target", "logins_target", "count_window_days", "recency_window_days"):
            if getattr(self, name) <= 0:
                raise MetricError(f"engagement setting {name} must be positive, got {getattr(self, name)!r}")
        if not self.medium <= self.high:
            raise MetricError(f"segment thresholds need medium ≤ high, got medium={self.medium}, high={self.high}")

    @property
    def total_weight(self) -> float:
        return self.messages + self.logins + self.course_progress + self.recency


def member_join_time() -> sa.ColumnElement[object]:
    """When a member joined: ``coalesce(joined_at, created_at)``."""
    return sa.func.coalesce(members.c.joined_at, members.c.created_at)


def member_population(
    population: str, account_id: str, as_of_utc: datetime, dialect: str
) -> list[sa.ColumnElement[bool]]:
    """The ``WHERE`` conditions on ``members`` that keep the account's ``population`` at ``as_of_utc``.

    ``all``: joined before ``as_of`` (or join time unknown); ``current``: that, and access at ``as_of``
    (:func:`~analytics.metrics.membership_state.members_with_access`). See the module docstring.
    """
    if population not in POPULATIONS:
        raise MetricError(
            f"population {population!r} is not one of {', '.join(POPULATIONS)} "
            "(current: members with access at as_of; all: every member who joined before it)"
        )
    joined = member_join_time()
    conditions = [members.c.account_id == account_id, sa.or_(joined.is_(None), joined < as_of_utc)]
    if population == "current":
        conditions.append(members.c.id.in_(members_with_access(account_id, as_of_utc, dialect)))
    return conditions


def current_member_days(
    account_id: str,
    first_at: datetime,
    end_utc: datetime,
    tz: str,
    dialect: str,
    within: tuple[datetime, datetime] | None = None,
) -> sa.Select[tuple[Any, ...]]:
    """Per member, the local days ``E`` at whose start (local midnight) the member is current, as disjoint ranges.

    Formula: rows ``(member_id, first_day, end_day)``: the member is current at local midnight of day ``E`` for
    every ``first_day ≤ E < end_day`` (day numbers as :func:`~analytics.metrics.dialect.day_number` counts them),
    ``E`` limited to ``[day(first_at) + 1, day(end_utc) + 1)``. A status row in force from ``changed_at`` until the
    membership's next row at ``next_at`` is the state at midnight of the days ``day(changed_at) + 1 …
    day(next_at)``; the days before ``day(joined) + 1`` are cut off; one member's overlapping ranges (several
    memberships) are merged by starting each range after the furthest end of the ranges before it (ordered by
    start), so the ranges of one member never overlap and counting ranges counts members.

    The same current members as :func:`member_population` ("current") at each of those instants, for all of
    them in one query (the daily snapshots of a year). ``within`` is :func:`~analytics.metrics.dialect.day_number`'s
    hint of the span most instants fall in.
    """
    c = membership_status_changes
    next_at = sa.func.lead(c.c.changed_at, type_=c.c.changed_at.type).over(  # typed: compared with instants below
        partition_by=c.c.membership_id, order_by=(c.c.changed_at, sort_key(c.c.id, dialect))
    )
    states = (
        sa.select(c.c.member_id, c.c.status, c.c.changed_at, next_at.label("next_at"))
        .where(c.c.account_id == account_id, c.c.changed_at < end_utc)
        .subquery("states")
    )
    joined = member_join_time()
    since = sa.case(
        (states.c.changed_at < first_at, sa.literal(first_at, states.c.changed_at.type)), else_=states.c.changed_at
    )
    since = sa.case((sa.and_(joined.is_not(None), joined > since), joined), else_=since)
    last_day = (end_utc.astimezone(zone(tz)).date() - date(1970, 1, 1)).days + 1  # the day after end_utc's day
    spans = (
        sa.select(
            states.c.member_id,
            (day_number(since, dialect, tz, within) + 1).label("a"),
            sa.case(
                (states.c.next_at.is_(None), last_day), else_=day_number(states.c.next_at, dialect, tz, within) + 1
            ).label("b"),
        )
        .select_from(
            states.join(members, sa.and_(members.c.account_id == account_id, members.c.id == states.c.member_id))
        )
        .where(
            states.c.status.in_(ACCESS_STATUSES),
            sa.or_(states.c.next_at.is_(None), states.c.next_at > first_at),
        )
        .subquery("spans")
    )
    reached = sa.func.max(spans.c.b).over(
        partition_by=spans.c.member_id, order_by=(spans.c.a, spans.c.b), rows=(None, -1)
    )
    ordered = sa.select(spans.c.member_id, spans.c.a, spans.c.b, reached.label("reached")).subquery("ordered")
    first_day = sa.case(
        (sa.and_(ordered.c.reached.is_not(None), ordered.c.reached > ordered.c.a), ordered.c.reached),
        else_=ordered.c.a,
    )
    return sa.select(ordered.c.member_id, first_day.label("first_day"), ordered.c.b.label("end_day")).where(
        first_day < ordered.c.b
    )


@keyword_metric(
    "activity_counts",
    unit="events",
    formula="count(events of kind k per member in the period); last_active_at = max(occurred_at)",
    domain="engagement",
)
def activity_counts(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    kinds: Sequence[str] = (MESSAGE, LOGIN, LESSON_COMPLETE),
    all_members: bool = True,
) -> pd.DataFrame:
    """Events per member and kind in a window, with the last event time.

    Formula: count(events of kind k per member in the period); last_active_at = max(occurred_at).

    Definition: per member: count(events of each kind from start to end); events = count(all);
    last_active_at = max(occurred_at). (One row per member.)

    Parameters
    ----------
    start, end:
        First and last local day of the window (both inclusive).
    kinds:
        One count column per kind (named after the kind); ``events`` counts every kind.
    all_members:
        Include members without events in the window (zeros, ``last_active_at`` NaT).

    Returns
    -------
    DataFrame
        ``member_id``, one column per kind, ``events``, ``last_active_at`` (UTC), ordered by ``member_id``.
    """
    kinds = list(dict.fromkeys(kinds))
    with engine.connect() as conn:
        w = resolve_window(conn, account_id, start, end)
        statement = _counts_statement(conn.dialect.name, account_id, w.start_utc, w.end_utc, tuple(kinds), all_members)
        frame = fetch_frame(conn, statement, instants=("last_active_at",))
    return as_int(frame, [*kinds, "events"])  # ordered by member_id in SQL (byte order on every engine)


@reused_statement
def _counts_statement(
    dialect: str, account_id: str, start_utc: datetime, end_utc: datetime, kinds: tuple[str, ...], all_members: bool
) -> sa.Select[tuple[object, ...]]:
    e = activity_events
    # count(*) FILTER: an integer on every engine (DuckDB's sum of a CASE is a 128-bit HUGEINT, fetched as decimals)
    counts = [sa.func.count().filter(e.c.kind == k).label(f"k{i}") for i, k in enumerate(kinds)]
    member = member_column(e, dialect)  # the member id, or its integer key where that is faster
    # without the members table, the id comes from the events (any of a key's rows: they share one id)
    keyed = integer_member_keys(dialect)
    ids = [sa.func.any_value(e.c.member_id).label("member_id")] if keyed and not all_members else []
    window = (
        sa.select(
            member.label("member"),
            *ids,
            *counts,
            sa.func.count().label("events"),
            fetched_instant(sa.func.max(e.c.occurred_at), dialect).label("last_active_at"),
        )
        .where(event_filter(account_id, start_utc, end_utc))
        .group_by(member)
        .subquery("w")
    )
    if not all_members:
        outputs = [window.c[f"k{i}"].label(k) for i, k in enumerate(kinds)]
        member_id = window.c.member_id if ids else window.c.member
        return sa.select(member_id.label("member_id"), *outputs, window.c.events, window.c.last_active_at).order_by(
            sort_key(member_id, dialect)
        )
    # members without events get 0 here, so every count arrives as a plain integer column
    zeros = [sa.func.coalesce(window.c[f"k{i}"], 0).label(k) for i, k in enumerate(kinds)]
    return (
        sa.select(members.c.id.label("member_id"), *zeros, sa.func.coalesce(window.c.events, 0).label("events"))
        .add_columns(window.c.last_active_at)
        .select_from(members.outerjoin(window, window.c.member == member_column(members, dialect)))
        .where(members.c.account_id == account_id)
        .order_by(sort_key(members.c.id, dialect))
    )


def _course_progress(conn: sa.Connection, account_id: str, as_of_utc: datetime) -> pd.DataFrame:
    """Per member: completed lessons ÷ lessons of the courses they started, × 100 (as of ``as_of``)."""
    li, les = lesson_interactions, lessons
    course_id = sa.func.coalesce(les.c.course_id, li.c.course_id)
    done = sa.and_(li.c.completed.is_(True), sa.or_(li.c.completed_at.is_(None), li.c.completed_at < as_of_utc))
    per_course = (
        sa.select(
            li.c.member_id,
            course_id.label("course_id"),
            sa.func.count(sa.distinct(sa.case((done, li.c.lesson_id)))).label("completed"),
        )
        .select_from(li.outerjoin(les, sa.and_(les.c.account_id == li.c.account_id, les.c.id == li.c.lesson_id)))
        .where(li.c.account_id == account_id, li.c.member_id.is_not(None), li.c.created_at < as_of_utc)
        .group_by(li.c.member_id, course_id)
        .subquery("pc")
    )
    sizes = (
        sa.select(les.c.course_id, sa.func.count().label("n"))
        .where(les.c.account_id == account_id)
        .group_by(les.c.course_id)
        .subquery("sizes")
    )
    total = sa.func.coalesce(sizes.c.n, courses.c.total_lessons_count, 0)
    stmt = (
        sa.select(
            per_course.c.member_id,
            sa.func.sum(per_course.c.completed).label("completed"),
            sa.func.sum(total).label("lessons"),
        )
        .select_from(
            per_course.outerjoin(sizes, sizes.c.course_id == per_course.c.course_id).outerjoin(
                courses, sa.and_(courses.c.account_id == account_id, courses.c.id == per_course.c.course_id)
            )
        )
        .group_by(per_course.c.member_id)
    )
    frame = as_int(fetch_frame(conn, stmt), ["completed", "lessons"])
    lessons_n = frame["lessons"].where(frame["lessons"] > 0, np.nan)
    frame["course_progress_pct"] = (frame["completed"] / lessons_n * 100).clip(upper=100).fillna(0.0)
    return frame[["member_id", "course_progress_pct"]]


@keyword_metric(
    "engagement_score",
    period="as_of",
    unit="score 0-100",
    formula="round(100·(0.3·min(messages/10,1) + 0.2·min(logins/7,1) + 0.3·min(progress/100,1) + 0.2·recency) ÷ Σw)",
    domain="engagement",
)
@shared_table
def engagement_scores(
    engine: Engine,
    account_id: str,
    *,
    as_of: DateLike,
    weights: EngagementWeights | None = None,
    population: Population = "current",
) -> pd.DataFrame:
    """Engagement score 0–100 per member (current members by default), with its parts, segment and idle flag.

    Formula: round(100·(0.3·min(messages/10,1) + 0.2·min(logins/7,1) + 0.3·min(progress/100,1) + 0.2·recency) ÷ Σw).

    Definition: ``round(100 × (0.3·min(messages/10,1) + 0.2·min(logins/7,1) + 0.3·min(course_progress_pct/100,1)
    + 0.2·max(0, 1 − days_since_active/30)) ÷ Σweights)``, rounded half up; messages and logins over the 7 days
    before ``as_of``; ``days_since_active`` = whole days since the last event within the 30 days before
    ``as_of`` (none → recency 0, ``days_since_active`` NaN); course progress = completed lessons ÷ lessons of the
    courses the member started × 100. Segments: high ≥ 70, medium 40–69, low < 40; idle = no event in 7 days.

    Parameters
    ----------
    population:
        ``"current"`` (default): one row per member with access at ``as_of`` (joined before it, with a
        trialing, active, canceling, past_due or completed membership then); ``"all"``: one row per member who
        joined before ``as_of``, members who left included. Members who joined after ``as_of`` are never scored.

    Returns
    -------
    DataFrame
        ``member_id, messages, logins, course_progress_pct, days_since_active, last_active_at, score, segment,
        idle`` ordered by ``member_id``.
    """
    w = weights or EngagementWeights()
    window_days = max(w.count_window_days, w.recency_window_days, w.idle_days)
    with engine.connect() as conn:
        tz = account_time_zone(conn, account_id)
        as_of_utc = to_utc(as_of, tz)
        count_start = as_of_utc - timedelta(days=w.count_window_days)
        e = activity_events
        in_count = e.c.occurred_at >= count_start
        member = member_column(e, conn.dialect.name)
        recent = (
            sa.select(
                member.label("member"),
                sa.func.count().filter(sa.and_(in_count, e.c.kind == MESSAGE)).label("messages"),
                sa.func.count().filter(sa.and_(in_count, e.c.kind == LOGIN)).label("logins"),
                epoch_seconds(sa.func.max(e.c.occurred_at), conn.dialect.name).label("last_s"),
            )
            .where(event_filter(account_id, as_of_utc - timedelta(days=window_days), as_of_utc))
            .group_by(member)
            .subquery("recent")
        )
        on_member = recent.c.member == member_column(members, conn.dialect.name)
        stmt = (
            sa.select(members.c.id.label("member_id"), recent.c.messages, recent.c.logins, recent.c.last_s)
            .select_from(members.outerjoin(recent, on_member))
            .where(*member_population(population, account_id, as_of_utc, conn.dialect.name))
        )
        frame = as_int(fetch_frame(conn, stmt), ["messages", "logins"])
        progress = _course_progress(conn, account_id, as_of_utc)
    frame = frame.merge(progress, on="member_id", how="left")
    frame["course_progress_pct"] = frame["course_progress_pct"].fillna(0.0)
    as_float(frame, ["last_s"])
    age_days = np.floor((as_of_utc.timestamp() - frame["last_s"]) / 86400)
    frame["days_since_active"] = age_days.where(age_days < w.recency_window_days)
    frame["last_active_at"] = seconds_to_timestamp(frame.pop("last_s"))
    parts = (
        w.messages * np.minimum(frame["messages"] / w.messages_target, 1)
        + w.logins * np.minimum(frame["logins"] / w.logins_target, 1)
        + w.course_progress * np.minimum(frame["course_progress_pct"] / 100, 1)
        + w.recency
        * np.maximum(0, 1 - frame["days_since_active"].fillna(w.recency_window_days) / w.recency_window_days)
    )
    frame["score"] = half_up(100 * parts / w.total_weight).astype("int64")
    frame["segment"] = np.select(
        [frame["score"] >= w.high, frame["score"] >= w.medium], ["high", "medium"], default="low"
    ).astype(object)
    frame["idle"] = ~(age_days < w.idle_days)
    columns = ["member_id", "messages", "logins", "course_progress_pct", "days_since_active", "last_active_at"]
    return frame[[*columns, "score", "segment", "idle"]].sort_values("member_id", ignore_index=True)


@keyword_metric(
    "engagement_segments",
    period="as_of",
    unit="members",
    formula="high: score ≥ 70, medium: 40–69, low: < 40; share_pct = members ÷ members of the population × 100",
    domain="engagement",
)
def engagement_segments(
    engine: Engine,
    account_id: str,
    *,
    as_of: DateLike,
    weights: EngagementWeights | None = None,
    population: Population = "current",
) -> pd.DataFrame:
    """Current members (by default) per engagement segment as of an instant, with the idle count.

    Formula: high: score ≥ 70, medium: 40–69, low: < 40; share_pct = members ÷ members of the population × 100.

    Definition: ``count(members of the population by segment: high score ≥ 70, medium 40–69, low < 40);
    share = count ÷ members of the population × 100`` (zero members: every share 0). The population is that of
    :func:`engagement_scores` (``"current"`` by default, ``"all"`` for every member who joined). The three
    segments add up to the population (100 %, up to rounding); ``idle`` (no event in 7 days) is a separate count
    that overlaps them (an idle member is also in a segment, usually low), so its share is not part of that 100 %.

    Returns
    -------
    DataFrame
        ``segment`` (high, medium, low, idle), ``members``, ``share_pct``.
    """
    scores = engagement_scores(engine, account_id, as_of=as_of, weights=weights, population=population)
    counts = [int((scores["segment"] == s).sum()) for s in SEGMENTS] + [int(scores["idle"].sum())]
    total = len(scores)
    frame = pd.DataFrame({"segment": [*SEGMENTS, "idle"], "members": counts})
    frame["share_pct"] = np.round(frame["members"] / total * 100, 2) if total else 0.0
    return frame


@keyword_metric(
    "idle_members",
    period="as_of",
    unit="members",
    formula="members of the population at as_of (current: with access then) with no event in [as_of − days, as_of)",
    domain="engagement",
)
def idle_members(
    engine: Engine, account_id: str, *, as_of: DateLike, days: int = 7, population: Population = "current"
) -> pd.DataFrame:
    """Current members (by default) with no activity in the ``days`` before ``as_of`` (default 7), longest idle first.

    Formula: members of the population at as_of (current: with access then) with no event in [as_of − days, as_of).

    Definition: members of the population with no event in ``[as_of − days, as_of)``; ``days_inactive`` = whole
    days since their last event before ``as_of`` (NaN if they never had one). The population is ``"current"``
    (default: members who joined before ``as_of`` and have access at it, see :func:`engagement_scores`) or
    ``"all"`` (every member who joined before ``as_of``; a member who left long ago is idle for ever there).

    Returns
    -------
    DataFrame
        ``member_id, username, display_name, last_active_at, days_inactive``.
    """
    if days <= 0:
        raise MetricError(f"idle days must be positive, got {days}")
    with engine.connect() as conn:
        tz = account_time_zone(conn, account_id)
        as_of_utc = to_utc(as_of, tz)
        e = activity_events
        if not correlated_lookups(conn.dialect.name):
            # one hash aggregate over the account's events (DuckDB has no ordered index to seek)
            last = (
                sa.select(e.c.member_id, sa.func.max(e.c.occurred_at).label("last_at"))
                .where(event_filter(account_id, None, as_of_utc))
                .group_by(e.c.member_id)
                .subquery("last")
            )
            last_at: sa.ColumnElement[Any] = last.c.last_at
            source: sa.FromClause = members.outerjoin(last, last.c.member_id == members.c.id)
        else:
            # one index seek per member (account_id, member_id, occurred_at) instead of aggregating the whole
            # history of events: the latest event before as_of is the last entry of the member's index range
            last_at = (
                sa.select(sa.func.max(e.c.occurred_at))
                .where(e.c.account_id == account_id, e.c.member_id == members.c.id, e.c.occurred_at < as_of_utc)
                .scalar_subquery()
            )
            source = members
        per_member = (
            sa.select(
                members.c.id.label("member_id"),
                members.c.username,
                members.c.display_name,
                last_at.label("last_at"),
            )
            .select_from(source)
            .where(*member_population(population, account_id, as_of_utc, conn.dialect.name))
            .subquery("per_member")
        )
        p = per_member.c
        stmt = sa.select(
            p.member_id, p.username, p.display_name, epoch_seconds(p.last_at, conn.dialect.name).label("last_s")
        ).where(sa.or_(p.last_at.is_(None), p.last_at < as_of_utc - timedelta(days=days)))
        frame = fetch_frame(conn, stmt)
    as_float(frame, ["last_s"])
    frame["days_inactive"] = np.floor((as_of_utc.timestamp() - frame["last_s"]) / 86400)
    frame["last_active_at"] = seconds_to_timestamp(frame.pop("last_s"))
    frame = frame.sort_values(["days_inactive", "member_id"], ascending=[False, True], na_position="first")
    return frame[["member_id", "username", "display_name", "last_active_at", "days_inactive"]].reset_index(drop=True)


@keyword_metric(
    "top_members",
    unit="events",
    formula="members ranked by count(events in the period), or by engagement score at its end; top n",
    domain="engagement",
)
def top_members(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    n: int = 10,
    by: Literal["events", "score"] = "events",
    kinds: Sequence[str] | None = None,
    weights: EngagementWeights | None = None,
) -> pd.DataFrame:
    """The ``n`` most active members of a period.

    Formula: members ranked by count(events in the period), or by engagement score at its end; top n.

    Definition: members ranked by count(events from start to end) (or by engagement score at the end), top n;
    ties go to more active days, then the member id. ``by="score"`` ranks by the score at the end of ``end``
    (computed for every member who joined, :func:`engagement_scores` with ``population="all"``: the ranked
    members are those with events in the period, whether or not they still have access).

    Returns
    -------
    DataFrame
        ``rank, member_id, username, display_name, events, active_days`` (and ``score`` when ``by="score"``).
    """
    if n <= 0:
        raise MetricError(f"n must be positive, got {n}")
    if by not in ("events", "score"):
        raise MetricError(f"top_members by={by!r}: use 'events' or 'score'")
    with engine.connect() as conn:
        window = resolve_window(conn, account_id, start, end)
        d = conn.dialect.name
        e = activity_events
        per = (
            sa.select(
                e.c.member_id,
                sa.func.count().label("events"),
                sa.func.count(sa.distinct(day_number(e.c.occurred_at, d, window.tz, window.within))).label(
                    "active_days"
                ),
            )
            .where(event_filter(account_id, window.start_utc, window.end_utc, kinds))
            .group_by(e.c.member_id)
            .subquery("per")
        )
        stmt = (
            sa.select(per.c.member_id, members.c.username, members.c.display_name, per.c.events, per.c.active_days)
            .select_from(
                per.outerjoin(members, sa.and_(members.c.account_id == account_id, members.c.id == per.c.member_id))
            )
            .order_by(per.c.events.desc(), per.c.active_days.desc(), per.c.member_id)
        )
        if by == "events":
            stmt = stmt.limit(n)
        frame = as_int(fetch_frame(conn, stmt), ["events", "active_days"])
    if by == "score":
        scores = engagement_scores(engine, account_id, as_of=window.end, weights=weights, population="all")
        scores = scores[["member_id", "score"]]
        frame = frame.merge(scores, on="member_id", how="left")
        frame["score"] = frame["score"].fillna(0).astype("int64")
        frame = frame.sort_values(["score", "events", "member_id"], ascending=[False, False, True]).head(n)
    frame = frame.reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame
