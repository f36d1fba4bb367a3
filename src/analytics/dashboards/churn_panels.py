"""Churn dashboard panels: members at risk with their factors and actions, risk distribution, model card summary,
retention projection and the 90-day revenue forecast.

Loaders only read: the scores the daily run stored (:mod:`analytics.models.churn.predictions`), and the retention
projection and revenue forecast the page-data job stored (:mod:`analytics.store.results`, written by
:mod:`analytics.snapshots.page_data`), with the job's quality notes in ``frame.attrs["notes"]``. No model is
fitted here. Drawing is :mod:`analytics.models.churn.charts`. The period controls do not apply (scores and
projections are as of their day), so the page is laid out without controls; empty states say what to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics.dashboards import drills
from analytics.kpis import Filters, Kpi, NotAvailable
from analytics.models.churn import charts
from analytics.models.churn.predictions import at_risk_members, current_model_card, latest_scores
from analytics.store.results import missing_message, read_result
from analytics.widgets.panels import ChartPanel, KpiPanel, TablePanel

if TYPE_CHECKING:
    from analytics.dashboards.session import Dashboard

__all__ = [
    "at_risk_chart",
    "at_risk_table",
    "calibration_chart",
    "churn_kpis",
    "factors_chart",
    "model_table",
    "retention_chart",
    "revenue_forecast_chart",
    "risk_chart",
]

NO_SCORES = "No churn scores yet: train a model (`analytics train`) and score members (`analytics score`)."


def _scores(dashboard: Dashboard) -> pd.DataFrame:
    scores = latest_scores(dashboard.engine, dashboard.account_id)
    if scores.empty:
        raise NotAvailable(NO_SCORES)
    return scores


def _card(dashboard: Dashboard) -> dict[str, Any]:
    card = current_model_card(dashboard.engine, dashboard.account_id)
    if card is None:
        raise NotAvailable(NO_SCORES)
    return card


def churn_kpis(dashboard: Dashboard) -> KpiPanel:
    """Members at high or critical risk and expected churners (sum of probabilities), each against the previous
    scoring day, paying members scored, and the model's backtest ROC AUC next to the baseline's."""

    def load(_f: Filters) -> Sequence[Kpi]:
        scores = _scores(dashboard)
        card = _card(dashboard)
        previous = latest_scores(dashboard.engine, dashboard.account_id, before=scores["as_of"].iloc[0])
        had = not previous.empty

        def at_risk(frame: pd.DataFrame) -> int:
            return int(frame["risk_level"].isin(["high", "critical"]).sum())

        auc, baseline = card["backtest"]["model"].get("roc_auc"), card["backtest"]["baseline"].get("roc_auc")
        base_text = "–" if baseline is None else f"{baseline:.2f}"
        return [
            Kpi(
                "at_risk_members",
                "At high or critical risk",
                at_risk(scores),
                previous=at_risk(previous) if had else None,
                unit="count",
                better="down",
            ),
            Kpi(
                "expected_churners",
                "Expected churners (30 days)",
                float(scores["probability"].sum()),
                previous=float(previous["probability"].sum()) if had else None,
                unit="count",
                better="down",
            ),
            Kpi(
                "paying_members",
                "Paying members scored",
                len(scores),
                previous=len(previous) if had else None,
                unit="count",
            ),
            Kpi("model_roc_auc", f"Model ROC AUC (baseline {base_text})", auc, unit="number", compare=False),
        ]

    def caption(_f: Filters) -> str:
        scores = latest_scores(dashboard.engine, dashboard.account_id)
        if scores.empty:
            return NO_SCORES
        day = scores["as_of"].iloc[0]
        previous = latest_scores(dashboard.engine, dashboard.account_id, before=day)
        versus = f", compared with {previous['as_of'].iloc[0]}" if len(previous) else ""
        return f"Scores as of {day}{versus}"

    cards = [
        ("at_risk_members", "At high or critical risk"),
        ("expected_churners", "Expected churners (30 days)"),
        ("paying_members", "Paying members scored"),
        ("model_roc_auc", "Model ROC AUC"),
    ]
    definitions = {
        "at_risk_members": "Paying members whose 30-day churn probability is above 0.5 (high: 0.5–0.7, critical: "
        "above 0.7), from the newest stored scores.",
        "expected_churners": "Sum of the paying members' 30-day churn probabilities: how many of them the model "
        "expects to stop paying in the next 30 days.",
        "paying_members": "Paying members (active or past due subscriptions) scored on the newest scoring day.",
        "model_roc_auc": "Area under the ROC curve of the current model on its time-based backtest (0.5 = chance, "
        "1 = perfect), next to the days-since-last-activity baseline.",
    }
    return KpiPanel("churn_kpis", cards, load, caption=caption, definitions=definitions)


def risk_chart(dashboard: Dashboard) -> ChartPanel:
    """Paying members per risk level."""
    return ChartPanel(
        "risk_distribution",
        "Churn risk",
        lambda f: _scores(dashboard),
        lambda frame, f: charts.risk_distribution(frame),
        empty_text=NO_SCORES,
        drill=drills.risk_level_drill(dashboard),
        definition="Risk levels from the 30-day churn probability: low ≤ 0.3 < medium ≤ 0.5 < high ≤ 0.7 < critical.",
    )


def factors_chart(dashboard: Dashboard) -> ChartPanel:
    """How often each feature is a top factor among members at medium risk or above."""

    def load(_f: Filters) -> pd.DataFrame:
        scores = _scores(dashboard)
        at_risk = scores[scores["risk_level"] != "low"]
        if not any(len(f or []) for f in at_risk["factors"]):
            raise NotAvailable("No member is at medium risk or above.")
        return at_risk

    return ChartPanel(
        "risk_factors",
        "Why members are at risk",
        load,
        lambda frame, f: charts.factor_counts(frame),
        drill=drills.factor_drill(dashboard),
        definition="How often each feature is among the top factors of members at medium risk or above.",
    )


def at_risk_chart(dashboard: Dashboard, *, top: int = 25) -> ChartPanel:
    """The riskiest members as bars of churn probability; hover says why and what to do, a click shows the
    member's score, payments and activity."""

    def load(_f: Filters) -> pd.DataFrame:
        scores = _scores(dashboard)
        at_risk = scores[scores["risk_level"] != "low"].head(top).reset_index(drop=True)
        if at_risk.empty:
            raise NotAvailable("No member is at medium risk or above.")
        return at_risk

    return ChartPanel(
        "members_at_risk",
        "Members most at risk",
        load,
        lambda frame, f: charts.at_risk_bars(frame, top=top),
        drill=drills.member_drill(dashboard),
        definition="The paying members with the highest 30-day churn probability (medium risk or above).",
    )


def at_risk_table(dashboard: Dashboard, *, top: int = 25) -> TablePanel:
    """The riskiest members: risk, probability, why (top factors) and what to do (recommended actions)."""

    def load(_f: Filters) -> pd.DataFrame:
        table = at_risk_members(_scores(dashboard), levels=("critical", "high", "medium"), top=top)
        if table.empty:
            raise NotAvailable("No member is at medium risk or above.")
        return table

    return TablePanel("at_risk_members", "Members at risk and what to do", load, max_rows=top)


def model_table(dashboard: Dashboard) -> TablePanel:
    """The current model's card in brief: backtest metrics next to the days-since-last-activity baseline."""

    def load(_f: Filters) -> pd.DataFrame:
        card = _card(dashboard)
        bt = card["backtest"]
        rows = []
        for key, label in (
            ("roc_auc", "ROC AUC"),
            ("pr_auc", "PR AUC"),
            ("brier", "Brier score (lower is better)"),
            ("top_decile_lift", "Top-decile lift"),
        ):
            model, base = bt["model"].get(key), bt["baseline"].get(key)
            rows.append(
                {
                    "Backtest metric": label,
                    "Model": "–" if model is None else f"{model:.3f}",
                    "Baseline (days since last activity)": "–" if base is None else f"{base:.3f}",
                }
            )
        tr = card["training"]
        rows.append(
            {
                "Backtest metric": "Trained on",
                "Model": f"{card['estimator']}, {tr['n_rows']} member-dates",
                "Baseline (days since last activity)": f"{tr['start']} to {tr['end']}",
            }
        )
        return pd.DataFrame(rows)

    return TablePanel("model_card", "Churn model (time-based backtest)", load)


def calibration_chart(dashboard: Dashboard) -> ChartPanel:
    """Mean predicted vs observed churn per risk decile of the backtest."""
    return ChartPanel(
        "calibration",
        "Calibration on the backtest",
        lambda f: pd.DataFrame(_card(dashboard)["backtest"]["model"].get("calibration", [])),
        lambda frame, f: charts.calibration(_card(dashboard)),
    )


def _stored(dashboard: Dashboard, kind: str, what: str) -> pd.DataFrame:
    """The newest stored ``kind`` (:mod:`analytics.store.results`) with its notes in ``attrs["notes"]``.

    Raises
    ------
    NotAvailable
        Nothing is stored yet (the message names the command), or the job stored it empty (its note says why).
    """
    stored = read_result(dashboard.engine, dashboard.account_id, kind)
    if stored is None:
        raise NotAvailable(missing_message(what, dashboard.account_id))
    if stored.frame.empty:
        raise NotAvailable(" ".join(stored.notes) or f"No {what} for this account.")
    return stored.frame


def retention_chart(dashboard: Dashboard) -> ChartPanel:
    """Share still paying after t 30-day periods: observed (Kaplan–Meier) and projected (sBG)."""
    return ChartPanel(
        "retention_projection",
        "Retention: observed and projected",
        lambda f: _stored(dashboard, "retention_curve", "retention projection"),
        lambda frame, f: charts.retention_projection(frame),
    )


def revenue_forecast_chart(dashboard: Dashboard) -> ChartPanel:
    """Recurring revenue of the next three 30-day months (existing members + new business) with a 90 % interval."""

    def load(f: Filters) -> pd.DataFrame:
        return _stored(dashboard, "revenue_forecast", "revenue forecast")

    return ChartPanel(
        "revenue_forecast",
        "Recurring revenue, next 90 days",
        load,
        lambda frame, f: charts.revenue_forecast(frame, currency=_main_currency(frame, dashboard.account.currency)),
    )


def _main_currency(forecast: pd.DataFrame, preferred: str) -> str:
    """The account's currency when it has revenue, else the currency with the most expected revenue."""
    totals = forecast[forecast["month"] == 0].set_index("currency")["expected_minor"]
    if preferred in totals.index or totals.empty:
        return preferred
    return str(totals.idxmax())
