"""Customer churn rates, MRR churn, quick ratio, ARPU and LTV on a hand-computed business."""

from __future__ import annotations

import math

import sqlalchemy as sa
from business import Business
from helpers import col, run


def churn_business(account: str) -> Business:
    # m1–m4 pay 1000 from Dec 1 2023. m1 cancels Jan 10. m5 joins Jan 5 and cancels Jan 25 (joined and
    # churned within January). m6 has only a free trial (access, no MRR).
    b = Business(account)
    for n in range(1, 5):
        b.member(f"m{n}", "2023-12-01")
    b.history("m1", "ms1", ("2023-12-01", "active", 1000), ("2024-01-10", "canceled", 1000))
    for n in range(2, 5):
        b.history(f"m{n}", f"ms{n}", ("2023-12-01", "active", 1000))
    b.member("m5", "2024-01-05").history("m5", "ms5", ("2024-01-05", "active", 1000), ("2024-01-25", "canceled", 1000))
    b.member("m6", "2024-01-02").history("m6", "ms6", ("2024-01-02", "trialing", 0))
    return b


def test_customer_churn_rate_policies(shared_store: sa.Engine, new_account: str) -> None:
    account = churn_business(new_account).load(shared_store)
    # ChartMogul, same-period signups excluded: 4 customers at the start of January, m1 churned → 25 %.
    default = run(shared_store, "customer_churn_rate", account, "2024-01-01", "2024-01-31")
    assert col(default, "base_customers") == [4]
    assert col(default, "churned_customers") == [1]
    assert col(default, "customer_churn_rate_pct") == [25.0]
    # Included: m5 joined and churned → (1 + 1) ÷ (4 + 1) = 40 %.
    include = run(
        shared_store,
        "customer_churn_rate",
        account,
        "2024-01-01",
        "2024-01-31",
        policies={"same_period_signup_cancel": "include"},
    )
    assert col(include, "customer_churn_rate_pct") == [40.0]
    # Stripe 30 days ending Jan 31 (Jan 2 … Jan 31): 4 paying on Jan 1 + 1 new (m5) = 5; m1 and m5 churned → 40 %.
    stripe = run(
        shared_store, "customer_churn_rate", account, "2024-01-01", "2024-01-31", policies={"churn_rate": "stripe_30d"}
    )
    assert col(stripe, "base_customers") == [5]
    assert col(stripe, "churned_customers") == [2]
    assert col(stripe, "customer_churn_rate_pct") == [40.0]
    # December has nobody paying at its start: undefined, flagged.
    december = run(shared_store, "customer_churn_rate", account, "2023-12-01", "2023-12-31")
    assert math.isnan(december["customer_churn_rate_pct"].iloc[0])
    assert col(december, "flag") == ["no_customers_at_start"]


def test_mrr_churn_rates_and_quick_ratio(shared_store: sa.Engine, new_account: str) -> None:
    account = churn_business(new_account).load(shared_store)
    # January: MRR at start 4000; churn 1000 (m1) + 1000 (m5); new 1000 (m5); no expansion or contraction.
    gross = run(shared_store, "gross_mrr_churn_rate", account, "2024-01-01", "2024-01-31")
    assert col(gross, "lost_minor") == [2000]
    assert col(gross, "gross_mrr_churn_rate_pct") == [50.0]
    net = run(shared_store, "net_mrr_churn_rate", account, "2024-01-01", "2024-01-31")
    assert col(net, "net_mrr_churn_rate_pct") == [50.0]
    quick = run(shared_store, "quick_ratio", account, "2024-01-01", "2024-02-29")
    # January: gained 1000 ÷ lost 2000 = 0.5; February: nothing lost → undefined, flagged.
    assert col(quick, "quick_ratio")[0] == 0.5
    assert math.isnan(quick["quick_ratio"].iloc[1])
    assert col(quick, "flag") == ["", "no_losses"]


def test_arpu_policies(shared_store: sa.Engine, new_account: str) -> None:
    account = churn_business(new_account).load(shared_store)
    # End of January: MRR 3000, 3 paying customers (m2–m4) → 1000; members with access: m2–m4 and the trial m6 → 750.
    paying = run(shared_store, "arpu", account, "2024-01-01", "2024-01-31")
    assert col(paying, "arpu_minor") == [1000.0]
    members = run(shared_store, "arpu", account, "2024-01-01", "2024-01-31", policies={"arpu": "per_member"})
    assert col(members, "users") == [4]
    assert col(members, "arpu_minor") == [750.0]


def test_ltv(shared_store: sa.Engine, new_account: str) -> None:
    account = churn_business(new_account).load(shared_store)
    # February: ARPA = 3000 ÷ 3 = 1000. Trailing months before February with customers at their start: only
    # January (25 %), so LTV = 1000 ÷ 0.25 = 4000. January itself has no qualifying month before it.
    ltv = run(shared_store, "ltv", account, "2024-01-01", "2024-02-29")
    assert col(ltv, "churn_months") == [0, 1]
    assert col(ltv, "ltv_minor")[1] == 4000.0
    assert col(ltv, "flag") == ["no_churn_history", ""]


def test_ltv_undefined_without_churn(shared_store: sa.Engine, new_account: str) -> None:
    # A single loyal customer since June 2023: churn is 0 % every month, so LTV is undefined (not infinite).
    account = (
        Business(new_account)
        .member("m1", "2023-06-01")
        .history("m1", "ms1", ("2023-06-01", "active", 1000))
        .load(shared_store)
    )
    ltv = run(shared_store, "ltv", account, "2024-01-01", "2024-01-31")
    assert math.isnan(ltv["ltv_minor"].iloc[0])
    assert col(ltv, "flag") == ["zero_churn"]
    assert col(ltv, "churn_months") == [6]
