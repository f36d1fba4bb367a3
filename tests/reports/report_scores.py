"""Hand-written churn scores for five members of the tiny demo business (the story is told in
``test_report_actions``), stored for a report test and removed afterwards (the demo store is shared)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.store.schema import churn_predictions, members, model_registry

MODEL = "churn_report_test"
SCORED_ON = date(2025, 6, 30)


def factor(feature: str, value: float, typical: float, text: str) -> dict[str, Any]:
    return {"feature": feature, "value": value, "typical": typical, "contribution": 0.5, "text": text}


def action(name: str, text: str) -> dict[str, str]:
    return {"action": name, "text": text, "reason": "…"}


IDLE_21 = factor("days_since_last_activity", 21, 2, "No activity for 21 days (usually every 2)")
IDLE_12 = factor("days_since_last_activity", 12, 2, "No activity for 12 days (usually every 2)")
QUIET_1 = factor("events_30d", 1, 14, "Only 1 actions in the last 30 days (typical 14)")
QUIET_3 = factor("events_30d", 3, 14, "Only 3 actions in the last 30 days (typical 14)")
CANCEL = factor("cancel_at_period_end", 1, 0, "Has asked to cancel at the end of the period")
PAY = action("payment_method_update", "Ask the member to update their payment method")
WIN = action("win_back_offer", "Make a win-back offer before the period ends")
MSG = action("re_engagement_message", "Send a re-engagement message")
CALL = action("onboarding_call", "Offer an onboarding call")
STORY = [  # probability, level, factors, actions: the table in test_report_actions' docstring
    (0.85, "critical", [IDLE_21, QUIET_1], [PAY, MSG]),
    (0.62, "high", [IDLE_12, CANCEL], [WIN, MSG]),
    (0.41, "medium", [QUIET_3], [CALL]),
    (0.20, "low", [], []),
    (0.10, "low", [], []),
]


def store_scores(engine: Engine, account_id: str) -> list[str]:
    """The story's scores on 30 June, plus an older day (20 June, all low) and a later one (5 July, all critical)."""
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                sa.select(members.c.id).where(members.c.account_id == account_id).order_by(members.c.id).limit(5)
            ).scalars()
        )
    now = datetime(2025, 6, 30, tzinfo=UTC)
    rows = []
    for day, override in ((date(2025, 6, 20), "low"), (SCORED_ON, None), (date(2025, 7, 5), "critical")):
        for member_id, (p, level, factors, actions) in zip(ids, STORY, strict=True):
            rows.append(
                {
                    "account_id": account_id,
                    "id": f"{MODEL}-{member_id}-{day}",
                    "member_id": member_id,
                    "model_id": MODEL,
                    "as_of": day,
                    "probability": p if override is None else 0.9 if override == "critical" else 0.1,
                    "risk_level": override or level,
                    "factors": factors,
                    "actions": actions,
                    "created_at": now,
                }
            )
    with engine.begin() as conn:
        conn.execute(
            model_registry.insert().values(
                account_id=account_id,
                id=MODEL,
                kind="churn",
                estimator="logistic",
                artifact_path="-",
                artifact_sha256="0" * 64,
                features=[],
                is_current=True,
                created_at=now,
            )
        )
        conn.execute(churn_predictions.insert(), rows)
    return ids


def remove_scores(engine: Engine, account_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(churn_predictions.delete().where(churn_predictions.c.model_id == MODEL))
        conn.execute(model_registry.delete().where(model_registry.c.id == MODEL))
