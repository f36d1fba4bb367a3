"""Churn charts are valid Vega-Lite that vl-convert can draw (no browser needed)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import vl_convert as vlc

from analytics.models.churn import charts

CARD = {
    "backtest": {
        "model": {
            "roc_auc": 0.8,
            "pr_auc": 0.4,
            "top_decile_lift": 3.5,
            "calibration": [
                {"predicted": 0.02, "observed": 0.03, "n": 50},
                {"predicted": 0.3, "observed": 0.28, "n": 50},
            ],
        },
        "baseline": {"roc_auc": 0.7, "pr_auc": 0.3, "top_decile_lift": 2.5, "calibration": []},
    }
}


def _draws(chart: object) -> None:
    svg = vlc.vegalite_to_svg(chart.to_json())  # type: ignore[attr-defined]
    assert svg.startswith("<svg")


def test_every_chart_draws() -> None:
    scores = pd.DataFrame(
        {
            "risk_level": ["low", "critical", "high", "medium"],
            "factors": [[], [{"feature": "days_since_last_activity"}], [{"feature": "cancel_at_period_end"}], []],
        }
    )
    _draws(charts.risk_distribution(scores))
    _draws(charts.factor_counts(scores))
    _draws(charts.calibration(CARD))
    _draws(charts.backtest_comparison(CARD))
    curve = pd.DataFrame({"period": [0, 1, 2], "observed": [1.0, 0.8, None], "projected": [1.0, 0.79, 0.66]})
    _draws(charts.retention_projection(curve))
    forecast = pd.DataFrame(
        {
            "currency": "usd",
            "month": [1, 2, 3, 0],
            "start": [date(2024, 1, 1)] * 4,
            "existing_minor": [1000.0, 900.0, 800.0, 2700.0],
            "new_minor": [100.0, 200.0, 300.0, 600.0],
            "expected_minor": [1100.0, 1100.0, 1100.0, 3300.0],
            "low_minor": [1000.0, 950.0, 900.0, 3000.0],
            "high_minor": [1200.0, 1250.0, 1300.0, 3600.0],
        }
    )
    _draws(charts.revenue_forecast(forecast))
