"""What a sync lists for one account, in which order, and how each listing stays incremental.

The v1 API filters by ``created_after`` but has no ``updated_after``, so each resource gets the cheapest way
to see every change the API exposes:

* ``created`` — new items by ``created_after`` (the stored high watermark minus an overlap), oldest first, so
  a cursor stays valid while items arrive; plus an **open-set reconciliation** for resources whose items change
  after creation: the items that can still change are listed by status (``statuses=active&…``,
  ``status=joined``, ``completed=false``), and any stored item that was open but is no longer in that set is
  fetched by id. Members, memberships, payments (and payments whose stored refunds exceed their refunded
  amount) work this way.
* ``newest`` — listings without a date filter (chat messages, forum posts, lesson interactions) are read
  newest first and stop once a page is older than the watermark.
* ``refresh`` — small catalogues (products, variants, promo codes, courses, lessons, chat channels,
  affiliates) are listed in full every time; unchanged rows are not rewritten.

``--full`` lists everything; ``--since`` starts the ``created``/``newest`` listings at a date instead.
Stages: independent resources first, then those needing a parent (lessons of courses, channels of
products), then those whose authors must already be members (messages, posts, interactions, affiliates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from analytics.sources.whop.checkpoints import checkpoint_key
from analytics.sources.whop.shapes import SHAPES, Shape
from analytics.store import schema as s

__all__ = ["OPEN_MEMBERSHIP_STATUSES", "OPEN_PAYMENT_STATUSES", "Task", "stage_one", "stage_three", "stage_two"]

OPEN_MEMBERSHIP_STATUSES = ("trialing", "active", "past_due", "canceling", "unresolved", "drafted")
OPEN_PAYMENT_STATUSES = ("open", "pending", "authorized", "draft")


@dataclass(frozen=True)
class Task:
    """One listing: a resource under an account (and maybe a parent), with its incremental strategy."""

    shape: Shape
    key: str
    mode: str  # created | newest | refresh
    params: dict[str, Any] = field(default_factory=dict)
    parent: dict[str, Any] = field(default_factory=dict)
    open_sets: tuple[dict[str, Any], ...] = ()
    open_local: Callable[[], sa.ColumnElement[bool]] | None = None

    @property
    def label(self) -> str:
        return self.shape.resource


def _task(
    resource: str,
    mode: str,
    account_id: str | None,
    parent_name: str | None = None,
    parent_id: str | None = None,
    **kw: Any,
) -> Task:
    params = {"account_id": account_id} if account_id else {}
    parent = dict(kw.pop("parent", {}))
    if parent_name and parent_id:
        params[parent_name] = parent_id
        parent.setdefault(parent_name, parent_id)
    return Task(SHAPES[resource], checkpoint_key(resource, parent_id), mode, params, parent, **kw)


def stage_one(account_id: str) -> list[Task]:
    """Resources that need nothing else first."""
    m, mem, pay = s.memberships, s.members, s.payments
    return [
        _task("products", "refresh", account_id),
        _task("variants", "refresh", account_id),
        _task("promo_codes", "refresh", account_id),
        _task("courses", "refresh", account_id),
        _task(
            "members",
            "created",
            account_id,
            open_sets=({"status": "joined"},),
            open_local=lambda: mem.c.status == "joined",
        ),
        _task(
            "memberships",
            "created",
            account_id,
            open_sets=({"statuses": list(OPEN_MEMBERSHIP_STATUSES)},),
            open_local=lambda: m.c.status.in_(OPEN_MEMBERSHIP_STATUSES),
        ),
        _task(
            "payments",
            "created",
            account_id,
            open_sets=tuple({"status": st} for st in OPEN_PAYMENT_STATUSES),
            open_local=lambda: pay.c.status.in_(OPEN_PAYMENT_STATUSES),
        ),
        _task("refunds", "created", account_id),
        _task("forums", "refresh", account_id),
    ]


def stage_two(account_id: str, product_ids: list[str]) -> list[Task]:
    """Resources listed under a parent from stage one, and affiliates (whose users must be members)."""
    # Channels are listed per product (the list model has no product; the filter tells it), then all of them:
    # one task runs those listings in turn so no channel is counted twice.
    channels = _task("chat_channels", "refresh", account_id, parent={"product_ids": product_ids})
    return [channels, _task("affiliates", "refresh", account_id)]


def stage_three(course_ids: list[str], channels: list[tuple[str, str | None]], experiences: list[str]) -> list[Task]:
    """Content listed under courses, channels and forums; their authors resolve to members."""
    li = s.lesson_interactions
    tasks: list[Task] = []
    for course_id in course_ids:
        tasks.append(_task("course_lessons", "refresh", None, "course_id", course_id))
        tasks.append(
            _task(
                "course_lesson_interactions",
                "newest",
                None,
                "course_id",
                course_id,
                open_sets=({"completed": "false"},),
                open_local=lambda c=course_id: sa.and_(li.c.course_id == c, li.c.completed.is_(False)),
            )
        )
    for channel_id, product_id in channels:
        tasks.append(_message_task(channel_id, product_id))
    tasks.extend(_task("forum_posts", "newest", None, "experience_id", e) for e in experiences)
    return tasks


def _message_task(channel_id: str, product_id: str | None) -> Task:
    task = _task("messages", "newest", None, "channel_id", channel_id, parent={"product_id": product_id})
    return Task(task.shape, task.key, task.mode, {**task.params, "direction": "desc"}, task.parent)
