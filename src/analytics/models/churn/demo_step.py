"""The ``churn`` step of the demo pipeline: train a model per demo account, make it current, score the members.

:mod:`analytics.demo.steps` registers it (after ``snapshots``), so ``analytics demo`` ends with churn scores the
dashboard can show; importing this module registers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.demo.pipeline import DemoContext
from analytics.errors import ModelError
from analytics.models.churn.registry import promote_with_policy, register_model
from analytics.models.churn.scoring import score_members
from analytics.models.churn.training import train_churn_model

__all__ = ["churn_step"]


def churn_step(ctx: DemoContext) -> Mapping[str, Any]:
    """Train (logistic, history up to the demo's end), promote when the account has no model, score as of the end.

    An account with too little history for a model (e.g. the ``tiny`` demo) is reported, not fatal.
    """
    summary: dict[str, Any] = {}
    for account_id in ctx.account_ids:
        try:
            trained = train_churn_model(ctx.engine, account_id, end=ctx.end, clock=ctx.clock, progress=ctx.progress)
        except ModelError as exc:
            summary[account_id] = {"skipped": str(exc)}
            continue
        model_id = register_model(ctx.engine, trained, workspace=ctx.settings.workspace, clock=ctx.clock)
        _, message = promote_with_policy(
            ctx.engine, account_id, model_id, "if_first", workspace=ctx.settings.workspace, clock=ctx.clock
        )
        scores = score_members(ctx.engine, account_id, workspace=ctx.settings.workspace, as_of=ctx.end, clock=ctx.clock)
        summary[account_id] = {
            "model_id": model_id,
            "promotion": message,
            "roc_auc": trained.card["backtest"]["model"]["roc_auc"],
            "baseline_roc_auc": trained.card["backtest"]["baseline"]["roc_auc"],
            "scored": len(scores),
            "by_risk_level": {str(k): int(v) for k, v in scores["risk_level"].value_counts().items()},
        }
    return summary
