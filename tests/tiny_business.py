"""Build tiny, hand-checkable businesses in a store: an account, members, events, lessons, posts, messages.

Every timestamp is explicit (``at("2025-03-01 09:00")`` is UTC) so a test's comments can derive each number.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store.schema import (
    accounts,
    activity_events,
    courses,
    lesson_interactions,
    lessons,
    members,
    membership_status_changes,
    memberships,
    posts,
    wa_campaigns,
    wa_contacts,
    wa_messages,
)


def at(text: str) -> datetime:
    """A UTC instant from ``YYYY-MM-DD[ HH:MM[:SS]]``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def status_change_rows(
    membership_id: str, member_id: str, changes: Sequence[Mapping[str, Any]], **common: Any
) -> list[dict[str, Any]]:
    """The ``membership_status_changes`` rows of one membership: ``changes`` hold each row's own values
    (``changed_at``, ``status``, …), ``common`` those of every row; ids ``msc_<membership>_<NN>`` in order and
    ``previous_status`` chained, as :mod:`analytics.store.history` writes them."""
    rows, previous = [], None
    for n, change in enumerate(changes, start=1):
        ids = {"id": f"msc_{membership_id}_{n:02d}", "membership_id": membership_id, "member_id": member_id}
        rows.append({**ids, "previous_status": previous, "source": "import", **common, **change})
        previous = change["status"]
    return rows


@dataclass
class Business:
    """Rows of one account, written with :meth:`save` (or as they are added, once saved)."""

    engine: Engine
    account_id: str = "biz_1"
    time_zone: str = "UTC"
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _add(self, table: sa.Table, **values: Any) -> str:
        values.setdefault("id", f"{table.name[:3]}_{next(self._ids)}")
        values["account_id"] = self.account_id
        self.rows.setdefault(table.name, []).append(values)
        return str(values["id"])

    def member(self, member_id: str, joined: str | None, **values: Any) -> str:
        joined_at = at(joined) if joined else None
        values.setdefault("status", "joined")
        values.setdefault("username", member_id)
        return self._add(members, id=member_id, joined_at=joined_at, created_at=joined_at, **values)

    def membership(self, member_id: str, *changes: tuple[str, str], price: int = 1000, period: int | None = 30) -> str:
        """A membership of ``member_id`` and its status history: each change is ``(when, status)``.

        ``("2025-01-01", "active"), ("2025-02-10", "canceled")`` gives access from 1 January until 10 February
        (the engagement metrics' current members are those with a membership giving access at ``as_of``).
        """
        membership_id = f"mem_{member_id}_{next(self._ids)}"
        first, last = changes[0], changes[-1]
        self._add(
            memberships,
            id=membership_id,
            member_id=member_id,
            product_id="prod_1",
            plan_id="plan_1",
            status=last[1],
            renewal_price_minor=price,
            billing_period_days=period,
            created_at=at(first[0]),
        )
        states = [{"changed_at": at(when), "status": status} for when, status in changes]
        common = {"plan_id": "plan_1", "renewal_price_minor": price, "billing_period_days": period}
        for row in status_change_rows(membership_id, member_id, states, **common):
            self._add(membership_status_changes, **row)
        return membership_id

    def event(self, member_id: str, kind: str, when: str, **values: Any) -> str:
        return self._add(activity_events, member_id=member_id, kind=kind, occurred_at=at(when), **values)

    def course(self, course_id: str, lesson_ids: list[str], title: str = "Course") -> None:
        self._add(courses, id=course_id, title=title, total_lessons_count=len(lesson_ids))
        for position, lesson_id in enumerate(lesson_ids, start=1):
            self._add(lessons, id=lesson_id, course_id=course_id, title=lesson_id, position=position)

    def lesson_progress(
        self, member_id: str, lesson_id: str, course_id: str, started: str, completed: str | None
    ) -> str:
        return self._add(
            lesson_interactions,
            member_id=member_id,
            lesson_id=lesson_id,
            course_id=course_id,
            created_at=at(started),
            completed=completed is not None,
            completed_at=at(completed) if completed else None,
        )

    def post(self, post_id: str, member_id: str, when: str, parent_id: str | None = None, **values: Any) -> str:
        return self._add(posts, id=post_id, member_id=member_id, parent_id=parent_id, created_at=at(when), **values)

    def campaign(self, campaign_id: str, name: str, phone_number_id: str = "pn_1") -> str:
        return self._add(wa_campaigns, id=campaign_id, name=name, phone_number_id=phone_number_id)

    def contact(self, contact_id: str, member_id: str | None = None) -> str:
        return self._add(wa_contacts, id=contact_id, wa_id=contact_id.removeprefix("c"), member_id=member_id)

    def message(self, contact_id: str, direction: str, status: str, sent: str, **values: Any) -> str:
        values.setdefault("phone_number_id", "pn_1")
        return self._add(
            wa_messages, contact_id=contact_id, direction=direction, status=status, sent_at=at(sent), **values
        )

    def save(self) -> Business:
        """Write the account (if new) and every pending row in one transaction."""
        order = [members, memberships, membership_status_changes, activity_events, courses, lessons]
        order += [lesson_interactions, posts]
        order += [wa_contacts, wa_campaigns, wa_messages]
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(accounts.c.id).where(accounts.c.id == self.account_id)).first()
            if exists is None:
                conn.execute(accounts.insert().values(id=self.account_id, title="Tiny", time_zone=self.time_zone))
            for table in order:
                batch = self.rows.pop(table.name, [])
                for group in _by_columns(batch):
                    conn.execute(table.insert(), group)
        return self


def _by_columns(batch: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows grouped by their column set, so columns a row leaves out get their server defaults."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in batch:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())
