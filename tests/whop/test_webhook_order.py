"""Order independence: whatever order a record's webhook deliveries arrive in, the store ends in the same state.

For every entity the webhook path writes — memberships, members, payments, refunds, lesson completions and chat
messages (v1), and legacy v5 membership and payment updates — Hypothesis draws two to five deliveries of one
record, each with its own delivery timestamp. ``updated_at`` values and member timestamps are drawn from two
instants, so ties are the rule, not the exception. The deliveries are applied in delivery order to one fresh
account and in a drawn order to another, and the two stored records must be equal (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from analytics.sources.whop.delivery_order import STATUS_ORDER
from analytics.sources.whop.shapes import iso
from analytics.sources.whop.shapes.content import render_interaction_event, render_message_event
from analytics.sources.whop.shapes.memberships import render_member, render_membership
from analytics.sources.whop.shapes.payments import render_payment, render_refund_legacy
from analytics.sources.whop.webhook_events import apply_delivery
from analytics.store import schema as s
from analytics.store.enums import ENUMS
from analytics.store.upsert import upsert_rows
from store_fixtures import fresh_account_id, module_store


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One store per module; every example writes to two fresh accounts."""
    yield from module_store(request.param, tmp_path_factory)


T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
VERSIONS = st.sampled_from([T0, T0 + timedelta(hours=1)])
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

State = dict[str, Any]
Delivery = tuple[State, datetime]  # a record's state as one delivery describes it, and the delivery's timestamp


@st.composite
def deliveries(draw: st.DrawFn, states: st.SearchStrategy[State]) -> tuple[list[Delivery], list[Delivery]]:
    """Two to five deliveries of one record in delivery order, and the same deliveries in a drawn arrival order."""
    drawn = draw(st.lists(states, min_size=2, max_size=5))
    minutes = sorted(draw(st.lists(st.integers(0, 600), min_size=len(drawn), max_size=len(drawn), unique=True)))
    in_order = [(state, T0 + timedelta(minutes=m)) for state, m in zip(drawn, minutes, strict=True)]
    return in_order, draw(st.permutations(in_order))


def _account(engine: Engine, *rows: tuple[sa.Table, dict[str, Any]]) -> str:
    """A fresh account holding ``rows`` (what the sync stored before the deliveries)."""
    account = fresh_account_id()
    with engine.begin() as conn:
        upsert_rows(conn, s.accounts, [{"id": account, "title": account}])
        upsert_rows(conn, s.members, [_member_row(account, {"status": "joined"})])
        for table, row in rows:
            upsert_rows(conn, table, [{**row, "account_id": account}])
    return account


def _deliver_v1(engine: Engine, account: str, event: str, data: dict[str, Any], at: datetime) -> None:
    envelope = {"id": "msg", "api_version": "v1", "type": event, "timestamp": iso(at), "account_id": account}
    with engine.begin() as conn:
        apply_delivery(conn, "whop", json.dumps({**envelope, "data": data}), signed_at=None)


def _deliver_v5(engine: Engine, account: str, event: str, data: dict[str, Any], at: datetime) -> None:
    body = {"action": event, "api_version": "v5", "company_id": account, "data": data}
    with engine.begin() as conn:
        apply_delivery(conn, "whop_v5", json.dumps(body), signed_at=at)


def _stored(engine: Engine, table: sa.Table, account: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).where(table.c.account_id == account).order_by(table.c.id)).mappings()
        return [{k: v for k, v in row.items() if k != "account_id"} for row in rows]


def _without(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in columns}


Send = Callable[[Engine, str, State, datetime], None]


def _same_end_state(
    engine: Engine,
    table: sa.Table,
    send: Send,
    drawn: tuple[list[Delivery], list[Delivery]],
    *,
    stored_first: dict[str, Any] | None = None,
    unordered: tuple[str, ...] = (),
) -> tuple[str, str]:
    """Apply the deliveries in delivery order and in the drawn order to two accounts; their records must match
    (but for the ``unordered`` columns)."""
    in_order, arrived = drawn
    accounts = []
    for order in (in_order, arrived):
        account = _account(engine, *([(table, stored_first)] if stored_first else []))
        for state, at in order:
            send(engine, account, state, at)
        accounts.append(account)
    expected, got = ([_without(row, unordered) for row in _stored(engine, table, account)] for account in accounts)
    assert len(expected) == 1
    assert got == expected
    return accounts[0], accounts[1]


def test_every_status_has_a_place_in_the_status_order() -> None:
    for table, order in STATUS_ORDER.items():
        assert sorted(order) == sorted(ENUMS[(table, "status")]) and len(set(order)) == len(order)


# --- memberships ------------------------------------------------------------------------------------------

MEMBERSHIP_STATES = st.fixed_dictionaries(
    {
        "status": st.sampled_from(sorted(ENUMS[("memberships", "status")])),
        "updated_at": VERSIONS,
        "plan_id": st.sampled_from(["plan_month", "plan_year"]),
        "renewal_price_minor": st.sampled_from([1500, 2000]),
        "cancel_at_period_end": st.booleans(),
        "current_period_end": st.sampled_from([None, T0 + timedelta(days=30)]),
        "canceled_at": st.sampled_from([None, T0]),
    }
)


def _membership_row(account: str, state: State) -> dict[str, Any]:
    return {
        "account_id": account,
        "id": "mem_p",
        "member_id": "mber_p",
        "user_id": "user_p",
        "product_id": "prod_p",
        "currency": "usd",
        "initial_price_minor": 2000,
        "billing_period_days": 30,
        "created_at": T0 - timedelta(days=60),
        "trial_ends_at": T0 + timedelta(days=7) if state["status"] == "trialing" else None,
        **state,
    }


def _send_membership(engine: Engine, account: str, state: State, at: datetime) -> None:
    event = "membership.activated" if state["status"] in ("active", "trialing") else "membership.deactivated"
    _deliver_v1(engine, account, event, render_membership(_membership_row(account, state)), at)


@SETTINGS
@given(drawn=deliveries(MEMBERSHIP_STATES))
def test_memberships(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    # The trial end is on the wire only while trialing (most_recent_action_at): a trialing delivery that arrives
    # after a newer one is stale and cannot set it, so it is the one column that depends on arrival order.
    accounts = _same_end_state(engine, s.memberships, _send_membership, drawn, unordered=("trial_ends_at",))
    for account in accounts:
        # the history's last state is the stored state, whichever deliveries it saw
        (row,) = _stored(engine, s.memberships, account)
        history = _stored(engine, s.membership_status_changes, account)
        assert (history[-1]["status"], history[-1]["plan_id"], history[-1]["cancel_at_period_end"]) == (
            row["status"],
            row["plan_id"],
            row["cancel_at_period_end"],
        )


# --- members ----------------------------------------------------------------------------------------------

MEMBER_STATES = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["joined", "left"]),
        "most_recent_action": st.sampled_from([None, "joined", "left", "churned"]),
        "most_recent_action_at": st.sampled_from([None, T0, T0 + timedelta(hours=1)]),
        "last_accessed_at": st.sampled_from([None, T0]),
        "access_level": st.sampled_from(["customer", "no_access"]),
        "usd_total_spent_minor": st.sampled_from([0, 2000]),
    }
)


def _member_row(account: str, state: State) -> dict[str, Any]:
    created = T0 - timedelta(days=30)
    return {
        "account_id": account,
        "id": "mber_p",
        "user_id": "user_p",
        "username": "pat",
        "display_name": "Pat",
        "email": "pat@example.com",
        "created_at": created,
        "joined_at": created,
        "updated_at": created,
        **state,
    }


def _send_member(engine: Engine, account: str, state: State, at: datetime) -> None:
    _deliver_v1(engine, account, "member.updated", render_member(_member_row(account, state)), at)


@SETTINGS
@given(drawn=deliveries(MEMBER_STATES))
def test_members(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    _same_end_state(engine, s.members, _send_member, drawn)


# --- payments and refunds ---------------------------------------------------------------------------------

PAYMENT_STATES = st.fixed_dictionaries(
    {
        "status": st.sampled_from(sorted(ENUMS[("payments", "status")])),
        "updated_at": VERSIONS,
        "refunded_amount_minor": st.sampled_from([0, 500]),
        "paid_at": st.sampled_from([None, T0]),
        "payments_failed": st.sampled_from([0, 1]),
    }
)
PAYMENT_BASE = {
    "id": "pay_p",
    "member_id": "mber_p",
    "membership_id": "mem_p",
    "user_id": "user_p",
    "plan_id": "plan_month",
    "product_id": "prod_p",
    "currency": "usd",
    "subtotal_minor": 2000,
    "total_minor": 2000,
    "billing_reason": "subscription_cycle",
    "created_at": T0 - timedelta(days=1),
}


def _send_payment(engine: Engine, account: str, state: State, at: datetime) -> None:
    _deliver_v1(
        engine, account, "payment.succeeded", render_payment({**PAYMENT_BASE, "account_id": account, **state}), at
    )


@SETTINGS
@given(drawn=deliveries(PAYMENT_STATES))
def test_payments(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    _same_end_state(engine, s.payments, _send_payment, drawn)


REFUND_STATES = st.fixed_dictionaries(
    {"status": st.sampled_from(sorted(ENUMS[("refunds", "status")])), "amount_minor": st.sampled_from([500, 2000])}
)


def _send_refund(engine: Engine, account: str, state: State, at: datetime) -> None:
    row = {"id": "rf_p", "payment_id": "pay_p", "currency": "usd", "created_at": T0 - timedelta(hours=1), **state}
    _deliver_v1(engine, account, "refund.updated", render_refund_legacy(row), at)


@SETTINGS
@given(drawn=deliveries(REFUND_STATES))
def test_refunds(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    _same_end_state(engine, s.refunds, _send_refund, drawn)


# --- content: lesson completions and chat messages --------------------------------------------------------


def _send_completion(engine: Engine, account: str, state: State, at: datetime) -> None:
    row = {"id": "crsli_p", "lesson_id": "lesn_p", "course_id": "cors_p", "created_at": T0 - timedelta(days=1)}
    _deliver_v1(engine, account, "course_lesson_interaction.completed", render_interaction_event({**row, **state}), at)


@SETTINGS
@given(drawn=deliveries(st.fixed_dictionaries({"completed": st.just(True), "_user_id": st.just("user_p")})))
def test_lesson_completions(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    _same_end_state(engine, s.lesson_interactions, _send_completion, drawn)


def _send_message(engine: Engine, account: str, state: State, at: datetime) -> None:
    row = {"id": "msg_p", "object_id": "chan_p", "occurred_at": T0, "_user_id": "user_p", **state}
    _deliver_v1(engine, account, "chat.message.created", render_message_event(row), at)


@SETTINGS
@given(drawn=deliveries(st.fixed_dictionaries({"properties": st.sampled_from([{"content": "gm"}, {"content": "hi"}])})))
def test_chat_messages(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    _same_end_state(engine, s.activity_events, _send_message, drawn)


# --- legacy v5: partial updates of a record the sync stored ---------------------------------------------------

V5_MEMBERSHIP_STATES = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["membership.went_valid", "membership.went_invalid", "membership.updated"]),
        "status": st.sampled_from(sorted(ENUMS[("memberships", "status")])),
        "cancel_at_period_end": st.booleans(),
        "renewal_period_end": st.sampled_from([int((T0 + timedelta(days=d)).timestamp()) for d in (30, 60)]),
    }
)


def _send_v5_membership(engine: Engine, account: str, state: State, at: datetime) -> None:
    data = {"id": "mem_p", **{k: v for k, v in state.items() if k != "action"}}
    _deliver_v5(engine, account, state["action"], data, at)


@SETTINGS
@given(drawn=deliveries(V5_MEMBERSHIP_STATES))
def test_legacy_v5_memberships(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    synced = _membership_row("", {"status": "active", "updated_at": T0 - timedelta(days=1), "plan_id": "plan_month"})
    _same_end_state(engine, s.memberships, _send_v5_membership, drawn, stored_first=synced)


V5_PAYMENT_STATES = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["payment.succeeded", "payment.failed", "payment.pending"]),
        "final_amount": st.sampled_from([20.0, 25.0]),
    }
)


def _send_v5_payment(engine: Engine, account: str, state: State, at: datetime) -> None:
    paid = int(T0.timestamp())  # the receipt's own paid time: the same in every delivery that describes it
    data = {"id": "pay_p", "currency": "usd", "final_amount": state["final_amount"], "paid_at": paid}
    _deliver_v5(engine, account, state["action"], data, at)


@SETTINGS
@given(drawn=deliveries(V5_PAYMENT_STATES))
def test_legacy_v5_payments(engine: Engine, drawn: tuple[list[Delivery], list[Delivery]]) -> None:
    synced = {**PAYMENT_BASE, "status": "open", "updated_at": T0 - timedelta(days=1)}
    _same_end_state(engine, s.payments, _send_v5_payment, drawn, stored_first=synced)
