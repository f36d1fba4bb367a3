"""Activity event kinds the engagement, funnel and content metrics read, and the one filter over events.

``activity_events.kind`` is free text written by imports, sync and the demo; these are the names the metrics
look for by default (every metric takes the kinds as parameters, so other spellings work too).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.store.schema import activity_events

__all__ = [
    "CHECKOUT_START",
    "COMMENT",
    "FUNNEL_VIEW",
    "LESSON_COMPLETE",
    "LESSON_START",
    "LESSON_VIEW",
    "LOGIN",
    "MESSAGE",
    "POST_VIEW",
    "PURCHASE",
    "REACTION",
    "event_filter",
]

LOGIN = "login"
MESSAGE = "message"
POST_VIEW = "post_view"
COMMENT = "comment"
REACTION = "reaction"
LESSON_VIEW = "lesson_view"
LESSON_START = "lesson_start"
LESSON_COMPLETE = "lesson_complete"
FUNNEL_VIEW = "funnel_view"
CHECKOUT_START = "checkout_start"
PURCHASE = "purchase"


def event_filter(
    account_id: str,
    start_utc: datetime | None = None,
    end_utc: datetime | None = None,
    kinds: Sequence[str] | None = None,
    *,
    table: Any = activity_events,
) -> ColumnElement[bool]:
    """``WHERE`` clause for one account's events in ``[start_utc, end_utc)`` of the given kinds (None = all)."""
    clauses: list[ColumnElement[bool]] = [table.c.account_id == account_id]
    if start_utc is not None:
        clauses.append(table.c.occurred_at >= start_utc)
    if end_utc is not None:
        clauses.append(table.c.occurred_at < end_utc)
    if kinds is not None:
        kinds = list(kinds)
        clauses.append(table.c.kind == kinds[0] if len(kinds) == 1 else table.c.kind.in_(kinds))
    return sa.and_(*clauses)
