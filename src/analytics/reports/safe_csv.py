"""CSV that is safe to open in a spreadsheet: every CSV the workbook writes goes through here.

Member-written text (forum post titles, names, campaign names …) ends up in exported tables. A spreadsheet
opening a CSV treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading tab or
carriage return can hide one), so a post titled ``=HYPERLINK("http://evil.example","x")`` would become a live
link in the reader's spreadsheet ("CSV injection", CWE-1236). Following the OWASP guidance, a text cell starting
with one of :data:`FORMULA_PREFIXES` is written with a single quote in front (``'=HYPERLINK(…)``): spreadsheets
show it as text, and a reader can still see the original value.

Only text is changed. Numbers stay numbers: a numeric column, and a number inside a text column (an integer or
float object, as :func:`analytics.reports.export.export_tables` keeps them), are written as they are (``-12.5``,
not ``'-12.5``); so is a text cell that is just a number as people write it, digits with a sign, separators,
spaces and a percent sign (``"-3"``, ``"+7.7 %"``, ``"-1,234.50"``): with no letters, references or operators
inside, a spreadsheet can only read it as that number. Column names are text cells too.

The text follows RFC 4180 (sections 2.6 and 2.7, as OWASP ASVS asks): rows end with CRLF, and a cell holding a
separator, a double quote or a line break (``\n`` or a lone ``\r``) is quoted, so a cell never spills into the
next one. (Python's csv writer, which pandas uses, only quotes the characters of its line terminator, so with a
``\n`` terminator a lone ``\r`` would start a new row in a spreadsheet.)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FORMULA_PREFIXES", "csv_text", "neutralise_cell", "safe_frame", "write_csv"]

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection guidance)."""

_SPACE = " \u00a0\u202f"  # space, no-break space, narrow no-break space (thousands separators, "7.7 %")
_NUMBER_TEXT = re.compile(rf"[+-]?[\d.,{_SPACE}]*\d[\d.,{_SPACE}]*(?:[eE][+-]?\d+)?[{_SPACE}]?%?")
"""A number as text: a leading sign, digits, decimal and group separators, spaces, an exponent or a percent sign."""


def neutralise_cell(value: object) -> object:
    """``value``, with a single quote in front when it is text a spreadsheet would read as a formula.

    Non-text values (numbers, dates, missing values) and text that is only a number (``"+7.7 %"``) are returned
    unchanged.

    Examples
    --------
    >>> neutralise_cell('=HYPERLINK("http://evil.example","x")')
    '\\'=HYPERLINK("http://evil.example","x")'
    >>> neutralise_cell(-12.5), neutralise_cell("-12.5"), neutralise_cell("Intro - part 1")
    (-12.5, '-12.5', 'Intro - part 1')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER_TEXT.fullmatch(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised (see :func:`neutralise_cell`).

    Columns of a numeric, boolean or datetime dtype are left alone; text (``object``, ``string`` and
    categorical) columns are neutralised cell by cell, keeping any numbers they hold as numbers.
    """
    out = frame.copy()
    for position in range(frame.shape[1]):  # by position: column names may repeat
        series = frame.iloc[:, position]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            # cell by cell into an object array: no dtype inference, so integers next to missing values stay integers
            cells = np.empty(len(series), dtype=object)
            cells[:] = [neutralise_cell(value) for value in series]
            out.isetitem(position, cells)
    out.columns = pd.Index([neutralise_cell(c) for c in frame.columns], dtype=object)
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (header, no index, CRLF line ends), safe to open in a spreadsheet."""
    return str(safe_frame(frame).to_csv(index=False, lineterminator="\r\n"))


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` as UTF-8 CSV (see :func:`csv_text`), safe to open in a spreadsheet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(frame), encoding="utf-8", newline="")  # written as made: CRLF rows, cells untouched
    return path
