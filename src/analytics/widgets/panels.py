"""Panels: a widget plus how to fill it for given :class:`~analytics.widgets.controls.Filters`.

A panel's ``update(filters)`` does the work (library calls) and may raise; the dashboard frame catches the
error, logs it to the server log and shows the panel's error state, so one broken panel never blanks a page.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Protocol

import altair as alt
import ipywidgets as widgets
import pandas as pd

from analytics.kpis import Filters, NotAvailable
from analytics.widgets.chart import ChartView
from analytics.widgets.format import format_value
from analytics.widgets.kpi import Kpi, KpiCard, KpiRow

__all__ = ["ChartPanel", "KpiPanel", "NotAvailable", "Panel", "TablePanel"]


class Panel(Protocol):
    """What the dashboard frame needs from a panel."""

    name: str
    widget: widgets.Widget

    def loading(self) -> None: ...

    def update(self, filters: Filters) -> None: ...

    def error(self) -> None: ...


class ChartPanel:
    """A chart: ``load(filters)`` returns a DataFrame (empty → friendly empty state), ``draw(frame, filters)``
    turns it into an altair chart drawn in place."""

    def __init__(
        self,
        name: str,
        title: str,
        load: Callable[[Filters], pd.DataFrame],
        draw: Callable[[pd.DataFrame, Filters], alt.TopLevelMixin],
        *,
        empty_text: str = "No data for the selected period and filters.",
    ) -> None:
        self.name = name
        self.view = ChartView(name, title)
        self.widget = self.view
        self._load = load
        self._draw = draw
        self._empty_text = empty_text
        self.data: pd.DataFrame | None = None

    def loading(self) -> None:
        self.view.loading()

    def update(self, filters: Filters) -> None:
        try:
            self.data = self._load(filters)
        except NotAvailable as exc:
            self.data = None
            self.view.empty(str(exc))
            return
        if self.data is None or self.data.empty:
            self.view.empty(self._empty_text)
        else:
            self.view.show(self._draw(self.data, filters))

    def error(self) -> None:
        self.view.error()


class KpiPanel:
    """A row of KPI cards filled by one ``load(filters)`` returning :class:`Kpi` values (by name)."""

    def __init__(
        self,
        name: str,
        cards: Sequence[tuple[str, str]],
        load: Callable[[Filters], Sequence[Kpi]],
        *,
        caption: Callable[[Filters], str] | None = None,
    ) -> None:
        self.name = name
        self.cards = [KpiCard(card_name, label) for card_name, label in cards]
        self.caption = widgets.HTML()
        self.widget = widgets.VBox([self.caption, KpiRow(self.cards)])
        self._load = load
        self._caption = caption
        self.kpis: dict[str, Kpi] = {}

    def loading(self) -> None:
        for card in self.cards:
            card.loading()

    def update(self, filters: Filters) -> None:
        if self._caption is not None:
            self.caption.value = f'<div class="analytics-caption">{html.escape(self._caption(filters))}</div>'
        try:
            self.kpis = {kpi.name: kpi for kpi in self._load(filters)}
        except NotAvailable as exc:
            self.kpis = {}
            for card in self.cards:
                card.unavailable(str(exc))
            return
        for card in self.cards:
            kpi = self.kpis.get(card.name)
            if kpi is None:
                card.unavailable("not available for this selection")
            else:
                card.show(kpi)

    def error(self) -> None:
        for card in self.cards:
            card.unavailable("could not be loaded")


class TablePanel:
    """A small table (top members, failed payments, …); ``units`` maps columns to display units, ``columns``
    picks and names the columns shown (``{"completion_rate_pct": "Completion rate"}``)."""

    def __init__(
        self,
        name: str,
        title: str,
        load: Callable[[Filters], pd.DataFrame],
        *,
        units: dict[str, str] | None = None,
        currency: str | Callable[[], str] = "usd",
        empty_text: str = "Nothing to show for the selected period and filters.",
        max_rows: int = 15,
        columns: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.title = title
        self.widget = widgets.HTML()
        self._load = load
        self._units = units or {}
        self._currency = currency
        self._empty_text = empty_text
        self._max_rows = max_rows
        self._columns = columns
        self.data: pd.DataFrame | None = None
        self.loading()

    def _wrap(self, state: str, body: str) -> None:
        self.widget.value = (
            f'<div class="analytics-chart analytics-table" data-table="{html.escape(self.name)}" data-state="{state}">'
            f"<b>{html.escape(self.title)}</b>{body}</div>"
        )

    def loading(self) -> None:
        self._wrap("loading", '<div class="analytics-state">Loading…</div>')

    def update(self, filters: Filters) -> None:
        try:
            self.data = self._load(filters)
        except NotAvailable as exc:
            self.data = None
            self._wrap("empty", f'<div class="analytics-state">{html.escape(str(exc))}</div>')
            return
        if self.data is None or self.data.empty:
            self._wrap("empty", f'<div class="analytics-state">{html.escape(self._empty_text)}</div>')
            return
        shown = self.data.head(self._max_rows).copy()
        currency = self._currency() if callable(self._currency) else self._currency
        for column, unit in self._units.items():
            if column in shown:
                shown[column] = [format_value(v, unit, currency) for v in shown[column]]
        if self._columns:
            shown = shown[[c for c in self._columns if c in shown]].rename(columns=self._columns)
        table = shown.to_html(index=False, border=0, escape=True, na_rep="–")
        self._wrap("ready", table)

    def error(self) -> None:
        self._wrap("error", '<div class="analytics-state error">This table could not be loaded.</div>')
