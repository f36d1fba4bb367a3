"""A tiny business builder for churn tests: members, status changes, events, payments and lessons as plain rows."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from analytics.store import schema as s
from analytics.store import upsert_rows

ACCOUNT = "biz_test"
_IDS = itertools.count(1)  # row ids unique across Business objects, so later batches never overwrite rows


def at(day: str, hour: int = 12) -> datetime:
    """An aware UTC instant on ``day`` (ISO date) at ``hour``:00."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


class Business:
    """Collects rows per table; :meth:`save` upserts them into a store."""

    def __init__(self, account_id: str = ACCOUNT) -> None:
        self.account_id = account_id
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._statuses: dict[str, str] = {}

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(_IDS)}"

    def _add(self, table: str, **row: Any) -> dict[str, Any]:
        row.setdefault("id", self._id(table[:3]))
        row["account_id"] = self.account_id
        self.rows[table].append(row)
        return row

    def member(self, member_id: str, joined: datetime) -> None:
        self._add("members", id=member_id, status="joined", joined_at=joined, created_at=joined)

    def change(
        self,
        member_id: str,
        membership_id: str,
        when: datetime,
        status: str,
        *,
        price: int = 3000,
        period: int | None = 30,
        cancel: bool = False,
    ) -> None:
        """A membership enters ``status`` at ``when`` (the first change also creates the membership row)."""
        if not any(m["id"] == membership_id for m in self.rows["memberships"]):
            self._add(
                "memberships",
                id=membership_id,
                member_id=member_id,
                product_id="prod_1",
                plan_id="plan_1",
                status=status,
                created_at=when,
                renewal_price_minor=price,
                billing_period_days=period,
            )
        self._add(
            "membership_status_changes",
            membership_id=membership_id,
            member_id=member_id,
            changed_at=when,
            status=status,
            previous_status=self._statuses.get(membership_id),
            renewal_price_minor=price,
            billing_period_days=period,
            cancel_at_period_end=cancel,
            currency="usd",
        )
        self._statuses[membership_id] = status

    def events(
        self, member_id: str, kind: str, first: datetime, last: datetime, every_days: float, **props: Any
    ) -> None:
        """Events of one kind from ``first`` to ``last`` inclusive, every ``every_days``."""
        when = first
        while when <= last:
            self.event(member_id, kind, when, **props)
            when += timedelta(days=every_days)

    def event(self, member_id: str, kind: str, when: datetime, **props: Any) -> None:
        self._add("activity_events", member_id=member_id, kind=kind, occurred_at=when, properties=props or None)

    def payment(
        self,
        member_id: str,
        created: datetime,
        *,
        paid: datetime | None = None,
        failed: int = 0,
        status: str | None = None,
        refunded: datetime | None = None,
        promo: str | None = None,
        total: int = 3000,
    ) -> dict[str, Any]:
        return self._add(
            "payments",
            member_id=member_id,
            status=status or ("paid" if paid else "open"),
            substatus="failed" if failed and not paid else None,
            currency="usd",
            total_minor=total,
            paid_at=paid,
            payments_failed=failed,
            refunded_at=refunded,
            refunded_amount_minor=total if refunded else 0,
            promo_code_id=promo,
            created_at=created,
        )

    def lesson_done(self, member_id: str, lesson_id: str, started: datetime, completed: datetime | None) -> None:
        self._add(
            "lesson_interactions",
            lesson_id=lesson_id,
            course_id="course_1",
            member_id=member_id,
            completed=completed is not None,
            created_at=started,
            completed_at=completed,
        )

    def course(self, n_lessons: int) -> None:
        self._add("courses", id="course_1", title="Course", total_lessons_count=n_lessons)
        for i in range(1, n_lessons + 1):
            self._add("lessons", id=f"lesson_{i}", course_id="course_1", title=f"Lesson {i}", position=i)

    def save(self, engine: sa.Engine) -> None:
        order = [t.name for t in s.metadata.sorted_tables]
        with engine.begin() as conn:
            upsert_rows(conn, s.accounts, [{"id": self.account_id, "title": "Test business"}])
            for name in sorted(self.rows, key=order.index):
                table = s.metadata.tables[name]
                rows = self.rows[name]
                columns = sorted({c for r in rows for c in r})
                upsert_rows(conn, table, [{c: r.get(c) for c in columns} for r in rows])
        self.rows.clear()
