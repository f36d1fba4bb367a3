"""Churn and retention charts: a DataFrame (or a model card) in, an :class:`altair.Chart` out.

Same conventions as :mod:`analytics.charts` (the shared builders): builders never query anything, money is shown
in major units (converted here from the minor units the models return), titles and sizes are parameters. Used by
the churn dashboard and the training notebook.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from analytics.models.churn.explain import RISK_LEVELS
from analytics.store.money import CURRENCY_EXPONENTS

__all__ = [
    "RISK_COLORS",
    "at_risk_bars",
    "backtest_comparison",
    "calibration",
    "factor_counts",
    "retention_projection",
    "revenue_forecast",
    "risk_distribution",
]

RISK_COLORS = {"low": "#2e9d5b", "medium": "#e0a030", "high": "#e07030", "critical": "#d1495b"}
WIDTH = 520
HEIGHT = 220


def _style(chart: Any, title: str, width: int, height: int) -> Any:
    return (
        chart.properties(title=title, width=width, height=height)
        .configure_view(strokeWidth=0)
        .configure_axis(labelFontSize=11, titleFontSize=11, gridColor="#eceff3")
        .configure_title(fontSize=14, anchor="start")
    )


def risk_distribution(
    scores: pd.DataFrame, *, title: str = "Paying members by churn risk", width: int = WIDTH, height: int = HEIGHT
) -> alt.Chart:
    """Members per risk level (low → critical), from scores with a ``risk_level`` column."""
    counts = scores["risk_level"].value_counts().reindex(list(RISK_LEVELS), fill_value=0)
    frame = pd.DataFrame({"risk_level": counts.index, "members": counts.to_numpy()})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("risk_level:N", sort=list(RISK_LEVELS), title="Risk level", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("members:Q", title="Members"),
            color=alt.Color(
                "risk_level:N",
                scale=alt.Scale(domain=list(RISK_COLORS), range=list(RISK_COLORS.values())),
                legend=None,
            ),
            tooltip=[alt.Tooltip("risk_level:N", title="Risk level"), alt.Tooltip("members:Q", title="Paying members")],
        )
    )
    return _style(chart, title, width, height)


def at_risk_bars(
    scores: pd.DataFrame,
    *,
    top: int = 25,
    title: str = "Members most at risk",
    width: int = WIDTH,
    height: int | None = None,
) -> alt.Chart:
    """The ``top`` riskiest members as bars of churn probability, coloured by risk level; the tooltip says why
    (their top factors) and what to do (the recommended actions). ``member_id`` is in the data for a selection."""
    chosen = scores[scores["risk_level"] != "low"].head(top)

    def join(items: Any) -> str:
        return "; ".join(str(item.get("text", item)) for item in (items or []))

    frame = pd.DataFrame(
        {
            "member_id": chosen["member_id"].astype(str).to_numpy(),
            "member": chosen["member"].astype(str).to_numpy(),
            "probability": chosen["probability"].astype(float).to_numpy(),
            "risk_level": chosen["risk_level"].astype(str).to_numpy(),
            "why": [join(f) for f in chosen["factors"]],
            "what_to_do": [join(a) for a in chosen["actions"]],
        }
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("member:N", sort=list(frame["member"]), title=None, axis=alt.Axis(labelLimit=160)),
            x=alt.X(
                "probability:Q",
                title="Churn probability (30 days)",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "risk_level:N",
                title="Risk",
                scale=alt.Scale(domain=list(RISK_COLORS), range=list(RISK_COLORS.values())),
            ),
            tooltip=[
                alt.Tooltip("member:N", title="Member"),
                alt.Tooltip("risk_level:N", title="Risk"),
                alt.Tooltip("probability:Q", title="Churn probability", format=".0%"),
                alt.Tooltip("why:N", title="Why"),
                alt.Tooltip("what_to_do:N", title="What to do"),
            ],
        )
    )
    return _style(chart, title, width, height or max(120, 18 * len(frame)))


def factor_counts(
    scores: pd.DataFrame,
    *,
    top: int = 8,
    title: str = "Why members are at risk",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """How often each feature is a top factor among members at medium risk or above."""
    at_risk = scores[scores["risk_level"] != "low"]
    names = [f["feature"] for factors in at_risk["factors"] for f in (factors or [])]
    counts = pd.Series(names, dtype=str).value_counts().head(top)
    frame = pd.DataFrame(
        {"feature": counts.index, "factor": counts.index.str.replace("_", " "), "members": counts.to_numpy()}
    )
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#3b6fb6")
        .encode(
            y=alt.Y("factor:N", sort="-x", title=None),
            x=alt.X("members:Q", title="Members at risk with this factor"),
            tooltip=[
                alt.Tooltip("factor:N", title="Factor"),
                alt.Tooltip("members:Q", title="Members at risk with it"),
            ],
        )
    )
    return _style(chart, title, width, height)


def calibration(
    card: dict[str, Any], *, title: str = "Calibration on the backtest", width: int = 320, height: int = 260
) -> alt.LayerChart:
    """Mean predicted vs observed churn per risk decile of the backtest (the diagonal is perfect calibration)."""
    table = pd.DataFrame(card["backtest"]["model"].get("calibration", []))
    if table.empty:
        table = pd.DataFrame({"predicted": [], "observed": [], "n": []})
    top = float(max(table[["predicted", "observed"]].max().max() if len(table) else 0.0, 0.05))
    diagonal = pd.DataFrame({"predicted": [0.0, top], "observed": [0.0, top]})
    line = alt.Chart(diagonal).mark_line(color="#9aa5b1", strokeDash=[4, 4]).encode(x="predicted:Q", y="observed:Q")
    points = (
        alt.Chart(table)
        .mark_line(point=True, color="#3b6fb6")
        .encode(
            x=alt.X("predicted:Q", title="Mean predicted churn probability", axis=alt.Axis(format="%")),
            y=alt.Y("observed:Q", title="Observed churn rate", axis=alt.Axis(format="%")),
            tooltip=[alt.Tooltip("predicted:Q", format=".1%"), alt.Tooltip("observed:Q", format=".1%"), "n:Q"],
        )
    )
    return _style(alt.layer(line, points), title, width, height)


def backtest_comparison(
    card: dict[str, Any], *, title: str = "Backtest: model vs baseline", width: int = 320, height: int = 220
) -> alt.Chart:
    """ROC AUC, PR AUC and top-decile lift of the model next to the days-since-last-activity baseline."""
    rows = []
    for who in ("model", "baseline"):
        metrics = card["backtest"][who]
        for key, label in (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"), ("top_decile_lift", "Top-decile lift")):
            if metrics.get(key) is not None:
                rows.append({"metric": label, "who": who, "value": float(metrics[key])})
    frame = pd.DataFrame(rows, columns=["metric", "who", "value"])
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("who:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("who:N", scale=alt.Scale(range=["#3b6fb6", "#9aa5b1"]), legend=None),
            column=alt.Column("metric:N", title=None),
            tooltip=["metric:N", "who:N", alt.Tooltip("value:Q", format=".3f")],
        )
        .resolve_scale(y="independent")
    )
    return (
        chart.properties(title=title, width=width // 3, height=height)
        .configure_view(strokeWidth=0)
        .configure_title(fontSize=14, anchor="start")
    )


def retention_projection(
    curve: pd.DataFrame,
    *,
    title: str = "Retention: observed and projected (sBG)",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Share of paying members still paying after t 30-day periods: Kaplan–Meier observed vs sBG projection."""
    long = curve.melt(id_vars=["period"], value_vars=["observed", "projected"], var_name="curve", value_name="share")
    chart = (
        alt.Chart(long.dropna(subset=["share"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("period:Q", title="Periods (30 days) since first payment"),
            y=alt.Y("share:Q", title="Still paying", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("curve:N", scale=alt.Scale(range=["#3b6fb6", "#e0a030"]), title=None),
            strokeDash=alt.StrokeDash("curve:N", legend=None),
            tooltip=[
                alt.Tooltip("period:Q", title="30-day periods since first payment"),
                alt.Tooltip("curve:N", title="Curve"),
                alt.Tooltip("share:Q", title="Still paying", format=".1%"),
            ],
        )
    )
    return _style(chart, title, width, height)


def revenue_forecast(
    forecast: pd.DataFrame,
    *,
    currency: str | None = None,
    title: str = "Recurring revenue, next 90 days",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.LayerChart:
    """MRR now and the expected recurring revenue per next 30-day month (existing members + new business) with its
    90 % interval, in major units of ``currency``."""
    months = forecast[forecast["month"] >= 0]
    cur = currency or (str(months["currency"].iloc[0]) if len(months) else "usd")
    months = months[months["currency"] == cur].copy()
    scale = 10 ** CURRENCY_EXPONENTS.get(cur, 2)
    for col in ("existing_minor", "new_minor", "low_minor", "high_minor", "expected_minor"):
        months[col.replace("_minor", "")] = months[col] / scale
    ends = months["end"] if "end" in months else [None] * len(months)
    months["label"] = [
        "Now (MRR)" if m == 0 else (f"Month {m} (to {pd.Timestamp(end):%d %b})" if end is not None else f"Month {m}")
        for m, end in zip(months["month"], ends, strict=True)
    ]
    months = months[["label", "existing", "new", "low", "high", "expected"]]
    parts = months.melt(id_vars=["label"], value_vars=["existing", "new"], var_name="source", value_name="revenue")
    fmt = "$,.0f" if cur == "usd" else ",.0f"
    bars = (
        alt.Chart(parts)
        .mark_bar()
        .encode(
            x=alt.X("label:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("revenue:Q", title=f"Revenue ({cur.upper()})", axis=alt.Axis(format=fmt)),
            color=alt.Color("source:N", scale=alt.Scale(range=["#3b6fb6", "#2e9d5b"]), title=None),
            order=alt.Order("source:N", sort="ascending"),  # existing members at the bottom
            tooltip=[
                alt.Tooltip("label:N", title="Month"),
                alt.Tooltip("source:N", title="From"),
                alt.Tooltip("revenue:Q", title=f"Revenue ({cur.upper()})", format=fmt),
            ],
        )
    )
    interval = (
        alt.Chart(months).mark_errorbar(color="#333333").encode(x="label:N", y=alt.Y("low:Q", title=None), y2="high:Q")
    )
    return _style(alt.layer(bars, interval), f"{title} ({cur.upper()}, 90 % interval)", width, height)
