"""Report tables fit the page: shares that add up to 100 %, numbers that never wrap, text left and numbers right."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
from pypdf import PdfReader

from analytics.reports.display import shares_adding_to_100, table_bundle, table_html
from analytics.reports.export import export_pdf


def test_shares_add_up_to_exactly_100() -> None:
    # 1/3 each: 33.3 + 33.3 + 33.3 would be 99.9; the largest remainder (ties: the first) gets the last 0.1
    assert shares_adding_to_100([1, 1, 1]) == [33.4, 33.3, 33.3]
    # the demo's segments: 1, 16, 143 of 160 → 0.625, 10, 89.375 → 0.6, 10.0, 89.4
    assert shares_adding_to_100([1, 16, 143]) == [0.6, 10.0, 89.4]
    assert shares_adding_to_100([0, 0]) == [0.0, 0.0]
    for counts in ([7, 7, 7, 7, 7, 7], [1, 2, 3, 4, 5, 6, 7], [999, 1, 1]):
        assert round(sum(shares_adding_to_100(counts)), 6) == 100.0


def test_numbers_keep_to_one_line_and_columns_are_aligned_by_kind() -> None:
    shown = pd.DataFrame({"Title": ["Weekly wins thread"], "Share": ["100.0 %"], "Amount": ["$1,234.50"]})
    html = table_html(shown, name="t")
    assert '<td class="text">Weekly wins thread</td>' in html  # text wraps, left
    assert '<td class="num">100.0\u00a0%</td>' in html  # a no-break space: "100.0 %" never splits
    assert '<th class="num"' in html and "wide" not in html
    wide = pd.DataFrame({f"+{k}": ["100.0 %"] for k in range(12)})
    assert 'class="analytics-report-table wide"' in table_html(wide)  # 12 columns: the PDF's smaller type


def cohort_notebook() -> nbformat.NotebookNode:
    """A notebook whose only output is a 13-column cohort matrix (a cohort and +0 … +11 months, all 100.0 %)."""
    matrix = pd.DataFrame({"Cohort": ["2024-07-01", "2024-08-01"], **{f"+{k}": ["100.0 %"] * 2 for k in range(12)}})
    bundle = table_bundle("cohorts", matrix, title="Net MRR retention by cohort", shown=matrix)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("report.show_cohorts()")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    nb.cells.append(cell)
    return nb


def test_the_pdf_prints_a_wide_matrix_without_wrapping_a_number(tmp_path: Path) -> None:
    pdf = export_pdf(cohort_notebook(), tmp_path / "cohorts.pdf", "cohorts")
    pages = PdfReader(str(pdf)).pages
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in pages).replace("\u00a0", " ")
    rows = [line for line in text.splitlines() if line.startswith("2024-")]
    assert len(rows) == 2, text  # each cohort on one line …
    for row in rows:
        assert len(re.findall(r"100\.0 %", row)) == 12, row  # … with its twelve "100.0 %" unbroken
    assert not re.search(r"^\s*%\s*$", text, flags=re.M)  # no "%" left alone on a line
