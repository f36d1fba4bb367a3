"""Who the engagement state metrics count: current members (access at ``as_of``, the default) or all who joined.

A current member at ``as_of`` joined before it and has a membership whose last status change before ``as_of`` is
trialing, active, canceling, past_due or completed (free memberships too). Every number below is derived by hand
in the fixture's docstring, on SQLite, PostgreSQL and DuckDB.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.demo import generate
from analytics.demo.load import load_demo
from analytics.errors import MetricError
from analytics.metrics import (
    MetricRequest,
    engagement_scores,
    engagement_segments,
    get,
    idle_members,
    top_members,
)
from analytics.store.schema import members
from tiny_business import Business

AS_OF = date(2025, 3, 15)  # midnight UTC: the 7 days before start on Mar 8 00:00


@pytest.fixture
def club(business: Business) -> Business:
    """Seven members who joined before the 15th (and one who joins after), their memberships and events.

    ====== ================================================ ===================== =========== ===== ======
    member membership history                               events                 current?    score idle
    ====== ================================================ ===================== =========== ===== ======
    left   active Jan 1, canceled Feb 1                     login Jan 20 10:00     no (left)      0  yes
    never  free (price 0) active since Feb 1                none                   yes            0  yes
    active trialing Jan 10, active Jan 17                   10 messages + 7 logins yes           70  no
                                                            Mar 8–14
    idle   one-time purchase, completed Jan 5               login Mar 1 10:00      yes           11  yes
    lead   no membership                                    funnel_view Mar 12     no (none)     19  no
    grace  active Jan 1, past_due Mar 12                    login Mar 5 12:00      yes (grace)   14  yes
    ending active Jan 1, canceled Mar 15 00:00 (= as_of)    message Mar 14 20:00   yes           23  no
    later  joins Mar 20, active Mar 20                      —                      never scored
    ====== ================================================ ===================== =========== ===== ======

    ``ending`` is still current: its cancellation is not *before* ``as_of``. Scores, with the default weights:
    active 0.3·1 + 0.2·1 + 0 + 0.2·1 = 0.70 → 70; idle 0.2·(1 − 13/30) = 0.113 → 11 (Mar 1 10:00 → Mar 15
    00:00 is 13 whole days); lead 0.2·(1 − 2/30) = 0.187 → 19; grace 0.2·(1 − 9/30) = 0.14 → 14; ending
    0.3·(1/10) + 0.2·1 = 0.23 → 23; left (last event 53 days before) and never: 0.
    """
    b = business
    for member, joined in [
        ("left", "2025-01-01"),
        ("never", "2025-02-01"),
        ("active", "2025-01-10"),
        ("idle", "2025-01-05"),
        ("lead", "2025-02-15"),
        ("grace", "2025-01-01"),
        ("ending", "2025-01-01"),
        ("later", "2025-03-20"),
    ]:
        b.member(member, joined)
    b.membership("left", ("2025-01-01", "active"), ("2025-02-01", "canceled"))
    b.membership("never", ("2025-02-01", "active"), price=0)
    b.membership("active", ("2025-01-10", "trialing"), ("2025-01-17", "active"))
    b.membership("idle", ("2025-01-05", "completed"), period=None)
    b.membership("grace", ("2025-01-01", "active"), ("2025-03-12", "past_due"))
    b.membership("ending", ("2025-01-01", "active"), ("2025-03-15", "canceled"))
    b.membership("later", ("2025-03-20", "active"))
    b.event("left", "login", "2025-01-20 10:00")
    for day in range(8, 15):
        b.event("active", "login", f"2025-03-{day:02d} 08:00")
    for day in range(8, 13):
        b.event("active", "message", f"2025-03-{day:02d} 09:00")
        b.event("active", "message", f"2025-03-{day:02d} 10:00")
    b.event("idle", "login", "2025-03-01 10:00")
    b.event("lead", "funnel_view", "2025-03-12 09:00")
    b.event("grace", "login", "2025-03-05 12:00")
    b.event("ending", "message", "2025-03-14 20:00")
    b.event("later", "login", "2025-03-21 10:00")
    return b.save()


CURRENT = ["active", "ending", "grace", "idle", "never"]
ALL = ["active", "ending", "grace", "idle", "lead", "left", "never"]


def test_scores_count_current_members_by_default(club: Business) -> None:
    scores = engagement_scores(club.engine, club.account_id, as_of=AS_OF)
    assert scores["member_id"].tolist() == CURRENT  # not left (canceled), lead (no membership) or later (joins after)
    assert dict(zip(scores["member_id"], scores["score"], strict=True)) == {
        "active": 70,
        "ending": 23,
        "grace": 14,
        "idle": 11,
        "never": 0,
    }
    everyone = engagement_scores(club.engine, club.account_id, as_of=AS_OF, population="all")
    assert everyone["member_id"].tolist() == ALL
    # a member's score does not depend on the population it is counted in
    both = everyone.merge(scores, on="member_id", suffixes=("", "_current"))
    assert (both["score"] == both["score_current"]).all()
    assert everyone.set_index("member_id").loc[["left", "lead"], "score"].tolist() == [0, 19]


def test_segments_of_each_population(club: Business) -> None:
    current = engagement_segments(club.engine, club.account_id, as_of=AS_OF).set_index("segment")
    # 5 current members: high = active; low = ending, grace, idle, never; idle = never, idle, grace
    assert current["members"].to_dict() == {"high": 1, "medium": 0, "low": 4, "idle": 3}
    assert current["share_pct"].to_dict() == {"high": 20.0, "medium": 0.0, "low": 80.0, "idle": 60.0}
    everyone = engagement_segments(club.engine, club.account_id, as_of=AS_OF, population="all").set_index("segment")
    # 7 members: left and lead join the low segment; left (53 days without an event) is also idle
    assert everyone["members"].to_dict() == {"high": 1, "medium": 0, "low": 6, "idle": 4}
    assert everyone["share_pct"].to_dict() == {"high": 14.29, "medium": 0.0, "low": 85.71, "idle": 57.14}
    # the three segments make up the population; idle overlaps them
    assert current.loc[["high", "medium", "low"], "share_pct"].sum() == 100.0


def test_idle_members_of_each_population(club: Business) -> None:
    idle = idle_members(club.engine, club.account_id, as_of=AS_OF)
    # never (no event ever) first, then the longest idle: idle 13 days, grace 9 days
    assert idle["member_id"].tolist() == ["never", "idle", "grace"]
    assert idle["days_inactive"].tolist()[1:] == [13, 9]
    everyone = idle_members(club.engine, club.account_id, as_of=AS_OF, population="all")
    # the member who left on Feb 1 is idle for ever in "all": last login Jan 20 10:00, 53 whole days before
    assert everyone["member_id"].tolist() == ["never", "left", "idle", "grace"]
    assert everyone["days_inactive"].tolist()[1] == 53


def test_access_is_read_at_the_instant(club: Business) -> None:
    # on Feb 1 (midnight) "left" still has access (its cancellation is not before that instant) and "never" has not
    # joined yet (it joins at that instant, not before it); "lead" joins on the 15th
    scores = engagement_scores(club.engine, club.account_id, as_of="2025-02-01")
    assert scores["member_id"].tolist() == ["active", "ending", "grace", "idle", "left"]
    # the day after, "left" has no access and "never" has its free membership
    after = engagement_scores(club.engine, club.account_id, as_of="2025-02-02")
    assert after["member_id"].tolist() == ["active", "ending", "grace", "idle", "never"]
    # on Mar 16 "ending" has been canceled since the 15th
    assert "ending" not in engagement_scores(club.engine, club.account_id, as_of="2025-03-16")["member_id"].tolist()


def test_changes_at_the_same_instant_go_by_row_order(business: Business) -> None:
    """Two status rows of one membership at the same instant: the later row (larger id) is the state, as in
    ``memberships_by_status``."""
    business.member("a", "2025-01-01")
    business.member("b", "2025-01-01")
    business.membership("a", ("2025-01-01", "active"), ("2025-03-01", "active"), ("2025-03-01", "canceled"))
    business.membership("b", ("2025-01-01", "canceled"), ("2025-03-01", "canceled"), ("2025-03-01", "active"))
    business.save()
    scores = engagement_scores(business.engine, business.account_id, as_of=AS_OF)
    assert scores["member_id"].tolist() == ["b"]


def test_population_through_the_catalog(club: Business) -> None:
    request = MetricRequest.build(club.account_id, "2025-03-14", "2025-03-14", "day")
    idle = get("idle_members").function(club.engine, request)  # as of the end of Mar 14 = AS_OF
    assert idle["member_id"].tolist() == ["never", "idle", "grace"]
    everyone = MetricRequest.build(club.account_id, "2025-03-14", "2025-03-14", "day", params={"population": "all"})
    assert len(get("idle_members").function(club.engine, everyone)) == 4
    segments = get("engagement_segments").function(club.engine, everyone).set_index("segment")
    assert segments.loc["low", "members"] == 6


def test_top_members_by_score_ranks_whoever_was_active(club: Business) -> None:
    # ranked among members with events in the period, whether or not they still have access: lead is kept
    top = top_members(club.engine, club.account_id, start="2025-03-01", end="2025-03-14", n=3, by="score")
    assert top[["member_id", "score"]].values.tolist() == [["active", 70], ["ending", 23], ["lead", 19]]


def test_unknown_population_is_refused(club: Business) -> None:
    with pytest.raises(MetricError, match="population 'members' is not one of current, all"):
        engagement_scores(club.engine, club.account_id, as_of=AS_OF, population="members")  # type: ignore[arg-type]
    with pytest.raises(MetricError, match="not one of current, all"):
        idle_members(club.engine, club.account_id, as_of=AS_OF, population="ever")  # type: ignore[arg-type]


def test_a_store_without_membership_history_has_no_current_members(business: Business) -> None:
    """Members imported without memberships have no access on record: only ``population="all"`` sees them."""
    business.member("m1", "2025-01-01")
    business.member("m2", "2025-01-01")
    business.event("m1", "login", "2025-03-14 10:00")
    business.save()
    e, account = business.engine, business.account_id
    assert engagement_scores(e, account, as_of=AS_OF).empty
    assert idle_members(e, account, as_of=AS_OF).empty
    assert engagement_segments(e, account, as_of=AS_OF)["members"].tolist() == [0, 0, 0, 0]
    assert engagement_scores(e, account, as_of=AS_OF, population="all")["member_id"].tolist() == ["m1", "m2"]
    idle = idle_members(e, account, as_of=AS_OF, population="all")
    assert idle["member_id"].tolist() == ["m2"] and pd.isna(idle["days_inactive"].iloc[0])


def test_current_members_of_the_demo_are_its_customers(engine: Engine) -> None:
    """The demo business marks, like Whop, the members who still hold a valid membership at its horizon
    (``status = joined``, ``access_level = customer``); leads (``joined`` without access) and former members
    (``left``) are not. The current members at the horizon are exactly those customers."""
    horizon = date(2026, 6, 1)
    business = generate(3, "tiny", end=horizon)
    load_demo(engine, seed=3, size="tiny", end=horizon, progress=False)
    for account_id in business.account_ids:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(members.c.id, members.c.status, members.c.access_level).where(
                    members.c.account_id == account_id
                )
            ).all()
        customers = sorted(r.id for r in rows if (r.status, r.access_level) == ("joined", "customer"))
        assert 0 < len(customers) < len(rows)  # the demo has leads and former members too
        current = engagement_scores(engine, account_id, as_of=horizon)["member_id"].tolist()
        assert current == customers
