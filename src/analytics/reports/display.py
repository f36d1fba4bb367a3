"""What report notebooks display, in a form the exporters can read back.

Each table is displayed as HTML for people *and* as ``application/vnd.analytics.table+json`` (the DataFrame in
pandas' ``orient="table"`` JSON with its name and title); each chart as SVG (sharp in HTML and JupyterLab) *and*
PNG (for the PDF), tagged with its name in the output metadata. The executed notebook is therefore the single
record of a report: :mod:`analytics.reports.export` turns it into HTML, PDF, CSV and JSON without recomputing,
and tests read the numbers straight from it.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt
import pandas as pd
from IPython.display import display

from analytics.charts import to_png, to_svg
from analytics.widgets.format import format_value
from analytics.widgets.kpi import Kpi
from analytics.widgets.style import STYLESHEET

__all__ = [
    "CHART_METADATA",
    "TABLE_MIME",
    "kpi_frame",
    "show_chart",
    "show_heading",
    "show_highlights",
    "show_kpis",
    "show_table",
    "table_bundle",
]

TABLE_MIME = "application/vnd.analytics.table+json"
CHART_METADATA = "analytics"


def table_bundle(
    name: str,
    frame: pd.DataFrame,
    *,
    title: str = "",
    units: Mapping[str, str] | None = None,
    currency: str = "usd",
    columns: Mapping[str, str] | None = None,
    shown: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The display bundle of a table: formatted HTML for people, plain text, and the exact data as JSON.

    ``units`` formats columns for people (money, percent, …); ``columns`` picks and renames the columns people
    see (``{"mrr_end_minor": "MRR at end"}``) while the JSON keeps every column with its exact values;
    ``shown`` replaces the people's view altogether (e.g. a cohort matrix of a long table).
    """
    if shown is None:
        shown = frame.copy()
        for column, unit in (units or {}).items():
            if column in shown:
                shown[column] = [format_value(v, unit, currency) for v in shown[column]]
        if columns:
            shown = shown[[c for c in columns if c in shown]].rename(columns=dict(columns))
    caption = f"<h4>{html.escape(title)}</h4>" if title else ""
    table_html = shown.to_html(index=False, border=0, na_rep="–", classes="analytics-report-table")
    data = json.loads(frame.to_json(orient="table", index=False, date_format="iso", date_unit="s"))
    return {
        "text/html": f'<div class="analytics-table" data-table="{html.escape(name)}">{caption}{table_html}</div>',
        "text/plain": f"{title or name}\n{frame.to_string(index=False, max_rows=30)}",
        TABLE_MIME: {"name": name, "title": title, "units": dict(units or {}), "currency": currency, "table": data},
    }


def show_table(
    name: str,
    frame: pd.DataFrame,
    *,
    title: str = "",
    units: Mapping[str, str] | None = None,
    currency: str = "usd",
    columns: Mapping[str, str] | None = None,
    shown: pd.DataFrame | None = None,
) -> None:
    """Display a table (HTML for people, JSON for exports); see :func:`table_bundle`."""
    bundle = table_bundle(name, frame, title=title, units=units, currency=currency, columns=columns, shown=shown)
    display(bundle, raw=True)


def show_chart(name: str, chart: alt.TopLevelMixin) -> None:
    """Display a chart as SVG and PNG (no JavaScript, no CDN), tagged with its name."""
    bundle = {
        "image/svg+xml": to_svg(chart),
        "image/png": base64.b64encode(to_png(chart)).decode("ascii"),
        "text/plain": f"<chart {name}>",
    }
    display(bundle, raw=True, metadata={CHART_METADATA: {"chart": name}})


def show_heading(text: str, level: int = 2) -> None:
    """A section heading (kept in HTML/PDF exports, unlike code)."""
    display({"text/markdown": f"{'#' * level} {text}", "text/plain": text}, raw=True)


def show_highlights(lines: Iterable[str]) -> None:
    """The written highlights as a bullet list."""
    items = list(lines)
    text = "\n".join(f"- {line}" for line in items) if items else "_No highlights: not enough data yet._"
    display({"text/markdown": text, "text/plain": text}, raw=True, metadata={CHART_METADATA: {"highlights": items}})


def kpi_frame(kpis: Iterable[Kpi]) -> pd.DataFrame:
    """KPIs as a table: name, label, value, previous, change (as written), unit, shown value.

    ``value`` and ``previous`` are object columns so integer minor units stay exact next to fractional rates.
    """
    items = list(kpis)
    return pd.DataFrame(
        {
            "name": [k.name for k in items],
            "label": [k.label for k in items],
            "value": pd.Series([k.value for k in items], dtype=object),
            "previous": pd.Series([k.previous for k in items], dtype=object),
            "change": [k.change_text for k in items],
            "unit": [k.unit for k in items],
            "shown": [k.text for k in items],
        }
    )


def show_kpis(kpis: Iterable[Kpi], *, currency: str = "usd") -> None:
    """KPI cards (HTML) with the exact values attached as the ``kpis`` table."""
    items = list(kpis)
    cards = "".join(k.to_html() for k in items)
    frame = kpi_frame(items)
    bundle = table_bundle("kpis", frame, title="Key figures", currency=currency)
    bundle["text/html"] = (
        f'{STYLESHEET}<div class="analytics-kpis" style="display:flex;flex-wrap:wrap;gap:12px">{cards}</div>'
    )
    display(bundle, raw=True)
