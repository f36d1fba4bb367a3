"""Trials, dunning, delinquent churn, cash revenue, refunds and disputes on hand-computed businesses."""

from __future__ import annotations

import sqlalchemy as sa
from business import Business
from helpers import col, run


def test_trials(shared_store: sa.Engine, new_account: str) -> None:
    # m1: trial Jan 3 → paid Jan 10 (converted). m2: trial Jan 5 → expired Jan 12 (lapsed).
    # m3: trial Jan 28 → paid Feb 4 (pending at the end of January, converted by the end of February).
    account = (
        Business(new_account)
        .member("m1", "2024-01-03")
        .member("m2", "2024-01-05")
        .member("m3", "2024-01-28")
        .history("m1", "ms1", ("2024-01-03", "trialing", 0), ("2024-01-10", "active", 1000))
        .history("m2", "ms2", ("2024-01-05", "trialing", 0), ("2024-01-12", "expired", 0))
        .history("m3", "ms3", ("2024-01-28", "trialing", 0), ("2024-02-04", "active", 1000))
        .load(shared_store)
    )
    january = run(shared_store, "trials", account, "2024-01-01", "2024-01-31")
    # 3 starts: 1 converted, 1 lapsed, 1 pending → 1 ÷ 2 decided = 50 %.
    assert col(january, "trial_starts") == [3]
    assert (col(january, "converted"), col(january, "lapsed"), col(january, "pending")) == ([1], [1], [1])
    assert col(january, "trial_conversion_rate_pct") == [50.0]
    both = run(shared_store, "trials", account, "2024-01-01", "2024-02-29")
    # By the end of February m3 converted: January's cohort is 2 ÷ 3; conversions happen in Jan (m1) and Feb (m3).
    assert col(both, "converted") == [2, 0]
    assert col(both, "conversions") == [1, 1]
    assert round(both["trial_conversion_rate_pct"].iloc[0], 2) == 66.67
    assert col(both, "flag") == ["", "no_decided_trials"]
    # Trials are not MRR: only m1 pays in January.
    assert col(run(shared_store, "mrr", account, "2024-01-01", "2024-01-31"), "mrr_minor") == [1000]


def test_failed_payments_and_delinquent_churn(shared_store: sa.Engine, new_account: str) -> None:
    b = Business(new_account)
    for n in range(1, 5):
        b.member(f"m{n}", "2024-01-01")
    # m1's January charge failed twice, then succeeded on Jan 8 (recovered).
    b.history("m1", "ms1", ("2024-01-01", "active", 1000))
    b.payment("m1", "ms1", "2024-01-05", 1000, status="paid", paid="2024-01-08", failed=2)
    # m2's charge on Jan 20 failed for good: past_due, then expired Feb 5 → delinquent churn of 2000.
    b.history(
        "m2", "ms2", ("2024-01-01", "active", 2000), ("2024-01-20", "past_due", 2000), ("2024-02-05", "expired", 2000)
    )
    b.payment("m2", "ms2", "2024-01-20", 2000, status="open", failed=1, substatus="failed")
    # m3 cancels on Feb 10 after paying normally → voluntary churn of 500.
    b.history("m3", "ms3", ("2024-01-01", "active", 500), ("2024-02-10", "canceled", 500))
    b.payment("m3", "ms3", "2024-01-25", 500)
    # m4 cancels on Feb 15 (status never past_due) but its Feb 1 charge had failed unrecovered → delinquent, 700.
    b.history("m4", "ms4", ("2024-01-01", "active", 700), ("2024-02-15", "canceled", 700))
    b.payment("m4", "ms4", "2024-02-01", 700, status="open", failed=1, substatus="failed")
    account = b.load(shared_store)
    failed = run(shared_store, "failed_payments", account, "2024-01-01", "2024-02-29")
    # January: m1 (recovered) and m2 (not) failed → 50 % recovery; February: m4 failed, not recovered.
    assert col(failed, "failed") == [2, 1]
    assert col(failed, "failed_minor") == [3000, 700]
    assert col(failed, "recovered") == [1, 0]
    assert col(failed, "recovery_rate_pct") == [50.0, 0.0]
    reasons = run(shared_store, "churn_by_reason", account, "2024-02-01", "2024-02-29")
    assert col(reasons, "delinquent_customers") == [2]
    assert col(reasons, "delinquent_minor") == [2000 + 700]
    assert col(reasons, "voluntary_customers") == [1]
    assert col(reasons, "voluntary_minor") == [500]


def test_refund_in_the_month_of_purchase(shared_store: sa.Engine, new_account: str) -> None:
    # m1 pays 1000 on Jan 5 and is refunded in full on Jan 20; the membership stays active.
    # Cash: January gross 1000, refunds 1000, net 0. MRR ignores the one-off refund: still 1000.
    # m2 pays 400 on Feb 3, refunded 100 on Mar 2: cash_only books it in March, payment_period in February.
    b = Business(new_account).member("m1", "2024-01-05").member("m2", "2024-02-03")
    b.history("m1", "ms1", ("2024-01-05", "active", 1000))
    p1 = b.payment("m1", "ms1", "2024-01-05", 1000)
    b.refund(p1, "2024-01-20", 1000)
    b.history("m2", "ms2", ("2024-02-03", "active", 400))
    p2 = b.payment("m2", "ms2", "2024-02-03", 400)
    b.refund(p2, "2024-03-02", 100)
    b.refund(p2, "2024-03-03", 50, status="failed")  # a failed refund moves no money
    account = b.load(shared_store)
    cash = run(shared_store, "cash_revenue", account, "2024-01-01", "2024-03-31")
    assert col(cash, "gross_minor") == [1000, 400, 0]
    assert col(cash, "refunds_minor") == [1000, 0, 100]
    assert col(cash, "net_minor") == [0, 400, -100]
    restated = run(
        shared_store, "cash_revenue", account, "2024-01-01", "2024-03-31", policies={"refunds": "payment_period"}
    )
    assert col(restated, "refunds_minor") == [1000, 100, 0]
    refunds = run(shared_store, "refunds", account, "2024-01-01", "2024-03-31")
    assert col(refunds, "refunds") == [1, 0, 1]
    assert col(refunds, "refund_rate_pct")[:2] == [100.0, 0.0]
    assert col(refunds, "flag") == ["", "", "no_cash"]
    assert col(run(shared_store, "mrr", account, "2024-01-01", "2024-01-31"), "mrr_minor") == [1000]


def test_disputes(shared_store: sa.Engine, new_account: str) -> None:
    b = Business(new_account).member("m1", "2024-01-01")
    b.history("m1", "ms1", ("2024-01-01", "active", 1000))
    p1, p2, p3 = (b.payment("m1", "ms1", d, 1000) for d in ("2024-01-01", "2024-01-02", "2024-01-03"))
    b.dispute(p1, "2024-01-10", 1000, "lost")
    b.dispute(p2, "2024-02-02", 1000, "needs_response")
    b.dispute(p3, "2024-02-03", 1000, "won")
    account = b.load(shared_store)
    disputes = run(shared_store, "disputes", account, "2024-01-01", "2024-02-29")
    assert col(disputes, "disputes") == [1, 2]
    assert col(disputes, "lost") == [1, 0]
    assert col(disputes, "won") == [0, 1]
    assert col(disputes, "open") == [0, 1]
    assert col(disputes, "lost_minor") == [1000, 0]
