"""Training a churn model end to end: training set → time-based backtest → final fit on every date → model card.

:func:`train_churn_model` returns a :class:`TrainedModel`; :func:`analytics.models.churn.registry.register_model`
saves it. ``analytics train`` and ``notebooks/churn_training.ipynb`` call both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sklearn.base import BaseEstimator, clone
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from analytics.clock import Clock, utcnow
from analytics.errors import ModelError
from analytics.models.churn.backtest import BacktestResult, plan_folds, run_backtest
from analytics.models.churn.card import model_card
from analytics.models.churn.estimators import ChurnGradientBoosting, ChurnLogisticRegression
from analytics.models.churn.feature_catalog import FEATURE_NAMES
from analytics.models.churn.labels import DEFAULT_HORIZON_DAYS, training_dates, training_set
from analytics.store.jobs import new_id
from analytics.store.schema import accounts

__all__ = ["ESTIMATORS", "TrainedModel", "make_estimator", "resolve_account", "train_churn_model"]

# The churn models by the short name ``analytics train --estimator`` takes (documented in docs/churn.md).
ESTIMATORS: dict[str, type[BaseEstimator]] = {
    "logistic": ChurnLogisticRegression,
    "boosting": ChurnGradientBoosting,
}


def make_estimator(name: str, *, horizon_days: int = DEFAULT_HORIZON_DAYS, random_state: int = 0) -> BaseEstimator:
    """A fresh, unfitted churn estimator by short name (a key of :data:`ESTIMATORS`: ``logistic`` or ``boosting``).

    Parameters
    ----------
    name:
        The short name.
    horizon_days:
        The label horizon recorded with the model (default 30).
    random_state:
        Seed of the calibration folds and of the boosting (default 0: refits give the same probabilities).

    Raises
    ------
    ModelError
        An unknown name (the message lists the known ones).
    """
    try:
        cls = ESTIMATORS[name]
    except KeyError:
        raise ModelError(f"unknown estimator {name!r}; choose one of {', '.join(ESTIMATORS)}") from None
    return cls(horizon_days=horizon_days, random_state=random_state)


def resolve_account(engine: Engine, account_id: str | None) -> str:
    """The account to work on: the one given (it must exist) or the store's only account."""
    with engine.connect() as conn:
        known = list(conn.execute(sa.select(accounts.c.id).order_by(accounts.c.id)).scalars())
    if account_id is not None:
        if account_id not in known:
            raise ModelError(f"account {account_id!r} is not in the store; known accounts: {', '.join(known) or '—'}")
        return account_id
    if len(known) == 1:
        return known[0]
    if not known:
        raise ModelError("the store has no account yet; import, sync or build the demo first (`analytics demo`)")
    raise ModelError(f"the store has {len(known)} accounts; choose one with --account ({', '.join(known)})")


@dataclass
class TrainedModel:
    """A fitted churn model with everything the registry records about it."""

    model_id: str
    account_id: str
    estimator: Any
    features: list[str]
    dates: list[date]
    horizon_days: int
    backtest: BacktestResult
    card: dict[str, Any]
    data: pd.DataFrame

    @property
    def training_start(self) -> date:
        return min(self.dates)

    @property
    def training_end(self) -> date:
        return max(self.dates)


def train_churn_model(
    engine: Engine,
    account_id: str,
    *,
    estimator: str | BaseEstimator = "logistic",
    end: date | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    n_dates: int = 26,
    step_days: int = 7,
    n_folds: int = 3,
    test_fraction: float = 0.4,
    random_state: int = 0,
    n_threads: int | None = 1,
    clock: Clock = utcnow,
    progress: bool = False,
) -> TrainedModel:
    """Build the training set, backtest the estimator on it, then fit it on every date and write its card.

    Parameters
    ----------
    engine, account_id:
        The store and the account to learn from.
    estimator:
        ``logistic`` (default), ``boosting`` or an unfitted churn estimator.
    end:
        The end of the labelled history (default: today by ``clock``); the last prediction date is
        ``end − horizon_days`` so every label is complete.
    horizon_days:
        Label horizon (default 30).
    n_dates, step_days:
        Prediction dates: ``n_dates`` dates ``step_days`` apart.
    n_folds, test_fraction:
        Backtest: the latest ``test_fraction`` of dates in ``n_folds`` blocks (see
        :func:`~analytics.models.churn.backtest.plan_folds`).
    n_threads:
        Threads for the numeric libraries (default 1: the models are small and the machine is shared;
        ``None`` leaves the libraries' default).

    Raises
    ------
    ModelError
        Too little history (nobody paying, only one outcome, folds without training dates).
    """
    model = (
        make_estimator(estimator, horizon_days=horizon_days, random_state=random_state)
        if isinstance(estimator, str)
        else clone(estimator)
    )
    if getattr(model, "horizon_days", horizon_days) != horizon_days:
        raise ModelError(
            f"the estimator's horizon_days={model.horizon_days} differs from the label horizon {horizon_days}; "
            "set both to the same number of days"
        )
    end_day = end or clock().date()
    dates = training_dates(end_day, n_dates=n_dates, step_days=step_days, horizon_days=horizon_days)
    data = training_set(engine, account_id, dates, horizon_days=horizon_days, progress=progress)
    if data.empty:
        raise ModelError(
            f"account {account_id} has no paying members on the {len(dates)} prediction dates "
            f"{dates[0]}…{dates[-1]}; import or sync its memberships first"
        )
    if data["churned"].nunique() < 2:
        raise ModelError(
            f"account {account_id}: {'no' if data['churned'].sum() == 0 else 'every'} paying member churned "
            f"within {horizon_days} days on {dates[0]}…{dates[-1]}; a model needs both outcomes (longer history?)"
        )
    features = list(FEATURE_NAMES)
    folds = plan_folds(dates, horizon_days=horizon_days, n_folds=n_folds, test_fraction=test_fraction)
    with threadpool_limits(limits=n_threads):
        backtest = run_backtest(data, model, features=features, folds=folds, horizon_days=horizon_days)
        fitted = clone(model).fit(data[features], data["churned"])
        model_id = new_id("churn_")[:22]
        card = model_card(
            model_id=model_id,
            account_id=account_id,
            estimator=fitted,
            data=data,
            features=features,
            dates=dates,
            backtest=backtest,
            created_at=clock(),
        )
    return TrainedModel(model_id, account_id, fitted, features, dates, horizon_days, backtest, card, data)
