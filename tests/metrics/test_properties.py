"""Property tests: on random membership histories the roll-forward holds exactly, MRR matches a reference
computed in Python, rates stay within 0–100 and counts are never negative (SQLite, PostgreSQL, DuckDB)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from business import Business
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.metrics import compute

STATUSES = ["trialing", "active", "active", "canceling", "past_due", "canceled", "expired"]
PAYING = {"active", "canceling", "past_due"}
START = datetime(2024, 1, 1, tzinfo=UTC)

change = st.tuples(
    st.integers(min_value=0, max_value=24 * 150),  # hours after Jan 1 2024
    st.sampled_from(STATUSES),
    st.sampled_from([0, 700, 1000, 2500]),
    st.sampled_from([30, 30, 90, 365]),
)
membership = st.tuples(st.integers(min_value=0, max_value=3), st.lists(change, min_size=1, max_size=4))
histories = st.lists(membership, min_size=0, max_size=6)


def reference_mrr(history: list[tuple[int, list[tuple[int, str, int, int]]]], instant: datetime) -> int:
    """MRR at an instant, straight from the definition (default policies)."""
    total = 0
    for _, changes in history:
        rows = sorted(changes, key=lambda c: c[0])
        current = [c for c in rows if START + timedelta(hours=c[0]) < instant]
        if not current:
            continue
        _, status, price, _ = current[-1]
        period = rows[0][3]  # the membership's plan period (see load)
        if status in PAYING and price > 0:
            total += (2 * price + 12) // 24 if period == 365 else (price * 60 + period) // (2 * period)
    return total


def load(engine: sa.Engine, history: list[tuple[int, list[tuple[int, str, int, int]]]]) -> str:
    b = Business(f"biz_prop_{uuid.uuid4().hex[:10]}")
    for member in {m for m, _ in history}:
        b.member(f"m{member}", "2024-01-01")
    for n, (member, changes) in enumerate(history):
        rows = sorted(changes, key=lambda c: c[0])
        b.history(
            f"m{member}",
            f"ms{n}",
            *[((START + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M"), s, p) for h, s, p, _ in rows],
            period=rows[0][3],
        )
        # every row of a membership uses its first row's period (a plan's period does not change here)
        for row in b.rows["membership_status_changes"][-len(rows) :]:
            row["billing_period_days"] = rows[0][3]
    return b.load(engine)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories, grain=st.sampled_from(["week", "month"]), window=st.sampled_from([0, 60, 60 * 24 * 3]))
def test_rollforward_and_reference(shared_store: sa.Engine, history, grain: str, window: int) -> None:  # type: ignore[no-untyped-def]
    account = load(shared_store, history)
    policies = {"grouping_window_minutes": window}
    moves = compute("mrr_movements", shared_store, account, "2024-01-01", "2024-05-31", grain, policies=policies)
    moved = (
        moves["new_minor"]
        + moves["expansion_minor"]
        + moves["reactivation_minor"]
        - moves["contraction_minor"]
        - moves["churn_minor"]
        + moves["fx_minor"]
    )
    assert (moves["mrr_end_minor"] - moves["mrr_start_minor"] == moved).all()
    assert (moves["mrr_start_minor"].iloc[1:].to_numpy() == moves["mrr_end_minor"].iloc[:-1].to_numpy()).all()
    counted = (
        moves["customers_start"] + moves["new_customers"] + moves["reactivated_customers"] - moves["churned_customers"]
    )
    assert (counted == moves["customers_end"]).all()
    numbers = moves.drop(columns=["period_start", "currency"])
    assert (numbers >= 0).all().all()
    for last, value in zip(
        [*pd.to_datetime(moves["period_start"]).tolist()[1:], pd.Timestamp("2024-06-01")],
        moves["mrr_end_minor"],
        strict=True,
    ):
        assert value == reference_mrr(history, last.to_pydatetime().replace(tzinfo=UTC))
    churn = compute("customer_churn_rate", shared_store, account, "2024-01-01", "2024-05-31", grain)
    rates = churn["customer_churn_rate_pct"].dropna()
    assert ((rates >= 0) & (rates <= 100)).all()
    stripe = compute(
        "customer_churn_rate",
        shared_store,
        account,
        "2024-01-01",
        "2024-05-31",
        grain,
        policies={"churn_rate": "stripe_30d"},
    )
    rates = stripe["customer_churn_rate_pct"].dropna()
    assert ((rates >= 0) & (rates <= 100)).all()
    trials = compute("trials", shared_store, account, "2024-01-01", "2024-05-31", grain)
    assert (trials[["trial_starts", "converted", "lapsed", "pending", "conversions"]] >= 0).all().all()
    assert trials["trial_conversion_rate_pct"].dropna().between(0, 100).all()
    retention = compute("signup_retention", shared_store, account, "2024-01-01", "2024-05-31", grain)
    assert retention["retention_pct"].between(0, 100).all()


def test_reference_sanity() -> None:
    # 1000 a month from Jan 2 00:00, then a 365-day plan at 12000 from Feb 1: 1000 on Jan 15, 1000 on Mar 1.
    history = [(0, [(24, "active", 1000, 30)]), (1, [(24 * 31, "active", 12000, 365)])]
    assert reference_mrr(history, datetime(2024, 1, 15, tzinfo=UTC)) == 1000
    assert reference_mrr(history, datetime(2024, 3, 1, tzinfo=UTC)) == 2000
    assert date(2024, 1, 1) == START.date()
