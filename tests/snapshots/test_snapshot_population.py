"""Snapshots count current members: the daily ``current_members`` and ``idle_members`` equal the engagement metrics.

The snapshot computes a whole range of days in one query (ranges of days per member); the metrics answer one
instant each. Across a daylight-saving change, a member who leaves, one who comes back, one with two overlapping
memberships, a new one-time buyer and a lead, both must give the same numbers every day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.clock import fixed_clock
from analytics.metrics import engagement_scores, idle_members
from analytics.snapshots import read_snapshots, write_snapshots
from tiny_business import Business, at


@pytest.fixture
def comings_and_goings(business: Business) -> Business:
    """An account in Paris (clocks go forward on 30 March 2025); times are UTC.

    stay:   active since Jan 1; logins Mar 26 10:00 and Apr 2 10:00.
    leaves: active Jan 1, canceled Mar 28 15:00; login Mar 20 10:00.
    two:    membership A active Feb 1, expired Mar 31 12:00; B trialing Mar 27 08:00, active Apr 3 08:00.
    gap:    active Jan 1, canceled Mar 26 10:00; a new membership active from Mar 29 10:00; message Mar 30 12:00.
    new:    joins Mar 31 09:00 with a one-time purchase (completed).
    lead:   joined Mar 1, no membership; funnel_view Mar 27 10:00.
    """
    b = business
    b.time_zone = "Europe/Paris"
    for member, joined in [
        ("stay", "2025-01-01"),
        ("leaves", "2025-01-01"),
        ("two", "2025-02-01"),
        ("gap", "2025-01-01"),
        ("new", "2025-03-31 09:00"),
        ("lead", "2025-03-01"),
    ]:
        b.member(member, joined)
    b.membership("stay", ("2025-01-01", "active"))
    b.membership("leaves", ("2025-01-01", "active"), ("2025-03-28 15:00", "canceled"))
    b.membership("two", ("2025-02-01", "active"), ("2025-03-31 12:00", "expired"))
    b.membership("two", ("2025-03-27 08:00", "trialing"), ("2025-04-03 08:00", "active"))
    b.membership("gap", ("2025-01-01", "active"), ("2025-03-26 10:00", "canceled"))
    b.membership("gap", ("2025-03-29 10:00", "active"))
    b.membership("new", ("2025-03-31 09:00", "completed"), period=None)
    b.event("stay", "login", "2025-03-26 10:00")
    b.event("stay", "login", "2025-04-02 10:00")
    b.event("leaves", "login", "2025-03-20 10:00")
    b.event("gap", "message", "2025-03-30 12:00")
    b.event("lead", "funnel_view", "2025-03-27 10:00")
    return b.save()


def test_daily_current_and_idle_members_equal_the_metrics(comings_and_goings: Business) -> None:
    b = comings_and_goings
    write_snapshots(
        b.engine,
        period="daily",
        start="2025-03-24",
        end="2025-04-04",
        accounts=[b.account_id],
        clock=fixed_clock(at("2025-04-10 06:00")),
        progress=False,
    )
    frame = read_snapshots(b.engine, b.account_id, "daily").set_index("period_start")
    by_day = {ts.date(): row for ts, row in frame.iterrows()}
    # by hand, at the end of Saturday 29 March (Paris): stay, two and gap (back since 10:00) are current; leaves
    # canceled the day before. Idle: two (no event ever) and gap (no event in the 7 days before); stay logged in
    # on the 26th
    assert (by_day[date(2025, 3, 29)]["current_members"], by_day[date(2025, 3, 29)]["idle_members"]) == (3, 2)
    # at the end of Tuesday 1 April: stay, two (on B), gap and new are current; two and new are idle
    assert (by_day[date(2025, 4, 1)]["current_members"], by_day[date(2025, 4, 1)]["idle_members"]) == (4, 2)
    # at the end of 27 March gap has canceled (on the 26th) and leaves not yet: stay, leaves, two; leaves (last
    # login Mar 20 10:00 UTC, before Mar 20 23:00 UTC = 7 days before Mar 28 00:00 in Paris) and two are idle
    assert (by_day[date(2025, 3, 27)]["current_members"], by_day[date(2025, 3, 27)]["idle_members"]) == (3, 2)
    for day, row in by_day.items():
        as_of = day + timedelta(days=1)  # the local midnight after the day
        current = engagement_scores(b.engine, b.account_id, as_of=as_of)
        idle = idle_members(b.engine, b.account_id, as_of=as_of)
        assert (row["current_members"], row["idle_members"]) == (len(current), len(idle)), day
        assert row["members_total"] == len(engagement_scores(b.engine, b.account_id, as_of=as_of, population="all"))
