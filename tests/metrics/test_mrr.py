"""MRR, ARR and the MRR roll-forward on tiny hand-computed businesses (SQLite, PostgreSQL, DuckDB).

Convention in the comments: "1000" is 10.00 in minor units; a membership's MRR is price × 30 / period days,
except a 365-day plan (price / 12).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from business import Business
from helpers import col, days, run

from analytics.errors import MetricError

MOVES = ["new_minor", "expansion_minor", "reactivation_minor", "contraction_minor", "churn_minor"]


def rollforward_holds(frame) -> bool:  # type: ignore[no-untyped-def]
    moved = (
        frame["new_minor"]
        + frame["expansion_minor"]
        + frame["reactivation_minor"]
        - frame["contraction_minor"]
        - frame["churn_minor"]
        + frame["fx_minor"]
    )
    return bool((frame["mrr_end_minor"] - frame["mrr_start_minor"] == moved).all())


def test_zero_members(shared_store: sa.Engine, new_account: str) -> None:
    # An account without any membership: every bucket is present and zero, nothing is divided by zero.
    account = Business(new_account).load(shared_store)
    mrr = run(shared_store, "mrr", account, "2024-01-01", "2024-03-31")
    assert days(mrr) == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert col(mrr, "mrr_minor") == [0, 0, 0]
    assert col(mrr, "currency") == ["usd"] * 3
    moves = run(shared_store, "mrr_movements", account, "2024-01-01", "2024-03-31")
    assert moves[[*MOVES, "mrr_end_minor", "customers_end"]].to_numpy().sum() == 0
    assert col(run(shared_store, "arpa", account, "2024-01-01", "2024-01-31"), "flag") == ["no_paying_customers"]
    assert run(shared_store, "mrr_movement_log", account, "2024-01-01", "2024-03-31").empty


def test_breakdown_of_an_account_without_revenue(shared_store: sa.Engine, new_account: str) -> None:
    # A member only ever on a free trial: broken down by plan (a dashboard's plan filter) there is no plan with
    # revenue, so the answer has no rows (it used to fail with KeyError: 'plan'); without a breakdown, zeros.
    account = (
        Business(new_account)
        .member("m1", "2024-01-10")
        .history("m1", "ms1", ("2024-01-10", "trialing", 0), plan="plan_a")
        .load(shared_store)
    )
    for name in ("mrr", "mrr_movements", "customer_churn_rate", "arpa"):
        for by in ("plan", "product"):
            frame = run(shared_store, name, account, "2024-01-01", "2024-03-31", breakdowns=[by])
            assert frame.empty and by in frame.columns, (name, by)
    assert col(run(shared_store, "mrr", account, "2024-01-01", "2024-03-31"), "mrr_minor") == [0, 0, 0]


def test_single_member(shared_store: sa.Engine, new_account: str) -> None:
    # One member paying 1000 a month from Jan 10: new 1000 in January, then flat; ARR = 12 × 1000.
    account = (
        Business(new_account)
        .member("m1", "2024-01-10")
        .history("m1", "ms1", ("2024-01-10", "active", 1000))
        .load(shared_store)
    )
    moves = run(shared_store, "mrr_movements", account, "2024-01-01", "2024-03-31")
    assert col(moves, "new_minor") == [1000, 0, 0]
    assert col(moves, "mrr_end_minor") == [1000, 1000, 1000]
    assert col(moves, "customers_end") == [1, 1, 1]
    assert col(run(shared_store, "arr", account, "2024-01-01", "2024-03-31"), "arr_minor") == [12000] * 3
    assert col(run(shared_store, "arpa", account, "2024-01-01", "2024-01-31"), "arpa_minor") == [1000.0]


def test_two_subscriptions_are_one_customer(shared_store: sa.Engine, new_account: str) -> None:
    # m1 pays 1000 from Jan 5, adds a 500 subscription on Feb 10 and cancels the first on Mar 15.
    # Jan: new 1000. Feb: a second subscription is expansion 500, still one customer (MRR 1500, ARPA 1500).
    # Mar: cancelling one of two subscriptions is contraction 1000, not churn; MRR 500.
    account = (
        Business(new_account)
        .member("m1", "2024-01-05")
        .history("m1", "ms1", ("2024-01-05", "active", 1000), ("2024-03-15", "canceled", 1000))
        .history("m1", "ms2", ("2024-02-10", "active", 500), plan="plan_2")
        .load(shared_store)
    )
    moves = run(shared_store, "mrr_movements", account, "2024-01-01", "2024-03-31")
    assert col(moves, "new_minor") == [1000, 0, 0]
    assert col(moves, "expansion_minor") == [0, 500, 0]
    assert col(moves, "contraction_minor") == [0, 0, 1000]
    assert col(moves, "churn_minor") == [0, 0, 0]
    assert col(moves, "mrr_end_minor") == [1000, 1500, 500]
    assert col(moves, "customers_end") == [1, 1, 1]
    assert col(run(shared_store, "arpa", account, "2024-02-01", "2024-02-29"), "arpa_minor") == [1500.0]
    # By plan, each plan is its own population: plan_1 churns in March, plan_2 is new in February.
    by_plan = run(shared_store, "mrr_movements", account, "2024-01-01", "2024-03-31", breakdowns=["plan"])
    plan_1 = by_plan[by_plan["plan"] == "plan_1"]
    plan_2 = by_plan[by_plan["plan"] == "plan_2"]
    assert col(plan_1, "churn_minor") == [0, 0, 1000]
    assert col(plan_2, "new_minor") == [0, 500, 0]
    assert rollforward_holds(by_plan)


def test_annual_and_quarterly_plans(shared_store: sa.Engine, new_account: str) -> None:
    # A 365-day plan at 12000 counts 12000 / 12 = 1000 a month (thirty_day, the default) or
    # 12000 × 30 / 365 = 986.3 → 986 under exact_days; a 90-day plan at 2900 counts 2900 × 30 / 90 = 966.67 → 967.
    account = (
        Business(new_account)
        .member("m1", "2024-01-01")
        .member("m2", "2024-01-01")
        .history("m1", "ms1", ("2024-01-01", "active", 12000), period=365)
        .history("m2", "ms2", ("2024-01-01", "active", 2900), period=90)
        .load(shared_store)
    )
    assert col(run(shared_store, "mrr", account, "2024-01-01", "2024-01-31"), "mrr_minor") == [1000 + 967]
    exact = run(
        shared_store, "mrr", account, "2024-01-01", "2024-01-31", policies={"annual_normalisation": "exact_days"}
    )
    assert col(exact, "mrr_minor") == [986 + 967]


def test_cancellation_then_reactivation_in_the_same_month(shared_store: sa.Engine, new_account: str) -> None:
    # m1 pays 1000 from Jan 1, cancels Mar 5 and subscribes again Mar 20: March shows churn 1000 and
    # reactivation 1000 (two movements); MRR ends March at 1000 and the customer churn rate is 0 %
    # (paying at the start and at the end of March).
    account = (
        Business(new_account)
        .member("m1", "2024-01-01")
        .history("m1", "ms1", ("2024-01-01", "active", 1000), ("2024-03-05", "canceled", 1000))
        .history("m1", "ms2", ("2024-03-20", "active", 1000))
        .load(shared_store)
    )
    moves = run(shared_store, "mrr_movements", account, "2024-03-01", "2024-03-31")
    assert col(moves, "churn_minor") == [1000]
    assert col(moves, "reactivation_minor") == [1000]
    assert col(moves, "mrr_end_minor") == [1000]
    churn = run(shared_store, "customer_churn_rate", account, "2024-03-01", "2024-03-31")
    assert col(churn, "customer_churn_rate_pct") == [0.0]
    log = run(shared_store, "mrr_movement_log", account, "2024-03-01", "2024-03-31")
    assert col(log, "movement") == ["churn", "reactivation"]
    assert col(log, "member_id") == ["m1", "m1"]


def test_grouping_window(shared_store: sa.Engine, new_account: str) -> None:
    # An upgrade done as "cancel the 1000 membership at 10:00, start a 2000 one at 10:05" is one expansion of
    # 1000 with the default 60-minute window; with grouping_window_minutes=0 it is churn 1000 + reactivation 2000.
    account = (
        Business(new_account)
        .member("m1", "2024-01-01")
        .history("m1", "ms1", ("2024-01-01", "active", 1000), ("2024-02-10T10:00", "canceled", 1000))
        .history("m1", "ms2", ("2024-02-10T10:05", "active", 2000))
        .load(shared_store)
    )
    grouped = run(shared_store, "mrr_movements", account, "2024-02-01", "2024-02-29")
    assert col(grouped, "expansion_minor") == [1000]
    assert col(grouped, "churn_minor") == [0]
    apart = run(
        shared_store, "mrr_movements", account, "2024-02-01", "2024-02-29", policies={"grouping_window_minutes": 0}
    )
    assert col(apart, "churn_minor") == [1000]
    assert col(apart, "reactivation_minor") == [2000]
    assert col(apart, "mrr_end_minor") == [2000]


def test_time_zone_boundary(shared_store: sa.Engine, new_account: str) -> None:
    # 2024-02-01 03:00 UTC is still January 31 (22:00) in New York: the new MRR belongs to January there,
    # and to February for a UTC account with the same rows.
    def business(account: str, tz: str) -> str:
        return (
            Business(account, time_zone=tz)
            .member("m1", "2024-02-01T03:00")
            .history("m1", "ms1", ("2024-02-01T03:00", "active", 1000))
            .load(shared_store)
        )

    new_york = business(new_account, "America/New_York")
    utc = business(new_account + "_utc", "UTC")
    assert col(run(shared_store, "mrr_movements", new_york, "2024-01-01", "2024-02-29"), "new_minor") == [1000, 0]
    assert col(run(shared_store, "mrr_movements", utc, "2024-01-01", "2024-02-29"), "new_minor") == [0, 1000]
    daily = run(shared_store, "mrr", new_york, "2024-01-30", "2024-02-01", grain="day")
    assert col(daily, "mrr_minor") == [0, 1000, 1000]


def test_leap_day(shared_store: sa.Engine, new_account: str) -> None:
    # A yearly plan (12000 → 1000 a month) bought on 2024-02-29: the daily series has the leap day.
    account = (
        Business(new_account)
        .member("m1", "2024-02-29T12:00")
        .history("m1", "ms1", ("2024-02-29T12:00", "active", 12000), period=365)
        .load(shared_store)
    )
    daily = run(shared_store, "mrr_movements", account, "2024-02-28", "2024-03-01", grain="day")
    assert days(daily) == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert col(daily, "new_minor") == [0, 1000, 0]
    weekly = run(shared_store, "mrr", account, "2024-02-26", "2024-03-10", grain="week")
    assert days(weekly) == ["2024-02-26", "2024-03-04"]
    assert col(weekly, "mrr_minor") == [1000, 1000]


@pytest.mark.parametrize(("past_due_in_mrr", "feb", "mar"), [(True, (0, 1000), (1000, 0)), (False, (1000, 0), (0, 0))])
def test_past_due_policy(
    shared_store: sa.Engine, new_account: str, past_due_in_mrr: bool, feb: tuple[int, int], mar: tuple[int, int]
) -> None:
    # m1 pays 1000 from Jan 1, goes past_due on Feb 10 and expires on Mar 12 (dunning gave up).
    # past_due_in_mrr (default): still MRR in February, churn 1000 in March.
    # Without it: the churn happens when it goes past_due (February), March has nothing left to lose.
    account = (
        Business(new_account)
        .member("m1", "2024-01-01")
        .history(
            "m1",
            "ms1",
            ("2024-01-01", "active", 1000),
            ("2024-02-10", "past_due", 1000),
            ("2024-03-12", "expired", 1000),
        )
        .load(shared_store)
    )
    moves = run(
        shared_store,
        "mrr_movements",
        account,
        "2024-02-01",
        "2024-03-31",
        policies={"past_due_in_mrr": past_due_in_mrr},
    )
    assert col(moves, "churn_minor") == [feb[0], mar[0]]
    assert col(moves, "mrr_end_minor") == [feb[1], mar[1]]


@pytest.mark.parametrize(("recognition", "churn"), [("period_end", [0, 1000]), ("cancel_request", [1000, 0])])
def test_cancel_recognition_policy(
    shared_store: sa.Engine, new_account: str, recognition: str, churn: list[int]
) -> None:
    # m1 pays 1000 from Jan 1, asks on Jan 15 to cancel at period end (flag set, still active) and the
    # membership ends on Feb 1 (UTC). period_end (default): churn in February; cancel_request: in January.
    # m2 does the same through the 'canceling' status.
    account = (
        Business(new_account)
        .member("m1", "2024-01-01")
        .member("m2", "2024-01-01")
        .history(
            "m1",
            "ms1",
            ("2024-01-01", "active", 1000),
            ("2024-01-15", "active", 1000, True),
            ("2024-02-01", "canceled", 1000, True),
        )
        .history(
            "m2",
            "ms2",
            ("2024-01-01", "active", 500),
            ("2024-01-15", "canceling", 500),
            ("2024-02-01", "canceled", 500),
        )
        .load(shared_store)
    )
    moves = run(
        shared_store, "mrr_movements", account, "2024-01-01", "2024-02-29", policies={"churn_recognition": recognition}
    )
    assert col(moves, "churn_minor") == [c * 3 // 2 for c in churn]


def test_multi_currency_fx_line(shared_store: sa.Engine, new_account: str) -> None:
    # Reporting currency usd. m1 pays 1000 usd, m2 pays 1000 eur, both from Jan 1 2024.
    # EUR→USD: 1.20 on Jan 31; on Feb 29 only the inverse USD→EUR 0.8 is stored, i.e. EUR→USD 1.25.
    # January: new = 1000 + 1000 × 1.20 = 2200 (movements at the bucket-end rate), opening 0, fx 0.
    # February: no movement; closing = 1000 + 1250 = 2250, so fx = +50 (the EUR MRR remeasured).
    # m1 is on plan_usd, m2 on plan_eur: by plan, each plan's rows are converted and summed on their own.
    from datetime import date

    from business import add_rates

    add_rates(shared_store, [(date(2024, 1, 31), "eur", "usd", "1.20"), (date(2024, 2, 29), "usd", "eur", "0.8")])
    account = (
        Business(new_account)
        .member("m1", "2024-01-01")
        .member("m2", "2024-01-01")
        .history("m1", "ms1", ("2024-01-01", "active", 1000), plan="plan_usd")
        .history("m2", "ms2", ("2024-01-01", "active", 1000), currency="eur", plan="plan_eur")
        .load(shared_store)
    )
    moves = run(shared_store, "mrr_movements", account, "2024-01-01", "2024-02-29")
    assert col(moves, "new_minor") == [2200, 0]
    assert col(moves, "fx_minor") == [0, 50]
    assert col(moves, "mrr_end_minor") == [2200, 2250]
    assert rollforward_holds(moves)
    # plan_usd: new 1000 in January, fx 0; plan_eur: new 1200 in January, closing 1250 in February, fx +50.
    by_plan = run(shared_store, "mrr_movements", account, "2024-01-01", "2024-02-29", breakdowns=["plan"])
    assert col(by_plan, "plan") == ["plan_eur", "plan_usd", "plan_eur", "plan_usd"]  # by period, then plan
    assert col(by_plan, "currency") == ["usd"] * 4
    assert col(by_plan, "new_minor") == [1200, 1000, 0, 0]
    assert col(by_plan, "fx_minor") == [0, 0, 50, 0]
    assert col(by_plan, "mrr_end_minor") == [1200, 1000, 1250, 1000]
    assert rollforward_holds(by_plan)
    by_currency = run(shared_store, "mrr", account, "2024-02-01", "2024-02-29", breakdowns=["currency"])
    assert col(by_currency, "currency") == ["eur", "usd"]
    assert col(by_currency, "mrr_minor") == [1000, 1000]
    with pytest.raises(MetricError, match="no exchange rate from eur to usd"):
        run(shared_store, "mrr", account, "2024-01-01", "2024-01-30")


def test_fx_conversion_is_double_precision(shared_store: sa.Engine, new_account: str) -> None:
    # 98,765,432 minor units of GBP a month at 1.2345679 USD/GBP = 121,932,631.6… → 121,932,632 (rates are read
    # as doubles on every engine; single precision would be off by tens of units here).
    from datetime import date

    from business import add_rates

    add_rates(shared_store, [(date(2024, 1, 1), "gbp", "usd", "1.2345679")])
    account = (
        Business(new_account)
        .member("m1", "2024-01-01")
        .history("m1", "ms1", ("2024-01-01", "active", 98_765_432), currency="gbp")
        .load(shared_store)
    )
    mrr = run(shared_store, "mrr", account, "2024-01-01", "2024-01-31")
    assert col(mrr, "mrr_minor") == [round(98_765_432 * 1.2345679)]
    assert col(mrr, "mrr_minor") == [121_932_632]


def test_discounts_list_policy(shared_store: sa.Engine, new_account: str) -> None:
    # m1 pays 800 after a 20 % promo on a 1000 list-price plan: net MRR 800 (default), list MRR 1000.
    account = (
        Business(new_account)
        .plan("plan_1", price=1000)
        .member("m1", "2024-01-01")
        .history("m1", "ms1", ("2024-01-01", "active", 800))
        .load(shared_store)
    )
    assert col(run(shared_store, "mrr", account, "2024-01-01", "2024-01-31"), "mrr_minor") == [800]
    listed = run(shared_store, "mrr", account, "2024-01-01", "2024-01-31", policies={"discounts": "list"})
    assert col(listed, "mrr_minor") == [1000]


def test_bad_requests(shared_store: sa.Engine, new_account: str) -> None:
    account = Business(new_account).load(shared_store)
    with pytest.raises(MetricError, match=r"starts .* after it ends"):
        run(shared_store, "mrr", account, "2024-02-01", "2024-01-01")
    with pytest.raises(MetricError, match="cannot be broken down by channel"):
        run(shared_store, "mrr", account, "2024-01-01", "2024-01-31", breakdowns=["channel"])
    with pytest.raises(MetricError, match="is not in the store"):
        run(shared_store, "mrr", "biz_nobody", "2024-01-01", "2024-01-31")
    with pytest.raises(MetricError, match="is not a date"):
        run(shared_store, "mrr", account, "January", "2024-01-31")
