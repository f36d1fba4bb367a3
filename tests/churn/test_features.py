"""Features and labels of the tiny business, checked by hand (story in conftest.tiny_business)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.models.churn.features import build_features
from analytics.models.churn.labels import churn_labels
from churn.builders import ACCOUNT
from churn.conftest import D


def _by_member(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("member_id")


def test_population_and_labels(tiny: sa.Engine) -> None:
    labels = _by_member(churn_labels(tiny, ACCOUNT, [D], horizon_days=30))
    # m_gone canceled before d; everybody else pays at d (m_trial since its Feb 27 conversion).
    assert sorted(labels.index) == ["m_annual", "m_fading", "m_leaving", "m_loyal", "m_trial", "m_two"]
    assert labels["churned"].to_dict() == {
        "m_annual": 0,
        "m_fading": 1,  # canceled Mar 10
        "m_leaving": 1,  # expired Mar 20
        "m_loyal": 0,
        "m_trial": 0,
        "m_two": 0,  # one membership canceled, the other still pays
    }
    assert labels.loc["m_fading", "churned_at"] == pd.Timestamp("2024-03-10 12:00", tz="UTC")


def test_short_horizon_misses_the_later_churn(tiny: sa.Engine) -> None:
    labels = _by_member(churn_labels(tiny, ACCOUNT, [D], horizon_days=15))
    # (Mar 1, Mar 16]: m_fading (Mar 10) churns, m_leaving (Mar 20) not yet.
    assert labels.loc["m_fading", "churned"] == 1
    assert labels.loc["m_leaving", "churned"] == 0


def test_hand_checked_features(tiny: sa.Engine) -> None:
    f = _by_member(build_features(tiny, ACCOUNT, [D]))
    assert len(f) == 6
    # Last login Feb 15 12:00 → 14.5 days before Mar 1 00:00.
    assert f.loc["m_fading", "days_since_last_activity"] == pytest.approx(14.5)
    assert f.loc["m_leaving", "cancel_at_period_end"] == 1
    assert f.loc["m_loyal", "cancel_at_period_end"] == 0
    # 36000 a year counts 36000 / 12 = 3000 a month; two memberships 3000 + 1500 × 30 / 30.
    assert f.loc["m_annual", "monthly_price_minor"] == 3000
    assert f.loc["m_two", "monthly_price_minor"] == 4500
    assert f.loc["m_two", "paying_memberships"] == 2
    assert f.loc["m_annual", "billing_period_days"] == 365
    # m_trial: first change Feb 20 12:00 → 9.5 days of tenure, paying since Feb 27 12:00 → 2.5 days.
    assert f.loc["m_trial", "tenure_days"] == pytest.approx(9.5)
    assert f.loc["m_trial", "paid_tenure_days"] == pytest.approx(2.5)
    assert f.loc["m_trial", "had_trial"] == 1
    # m_loyal logs in every 2 days from Jan 2 to Feb 29: Feb 23, 25, 27, 29 fall in the last 7 days.
    assert f.loc["m_loyal", "logins_7d"] == 4
    assert f.loc["m_loyal", "active_days_7d"] == 4
    # m_two: a payment failed Feb 20 and was paid Feb 22; promo code; 2 of 4 lessons done.
    assert f.loc["m_two", "failed_payments_90d"] == 1
    assert f.loc["m_two", "recovered_payments_90d"] == 1
    assert f.loc["m_two", "unrecovered_failed_payment"] == 0
    assert f.loc["m_two", "used_promo_code"] == 1
    assert f.loc["m_two", "lessons_completed"] == 2
    assert f.loc["m_two", "course_progress_pct"] == pytest.approx(50.0)
    # m_leaving: "not worth … refund" is a complaint, "How do I cancel?" both a question and a complaint.
    assert f.loc["m_leaving", "complaint_messages_30d"] == 2
    assert f.loc["m_leaving", "question_messages_30d"] == 1
    assert f.loc["m_leaving", "messages_7d"] == 2
    # Engagement score of m_loyal: logins 4/7·0.2 + recency (1 − 0.5/30)·0.2 → 100 × (0.1143 + 0.1967) = 31.
    assert f.loc["m_loyal", "engagement_score"] == 31
    # Never active: recency counts 0, days since activity falls back to tenure.
    assert f.loc["m_annual", "engagement_score"] == 0
    assert f.loc["m_annual", "days_since_last_activity"] == f.loc["m_annual", "tenure_days"]


def test_postgresql_statistics_are_gathered_before_the_feature_queries(tiny: sa.Engine) -> None:
    from analytics.models.churn.population import ensure_planner_statistics

    if tiny.dialect.name != "postgresql":
        assert ensure_planner_statistics(tiny) == []
        return
    with tiny.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    ensure_planner_statistics(tiny)  # never-analysed tables get ANALYZE once; afterwards nothing is left to do
    assert ensure_planner_statistics(tiny) == []
