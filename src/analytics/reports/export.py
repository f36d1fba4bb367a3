"""Exports of an executed report notebook: HTML without code, a PDF with its charts, and its tables.

* HTML: nbconvert's ``lab`` template with ``exclude_input`` (and prompts) so readers see headings, KPI cards,
  charts (inline SVG) and tables, never code. Parameter cells disappear entirely.
* PDF: a plain print layout (headings, KPI table, charts as PNG drawn by vl-convert, tables) turned into PDF
  by xhtml2pdf; no browser is involved.
* Tables: every table the notebook displayed (see :mod:`analytics.reports.display`) as ``tables/<name>.csv``
  (safe to open in a spreadsheet: :mod:`analytics.reports.safe_csv`) and ``tables/<name>.json`` (pandas
  ``orient="table"``: schema plus rows, exact values).
"""

from __future__ import annotations

import gc
import html
import json
import re
import warnings
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from analytics.errors import ReportError
from analytics.reports.display import TABLE_MIME
from analytics.reports.safe_csv import write_csv

__all__ = [
    "export_html",
    "export_pdf",
    "export_report",
    "export_tables",
    "read_notebook",
    "report_tables",
]

_TEMPLATES = Path(__file__).with_name("templates")
_ANCHOR = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>')
_HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "papermill-error-cell-tag"}
_PDF_CSS = (_TEMPLATES / "report_pdf.css").read_text(encoding="utf-8")  # the print layout of the PDF


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read an executed notebook (nbformat 4)."""
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read the executed notebook {path}: {exc}") from exc


def _visible_cells(nb: nbformat.NotebookNode) -> list[Any]:
    return [c for c in nb.cells if not _HIDDEN_TAGS & set(c.get("metadata", {}).get("tags", []))]


def _frame(payload: dict[str, Any]) -> pd.DataFrame:
    """A displayed table back as a DataFrame: values exactly as written (integers stay integers), dates parsed."""
    table = payload["table"]
    fields = table.get("schema", {}).get("fields", [])
    frame = pd.DataFrame(table["data"], columns=[f["name"] for f in fields] or None)
    for f in fields:
        if f.get("type") == "datetime":
            frame[f["name"]] = pd.to_datetime(frame[f["name"]])
    return frame


def report_tables(nb: nbformat.NotebookNode) -> dict[str, pd.DataFrame]:
    """Every table the notebook displayed, by name, as DataFrames with their exact values."""
    tables: dict[str, pd.DataFrame] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(TABLE_MIME)
            if payload:
                tables[str(payload["name"])] = _frame(payload)
    return tables


def export_tables(nb: nbformat.NotebookNode, directory: Path) -> list[Path]:
    """Write each displayed table as ``<name>.csv`` and ``<name>.json`` in ``directory``.

    The CSV is safe to open in a spreadsheet (text that would read as a formula gets a leading single quote,
    see :mod:`analytics.reports.safe_csv`); the JSON keeps every value exactly as displayed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(TABLE_MIME)
            if not payload:
                continue
            name = str(payload["name"])
            fields = [f["name"] for f in payload["table"].get("schema", {}).get("fields", [])]
            # object columns: integers stay integers next to fractions (pandas would make both floats)
            frame = pd.DataFrame(payload["table"]["data"], columns=fields or None, dtype=object)
            csv_path = write_csv(frame, directory / f"{name}.csv")
            json_path = directory / f"{name}.json"
            json_path.write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
            written += [csv_path, json_path]
    return written


def export_html(nb: nbformat.NotebookNode, path: Path, title: str) -> Path:
    """The report as one self-contained HTML file without any code."""
    from nbconvert import HTMLExporter

    visible = nbformat.from_dict({**nb, "cells": _visible_cells(nb)})
    exporter = HTMLExporter(
        template_name="lab",
        template_file="analytics_report.html.j2",
        extra_template_paths=[str(_TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_markdown=False,
    )
    body, _ = exporter.from_notebook_node(visible, resources={"metadata": {"name": title}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def _pdf_output_html(output: Any) -> str:
    data = output.get("data", {})
    if output.get("output_type") == "stream":
        return "" if output.get("name") == "stderr" else f"<pre>{html.escape(str(output.get('text', '')))}</pre>"
    if TABLE_MIME in data and data[TABLE_MIME].get("name") == "kpis":
        frame = pd.DataFrame(data[TABLE_MIME]["table"]["data"])
        shown = frame[["label", "shown", "change"]].rename(
            columns={"label": "Key figure", "shown": "Value", "change": "Change vs previous"}
        )
        return shown.to_html(index=False, border=0, escape=True)
    if "image/png" in data:
        return f'<p><img src="data:image/png;base64,{data["image/png"]}" width="500"/></p>'
    if "text/html" in data:
        return str(data["text/html"])
    if "text/markdown" in data:
        from nbconvert.filters import markdown2html

        return _ANCHOR.sub("", str(markdown2html(str(data["text/markdown"]))))
    if "text/plain" in data:
        return f"<pre>{html.escape(str(data['text/plain']))}</pre>"
    return ""


def _pdf_document(nb: nbformat.NotebookNode, title: str) -> str:
    from nbconvert.filters import markdown2html

    parts = [f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_PDF_CSS}</style>"]
    parts.append("</head><body>")
    for cell in _visible_cells(nb):
        if cell.cell_type == "markdown":
            parts.append(_ANCHOR.sub("", str(markdown2html(cell.source))))
        elif cell.cell_type == "code":
            parts.extend(_pdf_output_html(o) for o in cell.get("outputs", []) if o.get("output_type") != "error")
    parts.append("</body></html>")
    return "".join(parts)


def export_pdf(nb: nbformat.NotebookNode, path: Path, title: str) -> Path:
    """The report as a PDF with its charts (PNG) and tables, made by xhtml2pdf without a browser."""
    from xhtml2pdf import pisa

    path.parent.mkdir(parents=True, exist_ok=True)
    # xhtml2pdf spills large buffers (the embedded chart PNGs) to temporary files it never closes; they are
    # deleted when collected, which Python reports as a ResourceWarning. Collect them here, quietly.
    with path.open("wb") as out, warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        status = pisa.CreatePDF(_pdf_document(nb, title), dest=out, encoding="utf-8")
        gc.collect()
    if status.err:
        raise ReportError(f"the PDF report {path} could not be written ({status.err} error(s) from xhtml2pdf)")
    return path


def export_report(executed: Path, out_dir: Path, *, title: str | None = None) -> dict[str, Path]:
    """HTML, PDF and tables of an executed report notebook into ``out_dir``; returns the paths by kind.

    Raises
    ------
    ReportError
        The notebook cannot be read, has an error output, or the PDF cannot be made.
    """
    nb = read_notebook(executed)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise ReportError(
                    f"{executed.name} has an error in cell In [{cell.get('execution_count')}] "
                    f"({output.get('ename')}: {output.get('evalue')}); not exporting a broken report"
                )
    name = executed.stem
    if title is None:
        params = nb.metadata.get("papermill", {}).get("parameters", {})
        shown = [str(params[k]) for k in ("account_id", "period", "as_of") if params.get(k)]
        title = " · ".join([name.replace("_", " ").capitalize(), *shown])
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "html": export_html(nb, out_dir / f"{name}.html", title),
        "pdf": export_pdf(nb, out_dir / f"{name}.pdf", title),
    }
    export_tables(nb, out_dir / "tables")
    files["tables"] = out_dir / "tables"
    return files
