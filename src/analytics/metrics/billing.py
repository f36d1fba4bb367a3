"""Billing metrics from the membership history and payments: trials, failed payments and recoveries, and
delinquent versus voluntary churn."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.metrics.catalog import metric
from analytics.metrics.dialect import bucket_start, metric_connection
from analytics.metrics.fx import convert_amounts, daily_to_buckets, load_rates
from analytics.metrics.membership_state import scope_for
from analytics.metrics.movements import MOVEMENT_POLICIES, customer_groups, with_currency
from analytics.metrics.request import MetricRequest, account_settings, period_instants
from analytics.metrics.series import daily_sums, dense_grid, fetch_frame, ratio
from analytics.store.schema import membership_status_changes, memberships, payments

__all__ = ["FAILED_SUBSTATUSES", "churn_by_reason", "failed_payment", "failed_payments", "trials"]

FAILED_SUBSTATUSES: tuple[str, ...] = ("failed", "past_due", "uncollectible")
"""Payment substatuses that mean a charge attempt failed (with ``payments_failed > 0`` or status uncollectible)."""
PAYING_STATUSES = ("active", "canceling", "past_due")
ENDED_STATUSES = ("canceled", "expired", "completed")


def _keys(request: MetricRequest) -> list[str]:
    return [k for k in ("product", "plan") if k in request.breakdowns]


@metric(
    "trials",
    unit="count; percent of decided trials",
    formula="trial conversion rate = 100 × converted ÷ (converted + lapsed) of the trials started in the bucket",
    domain="revenue",
    policies=(),
)
def trials(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Trial starts per bucket and what became of them by the end of the period.

    Formula: trial conversion rate = 100 × converted ÷ (converted + lapsed) of the trials started in the bucket

    A trial starts at a membership's first ``trialing`` row; it converts when the membership later becomes active,
    canceling or past_due (a paid state: the first charge was attempted), and lapses when it ends (canceled,
    expired, completed) first. Outcomes are as of the end of the period; ``pending`` trials are still running.
    ``conversions`` counts trials converting in the bucket, whenever they started. Columns: ``period_start``,
    breakdown keys, ``trial_starts``, ``converted``, ``lapsed``, ``pending``, ``conversions``,
    ``trial_conversion_rate_pct`` (NaN with ``flag = "no_decided_trials"``).
    """
    request.only_breakdowns("trials", ("product", "plan"))
    c, m = membership_status_changes.c, memberships.c
    keys = _keys(request)
    with metric_connection(engine) as conn:
        account = account_settings(conn, request.account_id)
        t0, t1 = period_instants(request, account.time_zone)
        dialect = conn.dialect.name
        key_cols = {
            "plan": sa.func.min(sa.case((c.status == "trialing", c.plan_id))),
            "product": sa.func.min(m.product_id),
        }
        per = (
            sa.select(
                c.membership_id,
                *[sa.func.coalesce(key_cols[k], "").label(k) for k in keys],
                sa.func.min(sa.case((c.status == "trialing", c.changed_at))).label("trial_at"),
                sa.func.min(sa.case((c.status.in_(PAYING_STATUSES), c.changed_at))).label("paid_at"),
                sa.func.min(sa.case((c.status.in_(ENDED_STATUSES), c.changed_at))).label("ended_at"),
            )
            .select_from(
                membership_status_changes.outerjoin(
                    memberships, sa.and_(m.account_id == c.account_id, m.id == c.membership_id)
                )
            )
            .where(c.account_id == request.account_id, c.changed_at < t1)
            .group_by(c.membership_id)
            .having(sa.func.min(sa.case((c.status == "trialing", c.changed_at))).is_not(None))
            .cte("trial_memberships")
        )
        converted = sa.and_(
            per.c.paid_at.is_not(None),
            per.c.paid_at > per.c.trial_at,
            sa.or_(per.c.ended_at.is_(None), per.c.paid_at <= per.c.ended_at),
        )
        lapsed = sa.and_(sa.not_(converted), per.c.ended_at.is_not(None))
        start_bucket = sa.case(
            (per.c.trial_at >= t0, bucket_start(per.c.trial_at, request.grain, dialect, account.time_zone, (t0, t1)))
        )
        conv_bucket = sa.case(
            (
                sa.and_(converted, per.c.paid_at >= t0),
                bucket_start(per.c.paid_at, request.grain, dialect, account.time_zone, (t0, t1)),
            )
        )

        def count(condition: Any) -> Any:
            return sa.cast(sa.func.sum(sa.case((condition, 1), else_=0)), sa.BigInteger)

        by_start = (
            sa.select(
                start_bucket.label("bucket"),
                *[per.c[k] for k in keys],
                count(sa.true()).label("trial_starts"),
                count(converted).label("converted"),
                count(lapsed).label("lapsed"),
                sa.literal(0, sa.BigInteger).label("conversions"),
            )
            .where(per.c.trial_at >= t0)
            .group_by(start_bucket, *[per.c[k] for k in keys])
        )
        by_conversion = (
            sa.select(
                conv_bucket.label("bucket"),
                *[per.c[k] for k in keys],
                sa.literal(0, sa.BigInteger).label("trial_starts"),
                sa.literal(0, sa.BigInteger).label("converted"),
                sa.literal(0, sa.BigInteger).label("lapsed"),
                count(sa.true()).label("conversions"),
            )
            .where(converted, per.c.paid_at >= t0)
            .group_by(conv_bucket, *[per.c[k] for k in keys])
        )
        sums = ["trial_starts", "converted", "lapsed", "conversions"]
        raw = fetch_frame(conn, sa.union_all(by_start, by_conversion), ["bucket", *keys, *sums])
    raw = raw.groupby(["bucket", *keys], dropna=False)[sums].sum().reset_index()
    grid = dense_grid(raw, request, keys, sums, None if keys else {})
    out = grid[["period_start", *keys, *sums]].copy()
    out["pending"] = out["trial_starts"] - out["converted"] - out["lapsed"]
    decided = out["converted"] + out["lapsed"]
    out["trial_conversion_rate_pct"] = ratio(out["converted"], decided, 100.0)
    out["flag"] = np.where(decided == 0, "no_decided_trials", "")
    columns = ["period_start", *keys, "trial_starts", "converted", "lapsed", "pending", "conversions"]
    return out[[*columns, "trial_conversion_rate_pct", "flag"]].reset_index(drop=True)


def failed_payment(table: Any) -> sa.ColumnElement[bool]:
    """Whether a payment's charge failed: ``payments_failed > 0``, a failed/past_due/uncollectible substatus or
    status uncollectible (``table`` is ``payments`` or an alias of it)."""
    p = table.c
    return sa.or_(p.payments_failed > 0, p.substatus.in_(FAILED_SUBSTATUSES), p.status == "uncollectible")


@metric(
    "failed_payments",
    unit="count; minor units of the reporting currency; percent",
    formula="recovery rate = 100 × failed payments later paid ÷ failed payments",
    domain="revenue",
    policies=(),
)
def failed_payments(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Dunning: payments whose charge failed, by the bucket they were created in, and how many were recovered.

    Formula: recovery rate = 100 × failed payments later paid ÷ failed payments

    A payment failed when ``payments_failed > 0``, its substatus is failed/past_due/uncollectible or its status is
    uncollectible; it is recovered when it ended up ``paid`` (a retry or a new card succeeded). Columns:
    ``period_start``, breakdown keys, ``currency``, ``failed``, ``failed_minor``, ``recovered``,
    ``recovered_minor``, ``unrecovered``, ``recovery_rate_pct`` (NaN with ``flag = "no_failed_payments"``).
    """
    request.only_breakdowns("failed_payments", ("product", "plan", "currency"))
    p = payments.c
    keys = _keys(request)
    failed = failed_payment(payments)
    recovered = p.status == "paid"
    cols = {"product": p.product_id, "plan": p.plan_id}
    with metric_connection(engine) as conn:
        rows = daily_sums(
            conn,
            request,
            source=payments,
            at=p.created_at,
            currency=p.currency,
            keys={k: cols[k] for k in keys},
            sums={
                "failed": sa.func.count(),
                "failed_minor": sa.func.sum(p.total_minor),
                "recovered": sa.func.sum(sa.case((recovered, 1), else_=0)),
                "recovered_minor": sa.func.sum(sa.case((recovered, p.total_minor), else_=0)),
            },
            where=[p.account_id == request.account_id, failed],
        )
        rates = None
        if "currency" not in request.breakdowns:
            reporting = request.reporting_currency or account_settings(conn, request.account_id).reporting_currency
            rates = load_rates(conn, set(rows["currency"]), reporting, request.end, request.start - timedelta(days=1))
    out = daily_to_buckets(rows, request, rates, ["failed_minor", "recovered_minor"], ["failed", "recovered"], keys)
    out["unrecovered"] = out["failed"] - out["recovered"]
    out["recovery_rate_pct"] = ratio(out["recovered"], out["failed"], 100.0)
    out["flag"] = np.where(out["failed"] == 0, "no_failed_payments", "")
    lead = ["period_start", *keys, "currency"]
    return out[
        [*lead, "failed", "failed_minor", "recovered", "recovered_minor", "unrecovered", "recovery_rate_pct", "flag"]
    ]


@metric(
    "churn_by_reason",
    unit="count of customers; minor units of the reporting currency",
    formula="churn = delinquent churn + voluntary churn",
    domain="revenue",
    policies=MOVEMENT_POLICIES,
)
def churn_by_reason(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Churn movements per bucket split into delinquent (payment failure) and voluntary.

    Formula: churn = delinquent churn + voluntary churn

    A churn is delinquent when the change that ended the customer's MRR ended a past_due state, or when that
    membership had an unrecovered failed payment in the 31 days before; otherwise voluntary. Columns:
    ``period_start``, breakdown keys, ``currency``, ``delinquent_customers``, ``delinquent_minor``,
    ``voluntary_customers``, ``voluntary_minor``, ``churned_customers``, ``churn_minor``.
    """
    request.only_breakdowns("churn_by_reason", ("product", "plan", "currency"))
    with metric_connection(engine) as conn:
        scope = scope_for(conn, request)
        g = customer_groups(scope, delinquency=True)
        keys = list(scope.keys)
        churn = sa.and_(g.c.prev > 0, g.c.cur == 0)
        late = g.c.dunning == 1

        def total(condition: Any, amount: Any) -> Any:
            return sa.cast(sa.func.sum(sa.case((condition, amount), else_=0)), sa.BigInteger)

        query = (
            sa.select(
                g.c.bucket,
                *[g.c[k] for k in keys],
                total(sa.and_(churn, late), 1).label("delinquent_customers"),
                total(sa.and_(churn, late), g.c.prev).label("delinquent_minor"),
                total(sa.and_(churn, sa.not_(late)), 1).label("voluntary_customers"),
                total(sa.and_(churn, sa.not_(late)), g.c.prev).label("voluntary_minor"),
            )
            .where(g.c.bucket.is_not(None))
            .group_by(g.c.bucket, *[g.c[k] for k in keys])
        )
        sums = ["delinquent_customers", "delinquent_minor", "voluntary_customers", "voluntary_minor"]
        raw = fetch_frame(conn, query, ["bucket", *keys, *sums])
        keys = with_currency(raw, scope)
        grid = dense_grid(raw, request, keys, sums, {"currency": scope.default_currency})
        others = [k for k in keys if k != "currency"]
        if "currency" not in request.breakdowns:
            reporting = request.reporting_currency or account_settings(conn, request.account_id).reporting_currency
            rates = load_rates(conn, set(grid["currency"]), reporting, request.end, request.start - timedelta(days=1))
            for col in ("delinquent_minor", "voluntary_minor"):
                grid[col] = convert_amounts(grid[col], grid["currency"], grid["last_day"], rates)
            grid = grid.groupby(["period_start", *others], sort=True)[sums].sum().reset_index()
            grid["currency"] = reporting
    out = grid[["period_start", *others, "currency", *sums]].copy()
    out["churned_customers"] = out["delinquent_customers"] + out["voluntary_customers"]
    out["churn_minor"] = out["delinquent_minor"] + out["voluntary_minor"]
    return out.sort_values(["period_start", *others], kind="stable").reset_index(drop=True)
