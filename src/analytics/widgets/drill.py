"""Drill-down: the rows behind a number a viewer clicked, shown on the page under the panel they clicked in.

A panel that can be drilled into has a :class:`Drill`: which fields of a clicked chart mark (or which KPI card)
identify the number, and a function giving the rows behind it (from :mod:`analytics.metrics.drilldown`). The
frame puts a :class:`DrillArea` under each row of panels; a click fills it with a title, the first rows as a
table, how many rows there are in all and a CSV download of all of them.
"""

from __future__ import annotations

import html
import itertools
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

_SHOWN = itertools.count(1)

HIDDEN_COLUMNS = frozenset(
    {"member_id", "plan_id", "product_id", "membership_id", "model_id", "lesson_id", "previous_lesson_id"}
)
"""Identifiers a creator does not read (the rows carry names and titles beside them); the CSV keeps them."""

log = logging.getLogger("analytics.dashboards")


@dataclass(frozen=True)
class DrillRows:
    """What a drill-down shows: a title, the rows, an optional note (e.g. the definition used)."""

    title: str
    rows: pd.DataFrame
    note: str = ""
    currency: str = "usd"
    sections: tuple[tuple[str, pd.DataFrame], ...] = ()
    """More tables behind the same click (a member's payments and activity), each shown with its own title."""


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
    sections: int = 0
    """How many extra tables its rows can carry (:attr:`DrillRows.sections`)."""


class DrillArea(widgets.VBox):
    """The rows behind a clicked number (hidden until something is clicked)."""

    max_rows = 50

    def __init__(self, sections: int = 0) -> None:
        self.body = widgets.HTML()
        self.download = DownloadLink("Download all rows (CSV)")
        self.close_button = widgets.Button(description="Close", layout=widgets.Layout(width="90px"))
        self.close_button.on_click(lambda _b: self.hide())
        # Section widgets exist from the start (a widget created after the page is shown can be missed by it).
        self.section_bodies = [widgets.HTML() for _ in range(sections)]
        self.section_downloads = [DownloadLink("Download CSV") for _ in range(sections)]
        extra: list[widgets.Widget] = []
        for body, download in zip(self.section_bodies, self.section_downloads, strict=True):
            extra += [body, download]
        super().__init__(
            [self.body, widgets.HBox([self.download, self.close_button]), *extra], layout=widgets.Layout(display="none")
        )
        self.add_class("analytics-drill")
        self.state = "hidden"
        self.shown = 0
        """The page-wide sequence number of the last result shown here (a browser test waits for a new one)."""

    def _set(self, state: str, inner: str) -> None:
        self.state = state
        if state != "loading":
            self.shown = next(_SHOWN)
        self.body.value = (
            f'<div class="analytics-drill-body" data-state="{state}" data-shown="{self.shown}">{inner}</div>'
        )
        self.layout.display = None

    def hide(self) -> None:
        self.state = "hidden"
        self.layout.display = "none"
        self.download.set(None, "")
        self._sections(())

    def run(self, title: str, produce: Callable[[], DrillRows], filename_parts: tuple[object, ...]) -> None:
        """Show a loading line, then the rows ``produce()`` returns (or why there are none)."""
        self._set("loading", f"<b>{html.escape(title)}</b><div class='analytics-state'>Loading the rows…</div>")
        self.download.set(None, "")
        self._sections(())
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
        note = f"<div class='analytics-caption'>{html.escape(result.note)}</div>" if result.note else ""
        self._set("ready", self._table(result.title, result.rows, result.currency, note))
        self.download.set(result.rows, csv_filename(*filename_parts))
        self._sections(result.sections, result.currency, filename_parts)

    def _table(self, title: str, rows: pd.DataFrame, currency: str, note: str = "") -> str:
        count = len(rows)
        shown = min(count, self.max_rows)
        more = f" · first {shown} shown, download the CSV for all" if count > shown else ""
        shown_columns = {c: str(c).replace("_", " ") for c in rows.columns if c not in HIDDEN_COLUMNS}
        table = (
            html_table(rows, units=infer_units(rows), currency=currency, max_rows=self.max_rows, columns=shown_columns)
            if count
            else "<div class='analytics-state'>No rows.</div>"
        )
        return (
            f"<b>{html.escape(title)}</b> <span class='analytics-caption' data-rows='{count}'>"
            f"{count:,} row{'s' if count != 1 else ''}{more}</span>{note}"
            f"<div class='analytics-table'>{table}</div>"
        )

    def _sections(
        self,
        sections: tuple[tuple[str, pd.DataFrame], ...],
        currency: str = "usd",
        filename_parts: tuple[object, ...] = (),
    ) -> None:
        for i, (body, download) in enumerate(zip(self.section_bodies, self.section_downloads, strict=True)):
            if i < len(sections):
                title, rows = sections[i]
                body.value = f'<div class="analytics-drill-section">{self._table(title, rows, currency)}</div>'
                download.set(rows, csv_filename(*filename_parts, title))
            else:
                body.value = ""
                download.set(None, "")
