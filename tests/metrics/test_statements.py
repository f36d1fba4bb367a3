"""Reused metric statements: the same arguments share one statement, other arguments never get it.

The club is a smaller copy of the engagement tests' business: m1 writes one message on Mar 1 and two a day on
Mar 8–13, m2 five on Mar 10; m3 never writes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from analytics.metrics import activity_counts, funnel
from analytics.metrics.engagement import _counts_statement
from store_fixtures import fresh_account_id
from tiny_business import Business

MARCH_8 = datetime(2025, 3, 8, tzinfo=UTC)
MARCH_15 = datetime(2025, 3, 15, tzinfo=UTC)


@pytest.fixture
def club(business: Business) -> Business:
    b = business
    for member in ("m1", "m2", "m3"):
        b.member(member, "2025-01-01")
    b.event("m1", "message", "2025-03-01 09:00")
    for day in range(8, 14):  # 6 days × 2 messages
        b.event("m1", "message", f"2025-03-{day:02d} 09:00")
        b.event("m1", "message", f"2025-03-{day:02d} 10:00")
    for minute in range(5):
        b.event("m2", "message", f"2025-03-10 08:{minute:02d}")
    return b.save()


def test_same_arguments_share_one_statement_and_others_get_their_own() -> None:
    kinds = ("message", "login")
    first = _counts_statement("sqlite", "biz_a", MARCH_8, MARCH_15, kinds, True)
    assert _counts_statement("sqlite", "biz_a", MARCH_8, MARCH_15, kinds, True) is first
    assert _counts_statement("sqlite", "biz_b", MARCH_8, MARCH_15, kinds, True) is not first
    assert _counts_statement("duckdb", "biz_a", MARCH_8, MARCH_15, kinds, True) is not first
    assert _counts_statement("sqlite", "biz_a", MARCH_8, MARCH_15, ("message",), True) is not first


def test_alternating_windows_and_accounts_each_get_their_own_numbers(club: Business) -> None:
    def messages(account: str, start: str, end: str) -> list[int]:
        return activity_counts(club.engine, account, start=start, end=end)["message"].tolist()

    # Mar 8–14: m1 12, m2 5, m3 0; Mar 1–7: only m1's message of Mar 1. Asked in turns, a statement left over
    # from the other window (or account) would repeat its numbers.
    assert messages(club.account_id, "2025-03-08", "2025-03-14") == [12, 5, 0]
    assert messages(club.account_id, "2025-03-01", "2025-03-07") == [1, 0, 0]
    assert messages(club.account_id, "2025-03-08", "2025-03-14") == [12, 5, 0]
    other = Business(club.engine, account_id=fresh_account_id())
    other.member("x1", "2025-01-01")
    other.event("x1", "message", "2025-03-09 12:00")
    other.save()
    assert messages(other.account_id, "2025-03-08", "2025-03-14") == [1]
    assert messages(club.account_id, "2025-03-08", "2025-03-14") == [12, 5, 0]


def test_a_funnel_asked_twice_gives_the_same_frame(club: Business) -> None:
    def steps() -> pd.DataFrame:
        return funnel(club.engine, club.account_id, ["message", "message"], medians=True)

    first = steps()
    # step 1: the three members' first messages (m1, m2); step 2: a later message within 7 days of the first —
    # m1's first is Mar 1 and the next is Mar 8 09:00, 7 days and 0 hours later (within), m2's second at 08:01
    assert first["members"].tolist() == [2, 2]
    pd.testing.assert_frame_equal(steps(), first)
