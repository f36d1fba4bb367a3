"""The SQL of the churn features: one SELECT per feature group for a whole batch of prediction dates.

Every query starts from the paying population ``pop(k, member_id)`` joined to the cuts CTE (see
:mod:`analytics.models.churn.population`), is scoped by ``account_id`` and only reads rows timestamped before the
cut. Results are one row per ``(k, member_id)``; timestamps come back as aware datetimes and are turned into day
counts in pandas (:mod:`analytics.models.churn.features`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from analytics.metrics.dialect import local_date
from analytics.models.churn.population import ENDED_STATUSES, PAYING_STATUSES, in_force, is_paying
from analytics.store.schema import (
    activity_events,
    disputes,
    lesson_interactions,
    memberships,
    payments,
    wa_contacts,
    wa_messages,
)
from analytics.store.schema import membership_status_changes as msc

__all__ = [
    "COMPLAINT_WORDS",
    "QUESTION_WORDS",
    "activity_query",
    "course_query",
    "membership_query",
    "payments_query",
    "support_query",
]

QUESTION_WORDS: tuple[str, ...] = ("?", "how do", "how to", "help", "can't", "cannot")
COMPLAINT_WORDS: tuple[str, ...] = (
    "cancel",
    "refund",
    "not working",
    "broken",
    "disappointed",
    "waste",
    "too expensive",
    "not worth",
    "problem",
    "issue",
)
LOGIN_KINDS = ("login",)
MESSAGE_KINDS = ("message",)
VIEW_KINDS = ("view", "post_view", "lesson_view", "download")
FAILED_SUBSTATUSES = ("failed", "past_due", "uncollectible")


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return sa.func.sum(sa.case((cond, 1), else_=0))


def _flag_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return sa.func.max(sa.case((cond, 1), else_=0))


def _base(cuts: CTE, pop: CTE) -> Any:
    return pop.join(cuts, cuts.c.k == pop.c.k)


def membership_query(account_id: str, cuts: CTE, iv: CTE, pop: CTE) -> sa.Select[Any]:
    """State in force just before the cut (paying memberships) and the member's change history before it."""
    state = (
        sa.select(
            pop.c.k,
            pop.c.member_id,
            sa.func.count().label("paying_memberships"),
            sa.func.sum(
                sa.case(
                    (iv.c.billing_period_days.in_((365, 366)), iv.c.renewal_price_minor / 12.0),
                    else_=iv.c.renewal_price_minor * 30.0 / iv.c.billing_period_days,
                )
            ).label("monthly_price_minor"),
            sa.func.max(iv.c.billing_period_days).label("billing_period_days"),
            _flag_if(sa.or_(iv.c.cancel_at_period_end.is_(True), iv.c.status == "canceling")).label(
                "cancel_at_period_end"
            ),
            _flag_if(iv.c.status == "past_due").label("past_due"),
        )
        .select_from(
            _base(cuts, pop).join(
                iv, sa.and_(iv.c.member_id == pop.c.member_id, in_force(iv, cuts.c.cut, inclusive=False))
            )
        )
        .where(is_paying(iv))
        .group_by(pop.c.k, pop.c.member_id)
        .subquery("state")
    )
    history = (
        sa.select(
            pop.c.k,
            pop.c.member_id,
            sa.func.min(msc.c.changed_at).label("first_change_at"),
            sa.func.min(
                sa.case(
                    (
                        sa.and_(
                            msc.c.status.in_(PAYING_STATUSES),
                            msc.c.billing_period_days.is_not(None),
                            msc.c.renewal_price_minor > 0,
                        ),
                        msc.c.changed_at,
                    ),
                    else_=None,
                )
            ).label("first_paid_at"),
            _flag_if(msc.c.status == "trialing").label("had_trial"),
            _count_if(msc.c.status.in_(ENDED_STATUSES)).label("previous_cancellations"),
            _count_if(msc.c.changed_at >= cuts.c.cut_90).label("status_changes_90d"),
        )
        .select_from(
            _base(cuts, pop).join(
                msc,
                sa.and_(
                    msc.c.account_id == account_id,
                    msc.c.member_id == pop.c.member_id,
                    msc.c.changed_at < cuts.c.cut,
                ),
            )
        )
        .group_by(pop.c.k, pop.c.member_id)
        .subquery("history")
    )
    return sa.select(
        history,
        state.c.paying_memberships,
        state.c.monthly_price_minor,
        state.c.billing_period_days,
        state.c.cancel_at_period_end,
        state.c.past_due,
    ).select_from(history.outerjoin(state, sa.and_(state.c.k == history.c.k, state.c.member_id == history.c.member_id)))


def _contains_any(text: ColumnElement[Any], words: tuple[str, ...]) -> ColumnElement[bool]:
    return sa.or_(*[text.like(sa.literal(f"%{w}%")) for w in words])


def activity_query(account_id: str, cuts: CTE, pop: CTE, dialect: str) -> sa.Select[Any]:
    """Event counts over 7/30/90 days, distinct active days, chat signals and the last event before the cut."""
    ev = activity_events
    at = ev.c.occurred_at
    day = local_date(at, dialect)
    text = sa.func.lower(sa.cast(ev.c.properties, sa.Text))
    is_message = ev.c.kind.in_(MESSAGE_KINDS)
    in7, in30, prev30 = at >= cuts.c.cut_7, at >= cuts.c.cut_30, sa.and_(at >= cuts.c.cut_60, at < cuts.c.cut_30)
    last_ev = ev.alias("last_ev")
    last = sa.select(sa.func.max(last_ev.c.occurred_at)).where(
        last_ev.c.account_id == account_id,
        last_ev.c.member_id == pop.c.member_id,
        last_ev.c.occurred_at < cuts.c.cut,
    )
    has = ev.c.id.is_not(None)
    return (
        sa.select(
            pop.c.k,
            pop.c.member_id,
            _count_if(sa.and_(has, in7)).label("events_7d"),
            _count_if(sa.and_(has, in30)).label("events_30d"),
            _count_if(has).label("events_90d"),
            _count_if(sa.and_(has, prev30)).label("events_prev_30d"),
            _count_if(sa.and_(ev.c.kind.in_(LOGIN_KINDS), in7)).label("logins_7d"),
            _count_if(sa.and_(ev.c.kind.in_(LOGIN_KINDS), in30)).label("logins_30d"),
            _count_if(sa.and_(is_message, in7)).label("messages_7d"),
            _count_if(sa.and_(is_message, in30)).label("messages_30d"),
            _count_if(sa.and_(ev.c.kind.in_(VIEW_KINDS), in30)).label("content_views_30d"),
            sa.func.count(sa.distinct(sa.case((in7, day), else_=None))).label("active_days_7d"),
            sa.func.count(sa.distinct(sa.case((in30, day), else_=None))).label("active_days_30d"),
            sa.func.count(sa.distinct(day)).label("active_days_90d"),
            _count_if(sa.and_(is_message, in30, _contains_any(text, QUESTION_WORDS))).label("question_messages_30d"),
            _count_if(sa.and_(is_message, in30, _contains_any(text, COMPLAINT_WORDS))).label("complaint_messages_30d"),
            last.scalar_subquery().label("last_activity_at"),
        )
        .select_from(
            _base(cuts, pop).outerjoin(
                ev,
                sa.and_(
                    ev.c.account_id == account_id,
                    ev.c.member_id == pop.c.member_id,
                    at >= cuts.c.cut_90,
                    at < cuts.c.cut,
                ),
            )
        )
        .group_by(pop.c.k, pop.c.member_id, cuts.c.cut)
    )


def course_query(account_id: str, cuts: CTE, pop: CTE) -> sa.Select[Any]:
    """Lessons completed before the cut (all time and in the last 30 days); progress comes from the engagement
    metric (:func:`analytics.models.churn.features.engagement_features`)."""
    li = lesson_interactions
    done = sa.and_(li.c.completed_at.is_not(None), li.c.completed_at < cuts.c.cut)
    recent = sa.and_(done, li.c.completed_at >= cuts.c.cut_30)
    return (
        sa.select(
            pop.c.k,
            pop.c.member_id,
            sa.func.count(sa.distinct(sa.case((done, li.c.lesson_id), else_=None))).label("lessons_completed"),
            sa.func.count(sa.distinct(sa.case((recent, li.c.lesson_id), else_=None))).label("lessons_completed_30d"),
        )
        .select_from(
            _base(cuts, pop).join(
                li,
                sa.and_(li.c.account_id == account_id, li.c.member_id == pop.c.member_id, li.c.created_at < cuts.c.cut),
            )
        )
        .group_by(pop.c.k, pop.c.member_id)
    )


def payments_query(account_id: str, cuts: CTE, pop: CTE) -> sa.Select[Any]:
    """Payments before the cut: paid, failed, recovered, in dunning, refunded, disputed, promo codes."""
    p = payments
    failed = sa.or_(p.c.payments_failed > 0, p.c.substatus.in_(FAILED_SUBSTATUSES), p.c.status == "uncollectible")
    paid_before = sa.and_(p.c.paid_at.is_not(None), p.c.paid_at < cuts.c.cut)
    dp = payments.alias("dispute_payment")
    dispute_count = (
        sa.select(sa.func.count())
        .select_from(
            disputes.join(dp, sa.and_(dp.c.account_id == disputes.c.account_id, dp.c.id == disputes.c.payment_id))
        )
        .where(
            disputes.c.account_id == account_id, dp.c.member_id == pop.c.member_id, disputes.c.created_at < cuts.c.cut
        )
    )
    promo_membership = sa.select(sa.literal(1)).where(
        memberships.c.account_id == account_id,
        memberships.c.member_id == pop.c.member_id,
        memberships.c.promo_code_id.is_not(None),
        memberships.c.created_at < cuts.c.cut,
    )
    return (
        sa.select(
            pop.c.k,
            pop.c.member_id,
            _count_if(paid_before).label("paid_payments"),
            sa.func.max(sa.case((paid_before, p.c.paid_at), else_=None)).label("last_paid_at"),
            _count_if(sa.and_(failed, p.c.created_at >= cuts.c.cut_90)).label("failed_payments_90d"),
            _count_if(sa.and_(failed, paid_before, p.c.paid_at >= cuts.c.cut_90)).label("recovered_payments_90d"),
            _flag_if(sa.and_(failed, p.c.created_at >= cuts.c.cut_30, sa.not_(paid_before))).label(
                "unrecovered_failed_payment"
            ),
            _count_if(sa.and_(p.c.refunded_at.is_not(None), p.c.refunded_at < cuts.c.cut)).label("refunds"),
            _flag_if(p.c.promo_code_id.is_not(None)).label("promo_payment"),
            dispute_count.scalar_subquery().label("disputes"),
            sa.exists(promo_membership).label("promo_membership"),
        )
        .select_from(
            _base(cuts, pop).outerjoin(
                p,
                sa.and_(p.c.account_id == account_id, p.c.member_id == pop.c.member_id, p.c.created_at < cuts.c.cut),
            )
        )
        .group_by(pop.c.k, pop.c.member_id, cuts.c.cut)
    )


def support_query(account_id: str, cuts: CTE, pop: CTE) -> sa.Select[Any]:
    """WhatsApp messages received from the member (through their linked contact) in the 30 days before the cut."""
    wm, wc = wa_messages, wa_contacts
    return (
        sa.select(pop.c.k, pop.c.member_id, sa.func.count().label("whatsapp_inbound_30d"))
        .select_from(
            _base(cuts, pop)
            .join(wc, sa.and_(wc.c.account_id == account_id, wc.c.member_id == pop.c.member_id))
            .join(
                wm,
                sa.and_(
                    wm.c.account_id == account_id,
                    wm.c.contact_id == wc.c.id,
                    wm.c.direction == "inbound",
                    wm.c.sent_at >= cuts.c.cut_30,
                    wm.c.sent_at < cuts.c.cut,
                ),
            )
        )
        .group_by(pop.c.k, pop.c.member_id)
    )
