"""Property test: writing a snapshot run twice stores exactly what writing it once stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from analytics.clock import fixed_clock
from analytics.snapshots import read_snapshots, write_snapshots
from store_fixtures import fresh_account_id, module_store
from tiny_business import Business


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """SQLite and PostgreSQL only (the hand-written tests cover DuckDB): with DuckDB, Hypothesis runs end with
    nanobind "leaked instance" noise on stderr at interpreter exit."""
    yield from module_store(request.param, tmp_path_factory)


T0 = datetime(2025, 3, 1, tzinfo=UTC)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    period=st.sampled_from(["daily", "weekly"]),
    events=st.lists(
        st.tuples(
            st.integers(0, 2), st.sampled_from(["message", "login", "funnel_view", "purchase"]), st.integers(0, 9 * 24)
        ),
        max_size=25,
    ),
)
def test_snapshot_idempotency(engine: Engine, period: str, events: list[tuple[int, str, int]]) -> None:
    b = Business(engine, account_id=fresh_account_id(), time_zone="Europe/Paris")
    for i in range(3):
        b.member(f"m{i}", "2025-02-20")
    for member, kind, hour in events:
        b.event(f"m{member}", kind, (T0 + timedelta(hours=hour)).strftime("%Y-%m-%d %H:%M"))
    b.save()
    args = {"period": period, "start": "2025-03-01", "end": "2025-03-09", "accounts": [b.account_id], "progress": False}
    clock = fixed_clock(datetime(2025, 4, 1, tzinfo=UTC))
    write_snapshots(engine, clock=clock, **args)  # type: ignore[arg-type]
    once = read_snapshots(engine, b.account_id, period, channel=None)
    write_snapshots(engine, clock=clock, **args)  # type: ignore[arg-type]
    twice = read_snapshots(engine, b.account_id, period, channel=None)
    pd.testing.assert_frame_equal(once, twice)
    assert (once.filter(like="active_members").drop(columns="active_members_growth") >= 0).all().all()
