"""Reading stored churn predictions for dashboards and reports: the latest scores, the at-risk list, the model.

Nothing here computes a score: scores are written by :func:`~analytics.models.churn.scoring.score_members` (the
daily run); these functions read ``churn_predictions`` and ``model_registry`` for one account.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store.schema import churn_predictions as cp
from analytics.store.schema import members, model_registry

__all__ = ["at_risk_members", "current_model_card", "latest_scores"]


def latest_scores(
    engine: Engine, account_id: str, *, model_id: str | None = None, before: date | None = None
) -> pd.DataFrame:
    """The newest day's stored scores of the account (of ``model_id``, default the current model), riskiest first;
    with ``before``, the newest day strictly before that date (to compare with the previous scoring).

    Columns: ``member_id``, ``member`` (display name, username, email or id), ``probability``, ``risk_level``,
    ``factors``, ``actions``, ``action_taken``, ``as_of``, ``model_id``. Empty when nothing was scored yet.
    """
    columns = [
        "member_id",
        "member",
        "probability",
        "risk_level",
        "factors",
        "actions",
        "action_taken",
        "as_of",
        "model_id",
    ]
    with engine.connect() as conn:
        if model_id is None:
            model_id = conn.execute(
                sa.select(model_registry.c.id).where(
                    model_registry.c.account_id == account_id,
                    model_registry.c.kind == "churn",
                    model_registry.c.is_current.is_(True),
                )
            ).scalar_one_or_none()
        if model_id is None:
            return pd.DataFrame(columns=columns)
        scope = sa.and_(cp.c.account_id == account_id, cp.c.model_id == model_id)
        newest = sa.select(sa.func.max(cp.c.as_of)).where(scope)
        day = conn.execute(newest if before is None else newest.where(cp.c.as_of < before)).scalar()
        if day is None:
            return pd.DataFrame(columns=columns)
        name = sa.func.coalesce(members.c.display_name, members.c.username, members.c.email, cp.c.member_id)
        rows = conn.execute(
            sa.select(
                cp.c.member_id,
                name.label("member"),
                cp.c.probability,
                cp.c.risk_level,
                cp.c.factors,
                cp.c.actions,
                cp.c.action_taken,
                cp.c.as_of,
                cp.c.model_id,
            )
            .select_from(
                cp.outerjoin(members, sa.and_(members.c.account_id == cp.c.account_id, members.c.id == cp.c.member_id))
            )
            .where(scope, cp.c.as_of == day)
            .order_by(cp.c.probability.desc(), cp.c.member_id)
        ).all()
    return pd.DataFrame(rows, columns=columns)


def at_risk_members(
    scores: pd.DataFrame, *, levels: tuple[str, ...] = ("critical", "high"), top: int = 50
) -> pd.DataFrame:
    """The riskiest members as a table a creator reads: who, risk, why (top factors) and what to do.

    Columns: ``Member``, ``Risk``, ``Churn probability`` (percent, rounded), ``Why``, ``What to do``.
    """
    chosen = scores[scores["risk_level"].isin(levels)].head(top)

    def join(items: Any, key: str) -> str:
        return "; ".join(str(item[key]) for item in (items or []))

    return pd.DataFrame(
        {
            "Member": chosen["member"].astype(str).to_numpy(),
            "Risk": chosen["risk_level"].astype(str).to_numpy(),
            "Churn probability": (chosen["probability"].astype(float) * 100).round().astype(int).astype(str) + " %",
            "Why": [join(f, "text") for f in chosen["factors"]],
            "What to do": [join(a, "text") for a in chosen["actions"]],
        }
    )


def current_model_card(engine: Engine, account_id: str) -> dict[str, Any] | None:
    """The card of the account's current churn model (None when there is none)."""
    with engine.connect() as conn:
        card = conn.execute(
            sa.select(model_registry.c.card).where(
                model_registry.c.account_id == account_id,
                model_registry.c.kind == "churn",
                model_registry.c.is_current.is_(True),
            )
        ).scalar_one_or_none()
    return dict(card) if card else None
