"""Net MRR retention by first-payment cohort and signup-cohort retention."""

from __future__ import annotations

import sqlalchemy as sa
from business import Business
from helpers import col, days, run


def test_net_mrr_retention(shared_store: sa.Engine, new_account: str) -> None:
    # January cohort: m1 pays 1000 from Jan 5 and expands to 1500 on Mar 1; m2 pays 2000 from Jan 20 and
    # cancels Feb 15. Starting MRR 3000; February 1000 (33.33 %); March and April 1500 (50 %).
    # February cohort: m3 pays 500 from Feb 2 and stays: 100 % every month.
    account = (
        Business(new_account)
        .member("m1", "2024-01-05")
        .member("m2", "2024-01-20")
        .member("m3", "2024-02-02")
        .history("m1", "ms1", ("2024-01-05", "active", 1000), ("2024-03-01", "active", 1500))
        .history("m2", "ms2", ("2024-01-20", "active", 2000), ("2024-02-15", "canceled", 2000))
        .history("m3", "ms3", ("2024-02-02", "active", 500))
        .load(shared_store)
    )
    nrr = run(shared_store, "net_mrr_retention", account, "2024-01-01", "2024-04-30")
    january = nrr[nrr["cohort"] == "2024-01-01"]
    assert col(january, "k") == [0, 1, 2, 3]
    assert col(january, "cohort_customers") == [2] * 4
    assert col(january, "mrr_minor") == [3000, 1000, 1500, 1500]
    assert [round(v, 2) for v in col(january, "net_mrr_retention_pct")] == [100.0, 33.33, 50.0, 50.0]
    february = nrr[nrr["cohort"] == "2024-02-01"]
    assert days(february) == ["2024-02-01", "2024-03-01", "2024-04-01"]
    assert col(february, "net_mrr_retention_pct") == [100.0] * 3


def test_signup_retention(shared_store: sa.Engine, new_account: str) -> None:
    # January cohort (2): m1 has access from Jan 5 on; m2's trial (access) lapses Feb 3.
    # February cohort (2): m3 never buys; m4 pays from Feb 15 and cancels Mar 31 23:00 (before March ends).
    # → Jan: k0 2/2, k1 1/2, k2 1/2; Feb: k0 1/2, k1 0/2.
    account = (
        Business(new_account)
        .member("m1", "2024-01-05")
        .member("m2", "2024-01-20")
        .member("m3", "2024-02-10")
        .member("m4", "2024-02-15")
        .history("m1", "ms1", ("2024-01-05", "active", 1000))
        .history("m2", "ms2", ("2024-01-20", "trialing", 0), ("2024-02-03", "expired", 0))
        .history("m4", "ms4", ("2024-02-15", "active", 1000), ("2024-03-31T23:00", "canceled", 1000))
        .load(shared_store)
    )
    retention = run(shared_store, "signup_retention", account, "2024-01-01", "2024-03-31")
    assert days(retention, "cohort") == ["2024-01-01"] * 3 + ["2024-02-01"] * 2
    assert col(retention, "k") == [0, 1, 2, 0, 1]
    assert col(retention, "cohort_size") == [2, 2, 2, 2, 2]
    assert col(retention, "active") == [2, 1, 1, 1, 0]
    assert col(retention, "retention_pct") == [100.0, 50.0, 50.0, 50.0, 0.0]
    # A period without signups has no cohorts.
    empty = run(shared_store, "signup_retention", account, "2025-01-01", "2025-02-28")
    assert empty.empty


def test_signup_retention_reads_each_months_last_change(shared_store: sa.Engine, new_account: str) -> None:
    # One January cohort of four, with access read at each month's end:
    # m1 active Jan 10, canceled Feb 10 and active again Feb 20 (the same month): access at every month's end.
    # m2 has two memberships: ms2a Jan 15 → canceled Mar 5, ms2b Feb 1 → still active; counted once in February.
    # m3 and m4 each have two changes at the same instant on Feb 28 (ties are read in id order): m3 ends
    # February active (expires Mar 3), m4 ends February canceled.
    # → Jan 4/4, Feb 3/4 (m1, m2, m3), Mar 2/4 (m1, m2).
    feb28 = "2024-02-28T12:00"
    account = (
        Business(new_account)
        .member("m1", "2024-01-10")
        .member("m2", "2024-01-15")
        .member("m3", "2024-01-12")
        .member("m4", "2024-01-20")
        .history("m1", "ms1", ("2024-01-10", "active", 1), ("2024-02-10", "canceled", 1), ("2024-02-20", "active", 1))
        .history("m2", "ms2a", ("2024-01-15", "active", 1), ("2024-03-05", "canceled", 1))
        .history("m2", "ms2b", ("2024-02-01", "active", 1))
        .history("m3", "ms3", ("2024-01-12", "active", 1), (feb28, "canceled", 1), (feb28, "active", 1),
                 ("2024-03-03", "expired", 1))
        .history("m4", "ms4", ("2024-01-20", "active", 1), (feb28, "active", 1), (feb28, "canceled", 1))
        .load(shared_store)
    )  # fmt: skip
    retention = run(shared_store, "signup_retention", account, "2024-01-01", "2024-03-31")
    assert days(retention, "cohort") == ["2024-01-01"] * 3
    assert col(retention, "cohort_size") == [4, 4, 4]
    assert col(retention, "active") == [4, 3, 2]
    assert col(retention, "retention_pct") == [100.0, 75.0, 50.0]
