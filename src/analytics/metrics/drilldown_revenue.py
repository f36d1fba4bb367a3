"""Rows behind the revenue numbers: paying subscriptions, MRR movements, churned customers and cohort cells.

Each drill-down reads the same building blocks as its metric — the membership state history
(:mod:`~analytics.metrics.membership_state`) and the customer movement groups
(:func:`~analytics.metrics.movements.customer_groups`) — so its rows reproduce the metric's number (see
:mod:`analytics.metrics.drilldown` for the conventions). A **customer** is what the movements count: a member,
per currency when the account has several, and per product or plan when the request breaks down by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from analytics.errors import MetricError
from analytics.metrics.dialect import fetch_frame, fetched_instant, metric_connection, sort_key, to_dates
from analytics.metrics.drilldown import (
    bucket_days,
    drilldown,
    local_times,
    narrowed,
    reporting_shares,
    titles,
    within_bucket,
)
from analytics.metrics.frames import as_int
from analytics.metrics.fx import RateTable, load_rates
from analytics.metrics.membership_state import StateScope, mrr_contribution, scope_for
from analytics.metrics.movements import customer_groups, movement_kind
from analytics.metrics.request import MetricRequest, bucket_frame, local_midnight
from analytics.store.schema import membership_status_changes, memberships, plans

__all__ = [
    "MOVEMENTS",
    "cohort_cell_customers",
    "customer_churn_rows",
    "mrr_movement_rows",
    "paying_subscriptions",
]

MOVEMENTS: tuple[str, ...] = ("new", "expansion", "reactivation", "contraction", "churn")
"""The movement kinds of :func:`~analytics.metrics.movements.movement_kind` (the waterfall's bars, FX aside)."""

_VALUE_KEYS = ("product", "plan")
_JOINED_IN_30_DAYS = {"new": "new in 30 days", "reactivation": "reactivated in 30 days"}
DateLike = date | datetime | str


def _value_keys(scope: StateScope) -> list[str]:
    """The product/plan keys customers are split by (the request's breakdowns)."""
    return [k for k in scope.keys if k in _VALUE_KEYS]


def _rates(
    conn: sa.Connection, request: MetricRequest, scope: StateScope, currencies: Any, day: date
) -> RateTable | None:
    """Rates into the reporting currency up to ``day``; None when the request breaks down by currency."""
    if "currency" in request.breakdowns:
        return None
    return load_rates(conn, set(currencies), scope.reporting_currency, day)


def _reporting_currency(frame: pd.DataFrame, table: RateTable | None) -> Any:
    return frame["currency"] if table is None else table.reporting


def _membership_states(scope: StateScope, until: datetime) -> sa.Subquery:
    """One row per membership with its state in force at ``until``: the last status change before it.

    Columns: ``membership_id``, ``member_id``, ``status``, ``changed_at``, ``plan``, ``product``, ``currency`` (the
    keys as :func:`~analytics.metrics.membership_state.membership_deltas` forms them), ``price_minor``,
    ``billing_period_days``, ``mrr`` (:func:`~analytics.metrics.membership_state.mrr_contribution`) and ``rn``
    (1 for the row in force). The last row is the last in the deltas' order — (``changed_at``, id) — so the
    MRR here is the sum of the membership's deltas before ``until``.
    """
    c = membership_status_changes.alias("c")
    m = memberships.alias("m")
    p = plans.alias("p")
    list_price = p.c.renewal_price_minor if scope.policies.discounts == "list" else None
    d = scope.dialect
    order = sa.func.row_number().over(
        partition_by=sort_key(c.c.membership_id, d), order_by=(c.c.changed_at.desc(), sort_key(c.c.id, d).desc())
    )
    return (
        sa.select(
            c.c.membership_id,
            c.c.member_id,
            c.c.status,
            c.c.changed_at,
            sa.func.coalesce(c.c.plan_id, "").label("plan"),
            sa.func.coalesce(m.c.product_id, p.c.product_id, "").label("product"),
            sa.func.coalesce(c.c.currency, scope.default_currency).label("currency"),
            c.c.renewal_price_minor.label("price_minor"),
            c.c.billing_period_days,
            mrr_contribution(c.c, scope.policies, d, list_price).label("mrr"),
            order.label("rn"),
        )
        .select_from(
            c.outerjoin(m, sa.and_(m.c.account_id == c.c.account_id, m.c.id == c.c.membership_id)).outerjoin(
                p, sa.and_(p.c.account_id == c.c.account_id, p.c.id == c.c.plan_id)
            )
        )
        .where(c.c.account_id == scope.account_id, c.c.changed_at < until)
        .subquery("states")
    )


def _chosen(source: Any, chosen: dict[str, str]) -> list[Any]:
    """``WHERE`` clauses keeping the chosen product/plan (columns ``product``/``plan`` of ``source``)."""
    return [source.c[key] == value for key, value in chosen.items()]


def _customers_at(
    conn: sa.Connection, scope: StateScope, until: datetime, chosen: dict[str, str], column: str
) -> pd.DataFrame:
    """Customers paying at ``until``, one row each: ``member``, ``member_id``, ``currency``, the product/plan keys
    and titles, and the customer's MRR (own currency) in ``column``."""
    s = _membership_states(scope, until)
    keys = _value_keys(scope)
    per = (
        sa.select(
            s.c.member_id,
            s.c.currency,
            *[s.c[k] for k in keys],
            sa.cast(sa.func.sum(s.c.mrr), sa.BigInteger).label("mrr"),
        )
        .where(s.c.rn == 1, *_chosen(s, chosen))
        .group_by(s.c.member_id, s.c.currency, *[s.c[k] for k in keys])
        .having(sa.func.sum(s.c.mrr) > 0)
        .subquery("paying")
    )
    source, named = titles(per, scope.account_id, member=per.c.member_id, **{k: per.c[k] for k in keys})
    stmt = sa.select(
        *named, per.c.member_id, per.c.currency, *[per.c[k] for k in keys], per.c.mrr.label(column)
    ).select_from(source)
    return as_int(fetch_frame(conn, stmt), [column])


def _movements(conn: sa.Connection, scope: StateScope, chosen: dict[str, str], kinds: Sequence[str]) -> pd.DataFrame:
    """The customer movement groups of ``kinds`` in the scope's period, in time order.

    Columns: ``period_start`` (bucket), ``changed_at`` (UTC), ``member``, ``member_id``, the product/plan keys and
    titles, ``currency``, ``movement``, ``amount_minor``, ``mrr_before_minor``, ``mrr_after_minor``.
    """
    g = customer_groups(scope)
    keys = _value_keys(scope)
    currency = g.c.currency if "currency" in scope.keys else sa.literal(scope.default_currency)
    kind = movement_kind(g)
    source, named = titles(g, scope.account_id, member=g.c.member_id, **{k: g.c[k] for k in keys})
    stmt = (
        sa.select(
            g.c.bucket.label("period_start"),
            fetched_instant(g.c.t, scope.dialect).label("changed_at"),
            *named,
            g.c.member_id,
            *[g.c[k] for k in keys],
            currency.label("currency"),
            kind.label("movement"),
            sa.case((g.c.net < 0, -g.c.net), else_=g.c.net).label("amount_minor"),
            g.c.prev.label("mrr_before_minor"),
            g.c.cur.label("mrr_after_minor"),
        )
        .select_from(source)
        .where(g.c.bucket.is_not(None), g.c.net != 0, kind.in_(kinds), *_chosen(g, chosen))
        .order_by(g.c.t, g.c.member_id)
    )
    frame = fetch_frame(conn, stmt, instants=("changed_at",))
    return to_dates(as_int(frame, ["amount_minor", "mrr_before_minor", "mrr_after_minor"]), "period_start")


@drilldown(
    "paying_subscriptions",
    title="Paying subscriptions",
    metrics=("mrr", "arr", "arpa", "mrr_movements"),
)
def paying_subscriptions(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    period_start: DateLike | None = None,
    product: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """One row per membership paying at the end of a bucket: the subscriptions behind MRR, ARR, ARPA and customers.

    Formula: Σ mrr_reporting_minor = ``mrr`` of the bucket; 12 × that = ``arr``; distinct (member_id, currency)
    = ``mrr_movements.customers_end`` (and ``arpa.paying_customers``)

    The bucket is ``period_start`` (default: the period's last, MRR at the period's end). A membership pays when
    its state in force at the bucket's end has MRR > 0 under the request's policies (the ``mrr`` definition).
    Columns: ``member``, ``member_id``, ``membership_id``, ``product_id``, ``product_title``, ``plan_id``,
    ``plan_title``, ``status``, ``status_since`` (the state's start), ``price_minor``, ``billing_period_days``,
    ``currency``, ``mrr_minor``, ``reporting_currency``, ``mrr_reporting_minor``; largest MRR first.
    """
    req, chosen = narrowed(request, "mrr", ("product", "plan", "currency"), product=product, plan=plan)
    _, last = bucket_days(req, period_start)
    with metric_connection(engine) as conn:
        scope = scope_for(conn, req)
        s = _membership_states(scope, local_midnight(last + timedelta(days=1), scope.tz))
        source, named = titles(s, scope.account_id, member=s.c.member_id, product=s.c.product, plan=s.c.plan)
        member, product_title, plan_title = named
        stmt = (
            sa.select(
                member,
                s.c.member_id,
                s.c.membership_id,
                s.c.product.label("product_id"),
                product_title,
                s.c.plan.label("plan_id"),
                plan_title,
                s.c.status,
                fetched_instant(s.c.changed_at, scope.dialect).label("status_since"),
                s.c.price_minor,
                s.c.billing_period_days,
                s.c.currency,
                s.c.mrr.label("mrr_minor"),
            )
            .select_from(source)
            .where(s.c.rn == 1, s.c.mrr > 0, *_chosen(s, chosen))
        )
        frame = fetch_frame(conn, stmt, instants=("status_since",))
        table = _rates(conn, req, scope, frame["currency"], last)
    as_int(frame, ["price_minor", "billing_period_days", "mrr_minor"])
    frame["day"] = pd.Timestamp(last)
    groups = [f"{k}_id" for k in _value_keys(scope)]
    frame["reporting_currency"] = _reporting_currency(frame, table)
    frame["mrr_reporting_minor"] = reporting_shares(frame, "mrr_minor", groups, "day", table)
    frame = local_times(frame.drop(columns="day"), scope.tz, "status_since")
    return frame.sort_values(
        ["mrr_reporting_minor", "member_id", "membership_id"], ascending=[False, True, True], ignore_index=True
    )


@drilldown("mrr_movement_rows", title="MRR movements", metrics=("mrr_movements", "mrr_movement_log"))
def mrr_movement_rows(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    movement: str,
    period_start: DateLike | None = None,
    product: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """The customer movements of one kind behind a waterfall bar or a new/churned-customers KPI.

    Formula: Σ amount_reporting_minor = ``mrr_movements.<movement>_minor``; row count = ``new_customers``
    (movement new), ``reactivated_customers`` (reactivation), ``churned_customers`` (churn)

    ``movement`` is new, expansion, reactivation, contraction or churn; the rows cover the whole period or the
    bucket ``period_start``. One row per grouped customer change (the rows of ``mrr_movement_log`` of that kind):
    ``period_start``, ``changed_at`` (the group's last change), ``member``, ``member_id``, the product/plan keys
    and titles when filtered or broken down, ``currency``, ``movement``, ``amount_minor`` (= |after − before|),
    ``mrr_before_minor``, ``mrr_after_minor``, ``reporting_currency``, ``amount_reporting_minor`` (converted at
    the bucket's last day, as the metric does).
    """
    if movement not in MOVEMENTS:
        raise MetricError(f"movement {movement!r} is not one of {', '.join(MOVEMENTS)}")
    req, chosen = narrowed(request, "mrr_movements", ("product", "plan", "currency"), product=product, plan=plan)
    req = within_bucket(req, period_start)
    with metric_connection(engine) as conn:
        scope = scope_for(conn, req)
        frame = _movements(conn, scope, chosen, (movement,))
        table = _rates(conn, req, scope, frame["currency"], req.end)
    keys = _value_keys(scope)
    frame["day"] = frame["period_start"].map(bucket_frame(req).set_index("period_start")["last_day"])
    frame["reporting_currency"] = _reporting_currency(frame, table)
    frame["amount_reporting_minor"] = reporting_shares(frame, "amount_minor", ["period_start", *keys], "day", table)
    local_times(frame, scope.tz, "changed_at")
    columns = ["period_start", "changed_at", "member", "member_id", *_key_columns(keys), "currency", "movement"]
    columns += ["amount_minor", "mrr_before_minor", "mrr_after_minor", "reporting_currency", "amount_reporting_minor"]
    return _with_key_names(frame, keys)[columns]


def _key_columns(keys: Sequence[str]) -> list[str]:
    return [col for k in keys for col in (f"{k}_id", f"{k}_title")]


def _with_key_names(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Rename the product/plan key columns ``product``/``plan`` to ``product_id``/``plan_id``."""
    return frame.rename(columns={k: f"{k}_id" for k in keys})


@drilldown(
    "customer_churn_rows",
    title="Churned customers and the customers they are counted against",
    metrics=("customer_churn_rate",),
)
def customer_churn_rows(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    period_start: DateLike | None = None,
    product: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """The numerator and denominator of ``customer_churn_rate`` for one bucket, one row per counted customer.

    Formula: count(role = "churned") = ``churned_customers``; count(role = "base") = ``base_customers``

    Rows with ``role = "base"`` are the denominator and rows with ``role = "churned"`` the numerator (a churned
    customer appears in both); ``reason`` says why the row counts, per the ``churn_rate`` policy:

    * ``chartmogul``: base = customers paying at the bucket's start; churned = those of them not paying at its
      end (a churn then reactivation within the bucket does not count). With ``same_period_signup_cancel=include``
      the customers who joined during the bucket are in the base too, and those of them not paying at its end are
      churned.
    * ``stripe_30d``: the 30 days ending on the bucket's last day; base = customers paying 30 days before, plus
      every new or reactivation movement in those days; churned = every churn movement in those days.

    The bucket is ``period_start`` (default: the period's last). Columns: ``role``, ``reason``, ``changed_at`` (of a
    movement; NaT for a state), ``member``, ``member_id``, the product/plan keys and titles when filtered or broken
    down, ``currency``, ``mrr_before_minor`` and ``mrr_after_minor`` (the customer's MRR at the start and end of the
    window, or before and after the movement).
    """
    req, chosen = narrowed(request, "customer_churn_rate", _VALUE_KEYS, product=product, plan=plan)
    first, last = bucket_days(req, period_start)
    stripe = req.policies.churn_rate == "stripe_30d"
    if stripe:
        window = req.replace(start=last - timedelta(days=29), end=last, grain="day")
    else:
        window = req.replace(start=first, end=last)
    with metric_connection(engine) as conn:
        scope = scope_for(conn, window)
        start = _customers_at(conn, scope, scope.t0, chosen, "mrr_before_minor")
        end = _customers_at(conn, scope, scope.t1, chosen, "mrr_after_minor")
        moves = _movements(conn, scope, chosen, ("new", "reactivation", "churn"))
    keys = _value_keys(scope)
    on = ["member_id", "currency", *keys]
    at_start = start.merge(end[[*on, "mrr_after_minor"]], on=on, how="left").fillna({"mrr_after_minor": 0})
    if stripe:
        joins = moves[moves["movement"] != "churn"]
        parts = [
            at_start.assign(role="base", reason="paying 30 days before"),
            joins.assign(role="base", reason=joins["movement"].map(_JOINED_IN_30_DAYS)),
            moves[moves["movement"] == "churn"].assign(role="churned", reason="churned in 30 days"),
        ]
    else:
        lost = at_start["mrr_after_minor"] == 0
        parts = [
            at_start.assign(role="base", reason="paying at period start"),
            at_start[lost].assign(role="churned", reason="paying at period start, not at its end"),
        ]
        if req.policies.same_period_signup_cancel == "include":
            # joined: paid during the bucket without paying at its start (their first group there is new or a
            # reactivation); the metric's "start = 0 and paid during the bucket"
            firsts = moves[moves["movement"] != "churn"].drop_duplicates(on)
            joined = firsts.merge(start[on], on=on, how="left", indicator=True)
            joined = joined[joined["_merge"] == "left_only"].drop(columns=["_merge", "mrr_after_minor"])
            joined = joined.merge(end[[*on, "mrr_after_minor"]], on=on, how="left").fillna({"mrr_after_minor": 0})
            joined = joined.assign(mrr_before_minor=0, changed_at=None)
            parts += [
                joined.assign(role="base", reason="joined during the period"),
                joined[joined["mrr_after_minor"] == 0].assign(
                    role="churned", reason="joined and churned in the period"
                ),
            ]
    columns = ["role", "reason", "changed_at", "member", "member_id", *keys, *[f"{k}_title" for k in keys], "currency"]
    columns += ["mrr_before_minor", "mrr_after_minor"]
    kept = [part.reindex(columns=columns) for part in parts if len(part)]
    rows = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=columns)
    as_int(rows, ["mrr_before_minor", "mrr_after_minor"])
    rows["changed_at"] = pd.to_datetime(rows["changed_at"], utc=True)
    local_times(rows, scope.tz, "changed_at")
    rows = rows.sort_values(["role", "reason", "member_id", *keys, "currency", "changed_at"], ignore_index=True)
    out = ["role", "reason", "changed_at", "member", "member_id", *_key_columns(keys), "currency"]
    return _with_key_names(rows, keys).reindex(columns=[*out, "mrr_before_minor", "mrr_after_minor"])


@drilldown("cohort_cell_customers", title="Customers of a cohort cell", metrics=("net_mrr_retention",))
def cohort_cell_customers(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    cohort: DateLike,
    k: int,
    product: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """The customers of a first-payment cohort with their starting MRR and their MRR k buckets later.

    Formula: Σ mrr_start_reporting_minor = ``cohort_mrr_minor``; Σ mrr_reporting_minor = ``mrr_minor`` of the cell
    (cohort, k); row count = ``cohort_customers``

    ``cohort`` is the first day of the cohort's bucket (a ``cohort`` of ``net_mrr_retention``), ``k`` the number of
    buckets after it. A customer's cohort is the bucket of its first paid change, within the period. Columns:
    ``cohort``, ``k``, ``period_start`` (the bucket cohort + k), ``member``, ``member_id``, ``first_paid_at``,
    ``currency``, ``mrr_start_minor`` (at the end of the cohort's bucket), ``mrr_minor`` (at the end of bucket
    cohort + k), ``reporting_currency``, ``mrr_start_reporting_minor`` and ``mrr_reporting_minor`` (converted at
    each bucket's last day, as the metric does); largest starting MRR first.
    """
    request, _ = narrowed(request, "net_mrr_retention", (), product=product, plan=plan)
    buckets = bucket_frame(request)
    first, _ = bucket_days(request, cohort)
    labels = [ts.date() for ts in buckets["period_start"]]
    position = next(
        i for i, (a, b) in enumerate(zip(labels, buckets["first_day"], strict=True)) if first in (a, b.date())
    )
    if int(k) < 0 or position + int(k) >= len(labels):
        raise MetricError(
            f"k={k} is outside the cohort {labels[position]}: the period has {len(labels) - position} buckets from it "
            f"(k = 0 … {len(labels) - position - 1})"
        )
    cohort_label, target = labels[position], labels[position + int(k)]
    start_day = buckets["last_day"].iloc[position]
    end_day = buckets["last_day"].iloc[position + int(k)]
    with metric_connection(engine) as conn:
        scope = scope_for(conn, request)
        g = customer_groups(scope, cohorts=True)
        split = [g.c.currency] if "currency" in scope.keys else []  # (DuckDB cannot group by a bound constant)
        currency = g.c.currency if split else sa.literal(scope.default_currency)
        label = sa.literal(cohort_label, sa.Date)
        until = sa.literal(target, sa.Date)
        per = (
            sa.select(
                g.c.member_id,
                currency.label("currency"),
                sa.cast(sa.func.sum(sa.case((g.c.bucket == label, g.c.net), else_=0)), sa.BigInteger).label("start"),
                sa.cast(sa.func.sum(sa.case((g.c.bucket <= until, g.c.net), else_=0)), sa.BigInteger).label("at_k"),
                sa.func.min(sa.case((g.c.first == 1, g.c.t))).label("first_t"),
            )
            .where(g.c.bucket.is_not(None), g.c.cohort == label)
            .group_by(g.c.member_id, *split)
            .subquery("cohort_customers")
        )
        source, named = titles(per, scope.account_id, member=per.c.member_id)
        stmt = sa.select(
            named[0],
            per.c.member_id,
            fetched_instant(per.c.first_t, scope.dialect).label("first_paid_at"),
            per.c.currency,
            per.c.start.label("mrr_start_minor"),
            per.c.at_k.label("mrr_minor"),
        ).select_from(source)
        frame = fetch_frame(conn, stmt, instants=("first_paid_at",))
        table = load_rates(conn, set(frame["currency"]), scope.reporting_currency, end_day.date())
    as_int(frame, ["mrr_start_minor", "mrr_minor"])
    frame["start_day"], frame["end_day"] = start_day, end_day
    frame["reporting_currency"] = table.reporting
    frame["mrr_start_reporting_minor"] = reporting_shares(frame, "mrr_start_minor", [], "start_day", table)
    frame["mrr_reporting_minor"] = reporting_shares(frame, "mrr_minor", [], "end_day", table)
    frame.insert(0, "cohort", pd.Timestamp(cohort_label))
    frame.insert(1, "k", int(k))
    frame.insert(2, "period_start", pd.Timestamp(target))
    local_times(frame, scope.tz, "first_paid_at")
    frame = frame.drop(columns=["start_day", "end_day"])
    return frame.sort_values(
        ["mrr_start_reporting_minor", "member_id", "currency"], ascending=[False, True, True], ignore_index=True
    )
