"""Applying accepted webhook deliveries from the inbox to the normalized tables, and replaying the inbox.

Every delivery is already in ``webhook_inbox`` when this runs. Applying is idempotent and order-proof: a
record is only written when the delivery is at least as new as what is stored (``updated_at``; for payloads
without one — members, legacy refunds, lesson completions — the delivery's own timestamp), so retries,
replays and out-of-order deliveries never move a record back. Membership changes append
``membership_status_changes`` rows (source ``webhook``). Unknown event types are kept, marked ``ignored`` and
reported; payloads that do not validate are quarantined and the delivery marked ``failed``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
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
from analytics.sources.whop.shapes import SHAPES, ParseContext, parse_time
from analytics.sources.whop.shapes.common import nested_id, obj
from analytics.sources.whop.shapes.payments import parse_refund_legacy
from analytics.sources.whop.status_history import append_status_changes, status_change
from analytics.sources.whop.sync_writer import resolve_authors
from analytics.store import schema as s
from analytics.store.quarantine import Rejected, quarantine_rows
from analytics.store.upsert import upsert_rows

__all__ = ["apply_delivery", "inbox_report", "process_inbox", "reprocess"]

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


def _apply_row(conn: sa.Connection, table: sa.Table, row: Row) -> str:
    """Write one record unless the stored one is newer; returns ``applied`` or ``stale``."""
    before = (
        conn.execute(sa.select(table).where(table.c.account_id == row["account_id"], table.c.id == row["id"]))
        .mappings()
        .first()
    )
    if (
        before is not None
        and before.get("updated_at")
        and row.get("updated_at")
        and row["updated_at"] < before["updated_at"]
    ):
        return "stale"
    upsert_rows(conn, table, [row], where_newer="updated_at" if "updated_at" in row else None)
    if table is s.memberships:
        append_status_changes(conn, [status_change(dict(before) if before else None, row, source="webhook")])
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
        return _apply_row(conn, s.memberships, row)
    if family == "member":
        shape = SHAPES["members"]
        _validate(shape.model, data)
        return _apply_row(conn, s.members, shape.parse(data, ctx))
    if family == "payment":
        shape = SHAPES["payments"]
        _validate(shape.model, data)
        return _apply_row(conn, s.payments, shape.parse(data, ctx))
    if family == "refund":
        _validate(RefundLegacy, data)
        return _apply_row(
            conn, s.refunds, parse_refund_legacy(data, ParseContext(ctx.account_id, {"delivered_at": at}))
        )
    if event == "course_lesson_interaction.completed":
        _validate(CourseLessonInteraction, data)
        row = SHAPES["course_lesson_interactions"].parse(data, ctx)
        row.update(completed_at=at, updated_at=at)
        return _apply_authored(conn, s.lesson_interactions, row)
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
            conn, s.activity_events, SHAPES["messages"].parse(message, ParseContext(ctx.account_id, parent))
        )
    return "unhandled"


def _apply_authored(conn: sa.Connection, table: sa.Table, row: Row) -> str:
    rows, rejected = resolve_authors(conn, row["account_id"], table, [row], source="webhook")
    if rejected:
        raise DataValidationError(rejected[0].reason, column="user")
    return _apply_row(conn, table, rows[0])


def apply_delivery(
    conn: sa.Connection, source: str, body: str, *, signed_at: datetime | None
) -> tuple[str, str | None]:
    """Apply one delivery; returns the inbox status (``processed``/``ignored``) and a note.

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
    if source == "whop_v5":
        at = signed_at or utcnow()
        outcome = legacy_v5.apply(conn, event, data, ctx, at)
    else:
        at = parse_time(envelope.get("timestamp"), "timestamp") or signed_at or utcnow()
        outcome = _v1(conn, event, data, ctx, at)
    if outcome == "unhandled":
        return "ignored", f"unhandled event type {event!r}"
    if outcome == "unknown":
        return "ignored", f"{event}: the record is not stored yet and the legacy payload is too partial to create it"
    return "processed", "stale: a newer state is already stored" if outcome == "stale" else None


def process_inbox(engine: Engine, inbox_id: str, *, clock: Clock = utcnow) -> str:
    """Apply one inbox delivery and record the outcome on it; returns its new status."""
    box = s.webhook_inbox
    with engine.connect() as conn:
        row = conn.execute(sa.select(box).where(box.c.id == inbox_id)).mappings().one()
    signed = row["headers"].get("signed_at") if isinstance(row["headers"], dict) else None
    status, note = "failed", None
    try:
        with engine.begin() as conn:
            status, note = apply_delivery(conn, row["source"], row["body"], signed_at=parse_time(signed, "signed_at"))
            _mark(conn, inbox_id, status, note, clock)
    except (DataValidationError, ValueError, sa.exc.SQLAlchemyError) as exc:
        note = f"{type(exc).__name__}: {exc}".splitlines()[0][:2000]
        with engine.begin() as conn:
            quarantine_rows(
                conn,
                [
                    Rejected(
                        source="webhook",
                        table_name="webhook_inbox",
                        reason=f"{row['event_type']} {inbox_id}: {exc}",
                        raw=row["body"],
                        account_id=row["account_id"],
                        column_name=getattr(exc, "column", None),
                    )
                ],
                clock=clock,
            )
            _mark(conn, inbox_id, "failed", note, clock)
        log.error("webhook %s (%s) failed: %s", inbox_id, row["event_type"], note)
    if status == "ignored":
        log.info("webhook %s ignored: %s", inbox_id, note)
    return status


def _mark(conn: sa.Connection, inbox_id: str, status: str, note: str | None, clock: Clock) -> None:
    box = s.webhook_inbox
    conn.execute(
        sa.update(box)
        .where(box.c.id == inbox_id)
        .values(status=status, error=note, processed_at=clock(), attempts=box.c.attempts + 1)
    )


def reprocess(
    engine: Engine, *, statuses: tuple[str, ...] = ("received", "failed"), clock: Clock = utcnow
) -> Counter[str]:
    """Replay inbox deliveries with these statuses in the order they arrived; returns the new statuses counted."""
    box = s.webhook_inbox
    with engine.connect() as conn:
        ids = (
            conn.execute(sa.select(box.c.id).where(box.c.status.in_(statuses)).order_by(box.c.received_at, box.c.id))
            .scalars()
            .all()
        )
    return Counter(process_inbox(engine, inbox_id, clock=clock) for inbox_id in ids)


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
