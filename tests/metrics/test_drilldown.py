"""Rows behind a number: every drill-down on tiny hand-checked businesses, and its rows against the metric's number
for the same request (SQLite, PostgreSQL, DuckDB).

The revenue business (UTC, usd, Jan–Mar 2024, monthly; "1000" is 10.00; every plan bills every 30 days):

* ann  basic (course) 1000 from Jan 5, raised to 2500 on Feb 10            → new Jan, expansion Feb
* bob  basic 1000 from Jan 10, canceled Feb 15 (a failed charge Feb 14, recovered Feb 16)  → new Jan, churn Feb
* cat  pro (club) 3000 since Dec 1 2023, lowered to 2000 on Mar 3           → paying at Jan 1, contraction Mar
* dan  basic 1000 from Jan 20, canceled Jan 25, back on Mar 10              → new + churn Jan, reactivation Mar
* eve  pro: trial Feb 1, paying 3000 from Feb 8, past due Mar 20 (failed charge, unrecovered) → new Feb
* fay  basic 1000 from Jan 2, and pro 3000 from Feb 20 (one customer)      → new Jan, expansion Feb
* gus  basic: trial Jan 15, canceled Jan 29 (never paid)

MRR at the end of Jan / Feb / Mar: 6000 (ann, bob, cat, fay) / 12500 (ann 2500, cat, eve, fay 4000) /
12500 (ann 2500, cat 2000, dan 1000, eve 3000, fay 4000).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from business import Business as Revenue
from business import add_rates
from helpers import col, run

from analytics.errors import MetricError
from analytics.metrics import (
    KPI_DRILLDOWNS,
    MetricRequest,
    drilldowns,
    get,
    get_drilldown,
    lesson_stats,
    member_detail,
    rows_behind,
)
from analytics.store.schema import churn_predictions, model_registry
from tiny_business import Business as Community

PERIOD = ("2024-01-01", "2024-03-31")


def request(account: str, start: str = PERIOD[0], end: str = PERIOD[1], grain: str = "month", **kw: object):  # type: ignore[no-untyped-def]
    return MetricRequest.build(account, start, end, grain, **kw)  # type: ignore[arg-type]


def metric(engine: sa.Engine, name: str, req: MetricRequest, **chosen: str) -> pd.DataFrame:
    """The metric's frame narrowed to the chosen product/plan, as the dashboards do (kpis.AccountMetrics)."""
    if chosen:
        req = req.replace(breakdowns=tuple(chosen))
    frame = get(name).function(engine, req)
    for key, value in chosen.items():
        frame = frame[frame[key] == value].drop(columns=[key]).reset_index(drop=True)
    return frame


def members(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["member_id"])


@pytest.fixture(scope="module")
def shop(engine: sa.Engine) -> str:
    b = Revenue("biz_drill_shop")
    b.plan("plan_basic", "prod_course", 1000).plan("plan_pro", "prod_club", 3000)
    for row in b.rows["plans"]:
        row["title"] = {"plan_basic": "Basic", "plan_pro": "Pro"}[row["id"]]
    for name, joined in [("ann", "2024-01-05"), ("bob", "2024-01-10"), ("cat", "2023-12-01"), ("dan", "2024-01-20")]:
        b.member(name, joined)
    for name, joined in [("eve", "2024-02-01"), ("fay", "2024-01-02"), ("gus", "2024-01-15")]:
        b.member(name, joined)
    for row in b.rows["members"]:
        row["display_name"] = row["id"].capitalize()
    basic = {"plan": "plan_basic", "product": "prod_course"}
    pro = {"plan": "plan_pro", "product": "prod_club"}
    b.history("ann", "ms_ann", ("2024-01-05", "active", 1000), ("2024-02-10", "active", 2500), **basic)
    b.history("bob", "ms_bob", ("2024-01-10", "active", 1000), ("2024-02-15", "canceled", 1000), **basic)
    b.history("cat", "ms_cat", ("2023-12-01", "active", 3000), ("2024-03-03", "active", 2000), **pro)
    b.history(
        "dan",
        "ms_dan",
        ("2024-01-20", "active", 1000),
        ("2024-01-25", "canceled", 1000),
        ("2024-03-10", "active", 1000),
        **basic,
    )
    b.history(
        "eve",
        "ms_eve",
        ("2024-02-01", "trialing", 3000),
        ("2024-02-08", "active", 3000),
        ("2024-03-20", "past_due", 3000),
        **pro,
    )
    b.history("fay", "ms_fay1", ("2024-01-02", "active", 1000), **basic)
    b.history("fay", "ms_fay2", ("2024-02-20", "active", 3000), **pro)
    b.history("gus", "ms_gus", ("2024-01-15", "trialing", 1000), ("2024-01-29", "canceled", 1000), **basic)
    b.payment("ann", "ms_ann", "2024-01-05", 1000, **basic)
    b.payment("bob", "ms_bob", "2024-02-14", 1000, failed=1, paid="2024-02-16", payment_id="pay_bob", **basic)
    b.payment("eve", "ms_eve", "2024-03-20", 3000, status="open", failed=1, payment_id="pay_eve", **pro)
    return b.load(engine)


# ---- paying subscriptions: MRR, ARR, ARPA, paying customers ----------------------------------------------------


def test_paying_subscriptions_at_the_end_of_the_period(engine: sa.Engine, shop: str) -> None:
    # End of March: six memberships of five customers (fay has two), 12500 in all.
    req = request(shop)
    rows = rows_behind("paying_subscriptions", engine, req)
    assert list(zip(rows["membership_id"], rows["mrr_minor"], strict=True)) == [
        ("ms_eve", 3000),
        ("ms_fay2", 3000),
        ("ms_ann", 2500),
        ("ms_cat", 2000),
        ("ms_dan", 1000),
        ("ms_fay1", 1000),
    ]
    eve = rows.iloc[0]
    # eve is past due (in MRR by default), with readable names and her state's start in the account's zone
    assert (eve["member"], eve["plan_title"], eve["product_title"], eve["status"]) == (
        "Eve",
        "Pro",
        "prod_club",
        "past_due",
    )
    assert eve["status_since"] == pd.Timestamp("2024-03-20", tz="UTC")
    assert set(rows["currency"]) == set(rows["reporting_currency"]) == {"usd"}
    assert rows["mrr_reporting_minor"].sum() == col(run(engine, "mrr", shop, *PERIOD), "mrr_minor")[-1] == 12500
    moves = run(engine, "mrr_movements", shop, *PERIOD)
    assert rows["member_id"].nunique() == col(moves, "customers_end")[-1] == 5
    assert 12 * rows["mrr_reporting_minor"].sum() == col(run(engine, "arr", shop, *PERIOD), "arr_minor")[-1]
    arpa = run(engine, "arpa", shop, *PERIOD)
    assert rows["mrr_reporting_minor"].sum() / rows["member_id"].nunique() == col(arpa, "arpa_minor")[-1]


def test_paying_subscriptions_of_a_bucket_and_a_plan(engine: sa.Engine, shop: str) -> None:
    # End of February on the Pro plan: cat, eve and fay's second membership, 3000 each.
    req = request(shop)
    rows = rows_behind("paying_subscriptions", engine, req, period_start="2024-02-01", plan="plan_pro")
    assert members(rows) == ["cat", "eve", "fay"] and set(rows["mrr_minor"]) == {3000}
    mrr = metric(engine, "mrr", req, plan="plan_pro")
    assert rows["mrr_reporting_minor"].sum() == mrr.loc[mrr["period_start"] == "2024-02-01", "mrr_minor"].item()
    moves = metric(engine, "mrr_movements", req, plan="plan_pro")
    assert rows["member_id"].nunique() == moves.loc[moves["period_start"] == "2024-02-01", "customers_end"].item()
    # the product filter: the course's memberships at the end of January are ann, bob and fay's first
    course = rows_behind("paying_subscriptions", engine, req, period_start="2024-01-01", product="prod_course")
    assert members(course) == ["ann", "bob", "fay"]
    by_product = metric(engine, "mrr", req, product="prod_course")
    assert course["mrr_reporting_minor"].sum() == by_product["mrr_minor"].iloc[0] == 3000


# ---- movements: the waterfall's bars and the new / churned customers KPIs ----------------------------------------


@pytest.mark.parametrize(
    ("movement", "expected", "count_column"),
    [
        # January: fay (2nd), ann (5th), bob (10th) and dan (20th) start paying; February: eve (after her trial)
        ("new", [("fay", 1000), ("ann", 1000), ("bob", 1000), ("dan", 1000), ("eve", 3000)], "new_customers"),
        # February: ann's raise and fay's second subscription (one customer, so an expansion, not a new customer)
        ("expansion", [("ann", 1500), ("fay", 3000)], None),
        # March: dan comes back
        ("reactivation", [("dan", 1000)], "reactivated_customers"),
        # March: cat pays 1000 less
        ("contraction", [("cat", 1000)], None),
        # January: dan leaves five days after joining; February: bob
        ("churn", [("dan", 1000), ("bob", 1000)], "churned_customers"),
    ],
)
def test_movement_rows_reproduce_the_rollforward(
    engine: sa.Engine, shop: str, movement: str, expected: list[tuple[str, int]], count_column: str | None
) -> None:
    req = request(shop)
    rows = rows_behind("mrr_movement_rows", engine, req, movement=movement)
    assert list(zip(rows["member_id"], rows["amount_minor"], strict=True)) == expected
    assert set(rows["movement"]) == {movement}
    moves = run(engine, "mrr_movements", shop, *PERIOD)
    sums = rows.groupby("period_start")["amount_reporting_minor"].sum()
    for period_start, value in zip(moves["period_start"], moves[f"{movement}_minor"], strict=True):
        assert sums.get(period_start, 0) == value
    if count_column:
        counts = rows.groupby("period_start").size()
        assert [counts.get(p, 0) for p in moves["period_start"]] == col(moves, count_column)


def test_movement_rows_of_one_bucket_and_plan(engine: sa.Engine, shop: str) -> None:
    # Within the Pro plan fay's February subscription is a new customer of that plan, not an expansion.
    req = request(shop)
    rows = rows_behind("mrr_movement_rows", engine, req, movement="new", period_start="2024-02-01", plan="plan_pro")
    assert list(zip(rows["member"], rows["plan_title"], rows["amount_minor"], strict=True)) == [
        ("Eve", "Pro", 3000),
        ("Fay", "Pro", 3000),
    ]
    assert rows["changed_at"].tolist() == [pd.Timestamp("2024-02-08", tz="UTC"), pd.Timestamp("2024-02-20", tz="UTC")]
    moves = metric(engine, "mrr_movements", req, plan="plan_pro").set_index("period_start")
    assert len(rows) == moves.loc["2024-02-01", "new_customers"] == 2
    assert rows["amount_reporting_minor"].sum() == moves.loc["2024-02-01", "new_minor"] == 6000
    expansion = rows_behind("mrr_movement_rows", engine, req, movement="expansion", plan="plan_pro")
    assert expansion.empty and moves["expansion_minor"].sum() == 0


# ---- customer churn rate: numerator and denominator -----------------------------------------------------------


def test_churn_rows_chartmogul(engine: sa.Engine, shop: str) -> None:
    req = request(shop)
    rates = run(engine, "customer_churn_rate", shop, *PERIOD).set_index("period_start")
    # February: ann, bob, cat and fay paid on Feb 1; bob did not on Mar 1 → 1 of 4
    feb = rows_behind("customer_churn_rows", engine, req, period_start="2024-02-01")
    base, churned = feb[feb["role"] == "base"], feb[feb["role"] == "churned"]
    assert members(base) == ["ann", "bob", "cat", "fay"] and members(churned) == ["bob"]
    assert churned[["mrr_before_minor", "mrr_after_minor"]].values.tolist() == [[1000, 0]]
    assert (len(base), len(churned)) == tuple(rates.loc["2024-02-01", ["base_customers", "churned_customers"]])
    # January: only cat paid on Jan 1; dan joined and left within January, which the default policy leaves out
    jan = rows_behind("customer_churn_rows", engine, req, period_start="2024-01-01")
    assert jan[["role", "member_id"]].values.tolist() == [["base", "cat"]]
    assert rates.loc["2024-01-01", "churned_customers"] == 0
    # same_period_signup_cancel=include: January's joiners count in the base, and dan is churned
    policies = {"same_period_signup_cancel": "include"}
    incl = rows_behind("customer_churn_rows", engine, request(shop, policies=policies), period_start="2024-01-01")
    assert incl[["role", "reason", "member_id"]].values.tolist() == [
        ["base", "joined during the period", "ann"],
        ["base", "joined during the period", "bob"],
        ["base", "joined during the period", "dan"],
        ["base", "joined during the period", "fay"],
        ["base", "paying at period start", "cat"],
        ["churned", "joined and churned in the period", "dan"],
    ]
    counted = run(engine, "customer_churn_rate", shop, *PERIOD, policies=policies).iloc[0]
    assert (counted["base_customers"], counted["churned_customers"]) == (5, 1)


def test_churn_rows_with_a_plan_and_the_stripe_policy(engine: sa.Engine, shop: str) -> None:
    req = request(shop)
    # Basic plan in February: ann, bob and fay (her first subscription) paid on Feb 1; bob left
    rows = rows_behind("customer_churn_rows", engine, req, period_start="2024-02-01", plan="plan_basic")
    rates = metric(engine, "customer_churn_rate", req, plan="plan_basic").set_index("period_start")
    assert members(rows[rows["role"] == "base"]) == ["ann", "bob", "fay"]
    assert set(rows["plan_title"]) == {"Basic"}
    assert rows["role"].value_counts().to_dict() == {"base": 3, "churned": 1}
    assert tuple(rates.loc["2024-02-01", ["base_customers", "churned_customers"]]) == (3, 1)
    # stripe_30d for February: the 30 days Jan 31 – Feb 29. Paying on Jan 31 (start): ann, bob, cat, fay;
    # new in those days: eve; churned: bob → 1 of 5
    stripe = request(shop, policies={"churn_rate": "stripe_30d"})
    rows = rows_behind("customer_churn_rows", engine, stripe, period_start="2024-02-01")
    assert rows[["role", "reason", "member_id"]].values.tolist() == [
        ["base", "new in 30 days", "eve"],
        ["base", "paying 30 days before", "ann"],
        ["base", "paying 30 days before", "bob"],
        ["base", "paying 30 days before", "cat"],
        ["base", "paying 30 days before", "fay"],
        ["churned", "churned in 30 days", "bob"],
    ]
    assert rows.loc[rows["role"] == "churned", "changed_at"].item() == pd.Timestamp("2024-02-15", tz="UTC")
    rates = run(engine, "customer_churn_rate", shop, *PERIOD, policies={"churn_rate": "stripe_30d"})
    feb = rates.set_index("period_start").loc["2024-02-01"]
    assert (feb["base_customers"], feb["churned_customers"]) == (5, 1)


# ---- net MRR retention cohort cells ---------------------------------------------------------------------------


def test_cohort_cell_customers(engine: sa.Engine, shop: str) -> None:
    # The January cohort (first paid in January; cat paid before the period and has no cohort): ann, bob, dan and
    # fay, 3000 at the end of January (dan had already left); at k = 2 (end of March): ann 2500, dan 1000 (back),
    # fay 4000, bob 0 → 7500.
    req = request(shop)
    rows = rows_behind("cohort_cell_customers", engine, req, cohort="2024-01-01", k=2)
    assert rows[["member_id", "mrr_start_minor", "mrr_minor"]].values.tolist() == [
        ["ann", 1000, 2500],
        ["bob", 1000, 0],
        ["fay", 1000, 4000],
        ["dan", 0, 1000],
    ]
    assert rows["first_paid_at"].iloc[0] == pd.Timestamp("2024-01-05", tz="UTC")
    cells = run(engine, "net_mrr_retention", shop, *PERIOD).set_index(["cohort", "k"])
    for cohort, k in cells.index:
        cell = cells.loc[(cohort, k)]
        rows = rows_behind("cohort_cell_customers", engine, req, cohort=cohort, k=int(k))
        assert len(rows) == cell["cohort_customers"]
        assert rows["mrr_start_reporting_minor"].sum() == cell["cohort_mrr_minor"]
        assert rows["mrr_reporting_minor"].sum() == cell["mrr_minor"]
    with pytest.raises(MetricError, match="k=3 is outside the cohort 2024-01-01"):
        rows_behind("cohort_cell_customers", engine, req, cohort="2024-01-01", k=3)
    with pytest.raises(MetricError, match="cannot be broken down by plan"):
        rows_behind("cohort_cell_customers", engine, req, cohort="2024-01-01", k=0, plan="plan_pro")


# ---- members by status, failed payments -----------------------------------------------------------------------


def test_memberships_in_status(engine: sa.Engine, shop: str) -> None:
    # The status chart asks for the last day: at the end of March five memberships (four members) are active.
    req = request(shop, "2024-03-31", "2024-03-31", "day")
    by_status = run(engine, "memberships_by_status", shop, "2024-03-31", "2024-03-31", "day").set_index("status")
    active = rows_behind("memberships_in_status", engine, req, status="active")
    assert sorted(active["membership_id"]) == ["ms_ann", "ms_cat", "ms_dan", "ms_fay1", "ms_fay2"]
    assert (len(active), active["member_id"].nunique()) == tuple(by_status.loc["active", ["memberships", "members"]])
    # the longest in the status first: fay's first since Jan 2
    assert active["membership_id"].iloc[0] == "ms_fay1"
    for status in by_status.index:
        rows = rows_behind("memberships_in_status", engine, req, status=status)
        assert len(rows) == by_status.loc[status, "memberships"]
        assert rows["member_id"].nunique() == by_status.loc[status, "members"]
    # the club's active memberships: cat and fay's second
    club = rows_behind("memberships_in_status", engine, req, status="active", product="prod_club")
    assert sorted(club["membership_id"]) == ["ms_cat", "ms_fay2"]
    assert (
        metric(engine, "memberships_by_status", req, product="prod_club")
        .set_index("status")
        .loc["active", "memberships"]
        == 2
    )


def test_failed_payment_rows(engine: sa.Engine, shop: str) -> None:
    # bob's February charge failed and was recovered two days later; eve's March charge failed and is still open.
    req = request(shop)
    rows = rows_behind("failed_payment_rows", engine, req)
    assert rows[["payment_id", "member", "recovered", "total_minor"]].values.tolist() == [
        ["pay_eve", "Eve", False, 3000],
        ["pay_bob", "Bob", True, 1000],
    ]
    assert rows["paid_at"].iloc[1] == pd.Timestamp("2024-02-16", tz="UTC")
    failed = run(engine, "failed_payments", shop, *PERIOD)
    assert len(rows) == failed["failed"].sum() and rows["total_reporting_minor"].sum() == failed["failed_minor"].sum()
    assert rows["recovered"].sum() == failed["recovered"].sum()
    assert rows["recovered_reporting_minor"].sum() == failed["recovered_minor"].sum()
    feb = rows_behind("failed_payment_rows", engine, req, period_start="2024-02-01", recovered=True)
    assert feb["payment_id"].tolist() == ["pay_bob"]
    pro = rows_behind("failed_payment_rows", engine, req, plan="plan_pro")
    assert (
        pro["payment_id"].tolist() == ["pay_eve"]
        and metric(engine, "failed_payments", req, plan="plan_pro")["failed"].sum() == 1
    )


# ---- several currencies: row shares add up to the converted metric --------------------------------------------


@pytest.fixture(scope="module")
def euros(engine: sa.Engine) -> str:
    """A usd account whose members pay in eur and usd: eur converts at 1.0837 (Jan 31) and 1.0795 (Feb 29).

    Seven eur subscriptions of 999 each: 6993 eur = 7578.31 usd on Jan 31 → 7578. Each row alone is 1082.62 → 1083,
    and 7 × 1083 = 7581 would be 3 too many; the shares give each row 1082 and the remaining 4 to four rows.
    In February e0 also pays 333 from Feb 5 to Feb 20; 6993 eur on Feb 29 = 7548.94 → 7549 usd.
    """
    add_rates(engine, [(date(2024, 1, 31), "eur", "usd", "1.0837"), (date(2024, 2, 29), "eur", "usd", "1.0795")])
    b = Revenue("biz_drill_euros")
    for n in range(7):
        b.member(f"e{n}", "2024-01-03")
        b.history(f"e{n}", f"ms_e{n}", (f"2024-01-{3 + n:02d}", "active", 999), currency="eur")
    b.member("u1", "2024-01-03").history("u1", "ms_u1", ("2024-01-03", "active", 1500))
    b.history("e0", "ms_e0b", ("2024-02-05", "active", 333), ("2024-02-20", "canceled", 333), currency="eur")
    b.payment("e1", "ms_e1", "2024-02-03", 999, status="open", failed=1, currency="eur", payment_id="pay_e1")
    b.payment("e2", "ms_e2", "2024-02-03", 999, status="open", failed=1, currency="eur", payment_id="pay_e2")
    return b.load(engine)


def test_reporting_shares_add_up_to_the_converted_metric(engine: sa.Engine, euros: str) -> None:
    req = request(euros, "2024-01-01", "2024-02-29")
    jan = rows_behind("paying_subscriptions", engine, req, period_start="2024-01-01")
    eur = jan[jan["currency"] == "eur"]
    assert sorted(eur["mrr_reporting_minor"]) == [1082] * 3 + [1083] * 4
    mrr = run(engine, "mrr", euros, "2024-01-01", "2024-02-29")
    assert col(mrr, "mrr_minor") == [7578 + 1500, 7549 + 1500]
    for period_start, value in zip(mrr["period_start"], mrr["mrr_minor"], strict=True):
        rows = rows_behind("paying_subscriptions", engine, req, period_start=period_start)
        assert rows["mrr_reporting_minor"].sum() == value
        assert set(rows["reporting_currency"]) == {"usd"}
    moves = run(engine, "mrr_movements", euros, "2024-01-01", "2024-02-29")
    for movement in ("new", "expansion", "churn"):
        rows = rows_behind("mrr_movement_rows", engine, req, movement=movement)
        sums = rows.groupby("period_start")["amount_reporting_minor"].sum()
        assert [sums.get(p, 0) for p in moves["period_start"]] == col(moves, f"{movement}_minor")
    cells = run(engine, "net_mrr_retention", euros, "2024-01-01", "2024-02-29").iloc[1]
    cell = rows_behind("cohort_cell_customers", engine, req, cohort="2024-01-01", k=1)
    assert cell["mrr_reporting_minor"].sum() == cells["mrr_minor"]
    assert cell["mrr_start_reporting_minor"].sum() == cells["cohort_mrr_minor"]
    failed = rows_behind("failed_payment_rows", engine, req)
    assert (
        failed["total_reporting_minor"].sum()
        == run(engine, "failed_payments", euros, "2024-01-01", "2024-02-29")["failed_minor"].sum()
    )
    # broken down by currency, amounts stay in their own currency, as the metric's
    own = rows_behind(
        "paying_subscriptions", engine, request(euros, "2024-01-01", "2024-01-31", breakdowns=["currency"])
    )
    assert (own["mrr_reporting_minor"] == own["mrr_minor"]).all() and (
        own["reporting_currency"] == own["currency"]
    ).all()


# ---- engagement and content -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def club(engine: sa.Engine) -> Community:
    """Two weeks (Mon Mar 3 – Sun Mar 16 2025, UTC) of a community with a three-lesson course.

    Week 1: m1 logs in every day, m2 posts once (on the web channel); week 2: m1 and m3 log in. m4 never comes.
    Lessons completed in the period: l1 by m1, m2, m4; l2 by m1 and m3 (m3 skipped l1); l3 by nobody (m1 finished
    it in February, before the period).
    """
    b = Community(engine, account_id="biz_drill_club")
    for member, joined in [("m1", "2025-01-01"), ("m2", "2025-02-01"), ("m3", "2025-02-15"), ("m4", "2025-01-10")]:
        b.member(member, joined, display_name=member.upper())
    for day in range(3, 10):
        b.event("m1", "login", f"2025-03-{day:02d} 08:00", channel="web", product_id="prod_club")
    b.event("m2", "message", "2025-03-05 12:00", channel="whop_chat", product_id="prod_club")
    b.event("m1", "login", "2025-03-12 08:00", channel="web", product_id="prod_club")
    b.event("m3", "login", "2025-03-15 18:00", channel="web", product_id="prod_course")
    b.course("c1", ["l1", "l2", "l3"])
    b.lesson_progress("m1", "l3", "c1", "2025-02-01", "2025-02-02")
    for member, lesson, day in [("m1", "l1", 4), ("m2", "l1", 5), ("m4", "l1", 6), ("m1", "l2", 7), ("m3", "l2", 8)]:
        b.lesson_progress(member, lesson, "c1", f"2025-03-{day:02d}", f"2025-03-{day:02d} 10:00")
    return b.save()


def test_active_member_rows(engine: sa.Engine, club: Community) -> None:
    req = request(club.account_id, "2025-03-03", "2025-03-16", "week")
    active = get("active_members").function(engine, req)
    week1 = rows_behind("active_member_rows", engine, req, period_start="2025-03-03")
    assert week1[["member", "events"]].values.tolist() == [["M1", 7], ["M2", 1]]
    assert week1["last_event_at"].iloc[0] == pd.Timestamp("2025-03-09 08:00", tz="UTC")
    assert len(week1) == active["active_members"].iloc[0] == 2
    week2 = rows_behind("active_member_rows", engine, req, period_start="2025-03-10")
    assert members(week2) == ["m1", "m3"] and len(week2) == active["active_members"].iloc[1]
    # the course product's actives in week 2: m3 only; on the web channel in week 1: m1 only
    course = rows_behind("active_member_rows", engine, req, period_start="2025-03-10", product="prod_course")
    by_product = metric(engine, "active_members", req, product="prod_course")
    assert members(course) == ["m3"] and by_product["active_members"].tolist() == [0, 1]
    web = rows_behind("active_member_rows", engine, req, period_start="2025-03-03", channel="web")
    assert members(web) == ["m1"] == members(week1[week1["member_id"] == "m1"])
    logins = request(club.account_id, "2025-03-03", "2025-03-16", "week", params={"kinds": ("message",)})
    assert members(rows_behind("active_member_rows", engine, logins, period_start="2025-03-03")) == ["m2"]
    with pytest.raises(MetricError, match="choose one with period_start"):
        rows_behind("active_member_rows", engine, req)
    with pytest.raises(MetricError, match="cannot be broken down by plan"):
        rows_behind("active_member_rows", engine, req, period_start="2025-03-03", plan="plan_pro")


def test_engagement_segments_and_idle_members(engine: sa.Engine, club: Community) -> None:
    # The club has no memberships, so it has no current members: the rows are asked for everyone who joined
    # (population "all"), the same request the metrics get.
    req = request(club.account_id, "2025-03-03", "2025-03-16", "week", params={"population": "all"})
    segments = get("engagement_segments").function(engine, req).set_index("segment")
    for segment in segments.index:
        rows = rows_behind("engagement_segment_members", engine, req, segment=segment)
        assert len(rows) == segments.loc[segment, "members"]
    # idle on Mar 17 (no event since Mar 10): m2 (last Mar 5) and m4 (never)
    idle = rows_behind("engagement_segment_members", engine, req, segment="idle")
    assert members(idle) == ["m2", "m4"] and set(idle["member"]) == {"M2", "M4"}
    idle_rows = rows_behind("idle_member_rows", engine, req)
    assert idle_rows[["member", "days_inactive"]].fillna(-1).values.tolist() == [["M4", -1], ["M2", 11]]
    assert len(idle_rows) == len(get("idle_members").function(engine, req))
    with pytest.raises(MetricError, match="segment 'busy' is not one of high, medium, low, idle"):
        rows_behind("engagement_segment_members", engine, req, segment="busy")


def test_lesson_dropoff_learners(engine: sa.Engine, club: Community) -> None:
    req = request(club.account_id, "2025-03-03", "2025-03-16", "week")
    stats = lesson_stats(engine, club.account_id, start="2025-03-03", end="2025-03-16").set_index("lesson_id")
    # l2: l1 was completed by m1, m2, m4 and l2 by m1, m3: m2 and m4 dropped, m3 offsets one → fall 3 − 2 = 1
    l2 = rows_behind("lesson_dropoff_learners", engine, req, lesson_id="l2")
    assert l2[["role", "member_id"]].values.tolist() == [
        ["dropped", "m2"],
        ["dropped", "m4"],
        ["completed_without_previous", "m3"],
    ]
    # l3: m1 and m3 completed l2 in the period; m1 finished l3 in February (shown, but not in the period's count)
    l3 = rows_behind("lesson_dropoff_learners", engine, req, lesson_id="l3")
    assert l3[["role", "member_id"]].values.tolist() == [["dropped", "m1"], ["dropped", "m3"]]
    assert l3["lesson_completed_at"].iloc[0] == pd.Timestamp("2025-02-02", tz="UTC")
    for lesson_id, rows in [("l2", l2), ("l3", l3)]:
        fall = (rows["role"] == "dropped").sum() - (rows["role"] == "completed_without_previous").sum()
        assert fall == stats.loc[lesson_id, "completion_fall"]
    assert rows_behind("lesson_dropoff_learners", engine, req, lesson_id="l1").empty
    with pytest.raises(MetricError, match="lesson 'l9' is not a lesson"):
        rows_behind("lesson_dropoff_learners", engine, req, lesson_id="l9")


# ---- one member's detail --------------------------------------------------------------------------------------


def test_member_detail(engine: sa.Engine, shop: str) -> None:
    # eve was scored twice by the current model; the newest score (Mar 25) is the at-risk table's row.
    factors = [
        {"feature": "days_since_last_activity", "value": 12.0, "typical": 2.0, "text": "No activity for 12 days"}
    ]
    actions = [{"action": "recover_payment", "text": "Send a card update link", "reason": "a failed payment"}]
    now = datetime(2024, 3, 25, tzinfo=UTC)
    with engine.begin() as conn:
        for model_id, current in [("mdl_old", False), ("mdl_now", True)]:
            conn.execute(
                model_registry.insert().values(
                    account_id=shop,
                    id=model_id,
                    kind="churn",
                    estimator="logistic",
                    artifact_path="x",
                    artifact_sha256="0" * 64,
                    features=[],
                    is_current=current,
                    created_at=now,
                )
            )
        for model_id, as_of, probability in [
            ("mdl_now", date(2024, 3, 18), 0.4),
            ("mdl_now", date(2024, 3, 25), 0.82),
            ("mdl_old", date(2024, 3, 28), 0.1),
        ]:
            conn.execute(
                churn_predictions.insert().values(
                    account_id=shop,
                    id=f"cp_{model_id}_{as_of}",
                    member_id="eve",
                    model_id=model_id,
                    as_of=as_of,
                    probability=probability,
                    risk_level="critical" if probability > 0.7 else "medium",
                    factors=factors,
                    actions=actions,
                    created_at=now,
                )
            )
    detail = member_detail(engine, request(shop), "eve")
    assert detail.risk[["kind", "rank", "text"]].values.tolist() == [
        ["score", 0, "82% churn probability (critical risk)"],
        ["factor", 1, "No activity for 12 days"],
        ["action", 1, "Send a card update link"],
    ]
    assert set(detail.risk["as_of"]) == {pd.Timestamp("2024-03-25")} and set(detail.risk["member"]) == {"Eve"}
    from analytics.models.churn.predictions import latest_scores

    stored = latest_scores(engine, shop).set_index("member_id").loc["eve"]
    assert (stored["probability"], stored["risk_level"]) == (detail.risk["probability"].iloc[0], "critical")
    assert detail.payments[["payment_id", "status", "total_minor"]].values.tolist() == [["pay_eve", "open", 3000]]
    assert detail.activity.empty  # no events in this account
    assert rows_behind("member_churn_risk", engine, request(shop), member_id="ann").empty


# ---- the registry ---------------------------------------------------------------------------------------------


def test_registry_lists_and_checks_selections(engine: sa.Engine, shop: str) -> None:
    listed = drilldowns().set_index("name")
    assert listed.loc["mrr_movement_rows", "required"] == "movement"
    assert listed.loc["paying_subscriptions", "optional"] == "period_start, product, plan"
    for name, (drill, fixed) in KPI_DRILLDOWNS.items():
        spec = get_drilldown(drill)
        assert set(fixed) <= set(spec.required) | set(spec.optional), name
        assert all(get(m) for m in spec.metrics)
    req = request(shop)
    with pytest.raises(MetricError, match="needs the selection movement"):
        rows_behind("mrr_movement_rows", engine, req)
    with pytest.raises(MetricError, match="has no selection key colour; its keys: movement, period_start"):
        rows_behind("mrr_movement_rows", engine, req, movement="new", colour="red")
    with pytest.raises(MetricError, match="movement 'fx' is not one of"):
        rows_behind("mrr_movement_rows", engine, req, movement="fx")
    with pytest.raises(MetricError, match="period_start 2024-01-15 is not a month bucket of 2024-01-01 – 2024-03-31"):
        rows_behind("paying_subscriptions", engine, req, period_start="2024-01-15")
    with pytest.raises(MetricError, match="unknown drill-down 'mrr_rows'"):
        rows_behind("mrr_rows", engine, req)
