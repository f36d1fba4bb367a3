"""The churn estimators follow the scikit-learn contract (estimator checks) and learn an obvious signal."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from analytics.models.churn.estimators import (
    ChurnGradientBoosting,
    ChurnLogisticRegression,
    DaysSinceActivityBaseline,
)

ESTIMATORS = [
    ChurnLogisticRegression(random_state=0),
    ChurnGradientBoosting(max_iter=10, min_samples_leaf=5, random_state=0),
    DaysSinceActivityBaseline(column=0),
]


def _expected_failures(estimator: Any) -> dict[str, str]:
    if isinstance(estimator, DaysSinceActivityBaseline):
        # The baseline is a fixed rule on ONE column (days since last activity, bins starting at 0): on the check's
        # generic data (several informative columns, negative values) it cannot reach the accuracy the check
        # demands. That is what a baseline is for; every other check passes.
        reason = "a one-column rule with fixed day bins cannot fit generic multi-feature data"
        return {"check_classifiers_train": reason}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def _signal(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Members idle for long churn more: P(churn) rises with days since last activity; 'noise' is unrelated."""
    rng = np.random.default_rng(seed)
    days = rng.exponential(8, n)
    noise = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(days - 15) / 4))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"days_since_last_activity": days, "noise": noise}), y


@pytest.mark.parametrize(
    "model",
    [ChurnLogisticRegression(random_state=0), ChurnGradientBoosting(random_state=0)],
    ids=["logistic", "boosting"],
)
def test_models_find_the_signal_and_explain_it(model: Any) -> None:
    X, y = _signal()
    model.fit(X, y)
    assert list(model.feature_names_in_) == ["days_since_last_activity", "noise"]
    p = model.predict_proba(X)[:, 1]
    # A member idle for 30 days is at higher risk than one active yesterday.
    probe = pd.DataFrame({"days_since_last_activity": [1.0, 30.0], "noise": [0.0, 0.0]})
    low, high = model.predict_proba(probe)[:, 1]
    assert high > 0.7 and low < 0.3
    # Calibrated: the mean predicted probability is close to the churn rate.
    assert abs(p.mean() - y.mean()) < 0.03
    contrib = model.contributions(probe)
    assert contrib.shape == (2, 2)
    # Idleness pushes the idle member's risk up, and matters more than noise.
    assert contrib[1, 0] > 0 and abs(contrib[1, 0]) > abs(contrib[1, 1])


def test_baseline_is_the_churn_rate_per_idle_bin() -> None:
    X = pd.DataFrame({"days_since_last_activity": [0, 1, 1, 3, 10, 10, 10, 40]})
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    model = DaysSinceActivityBaseline(bins=(0, 7), smoothing=0).fit(X, y)
    # Bin [0, 7): 1 churned of 4; bin [7, ∞): 3 of 4.
    np.testing.assert_allclose(model.bin_rates_, [0.25, 0.75])
    assert model.predict_proba(pd.DataFrame({"days_since_last_activity": [2, 99]}))[:, 1].tolist() == [0.25, 0.75]


def test_clear_errors() -> None:
    X, y = _signal(50)
    with pytest.raises(ValueError, match="needs both churned and retained"):
        ChurnLogisticRegression().fit(X, np.zeros(50))
    with pytest.raises(ValueError, match="horizon_days"):
        ChurnLogisticRegression(horizon_days=0).fit(X, y)
    with pytest.raises(ValueError, match="column 'days_idle' is not among the features"):
        DaysSinceActivityBaseline(column="days_idle").fit(X, y)
