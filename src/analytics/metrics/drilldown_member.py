"""One member's detail behind an at-risk row: the stored churn score with its factors and actions, the member's
payments and activity in the period (see :mod:`analytics.metrics.drilldown` for the conventions).

Scores are read as stored by the daily run (``churn_predictions`` of the account's current churn model, the
table :func:`analytics.models.churn.predictions.latest_scores` reads); nothing is scored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from analytics.metrics.dialect import day_number, fetch_frame, fetched_instant, metric_connection
from analytics.metrics.drilldown import drilldown, local_times, titles
from analytics.metrics.events import event_filter
from analytics.metrics.frames import as_int
from analytics.metrics.request import MetricRequest, account_settings, period_instants
from analytics.store.schema import activity_events, churn_predictions, model_registry, payments

__all__ = ["MemberDetail", "member_activity", "member_churn_risk", "member_detail", "member_payments"]

_RISK_COLUMNS = [
    "as_of",
    "model_id",
    "member",
    "member_id",
    "probability",
    "risk_level",
    "kind",
    "rank",
    "text",
    "feature",
    "value",
    "typical",
    "action",
    "reason",
]


@drilldown("member_churn_risk", title="Churn risk: why and what to do", metrics=())
def member_churn_risk(engine: sa.Engine, request: MetricRequest, *, member_id: str) -> pd.DataFrame:
    """A member's newest stored churn score of the current model, with its factors and recommended actions.

    Formula: the stored row of ``churn_predictions`` (model = the account's current churn model, newest as_of)

    One row of ``kind = "score"`` (its ``text`` says probability and level), then one per factor (``feature``,
    ``value``, ``typical`` and the sentence in ``text``, strongest first) and one per action (``action``, ``reason``,
    what to do in ``text``, in priority order). Columns: ``as_of``, ``model_id``, ``member``, ``member_id``,
    ``probability``, ``risk_level``, ``kind``, ``rank``, ``text``, ``feature``, ``value``, ``typical``,
    ``action``, ``reason``. Empty when the member has no score (no current model, or not scored).
    """
    cp = churn_predictions
    current = (
        sa.select(model_registry.c.id)
        .where(
            model_registry.c.account_id == request.account_id,
            model_registry.c.kind == "churn",
            model_registry.c.is_current.is_(True),
        )
        .scalar_subquery()
    )
    mine = sa.and_(cp.c.account_id == request.account_id, cp.c.model_id == current, cp.c.member_id == member_id)
    newest = sa.select(sa.func.max(cp.c.as_of)).where(mine).scalar_subquery()
    source, (member,) = titles(cp, request.account_id, member=cp.c.member_id)
    stmt = sa.select(
        cp.c.as_of, cp.c.model_id, member, cp.c.member_id, cp.c.probability, cp.c.risk_level, cp.c.factors, cp.c.actions
    ).select_from(source)
    with engine.connect() as conn:
        row = conn.execute(stmt.where(mine, cp.c.as_of == newest)).first()  # JSON columns: processed rows
    if row is None:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in _RISK_COLUMNS})
    head = {
        "as_of": pd.Timestamp(row.as_of),
        "model_id": row.model_id,
        "member": row.member,
        "member_id": row.member_id,
        "probability": float(row.probability),
        "risk_level": row.risk_level,
    }
    rows: list[dict[str, Any]] = [
        {**head, "kind": "score", "rank": 0, "text": f"{row.probability:.0%} churn probability ({row.risk_level} risk)"}
    ]
    for rank, factor in enumerate(row.factors or [], start=1):
        rows.append(
            {
                **head,
                "kind": "factor",
                "rank": rank,
                "text": factor.get("text"),
                "feature": factor.get("feature"),
                "value": factor.get("value"),
                "typical": factor.get("typical"),
            }
        )
    for rank, action in enumerate(row.actions or [], start=1):
        rows.append(
            {
                **head,
                "kind": "action",
                "rank": rank,
                "text": action.get("text"),
                "action": action.get("action"),
                "reason": action.get("reason"),
            }
        )
    return pd.DataFrame(rows).reindex(columns=_RISK_COLUMNS)


@drilldown("member_payments", title="Payments", metrics=())
def member_payments(engine: sa.Engine, request: MetricRequest, *, member_id: str) -> pd.DataFrame:
    """A member's payments created in the period, newest first.

    Formula: every ``payments`` row of the member with created_at in the period (local days)

    Columns: ``payment_id``, ``created_at`` (local time), ``membership_id``, ``product_id``, ``product_title``,
    ``plan_id``, ``plan_title``, ``status``, ``substatus``, ``billing_reason``, ``currency``, ``total_minor``,
    ``refunded_amount_minor``, ``payments_failed``, ``failure_message``, ``paid_at`` (local time).
    """
    p = payments
    with metric_connection(engine) as conn:
        tz = account_settings(conn, request.account_id).time_zone
        t0, t1 = period_instants(request, tz)
        d = conn.dialect.name
        source, (product_title, plan_title) = titles(p, request.account_id, product=p.c.product_id, plan=p.c.plan_id)
        stmt = (
            sa.select(
                p.c.id.label("payment_id"),
                fetched_instant(p.c.created_at, d).label("created_at"),
                p.c.membership_id,
                p.c.product_id,
                product_title,
                p.c.plan_id,
                plan_title,
                p.c.status,
                p.c.substatus,
                p.c.billing_reason,
                p.c.currency,
                p.c.total_minor,
                p.c.refunded_amount_minor,
                p.c.payments_failed,
                p.c.failure_message,
                fetched_instant(p.c.paid_at, d).label("paid_at"),
            )
            .select_from(source)
            .where(
                p.c.account_id == request.account_id,
                p.c.member_id == member_id,
                p.c.created_at >= t0,
                p.c.created_at < t1,
            )
        )
        frame = fetch_frame(conn, stmt, instants=("created_at", "paid_at"))
    as_int(frame, ["total_minor", "refunded_amount_minor", "payments_failed"])
    frame = frame.sort_values(["created_at", "payment_id"], ascending=[False, True], ignore_index=True)
    return local_times(frame, tz, "created_at", "paid_at")


@drilldown("member_activity", title="Activity", metrics=("activity_counts",))
def member_activity(engine: sa.Engine, request: MetricRequest, *, member_id: str) -> pd.DataFrame:
    """A member's activity in the period per event kind: how many events, on how many days, first and last.

    Formula: per kind: count(events), count(distinct local days), min and max occurred_at in the period

    Columns: ``kind``, ``events``, ``active_days`` (distinct local days), ``first_at``, ``last_at`` (local time);
    most events first.
    """
    e = activity_events
    with engine.connect() as conn:
        tz = account_settings(conn, request.account_id).time_zone
        t0, t1 = period_instants(request, tz)
        d = conn.dialect.name
        stmt = (
            sa.select(
                e.c.kind,
                sa.func.count().label("events"),
                sa.func.count(sa.distinct(day_number(e.c.occurred_at, d, tz, (t0, t1)))).label("active_days"),
                fetched_instant(sa.func.min(e.c.occurred_at), d).label("first_at"),
                fetched_instant(sa.func.max(e.c.occurred_at), d).label("last_at"),
            )
            .where(event_filter(request.account_id, t0, t1), e.c.member_id == member_id)
            .group_by(e.c.kind)
        )
        frame = as_int(fetch_frame(conn, stmt, instants=("first_at", "last_at")), ["events", "active_days"])
    frame = frame.sort_values(["events", "kind"], ascending=[False, True], ignore_index=True)
    return local_times(frame, tz, "first_at", "last_at")


@dataclass(frozen=True)
class MemberDetail:
    """Everything behind one at-risk member row: :func:`member_churn_risk`, :func:`member_payments` and
    :func:`member_activity` for the same request."""

    risk: pd.DataFrame
    payments: pd.DataFrame
    activity: pd.DataFrame


def member_detail(engine: sa.Engine, request: MetricRequest, member_id: str) -> MemberDetail:
    """One member's stored churn risk, payments and activity for the request's period (three tables)."""
    return MemberDetail(
        risk=member_churn_risk(engine, request, member_id=member_id),
        payments=member_payments(engine, request, member_id=member_id),
        activity=member_activity(engine, request, member_id=member_id),
    )
