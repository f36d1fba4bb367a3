"""Turning fetched items into stored rows: validate, parse, resolve authors, write with honest counts.

Each item is validated against its whop-sdk 2.6.0 model and parsed by its shape; an item that fails either is
quarantined with the reason (never dropped). Rows are compared with what is stored so the summary can say what
was inserted, updated or unchanged, and only new or changed rows are written — through ``upsert_rows`` with
``where_newer="updated_at"``, so a listing never moves a record back behind a newer webhook. Membership
changes append ``membership_status_changes`` rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import pydantic
import sqlalchemy as sa

from analytics.errors import DataValidationError
from analytics.sources.whop.shapes import ParseContext, Shape
from analytics.sources.whop.status_history import append_status_changes, status_change
from analytics.store import schema
from analytics.store.quarantine import Rejected
from analytics.store.upsert import upsert_rows

__all__ = ["Counts", "parse_items", "resolve_authors", "write_rows"]

Row = dict[str, Any]
_CHUNK = 500


@dataclass
class Counts:
    """What a listing did."""

    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _model_error(exc: pydantic.ValidationError) -> DataValidationError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return DataValidationError(f"does not match the Whop model: {where}: {first.get('msg')}", column=where or None)


def parse_items(
    shape: Shape, items: Iterable[Mapping[str, Any]], ctx: ParseContext, *, source: str = "sync"
) -> tuple[list[Row], list[Rejected]]:
    """Validate and parse API items; returns the rows and the rejected items (with reasons, and the resource, id
    and parent ids to fetch them again by)."""
    rows: list[Row] = []
    rejected: list[Rejected] = []
    for item in items:
        try:
            if "_raw" in item:
                raise DataValidationError(f"item {item['_raw']!r} is not a JSON object")
            if shape.model is not None:
                try:
                    shape.model.model_validate(item)
                except pydantic.ValidationError as exc:
                    raise _model_error(exc) from None
            rows.append(shape.parse(item, ctx))
        except DataValidationError as exc:
            rejected.append(
                Rejected(
                    source=source,
                    table_name=shape.table.name,
                    account_id=ctx.account_id,
                    reason=f"{shape.resource} item {item.get('id', '?')}: {exc}",
                    raw=dict(item),
                    column_name=exc.column,
                    resource=shape.resource,
                    item_id=str(item["id"]) if isinstance(item.get("id"), str | int) else None,
                    parent=ctx.parent,
                )
            )
    return rows, rejected


def resolve_authors(
    conn: sa.Connection,
    account_id: str,
    table: sa.Table,
    rows: list[Row],
    *,
    source: str = "sync",
    resource: str | None = None,
    parent: Mapping[str, Any] | None = None,
) -> tuple[list[Row], list[Rejected]]:
    """Fill ``member_id`` from the temporary ``_user_id`` key (a user id, or a member id when the user is unknown).

    Rows of tables whose ``member_id`` is required are rejected when the author is not a member of the account
    (with ``resource`` and ``parent``, the API item can be fetched again once the member is known).
    """
    wanted = {r["_user_id"] for r in rows if r.get("_user_id")}
    found: dict[str, str] = {}
    m = schema.members
    for chunk in _chunks(sorted(wanted)):
        for member_id, user_id in conn.execute(
            sa.select(m.c.id, m.c.user_id).where(
                m.c.account_id == account_id, sa.or_(m.c.user_id.in_(chunk), m.c.id.in_(chunk))
            )
        ):
            found[user_id or member_id] = member_id
            found.setdefault(member_id, member_id)
    required = not table.c.member_id.nullable
    kept: list[Row] = []
    rejected: list[Rejected] = []
    for row in rows:
        user_id = row.pop("_user_id", None)
        if user_id is None:
            kept.append(row)
            continue
        member_id = found.get(user_id)
        if member_id is None and required:
            rejected.append(
                Rejected(
                    source=source,
                    table_name=table.name,
                    account_id=account_id,
                    column_name="user",
                    reason=f"author {user_id} of {table.name} {row['id']} is not a member of {account_id}; "
                    "it is stored once the member is synced",
                    raw={k: str(v) for k, v in row.items()},
                    resource=resource,
                    item_id=str(row["id"]) if resource else None,
                    parent=parent,
                )
            )
            continue
        row["member_id"] = member_id
        kept.append(row)
    return kept, rejected


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def write_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Row], *, source: str = "sync") -> Counts:
    """Insert new rows and update changed ones (never moving a row back in time); count what happened."""
    counts = Counts()
    latest: dict[tuple[str, str], Row] = {}
    for row in rows:
        latest[(row["account_id"], row["id"])] = row
    if not latest:
        return counts
    columns = sorted({c for r in latest.values() for c in r} | {"account_id", "id"})
    if table is schema.memberships:
        columns = sorted(
            set(columns)
            | {
                "status",
                "plan_id",
                "currency",
                "renewal_price_minor",
                "billing_period_days",
                "cancel_at_period_end",
                "member_id",
                "updated_at",
                "created_at",
            }
        )
    by_account: dict[str, list[str]] = defaultdict(list)
    for account_id, item_id in latest:
        by_account[account_id].append(item_id)
    existing: dict[tuple[str, str], Mapping[str, Any]] = {}
    for account_id, ids in by_account.items():
        for chunk in _chunks(ids):
            stmt = sa.select(*(table.c[c] for c in columns)).where(
                table.c.account_id == account_id, table.c.id.in_(chunk)
            )
            for found in conn.execute(stmt).mappings():
                existing[(found["account_id"], found["id"])] = dict(found)
    changed: list[Row] = []
    history = []
    for key, row in latest.items():
        old = existing.get(key)
        if old is None:
            counts.inserted += 1
        elif all(old[c] == v for c, v in row.items()):
            counts.unchanged += 1
            continue
        elif old.get("updated_at") and row.get("updated_at") and row["updated_at"] < old["updated_at"]:
            counts.unchanged += 1  # a newer state (from a webhook) is already stored
            continue
        else:
            counts.updated += 1
        changed.append(row)
        # First-seen memberships get their whole history derived at the end of the sync
        # (status_history.derive_history); observed changes are appended as they are seen.
        if table is schema.memberships and old is not None:
            history.append(status_change(dict(old), row, source=source))
    groups: dict[tuple[str, ...], list[Row]] = defaultdict(list)
    for row in changed:
        groups[tuple(sorted(row))].append(row)
    for keys, group in groups.items():
        upsert_rows(conn, table, group, where_newer="updated_at" if "updated_at" in keys else None)
    if history:
        append_status_changes(conn, history)
    return counts
