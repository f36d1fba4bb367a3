"""MRR movements per customer and per period, with a roll-forward that holds exactly.

A **customer** is a paying customer: a member with MRR > 0 (several memberships are one customer). Members who only
have access without paying (trials, free or one-time memberships) are current members (the engagement metrics)
but not customers. Amounts in different currencies are kept apart until conversion, so internally a customer is a
(member, currency[, plan/product breakdown]) pair.

How a movement is found (ChartMogul's definitions, docs/metrics.md):

1. each status-change row changes its membership's MRR by ``delta`` (:mod:`analytics.metrics.membership_state`);
2. a customer's changes closer than ``grouping_window_minutes`` to the previous one form one group — a group never
   spans two buckets, so the roll-forward of every bucket is exact;
3. a group moves the customer's MRR from ``prev`` to ``cur = prev + net`` and is classified:
   new (prev = 0 < cur, the first time the customer pays), reactivation (prev = 0 < cur, paid before),
   expansion (0 < prev < cur), contraction (0 < cur < prev), churn (prev > 0 = cur);
4. per bucket: ``MRR_end − MRR_start = new + expansion + reactivation − contraction − churn`` (+ ``fx`` in a
   reporting currency), in integer minor units.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.metrics.catalog import metric
from analytics.metrics.dialect import add_seconds, fetched_instant, metric_connection, sort_key, to_dates
from analytics.metrics.fx import convert_rollforward, load_rates
from analytics.metrics.membership_state import StateScope, Value, bucket_of, membership_deltas, scope_for
from analytics.metrics.request import MetricRequest, account_settings
from analytics.metrics.series import dense_columns, fetch_frame, running_totals
from analytics.metrics.shared import shared_table
from analytics.metrics.statements import reused_statement

__all__ = [
    "COUNT_COLUMNS",
    "MOVEMENT_COLUMNS",
    "PERIOD_COLUMNS",
    "customer_groups",
    "in_reporting_currency",
    "movement_kind",
    "mrr_movement_log",
    "mrr_movements",
    "rollforward_table",
    "with_currency",
]

MOVEMENT_COLUMNS: tuple[str, ...] = (
    "new_minor",
    "expansion_minor",
    "reactivation_minor",
    "contraction_minor",
    "churn_minor",
)
COUNT_COLUMNS: tuple[str, ...] = ("new_customers", "reactivated_customers", "churned_customers")
MOVEMENT_POLICIES: tuple[str, ...] = (
    "churn_recognition",
    "past_due_in_mrr",
    "annual_normalisation",
    "discounts",
    "grouping_window_minutes",
)
_ROLLFORWARD_FORMULA = "MRR_end − MRR_start = new + expansion + reactivation − contraction − churn + fx"


def customer_groups(
    scope: StateScope,
    *,
    delinquency: bool = False,
    value: Value = "mrr",
    cohorts: bool = False,
    periods: bool = False,
) -> sa.CTE:
    """A CTE with one row per customer movement group over the whole history before ``t1``.

    Columns: ``member_id``, the key columns, ``t`` (the group's last change), ``bucket`` (NULL before the period),
    ``prev`` and ``cur`` (customer MRR before and after the group), ``net`` = cur − prev, ``first`` (1 for the
    customer's first group); with ``periods``, ``last_in_bucket`` (1 for the customer's last group of its bucket);
    with ``delinquency``, ``dunning`` (of the group's last change); with ``cohorts``, ``cohort`` (the bucket of the
    customer's first group; NULL when that was before the period). With ``value="access"`` the amounts count the
    customer's memberships with access instead of MRR (so "customers" are members with access).

    Two passes over the customer's changes in time order: the first computes the running MRR (``cum``) and keeps
    the rows after which a group ends (the next change is more than the grouping window later, or in another
    bucket, or there is none); the second reads the group ends in order: a group's ``cur`` is its end's ``cum``
    and its ``prev`` the previous end's ``cum``. Each window function is evaluated once (SQLite evaluates every
    occurrence of a window expression separately).
    """
    d = membership_deltas(scope, value, delinquency=delinquency)
    keys = list(scope.keys)
    two_legs = bool(scope.changing_keys)

    def window(src: Any) -> dict[str, Any]:
        # ord (the change row's id) is unique, so (changed_at, ord) orders a customer's changes completely; the
        # closing leg of a key change shares its row's ord and sorts after the opening one.
        order = [src.c.changed_at, sort_key(src.c.ord, scope.dialect), *([src.c.leg] if two_legs else [])]
        partition = [sort_key(src.c.member_id, scope.dialect), *[sort_key(src.c[k], scope.dialect) for k in keys]]
        return {"partition_by": partition, "order_by": order}

    carried = [d.c.member_id, *[d.c[k] for k in keys], d.c.changed_at, d.c.ord, d.c.leg, d.c.bucket]
    extra = [d.c.dunning] if delinquency else []
    a = sa.select(
        *carried,
        *extra,
        sa.func.lead(d.c.changed_at, type_=d.c.changed_at.type).over(**window(d)).label("next_t"),
        sa.cast(sa.func.sum(d.c.delta).over(**window(d), rows=(None, 0)), sa.BigInteger).label("cum"),
    ).cte("customer_rows")
    gap = scope.policies.grouping_window_minutes * 60
    # The next change's bucket is only computed when that change is within the grouping window (rare).
    ends_group = sa.or_(
        a.c.next_t.is_(None),
        a.c.next_t > add_seconds(a.c.changed_at, gap, scope.dialect),
        bucket_of(a.c.next_t, scope).is_distinct_from(a.c.bucket),
    )
    last_rows = (
        sa.select(*[a.c[c.name] for c in [*carried, *extra]], a.c.cum).where(ends_group).cte("customer_group_ends")
    )
    w = window(last_rows)
    windowed = sa.select(
        last_rows,
        sa.func.lag(last_rows.c.cum).over(**w).label("prev_cum"),
        *([sa.func.lead(last_rows.c.bucket).over(**w).label("next_bucket")] if periods else []),
        *([sa.func.first_value(last_rows.c.bucket).over(**w).label("cohort")] if cohorts else []),
    ).cte("customer_group_windows")
    prev = sa.func.coalesce(windowed.c.prev_cum, 0)
    g = sa.select(
        windowed.c.member_id,
        *[windowed.c[k] for k in keys],
        windowed.c.changed_at.label("t"),
        windowed.c.bucket,
        prev.label("prev"),
        windowed.c.cum.label("cur"),
        (windowed.c.cum - prev).label("net"),
        sa.case((windowed.c.prev_cum.is_(None), 1), else_=0).label("first"),
        *(
            [sa.case((windowed.c.next_bucket.is_distinct_from(windowed.c.bucket), 1), else_=0).label("last_in_bucket")]
            if periods
            else []
        ),
        *([windowed.c.dunning] if delinquency else []),
        *([windowed.c.cohort] if cohorts else []),
    )
    return g.cte("movement_groups")


def _conditions(g: Any) -> dict[str, ColumnElement[bool]]:
    return {
        "new": sa.and_(g.c.first == 1, g.c.cur > 0),
        "reactivation": sa.and_(g.c.first == 0, g.c.prev == 0, g.c.cur > 0),
        "expansion": sa.and_(g.c.prev > 0, g.c.cur > g.c.prev),
        "contraction": sa.and_(g.c.prev > 0, g.c.cur > 0, g.c.cur < g.c.prev),
        "churn": sa.and_(g.c.prev > 0, g.c.cur == 0),
    }


def movement_kind(g: Any) -> ColumnElement[str]:
    """The movement type of a group row of :func:`customer_groups` ('' when MRR did not change)."""
    return sa.case(*[(cond, sa.literal(name)) for name, cond in _conditions(g).items()], else_=sa.literal(""))


def _amounts(g: Any) -> dict[str, ColumnElement[Any]]:
    cond = _conditions(g)

    def total(name: str, amount: Any) -> ColumnElement[Any]:
        return sa.cast(sa.func.sum(sa.case((cond[name], amount), else_=0)), sa.BigInteger)

    return {
        "new_minor": total("new", g.c.net),
        "expansion_minor": total("expansion", g.c.net),
        "reactivation_minor": total("reactivation", g.c.net),
        "contraction_minor": total("contraction", -g.c.net),
        "churn_minor": total("churn", g.c.prev),
        "new_customers": total("new", 1),
        "reactivated_customers": total("reactivation", 1),
        "churned_customers": total("churn", 1),
    }


def with_currency(frame: pd.DataFrame, scope: StateScope) -> list[str]:
    """Add the ``currency`` column when the SQL did not split by it (single-currency account); return the keys."""
    if "currency" not in frame.columns:
        frame["currency"] = scope.default_currency
    return ["currency", *[k for k in scope.keys if k != "currency"]]


PERIOD_COLUMNS: tuple[str, ...] = ("churned_net_customers", "joined_customers", "joined_churned_customers")


def _customer_periods(g: Any, keys: list[str]) -> tuple[Any, dict[str, ColumnElement[Any]]]:
    """Groups → one row per (customer, bucket) → per-bucket sums, adding the customer-level period counts.

    Per customer and bucket: ``end`` = MRR after its last group, ``start`` = end − Σ net, ``ever`` = 1 if it paid
    at some point of the bucket. ``churned_net_customers``: start > 0 and end = 0 (a churn then reactivation in
    the bucket is not churn); ``joined_customers``: start = 0 and paid during the bucket;
    ``joined_churned_customers``: of those, the ones not paying at the end.
    """
    cust = [g.c.member_id, *[g.c[k] for k in keys]]
    amounts = _amounts(g)
    per = (
        sa.select(
            *cust,
            g.c.bucket,
            sa.cast(sa.func.sum(g.c.net), sa.BigInteger).label("net"),
            *[expr.label(name) for name, expr in amounts.items()],
            sa.cast(sa.func.sum(sa.case((g.c.last_in_bucket == 1, g.c.cur), else_=0)), sa.BigInteger).label("end"),
            sa.func.max(sa.case((g.c.cur > 0, 1), else_=0)).label("ever"),
        )
        .group_by(*cust, g.c.bucket)
        .cte("customer_periods")
    )
    start = per.c.end - per.c.net

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return sa.cast(sa.func.sum(sa.case((condition, 1), else_=0)), sa.BigInteger)

    sums: dict[str, ColumnElement[Any]] = {
        "net": sa.cast(sa.func.sum(per.c.net), sa.BigInteger),
        **{name: sa.cast(sa.func.sum(per.c[name]), sa.BigInteger) for name in amounts},
        "churned_net_customers": count(sa.and_(start > 0, per.c.end == 0)),
        "joined_customers": count(sa.and_(start == 0, per.c.ever == 1)),
        "joined_churned_customers": count(sa.and_(start == 0, per.c.ever == 1, per.c.end == 0)),
    }
    return per, sums


@shared_table
def rollforward_table(
    bind: sa.Engine | sa.Connection, request: MetricRequest, value: Value = "mrr", *, customer_periods: bool = False
) -> pd.DataFrame:
    """The MRR roll-forward per bucket, per key, in each key's own currency (no conversion, no fx line).

    Columns: ``period_start``, ``first_day``, ``last_day``, ``currency``, the plan/product keys, ``mrr_start_minor``,
    the movement columns, ``mrr_end_minor``, ``customers_start``, the count columns and ``customers_end``; with
    ``customer_periods`` also :data:`PERIOD_COLUMNS` (see :func:`_customer_periods`). ``value="access"`` counts
    members with access instead (the MRR columns then count memberships with access).
    """
    scope = scope_for(bind, request, split_currency=value == "mrr")
    query, sums = _rollforward_query(scope, value, customer_periods)
    keys = list(scope.keys)
    raw = fetch_frame(bind, query, ["bucket", *keys, *sums])
    raw["customers_net"] = raw["new_customers"] + raw["reactivated_customers"] - raw["churned_customers"]
    keys = with_currency(raw, scope)
    grid, n_buckets = dense_columns(raw, request, keys, [*sums, "customers_net"], {"currency": scope.default_currency})
    grid["mrr_end_minor"] = running_totals(grid["net"], grid["opening_net"], n_buckets)
    grid["mrr_start_minor"] = grid["mrr_end_minor"] - grid["net"]
    grid["customers_end"] = running_totals(grid["customers_net"], grid["opening_customers_net"], n_buckets)
    grid["customers_start"] = grid["customers_end"] - grid["customers_net"]
    columns = [
        "period_start",
        "first_day",
        "last_day",
        *keys,
        "mrr_start_minor",
        *MOVEMENT_COLUMNS,
        "mrr_end_minor",
        "customers_start",
        *COUNT_COLUMNS,
        "customers_end",
        *(PERIOD_COLUMNS if customer_periods else ()),
    ]
    out = pd.DataFrame({col: grid[col] for col in columns})
    out.attrs["n_buckets"] = n_buckets
    out.attrs["reporting_currency"] = scope.reporting_currency
    return out


@reused_statement
def _rollforward_query(
    scope: StateScope, value: Value, customer_periods: bool
) -> tuple[sa.Select[Any], tuple[str, ...]]:
    """Per bucket and key: the sums of :func:`rollforward_table`, and their names (after ``bucket`` and the keys)."""
    g = customer_groups(scope, value=value, periods=customer_periods)
    keys = list(scope.keys)
    if customer_periods:
        source, exprs = _customer_periods(g, keys)
    else:
        source = g
        exprs = {"net": sa.cast(sa.func.sum(g.c.net), sa.BigInteger), **_amounts(g)}
    query = sa.select(
        source.c.bucket, *[source.c[k] for k in keys], *[expr.label(name) for name, expr in exprs.items()]
    ).group_by(source.c.bucket, *[source.c[k] for k in keys])
    return query, tuple(exprs)


def in_reporting_currency(bind: sa.Engine | sa.Connection, request: MetricRequest, table: pd.DataFrame) -> pd.DataFrame:
    """Convert a :func:`rollforward_table` into the reporting currency (adds ``fx_minor``), unless the request
    breaks down by currency (then amounts stay in their own currencies and ``fx_minor`` is 0)."""
    if "currency" in request.breakdowns:
        out = table.copy()
        out["fx_minor"] = 0
        return out
    reporting = table.attrs.get("reporting_currency") or (
        request.reporting_currency or account_settings(bind, request.account_id).reporting_currency
    )
    rates = load_rates(bind, table["currency"].unique(), reporting, request.end, request.start - timedelta(days=1))
    group_cols = ["period_start", "first_day", "last_day", *[b for b in request.breakdowns if b in ("plan", "product")]]
    return convert_rollforward(
        table, group_cols, rates, MOVEMENT_COLUMNS, ("customers_start", *COUNT_COLUMNS, "customers_end")
    )


@metric(
    "mrr_movements",
    unit="minor units of the reporting currency per bucket",
    formula=_ROLLFORWARD_FORMULA,
    domain="revenue",
    policies=MOVEMENT_POLICIES,
)
def mrr_movements(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """MRR roll-forward per bucket (new, expansion, reactivation, contraction, churn, FX) with paying-customer counts.

    Opening MRR + the movements = closing MRR. Customers are paying customers (members with MRR > 0), counted at
    the bucket's start and end with the new, reactivated and churned ones.

    Formula: MRR_end − MRR_start = new + expansion + reactivation − contraction − churn + fx

    Movements are per customer (a member; several memberships are one customer), grouped within
    ``grouping_window_minutes``; FX is the remeasurement of MRR between the rates of consecutive bucket ends
    (0 when everything is in the reporting currency or when broken down by currency). Also returns counts of
    paying customers (members with MRR > 0): ``customers_start + new_customers + reactivated_customers −
    churned_customers = customers_end``, where ``new_customers`` first pay in the bucket, ``reactivated_customers``
    pay again after having stopped, and ``churned_customers`` stop paying (their last paying subscription ends).
    Not members with access (free, trialing and one-time members are not customers) and not engagement-active
    members.
    Breakdowns: product, plan, currency (within a breakdown a customer moving from plan A to plan B churns from A
    and is new or reactivated in B).
    """
    request.only_breakdowns("mrr_movements", ("product", "plan", "currency"))
    with metric_connection(engine) as conn:
        table = rollforward_table(conn, request)
        out = in_reporting_currency(conn, request, table)
    keys = [b for b in ("product", "plan") if b in request.breakdowns]
    columns = [
        "period_start",
        *keys,
        "currency",
        "mrr_start_minor",
        *MOVEMENT_COLUMNS,
        "fx_minor",
        "mrr_end_minor",
        "customers_start",
        *COUNT_COLUMNS,
        "customers_end",
    ]
    out = out[columns]
    if not keys and out["period_start"].is_monotonic_increasing and out["period_start"].is_unique:
        return out.reset_index(drop=True)  # one row per bucket, already in order (the usual case)
    return out.sort_values(["period_start", *keys, "currency"], kind="stable").reset_index(drop=True)


@metric(
    "mrr_movement_log",
    unit="minor units of the membership's currency per movement",
    formula="amount = |MRR_after − MRR_before| of the customer's grouped change",
    domain="revenue",
    policies=MOVEMENT_POLICIES,
)
def mrr_movement_log(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Every customer MRR movement in the period, one row per customer and movement (the detail behind mrr_movements).

    Formula: amount = |MRR_after − MRR_before| of the customer's grouped change

    Columns: ``period_start`` (bucket), ``changed_at`` (the group's last change, a UTC timestamp), ``member_id``,
    breakdown keys, ``currency``, ``movement`` (new, expansion, reactivation, contraction, churn), ``amount_minor``,
    ``mrr_before_minor``, ``mrr_after_minor``. Amounts are in the customer's own currency.
    """
    request.only_breakdowns("mrr_movement_log", ("product", "plan", "currency"))
    with metric_connection(engine) as conn:
        scope = scope_for(conn, request)
        g = customer_groups(scope)
        keys = list(scope.keys)
        amount = sa.case((g.c.net < 0, -g.c.net), else_=g.c.net)
        query = (
            sa.select(
                g.c.bucket,
                fetched_instant(g.c.t, scope.dialect).label("changed_at"),  # SQLite: integer µs → epoch seconds
                g.c.member_id,
                *[g.c[k] for k in keys],
                movement_kind(g).label("movement"),
                amount.label("amount_minor"),
                g.c.prev.label("mrr_before_minor"),
                g.c.cur.label("mrr_after_minor"),
            )
            .where(g.c.bucket.is_not(None), g.c.net != 0)
            .order_by(g.c.t, g.c.member_id, *[g.c[k] for k in keys])
        )
        columns = ["period_start", "changed_at", "member_id", *keys, "movement", "amount_minor"]
        frame = fetch_frame(conn, query, [*columns, "mrr_before_minor", "mrr_after_minor"], instants=("changed_at",))
        other = [k for k in with_currency(frame, scope) if k != "currency"]
        frame = frame[
            [
                "period_start",
                "changed_at",
                "member_id",
                *other,
                "currency",
                "movement",
                "amount_minor",
                "mrr_before_minor",
                "mrr_after_minor",
            ]
        ]
    frame = to_dates(frame, "period_start")
    for col in ("amount_minor", "mrr_before_minor", "mrr_after_minor"):
        frame[col] = pd.to_numeric(frame[col]).astype("int64")
    return frame
