"""The weekly/monthly business report: the numbers, tables, charts and highlights of one account and period.

:func:`business_report` gathers everything from registered metrics (through
:class:`~analytics.kpis.AccountMetrics`, so a KPI and its chart share one query) and returns a
:class:`BusinessReport`; the report notebook only calls its ``show_*`` methods, which display tables and charts
in the form :mod:`analytics.reports.export` reads back (HTML, PDF, CSV, JSON).

The period reported is the last *complete* week (Monday–Sunday) or month ending on or before ``as_of``
(default: yesterday in the account's time zone); KPIs compare it with the period before; trends cover
``periods_back`` periods ending with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics import charts
from analytics.clock import Clock, utcnow
from analytics.errors import ReportError
from analytics.kpis import (
    AccountInfo,
    AccountMetrics,
    Filters,
    KpiWindow,
    NotAvailable,
    kpi_values,
    kpi_window,
    minor_scale,
)
from analytics.reports.display import show_chart, show_heading, show_highlights, show_kpis, show_table
from analytics.reports.highlights import write_highlights
from analytics.reports.periods import PERIOD_GRAINS
from analytics.store.schema import accounts
from analytics.widgets.format import format_value
from analytics.widgets.kpi import Kpi

__all__ = ["REPORTED_PERIODS", "REPORT_KPIS", "BusinessReport", "business_report", "resolve_account"]

REPORTED_PERIODS = ("weekly", "monthly")

REPORT_KPIS = (
    "mrr",
    "arr",
    "paying_customers",
    "new_customers",
    "churned_customers",
    "customer_churn_rate",
    "net_mrr_churn_rate",
    "arpa",
    "ltv",
    "cash_revenue",
    "refunds",
    "failed_payments",
    "active_members",
)
HIGHLIGHT_KPIS = ("mrr", "paying_customers", "customer_churn_rate", "cash_revenue", "active_members")
MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")
MOVEMENT_COLUMNS = {
    "period_start": "Period",
    "mrr_start_minor": "MRR at start",
    "new_minor": "New",
    "expansion_minor": "Expansion",
    "reactivation_minor": "Reactivation",
    "contraction_minor": "Contraction",
    "churn_minor": "Churn",
    "fx_minor": "FX",
    "mrr_end_minor": "MRR at end",
    "customers_end": "Customers",
}
CHURN_COLUMNS = {
    "period_start": "Period",
    "customer_churn_rate_pct": "Customer churn",
    "gross_mrr_churn_rate_pct": "Gross MRR churn",
    "net_mrr_churn_rate_pct": "Net MRR churn",
}
TOP_CONTENT_COLUMNS = {
    "rank": "#",
    "content_type": "Type",
    "title": "Title",
    "unique_viewers": "Viewers",
    "reactions": "Reactions",
    "comments": "Comments",
    "completions": "Completions",
    "score": "Score",
}
FAILED_COLUMNS = {
    "period_start": "Period",
    "failed": "Failed",
    "failed_minor": "Failed amount",
    "recovered": "Recovered",
    "recovered_minor": "Recovered amount",
    "recovery_rate_pct": "Recovery rate",
}
REFUND_COLUMNS = {
    "period_start": "Period",
    "refunds": "Refunds",
    "refunds_minor": "Refunded",
    "refund_rate_pct": "Refund rate",
}


@dataclass
class BusinessReport:
    """Everything the report shows; tables are exact (money in minor units), charts are altair charts."""

    account: AccountInfo
    period: str
    window: KpiWindow
    trend: Filters
    kpis: list[Kpi]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: dict[str, alt.TopLevelMixin] = field(default_factory=dict)
    highlights: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        name = "Weekly" if self.period == "weekly" else "Monthly"
        span = (
            f"{self.window.current_start:%B %Y}"
            if self.period == "monthly"
            else f"{self.window.current_start:%d %b} – {self.window.current_end:%d %b %Y}"
        )
        return f"{name} business report · {self.account.title} · {span}"

    def _table(
        self,
        name: str,
        title: str,
        columns: dict[str, str],
        units: dict[str, str] | None = None,
        shown: pd.DataFrame | None = None,
    ) -> None:
        if name in self.tables:
            frame = self.tables[name]
            money = {c: "money_minor" for c in frame.columns if c.endswith("_minor")}
            percent = {c: "percent_points" for c in frame.columns if c.endswith("_pct")}
            show_table(
                name,
                frame,
                title=title,
                units={**money, **percent, **(units or {})},
                currency=self.account.currency,
                columns=columns,
                shown=shown,
            )

    def _chart(self, name: str) -> None:
        if name in self.charts:
            show_chart(name, self.charts[name])

    def show_summary(self) -> None:
        """Title, highlights and the KPI cards with their change versus the previous period."""
        show_heading(self.title, level=1)
        show_heading(f"{self.window.label} · {self.account.id} · {self.account.currency.upper()}", level=4)
        show_heading("Highlights")
        show_highlights(self.highlights)
        show_kpis(self.kpis, currency=self.account.currency)

    def show_revenue(self) -> None:
        """MRR trend, the period's movements, churn rates."""
        show_heading("Revenue")
        self._chart("mrr")
        self._table("mrr", "MRR and ARR", {"period_start": "Period", "mrr_minor": "MRR", "arr_minor": "ARR"})
        self._chart("movements")
        self._table("movements", "MRR movements by period", MOVEMENT_COLUMNS)
        self._chart("churn")
        self._table("churn", "Churn rates by period", CHURN_COLUMNS)

    def show_cohorts(self) -> None:
        """Net MRR retention by monthly cohort (a cohort × month matrix; the data keeps every column)."""
        show_heading("Cohorts")
        self._chart("cohorts")
        if "cohorts" in self.tables:
            long = self.tables["cohorts"]
            matrix = long.pivot(index="cohort", columns="k", values="net_mrr_retention_pct")
            matrix = matrix.map(lambda v: format_value(v, "percent_points")).fillna("")
            matrix.columns = [f"+{int(k)}" for k in matrix.columns]
            self._table(
                "cohorts",
                "Net MRR retention by cohort (months since the first payment)",
                {},
                shown=matrix.reset_index().rename(columns={"cohort": "Cohort"}),
            )

    def show_engagement(self) -> None:
        """Active members per period and engagement segments at the end of the period."""
        show_heading("Engagement")
        self._chart("active_members")
        self._table("active_members", "Active members", {"period_start": "Period", "active_members": "Active members"})
        self._table(
            "engagement_segments",
            "Engagement segments at the end of the period",
            {"segment": "Segment", "members": "Members", "share_pct": "Share"},
        )

    def show_content(self) -> None:
        """The period's top lessons and posts."""
        show_heading("Top content")
        self._table("top_content", "Top content of the period", TOP_CONTENT_COLUMNS, {"score": "score"})

    def show_billing(self) -> None:
        """Failed payments (dunning) and refunds per period."""
        show_heading("Failed payments and refunds")
        self._table("failed_payments", "Failed payments", FAILED_COLUMNS)
        self._table("refunds", "Refunds", REFUND_COLUMNS)
        if self.missing:
            show_heading("Not in this report: " + ", ".join(self.missing) + " (metrics not installed)", level=5)


def resolve_account(engine: Engine, account_id: str | None) -> str:
    """``account_id``, or the store's only account when empty (a clear error when there are several or none)."""
    with engine.connect() as conn:
        known = list(conn.execute(sa.select(accounts.c.id).order_by(accounts.c.id)).scalars())
    if account_id:
        if account_id not in known:
            raise ReportError(
                f"account {account_id!r} is not in the store; known accounts: {', '.join(known) or 'none'}"
            )
        return account_id
    if len(known) != 1:
        raise ReportError(f"set the account_id parameter: the store has {len(known)} accounts ({', '.join(known)})")
    return known[0]


def _trend_start(window: KpiWindow, periods_back: int) -> date:
    start = window.current_start
    for _ in range(max(periods_back, 2) - 1):
        start = (start - timedelta(days=1)).replace(day=1) if window.grain == "month" else start - timedelta(days=7)
    return start


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    return out


def business_report(
    engine: Engine,
    account_id: str | None = None,
    *,
    period: str = "weekly",
    as_of: date | str | None = None,
    periods_back: int = 12,
    clock: Clock = utcnow,
) -> BusinessReport:
    """Compute the business report of ``account_id`` for the last complete ``period`` ending by ``as_of``.

    Raises
    ------
    ReportError
        Unknown period or account, or several accounts and none chosen.
    """
    from analytics.metrics.catalog import registered

    if period not in REPORTED_PERIODS:
        raise ReportError(f"period {period!r} is not one of {', '.join(REPORTED_PERIODS)}")
    source = AccountMetrics(engine, resolve_account(engine, account_id))
    account = source.account
    if as_of is None or as_of == "":
        as_of = clock().astimezone(ZoneInfo(account.time_zone)).date() - timedelta(days=1)
    elif isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    grain = PERIOD_GRAINS[period]
    window = kpi_window(Filters(as_of, as_of, grain))
    trend = Filters(_trend_start(window, periods_back), window.current_end, grain)
    known = set(registered())
    missing = [m for m in ("active_members", "engagement_segments", "content_ranking") if m not in known]
    names = [n for n in REPORT_KPIS if n != "active_members" or "active_members" in known]
    kpis = kpi_values(source, names, trend)
    report = BusinessReport(account, period, window, trend, kpis, missing=missing)
    _revenue(report, source)
    _cohorts(report, source)
    _engagement(report, source, known)
    _billing(report, source)
    _highlights(report)
    return report


def _revenue(report: BusinessReport, source: AccountMetrics) -> None:
    t, w, currency = report.trend, report.window, report.account.currency
    scale = minor_scale(currency)
    mrr = source.metric("mrr", t.start, t.end, t.grain)
    arr = source.metric("arr", t.start, t.end, t.grain)
    report.tables["mrr"] = _dates(mrr.merge(arr[["period_start", "arr_minor"]], on="period_start"), "period_start")
    report.charts["mrr"] = charts.mrr_line(
        mrr.assign(mrr=mrr["mrr_minor"] / scale), x="period_start", y="mrr", currency=currency, title="MRR"
    )
    moves = source.metric("mrr_movements", t.start, t.end, t.grain)
    report.tables["movements"] = _dates(moves, "period_start")
    current = moves[pd.to_datetime(moves["period_start"]).dt.date == w.current_start]
    if len(current):
        row = current.iloc[-1]
        steps = pd.DataFrame(
            {"movement": [*MOVEMENTS, "fx"], "amount": [float(row[f"{m}_minor"]) / scale for m in (*MOVEMENTS, "fx")]}
        )
        steps = steps[(steps["movement"] != "fx") | (steps["amount"] != 0)]
        report.charts["movements"] = charts.movements_waterfall(
            steps, start=float(row["mrr_start_minor"]) / scale, currency=currency, title=f"MRR movements, {w.label}"
        )
    churn = source.metric("customer_churn_rate", t.start, t.end, t.grain)[["period_start", "customer_churn_rate_pct"]]
    for name in ("gross_mrr_churn_rate", "net_mrr_churn_rate"):
        churn = churn.merge(
            source.metric(name, t.start, t.end, t.grain)[["period_start", f"{name}_pct"]], on="period_start"
        )
    report.tables["churn"] = _dates(churn, "period_start")
    long = churn.melt(id_vars="period_start", var_name="series", value_name="rate").dropna(subset=["rate"])
    long["series"] = long["series"].str.removesuffix("_pct").str.replace("_", " ").str.capitalize()
    report.charts["churn"] = charts.line(
        long, x="period_start", y="rate", color="series", title="Churn rates", y_title="% per period", y_format=".1f"
    )


def _cohorts(report: BusinessReport, source: AccountMetrics) -> None:
    end = report.window.current_end
    start = (end.replace(day=1) - timedelta(days=330)).replace(day=1)
    frame = source.metric("net_mrr_retention", start, end, "month").dropna(subset=["net_mrr_retention_pct"])
    if frame.empty:
        return
    table = frame[["cohort", "k", "cohort_customers", "cohort_mrr_minor", "mrr_minor", "net_mrr_retention_pct"]]
    report.tables["cohorts"] = _dates(table, "cohort")
    shown = pd.DataFrame(
        {
            "cohort": pd.to_datetime(frame["cohort"]).dt.strftime("%Y-%m"),
            "period": frame["k"].astype(int),
            "retention": frame["net_mrr_retention_pct"].astype(float) / 100.0,
        }
    )
    report.charts["cohorts"] = charts.cohort_heatmap(shown, title="Net MRR retention by cohort")


def _engagement(report: BusinessReport, source: AccountMetrics, known: set[str]) -> None:
    t, w = report.trend, report.window
    if "active_members" in known:
        active = source.metric("active_members", t.start, t.end, t.grain)
        report.tables["active_members"] = _dates(active, "period_start")
        report.charts["active_members"] = charts.line(
            active, x="period_start", y="active_members", title="Active members", y_title="Members"
        )
    if "engagement_segments" in known:
        report.tables["engagement_segments"] = source.metric("engagement_segments", w.current_end, w.current_end, "day")
    if "content_ranking" in known:
        top = source.metric("content_ranking", w.current_start, w.current_end, "day", params={"top": 10})
        report.tables["top_content"] = top


def _billing(report: BusinessReport, source: AccountMetrics) -> None:
    t = report.trend
    for name in ("failed_payments", "refunds"):
        try:
            report.tables[name] = _dates(source.metric(name, t.start, t.end, t.grain), "period_start")
        except NotAvailable:
            continue


def _highlights(report: BusinessReport) -> None:
    by_name = {k.name: k for k in report.kpis}
    chosen = [by_name[n] for n in HIGHLIGHT_KPIS if n in by_name]
    moves = report.tables.get("movements")
    amounts: dict[str, float] = {}
    counts: dict[str, int] = {}
    if moves is not None:
        current = moves[moves["period_start"] == report.window.current_start.isoformat()]
        if len(current):
            row = current.iloc[-1]
            amounts = {m: float(row[f"{m}_minor"]) for m in MOVEMENTS}
            counts = {"new": int(row["new_customers"]), "churn": int(row["churned_customers"])}
    facts: list[str] = []
    currency = report.account.currency
    failed = by_name.get("failed_payments")
    if failed is not None and failed.value:
        facts.append(f"{failed.value} failed payment(s) this period (previous period: {failed.previous or 0}).")
    refunds = by_name.get("refunds")
    if refunds is not None and refunds.value:
        facts.append(f"Refunds came to {format_value(refunds.value, 'money_minor', currency)}.")
    top = report.tables.get("top_content")
    if top is not None and len(top):
        facts.append(f"Top content: {top.iloc[0]['title']} ({top.iloc[0]['content_type']}).")
    report.highlights = write_highlights(
        chosen, movements=amounts, movement_counts=counts, currency=currency, facts=facts
    )
