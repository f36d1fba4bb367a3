"""Tiny hand-checkable businesses for metric tests: members, membership histories, payments, refunds, disputes.

Every scenario is its own account, so one store per engine holds them all. Times are UTC ISO strings
(``"2024-01-05"`` means midnight UTC); money is in minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from analytics.store.schema import (
    accounts,
    disputes,
    fx_rates,
    members,
    membership_status_changes,
    memberships,
    payments,
    plans,
    products,
    refunds,
)
from tiny_business import status_change_rows


def at(text: str) -> datetime:
    """An aware UTC instant from ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Business:
    """Rows of one account, written with :meth:`load`."""

    account_id: str
    time_zone: str = "UTC"
    currency: str = "usd"
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _seq: int = 0

    def _add(self, table: str, **row: Any) -> dict[str, Any]:
        row.setdefault("account_id", self.account_id)
        self.rows.setdefault(table, []).append(row)
        return row

    def _id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}_{self.account_id}_{self._seq}"

    def member(self, member_id: str, joined: str) -> Business:
        self._add("members", id=member_id, status="joined", joined_at=at(joined), created_at=at(joined))
        return self

    def plan(self, plan_id: str, product_id: str = "prod_1", price: int = 1000, period: int | None = 30) -> Business:
        """A plan (only needed for the ``discounts=list`` policy and product breakdowns)."""
        if not any(p["id"] == product_id for p in self.rows.get("products", [])):
            self._add("products", id=product_id, title=product_id)
        self._add(
            "plans",
            id=plan_id,
            product_id=product_id,
            plan_type="renewal" if period else "one_time",
            currency=self.currency,
            initial_price_minor=price,
            renewal_price_minor=price,
            billing_period_days=period,
        )
        return self

    def history(
        self,
        member_id: str,
        membership_id: str,
        *changes: tuple[Any, ...],
        plan: str = "plan_1",
        product: str = "prod_1",
        period: int | None = 30,
        currency: str | None = None,
    ) -> Business:
        """A membership and its status rows: each change is ``(when, status, price[, cancel_at_period_end])``."""
        cur = currency or self.currency
        first = changes[0]
        self._add(
            "memberships",
            id=membership_id,
            member_id=member_id,
            product_id=product,
            plan_id=plan,
            status=changes[-1][1],
            currency=cur,
            renewal_price_minor=changes[-1][2],
            billing_period_days=period,
            created_at=at(first[0]),
        )
        states = [
            {
                "changed_at": at(change[0]),
                "status": change[1],
                "renewal_price_minor": change[2],
                "cancel_at_period_end": bool(change[3]) if len(change) > 3 else False,
                "plan_id": change[4] if len(change) > 4 else plan,
            }
            for change in changes
        ]
        for row in status_change_rows(membership_id, member_id, states, currency=cur, billing_period_days=period):
            self._add("membership_status_changes", **row)
        return self

    def payment(
        self,
        member_id: str,
        membership_id: str,
        created: str,
        total: int,
        *,
        status: str = "paid",
        paid: str | None = None,
        failed: int = 0,
        substatus: str | None = None,
        currency: str | None = None,
        payment_id: str | None = None,
        plan: str = "plan_1",
        product: str = "prod_1",
    ) -> str:
        pid = payment_id or self._id("pay")
        self._add(
            "payments",
            id=pid,
            member_id=member_id,
            membership_id=membership_id,
            product_id=product,
            plan_id=plan,
            status=status,
            substatus=substatus or ("succeeded" if status == "paid" else "failed"),
            currency=currency or self.currency,
            total_minor=total,
            paid_at=at(paid or created) if status == "paid" else None,
            payments_failed=failed,
            created_at=at(created),
        )
        return pid

    def refund(self, payment_id: str, created: str, amount: int, status: str = "succeeded") -> Business:
        currency = next(p["currency"] for p in self.rows["payments"] if p["id"] == payment_id)
        self._add(
            "refunds",
            id=self._id("rf"),
            payment_id=payment_id,
            currency=currency,
            amount_minor=amount,
            status=status,
            created_at=at(created),
        )
        return self

    def dispute(self, payment_id: str, created: str, amount: int, status: str) -> Business:
        currency = next(p["currency"] for p in self.rows["payments"] if p["id"] == payment_id)
        self._add(
            "disputes",
            id=self._id("dp"),
            payment_id=payment_id,
            currency=currency,
            amount_minor=amount,
            status=status,
            created_at=at(created),
        )
        return self

    def load(self, engine: sa.Engine) -> str:
        """Write the account and its rows; return the account id."""
        order = [
            ("products", products),
            ("plans", plans),
            ("members", members),
            ("memberships", memberships),
            ("membership_status_changes", membership_status_changes),
            ("payments", payments),
            ("refunds", refunds),
            ("disputes", disputes),
        ]
        with engine.begin() as conn:
            conn.execute(
                accounts.insert().values(
                    id=self.account_id,
                    title=self.account_id,
                    time_zone=self.time_zone,
                    reporting_currency=self.currency,
                )
            )
            for name, table in order:
                if self.rows.get(name):
                    conn.execute(table.insert(), self.rows[name])
        return self.account_id


def add_rates(engine: sa.Engine, rates: list[tuple[date, str, str, str]]) -> None:
    """Store ``(rate_date, currency, quote_currency, rate)`` rows once (they are shared by all accounts)."""
    with engine.begin() as conn:
        existing = set(
            conn.execute(sa.select(fx_rates.c.rate_date, fx_rates.c.currency, fx_rates.c.quote_currency)).all()
        )
        new = [r for r in rates if (r[0], r[1], r[2]) not in existing]
        if new:
            conn.execute(
                fx_rates.insert(),
                [{"rate_date": d, "currency": c, "quote_currency": q, "rate": Decimal(r)} for d, c, q, r in new],
            )
