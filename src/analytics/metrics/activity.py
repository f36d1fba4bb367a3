"""Activity over time: engagement-active members (DAU/WAU/MAU), heat map, lifecycle and stickiness, in the account's
zone.

"Active" here always means **engagement-active**: a member with a qualifying event in the bucket. It is neither a
subscription status (``memberships_by_status``: memberships with status ``active``) nor paying (``mrr_movements``,
``arpa``: paying customers). These counts come from events, so they take no population parameter: a member who
left is counted only in a bucket where they had an event.

Every function takes a local calendar period ``start``–``end`` (both inclusive) and returns one row per bucket of
its grain (days, Monday–Sunday weeks, months; zeros included), the bucket named by its first day
(``period_start``); the first and last buckets are clipped to the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.dialect import bucket_index, day_number, epoch_bucket, fetch_frame, member_column
from analytics.metrics.engagement import member_join_time
from analytics.metrics.events import event_filter
from analytics.metrics.frames import as_int
from analytics.metrics.keyword_metrics import keyword_metric
from analytics.metrics.timeframe import DateLike, TimeWindow, resolve_window, zone
from analytics.store.schema import activity_events, members

__all__ = ["BREAKDOWNS", "REQUEST_BREAKDOWNS", "active_members", "activity_heatmap", "lifecycle", "stickiness"]

BREAKDOWNS = {
    "product": activity_events.c.product_id,
    "channel": activity_events.c.channel,
    "kind": activity_events.c.kind,
}
REQUEST_BREAKDOWNS: dict[str, tuple[str, object]] = {
    "product": ("breakdown", "product"),
    "channel": ("breakdown", "channel"),
}
"""The request breakdowns ``active_members`` answers, as keyword arguments (see :mod:`keyword_metrics`)."""
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _breakdown_column(breakdown: str | None) -> sa.ColumnElement[object] | None:
    if breakdown is None:
        return None
    try:
        return BREAKDOWNS[breakdown].label(breakdown)
    except KeyError:
        raise MetricError(f"breakdown {breakdown!r} is not one of {', '.join(BREAKDOWNS)}") from None


@keyword_metric(
    "active_members",
    breakdowns=REQUEST_BREAKDOWNS,
    unit="members",
    formula="count(distinct member_id with a qualifying event in the bucket); DAU/WAU/MAU = day/week/month",
    domain="engagement",
)
def active_members(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    grain: str = "day",
    kinds: Sequence[str] | None = None,
    breakdown: Literal["product", "channel", "kind"] | None = None,
) -> pd.DataFrame:
    """Engagement-active members per day, week or month (DAU, WAU, MAU): distinct members with a qualifying event.

    Formula: count(distinct member_id with a qualifying event in the bucket); DAU/WAU/MAU = day/week/month.

    Definition: ``count(distinct member_id with any qualifying event in the interval)``; DAU/WAU/MAU are grains
    day/week/month; qualifying events are ``kinds`` (None = every kind). Not the subscription status ``active``
    (:func:`~analytics.metrics.memberships_by_status`) and not paying customers (``mrr_movements``).

    Returns
    -------
    DataFrame
        ``period_start`` (and the breakdown column ``product``, ``channel`` or ``kind``), ``active_members``
        (engagement-active members of the bucket).
    """
    column = _breakdown_column(breakdown)
    with engine.connect() as conn:
        window = resolve_window(conn, account_id, start, end, grain)
        bucket = bucket_index(activity_events.c.occurred_at, grain, conn.dialect.name, window.tz, window.within).label(
            "bucket"
        )
        keys: list[sa.ColumnElement[object]] = [bucket] if column is None else [bucket, column]
        member = member_column(activity_events, conn.dialect.name)  # distinct ids = distinct keys
        stmt = (
            sa.select(*keys, sa.func.count(sa.distinct(member)).label("active_members"))
            .where(event_filter(account_id, window.start_utc, window.end_utc, kinds))
            .group_by(*keys)
        )
        frame = as_int(fetch_frame(conn, stmt), ["bucket", "active_members"])
    return _dense(frame, window, breakdown, ["active_members"])


def _dense(frame: pd.DataFrame, window: TimeWindow, by: str | None, values: list[str]) -> pd.DataFrame:
    """One row per bucket (per breakdown value), zeros where the query found nothing."""
    grid = window.grid()
    if by is not None:
        levels = (
            pd.DataFrame({by: pd.unique(frame[by])}) if len(frame) else pd.DataFrame({by: pd.Series([], dtype=object)})
        )
        grid = grid.merge(levels, how="cross")
    keys = ["bucket"] if by is None else ["bucket", by]
    out = grid.merge(frame, on=keys, how="left")
    as_int(out, values)
    order = ["period_start"] if by is None else ["period_start", by]
    return out.drop(columns="bucket").sort_values(order, ignore_index=True)[[*order, *values]]


@keyword_metric(
    "activity_heatmap",
    unit="events",
    formula="count(events) by local weekday (0 = Monday) × local hour in the account's time zone",
    domain="engagement",
)
def activity_heatmap(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    kinds: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Events by weekday × hour of day in the account's time zone (168 cells, zeros included).

    Formula: count(events) by local weekday (0 = Monday) × local hour in the account's time zone.

    Definition: ``count(events) by local weekday (Monday = 0) × local hour of occurred_at in the account time zone``.
    The database counts events per UTC quarter hour (every time zone offset is a multiple of 15 minutes); the
    few thousand quarter hours are then placed in local time, so daylight-saving changes are exact.

    Returns
    -------
    DataFrame
        ``weekday`` (0 = Monday), ``day_name``, ``hour`` (0–23), ``events``.
    """
    with engine.connect() as conn:
        window = resolve_window(conn, account_id, start, end)
        quarter = epoch_bucket(activity_events.c.occurred_at, 900, conn.dialect.name).label("q")
        stmt = (
            sa.select(quarter, sa.func.count().label("events"))
            .where(event_filter(account_id, window.start_utc, window.end_utc, kinds))
            .group_by(quarter)
        )
        frame = as_int(fetch_frame(conn, stmt), ["q", "events"])
    local = pd.to_datetime(frame["q"] * 900, unit="s", utc=True).dt.tz_convert(zone(window.tz))
    frame["weekday"] = local.dt.day_of_week.astype("int64")
    frame["hour"] = local.dt.hour.astype("int64")
    grid = pd.DataFrame([(d, h) for d in range(7) for h in range(24)], columns=["weekday", "hour"])
    counts = frame.groupby(["weekday", "hour"], as_index=False)["events"].sum()
    out = grid.merge(counts, on=["weekday", "hour"], how="left")
    as_int(out, ["events"])
    out.insert(1, "day_name", [WEEKDAYS[d] for d in out["weekday"]])
    return out


@keyword_metric(
    "lifecycle",
    unit="members",
    formula="active = new + returning + resurrecting; dormant = active in the previous bucket, not in this one",
    domain="engagement",
)
def lifecycle(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    grain: str = "week",
    kinds: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Lifecycle of engagement-active members per interval (PostHog definitions; "new" comes from the join date).

    Formula: active = new + returning + resurrecting; dormant = active in the previous bucket, not in this one.

    Definition: per interval, ``new`` = active and joined in it; ``returning`` = active in it and in the previous
    interval (and not new); ``resurrecting`` = active, not active in the previous interval, not new;
    ``dormant`` = active in the previous interval, not in this one (a positive count; PostHog plots it below
    zero). Identity: ``active = new + returning + resurrecting``. A member who joins but has no qualifying event
    in the interval is not counted (as in PostHog).

    Returns
    -------
    DataFrame
        ``period_start, new, returning, resurrecting, dormant, active``.
    """
    with engine.connect() as conn:
        window = resolve_window(conn, account_id, start, end, grain)
        d = conn.dialect.name
        e = activity_events
        scan = window.previous_bucket()
        scanned = (scan.start_utc, window.end_utc)
        act = (
            sa.select(e.c.member_id, bucket_index(e.c.occurred_at, grain, d, window.tz, scanned).label("b"))
            .where(event_filter(account_id, scan.start_utc, window.end_utc, kinds))
            .distinct()
            .cte("act")
        )
        joined = (
            sa.select(
                members.c.id.label("member_id"),
                bucket_index(member_join_time(), grain, d, window.tz, scanned).label("jb"),
            )
            # only members who joined inside the scanned range can be "new" in one of its buckets
            .where(
                members.c.account_id == account_id,
                member_join_time() >= scanned[0],
                member_join_time() < scanned[1],
            )
            .cte("joined")
            .prefix_with("MATERIALIZED")  # a few rows: computed once, not looked up per active member-bucket
        )
        # one pass over each member's active buckets in order: the previous and next active bucket tell
        # returning / resurrecting / going dormant (no self-joins)
        seq = sa.select(
            act.c.member_id,
            act.c.b,
            sa.func.lag(act.c.b).over(partition_by=act.c.member_id, order_by=act.c.b).label("pb"),
            sa.func.lead(act.c.b).over(partition_by=act.c.member_id, order_by=act.c.b).label("nb"),
        ).subquery("seq")
        is_new = joined.c.jb == seq.c.b
        not_new = sa.or_(joined.c.jb.is_(None), joined.c.jb != seq.c.b)
        in_window = seq.c.b >= window.first_bucket
        stmt = (
            sa.select(
                seq.c.b.label("bucket"),
                sa.func.sum(sa.case((sa.and_(in_window, is_new), 1), else_=0)).label("n_new"),
                sa.func.sum(sa.case((sa.and_(in_window, not_new, seq.c.pb == seq.c.b - 1), 1), else_=0)).label(
                    "n_returning"
                ),
                sa.func.sum(
                    sa.case(
                        (sa.and_(in_window, not_new, sa.or_(seq.c.pb.is_(None), seq.c.pb < seq.c.b - 1)), 1), else_=0
                    )
                ).label("n_resurrecting"),
                # dormant in the bucket after this one: not active in the next bucket
                sa.func.sum(sa.case((sa.or_(seq.c.nb.is_(None), seq.c.nb > seq.c.b + 1), 1), else_=0)).label(
                    "gone_after"
                ),
            )
            .select_from(seq.outerjoin(joined, joined.c.member_id == seq.c.member_id))
            .group_by(seq.c.b)
        )
        frame = as_int(fetch_frame(conn, stmt), ["bucket", "n_new", "n_returning", "n_resurrecting", "gone_after"])
    dormant = frame[["bucket", "gone_after"]].rename(columns={"gone_after": "dormant"})
    dormant = dormant[dormant["bucket"] < window.last_bucket]
    active = frame[frame["bucket"] >= window.first_bucket].drop(columns="gone_after")
    dormant["bucket"] += 1  # dormant in the bucket after the last active one
    frame = active.merge(dormant, on="bucket", how="outer")
    frame.columns = [c.removeprefix("n_") for c in frame.columns]
    out = _dense(frame, window, None, ["new", "returning", "resurrecting", "dormant"])
    out["active"] = out["new"] + out["returning"] + out["resurrecting"]
    return out


@keyword_metric(
    "stickiness",
    unit="members",
    formula="count(members by distinct local days active in the bucket); share_pct = members ÷ active × 100",
    domain="engagement",
)
def stickiness(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    grain: str = "week",
    kinds: Sequence[str] | None = None,
) -> pd.DataFrame:
    """On how many days engagement-active members had an event in each week or month (stickiness distribution).

    Formula: count(members by distinct local days active in the bucket); share_pct = members ÷ active × 100.

    Definition: per interval, ``count(members by number of distinct local days with a qualifying event)``;
    ``share_pct = members ÷ active members of the interval × 100``. Rows run from 1 day to the interval's length.

    Returns
    -------
    DataFrame
        ``period_start, active_days, members, share_pct``.
    """
    if grain not in ("week", "month"):
        raise MetricError(f"stickiness counts active days per week or month, not per {grain!r}")
    with engine.connect() as conn:
        window = resolve_window(conn, account_id, start, end, grain)
        d = conn.dialect.name
        e = activity_events
        days = (
            sa.select(
                e.c.member_id,
                day_number(e.c.occurred_at, d, window.tz, window.within).label("dn"),
                bucket_index(e.c.occurred_at, grain, d, window.tz, window.within).label("b"),
            )
            .where(event_filter(account_id, window.start_utc, window.end_utc, kinds))
            .distinct()
            .subquery("days")
        )
        per = sa.select(days.c.b, sa.func.count().label("n")).group_by(days.c.member_id, days.c.b).subquery("per")
        stmt = sa.select(
            per.c.b.label("bucket"), per.c.n.label("active_days"), sa.func.count().label("members")
        ).group_by(per.c.b, per.c.n)
        frame = as_int(fetch_frame(conn, stmt), ["bucket", "active_days", "members"])
    grid = window.grid()
    starts = grid["period_start"]
    lengths = np.where(grain == "week", 7, starts.dt.days_in_month.to_numpy())
    rows = grid.loc[grid.index.repeat(lengths)].reset_index(drop=True)
    rows["active_days"] = np.concatenate([np.arange(1, n + 1) for n in lengths]) if len(lengths) else []
    out = rows.merge(frame, on=["bucket", "active_days"], how="left")
    as_int(out, ["members", "active_days"])
    totals = out.groupby("bucket")["members"].transform("sum")
    out["share_pct"] = np.round(np.where(totals > 0, out["members"] / totals.where(totals > 0, 1) * 100, 0.0), 2)
    return out.drop(columns="bucket")[["period_start", "active_days", "members", "share_pct"]]
