"""The membership history contract: derived from API-visible fields, it equals what the demo generator wrote."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.demo.load import load_demo
from analytics.errors import DataValidationError
from analytics.store.history import derive_status_changes, rebuild_status_changes
from analytics.store.schema import membership_status_changes

COMPARED = [
    "id",
    "membership_id",
    "member_id",
    "changed_at",
    "status",
    "previous_status",
    "plan_id",
    "currency",
    "renewal_price_minor",
    "billing_period_days",
    "cancel_at_period_end",
]


def _normal(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[COMPARED].sort_values("id").reset_index(drop=True).astype(object)
    return frame.where(frame.notna(), None)


def test_derived_history_equals_the_generated_one(small: dict[str, pd.DataFrame]) -> None:
    account = small["accounts"]["id"].iloc[0]
    derived = derive_status_changes(account, small["memberships"], small["payments"], small["plans"])
    generated = small["membership_status_changes"]
    assert len(derived) == len(generated)
    pd.testing.assert_frame_equal(_normal(derived), _normal(generated))
    assert (derived["source"] == "derived").all()


def _at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_a_hand_written_membership_history() -> None:
    # Plan M: $30/month with a 7-day trial; plan Y: $288/year. The member starts a trial on Jan 1; the first
    # charge on Jan 8 fails ($24 after a 20 % "once" promo) and is retried successfully on Jan 11; Feb 7 renews
    # at the full $30; on Feb 20 they switch to the yearly plan (paid at once); on Mar 1 they ask to cancel at
    # the end of the period, which ends on Feb 20 next year, before the data's horizon.
    plans = pd.DataFrame(
        {
            "id": ["plan_M", "plan_Y"],
            "plan_type": ["renewal", "renewal"],
            "currency": ["usd", "usd"],
            "billing_period_days": [30, 365],
            "trial_period_days": [7, None],
        }
    )
    memberships = pd.DataFrame(
        {
            "id": ["mem_1"],
            "member_id": ["mber_1"],
            "plan_id": ["plan_Y"],
            "status": ["canceled"],
            "created_at": [_at("2025-01-01")],
            "cancel_at_period_end": [True],
            "canceled_at": [_at("2025-03-01")],
            "expires_at": [_at("2026-02-20")],
            "current_period_end": [_at("2026-02-20")],
        }
    )
    payments = pd.DataFrame(
        {
            "id": ["pay_1", "pay_2", "pay_3"],
            "membership_id": ["mem_1"] * 3,
            "plan_id": ["plan_M", "plan_M", "plan_Y"],
            "created_at": [_at("2025-01-08"), _at("2025-02-07"), _at("2025-02-20")],
            "paid_at": [_at("2025-01-11"), _at("2025-02-07"), _at("2025-02-20")],
            "status": ["paid"] * 3,
            "payments_failed": [1, 0, 0],
            "total_minor": [2400, 3000, 28800],
            "tax_minor": [0, 0, 0],
        }
    )
    rows = derive_status_changes("biz_1", memberships, payments, plans)
    got = list(
        zip(
            rows["changed_at"].dt.strftime("%Y-%m-%d"),
            rows["status"],
            rows["plan_id"],
            rows["renewal_price_minor"],
            rows["cancel_at_period_end"],
            strict=True,
        )
    )
    assert got == [
        ("2025-01-01", "trialing", "plan_M", 0, False),  # creation: trial, nothing charged
        ("2025-01-08", "past_due", "plan_M", 2400, False),  # trial ends, the discounted first charge fails
        ("2025-01-11", "active", "plan_M", 2400, False),  # the retry succeeds (dunning recovery)
        ("2025-02-07", "active", "plan_M", 3000, False),  # the "once" promo has ended: expansion to full price
        ("2025-02-20", "active", "plan_Y", 28800, False),  # plan change to yearly (subscription_update)
        ("2025-03-01", "active", "plan_Y", 28800, True),  # cancellation requested for the period end
        ("2026-02-20", "canceled", "plan_Y", 28800, True),  # access ends
    ]
    previous = ["-", "trialing", "past_due", "active", "active", "active", "active"]
    assert rows["previous_status"].fillna("-").tolist() == previous
    assert rows["id"].tolist() == [f"msc_1_{n:02d}" for n in range(1, 8)]


def test_rebuild_in_the_store_reproduces_the_demo_history(engine: Engine) -> None:
    load_demo(engine, seed=3, size="tiny", end=date(2026, 6, 1), progress=False)
    with engine.connect() as conn:
        written = pd.read_sql(sa.select(membership_status_changes), conn)
    account = written["account_id"].iloc[0]
    with engine.begin() as conn:
        conn.execute(sa.delete(membership_status_changes))
        assert rebuild_status_changes(conn, account, page_size=40) == len(written)
    with engine.connect() as conn:
        rebuilt = pd.read_sql(sa.select(membership_status_changes), conn)
    pd.testing.assert_frame_equal(_normal(rebuilt), _normal(written))
    assert set(rebuilt["source"]) == {"derived"}
    # Rebuilding some memberships replaces only their rows, whatever wrote them before.
    some = written["membership_id"].drop_duplicates().head(5).tolist()
    with engine.begin() as conn:
        n = rebuild_status_changes(conn, account, source="sync", membership_ids=some)
    with engine.connect() as conn:
        again = pd.read_sql(sa.select(membership_status_changes), conn)
    assert len(again) == len(written) and (again["source"] == "sync").sum() == n > 0


def test_real_world_oddities_are_handled_or_named() -> None:
    # A canceled membership without expires_at ends at its period end; a void payment is not a charge; a
    # payment on a since-deleted plan keeps the plan in force.
    plans = pd.DataFrame(
        {
            "id": ["plan_M"],
            "plan_type": ["renewal"],
            "currency": ["eur"],
            "billing_period_days": [30],
            "trial_period_days": [None],
        }
    )
    memberships = pd.DataFrame(
        {
            "id": ["mem_2"],
            "member_id": ["mber_2"],
            "plan_id": ["plan_M"],
            "status": ["canceled"],
            "created_at": [_at("2025-01-01")],
            "cancel_at_period_end": [False],
            "canceled_at": [None],
            "expires_at": [None],
            "current_period_end": [_at("2025-03-02")],
        }
    )
    payments = pd.DataFrame(
        {
            "id": ["pay_1", "pay_2", "pay_3"],
            "membership_id": ["mem_2"] * 3,
            "plan_id": ["plan_M", "plan_gone", "plan_M"],
            "created_at": [_at("2025-01-01"), _at("2025-01-31"), _at("2025-02-15")],
            "paid_at": [_at("2025-01-01"), _at("2025-01-31"), None],
            "status": ["paid", "paid", "void"],
            "payments_failed": [0, 0, 0],
            "total_minor": [1200, 1440, 999],
            "tax_minor": [200, 240, 0],
        }
    )
    rows = derive_status_changes("biz_1", memberships, payments, plans)
    got = list(
        zip(
            rows["changed_at"].dt.strftime("%Y-%m-%d"),
            rows["status"],
            rows["plan_id"],
            rows["renewal_price_minor"],
            strict=True,
        )
    )
    # Prices exclude the VAT: 1200 − 200 = 1000, then 1440 − 240 = 1200 (a price rise on the same plan).
    assert got == [
        ("2025-01-01", "active", "plan_M", 1000),
        ("2025-01-31", "active", "plan_M", 1200),
        ("2025-03-02", "canceled", "plan_M", 1200),
    ]
    with pytest.raises(DataValidationError, match="plan 'plan_M' is not among the account's plans"):
        derive_status_changes("biz_1", memberships, payments, plans.iloc[0:0])
