"""Engagement scores, segments, idle and top members on a tiny business computed by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.errors import MetricError
from analytics.metrics import (
    EngagementWeights,
    activity_counts,
    engagement_scores,
    engagement_segments,
    idle_members,
    top_members,
)
from tiny_business import Business

AS_OF = date(2025, 3, 15)  # midnight UTC: messages/logins count from Mar 8 00:00, recency looks back to Feb 13


@pytest.fixture
def club(business: Business) -> Business:
    """Four members who joined before the 15th, one after; each has had an active membership since joining, so
    they are current members at ``AS_OF`` (the populations are tested apart, below).

    m1: 12 messages and 7 logins Mar 8–14, 2 of the 4 lessons of c1 done, last event Mar 14 20:00.
    m2: 5 messages and 7 logins on Mar 10 (last 09:00), no course.
    m3: one login Feb 20 10:00, lesson l1 done Feb 21 (1 of 4).
    m4: joins Mar 20 (after as_of: not scored).  m5: joined in January, never active.
    """
    b = business
    b.member("m1", "2025-01-01")
    b.member("m2", "2025-02-01")
    b.member("m3", "2025-01-15")
    b.member("m4", "2025-03-20")
    b.member("m5", "2025-01-01")
    for member, joined in (("m1", "01-01"), ("m2", "02-01"), ("m3", "01-15"), ("m4", "03-20"), ("m5", "01-01")):
        b.membership(member, (f"2025-{joined}", "active"))
    for day in range(8, 14):  # 6 days x 2 messages = 12
        b.event("m1", "message", f"2025-03-{day:02d} 09:00")
        b.event("m1", "message", f"2025-03-{day:02d} 10:00")
    for day in range(8, 15):  # 7 logins
        b.event("m1", "login", f"2025-03-{day:02d} 08:00")
    b.event("m1", "post_view", "2025-03-14 20:00")
    b.event("m1", "message", "2025-03-01 09:00")  # before the 7-day window: not counted as a message
    for minute in range(5):
        b.event("m2", "message", f"2025-03-10 08:{minute:02d}")
    for minute in range(7):
        b.event("m2", "login", f"2025-03-10 08:3{minute}")
    b.event("m2", "post_view", "2025-03-10 09:00")
    b.event("m3", "login", "2025-02-20 10:00")
    b.event("m4", "login", "2025-03-21 10:00")
    b.course("c1", ["l1", "l2", "l3", "l4"])
    b.lesson_progress("m1", "l1", "c1", "2025-03-01", "2025-03-02")
    b.lesson_progress("m1", "l2", "c1", "2025-03-03", "2025-03-04")
    b.lesson_progress("m1", "l3", "c1", "2025-03-05", "2025-03-20")  # completed after as_of: not yet
    b.lesson_progress("m3", "l1", "c1", "2025-02-21", "2025-02-21 12:00")
    return b.save()


def test_engagement_scores_by_hand(club: Business) -> None:
    scores = engagement_scores(club.engine, club.account_id, as_of=AS_OF).set_index("member_id")
    # m4 joined after as_of
    assert list(scores.index) == ["m1", "m2", "m3", "m5"]
    # m1: 0.3·min(12/10,1) + 0.2·min(7/7,1) + 0.3·(2/4) + 0.2·(1 − 0/30) = 0.3 + 0.2 + 0.15 + 0.2 = 0.85 → 85
    assert scores.loc["m1", ["messages", "logins"]].tolist() == [12, 7]
    assert scores.loc["m1", "course_progress_pct"] == 50.0
    assert scores.loc["m1", "days_since_active"] == 0
    assert scores.loc["m1", "score"] == 85
    # m2: 0.3·0.5 + 0.2·1 + 0 + 0.2·(1 − 4/30) = 0.15 + 0.2 + 0.17333 = 0.52333 → 52
    # (Mar 10 09:00 → Mar 15 00:00 = 4 whole days)
    assert scores.loc["m2", "days_since_active"] == 4
    assert scores.loc["m2", "score"] == 52
    # m3: 0 + 0 + 0.3·(1/4) + 0.2·(1 − 22/30) = 0.075 + 0.05333 = 0.12833 → 13 (Feb 20 10:00 → Mar 15: 22 days 14 h)
    assert scores.loc["m3", "days_since_active"] == 22
    assert scores.loc["m3", "score"] == 13
    # m5: never active: recency 0, everything 0
    assert scores.loc["m5", "score"] == 0
    assert pd.isna(scores.loc["m5", "days_since_active"])
    assert pd.isna(scores.loc["m5", "last_active_at"])
    assert scores["segment"].to_dict() == {"m1": "high", "m2": "medium", "m3": "low", "m5": "low"}
    assert scores["idle"].to_dict() == {"m1": False, "m2": False, "m3": True, "m5": True}


def test_weights_are_parameters(club: Business) -> None:
    recency_only = EngagementWeights(messages=0, logins=0, course_progress=0, recency=1)
    scores = engagement_scores(club.engine, club.account_id, as_of=AS_OF, weights=recency_only).set_index("member_id")
    # 100·(1 − d/30): m1 d=0 → 100, m2 d=4 → 86.67 → 87, m3 d=22 → 26.67 → 27, m5 → 0
    assert scores["score"].to_dict() == {"m1": 100, "m2": 87, "m3": 27, "m5": 0}
    # weights are divided by their sum, so doubling every weight changes nothing
    doubled = EngagementWeights(messages=0.6, logins=0.4, course_progress=0.6, recency=0.4)
    again = engagement_scores(club.engine, club.account_id, as_of=AS_OF, weights=doubled).set_index("member_id")
    assert again["score"].to_dict() == {"m1": 85, "m2": 52, "m3": 13, "m5": 0}


def test_bad_weights_are_refused() -> None:
    with pytest.raises(MetricError, match="must not be negative"):
        EngagementWeights(messages=-1)
    with pytest.raises(MetricError, match="sum to 0"):
        EngagementWeights(messages=0, logins=0, course_progress=0, recency=0)


def test_segments(club: Business) -> None:
    seg = engagement_segments(club.engine, club.account_id, as_of=AS_OF).set_index("segment")
    # high: m1; medium: m2; low: m3, m5; idle: m3, m5 (4 members scored)
    assert seg["members"].to_dict() == {"high": 1, "medium": 1, "low": 2, "idle": 2}
    assert seg["share_pct"].to_dict() == {"high": 25.0, "medium": 25.0, "low": 50.0, "idle": 50.0}


def test_activity_counts(club: Business) -> None:
    counts = activity_counts(club.engine, club.account_id, start="2025-03-08", end="2025-03-14").set_index("member_id")
    # m1: 12 messages + 7 logins + 1 post_view = 20 events; m2: 5 + 7 + 1 = 13; m3-m5 nothing in the window
    assert counts.loc["m1", ["message", "login", "lesson_complete", "events"]].tolist() == [12, 7, 0, 20]
    assert counts.loc["m2", "events"] == 13
    assert counts.loc[["m3", "m4", "m5"], "events"].tolist() == [0, 0, 0]
    assert counts.loc["m1", "last_active_at"] == pd.Timestamp("2025-03-14 20:00", tz="UTC")
    # the same UTC timestamps whether the engine hands over its own timestamps (DuckDB) or epoch seconds
    assert str(counts["last_active_at"].dtype) == "datetime64[us, UTC]"
    assert counts.loc[["m3", "m4", "m5"], "last_active_at"].isna().all()
    only_active = activity_counts(club.engine, club.account_id, start="2025-03-08", end="2025-03-14", all_members=False)
    assert list(only_active["member_id"]) == ["m1", "m2"]


def test_idle_members(club: Business) -> None:
    idle = idle_members(club.engine, club.account_id, as_of=AS_OF)
    # m5 never active (first), m3 last active Feb 20 → 22 whole days; m4 joined later
    assert idle["member_id"].tolist() == ["m5", "m3"]
    assert idle["days_inactive"].iloc[1] == 22


def test_top_members(club: Business) -> None:
    top = top_members(club.engine, club.account_id, start="2025-03-01", end="2025-03-14", n=2)
    # m1: 21 events on 8 days (Mar 1 and 8–14); m2: 13 events on 1 day
    assert top[["rank", "member_id", "events", "active_days"]].values.tolist() == [[1, "m1", 21, 8], [2, "m2", 13, 1]]
    by_score = top_members(club.engine, club.account_id, start="2025-03-01", end="2025-03-14", n=1, by="score")
    assert by_score[["member_id", "score"]].values.tolist() == [["m1", 85]]


def test_zero_members(business: Business) -> None:
    business.save()
    e = business.engine
    assert engagement_scores(e, business.account_id, as_of=AS_OF).empty
    seg = engagement_segments(e, business.account_id, as_of=AS_OF)
    assert seg["members"].tolist() == [0, 0, 0, 0] and seg["share_pct"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert idle_members(e, business.account_id, as_of=AS_OF).empty
    assert top_members(e, business.account_id, start="2025-03-01", end="2025-03-14").empty


def test_single_member(business: Business) -> None:
    business.member("solo", "2025-03-01")
    business.membership("solo", ("2025-03-01", "active"))
    business.event("solo", "message", "2025-03-14 23:59:59")
    business.save()
    scores = engagement_scores(business.engine, business.account_id, as_of=AS_OF)
    # 0.3·0.1 + 0 + 0 + 0.2·1 = 0.23 → 23
    assert scores[["member_id", "messages", "score", "segment", "idle"]].values.tolist() == [
        ["solo", 1, 23, "low", False]
    ]


def test_unknown_account_is_a_clear_error(business: Business) -> None:
    business.save()
    with pytest.raises(MetricError, match="not in the store"):
        engagement_scores(business.engine, "biz_missing", as_of=AS_OF)


def test_course_progress_falls_back_to_total_lessons_count(business: Business) -> None:
    from analytics.store.schema import courses, lesson_interactions

    business.member("m1", "2025-01-01")
    business.membership("m1", ("2025-01-01", "active"))
    business.save()
    with business.engine.begin() as conn:
        conn.execute(
            sa.insert(courses).values(
                account_id=business.account_id, id="c9", title="No lessons", total_lessons_count=5
            )
        )
        conn.execute(
            sa.insert(lesson_interactions).values(
                account_id=business.account_id,
                id="li",
                lesson_id="x",
                course_id="c9",
                member_id="m1",
                completed=True,
                created_at=pd.Timestamp("2025-03-01", tz="UTC"),
                completed_at=pd.Timestamp("2025-03-02", tz="UTC"),
            )
        )
    scores = engagement_scores(business.engine, business.account_id, as_of=AS_OF)
    # 1 of the course's 5 lessons (no lessons rows, so courses.total_lessons_count): 20 %
    assert scores["course_progress_pct"].tolist() == [20.0]
