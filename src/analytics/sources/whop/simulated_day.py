"""One simulated day of one creator account, as Whop would live it (see :mod:`analytics.sources.whop.simulator`).

Each change is written to the source store inside the day's transaction and recorded as the v1 webhook envelope
Whop would send for it, rendered with the same shapes the fake API serves.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from analytics.sources.whop.fake_data import LISTINGS
from analytics.sources.whop.shapes import iso
from analytics.sources.whop.shapes.content import render_interaction_event, render_message_event
from analytics.sources.whop.shapes.payments import render_refund_legacy
from analytics.sources.whop.status_history import append_status_changes, status_change
from analytics.store import schema as s

__all__ = ["API_VERSION_DATE", "AdvanceResult", "SimulatedDay"]

API_VERSION_DATE = "2026-10-15-1"
OPEN = ("active", "trialing", "past_due")


@dataclass
class AdvanceResult:
    """What one :meth:`Simulator.advance` did."""

    start: datetime
    end: datetime
    changes: Counter[str] = field(default_factory=Counter)
    events: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "changes": dict(self.changes),
            "events": len(self.events),
            "delivered": self.delivered,
            "failed": self.failed,
        }


class SimulatedDay:
    """One simulated day of one account (inside the day's transaction)."""

    def __init__(
        self, conn: sa.Connection, account_id: str, t: datetime, rng: random.Random, result: AdvanceResult
    ) -> None:
        self.conn, self.account_id, self.t, self.rng, self.result = conn, account_id, t, rng, result

    def run(self) -> None:
        self._period_ends()
        self._cancellations()
        self._signups()
        if self.rng.random() < 0.3:
            self._refund()
        self._message()
        self._completion()

    # --- helpers -------------------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return prefix + "".join(self.rng.choices(string.ascii_letters + string.digits, k=14))

    def _row(self, resource: str, item_id: str) -> dict[str, Any]:
        listing = LISTINGS[resource]
        stmt = listing.select().where(listing.table.c.account_id == self.account_id, listing.table.c.id == item_id)
        return dict(self.conn.execute(stmt).mappings().one())

    def _emit(self, type_: str, data: dict[str, Any]) -> None:
        self.result.events.append(
            {
                "id": self._id("msg_"),
                "api_version": "v1",
                "api_version_date": API_VERSION_DATE,
                "type": type_,
                "timestamp": iso(self.t),
                "account_id": self.account_id,
                "data": data,
            }
        )

    def _emit_row(self, type_: str, resource: str, item_id: str) -> None:
        row = self._row(resource, item_id)
        data = LISTINGS[resource].shape.render(row)
        if resource == "memberships":
            data["affiliate"] = None  # "always null in webhooks" (Membership.affiliate)
        self._emit(type_, data)

    def _update_membership(self, before: dict[str, Any], event: str, **values: Any) -> None:
        m = s.memberships
        values["updated_at"] = self.t
        self.conn.execute(
            sa.update(m).where(m.c.account_id == self.account_id, m.c.id == before["id"]).values(**values)
        )
        after = {**before, **values}
        append_status_changes(self.conn, [status_change(before, after, source="demo", at=self.t)])
        self._emit_row(event, "memberships", before["id"])

    def _charge(self, membership: dict[str, Any], reason: str, *, ok: bool) -> str:
        total = int(membership["renewal_price_minor"] or membership["initial_price_minor"] or 0)
        if reason == "subscription_create":
            total = int(membership["initial_price_minor"] or total)
        currency = membership["currency"] or "usd"
        pay_id = self._id("pay_")
        fee = round(total * 0.03) + (30 if total else 0)
        self.conn.execute(
            s.payments.insert().values(
                account_id=self.account_id,
                id=pay_id,
                member_id=membership["member_id"],
                membership_id=membership["id"],
                user_id=membership["user_id"],
                product_id=membership["product_id"],
                plan_id=membership["plan_id"],
                promo_code_id=membership.get("promo_code_id"),
                status="paid" if ok else "open",
                substatus="succeeded" if ok else "failed",
                billing_reason=reason,
                currency=currency,
                subtotal_minor=total,
                total_minor=total,
                tax_minor=0,
                amount_after_fees_minor=max(total - fee, 0),
                usd_total_minor=total if currency == "usd" else None,
                refunded_amount_minor=0,
                paid_at=self.t if ok else None,
                payments_failed=0 if ok else 1,
                failure_message=None if ok else "Your card has insufficient funds.",
                decline_code=None if ok else "insufficient_funds",
                last_payment_attempt_at=self.t,
                next_payment_attempt_at=None if ok else self.t + timedelta(days=3),
                created_at=self.t,
                updated_at=self.t,
            )
        )
        if ok and currency == "usd":
            mem = s.members
            self.conn.execute(
                sa.update(mem)
                .where(mem.c.account_id == self.account_id, mem.c.id == membership["member_id"])
                .values(
                    usd_total_spent_minor=sa.func.coalesce(mem.c.usd_total_spent_minor, 0) + total, updated_at=self.t
                )
            )
        self._emit_row("payment.succeeded" if ok else "payment.failed", "payments", pay_id)
        return pay_id

    # --- the day's events ----------------------------------------------------------------------------------

    def _period_ends(self) -> None:
        m = s.memberships
        due = (
            self.conn.execute(
                sa.select(m)
                .where(m.c.account_id == self.account_id, m.c.status.in_(OPEN), m.c.current_period_end <= self.t)
                .order_by(m.c.id)
            )
            .mappings()
            .all()
        )
        for row in map(dict, due):
            period = timedelta(days=row["billing_period_days"] or 30)
            if row["cancel_at_period_end"]:
                self._update_membership(row, "membership.deactivated", status="canceled")
                self._member_left(row["member_id"])
                self.result.changes["cancellations_effective"] += 1
            elif row["status"] == "past_due":
                self._update_membership(row, "membership.deactivated", status="canceled", canceled_at=self.t)
                self._member_left(row["member_id"])
                self.result.changes["dunning_cancellations"] += 1
            else:
                ok = self.rng.random() < 0.93
                self._charge(row, "subscription_cycle", ok=ok)
                values: dict[str, Any] = {"current_period_start": row["current_period_end"]}
                if ok:
                    values.update(status="active", current_period_end=row["current_period_end"] + period)
                else:
                    values.update(status="past_due", current_period_end=self.t + timedelta(days=3))
                self._update_membership(row, "membership.updated", **values)
                self.result.changes["renewals" if ok else "failed_payments"] += 1

    def _member_left(self, member_id: str) -> None:
        m, mem = s.memberships, s.members
        still = self.conn.execute(
            sa.select(sa.func.count()).where(
                m.c.account_id == self.account_id, m.c.member_id == member_id, m.c.status.in_(OPEN)
            )
        ).scalar_one()
        if still:
            return
        self.conn.execute(
            sa.update(mem)
            .where(mem.c.account_id == self.account_id, mem.c.id == member_id)
            .values(
                status="left",
                access_level="no_access",
                most_recent_action="churned",
                most_recent_action_at=self.t,
                updated_at=self.t,
            )
        )
        self._emit_row("member.updated", "members", member_id)

    def _cancellations(self) -> None:
        m = s.memberships
        active = (
            self.conn.execute(
                sa.select(m)
                .where(m.c.account_id == self.account_id, m.c.status == "active", m.c.cancel_at_period_end.is_(False))
                .order_by(m.c.id)
            )
            .mappings()
            .all()
        )
        count = int(len(active) * 0.01 + self.rng.random())
        for row in self.rng.sample([dict(r) for r in active], min(count, len(active))):
            option = self.rng.choice(["too_expensive", "unused", "switching", "missing_features", "other"])
            self._update_membership(
                row, "membership.updated", cancel_at_period_end=True, canceled_at=self.t, cancel_option=option
            )
            self.result.changes["cancellations_requested"] += 1

    def _signups(self) -> None:
        m, plans = s.memberships, s.plans
        candidates = (
            self.conn.execute(sa.select(plans).where(plans.c.account_id == self.account_id).order_by(plans.c.id))
            .mappings()
            .all()
        )
        if not candidates:
            return
        active = self.conn.execute(
            sa.select(sa.func.count()).where(m.c.account_id == self.account_id, m.c.status.in_(OPEN))
        ).scalar_one()
        for _ in range(int(max(1.0, active * 0.012) * self.rng.uniform(0.5, 1.5))):
            self._signup(dict(self.rng.choice(candidates)))

    def _signup(self, plan: dict[str, Any]) -> None:
        user_id, member_id, membership_id = self._id("user_"), self._id("mber_"), self._id("mem_")
        first = self.rng.choice(["Ana", "Ben", "Chen", "Dara", "Eli", "Femi", "Gia"])
        name = f"{first} {self.rng.choice('ABCDEFGHJKLMNPRS')}."
        username = name.lower().replace(" ", "").replace(".", "") + str(self.rng.randint(10, 9999))
        self.conn.execute(
            s.members.insert().values(
                account_id=self.account_id,
                id=member_id,
                user_id=user_id,
                email=f"{username}@example.com",
                username=username,
                display_name=name,
                status="joined",
                access_level="customer",
                most_recent_action="joined",
                most_recent_action_at=self.t,
                joined_at=self.t,
                last_accessed_at=self.t,
                usd_total_spent_minor=0,
                created_at=self.t,
                updated_at=self.t,
            )
        )
        self._emit_row("member.created", "members", member_id)
        renewal = plan["plan_type"] == "renewal"
        trial = renewal and bool(plan.get("trial_period_days"))
        period = timedelta(days=(plan["trial_period_days"] if trial else plan["billing_period_days"]) or 30)
        row = {
            "account_id": self.account_id,
            "id": membership_id,
            "member_id": member_id,
            "user_id": user_id,
            "product_id": plan["product_id"],
            "plan_id": plan["id"],
            "status": "trialing" if trial else ("active" if renewal else "completed"),
            "currency": plan["currency"],
            "initial_price_minor": plan["initial_price_minor"],
            "renewal_price_minor": plan["renewal_price_minor"] if renewal else None,
            "billing_period_days": plan["billing_period_days"] if renewal else None,
            "current_period_start": self.t if renewal else None,
            "current_period_end": self.t + period if renewal else None,
            "cancel_at_period_end": False,
            "trial_ends_at": self.t + period if trial else None,
            "created_at": self.t,
            "updated_at": self.t,
        }
        self.conn.execute(s.memberships.insert().values(**row))
        append_status_changes(self.conn, [status_change(None, row, source="demo")])
        self._emit_row("membership.activated", "memberships", membership_id)
        if not trial:
            self._charge(row, "subscription_create" if renewal else "one_time", ok=True)
        self.result.changes["signups"] += 1

    def _refund(self) -> None:
        p = s.payments
        recent = (
            self.conn.execute(
                sa.select(p)
                .where(
                    p.c.account_id == self.account_id,
                    p.c.status == "paid",
                    p.c.refunded_amount_minor == 0,
                    p.c.total_minor > 0,
                    p.c.created_at >= self.t - timedelta(days=14),
                )
                .order_by(p.c.id)
            )
            .mappings()
            .all()
        )
        if not recent:
            return
        payment = dict(self.rng.choice(recent))
        refund = {
            "account_id": self.account_id,
            "id": self._id("rf_"),
            "payment_id": payment["id"],
            "currency": payment["currency"],
            "amount_minor": payment["total_minor"],
            "status": "succeeded",
            "reason": "requested_by_customer",
            "provider": "stripe",
            "created_at": self.t,
            "updated_at": self.t,
        }
        self.conn.execute(s.refunds.insert().values(**refund))
        self.conn.execute(
            sa.update(p)
            .where(p.c.account_id == self.account_id, p.c.id == payment["id"])
            .values(
                refunded_amount_minor=payment["total_minor"],
                refunded_at=self.t,
                substatus="refunded",
                updated_at=self.t,
            )
        )
        self._emit("refund.created", render_refund_legacy(refund, payment))
        self.result.changes["refunds"] += 1

    def _message(self) -> None:
        channels = (
            self.conn.execute(
                sa.select(s.chat_channels)
                .where(s.chat_channels.c.account_id == self.account_id)
                .order_by(s.chat_channels.c.id)
            )
            .mappings()
            .all()
        )
        mem = s.members
        authors = (
            self.conn.execute(
                sa.select(mem.c.id)
                .where(mem.c.account_id == self.account_id, mem.c.status == "joined", mem.c.user_id.is_not(None))
                .order_by(mem.c.id)
            )
            .scalars()
            .all()
        )
        if not channels or not authors:
            return
        for _ in range(self.rng.randint(0, 2)):
            channel = self.rng.choice(channels)
            event_id = self._id("msg_")
            self.conn.execute(
                s.activity_events.insert().values(
                    account_id=self.account_id,
                    id=event_id,
                    member_id=self.rng.choice(authors),
                    kind="message",
                    occurred_at=self.t,
                    product_id=channel["product_id"],
                    object_id=channel["id"],
                    channel="whop_chat",
                    properties={"content": self.rng.choice(["gm", "thanks!", "great lesson", "anyone around?"])},
                )
            )
            self._emit("chat.message.created", render_message_event(self._row("messages", event_id)))
            self.result.changes["messages"] += 1

    def _completion(self) -> None:
        li = s.lesson_interactions
        pending = (
            self.conn.execute(
                sa.select(li.c.id)
                .where(li.c.account_id == self.account_id, li.c.completed.is_(False))
                .order_by(li.c.id)
            )
            .scalars()
            .all()
        )
        if not pending or self.rng.random() < 0.5:
            return
        item_id = self.rng.choice(pending)
        self.conn.execute(
            sa.update(li)
            .where(li.c.account_id == self.account_id, li.c.id == item_id)
            .values(completed=True, completed_at=self.t, updated_at=self.t)
        )
        row = self._row("course_lesson_interactions", item_id)
        self._emit("course_lesson_interaction.completed", render_interaction_event(row))
        self.result.changes["lesson_completions"] += 1
