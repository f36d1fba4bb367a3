"""Scoring: risk levels, factors in words, action rules, written predictions, outcomes and action effectiveness."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.models.churn.actions import action_rules, recommend_actions
from analytics.models.churn.explain import risk_level, top_factors
from analytics.models.churn.labels import churn_labels
from analytics.models.churn.registry import register_model
from analytics.models.churn.scoring import (
    action_effectiveness,
    record_action_taken,
    run_daily_churn,
    score_members,
    update_outcomes,
)
from analytics.models.churn.training import train_churn_model
from analytics.store.schema import churn_predictions
from churn.conftest import SYNTH_END
from churn.synthetic import ACCOUNT


def test_risk_levels_follow_the_documented_thresholds() -> None:
    p = [0.0, 0.3, 0.31, 0.5, 0.51, 0.7, 0.71, 1.0]
    assert risk_level(p).tolist() == ["low", "low", "medium", "medium", "high", "high", "critical", "critical"]


class _Explained:
    """A stand-in model with fixed contributions and typical values, to check the words."""

    def __init__(self, contributions: list[list[float]], typical: list[float]) -> None:
        self._contributions = np.array(contributions)
        self.reference_ = np.array(typical)

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        return self._contributions


def test_factors_are_sentences_about_the_member() -> None:
    X = pd.DataFrame(
        {
            "days_since_last_activity": [12.0, 2.0],
            "cancel_at_period_end": [1.0, 0.0],
            "events_30d": [3.0, 5.0],
            "usual_activity_gap_days": [2.0, 3.0],
        }
    )
    model = _Explained([[1.2, 0.8, -0.3, 0.0], [0.01, 0.0, 0.4, 0.0]], typical=[2.0, 0.0, 20.0, 3.0])
    factors = top_factors(model, X)
    # Member 1: idle 12 days (usually every 2) pushes most, then the cancellation request; fewer events lower the
    # risk here (negative contribution), so they are not a factor.
    assert [f["text"] for f in factors[0]] == [
        "No activity for 12 days (usually every 2)",
        "Has asked to cancel at the end of the period",
    ]
    assert factors[0][0]["contribution"] == 1.2 and factors[0][0]["typical"] == 2.0
    # Member 2: only 5 events in 30 days against a typical 20 is the one factor (0.01 is below the threshold).
    assert [f["text"] for f in factors[1]] == ["Only 5 actions in the last 30 days (typical 20)"]


def test_action_rules_on_hand_made_members() -> None:
    features = pd.DataFrame(
        {
            "days_since_last_activity": [12, 1, 1, 30, 1],
            "engagement_score": [50, 20, 80, 10, 80],
            "unrecovered_failed_payment": [0, 1, 0, 0, 0],
            "past_due": [0, 0, 0, 0, 0],
            "cancel_at_period_end": [0, 0, 1, 0, 0],
            "complaint_messages_30d": [0, 0, 2, 0, 0],
            "lessons_completed": [0, 0, 0, 3, 0],
            "lessons_completed_30d": [0, 0, 0, 0, 0],
            "course_progress_pct": [0, 0, 0, 30, 0],
        }
    )
    levels = ["medium", "high", "critical", "low", "high"]
    names = [[a["action"] for a in acts] for acts in recommend_actions(features, levels)]
    assert names == [
        ["re_engagement_message"],  # idle 12 days > 7
        ["payment_method_update", "onboarding_call"],  # failed payment; engagement 20 < 30
        ["win_back_offer", "support_follow_up"],  # asked to cancel; complained
        [],  # low risk: no action even though idle and stuck in the course
        ["personal_check_in"],  # high risk, no rule matched
    ]
    assert list(action_rules()["name"])[-1] == "personal_check_in"


def _trained(engine: sa.Engine, workspace: Path) -> str:
    trained = train_churn_model(engine, ACCOUNT, end=SYNTH_END, n_dates=12, step_days=14)
    return register_model(engine, trained, workspace=workspace, make_current=True)


def test_score_then_outcomes(synthetic: sa.Engine, tmp_path: Path) -> None:
    model_id = _trained(synthetic, tmp_path)
    day = SYNTH_END - timedelta(days=60)
    scores = score_members(synthetic, ACCOUNT, workspace=tmp_path, as_of=day)
    paying = churn_labels(synthetic, ACCOUNT, [day])
    assert sorted(scores["member_id"]) == sorted(paying["member_id"])
    assert scores["probability"].between(0, 1).all()
    assert (scores["risk_level"] == risk_level(scores["probability"])).all()
    assert scores["probability"].is_monotonic_decreasing
    riskiest = scores.iloc[0]
    assert riskiest["factors"] and all("?" not in f["text"] for f in riskiest["factors"])

    again = score_members(synthetic, ACCOUNT, workspace=tmp_path, as_of=day)  # re-scoring replaces, never duplicates
    pd.testing.assert_frame_equal(scores, again)
    with synthetic.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(churn_predictions)).scalar_one()
    assert stored == len(scores)

    with_actions = [r for r in scores.to_dict("records") if r["actions"]]
    acted = with_actions[0]["member_id"]
    assert record_action_taken(synthetic, ACCOUNT, acted) == 1

    assert update_outcomes(synthetic, day + timedelta(days=29), account_id=ACCOUNT) == 0  # horizon not over yet
    assert update_outcomes(synthetic, SYNTH_END, account_id=ACCOUNT) == len(scores)
    assert update_outcomes(synthetic, SYNTH_END, account_id=ACCOUNT) == 0  # already filled
    with synthetic.connect() as conn:
        rows = conn.execute(
            sa.select(churn_predictions.c.member_id, churn_predictions.c.churned, churn_predictions.c.outcome_at)
        ).all()
    outcome = {r.member_id: r.churned for r in rows}
    assert outcome == {m: bool(c) for m, c in zip(paying["member_id"], paying["churned"], strict=True)}
    assert all(r.outcome_at is not None for r in rows)

    table = action_effectiveness(synthetic, ACCOUNT).set_index("action")
    first_action = with_actions[0]["actions"][0]["action"]
    assert table.loc[first_action, "taken"] == 1
    assert table["recommended"].sum() == sum(len(r["actions"]) for r in with_actions)
    assert model_id in set(scores["model_id"])


def test_daily_step_without_a_model_says_why(synthetic: sa.Engine, tmp_path: Path) -> None:
    summary: dict[str, Any] = run_daily_churn(synthetic, ACCOUNT, workspace=tmp_path, as_of=SYNTH_END)
    assert summary["scored"] == 0 and "no current churn model" in summary["skipped"]


def test_stored_scores_read_back_for_the_dashboard(synthetic: sa.Engine, tmp_path: Path) -> None:
    from analytics.models.churn import at_risk_members, current_model_card, latest_scores

    assert latest_scores(synthetic, ACCOUNT).empty and current_model_card(synthetic, ACCOUNT) is None
    model_id = _trained(synthetic, tmp_path)
    older, newer = SYNTH_END - timedelta(days=14), SYNTH_END
    score_members(synthetic, ACCOUNT, workspace=tmp_path, as_of=older)
    scores = score_members(synthetic, ACCOUNT, workspace=tmp_path, as_of=newer)
    stored = latest_scores(synthetic, ACCOUNT)
    assert set(stored["as_of"]) == {newer} and list(stored["member_id"]) == list(scores["member_id"])
    assert stored["member"].notna().all()
    table = at_risk_members(stored, levels=("critical", "high", "medium", "low"), top=5)
    assert list(table.columns) == ["Member", "Risk", "Churn probability", "Why", "What to do"]
    assert len(table) == 5 and table["Churn probability"].str.endswith(" %").all()
    card = current_model_card(synthetic, ACCOUNT)
    assert card is not None and card["model_id"] == model_id
