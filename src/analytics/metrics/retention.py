"""Engagement retention by cohort: of the members who joined in a month, how many were active k months later.

Two variants (Amplitude/Mixpanel): **on** — active in month k exactly; **on or after** — active in month k or
any later month up to ``as_of`` (unbounded retention). Months are calendar months in the account's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.dialect import bucket_index, bucket_index_to_date, date_bucket_index, fetch_frame
from analytics.metrics.engagement import member_join_time
from analytics.metrics.events import event_filter
from analytics.metrics.frames import as_int
from analytics.metrics.keyword_metrics import keyword_metric
from analytics.metrics.timeframe import DateLike, account_time_zone, resolve_window, to_local_date, to_utc
from analytics.store.schema import activity_events, members

__all__ = ["cohort_retention"]


@keyword_metric(
    "cohort_retention",
    unit="%",
    formula="retention_pct(c, k) = members of cohort c active in month c+k ÷ cohort size × 100",
    domain="engagement",
)
def cohort_retention(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    as_of: DateLike | None = None,
    kinds: Sequence[str] | None = None,
    cohort_by: Literal["join", "first_event"] = "join",
) -> pd.DataFrame:
    """Monthly cohort retention of member activity, "on" and "on or after".

    Formula: retention_pct(c, k) = members of cohort c active in month c+k ÷ cohort size × 100.

    Definition: ``retention(c, k) = members of cohort c active in month c+k ÷ cohort size × 100``; the "on or after"
    variant counts members active in month ``c+k`` or any later month before ``as_of``.

    Parameters
    ----------
    start, end:
        Cohorts are the members who joined from ``start`` to ``end`` (inclusive local dates), by join month.
    as_of:
        Activity is counted before this instant (default: the end of ``end``); later months are left out.
    cohort_by:
        ``join`` (default: ``members.joined_at``) or ``first_event`` (the month of the member's first event).

    Returns
    -------
    DataFrame
        ``cohort`` (month start), ``months_since`` (k), ``cohort_size``, ``active``, ``retention_pct``,
        ``active_on_or_after``, ``retention_on_or_after_pct``.
    """
    if cohort_by not in ("join", "first_event"):
        raise MetricError(f"cohort_by={cohort_by!r}: use 'join' or 'first_event'")
    with engine.connect() as conn:
        window = resolve_window(conn, account_id, start, end, "month")
        tz = account_time_zone(conn, account_id)
        until = to_utc(as_of if as_of is not None else window.end, tz, "as_of")
        last_month = date_bucket_index(to_local_date(until, tz, "as_of"), "month")
        if to_utc(bucket_index_to_date([last_month], "month")[0].date(), tz) >= until:
            last_month -= 1  # as_of is a month start: that month has not begun
        d = conn.dialect.name
        e = activity_events
        act = (
            sa.select(
                e.c.member_id, bucket_index(e.c.occurred_at, "month", d, tz, (window.start_utc, until)).label("m")
            )
            .where(event_filter(account_id, None if cohort_by == "first_event" else window.start_utc, until, kinds))
            .distinct()
            .cte("act")
        )
        if cohort_by == "join":
            mem = (
                sa.select(
                    members.c.id.label("member_id"),
                    bucket_index(member_join_time(), "month", d, tz, window.within).label("c"),
                )
                .where(
                    members.c.account_id == account_id,
                    member_join_time() >= window.start_utc,
                    member_join_time() < window.end_utc,
                )
                .cte("mem")
            )
        else:
            first = sa.select(act.c.member_id, sa.func.min(act.c.m).label("c")).group_by(act.c.member_id).subquery()
            mem = (
                sa.select(first.c.member_id, first.c.c)
                .where(first.c.c >= window.first_bucket, first.c.c <= window.last_bucket)
                .cte("mem")
            )
        sizes = sa.select(mem.c.c, sa.literal(-1).label("k"), sa.func.count().label("n"), sa.literal("size").label("v"))
        sizes = sizes.group_by(mem.c.c)
        joined = act.join(mem, mem.c.member_id == act.c.member_id)
        on = (
            sa.select(mem.c.c, (act.c.m - mem.c.c).label("k"), sa.func.count().label("n"), sa.literal("on").label("v"))
            .select_from(joined)
            .where(act.c.m >= mem.c.c)
            .group_by(mem.c.c, act.c.m - mem.c.c)
        )
        last = (
            sa.select(mem.c.c, (sa.func.max(act.c.m) - mem.c.c).label("k"))
            .select_from(joined)
            .where(act.c.m >= mem.c.c)
            .group_by(act.c.member_id, mem.c.c)
            .subquery("last")
        )
        after = sa.select(last.c.c, last.c.k, sa.func.count().label("n"), sa.literal("last").label("v")).group_by(
            last.c.c, last.c.k
        )
        frame = as_int(fetch_frame(conn, sa.union_all(sizes, on, after)), ["c", "k", "n"])
    return _cohort_grid(frame, last_month)


def _cohort_grid(frame: pd.DataFrame, last_month: int) -> pd.DataFrame:
    sizes = frame[frame["v"] == "size"].set_index("c")["n"]
    columns = ["cohort", "months_since", "cohort_size", "active", "retention_pct"]
    columns += ["active_on_or_after", "retention_on_or_after_pct"]
    cohorts = sorted(c for c in sizes.index if c <= last_month)
    if not cohorts:
        return pd.DataFrame({c: pd.Series([], dtype="int64") for c in columns}).assign(
            cohort=pd.Series([], dtype="datetime64[ns]"),
            retention_pct=pd.Series([], dtype="float64"),
            retention_on_or_after_pct=pd.Series([], dtype="float64"),
        )
    spans = np.array([last_month - c + 1 for c in cohorts])
    grid = pd.DataFrame(
        {
            "c": np.repeat(cohorts, spans),
            "k": np.concatenate([np.arange(n) for n in spans]),
        }
    )
    grid["cohort_size"] = grid["c"].map(sizes).astype("int64")
    on = frame[frame["v"] == "on"][["c", "k", "n"]].rename(columns={"n": "active"})
    last = frame[frame["v"] == "last"][["c", "k", "n"]].rename(columns={"n": "last"})
    grid = grid.merge(on, on=["c", "k"], how="left").merge(last, on=["c", "k"], how="left")
    as_int(grid, ["active", "last"])
    # members whose last active month is k or later: a reverse cumulative sum within each cohort
    grid["active_on_or_after"] = grid.iloc[::-1].groupby("c")["last"].cumsum().iloc[::-1].astype("int64")
    grid["retention_pct"] = np.round(grid["active"] / grid["cohort_size"] * 100, 2)
    grid["retention_on_or_after_pct"] = np.round(grid["active_on_or_after"] / grid["cohort_size"] * 100, 2)
    grid["cohort"] = bucket_index_to_date(grid["c"], "month").to_numpy()
    grid = grid.rename(columns={"k": "months_since"})
    return grid[columns].reset_index(drop=True)
