"""The weekly/monthly business report: the numbers, tables, charts and highlights of one account and period.

:func:`business_report` gathers everything from registered metrics (through
:class:`~analytics.kpis.AccountMetrics`, so a KPI and its chart share one query) and returns a
:class:`BusinessReport`; the report notebook only calls its ``show_*`` methods, which display tables and charts
in the form :mod:`analytics.reports.export` reads back (HTML, PDF, CSV, JSON).

The period reported is the last week (Monday–Sunday) or month ending on or before ``as_of`` (default: yesterday
in the account's time zone, so the last complete period); KPIs compare it with the period before; trends cover
``periods_back`` periods ending with it. A period that has not ended yet (``as_of`` today or later) is reported
to yesterday and compared with the same days of the period before (:func:`~analytics.reports.periods.report_period`):
never a partial month against a full one.

Beside the numbers the report says what to do (:mod:`analytics.reports.actions`): the members at risk from the
stored churn scores, and the period's actions (failed payments to recover, members to re-engage, the lesson with
the worst drop-off).
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
from analytics.formatting import format_value
from analytics.kpis import (
    KPI_METRICS,
    AccountInfo,
    AccountMetrics,
    Filters,
    Kpi,
    NotAvailable,
    kpi_values,
    minor_scale,
)
from analytics.models.churn.predictions import latest_scores
from analytics.reports.actions import (
    NO_SCORES,
    RECOVERY_DAYS,
    RiskSummary,
    period_actions,
    risk_summary,
    worst_drop_offs,
)
from analytics.reports.display import (
    shares_adding_to_100,
    show_chart,
    show_heading,
    show_highlights,
    show_kpis,
    show_list,
    show_note,
    show_table,
)
from analytics.reports.highlights import write_highlights
from analytics.reports.periods import ReportPeriod, report_period
from analytics.store.schema import accounts

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
DROP_OFF_COLUMNS = {
    "course_title": "Course",
    "title": "Lesson",
    "completions_before": "Completions of the lesson before",
    "completions": "Completions",
    "completion_fall": "Fall",
}
RISK_LEVEL_COLUMNS = {"risk_level": "Risk level", "members": "Members", "share_pct": "Share of members scored"}
RISK_REASON_COLUMNS = {
    "feature": "Reason",
    "direction": "Value",
    "members": "Members at risk",
    "share_pct": "Share of members at risk",
    "example": "Example",
}
RISK_ACTION_COLUMNS = {
    "text": "What to do",
    "members": "Members",
    "share_pct": "Share of members at risk",
    "reason": "When",
}


@dataclass
class BusinessReport:
    """Everything the report shows; tables are exact (money in minor units), charts are altair charts."""

    account: AccountInfo
    period: str
    span: ReportPeriod
    trend: Filters
    kpis: list[Kpi]
    as_of: date
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: dict[str, alt.TopLevelMixin] = field(default_factory=dict)
    highlights: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    risk: RiskSummary | None = None

    @property
    def noun(self) -> str:
        """``week`` or ``month``."""
        return "week" if self.period == "weekly" else "month"

    @property
    def title(self) -> str:
        name = "Weekly" if self.period == "weekly" else "Monthly"
        first, last = self.span.start, self.span.end
        when = f"{first:%B %Y}" if self.period == "monthly" else f"{first:%d %b} – {last:%d %b %Y}"
        if self.span.in_progress:
            when += f" (to {self.span.through:%d %b}, in progress)"
        return f"{name} business report · {self.account.title} · {when}"

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
        """Title, highlights and the KPI cards with their change versus the previous period (or the same days of
        it while the period is in progress)."""
        show_heading(self.title, level=1)
        show_heading(f"{self.span.label} · {self.account.id} · {self.account.currency.upper()}", level=4)
        if self.span.in_progress:
            show_note(self.span.progress_note)
        show_heading("Highlights")
        show_highlights(self.highlights)
        show_kpis(self.kpis, currency=self.account.currency)

    def show_actions(self) -> None:
        """This week's (month's) actions: failed payments to recover, members to re-engage, the worst drop-off."""
        if "actions" not in self.tables:
            return
        title = f"This {self.noun}'s actions"
        show_heading(title)
        actions = self.tables["actions"]
        show_list(
            "actions",
            actions["text"],
            actions,
            title="",
            units={"amount_minor": "money_minor"},
            currency=self.account.currency,
        )

    def show_risk(self) -> None:
        """Members at risk from the stored churn scores: counts by level, the top reasons, the recommended actions."""
        show_heading("Members at risk")
        risk = self.risk
        if risk is None:
            show_note(NO_SCORES)
            return
        show_note(
            f"Churn scores of {risk.as_of:%d %b %Y} (model {risk.model_id}): {risk.scored} paying members scored, "
            f"{risk.at_risk} at medium risk or above. Each member is in one risk level; a member at risk has up "
            "to three reasons and can have several recommended actions."
        )
        levels = self.tables["risk_levels"]
        shown = levels.assign(
            risk_level=levels["risk_level"].str.capitalize(),
            share_pct=[format_value(v, "percent_points") for v in shares_adding_to_100(list(levels["members"]))],
        )
        total = pd.DataFrame([{"risk_level": "Total", "members": risk.scored, "share_pct": "100.0 %"}])
        shown = pd.concat([shown, total], ignore_index=True).rename(columns=RISK_LEVEL_COLUMNS)
        self._table("risk_levels", "Paying members by churn risk", RISK_LEVEL_COLUMNS, shown=shown)
        reasons = self.tables["risk_reasons"]
        if len(reasons):
            self._table(
                "risk_reasons",
                "Why members are at risk (most frequent reasons)",
                RISK_REASON_COLUMNS,
                shown=_people(
                    reasons.assign(
                        feature=reasons["feature"].str.replace("_", " "),
                        direction=reasons["direction"] + " typical",
                    ),
                    RISK_REASON_COLUMNS,
                ),
            )
        actions = self.tables["risk_actions"]
        if len(actions):
            self._table("risk_actions", "Recommended actions", RISK_ACTION_COLUMNS)

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
        """Active members per period; engagement segments (each member in one, shares adding up to 100 %) and,
        separately with its own base, the idle members at the end of the period."""
        show_heading("Engagement")
        self._chart("active_members")
        self._table("active_members", "Active members", {"period_start": "Period", "active_members": "Active members"})
        if "engagement_segments" not in self.tables:
            return
        segments = self.tables["engagement_segments"]
        base = int(segments["members"].sum())
        day = f"{self.span.through:%d %b %Y}"
        shares = shares_adding_to_100(list(segments["members"]))
        shown = pd.DataFrame(
            {
                "Segment": [*segments["segment"].str.capitalize(), "Total"],
                "Members": [*(f"{n:,}" for n in segments["members"]), f"{base:,}"],
                "Share": [*(format_value(v, "percent_points") for v in shares), format_value(100, "percent_points")],
            }
        )
        self._table(
            "engagement_segments",
            f"Engagement segments at the end of {day} (each member is in exactly one)",
            {},
            shown=shown,
        )
        idle = self.tables.get("engagement_idle")
        if idle is not None and len(idle):
            row = idle.iloc[0]
            show_note(
                f"Idle, a separate count that overlaps the segments: {int(row['members']):,} of the same "
                f"{int(row['base']):,} members ({format_value(row['share_pct'], 'percent_points')}) had no activity "
                f"in the 7 days before the end of {day}."
            )

    def show_content(self) -> None:
        """The period's top lessons and posts, and the lessons where completions drop the most."""
        show_heading("Top content")
        self._table("top_content", "Top content of the period", TOP_CONTENT_COLUMNS, {"score": "score"})
        drops = self.tables.get("drop_offs")
        if drops is not None and len(drops):
            self._table("drop_offs", "Lessons where completions drop the most", DROP_OFF_COLUMNS)

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


def _trend_start(span: ReportPeriod, periods_back: int) -> date:
    start = span.start
    for _ in range(max(periods_back, 2) - 1):
        start = (start - timedelta(days=1)).replace(day=1) if span.grain == "month" else start - timedelta(days=7)
    return start


def _people(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The people's view of a table: percentages formatted, columns picked and renamed."""
    out = frame.copy()
    for column in out.columns:
        if column.endswith("_pct"):
            out[column] = [format_value(v, "percent_points") for v in out[column]]
    return out[[c for c in columns if c in out]].rename(columns=columns)


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
    today = clock().astimezone(ZoneInfo(account.time_zone)).date()
    if as_of is None or as_of == "":
        as_of = today - timedelta(days=1)
    elif isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    span = report_period(period, as_of, today)
    trend = Filters(_trend_start(span, periods_back), span.through, span.grain)
    known = set(registered())
    wanted = ("active_members", "engagement_segments", "content_ranking", "lesson_stats")
    missing = [m for m in wanted if m not in known]
    names = [n for n in REPORT_KPIS if n != "active_members" or "active_members" in known]
    kpis = _to_date_kpis(source, names, span) if span.in_progress else kpi_values(source, names, trend)
    report = BusinessReport(account, period, span, trend, kpis, as_of, missing=missing)
    _revenue(report, source)
    _cohorts(report, source)
    _engagement(report, source, known)
    _billing(report, source)
    _risk(report, engine)
    _actions(report, source)
    _highlights(report)
    return report


def _number(row: pd.Series | None, column: str) -> int | float | None:
    if row is None or column not in row or pd.isna(row[column]):
        return None
    value = float(row[column])
    return int(value) if value.is_integer() else value


def _to_date_kpis(source: AccountMetrics, names: list[str], span: ReportPeriod) -> list[Kpi]:
    """The KPIs of a period in progress: its first days (to ``span.through``) against the same days of the period
    before, each a registered metric asked for exactly those days (one bucket each, clipped by the metric)."""
    ranges = ((span.start, span.through), (span.previous_start, span.previous_through))
    frames: dict[tuple[str, date], pd.DataFrame | None] = {}
    out: list[Kpi] = []
    for name in names:
        label, metric_name, column, unit, better = KPI_METRICS[name]
        rows: list[pd.Series | None] = []
        for first, last in ranges:
            if (metric_name, first) not in frames:
                try:
                    frames[(metric_name, first)] = source.metric(metric_name, first, last, span.grain)
                except NotAvailable:
                    frames[(metric_name, first)] = None
            frame = frames[(metric_name, first)]
            rows.append(None if frame is None or frame.empty else frame.iloc[-1])
        if frames[(metric_name, span.start)] is None:
            continue
        current, previous = rows
        currency = str(current["currency"]) if current is not None and "currency" in current else None
        value, before = _number(current, column), _number(previous, column)
        kpi = Kpi(name, label, value, before, unit, currency or source.account.currency, better)  # type: ignore[arg-type]
        out.append(kpi)
    return out


def _revenue(report: BusinessReport, source: AccountMetrics) -> None:
    t, w, currency = report.trend, report.span, report.account.currency
    scale = minor_scale(currency)
    mrr = source.metric("mrr", t.start, t.end, t.grain)
    arr = source.metric("arr", t.start, t.end, t.grain)
    report.tables["mrr"] = _dates(mrr.merge(arr[["period_start", "arr_minor"]], on="period_start"), "period_start")
    report.charts["mrr"] = charts.mrr_line(
        mrr.assign(mrr=mrr["mrr_minor"] / scale), x="period_start", y="mrr", currency=currency, title="MRR"
    )
    moves = source.metric("mrr_movements", t.start, t.end, t.grain)
    report.tables["movements"] = _dates(moves, "period_start")
    current = moves[pd.to_datetime(moves["period_start"]).dt.date == w.start]
    if len(current):
        row = current.iloc[-1]
        steps = pd.DataFrame(
            {"movement": [*MOVEMENTS, "fx"], "amount": [float(row[f"{m}_minor"]) / scale for m in (*MOVEMENTS, "fx")]}
        )
        steps = steps[(steps["movement"] != "fx") | (steps["amount"] != 0)]
        report.charts["movements"] = charts.movements_waterfall(
            steps,
            start=float(row["mrr_start_minor"]) / scale,
            currency=currency,
            title=f"MRR movements, {w.name}" + (f" to {w.through:%d %b}" if w.in_progress else ""),
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
    end = report.span.through
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
    t, w = report.trend, report.span
    if "active_members" in known:
        active = source.metric("active_members", t.start, t.end, t.grain)
        report.tables["active_members"] = _dates(active, "period_start")
        report.charts["active_members"] = charts.line(
            active, x="period_start", y="active_members", title="Active members", y_title="Members"
        )
    if "engagement_segments" in known:
        # the metric's segments (high, medium, low) partition its members; "idle" overlaps them: kept apart
        frame = source.metric("engagement_segments", w.through, w.through, "day")
        segments = frame[frame["segment"] != "idle"].reset_index(drop=True)
        report.tables["engagement_segments"] = segments
        idle = frame[frame["segment"] == "idle"]
        if len(idle):
            report.tables["engagement_idle"] = pd.DataFrame(
                {
                    "members": [int(idle["members"].iloc[0])],
                    "base": [int(segments["members"].sum())],
                    "share_pct": [float(idle["share_pct"].iloc[0])],
                }
            )
    if "content_ranking" in known:
        top = source.metric("content_ranking", w.start, w.through, "day", params={"top": 10})
        report.tables["top_content"] = top
    if "lesson_stats" in known:
        report.tables["drop_offs"] = worst_drop_offs(source.metric("lesson_stats", w.start, w.through, "day"))


def _billing(report: BusinessReport, source: AccountMetrics) -> None:
    t = report.trend
    for name in ("failed_payments", "refunds"):
        try:
            report.tables[name] = _dates(source.metric(name, t.start, t.end, t.grain), "period_start")
        except NotAvailable:
            continue


def _risk(report: BusinessReport, engine: Engine) -> None:
    """The newest stored scores whose data ends by the report's ``as_of`` (a score of day d uses data before d)."""
    last_day = min(report.as_of, report.span.through + timedelta(days=1))
    scores = latest_scores(engine, report.account.id, before=last_day + timedelta(days=2))
    report.risk = risk_summary(scores)
    if report.risk is not None:
        report.tables["risk_levels"] = report.risk.levels
        report.tables["risk_reasons"] = report.risk.reasons
        report.tables["risk_actions"] = report.risk.actions


def _actions(report: BusinessReport, source: AccountMetrics) -> None:
    span = report.span
    first = span.through - timedelta(days=RECOVERY_DAYS - 1)
    try:
        failed: pd.DataFrame | None = source.metric("failed_payments", first, span.through, "month")
    except NotAvailable:
        failed = None
    report.tables["actions"] = period_actions(
        noun=report.noun,
        period_name=span.counted,
        currency=report.account.currency,
        failed=failed,
        failed_days=f"the {RECOVERY_DAYS} days to {span.through:%d %b %Y}",
        risk=report.risk,
        drop_offs=report.tables.get("drop_offs"),
    )


def _highlights(report: BusinessReport) -> None:
    by_name = {k.name: k for k in report.kpis}
    chosen = [by_name[n] for n in HIGHLIGHT_KPIS if n in by_name]
    moves = report.tables.get("movements")
    amounts: dict[str, float] = {}
    counts: dict[str, int] = {}
    if moves is not None:
        current = moves[moves["period_start"] == report.span.start.isoformat()]
        if len(current):
            row = current.iloc[-1]
            amounts = {m: float(row[f"{m}_minor"]) for m in MOVEMENTS}
            counts = {"new": int(row["new_customers"]), "churn": int(row["churned_customers"])}
    facts: list[str] = []
    currency = report.account.currency
    risk = report.risk
    if risk is not None:
        facts.append(
            f"{risk.at_risk} of {risk.scored} paying members are at medium churn risk or above "
            f"(scores of {risk.as_of:%d %b %Y})."
        )
    failed = by_name.get("failed_payments")
    if failed is not None and failed.value:
        facts.append(f"{failed.value} failed payment(s) this period (previous period: {failed.previous or 0}).")
    refunds = by_name.get("refunds")
    if refunds is not None and refunds.value:
        facts.append(f"Refunds came to {format_value(refunds.value, 'money_minor', currency)}.")
    top = report.tables.get("top_content")
    if top is not None and len(top):
        facts.append(f"Top content: {top.iloc[0]['title']} ({top.iloc[0]['content_type']}).")
    lines = write_highlights(chosen, movements=amounts, movement_counts=counts, currency=currency, facts=facts)
    report.highlights = [report.span.progress_note, *lines] if report.span.in_progress else lines
