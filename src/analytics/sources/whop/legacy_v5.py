"""Legacy v5 webhooks (``x-whop-signature``; ``{"action", "api_version": "v5", "data"}``) still sent to older apps.

Their payloads use unix-second timestamps and float money and are partial, so they update records the store
already knows (``membership.went_valid``/``went_invalid`` and other ``membership.*``; ``payment.succeeded``/
``failed``/``pending``) and create one only when the payload names everything a row needs. The delivery's
signed timestamp is their ``updated_at`` and orders them against the stored state like every webhook
(:mod:`analytics.sources.whop.delivery_order`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from analytics.errors import DataValidationError
from analytics.sources.whop.delivery_order import is_newer, remember, stored_record
from analytics.sources.whop.shapes import ParseContext, parse_time
from analytics.sources.whop.shapes.common import float_to_minor, nested_id
from analytics.sources.whop.status_history import append_status_changes, status_change
from analytics.store import schema as s
from analytics.store.enums import ENUMS
from analytics.store.money import is_currency
from analytics.store.upsert import upsert_rows

__all__ = ["apply"]

_PAYMENT_STATES = {
    "payment.succeeded": ("paid", "succeeded"),
    "payment.failed": ("open", "failed"),
    "payment.pending": ("pending", "pending"),
}


def _write(conn: sa.Connection, table: sa.Table, row: dict[str, Any], *, exists: bool) -> None:
    """Update the known record with the partial payload (only when it is newer), or insert a complete one."""
    if not exists:
        upsert_rows(conn, table, [row], where_newer="updated_at")
        return
    values = {k: v for k, v in row.items() if k not in ("account_id", "id")}
    conn.execute(
        sa.update(table)
        .where(table.c.account_id == row["account_id"], table.c.id == row["id"])
        .where(sa.or_(table.c.updated_at.is_(None), table.c.updated_at <= row["updated_at"]))
        .values(**values)
    )


def _membership(conn: sa.Connection, event: str, data: Mapping[str, Any], ctx: ParseContext, at: datetime) -> str:
    item_id = data.get("id")
    if not item_id:
        raise DataValidationError(f"{event}: membership has no id", column="id")
    status = data.get("status")
    if status not in ENUMS[("memberships", "status")]:
        status = {"membership.went_valid": "active", "membership.went_invalid": "expired"}.get(event)
    values: dict[str, Any] = {"updated_at": at}
    if status:
        values["status"] = status
    if isinstance(data.get("cancel_at_period_end"), bool):
        values["cancel_at_period_end"] = data["cancel_at_period_end"]
    for ours, theirs in (
        ("current_period_start", "renewal_period_start"),
        ("current_period_end", "renewal_period_end"),
        ("expires_at", "expires_at"),
    ):
        if data.get(theirs) is not None:
            values[ours] = parse_time(data[theirs], theirs)
    stored = stored_record(conn, s.memberships, ctx.account_id, str(item_id))
    before = stored.row
    if before is None:
        member, product, plan = nested_id(data, "member"), nested_id(data, "product"), nested_id(data, "plan")
        created = parse_time(data.get("created_at"), "created_at")
        if not (member and product and plan and created and status):
            return "unknown"
        values.update(
            member_id=member, product_id=product, plan_id=plan, created_at=created, user_id=nested_id(data, "user")
        )
    row = {"account_id": ctx.account_id, "id": str(item_id), **values}
    if not is_newer(s.memberships, row, at, stored):
        return "stale"
    _write(conn, s.memberships, row, exists=before is not None)
    remember(conn, s.memberships, row, at)
    append_status_changes(conn, [status_change(before, {**(before or {}), **row}, source="webhook")])
    return "applied"


def _payment(conn: sa.Connection, event: str, data: Mapping[str, Any], ctx: ParseContext, at: datetime) -> str:
    item_id = data.get("id")
    if not item_id:
        raise DataValidationError(f"{event}: receipt has no id", column="id")
    status, substatus = _PAYMENT_STATES[event]
    values: dict[str, Any] = {"status": status, "substatus": substatus, "updated_at": at}
    paid_at = parse_time(data.get("paid_at"), "paid_at")
    if paid_at is not None or status == "paid":  # a receipt that was paid says when, whatever the event
        values["paid_at"] = paid_at or at
    stored = stored_record(conn, s.payments, ctx.account_id, str(item_id))
    before = stored.row
    currency = str(data.get("currency") or (before or {}).get("currency") or "").lower()
    if data.get("final_amount") is not None and is_currency(currency):
        values["total_minor"] = float_to_minor(data["final_amount"], currency, "final_amount")
    if before is None:
        created = parse_time(data.get("created_at"), "created_at")
        if "total_minor" not in values or created is None:
            return "unknown"
        membership_id = nested_id(data, "membership")
        member = conn.execute(
            sa.select(s.memberships.c.member_id).where(
                s.memberships.c.account_id == ctx.account_id, s.memberships.c.id == membership_id
            )
        ).scalar_one_or_none()
        values.update(
            currency=currency,
            created_at=created,
            membership_id=membership_id,
            member_id=member,
            user_id=nested_id(data, "user"),
            plan_id=nested_id(data, "plan"),
            product_id=nested_id(data, "product"),
        )
    row = {"account_id": ctx.account_id, "id": str(item_id), **values}
    if not is_newer(s.payments, row, at, stored):
        return "stale"
    _write(conn, s.payments, row, exists=before is not None)
    remember(conn, s.payments, row, at)
    return "applied"


def apply(conn: sa.Connection, event: str, data: Mapping[str, Any], ctx: ParseContext, at: datetime) -> str:
    """Apply one v5 event; ``applied``, ``stale``, ``unknown`` (record not stored, payload too partial) or
    ``unhandled``."""
    if event.startswith("membership."):
        return _membership(conn, event, data, ctx, at)
    if event in _PAYMENT_STATES:
        return _payment(conn, event, data, ctx, at)
    return "unhandled"
