"""The webhook receiver over real HTTP: signatures as Whop sends them, an idempotent inbox, order-proof apply."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from compare import differences
from sqlalchemy.engine import Engine
from whop_business import NOW

from analytics.errors import ConfigError
from analytics.sources.whop.fake_data import LISTINGS
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.serving import RunningServer, serve_in_thread
from analytics.sources.whop.shapes import iso
from analytics.sources.whop.signatures import sign_standard, sign_v5
from analytics.sources.whop.simulator import WebhookTarget
from analytics.sources.whop.sync import sync_whop
from analytics.sources.whop.webhook_events import inbox_report, reprocess
from analytics.sources.whop.webhooks import WEBHOOK_PATH, WebhookReceiver
from analytics.store.schema import membership_status_changes, memberships, refunds, webhook_inbox
from conftest import WEBHOOK_SECRET

Deliver = Callable[..., httpx.Response]


@pytest.fixture
def receiver(engine: Engine) -> Iterator[tuple[WebhookReceiver, RunningServer]]:
    hooks = WebhookReceiver(engine, WEBHOOK_SECRET)
    with serve_in_thread(hooks.app) as server:
        yield hooks, server


@pytest.fixture
def deliver(receiver: tuple[WebhookReceiver, RunningServer]) -> Iterator[Deliver]:
    url = f"{receiver[1].url}{WEBHOOK_PATH}"
    with httpx.Client(timeout=10) as http:

        def send(
            envelope: dict[str, Any],
            *,
            secret: str = WEBHOOK_SECRET,
            signed_at: datetime | None = None,
            headers: dict[str, str] | None = None,
        ) -> httpx.Response:
            body = json.dumps(envelope)
            signed = sign_standard(secret, envelope["id"], body, signed_at or datetime.now(UTC))
            return http.post(url, content=body, headers=headers if headers is not None else signed)

        yield send


def rendered(source: Engine, resource: str, item_id: str, **changes: Any) -> dict[str, Any]:
    listing = LISTINGS[resource]
    with source.connect() as conn:
        row = dict(conn.execute(listing.select().where(listing.table.c.id == item_id)).mappings().one())
    row.update(changes)
    return listing.shape.render(row)


def envelope(type_: str, data: dict[str, Any], msg_id: str, at: datetime = NOW) -> dict[str, Any]:
    return {
        "id": msg_id,
        "api_version": "v1",
        "type": type_,
        "timestamp": iso(at),
        "account_id": "biz_tiny",
        "data": data,
    }


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def stored(engine: Engine, item_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(memberships).where(memberships.c.id == item_id)).mappings().one())


def test_a_valid_delivery_is_stored_then_applied(engine: Engine, source_engine: Engine, deliver: Deliver) -> None:
    response = deliver(envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1"))
    assert response.status_code == 200 and response.json() == {"status": "processed"}
    assert stored(engine, "mem_1")["status"] == "active"
    assert count(engine, webhook_inbox) == 1 and count(engine, membership_status_changes) == 1


@pytest.mark.parametrize(
    "problem",
    ["forged", "stale", "no headers", "some headers", "garbage signature"],
)
def test_missing_forged_or_stale_signatures_get_401_and_nothing_is_stored(
    problem: str, engine: Engine, source_engine: Engine, deliver: Deliver, caplog: pytest.LogCaptureFixture
) -> None:
    event = envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1")
    caplog.set_level(logging.WARNING, logger="analytics.sources.whop.webhooks")
    if problem == "forged":
        response = deliver(event, secret="ws_someone_else")
    elif problem == "stale":
        response = deliver(event, signed_at=datetime.now(UTC) - timedelta(minutes=6))
    elif problem == "no headers":
        response = deliver(event, headers={})
    elif problem == "some headers":
        response = deliver(event, headers={"webhook-id": "msg_1"})
    else:
        response = deliver(
            event,
            headers={
                "webhook-id": "msg_1",
                "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                "webhook-signature": "v1",
            },
        )
    assert response.status_code == 401 and response.json()["error"]["type"] == "unauthorized"
    assert count(engine, webhook_inbox) == 0 and count(engine, memberships) == 0
    assert any("rejected a Whop webhook" in r.getMessage() for r in caplog.records)
    assert WEBHOOK_SECRET not in caplog.text


def test_a_duplicate_delivery_counts_once(engine: Engine, source_engine: Engine, deliver: Deliver) -> None:
    event = envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1")
    assert deliver(event).json() == {"status": "processed"}
    assert deliver(event).json() == {"status": "duplicate"}
    assert count(engine, webhook_inbox) == 1 and count(engine, membership_status_changes) == 1


def test_out_of_order_deliveries_never_move_a_record_back(
    engine: Engine, source_engine: Engine, deliver: Deliver
) -> None:
    later = NOW + timedelta(hours=2)
    canceled = rendered(source_engine, "memberships", "mem_1", status="canceled", canceled_at=later, updated_at=later)
    # The cancellation arrives first, the older activation second (retries and replays do this).
    assert deliver(envelope("membership.deactivated", canceled, "msg_2", later)).json() == {"status": "processed"}
    assert deliver(
        envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1")
    ).json() == {"status": "processed"}
    row = stored(engine, "mem_1")
    assert row["status"] == "canceled" and row["updated_at"] == later
    with engine.connect() as conn:
        notes = conn.execute(sa.select(webhook_inbox.c.error).order_by(webhook_inbox.c.id)).scalars().all()
    assert notes == ["stale: a newer state is already stored", None]


def test_an_unknown_event_type_is_stored_ignored_and_reported(engine: Engine, deliver: Deliver) -> None:
    invoice = {"id": "inv_1", "created_at": "2023-12-01T05:00:00.401Z", "status": "draft", "number": "#0001"}
    assert deliver(envelope("invoice.created", invoice, "msg_9")).json() == {"status": "ignored"}
    report = inbox_report(engine)
    assert report.to_dict("records") == [
        {
            "source": "whop",
            "event_type": "invoice.created",
            "status": "ignored",
            "deliveries": 1,
            "note": "unhandled event type 'invoice.created'",
        }
    ]


def test_refund_webhooks_carry_a_float_amount(engine: Engine, deliver: Deliver) -> None:
    refund = {
        "id": "rf_9",
        "amount": 10.43,
        "currency": "eur",
        "created_at": "2025-06-30T12:00:00.000Z",
        "provider": "stripe",
        "status": "succeeded",
        "payment": {"id": "pay_8", "created_at": "2025-05-05T10:00:00.000Z", "currency": "eur"},
    }
    assert deliver(envelope("refund.created", refund, "msg_r")).json() == {"status": "processed"}
    with engine.connect() as conn:
        row = conn.execute(sa.select(refunds)).mappings().one()
    assert (row["amount_minor"], row["currency"], row["payment_id"]) == (1043, "eur", "pay_8")


def test_legacy_v5_signatures(
    engine: Engine, source_engine: Engine, deliver: Deliver, receiver: tuple[WebhookReceiver, RunningServer]
) -> None:
    deliver(envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1"))
    url = f"{receiver[1].url}{WEBHOOK_PATH}"
    body = json.dumps(
        {
            "action": "membership.went_invalid",
            "api_version": "v5",
            "company_id": "biz_tiny",
            "data": {"id": "mem_1", "status": "expired", "valid": False},
        }
    ).encode()
    forged = httpx.post(url, content=body, headers=sign_v5("ws_wrong", body, datetime.now(UTC)))
    assert forged.status_code == 401 and stored(engine, "mem_1")["status"] == "active"
    stale = httpx.post(
        url, content=body, headers=sign_v5(WEBHOOK_SECRET, body, datetime.now(UTC) - timedelta(minutes=6))
    )
    assert stale.status_code == 401
    good = httpx.post(url, content=body, headers=sign_v5(WEBHOOK_SECRET, body, datetime.now(UTC)))
    assert good.json() == {"status": "processed"} and stored(engine, "mem_1")["status"] == "expired"
    # Signed but naming no account: kept in the inbox as failed (and quarantined) for a later reprocess.
    orphan = json.dumps({"action": "payment.succeeded", "api_version": "v5", "data": {"id": "pay_x"}}).encode()
    response = httpx.post(url, content=orphan, headers=sign_v5(WEBHOOK_SECRET, orphan, datetime.now(UTC)))
    assert response.json() == {"status": "failed"}
    with engine.connect() as conn:
        statuses = conn.execute(
            sa.select(webhook_inbox.c.source, webhook_inbox.c.status).order_by(webhook_inbox.c.received_at)
        ).all()
    assert [tuple(s) for s in statuses] == [("whop", "processed"), ("whop_v5", "processed"), ("whop_v5", "failed")]


def test_reprocess_replays_the_inbox(engine: Engine, source_engine: Engine, deliver: Deliver) -> None:
    deliver(envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1"))
    with engine.begin() as conn:
        conn.execute(sa.delete(membership_status_changes))
        conn.execute(sa.delete(memberships))
        conn.execute(sa.update(webhook_inbox).values(status="failed"))
    assert reprocess(engine) == {"processed": 1}
    assert stored(engine, "mem_1")["status"] == "active"


def test_the_receiver_needs_a_secret(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="WHOP_WEBHOOK_SECRET"):
        WebhookReceiver(engine, None)


def test_advancing_the_fake_delivers_signed_webhooks_that_keep_the_store_current(
    engine: Engine,
    source_engine: Engine,
    fake: FakeWhop,
    fake_server: RunningServer,
    receiver: tuple[WebhookReceiver, RunningServer],
    make_client: Callable[..., Any],
) -> None:
    sync_whop(engine, make_client(), ["biz_tiny"], progress=False)
    hooks, server = receiver
    with httpx.Client(timeout=10) as http:
        fake.simulator.webhook = WebhookTarget(f"{server.url}{WEBHOOK_PATH}", WEBHOOK_SECRET, http)
        result = fake.advance(5)
    assert result.failed == 0 and result.delivered == len(result.events) > 0
    assert hooks.stats["processed"] == result.delivered
    # Every membership change is a webhook, so memberships are current without a sync; payment refund totals
    # and members' spend are not sent as webhooks, so the next incremental sync completes those.
    assert "memberships" not in differences(source_engine, engine)
    sync_whop(engine, make_client(), ["biz_tiny"], progress=False)
    assert differences(source_engine, engine) == {}
