"""Content (lessons, courses, posts, ranking) and WhatsApp messaging rates on tiny hand-checked data."""

from __future__ import annotations

import pytest

from analytics.metrics import (
    ContentScoreWeights,
    MetricRequest,
    Policies,
    content_ranking,
    course_stats,
    get,
    lesson_stats,
    messaging_rates,
    post_stats,
)
from tiny_business import Business, at

MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


@pytest.fixture
def school(business: Business) -> Business:
    """Course c1 with lessons l1, l2, l3 (in that order) and a forum post, March 2025 (UTC).

    m1 completes l1 (30 min), l2 (60 min) and l3 (10 min): the whole course, first start Mar 1 10:00, last
    completion Mar 3 10:10.  m2 completes l1 (20 min) and starts l2.  m3 completes l1 (120 min).
    Lesson l1 is viewed 4 times by 3 members.  Post p1 (Feb) gets a comment p2, one view and one reaction.
    """
    b = business
    for m in ("m1", "m2", "m3"):
        b.member(m, "2025-01-01")
    b.course("c1", ["l1", "l2", "l3"], title="Course 1")
    b.lesson_progress("m1", "l1", "c1", "2025-03-01 10:00", "2025-03-01 10:30")
    b.lesson_progress("m1", "l2", "c1", "2025-03-02 10:00", "2025-03-02 11:00")
    b.lesson_progress("m1", "l3", "c1", "2025-03-03 10:00", "2025-03-03 10:10")
    b.lesson_progress("m2", "l1", "c1", "2025-03-01 10:00", "2025-03-01 10:20")
    b.lesson_progress("m2", "l2", "c1", "2025-03-02 10:00", None)
    b.lesson_progress("m3", "l1", "c1", "2025-03-05 10:00", "2025-03-05 12:00")
    for m in ("m1", "m2", "m3", "m1"):
        b.event(m, "lesson_view", "2025-03-01 09:00", object_id="l1")
    b.post("p1", "m1", "2025-02-01", title="Hello", view_count=10)
    b.post("p2", "m2", "2025-03-02", parent_id="p1")
    b.event("m2", "post_view", "2025-03-02 09:00", object_id="p1")
    b.event("m3", "reaction", "2025-03-02 09:00", object_id="p1")
    return b.save()


def test_lesson_stats(school: Business) -> None:
    frame = lesson_stats(school.engine, school.account_id, **MARCH).set_index("lesson_id")
    cols = ["views", "unique_viewers", "replays", "starters", "completions", "completion_rate_pct"]
    assert frame[cols].values.tolist() == [
        [4, 3, 1, 3, 3, 100.0],  # l1: all three started and completed
        [0, 0, 0, 2, 1, 50.0],  # l2: m1 and m2 started, m1 completed
        [0, 0, 0, 1, 1, 100.0],  # l3: m1
    ]
    # medians of minutes to complete: l1 {30, 20, 120} → 30; l2 {60}; l3 {10}
    assert frame["median_minutes_to_complete"].tolist() == [30.0, 60.0, 10.0]
    # completions fall 3 → 1 from l1 to l2 (the drop-off), then 1 → 1
    assert frame["completion_fall"].tolist() == [0, 2, 0]
    assert frame["drop_off"].tolist() == [False, True, False]


def test_course_stats(school: Business) -> None:
    frame = course_stats(school.engine, school.account_id, **MARCH)
    row = frame.iloc[0]
    # 3 starters, 1 completer (m1) → 33.33 %; m1 took 2 days 10 minutes = 2.00694 days
    assert [row.lessons, row.views, row.unique_viewers, row.starters, row.completers] == [3, 4, 3, 3, 1]
    assert row.completion_rate_pct == 33.33
    assert row.median_days_to_complete == pytest.approx(2 + 10 / 1440)
    assert [row.drop_off_lesson_id, row.drop_off_fall] == ["l2", 2]


def test_course_stats_ends_with_the_last_day(school: Business) -> None:
    """A lesson view on 1 April (the day after March) counts in neither the course nor its lessons for March.

    Course views come from the lesson table (l1's 4 views), so the April view of l2 must stay out of both.
    """
    school.event("m2", "lesson_view", "2025-04-01 09:00", object_id="l2")
    school.save()
    course = course_stats(school.engine, school.account_id, **MARCH).iloc[0]
    lessons = lesson_stats(school.engine, school.account_id, **MARCH)
    assert course.views == lessons["views"].sum() == 4


def test_post_stats(school: Business) -> None:
    frame = post_stats(school.engine, school.account_id, **MARCH)
    # only top-level posts; p1: 1 view, 1 viewer, 1 comment (p2), 1 reaction; Whop's lifetime counter 10 views
    cols = ["post_id", "views", "unique_viewers", "comments", "reactions", "lifetime_views"]
    assert frame[cols].values.tolist() == [["p1", 1, 1, 1, 1, 10]]


def test_content_ranking(school: Business) -> None:
    frame = content_ranking(school.engine, school.account_id, **MARCH)
    # l1: 3 viewers + 5·3 completions = 18; p1: 1 + 2·1 reaction + 3·1 comment = 6; l2, l3: 5·1 = 5 (tie: by id)
    assert frame[["rank", "content_id", "score"]].values.tolist() == [
        [1, "l1", 18.0],
        [2, "p1", 6.0],
        [3, "l2", 5.0],
        [4, "l3", 5.0],
    ]
    views_only = content_ranking(
        school.engine, school.account_id, **MARCH, weights=ContentScoreWeights(reactions=0, comments=0, completions=0)
    )
    assert views_only["content_id"].tolist() == ["l1", "p1"]  # zero scores are left out


@pytest.fixture
def campaign(business: Business) -> Business:
    """Campaign "Spring" (pn_1): to c1 read, to c2 delivered, to c2 failed; c1 replies 24 h later.

    Outside campaigns: one message to c2 stuck at "sent" (from phone pn_2).
    """
    b = business
    b.campaign("cmp1", "Spring")
    b.contact("c1")
    b.contact("c2")
    b.message("c1", "outbound", "read", "2025-03-01 10:00", campaign_id="cmp1")
    b.message("c2", "outbound", "delivered", "2025-03-01 10:00", campaign_id="cmp1")
    b.message("c2", "outbound", "failed", "2025-03-01 10:00", campaign_id="cmp1", error_code=131026)
    b.message("c1", "inbound", "received", "2025-03-02 10:00")
    b.message("c2", "outbound", "sent", "2025-03-01 10:00", phone_number_id="pn_2")
    b.message("c2", "inbound", "received", "2025-03-04 10:01")  # 72 h 1 min after: too late to be a reply
    return b.save()


def test_messaging_rates_per_campaign(campaign: Business) -> None:
    frame = messaging_rates(campaign.engine, campaign.account_id, **MARCH)
    spring = frame[frame["campaign_id"] == "cmp1"].iloc[0]
    # attempted 3, sent 2 (read + delivered), delivered 2 (read implies delivered), read 1, failed 1, replied 1
    assert [spring.attempted, spring.sent, spring.delivered, spring.read, spring.failed, spring.replied] == [
        3,
        2,
        2,
        1,
        1,
        1,
    ]
    # delivery 2/2, read 1/2, failure 1/3, reply 1/2 (of delivered)
    assert [spring.delivery_rate_pct, spring.read_rate_pct, spring.failure_rate_pct, spring.reply_rate_pct] == [
        100.0, 50.0, 33.33, 50.0,
    ]  # fmt: skip
    assert spring.campaign_name == "Spring"
    loose = frame[frame["campaign_id"].isna()].iloc[0]
    # 1 sent, 0 delivered: read and reply rates have a zero denominator → 0 with the flag
    assert [loose.read_rate_pct, bool(loose.read_rate_zero_denominator)] == [0.0, True]
    assert [loose.reply_rate_pct, bool(loose.reply_rate_zero_denominator)] == [0.0, True]
    assert not loose.delivery_rate_zero_denominator


def test_messaging_policies_and_breakdowns(campaign: Business) -> None:
    e, acc = campaign.engine, campaign.account_id
    total = messaging_rates(e, acc, **MARCH, by=None).iloc[0]
    # 4 attempted, 3 sent, 2 delivered → delivery 66.67 %, failure 25 %
    assert [total.attempted, total.delivery_rate_pct, total.failure_rate_pct] == [4, 66.67, 25.0]
    by_sent = messaging_rates(e, acc, **MARCH, by=None, policies=Policies(reply_denominator="sent")).iloc[0]
    assert by_sent.reply_rate_pct == 33.33  # 1 reply ÷ 3 sent
    short = messaging_rates(e, acc, **MARCH, by=None, policies=Policies(reply_window_hours=12)).iloc[0]
    assert short.replied == 0  # the reply came after 24 h
    phones = messaging_rates(e, acc, **MARCH, by="phone_number")
    assert phones[["phone_number_id", "attempted"]].values.tolist() == [["pn_1", 3], ["pn_2", 1]]
    request = MetricRequest.build(acc, "2025-03-01", "2025-03-31", "month", breakdowns=["channel"])
    via_catalog = get("messaging_rates").function(e, request)
    assert via_catalog[["phone_number_id", "sent"]].values.tolist() == [["pn_1", 2], ["pn_2", 1]]


def test_no_messages_gives_zero_rates_with_flags(business: Business) -> None:
    b = business.save()
    frame = messaging_rates(b.engine, b.account_id, start="2025-03-01", end="2025-03-31", by=None)
    row = frame.iloc[0]
    assert [row.attempted, row.delivery_rate_pct, row.read_rate_pct, row.failure_rate_pct, row.reply_rate_pct] == [
        0, 0.0, 0.0, 0.0, 0.0,
    ]  # fmt: skip
    assert all(bool(row[f"{r}_zero_denominator"]) for r in ("delivery_rate", "read_rate", "failure_rate", "reply_rate"))


def test_messages_in_another_time_zone_day(business: Business) -> None:
    business.time_zone = "Europe/Paris"
    business.contact("c1")
    business.message("c1", "outbound", "read", "2025-02-28 23:30")  # 1 March 00:30 in Paris
    b = business.save()
    march = messaging_rates(b.engine, b.account_id, start="2025-03-01", end="2025-03-01", by=None)
    assert march.iloc[0].attempted == 1
    assert at("2025-02-28 23:30").day == 28
