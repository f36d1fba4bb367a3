"""A chart panel that redraws in place: loading, drawn, empty or failed, never a page reload."""

from __future__ import annotations

import html

import altair as alt
import ipywidgets as widgets

from analytics.charts import to_svg

__all__ = ["ChartView"]


class ChartView(widgets.HTML):
    """Holds one chart drawn as SVG (vl-convert, in the kernel); :meth:`show` replaces it in place.

    The wrapper ``<div class="analytics-chart" data-chart=NAME data-state=STATE>`` tells a browser test which
    chart it is and whether it is ``loading``, ``ready``, ``empty`` or ``error``.
    """

    def __init__(self, name: str, title: str = "") -> None:
        super().__init__()
        self.name = name
        self.title = title
        self.state = "loading"
        self.loading()

    def _wrap(self, state: str, body: str) -> None:
        self.state = state
        self.value = (
            f'<div class="analytics-chart" data-chart="{html.escape(self.name)}" data-state="{state}">{body}</div>'
        )

    def _message(self, state: str, text: str) -> None:
        heading = f"<b>{html.escape(self.title)}</b><br>" if self.title else ""
        self._wrap(state, f'<div class="analytics-state {state}">{heading}{html.escape(text)}</div>')

    def loading(self) -> None:
        """Show that the chart is being computed."""
        self._message("loading", "Loading…")

    def empty(self, text: str = "No data for the selected period and filters.") -> None:
        """A friendly empty state (no data is not an error)."""
        self._message("empty", text)

    def error(self, text: str = "This chart could not be loaded; the details are in the server log.") -> None:
        """A failure, without any traceback (that goes to the server log)."""
        self._message("error", text)

    def show(self, chart: alt.TopLevelMixin) -> None:
        """Draw ``chart`` (replacing whatever was shown)."""
        self.show_svg(to_svg(chart))

    def show_svg(self, svg: str) -> None:
        """Show a chart already drawn as SVG (see :func:`analytics.charts.to_svg`)."""
        self._wrap("ready", svg)
