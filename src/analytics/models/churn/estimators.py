"""Churn models as scikit-learn estimators: calibrated logistic regression, calibrated gradient boosting, a baseline.

All follow the scikit-learn contract: ``__init__`` only stores parameters, ``fit`` validates and returns ``self``,
fitted attributes end in ``_``, randomness comes from ``random_state``. ``sklearn.utils.estimator_checks`` runs
against them in the tests. They are binary classifiers (1 = churned within ``horizon_days``) whose
``predict_proba`` is calibrated with :class:`~sklearn.calibration.CalibratedClassifierCV` (``ensemble=False``: the
calibrator is fitted on out-of-fold predictions and the model itself on all rows, so one model explains each
score).

They read any feature table: numeric columns as they are, text columns (``"Female"``, ``"Month-to-month"``) as
categories encoded by scikit-learn inside the model (see :mod:`analytics.models.churn.encoding`), missing values in
either kind allowed. ``random_state`` defaults to 0, so two fits on the same rows give the same probabilities.

``contributions(X)`` gives per-member, per-feature pushes on the log-odds of churning: the logistic terms
``coef_j × z_j`` (z = the standardised value, so 0 is the average member) for the logistic model, and for the
boosted model the change in log-odds when the feature is set back to its typical (median) training value. A text
column contributes as one feature (the sum of its one-hot terms; set back to its most frequent category).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from analytics.models.churn.encoding import (
    feature_table,
    one_hot_encoder,
    ordinal_encoder,
    per_feature,
    text_columns,
    typical_values,
)

__all__ = ["ChurnGradientBoosting", "ChurnLogisticRegression", "DaysSinceActivityBaseline"]

_EPS = 1e-6


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(q / (1 - q)), dtype=float)


def _check_horizon(value: Any) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"horizon_days must be a whole number of days ≥ 1, got {value!r}")


def _check_max_categories(value: Any, *, most: int | None = None) -> None:
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not whole or value < 2 or (most is not None and value > most):
        bound = f"between 2 and {most}" if most is not None else "≥ 2"
        raise ValueError(f"max_categories must be a whole number {bound}, got {value!r}")


class _ChurnClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit/predict of the binary churn classifiers (subclasses define the parameters and the model)."""

    horizon_days: int
    random_state: Any
    categorical_features_: NDArray[np.intp]

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

    def _fit_table(self, X: Any, y: Any) -> tuple[pd.DataFrame, NDArray[Any]]:
        """Validate the training rows; text columns become categories (``categorical_features_``)."""
        categorical = text_columns(X)
        dtype = None if len(categorical) else "numeric"
        values, y = validate_data(self, X, y, dtype=dtype, ensure_all_finite="allow-nan")
        self.categorical_features_ = categorical
        return feature_table(values, categorical, getattr(self, "feature_names_in_", None)), y

    def _table(self, X: Any) -> pd.DataFrame:
        """Validate rows to predict on against the training columns."""
        check_is_fitted(self)
        text = text_columns(X)
        dtype = None if len(text) or len(self.categorical_features_) else "numeric"
        values = validate_data(self, X, reset=False, dtype=dtype, ensure_all_finite="allow-nan")
        names = getattr(self, "feature_names_in_", None)
        unexpected = sorted(set(text.tolist()) - set(self.categorical_features_.tolist()))
        if unexpected:
            which = ", ".join(repr(names[j]) if names is not None else f"column {j}" for j in unexpected)
            raise ValueError(
                f"{which} holds text but was numeric when {type(self).__name__} was fitted; pass the columns "
                "it was fitted on, in the same order and of the same kinds"
            )
        return feature_table(values, self.categorical_features_, names)

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
    max_categories: int
    _most_categories: int | None = None

    @abstractmethod
    def _model(self, n_features: int, categorical: NDArray[np.intp]) -> Any:
        """The unfitted model (encoding included) to calibrate."""

    def fit(self, X: Any, y: Any) -> _CalibratedChurnModel:
        """Fit the model and its calibration on feature rows ``X`` and 0/1 churn labels ``y``."""
        table, y = self._fit_table(X, y)
        _check_horizon(self.horizon_days)
        _check_max_categories(self.max_categories, most=self._most_categories)
        if self.calibration not in ("sigmoid", "isotonic"):
            raise ValueError(f"calibration must be 'sigmoid' or 'isotonic', got {self.calibration!r}")
        self.classes_ = self._validate_targets(y)
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        model = self._model(table.shape[1], self.categorical_features_)
        self.calibrated_ = CalibratedClassifierCV(model, method=self.calibration, cv=folds, ensemble=False)
        self.calibrated_.fit(table, y)
        self.model_ = self.calibrated_.calibrated_classifiers_[0].estimator
        self.reference_ = typical_values(table, self.categorical_features_)
        return self

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        table = self._table(X)
        return np.asarray(self.calibrated_.predict_proba(table), dtype=float)

    @abstractmethod
    def contributions(self, X: Any) -> NDArray[np.float64]:
        """Per-row, per-feature contributions to the log-odds of churning (positive = raises the risk)."""


class ChurnLogisticRegression(_CalibratedChurnModel):
    """Calibrated logistic regression on standardised features (missing numbers imputed with the median).

    Text columns are one-hot encoded (:class:`~sklearn.preprocessing.OneHotEncoder`; a missing value is a category
    of its own, a category first seen when predicting counts as none of the known ones).

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
    max_categories:
        Most categories kept per text column (default 20); the rarest beyond them are pooled into one.
    max_iter:
        Iterations of the solver.
    random_state:
        Seed of the fold shuffling (default 0: refitting on the same rows gives the same probabilities).

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_:
        As in scikit-learn.
    categorical_features_:
        Positions of the text columns, encoded as categories.
    calibrated_:
        The fitted :class:`~sklearn.calibration.CalibratedClassifierCV`.
    model_:
        The pipeline (``encode``: imputer and one-hot encoders, ``scale``, ``logistic``) fitted on all rows.
    coef_:
        Coefficients per standardised encoded column (log-odds per standard deviation): the numeric features in
        order, then one per kept category of each text column (names: ``model_[:-1].get_feature_names_out()``).
    reference_:
        The "typical member": median training value of each numeric feature, most frequent category of each text one.

    Examples
    --------
    >>> model = ChurnLogisticRegression().fit(X, y)  # doctest: +SKIP
    >>> model.predict_proba(X)[:, 1]  # doctest: +SKIP
    """

    def __init__(
        self,
        C: float = 1.0,
        calibration: str = "sigmoid",
        cv: int = 3,
        horizon_days: int = 30,
        max_categories: int = 20,
        max_iter: int = 1000,
        random_state: Any = 0,
    ) -> None:
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.horizon_days = horizon_days
        self.max_categories = max_categories
        self.max_iter = max_iter
        self.random_state = random_state

    def _model(self, n_features: int, categorical: NDArray[np.intp]) -> Pipeline:
        return Pipeline(
            [
                ("encode", one_hot_encoder(n_features, categorical, max_categories=self.max_categories)),
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
        """Logistic terms ``coef_j × z_j`` of each row (z = standardised value; 0 = the average member).

        A text column's terms (one per kept category) are added into one contribution of that column.
        """
        table = self._table(X)
        terms = self.model_[:-1].transform(table) * self.coef_
        return per_feature(self.model_.named_steps["encode"], terms, self.categorical_features_)


class ChurnGradientBoosting(_CalibratedChurnModel):
    """Calibrated histogram gradient boosting (native missing-value support, monotone-free).

    Text columns become category codes (:class:`~sklearn.preprocessing.OrdinalEncoder`) split on natively by the
    boosting (``categorical_features``); a missing or unseen category goes wherever missing values go.

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
    max_categories:
        Most categories kept per text column (default 20, at most 255 — the boosting's bins); the rarest beyond
        them are pooled into one.
    random_state:
        Seed of the fold shuffling and of the boosting's early-stopping split (default 0: refitting on the same
        rows gives the same probabilities).

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_:
        As in scikit-learn.
    categorical_features_:
        Positions of the text columns, encoded as categories.
    calibrated_, model_:
        The fitted calibration wrapper and the pipeline (``encode``, ``boosting``) fitted on all rows.
    reference_:
        The "typical member" (used by :meth:`contributions`): median training value of each numeric feature, most
        frequent category of each text one.
    """

    _most_categories = 255

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
        max_categories: int = 20,
        random_state: Any = 0,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.cv = cv
        self.horizon_days = horizon_days
        self.max_categories = max_categories
        self.random_state = random_state

    def _model(self, n_features: int, categorical: NDArray[np.intp]) -> Pipeline:
        n_numeric = n_features - len(categorical)
        boosting = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=[False] * n_numeric + [True] * len(categorical) if len(categorical) else None,
            random_state=self.random_state,
        )
        encode = ordinal_encoder(n_features, categorical, max_categories=self.max_categories)
        return Pipeline([("encode", encode), ("boosting", boosting)])

    @property
    def n_iter_(self) -> int:
        check_is_fitted(self)
        return int(self.model_.named_steps["boosting"].n_iter_)

    def contributions(self, X: Any) -> NDArray[np.float64]:
        """Log-odds change when a feature is set back to its typical value: logit p(x) − logit p(x, x_j typical)."""
        table = self._table(X)
        base = _logit(self.calibrated_.predict_proba(table)[:, 1])
        out = np.empty(table.shape, dtype=float)
        for j in range(table.shape[1]):
            kept = table.iloc[:, j].copy()
            table.iloc[:, j] = self.reference_[j]
            out[:, j] = base - _logit(self.calibrated_.predict_proba(table)[:, 1])
            table.iloc[:, j] = kept
        return out


class DaysSinceActivityBaseline(_ChurnClassifier):
    """The rule a creator would use: the longer since a member's last activity, the likelier they churn.

    Days since the last activity are cut into bins (``bins`` are the left edges); the probability of each bin is
    its churn rate in the training rows, shrunk towards the overall rate by ``smoothing`` pseudo-rows. Other
    columns (text ones included) are accepted and ignored; ``column`` itself must be numeric.

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
    categorical_features_:
        Positions of the text columns.
    reference_:
        Median training value of each numeric feature, most frequent category of each text one.
    column_index_:
        Position of ``column`` in the training features.
    """

    def __init__(
        self,
        column: str | int = "days_since_last_activity",
        bins: tuple[float, ...] = (0, 2, 4, 7, 14, 21, 30, 60),
        smoothing: float = 5.0,
        horizon_days: int = 30,
        random_state: Any = 0,
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
        table, y = self._fit_table(X, y)
        _check_horizon(self.horizon_days)
        self.classes_ = self._validate_targets(y)
        self.column_index_ = self._column_index()
        if self.column_index_ in self.categorical_features_:
            raise ValueError(
                f"column {self.column!r} holds text; the baseline needs the days since last activity as numbers"
            )
        positive = (y == self.classes_[1]).astype(float)
        overall = positive.mean()
        which = self._bin(table)
        rates = []
        for b in range(len(self.bins)):
            mask = which == b
            rates.append((positive[mask].sum() + self.smoothing * overall) / (mask.sum() + self.smoothing))
        self.bin_rates_ = np.asarray(rates, dtype=float)
        self.base_rate_ = float(overall)
        self.reference_ = typical_values(table, self.categorical_features_)
        return self

    def _bin(self, table: pd.DataFrame) -> NDArray[np.intp]:
        days = np.nan_to_num(table.iloc[:, self.column_index_].to_numpy(dtype=float), nan=np.inf)
        return np.asarray(np.clip(np.searchsorted(np.asarray(self.bins, dtype=float), days, side="right") - 1, 0, None))

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        table = self._table(X)
        p = self.bin_rates_[self._bin(table)]
        return np.column_stack([1 - p, p])

    def contributions(self, X: Any) -> NDArray[np.float64]:
        """Only the rule's column contributes: logit(its bin's rate) − logit(overall rate)."""
        table = self._table(X)
        out = np.zeros(table.shape, dtype=float)
        rates = self.bin_rates_[self._bin(table)]
        out[:, self.column_index_] = _logit(rates) - _logit(np.asarray([self.base_rate_]))[0]
        return out
