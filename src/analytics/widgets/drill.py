"""Drill-down: the rows behind a number a viewer clicked, shown on the page under the panel they clicked in.

A panel that can be drilled into has a :class:`Drill`: which fields of a clicked chart mark (or which KPI card)
identify the number, and a function giving the rows behind it (from :mod:`analytics.metrics.drilldown`). The
frame puts a :class:`DrillArea` under each row of panels; a click fills it with a title, the first rows as a
table, how many rows there are in all and a CSV download of all of them.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd

from analytics.kpis import Filters, NotAvailable
from analytics.widgets.table import DownloadLink, csv_filename, html_table, infer_units

__all__ = ["Drill", "DrillArea", "DrillRows"]

log = logging.getLogger("analytics.dashboards")


@dataclass(frozen=True)
class DrillRows:
    """What a drill-down shows: a title, the rows, an optional note (e.g. the definition used)."""

    title: str
    rows: pd.DataFrame
    note: str = ""
    currency: str = "usd"


@dataclass(frozen=True)
class Drill:
    """How a click becomes rows.

    Attributes
    ----------
    fields:
        The fields of the clicked chart mark that identify the number (``("movement",)``); empty for KPI cards.
    rows:
        ``rows(selection, filters)`` → :class:`DrillRows`, where ``selection`` maps each field to the clicked
        mark's value. May raise :class:`~analytics.kpis.NotAvailable` (shown as a note).
    hint:
        What clicking does, shown under the chart ("Click a bar to see its members").
    """

    fields: tuple[str, ...]
    rows: Callable[[Mapping[str, Any], Filters], DrillRows]
    hint: str = "Click a mark to see the rows behind it."


class DrillArea(widgets.VBox):
    """The rows behind a clicked number (hidden until something is clicked)."""

    max_rows = 50

    def __init__(self) -> None:
        self.body = widgets.HTML()
        self.download = DownloadLink("Download all rows (CSV)")
        self.close = widgets.Button(description="Close", layout=widgets.Layout(width="90px"))
        self.close.on_click(lambda _b: self.hide())
        super().__init__([self.body, widgets.HBox([self.download, self.close])], layout=widgets.Layout(display="none"))
        self.add_class("analytics-drill")
        self.state = "hidden"

    def _set(self, state: str, inner: str) -> None:
        self.state = state
        self.body.value = f'<div class="analytics-drill-body" data-state="{state}">{inner}</div>'
        self.layout.display = None

    def hide(self) -> None:
        self.state = "hidden"
        self.layout.display = "none"
        self.download.set(None, "")

    def run(self, title: str, produce: Callable[[], DrillRows], filename_parts: tuple[object, ...]) -> None:
        """Show a loading line, then the rows ``produce()`` returns (or why there are none)."""
        self._set("loading", f"<b>{html.escape(title)}</b><div class='analytics-state'>Loading the rows…</div>")
        self.download.set(None, "")
        try:
            result = produce()
        except NotAvailable as exc:
            self._set("empty", f"<b>{html.escape(title)}</b><div class='analytics-state'>{html.escape(str(exc))}</div>")
            return
        except Exception:
            reference = secrets.token_hex(3)
            log.exception("drill-down %r failed (reference %s)", title, reference)
            self._set(
                "error",
                f"<b>{html.escape(title)}</b><div class='analytics-state error'>These rows could not be loaded "
                f"(reference {reference} in the server log).</div>",
            )
            return
        self.show(result, filename_parts)

    def show(self, result: DrillRows, filename_parts: tuple[object, ...]) -> None:
        rows = result.rows
        count = len(rows)
        shown = min(count, self.max_rows)
        more = f" · first {shown} shown, download the CSV for all" if count > shown else ""
        note = f"<div class='analytics-caption'>{html.escape(result.note)}</div>" if result.note else ""
        table = (
            html_table(rows, units=infer_units(rows), currency=result.currency, max_rows=self.max_rows)
            if count
            else "<div class='analytics-state'>No rows.</div>"
        )
        self._set(
            "ready",
            f"<b>{html.escape(result.title)}</b> <span class='analytics-caption' data-rows='{count}'>"
            f"{count:,} row{'s' if count != 1 else ''}{more}</span>{note}"
            f"<div class='analytics-table'>{table}</div>",
        )
        self.download.set(rows, csv_filename(*filename_parts))
