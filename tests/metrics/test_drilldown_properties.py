"""Property test: on random membership histories (two plans in two products, usd and eur, trials, cancellations,
past-due spells, plan switches) the rows behind every revenue number reproduce it exactly, with and without a plan or
product filter and under either churn-rate policy (SQLite, PostgreSQL, DuckDB)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from business import Business, add_rates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.metrics import MetricRequest, get, rows_behind
from analytics.metrics.request import bucket_frame

START = datetime(2024, 1, 1, tzinfo=UTC)
PRODUCT = {"plan_a": "prod_1", "plan_b": "prod_2"}
RATES = [(date(2023, 11, 1), "eur", "usd", "1.1"), (date(2024, 2, 15), "eur", "usd", "1.0837")]
RATES += [(date(2024, 4, 10), "eur", "usd", "1.0795")]

change = st.tuples(
    st.integers(min_value=-24 * 45, max_value=24 * 150),  # hours after Jan 1 2024 (some before the period)
    st.sampled_from(["trialing", "active", "active", "canceling", "past_due", "canceled", "expired"]),
    st.sampled_from([0, 700, 999, 2500]),
    st.sampled_from([None, None, None, "plan_a", "plan_b"]),  # a plan switch from this change on
)
membership = st.tuples(
    st.integers(min_value=0, max_value=3),  # the member
    st.sampled_from(["plan_a", "plan_b"]),
    st.sampled_from(["usd", "usd", "eur"]),
    st.sampled_from([30, 30, 365]),
    st.lists(change, min_size=1, max_size=4),
)
filters = st.sampled_from([{}, {}, {"plan": "plan_a"}, {"product": "prod_2"}])
policies = st.fixed_dictionaries(
    {
        "churn_rate": st.sampled_from(["chartmogul", "stripe_30d"]),
        "same_period_signup_cancel": st.sampled_from(["exclude", "include"]),
        "grouping_window_minutes": st.sampled_from([0, 60, 60 * 24 * 3]),
    }
)


def load(engine: sa.Engine, history: list[tuple[int, str, str, int, list[tuple[int, str, int, str | None]]]]) -> str:
    b = Business(f"biz_dprop_{uuid.uuid4().hex[:10]}")
    b.plan("plan_a", "prod_1", 1000).plan("plan_b", "prod_2", 2500)
    for member in sorted({m for m, *_ in history}):
        b.member(f"m{member}", "2023-11-01")
    for n, (member, plan, currency, period, changes) in enumerate(history):
        rows = sorted(changes, key=lambda c: c[0])
        steps = [
            ((START + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M"), s, p, False, to or plan) for h, s, p, to in rows
        ]
        b.history(f"m{member}", f"ms{n}", *steps, plan=plan, product=PRODUCT[plan], period=period, currency=currency)
    return b.load(engine)


def narrowed(frame: pd.DataFrame, chosen: dict[str, str], buckets: pd.Series) -> pd.DataFrame:
    """The metric's rows of the chosen plan/product per bucket; a bucket without a row (no such plan) counts 0."""
    for key, value in chosen.items():
        frame = frame[frame[key] == value].drop(columns=[key])
    numbers = frame.set_index("period_start").select_dtypes("number")
    return numbers.reindex(buckets, fill_value=0)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(membership, min_size=1, max_size=6), chosen=filters, policy=policies)
def test_rows_reproduce_the_revenue_numbers(engine: sa.Engine, history, chosen, policy) -> None:  # type: ignore[no-untyped-def]
    add_rates(engine, RATES)
    account = load(engine, history)
    req = MetricRequest.build(account, "2024-01-01", "2024-05-31", "month", policies=policy)
    asked = req.replace(breakdowns=tuple(chosen))
    buckets = bucket_frame(req)["period_start"]
    mrr = narrowed(get("mrr").function(engine, asked), chosen, buckets)
    moves = narrowed(get("mrr_movements").function(engine, asked), chosen, buckets)
    churn = narrowed(get("customer_churn_rate").function(engine, asked), chosen, buckets)
    for bucket in buckets:
        subs = rows_behind("paying_subscriptions", engine, req, period_start=bucket, **chosen)
        assert subs["mrr_reporting_minor"].sum() == mrr.loc[bucket, "mrr_minor"]
        assert len(subs[["member_id", "currency"]].drop_duplicates()) == moves.loc[bucket, "customers_end"]
        counted = rows_behind("customer_churn_rows", engine, req, period_start=bucket, **chosen)["role"]
        assert (counted == "base").sum() == churn.loc[bucket, "base_customers"]
        assert (counted == "churned").sum() == churn.loc[bucket, "churned_customers"]
    counts = {"new": "new_customers", "reactivation": "reactivated_customers", "churn": "churned_customers"}
    march = buckets.iloc[2]
    for movement in ("new", "expansion", "reactivation", "contraction", "churn"):
        rows = rows_behind("mrr_movement_rows", engine, req, movement=movement, **chosen)
        by_bucket = rows.groupby("period_start")
        amounts, sizes = by_bucket["amount_reporting_minor"].sum(), by_bucket.size()
        for bucket in buckets:
            assert amounts.get(bucket, 0) == moves.loc[bucket, f"{movement}_minor"]
            if movement in counts:
                assert sizes.get(bucket, 0) == moves.loc[bucket, counts[movement]]
        # one bucket asked alone (a clicked bar) gives that bucket's rows of the whole period
        alone = rows_behind("mrr_movement_rows", engine, req, movement=movement, period_start=march, **chosen)
        whole = rows[rows["period_start"] == march]
        assert alone.to_dict("records") == whole.to_dict("records")
    if chosen:
        return  # net MRR retention has no breakdowns
    for cell in get("net_mrr_retention").function(engine, req).itertuples():
        rows = rows_behind("cohort_cell_customers", engine, req, cohort=cell.cohort, k=cell.k)
        assert len(rows) == cell.cohort_customers
        assert rows["mrr_start_reporting_minor"].sum() == cell.cohort_mrr_minor
        assert rows["mrr_reporting_minor"].sum() == cell.mrr_minor
