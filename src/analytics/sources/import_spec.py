"""What each store table accepts on import, derived from the schema (:mod:`analytics.store.schema`).

Nothing here is hand-copied: column names, types, nullability, server defaults and comments come from the
SQLAlchemy table, allowed values from :mod:`analytics.store.enums` and currencies from
:data:`analytics.store.money.CURRENCY_EXPONENTS`. The import validator, the writer and the generated
``docs/import-schema.md`` all read the same :class:`TableSpec`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from analytics.errors import ImportFileError
from analytics.store.enums import ENUMS
from analytics.store.keys import DERIVED_KEY
from analytics.store.money import CURRENCY_EXPONENTS
from analytics.store.schema import metadata
from analytics.store.types import ExactDecimal, UTCDateTime

__all__ = [
    "IMPORTABLE_TABLES",
    "KIND_FORMATS",
    "NOT_IMPORTABLE",
    "ImportColumn",
    "TableSpec",
    "import_columns",
    "table_spec",
]

# Tables the workbook writes itself as a log of what it did; importing rows into them would falsify that log.
NOT_IMPORTABLE: dict[str, str] = {
    "job_runs": "it is the workbook's own log of runs",
    "quarantine": "it is where the workbook puts rejected rows (resolve them in place instead)",
    "webhook_inbox": "it holds raw webhook deliveries exactly as received",
    "webhook_versions": "it records which webhook delivery each record's state came from",
}

IMPORTABLE_TABLES: tuple[str, ...] = tuple(t.name for t in metadata.sorted_tables if t.name not in NOT_IMPORTABLE)

_CURRENCY_COLUMNS = frozenset({"currency", "quote_currency", "reporting_currency"})
_INT32 = 2**31 - 1

# How a value of each kind is written in a CSV cell (the "Types" section of docs/import-schema.md).
KIND_FORMATS: dict[str, str] = {
    "text": "any UTF-8 text; an empty cell is NULL",
    "enum": "one of the listed values, exactly as written (lower case)",
    "currency": "lower-case ISO 4217 code: " + ", ".join(sorted(CURRENCY_EXPONENTS)),
    "integer": "a whole number such as `42`",
    "money": "a whole, non-negative number of minor units of the row's `currency` (`4900` = 49.00 usd, 49 jpy = `49`)",
    "number": "a decimal number such as `0.25` (stored as a float)",
    "decimal": "an exact decimal such as `12.5` (at most 10 digits after the point; never a binary float)",
    "boolean": "`true`/`false`, `1`/`0` or `yes`/`no` (any case)",
    "timestamp": "ISO 8601 date and time **with a zone**: `2025-01-31T10:00:00Z` or `2025-01-31T12:00:00+02:00`",
    "date": "a calendar date `YYYY-MM-DD`",
    "json": 'JSON text such as `{"page": "home"}` (in CSV: quote the cell and double the inner quotes)',
}


@dataclass(frozen=True)
class ImportColumn:
    """One importable column of a store table.

    Attributes
    ----------
    name:
        The column name, as the file's header must spell it.
    type:
        The type as users write it (``text``, ``money``, ``timestamp``, …); see :data:`KIND_FORMATS`.
    required:
        The column must be in every file and no cell may be empty.
    allowed_values:
        The only accepted values (Whop enumerations, currencies), or ``None``.
    description:
        What the column holds (from the schema's column comment where there is one).
    max_length:
        Longest accepted text, or ``None``.
    default:
        The value an empty cell gets when the column has a server default (else empty means NULL).
    key:
        Part of the table's primary key (the upsert's natural key).
    """

    name: str
    type: str
    required: bool
    allowed_values: tuple[str, ...] | None
    description: str
    max_length: int | None = None
    default: Any = None
    key: bool = False
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class TableSpec:
    """Everything the import path needs to know about one table."""

    table: sa.Table
    columns: tuple[ImportColumn, ...]

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.primary_key.columns)

    @property
    def by_name(self) -> dict[str, ImportColumn]:
        return {c.name: c for c in self.columns}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def checks_account(self) -> bool:
        """Rows carry an ``account_id`` that must exist in ``accounts``."""
        return "account_id" in self.table.c and any(
            fk.column.table.name == "accounts" for fk in self.table.c.account_id.foreign_keys
        )

    @property
    def derived(self) -> dict[str, str]:
        """Columns the import computes instead of reading (``member_key`` ← its id column), name → source."""
        return {c.name: c.info[DERIVED_KEY] for c in self.table.c if DERIVED_KEY in c.info}

    @property
    def newer_column(self) -> str | None:
        """The column that protects newer rows from older re-imports (``updated_at``), if any."""
        return "updated_at" if "updated_at" in self.table.c else None


def _kind(table: str, column: sa.Column[Any]) -> str:
    ctype = column.type
    if isinstance(ctype, UTCDateTime):
        return "timestamp"
    if isinstance(ctype, ExactDecimal):
        return "decimal"
    if isinstance(ctype, sa.JSON):
        return "json"
    if isinstance(ctype, sa.Boolean):
        return "boolean"
    if isinstance(ctype, sa.Date):
        return "date"
    if isinstance(ctype, sa.Float):
        return "number"
    if isinstance(ctype, sa.Integer):
        return "money" if column.name.endswith("_minor") else "integer"
    if isinstance(ctype, sa.String):
        if column.name in _CURRENCY_COLUMNS:
            return "currency"
        if (table, column.name) in ENUMS:
            return "enum"
        return "text"
    raise TypeError(f"{table}.{column.name}: no import kind for column type {ctype!r}")


def _server_default(column: sa.Column[Any], kind: str) -> Any:
    default = column.server_default
    if default is None:
        return None
    arg = getattr(default, "arg", None)
    if isinstance(arg, sa.sql.elements.True_):
        return True
    if isinstance(arg, sa.sql.elements.False_):
        return False
    if isinstance(arg, str):
        return int(arg) if kind in ("integer", "money") else arg
    raise TypeError(f"{column.table.name}.{column.name}: unsupported server default {arg!r}")


def _describe(table: sa.Table, column: sa.Column[Any], kind: str) -> str:
    text = column.comment or ""
    if column.name == "account_id" and table.name != "accounts":
        text = "Whop account id (`biz_…`); the account must already be in `accounts`"
    elif column.name == "id" and not text:
        text = "the row's id, unique within the account (upsert key)"
    elif not text and column.name.endswith("_id"):
        text = f"id of the {column.name[:-3].replace('_', ' ')}"
    elif not text and kind == "money":
        text = f"{column.name[:-6].replace('_', ' ')} in minor units of `currency`"
    elif not text and kind == "timestamp":
        text = f"when ({column.name.removesuffix('_at').replace('_', ' ')})"
    return text


def _build(table: sa.Table) -> TableSpec:
    columns = []
    for column in table.c:
        if DERIVED_KEY in column.info:  # computed from another column of the row, never read from a file
            continue
        kind = _kind(table.name, column)
        default = _server_default(column, kind)
        if kind == "enum":
            allowed: tuple[str, ...] | None = tuple(sorted(ENUMS[(table.name, column.name)]))
        elif kind == "currency":
            allowed = tuple(sorted(CURRENCY_EXPONENTS))
        else:
            allowed = None
        length = getattr(column.type, "length", None) if kind in ("text", "enum") else None
        low: int | None = None
        high: int | None = None
        if kind == "money":
            low, high = 0, 2**63 - 1
        elif kind == "integer":
            big = isinstance(column.type, sa.BigInteger)
            low, high = (-(2**63), 2**63 - 1) if big else (-_INT32 - 1, _INT32)
        columns.append(
            ImportColumn(
                name=column.name,
                type=kind,
                required=not column.nullable and column.server_default is None,
                allowed_values=allowed,
                description=_describe(table, column, kind),
                max_length=length,
                default=default,
                key=column.primary_key,
                min_value=low,
                max_value=high,
            )
        )
    return TableSpec(table=table, columns=tuple(columns))


@functools.cache
def _specs() -> dict[str, TableSpec]:
    return {name: _build(metadata.tables[name]) for name in IMPORTABLE_TABLES}


def table_spec(table: str) -> TableSpec:
    """The import spec of a store table.

    Raises
    ------
    ImportFileError
        The table does not exist or is not importable; the message lists the importable tables.
    """
    specs = _specs()
    if table in specs:
        return specs[table]
    if table in NOT_IMPORTABLE:
        raise ImportFileError(f"table {table!r} cannot be imported: {NOT_IMPORTABLE[table]}")
    raise ImportFileError(f"unknown table {table!r}; importable tables are: {', '.join(sorted(specs))}")


def import_columns(table: str) -> list[ImportColumn]:
    """Describe each importable column of ``table`` (name, type, required, allowed values, description).

    Examples
    --------
    >>> [c.name for c in import_columns("accounts") if c.required]
    ['id', 'title']
    """
    return list(table_spec(table).columns)
