"""Time-based backtest: train on earlier prediction dates, test on later ones — never a random split.

The latest ``test_fraction`` of the prediction dates are the test dates, cut into ``n_folds`` consecutive blocks.
Each block is scored by a model trained only on dates whose label window had closed before the block starts
(``date + horizon ≤ block start``), so no training label peeks into the test period. Predictions of all folds are
pooled and scored with ROC AUC, PR AUC (average precision), Brier score, a calibration curve and the top-decile
lift (churn rate among the 10 % highest risks ÷ overall churn rate), next to the days-since-last-activity baseline.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from analytics.errors import ModelError, StatisticalWarning
from analytics.models.churn.estimators import DaysSinceActivityBaseline

__all__ = ["BacktestResult", "Fold", "calibration_table", "evaluate", "plan_folds", "run_backtest", "top_decile_lift"]


@dataclass(frozen=True)
class Fold:
    """One step of the backtest: the dates trained on and the later dates tested on."""

    train_dates: tuple[date, ...]
    test_dates: tuple[date, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_start": self.train_dates[0].isoformat(),
            "train_end": self.train_dates[-1].isoformat(),
            "n_train_dates": len(self.train_dates),
            "test_start": self.test_dates[0].isoformat(),
            "test_end": self.test_dates[-1].isoformat(),
            "n_test_dates": len(self.test_dates),
        }


def plan_folds(
    dates: list[date] | tuple[date, ...],
    *,
    horizon_days: int,
    n_folds: int = 3,
    test_fraction: float = 0.4,
    min_train_dates: int = 2,
) -> list[Fold]:
    """Split prediction dates into expanding-window folds with a horizon-long gap before each test block."""
    days = sorted(set(dates))
    if not 0 < test_fraction < 1:
        raise ModelError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    n_test = max(n_folds, round(len(days) * test_fraction))
    test_days = days[len(days) - n_test :]
    blocks = [list(b) for b in np.array_split(np.array(test_days, dtype=object), n_folds) if len(b)]
    folds = []
    for block in blocks:
        start = block[0]
        train = [d for d in days if d + timedelta(days=horizon_days) <= start]
        if len(train) < min_train_dates:
            raise ModelError(
                f"the backtest fold testing from {start} has {len(train)} training dates (needs {min_train_dates}); "
                f"use more prediction dates (a longer history), fewer folds or a smaller test_fraction"
            )
        folds.append(Fold(tuple(train), tuple(block)))
    return folds


def top_decile_lift(y: ArrayLike, p: ArrayLike) -> float:
    """Churn rate among the 10 % highest predicted risks ÷ the overall churn rate (``nan`` when nobody churned)."""
    y_arr, p_arr = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    overall = y_arr.mean() if len(y_arr) else math.nan
    if not overall:
        return math.nan
    k = max(1, math.ceil(len(y_arr) * 0.1))
    top = np.argsort(-p_arr, kind="stable")[:k]
    return float(y_arr[top].mean() / overall)


def calibration_table(y: ArrayLike, p: ArrayLike, *, n_bins: int = 10) -> list[dict[str, float]]:
    """Calibration curve on quantile bins of ``p``: mean predicted vs observed churn rate and rows per bin."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), q=min(n_bins, len(frame)), labels=False)
    table = frame.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
    return [
        {"predicted": float(pred), "observed": float(obs), "n": int(n)}
        for pred, obs, n in zip(table["predicted"], table["observed"], table["n"], strict=True)
    ]


def evaluate(y: ArrayLike, p: ArrayLike, *, n_bins: int = 10) -> dict[str, Any]:
    """Backtest metrics of predicted probabilities ``p`` against 0/1 outcomes ``y``.

    ROC AUC and PR AUC need both outcomes in ``y``; otherwise they are ``None`` and a
    :class:`~analytics.errors.StatisticalWarning` says so.
    """
    y_arr, p_arr = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    both = len(np.unique(y_arr)) == 2
    if not both:
        warnings.warn(
            f"the backtest has {len(y_arr)} rows and only one outcome; ROC AUC and PR AUC are undefined",
            StatisticalWarning,
            stacklevel=2,
        )
    calibration = calibration_table(y_arr, p_arr, n_bins=n_bins) if len(y_arr) else []
    return {
        "n": len(y_arr),
        "n_churned": int(y_arr.sum()),
        "churn_rate": float(y_arr.mean()) if len(y_arr) else None,
        "roc_auc": float(roc_auc_score(y_arr, p_arr)) if both else None,
        "pr_auc": float(average_precision_score(y_arr, p_arr)) if both else None,
        "brier": float(brier_score_loss(y_arr, p_arr, labels=[0, 1])) if len(y_arr) else None,
        "top_decile_lift": top_decile_lift(y_arr, p_arr),
        "calibration": calibration,
    }


@dataclass
class BacktestResult:
    """Pooled out-of-time predictions and their metrics, for the model and the baseline."""

    folds: list[Fold]
    horizon_days: int
    predictions: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    features: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Identifies the backtest (test dates, training dates per fold, horizon): equal keys = same backtest."""
        payload = json.dumps({"folds": [f.to_dict() for f in self.folds], "horizon_days": self.horizon_days})
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (what the registry and the model card keep)."""
        return {
            "key": self.key,
            "horizon_days": self.horizon_days,
            "folds": [f.to_dict() for f in self.folds],
            "model": self.metrics["model"],
            "baseline": self.metrics["baseline"],
        }


def run_backtest(
    data: pd.DataFrame,
    estimator: BaseEstimator,
    *,
    features: list[str],
    folds: list[Fold],
    horizon_days: int,
    baseline: BaseEstimator | None = None,
) -> BacktestResult:
    """Fit a fresh clone of ``estimator`` (and of the baseline) per fold and score the fold's test dates.

    Parameters
    ----------
    data:
        A training set (``as_of``, ``member_id``, the features and ``churned``), e.g. from
        :func:`~analytics.models.churn.labels.training_set`.
    estimator:
        An unfitted (or fitted: it is cloned) churn classifier.
    features:
        The feature columns to use, in order.
    folds:
        From :func:`plan_folds`.
    horizon_days:
        The label horizon the data was built with.
    baseline:
        Default: :class:`~analytics.models.churn.estimators.DaysSinceActivityBaseline`.
    """
    missing = [c for c in [*features, "as_of", "churned"] if c not in data.columns]
    if missing:
        raise ModelError(f"the training set lacks the columns {missing}; build it with training_set()")
    rule = baseline if baseline is not None else DaysSinceActivityBaseline(horizon_days=horizon_days)
    parts = []
    for i, fold in enumerate(folds):
        train = data[data["as_of"].isin(fold.train_dates)]
        test = data[data["as_of"].isin(fold.test_dates)]
        if test.empty:
            continue
        if train["churned"].nunique() < 2:
            raise ModelError(
                f"fold {i + 1} trains on {fold.train_dates[0]}…{fold.train_dates[-1]} where "
                f"{'nobody' if train['churned'].sum() == 0 else 'everybody'} churned; use a longer history"
            )
        model = clone(estimator).fit(train[features], train["churned"])
        base = clone(rule).fit(train[features], train["churned"])
        parts.append(
            pd.DataFrame(
                {
                    "fold": i,
                    "as_of": test["as_of"].to_numpy(),
                    "member_id": test["member_id"].to_numpy(),
                    "churned": test["churned"].to_numpy(dtype=int),
                    "p_model": model.predict_proba(test[features])[:, 1],
                    "p_baseline": base.predict_proba(test[features])[:, 1],
                }
            )
        )
    if not parts:
        raise ModelError("the backtest has no test rows: nobody was paying on the test dates")
    predictions = pd.concat(parts, ignore_index=True)
    metrics = {
        "model": evaluate(predictions["churned"], predictions["p_model"]),
        "baseline": evaluate(predictions["churned"], predictions["p_baseline"]),
    }
    return BacktestResult(list(folds), horizon_days, predictions, metrics, list(features))
