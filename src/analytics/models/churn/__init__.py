"""Churn prediction a data scientist can trust and a creator can act on.

Data flow: :func:`build_features` (as of prediction dates, from the store) + :func:`churn_labels` →
:func:`training_set` → estimators (:class:`ChurnLogisticRegression`, :class:`ChurnGradientBoosting`, the
:class:`DaysSinceActivityBaseline`) → time-based :func:`run_backtest` → :func:`train_churn_model` (card) →
:func:`register_model` / :func:`promote` → :func:`score_members` (probability, risk level, factors, actions) →
:func:`update_outcomes` / :func:`action_effectiveness`. See docs/churn.md and docs/churn-features.md.
"""

from analytics.models.churn.actions import RULES, ActionRule, action_rules, recommend_actions
from analytics.models.churn.backtest import BacktestResult, Fold, evaluate, plan_folds, run_backtest, top_decile_lift
from analytics.models.churn.card import card_markdown, model_card
from analytics.models.churn.estimators import ChurnGradientBoosting, ChurnLogisticRegression, DaysSinceActivityBaseline
from analytics.models.churn.explain import RISK_LEVELS, risk_level, top_factors
from analytics.models.churn.feature_catalog import FEATURE_NAMES, FEATURES, feature_catalog, feature_docs_markdown
from analytics.models.churn.features import build_features, engagement_features
from analytics.models.churn.labels import DEFAULT_HORIZON_DAYS, churn_labels, training_dates, training_set
from analytics.models.churn.predictions import at_risk_members, current_model_card, latest_scores
from analytics.models.churn.registry import (
    PROMOTION_POLICIES,
    TRUSTED_TYPES,
    LoadedModel,
    Promotion,
    current_model_id,
    list_models,
    load_model,
    promote,
    promote_with_policy,
    register_model,
)
from analytics.models.churn.scoring import (
    action_effectiveness,
    daily_churn_step,
    record_action_taken,
    run_daily_churn,
    score_members,
    update_outcomes,
)
from analytics.models.churn.training import (
    ESTIMATORS,
    TrainedModel,
    make_estimator,
    resolve_account,
    train_churn_model,
)

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "ESTIMATORS",
    "FEATURES",
    "FEATURE_NAMES",
    "PROMOTION_POLICIES",
    "RISK_LEVELS",
    "RULES",
    "TRUSTED_TYPES",
    "ActionRule",
    "BacktestResult",
    "ChurnGradientBoosting",
    "ChurnLogisticRegression",
    "DaysSinceActivityBaseline",
    "Fold",
    "LoadedModel",
    "Promotion",
    "TrainedModel",
    "action_effectiveness",
    "action_rules",
    "at_risk_members",
    "build_features",
    "card_markdown",
    "churn_labels",
    "current_model_card",
    "current_model_id",
    "daily_churn_step",
    "engagement_features",
    "evaluate",
    "feature_catalog",
    "feature_docs_markdown",
    "latest_scores",
    "list_models",
    "load_model",
    "make_estimator",
    "model_card",
    "plan_folds",
    "promote",
    "promote_with_policy",
    "recommend_actions",
    "record_action_taken",
    "register_model",
    "resolve_account",
    "risk_level",
    "run_backtest",
    "run_daily_churn",
    "score_members",
    "top_decile_lift",
    "top_factors",
    "train_churn_model",
    "training_dates",
    "training_set",
    "update_outcomes",
]
