"""Comparing two stores table by table on the columns the Whop API exposes (the shapes' ``visible``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.sources.whop.shapes import SHAPES

SYNCED = (
    "products",
    "variants",
    "promo_codes",
    "members",
    "memberships",
    "payments",
    "refunds",
    "courses",
    "course_lessons",
    "course_lesson_interactions",
    "chat_channels",
    "messages",
    "forum_posts",
    "affiliates",
)


def snapshot(engine: Engine, resource: str, account_id: str = "biz_tiny") -> dict[str, dict[str, Any]]:
    shape = SHAPES[resource]
    table = shape.table
    stmt = sa.select(table.c.id, *(table.c[c] for c in shape.visible)).where(table.c.account_id == account_id)
    if resource == "messages":
        stmt = stmt.where(table.c.kind == "message")
    with engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(stmt).mappings()}


def differences(source: Engine, target: Engine, account_id: str = "biz_tiny") -> dict[str, list[str]]:
    """Per resource, the ids that are missing, extra or different (with the differing columns)."""
    out: dict[str, list[str]] = {}
    for resource in SYNCED:
        want, got = snapshot(source, resource, account_id), snapshot(target, resource, account_id)
        problems = [f"missing {i}" for i in sorted(set(want) - set(got))]
        problems += [f"extra {i}" for i in sorted(set(got) - set(want))]
        for i in sorted(set(want) & set(got)):
            cols = [f"{c}: {want[i][c]!r} != {got[i][c]!r}" for c in want[i] if want[i][c] != got[i][c]]
            if cols:
                problems.append(f"{i}: {'; '.join(cols)}")
        if problems:
            out[resource] = problems
    return out
