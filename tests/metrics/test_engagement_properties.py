"""Property tests: on any small random business, counts are never negative and rates stay within [0, 100]."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from analytics.metrics import (
    active_members,
    engagement_scores,
    engagement_segments,
    funnel,
    idle_members,
    lifecycle,
    messaging_rates,
    stickiness,
)
from analytics.metrics.engagement import current_member_days
from analytics.metrics.membership_state import ACCESS_STATUSES
from analytics.metrics.timeframe import TimeWindow
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
MEMBERSHIP_STATUSES = ["trialing", "active", "canceling", "past_due", "completed", "canceled", "expired", "drafted"]

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


def _business(
    engine: Engine, tz: str, joins: list[int], evs: list[tuple[int, str, int]], *, save: bool = True
) -> Business:
    b = Business(engine, account_id=fresh_account_id(), time_zone=tz)
    for i, day in enumerate(joins):
        b.member(f"m{i}", (T0 + timedelta(days=day - 5)).strftime("%Y-%m-%d %H:%M"))
    for member, kind, minute in evs:
        if member < len(joins):
            b.event(f"m{member}", kind, (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M"))
    return b.save() if save else b


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


# a membership history: (member, [(day offset, status), …]); days count from T0 − 5 days, as the joins do
histories = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.lists(st.tuples(st.integers(0, 12), st.sampled_from(MEMBERSHIP_STATUSES)), min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=6,
)


@settings(SETTINGS, max_examples=20)
@given(
    joins=st.lists(st.integers(0, 10), min_size=1, max_size=4),
    history=histories,
    evs=events,
    as_of_day=st.integers(2, 18),
)
def test_current_members_are_those_with_access(
    engine: Engine,
    joins: list[int],
    history: list[tuple[int, list[tuple[int, str]]]],
    evs: list[tuple[int, str, int]],
    as_of_day: int,
) -> None:
    """Current members = joined before as_of with a membership whose last change before it gives access (checked
    against that definition in Python); they are a subset of all members, and their segments and idle members
    are the "all" population's restricted to them."""
    b = _business(engine, "UTC", joins, [], save=False)
    base = T0 - timedelta(days=5)
    for member, changes in history:
        if member < len(joins):
            ordered = sorted(changes, key=lambda c: c[0])  # same-day changes: the later row (larger id) wins
            b.membership(f"m{member}", *[((base + timedelta(days=d)).strftime("%Y-%m-%d"), st_) for d, st_ in ordered])
    for member, kind, minute in evs:
        if member < len(joins):
            b.event(f"m{member}", kind, (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M"))
    b.save()
    as_of = base + timedelta(days=as_of_day, hours=12)
    expected = set()
    for member, changes in history:
        if member >= len(joins) or base + timedelta(days=joins[member]) >= as_of:
            continue
        before = [status for d, status in sorted(changes, key=lambda c: c[0]) if base + timedelta(days=d) < as_of]
        if before and before[-1] in ACCESS_STATUSES:
            expected.add(f"m{member}")
    current = engagement_scores(engine, b.account_id, as_of=as_of)
    everyone = engagement_scores(engine, b.account_id, as_of=as_of, population="all")
    assert set(current["member_id"]) == expected
    assert expected <= set(everyone["member_id"])
    columns = ["member_id", "score", "segment", "idle"]
    restricted = everyone[everyone["member_id"].isin(expected)]
    assert current[columns].values.tolist() == restricted[columns].values.tolist()  # same scores, member by member
    segments = engagement_segments(engine, b.account_id, as_of=as_of).set_index("segment")["members"]
    assert segments[["high", "medium", "low"]].sum() == len(expected) and segments["idle"] == current["idle"].sum()
    idle = set(idle_members(engine, b.account_id, as_of=as_of)["member_id"])
    assert idle == set(idle_members(engine, b.account_id, as_of=as_of, population="all")["member_id"]) & expected


@settings(SETTINGS, max_examples=15)
@given(
    tz=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
    joins=st.lists(st.integers(0, 10), min_size=1, max_size=4),
    history=histories,
)
def test_current_member_days_match_the_instants(
    engine: Engine, tz: str, joins: list[int], history: list[tuple[int, list[tuple[int, str]]]]
) -> None:
    """The day ranges the snapshots count current members with hold, day by day, the members that
    ``engagement_scores`` counts at each local midnight (overlapping memberships counted once)."""
    b = _business(engine, tz, joins, [], save=False)
    base = T0 - timedelta(days=5)
    for member, changes in history:
        if member < len(joins):
            ordered = sorted(changes, key=lambda c: c[0])
            hours = 7 * (member + 1)  # changes at different hours of the day, local midnight included for some zones
            b.membership(
                f"m{member}",
                *[((base + timedelta(days=d, hours=hours)).strftime("%Y-%m-%d %H:%M"), st_) for d, st_ in ordered],
            )
    b.save()
    first, last = date(2025, 2, 26), date(2025, 3, 12)
    window = TimeWindow(b.account_id, tz, first, last, "day")
    with engine.connect() as conn:
        query = current_member_days(b.account_id, window.start_utc, window.end_utc, tz, engine.dialect.name)
        ranges = conn.execute(query).all()
    for offset in range(1, (last - first).days + 1):
        day = first + timedelta(days=offset)
        number = (day - date(1970, 1, 1)).days
        holding = sorted(member for member, a, end in ranges if a <= number < end)
        assert holding == engagement_scores(engine, b.account_id, as_of=day)["member_id"].tolist(), day
