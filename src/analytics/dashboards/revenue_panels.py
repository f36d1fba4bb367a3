"""Overview and revenue panels: KPI cards, MRR, movements waterfall, members by status, churn, cohorts, dunning.

Each function takes the :class:`~analytics.dashboards.session.Dashboard` and returns a panel whose loader calls
registered metrics through :class:`analytics.kpis.AccountMetrics` or reads what a job stored (the cohort table);
nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics import charts
from analytics.dashboards import drills
from analytics.dashboards.data import bucket_completeness, to_major
from analytics.kpis import KPI_METRICS, FilterNotSupported, Filters, NotAvailable, kpi_values, kpi_window, minor_scale
from analytics.metrics import membership_status as _membership_status  # noqa: F401 (registers the metric)
from analytics.store.results import missing_message
from analytics.widgets.frame import server_log
from analytics.widgets.panels import ChartPanel, KpiPanel, TablePanel

if TYPE_CHECKING:
    from analytics.dashboards.session import Dashboard

__all__ = [
    "KPI_METRICS",
    "churn_chart",
    "cohort_chart",
    "failed_payments_table",
    "kpis",
    "movements_chart",
    "mrr_chart",
    "status_chart",
]

MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn", "fx")


def _log_metric_error(metric_name: str, exc: Exception) -> None:
    server_log().error("KPI metric %r failed", metric_name, exc_info=exc)


def kpi_definition(name: str) -> str:
    """What a KPI card means: its catalog metric's description and formula (the card's ⓘ)."""
    from analytics.metrics import get

    metric = get(KPI_METRICS[name][1])
    return f"{metric.description} {metric.formula}"


def kpis(dashboard: Dashboard, names: Sequence[str]) -> KpiPanel:
    """KPI cards (see :data:`KPI_METRICS` for the names), each with its change versus the previous period, its
    definition, and the rows behind it."""
    cards = [(name, KPI_METRICS[name][0]) for name in names]
    return KpiPanel(
        "kpis",
        cards,
        lambda f: kpi_values(dashboard.metrics, names, f, on_error=_log_metric_error),
        caption=lambda f: kpi_window(f).label,
        drills=drills.kpi_drills(dashboard, list(names)),
        definitions={name: kpi_definition(name) for name in names},
    )


def _definition(metric_name: str) -> str:
    from analytics.metrics import get

    metric = get(metric_name)
    return f"{metric.description} {metric.formula}"


def _series(dashboard: Dashboard, metric_name: str, filters: Filters) -> pd.DataFrame:
    return dashboard.metric(metric_name, filters.start, filters.end, filters.grain, filters)


def mrr_chart(dashboard: Dashboard) -> ChartPanel:
    """MRR at the end of each bucket of the range."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _series(dashboard, "mrr", f)
        if not frame["mrr_minor"].any():
            return frame.iloc[0:0]  # no subscription revenue at all in the range: the empty state says so
        return frame

    def draw(frame: pd.DataFrame, f: Filters) -> Any:
        data = bucket_completeness(to_major(frame, ["mrr_minor"], dashboard.account.currency), f)
        currency = dashboard.account.currency
        return charts.line(
            data,
            x="period_start",
            y="mrr",
            title="MRR",
            y_title=f"MRR ({currency.upper()})",
            y_format="$,.0f" if currency == "usd" else ",.0f",
            tooltip_format="$,.2f" if currency == "usd" else ",.2f",
            complete="complete",
            period_title=f"{f.grain.capitalize()} starting (MRR at its end)",
        )

    return ChartPanel(
        "mrr",
        "MRR",
        load,
        draw,
        empty_text="No subscription revenue in this period.",
        drill=drills.metric_drill(
            dashboard, "paying_subscriptions", ("period_start",), hint="Click a point to see the paying subscriptions."
        ),
        definition=kpi_definition("mrr"),
    )


def movements_frame(frame: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """MRR at the range's start (minor units) and each movement summed over the range (FX included)."""
    totals = pd.DataFrame(
        {
            "movement": list(MOVEMENTS),
            "amount": [float(frame[f"{m}_minor"].sum()) for m in MOVEMENTS],
        }
    )
    return float(frame["mrr_start_minor"].iloc[0]), totals


def movements_chart(dashboard: Dashboard) -> ChartPanel:
    """Waterfall from MRR at the start of the range through the movements to MRR at its end."""

    def load(f: Filters) -> pd.DataFrame:
        frame = _series(dashboard, "mrr_movements", f)
        moved = frame[[f"{m}_minor" for m in MOVEMENTS]].to_numpy().any() or frame["mrr_start_minor"].any()
        return frame if moved else frame.iloc[0:0]

    def draw(frame: pd.DataFrame, f: Filters) -> Any:
        currency = dashboard.account.currency
        start, totals = movements_frame(frame)
        scale = minor_scale(currency)
        moves = totals.assign(amount=totals["amount"] / scale)
        moves = moves[(moves["movement"] != "fx") | (moves["amount"] != 0)]
        return charts.movements_waterfall(
            moves, start=start / scale, currency=currency, title=f"MRR movements {f.start:%d %b} – {f.end:%d %b %Y}"
        )

    return ChartPanel(
        "movements",
        "MRR movements",
        load,
        draw,
        empty_text="No MRR and no movements in this period.",
        drill=drills.movement_drill(dashboard),
        definition=kpi_definition("mrr") + " Movements: " + _definition("mrr_movements"),
    )


def status_chart(dashboard: Dashboard) -> ChartPanel:
    """Members by membership status at the end of the range."""

    def load(f: Filters) -> pd.DataFrame:
        return dashboard.metric("memberships_by_status", f.end, f.end, "day", f)

    return ChartPanel(
        "members_by_status",
        "Memberships by status",
        load,
        lambda d, f: charts.bar(
            d,
            category="status",
            value="memberships",
            sort=list(d["status"]),  # lifecycle order, as the metric returns it
            title=f"Memberships by status on {f.end:%d %b %Y}",
            value_title="Memberships",
            category_title="Status",
        ),
        drill=drills.metric_drill(
            dashboard,
            "memberships_in_status",
            ("status",),
            hint="Click a status to see its memberships.",
            as_of_end=True,
        ),
        definition=_definition("memberships_by_status")
        + " A membership's status is not whether it pays: 'Paying customers' counts those.",
    )


def churn_chart(dashboard: Dashboard) -> ChartPanel:
    """Customer churn, gross and net MRR churn rates per bucket (percent)."""
    series = {
        "customer_churn_rate": ("customer_churn_rate_pct", "Customer churn"),
        "gross_mrr_churn_rate": ("gross_mrr_churn_rate_pct", "Gross MRR churn"),
        "net_mrr_churn_rate": ("net_mrr_churn_rate_pct", "Net MRR churn"),
    }

    def load(f: Filters) -> pd.DataFrame:
        frame = _series(dashboard, "customer_churn_rate", f)
        for metric_name in ("gross_mrr_churn_rate", "net_mrr_churn_rate"):
            other = _series(dashboard, metric_name, f)
            frame = frame.merge(
                other[["period_start", series[metric_name][0]]], on="period_start", how="outer", validate="one_to_one"
            )
        return frame

    def draw(frame: pd.DataFrame, f: Filters) -> Any:
        long = pd.concat(
            [
                pd.DataFrame({"period_start": frame["period_start"], "rate": frame[column], "series": label})
                for column, label in series.values()
            ],
            ignore_index=True,
        ).dropna(subset=["rate"])
        return charts.line(
            bucket_completeness(long, f),
            x="period_start",
            y="rate",
            color="series",
            title="Churn rates",
            y_title="% per period",
            y_format=".2f",
            complete="complete",
        )

    return ChartPanel(
        "churn_rates",
        "Churn rates",
        load,
        draw,
        drill=drills.metric_drill(
            dashboard, "customer_churn_rows", ("period_start",), hint="Click a point to see who churned."
        ),
        definition=" ".join(_definition(name) for name in series),
    )


def cohort_chart(dashboard: Dashboard) -> ChartPanel:
    """Net MRR retention by first-payment cohort (monthly cohorts, or weekly when the grain is finer).

    Reads the cohort table the page-data job stored (:func:`analytics.snapshots.cohort_tables.read_cohort_table`)
    and keeps the cohorts and columns of the selected range; the metric is not run here.
    """

    def load(f: Filters) -> pd.DataFrame:
        from analytics.snapshots.cohort_tables import read_cohort_table

        if f.product_id or f.plan_id:
            raise FilterNotSupported(
                f"Not available per {'plan' if f.plan_id else 'product'}: choose all products and plans to see it."
            )
        grain = "month" if f.grain == "month" else "week"
        stored = read_cohort_table(dashboard.engine, dashboard.account_id, grain, f.start, f.end)
        if stored is None:
            raise NotAvailable(missing_message("cohort table", dashboard.account_id))
        frame = stored.frame.dropna(subset=["net_mrr_retention_pct"]).reset_index(drop=True)
        frame.attrs["notes"] = list(stored.notes)
        return frame

    def draw(frame: pd.DataFrame, f: Filters) -> Any:
        fmt = "%Y-%m" if f.grain == "month" else "%Y-%m-%d"
        cells = pd.DataFrame(
            {
                "cohort": pd.to_datetime(frame["cohort"]).dt.strftime(fmt),
                "period": frame["k"].astype(int),
                "retention": frame["net_mrr_retention_pct"].astype(float) / 100.0,
            }
        )
        return charts.cohort_heatmap(cells, title="Net MRR retention by cohort", value_title="Net MRR retention")

    return ChartPanel(
        "cohorts",
        "Net MRR retention by cohort",
        load,
        draw,
        drill=drills.cohort_drill(dashboard),
        definition=_definition("net_mrr_retention"),
    )


def failed_payments_table(dashboard: Dashboard) -> TablePanel:
    """Failed payments per bucket: how many, how much, how many recovered."""

    def load(f: Filters) -> pd.DataFrame:
        return _series(dashboard, "failed_payments", f)

    return TablePanel(
        "failed_payments",
        "Failed payments",
        load,
        units={"failed_minor": "money_minor", "recovered_minor": "money_minor", "recovery_rate_pct": "percent_points"},
        currency=lambda: dashboard.account.currency,
        columns={
            "period_start": "Period starting",
            "failed": "Failed",
            "failed_minor": "Failed amount",
            "recovered": "Recovered",
            "recovered_minor": "Recovered amount",
            "recovery_rate_pct": "Recovery rate",
        },
        definition=_definition("failed_payments"),
    )
