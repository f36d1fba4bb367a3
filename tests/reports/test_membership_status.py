"""memberships_by_status: each membership counted in the status of its last change before the period's end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics import MetricRequest, get
from analytics.metrics import membership_status as _registered  # noqa: F401
from analytics.store import upsert_rows
from analytics.store.schema import accounts, members, membership_status_changes, memberships, plans, products


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tiny_business(engine: Engine) -> None:
    """Three members, five memberships (product A: ms1–ms3, product B: ms4–ms5):

    ms1 (m1, A) trialing 1 Jan, active 15 Jan      ms2 (m2, A) active 5 Jan, canceled 20 Jan
    ms3 (m3, A) active 10 Jan                      ms4 (m3, B) active 10 Feb (after January)
    ms5 (m1, B) active 3 Jan, past_due 25 Jan
    """
    t0 = at("2024-12-01")
    history = [
        ("ms1", "m1", "A", [("2025-01-01", "trialing"), ("2025-01-15", "active")]),
        ("ms2", "m2", "A", [("2025-01-05", "active"), ("2025-01-20", "canceled")]),
        ("ms3", "m3", "A", [("2025-01-10", "active")]),
        ("ms4", "m3", "B", [("2025-02-10", "active")]),
        ("ms5", "m1", "B", [("2025-01-03", "active"), ("2025-01-25", "past_due")]),
    ]
    with engine.begin() as conn:
        upsert_rows(conn, accounts, [{"id": "biz_1", "title": "Tiny", "time_zone": "UTC", "created_at": t0}])
        upsert_rows(conn, products, [{"account_id": "biz_1", "id": p, "title": f"Product {p}"} for p in "AB"])
        upsert_rows(
            conn,
            plans,
            [
                {
                    "account_id": "biz_1",
                    "id": f"plan_{p}",
                    "product_id": p,
                    "plan_type": "renewal",
                    "currency": "usd",
                    "initial_price_minor": 1000,
                    "renewal_price_minor": 1000,
                    "billing_period_days": 30,
                }
                for p in "AB"
            ],
        )
        upsert_rows(conn, members, [{"account_id": "biz_1", "id": m, "status": "joined"} for m in ("m1", "m2", "m3")])
        upsert_rows(
            conn,
            memberships,
            [
                {
                    "account_id": "biz_1",
                    "id": ms,
                    "member_id": m,
                    "product_id": p,
                    "plan_id": f"plan_{p}",
                    "status": changes[-1][1],
                    "created_at": at(changes[0][0]),
                }
                for ms, m, p, changes in history
            ],
        )
        upsert_rows(
            conn,
            membership_status_changes,
            [
                {
                    "account_id": "biz_1",
                    "id": f"{ms}_{i}",
                    "membership_id": ms,
                    "member_id": m,
                    "changed_at": at(day),
                    "status": status,
                    "plan_id": f"plan_{p}",
                }
                for ms, m, p, changes in history
                for i, (day, status) in enumerate(changes)
            ],
        )


def by_status(engine: Engine, end: str, **kw: object) -> list[tuple[object, ...]]:
    request = MetricRequest.build("biz_1", end, end, "day", **kw)  # type: ignore[arg-type]
    frame = get("memberships_by_status").function(engine, request)
    return [tuple(row) for row in frame.itertuples(index=False)]


def test_status_at_the_end_of_january(engine: Engine) -> None:
    tiny_business(engine)
    # 31 Jan: ms1, ms3 active; ms5 past_due; ms2 canceled; ms4 not started. m1 holds ms1 and ms5 in two statuses.
    assert by_status(engine, "2025-01-31") == [("active", 2, 2), ("past_due", 1, 1), ("canceled", 1, 1)]
    # 12 Jan: ms1 trialing; ms2, ms3, ms5 active (m1 counted once among members though it has ms1 trialing too)
    assert by_status(engine, "2025-01-12") == [("trialing", 1, 1), ("active", 3, 3)]


def test_breakdown_by_product(engine: Engine) -> None:
    tiny_business(engine)
    assert by_status(engine, "2025-02-28", breakdowns=("product",)) == [
        ("active", "A", 2, 2),  # ms1, ms3
        ("active", "B", 1, 1),  # ms4
        ("past_due", "B", 1, 1),  # ms5
        ("canceled", "A", 1, 1),  # ms2
    ]
    with pytest.raises(MetricError, match="cannot be broken down by channel"):
        by_status(engine, "2025-02-28", breakdowns=("channel",))
