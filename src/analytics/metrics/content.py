"""Content: courses and lessons (views, completions, time to complete, drop-off), posts, and a ranking.

Sources: lesson views are ``lesson_view`` activity events whose ``object_id`` is the lesson; starts and
completions are ``lesson_interactions`` (``created_at`` = started, ``completed_at`` = completed); post views and
reactions are ``post_view``/``reaction`` events on the post; comments are posts whose ``parent_id`` is the post.
Whop's lifetime counters (``posts.view_count`` …) are reported beside the period's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.aggregates import median_by
from analytics.metrics.dialect import epoch_seconds, fetch_frame
from analytics.metrics.events import LESSON_VIEW, POST_VIEW, REACTION, event_filter
from analytics.metrics.frames import as_float, as_int, rate_pct, seconds_to_timestamp
from analytics.metrics.keyword_metrics import keyword_metric
from analytics.metrics.shared import shared_table
from analytics.metrics.timeframe import DateLike, TimeWindow, resolve_window
from analytics.store.schema import activity_events, courses, lesson_interactions, lessons, posts

__all__ = ["ContentScoreWeights", "content_ranking", "course_stats", "lesson_stats", "post_stats"]


@dataclass(frozen=True)
class ContentScoreWeights:
    """Weights of the content engagement score (parameters; defaults favour deeper engagement).

    ``score = viewers·unique_viewers + reactions·reactions + comments·comments + completions·completions``
    """

    viewers: float = 1.0
    reactions: float = 2.0
    comments: float = 3.0
    completions: float = 5.0

    def __post_init__(self) -> None:
        for name in ("viewers", "reactions", "comments", "completions"):
            if getattr(self, name) < 0:
                raise MetricError(f"content score weight {name} must not be negative, got {getattr(self, name)!r}")


def _views(conn: sa.Connection, w: TimeWindow, kinds: Sequence[str]) -> pd.DataFrame:
    e = activity_events
    stmt = (
        sa.select(
            e.c.object_id,
            sa.func.count().label("views"),
            sa.func.count(sa.distinct(e.c.member_id)).label("unique_viewers"),
        )
        .where(event_filter(w.account_id, w.start_utc, w.end_utc, kinds), e.c.object_id.is_not(None))
        .group_by(e.c.object_id)
    )
    return as_int(fetch_frame(conn, stmt), ["views", "unique_viewers"])


def _lesson_rows(conn: sa.Connection, w: TimeWindow, kinds: Sequence[str]) -> pd.DataFrame:
    li = lesson_interactions
    started = sa.and_(li.c.created_at >= w.start_utc, li.c.created_at < w.end_utc)
    done_in = sa.and_(li.c.completed.is_(True), li.c.completed_at >= w.start_utc, li.c.completed_at < w.end_utc)
    done_by_end = sa.and_(li.c.completed.is_(True), sa.or_(li.c.completed_at.is_(None), li.c.completed_at < w.end_utc))
    progress = (
        sa.select(
            li.c.lesson_id,
            sa.func.count(sa.distinct(sa.case((started, li.c.member_id)))).label("starters"),
            sa.func.count(sa.distinct(sa.case((sa.and_(started, done_by_end), li.c.member_id)))).label("starters_done"),
            sa.func.count(sa.distinct(sa.case((done_in, li.c.member_id)))).label("completions"),
        )
        .where(li.c.account_id == w.account_id)
        .group_by(li.c.lesson_id)
    )
    minutes = (
        epoch_seconds(li.c.completed_at, conn.dialect.name) - epoch_seconds(li.c.created_at, conn.dialect.name)
    ) / 60
    durations = (
        sa.select(li.c.lesson_id, minutes.label("minutes"))
        .where(li.c.account_id == w.account_id, done_in)
        .subquery("dur")
    )
    catalog = (
        sa.select(
            lessons.c.course_id,
            courses.c.title.label("course_title"),
            lessons.c.id.label("lesson_id"),
            lessons.c.title,
            lessons.c.position,
        )
        .select_from(
            lessons.outerjoin(
                courses, sa.and_(courses.c.account_id == lessons.c.account_id, courses.c.id == lessons.c.course_id)
            )
        )
        .where(lessons.c.account_id == w.account_id)
    )
    frame = fetch_frame(conn, catalog)
    frame = frame.merge(
        as_int(fetch_frame(conn, progress), ["starters", "starters_done", "completions"]), on="lesson_id", how="left"
    )
    medians = fetch_frame(conn, median_by(durations, "minutes", ["lesson_id"], "median_minutes_to_complete"))
    frame = frame.merge(medians.drop(columns="n"), on="lesson_id", how="left")
    views = _views(conn, w, kinds).rename(columns={"object_id": "lesson_id"})
    frame = frame.merge(views, on="lesson_id", how="left")
    as_int(frame, ["position", "starters", "starters_done", "completions", "views", "unique_viewers"])
    return as_float(frame, ["median_minutes_to_complete"])


@keyword_metric(
    "lesson_stats",
    unit="members / %",
    formula="completion_rate_pct = period starters who completed by its end ÷ period starters × 100",
    domain="content",
)
@shared_table
def lesson_stats(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    view_kinds: Sequence[str] = (LESSON_VIEW,),
) -> pd.DataFrame:
    """Per lesson: views, unique viewers, replays, starts, completions, completion rate, median time, drop-off.

    Formula: completion_rate_pct = period starters who completed by its end ÷ period starters × 100.

    Definition: ``completion_rate_pct = members who started in the period and completed by its end ÷ members who
    started in the period × 100`` (no starters: 0); ``replays = views − unique_viewers``;
    ``completion_fall = completions(previous lesson) − completions(lesson)`` in course order; the drop-off
    lesson of a course is the one with the largest positive fall. Median minutes from start to completion over
    the completions of the period.

    Returns
    -------
    DataFrame
        ``course_id, course_title, lesson_id, title, position, views, unique_viewers, replays, starters,
        completions, completion_rate_pct, median_minutes_to_complete, completion_fall, drop_off`` by course and
        position.
    """
    with engine.connect() as conn:
        w = resolve_window(conn, account_id, start, end)
        frame = _lesson_rows(conn, w, view_kinds)
    frame = frame.sort_values(["course_id", "position", "lesson_id"], ignore_index=True)
    frame["replays"] = frame["views"] - frame["unique_viewers"]
    frame["completion_rate_pct"], _ = rate_pct(frame["starters_done"], frame["starters"])
    previous = frame.groupby("course_id", dropna=False)["completions"].shift(1)
    frame["completion_fall"] = (previous - frame["completions"]).fillna(0).astype("int64")
    best = frame[frame["completion_fall"] > 0].sort_values(["completion_fall", "position"], ascending=[False, True])
    drop_ids = set(best.drop_duplicates("course_id")["lesson_id"])
    frame["drop_off"] = frame["lesson_id"].isin(drop_ids)
    columns = ["course_id", "course_title", "lesson_id", "title", "position", "views", "unique_viewers", "replays"]
    columns += ["starters", "completions", "completion_rate_pct", "median_minutes_to_complete", "completion_fall"]
    return frame[[*columns, "drop_off"]]


@keyword_metric(
    "course_stats",
    unit="members / %",
    formula="completion_rate_pct = period starters who completed every lesson by its end ÷ starters × 100",
    domain="content",
)
def course_stats(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    view_kinds: Sequence[str] = (LESSON_VIEW,),
) -> pd.DataFrame:
    """Per course: lessons, views, unique viewers, starters, completers, completion rate, drop-off lesson.

    Formula: completion_rate_pct = period starters who completed every lesson by its end ÷ starters × 100.

    Definition: ``completion_rate_pct = members who started the course in the period (first lesson interaction) and
    completed every lesson by its end ÷ those starters × 100``; views and unique viewers over all lessons; the
    drop-off lesson as in :func:`lesson_stats`.

    Returns
    -------
    DataFrame
        ``course_id, title, lessons, views, unique_viewers, starters, completers, completion_rate_pct,
        median_days_to_complete, drop_off_lesson_id, drop_off_lesson_title, drop_off_fall``.
    """
    li = lesson_interactions
    with engine.connect() as conn:
        w = resolve_window(conn, account_id, start, end)
        d = conn.dialect.name
        sizes = (
            sa.select(lessons.c.course_id, sa.func.count().label("lessons"))
            .where(lessons.c.account_id == account_id)
            .group_by(lessons.c.course_id)
            .subquery("sizes")
        )
        done = sa.and_(li.c.completed.is_(True), sa.or_(li.c.completed_at.is_(None), li.c.completed_at < w.end_utc))
        per_member = (
            sa.select(
                lessons.c.course_id,
                li.c.member_id,
                sa.func.min(li.c.created_at).label("first_at"),
                sa.func.count(sa.distinct(sa.case((done, li.c.lesson_id)))).label("done"),
                epoch_seconds(sa.func.max(li.c.completed_at), d).label("last_done_s"),
            )
            .select_from(
                li.join(lessons, sa.and_(lessons.c.account_id == li.c.account_id, lessons.c.id == li.c.lesson_id))
            )
            .where(li.c.account_id == account_id, li.c.member_id.is_not(None), li.c.created_at < w.end_utc)
            .group_by(lessons.c.course_id, li.c.member_id)
            .subquery("pm")
        )
        started = sa.and_(per_member.c.first_at >= w.start_utc, per_member.c.first_at < w.end_utc)
        finished = sa.and_(started, per_member.c.done >= sizes.c.lessons)
        days = (per_member.c.last_done_s - epoch_seconds(per_member.c.first_at, d)) / 86400
        completion = (
            sa.select(per_member.c.course_id, sa.case((finished, days)).label("days"), started.label("started"))
            .select_from(per_member.join(sizes, sizes.c.course_id == per_member.c.course_id))
            .subquery("completion")
        )
        counts = sa.select(
            completion.c.course_id,
            sa.func.sum(sa.case((completion.c.started, 1), else_=0)).label("starters"),
        ).group_by(completion.c.course_id)
        starters = as_int(fetch_frame(conn, counts), ["starters"])
        medians = fetch_frame(conn, median_by(completion, "days", ["course_id"], "median_days_to_complete"))
        titles = fetch_frame(
            conn, sa.select(courses.c.id.label("course_id"), courses.c.title).where(courses.c.account_id == account_id)
        )
    lesson_frame = lesson_stats(engine, account_id, start=w.start, end=w.last_day, view_kinds=view_kinds)
    agg = lesson_frame.groupby("course_id", as_index=False).agg(lessons=("lesson_id", "count"), views=("views", "sum"))
    viewers = _course_viewers(engine, w, view_kinds)
    out = titles.merge(agg, on="course_id", how="left").merge(viewers, on="course_id", how="left")
    out = out.merge(starters, on="course_id", how="left").merge(medians, on="course_id", how="left")
    out = out.rename(columns={"n": "completers"})
    as_int(out, ["lessons", "views", "unique_viewers", "starters", "completers"])
    as_float(out, ["median_days_to_complete"])
    out["completion_rate_pct"], _ = rate_pct(out["completers"], out["starters"])
    drops = lesson_frame[lesson_frame["drop_off"]][["course_id", "lesson_id", "title", "completion_fall"]]
    drops.columns = ["course_id", "drop_off_lesson_id", "drop_off_lesson_title", "drop_off_fall"]
    out = out.merge(drops, on="course_id", how="left")
    as_int(out, ["drop_off_fall"])
    columns = ["course_id", "title", "lessons", "views", "unique_viewers", "starters", "completers"]
    columns += ["completion_rate_pct", "median_days_to_complete", "drop_off_lesson_id", "drop_off_lesson_title"]
    return out[[*columns, "drop_off_fall"]].sort_values("course_id", ignore_index=True)


def _course_viewers(engine: Engine, w: TimeWindow, kinds: Sequence[str]) -> pd.DataFrame:
    e = activity_events
    stmt = (
        sa.select(lessons.c.course_id, sa.func.count(sa.distinct(e.c.member_id)).label("unique_viewers"))
        .select_from(e.join(lessons, sa.and_(lessons.c.account_id == e.c.account_id, lessons.c.id == e.c.object_id)))
        .where(event_filter(w.account_id, w.start_utc, w.end_utc, kinds))
        .group_by(lessons.c.course_id)
    )
    with engine.connect() as conn:
        return fetch_frame(conn, stmt)


@keyword_metric(
    "post_stats",
    unit="count",
    formula="per post: views, unique viewers, comments (replies) and reactions in the period",
    domain="content",
)
@shared_table
def post_stats(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    view_kinds: Sequence[str] = (POST_VIEW,),
    reaction_kinds: Sequence[str] = (REACTION,),
) -> pd.DataFrame:
    """Per top-level post created by the end of the period: its views, viewers, comments and reactions.

    Formula: per post: views, unique viewers, comments (replies) and reactions in the period.

    Definition: per post, in the period: ``views = count(post_view events on the post)``,
    ``unique_viewers = count(distinct viewers)``, ``comments = count(posts replying to it created in the
    period)``, ``reactions = count(reaction events on the post)``; ``lifetime_*`` are Whop's counters.

    Returns
    -------
    DataFrame
        ``post_id, title, member_id, created_at, views, unique_viewers, comments, reactions, lifetime_views,
        lifetime_comments, lifetime_reactions``.
    """
    with engine.connect() as conn:
        w = resolve_window(conn, account_id, start, end)
        d = conn.dialect.name
        base = sa.select(
            posts.c.id.label("post_id"),
            posts.c.title,
            posts.c.member_id,
            epoch_seconds(posts.c.created_at, d).label("created_s"),
            posts.c.view_count.label("lifetime_views"),
            posts.c.comment_count.label("lifetime_comments"),
            posts.c.like_count.label("lifetime_reactions"),
        ).where(posts.c.account_id == account_id, posts.c.parent_id.is_(None), posts.c.created_at < w.end_utc)
        frame = fetch_frame(conn, base)
        replies = (
            sa.select(posts.c.parent_id.label("post_id"), sa.func.count().label("comments"))
            .where(
                posts.c.account_id == account_id,
                posts.c.parent_id.is_not(None),
                posts.c.created_at >= w.start_utc,
                posts.c.created_at < w.end_utc,
            )
            .group_by(posts.c.parent_id)
        )
        comments = fetch_frame(conn, replies)
        views = _views(conn, w, view_kinds).rename(columns={"object_id": "post_id"})
        reactions = _views(conn, w, reaction_kinds).rename(columns={"object_id": "post_id", "views": "reactions"})
    frame = frame.merge(views, on="post_id", how="left").merge(comments, on="post_id", how="left")
    frame = frame.merge(reactions[["post_id", "reactions"]], on="post_id", how="left")
    counts = ["views", "unique_viewers", "comments", "reactions", "lifetime_views", "lifetime_comments"]
    as_int(frame, [*counts, "lifetime_reactions"])
    frame["created_at"] = seconds_to_timestamp(frame.pop("created_s"))
    columns = ["post_id", "title", "member_id", "created_at", "views", "unique_viewers", "comments", "reactions"]
    return frame[[*columns, "lifetime_views", "lifetime_comments", "lifetime_reactions"]].sort_values(
        "post_id", ignore_index=True
    )


@keyword_metric(
    "content_ranking",
    unit="score",
    formula="score = 1·unique_viewers + 2·reactions + 3·comments + 5·completions (weights are parameters)",
    domain="content",
)
def content_ranking(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    weights: ContentScoreWeights | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """Lessons and posts ranked by the content engagement score of a period.

    Formula: score = 1·unique_viewers + 2·reactions + 3·comments + 5·completions (weights are parameters).

    Definition: ``content score = 1·unique_viewers + 2·reactions + 3·comments + 5·completions`` (weights are
    parameters, :class:`ContentScoreWeights`); lessons have completions and no comments or reactions, posts the
    reverse. Ties share the order of more viewers, then the id. Items with a score of 0 are left out.

    Returns
    -------
    DataFrame
        ``rank, content_type (lesson|post), content_id, title, unique_viewers, reactions, comments, completions,
        score``.
    """
    wt = weights or ContentScoreWeights()
    lesson_frame = lesson_stats(engine, account_id, start=start, end=end)
    post_frame = post_stats(engine, account_id, start=start, end=end)
    items = pd.concat(
        [
            pd.DataFrame(
                {
                    "content_type": "lesson",
                    "content_id": lesson_frame["lesson_id"],
                    "title": lesson_frame["title"],
                    "unique_viewers": lesson_frame["unique_viewers"],
                    "reactions": 0,
                    "comments": 0,
                    "completions": lesson_frame["completions"],
                }
            ),
            pd.DataFrame(
                {
                    "content_type": "post",
                    "content_id": post_frame["post_id"],
                    "title": post_frame["title"],
                    "unique_viewers": post_frame["unique_viewers"],
                    "reactions": post_frame["reactions"],
                    "comments": post_frame["comments"],
                    "completions": 0,
                }
            ),
        ],
        ignore_index=True,
    )
    as_int(items, ["unique_viewers", "reactions", "comments", "completions"])
    items["score"] = (
        wt.viewers * items["unique_viewers"]
        + wt.reactions * items["reactions"]
        + wt.comments * items["comments"]
        + wt.completions * items["completions"]
    ).astype("float64")
    items = items[items["score"] > 0].sort_values(
        ["score", "unique_viewers", "content_id"], ascending=[False, False, True], ignore_index=True
    )
    if top is not None:
        items = items.head(top)
    items.insert(0, "rank", np.arange(1, len(items) + 1))
    return items
