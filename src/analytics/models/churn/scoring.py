"""Scoring paying members with the current model, and tracking what happened afterwards.

* :func:`score_members` writes one ``churn_predictions`` row per paying member: probability, risk level, the top
  factors in words and recommended actions (``analytics score`` and the daily run call it).
* :func:`record_action_taken` notes that the creator acted on a recommendation.
* :func:`update_outcomes` fills ``churned``/``outcome_at`` once a prediction's horizon has passed (label as in
  training: stopped paying because the memberships ended).
* :func:`action_effectiveness` compares churn among members whose recommended action was taken or not.
* :func:`run_daily_churn` is the daily-run step: score today (when a current model exists) and update outcomes;
  :func:`daily_churn_step` runs it for one account or every account of the store (the ``churn_scoring`` notebook).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.errors import ModelError
from analytics.models.churn.actions import recommend_actions
from analytics.models.churn.explain import RISK_LEVELS, risk_level, top_factors
from analytics.models.churn.features import build_features
from analytics.models.churn.labels import churn_labels
from analytics.models.churn.population import cut_instant
from analytics.models.churn.registry import current_model_id, load_model
from analytics.models.churn.training import resolve_account
from analytics.store.schema import accounts, model_registry
from analytics.store.schema import churn_predictions as cp
from analytics.store.upsert import upsert_rows

__all__ = [
    "action_effectiveness",
    "daily_churn_step",
    "record_action_taken",
    "run_daily_churn",
    "score_members",
    "update_outcomes",
]

_COLUMNS = ["member_id", "probability", "risk_level", "factors", "actions", "model_id", "as_of"]


def score_members(
    engine: Engine,
    account_id: str,
    *,
    workspace: Path,
    as_of: date | None = None,
    model_id: str | None = None,
    min_action_level: str = "medium",
    write: bool = True,
    clock: Clock = utcnow,
) -> pd.DataFrame:
    """Score every member paying at ``as_of`` (default today) with the current (or given) model.

    Returns
    -------
    pandas.DataFrame
        ``member_id``, ``probability``, ``risk_level``, ``factors`` (list of dicts), ``actions`` (list of dicts),
        ``model_id``, ``as_of``; highest risk first. With ``write`` the rows are upserted into
        ``churn_predictions`` (re-scoring a day replaces its scores but keeps recorded actions and outcomes).
    """
    day = as_of or clock().date()
    model = load_model(engine, account_id, model_id, workspace=workspace)
    features = build_features(engine, account_id, [day])
    if features.empty:
        return pd.DataFrame(columns=_COLUMNS)
    missing = [c for c in model.features if c not in features.columns]
    if missing:
        raise ModelError(f"model {model.model_id} needs features this version no longer builds: {missing}; retrain")
    X = features[model.features]
    probability = model.estimator.predict_proba(X)[:, 1]
    levels = risk_level(probability)
    result = pd.DataFrame(
        {
            "member_id": features["member_id"].to_numpy(),
            "probability": probability,
            "risk_level": levels,
            "factors": top_factors(model.estimator, X),
            "actions": recommend_actions(features, levels, min_level=min_action_level),
            "model_id": model.model_id,
            "as_of": day,
        }
    )
    result = result.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    if write:
        now = clock()
        rows = [
            {
                "account_id": account_id,
                "id": f"{model.model_id}:{day.isoformat()}:{r['member_id']}",
                "member_id": r["member_id"],
                "model_id": model.model_id,
                "as_of": day,
                "probability": float(r["probability"]),
                "risk_level": str(r["risk_level"]),
                "factors": r["factors"],
                "actions": r["actions"],
                "created_at": now,
            }
            for r in result.to_dict("records")
        ]
        with engine.begin() as conn:
            upsert_rows(conn, cp, rows, update=["probability", "risk_level", "factors", "actions", "created_at"])
    return result


def record_action_taken(
    engine: Engine,
    account_id: str,
    member_id: str,
    *,
    as_of: date | None = None,
    taken: bool = True,
    taken_at: datetime | None = None,
    clock: Clock = utcnow,
) -> int:
    """Record whether the recommended action for a member was taken (default: on their latest prediction).

    Returns the number of prediction rows updated; raises :class:`ModelError` when the member has none.
    """
    scope = sa.and_(cp.c.account_id == account_id, cp.c.member_id == member_id)
    with engine.begin() as conn:
        day = as_of or conn.execute(sa.select(sa.func.max(cp.c.as_of)).where(scope)).scalar()
        if day is None:
            raise ModelError(f"member {member_id} of account {account_id} has no churn prediction to act on")
        updated = conn.execute(
            sa.update(cp)
            .where(scope, cp.c.as_of == day)
            .values(action_taken=taken, action_taken_at=(taken_at or clock()) if taken else None)
        ).rowcount
    if not updated:
        raise ModelError(f"member {member_id} of account {account_id} has no churn prediction on {day}")
    return int(updated)


def _horizons(conn: sa.Connection) -> dict[tuple[str, str], int]:
    rows = conn.execute(sa.select(model_registry.c.account_id, model_registry.c.id, model_registry.c.card)).all()
    return {(r.account_id, r.id): int((r.card or {}).get("horizon_days", 30)) for r in rows}


def update_outcomes(engine: Engine, as_of: date, *, account_id: str | None = None) -> int:
    """Fill ``churned`` and ``outcome_at`` of predictions whose horizon ended by ``as_of``; returns rows updated.

    ``outcome_at`` is when the member stopped paying, or the end of the horizon for members who stayed.
    """
    with engine.connect() as conn:
        query = sa.select(cp.c.account_id, cp.c.model_id, cp.c.as_of).where(cp.c.churned.is_(None)).distinct()
        if account_id is not None:
            query = query.where(cp.c.account_id == account_id)
        pending = conn.execute(query).all()
        horizons = _horizons(conn)
    # one label query per (account, horizon) for all its due dates; each model's rows get its own horizon's label
    groups: dict[tuple[str, int], dict[date, list[str]]] = defaultdict(lambda: defaultdict(list))
    for acc, model_id, day in pending:
        horizon = horizons.get((acc, model_id), 30)
        if day + timedelta(days=horizon) <= as_of:
            groups[(acc, horizon)][day].append(model_id)
    updates = []
    for (acc, horizon), models_by_day in groups.items():
        labels = churn_labels(engine, acc, sorted(models_by_day), horizon_days=horizon)
        churned_at = labels["churned_at"].astype(object).where(labels["churned"] == 1, None)
        for member, day, churned, stopped in zip(
            labels["member_id"], labels["as_of"], labels["churned"], churned_at, strict=True
        ):
            end = cut_instant(day) + timedelta(days=horizon)
            outcome = pd.Timestamp(stopped).to_pydatetime() if churned else end
            for model_id in models_by_day[day]:
                updates.append(
                    {
                        "b_account": acc,
                        "b_model": model_id,
                        "b_member": member,
                        "b_as_of": day,
                        "b_churned": bool(churned),
                        "b_outcome": outcome,
                    }
                )
    if not updates:
        return 0
    stmt = (
        sa.update(cp)
        .where(
            cp.c.account_id == sa.bindparam("b_account"),
            cp.c.model_id == sa.bindparam("b_model"),
            cp.c.member_id == sa.bindparam("b_member"),
            cp.c.as_of == sa.bindparam("b_as_of"),
            cp.c.churned.is_(None),
        )
        .values(churned=sa.bindparam("b_churned"), outcome_at=sa.bindparam("b_outcome"))
    )
    resolved = sa.select(sa.func.count()).where(cp.c.churned.is_not(None))
    if account_id is not None:
        resolved = resolved.where(cp.c.account_id == account_id)
    with engine.begin() as conn:
        before = conn.execute(resolved).scalar_one()
        conn.execute(stmt, updates)
        after = conn.execute(resolved).scalar_one()
    return int(after - before)


def action_effectiveness(engine: Engine, account_id: str) -> pd.DataFrame:
    """Per recommended action: how often it was taken and the churn rate with and without it (resolved rows).

    Columns: ``action``, ``recommended``, ``taken``, ``resolved_taken``, ``churn_rate_taken``,
    ``resolved_not_taken``, ``churn_rate_not_taken``, ``difference`` (taken − not taken; negative = fewer churned
    when acted on). Observational, not causal: creators act on the members they expect to save.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(cp.c.actions, cp.c.action_taken, cp.c.churned).where(cp.c.account_id == account_id)
        ).all()
    records = [
        {"action": a.get("action"), "taken": bool(r.action_taken), "churned": r.churned}
        for r in rows
        for a in (r.actions or [])
    ]
    columns = [
        "action",
        "recommended",
        "taken",
        "resolved_taken",
        "churn_rate_taken",
        "resolved_not_taken",
        "churn_rate_not_taken",
        "difference",
    ]
    if not records:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(records)
    frame["resolved"] = frame["churned"].notna()
    frame["churned_f"] = frame["churned"].astype("float")
    out = []
    for action, g in frame.groupby("action", sort=True):
        taken, not_taken = g[g["taken"] & g["resolved"]], g[~g["taken"] & g["resolved"]]
        rate_t = float(taken["churned_f"].mean()) if len(taken) else np.nan
        rate_n = float(not_taken["churned_f"].mean()) if len(not_taken) else np.nan
        out.append(
            {
                "action": action,
                "recommended": len(g),
                "taken": int(g["taken"].sum()),
                "resolved_taken": len(taken),
                "churn_rate_taken": rate_t,
                "resolved_not_taken": len(not_taken),
                "churn_rate_not_taken": rate_n,
                "difference": rate_t - rate_n,
            }
        )
    return pd.DataFrame(out, columns=columns)


def run_daily_churn(
    engine: Engine, account_id: str, *, workspace: Path, as_of: date | None = None, clock: Clock = utcnow
) -> dict[str, Any]:
    """The daily-run step: score paying members when the account has a current model, then update outcomes."""
    day = as_of or clock().date()
    summary: dict[str, Any] = {"as_of": day.isoformat()}
    if current_model_id(engine, account_id) is None:
        summary["scored"] = 0
        summary["skipped"] = "no current churn model (run `analytics train`)"
    else:
        scores = score_members(engine, account_id, workspace=workspace, as_of=day, clock=clock)
        summary["scored"] = len(scores)
        summary["by_risk_level"] = scores["risk_level"].value_counts().to_dict() if len(scores) else {}
    summary["outcomes_updated"] = update_outcomes(engine, day, account_id=account_id)
    return summary


def daily_churn_step(
    engine: Engine,
    account_id: str | None,
    *,
    workspace: Path,
    as_of: date | None = None,
    clock: Clock = utcnow,
) -> pd.DataFrame:
    """:func:`run_daily_churn` for one account, or for every account in the store when ``account_id`` is None.

    ``as_of`` is the prediction date (features use data before its start; default today). One row per account:
    ``account_id``, ``as_of``, ``scored``, ``critical``/``high``/``medium``/``low`` (members per risk level),
    ``outcomes_updated`` and ``note`` (why nothing was scored, e.g. no current model).

    Raises
    ------
    ModelError
        ``account_id`` is not in the store (:func:`~analytics.models.churn.training.resolve_account`).
    """
    if account_id:
        targets = [resolve_account(engine, account_id)]
    else:
        with engine.connect() as conn:
            targets = list(conn.execute(sa.select(accounts.c.id).order_by(accounts.c.id)).scalars())
    rows = []
    for account in targets:
        summary = run_daily_churn(engine, account, workspace=workspace, as_of=as_of, clock=clock)
        levels = summary.get("by_risk_level", {})
        rows.append(
            {
                "account_id": account,
                "as_of": summary["as_of"],
                "scored": summary["scored"],
                **{level: int(levels.get(level, 0)) for level in reversed(RISK_LEVELS)},
                "outcomes_updated": summary["outcomes_updated"],
                "note": summary.get("skipped", ""),
            }
        )
    columns = ["account_id", "as_of", "scored", *reversed(RISK_LEVELS), "outcomes_updated", "note"]
    return pd.DataFrame(rows, columns=columns)
