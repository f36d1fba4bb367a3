"""Key figures of one account, as dashboards and reports ask for them: metric calls shaped by a selection.

* :class:`Filters` — the selection: a closed date range, a grain, optionally one product or plan.
* :class:`AccountMetrics` — runs registered metrics (``analytics.metrics.get(name).function(engine, request)``)
  for one account, narrows them to the chosen product/plan through the metric's own breakdown, and remembers
  each answer until :meth:`AccountMetrics.forget` (a KPI card and a chart asking the same question share one query;
  metrics built on the same intermediate table share it, see :mod:`analytics.metrics.shared`).
* :func:`kpi_window` / :func:`kpi_values` — KPIs compare the last *complete* period of the grain with the one
  before (a partial week is never compared with a full one).

Nothing here computes a metric; every number is a registered metric's own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.formatting import change_ratio, format_change, format_value
from analytics.store.schema import accounts

__all__ = [
    "KPI_METRICS",
    "AccountInfo",
    "AccountMetrics",
    "FilterNotSupported",
    "Filters",
    "Kpi",
    "KpiWindow",
    "NotAvailable",
    "kpi_values",
    "kpi_window",
    "minor_scale",
]


@dataclass(frozen=True)
class Kpi:
    """One key figure for a period and the same figure for the period before.

    ``better`` says which direction is good news (churn going ``down`` is green).
    """

    name: str
    label: str
    value: Any
    previous: Any = None
    unit: str = "count"
    currency: str = "usd"
    better: Literal["up", "down"] = "up"
    compare: bool = True
    """False for a figure that has no earlier value by nature (a model's backtest score): no change line."""

    @property
    def text(self) -> str:
        """The value as shown (see :func:`~analytics.formatting.format_value`)."""
        return format_value(self.value, self.unit, self.currency)

    @property
    def change_text(self) -> str:
        """The change versus the previous period as shown."""
        return format_change(self.value, self.previous, self.unit)

    @property
    def direction(self) -> Literal["up", "down", "flat"]:
        ratio = change_ratio(self.value, self.previous)
        if self.unit in ("percent", "percent_points") and self.value is not None and self.previous is not None:
            ratio = float(self.value) - float(self.previous)
        if ratio is None or abs(ratio) < 1e-12:
            return "flat"
        return "up" if ratio > 0 else "down"


@dataclass(frozen=True)
class Filters:
    """A selection: the closed date range ``[start, end]``, a grain and optionally one product or plan."""

    start: date
    end: date
    grain: str = "week"
    product_id: str | None = None
    plan_id: str | None = None

    def previous(self) -> Filters:
        """The range of the same length just before this one."""
        end = self.start - timedelta(days=1)
        return replace(self, start=end - (self.end - self.start), end=end)


class NotAvailable(Exception):
    """The numbers asked for do not exist for this selection (a panel shows this as its empty state)."""


class FilterNotSupported(MetricError, NotAvailable):
    """The chosen product or plan cannot be applied to this metric (it has no such breakdown)."""


@dataclass(frozen=True)
class AccountInfo:
    """The account as the store knows it."""

    id: str
    title: str
    time_zone: str
    currency: str


class AccountMetrics:
    """Registered metrics for one account, each answer kept until :meth:`forget`.

    Parameters
    ----------
    engine:
        The store.
    account_id:
        The account every request is scoped to.
    """

    def __init__(self, engine: Engine, account_id: str) -> None:
        self.engine = engine
        self.account_id = account_id
        self._account: AccountInfo | None = None
        self._frames: dict[tuple[object, ...], pd.DataFrame] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[object, ...], threading.Lock] = {}
        from analytics.metrics.shared import SharedTables  # imports (and registers) the metrics: on first use

        self.shared = SharedTables()

    @property
    def account(self) -> AccountInfo:
        """Title, time zone and reporting currency (read once).

        Raises
        ------
        MetricError
            The account is not in the store.
        """
        if self._account is None:
            query = sa.select(accounts.c.title, accounts.c.time_zone, accounts.c.reporting_currency).where(
                accounts.c.id == self.account_id
            )
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
            if row is None:
                raise MetricError(f"account {self.account_id!r} is not in the store")
            self._account = AccountInfo(
                self.account_id, row.title, row.time_zone or "UTC", (row.reporting_currency or "usd").lower()
            )
        return self._account

    def metric(
        self,
        name: str,
        start: date,
        end: date,
        grain: str,
        filters: Filters | None = None,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Metric ``name`` for ``[start, end]`` by ``grain``, narrowed to the product/plan chosen in ``filters``.

        The narrowing asks the metric for a ``product`` (or ``plan``) breakdown and keeps the chosen value's rows,
        so the numbers are the metric's own, never re-aggregated here.

        Raises
        ------
        FilterNotSupported
            A product or plan is chosen and the metric has no such breakdown.
        """
        chosen: dict[str, str] = {}
        if filters is not None and filters.plan_id:
            chosen["plan"] = filters.plan_id
        elif filters is not None and filters.product_id:
            chosen["product"] = filters.product_id
        key = (name, start, end, grain, tuple(chosen.items()), tuple(sorted((params or {}).items())))
        with self._lock:  # panels run concurrently: the first asker computes, the others wait for its answer
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._frames:
                self._frames[key] = self._compute(name, start, end, grain, chosen, params)
        return self._frames[key].copy()

    def _compute(
        self, name: str, start: date, end: date, grain: str, chosen: dict[str, str], params: dict[str, Any] | None
    ) -> pd.DataFrame:
        from analytics.metrics import MetricRequest, get

        request = MetricRequest.build(self.account_id, start, end, grain, breakdowns=tuple(chosen), params=params)
        try:
            with self.shared.active():  # metrics built on the same intermediate table compute it once
                frame = get(name).function(self.engine, request)
        except MetricError as exc:
            if chosen and ("broken down" in str(exc) or "breakdown" in str(exc)):
                raise FilterNotSupported(
                    f"Not available per {next(iter(chosen))}: choose all products and plans to see it."
                ) from exc
            raise
        for column, value in chosen.items():
            frame = frame[frame[column] == value].drop(columns=[column]).reset_index(drop=True)
        return frame

    def forget(self) -> None:
        """Drop the remembered answers (before a new selection is shown)."""
        with self._lock:
            self._frames.clear()
            self._key_locks.clear()
        self.shared.clear()


def minor_scale(currency: str) -> float:
    """Minor units per major unit (100 for usd, 1 for jpy): charts show major units."""
    from analytics.store.money import CURRENCY_EXPONENTS

    return float(10 ** CURRENCY_EXPONENTS.get(currency.lower(), 2))


@dataclass(frozen=True)
class KpiWindow:
    """The last complete bucket of the grain ending on or before a day, and the bucket before it."""

    previous_start: date
    current_start: date
    current_end: date
    grain: str

    @property
    def previous_end(self) -> date:
        return self.current_start - timedelta(days=1)

    @property
    def label(self) -> str:
        """``May 2025 vs April 2025`` / ``week of 23 Jun 2025 vs week of 16 Jun`` / ``29 Jun 2025 vs 28 Jun``."""
        if self.grain == "month":
            return f"{self.current_start:%B %Y} vs {self.previous_start:%B %Y}"
        if self.grain == "week":
            return f"week of {self.current_start:%d %b %Y} vs week of {self.previous_start:%d %b}"
        return f"{self.current_start:%d %b %Y} vs {self.previous_start:%d %b}"


def kpi_window(filters: Filters) -> KpiWindow:
    """Complete periods to compare: e.g. grain month and a range ending 15 June → May vs April; grain week → the
    last Monday–Sunday week ending on or before the range's end vs the week before."""
    end = filters.end
    if filters.grain == "month":
        current_end = end if (end + timedelta(days=1)).day == 1 else end.replace(day=1) - timedelta(days=1)
        current_start = current_end.replace(day=1)
        previous_start = (current_start - timedelta(days=1)).replace(day=1)
    elif filters.grain == "week":
        current_end = end - timedelta(days=(end.weekday() + 1) % 7)  # the last Sunday on or before end
        current_start = current_end - timedelta(days=6)
        previous_start = current_start - timedelta(days=7)
    else:
        current_end = current_start = end
        previous_start = end - timedelta(days=1)
    return KpiWindow(previous_start, current_start, current_end, filters.grain)


# name → (label, metric, column, unit, better)
KPI_METRICS: dict[str, tuple[str, str, str, str, str]] = {
    "mrr": ("MRR", "mrr", "mrr_minor", "money_minor", "up"),
    "arr": ("ARR", "arr", "arr_minor", "money_minor", "up"),
    "paying_customers": ("Paying customers", "mrr_movements", "customers_end", "count", "up"),
    "new_customers": ("New customers", "mrr_movements", "new_customers", "count", "up"),
    "churned_customers": ("Churned customers", "mrr_movements", "churned_customers", "count", "down"),
    "arpa": ("ARPA", "arpa", "arpa_minor", "money_minor", "up"),
    "ltv": ("LTV", "ltv", "ltv_minor", "money_minor", "up"),
    "customer_churn_rate": (
        "Customer churn",
        "customer_churn_rate",
        "customer_churn_rate_pct",
        "percent_points",
        "down",
    ),
    "net_mrr_churn_rate": ("Net MRR churn", "net_mrr_churn_rate", "net_mrr_churn_rate_pct", "percent_points", "down"),
    "quick_ratio": ("Quick ratio", "quick_ratio", "quick_ratio", "ratio", "up"),
    "cash_revenue": ("Net cash revenue", "cash_revenue", "net_minor", "money_minor", "up"),
    "refunds": ("Refunds", "refunds", "refunds_minor", "money_minor", "down"),
    "failed_payments": ("Failed payments", "failed_payments", "failed", "count", "down"),
    "active_members": ("Engagement-active members", "active_members", "active_members", "count", "up"),
}


def _value(row: pd.Series | None, column: str) -> Any:
    if row is None or column not in row or pd.isna(row[column]):
        return None
    value = row[column]
    return int(value) if float(value).is_integer() else float(value)


def kpi_values(
    source: AccountMetrics,
    names: Sequence[str],
    filters: Filters,
    *,
    on_error: Callable[[str, Exception], None] | None = None,
) -> list[Kpi]:
    """The KPIs ``names`` (keys of :data:`KPI_METRICS`) for :func:`kpi_window` of ``filters``.

    Each metric is asked once, over the selection's range extended back to the previous period, so charts of
    the same metric and range reuse the answer. A KPI whose metric cannot honour the product/plan filter is
    left out (its card says it is not available).
    """
    window = kpi_window(filters)
    frames: dict[str, pd.DataFrame | None] = {}
    out: list[Kpi] = []
    for name in names:
        label, metric_name, column, unit, better = KPI_METRICS[name]
        if metric_name not in frames:
            try:
                start = min(filters.start, window.previous_start)
                frames[metric_name] = source.metric(metric_name, start, filters.end, window.grain, filters)
            except NotAvailable:
                frames[metric_name] = None
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(metric_name, exc)
                frames[metric_name] = None
        frame = frames[metric_name]
        if frame is None:
            continue
        starts = pd.to_datetime(frame["period_start"]).dt.date
        rows = {day: frame[starts == day] for day in (window.current_start, window.previous_start)}
        current, previous = (rows[d].iloc[-1] if len(rows[d]) else None for d in rows)
        currency = str(current["currency"]) if current is not None and "currency" in current else None
        out.append(
            Kpi(
                name,
                label,
                _value(current, column),
                _value(previous, column),
                unit,
                currency or source.account.currency,
                better,  # type: ignore[arg-type]
            )
        )
    return out
