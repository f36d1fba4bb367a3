"""Memberships and members by subscription status at the end of a period (the overview's "members by status").

The status is Whop's membership status (``active``, ``trialing``, ``past_due``, …): a subscription state, not
engagement (``active_members`` counts members with events) and not payment (a free membership can be ``active``;
paying customers are counted by ``mrr_movements`` and ``arpa``).
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from analytics.metrics.catalog import metric
from analytics.metrics.request import MetricRequest, account_settings, period_instants
from analytics.store.schema import membership_status_changes, memberships

__all__ = ["STATUS_ORDER", "memberships_by_status"]

STATUS_ORDER: tuple[str, ...] = (
    "trialing",
    "active",
    "canceling",
    "past_due",
    "unresolved",
    "completed",
    "canceled",
    "expired",
    "drafted",
)
_FORMULA = "count(memberships whose last status change before the period's end has status s), per s"


@metric("memberships_by_status", unit="memberships; members", formula=_FORMULA, domain="revenue")
def memberships_by_status(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
    """Memberships (and distinct members) per subscription status (Whop membership status) at the end of the period.

    Formula: count(memberships whose last status change before the period's end has status s), per s

    ``status = active`` is the subscription status of a membership ("memberships with status active"), not
    engagement-active members (``active_members``) nor paying customers (``mrr_movements``: a free or trialing
    membership pays nothing, a ``past_due`` one still counts in MRR by default). The current members of the
    engagement metrics are the distinct members of the rows whose status gives access (trialing, active,
    canceling, past_due, completed).

    The state of a membership at an instant is its last ``membership_status_changes`` row before it (the same
    history MRR is computed from). One row per status (and breakdown value) with ``memberships`` and ``members``
    (distinct members with a membership in that status; a member with two memberships in one status counts once,
    a member with memberships in two statuses counts in both rows), statuses in lifecycle order.
    Breakdowns: product (the membership's product), plan (the plan in force at the end).
    """
    request.only_breakdowns("memberships_by_status", ("product", "plan"))
    tz = account_settings(engine, request.account_id).time_zone
    _, until = period_instants(request, tz)
    c = membership_status_changes
    ranked = (
        sa.select(
            c.c.membership_id,
            c.c.member_id,
            c.c.status,
            c.c.plan_id,
            sa.func.row_number()
            .over(partition_by=c.c.membership_id, order_by=(c.c.changed_at.desc(), c.c.id.desc()))
            .label("rn"),
        )
        .where(c.c.account_id == request.account_id, c.c.changed_at < until)
        .cte("ranked")
    )
    keys: list[sa.ColumnElement[object]] = []
    if "product" in request.breakdowns:
        keys.append(memberships.c.product_id.label("product"))
    if "plan" in request.breakdowns:
        keys.append(ranked.c.plan_id.label("plan"))
    query = (
        sa.select(
            ranked.c.status,
            *keys,
            sa.func.count().label("memberships"),
            sa.func.count(sa.distinct(ranked.c.member_id)).label("members"),
        )
        .select_from(
            ranked.join(
                memberships,
                sa.and_(memberships.c.account_id == request.account_id, memberships.c.id == ranked.c.membership_id),
            )
        )
        .where(ranked.c.rn == 1)
        .group_by(ranked.c.status, *keys)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    names = ["status", *[k.name for k in keys], "memberships", "members"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=names)
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    frame["_order"] = frame["status"].map(order).fillna(len(order))
    frame = frame.sort_values(["_order", *names[1:-2]], kind="stable").drop(columns="_order")
    return frame.astype({"memberships": "int64", "members": "int64"}).reset_index(drop=True)
