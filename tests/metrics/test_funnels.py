"""Funnels: first-touch window, strict step order, medians, breakdowns, entry range and per-period funnels."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from analytics.errors import MetricError
from analytics.metrics import MetricRequest, funnel, get
from tiny_business import Business


@pytest.fixture
def shop(business: Business) -> Business:
    """Checkout funnel funnel_view → checkout_start → purchase, window 7 days (UTC, March 2025).

    f1: view Mar 1 10:00 (p_a) → checkout Mar 2 10:00 → purchase Mar 3 10:00: 3 steps (gaps 1 day, 1 day).
    f2: view Mar 1 12:00 (p_b), view again Mar 10 (p_a), checkout Mar 9 12:00: 8 days after the FIRST view,
        and the repeat does not restart the window → 1 step.
    f3: view Mar 2 08:00 (p_a), purchase Mar 2 08:30 (before the checkout: does not count), checkout Mar 2
        09:00, purchase Mar 5 09:00 → 3 steps (gaps 1 hour, 3 days).
    f4: checkout only → never enters.
    f5: view Mar 4 00:00 (p_b), checkout Mar 4 01:00, purchase Mar 11 02:00 (7 days 2 h after the view) → 2 steps.
    """
    b = business
    for m in ("f1", "f2", "f3", "f4", "f5"):
        b.member(m, "2025-02-01")
    b.event("f1", "funnel_view", "2025-03-01 10:00", product_id="p_a")
    b.event("f1", "checkout_start", "2025-03-02 10:00")
    b.event("f1", "purchase", "2025-03-03 10:00")
    b.event("f2", "funnel_view", "2025-03-01 12:00", product_id="p_b")
    b.event("f2", "funnel_view", "2025-03-10 12:00", product_id="p_a")
    b.event("f2", "checkout_start", "2025-03-09 12:00")
    b.event("f3", "funnel_view", "2025-03-02 08:00", product_id="p_a")
    b.event("f3", "purchase", "2025-03-02 08:30")
    b.event("f3", "checkout_start", "2025-03-02 09:00")
    b.event("f3", "purchase", "2025-03-05 09:00")
    b.event("f4", "checkout_start", "2025-03-02 09:00")
    b.event("f5", "funnel_view", "2025-03-04 00:00", product_id="p_b")
    b.event("f5", "checkout_start", "2025-03-04 01:00")
    b.event("f5", "purchase", "2025-03-11 02:00")
    return b.save()


def _rows(frame: pd.DataFrame, *keys: str) -> list[list[object]]:
    cols = [*keys, "step", "members", "overall_conversion_pct", "step_conversion_pct", "median_seconds_from_previous"]
    return frame[cols].astype(object).where(frame[cols].notna(), None).values.tolist()


def test_checkout_funnel_by_hand(shop: Business) -> None:
    frame = funnel(shop.engine, shop.account_id, "checkout")
    assert frame["kind"].tolist() == ["funnel_view", "checkout_start", "purchase"]
    assert _rows(frame) == [
        # entered: f1, f2, f3, f5
        [1, 4, 100.0, 100.0, None],
        # checkout: f1 (1 day), f3 (1 h), f5 (1 h) → median 3600 s
        [2, 3, 75.0, 75.0, 3600.0],
        # purchase: f1 (1 day), f3 (3 days) → median (86400 + 259200) / 2 = 172800 s; 2 of 3 = 66.67 %
        [3, 2, 50.0, 66.67, 172800.0],
    ]


def test_a_longer_window_lets_f5_purchase(shop: Business) -> None:
    frame = funnel(shop.engine, shop.account_id, "checkout", window=timedelta(days=8), medians=False)
    # 8 days: f2's checkout (8 days exactly after the first view) and f5's purchase now count
    assert frame["members"].tolist() == [4, 4, 3]
    assert frame["median_seconds_from_previous"].isna().all()


def test_breakdown_by_the_entering_event(shop: Business) -> None:
    frame = funnel(shop.engine, shop.account_id, "checkout", breakdown="product")
    # p_a: f1, f3 (all steps; checkout gaps 1 day and 1 h → median 45000 s); p_b: f2 (its first view is p_b)
    # and f5 (2 steps)
    assert _rows(frame, "product") == [
        ["p_a", 1, 2, 100.0, 100.0, None],
        ["p_a", 2, 2, 100.0, 100.0, 45000.0],
        ["p_a", 3, 2, 100.0, 100.0, 172800.0],
        ["p_b", 1, 2, 100.0, 100.0, None],
        ["p_b", 2, 1, 50.0, 50.0, 3600.0],
        ["p_b", 3, 0, 0.0, 0.0, None],
    ]


def test_the_date_range_controls_entry_only(shop: Business) -> None:
    frame = funnel(shop.engine, shop.account_id, "checkout", start="2025-03-03", end="2025-03-31")
    # entries from 3 March: f5 (Mar 4) and f2 (its first view in range is Mar 10; its checkout was before it)
    assert frame["members"].tolist() == [2, 1, 0]


def test_funnel_per_entry_week(shop: Business) -> None:
    frame = funnel(shop.engine, shop.account_id, "checkout", start="2025-02-24", end="2025-03-16", grain="week")
    got = {(r.period_start.strftime("%m-%d"), r.step): r.members for r in frame.itertuples()}
    # week of 24 Feb: f1, f2, f3 enter (f1, f3 convert); week of 3 Mar: f5 (2 steps); week of 10 Mar: f2 again
    assert got == {
        ("02-24", 1): 3, ("02-24", 2): 2, ("02-24", 3): 2,
        ("03-03", 1): 1, ("03-03", 2): 1, ("03-03", 3): 0,
        ("03-10", 1): 1, ("03-10", 2): 0, ("03-10", 3): 0,
    }  # fmt: skip


def test_user_defined_two_step_funnel_and_errors(shop: Business) -> None:
    frame = funnel(shop.engine, shop.account_id, ["checkout_start", "purchase"], medians=False)
    # f1, f2, f3, f4, f5 start checkout; f1 and f3 purchase within 7 days of it (f5 7 days 1 h: too late)
    assert frame["members"].tolist() == [5, 2]
    with pytest.raises(MetricError, match="at least 2 steps"):
        funnel(shop.engine, shop.account_id, ["purchase"])
    with pytest.raises(MetricError, match="unknown funnel"):
        funnel(shop.engine, shop.account_id, "nope")
    with pytest.raises(MetricError, match="window"):
        funnel(shop.engine, shop.account_id, "checkout", window=timedelta(0))
    # an unbounded funnel reads no time zone, yet an account that is not in the store is still named
    for breakdown in (None, "product"):
        with pytest.raises(MetricError, match="'biz_nope' is not in the store"):
            funnel(shop.engine, "biz_nope", "checkout", breakdown=breakdown)


def test_lesson_seed_funnel_and_empty_account(business: Business) -> None:
    b = business
    b.member("m", "2025-01-01")
    b.event("m", "lesson_view", "2025-03-01 10:00")
    b.event("m", "lesson_start", "2025-03-01 10:05")
    b.save()
    frame = funnel(b.engine, b.account_id, "lesson")
    assert frame[["kind", "members"]].values.tolist() == [
        ["lesson_view", 1],
        ["lesson_start", 1],
        ["lesson_complete", 0],
    ]
    empty = funnel(b.engine, b.account_id, "checkout")
    # nobody entered: 0 members and 0 % everywhere, never a division error
    assert empty["members"].tolist() == [0, 0, 0] and empty["overall_conversion_pct"].tolist() == [0.0, 0.0, 0.0]


def test_funnel_through_the_catalog(shop: Business) -> None:
    request = MetricRequest.build(
        shop.account_id, "2025-03-01", "2025-03-31", "month", params={"steps": "checkout", "medians": False}
    )
    frame = get("funnel").function(shop.engine, request)
    assert frame[["period_start", "step", "members"]].values.tolist() == [
        [pd.Timestamp("2025-03-01"), 1, 4],
        [pd.Timestamp("2025-03-01"), 2, 3],
        [pd.Timestamp("2025-03-01"), 3, 2],
    ]
    with pytest.raises(MetricError, match=r"no parameter 'colour'; its parameters: breakdown, medians, steps, window"):
        get("funnel").function(shop.engine, request.replace(params=(("colour", "red"),)))
