"""A chart panel's view: a heading, the interactive chart (or its loading, empty or error state), notes, a download.

The heading ``<div class="analytics-panel-head" data-chart=NAME data-state=STATE>`` tells a browser test which
chart it is and whether it is ``loading``, ``ready``, ``empty`` or ``error``; the chart itself is drawn in the
browser (:class:`~analytics.widgets.vega.InteractiveChart`: hover for exact values, the "…" menu to save it).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from analytics.widgets.table import DownloadLink

__all__ = ["ChartView", "info_icon"]


def info_icon(definition: str | None) -> str:
    """A small "ⓘ" whose hover text is ``definition`` (nothing when there is none)."""
    if not definition:
        return ""
    text = html.escape(definition, quote=True)
    return f' <span class="analytics-info" title="{text}" data-definition="{text}">i</span>'


class ChartView(widgets.VBox):
    """Holds one interactive chart; :meth:`show` replaces it in place, never reloading the page."""

    def __init__(self, name: str, title: str = "", *, definition: str | None = None, hint: str = "") -> None:
        self.name = name
        self.title = title
        self.definition = definition
        self.hint = hint
        self.state = "loading"
        self.head = widgets.HTML()
        self.message = widgets.HTML()
        self.notes = widgets.HTML()
        self.download = DownloadLink("Download data (CSV)")
        from analytics.widgets.vega import InteractiveChart

        # Every widget of a page exists before the page is shown: a widget model created while the browser is
        # still loading the page's models can be missed by it ("widget model not found").
        self.chart = InteractiveChart(None, layout=widgets.Layout(width="100%"))
        self._chart_box = widgets.Box([self.chart], layout=widgets.Layout(width="100%"))
        self._chart_box.add_class("analytics-chart-canvas")
        super().__init__([self.head, self.message, self._chart_box, self.notes, self.download])
        self.add_class("analytics-chart")
        self.add_class(f"analytics-panel--{name}")
        self.loading()

    def _head(self, state: str) -> None:
        self.state = state
        hint = f'<span class="analytics-hint">{html.escape(self.hint)}</span>' if self.hint and state == "ready" else ""
        self.head.value = (
            f'<div class="analytics-panel-head" data-chart="{html.escape(self.name)}" data-state="{state}">'
            f"<b>{html.escape(self.title)}</b>{info_icon(self.definition)}{hint}</div>"
        )

    def _message(self, state: str, text: str) -> None:
        self._head(state)
        self.message.value = f'<div class="analytics-state {state}">{html.escape(text)}</div>'
        # Hidden but still laid out: a chart drawn into a box with display:none would measure its container as
        # 0 pixels wide ("container" width) and stay 0 wide.
        self._chart_box.layout.visibility = "hidden"
        self._chart_box.layout.height = "0px"
        self.notes.value = ""
        self.download.set(None, "")

    def loading(self) -> None:
        """Show that the chart is being computed (a skeleton with a "loading…" note)."""
        self._message("loading", "Loading…")
        self.message.value = '<div class="analytics-state loading analytics-skeleton">Loading…</div>'

    def empty(self, text: str = "No data for the selected period and filters.") -> None:
        """A friendly empty state (no data is not an error)."""
        self._message("empty", text)

    def error(self, text: str = "This chart could not be loaded; the details are in the server log.") -> None:
        """A failure, without any traceback (that goes to the server log)."""
        self._message("error", text)

    def show(self, chart: Any, notes: Sequence[str] = ()) -> Any:
        """Draw the altair ``chart`` in the browser (replacing whatever was shown); returns the chart widget."""
        self._chart_box.layout.height = None
        self._chart_box.layout.visibility = "visible"
        self.message.value = ""
        self.chart.chart = chart
        self.notes.value = "".join(f'<div class="analytics-note">{html.escape(n)}</div>' for n in notes)
        self._head("ready")
        return self.chart
