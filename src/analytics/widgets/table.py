"""Tables on a page: a frame written for people (money, percentages, dates) and a CSV download of the frame itself.

The shown table is formatted; the download is the frame as the library returned it (raw minor units, ISO dates), so
a spreadsheet gets exact values and a test can compare the file with the library's frame. Every CSV goes through
:func:`analytics.reports.safe_csv.csv_text` (no spreadsheet formula can hide in a member-written cell).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping

import ipywidgets as widgets
import pandas as pd

from analytics.formatting import format_value

__all__ = ["DownloadLink", "csv_filename", "html_table", "infer_units"]

INLINE_CSV_BYTES = 2_000_000
"""Larger CSVs are made when the viewer asks for them (a button), not with every refresh of the page."""


def csv_filename(*parts: object) -> str:
    """``mrr-2025-04-01-2025-06-30.csv`` from readable parts (lower case, dashes, no path characters)."""
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")[:120] + ".csv"


def infer_units(frame: pd.DataFrame) -> dict[str, str]:
    """Display units from column names: ``*_minor`` money, ``*_pct`` percentage points."""
    units: dict[str, str] = {}
    for column in frame.columns:
        name = str(column)
        if name.endswith("_minor"):
            units[name] = "money_minor"
        elif name.endswith("_pct"):
            units[name] = "percent_points"
    return units


def html_table(
    frame: pd.DataFrame,
    *,
    units: Mapping[str, str] | None = None,
    currency: str = "usd",
    columns: Mapping[str, str] | None = None,
    max_rows: int | None = None,
) -> str:
    """The first ``max_rows`` rows as an HTML table, values written by :func:`format_value`.

    Money is written in the row's own ``currency`` column when the frame has one, else in ``currency``.
    ``columns`` picks and renames the columns shown.
    """
    shown = frame.head(max_rows).copy() if max_rows else frame.copy()
    numeric = {str(c) for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])} | set(units or {})
    row_currency = shown["currency"].astype(str) if "currency" in shown else None
    for column, unit in (units or {}).items():
        if column not in shown:
            continue
        currencies = row_currency if row_currency is not None and unit == "money_minor" else None
        shown[column] = [
            format_value(v, unit, str(currencies.iloc[i]) if currencies is not None else currency)
            for i, v in enumerate(shown[column])
        ]
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            values = shown[column]
            midnight = bool(((values.dt.hour == 0) & (values.dt.minute == 0) & (values.dt.second == 0)).all())
            shown[column] = values.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M")
    names = {str(c): str(c).replace("_", " ") for c in shown.columns}
    if columns:
        keep = [c for c in columns if c in shown]
        shown, names = shown[keep], {c: columns[c] for c in keep}
    head = "".join(f'<th class="{_kind(c, numeric)}">{html.escape(names[str(c)])}</th>' for c in shown.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{_kind(c, numeric)}">{_cell(v)}</td>' for c, v in row.items()) + "</tr>"
        for _, row in shown.iterrows()
    )
    return f'<table class="analytics-data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _kind(column: object, numeric: set[str]) -> str:
    return "num" if str(column) in numeric else "text"


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, (list, tuple)):
        return html.escape("; ".join(str(v) for v in value))
    return html.escape(str(value))


class DownloadLink(widgets.HBox):
    """A "Download CSV" link for a frame: inline (a ``data:`` link) when small, made on request when large."""

    def __init__(self, label: str = "Download CSV") -> None:
        self.label = label
        self.link = widgets.HTML()
        self.prepare = widgets.Button(description=label, layout=widgets.Layout(display="none"))
        self.prepare.add_class("analytics-download-button")
        self.prepare.on_click(self._make)
        self._frame: pd.DataFrame | None = None
        self._filename = "data.csv"
        super().__init__([self.link, self.prepare])
        self.add_class("analytics-download")

    def set(self, frame: pd.DataFrame | None, filename: str) -> None:
        """Offer ``frame`` as ``filename`` (``None`` or empty hides the link)."""
        self._frame, self._filename = frame, filename
        self.link.value = ""
        self.prepare.layout.display = "none"
        if frame is None or frame.empty:
            return
        if frame.memory_usage(deep=False).sum() > INLINE_CSV_BYTES:
            self.prepare.description = f"Prepare CSV ({len(frame):,} rows)"
            self.prepare.layout.display = None
            return
        self._show_link()

    def _make(self, _button: widgets.Button) -> None:
        self.prepare.layout.display = "none"
        self._show_link()

    def _show_link(self) -> None:
        from analytics.reports.safe_csv import csv_text

        assert self._frame is not None
        payload = base64.b64encode(csv_text(self._frame).encode("utf-8")).decode("ascii")
        name = html.escape(self._filename)
        self.link.value = (
            f'<a class="analytics-csv" download="{name}" data-rows="{len(self._frame)}" '
            f'href="data:text/csv;charset=utf-8;base64,{payload}">⬇ {html.escape(self.label)}</a>'
        )
