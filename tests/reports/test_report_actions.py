"""The report tells a creator what to do: members at risk from the stored churn scores, this week's actions, and
engagement segments whose shares add up to 100 %.

Scores are written by hand for five members of the tiny demo business (seed 7), scored on 30 June 2025 by a
current model ``churn_report_test``:

=======  ===========  ========  ==========================================  =======================================
member   probability  level     factors (top reasons)                       actions
=======  ===========  ========  ==========================================  =======================================
1st      0.85         critical  days since last activity ↑, events 30d ↓    payment method update, re-engagement
2nd      0.62         high      days since last activity ↑, cancel at end ↑  win-back offer, re-engagement
3rd      0.41         medium    events 30d ↓                                onboarding call
4th      0.20         low       –                                           –
5th      0.10         low       –                                           –
=======  ===========  ========  ==========================================  =======================================

So 5 scored, 3 at risk (medium or above); levels 1/1/1/2 = 20/20/20/40 %; reasons: days since last activity 2
(66.67 % of 3), events 30d 2, cancel at period end 1; actions in priority order: payment method update 1,
win-back 1, re-engagement 2, onboarding call 1. An older scoring (20 June, everyone low) and a later one (5 July,
after the report's as_of) are stored too and must not be used.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest
from report_scores import MODEL, SCORED_ON, STORY, remove_scores, store_scores

from analytics.clock import fixed_clock
from analytics.metrics import MetricRequest, get
from analytics.reports.actions import NO_SCORES, period_actions, risk_summary, worst_drop_offs
from analytics.reports.business import BusinessReport, business_report
from conftest import AS_OF, ENGINES, DemoWorkspace, demo_on

RUN_CLOCK = fixed_clock(datetime(2025, 7, 1, 6, 0, tzinfo=UTC))


def scores_frame(ids: list[str]) -> pd.DataFrame:
    """The story as :func:`~analytics.models.churn.predictions.latest_scores` returns it (riskiest first)."""
    return pd.DataFrame(
        {
            "member_id": ids,
            "member": ids,
            "probability": [s[0] for s in STORY],
            "risk_level": [s[1] for s in STORY],
            "factors": [s[2] for s in STORY],
            "actions": [s[3] for s in STORY],
            "action_taken": None,
            "as_of": SCORED_ON,
            "model_id": MODEL,
        }
    )


def test_risk_summary_counts_levels_reasons_and_actions() -> None:
    risk = risk_summary(scores_frame(["m1", "m2", "m3", "m4", "m5"]))
    assert risk is not None
    assert (risk.scored, risk.at_risk, risk.as_of, risk.model_id) == (5, 3, SCORED_ON, MODEL)
    assert risk.levels.to_dict("list") == {
        "risk_level": ["critical", "high", "medium", "low"],
        "members": [1, 1, 1, 2],
        "share_pct": [20.0, 20.0, 20.0, 40.0],  # of 5 scored: adds up to 100
    }
    assert risk.reasons[["feature", "direction", "members", "share_pct"]].to_dict("list") == {
        "feature": ["days_since_last_activity", "events_30d", "cancel_at_period_end"],
        "direction": ["above", "below", "above"],
        "members": [2, 2, 1],
        "share_pct": [66.67, 66.67, 33.33],  # of 3 at risk; a member has up to three reasons
    }
    assert risk.reasons["example"].iloc[0] == "No activity for 21 days (usually every 2)"  # the riskiest member's
    assert risk.actions[["action", "members"]].to_dict("list") == {
        "action": ["payment_method_update", "win_back_offer", "re_engagement_message", "onboarding_call"],
        "members": [1, 1, 2, 1],
    }
    assert risk.members_with_action("re_engagement_message") == 2
    assert risk_summary(scores_frame(["m1", "m2", "m3", "m4", "m5"]).iloc[0:0]) is None


def test_actions_are_sentences_from_the_numbers() -> None:
    failed = pd.DataFrame(  # two monthly buckets of the failed_payments metric
        {"failed": [2, 1], "failed_minor": [5800, 2900], "recovered": [2, 0], "recovered_minor": [5800, 0]}
    ).assign(unrecovered=lambda f: f["failed"] - f["recovered"])
    lessons = pd.DataFrame(
        {
            "course_title": ["Playbook", "Playbook", "Basics"],
            "title": ["Setup 2", "Setup 3", "Welcome 2"],
            "position": [2, 3, 2],
            "completions": [4, 1, 3],
            "completion_fall": [0, 3, 1],
            "drop_off": [False, True, True],
        }
    )
    risk = risk_summary(scores_frame(["m1", "m2", "m3", "m4", "m5"]))
    actions = period_actions(
        noun="week",
        period_name="the week of 23 Jun 2025",
        currency="usd",
        failed=failed,
        failed_days="the 30 days to 29 Jun 2025",
        risk=risk,
        drop_offs=worst_drop_offs(lessons),
    ).set_index("action")
    # 3 failed, 2 recovered: 1 to recover, 2900 + 5800 − 5800 = $29.00
    assert (
        actions.loc["recover_failed_payments", "count"],
        actions.loc["recover_failed_payments", "amount_minor"],
    ) == (
        1,
        2900,
    )
    assert actions.loc["recover_failed_payments", "text"].startswith(
        "Recover 1 failed payment ($29.00): failed in the 30 days to 29 Jun 2025 and not paid yet"
    )
    assert actions.loc["re_engage_members", "text"] == (
        "Re-engage 2 paying members at risk with no activity for more than 7 days: send a re-engagement message "
        "(churn scores of 30 Jun 2025)."
    )
    # Setup 3 falls by 3 (4 → 1), more than Welcome 2's 1
    assert actions.loc["fix_worst_drop_off", "count"] == 3
    assert "“Setup 3” of Playbook: completions fell from 4 on the lesson before to 1" in str(
        actions.loc["fix_worst_drop_off", "text"]
    )
    unscored = period_actions(
        noun="week", period_name="x", currency="usd", failed=None, risk=None, drop_offs=None
    ).set_index("action")
    assert list(unscored.index) == ["re_engage_members"]
    assert "`analytics train`" in unscored.loc["re_engage_members", "text"]
    assert "`analytics score`" in unscored.loc["re_engage_members", "text"]
    assert pd.isna(unscored.loc["re_engage_members", "count"])  # unknown, not zero


@pytest.fixture(scope="module", params=ENGINES)
def scored_week(request: pytest.FixtureRequest) -> Iterator[tuple[DemoWorkspace, BusinessReport]]:
    """The weekly report of 23–29 June with the stored scores (removed afterwards: the demo store is shared)."""
    demo = demo_on(request)
    store_scores(demo.engine, demo.account_id)
    try:
        yield demo, business_report(demo.engine, demo.account_id, period="weekly", as_of=AS_OF, clock=RUN_CLOCK)
    finally:
        remove_scores(demo.engine, demo.account_id)


def test_members_at_risk_come_from_the_scores_of_the_report_week(
    scored_week: tuple[DemoWorkspace, BusinessReport],
) -> None:
    _, report = scored_week
    assert report.risk is not None
    # 30 June, not 20 June (older) nor 5 July (after as_of 30 June + the day whose score uses data to 30 June)
    assert report.risk.as_of == SCORED_ON
    assert report.tables["risk_levels"]["members"].tolist() == [1, 1, 1, 2]
    assert report.tables["risk_actions"]["members"].tolist() == [1, 1, 2, 1]
    assert "3 of 5 paying members are at medium churn risk or above (scores of 30 Jun 2025)." in report.highlights


def test_this_weeks_actions_follow_the_metrics(scored_week: tuple[DemoWorkspace, BusinessReport]) -> None:
    demo, report = scored_week
    actions = report.tables["actions"].set_index("action")
    # failed payments of 31 May – 29 Jun: the one of the week of 16 June ($29.00) was never paid
    failed = get("failed_payments").function(
        demo.engine, MetricRequest.build(demo.account_id, "2025-05-31", "2025-06-29", "month")
    )
    assert int(failed["unrecovered"].sum()) == 1
    assert int(failed["failed_minor"].sum() - failed["recovered_minor"].sum()) == 2900
    assert (
        actions.loc["recover_failed_payments", "count"],
        actions.loc["recover_failed_payments", "amount_minor"],
    ) == (
        1,
        2900,
    )
    assert actions.loc["re_engage_members", "count"] == 2
    # the lesson with the worst drop-off of 23–29 June: Setup 3 of the Trading Playbook, 2 → 1 completions
    lessons = get("lesson_stats").function(
        demo.engine, MetricRequest.build(demo.account_id, "2025-06-23", "2025-06-29", "day")
    )
    worst = lessons[lessons["drop_off"]].sort_values("completion_fall", ascending=False).iloc[0]
    assert (worst["title"], worst["course_title"], worst["completions"], worst["completion_fall"]) == (
        "Setup 3",
        "Trading Playbook",
        1,
        1,
    )
    assert report.tables["drop_offs"].iloc[0][["title", "completions_before", "completions"]].tolist() == [
        "Setup 3",
        2,
        1,
    ]
    assert "completions fell from 2 on the lesson before to 1 in the week of 23 Jun 2025" in str(
        actions.loc["fix_worst_drop_off", "text"]
    )


def test_segments_add_up_and_idle_has_its_own_base(scored_week: tuple[DemoWorkspace, BusinessReport]) -> None:
    _, report = scored_week
    segments = report.tables["engagement_segments"]
    # high 1 + medium 15 + low 54 = the 70 current members (of the 160 who ever joined: members with access on
    # 29 June); idle (26 of them, no activity in the week before) is not one of the segments
    assert segments[["segment", "members"]].to_dict("list") == {
        "segment": ["high", "medium", "low"],
        "members": [1, 15, 54],
    }
    idle = report.tables["engagement_idle"].iloc[0]
    assert (idle["members"], idle["base"], idle["share_pct"]) == (26, 70, 37.14)


def test_without_scores_the_report_says_which_commands_produce_them(demo_workspace: DemoWorkspace) -> None:
    # the week of 2–8 June: any stored score (20 June or later) uses data after it, so none is used
    report = business_report(
        demo_workspace.engine, demo_workspace.account_id, period="weekly", as_of="2025-06-10", clock=RUN_CLOCK
    )
    assert report.risk is None and "risk_levels" not in report.tables
    assert "`analytics train`" in NO_SCORES and "`analytics score`" in NO_SCORES
    text = report.tables["actions"].set_index("action").loc["re_engage_members", "text"]
    assert "`analytics train`" in text and "`analytics score`" in text
