"""Bulk import of CSV/Parquet files and DataFrames into the store, validated, quarantined and idempotent.

The rules (also in ``docs/import-schema.md``, generated from :func:`import_columns`):

* A file's columns are the table's columns (any order, case-insensitive). Optional columns may be left out:
  new rows get NULL or the column's default, existing rows keep their value. An unknown column, a missing
  required column, an empty file, a file that is not UTF-8 or an unreadable Parquet file is a **file-level**
  problem: :class:`~analytics.errors.ImportFileError` names it and nothing of that file is loaded.
* Every row is checked (types, currency, non-negative money, allowed values, time zones, required values, the
  account exists, each key once per file). A bad row is **quarantined** with the reason (file, 1-based data row,
  column, what to do) and its raw values; the other rows load.
* A file is **one transaction**: its rows and its quarantine entries are committed together or not at all.
* Re-importing is **idempotent**: rows are upserted on the table's primary key (``(account_id, id)``); when the
  file carries ``updated_at`` an existing row is only replaced by an equal or newer one. A rejected row that is
  already in the quarantine, unresolved, for the same table, file name, row, reason and raw values is not
  quarantined again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.clock import Clock, utcnow
from analytics.errors import ImportFileError, StoreError
from analytics.sources.import_readers import CHUNK_ROWS, OpenedFile, open_table_file
from analytics.sources.import_spec import ImportColumn, TableSpec, import_columns, table_spec
from analytics.sources.import_validate import SeenKeys, match_columns, validate_chunk
from analytics.sources.import_writer import writer_for
from analytics.store.jobs import DEFAULT_HEARTBEAT_TIMEOUT, job_run
from analytics.store.quarantine import Rejected, quarantine_rows
from analytics.store.schema import accounts, quarantine

__all__ = ["FileReport", "ImportColumn", "ImportReport", "import_columns", "import_files", "import_frame"]

MAX_PROBLEMS = 20  # row problems kept in a report for display; all of them are in the quarantine


@dataclass(frozen=True)
class FileReport:
    """What happened to one file (or DataFrame) of an import.

    ``quarantined`` counts this import's rejected rows, ``already_quarantined`` those of them that were already
    in the quarantine from an earlier import of the same file; ``error`` is the file-level problem, if any.
    """

    file: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    already_quarantined: int = 0
    error: str | None = None
    problems: tuple[str, ...] = ()
    duration_seconds: float = 0.0

    def __str__(self) -> str:
        if self.error:
            return f"{self.file}: NOT IMPORTED: {self.error}"
        again = f" ({self.already_quarantined} already in quarantine)" if self.already_quarantined else ""
        return f"{self.file}: {self.read:,} read, {self.loaded:,} loaded, {self.quarantined:,} quarantined{again}"


@dataclass(frozen=True)
class ImportReport:
    """The counts of an import: rows read, loaded and quarantined, in total and per file.

    Attributes
    ----------
    files:
        The files (or the DataFrame's ``source``) in the order given.
    per_file:
        A :class:`FileReport` per file, with its counts, file-level error and first row problems.
    """

    table: str
    files: tuple[str, ...]
    read: int
    loaded: int
    quarantined: int
    duration_seconds: float
    job_run_id: str | None
    per_file: tuple[FileReport, ...] = field(default=())

    @property
    def errors(self) -> tuple[str, ...]:
        """File-level errors (files of which nothing was loaded)."""
        return tuple(f.error for f in self.per_file if f.error)

    @property
    def ok(self) -> bool:
        """No file failed (rows may still have been quarantined)."""
        return not self.errors

    @property
    def rows_per_second(self) -> float:
        return self.read / self.duration_seconds if self.duration_seconds > 0 else 0.0

    def __str__(self) -> str:
        failed = f", {len(self.errors)} file(s) failed" if self.errors else ""
        lines = [
            f"import into {self.table}: {len(self.files)} file(s), {self.read:,} read, {self.loaded:,} loaded, "
            f"{self.quarantined:,} quarantined{failed} in {self.duration_seconds:.1f} s"
            + (f" (job run {self.job_run_id})" if self.job_run_id else "")
        ]
        lines += [f"  {f}" for f in self.per_file]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per file: file, read, loaded, quarantined, already_quarantined, error, duration_seconds."""
        columns = ["file", "read", "loaded", "quarantined", "already_quarantined", "error", "duration_seconds"]
        return pd.DataFrame([{c: getattr(f, c) for c in columns} for f in self.per_file], columns=columns)

    def summary(self) -> dict[str, Any]:
        """The counts as plain JSON-able values (stored in the job run's summary)."""
        return {
            "table": self.table,
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "duration_seconds": round(self.duration_seconds, 3),
            "files": [
                {
                    "file": f.file,
                    "read": f.read,
                    "loaded": f.loaded,
                    "quarantined": f.quarantined,
                    "already_quarantined": f.already_quarantined,
                    "error": f.error,
                }
                for f in self.per_file
            ],
        }


def _report(table: str, files: Sequence[FileReport], started: float, job_run_id: str | None) -> ImportReport:
    return ImportReport(
        table=table,
        files=tuple(f.file for f in files),
        read=sum(f.read for f in files),
        loaded=sum(f.loaded for f in files),
        quarantined=sum(f.quarantined for f in files),
        duration_seconds=time.perf_counter() - started,
        job_run_id=job_run_id,
        per_file=tuple(files),
    )


def _new_rejections(conn: sa.Connection, rejected: list[Rejected]) -> list[Rejected]:
    """The rejections not already waiting, unresolved, in the quarantine (same table, file, row, reason, raw)."""
    first = rejected[0]
    numbers = [r.row_number or 0 for r in rejected]
    existing = conn.execute(
        sa.select(quarantine.c.row_number, quarantine.c.reason, quarantine.c.raw).where(
            quarantine.c.source == "import",
            quarantine.c.table_name == first.table_name,
            quarantine.c.file == first.file,
            quarantine.c.resolved_at.is_(None),
            quarantine.c.row_number.between(min(numbers), max(numbers)),
        )
    )
    known = {tuple(row) for row in existing}
    return [r for r in rejected if (r.row_number, r.reason, r.raw) not in known]


def _load(
    engine: Engine,
    spec: TableSpec,
    opened: OpenedFile,
    *,
    file: str,
    label: str,
    job_run_id: str | None,
    clock: Clock,
    bar: Any = None,
) -> FileReport:
    """Validate and upsert every chunk of one file in one transaction; quarantine its bad rows."""
    mapping = match_columns(spec, opened.columns, file=label)
    present = [c.name for c in spec.columns if c.name in mapping.values()]
    started = time.perf_counter()
    read = loaded = rejected_count = already = 0
    problems: list[str] = []
    try:
        with engine.begin() as conn:
            write = writer_for(conn, spec, present)
            known = frozenset(conn.execute(sa.select(accounts.c.id)).scalars()) if spec.checks_account else None
            seen = SeenKeys()
            for chunk in opened.chunks:
                result = validate_chunk(
                    spec, chunk, columns=mapping, file=label, first_row=read + 1, known_accounts=known, seen=seen
                )
                read += result.read
                loaded += write(result.valid[present])
                if result.rejected:
                    fresh = _new_rejections(conn, result.rejected)
                    quarantine_rows(conn, fresh, job_run_id=job_run_id, clock=clock)
                    rejected_count += len(result.rejected)
                    already += len(result.rejected) - len(fresh)
                    problems.extend(r.reason for r in result.rejected[: max(0, MAX_PROBLEMS - len(problems))])
                if bar is not None:
                    bar.update(opened.position() - bar.n)
    except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
        raise ImportFileError(
            f"the database refused the rows ({str(exc.orig).strip().splitlines()[0]}); nothing of this file was "
            "loaded: fix the file and import it again",
            file=label,
        ) from exc
    except sa.exc.DBAPIError as exc:
        raise StoreError(f"writing {file} into {spec.name} failed: {exc.orig}; nothing of it was loaded") from exc
    return FileReport(
        file=file,
        read=read,
        loaded=loaded,
        quarantined=rejected_count,
        already_quarantined=already,
        problems=tuple(problems),
        duration_seconds=time.perf_counter() - started,
    )


def _frame_chunks(frame: pd.DataFrame) -> Iterable[pd.DataFrame]:
    for start in range(0, len(frame), CHUNK_ROWS):
        yield frame.iloc[start : start + CHUNK_ROWS]


def import_frame(
    engine: Engine,
    table: str,
    frame: pd.DataFrame,
    *,
    source: str = "<dataframe>",
    job_run_id: str | None = None,
    clock: Clock = utcnow,
) -> ImportReport:
    """Validate a DataFrame and upsert it into a store table; bad rows go to the quarantine.

    The frame's columns are the table's (see :func:`import_columns`); timestamps may be tz-aware datetimes or
    ISO 8601 text with a zone, money integer minor units, JSON columns Python dicts/lists or JSON text (text is
    faster). Everything is one transaction. ``source`` names the frame in messages and in the quarantine; pass
    the caller's job run id to link quarantined rows to it (no job run is recorded here).

    Raises
    ------
    ImportFileError
        Unknown table, no columns, unknown or missing required columns, or a column whose dtype cannot hold
        its type (e.g. naive datetimes). Nothing is loaded.

    Examples
    --------
    >>> report = import_frame(engine, "accounts", pd.DataFrame({"id": ["biz_1"], "title": ["Demo"]}))
    >>> report.loaded
    1
    """
    spec = table_spec(table)
    started = time.perf_counter()
    if not isinstance(frame, pd.DataFrame):
        raise ImportFileError(f"expected a pandas DataFrame, got {type(frame).__name__}", file=source)
    opened = OpenedFile(
        columns=[str(c) for c in frame.columns],
        chunks=iter(_frame_chunks(frame.rename(columns=str))),
        total=len(frame),
        unit="rows",
        position=lambda: 0,
    )
    result = _load(engine, spec, opened, file=source, label=source, job_run_id=job_run_id, clock=clock)
    return _report(spec.name, [result], started, job_run_id)


def import_files(
    engine: Engine,
    table: str,
    paths: Sequence[str | Path],
    *,
    clock: Clock = utcnow,
    progress: bool = True,
    on_error: Literal["raise", "skip"] = "raise",
    heartbeat_timeout: timedelta = DEFAULT_HEARTBEAT_TIMEOUT,
) -> ImportReport:
    """Import CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``) files into a store table, streaming each.

    Each file is read in chunks (a multi-GB file need not fit in memory), validated, upserted and its bad rows
    quarantined, in one transaction per file. One job run of kind ``import`` records the counts.

    Parameters
    ----------
    on_error:
        What a file-level problem does: ``"raise"`` (default) stops at that file and raises (files before it
        stay imported); ``"skip"`` records the error in the report and goes on with the next file.
    heartbeat_timeout:
        After how long without a heartbeat an earlier import counts as abandoned (``analytics.store.jobs``).

    Raises
    ------
    ImportFileError
        Unknown table; or, with ``on_error="raise"``, the first file that cannot be imported (nothing of it
        is loaded).
    """
    spec = table_spec(table)
    started = time.perf_counter()
    done: list[FileReport] = []
    params = {"table": spec.name, "files": [str(p) for p in paths]}
    with job_run(engine, "import", params=params, clock=clock, heartbeat_timeout=heartbeat_timeout) as run:
        try:
            for given in paths:
                path = Path(given)
                label = path.name
                file_started = time.perf_counter()
                try:
                    opened = open_table_file(path, name=label)
                    unit_scale = opened.unit == "B"
                    with tqdm(
                        total=opened.total, unit=opened.unit, unit_scale=unit_scale, desc=label, disable=not progress
                    ) as bar:
                        done.append(
                            _load(
                                engine,
                                spec,
                                opened,
                                file=str(given),
                                label=label,
                                job_run_id=run.id,
                                clock=clock,
                                bar=bar,
                            )
                        )
                except ImportFileError as exc:
                    done.append(
                        FileReport(file=str(given), error=str(exc), duration_seconds=time.perf_counter() - file_started)
                    )
                    if on_error == "raise":
                        raise
        finally:
            report = _report(spec.name, done, started, run.id)
            run.summary = report.summary()
    return report
