"""Property tests: on any small random business, counts are never negative and rates stay within [0, 100]."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from analytics.metrics import active_members, engagement_scores, funnel, lifecycle, messaging_rates, stickiness
from store_fixtures import fresh_account_id, module_store
from tiny_business import Business


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """SQLite and PostgreSQL only (the hand-written tests cover DuckDB): with DuckDB, Hypothesis runs end with
    nanobind "leaked instance" noise on stderr at interpreter exit."""
    yield from module_store(request.param, tmp_path_factory)


T0 = datetime(2025, 3, 1, tzinfo=UTC)
KINDS = ["message", "login", "post_view", "lesson_complete", "funnel_view", "checkout_start", "purchase"]
STATUSES = ["accepted", "sent", "delivered", "read", "failed"]

events = st.lists(st.tuples(st.integers(0, 4), st.sampled_from(KINDS), st.integers(0, 14 * 24 * 60)), max_size=40)
messages = st.lists(
    st.tuples(
        st.integers(0, 2), st.sampled_from(["outbound", "inbound"]), st.sampled_from(STATUSES), st.integers(0, 10 * 24)
    ),
    max_size=15,
)
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


def _business(engine: Engine, tz: str, joins: list[int], evs: list[tuple[int, str, int]]) -> Business:
    b = Business(engine, account_id=fresh_account_id(), time_zone=tz)
    for i, day in enumerate(joins):
        b.member(f"m{i}", (T0 + timedelta(days=day - 5)).strftime("%Y-%m-%d %H:%M"))
    for member, kind, minute in evs:
        if member < len(joins):
            b.event(f"m{member}", kind, (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M"))
    return b.save()


@SETTINGS
@given(
    tz=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
    joins=st.lists(st.integers(0, 14), max_size=5),
    evs=events,
)
def test_engagement_numbers_stay_in_range(
    engine: Engine, tz: str, joins: list[int], evs: list[tuple[int, str, int]]
) -> None:
    b = _business(engine, tz, joins, evs)
    period = {"start": "2025-03-01", "end": "2025-03-14"}
    dau = active_members(engine, b.account_id, **period)
    assert (dau["active_members"] >= 0).all() and (dau["active_members"] <= len(joins)).all()
    life = lifecycle(engine, b.account_id, **period, grain="week")
    assert (life[["new", "returning", "resurrecting", "dormant"]] >= 0).all().all()
    sticky = stickiness(engine, b.account_id, **period, grain="week")
    assert sticky["share_pct"].between(0, 100).all() and (sticky["members"] >= 0).all()
    scores = engagement_scores(engine, b.account_id, as_of="2025-03-15")
    assert scores["score"].between(0, 100).all() and scores["course_progress_pct"].between(0, 100).all()
    steps = funnel(engine, b.account_id, "checkout")
    assert steps["overall_conversion_pct"].between(0, 100).all() and steps["step_conversion_pct"].between(0, 100).all()
    assert steps["members"].is_monotonic_decreasing and (steps["members"] >= 0).all()


@SETTINGS
@given(rows=messages)
def test_messaging_rates_stay_in_range(engine: Engine, rows: list[tuple[int, str, str, int]]) -> None:
    b = Business(engine, account_id=fresh_account_id())
    for contact in range(3):
        b.contact(f"c{contact}")
    for contact, direction, status, hour in rows:
        when = (T0 + timedelta(hours=hour)).strftime("%Y-%m-%d %H:%M")
        b.message(f"c{contact}", direction, "received" if direction == "inbound" else status, when)
    b.save()
    frame = messaging_rates(engine, b.account_id, start="2025-03-01", end="2025-03-31", by=None)
    rates = frame[["delivery_rate_pct", "read_rate_pct", "failure_rate_pct", "reply_rate_pct"]]
    assert rates.apply(lambda c: c.between(0, 100)).all().all()
    row = frame.iloc[0]
    # the status ladder: attempted ≥ sent ≥ delivered ≥ read ≥ 0; replies only among delivered messages
    assert row.attempted >= row.sent >= row.delivered >= row.read >= 0
    assert 0 <= row.replied <= row.delivered and row.failed <= row.attempted
