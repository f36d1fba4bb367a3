"""Syncing the tiny business from the fake Whop API over real HTTP, into SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from compare import SYNCED, differences, snapshot
from sqlalchemy.engine import Engine

from analytics.errors import SyncError
from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.faults import Fault
from analytics.sources.whop.sync import sync_whop
from analytics.store import quarantined
from analytics.store.schema import job_runs, membership_status_changes, memberships, sync_checkpoints

MakeClient = Callable[..., WhopClient]


def run(engine: Engine, client: WhopClient, **kw: Any) -> Any:
    return sync_whop(engine, client, ["biz_tiny"], progress=False, page_size=kw.pop("page_size", 2), **kw)


def test_full_sync_equals_the_business_record_for_record(
    engine: Engine, source_engine: Engine, make_client: MakeClient
) -> None:
    client = make_client()
    result = run(engine, client)
    assert differences(source_engine, engine) == {}
    # 7 memberships in 4 pages of 2, 9 payments in 5 pages, …: every record inserted exactly once.
    inserted = {r: c.inserted for r, c in result.resources.items() if c.inserted}
    assert inserted == {
        "products": 2,
        "variants": 3,
        "promo_codes": 1,
        "members": 6,
        "memberships": 7,
        "payments": 9,
        "refunds": 1,
        "courses": 1,
        "course_lessons": 3,
        "course_lesson_interactions": 4,
        "chat_channels": 1,
        "messages": 3,
        "forum_posts": 3,
        "affiliates": 1,
    }
    assert result.totals().quarantined == 0 and result.requests == client.requests
    with engine.connect() as conn:
        job = conn.execute(sa.select(job_runs)).mappings().one()
        unfinished = conn.execute(sa.select(sa.func.count()).where(sync_checkpoints.c.cursor.is_not(None))).scalar_one()
        history = conn.execute(
            sa.select(sa.func.count(sa.distinct(membership_status_changes.c.membership_id)))
        ).scalar_one()
        other = conn.execute(sa.select(sa.func.count()).where(memberships.c.account_id == "biz_other")).scalar_one()
    assert job["kind"] == "sync" and job["status"] == "succeeded" and job["account_id"] == "biz_tiny"
    assert job["summary"]["resources"]["memberships"]["inserted"] == 7 and job["summary"]["seconds"] >= 0
    assert unfinished == 0 and history == 7 and other == 0  # every membership has a history; no other tenant


def test_a_second_sync_without_changes_writes_nothing(engine: Engine, make_client: MakeClient) -> None:
    run(engine, make_client())
    again = run(engine, make_client())
    assert again.totals().inserted == 0 and again.totals().updated == 0


def test_incremental_sync_picks_up_exactly_the_changes(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    run(engine, make_client())
    before = {r: snapshot(source_engine, r) for r in SYNCED}
    changes = fake.advance(6)  # renewals, a failed renewal, signups, cancellations, maybe a refund, messages
    assert changes.changes["signups"] > 0 and changes.changes["renewals"] > 0
    after = {r: snapshot(source_engine, r) for r in SYNCED}
    result = run(engine, make_client())
    assert differences(source_engine, engine) == {}
    for resource in ("members", "memberships", "payments", "refunds"):
        new = set(after[resource]) - set(before[resource])
        changed = {i for i in before[resource] if after[resource].get(i) != before[resource][i]}
        counts = result.resources.get(resource)
        assert (counts.inserted if counts else 0, counts.updated if counts else 0) == (len(new), len(changed)), resource


def test_a_run_killed_mid_way_resumes_without_duplicates_or_gaps(
    engine: Engine, source_engine: Engine, make_client: MakeClient
) -> None:
    class Killed(Exception):
        pass

    def kill_on_third_payments_page(account: str, key: str, page: int) -> None:
        if key == "payments" and page == 3:
            raise Killed

    with pytest.raises(Killed):
        run(engine, make_client(max_concurrency=1), after_page=kill_on_third_payments_page, max_workers=1)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("select count(*) from payments")).scalar_one()
        resume = conn.execute(
            sa.select(sync_checkpoints.c.cursor).where(sync_checkpoints.c.resource == "payments")
        ).scalar_one()
        failed = conn.execute(sa.select(job_runs.c.status)).scalars().all()
    assert stored == 6 and resume is not None and failed == ["failed"]  # 3 pages of 2 stored, the cursor kept
    resumed = run(engine, make_client())
    assert resumed.resources["payments"].inserted == 3 and resumed.resources["payments"].fetched == 3
    assert differences(source_engine, engine) == {}


def test_a_server_that_dies_mid_sync_fails_cleanly_and_the_next_run_finishes(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    fake.faults.add(Fault("server_error", path="memberships", skip=2, times=-1))
    with pytest.raises(SyncError, match="503"):
        run(engine, make_client(max_retries=2))
    fake.faults.clear()
    run(engine, make_client())
    assert differences(source_engine, engine) == {}


def test_rate_limits_server_errors_and_timeouts_are_retried(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    fake.faults.add(
        Fault("rate_limit", path="memberships", times=2, retry_after=0.05),
        Fault("server_error", path="payments", times=2, status=500),
        Fault("server_error", path="members", times=1, status=503),
        Fault("slow", path="refunds", times=1, delay=1.0),
    )
    client = make_client(timeout=0.5)
    result = run(engine, client)
    assert client.retries >= 6 and result.retries == client.retries
    assert differences(source_engine, engine) == {}


def test_a_malformed_item_is_quarantined_and_reported(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    fake.faults.add(Fault("malformed", path="members"))
    result = run(engine, make_client(), page_size=10)
    assert result.resources["members"].quarantined == 1 and result.resources["members"].inserted == 5
    rejected = quarantined(engine, table_name="members")
    assert len(rejected) == 1 and "created_at" in rejected.loc[0, "reason"] and rejected.loc[0, "source"] == "sync"
    assert "not-a-timestamp" in rejected.loc[0, "raw"]
    run(engine, make_client(), full=True)  # the item is fine the next time: nothing was lost
    assert differences(source_engine, engine) == {}


def test_every_account_the_key_sees_is_synced_when_none_is_named(
    engine: Engine, source_engine: Engine, make_client: MakeClient
) -> None:
    result = sync_whop(engine, make_client(), progress=False)
    assert sorted(result.accounts) == ["biz_other", "biz_tiny"]
    assert differences(source_engine, engine, "biz_other") == {} and differences(source_engine, engine) == {}
