"""The one validation path of imports: file-level checks of the header and row-level checks of each chunk.

File-level problems (no columns, unknown or missing required columns, a column whose type cannot hold its kind)
raise :class:`~analytics.errors.ImportFileError`. Row-level problems reject the row with a message that names
the file, the 1-based data row and the column and says what to do; the caller quarantines it.

Every check is vectorized over the chunk; only rejected rows are visited one by one (to word their message).
Duplicate keys are found across the chunks of a file with 64-bit hashes of the key (:class:`SeenKeys`): two
different keys colliding somewhere in 20 million rows has a chance of about 1 in 100,000, and even then the row
is quarantined with its raw values, not lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import ImportFileError
from analytics.sources.import_convert import ColumnTypeProblem, Converted, convert_column
from analytics.sources.import_spec import TableSpec
from analytics.store.quarantine import Rejected

__all__ = ["ChunkResult", "SeenKeys", "match_columns", "validate_chunk"]


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def match_columns(spec: TableSpec, names: Sequence[Any], *, file: str) -> dict[str, str]:
    """Map a file's column names to the table's (trimmed, case-insensitive); file-level checks.

    Derived columns (``member_key``) are not read: the import computes them from the row's id, so a file that
    carries one (an export of the store) has it ignored.

    Raises
    ------
    ImportFileError
        No columns, a column named twice, unknown columns, or required columns missing.
    """
    if len(names) == 0:
        raise ImportFileError("the file is empty (no header row); write a header with the column names", file=file)
    known = {c.name: c.name for c in spec.columns}
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for raw in names:
        name = str(raw).strip().lower()
        if name in seen:
            raise ImportFileError(
                f"column {name!r} appears twice in the header ({seen[name]!r} and {raw!r}); keep one", file=file
            )
        seen[name] = str(raw)
        if name in known:
            mapping[str(raw)] = known[name]
        elif name not in spec.derived:  # a derived key (member_key, e.g. in an export of the store) is recomputed
            unknown.append(str(raw))
    if unknown:
        raise ImportFileError(
            f"unknown column(s) {_quoted(unknown)} for table {spec.name}; rename or remove them. "
            f"Known columns: {', '.join(c.name for c in spec.columns)}",
            file=file,
        )
    missing = [c for c in spec.required if c not in mapping.values()]
    if missing:
        raise ImportFileError(
            f"missing required column(s) {_quoted(missing)} for table {spec.name}; add them. "
            f"Required columns: {', '.join(spec.required)}",
            file=file,
        )
    return mapping


class SeenKeys:
    """The keys already loaded from a file (64-bit hashes with the row that had them), for duplicate checks.

    Kept as a few sorted runs that are merged when they grow alike, so lookups stay logarithmic.
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def first_rows(self, hashes: np.ndarray) -> np.ndarray:
        """For each hash, the row number that already had it, or 0."""
        order = np.argsort(hashes, kind="stable")
        wanted = hashes[order]  # sorted lookups walk memory in order: far faster than random ones
        found = np.zeros(len(hashes), dtype=np.int64)
        for keys, rows in self._runs:
            pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
            hit = (keys[pos] == wanted) & (found == 0)
            found[hit] = rows[pos[hit]]
        result = np.empty_like(found)
        result[order] = found
        return result

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        if len(hashes) == 0:
            return
        order = np.argsort(hashes, kind="stable")
        self._runs.append((hashes[order], rows[order]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (k2, r2), (k1, r1) = self._runs.pop(), self._runs.pop()
            keys, rows_ = np.concatenate([k1, k2]), np.concatenate([r1, r2])
            order = np.argsort(keys, kind="stable")
            self._runs.append((keys[order], rows_[order]))


@dataclass
class ChunkResult:
    """A validated chunk: the canonical rows to load and the rejected rows to quarantine."""

    valid: pd.DataFrame
    rejected: list[Rejected] = field(default_factory=list)
    read: int = 0


@dataclass
class _Problem:
    column: str
    bad: np.ndarray
    reason: Any  # Callable[[raw value], str] or a fixed str


def _message(file: str, row: int, problems: list[tuple[str, str]]) -> str:
    if len(problems) == 1:
        column, text = problems[0]
        return f"file {file}, row {row}, column {column!r}: {text}"
    return f"file {file}, row {row}: " + "; ".join(f"column {c!r}: {t}" for c, t in problems)


def _raw_records(frame: pd.DataFrame, positions: np.ndarray) -> list[dict[str, Any]]:
    part = frame.iloc[positions]
    part = part.astype(object).where(part.notna(), None)
    return [{str(k): v for k, v in record.items()} for record in part.to_dict(orient="records")]


def _key_hashes(values: pd.DataFrame) -> np.ndarray:
    """64-bit hashes of each row's key (Python's hash of the canonical values, combined FNV-style per column).

    Python's string hash is several times faster than pandas' ``hash_pandas_object``; a column holding one value
    (typically ``account_id``) is hashed once.
    """
    n = len(values)
    combined = np.zeros(n, dtype=np.uint64)
    for name in values.columns:
        column = values[name].to_numpy(dtype=object)
        if n and (column == column[0]).all():
            hashed = np.full(n, hash(column[0]), dtype=np.int64)
        else:
            hashed = np.fromiter(map(hash, column), dtype=np.int64, count=n)
        combined = (combined * np.uint64(0x100000001B3)) ^ hashed.view(np.uint64)
    return combined


def validate_chunk(
    spec: TableSpec,
    frame: pd.DataFrame,
    *,
    columns: dict[str, str],
    file: str,
    first_row: int,
    known_accounts: frozenset[str] | None,
    seen: SeenKeys,
) -> ChunkResult:
    """Validate one chunk of a file (rows ``first_row`` …) and split it into loadable and rejected rows.

    ``columns`` maps the chunk's column names to the table's (from :func:`match_columns`).

    Raises
    ------
    ImportFileError
        A column's dtype cannot hold its kind at all (e.g. naive datetimes for a timestamp column).
    """
    n = len(frame)
    frame = frame.reset_index(drop=True)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    canonical: dict[str, pd.Series] = {}
    problems: list[_Problem] = []
    raw_by_column = {target: frame[source] for source, target in columns.items()}
    for col in spec.columns:
        if col.name not in raw_by_column:
            continue
        try:
            converted: Converted = convert_column(raw_by_column[col.name], col)
        except ColumnTypeProblem as exc:
            raise ImportFileError(str(exc), file=file, column=col.name) from exc
        values = converted.values
        if converted.bad.any():
            problems.append(_Problem(col.name, converted.bad, converted.reason))
        missing = values.isna().to_numpy(dtype=bool) & ~converted.bad
        if col.required and missing.any():
            problems.append(_Problem(col.name, missing, "missing value; this column is required, fill it in"))
        elif col.default is not None and missing.any():
            values = values.where(~missing, col.default)
        canonical[col.name] = values
    valid = pd.DataFrame(canonical)
    bad_any = np.zeros(n, dtype=bool)
    for p in problems:
        bad_any |= p.bad

    if known_accounts is not None and "account_id" in valid:
        unknown = ~valid["account_id"].isin(known_accounts).to_numpy(dtype=bool) & ~bad_any
        if unknown.any():
            problems.append(
                _Problem(
                    "account_id",
                    unknown,
                    lambda v: f"account {v!r} is not in accounts; import the accounts table first or fix the id",
                )
            )
            bad_any |= unknown

    key = list(spec.key)
    if all(k in valid for k in key) and n:
        ok = np.flatnonzero(~bad_any)
        hashes = _key_hashes(valid.iloc[ok][key])
        earlier = seen.first_rows(hashes)
        in_chunk = pd.Series(hashes).duplicated(keep="first").to_numpy()
        if in_chunk.any():
            first_in_chunk = pd.Series(rows[ok]).groupby(hashes).transform("first").to_numpy()
            earlier = np.where(earlier == 0, np.where(in_chunk, first_in_chunk, 0), earlier)
        dup = np.zeros(n, dtype=bool)
        dup[ok[earlier > 0]] = True
        first_of = np.zeros(n, dtype=np.int64)
        first_of[ok] = earlier
        keep = earlier == 0
        seen.add(hashes[keep], rows[ok][keep])
        if dup.any():
            key_label = f"({', '.join(key)})"
            problems.append(
                _Problem(
                    key[-1],
                    dup,
                    {
                        int(i): f"duplicate key {key_label}: row {first_of[i]} of this file has the same key; "
                        "keep one row per key"
                        for i in np.flatnonzero(dup)
                    },
                )
            )
            bad_any |= dup

    rejected: list[Rejected] = []
    if bad_any.any():
        positions = np.flatnonzero(bad_any)
        raws = _raw_records(frame, positions)
        order = {c.name: i for i, c in enumerate(spec.columns)}
        problems.sort(key=lambda p: order.get(p.column, len(order)))
        for pos, raw in zip(positions.tolist(), raws, strict=True):
            found: list[tuple[str, str]] = []
            for p in problems:
                if p.bad[pos]:
                    if isinstance(p.reason, str):
                        text = p.reason
                    elif isinstance(p.reason, dict):
                        text = p.reason[pos]
                    else:
                        text = p.reason(raw_by_column[p.column].iloc[pos])
                    found.append((p.column, text))
            account = raw.get(next((s for s, t in columns.items() if t == "account_id"), ""), None)
            rejected.append(
                Rejected(
                    source="import",
                    table_name=spec.name,
                    reason=_message(file, int(rows[pos]), found),
                    raw=json.dumps(raw, default=str, ensure_ascii=False),
                    account_id=str(account) if account is not None else None,
                    file=file,
                    row_number=int(rows[pos]),
                    column_name=found[0][0],
                )
            )
        valid = valid.loc[~bad_any]
    return ChunkResult(valid=valid.reset_index(drop=True), rejected=rejected, read=n)
