"""Panels: a widget plus how to fill it for given :class:`~analytics.kpis.Filters`.

A panel works in two steps so a dashboard can fill its panels concurrently: ``prepare(filters)`` does the work
(metric queries, building the chart; it touches no widget and may run in a worker thread) and returns a function
that shows the result, which the frame calls in the kernel's main thread. ``prepare`` may raise; the frame then
logs the error to the server log and shows the panel's error state, so one broken panel never blanks a page.
A loader raising :class:`~analytics.kpis.NotAvailable` gives the panel's friendly empty state instead.

What a loader returns is the library's frame for the selection (a metric's result, stored scores, a snapshot
series): it is what the panel's CSV download holds. Drawing may reshape it for the chart; quality notes travel
as ``frame.attrs["notes"]`` and are shown under the chart. A panel with a :class:`~analytics.widgets.drill.Drill`
shows the rows behind a clicked mark (or KPI card) in the :class:`~analytics.widgets.drill.DrillArea` the frame
gives it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import altair as alt
import ipywidgets as widgets
import pandas as pd

from analytics.kpis import Filters, Kpi, NotAvailable
from analytics.widgets.chart import ChartView, info_icon
from analytics.widgets.drill import Drill, DrillArea
from analytics.widgets.kpi import KpiCard, KpiRow
from analytics.widgets.table import DownloadLink, csv_filename, html_table

__all__ = ["PICK", "ChartPanel", "KpiPanel", "NotAvailable", "Panel", "Show", "TablePanel", "page_chart"]

Show = Callable[[], None]
"""Puts a prepared result on the page (called in the kernel's main thread)."""

PICK = "pick"
"""The name of the click selection a drillable chart carries."""


class Panel(Protocol):
    """What the dashboard frame needs from a panel."""

    name: str
    widget: widgets.Widget
    drill_area: DrillArea | None

    def loading(self) -> None: ...

    def prepare(self, filters: Filters) -> Show: ...

    def error(self, text: str = ...) -> None: ...


def page_chart(chart: Any, pick: Sequence[str] = ()) -> Any:
    """A chart as a page shows it: as wide as its panel, its title left to the panel's heading (a subtitle note,
    such as "period in progress", is kept), and a click selection on ``pick`` fields when it can be drilled."""
    title = getattr(chart, "title", alt.Undefined)
    subtitle = None
    if isinstance(title, alt.TitleParams):
        subtitle = title.subtitle
    elif isinstance(title, dict):
        subtitle = title.get("subtitle")
    chart = chart.properties(
        width="container",
        title=alt.TitleParams(text="", subtitle=subtitle, subtitleColor="#6b7280") if subtitle else "",
    )
    if pick:
        chart = chart.add_params(
            alt.selection_point(name=PICK, fields=list(pick), on="click", clear="dblclick", toggle=False)
        ).configure_mark(cursor="pointer")
    return chart


def _filename(name: str, filters: Filters) -> str:
    return csv_filename(name, filters.start, filters.end, filters.grain, filters.product_id, filters.plan_id)


class ChartPanel:
    """A chart: ``load(filters)`` returns the library's frame (empty → friendly empty state), ``draw(frame, filters)``
    turns it into an altair chart, drawn in the browser with hover tooltips and a CSV download of the frame."""

    def __init__(
        self,
        name: str,
        title: str,
        load: Callable[[Filters], pd.DataFrame],
        draw: Callable[[pd.DataFrame, Filters], alt.TopLevelMixin],
        *,
        empty_text: str = "No data for the selected period and filters.",
        drill: Drill | None = None,
        definition: str | None = None,
    ) -> None:
        self.name = name
        self.view = ChartView(name, title, definition=definition, hint=drill.hint if drill else "")
        self.widget = self.view
        self.drill = drill
        self.drill_area: DrillArea | None = None
        self._load = load
        self._draw = draw
        self._empty_text = empty_text
        self._filters: Filters | None = None
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
        chart = page_chart(self._draw(data, filters), self.drill.fields if self.drill else ())
        notes = list(data.attrs.get("notes", []))

        def show() -> None:
            self.data = data
            self._filters = filters
            widget = self.view.show(chart, notes)
            self.view.download.set(data, _filename(self.name, filters))
            if self.drill is not None:
                widget.selections.observe(self._picked, [PICK])

        return show

    def _picked(self, change: Mapping[str, Any]) -> None:
        values = getattr(change["new"], "value", None) or []
        if not values or self.drill is None or self.drill_area is None or self._filters is None:
            return
        selection = dict(values[0])
        drill, filters = self.drill, self._filters
        time_zone = getattr(self.view.chart, "local_tz", None)
        label = ", ".join(str(v) for v in selection.values())
        self.drill_area.run(
            f"{self.view.title}: {label}",
            lambda: drill.rows({**selection, "_time_zone": time_zone}, filters),
            (self.name, *selection.values(), filters.start, filters.end),
        )

    def _empty(self, data: pd.DataFrame | None, message: str) -> None:
        self.data = data
        self.view.empty(message)

    def update(self, filters: Filters) -> None:
        """Prepare and show in one go (outside a dashboard frame)."""
        self.prepare(filters)()

    def error(self, text: str = "This chart could not be loaded; the details are in the server log.") -> None:
        self.view.error(text)


class KpiPanel:
    """A row of KPI cards filled by one ``load(filters)`` returning :class:`Kpi` values (by name), with an
    optional caption saying which periods are compared; ``drills`` maps card names to their rows behind."""

    def __init__(
        self,
        name: str,
        cards: Sequence[tuple[str, str]],
        load: Callable[[Filters], Sequence[Kpi]],
        *,
        caption: Callable[[Filters], str] | None = None,
        drills: Mapping[str, Drill] | None = None,
        definitions: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.drills = dict(drills or {})
        self.cards = [
            KpiCard(card_name, label, definition=(definitions or {}).get(card_name), drillable=card_name in self.drills)
            for card_name, label in cards
        ]
        for card in self.cards:
            card.on_drill(self._drill)
        self.caption = widgets.HTML()
        self.widget = widgets.VBox([self.caption, KpiRow(self.cards)])
        self.widget.add_class("analytics-kpis")
        self.drill_area: DrillArea | None = None
        self._load = load
        self._caption = caption
        self._filters: Filters | None = None
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
            self._filters = filters
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

    def _drill(self, card: KpiCard) -> None:
        drill = self.drills.get(card.name)
        if drill is None or self.drill_area is None or self._filters is None:
            return
        filters = self._filters
        self.drill_area.run(card.label, lambda: drill.rows({}, filters), (card.name, filters.start, filters.end))

    def update(self, filters: Filters) -> None:
        self.prepare(filters)()

    def error(self, text: str = "could not be loaded; the details are in the server log") -> None:
        for card in self.cards:
            card.unavailable(text)


class TablePanel:
    """A small table (top members, failed payments, …); ``units`` maps columns to display units, ``columns``
    picks and names the columns shown (``{"completion_rate_pct": "Completion rate"}``). The CSV download holds
    every row of the loaded frame, unformatted."""

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
        definition: str | None = None,
    ) -> None:
        self.name = name
        self.title = title
        self.definition = definition
        self.body = widgets.HTML()
        self.download = DownloadLink("Download CSV")
        self.widget = widgets.VBox([self.body, self.download])
        self.widget.add_class("analytics-chart")
        self.widget.add_class(f"analytics-panel--{name}")
        self.drill_area: DrillArea | None = None
        self._load = load
        self._units = units or {}
        self._currency = currency
        self._empty_text = empty_text
        self._max_rows = max_rows
        self._columns = columns
        self._filters: Filters | None = None
        self.data: pd.DataFrame | None = None
        self.loading()

    def _html(self, state: str, body: str) -> str:
        return (
            f'<div class="analytics-table" data-table="{html.escape(self.name)}" data-state="{state}">'
            f"<b>{html.escape(self.title)}</b>{info_icon(self.definition)}{body}</div>"
        )

    def loading(self) -> None:
        self.body.value = self._html("loading", '<div class="analytics-state analytics-skeleton">Loading…</div>')
        self.download.set(None, "")

    def prepare(self, filters: Filters) -> Show:
        try:
            data = self._load(filters)
        except NotAvailable as exc:
            page = self._html("empty", f'<div class="analytics-state">{html.escape(str(exc))}</div>')
            return lambda: self._set(None, page, filters)
        if data is None or data.empty:
            page = self._html("empty", f'<div class="analytics-state">{html.escape(self._empty_text)}</div>')
            return lambda: self._set(data, page, filters)
        currency = self._currency() if callable(self._currency) else self._currency
        table = html_table(data, units=self._units, currency=currency, columns=self._columns, max_rows=self._max_rows)
        page = self._html("ready", table)
        return lambda: self._set(data, page, filters)

    def _set(self, data: pd.DataFrame | None, page: str, filters: Filters) -> None:
        self.data = data
        self.body.value = page
        self.download.set(data, _filename(self.name, filters))

    def update(self, filters: Filters) -> None:
        self.prepare(filters)()

    def error(self, text: str = "This table could not be loaded; the details are in the server log.") -> None:
        self.body.value = self._html("error", f'<div class="analytics-state error">{html.escape(text)}</div>')
        self.download.set(None, "")
