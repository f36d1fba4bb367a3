"""Model cards: what a churn model is, what it was trained on, how it did on the backtest — as a dict and markdown."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from analytics.models.churn.backtest import BacktestResult
from analytics.models.churn.population import ENDED_STATUSES, PAYING_STATUSES

__all__ = ["card_markdown", "model_card"]

_METRICS = (
    ("roc_auc", "ROC AUC", "higher is better; 0.5 = random"),
    ("pr_auc", "PR AUC", "higher is better; the churn rate = random"),
    ("brier", "Brier score", "lower is better"),
    ("top_decile_lift", "Top-decile lift", "churn rate in the riskiest 10 % ÷ overall churn rate"),
)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _importance(estimator: Any, X: pd.DataFrame) -> list[dict[str, Any]]:
    """Mean absolute contribution of each feature over (a sample of) the training rows, largest first."""
    sample = X.sample(n=min(len(X), 2000), random_state=0) if len(X) > 2000 else X
    contrib = np.abs(np.asarray(estimator.contributions(sample), dtype=float)).mean(axis=0)
    order = np.argsort(-contrib)
    return [{"feature": str(X.columns[j]), "mean_abs_log_odds": float(contrib[j])} for j in order]


def model_card(
    *,
    model_id: str,
    account_id: str,
    estimator: BaseEstimator,
    data: pd.DataFrame,
    features: list[str],
    dates: list[date],
    backtest: BacktestResult,
    created_at: datetime,
) -> dict[str, Any]:
    """The card of a trained model (JSON-able): identity, label, training data, features, backtest, importance."""
    horizon = backtest.horizon_days
    model_m, base_m = backtest.metrics["model"], backtest.metrics["baseline"]
    versus = {
        key: (model_m[key] - base_m[key]) if model_m.get(key) is not None and base_m.get(key) is not None else None
        for key, _, _ in _METRICS
    }
    card = {
        "model_id": model_id,
        "kind": "churn",
        "account_id": account_id,
        "estimator": type(estimator).__name__,
        "params": estimator.get_params(deep=False),
        "created_at": created_at,
        "label": (
            f"Member paying at the prediction date (a membership in {'/'.join(PAYING_STATUSES)}, recurring, price "
            f"above 0) who stopped paying within {horizon} days because their memberships ended "
            f"({'/'.join(ENDED_STATUSES)})."
        ),
        "horizon_days": horizon,
        "training": {
            "start": min(dates),
            "end": max(dates),
            "dates": sorted(dates),
            "n_rows": len(data),
            "n_members": int(data["member_id"].nunique()),
            "churn_rate": float(data["churned"].mean()) if len(data) else None,
        },
        "features": list(features),
        "backtest": backtest.to_dict(),
        "versus_baseline": versus,
        "feature_importance": _importance(estimator, data[features])[:15],
        "intended_use": (
            "Rank paying members of this account by their risk of churning in the next "
            f"{horizon} days so the creator can act early; explain each score with its top factors."
        ),
        "limitations": [
            "Trained on this account's own history; scores of another account are meaningless.",
            "Probabilities are calibrated on the training dates; re-check calibration after big changes "
            "(price changes, new products, a marketing push).",
            "Features are behavioural signals, not causes: acting on a factor does not guarantee retention.",
            "Members paying for less than the feature windows (7/30/90 days) have partly empty windows.",
        ],
    }
    safe: dict[str, Any] = _json_safe(card)
    return safe


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def card_markdown(card: dict[str, Any]) -> str:
    """The card as markdown (for notebooks, the dashboard and reports)."""
    bt = card["backtest"]
    tr = card["training"]
    lines = [
        f"# Churn model `{card['model_id']}`",
        "",
        f"**Estimator**: {card['estimator']} · **horizon**: {card['horizon_days']} days · "
        f"**created**: {card['created_at']}",
        "",
        f"**Label**: {card['label']}",
        "",
        f"**Training data**: {tr['n_rows']} member-dates ({tr['n_members']} members) on {len(tr['dates'])} "
        f"prediction dates from {tr['start']} to {tr['end']}; churn rate {_fmt(tr['churn_rate'])}.",
        "",
        f"## Backtest (time-based, {len(bt['folds'])} folds, key `{bt['key']}`)",
        "",
        "Each fold trains on dates whose label window closed before its test dates start.",
        "",
        "| metric | model | baseline (days since last activity) | note |",
        "|---|---|---|---|",
    ]
    for key, label, note in _METRICS:
        lines.append(f"| {label} | {_fmt(bt['model'].get(key))} | {_fmt(bt['baseline'].get(key))} | {note} |")
    lines += [
        "",
        f"Test rows: {bt['model']['n']} ({bt['model']['n_churned']} churned).",
        "",
        "### Calibration (test rows in risk deciles)",
        "",
        "| mean predicted | observed churn rate | rows |",
        "|---|---|---|",
    ]
    for row in bt["model"].get("calibration", []):
        lines.append(f"| {row['predicted']:.3f} | {row['observed']:.3f} | {row['n']} |")
    lines += ["", "## Most influential features", "", "| feature | mean abs. log-odds contribution |", "|---|---|"]
    for row in card.get("feature_importance", [])[:10]:
        lines.append(f"| `{row['feature']}` | {row['mean_abs_log_odds']:.3f} |")
    lines += ["", "## Intended use", "", card["intended_use"], "", "## Limitations", ""]
    lines += [f"- {item}" for item in card["limitations"]]
    lines.append("")
    return "\n".join(lines)
