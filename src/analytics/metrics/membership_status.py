"""Memberships and members by subscription status at the end of a period (the overview's "members by status").

The status is Whop's membership status (``active``, ``trialing``, ``past_due``, …): a subscription state, not
engagement (``active_members`` counts members with events) and not payment (a free membership can be ``active``;
paying customers are counted by ``mrr_movements`` and ``arpa``).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from analytics.metrics.catalog import metric
from analytics.metrics.request import MetricRequest, account_settings, period_instants
from analytics.store.schema import membership_status_changes, memberships

__all__ = ["STATUS_ORDER", "latest_statuses", "memberships_by_status"]

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


def latest_statuses(account_id: str, until: datetime) -> sa.Subquery:
    """One row per membership of the account: its status in force at ``until`` (its last change before it).

    Columns: ``membership_id``, ``member_id``, ``status``, ``changed_at`` (when that status began), ``plan_id``
    (the plan in force) and ``product_id`` (the membership's product). Memberships without a ``memberships`` row
    are left out, as :func:`memberships_by_status` counts them.
    """
    c = membership_status_changes
    ranked = (
        sa.select(
            c.c.membership_id,
            c.c.member_id,
            c.c.status,
            c.c.changed_at,
            c.c.plan_id,
            sa.func.row_number()
            .over(partition_by=c.c.membership_id, order_by=(c.c.changed_at.desc(), c.c.id.desc()))
            .label("rn"),
        )
        .where(c.c.account_id == account_id, c.c.changed_at < until)
        .cte("ranked")
    )
    return (
        sa.select(
            ranked.c.membership_id,
            ranked.c.member_id,
            ranked.c.status,
            ranked.c.changed_at,
            ranked.c.plan_id,
            memberships.c.product_id,
        )
        .select_from(
            ranked.join(
                memberships,
                sa.and_(memberships.c.account_id == account_id, memberships.c.id == ranked.c.membership_id),
            )
        )
        .where(ranked.c.rn == 1)
        .subquery("latest_statuses")
    )


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
    latest = latest_statuses(request.account_id, until)
    keys: list[sa.ColumnElement[object]] = []
    if "product" in request.breakdowns:
        keys.append(latest.c.product_id.label("product"))
    if "plan" in request.breakdowns:
        keys.append(latest.c.plan_id.label("plan"))
    query = sa.select(
        latest.c.status,
        *keys,
        sa.func.count().label("memberships"),
        sa.func.count(sa.distinct(latest.c.member_id)).label("members"),
    ).group_by(latest.c.status, *keys)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    names = ["status", *[k.name for k in keys], "memberships", "members"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=names)
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    frame["_order"] = frame["status"].map(order).fillna(len(order))
    frame = frame.sort_values(["_order", *names[1:-2]], kind="stable").drop(columns="_order")
    return frame.astype({"memberships": "int64", "members": "int64"}).reset_index(drop=True)
