"""The import path is generic: every table of the schema takes a row of every column type, on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from import_testkit import ACCOUNT, table_rows
from sqlalchemy.engine import Engine

from analytics.sources import import_columns, import_frame
from analytics.sources.import_spec import IMPORTABLE_TABLES, NOT_IMPORTABLE, ImportColumn
from analytics.store import create_store_engine, init_store
from analytics.store.enums import ENUMS
from analytics.store.keys import DERIVED_KEY
from analytics.store.schema import metadata

# One valid CSV cell per type, and what the store gives back for it.
SAMPLES: dict[str, tuple[str, object]] = {
    "text": ("some text", "some text"),
    "integer": ("42", 42),
    "money": ("4900", 4900),
    "number": ("0.25", 0.25),
    "decimal": ("12.5", Decimal("12.5")),
    "boolean": ("yes", True),
    "timestamp": ("2025-01-31T12:00:00+02:00", datetime(2025, 1, 31, 10, tzinfo=UTC)),
    "date": ("2025-01-31", date(2025, 1, 31)),
    "json": ('{"a": [1, 2]}', {"a": [1, 2]}),
    "currency": ("eur", "eur"),
}


def _cell(table: str, col: ImportColumn) -> tuple[str, object]:
    if col.name == "account_id" or (table == "accounts" and col.name == "id"):
        return ACCOUNT if table != "accounts" else "biz_other", ACCOUNT if table != "accounts" else "biz_other"
    if col.type == "enum":
        value = (col.allowed_values or ("",))[0]
        return value, value
    if col.type == "text" and col.max_length is not None and col.max_length < len("some text"):
        return "x", "x"
    return SAMPLES[col.type]


def _full_row(table: str) -> tuple[pd.DataFrame, dict[str, object]]:
    cells = {c.name: _cell(table, c) for c in import_columns(table)}
    frame = pd.DataFrame({name: [text] for name, (text, _) in cells.items()}, dtype="str")
    return frame, {name: expected for name, (_, expected) in cells.items()}


@pytest.fixture
def duckdb_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_store_engine(f"duckdb:///{tmp_path}/store.duckdb")
    init_store(eng)
    yield eng
    eng.dispose()


def _import_every_table(engine: Engine) -> None:
    import_frame(engine, "accounts", pd.DataFrame({"id": [ACCOUNT], "title": ["Demo"]}))
    for table in IMPORTABLE_TABLES:
        frame, expected = _full_row(table)
        report = import_frame(engine, table, frame, source=f"{table}.csv")
        assert (report.read, report.loaded, report.quarantined) == (1, 1, 0), (table, report.per_file[0].problems)
        rows = table_rows(engine, table)
        if table == "accounts":
            rows = rows[rows["id"] == "biz_other"]
        assert len(rows) == 1, table
        got = rows.iloc[0].to_dict()
        for name, value in expected.items():
            assert got[name] == value, (table, name, got[name], value)
        # Required columns only: the rest are NULL or their server default.
        required = [c.name for c in import_columns(table) if c.required]
        minimal = frame[required]
        assert import_frame(engine, table, minimal, source=f"{table}-minimal.csv").loaded == 1


def test_every_table_takes_every_type(engine: Engine) -> None:
    _import_every_table(engine)


def test_every_table_takes_every_type_on_duckdb(duckdb_engine: Engine) -> None:
    _import_every_table(duckdb_engine)


def test_import_columns_come_from_the_schema() -> None:
    for table in IMPORTABLE_TABLES:
        t = metadata.tables[table]
        columns = {c.name: c for c in import_columns(table)}
        # member_key is derived from the member id on the way in (analytics.store.keys), never read from a file
        readable = [c for c in t.c if DERIVED_KEY not in c.info]
        assert list(columns) == [c.name for c in readable]
        for column in readable:
            col = columns[column.name]
            assert col.required == (not column.nullable and column.server_default is None)
            assert col.key == column.primary_key
            if (table, column.name) in ENUMS:
                assert set(col.allowed_values or ()) == ENUMS[(table, column.name)]
            if column.comment:
                assert col.description == column.comment or column.name == "account_id"
    payments = {c.name: c for c in import_columns("payments")}
    assert (payments["total_minor"].type, payments["total_minor"].required) == ("money", True)
    assert (payments["created_at"].type, payments["currency"].type, payments["status"].type) == (
        "timestamp",
        "currency",
        "enum",
    )
    assert payments["refunded_amount_minor"].required is False  # server default 0
    assert set(NOT_IMPORTABLE) | set(IMPORTABLE_TABLES) == set(metadata.tables)


def test_sqlite_fast_path_and_portable_path_store_the_same_values(sqlite_engine: Engine) -> None:
    from analytics.sources import import_writer
    from analytics.sources.import_convert import convert_column
    from analytics.sources.import_spec import table_spec

    import_frame(sqlite_engine, "accounts", pd.DataFrame({"id": [ACCOUNT], "title": ["Demo"]}))
    frame, _ = _full_row("payments")
    spec = table_spec("payments")
    canonical = pd.DataFrame({c.name: convert_column(frame[c.name], c).values for c in spec.columns})
    written = {}
    for fast in (True, False):
        with sqlite_engine.begin() as conn:
            import_writer.writer_for(conn, spec, list(canonical.columns), fast=fast)(canonical)
        with sqlite_engine.begin() as conn:
            written[fast] = conn.execute(sa.text("SELECT * FROM payments")).mappings().one()
            conn.execute(sa.text("DELETE FROM payments"))
    assert written[True] == written[False]
