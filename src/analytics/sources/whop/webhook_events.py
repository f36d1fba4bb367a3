"""Applying accepted webhook deliveries from the inbox to the normalized tables, and replaying the inbox.

Every delivery is already in ``webhook_inbox`` when this runs. Applying is idempotent and order-proof: a
record is only written when the delivery is at least as new as what is stored — by ``updated_at``, then the
delivery's own timestamp, then the status order (:mod:`analytics.sources.whop.delivery_order`) — so retries,
replays and out-of-order deliveries never move a record back. Membership changes append
``membership_status_changes`` rows (source ``webhook``). Unknown event types are kept, marked ``ignored`` and
reported.

One bad delivery never blocks the others: whatever goes wrong while applying it (a payload that does not validate,
a value the store refuses, a bug) rolls back its writes, marks *that* delivery ``failed`` with the reason,
quarantines its body, and the next delivery is applied as usual. :func:`reprocess` replays the inbox delivery by
delivery and reports each outcome.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import pydantic
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from whop_sdk.types.course_lesson_interaction import CourseLessonInteraction
from whop_sdk.types.message import Message
from whop_sdk.types.refund_legacy import RefundLegacy

from analytics.clock import Clock, utcnow
from analytics.errors import DataValidationError
from analytics.sources.whop import legacy_v5
from analytics.sources.whop.delivery_order import is_newer, remember, stored_record
from analytics.sources.whop.shapes import SHAPES, ParseContext, parse_time
from analytics.sources.whop.shapes.common import nested_id, obj
from analytics.sources.whop.shapes.payments import parse_refund_legacy
from analytics.sources.whop.status_history import append_status_changes, status_change
from analytics.sources.whop.sync_writer import resolve_authors
from analytics.store import schema as s
from analytics.store.quarantine import Rejected, quarantine_rows
from analytics.store.upsert import upsert_rows

__all__ = ["DeliveryOutcome", "apply_delivery", "inbox_report", "process_inbox", "reprocess"]

log = logging.getLogger(__name__)
Row = dict[str, Any]


def _validate(model: type[Any] | None, data: Mapping[str, Any]) -> None:
    if model is None:
        return
    try:
        model.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise DataValidationError(f"does not match the Whop model: {where}: {first.get('msg')}", column=where) from None


def _apply_row(conn: sa.Connection, table: sa.Table, row: Row, delivered_at: datetime) -> str:
    """Write one record unless the stored one is newer (:mod:`~analytics.sources.whop.delivery_order`); returns
    ``applied`` or ``stale``."""
    stored = stored_record(conn, table, row["account_id"], row["id"])
    if not is_newer(table, row, delivered_at, stored):
        return "stale"
    upsert_rows(conn, table, [row], where_newer="updated_at" if "updated_at" in row else None)
    remember(conn, table, row, delivered_at)
    if table is s.memberships:
        append_status_changes(conn, [status_change(stored.row, row, source="webhook")])
    return "applied"


def _ensure_account(conn: sa.Connection, account_id: str) -> None:
    upsert_rows(conn, s.accounts, [{"id": account_id, "title": account_id}], update=[])


def _account_of(envelope: Mapping[str, Any]) -> str | None:
    data = obj(envelope, "data")
    found = (
        envelope.get("account_id")
        or envelope.get("company_id")
        or envelope.get("company")
        or data.get("account_id")
        or nested_id(data, "account")
        or nested_id(data, "company")
    )
    return str(found) if found else None


def _v1(conn: sa.Connection, event: str, data: Mapping[str, Any], ctx: ParseContext, at: datetime) -> str:
    family = event.split(".")[0]
    if family == "membership":
        shape = SHAPES["memberships"]
        _validate(shape.model, data)
        row = shape.parse(data, ctx)
        row.pop("affiliate_id", None)  # "always null in webhooks": never blank a synced affiliate
        return _apply_row(conn, s.memberships, row, at)
    if family == "member":
        shape = SHAPES["members"]
        _validate(shape.model, data)
        return _apply_row(conn, s.members, shape.parse(data, ctx), at)
    if family == "payment":
        shape = SHAPES["payments"]
        _validate(shape.model, data)
        return _apply_row(conn, s.payments, shape.parse(data, ctx), at)
    if family == "refund":
        _validate(RefundLegacy, data)
        return _apply_row(
            conn, s.refunds, parse_refund_legacy(data, ParseContext(ctx.account_id, {"delivered_at": at})), at
        )
    if event == "course_lesson_interaction.completed":
        _validate(CourseLessonInteraction, data)
        row = SHAPES["course_lesson_interactions"].parse(data, ctx)
        row.update(completed_at=at, updated_at=at)
        return _apply_authored(conn, s.lesson_interactions, row, at)
    if event == "chat.message.created":
        message = obj(data, "message")
        _validate(Message, message)
        channel_id = nested_id(data, "channel")
        product_id = conn.execute(
            sa.select(s.chat_channels.c.product_id).where(
                s.chat_channels.c.account_id == ctx.account_id, s.chat_channels.c.id == channel_id
            )
        ).scalar_one_or_none()
        parent = {"channel_id": channel_id, "product_id": product_id}
        return _apply_authored(
            conn, s.activity_events, SHAPES["messages"].parse(message, ParseContext(ctx.account_id, parent)), at
        )
    return "unhandled"


def _apply_authored(conn: sa.Connection, table: sa.Table, row: Row, delivered_at: datetime) -> str:
    rows, rejected = resolve_authors(conn, row["account_id"], table, [row], source="webhook")
    if rejected:
        raise DataValidationError(rejected[0].reason, column="user")
    return _apply_row(conn, table, rows[0], delivered_at)


def apply_delivery(
    conn: sa.Connection,
    source: str,
    body: str,
    *,
    signed_at: datetime | None,
    received_at: datetime | None = None,
) -> tuple[str, str | None]:
    """Apply one delivery; returns the inbox status (``processed``/``ignored``) and a note.

    The delivery's own timestamp, which orders it against others of the same record, is the envelope's
    ``timestamp`` (v1), else ``signed_at`` (its signature time), else ``received_at``.

    Raises
    ------
    DataValidationError
        The payload does not validate (the caller quarantines it and marks the delivery ``failed``).
    """
    envelope = json.loads(body)
    if not isinstance(envelope, dict):
        raise DataValidationError("webhook body is not a JSON object")
    account_id = _account_of(envelope)
    event = str(envelope.get("type") or envelope.get("action") or "")
    if not account_id:
        raise DataValidationError(
            f"{event or 'webhook'} delivery names no account (account_id/company_id)", column="account_id"
        )
    _ensure_account(conn, account_id)
    ctx = ParseContext(account_id)
    data = obj(envelope, "data")
    fallback = signed_at or received_at or utcnow()
    if source == "whop_v5":
        outcome = legacy_v5.apply(conn, event, data, ctx, fallback)
    else:
        at = parse_time(envelope.get("timestamp"), "timestamp") or fallback
        outcome = _v1(conn, event, data, ctx, at)
    if outcome == "unhandled":
        return "ignored", f"unhandled event type {event!r}"
    if outcome == "unknown":
        return "ignored", f"{event}: the record is not stored yet and the legacy payload is too partial to create it"
    return "processed", "stale: a newer state is already stored" if outcome == "stale" else None


@dataclass(frozen=True)
class DeliveryOutcome:
    """What applying one inbox delivery came to.

    Attributes
    ----------
    inbox_id, event_type:
        The delivery (``webhook_inbox.id``) and its event type.
    status:
        ``processed``, ``ignored`` or ``failed`` (as now stored on the delivery).
    note:
        Why it was ignored or failed, or that it was stale; ``None`` when it simply applied.
    """

    inbox_id: str
    event_type: str | None
    status: str
    note: str | None


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:2000]


def process_inbox(engine: Engine, inbox_id: str, *, clock: Clock = utcnow) -> DeliveryOutcome:
    """Apply one inbox delivery and record the outcome on it.

    Never raises for the delivery's sake: any exception while applying it rolls its writes back and marks it
    ``failed`` with the reason (its body is quarantined too), so the caller — the receiver answering the sender, or
    :func:`reprocess` — can carry on with the next delivery.
    """
    box = s.webhook_inbox
    row: sa.RowMapping | None = None
    try:
        with engine.connect() as conn:
            row = found = conn.execute(sa.select(box).where(box.c.id == inbox_id)).mappings().one()
        headers = found["headers"] if isinstance(found["headers"], dict) else {}
        signed = headers.get("signed_at") or headers.get("webhook-timestamp")
        with engine.begin() as conn:
            status, note = apply_delivery(
                conn,
                found["source"],
                found["body"],
                signed_at=parse_time(signed, "signed_at"),
                received_at=found["received_at"],
            )
            _mark(conn, inbox_id, status, note, clock)
    except Exception as exc:  # one delivery's failure, whatever it is, is recorded on it and goes no further
        return _failed(engine, inbox_id, row, exc, clock)
    if status == "ignored":
        log.info("webhook %s ignored: %s", inbox_id, note)
    return DeliveryOutcome(inbox_id, found["event_type"], status, note)


def _failed(engine: Engine, inbox_id: str, row: sa.RowMapping | None, exc: Exception, clock: Clock) -> DeliveryOutcome:
    """Mark a delivery ``failed`` with the reason and quarantine its body; the outcome carries the reason."""
    event_type = row["event_type"] if row is not None else None
    note = _reason(exc)
    if isinstance(exc, DataValidationError):
        log.error("webhook %s (%s) failed: %s", inbox_id, event_type, note)
    else:  # not a problem of the payload: keep the traceback in the log for whoever fixes it
        log.exception("webhook %s (%s) failed unexpectedly: %s", inbox_id, event_type, note)
    try:
        with engine.begin() as conn:
            if row is not None:
                quarantine_rows(
                    conn,
                    [
                        Rejected(
                            source="webhook",
                            table_name="webhook_inbox",
                            reason=f"{event_type} {inbox_id}: {exc}",
                            raw=row["body"],
                            account_id=row["account_id"],
                            column_name=getattr(exc, "column", None),
                        )
                    ],
                    clock=clock,
                )
            _mark(conn, inbox_id, "failed", note, clock)
    except Exception as again:  # the store itself is failing: say so; the delivery stays as it was in the inbox
        log.exception("webhook %s: its failure could not be recorded", inbox_id)
        note = f"{note} (not recorded in the inbox: {_reason(again)})"[:2000]
    return DeliveryOutcome(inbox_id, event_type, "failed", note)


def _mark(conn: sa.Connection, inbox_id: str, status: str, note: str | None, clock: Clock) -> None:
    box = s.webhook_inbox
    conn.execute(
        sa.update(box)
        .where(box.c.id == inbox_id)
        .values(status=status, error=note, processed_at=clock(), attempts=box.c.attempts + 1)
    )


def reprocess(
    engine: Engine, *, statuses: tuple[str, ...] = ("received", "failed"), clock: Clock = utcnow
) -> list[DeliveryOutcome]:
    """Replay inbox deliveries with these statuses in the order they arrived; returns each one's outcome.

    Every delivery is attempted: one that fails is marked ``failed`` with its reason and the replay goes on.
    """
    box = s.webhook_inbox
    with engine.connect() as conn:
        ids = (
            conn.execute(sa.select(box.c.id).where(box.c.status.in_(statuses)).order_by(box.c.received_at, box.c.id))
            .scalars()
            .all()
        )
    return [process_inbox(engine, inbox_id, clock=clock) for inbox_id in ids]


def inbox_report(engine: Engine) -> pd.DataFrame:
    """Deliveries by source, event type and status (ignored and failed ones carry their reason)."""
    box = s.webhook_inbox
    stmt = (
        sa.select(
            box.c.source,
            box.c.event_type,
            box.c.status,
            sa.func.count().label("deliveries"),
            sa.func.max(box.c.error).label("note"),
        )
        .group_by(box.c.source, box.c.event_type, box.c.status)
        .order_by(box.c.source, box.c.event_type, box.c.status)
    )
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=["source", "event_type", "status", "deliveries", "note"]
        )
