"""What the business report recommends: members at risk and the period's actions, from stored and metric numbers.

Nothing here computes a score or a metric. :func:`risk_summary` counts the stored churn scores (written by the
daily run, read with :func:`~analytics.models.churn.predictions.latest_scores`): members per risk level, the
reasons (top factors) and the recommended actions of the members at medium risk or above.
:func:`period_actions` turns three numbers into sentences a creator can act on:

* failed payments to recover: the ``failed_payments`` metric over the last :data:`RECOVERY_DAYS` days of the
  report (the window of the ``payment_method_update`` action rule): ``unrecovered`` payments and
  ``failed_minor − recovered_minor``, summed over the metric's buckets;
* members to re-engage: scored members whose recommended actions include ``re_engagement_message`` (paying
  members with no activity for more than 7 days, at medium risk or above);
* content with the worst drop-off: the ``lesson_stats`` drop-off lesson of the period with the largest fall in
  completions from the lesson before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from analytics.formatting import format_value
from analytics.models.churn.actions import action_rules
from analytics.models.churn.explain import RISK_LEVELS

__all__ = [
    "AT_RISK_LEVELS",
    "NO_SCORES",
    "RECOVERY_DAYS",
    "RiskSummary",
    "period_actions",
    "risk_summary",
    "worst_drop_offs",
]

NO_SCORES = "No churn scores yet: train a model (`analytics train`) and score members (`analytics score`)."
AT_RISK_LEVELS: tuple[str, ...] = ("critical", "high", "medium")
"""Risk levels counted as "at risk" (the levels that get recommended actions)."""
RE_ENGAGE = "re_engagement_message"
RECOVERY_DAYS = 30
"""Failed payments of this many days (ending with the report's last day) are worth recovering."""


@dataclass(frozen=True)
class RiskSummary:
    """Members at risk from one day's stored churn scores.

    Attributes
    ----------
    as_of, model_id:
        The scoring day and the model that scored.
    scored:
        Members scored that day (the paying members).
    at_risk:
        Members at medium risk or above.
    levels:
        ``risk_level`` (critical → low), ``members``, ``share_pct`` (of ``scored``; the levels add up to it).
    reasons:
        ``feature``, ``direction`` (``above``/``below`` the typical value), ``members`` (members at risk with
        this factor among their top factors), ``share_pct`` (of ``at_risk``; a member has up to three
        factors, so shares do not add up to 100), ``example`` (the factor in words for the riskiest such member).
    actions:
        ``action`` (rule name), ``text`` (what to do), ``members``, ``share_pct`` (of ``at_risk``; a member can
        have several actions), ``reason`` (the rule's condition), in the rules' priority order.
    """

    as_of: date
    model_id: str
    scored: int
    at_risk: int
    levels: pd.DataFrame
    reasons: pd.DataFrame
    actions: pd.DataFrame

    def members_with_action(self, action: str) -> int:
        """Members at risk whose recommended actions include ``action`` (a rule name)."""
        rows = self.actions[self.actions["action"] == action]
        return int(rows["members"].iloc[0]) if len(rows) else 0


def _pct(part: int, whole: int) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def risk_summary(scores: pd.DataFrame, *, top_reasons: int = 5) -> RiskSummary | None:
    """Counts by risk level, the most frequent reasons and the recommended actions of one day's scores.

    ``scores`` is one scoring day of one model, riskiest first, as
    :func:`~analytics.models.churn.predictions.latest_scores` returns it; ``None`` when it is empty.
    """
    if scores.empty:
        return None
    scored = len(scores)
    counts = scores["risk_level"].astype(str).value_counts()
    order = list(reversed(RISK_LEVELS))
    levels = pd.DataFrame({"risk_level": order, "members": [int(counts.get(level, 0)) for level in order]})
    levels["share_pct"] = [_pct(n, scored) for n in levels["members"]]
    risky = scores[scores["risk_level"].isin(AT_RISK_LEVELS)]
    at_risk = len(risky)

    found: dict[tuple[str, str], list[Any]] = {}  # (feature, direction) -> [members, example]
    for factors in risky["factors"]:  # riskiest first: the first member seen gives the example
        seen = set()
        for factor in factors or []:
            direction = "above" if float(factor["value"]) > float(factor["typical"]) else "below"
            key = (str(factor["feature"]), direction)
            if key in seen:
                continue
            seen.add(key)
            entry = found.setdefault(key, [0, str(factor.get("text", ""))])
            entry[0] += 1
    reasons = pd.DataFrame(
        [(f, d, n, _pct(n, at_risk), text) for (f, d), (n, text) in found.items()],
        columns=["feature", "direction", "members", "share_pct", "example"],
    )
    reasons = reasons.sort_values(["members", "feature"], ascending=[False, True], kind="stable").head(top_reasons)

    per_action: dict[str, int] = {}
    for actions in risky["actions"]:
        for name in dict.fromkeys(str(a["action"]) for a in actions or []):
            per_action[name] = per_action.get(name, 0) + 1
    rules = action_rules()
    known = rules[rules["name"].isin(list(per_action))]
    table = pd.DataFrame(
        {
            "action": known["name"].to_numpy(),
            "text": known["action"].to_numpy(),
            "members": [per_action[n] for n in known["name"]],
            "share_pct": [_pct(per_action[n], at_risk) for n in known["name"]],
            "reason": known["condition"].to_numpy(),
        }
    )
    day = scores["as_of"].iloc[0]
    return RiskSummary(
        as_of=day if isinstance(day, date) else date.fromisoformat(str(day)[:10]),
        model_id=str(scores["model_id"].iloc[0]),
        scored=scored,
        at_risk=at_risk,
        levels=levels,
        reasons=reasons.reset_index(drop=True),
        actions=table.reset_index(drop=True),
    )


def worst_drop_offs(lessons: pd.DataFrame, *, top: int = 5) -> pd.DataFrame:
    """The drop-off lessons of ``lesson_stats`` with the largest fall in completions, largest first.

    Columns: ``course_title``, ``title`` (the lesson), ``position``, ``completions_before`` (the lesson before:
    ``completions + completion_fall``), ``completions``, ``completion_fall``.
    """
    drops = lessons[lessons["drop_off"].astype(bool) & (lessons["completion_fall"] > 0)].copy()
    drops["completions_before"] = drops["completions"] + drops["completion_fall"]
    drops = drops.sort_values(["completion_fall", "course_title", "position"], ascending=[False, True, True])
    columns = ["course_title", "title", "position", "completions_before", "completions", "completion_fall"]
    return drops[columns].head(top).reset_index(drop=True)


def period_actions(
    *,
    noun: str,
    period_name: str,
    currency: str,
    failed: pd.DataFrame | None,
    failed_days: str = "",
    risk: RiskSummary | None,
    drop_offs: pd.DataFrame | None,
) -> pd.DataFrame:
    """The period's actions, one row each: ``action``, ``count``, ``amount_minor``, ``text``, ``source``.

    Parameters
    ----------
    noun:
        ``week`` or ``month`` (as in "this week's actions").
    period_name:
        The period as written in the report (``June 2025``).
    failed:
        The ``failed_payments`` metric over the recovery window, any grain (``None`` when it is not available).
    failed_days:
        The recovery window in words (``the 30 days to 29 Jun 2025``).
    risk:
        The stored scores' summary (``None`` when nothing was scored).
    drop_offs:
        :func:`worst_drop_offs` of the period (``None`` when the content metrics are not available).
    """
    rows: list[dict[str, Any]] = []
    if failed is not None:
        count = int(failed["unrecovered"].sum())
        amount = int(failed["failed_minor"].sum()) - int(failed["recovered_minor"].sum())
        money = format_value(amount, "money_minor", currency)
        if count:
            text = (
                f"Recover {count} failed payment{'s' if count != 1 else ''} ({money}): failed in {failed_days} "
                "and not paid yet; ask the member to update their payment method."
            )
        elif int(failed["failed"].sum()):
            text = f"No failed payment to recover: every payment that failed in {failed_days} was paid."
        else:
            text = f"No payment failed in {failed_days}."
        rows.append(_row("recover_failed_payments", count, amount, text, "failed_payments metric"))
    if risk is None:
        text = (
            "Members to re-engage: not known without churn scores; train a model (`analytics train`) and score "
            "members (`analytics score`)."
        )
        rows.append(_row("re_engage_members", None, None, text, "churn scores"))
    else:
        count = risk.members_with_action(RE_ENGAGE)
        scored_on = f"churn scores of {risk.as_of:%d %b %Y}"
        if count:
            text = (
                f"Re-engage {count} paying member{'s' if count != 1 else ''} at risk with no activity for more than "
                f"7 days: send a re-engagement message ({scored_on})."
            )
        else:
            text = f"No paying member at risk has been inactive for more than 7 days ({scored_on})."
        rows.append(_row("re_engage_members", count, None, text, scored_on))
    if drop_offs is not None:
        if len(drop_offs):
            worst = drop_offs.iloc[0]
            fall = int(worst["completion_fall"])
            text = (
                f"Look at the lesson “{worst['title']}” of {worst['course_title']}: completions fell from "
                f"{int(worst['completions_before'])} on the lesson before to {int(worst['completions'])} in "
                f"{period_name}, the largest drop-off."
            )
            rows.append(_row("fix_worst_drop_off", fall, None, text, "lesson_stats metric"))
        else:
            text = f"No lesson lost completers against the lesson before it in {period_name}."
            rows.append(_row("fix_worst_drop_off", 0, None, text, "lesson_stats metric"))
    frame = pd.DataFrame(rows, columns=["action", "count", "amount_minor", "text", "source"])
    return frame.astype({"count": "Int64", "amount_minor": "Int64"})  # whole numbers; missing stays missing


def _row(action: str, count: int | None, amount: int | None, text: str, source: str) -> dict[str, Any]:
    return {"action": action, "count": count, "amount_minor": amount, "text": text, "source": source}
