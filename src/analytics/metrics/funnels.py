"""Funnels: ordered steps (event kinds) with a conversion window that starts at the member's first step-1 event.

Definition (docs/metrics.md; Mixpanel/PostHog "first touch" funnels):

* A member **enters** with their first step-1 event from ``start`` to ``end`` (inclusive local dates; the range
  controls entry only);
  the window ``[t1, t1 + window]`` is fixed then and not reset by later step-1 events.
* Step k is reached at the first step-k event strictly after the time step k−1 was reached and at most
  ``window`` after ``t1``. Taking the earliest match at every step is optimal: no later choice reaches more steps.
* ``overall conversion = reached step k ÷ entered step 1``; ``step conversion = reached k ÷ reached k − 1``;
  median time from the previous step over the members who reached step k. Counting is by unique member.
* With a ``grain``, a member can enter once per period (their first step-1 event in each period) and the
  funnel is reported per entry period (conversion over time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.aggregates import median_by
from analytics.metrics.dialect import (
    add_seconds,
    bucket_index,
    bucket_index_to_date,
    correlated_lookups,
    epoch_seconds,
    fetch_frame,
    member_column,
)
from analytics.metrics.events import (
    CHECKOUT_START,
    FUNNEL_VIEW,
    LESSON_COMPLETE,
    LESSON_START,
    LESSON_VIEW,
    PURCHASE,
    event_filter,
)
from analytics.metrics.frames import as_float, as_int, float_array, int_array, rate_pct, rate_pct_array
from analytics.metrics.keyword_metrics import keyword_metric
from analytics.metrics.statements import reused_statement
from analytics.metrics.timeframe import DateLike, account_time_zone, resolve_window, to_local_date, to_utc
from analytics.store.schema import activity_events

__all__ = ["SEED_FUNNELS", "funnel"]

SEED_FUNNELS: dict[str, tuple[str, ...]] = {
    "checkout": (FUNNEL_VIEW, CHECKOUT_START, PURCHASE),
    "lesson": (LESSON_VIEW, LESSON_START, LESSON_COMPLETE),
}
_BREAKDOWNS = {"product": "product_id", "channel": "channel"}  # breakdown name -> activity_events column


def _window_seconds(window: timedelta) -> int:
    if window <= timedelta(0) or window % timedelta(seconds=1):
        raise MetricError(f"funnel window must be a positive whole number of seconds, got {window}")
    return int(window.total_seconds())


@keyword_metric(
    "funnel",
    breakdowns={"product": ("breakdown", "product"), "channel": ("breakdown", "channel")},
    unit="members / %",
    formula="overall_pct(k) = reached step k ÷ entered step 1 × 100; step_pct(k) = reached k ÷ reached k−1 × 100",
    domain="funnels",
)
def funnel(
    engine: Engine,
    account_id: str,
    steps: Sequence[str] | str = "checkout",
    *,
    start: DateLike | None = None,
    end: DateLike | None = None,
    window: timedelta = timedelta(days=7),
    breakdown: Literal["product", "channel"] | None = None,
    grain: str | None = None,
    medians: bool = True,
) -> pd.DataFrame:
    """Conversion through ordered steps (event kinds) within a window from the first step-1 event.

    Formula: overall_pct(k) = reached step k ÷ entered step 1 × 100; step_pct(k) = reached k ÷ reached k−1 × 100.

    Definition: ``overall_conversion_pct(k) = reached step k ÷ entered step 1 × 100``;
    ``step_conversion_pct(k) = reached k ÷ reached k−1 × 100``; the window ``[t1, t1 + window]`` starts at the
    member's first step-1 event and is not reset by repeats; step k needs a step-k event after step k−1 was
    reached. Zero entries give 0 % (never a division error).

    Parameters
    ----------
    steps:
        Event kinds in order (at least 2), or the name of a seed funnel (``checkout``: funnel_view →
        checkout_start → purchase; ``lesson``: lesson_view → lesson_start → lesson_complete).
    start, end:
        First and last local day on which members can enter with step 1 (None = unbounded); later steps may fall
        after ``end``.
    breakdown:
        ``product`` or ``channel`` of the member's entering (first step-1) event.
    grain:
        ``day``/``week``/``month``: one funnel per entry period (members may enter once per period).
    medians:
        Also compute the median seconds from the previous step (one more sort; off for pure counts).

    Returns
    -------
    DataFrame
        One row per (period, breakdown value, step): ``step`` (1…n), ``kind``, ``members``,
        ``overall_conversion_pct``, ``step_conversion_pct``, ``median_seconds_from_previous``.
    """
    kinds = _resolve_steps(steps)
    seconds = _window_seconds(window)
    if breakdown is not None and breakdown not in _BREAKDOWNS:
        raise MetricError(f"funnel breakdown {breakdown!r} is not one of {', '.join(_BREAKDOWNS)}")
    with engine.connect() as conn:
        # the account's time zone places local days; an unbounded funnel without periods needs none, and then
        # the account is only looked up (to name an unknown one) when nobody entered
        tz: str | None = None
        start_utc: datetime | None = None
        end_utc: datetime | None = None
        if grain is not None:
            if start is None or end is None:
                raise MetricError("a funnel per period (grain) needs start and end")
            tw = resolve_window(conn, account_id, start, end, grain)
            tz, start_utc, end_utc = tw.tz, tw.start_utc, tw.end_utc
        elif start is not None or end is not None:
            tz = account_time_zone(conn, account_id)
            start_utc = to_utc(to_local_date(start, tz, "start"), tz) if start is not None else None
            last = to_local_date(end, tz, "end") + timedelta(days=1) if end is not None else None
            end_utc = to_utc(last, tz) if last is not None else None
        stmt = _funnel_statement(
            conn.dialect.name, account_id, tuple(kinds), seconds, start_utc, end_utc, breakdown, grain, tz, medians
        )
        frame = fetch_frame(conn, stmt)
        if tz is None and not int_array(frame["n"]).any():
            account_time_zone(conn, account_id)  # raises MetricError for an account that is not in the store
    return _shape(frame, kinds, breakdown, grain)


def _resolve_steps(steps: Sequence[str] | str) -> list[str]:
    if isinstance(steps, str):
        try:
            return list(SEED_FUNNELS[steps])
        except KeyError:
            raise MetricError(
                f"unknown funnel {steps!r}; seed funnels: {', '.join(SEED_FUNNELS)} (or pass a list of event kinds)"
            ) from None
    kinds = list(steps)
    if len(kinds) < 2:
        raise MetricError(f"a funnel needs at least 2 steps, got {kinds}")
    return kinds


@reused_statement
def _funnel_statement(
    dialect: str,
    account_id: str,
    kinds: tuple[str, ...],
    seconds: int,
    start_utc: datetime | None,
    end_utc: datetime | None,
    breakdown: str | None,
    grain: str | None,
    tz: str | None,
    medians: bool,
) -> sa.CompoundSelect:
    e = activity_events
    entry_filter = event_filter(account_id, start_utc, end_utc, [kinds[0]])
    group: list[sa.ColumnElement[object]] = []
    if grain is not None:
        assert tz is not None, "a funnel per period reads the account's time zone"
        within = (start_utc, end_utc) if start_utc is not None and end_utc is not None else None
        group.append(bucket_index(e.c.occurred_at, grain, dialect, tz, within).label("g"))
    member = member_column(e, dialect)  # the member id, or its integer key where that is faster
    if breakdown is None:
        s1 = (
            sa.select(member.label("member"), *group, sa.func.min(e.c.occurred_at).label("t1"))
            .where(entry_filter)
            .group_by(member, *group)
            .cte("s1")
        )
    else:
        order = sa.func.row_number().over(partition_by=[member, *group], order_by=[e.c.occurred_at, e.c.id])
        ranked = (
            sa.select(
                member.label("member"),
                *group,
                e.c.occurred_at.label("t1"),
                e.c[_BREAKDOWNS[breakdown]].label("bd"),
                order.label("rn"),
            )
            .where(entry_filter)
            .subquery("ranked")
        )
        keep = [ranked.c.g] if grain is not None else []
        s1 = sa.select(ranked.c.member, *keep, ranked.c.t1, ranked.c.bd).where(ranked.c.rn == 1).cte("s1")
    carry = [c.name for c in s1.c if c.name not in ("member", "t1")]
    prev: sa.CTE = s1
    for k, kind in enumerate(kinds[1:], start=2):
        reached = _reached(dialect, account_id, kind, prev, k, seconds)
        cols = [prev.c.member, *[prev.c[c] for c in carry], *[prev.c[f"t{j}"] for j in range(1, k)]]
        if correlated_lookups(dialect):
            stmt = sa.select(*cols, reached.label(f"t{k}"))
        else:
            ev = activity_events.alias(f"e{k}")
            stmt = (
                sa.select(*cols, sa.func.min(ev.c.occurred_at).label(f"t{k}"))
                .select_from(prev.outerjoin(ev, _step_match(dialect, account_id, kind, ev, prev, k, seconds)))
                .group_by(*cols)
            )
        prev = stmt.cte(f"s{k}").prefix_with("MATERIALIZED")
    return _aggregate(dialect, prev, carry, len(kinds), medians)


def _step_match(
    dialect: str, account_id: str, kind: str, ev: Any, prev: sa.CTE, k: int, seconds: int
) -> sa.ColumnElement[bool]:
    """An event of ``kind`` of the same member after step k−1 and within the window from step 1."""
    return sa.and_(
        ev.c.account_id == account_id,
        ev.c.kind == kind,
        member_column(ev, dialect) == prev.c.member,
        ev.c.occurred_at > prev.c[f"t{k - 1}"],
        ev.c.occurred_at <= add_seconds(prev.c.t1, seconds, dialect),
    )


def _reached(dialect: str, account_id: str, kind: str, prev: sa.CTE, k: int, seconds: int) -> sa.ColumnElement[Any]:
    """``t_k`` as a correlated lookup: the first matching event, only for members who reached step k−1."""
    ev = activity_events.alias(f"e{k}")
    first = (
        sa.select(sa.func.min(ev.c.occurred_at))
        .where(_step_match(dialect, account_id, kind, ev, prev, k, seconds))
        .scalar_subquery()
    )
    return sa.case((prev.c[f"t{k - 1}"].is_not(None), first))


def _aggregate(dialect: str, final: sa.CTE, carry: list[str], steps: int, medians: bool) -> sa.CompoundSelect:
    """Members per step (and the median gap to the previous step) per period/breakdown, in long form."""
    keys = [final.c[c] for c in carry]
    no_median = sa.cast(sa.null(), sa.Float)
    parts = [
        sa.select(*keys, sa.literal(1, sa.Integer).label("step"), sa.func.count().label("n"), no_median.label("m"))
        .select_from(final)
        .group_by(*keys)
    ]
    for k in range(2, steps + 1):
        if not medians:
            parts.append(
                sa.select(
                    *keys,
                    sa.literal(k, sa.Integer).label("step"),
                    sa.func.count(final.c[f"t{k}"]).label("n"),
                    no_median.label("m"),
                ).group_by(*keys)
            )
            continue
        gap = epoch_seconds(final.c[f"t{k}"], dialect) - epoch_seconds(final.c[f"t{k - 1}"], dialect)
        gaps = sa.select(*keys, gap.label("d")).where(final.c[f"t{k}"].is_not(None)).subquery(f"gaps{k}")
        med = median_by(gaps, "d", carry, "m").subquery(f"med{k}")
        parts.append(sa.select(*[med.c[c] for c in carry], sa.literal(k, sa.Integer).label("step"), med.c.n, med.c.m))
    return sa.union_all(*parts)


def _shape(frame: pd.DataFrame, kinds: list[str], breakdown: str | None, grain: str | None) -> pd.DataFrame:
    keys = (["g"] if grain is not None else []) + (["bd"] if breakdown is not None else [])
    if not keys:
        return _shape_one(frame, kinds)
    as_int(frame, ["step", "n"])
    as_float(frame, ["m"])
    # one funnel per period and/or breakdown value that has entries: every step for each, then group-wise rates
    steps = pd.DataFrame({"step": np.arange(1, len(kinds) + 1, dtype="int64")})
    entries = frame.loc[frame["step"] == 1, keys].drop_duplicates()
    long = entries.merge(steps, how="cross").merge(frame, on=[*keys, "step"], how="left")
    as_int(long, ["n"])
    long = long.rename(columns={"n": "members"}).sort_values([*keys, "step"], ignore_index=True)
    long["kind"] = long["step"].map(dict(enumerate(kinds, start=1)))
    grouped = long.groupby(keys, dropna=False)["members"]
    first = grouped.transform("first")
    previous = grouped.shift(1)
    long["overall_conversion_pct"], _ = rate_pct(long["members"], first)
    long["step_conversion_pct"], _ = rate_pct(long["members"], previous.fillna(long["members"]))
    long["median_seconds_from_previous"] = long["m"]
    out_keys = []
    if grain is not None:
        long["period_start"] = bucket_index_to_date(long["g"].astype("int64"), grain).to_numpy()
        out_keys.append("period_start")
    if breakdown is not None:
        long = long.rename(columns={"bd": breakdown})
        out_keys.append(breakdown)
    cols = [*out_keys, "step", "kind", "members", "overall_conversion_pct", "step_conversion_pct"]
    return long[[*cols, "median_seconds_from_previous"]]


def _shape_one(frame: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    """:func:`_shape` for a single funnel (no period, no breakdown): at most one row per step, placed with numpy.

    The keyed shaping (grid, merge, group-wise first and previous) and even pandas arithmetic on a three-row
    series cost milliseconds; this is the common call (dashboards, the benchmark's W4).
    """
    n_steps = len(kinds)
    at = int_array(frame["step"]) - 1
    members = np.zeros(n_steps, dtype="int64")
    members[at] = int_array(frame["n"])
    medians = np.full(n_steps, np.nan)
    medians[at] = float_array(frame["m"])
    reached = members.astype("float64")
    overall, _ = rate_pct_array(reached, np.full(n_steps, reached[0]))
    step, _ = rate_pct_array(reached, np.r_[reached[:1], reached[:-1]])
    return pd.DataFrame(
        {
            "step": np.arange(1, n_steps + 1, dtype="int64"),
            "kind": kinds,
            "members": members,
            "overall_conversion_pct": overall,
            "step_conversion_pct": step,
            "median_seconds_from_previous": medians,
        }
    )
