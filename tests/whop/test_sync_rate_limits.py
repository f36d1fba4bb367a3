"""The sync paces itself by the API: ``retry-after`` as given, adaptive rate, a time budget, a resumable stop.

The client gets a fake monotonic clock whose ``sleep`` only moves the clock forward, so a test of a two-minute
``retry-after`` or a five-minute budget takes no real time; requests still go over real HTTP to the fake API.
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from compare import differences
from sqlalchemy.engine import Engine

from analytics.errors import SyncError
from analytics.sources.whop.client import RateLimiter, WhopClient, retry_after_seconds
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.faults import Fault
from analytics.sources.whop.sync import sync_whop
from analytics.store.schema import job_runs, sync_checkpoints

MakeClient = Callable[..., WhopClient]


class FakeTime:
    """Monotonic seconds that only ``sleep`` advances; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def run(engine: Engine, client: WhopClient, **kw: Any) -> Any:
    return sync_whop(engine, client, ["biz_tiny"], progress=False, page_size=2, **kw)


def paced_client(make_client: MakeClient, time: FakeTime, **kw: Any) -> WhopClient:
    return make_client(clock=time.clock, sleep=time.sleep, **kw)


@pytest.mark.parametrize("form", ["seconds", "http-date", "ms"])
def test_retry_after_is_waited_out_as_the_server_gives_it(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient, form: str
) -> None:
    """Two minutes asked is two minutes waited (it used to be cut to 30 s), in each form the header takes."""
    fake.faults.add(Fault("rate_limit", path="memberships", retry_after=120, retry_after_format=form))
    time = FakeTime()
    client = paced_client(make_client, time)
    run(engine, client)
    waited = max(time.sleeps)
    # an HTTP date has whole seconds: the server rounds its "now + 120 s" down, so 119–120 s remain
    assert (119 <= waited <= 120) if form == "http-date" else waited == 120
    assert client.rate_limited == 1 and differences(source_engine, engine) == {}


def test_a_run_of_429s_slows_the_sync_down_instead_of_aborting(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    """Twelve 429s in a row (each asking 2 s) used to abort after 5 retries; now the sync waits each out, halves
    its request rate each time and finishes."""
    fake.faults.add(Fault("rate_limit", path="payments", times=12, retry_after=2, retry_after_format="seconds"))
    time = FakeTime()
    client = paced_client(make_client, time, max_concurrency=1)
    run(engine, client, max_workers=1)
    assert client.rate_limited == 12 and sum(time.sleeps) >= 12 * 2
    # 1000/s halved twelve times is 0.24/s: after the last pause the next request waited ~4 s for its token
    assert any(3.5 < s < 4.5 for s in time.sleeps)
    assert client.limiter.rate < client.limiter.max_rate  # recovering slowly: 1 % of the rate per success
    assert differences(source_engine, engine) == {}


def test_the_time_budget_stops_a_rate_limited_sync_and_the_next_run_resumes(
    engine: Engine, source_engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    """A server that keeps answering 429 (retry in 60 s) after two pages of payments: the 5-minute budget runs
    out, the run stops with a clear message and a checkpoint, and the next run picks up at page three."""
    fake.faults.add(Fault("rate_limit", path="payments", skip=2, times=-1, retry_after=60))
    time = FakeTime()
    with pytest.raises(SyncError, match=r"time budget of 5 min \(ANALYTICS_SYNC_TIME_BUDGET\) ran out") as caught:
        run(engine, paced_client(make_client, time, max_concurrency=1), max_workers=1, time_budget=timedelta(minutes=5))
    assert "the next sync resumes where this one stopped" in str(caught.value)
    assert sum(time.sleeps) <= 300
    with engine.connect() as conn:
        job = conn.execute(sa.select(job_runs.c.status, job_runs.c.error)).one()
        resume = conn.execute(
            sa.select(sync_checkpoints.c.cursor).where(sync_checkpoints.c.resource == "payments")
        ).scalar_one()
        stored = conn.execute(sa.text("select count(*) from payments where account_id = 'biz_tiny'")).scalar_one()
    assert job.status == "failed" and "time budget" in job.error
    assert resume is not None and stored == 4  # two pages of two, and where to go on from
    fake.faults.clear()
    resumed = run(engine, make_client())
    assert resumed.resources["payments"].inserted == 5 and resumed.resources["payments"].fetched == 5
    assert differences(source_engine, engine) == {}


def test_a_wait_longer_than_the_maximum_stops_the_sync_with_a_clear_message(
    engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    fake.faults.add(Fault("rate_limit", path="members", retry_after=7200, retry_after_format="seconds"))
    time = FakeTime()
    with pytest.raises(SyncError, match=r"asking to wait 2 h \(retry-after\), longer than the 10 min") as caught:
        run(engine, paced_client(make_client, time))
    assert "ANALYTICS_SYNC_MAX_RETRY_AFTER" in str(caught.value) and max(time.sleeps, default=0) < 600


def test_server_errors_are_still_retried_a_bounded_number_of_times(
    engine: Engine, fake: FakeWhop, make_client: MakeClient
) -> None:
    """A 503 without retry-after is a failure, not pacing: max_retries, then a clear error."""
    fake.faults.add(Fault("server_error", path="members", times=-1))
    time = FakeTime()
    client = paced_client(make_client, time, max_retries=3)
    with pytest.raises(SyncError, match="503"):
        run(engine, client)
    assert fake.requests["members"] == 4 and client.rate_limited == 0


def test_the_rate_halves_on_each_rate_limit_and_recovers_one_percent_per_success() -> None:
    time = FakeTime()
    limiter = RateLimiter(20.0, clock=time.clock, sleep=time.sleep)
    for expected in (10.0, 5.0, 2.5):
        limiter.slow_down(0)
        assert limiter.rate == expected
    for _ in range(10):
        limiter.speed_up()
    assert limiter.rate == pytest.approx(2.5 + 10 * 0.2)
    for _ in range(8):
        limiter.slow_down(0)
    assert limiter.rate == 0.1  # the floor: one request every 10 s
    limiter.slow_down(30)  # a pause holds every thread back: the next token comes after it
    before = time.now
    limiter.acquire()
    assert time.now - before >= 30


def response(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers)


NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "120"}, 120.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": email.utils.format_datetime(NOW + timedelta(minutes=3), usegmt=True)}, 180.0),
        ({"retry-after": email.utils.format_datetime(NOW - timedelta(minutes=3), usegmt=True)}, 0.0),
        ({"retry-after-ms": "2500", "retry-after": "3"}, 2.5),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers_are_read_in_every_form(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(response(**headers), NOW) == seconds
