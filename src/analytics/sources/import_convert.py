"""Column converters for imports: input values of any reasonable dtype -> canonical typed columns, vectorized.

Each converter takes one input column (CSV text, or the typed values of a DataFrame/Parquet column) and returns
the canonical column, a mask of rows whose value is unusable and a function that explains one bad value. The
canonical forms are what :mod:`analytics.sources.import_writer` writes:

=========  =======================================================
kind       canonical pandas form
=========  =======================================================
timestamp  ``datetime64[us, UTC]``
date       ``datetime64`` at midnight (no zone)
integer    ``Int64`` (``money`` too, and never negative)
number     ``float64``
boolean    ``boolean``
decimal    ``object`` holding normalized decimal text
text       ``string[pyarrow]`` (``enum``, ``currency`` and ``json`` text too)
=========  =======================================================

A column whose *dtype* cannot hold the kind at all (naive datetimes for a timestamp, floats for an exact decimal)
raises :class:`ColumnTypeProblem`: that is a problem of the whole file, not of its rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

from analytics.sources.import_spec import ImportColumn

__all__ = ["ColumnTypeProblem", "Converted", "convert_column"]

_TS = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
_ZONE = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)"
_TS_WITH_ZONE = _TS + r"\s*" + _ZONE
_TS_NO_ZONE = rf"{_TS}|\d{{4}}-\d{{2}}-\d{{2}}"
_DATE = r"\d{4}-\d{2}-\d{2}"
_INTEGER = r"[+-]?\d{1,18}"
_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_DECIMAL_PLACES = 10  # ExactDecimal is NUMERIC(24, 10)
_DECIMAL_LIMIT = Decimal(10) ** (24 - _DECIMAL_PLACES)
_TEXT: Final = "string[pyarrow]"
_TEXTY = ("string", "empty")  # what infer_dtype says about an object column of text


class ColumnTypeProblem(Exception):
    """A whole column has a dtype that cannot hold its kind (reported as a file-level error)."""


@dataclass
class Converted:
    """One converted column: canonical values, the rows that failed, and why a given raw value failed."""

    values: pd.Series
    bad: np.ndarray
    reason: Callable[[Any], str]


def _flags(mask: Any) -> np.ndarray:
    """A plain, writable boolean array from a (possibly nullable) boolean mask; NA counts as False."""
    if isinstance(mask, pa.Array | pa.ChunkedArray):
        return np.array(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    if isinstance(mask, pd.Series):
        return mask.fillna(False).to_numpy(dtype=bool, copy=True)
    return np.array(mask, dtype=bool)  # a writable copy (arrow-backed results can be read-only views)


def _stringify(value: Any) -> Any:
    """Text for one non-text Python value in an object column (dates, decimals, numbers, bools, dicts)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _as_text(s: pd.Series) -> pd.Series:
    """The column as pyarrow-backed text (NA for missing); non-text objects are stringified one by one."""
    if isinstance(s.dtype, pd.StringDtype):
        return s if s.dtype.storage == "pyarrow" else s.astype(_TEXT)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if s.dtype == object and ptypes.infer_dtype(s, skipna=True) not in _TEXTY:
        s = pd.Series([_stringify(v) for v in s.to_numpy()], index=s.index, dtype=object)
    return s.astype(_TEXT)


# String checks go straight to pyarrow.compute: pandas' ``str`` dtype runs some of them as Python loops.
def _arrow(t: pd.Series) -> Any:
    return pa.array(t.array)


def _from_arrow(values: Any, index: pd.Index) -> pd.Series:
    return pd.Series(values.to_pandas().array, index=index)


def _blank_to_na(t: pd.Series) -> pd.Series:
    """Trimmed text; empty or blank cells become missing."""
    trimmed = pc.utf8_trim_whitespace(_arrow(t))
    return _from_arrow(pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed), t.index)


def _matches(t: pd.Series, pattern: str) -> np.ndarray:
    """Which cells match ``pattern`` as a whole (missing cells: False)."""
    return _flags(pc.match_substring_regex(_arrow(t), f"^(?:{pattern})$"))


def _lower(t: pd.Series) -> pd.Series:
    return _from_arrow(pc.utf8_lower(_arrow(t)), t.index)


def _is_text_like(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype) or s.dtype == object


def _timestamp(s: pd.Series, col: ImportColumn) -> Converted:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        values = s.dt.tz_convert("UTC").dt.as_unit("us")
        return Converted(values, np.zeros(len(s), dtype=bool), lambda v: "")
    if ptypes.is_datetime64_dtype(s.dtype):
        raise ColumnTypeProblem(
            f"holds datetimes without a time zone ({s.dtype}); give them one, "
            f"e.g. frame[{col.name!r}] = frame[{col.name!r}].dt.tz_localize('UTC')"
        )
    if not _is_text_like(s):
        raise ColumnTypeProblem(
            f"holds {s.dtype} values; timestamps are ISO 8601 text with a zone (2025-01-31T10:00:00Z) "
            "or time-zone-aware datetimes"
        )
    t = _blank_to_na(_as_text(s))
    shaped = _matches(t, _TS_WITH_ZONE)
    parsed = pd.to_datetime(t.where(shaped).astype(object), format="ISO8601", utc=True, errors="coerce")
    values = parsed.dt.as_unit("us")
    bad = _flags(t.notna()) & _flags(values.isna())

    def reason(raw: Any) -> str:
        text = _stringify(raw)
        text = text.strip() if isinstance(text, str) else str(text)
        if re.fullmatch(_TS_NO_ZONE, text):
            return (
                f"timestamp {text!r} has no time zone; append 'Z' for UTC or an offset such as '+02:00' "
                "(2025-01-31T10:00:00Z)"
            )
        return f"{text!r} is not an ISO 8601 timestamp; write it like 2025-01-31T10:00:00Z"

    return Converted(values, bad, reason)


def _date(s: pd.Series, col: ImportColumn) -> Converted:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        raise ColumnTypeProblem(f"holds instants ({s.dtype}); a date column wants calendar dates (YYYY-MM-DD)")
    if ptypes.is_datetime64_dtype(s.dtype):
        values = s.dt.normalize()
        bad = _flags(s.notna()) & _flags(values != s)
        return Converted(values, bad, lambda v: f"{v} has a time of day; a date column wants YYYY-MM-DD")
    if not _is_text_like(s):
        raise ColumnTypeProblem(f"holds {s.dtype} values; dates are text YYYY-MM-DD or datetime.date values")
    t = _blank_to_na(_as_text(s))
    shaped = _matches(t, _DATE)
    values = pd.to_datetime(t.where(shaped).astype(object), format="%Y-%m-%d", errors="coerce")
    bad = _flags(t.notna()) & _flags(values.isna())
    return Converted(values, bad, lambda v: f"{v!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-01-31")


def _boolean(s: pd.Series, col: ImportColumn) -> Converted:
    n = len(s)
    if ptypes.is_bool_dtype(s.dtype):
        return Converted(s.astype("boolean"), np.zeros(n, dtype=bool), lambda v: "")
    if ptypes.is_numeric_dtype(s.dtype):
        ok = _flags(s.isin([0, 1]))
        values = (s == 1).astype("boolean").mask(~pd.Series(ok, index=s.index))
        bad = _flags(s.notna()) & ~ok
        return Converted(values, bad, lambda v: f"{v!r} is not a boolean; use 1 or 0 (or true/false)")
    t = _lower(_blank_to_na(_as_text(s)))
    yes = _flags(t.isin(_TRUE))
    no = _flags(t.isin(_FALSE))
    values = pd.Series(pd.NA, index=s.index, dtype="boolean")
    values[yes] = True
    values[no] = False
    bad = _flags(t.notna()) & ~(yes | no)
    return Converted(values, bad, lambda v: f"{v!r} is not a boolean; use true/false, 1/0 or yes/no")


def _integer_reason(col: ImportColumn) -> Callable[[Any], str]:
    money = col.type == "money"

    def reason(raw: Any) -> str:
        text = str(_stringify(raw)).strip()
        try:
            number: Decimal | None = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            return f"{text!r} is not a whole number; write digits only, e.g. 42"
        if money and number < 0:
            return f"{text} is negative; money amounts are non-negative minor units (refunds have their own columns)"
        if re.fullmatch(_INTEGER, text) or (number == number.to_integral_value() and "." not in text):
            return f"{text} is out of range ({col.min_value} to {col.max_value})"
        if money:
            cents = number.scaleb(2)
            example = (
                f"{number} usd is written {int(cents)}" if cents == cents.to_integral_value() else "49.00 usd is 4900"
            )
            return f"{text} is not a whole number; money columns hold integer minor units (e.g. {example})"
        return f"{text!r} is not a whole number; write digits only, e.g. 42"

    return reason


def _integer(s: pd.Series, col: ImportColumn) -> Converted:
    if ptypes.is_bool_dtype(s.dtype):
        raise ColumnTypeProblem("holds booleans; this column wants whole numbers")
    if ptypes.is_integer_dtype(s.dtype):
        values = s.astype("Int64")
        present = _flags(values.notna())
    elif ptypes.is_float_dtype(s.dtype):
        f = s.astype("float64").to_numpy()
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < 2.0**63)
        values = pd.Series(np.where(whole, f, np.nan), index=s.index).astype("Int64")
        present = ~np.isnan(f)
    elif _is_text_like(s):
        t = _blank_to_na(_as_text(s))
        shaped = _matches(t, _INTEGER)
        values = t.where(shaped).astype("int64[pyarrow]").astype("Int64")
        present = _flags(t.notna())
    else:
        raise ColumnTypeProblem(f"holds {s.dtype} values; this column wants whole numbers")
    low = -(2**63) if col.min_value is None else col.min_value
    high = 2**63 - 1 if col.max_value is None else col.max_value
    bad = present & ~_flags(values.between(low, high))
    return Converted(values.mask(pd.Series(bad, index=s.index)), bad, _integer_reason(col))


def _number(s: pd.Series, col: ImportColumn) -> Converted:
    if ptypes.is_numeric_dtype(s.dtype) and not ptypes.is_bool_dtype(s.dtype):
        values = s.astype("float64")
        return Converted(values, np.zeros(len(s), dtype=bool), lambda v: "")
    if not _is_text_like(s):
        raise ColumnTypeProblem(f"holds {s.dtype} values; this column wants numbers")
    t = _blank_to_na(_as_text(s))
    values = pd.to_numeric(t.astype(object), errors="coerce").astype("float64")
    bad = _flags(t.notna()) & _flags(values.isna())
    return Converted(values, bad, lambda v: f"{v!r} is not a number; write it like 0.25")


def _normalized_decimal(text: str) -> str | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or abs(value) >= _DECIMAL_LIMIT:
        return None
    if isinstance(exponent, int) and exponent < -_DECIMAL_PLACES:
        return None
    return str(value)


def _decimal(s: pd.Series, col: ImportColumn) -> Converted:
    if ptypes.is_float_dtype(s.dtype):
        raise ColumnTypeProblem(
            f"holds binary floats ({s.dtype}); an exact decimal column wants decimal.Decimal values or text like '12.5'"
        )
    if not (_is_text_like(s) or ptypes.is_integer_dtype(s.dtype)):
        raise ColumnTypeProblem(f"holds {s.dtype} values; this column wants exact decimals such as '12.5'")
    t = _blank_to_na(_as_text(s))
    shaped = t.where(_matches(t, _DECIMAL))
    uniques = pd.unique(shaped.dropna().to_numpy(dtype=object))
    normal = {u: _normalized_decimal(u) for u in uniques}
    values = shaped.astype(object).map(normal, na_action="ignore")
    bad = _flags(t.notna()) & _flags(values.isna())
    return Converted(
        values.astype(object).where(values.notna(), None),
        bad,
        lambda v: (
            f"{v!r} is not an exact decimal with at most {_DECIMAL_PLACES} decimals; "
            "write it like 12.5 (no thousands separators)"
        ),
    )


def _json_ok(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _json_dump(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value if _json_ok(value) else _BAD_JSON
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return _BAD_JSON


_BAD_JSON = "\x00bad json"


def _json(s: pd.Series, col: ImportColumn) -> Converted:
    if _is_text_like(s) and (isinstance(s.dtype, pd.StringDtype) or ptypes.infer_dtype(s, skipna=True) in _TEXTY):
        # JSON text: each distinct text is parsed once.
        t = s.astype(_TEXT)
        t = t.mask(t == "")
        invalid = [u for u in pd.unique(t.dropna()) if not _json_ok(u)]
        bad = _flags(t.isin(invalid)) if invalid else np.zeros(len(s), dtype=bool)
        values = t.mask(pd.Series(bad, index=s.index)) if invalid else t
    else:  # Python objects (dicts, lists, numbers) are serialized one by one
        values = pd.Series([_json_dump(v) for v in s.to_numpy(dtype=object)], index=s.index, dtype=object)
        bad = _flags(values == _BAD_JSON)
        values = values.where(~bad, None)
    return Converted(
        values,
        bad,
        lambda v: f'{str(v)[:80]!r} is not valid JSON; write JSON text such as {{"key": "value"}}',
    )


def _text(s: pd.Series, col: ImportColumn) -> Converted:
    t = _as_text(s)
    if col.type in ("enum", "currency"):
        t = _blank_to_na(t)
    text = _arrow(t)
    bad = _flags(pc.match_substring(text, "\x00"))
    if col.max_length is not None:
        bad |= _flags(pc.greater(pc.utf8_length(text), col.max_length))
    if col.allowed_values is not None:
        bad |= _flags(t.notna()) & ~_flags(t.isin(col.allowed_values))
    values = t.mask(pd.Series(bad, index=s.index)) if bad.any() else t
    return Converted(values, bad, _text_reason(col))


def _text_reason(col: ImportColumn) -> Callable[[Any], str]:
    def reason(raw: Any) -> str:
        text = str(_stringify(raw))
        if "\x00" in text:
            return "contains a NUL character; remove it"
        if col.type == "currency":
            code = text.strip()
            if code.lower() in (col.allowed_values or ()):
                return f"currency {code!r} must be lower case: write {code.lower()!r}"
            return (
                f"unknown currency {code!r}; use a lower-case ISO 4217 code such as 'usd' or 'eur' "
                "(the list is in docs/import-schema.md)"
            )
        if col.allowed_values is not None and text.strip() not in col.allowed_values:
            return f"{text.strip()!r} is not an allowed {col.name}; use one of: {', '.join(col.allowed_values)}"
        return f"is {len(text)} characters long; at most {col.max_length} fit, shorten it"

    return reason


_CONVERTERS: dict[str, Callable[[pd.Series, ImportColumn], Converted]] = {
    "timestamp": _timestamp,
    "date": _date,
    "boolean": _boolean,
    "integer": _integer,
    "money": _integer,
    "number": _number,
    "decimal": _decimal,
    "json": _json,
    "text": _text,
    "enum": _text,
    "currency": _text,
}


def convert_column(s: pd.Series, col: ImportColumn) -> Converted:
    """Convert one input column to its canonical form; see the module docstring.

    Raises
    ------
    ColumnTypeProblem
        The column's dtype cannot hold values of this kind at all.
    """
    s = s.reset_index(drop=True)
    if isinstance(s.dtype, pd.ArrowDtype):  # back to pandas' own dtypes (tz-aware datetimes, Int64, str)
        s = pa.array(s.array).to_pandas(types_mapper=_NULLABLE_INTS.get)
    return _CONVERTERS[col.type](s, col)


_NULLABLE_INTS = {
    pa.int8(): pd.Int64Dtype(),
    pa.int16(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.Int64Dtype(),
    pa.uint16(): pd.Int64Dtype(),
    pa.uint32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
