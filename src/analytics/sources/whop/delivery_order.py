"""The order webhook deliveries of one record are applied in, so that arrival order never matters.

Whop delivers at least once and in no particular order, and several deliveries may describe the same record (a
membership, member, payment, refund, lesson completion or chat message). A delivery's state is written only when
it is at least as new as the stored one, comparing in turn

1. ``updated_at``, the record's own version. Members have none on the wire and use the newest of their own
   timestamps (:func:`analytics.sources.whop.shapes.memberships.parse_member`); legacy refunds, lesson
   completions and legacy v5 deliveries use the delivery's timestamp. A missing ``updated_at`` is older than any.
2. The delivery's own timestamp: the envelope's ``timestamp`` (v1), else its signature time, else when it was
   received. It is kept per record in ``webhook_versions`` while the record holds that delivery's version; a
   version the sync or an import wrote has none, and then this step is skipped.
3. :data:`STATUS_ORDER`: the status later in the record's life wins (a member who ``left`` stays left when a
   ``joined`` delivery with the same timestamps turns up; a ``canceled`` membership is not re-activated by an
   ``active`` one of the same version).

A delivery that is not newer changes nothing and is reported ``stale``; an exact repeat writes the same state
again. So whatever order a record's deliveries arrive in, it ends in the state of the newest of them
(``tests/whop/test_webhook_order.py`` checks this for every entity the webhooks write). What a payload does not
carry keeps its stored value: a v1 membership's affiliate (always null in webhooks), the trial end outside a
trial, and the fields a partial legacy v5 payload omits — so deliveries whose payloads carry different fields
(v1 and v5 deliveries of the same membership) still depend on their order for those fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from analytics.store.schema import webhook_versions
from analytics.store.upsert import upsert_rows

__all__ = ["STATUS_ORDER", "StoredRecord", "is_newer", "remember", "stored_record"]

STATUS_ORDER: dict[str, tuple[str, ...]] = {
    "members": ("joined", "left"),
    "memberships": (
        "drafted",
        "trialing",
        "active",
        "past_due",
        "unresolved",
        "canceling",
        "canceled",
        "completed",
        "expired",
    ),
    "payments": ("draft", "open", "pending", "authorized", "paid", "unresolved", "uncollectible", "void"),
    "refunds": ("pending", "requires_action", "succeeded", "failed", "canceled"),
}
"""Per table, its statuses from earliest to latest in a record's life; breaks ties of the two timestamps."""


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored: its row (``None`` when not stored yet) and, when a webhook wrote that version, the
    delivery's timestamp."""

    row: dict[str, Any] | None
    delivered_at: datetime | None


def stored_record(conn: sa.Connection, table: sa.Table, account_id: str, record_id: str) -> StoredRecord:
    """Lock the record against concurrent deliveries (until the transaction ends) and read what is stored.

    The lock is the record's ``webhook_versions`` row, created when missing: PostgreSQL locks it with ``FOR
    UPDATE``; SQLite and DuckDB have one writer at a time, and creating the row already made this one the writer.
    """
    v = webhook_versions
    key = {"table_name": table.name, "account_id": account_id, "record_id": record_id}
    upsert_rows(conn, v, [key], update=[])
    entry_stmt = sa.select(v.c.updated_at, v.c.delivered_at).where(
        v.c.table_name == table.name, v.c.account_id == account_id, v.c.record_id == record_id
    )
    if conn.dialect.name == "postgresql":
        entry_stmt = entry_stmt.with_for_update()
    entry = conn.execute(entry_stmt).one()
    found = (
        conn.execute(sa.select(table).where(table.c.account_id == account_id, table.c.id == record_id))
        .mappings()
        .first()
    )
    row = dict(found) if found is not None else None
    same_version = row is not None and entry.delivered_at is not None and entry.updated_at == row.get("updated_at")
    return StoredRecord(row, entry.delivered_at if same_version else None)


def _rank(table: sa.Table, status: Any) -> int:
    order = STATUS_ORDER.get(table.name, ())
    return order.index(status) if status in order else -1


def is_newer(table: sa.Table, row: Mapping[str, Any], delivered_at: datetime, stored: StoredRecord) -> bool:
    """Whether a delivery's ``row`` (delivered at ``delivered_at``) is at least as new as ``stored``."""
    before = stored.row
    if before is None:
        return True
    new, old = row.get("updated_at"), before.get("updated_at")
    if new != old:
        return old is None if new is None or old is None else bool(new > old)
    if stored.delivered_at is not None and delivered_at != stored.delivered_at:
        return delivered_at > stored.delivered_at
    return _rank(table, row.get("status", before.get("status"))) >= _rank(table, before.get("status"))


def remember(conn: sa.Connection, table: sa.Table, row: Mapping[str, Any], delivered_at: datetime) -> None:
    """Record that the record now holds the state of the delivery made at ``delivered_at``."""
    v = webhook_versions
    conn.execute(
        sa.update(v)
        .where(v.c.table_name == table.name, v.c.account_id == row["account_id"], v.c.record_id == row["id"])
        .values(updated_at=row.get("updated_at"), delivered_at=delivered_at)
    )
