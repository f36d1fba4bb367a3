"""Recommended actions: documented rules on a member's features, applied to members at risk.

Rules are data (:data:`RULES`, rendered in docs/churn.md); each has a name, the action in words, the condition in
words and a vectorised predicate on the feature frame. They apply to members whose risk level is at least
``min_level`` (default ``medium``); a high/critical member no rule matches gets a personal check-in.

In priority order:

* ``payment_method_update``: a recent payment failed and is not recovered, or the subscription is past due →
  ask the member to update their payment method.
* ``win_back_offer``: cancel_at_period_end is set → make a win-back offer before the period ends.
* ``support_follow_up``: complaint words in chat in the last 30 days → follow up personally.
* ``re_engagement_message``: no activity for more than 7 days → send a re-engagement message.
* ``onboarding_call``: engagement score below 30 → offer an onboarding call.
* ``course_nudge``: started the course but completed no lesson in 30 days → suggest the next lesson.
* ``personal_check_in``: high/critical risk and no other rule matched → send a personal check-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.models.churn.explain import RISK_LEVELS

__all__ = ["RULES", "ActionRule", "action_rules", "recommend_actions"]


@dataclass(frozen=True)
class ActionRule:
    """One documented rule: when ``condition`` holds for a member at risk, recommend ``action``."""

    name: str
    action: str
    condition: str
    applies: Callable[[pd.DataFrame], pd.Series]


def _f(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(0.0, index=frame.index)


RULES: tuple[ActionRule, ...] = (
    ActionRule(
        "payment_method_update",
        "Ask the member to update their payment method",
        "a payment failed in the last 30 days and is not recovered, or the subscription is past due",
        lambda f: (_f(f, "unrecovered_failed_payment") > 0) | (_f(f, "past_due") > 0),
    ),
    ActionRule(
        "win_back_offer",
        "Make a win-back offer before the period ends",
        "the member asked to cancel at the end of the period (cancel_at_period_end)",
        lambda f: _f(f, "cancel_at_period_end") > 0,
    ),
    ActionRule(
        "support_follow_up",
        "Follow up personally on their complaint",
        "complaint words in the member's chat messages in the last 30 days",
        lambda f: _f(f, "complaint_messages_30d") > 0,
    ),
    ActionRule(
        "re_engagement_message",
        "Send a re-engagement message",
        "no activity for more than 7 days",
        lambda f: _f(f, "days_since_last_activity") > 7,
    ),
    ActionRule(
        "onboarding_call",
        "Offer an onboarding call",
        "engagement score below 30",
        lambda f: _f(f, "engagement_score") < 30,
    ),
    ActionRule(
        "course_nudge",
        "Suggest the next lesson of the course",
        "started the course but completed no lesson in the last 30 days",
        lambda f: (
            (_f(f, "lessons_completed") > 0)
            & (_f(f, "lessons_completed_30d") == 0)
            & (_f(f, "course_progress_pct") < 100)
        ),
    ),
)
CHECK_IN = ActionRule(
    "personal_check_in",
    "Send a personal check-in message",
    "high or critical risk and no other rule matched",
    lambda f: pd.Series(True, index=f.index),
)


def action_rules() -> pd.DataFrame:
    """The rules as a table (name, action, condition), in priority order."""
    return pd.DataFrame(
        [{"name": r.name, "action": r.action, "condition": r.condition} for r in (*RULES, CHECK_IN)],
        columns=["name", "action", "condition"],
    )


def recommend_actions(
    features: pd.DataFrame, risk_levels: Any, *, min_level: str = "medium"
) -> list[list[dict[str, str]]]:
    """Actions per member (row of ``features``) from :data:`RULES`, for members at ``min_level`` risk or above.

    Returns
    -------
    list of lists of dict
        Per row: ``{"action": rule name, "text": what to do, "reason": the rule's condition}`` in priority order.
    """
    if min_level not in RISK_LEVELS:
        raise ValueError(f"min_level must be one of {', '.join(RISK_LEVELS)}, got {min_level!r}")
    frame = features.reset_index(drop=True)
    rank = {level: i for i, level in enumerate(RISK_LEVELS)}
    levels = np.asarray([rank[str(level)] for level in np.asarray(risk_levels)])
    eligible = levels >= rank[min_level]
    matched = np.column_stack([r.applies(frame).to_numpy(dtype=bool) for r in RULES]) if len(frame) else None
    out: list[list[dict[str, str]]] = []
    for i in range(len(frame)):
        actions: list[dict[str, str]] = []
        if eligible[i] and matched is not None:
            for r, hit in zip(RULES, matched[i], strict=True):
                if hit:
                    actions.append({"action": r.name, "text": r.action, "reason": r.condition})
            if not actions and levels[i] >= rank["high"]:
                actions.append({"action": CHECK_IN.name, "text": CHECK_IN.action, "reason": CHECK_IN.condition})
        out.append(actions)
    return out
