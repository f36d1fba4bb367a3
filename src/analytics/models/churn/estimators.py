"""Churn models as scikit-learn estimators: calibrated logistic regression, calibrated gradient boosting, a baseline.

All follow the scikit-learn contract: ``__init__`` only stores parameters, ``fit`` validates and returns ``self``,
fitted attributes end in ``_``, randomness comes from ``random_state``. ``sklearn.utils.estimator_checks`` runs
against them in the tests. They are binary classifiers (1 = churned within ``horizon_days``) whose
``predict_proba`` is calibrated with :class:`~sklearn.calibration.CalibratedClassifierCV` (``ensemble=False``: the
calibrator is fitted on out-of-fold predictions and the model itself on all rows, so one model explains each
score).

``contributions(X)`` gives per-member, per-feature pushes on the log-odds of churning: the logistic terms
``coef_j × z_j`` (z = the standardised value, so 0 is the average member) for the logistic model, and for the
boosted model the change in log-odds when the feature is set back to its typical (median) training value.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["ChurnGradientBoosting", "ChurnLogisticRegression", "DaysSinceActivityBaseline"]

_EPS = 1e-6


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(q / (1 - q)), dtype=float)


def _typical(X: NDArray[Any]) -> NDArray[np.float64]:
    """Median of each column over its finite values (0 for a column without any)."""
    values = np.where(np.isfinite(X), X, np.nan).astype(float)
    filled = ~np.all(np.isnan(values), axis=0)
    out = np.zeros(values.shape[1], dtype=float)
    if filled.any():
        out[filled] = np.nanmedian(values[:, filled], axis=0)
    return out


def _check_horizon(value: Any) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"horizon_days must be a whole number of days ≥ 1, got {value!r}")


class _ChurnClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit/predict of the binary churn classifiers (subclasses define the parameters and the model)."""

    horizon_days: int
    random_state: Any

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _validate_targets(self, y: Any) -> NDArray[Any]:
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(
                f"Only binary classification is supported. {type(self).__name__} predicts churned or not, but y "
                f"has {len(classes)} classes: {classes.tolist()}. Pass 0/1 labels."
            )
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs both churned and retained examples, but y has only one class: "
                f"{classes.tolist()}. Add more prediction dates or a longer history."
            )
        return classes

    def predict(self, X: Any) -> NDArray[Any]:
        """The more likely class (churned when the probability exceeds 0.5)."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    @abstractmethod
    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Probabilities of each class, columns in the order of ``classes_``."""


class _CalibratedChurnModel(_ChurnClassifier):
    calibration: str
    cv: int

    @abstractmethod
    def _model(self) -> Any:
        """The unfitted model to calibrate."""

    def fit(self, X: Any, y: Any) -> _CalibratedChurnModel:
        """Fit the model and its calibration on feature rows ``X`` and 0/1 churn labels ``y``."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        _check_horizon(self.horizon_days)
        if self.calibration not in ("sigmoid", "isotonic"):
            raise ValueError(f"calibration must be 'sigmoid' or 'isotonic', got {self.calibration!r}")
        self.classes_ = self._validate_targets(y)
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        self.calibrated_ = CalibratedClassifierCV(self._model(), method=self.calibration, cv=folds, ensemble=False)
        self.calibrated_.fit(X, y)
        self.model_ = self.calibrated_.calibrated_classifiers_[0].estimator
        self.reference_ = _typical(X)
        return self

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return np.asarray(self.calibrated_.predict_proba(X), dtype=float)

    @abstractmethod
    def contributions(self, X: Any) -> NDArray[np.float64]:
        """Per-row, per-feature contributions to the log-odds of churning (positive = raises the risk)."""


class ChurnLogisticRegression(_CalibratedChurnModel):
    """Calibrated logistic regression on standardised features (missing values imputed with the median).

    Parameters
    ----------
    C:
        Inverse L2 regularisation strength of the logistic regression.
    calibration:
        ``sigmoid`` (Platt, default) or ``isotonic``.
    cv:
        Folds used to fit the calibrator on out-of-fold predictions.
    horizon_days:
        Days after the prediction date the label looks at (recorded with the model; default 30).
    max_iter:
        Iterations of the solver.
    random_state:
        Seed of the fold shuffling.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_:
        As in scikit-learn.
    calibrated_:
        The fitted :class:`~sklearn.calibration.CalibratedClassifierCV`.
    model_:
        The pipeline (imputer, scaler, logistic regression) fitted on all rows.
    coef_:
        Coefficients per standardised feature (log-odds per standard deviation).
    reference_:
        Median training value of each feature (the "typical member").

    Examples
    --------
    >>> model = ChurnLogisticRegression(random_state=0).fit(X, y)  # doctest: +SKIP
    >>> model.predict_proba(X)[:, 1]  # doctest: +SKIP
    """

    def __init__(
        self,
        C: float = 1.0,
        calibration: str = "sigmoid",
        cv: int = 3,
        horizon_days: int = 30,
        max_iter: int = 1000,
        random_state: Any = None,
    ) -> None:
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.horizon_days = horizon_days
        self.max_iter = max_iter
        self.random_state = random_state

    def _model(self) -> Pipeline:
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
                ("logistic", LogisticRegression(C=self.C, max_iter=self.max_iter)),
            ]
        )

    @property
    def coef_(self) -> NDArray[np.float64]:
        check_is_fitted(self)
        return np.asarray(self.model_.named_steps["logistic"].coef_[0], dtype=float)

    @property
    def n_iter_(self) -> int:
        check_is_fitted(self)
        return int(np.max(self.model_.named_steps["logistic"].n_iter_))

    def contributions(self, X: Any) -> NDArray[np.float64]:
        """Logistic terms ``coef_j × z_j`` of each row (z = standardised value; 0 = the average member)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        z = self.model_[:-1].transform(X)
        return np.asarray(z * self.coef_, dtype=float)


class ChurnGradientBoosting(_CalibratedChurnModel):
    """Calibrated histogram gradient boosting (native missing-value support, monotone-free).

    Parameters
    ----------
    learning_rate, max_iter, max_leaf_nodes, min_samples_leaf, l2_regularization:
        Passed to :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    calibration:
        ``sigmoid`` (default) or ``isotonic``.
    cv:
        Folds used to fit the calibrator on out-of-fold predictions.
    horizon_days:
        Days after the prediction date the label looks at (recorded with the model; default 30).
    random_state:
        Seed of the fold shuffling and of the boosting's early-stopping split.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_:
        As in scikit-learn.
    calibrated_, model_:
        The fitted calibration wrapper and the boosted model fitted on all rows.
    reference_:
        Median training value of each feature (used by :meth:`contributions`).
    """

    def __init__(
        self,
        learning_rate: float = 0.05,
        max_iter: int = 200,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        calibration: str = "sigmoid",
        cv: int = 3,
        horizon_days: int = 30,
        random_state: Any = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.cv = cv
        self.horizon_days = horizon_days
        self.random_state = random_state

    def _model(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            random_state=self.random_state,
        )

    @property
    def n_iter_(self) -> int:
        check_is_fitted(self)
        return int(self.model_.n_iter_)

    def contributions(self, X: Any) -> NDArray[np.float64]:
        """Log-odds change when a feature is set back to its typical value: logit p(x) − logit p(x, x_j typical)."""
        check_is_fitted(self)
        X = np.array(validate_data(self, X, reset=False, ensure_all_finite="allow-nan"), dtype=float)
        base = _logit(self.calibrated_.predict_proba(X)[:, 1])
        out = np.empty_like(X)
        for j in range(X.shape[1]):
            kept = X[:, j].copy()
            X[:, j] = self.reference_[j]
            out[:, j] = base - _logit(self.calibrated_.predict_proba(X)[:, 1])
            X[:, j] = kept
        return out


class DaysSinceActivityBaseline(_ChurnClassifier):
    """The rule a creator would use: the longer since a member's last activity, the likelier they churn.

    Days since the last activity are cut into bins (``bins`` are the left edges); the probability of each bin is
    its churn rate in the training rows, shrunk towards the overall rate by ``smoothing`` pseudo-rows.

    Parameters
    ----------
    column:
        The feature with the days since last activity: a column name (DataFrames) or a position.
    bins:
        Left edges of the day bins.
    smoothing:
        Pseudo-rows at the overall rate added to each bin.
    horizon_days:
        Days after the prediction date the label looks at.
    random_state:
        Unused (the rule is deterministic); kept for a uniform interface.

    Attributes
    ----------
    bin_rates_:
        Churn probability of each bin.
    base_rate_:
        Overall churn rate of the training rows.
    reference_:
        Median training value of each feature.
    column_index_:
        Position of ``column`` in the training features.
    """

    def __init__(
        self,
        column: str | int = "days_since_last_activity",
        bins: tuple[float, ...] = (0, 2, 4, 7, 14, 21, 30, 60),
        smoothing: float = 5.0,
        horizon_days: int = 30,
        random_state: Any = None,
    ) -> None:
        self.column = column
        self.bins = bins
        self.smoothing = smoothing
        self.horizon_days = horizon_days
        self.random_state = random_state

    def _column_index(self) -> int:
        if isinstance(self.column, str):
            names = list(getattr(self, "feature_names_in_", []))
            if self.column not in names:
                raise ValueError(
                    f"column {self.column!r} is not among the features {names}; pass a DataFrame with it "
                    "or give the column position"
                )
            return names.index(self.column)
        if not 0 <= int(self.column) < self.n_features_in_:
            raise ValueError(f"column {self.column} is outside the {self.n_features_in_} features")
        return int(self.column)

    def fit(self, X: Any, y: Any) -> DaysSinceActivityBaseline:
        """Learn the churn rate of each days-since-activity bin."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        _check_horizon(self.horizon_days)
        self.classes_ = self._validate_targets(y)
        self.column_index_ = self._column_index()
        positive = (y == self.classes_[1]).astype(float)
        overall = positive.mean()
        which = self._bin(X)
        rates = []
        for b in range(len(self.bins)):
            mask = which == b
            rates.append((positive[mask].sum() + self.smoothing * overall) / (mask.sum() + self.smoothing))
        self.bin_rates_ = np.asarray(rates, dtype=float)
        self.base_rate_ = float(overall)
        self.reference_ = _typical(X)
        return self

    def _bin(self, X: NDArray[Any]) -> NDArray[np.intp]:
        days = np.nan_to_num(np.asarray(X[:, self.column_index_], dtype=float), nan=np.inf)
        return np.asarray(np.clip(np.searchsorted(np.asarray(self.bins, dtype=float), days, side="right") - 1, 0, None))

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        p = self.bin_rates_[self._bin(X)]
        return np.column_stack([1 - p, p])

    def contributions(self, X: Any) -> NDArray[np.float64]:
        """Only the rule's column contributes: logit(its bin's rate) − logit(overall rate)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        out = np.zeros(X.shape, dtype=float)
        rates = self.bin_rates_[self._bin(X)]
        out[:, self.column_index_] = _logit(rates) - _logit(np.asarray([self.base_rate_]))[0]
        return out
