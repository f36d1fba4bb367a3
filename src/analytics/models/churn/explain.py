"""Why a member is at risk: risk levels and the top factors of each score, in words a creator understands.

Factors come from the model's per-member contributions to the log-odds of churning
(:meth:`~analytics.models.churn.estimators.ChurnLogisticRegression.contributions`): the features pushing the
risk up the most, described with the catalog's phrases, e.g. "No activity for 12 days (usually every 2)". A feature
whose value equals the typical (median) training value is not a factor of that member.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from analytics.models.churn.feature_catalog import get_feature

__all__ = ["RISK_LEVELS", "RISK_THRESHOLDS", "risk_level", "top_factors"]

RISK_LEVELS: tuple[str, ...] = ("low", "medium", "high", "critical")
# low ≤ 0.3 < medium ≤ 0.5 < high ≤ 0.7 < critical (docs/metrics.md)
RISK_THRESHOLDS: tuple[float, ...] = (0.3, 0.5, 0.7)


def risk_level(probability: ArrayLike) -> NDArray[np.str_]:
    """Risk level of each probability: low ≤ 0.3 < medium ≤ 0.5 < high ≤ 0.7 < critical."""
    p = np.asarray(probability, dtype=float)
    index = np.searchsorted(np.asarray(RISK_THRESHOLDS), p, side="left")
    return np.asarray(RISK_LEVELS, dtype=str)[index]


class _Row(dict[str, Any]):
    """Format context: unknown names render as '?' instead of failing an explanation."""

    def __missing__(self, key: str) -> str:
        return "?"


def _text(feature: str, value: float, typical: float, row: dict[str, Any]) -> str:
    spec = get_feature(feature)
    template = spec.high_text if value > typical else spec.low_text
    context = _Row(row)
    context.update(value=value, typical=typical, value_major=value / 100.0, typical_major=typical / 100.0)
    try:
        return template.format_map(context)
    except (ValueError, TypeError):  # a '?' placeholder under a numeric format
        return f"{feature} = {value:g} (typical {typical:g})"


def top_factors(
    estimator: Any, X: pd.DataFrame, *, top: int = 3, min_contribution: float = 0.05
) -> list[list[dict[str, Any]]]:
    """The ``top`` features raising each member's risk the most, with value, typical value and a sentence.

    Parameters
    ----------
    estimator:
        A fitted churn estimator with ``contributions(X)`` and ``reference_`` (typical values).
    X:
        Feature rows (columns = the estimator's features).
    min_contribution:
        Smallest push on the log-odds worth naming.

    Returns
    -------
    list of lists of dict
        Per row: ``{"feature", "value", "typical", "contribution", "text"}``, strongest first.
    """
    if X.empty:
        return []
    contrib = np.asarray(estimator.contributions(X), dtype=float)
    values = X.to_numpy(dtype=float)
    typical = np.asarray(estimator.reference_, dtype=float)
    distinct = ~np.isclose(values, typical[None, :])
    strength = np.where(distinct & (contrib >= min_contribution), contrib, -np.inf)
    order = np.argsort(-strength, axis=1, kind="stable")[:, :top]
    names = list(X.columns)
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in X.to_dict("records")]
    out: list[list[dict[str, Any]]] = []
    for i, picks in enumerate(order):
        factors = []
        for j in picks:
            if not np.isfinite(strength[i, j]):
                break
            value, usual = float(values[i, j]), float(typical[j])
            factors.append(
                {
                    "feature": names[j],
                    "value": round(value, 4),
                    "typical": round(usual, 4),
                    "contribution": round(float(contrib[i, j]), 4),
                    "text": _text(names[j], value, usual, rows[i]),
                }
            )
        out.append(factors)
    return out
