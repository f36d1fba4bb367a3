"""Churn prediction a data scientist can trust and a creator can act on.

Data flow: :func:`build_features` (as of prediction dates, from the store) + :func:`churn_labels` →
:func:`training_set` → estimators (:class:`ChurnLogisticRegression`, :class:`ChurnGradientBoosting`, the
:class:`DaysSinceActivityBaseline`) → time-based :func:`run_backtest` → :func:`train_churn_model` (card) →
:func:`register_model` / :func:`promote` → :func:`score_members` (probability, risk level, factors, actions) →
:func:`update_outcomes` / :func:`action_effectiveness`. See docs/churn.md and docs/churn-features.md.

Names are imported on first use, so reading stored scores (a dashboard) does not load scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

# ``feature_catalog`` names both a submodule and the function it holds: once any code imports the submodule,
# Python sets the package attribute to the module, and ``__getattr__`` would never be asked. Bind the function
# eagerly (the module is light: pandas and dataclasses).
from analytics.models.churn.feature_catalog import feature_catalog

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

_HOMES = {
    "ActionRule": "analytics.models.churn.actions",
    "BacktestResult": "analytics.models.churn.backtest",
    "ChurnGradientBoosting": "analytics.models.churn.estimators",
    "ChurnLogisticRegression": "analytics.models.churn.estimators",
    "DEFAULT_HORIZON_DAYS": "analytics.models.churn.labels",
    "DaysSinceActivityBaseline": "analytics.models.churn.estimators",
    "ESTIMATORS": "analytics.models.churn.training",
    "FEATURES": "analytics.models.churn.feature_catalog",
    "FEATURE_NAMES": "analytics.models.churn.feature_catalog",
    "Fold": "analytics.models.churn.backtest",
    "LoadedModel": "analytics.models.churn.registry",
    "PROMOTION_POLICIES": "analytics.models.churn.registry",
    "Promotion": "analytics.models.churn.registry",
    "RISK_LEVELS": "analytics.models.churn.explain",
    "RULES": "analytics.models.churn.actions",
    "TRUSTED_TYPES": "analytics.models.churn.registry",
    "TrainedModel": "analytics.models.churn.training",
    "action_effectiveness": "analytics.models.churn.scoring",
    "action_rules": "analytics.models.churn.actions",
    "at_risk_members": "analytics.models.churn.predictions",
    "build_features": "analytics.models.churn.features",
    "card_markdown": "analytics.models.churn.card",
    "churn_labels": "analytics.models.churn.labels",
    "current_model_card": "analytics.models.churn.predictions",
    "current_model_id": "analytics.models.churn.registry",
    "daily_churn_step": "analytics.models.churn.scoring",
    "engagement_features": "analytics.models.churn.features",
    "evaluate": "analytics.models.churn.backtest",
    "feature_docs_markdown": "analytics.models.churn.feature_catalog",
    "latest_scores": "analytics.models.churn.predictions",
    "list_models": "analytics.models.churn.registry",
    "load_model": "analytics.models.churn.registry",
    "make_estimator": "analytics.models.churn.training",
    "model_card": "analytics.models.churn.card",
    "plan_folds": "analytics.models.churn.backtest",
    "promote": "analytics.models.churn.registry",
    "promote_with_policy": "analytics.models.churn.registry",
    "recommend_actions": "analytics.models.churn.actions",
    "record_action_taken": "analytics.models.churn.scoring",
    "register_model": "analytics.models.churn.registry",
    "resolve_account": "analytics.models.churn.training",
    "risk_level": "analytics.models.churn.explain",
    "run_backtest": "analytics.models.churn.backtest",
    "run_daily_churn": "analytics.models.churn.scoring",
    "score_members": "analytics.models.churn.scoring",
    "top_decile_lift": "analytics.models.churn.backtest",
    "top_factors": "analytics.models.churn.explain",
    "train_churn_model": "analytics.models.churn.training",
    "training_dates": "analytics.models.churn.labels",
    "training_set": "analytics.models.churn.labels",
    "update_outcomes": "analytics.models.churn.scoring",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
