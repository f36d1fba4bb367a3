"""On the demo business (churn driven by engagement) the models beat the days-since-activity baseline on the
time-based backtest, and scores come with factors and actions."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from analytics.models.churn import (
    FEATURE_NAMES,
    ChurnGradientBoosting,
    plan_folds,
    register_model,
    resolve_account,
    run_backtest,
    score_members,
    train_churn_model,
    training_dates,
    training_set,
)
from churn.conftest import DEMO_END


def _beats(model: dict[str, float], baseline: dict[str, float]) -> None:
    assert model["roc_auc"] > baseline["roc_auc"] + 0.05
    assert model["pr_auc"] > baseline["pr_auc"]
    assert model["top_decile_lift"] > baseline["top_decile_lift"]
    assert model["brier"] < baseline["brier"]


# Model quality on the demo runs on SQLite only; the SQL itself is checked on both engines by the tiny and
# synthetic businesses (test_features, test_no_leakage, test_registry, test_scoring, test_retention).
sqlite_only = pytest.mark.parametrize("_demo_store", ["sqlite"], indirect=True)


@sqlite_only
def test_logistic_beats_the_baseline_on_the_demo(demo_small: sa.Engine, tmp_path: Path) -> None:
    account = resolve_account(demo_small, None)
    trained = train_churn_model(demo_small, account, end=DEMO_END, n_dates=20, step_days=7)
    bt = trained.card["backtest"]
    assert bt["model"]["n_churned"] >= 50  # enough churners for the comparison to mean something
    _beats(bt["model"], bt["baseline"])

    register_model(demo_small, trained, workspace=tmp_path, make_current=True)
    scores = score_members(demo_small, account, workspace=tmp_path, as_of=DEMO_END)
    at_risk = scores[scores["risk_level"].isin(["high", "critical"])]
    assert len(scores) > 100 and len(at_risk) > 0
    assert all(row["factors"] and row["actions"] for row in at_risk.to_dict("records"))


@sqlite_only
def test_boosting_beats_the_baseline_on_the_demo(demo_small: sa.Engine) -> None:
    account = resolve_account(demo_small, None)
    dates = training_dates(DEMO_END, n_dates=20, step_days=7)
    data = training_set(demo_small, account, dates)
    folds = plan_folds(dates, horizon_days=30)
    model = ChurnGradientBoosting(max_iter=100, random_state=0)
    result = run_backtest(data, model, features=list(FEATURE_NAMES), folds=folds, horizon_days=30)
    _beats(result.metrics["model"], result.metrics["baseline"])
