"""The webhook receiver over real HTTP: signatures as Whop sends them, an idempotent inbox, order-proof apply."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from compare import differences
from sqlalchemy.engine import Engine
from whop_business import NOW

from analytics.errors import ConfigError, DataValidationError
from analytics.settings import load_settings
from analytics.sources.whop.fake_data import LISTINGS
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.serving import RunningServer, serve_in_thread
from analytics.sources.whop.shapes import SHAPES, iso, parse_time
from analytics.sources.whop.signatures import sign_standard, sign_v5
from analytics.sources.whop.simulator import WebhookTarget
from analytics.sources.whop.sync import sync_whop
from analytics.sources.whop.webhook_events import inbox_report, reprocess
from analytics.sources.whop.webhooks import WEBHOOK_PATH, WebhookReceiver
from analytics.store.schema import members, membership_status_changes, memberships, quarantine, refunds, webhook_inbox
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
    assert [outcome.status for outcome in reprocess(engine)] == ["processed"]
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


# --- bounded bodies -----------------------------------------------------------------------------------------

LIMIT = 4096  # bytes; a rendered membership delivery is about 1.5 KB


@pytest.fixture
def small_receiver(engine: Engine) -> Iterator[tuple[WebhookReceiver, RunningServer]]:
    """A receiver that reads at most LIMIT bytes of a body."""
    hooks = WebhookReceiver(engine, WEBHOOK_SECRET, max_body_bytes=LIMIT)
    with serve_in_thread(hooks.app) as server:
        yield hooks, server


def padded(event: dict[str, Any], size: int) -> bytes:
    """The delivery's JSON followed by spaces up to ``size`` bytes (still valid JSON, still signable)."""
    body = json.dumps(event).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def raw_exchange(server: RunningServer, head: dict[str, str], body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """POST over a plain socket: the request head and whatever part of a body we choose to send, then read the
    answer until the server closes the connection. Status, headers and body of the answer."""
    lines = [f"POST {WEBHOOK_PATH} HTTP/1.1", f"Host: {server.host}:{server.port}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in head.items()]
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    head_bytes, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, content


def test_a_body_at_the_limit_is_read_and_applied(
    engine: Engine, source_engine: Engine, small_receiver: tuple[WebhookReceiver, RunningServer]
) -> None:
    event = envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1")
    body = padded(event, LIMIT)
    headers = {**sign_standard(WEBHOOK_SECRET, "msg_1", body, datetime.now(UTC)), "Content-Length": str(LIMIT)}
    status, _, content = raw_exchange(small_receiver[1], {**headers, "Connection": "close"}, body)
    assert (status, json.loads(content)) == (200, {"status": "processed"})
    assert stored(engine, "mem_1")["status"] == "active"


@pytest.mark.parametrize("declared", [LIMIT + 1, 100 * 1024 * 1024])
def test_a_body_declared_over_the_limit_gets_413_before_it_is_sent(
    declared: int,
    engine: Engine,
    source_engine: Engine,
    small_receiver: tuple[WebhookReceiver, RunningServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only the request head is sent, so an answer proves the receiver neither read nor waited for the body."""
    event = envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1")
    signed = sign_standard(WEBHOOK_SECRET, "msg_1", padded(event, LIMIT + 1), datetime.now(UTC))
    status, headers, content = raw_exchange(small_receiver[1], {**signed, "Content-Length": str(declared)})
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(content)["error"]["code"] == "body_too_large"
    assert count(engine, webhook_inbox) == 0 and small_receiver[0].stats == {"too_large": 1}
    assert any(f"declares {declared} bytes" in r.getMessage() for r in caplog.records)


def test_a_chunked_body_growing_past_the_limit_gets_413_while_it_streams(
    engine: Engine, source_engine: Engine, small_receiver: tuple[WebhookReceiver, RunningServer]
) -> None:
    """No Content-Length: 1 KiB chunks, five of them (5 KiB > 4 KiB) and never the last one, so the body is
    unfinished when the 413 comes: the receiver stopped reading it as it passed the limit."""
    event = envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1")
    body = padded(event, 2 * LIMIT)  # signed whole, as a sender would
    signed = sign_standard(WEBHOOK_SECRET, "msg_1", body, datetime.now(UTC))
    chunks = b"".join(b"400\r\n" + body[i : i + 1024] + b"\r\n" for i in range(0, 5 * 1024, 1024))
    status, headers, content = raw_exchange(small_receiver[1], {**signed, "Transfer-Encoding": "chunked"}, chunks)
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(content)["error"]["type"] == "payload_too_large"
    assert count(engine, webhook_inbox) == 0 and count(engine, memberships) == 0
    # the receiver still answers deliveries afterwards
    url = f"{small_receiver[1].url}{WEBHOOK_PATH}"
    small = json.dumps(event)
    response = httpx.post(url, content=small, headers=sign_standard(WEBHOOK_SECRET, "msg_1", small, datetime.now(UTC)))
    assert response.json() == {"status": "processed"} and count(engine, webhook_inbox) == 1
    assert small_receiver[0].stats == {"too_large": 1, "processed": 1}


def test_the_body_limit_is_a_setting(tmp_path: Any) -> None:
    absent = tmp_path / "absent.toml"
    assert load_settings({}, config_file=absent).webhook_max_body_bytes == 1024 * 1024
    assert load_settings({"ANALYTICS_WEBHOOK_MAX_BODY_BYTES": "65536"}, config_file=absent).webhook_max_body_bytes == (
        65536
    )
    with pytest.raises(ConfigError, match="ANALYTICS_WEBHOOK_MAX_BODY_BYTES"):
        load_settings({"ANALYTICS_WEBHOOK_MAX_BODY_BYTES": "1MB"}, config_file=absent)


# --- one bad delivery never blocks the inbox ----------------------------------------------------------------


def test_a_delivery_that_cannot_be_applied_is_marked_failed_not_answered_500(
    engine: Engine, source_engine: Engine, deliver: Deliver
) -> None:
    """A signed envelope with "timestamp": 1e20 (year ~3 billion): stored, marked failed with the reason, answered
    200; the next delivery is applied as usual."""
    poison = envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1")
    poison["timestamp"] = 1e20
    response = deliver(poison)
    assert response.status_code == 200 and response.json() == {"status": "failed"}
    with engine.connect() as conn:
        row = conn.execute(sa.select(webhook_inbox)).mappings().one()
    assert row["status"] == "failed" and "'timestamp'" in row["error"] and "1e+20" in row["error"]
    assert count(engine, quarantine) == 1 and count(engine, memberships) == 0
    assert deliver(
        envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_2")
    ).json() == {"status": "processed"}


def test_unix_timestamps_outside_the_calendar_are_validation_errors() -> None:
    for value in (1e20, float("nan"), float("inf"), "99999999999999999999", -1e15):
        with pytest.raises(DataValidationError, match=r"column 'paid_at'.*between the years 1 and 9999"):
            parse_time(value, "paid_at")
    assert parse_time(1751284800, "paid_at") == datetime(2025, 6, 30, 12, 0, tzinfo=UTC)


def test_an_unexpected_error_fails_only_its_delivery_and_reprocess_goes_on(
    engine: Engine, source_engine: Engine, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the payment parser (any exception, not a validation error) while four deliveries arrive: the
    payment is answered and marked failed, the others apply; reprocess attempts every delivery and reports each."""

    def broken(item: Any, ctx: Any) -> dict[str, Any]:
        raise ZeroDivisionError("division by zero in a parser")

    monkeypatch.setitem(SHAPES, "payments", dataclasses.replace(SHAPES["payments"], parse=broken))
    events = [
        envelope("membership.activated", rendered(source_engine, "memberships", "mem_1"), "msg_1"),
        envelope("payment.succeeded", rendered(source_engine, "payments", "pay_1"), "msg_2"),
        envelope("membership.activated", rendered(source_engine, "memberships", "mem_2"), "msg_3"),
        envelope("member.updated", rendered(source_engine, "members", "mber_1"), "msg_4"),
    ]
    assert [deliver(event).json()["status"] for event in events] == ["processed", "failed", "processed", "processed"]
    with engine.begin() as conn:
        conn.execute(sa.update(webhook_inbox).values(status="received"))
    outcomes = reprocess(engine)
    assert [(o.inbox_id, o.status) for o in outcomes] == [
        ("whop:msg_1", "processed"),
        ("whop:msg_2", "failed"),
        ("whop:msg_3", "processed"),
        ("whop:msg_4", "processed"),
    ]
    assert outcomes[1].note == "ZeroDivisionError: division by zero in a parser"
    assert outcomes[1].event_type == "payment.succeeded"
    monkeypatch.undo()  # the parser is fixed: the failed delivery applies on the next replay
    assert [(o.inbox_id, o.status) for o in reprocess(engine)] == [("whop:msg_2", "processed")]


# --- status never goes backwards -----------------------------------------------------------------------------


def test_a_member_who_left_stays_left_when_an_older_joined_delivery_arrives_late(
    engine: Engine, source_engine: Engine, deliver: Deliver
) -> None:
    """``member.updated`` (left, sent at t+3h) arrives before ``member.created`` (joined, sent at t); the member's
    own timestamps are the same in both, so the delivery times decide: left."""
    joined = rendered(source_engine, "members", "mber_1")
    left = {**joined, "status": "left"}
    assert deliver(envelope("member.updated", left, "msg_2", NOW + timedelta(hours=3))).json() == {
        "status": "processed"
    }
    assert deliver(envelope("member.created", joined, "msg_1", NOW)).json() == {"status": "processed"}
    with engine.connect() as conn:
        status = conn.execute(sa.select(members.c.status).where(members.c.id == "mber_1")).scalar_one()
        notes = conn.execute(sa.select(webhook_inbox.c.error).order_by(webhook_inbox.c.id)).scalars().all()
    assert status == "left" and notes == ["stale: a newer state is already stored", None]


def test_equal_timestamps_and_delivery_times_go_by_the_status_order(
    engine: Engine, source_engine: Engine, deliver: Deliver
) -> None:
    """Two membership deliveries of the same version sent at the same instant: canceled is later in a
    membership's life than active, whichever arrives last."""
    active = rendered(source_engine, "memberships", "mem_1")
    canceled = {**active, "status": "canceled"}
    deliver(envelope("membership.deactivated", canceled, "msg_1"))
    deliver(envelope("membership.activated", active, "msg_2"))
    assert stored(engine, "mem_1")["status"] == "canceled"
