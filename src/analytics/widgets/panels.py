"""Panels: a widget plus how to fill it for given :class:`~analytics.kpis.Filters`.

A panel works in two steps so a dashboard can fill its panels concurrently: ``prepare(filters)`` does the work
(metric queries, drawing the SVG; it touches no widget and may run in a worker thread) and returns a function
that shows the result, which the frame calls in the kernel's main thread. ``prepare`` may raise; the frame then
logs the error to the server log and shows the panel's error state, so one broken panel never blanks a page.
A loader raising :class:`~analytics.kpis.NotAvailable` gives the panel's friendly empty state instead.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Protocol

import altair as alt
import ipywidgets as widgets
import pandas as pd

from analytics.charts import to_svg
from analytics.kpis import Filters, NotAvailable
from analytics.widgets.chart import ChartView
from analytics.widgets.format import format_value
from analytics.widgets.kpi import Kpi, KpiCard, KpiRow

__all__ = ["ChartPanel", "KpiPanel", "NotAvailable", "Panel", "Show", "TablePanel"]

Show = Callable[[], None]
"""Puts a prepared result on the page (called in the kernel's main thread)."""


class Panel(Protocol):
    """What the dashboard frame needs from a panel."""

    name: str
    widget: widgets.Widget

    def loading(self) -> None: ...

    def prepare(self, filters: Filters) -> Show: ...

    def error(self) -> None: ...


class ChartPanel:
    """A chart: ``load(filters)`` returns a DataFrame (empty → friendly empty state), ``draw(frame, filters)``
    turns it into an altair chart, drawn as SVG and shown in place."""

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

    def prepare(self, filters: Filters) -> Show:
        try:
            data = self._load(filters)
        except NotAvailable as exc:
            message = str(exc)
            return lambda: self._empty(None, message)
        if data is None or data.empty:
            return lambda: self._empty(data, self._empty_text)
        svg = to_svg(self._draw(data, filters))

        def show() -> None:
            self.data = data
            self.view.show_svg(svg)

        return show

    def _empty(self, data: pd.DataFrame | None, message: str) -> None:
        self.data = data
        self.view.empty(message)

    def update(self, filters: Filters) -> None:
        """Prepare and show in one go (outside a dashboard frame)."""
        self.prepare(filters)()

    def error(self) -> None:
        self.view.error()


class KpiPanel:
    """A row of KPI cards filled by one ``load(filters)`` returning :class:`Kpi` values (by name), with an
    optional caption saying which periods are compared."""

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

    def prepare(self, filters: Filters) -> Show:
        caption = self._caption(filters) if self._caption is not None else ""
        try:
            kpis = {kpi.name: kpi for kpi in self._load(filters)}
        except NotAvailable as exc:
            message = str(exc)

            def unavailable() -> None:
                self.kpis = {}
                for card in self.cards:
                    card.unavailable(message)

            return unavailable

        def show() -> None:
            if caption:
                self.caption.value = f'<div class="analytics-caption">{html.escape(caption)}</div>'
            self.kpis = kpis
            for card in self.cards:
                kpi = kpis.get(card.name)
                if kpi is None:
                    card.unavailable("not available for this selection")
                else:
                    card.show(kpi)

        return show

    def update(self, filters: Filters) -> None:
        self.prepare(filters)()

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

    def _html(self, state: str, body: str) -> str:
        return (
            f'<div class="analytics-chart analytics-table" data-table="{html.escape(self.name)}" data-state="{state}">'
            f"<b>{html.escape(self.title)}</b>{body}</div>"
        )

    def loading(self) -> None:
        self.widget.value = self._html("loading", '<div class="analytics-state">Loading…</div>')

    def prepare(self, filters: Filters) -> Show:
        try:
            data = self._load(filters)
        except NotAvailable as exc:
            page = self._html("empty", f'<div class="analytics-state">{html.escape(str(exc))}</div>')
            return lambda: self._set(None, page)
        if data is None or data.empty:
            page = self._html("empty", f'<div class="analytics-state">{html.escape(self._empty_text)}</div>')
            return lambda: self._set(data, page)
        shown = data.head(self._max_rows).copy()
        currency = self._currency() if callable(self._currency) else self._currency
        for column, unit in self._units.items():
            if column in shown:
                shown[column] = [format_value(v, unit, currency) for v in shown[column]]
        if self._columns:
            shown = shown[[c for c in self._columns if c in shown]].rename(columns=self._columns)
        page = self._html("ready", shown.to_html(index=False, border=0, escape=True, na_rep="–"))
        return lambda: self._set(data, page)

    def _set(self, data: pd.DataFrame | None, page: str) -> None:
        self.data = data
        self.widget.value = page

    def update(self, filters: Filters) -> None:
        self.prepare(filters)()

    def error(self) -> None:
        self.widget.value = self._html(
            "error", '<div class="analytics-state error">This table could not be loaded.</div>'
        )
