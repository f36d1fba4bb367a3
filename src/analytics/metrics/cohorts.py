"""Cohorts: net MRR retention by first-payment cohort, and signup-cohort retention of members with access."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from analytics.metrics.catalog import metric
from analytics.metrics.dialect import (
    bucket_index,
    bucket_index_to_date,
    count_distinct_in_groups,
    date_bucket_index,
    expand_range,
    fetch_int_arrays,
    member_column,
    metric_connection,
    segments_by_bucket_ends,
    sort_key,
)
from analytics.metrics.fx import convert_amounts, load_rates
from analytics.metrics.membership_state import ACCESS_STATUSES, scope_for
from analytics.metrics.movements import MOVEMENT_POLICIES, customer_groups
from analytics.metrics.request import MetricRequest, account_settings, bucket_frame, period_instants
from analytics.metrics.series import fetch_frame, ratio
from analytics.metrics.statements import reused_statement
from analytics.store.schema import members, membership_status_changes

__all__ = ["net_mrr_retention", "signup_retention"]


@metric(
    "net_mrr_retention",
    unit="percent of the cohort's starting MRR",
    formula="net MRR retention(cohort, k) = 100 × MRR of the cohort's customers at the end of bucket cohort + k "
    "÷ their MRR at the end of the cohort's bucket",
    domain="revenue",
    policies=MOVEMENT_POLICIES,
)
def net_mrr_retention(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Net MRR retention of first-payment cohorts: how much of a cohort's starting MRR it still pays k buckets on.

    Formula: net MRR retention(cohort, k) = 100 × MRR of the cohort's customers at the end of bucket cohort + k ÷
    their MRR at the end of the cohort's bucket

    A customer's cohort is the bucket of its first paid change (within the period). Expansion can push the value
    above 100. Amounts are converted at each bucket end's rate. Columns: ``cohort`` (first day of the cohort's
    bucket), ``k``, ``period_start``, ``currency``, ``cohort_customers``, ``cohort_mrr_minor``, ``mrr_minor``,
    ``net_mrr_retention_pct`` (NaN with ``flag = "no_starting_mrr"``).
    """
    request.only_breakdowns("net_mrr_retention", ())
    with metric_connection(engine) as conn:
        scope = scope_for(conn, request)
        g = customer_groups(scope, cohorts=True)
        currency = [g.c[k] for k in scope.keys if k == "currency"]
        query = (
            sa.select(
                g.c.cohort,
                g.c.bucket,
                *currency,
                sa.cast(sa.func.sum(g.c.net), sa.BigInteger).label("net"),
                sa.cast(sa.func.sum(sa.case((g.c.first == 1, 1), else_=0)), sa.BigInteger).label("joined"),
            )
            .where(g.c.bucket.is_not(None), g.c.cohort.is_not(None))
            .group_by(g.c.cohort, g.c.bucket, *currency)
        )
        raw = fetch_frame(conn, query, ["cohort", "bucket", *[c.name for c in currency], "net", "joined"])
        if "currency" not in raw.columns:
            raw["currency"] = scope.default_currency
        reporting = request.reporting_currency or account_settings(conn, request.account_id).reporting_currency
        rates = load_rates(conn, set(raw["currency"]), reporting, request.end, request.start - timedelta(days=1))
    buckets = bucket_frame(request)
    for col in ("cohort", "bucket"):
        raw[col] = pd.to_datetime(raw[col]).astype("datetime64[ns]")
    raw["net"] = raw["net"].astype("int64")
    raw["joined"] = raw["joined"].astype("int64")
    columns = ["cohort", "k", "period_start", "currency", "cohort_customers", "cohort_mrr_minor", "mrr_minor"]
    if raw.empty:
        return pd.DataFrame({c: [] for c in [*columns, "net_mrr_retention_pct", "flag"]})
    pairs = raw[["cohort", "currency"]].drop_duplicates()
    grid = pairs.merge(buckets[["period_start", "last_day"]], how="cross")
    grid = grid[grid["period_start"] >= grid["cohort"]]
    raw = raw.rename(columns={"bucket": "period_start"})
    grid = grid.merge(raw, on=["cohort", "currency", "period_start"], how="left").fillna({"net": 0, "joined": 0})
    grid = grid.sort_values(["cohort", "currency", "period_start"], kind="stable")
    grid["mrr_minor"] = grid.groupby(["cohort", "currency"], sort=False)["net"].cumsum().astype("int64")
    grid["mrr_minor"] = convert_amounts(grid["mrr_minor"], grid["currency"], grid["last_day"], rates)
    grid["cohort_customers"] = grid.groupby(["cohort", "currency"], sort=False)["joined"].transform("sum")
    out = grid.groupby(["cohort", "period_start"], sort=True)[["mrr_minor"]].sum().reset_index()
    sizes = grid.drop_duplicates(["cohort", "currency"]).groupby("cohort")["cohort_customers"].sum()
    out["cohort_customers"] = out["cohort"].map(sizes).astype("int64")
    out["k"] = out.groupby("cohort").cumcount()
    out["currency"] = reporting
    out["cohort_mrr_minor"] = out.groupby("cohort")["mrr_minor"].transform("first")
    out["net_mrr_retention_pct"] = ratio(out["mrr_minor"], out["cohort_mrr_minor"], 100.0)
    out["flag"] = np.where(out["cohort_mrr_minor"] == 0, "no_starting_mrr", "")
    return out[[*columns, "net_mrr_retention_pct", "flag"]].reset_index(drop=True)


@metric(
    "signup_retention",
    unit="percent of the signup cohort",
    formula="retention(cohort, k) = 100 × members of the cohort with a membership giving access at the end of "
    "bucket cohort + k ÷ cohort size",
    domain="revenue",
    policies=(),
)
def signup_retention(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Signup-cohort retention: the share of each signup cohort that still has access at the end of each later bucket.

    Formula: retention(cohort, k) = 100 × members of the cohort with a membership giving access at the end of
    bucket cohort + k ÷ cohort size

    The cohort is the bucket of the member's ``joined_at`` (``created_at`` when unknown) in the account's time zone,
    for members who joined within the period; access = a membership whose status at the last instant of the bucket
    is trialing, active, canceling, past_due or completed (a one-time purchase keeps access). Every cohort × k = 0
    … (last bucket − cohort) is present. Columns: ``cohort``, ``k``, ``period_start``, ``cohort_size``,
    ``active`` (members of the cohort with access, not engagement-active members; ``members_with_access`` is the
    same column under a name that says so), ``retention_pct``.
    """
    request.only_breakdowns("signup_retention", ())
    grain = request.grain
    first, last = date_bucket_index(request.start, grain), date_bucket_index(request.end, grain)
    with metric_connection(engine) as conn:
        tz = account_settings(conn, request.account_id).time_zone
        t0, t1 = period_instants(request, tz)
        query = _retention_query(conn.dialect.name, request.account_id, tz, grain, first, last, t0, t1)
        both = fetch_int_arrays(conn, query)
    # every cohort × bucket from the cohort's own to the last, in (cohort, k) order, built with numpy on the few
    # hundred aggregated rows: active counts go into a dense (cohort, bucket) matrix of the period's buckets
    is_size = both["i"] == -1
    cohorts_, sizes_ = both["cohort"][is_size], both["active"][is_size]
    order = np.argsort(cohorts_, kind="stable")
    cohorts_, sizes_ = cohorts_[order], sizes_[order]
    span = last - first + 1
    matrix = np.zeros((span, span), dtype="int64")
    act = ~is_size
    matrix[both["cohort"][act] - first, both["i"][act] - first] = both["active"][act]
    lengths = last + 1 - cohorts_
    cohort_col = np.repeat(cohorts_, lengths)
    k = np.arange(len(cohort_col)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    i = cohort_col + k
    out = pd.DataFrame(
        {
            "cohort": bucket_index_to_date(cohort_col, grain).to_numpy(),
            "k": k.astype("int64"),
            "period_start": bucket_index_to_date(i, grain).to_numpy(),
            "cohort_size": np.repeat(sizes_, lengths).astype("int64"),
            "active": matrix[cohort_col - first, i - first],
        }
    )
    out["retention_pct"] = ratio(out["active"], out["cohort_size"], 100.0)
    out["members_with_access"] = out["active"]
    return out[["cohort", "k", "period_start", "cohort_size", "active", "members_with_access", "retention_pct"]]


@reused_statement
def _retention_query(
    dialect: str, account_id: str, tz: str, grain: str, first: int, last: int, t0: datetime, t1: datetime
) -> sa.CompoundSelect:
    """Active members per (cohort, bucket) of the period, and the cohort sizes as rows with ``i = −1``.

    Buckets ``first`` … ``last`` are :func:`bucket_index` values of the period ``[t0, t1)`` in ``tz``.
    """
    mb, c = members.c, membership_status_changes.c

    def index_of(at: sa.ColumnElement[object]) -> sa.ColumnElement[int]:
        return bucket_index(at, grain, dialect, tz, (t0, t1))

    signed = sa.func.coalesce(mb.joined_at, mb.created_at)
    # the cohort of each member who joined in the period, computed once (it feeds the sizes and the segments);
    # the member's key for counting distinct members: the id, or its integer key where hashing that is cheaper
    key = member_column(members, dialect)
    cohort_members = (
        sa.select(mb.id.label("member_id"), index_of(signed).label("cohort"), key.label("member_key"))
        .where(mb.account_id == account_id, signed >= t0, signed < t1)
        .cte("cohort_members")
        .prefix_with("MATERIALIZED")
    )
    # Each change's bucket, computed once per row (first − 1 before the period). A change's state lasts until
    # the membership's next change, so it is in force at the end of buckets i0 … i1 − 1, where i1 is the
    # next change's bucket (the last bucket + 1 when there is none before t1).
    changes = (
        sa.select(
            c.member_id,
            c.membership_id,
            c.id,
            c.changed_at,
            c.status,
            sa.case((c.changed_at < t0, first - 1), else_=index_of(c.changed_at)).label("b"),
        )
        .where(c.account_id == account_id, c.changed_at < t1)
        .subquery("changes")
    )
    rows = _segments(dialect, changes, last)
    cm = cohort_members.c
    # One row per access segment of a cohort member still in force at some bucket end of the period,
    # materialised once (SQLite would otherwise recompute it for every candidate bucket of the range join below).
    access = (
        sa.select(cm.member_key, cm.cohort, rows.c.i0, rows.c.i1)
        .select_from(rows.join(cohort_members, cm.member_id == rows.c.member_id))
        .where(rows.c.status.in_(ACCESS_STATUSES), rows.c.i1 >= first)
        .cte("access")
        .prefix_with("MATERIALIZED")
    )
    # buckets before the cohort's own do not count: the range starts at the later of i0 and the cohort
    lo = sa.case((access.c.i0 < access.c.cohort, access.c.cohort), else_=access.c.i0)
    expanded = expand_range(
        [access.c.member_key, access.c.cohort], access, lo, access.c.i1, dialect, (first, last)
    ).subquery("expanded")
    # a member with two memberships giving access counts once: distinct members per (cohort, bucket)
    counts: sa.Select[Any]
    if count_distinct_in_groups(dialect):
        counts = sa.select(
            expanded.c.cohort, expanded.c.i, sa.func.count(sa.distinct(expanded.c.member_key)).label("active")
        ).group_by(expanded.c.cohort, expanded.c.i)
    else:
        pairs = sa.select(expanded.c.member_key, expanded.c.cohort, expanded.c.i).distinct().subquery("pairs")
        counts = sa.select(pairs.c.cohort, pairs.c.i, sa.func.count().label("active")).group_by(
            pairs.c.cohort, pairs.c.i
        )
    sizes = sa.select(cm.cohort, sa.literal(-1).label("i"), sa.func.count().label("active")).group_by(cm.cohort)
    return sa.union_all(counts, sizes)


def _segments(dialect: str, changes: sa.Subquery, last: int) -> sa.CTE:
    """Access segments ``(member_id, status, i0, i1)``: the status is in force at the end of buckets i0 … i1 − 1.

    A change lasts until the membership's next change; ``i1`` is that change's bucket (``last + 1`` if none).
    Where :func:`dialect.segments_by_bucket_ends` holds, the same segments come from the bucket ends instead:
    the status at the end of a bucket with changes is its last change's, and it lasts until the membership's next
    bucket with a change (a grouping and a join of at most one row per membership and bucket, not a sort of every
    change).
    """
    ch = changes.c
    if not segments_by_bucket_ends(dialect):
        next_b = sa.func.lead(ch.b).over(
            partition_by=sort_key(ch.membership_id, dialect), order_by=(ch.changed_at, sort_key(ch.id, dialect))
        )
        return sa.select(ch.member_id, ch.status, ch.b.label("i0"), sa.func.coalesce(next_b, last + 1).label("i1")).cte(
            "segments"
        )
    # the latest change by (time, id); an ordered last() costs DuckDB less than arg_max over a (time, id) struct
    last_change = sa.func.last(aggregate_order_by(ch.status, ch.changed_at, ch.id))
    ends = (
        sa.select(ch.membership_id, ch.member_id, ch.b, last_change.label("status"))
        .group_by(ch.membership_id, ch.member_id, ch.b)
        .cte("bucket_ends")
        .prefix_with("MATERIALIZED")
    )
    here, later = ends.alias("here"), ends.alias("later")
    following = sa.and_(later.c.membership_id == here.c.membership_id, later.c.b > here.c.b)
    return (
        sa.select(
            here.c.member_id,
            here.c.status,
            here.c.b.label("i0"),
            sa.func.coalesce(sa.func.min(later.c.b), last + 1).label("i1"),
        )
        .select_from(here.outerjoin(later, following))
        .where(here.c.status.in_(ACCESS_STATUSES))  # only access segments are read
        .group_by(here.c.membership_id, here.c.member_id, here.c.status, here.c.b)
        .cte("segments")
    )
