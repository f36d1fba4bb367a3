"""Features of a date never change when data from that date on is added (no look-ahead), on both engines."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from analytics.models.churn.features import build_features
from analytics.store import schema as s
from churn.builders import ACCOUNT, Business, at
from churn.conftest import D


def _later_data() -> Business:
    """Everything a future could bring: new activity, cancellations, payments, lessons, chats, disputes."""
    b = Business()
    b.events("m_fading", "login", at("2024-03-01", 0), at("2024-03-20"), 1)  # exactly at the cut, then daily
    b.event("m_loyal", "message", at("2024-03-02"), text="I have a problem, refund please?")
    b.change("m_loyal", "ms_loyal", at("2024-03-02"), "canceling", cancel=True)
    b.change("m_annual", "ms_annual", at("2024-03-01", 0), "past_due")
    b.change("m_new", "ms_new", at("2024-03-03"), "active")
    pay = b.payment("m_two", at("2024-03-04"), failed=2)
    b.payment("m_loyal", at("2024-03-01", 0), paid=at("2024-03-01", 0), promo="promo_9")
    b.lesson_done("m_two", "lesson_4", at("2024-03-02"), at("2024-03-03"))
    b._add(
        "disputes",
        payment_id=pay["id"],
        currency="usd",
        amount_minor=3000,
        status="needs_response",
        created_at=at("2024-03-05"),
    )
    b._add("wa_contacts", id="wa_1", wa_id="4912345", member_id="m_two")
    b._add("wa_messages", contact_id="wa_1", direction="inbound", status="received", sent_at=at("2024-03-02"))
    return b


def test_features_do_not_see_the_future(tiny: sa.Engine) -> None:
    before = build_features(tiny, ACCOUNT, [D])
    _later_data().save(tiny)
    with tiny.begin() as conn:  # an existing row that changes later: lesson 3 completed after the cut
        conn.execute(
            sa.update(s.lesson_interactions)
            .where(s.lesson_interactions.c.lesson_id == "lesson_3")
            .values(completed=True, completed_at=at("2024-03-02"))
        )
    after = build_features(tiny, ACCOUNT, [D])
    pd.testing.assert_frame_equal(before, after)
    # ...while a later date does see the new data.
    later = build_features(tiny, ACCOUNT, [D + timedelta(days=10)]).set_index("member_id")
    assert later.loc["m_loyal", "cancel_at_period_end"] == 1
    assert "m_new" in later.index


def test_batches_give_the_same_rows_as_single_dates(tiny: sa.Engine) -> None:
    dates = [date(2024, 2, 1), date(2024, 2, 15), D, date(2024, 3, 8)]
    batched = build_features(tiny, ACCOUNT, dates, batch_size=3)
    one_by_one = pd.concat([build_features(tiny, ACCOUNT, [d]) for d in dates], ignore_index=True)
    pd.testing.assert_frame_equal(batched, one_by_one)
