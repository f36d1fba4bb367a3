"""The key engagement, content, funnel and messaging numbers every snapshot carries.

Each function answers a whole run of periods with one or two grouped queries (a 12-month daily backfill does
not run 365 queries per metric). Keys written into ``snapshots.metrics``:

================================  ====================================================================
members                           ``members_total`` (every member who joined by the period's end, those who
                                  left included), ``new_members`` (joined in the period)
activity                          ``active_members`` (engagement-active: DAU/WAU/MAU, members with an event
                                  in the period), ``activity_events``, ``messages``, ``logins``,
                                  ``lesson_completions`` (events of the period)
idle                              ``current_members`` (with access at the period's end: a trialing, active,
                                  canceling, past_due or completed membership), ``idle_members`` (current
                                  members with no event in the 7 days before the end)
engagement (weekly, monthly)      ``engagement_score_avg``, ``engaged_high``, ``engaged_medium``,
                                  ``engaged_low`` of the current members at the period's end
lifecycle (weekly, monthly)       ``lifecycle_new``, ``…_returning``, ``…_resurrecting``, ``…_dormant``
checkout_funnel                   ``checkout_entered``, ``checkout_purchased``, ``checkout_conversion_pct``
content                           ``lessons_completed``, ``posts_created``, ``comments_created``
messaging (also per channel)      ``wa_attempted`` … ``wa_replied``, ``wa_*_rate_pct`` and their
                                  ``wa_*_zero_denominator`` flags
================================  ====================================================================

The end-of-period states count **current members** (``population="current"`` of
:mod:`analytics.metrics.engagement`), as the engagement pages do; ``members_total`` alone counts every member who
ever joined. Snapshots written before definitions version 2026.11.2 counted idle members and the engagement
numbers over every member who had joined.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.metrics.activity import lifecycle
from analytics.metrics.dialect import bucket_index, day_number, fetch_frame
from analytics.metrics.engagement import current_member_days, engagement_scores, member_join_time
from analytics.metrics.events import LESSON_COMPLETE, LOGIN, MESSAGE, event_filter
from analytics.metrics.frames import as_int
from analytics.metrics.funnels import funnel
from analytics.metrics.messaging import messaging_rates
from analytics.metrics.timeframe import TimeWindow
from analytics.snapshots.periods import period_of
from analytics.snapshots.registry import SnapshotScope, snapshot_metric
from analytics.store.schema import activity_events, lesson_interactions, members, posts

__all__ = ["IDLE_DAYS"]

IDLE_DAYS = 7


def _on_grid(window: TimeWindow, frame: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    """Values per bucket index ``b`` placed on every bucket of the window (zeros where none)."""
    out = window.grid().merge(frame.rename(columns={"b": "bucket"}), on="bucket", how="left")
    as_int(out, values)
    return out[["period_start", *values]]


@snapshot_metric("members")
def members_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """Members joined by the end of each period, and members who joined in it."""
    w = scope.window
    with engine.connect() as conn:
        joined = member_join_time()
        inner = (
            sa.select(bucket_index(joined, w.grain, conn.dialect.name, w.tz, w.within).label("b"))
            .where(members.c.account_id == scope.account_id, sa.or_(joined.is_(None), joined < w.end_utc))
            .subquery("j")
        )
        frame = fetch_frame(conn, sa.select(inner.c.b, sa.func.count().label("n")).group_by(inner.c.b))
    known = frame.dropna(subset=["b"])
    before = int(pd.to_numeric(frame["n"]).sum() - pd.to_numeric(known["n"][known["b"] >= w.first_bucket]).sum())
    out = _on_grid(w, as_int(known.copy(), ["b", "n"]).rename(columns={"n": "new_members"}), ["new_members"])
    out["members_total"] = before + out["new_members"].cumsum()
    return out[["period_start", "members_total", "new_members"]]


@snapshot_metric("activity")
def activity_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """Active members and events of each period (by kind: messages, logins, lesson completions)."""
    w = scope.window
    e = activity_events
    with engine.connect() as conn:
        inner = (
            sa.select(
                bucket_index(e.c.occurred_at, w.grain, conn.dialect.name, w.tz, w.within).label("b"),
                e.c.member_id,
                e.c.kind,
            )
            .where(event_filter(scope.account_id, w.start_utc, w.end_utc))
            .subquery("ev")
        )
        kinds = {"messages": MESSAGE, "logins": LOGIN, "lesson_completions": LESSON_COMPLETE}
        stmt = sa.select(
            inner.c.b,
            sa.func.count(sa.distinct(inner.c.member_id)).label("active_members"),
            sa.func.count().label("activity_events"),
            *[sa.func.sum(sa.case((inner.c.kind == k, 1), else_=0)).label(n) for n, k in kinds.items()],
        ).group_by(inner.c.b)
        frame = fetch_frame(conn, stmt)
    return _on_grid(w, frame, ["active_members", "activity_events", *kinds])


@snapshot_metric("idle")
def idle_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """Current members and idle current members at the end of each period (so far, for one in progress).

    A member is current at the end of day ``E − 1`` (local midnight starting day ``E``) when they joined before
    it and a membership gives them access then (:func:`~analytics.metrics.engagement.current_member_days`: one
    range of such days per member and stretch of access); idle when also without an event on the 7 local days
    before ``E``. ``active7`` (members with an event on one of those days) is computed for every day at once:
    each member's active day ``d`` covers ``E ∈ [d + 1, d + 7]``; with the previous active day ``p`` the part not
    already covered starts at ``max(d + 1, p + 8)``. Per member these pieces are disjoint, and so are the member's
    current ranges, so the pieces where both hold are their pairwise intersections. ``current(E)`` and
    ``current_and_active7(E)`` are then sums of +1/−1 steps, and ``idle = current − current_and_active7``.
    """
    w = scope.window
    e = activity_events
    lookback = w.start_utc - timedelta(days=IDLE_DAYS + 1)
    span = (lookback, w.end_utc)
    with engine.connect() as conn:
        d = conn.dialect.name
        days = (
            sa.select(e.c.member_id, day_number(e.c.occurred_at, d, w.tz, span).label("dn"))
            .where(event_filter(scope.account_id, lookback, w.end_utc))
            .distinct()
            .subquery("days")
        )
        prev = sa.func.lag(days.c.dn).over(partition_by=days.c.member_id, order_by=days.c.dn)
        lagged = sa.select(days.c.member_id, days.c.dn, prev.label("p")).subquery("lagged")
        start = sa.case(
            (
                sa.and_(lagged.c.p.is_not(None), lagged.c.p + IDLE_DAYS + 1 > lagged.c.dn + 1),
                lagged.c.p + IDLE_DAYS + 1,
            ),
            else_=lagged.c.dn + 1,
        )
        pieces = sa.select(lagged.c.member_id, start.label("s"), (lagged.c.dn + IDLE_DAYS + 1).label("t")).subquery(
            "pieces"
        )
        current = (
            current_member_days(scope.account_id, lookback, w.end_utc, w.tz, d, span)
            .cte("current_days")
            .prefix_with("MATERIALIZED")  # read three times below: compute once
        )
        later = sa.case((pieces.c.s > current.c.first_day, pieces.c.s), else_=current.c.first_day)
        sooner = sa.case((pieces.c.t < current.c.end_day, pieces.c.t), else_=current.c.end_day)
        both = (
            sa.select(later.label("s"), sooner.label("t"))
            .select_from(
                pieces.join(
                    current,
                    sa.and_(
                        current.c.member_id == pieces.c.member_id,
                        pieces.c.s < current.c.end_day,
                        current.c.first_day < pieces.c.t,
                    ),
                )
            )
            .cte("both_days")
            .prefix_with("MATERIALIZED")
        )

        def steps(kind: str, first: Any, end: Any) -> list[sa.Select[Any]]:
            tag = sa.literal(kind).label("kind")
            return [
                sa.select(tag, first.label("day"), sa.func.count().label("delta")).group_by(first),
                sa.select(tag, end.label("day"), (-sa.func.count()).label("delta")).group_by(end),
            ]

        statement = sa.union_all(
            *steps("current", current.c.first_day, current.c.end_day), *steps("active", both.c.s, both.c.t)
        )
        frame = as_int(fetch_frame(conn, statement), ["day", "delta"])
    grid = w.grid()
    epoch = pd.Timestamp("1970-01-01").date()
    # day number of the day after each period's last day (to date for a period in progress): the state there
    ends = np.array(
        [(scope.state_day(period_of(scope.period, p.date()).end) - epoch).days + 1 for p in grid["period_start"]]
    )
    levels = {kind: _level_at(frame[frame["kind"] == kind], ends) for kind in ("current", "active")}
    return pd.DataFrame(
        {
            "period_start": grid["period_start"],
            "current_members": levels["current"],
            "idle_members": levels["current"] - levels["active"],
        }
    )


def _level_at(steps: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """The running sum of ``delta`` by ``day`` up to and including each of ``days`` (0 before the first step)."""
    per_day = steps.groupby("day")["delta"].sum().sort_index()
    level = per_day.cumsum().to_numpy()
    at = np.searchsorted(per_day.index.to_numpy(), days, side="right") - 1
    return np.where(at >= 0, level[np.maximum(at, 0)] if len(level) else 0, 0).astype("int64")


@snapshot_metric("engagement", periods=("weekly", "monthly"))
def engagement_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """Average engagement score and current members per segment at the end of each period (weekly/monthly only).

    A period still in progress is scored at the end of its last day so far (:meth:`SnapshotScope.state_day`).

    Daily snapshots leave it out: scoring every member as of every day of a year is 365 full passes.
    """
    rows = []
    for start in scope.window.grid()["period_start"]:
        period = period_of(scope.period, start.date())
        as_of = scope.state_day(period.end) + timedelta(days=1)
        scores = engagement_scores(engine, scope.account_id, as_of=as_of, population="current")
        rows.append(
            {
                "period_start": start,
                "engagement_score_avg": round(float(scores["score"].mean()), 2) if len(scores) else 0.0,
                **{f"engaged_{s}": int((scores["segment"] == s).sum()) for s in ("high", "medium", "low")},
            }
        )
    return pd.DataFrame(rows)


@snapshot_metric("lifecycle", periods=("weekly", "monthly"))
def lifecycle_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """New, returning, resurrecting and dormant members of each week or month.

    Daily snapshots leave it out: a year of daily lifecycle sorts every (member, day) pair twice for numbers
    that mean little day to day; :func:`analytics.metrics.lifecycle` answers any grain on demand.
    """
    frame = lifecycle(engine, scope.account_id, start=scope.start, end=scope.end, grain=scope.grain)
    names = ["new", "returning", "resurrecting", "dormant"]
    return frame[["period_start", *names]].rename(columns={n: f"lifecycle_{n}" for n in names})


@snapshot_metric("checkout_funnel")
def checkout_funnel_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """Members entering the checkout funnel in each period and how many purchased within 7 days."""
    frame = funnel(
        engine, scope.account_id, "checkout", start=scope.start, end=scope.end, grain=scope.grain, medians=False
    )
    first = frame[frame["step"] == 1][["period_start", "members"]].rename(columns={"members": "checkout_entered"})
    last = frame[frame["step"] == frame["step"].max()][["period_start", "members", "overall_conversion_pct"]]
    last = last.rename(columns={"members": "checkout_purchased", "overall_conversion_pct": "checkout_conversion_pct"})
    out = scope.window.grid()[["period_start"]].merge(first, how="left").merge(last, how="left")
    as_int(out, ["checkout_entered", "checkout_purchased"])
    out["checkout_conversion_pct"] = out["checkout_conversion_pct"].fillna(0.0).astype("float64")
    return out


@snapshot_metric("content")
def content_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """Lessons completed, posts and comments created in each period."""
    w = scope.window
    li = lesson_interactions
    with engine.connect() as conn:
        d = conn.dialect.name
        done = (
            sa.select(bucket_index(li.c.completed_at, w.grain, d, w.tz, w.within).label("b"))
            .where(
                li.c.account_id == scope.account_id,
                li.c.completed.is_(True),
                li.c.completed_at >= w.start_utc,
                li.c.completed_at < w.end_utc,
            )
            .subquery("done")
        )
        lessons_done = fetch_frame(
            conn, sa.select(done.c.b, sa.func.count().label("lessons_completed")).group_by(done.c.b)
        )
        created = (
            sa.select(
                bucket_index(posts.c.created_at, w.grain, d, w.tz, w.within).label("b"),
                sa.case((posts.c.parent_id.is_(None), 1), else_=0).label("top"),
            )
            .where(
                posts.c.account_id == scope.account_id,
                posts.c.created_at >= w.start_utc,
                posts.c.created_at < w.end_utc,
            )
            .subquery("created")
        )
        post_counts = fetch_frame(
            conn,
            sa.select(
                created.c.b,
                sa.func.sum(created.c.top).label("posts_created"),
                sa.func.sum(1 - created.c.top).label("comments_created"),
            ).group_by(created.c.b),
        )
    frame = lessons_done.merge(post_counts, on="b", how="outer")
    return _on_grid(w, frame, ["lessons_completed", "posts_created", "comments_created"])


@snapshot_metric("messaging", per_channel=True)
def messaging_metric(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
    """WhatsApp counts and rates of each period (per phone number on channel snapshots)."""
    phone = scope.phone_number_id
    frame = messaging_rates(
        engine,
        scope.account_id,
        start=scope.start,
        end=scope.end,
        by="phone_number" if phone else None,
        grain=scope.grain,
        policies=scope.policies,
    )
    if phone:
        frame = frame[frame["phone_number_id"] == phone].drop(columns="phone_number_id")
    values = [c for c in frame.columns if c != "period_start"]
    out = scope.window.grid()[["period_start"]].merge(frame, on="period_start", how="left")
    counts = [c for c in values if not c.endswith(("_pct", "_zero_denominator"))]
    as_int(out, counts)
    for c in values:
        if c.endswith("_pct"):
            out[c] = out[c].fillna(0.0).astype("float64")
        elif c.endswith("_zero_denominator"):
            out[c] = out[c].astype("boolean").fillna(True).astype(bool)
    return out.rename(columns={c: f"wa_{c}" for c in values})
