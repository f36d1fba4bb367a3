"""Cash metrics: cash revenue net of refunds, refunds, disputes.

Money is integer minor units, converted into the reporting currency at the rate of each transaction's day
(unless broken down by currency). Days are calendar days in the account's time zone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.metrics.catalog import metric
from analytics.metrics.dialect import metric_connection
from analytics.metrics.fx import RateTable, daily_to_buckets, load_rates
from analytics.metrics.request import MetricRequest, account_settings
from analytics.metrics.series import daily_sums, ratio
from analytics.store.schema import disputes, payments, refunds

__all__ = ["cash_revenue", "dispute_summary", "refund_summary"]

_BREAKDOWNS = ("product", "plan", "currency")
REFUNDED_STATUSES = ("succeeded",)
"""Refund statuses that moved money back to the buyer (pending, failed and canceled refunds did not)."""
WON_DISPUTES = ("won",)
LOST_DISPUTES = ("lost",)
CLOSED_DISPUTES = ("warning_closed", "closed")


def _keys(request: MetricRequest) -> list[str]:
    return [k for k in ("product", "plan") if k in request.breakdowns]


def _payment_keys(request: MetricRequest, p: Any) -> dict[str, Any]:
    cols = {"product": p.product_id, "plan": p.plan_id}
    return {k: cols[k] for k in _keys(request)}


def _rates(conn: sa.Connection, request: MetricRequest, *frames: pd.DataFrame) -> RateTable | None:
    if "currency" in request.breakdowns:
        return None
    reporting = request.reporting_currency or account_settings(conn, request.account_id).reporting_currency
    currencies = set().union(*[set(f["currency"]) for f in frames])
    return load_rates(conn, currencies, reporting, request.end, request.start - timedelta(days=1))


def _combine(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    out = frames[0]
    for other in frames[1:]:
        out = out.merge(other, on=["period_start", *keys, "currency"], how="outer")
    return out.fillna(0)


@metric(
    "cash_revenue",
    unit="minor units of the reporting currency",
    formula="net cash = Σ paid payment totals − Σ succeeded refunds",
    domain="revenue",
    policies=("refunds",),
)
def cash_revenue(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Cash collected per bucket, net of refunds.

    Formula: net cash = Σ paid payment totals − Σ succeeded refunds

    Payments count on the day they were paid (``status = paid``, ``total_minor``: account-facing, excluding buyer
    fees). Refunds count on the refund's day under ``refunds=cash_only`` (the default), or on the refunded payment's
    paid day under ``refunds=payment_period`` (past buckets are restated). Columns: ``period_start``, breakdown keys,
    ``currency``, ``gross_minor``, ``payments``, ``refunds_minor``, ``net_minor``.
    """
    request.only_breakdowns("cash_revenue", _BREAKDOWNS)
    p, r = payments.c, refunds.alias("r")
    keys = _keys(request)
    with metric_connection(engine) as conn:
        paid = daily_sums(
            conn,
            request,
            source=payments,
            at=p.paid_at,
            currency=p.currency,
            keys=_payment_keys(request, p),
            sums={"gross_minor": sa.func.sum(p.total_minor), "payments": sa.func.count()},
            where=[p.account_id == request.account_id, p.status == "paid"],
        )
        joined = r.join(payments, sa.and_(p.account_id == r.c.account_id, p.id == r.c.payment_id))
        at = r.c.created_at if request.policies.refunds == "cash_only" else p.paid_at
        back = daily_sums(
            conn,
            request,
            source=joined,
            at=at,
            currency=r.c.currency,
            keys=_payment_keys(request, p),
            sums={"refunds_minor": sa.func.sum(r.c.amount_minor)},
            where=[r.c.account_id == request.account_id, r.c.status.in_(REFUNDED_STATUSES)],
        )
        rates = _rates(conn, request, paid, back)
    frames = [
        daily_to_buckets(paid, request, rates, ["gross_minor"], ["payments"], keys),
        daily_to_buckets(back, request, rates, ["refunds_minor"], [], keys),
    ]
    out = _combine(frames, keys)
    for col in ("gross_minor", "payments", "refunds_minor"):
        out[col] = out[col].astype("int64")
    out["net_minor"] = out["gross_minor"] - out["refunds_minor"]
    columns = ["period_start", *keys, "currency", "gross_minor", "payments", "refunds_minor", "net_minor"]
    return out[columns].sort_values(["period_start", *keys, "currency"], kind="stable").reset_index(drop=True)


@metric(
    "refunds",
    unit="minor units of the reporting currency; count; percent",
    formula="refund rate = 100 × refunded amount ÷ gross cash of the same bucket",
    domain="revenue",
    policies=(),
)
def refund_summary(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Refunds per bucket (by refund day): count, amount and share of the bucket's gross cash.

    Formula: refund rate = 100 × refunded amount ÷ gross cash of the same bucket

    Only succeeded refunds move money. Columns: ``period_start``, breakdown keys, ``currency``, ``refunds``,
    ``refunds_minor``, ``gross_minor``, ``refund_rate_pct`` (NaN with ``flag = "no_cash"`` when nothing was paid).
    """
    request.only_breakdowns("refunds", _BREAKDOWNS)
    cash_request = request.replace(policies=replace(request.policies, refunds="cash_only"))
    cash = cash_revenue(engine, cash_request)
    p, r = payments.c, refunds.alias("r")
    keys = _keys(request)
    with metric_connection(engine) as conn:
        joined = r.join(payments, sa.and_(p.account_id == r.c.account_id, p.id == r.c.payment_id))
        back = daily_sums(
            conn,
            request,
            source=joined,
            at=r.c.created_at,
            currency=r.c.currency,
            keys=_payment_keys(request, p),
            sums={"refunds": sa.func.count()},
            where=[r.c.account_id == request.account_id, r.c.status.in_(REFUNDED_STATUSES)],
        )
        rates = _rates(conn, request, back)
    counts = daily_to_buckets(back, request, rates, [], ["refunds"], keys)
    out = cash[["period_start", *keys, "currency", "refunds_minor", "gross_minor"]].merge(
        counts, on=["period_start", *keys, "currency"], how="left"
    )
    out["refunds"] = out["refunds"].fillna(0).astype("int64")
    out["refund_rate_pct"] = ratio(out["refunds_minor"], out["gross_minor"], 100.0)
    out["flag"] = np.where(out["gross_minor"] == 0, "no_cash", "")
    columns = ["period_start", *keys, "currency", "refunds", "refunds_minor", "gross_minor", "refund_rate_pct", "flag"]
    return out[columns]


@metric(
    "disputes",
    unit="count; minor units of the reporting currency",
    formula="disputes = count of disputes opened in the bucket; disputed amount = Σ their amounts",
    domain="revenue",
    policies=(),
)
def dispute_summary(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Payment disputes (chargebacks) opened per bucket, with their outcome so far.

    Formula: disputes = count of disputes opened in the bucket; disputed amount = Σ their amounts

    Outcome from the dispute's status: won, lost, closed (warning closed / closed), otherwise open. Columns:
    ``period_start``, breakdown keys, ``currency``, ``disputes``, ``disputed_minor``, ``won``, ``lost``,
    ``closed``, ``open``, ``lost_minor``.
    """
    request.only_breakdowns("disputes", _BREAKDOWNS)
    d, p = disputes.alias("d"), payments.c
    keys = _keys(request)
    status = d.c.status

    def count_of(values: tuple[str, ...]) -> Any:
        return sa.func.sum(sa.case((status.in_(values), 1), else_=0))

    with metric_connection(engine) as conn:
        joined = d.outerjoin(payments, sa.and_(p.account_id == d.c.account_id, p.id == d.c.payment_id))
        rows = daily_sums(
            conn,
            request,
            source=joined,
            at=d.c.created_at,
            currency=d.c.currency,
            keys=_payment_keys(request, p),
            sums={
                "disputed_minor": sa.func.sum(d.c.amount_minor),
                "lost_minor": sa.func.sum(sa.case((status.in_(LOST_DISPUTES), d.c.amount_minor), else_=0)),
                "disputes": sa.func.count(),
                "won": count_of(WON_DISPUTES),
                "lost": count_of(LOST_DISPUTES),
                "closed": count_of(CLOSED_DISPUTES),
            },
            where=[d.c.account_id == request.account_id],
        )
        rates = _rates(conn, request, rows)
    out = daily_to_buckets(
        rows, request, rates, ["disputed_minor", "lost_minor"], ["disputes", "won", "lost", "closed"], keys
    )
    out["open"] = out["disputes"] - out["won"] - out["lost"] - out["closed"]
    columns = [
        "period_start",
        *keys,
        "currency",
        "disputes",
        "disputed_minor",
        "won",
        "lost",
        "closed",
        "open",
        "lost_minor",
    ]
    return out[columns]
