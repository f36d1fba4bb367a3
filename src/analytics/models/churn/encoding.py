"""Feature tables as the churn estimators read them: numbers stay numbers, text columns become categories.

A column is **categorical** when it holds text — a pandas column of ``category`` or string dtype, or any column with
at least one ``str`` value (``"Female"``, ``"Month-to-month"``). Every other column must be numeric (booleans count
as 0/1). To treat a numeric code as a category, give it the pandas ``category`` dtype.

Missing values (``None``, ``NaN``, ``pd.NA``) are allowed in both kinds: a numeric gap is imputed (logistic) or
routed by the trees (boosting); a missing category is a category of its own. The encoders are scikit-learn's:
:class:`~sklearn.preprocessing.OneHotEncoder` for the logistic model and :class:`~sklearn.preprocessing.OrdinalEncoder`
feeding :class:`~sklearn.ensemble.HistGradientBoostingClassifier`'s native categorical support for the boosted one;
categories first seen when predicting are treated as unknown (all-zero one-hot / missing), and the rarest categories
beyond ``max_categories`` are pooled into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from sklearn.utils.validation import assert_all_finite

__all__ = ["feature_table", "one_hot_encoder", "ordinal_encoder", "per_feature", "text_columns", "typical_values"]

NUMBERS = "numbers"
# Column positions: a list or the estimators' ``categorical_features_`` array.
Positions = Sequence[int] | NDArray[np.intp]


def _holds_text(values: NDArray[Any]) -> bool:
    return any(isinstance(v, str | bytes) for v in values)


def _is_text_column(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_object_dtype(dtype):
        return _holds_text(column.to_numpy())
    return pd.api.types.is_string_dtype(dtype)


def text_columns(X: Any) -> NDArray[np.intp]:
    """Positions of the columns of ``X`` that hold text (the categorical features); empty for numeric data."""
    if sparse.issparse(X):
        return np.empty(0, dtype=np.intp)
    if isinstance(X, pd.DataFrame):
        return np.asarray([j for j in range(X.shape[1]) if _is_text_column(X.iloc[:, j])], dtype=np.intp)
    if isinstance(X, np.ndarray) and X.dtype.kind in "biufc":
        return np.empty(0, dtype=np.intp)
    values = np.asarray(X, dtype=object)
    if values.ndim != 2:
        return np.empty(0, dtype=np.intp)
    return np.asarray([j for j in range(values.shape[1]) if _holds_text(values[:, j])], dtype=np.intp)


def _categories(values: NDArray[Any]) -> NDArray[np.object_]:
    """A text column as the encoders expect it: strings, every kind of missing value as ``NaN``."""
    missing = np.asarray(pd.isna(values), dtype=bool)
    out = np.asarray(values).astype(str).astype(object)
    out[missing] = np.nan
    return out


def feature_table(values: NDArray[Any], categorical: Positions, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Validated 2-D ``values`` as a frame: ``float64`` numeric columns, ``object`` categorical ones.

    Parameters
    ----------
    values:
        The rows, already checked for shape (``sklearn.utils.validation.validate_data``).
    categorical:
        Positions of the categorical columns.
    columns:
        Column names (the estimator's ``feature_names_in_``); positions when ``None``.

    Raises
    ------
    ValueError
        A numeric column holds a value that is not a number, or an infinite one.
    """
    cats = set(int(j) for j in categorical)
    data: dict[int, pd.Series] = {}
    for j in range(values.shape[1]):
        if j in cats:
            data[j] = pd.Series(_categories(values[:, j]), dtype=object)
        else:
            numbers = np.asarray(values[:, j], dtype=np.float64)
            assert_all_finite(numbers, allow_nan=True, input_name="X")
            data[j] = pd.Series(numbers, dtype=np.float64)
    frame = pd.DataFrame(data)
    if columns is not None:
        frame.columns = pd.Index(list(columns), dtype=object)
    return frame


def _numeric(n_features: int, categorical: Positions) -> list[int]:
    cats = set(int(j) for j in categorical)
    return [j for j in range(n_features) if j not in cats]


def one_hot_encoder(n_features: int, categorical: Positions, *, max_categories: int) -> ColumnTransformer:
    """Numeric columns median-imputed, each text column one-hot encoded (missing = a category of its own).

    The numeric columns come first in the output, then the categories of each text column in column order;
    :func:`per_feature` adds the encoded columns of each input feature back together.
    """
    parts: list[tuple[str, Any, list[int]]] = [
        (NUMBERS, SimpleImputer(strategy="median", keep_empty_features=True), _numeric(n_features, categorical))
    ]
    for j in categorical:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=max_categories, sparse_output=False
        )
        parts.append((f"category_{int(j)}", encoder, [int(j)]))
    return ColumnTransformer(parts, remainder="drop")


def ordinal_encoder(n_features: int, categorical: Positions, *, max_categories: int) -> ColumnTransformer:
    """Numeric columns as they are, then text columns as category codes (missing or unseen = ``NaN``).

    The output's last ``len(categorical)`` columns are the categorical ones (for ``categorical_features``).
    """
    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=max_categories,
    )
    return ColumnTransformer(
        [
            (NUMBERS, "passthrough", _numeric(n_features, categorical)),
            ("categories", codes, [int(j) for j in categorical]),
        ],
        remainder="drop",
    )


def per_feature(encoder: ColumnTransformer, encoded: NDArray[Any], categorical: Positions) -> NDArray[np.float64]:
    """Sum the encoded columns of :func:`one_hot_encoder`'s output back into one column per input feature."""
    n_features = int(encoder.n_features_in_)
    out = np.zeros((encoded.shape[0], n_features), dtype=float)
    numeric = _numeric(n_features, categorical)
    out[:, numeric] = encoded[:, encoder.output_indices_[NUMBERS]]
    for j in categorical:
        out[:, int(j)] = encoded[:, encoder.output_indices_[f"category_{int(j)}"]].sum(axis=1)
    return out


def typical_values(frame: pd.DataFrame, categorical: Positions) -> NDArray[Any]:
    """The "typical member": median of each numeric column over its finite values (0 for a column without any)
    and the most frequent category of each text column (``NaN`` when it has none).

    A ``float`` array when every column is numeric, else an ``object`` array.
    """
    cats = set(int(j) for j in categorical)
    out: list[Any] = []
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if j in cats:
            counts = column.dropna().value_counts(sort=False)
            # The most frequent value; ties go to the first in sorted order, so the choice is reproducible.
            out.append(counts.sort_index().idxmax() if len(counts) else np.nan)
        else:
            finite = column[np.isfinite(column.to_numpy())]
            out.append(float(finite.median()) if len(finite) else 0.0)
    return np.asarray(out, dtype=object if cats else float)
