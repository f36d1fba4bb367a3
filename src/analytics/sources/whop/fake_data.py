"""What the fake Whop API reads from its source store: one :class:`Listing` per ``/api/v1`` list endpoint.

A listing is a SQLAlchemy Core select of store rows plus the context columns a shape's ``render`` needs
(``_account_title``, ``_username``, …), the filters the endpoint accepts (after whop-sdk 2.6.0's
``list`` signatures), the sort fields, and the parent it must be scoped to (``/messages`` needs ``channel_id``).
Pages are keyset pages on ``(sort value, account_id, id)``, so a cursor stays valid while new rows arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from analytics.sources.whop.shapes import SHAPES, Shape
from analytics.store import schema as s
from analytics.store.types import EPOCH, UTCDateTime

__all__ = ["LISTINGS", "SERVING_INDEXES", "Listing", "membership_status_filter", "prepare_source"]


@dataclass(frozen=True)
class Listing:
    """One list endpoint over the source store.

    ``filters`` maps a query parameter to the column it narrows (parameters ending in ``s`` accept several
    values, repeated or as ``key[]=``); ``scope`` parameters are required parents; ``orders`` the allowed
    ``order`` values, the first being the default.
    """

    shape: Shape
    select: Callable[[], sa.Select[Any]]
    table: sa.Table
    created: sa.ColumnElement[Any] | None
    orders: Mapping[str, sa.ColumnElement[Any]]
    default_direction: str = "desc"
    filters: Mapping[str, sa.ColumnElement[Any]] = field(default_factory=dict)
    scope: tuple[str, ...] = ()
    account_param: bool = True
    paginated: bool = True


def _c(table: sa.Table, name: str) -> sa.ColumnElement[Any]:
    return table.c[name]


def _join(left: sa.Table, right: sa.FromClause, fk: str) -> sa.ColumnElement[bool]:
    return sa.and_(right.c.account_id == left.c.account_id, right.c.id == left.c[fk])


def _nullable_time(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(col, sa.literal(EPOCH, UTCDateTime()), type_=UTCDateTime())


def _members_alias() -> Any:
    return s.members.alias("author")


def _select_memberships() -> sa.Select[Any]:
    m, acc, prod, plan, aff = s.memberships, s.accounts, s.products, s.plans, s.affiliates
    return (
        sa.select(
            m,
            acc.c.title.label("_account_title"),
            acc.c.route.label("_account_route"),
            prod.c.title.label("_product_title"),
            plan.c.currency.label("_plan_currency"),
            aff.c.user_id.label("_affiliate_user_id"),
            aff.c.commission_type.label("_affiliate_commission_type"),
            aff.c.commission_percent.label("_affiliate_percent"),
            aff.c.commission_amount_minor.label("_affiliate_amount_minor"),
        )
        .select_from(m)
        .join(acc, acc.c.id == m.c.account_id)
        .outerjoin(prod, _join(m, prod, "product_id"))
        .outerjoin(plan, _join(m, plan, "plan_id"))
        .outerjoin(aff, _join(m, aff, "affiliate_id"))
    )


def _select_payments() -> sa.Select[Any]:
    p, prod, plan = s.payments, s.products, s.plans
    author = _members_alias()
    return (
        sa.select(
            p,
            author.c.username.label("_username"),
            author.c.display_name.label("_display_name"),
            author.c.email.label("_email"),
            prod.c.title.label("_product_title"),
            plan.c.title.label("_plan_title"),
        )
        .select_from(p)
        .outerjoin(author, _join(p, author, "member_id"))
        .outerjoin(prod, _join(p, prod, "product_id"))
        .outerjoin(plan, _join(p, plan, "plan_id"))
    )


def _select_products() -> sa.Select[Any]:
    prod, m = s.products, s.memberships
    active = (
        sa.select(sa.func.count())
        .where(m.c.account_id == prod.c.account_id, m.c.product_id == prod.c.id, m.c.status.in_(("active", "trialing")))
        .scalar_subquery()
    )
    return sa.select(prod, s.accounts.c.title.label("_account_title"), active.label("_member_count")).join(
        s.accounts, s.accounts.c.id == prod.c.account_id
    )


def _select_plans() -> sa.Select[Any]:
    plan, prod = s.plans, s.products
    return (
        sa.select(plan, s.accounts.c.title.label("_account_title"), prod.c.title.label("_product_title"))
        .join(s.accounts, s.accounts.c.id == plan.c.account_id)
        .outerjoin(prod, _join(plan, prod, "product_id"))
    )


def _select_promo_codes() -> sa.Select[Any]:
    promo, prod = s.promo_codes, s.products
    return sa.select(promo, prod.c.title.label("_product_title")).outerjoin(prod, _join(promo, prod, "product_id"))


def _select_affiliates() -> sa.Select[Any]:
    aff, ref = s.affiliates, s.referrals
    author = _members_alias()
    referrals = (
        sa.select(sa.func.count())
        .where(ref.c.account_id == aff.c.account_id, ref.c.affiliate_id == aff.c.id)
        .scalar_subquery()
    )
    return (
        sa.select(
            aff,
            s.accounts.c.title.label("_account_title"),
            author.c.username.label("_username"),
            author.c.display_name.label("_display_name"),
            referrals.label("_referrals"),
        )
        .join(s.accounts, s.accounts.c.id == aff.c.account_id)
        .outerjoin(author, _join(aff, author, "member_id"))
    )


def _select_courses() -> sa.Select[Any]:
    course, lesson = s.courses, s.lessons
    chapters = (
        sa.select(sa.func.count(sa.distinct(lesson.c.chapter_id)))
        .where(lesson.c.account_id == course.c.account_id, lesson.c.course_id == course.c.id)
        .scalar_subquery()
    )
    return sa.select(course, chapters.label("_chapters_count"))


def _select_chapters() -> sa.Select[Any]:
    lesson = s.lessons
    return (
        sa.select(
            lesson.c.account_id,
            lesson.c.chapter_id,
            sa.func.max(lesson.c.chapter_title).label("chapter_title"),
            sa.func.min(lesson.c.position).label("_order"),
        )
        .where(lesson.c.chapter_id.is_not(None))
        .group_by(lesson.c.account_id, lesson.c.course_id, lesson.c.chapter_id)
    )


def _select_lessons() -> sa.Select[Any]:
    lesson, course = s.lessons, s.courses
    return sa.select(lesson, course.c.created_at.label("_course_created_at")).outerjoin(
        course, _join(lesson, course, "course_id")
    )


def _with_author(table: sa.Table, *extra: Any) -> Callable[[], sa.Select[Any]]:
    def build() -> sa.Select[Any]:
        author = _members_alias()
        stmt = sa.select(
            table,
            author.c.user_id.label("_user_id"),
            author.c.username.label("_username"),
            author.c.display_name.label("_display_name"),
            *extra,
        ).outerjoin(author, _join(table, author, "member_id"))
        return stmt

    return build


def _select_interactions() -> sa.Select[Any]:
    li, lesson = s.lesson_interactions, s.lessons
    return _with_author(
        li, lesson.c.title.label("_lesson_title"), lesson.c.chapter_id.label("_chapter_id")
    )().outerjoin(lesson, _join(li, lesson, "lesson_id"))


def _select_messages() -> sa.Select[Any]:
    return _with_author(s.activity_events)().where(s.activity_events.c.kind == "message")


def _select_forums() -> sa.Select[Any]:
    p = s.posts
    return (
        sa.select(p.c.account_id, p.c.experience_id, sa.func.min(p.c.created_at).label("created_at"))
        .where(p.c.experience_id.is_not(None))
        .group_by(p.c.account_id, p.c.experience_id)
    )


_LIVE = ("trialing", "active", "past_due")


def membership_status_filter(values: list[str]) -> sa.ColumnElement[bool]:
    """``status``/``statuses`` of ``GET /memberships`` as whop-sdk 2.6.0 documents them: ``trialing``, ``active``
    and ``past_due`` exclude memberships set to cancel at period end, which the derived ``canceling`` bucket
    matches; ``one_time`` and ``expiring`` match one-time purchases (without / with an expiry); ``paused``,
    ``unclaimed`` and ``banned`` match nothing in a store (it keeps no such state)."""
    m = s.memberships
    clauses: list[sa.ColumnElement[bool]] = []
    for value in values:
        if value in _LIVE:
            clauses.append(sa.and_(m.c.status == value, m.c.cancel_at_period_end.is_(False)))
        elif value == "canceling":
            clauses.append(
                sa.or_(m.c.status == "canceling", sa.and_(m.c.status.in_(_LIVE), m.c.cancel_at_period_end.is_(True)))
            )
        elif value == "one_time":
            clauses.append(
                sa.and_(m.c.billing_period_days.is_(None), m.c.expires_at.is_(None), m.c.status == "completed")
            )
        elif value == "expiring":
            clauses.append(
                sa.and_(m.c.billing_period_days.is_(None), m.c.expires_at.is_not(None), m.c.status == "completed")
            )
        else:
            clauses.append(m.c.status == value)
    return sa.or_(*clauses)


def _build() -> dict[str, Listing]:
    m, mem, pay, ref = s.memberships, s.members, s.payments, s.refunds
    plan_filters = {
        "product_ids": s.plans.c.product_id,
        "plan_types": s.plans.c.plan_type,
        "visibilities": s.plans.c.visibility,
        "release_methods": s.plans.c.release_method,
    }
    plan_orders = {"created_at": s.plans.c.created_at, "id": s.plans.c.id}
    listings = [
        Listing(
            SHAPES["accounts"],
            lambda: sa.select(s.accounts),
            s.accounts,
            s.accounts.c.created_at,
            {"created_at": _nullable_time(s.accounts.c.created_at)},
            account_param=False,
        ),
        Listing(
            SHAPES["memberships"],
            _select_memberships,
            m,
            m.c.created_at,
            {"created_at": m.c.created_at},
            filters={
                "product_ids": m.c.product_id,
                "product_id": m.c.product_id,
                "plan_ids": m.c.plan_id,
                "plan_id": m.c.plan_id,
                "promo_code_ids": m.c.promo_code_id,
                "user_id": m.c.user_id,
                "member_id": m.c.member_id,
            },
        ),
        Listing(
            SHAPES["members"],
            lambda: sa.select(mem),
            mem,
            mem.c.created_at,
            {
                "created_at": mem.c.created_at,
                "joined_at": _nullable_time(mem.c.joined_at),
                "last_accessed_at": _nullable_time(mem.c.last_accessed_at),
                "most_recent_action_at": _nullable_time(mem.c.most_recent_action_at),
                "usd_total_spent": sa.func.coalesce(mem.c.usd_total_spent_minor, 0),
            },
            filters={
                "status": mem.c.status,
                "user_ids": mem.c.user_id,
                "access_level": mem.c.access_level,
                "most_recent_actions": mem.c.most_recent_action,
            },
        ),
        Listing(
            SHAPES["payments"],
            _select_payments,
            pay,
            pay.c.created_at,
            {"created_at": pay.c.created_at, "paid_at": _nullable_time(pay.c.paid_at)},
            filters={
                "status": pay.c.status,
                "billing_reason": pay.c.billing_reason,
                "currency": pay.c.currency,
                "user_id": pay.c.user_id,
                "member_id": pay.c.member_id,
                "membership_id": pay.c.membership_id,
                "product_id": pay.c.product_id,
                "plan_id": pay.c.plan_id,
            },
        ),
        Listing(
            SHAPES["refunds"],
            lambda: sa.select(ref),
            ref,
            ref.c.created_at,
            {"created_at": ref.c.created_at},
            filters={"payment_id": ref.c.payment_id},
        ),
        Listing(
            SHAPES["products"],
            _select_products,
            s.products,
            s.products.c.created_at,
            {"created_at": _nullable_time(s.products.c.created_at)},
            filters={"visibilities": s.products.c.visibility},
        ),
        Listing(SHAPES["variants"], _select_plans, s.plans, s.plans.c.created_at, plan_orders, filters=plan_filters),
        Listing(SHAPES["plans"], _select_plans, s.plans, s.plans.c.created_at, plan_orders, filters=plan_filters),
        Listing(
            SHAPES["promo_codes"],
            _select_promo_codes,
            s.promo_codes,
            s.promo_codes.c.created_at,
            {"created_at": _nullable_time(s.promo_codes.c.created_at)},
            filters={"status": s.promo_codes.c.status, "product_ids": s.promo_codes.c.product_id},
        ),
        Listing(
            SHAPES["affiliates"],
            _select_affiliates,
            s.affiliates,
            None,
            {"created_at": _nullable_time(s.affiliates.c.created_at), "id": s.affiliates.c.id},
            filters={"status": s.affiliates.c.status},
        ),
        Listing(
            SHAPES["courses"],
            _select_courses,
            s.courses,
            None,
            {"created_at": _nullable_time(s.courses.c.created_at)},
            default_direction="asc",
        ),
        Listing(
            SHAPES["course_chapters"],
            _select_chapters,
            s.lessons,
            None,
            {},
            scope=("course_id",),
            filters={"course_id": s.lessons.c.course_id},
            account_param=False,
            paginated=False,
        ),
        Listing(
            SHAPES["course_lessons"],
            _select_lessons,
            s.lessons,
            None,
            {"position": s.lessons.c.position},
            default_direction="asc",
            filters={"course_id": s.lessons.c.course_id, "chapter_id": s.lessons.c.chapter_id},
            scope=("course_id|chapter_id",),
            account_param=False,
        ),
        Listing(
            SHAPES["course_lesson_interactions"],
            _select_interactions,
            s.lesson_interactions,
            None,
            {"created_at": s.lesson_interactions.c.created_at},
            filters={
                "course_id": s.lesson_interactions.c.course_id,
                "lesson_id": s.lesson_interactions.c.lesson_id,
                "user_id": s.lesson_interactions.c.user_id,
                "completed": s.lesson_interactions.c.completed,
            },
            account_param=False,
        ),
        Listing(
            SHAPES["chat_channels"],
            lambda: sa.select(s.chat_channels),
            s.chat_channels,
            None,
            {"id": s.chat_channels.c.id},
            default_direction="asc",
            filters={"product_id": s.chat_channels.c.product_id},
        ),
        Listing(
            SHAPES["messages"],
            _select_messages,
            s.activity_events,
            None,
            {"created_at": s.activity_events.c.occurred_at},
            scope=("channel_id",),
            filters={"channel_id": s.activity_events.c.object_id},
            account_param=False,
        ),
        Listing(SHAPES["forums"], _select_forums, s.posts, None, {}, paginated=False),
        Listing(
            SHAPES["forum_posts"],
            _with_author(s.posts),
            s.posts,
            None,
            {"created_at": s.posts.c.created_at},
            scope=("experience_id",),
            filters={"experience_id": s.posts.c.experience_id, "parent_id": s.posts.c.parent_id},
            account_param=False,
        ),
    ]
    return {listing.shape.resource: listing for listing in listings}


LISTINGS: dict[str, Listing] = _build()

SERVING_INDEXES = {
    "ix_fake_whop_activity_channel": ("activity_events", ("object_id", "kind", "occurred_at")),
    "ix_fake_whop_posts_experience": ("posts", ("experience_id", "created_at")),
    "ix_fake_whop_interactions_course": ("lesson_interactions", ("course_id", "created_at")),
    "ix_fake_whop_members_created": ("members", ("account_id", "created_at")),
    "ix_fake_whop_refunds_created": ("refunds", ("account_id", "created_at")),
}
"""Indexes the fake creates on its source store so keyset pages stay fast on large businesses (they are not
part of the store schema: only a store served by the fake needs them)."""


def prepare_source(engine: Any) -> None:
    """Create :data:`SERVING_INDEXES` on the source store if missing (idempotent; data is untouched)."""
    detached = sa.MetaData()  # not the store's metadata: these indexes stay out of the schema and migrations
    with engine.begin() as conn:
        for name, (table, columns) in SERVING_INDEXES.items():
            shadow = sa.Table(table, detached, *(sa.Column(c) for c in columns), extend_existing=True)
            sa.Index(name, *(shadow.c[c] for c in columns)).create(conn, checkfirst=True)


"""Every list endpoint of the fake server by its path under ``/api/v1``."""
