"""The small demo business (1,000 members, seed 7, as of 2026-06-01) behaves like a real Whop creator.

Each band below is wide enough to hold for any seed at this size yet narrow enough to catch a broken generator;
the comment on each test says where the band comes from.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from analytics.store.enums import ENUMS

HORIZON = pd.Timestamp("2026-06-01", tz="UTC")


def _paying_customers(changes: pd.DataFrame, at: pd.Timestamp) -> set[str]:
    """Members with a renewal membership that is active or past_due at ``at`` (ChartMogul's "customers")."""
    state = changes[changes["changed_at"] <= at].sort_values("changed_at").groupby("membership_id").tail(1)
    paying = state[state["status"].isin(["active", "past_due"]) & state["billing_period_days"].notna()]
    return set(paying["member_id"])


def test_monthly_customer_churn_is_plausible(small: dict[str, pd.DataFrame]) -> None:
    # Subscription creators lose 3–12 % of paying customers a month (ChartMogul/Baremetrics benchmarks for
    # B2C memberships); the generator aims at ~6 %: voluntary hazard 5 %·exp(−0.6 z) plus dunning losses,
    # partly offset by yearly plans. Churn = customers at month start who are no longer paying at month end.
    changes = small["membership_status_changes"]
    months = pd.date_range(end=HORIZON, periods=13, freq="MS")
    rates = []
    for start, stop in itertools.pairwise(months):
        before, after = _paying_customers(changes, start), _paying_customers(changes, stop)
        rates.append(len(before - after) / len(before) * 100)
    assert 3 <= np.mean(rates) <= 12, rates
    assert all(0 < r < 20 for r in rates), rates


def test_churned_members_were_less_engaged_before_leaving(small: dict[str, pd.DataFrame]) -> None:
    # Engagement drives churn: for each voluntary cancellation, compare the member's events in the 30 days
    # before the decision with those of members paying at the same instant who were still paying 60 days
    # later, over the same window. The generator's decline (×0.25 at the decision) and the link between
    # engagement and hazard should make churners far less active; we ask for at most 75 % of retained.
    events = small["activity_events"]
    micros = events["occurred_at"].astype("int64")
    by_member = {m: np.sort(g.to_numpy()) for m, g in micros.groupby(events["member_id"])}
    changes = small["membership_status_changes"]
    ms = small["memberships"]
    decided = ms[(ms["status"] == "canceled") & ms["cancel_option"].notna() & ms["billing_period_days"].notna()]
    window = pd.Timedelta(days=30)

    def count(member: str, at: pd.Timestamp) -> int:
        times = by_member.get(member, np.array([], dtype=np.int64))
        stop = at.value // 1000  # Timestamp.value is in nanoseconds whatever the unit
        return int(np.searchsorted(times, stop) - np.searchsorted(times, stop - window.value // 1000))

    churned, retained = [], []
    for row in decided.sample(min(len(decided), 120), random_state=1).itertuples():
        at = row.canceled_at
        if at + pd.Timedelta(days=60) >= HORIZON:
            continue
        churned.append(count(row.member_id, at))
        stayers = sorted(_paying_customers(changes, at) & _paying_customers(changes, at + pd.Timedelta(days=60)))
        retained += [count(m, at) for m in stayers[:: max(1, len(stayers) // 10)]]
    assert len(churned) >= 50
    assert np.mean(retained) > 10  # retained paying members are active every week
    assert np.mean(churned) <= 0.75 * np.mean(retained), (np.mean(churned), np.mean(retained))


def test_trial_conversion_between_30_and_80_percent(small: dict[str, pd.DataFrame]) -> None:
    # Whop trials convert at 40–60 % for paid communities; the generator uses sigmoid(0.2 + 1.2 z) (≈ 54 %).
    # A trial converts when its trialing state is followed by a charge (active, or past_due for a failing
    # first charge); it does not when it is followed by canceled/expired.
    changes = small["membership_status_changes"]
    after_trial = changes[changes["previous_status"] == "trialing"]
    converted = after_trial["status"].isin(["active", "past_due"]) & ~after_trial["cancel_at_period_end"]
    ended = after_trial["status"].isin(["canceled", "expired"])
    rate = converted.sum() / (converted.sum() + ended.sum()) * 100
    assert 30 <= rate <= 80, rate


def test_refunds_are_a_few_percent_of_paid_payments(small: dict[str, pd.DataFrame]) -> None:
    # Digital-subscription refund rates run 1–6 % of charges: 1.5 % random refunds, half of the 18 % immediate
    # cancellations, 6 % of one-time purchases, and the refund rings.
    payments, refunds = small["payments"], small["refunds"]
    paid = payments[payments["status"] == "paid"]
    refunded = paid["refunded_amount_minor"] > 0
    assert 1 <= refunded.mean() * 100 <= 6
    assert set(paid.loc[refunded, "substatus"]) == {"refunded", "partially_refunded"}
    assert refunds["payment_id"].isin(paid.loc[refunded, "id"]).all()
    assert (paid.loc[refunded, "refunded_at"].notna()).all()
    # The refund rows add up to the refunded amounts on the payments.
    per_payment = refunds.groupby("payment_id")["amount_minor"].sum()
    assert (paid.set_index("id").loc[per_payment.index, "refunded_amount_minor"] == per_payment).all()


def test_some_disputes(small: dict[str, pd.DataFrame]) -> None:
    # 0.3 % of renewal charges and 0.8 % of one-time purchases are charged back: a handful at this size.
    disputes, payments = small["disputes"], small["payments"].set_index("id")
    assert 2 <= len(disputes) <= 40
    assert payments.loc[disputes["payment_id"], "substatus"].str.startswith("dispute_").all()


def test_currencies_plan_types_and_billing_periods(small: dict[str, pd.DataFrame]) -> None:
    ms, plans, payments = small["memberships"], small["plans"], small["payments"]
    assert {"usd", "eur"} <= set(payments["currency"])
    assert set(plans["plan_type"]) == {"renewal", "one_time"}
    assert {30, 90, 365} <= set(ms["billing_period_days"].dropna().astype(int))
    assert ms["billing_period_days"].isna().any()  # one-time purchases
    assert plans["trial_period_days"].notna().any()
    assert {"subscription_create", "subscription_cycle", "subscription_update", "one_time"} <= set(
        payments["billing_reason"]
    )


def test_promo_codes_percentage_and_flat_are_used(small: dict[str, pd.DataFrame]) -> None:
    promos, ms = small["promo_codes"], small["memberships"]
    used = promos[promos["uses"] > 0]
    assert {"percentage", "flat_amount"} <= set(used["promo_type"])
    assert ms["promo_code_id"].notna().sum() == promos["uses"].sum()


def test_cancellations_at_period_end_and_immediately_with_whop_reasons(small: dict[str, pd.DataFrame]) -> None:
    ms = small["memberships"]
    voluntary = ms[ms["cancel_option"].notna()]
    assert voluntary["cancel_at_period_end"].any() and (~voluntary["cancel_at_period_end"]).any()
    assert set(voluntary["cancel_option"]) <= ENUMS[("memberships", "cancel_option")]
    assert voluntary["cancellation_reason"].notna().mean() > 0.5


def test_a_former_member_buys_again_after_a_gap(small: dict[str, pd.DataFrame]) -> None:
    ms = small["memberships"].sort_values("created_at")
    ended = ms[ms["status"].isin(["canceled", "expired"])]
    later = ms[["member_id", "created_at"]].merge(ended[["member_id", "expires_at"]], on="member_id")
    gap = later["created_at"] - later["expires_at"]
    assert (gap >= pd.Timedelta(days=14)).sum() >= 10


def test_dunning_recovers_some_failed_payments_and_others_churn(small: dict[str, pd.DataFrame]) -> None:
    payments, changes = small["payments"], small["membership_status_changes"]
    failed = payments[payments["payments_failed"] > 0]
    recovered = failed[failed["status"] == "paid"]
    assert len(recovered) >= 10 and recovered["decline_code"].notna().all()
    assert (recovered["paid_at"] > recovered["created_at"]).all()
    # Delinquent churn: an end reached straight from past_due, with the unpaid charge uncollectible.
    delinquent = changes[(changes["previous_status"] == "past_due") & changes["status"].isin(["canceled", "expired"])]
    assert len(delinquent) >= 10
    assert (failed["status"] == "uncollectible").sum() == len(delinquent)


def test_lesson_completions_fall_along_the_course(small: dict[str, pd.DataFrame]) -> None:
    lessons = small["lessons"]
    done = (
        small["lesson_interactions"]
        .query("completed")
        .merge(lessons[["id", "position"]], left_on="lesson_id", right_on="id")
    )
    for course, group in done.groupby("course_id"):
        per_position = (
            group.groupby("position")
            .size()
            .reindex(lessons.loc[lessons["course_id"] == course, "position"], fill_value=0)
        )
        assert per_position.iloc[0] > per_position.iloc[-1], course
        assert per_position.iloc[0] == per_position.max(), course
        assert np.corrcoef(per_position.index, per_position.to_numpy())[0, 1] < -0.8, course


def test_whatsapp_read_le_delivered_le_sent(small: dict[str, pd.DataFrame]) -> None:
    messages, statuses = small["wa_messages"], small["wa_status_updates"]
    out = messages[messages["direction"] == "outbound"]
    sent = (out["status"] != "failed").sum()
    delivered = out["status"].isin(["delivered", "read"]).sum()  # read implies delivered
    read = (out["status"] == "read").sum()
    assert 0 < read <= delivered <= sent
    assert (out["status"] == "failed").any() and out.loc[out["status"] == "failed", "error_code"].notna().all()
    replies = messages[messages["direction"] == "inbound"]
    assert len(replies) > 0 and replies["context_message_id"].isin(out["id"]).all()
    # Every status update belongs to an outbound message; some "delivered" webhooks were skipped (Meta).
    assert statuses["message_id"].isin(out["id"]).all()
    assert (statuses["status"] == "delivered").sum() < delivered


def test_fraud_patterns_are_planted(small: dict[str, pd.DataFrame], small_labels: pd.DataFrame) -> None:
    assert {"self_referral", "click_burst", "refund_ring"} <= set(small_labels["pattern"])
    referrals, payments = small["referrals"].set_index("id"), small["payments"]
    affiliates = small["affiliates"].set_index("id")
    # A self-referral comes from the affiliate's own IP: the same hash as the affiliate's own checkout (when
    # the affiliate ever paid; a trial that never converted leaves no checkout IP).
    matched = 0
    for row in small_labels[small_labels["pattern"] == "self_referral"].itertuples():
        referral = referrals.loc[row.subject_id]
        own = payments[(payments["member_id"] == affiliates.loc[row.affiliate_id, "member_id"])]["ip_hash"].dropna()
        if len(own):
            assert referral["ip_hash"] in set(own)
            matched += 1
    assert matched >= 2
    # Ring members share one card and were refunded or charged back.
    ring = referrals.loc[small_labels.query("pattern == 'refund_ring' and subject_type == 'referral'")["subject_id"]]
    ring_payments = payments[payments["member_id"].isin(ring["member_id"])]
    assert ring_payments["payment_method_fingerprint"].nunique() == 1
    assert (ring_payments["substatus"] != "succeeded").all()
    # Click bursts: many clicks within minutes from a handful of IPs.
    burst = (
        small["referral_clicks"]
        .set_index("id")
        .loc[small_labels.query("pattern == 'click_burst' and subject_type == 'click'")["subject_id"]]
    )
    assert burst["ip_hash"].nunique() < len(burst) / 20


def test_enumerated_values_are_whop_values(small: dict[str, pd.DataFrame]) -> None:
    for (table, column), allowed in ENUMS.items():
        if table in small:
            values = set(small[table][column].dropna())
            assert values <= allowed, f"{table}.{column}: {values - allowed}"


def test_memberships_agree_with_their_last_status_change(small: dict[str, pd.DataFrame]) -> None:
    last = small["membership_status_changes"].sort_values("changed_at").groupby("membership_id").tail(1)
    both = small["memberships"].merge(last, left_on="id", right_on="membership_id", suffixes=("", "_h"))
    assert len(both) == len(small["memberships"])
    for column in ("status", "plan_id", "renewal_price_minor", "cancel_at_period_end", "currency"):
        assert (both[column] == both[f"{column}_h"]).all(), column


def test_activity_volume_and_kinds(small: dict[str, pd.DataFrame]) -> None:
    # About 100 events per member at every size (medium ≈ 1M, large ≈ 20M): here ~100k.
    events = small["activity_events"]
    assert 60_000 <= len(events) <= 150_000
    assert {
        "login",
        "message",
        "post",
        "post_view",
        "lesson_view",
        "lesson_complete",
        "funnel_view",
        "checkout_start",
        "purchase",
    } <= set(events["kind"])
    purchases = events[events["kind"] == "purchase"]
    assert len(purchases) == len(small["memberships"])
    posts = small["posts"]
    assert posts["view_count"].sum() == (events["kind"] == "post_view").sum()
    assert posts["like_count"].sum() == (events["kind"] == "reaction").sum()
