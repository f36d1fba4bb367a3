"""Items the API served malformed are quarantined, fetched again by id by the next incremental sync, and resolved.

The fake API serves four items of the tiny business broken (``created_at: "not-a-timestamp"``) wherever they
appear, in list pages and by id: memberships ``mem_3`` (canceled) and ``mem_6`` (one-time, completed), payment
``pay_7`` (mem_5's first, $15.00 with the promo code: it sets mem_5's price in the derived history) and chat
message ``chmsg_1`` (the oldest). None of them is in an open set or newer than a watermark, so no listing of an
incremental sync meets them again: only fetching them by id does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from compare import differences
from sqlalchemy.engine import Engine

from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.faults import Fault
from analytics.sources.whop.sync import sync_whop
from analytics.store import create_store_engine, init_store, quarantined
from analytics.store.schema import membership_status_changes

MakeClient = Callable[..., WhopClient]
BROKEN = {"memberships": ["mem_3", "mem_6"], "payments": ["pay_7"], "messages": ["chmsg_1"]}
TABLES = {"memberships": "memberships", "payments": "payments", "messages": "activity_events"}


def run(engine: Engine, client: WhopClient, **kw: Any) -> Any:
    return sync_whop(engine, client, ["biz_tiny"], progress=False, page_size=2, **kw)


def break_items(fake: FakeWhop) -> None:
    fake.faults.add(
        *(Fault("malformed", path=resource, item_id=i, times=-1) for resource, ids in BROKEN.items() for i in ids)
    )


def history(engine: Engine) -> list[dict[str, Any]]:
    """Every membership status change, in a stable order (what a clean full sync derives)."""
    h = membership_status_changes
    with engine.connect() as conn:
        rows = conn.execute(sa.select(h).order_by(h.c.account_id, h.c.membership_id, h.c.id)).mappings().all()
    return [dict(r) for r in rows]


def clean_full_sync(folder: Path, client: WhopClient) -> Engine:
    clean = create_store_engine(f"sqlite:///{folder / 'clean.db'}")
    init_store(clean)
    run(clean, client)
    return clean


def test_quarantined_items_are_fetched_again_by_id_and_resolved(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient, tmp_path: Path
) -> None:
    break_items(fake)
    first = run(engine, make_client())
    assert {r: first.resources[r].quarantined for r in BROKEN} == {"memberships": 2, "payments": 1, "messages": 1}
    rows = quarantined(engine)
    assert sorted(zip(rows["resource"], rows["item_id"], strict=True)) == sorted(
        (r, i) for r, ids in BROKEN.items() for i in ids
    )
    assert rows["resolved_at"].isna().all()
    message = rows[rows["item_id"] == "chmsg_1"].iloc[0]
    assert message["parent"] == {"channel_id": "chan_1", "product_id": "prod_community"}  # how it was listed
    assert sorted(differences(source_engine, engine)) == ["memberships", "messages", "payments"]

    fake.faults.clear()  # the API serves them correctly now
    second = run(engine, make_client())

    assert differences(source_engine, engine) == {}
    # each was fetched once more, by id (list endpoints are counted under their own names)
    assert {f"{r}/{{id}}": fake.requests[f"{r}/{{id}}"] for r in BROKEN} == {
        "memberships/{id}": 2,
        "payments/{id}": 1,
        "messages/{id}": 1,
    }
    assert {r: second.resources[r].inserted for r in BROKEN} == {"memberships": 2, "payments": 1, "messages": 1}
    after = quarantined(engine)
    assert len(after) == 4 and after["resolved_at"].notna().all()  # the same four rows, now resolved
    # the store equals a clean full sync, status history included (mem_5's is derived again with pay_7)
    clean = clean_full_sync(tmp_path, make_client())
    try:
        assert history(engine) == history(clean)
    finally:
        clean.dispose()


def test_an_item_still_broken_keeps_one_unresolved_row_until_it_loads(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    fake.faults.add(Fault("malformed", path="memberships", item_id="mem_3", times=-1))
    run(engine, make_client())
    run(engine, make_client())  # fetched again by id, still broken: the same row is updated, not repeated
    rows = quarantined(engine, table_name="memberships")
    assert len(rows) == 1 and pd.isna(rows.loc[0, "resolved_at"]) and "created_at" in rows.loc[0, "reason"]
    assert fake.requests["memberships/{id}"] == 1
    fake.faults.clear()
    run(engine, make_client())
    rows = quarantined(engine, table_name="memberships")
    assert len(rows) == 1 and pd.notna(rows.loc[0, "resolved_at"])
    assert differences(source_engine, engine) == {}


def test_a_full_sync_resolves_what_it_loads(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    break_items(fake)
    run(engine, make_client())
    fake.faults.clear()
    run(engine, make_client(), full=True)  # lists everything again: no fetching by id needed
    assert sum(v for k, v in fake.requests.items() if k.endswith("/{id}") and not k.startswith("accounts")) == 0
    assert quarantined(engine)["resolved_at"].notna().all()
    assert differences(source_engine, engine) == {}
