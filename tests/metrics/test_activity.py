"""Active members, heat map, lifecycle, stickiness and cohort retention, in the account's time zone."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.errors import MetricError
from analytics.metrics import (
    MetricRequest,
    active_members,
    activity_heatmap,
    cohort_retention,
    get,
    lifecycle,
    stickiness,
)
from tiny_business import Business


def _leap_events(b: Business) -> Business:
    """Around the leap day 2024-02-29 (a Thursday); Paris is UTC+1 in winter, UTC+2 in summer.

    a: 2024-02-28 22:30 UTC (Paris Wed 28th 23:30) and 2024-02-29 23:30 UTC (Paris Fri 1 March 00:30)
    b: 2024-02-29 12:00 UTC (Paris Thu 29th 13:00, product p1)
    c: 2024-03-01 10:00 UTC (Paris Fri 1 March 11:00, channel web) and 2024-07-03 12:00 UTC (Paris Wed 14:00, CEST)
    """
    for member in ("a", "b", "c"):
        b.member(member, "2024-01-01")
    b.event("a", "login", "2024-02-28 22:30")
    b.event("a", "message", "2024-02-29 23:30")
    b.event("b", "login", "2024-02-29 12:00", product_id="p1")
    b.event("c", "login", "2024-03-01 10:00", channel="web")
    b.event("c", "login", "2024-07-03 12:00")
    return b.save()


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        # UTC: 28th {a}, 29th {a, b}, 1st {c}
        ("UTC", [1, 2, 1]),
        # Paris: a's second event is already 1 March → 28th {a}, 29th {b}, 1st {a, c}
        ("Europe/Paris", [1, 1, 2]),
    ],
)
def test_dau_across_the_leap_day_and_a_time_zone_boundary(business: Business, tz: str, expected: list[int]) -> None:
    business.time_zone = tz
    b = _leap_events(business)
    dau = active_members(b.engine, b.account_id, start="2024-02-28", end="2024-03-01")
    assert dau["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert dau["active_members"].tolist() == expected


def test_wau_and_mau_in_paris(business: Business) -> None:
    business.time_zone = "Europe/Paris"
    b = _leap_events(business)
    # the week Monday 26 Feb – Sunday 3 March holds all three
    wau = active_members(b.engine, b.account_id, start="2024-02-26", end="2024-03-03", grain="week")
    assert wau.values.tolist() == [[pd.Timestamp("2024-02-26"), 3]]
    # February (Paris): a, b; March: a, c; April–June nobody; July: c
    mau = active_members(b.engine, b.account_id, start="2024-02-01", end="2024-07-31", grain="month")
    assert mau["active_members"].tolist() == [2, 2, 0, 0, 0, 1]
    # buckets are clipped to the period: February holds only the 29th, March only the 1st
    clipped = active_members(b.engine, b.account_id, start="2024-02-29", end="2024-03-01", grain="month")
    assert clipped["period_start"].dt.strftime("%Y-%m").tolist() == ["2024-02", "2024-03"]
    assert clipped["active_members"].tolist() == [1, 2]  # 29th: b; 1st: a, c


def test_active_members_breakdowns_and_kinds(business: Business) -> None:
    b = _leap_events(business)
    by_product = active_members(b.engine, b.account_id, start="2024-02-29", end="2024-02-29", breakdown="product")
    # on the 29th (UTC): a (no product) and b (p1)
    assert sorted(by_product.fillna({"product": "-"})[["product", "active_members"]].values.tolist()) == [
        ["-", 1],
        ["p1", 1],
    ]
    messages_only = active_members(b.engine, b.account_id, start="2024-02-29", end="2024-02-29", kinds=["message"])
    assert messages_only["active_members"].tolist() == [1]
    with pytest.raises(MetricError, match="breakdown"):
        active_members(b.engine, b.account_id, start="2024-02-29", end="2024-02-29", breakdown="plan")  # type: ignore[arg-type]


def test_active_members_through_the_catalog(business: Business) -> None:
    business.time_zone = "Europe/Paris"
    b = _leap_events(business)
    request = MetricRequest.build(b.account_id, "2024-02-28", "2024-03-01", "day", breakdowns=["channel"])
    frame = get("active_members").function(b.engine, request)
    # 1 March in Paris: a (no channel) and c (web)
    march = frame[frame["period_start"] == pd.Timestamp("2024-03-01")].fillna({"channel": "-"})
    assert sorted(march[["channel", "active_members"]].values.tolist()) == [["-", 1], ["web", 1]]
    with pytest.raises(MetricError, match="cannot be broken down by plan"):
        get("active_members").function(b.engine, request.replace(breakdowns=("plan",)))


def test_heatmap_in_the_account_time_zone(business: Business) -> None:
    business.time_zone = "Europe/Paris"
    b = _leap_events(business)
    heat = activity_heatmap(b.engine, b.account_id, start="2024-01-01", end="2024-12-31")
    assert len(heat) == 7 * 24 and heat["events"].sum() == 5
    cells = heat[heat["events"] > 0][["day_name", "hour", "events"]].values.tolist()
    # Wed 23:30 (a), Thu 13:00 (b), Fri 00:30 (a), Fri 11:00 (c), Wed 14:00 in July (CEST, UTC+2)
    assert sorted(cells) == sorted(
        [["Wednesday", 23, 1], ["Thursday", 13, 1], ["Friday", 0, 1], ["Friday", 11, 1], ["Wednesday", 14, 1]]
    )


def test_heatmap_of_a_half_hour_zone(business: Business) -> None:
    business.time_zone = "Asia/Kolkata"  # UTC+5:30: quarter hours keep it exact
    business.member("a", "2024-01-01")
    business.event("a", "login", "2024-03-01 18:45")  # 00:15 on Saturday 2 March in India
    b = business.save()
    heat = activity_heatmap(b.engine, b.account_id, start="2024-03-01", end="2024-03-02")
    assert heat[heat["events"] > 0][["day_name", "hour"]].values.tolist() == [["Saturday", 0]]


@pytest.fixture
def weeks(business: Business) -> Business:
    """Weeks W1 = Mon 3 March 2025, W2 = 10 March, W3 = 17 March (UTC).

    p: joined in January, active W1 (Mar 4), W2 (Mar 10 and 11), W3 (Mar 18).
    q: joins W2 (Mar 11), active W2 (Mar 12) only.
    r: joined in January, active W1 (Mar 5) and W3 (Mar 19).
    s: joins W3, never active.  t: joins W3 (Mar 19), active W3 (Mar 20 and 21 and 22).
    """
    b = business
    b.member("p", "2025-01-10")
    b.member("q", "2025-03-11")
    b.member("r", "2025-01-10")
    b.member("s", "2025-03-18")
    b.member("t", "2025-03-19")
    for when in ("2025-03-04 10:00", "2025-03-10 10:00", "2025-03-11 10:00", "2025-03-18 10:00"):
        b.event("p", "login", when)
    b.event("q", "login", "2025-03-12 10:00")
    b.event("r", "login", "2025-03-05 10:00")
    b.event("r", "login", "2025-03-19 10:00")
    for day in (20, 21, 22):
        b.event("t", "message", f"2025-03-{day} 10:00")
    return b.save()


def test_lifecycle(weeks: Business) -> None:
    frame = lifecycle(weeks.engine, weeks.account_id, start="2025-03-10", end="2025-03-23", grain="week")
    got = frame.set_index(frame["period_start"].dt.strftime("%m-%d")).drop(columns="period_start")
    # W2: new q; returning p (active W1); r went dormant (W1, not W2)
    assert got.loc["03-10"].to_dict() == {"new": 1, "returning": 1, "resurrecting": 0, "dormant": 1, "active": 2}
    # W3: new t; returning p; r resurrects; q dormant; s joined but inactive: not counted
    assert got.loc["03-17"].to_dict() == {"new": 1, "returning": 1, "resurrecting": 1, "dormant": 1, "active": 3}


def test_stickiness(weeks: Business) -> None:
    frame = stickiness(weeks.engine, weeks.account_id, start="2025-03-10", end="2025-03-23", grain="week")
    assert len(frame) == 14  # 1..7 active days for each of the two weeks
    active = frame[frame["members"] > 0]
    rows = [[r.period_start.strftime("%m-%d"), r.active_days, r.members, r.share_pct] for r in active.itertuples()]
    # W2: q 1 day, p 2 days; W3: p 1, r 1, t 3 days
    assert rows == [
        ["03-10", 1, 1, 50.0],
        ["03-10", 2, 1, 50.0],
        ["03-17", 1, 2, 66.67],
        ["03-17", 3, 1, 33.33],
    ]
    with pytest.raises(MetricError, match="week or month"):
        stickiness(weeks.engine, weeks.account_id, start="2025-03-10", end="2025-03-23", grain="day")


def test_cohort_retention_on_and_on_or_after(business: Business) -> None:
    b = business
    b.member("u1", "2025-01-05")  # active Jan, Mar
    b.member("u2", "2025-01-20")  # active Feb
    b.member("u3", "2025-01-25")  # never active
    b.member("u4", "2025-02-02")  # active Feb, Mar
    b.member("u5", "2025-03-02")  # joins after the cohort range
    b.event("u1", "login", "2025-01-06 10:00")
    b.event("u1", "login", "2025-03-06 10:00")
    b.event("u2", "login", "2025-02-06 10:00")
    b.event("u4", "login", "2025-02-06 10:00")
    b.event("u4", "login", "2025-03-16 10:00")
    b.event("u5", "login", "2025-03-16 10:00")
    b.save()
    frame = cohort_retention(b.engine, b.account_id, start="2025-01-01", end="2025-02-28", as_of="2025-04-01")
    cols = ["months_since", "cohort_size", "active", "retention_pct", "active_on_or_after", "retention_on_or_after_pct"]
    rows = [[c.strftime("%Y-%m"), *rest] for c, *rest in frame[["cohort", *cols]].itertuples(index=False)]
    assert rows == [
        # January: 3 members; on: Jan u1, Feb u2, Mar u1; on or after: last active months u1 Mar, u2 Feb
        ["2025-01", 0, 3, 1, 33.33, 2, 66.67],
        ["2025-01", 1, 3, 1, 33.33, 2, 66.67],
        ["2025-01", 2, 3, 1, 33.33, 1, 33.33],
        # February: u4 active Feb and Mar
        ["2025-02", 0, 1, 1, 100.0, 1, 100.0],
        ["2025-02", 1, 1, 1, 100.0, 1, 100.0],
    ]
    first_event = cohort_retention(
        b.engine, b.account_id, start="2025-01-01", end="2025-03-31", as_of="2025-04-01", cohort_by="first_event"
    )
    # cohorts by first event month: Jan {u1}, Feb {u2, u4}, Mar {u5}
    sizes = first_event.drop_duplicates("cohort")["cohort_size"].tolist()
    assert sizes == [1, 2, 1]


def test_empty_account_gives_zero_rows(business: Business) -> None:
    b = business.save()
    dau = active_members(b.engine, b.account_id, start="2025-01-01", end="2025-01-03")
    assert dau["active_members"].tolist() == [0, 0, 0]
    assert lifecycle(b.engine, b.account_id, start="2025-01-01", end="2025-01-14", grain="week")["active"].sum() == 0
    assert activity_heatmap(b.engine, b.account_id, start="2025-01-01", end="2025-01-03")["events"].sum() == 0
    assert cohort_retention(b.engine, b.account_id, start="2025-01-01", end="2025-01-31").empty
    with pytest.raises(MetricError, match="after it ends"):
        active_members(b.engine, b.account_id, start="2025-01-03", end="2025-01-01")
