"""The SQL of the churn features: one SELECT per feature group for a whole batch of prediction dates.

Every query starts from the paying population ``pop(k, member_id)`` joined to the cuts CTE (see
:mod:`analytics.models.churn.population`), is scoped by ``account_id`` and only reads rows timestamped before the
cut. Results are one row per ``(k, member_id)``; timestamps come back as aware datetimes and are turned into day
counts in pandas (:mod:`analytics.models.churn.features`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from analytics.metrics.dialect import day_number
from analytics.models.churn.population import ENDED_STATUSES, in_force, is_paying
from analytics.store.schema import (
    activity_events,
    disputes,
    lesson_interactions,
    memberships,
    payments,
    wa_contacts,
    wa_messages,
)

__all__ = [
    "COMPLAINT_WORDS",
    "QUESTION_WORDS",
    "activity_query",
    "course_query",
    "daily_activity",
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
            cuts.c.k,
            iv.c.member_id,
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
        # dates × intervals, not the population: the state of every paying member, joined to the population below
        .select_from(cuts.join(iv, in_force(iv, cuts.c.cut, inclusive=False)))
        .where(is_paying(iv))
        .group_by(cuts.c.k, iv.c.member_id)
        .subquery("state")
    )
    # The change history through the materialised state intervals (not the table): engines without an
    # (account_id, member_id) index on the changes then join by member through the CTE.
    h = iv.alias("history_iv")
    m = memberships
    history = (
        sa.select(
            pop.c.k,
            pop.c.member_id,
            sa.func.min(h.c.start_at).label("first_change_at"),
            sa.func.min(sa.case((is_paying(h), h.c.start_at), else_=None)).label("first_paid_at"),
            _flag_if(h.c.status == "trialing").label("had_trial"),
            _count_if(h.c.status.in_(ENDED_STATUSES)).label("previous_cancellations"),
            _count_if(h.c.start_at >= cuts.c.cut_90).label("status_changes_90d"),
            # memberships.promo_code_id is set at checkout, so it is known once the membership exists
            _flag_if(m.c.promo_code_id.is_not(None)).label("promo_membership"),
        )
        .select_from(
            _base(cuts, pop)
            .join(h, sa.and_(h.c.member_id == pop.c.member_id, h.c.start_at < cuts.c.cut))
            .outerjoin(m, sa.and_(m.c.account_id == account_id, m.c.id == h.c.membership_id))
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


def daily_activity(account_id: str, lo: datetime, hi: datetime, dialect: str) -> CTE:
    """Events per member and UTC day in ``[lo, hi)``, by kind, with the day's last event (computed once per batch).

    Rolling windows are then sums over a member's days, which is several times fewer rows than their events.
    """
    ev = activity_events
    text = sa.func.lower(sa.cast(ev.c.properties, sa.Text))
    is_message = ev.c.kind.in_(MESSAGE_KINDS)
    return (
        sa.select(
            ev.c.member_id,
            day_number(ev.c.occurred_at, dialect).label("day"),
            sa.func.count().label("events"),
            _count_if(ev.c.kind.in_(LOGIN_KINDS)).label("logins"),
            _count_if(is_message).label("messages"),
            _count_if(ev.c.kind.in_(VIEW_KINDS)).label("views"),
            _count_if(sa.and_(is_message, _contains_any(text, QUESTION_WORDS))).label("questions"),
            _count_if(sa.and_(is_message, _contains_any(text, COMPLAINT_WORDS))).label("complaints"),
        )
        .where(ev.c.account_id == account_id, ev.c.occurred_at >= lo, ev.c.occurred_at < hi)
        .group_by(ev.c.member_id, day_number(ev.c.occurred_at, dialect))
        .cte("daily_activity")
        .prefix_with("MATERIALIZED")
    )


def activity_query(account_id: str, cuts: CTE, pop: CTE, daily: CTE) -> sa.Select[Any]:
    """Event counts over 7/30/90 days, distinct active days, chat signals and the last event before the cut.

    Windows are whole UTC days before the cut (cuts are at 00:00 UTC, so ``day ≥ cut_day − 7`` is exactly
    ``occurred_at ≥ cut − 7 days``); ``cuts.day`` is the cut's day number.
    """
    d = daily
    in7, in30 = d.c.day >= cuts.c.day - 7, d.c.day >= cuts.c.day - 30
    prev30 = sa.and_(d.c.day >= cuts.c.day - 60, d.c.day < cuts.c.day - 30)
    last_ev = activity_events.alias("last_ev")
    last = sa.select(sa.func.max(last_ev.c.occurred_at)).where(
        last_ev.c.account_id == account_id,
        last_ev.c.member_id == pop.c.member_id,
        last_ev.c.occurred_at < cuts.c.cut,
    )

    def total(column: Any, cond: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
        value = column if cond is None else sa.case((cond, column), else_=0)
        return sa.func.coalesce(sa.func.sum(value), 0)

    return (
        sa.select(
            pop.c.k,
            pop.c.member_id,
            total(d.c.events, in7).label("events_7d"),
            total(d.c.events, in30).label("events_30d"),
            total(d.c.events).label("events_90d"),
            total(d.c.events, prev30).label("events_prev_30d"),
            total(d.c.logins, in7).label("logins_7d"),
            total(d.c.logins, in30).label("logins_30d"),
            total(d.c.messages, in7).label("messages_7d"),
            total(d.c.messages, in30).label("messages_30d"),
            total(d.c.views, in30).label("content_views_30d"),
            _count_if(in7).label("active_days_7d"),
            _count_if(in30).label("active_days_30d"),
            sa.func.count(d.c.day).label("active_days_90d"),
            total(d.c.questions, in30).label("question_messages_30d"),
            total(d.c.complaints, in30).label("complaint_messages_30d"),
            last.scalar_subquery().label("last_activity_at"),
        )
        .select_from(
            _base(cuts, pop).outerjoin(
                d, sa.and_(d.c.member_id == pop.c.member_id, d.c.day >= cuts.c.day - 90, d.c.day < cuts.c.day)
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
    """Payments before the cut: paid, failed, recovered, in dunning, refunded, disputed, promo codes.

    Payments are joined by member only and every time condition sits in the aggregates, so the engines look
    payments up through the (account_id, member_id) index (a member has few payments).
    """
    p = payments
    before = p.c.created_at < cuts.c.cut
    failed = sa.and_(
        before,
        sa.or_(p.c.payments_failed > 0, p.c.substatus.in_(FAILED_SUBSTATUSES), p.c.status == "uncollectible"),
    )
    paid_before = sa.and_(before, p.c.paid_at.is_not(None), p.c.paid_at < cuts.c.cut)
    dp = payments.alias("dispute_payment")
    member_disputes = (  # few rows: computed once, then looked up per member
        sa.select(dp.c.member_id, disputes.c.created_at)
        .select_from(
            disputes.join(dp, sa.and_(dp.c.account_id == disputes.c.account_id, dp.c.id == disputes.c.payment_id))
        )
        .where(disputes.c.account_id == account_id)
        .cte("member_disputes")
        .prefix_with("MATERIALIZED")
    )
    dispute_count = sa.select(sa.func.count()).where(
        member_disputes.c.member_id == pop.c.member_id, member_disputes.c.created_at < cuts.c.cut
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
            _count_if(sa.and_(before, p.c.refunded_at.is_not(None), p.c.refunded_at < cuts.c.cut)).label("refunds"),
            _flag_if(sa.and_(before, p.c.promo_code_id.is_not(None))).label("promo_payment"),
            dispute_count.scalar_subquery().label("disputes"),
        )
        .select_from(
            _base(cuts, pop).outerjoin(p, sa.and_(p.c.account_id == account_id, p.c.member_id == pop.c.member_id))
        )
        .group_by(pop.c.k, pop.c.member_id, cuts.c.cut)
    )


def support_query(account_id: str, cuts: CTE) -> sa.Select[Any]:
    """WhatsApp messages received from each linked member in the 30 days before each cut.

    Driven by the messages (index on account and time) and mapped to members through their contact (primary key),
    so it needs no join with the population: rows of members who are not paying are dropped by the caller.
    """
    wm, wc = wa_messages, wa_contacts
    return (
        sa.select(cuts.c.k, wc.c.member_id, sa.func.count().label("whatsapp_inbound_30d"))
        .select_from(
            cuts.join(
                wm,
                sa.and_(
                    wm.c.account_id == account_id,
                    wm.c.sent_at >= cuts.c.cut_30,
                    wm.c.sent_at < cuts.c.cut,
                    wm.c.direction == "inbound",
                ),
            ).join(wc, sa.and_(wc.c.account_id == account_id, wc.c.id == wm.c.contact_id))
        )
        .where(wc.c.member_id.is_not(None))
        .group_by(cuts.c.k, wc.c.member_id)
    )
