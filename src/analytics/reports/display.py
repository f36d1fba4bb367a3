"""What report notebooks display, in a form the exporters can read back.

Each table is displayed as HTML for people *and* as ``application/vnd.analytics.table+json`` (the DataFrame in
pandas' ``orient="table"`` JSON with its name and title); each chart as SVG (sharp in HTML and JupyterLab) *and*
PNG (for the PDF), tagged with its name in the output metadata. The executed notebook is therefore the single
record of a report: :mod:`analytics.reports.export` turns it into HTML, PDF, CSV and JSON without recomputing,
and tests read the numbers straight from it.

Tables are written to fit a printed page: a number never wraps (``100.0 %`` keeps a no-break space), number
columns are right-aligned and text columns left-aligned (classes ``num``/``text``), each column gets a width in
proportion to its longest value, and a table of more than seven columns is marked ``wide`` (a smaller type in
the PDF).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd
from IPython.display import display

from analytics.charts import to_png, to_svg
from analytics.formatting import format_value
from analytics.kpis import Kpi
from analytics.widgets.kpi import kpi_card_html
from analytics.widgets.style import STYLESHEET

__all__ = [
    "CHART_METADATA",
    "TABLE_MIME",
    "kpi_frame",
    "shares_adding_to_100",
    "show_chart",
    "show_heading",
    "show_highlights",
    "show_kpis",
    "show_list",
    "show_note",
    "show_table",
    "table_bundle",
    "table_html",
]

TABLE_MIME = "application/vnd.analytics.table+json"
CHART_METADATA = "analytics"
WIDE_COLUMNS = 7
"""Tables with more columns than this are marked ``wide`` (printed in a smaller type)."""
_NUMBER = re.compile(r"^[-+]?(?:[A-Z]{0,2}[$€£¥₹])?[-+]?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|pts|×|days|[A-Z]{3}))?$")
_TEXT_WIDTH = 28  # text wraps: a long title does not get more room than this many characters


def shares_adding_to_100(counts: Sequence[int], decimals: int = 1) -> list[float]:
    """Percent shares of ``counts`` rounded to ``decimals`` so that they add up to exactly 100 (all zero: zeros).

    Largest remainder: every share is rounded down, then the units still missing go to the largest remainders
    (ties to the first). ``[1, 1, 1]`` → ``[33.4, 33.3, 33.3]``; ``[1, 16, 143]`` → ``[0.6, 10.0, 89.4]``.
    """
    total = sum(counts)
    if total <= 0:
        return [0.0 for _ in counts]
    unit = 10**decimals
    exact = [c * 100 * unit / total for c in counts]
    floors = [int(x) for x in exact]
    missing = 100 * unit - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += 1
    return [f / unit for f in floors]


def _is_number_column(values: Iterable[Any]) -> bool:
    seen = False
    for value in values:
        text = str(value).strip()
        if text in ("", "–", "nan", "None"):
            continue
        if not _NUMBER.match(text):
            return False
        seen = True
    return seen


def table_html(shown: pd.DataFrame, *, name: str = "") -> str:
    """The people's table as HTML that fits a page (see the module docstring)."""
    kinds = {c: "num" if _is_number_column(shown[c]) else "text" for c in shown.columns}
    cells = {
        c: ["–" if pd.isna(v) else str(v).replace(" ", "\u00a0") if kinds[c] == "num" else str(v) for v in shown[c]]
        for c in shown.columns
    }
    weights = {}
    for c in shown.columns:
        header = max((len(w) for w in str(c).split()), default=1) + 1
        longest = max((len(v) for v in cells[c]), default=1)
        weights[c] = max(header, min(longest, _TEXT_WIDTH) if kinds[c] == "text" else longest, 3)
    total = sum(weights.values()) or 1
    wide = " wide" if len(shown.columns) > WIDE_COLUMNS else ""
    head = "".join(
        f'<th class="{kinds[c]}" width="{weights[c] / total * 100:.0f}%">{html.escape(str(c))}</th>'
        for c in shown.columns
    )
    rows = "".join(
        "<tr>" + "".join(f'<td class="{kinds[c]}">{html.escape(cells[c][i])}</td>' for c in shown.columns) + "</tr>"
        for i in range(len(shown))
    )
    return (
        f'<table class="analytics-report-table{wide}" data-table="{html.escape(name)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


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
                shown[column] = ["–" if pd.isna(v) else format_value(v, unit, currency) for v in shown[column]]
        if columns:
            shown = shown[[c for c in columns if c in shown]].rename(columns=dict(columns))
    caption = f"<h4>{html.escape(title)}</h4>" if title else ""
    data = json.loads(frame.to_json(orient="table", index=False, date_format="iso", date_unit="s"))
    body = table_html(shown, name=name)
    return {
        "text/html": f'<div class="analytics-table" data-table="{html.escape(name)}">{caption}{body}</div>',
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


def show_note(text: str) -> None:
    """A short paragraph in italics (a base, a caveat, what is missing and which command produces it)."""
    display({"text/markdown": f"_{text}_", "text/plain": text}, raw=True)


def show_list(
    name: str,
    lines: Iterable[str],
    frame: pd.DataFrame,
    *,
    title: str = "",
    units: Mapping[str, str] | None = None,
    currency: str = "usd",
) -> None:
    """Sentences as a bullet list for people, with ``frame`` (their exact numbers) attached as table ``name``."""
    items = list(lines)
    bundle = table_bundle(name, frame, title=title, units=units, currency=currency)
    caption = f"<h4>{html.escape(title)}</h4>" if title else ""
    listed = "".join(f"<li>{html.escape(line)}</li>" for line in items)
    bundle["text/html"] = (
        f'<div class="analytics-list" data-table="{html.escape(name)}">{caption}<ul>{listed}</ul></div>'
    )
    bundle["text/plain"] = "\n".join([title, *(f"- {line}" for line in items)]) if title else "\n".join(items)
    display(bundle, raw=True)


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
    cards = "".join(kpi_card_html(k) for k in items)
    frame = kpi_frame(items)
    bundle = table_bundle("kpis", frame, title="Key figures", currency=currency)
    bundle["text/html"] = (
        f'{STYLESHEET}<div class="analytics-kpis" style="display:flex;flex-wrap:wrap;gap:12px">{cards}</div>'
    )
    display(bundle, raw=True)
