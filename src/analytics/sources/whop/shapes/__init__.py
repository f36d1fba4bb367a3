"""The one mapping between store rows and Whop v1 JSON, used by the fake server, the sync and the webhooks."""

from analytics.sources.whop.shapes.catalog import ACCOUNTS, AFFILIATES, PLANS, PRODUCTS, PROMO_CODES, VARIANTS
from analytics.sources.whop.shapes.common import ParseContext, Shape, iso, money, parse_time
from analytics.sources.whop.shapes.content import (
    CHAPTERS,
    CHAT_CHANNELS,
    COURSES,
    FORUM_POSTS,
    FORUMS,
    LESSON_INTERACTIONS,
    LESSONS,
    MESSAGES,
)
from analytics.sources.whop.shapes.memberships import MEMBERS, MEMBERSHIPS
from analytics.sources.whop.shapes.payments import PAYMENTS, REFUNDS

SHAPES: dict[str, Shape] = {
    s.resource: s
    for s in (
        ACCOUNTS,
        PRODUCTS,
        VARIANTS,
        PLANS,
        PROMO_CODES,
        AFFILIATES,
        MEMBERS,
        MEMBERSHIPS,
        PAYMENTS,
        REFUNDS,
        COURSES,
        CHAPTERS,
        LESSONS,
        LESSON_INTERACTIONS,
        CHAT_CHANNELS,
        MESSAGES,
        FORUMS,
        FORUM_POSTS,
    )
}
"""Every shape by its API path under ``/api/v1``."""

__all__ = ["SHAPES", "ParseContext", "Shape", "iso", "money", "parse_time"]
