"""``docs/import-schema.md``, rendered from :func:`import_columns` and the Whop export field list.

The page is generated, never hand-edited: a test checks that the committed file equals :func:`render_import_schema`.
Regenerate it after a schema change with::

    python -m analytics.sources.import_docs docs/import-schema.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from analytics.sources.import_readers import FORMATS
from analytics.sources.import_spec import IMPORTABLE_TABLES, KIND_FORMATS, NOT_IMPORTABLE, import_columns, table_spec
from analytics.sources.whop_export_fields import EXPORT_FIELDS, PAYMENT_STATUS_MAP, REQUIRED_FIELDS, STATUS_ALIASES

__all__ = ["render_import_schema"]

_RULES = f"""\
## How to import

```
analytics import TABLE FILE...                       # CLI: counts per file, exit code 1 if a file failed
analytics import TABLE --columns                     # the columns of TABLE
import_files(engine, "payments", ["payments.csv"])   # library (analytics.sources)
import_frame(engine, "payments", frame)              # a pandas DataFrame (what the demo generator uses)
```

Import `accounts` first: every other row names its account (`account_id`), and the account must exist.

## Rules

* **Files**: {", ".join(f"`{f}`" for f in FORMATS)} (chosen by extension). Files are streamed in chunks, so a
  file of several GB does not need to fit in memory. CSV must be UTF-8 (a BOM is fine) with a header row;
  quoted cells may contain commas and line breaks.
* **Columns** are the table's columns below, in any order; header names are matched ignoring case and
  surrounding spaces. Optional columns may be left out: a new row gets NULL (or the column's default), an
  existing row keeps its value. An empty CSV cell is NULL; in a column with a default it gets the default.
  `member_key` (in `members` and `activity_events`) is not imported: it is computed from the member id, and a
  file that has it (an export of the store) has it ignored.
* **File-level problems** load *nothing* from that file and name it: an empty file, a file that is not UTF-8
  (with the line and byte of the first bad byte), a malformed CSV line, an unreadable Parquet file, an unknown
  column (the message lists the known ones), a missing required column, a column whose type cannot hold its
  values at all (e.g. Parquet/DataFrame datetimes without a time zone, binary floats in an exact-decimal
  column), an unknown table. With several files, the CLI reports the error and goes on with the next file.
* **Row-level problems** quarantine the row and load the rest: a value of the wrong type, an unknown currency
  (or one not in lower case), a negative amount, a value outside the allowed list, a timestamp without a zone
  or that cannot be read, an empty required cell, text longer than the column allows, a key that appears
  twice in the file (the first row wins), an `account_id` that is not in `accounts`. The reason names the
  file, the data row (1 = first row after the header), the column and what to do, e.g.
  `file payments.csv, row 2, column 'currency': currency 'USD' must be lower case: write 'usd'`. The raw row
  is kept as JSON in the `quarantine` table (`analytics.store.quarantined(engine)`).
* **One transaction per file**: a file's rows and its quarantine entries are committed together; a crash in
  the middle of a file leaves nothing of it behind.
* **Idempotent**: rows are upserted on the table's key (`(account_id, id)` for account tables), so importing
  the same file again changes nothing and a corrected file updates its rows. When the file has `updated_at`,
  a stored row is only replaced by an equal or newer one (an old export never moves a record back in time).
  A rejected row that is already in the quarantine, unresolved, with the same table, file name, row number,
  reason and raw values is not quarantined again.
* **Every import is recorded** as a job run of kind `import` with its counts (read, loaded, quarantined per
  file). `import_frame` records none itself: pass your job run's id as `job_run_id=`.
* **Engines**: the same rules on SQLite (batched `executemany`), PostgreSQL (`COPY` into a temporary table, then
  one `INSERT … ON CONFLICT`) and DuckDB (an Arrow table). Throughput: `benchmarks/results/import_throughput.md`.
* **Big DataFrames**: duplicate keys are checked per call of `import_frame` (16 bytes of memory per row), so pass a
  very large frame in batches (say a million rows each); the file importers stream in chunks of 100,000 rows.
* Not importable: {", ".join(f"`{t}` ({why})" for t, why in NOT_IMPORTABLE.items())}.

## Types

| type | how to write a value |
|---|---|
""" + "\n".join(f"| {kind} | {text} |" for kind, text in KIND_FORMATS.items())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _allowed(col_type: str, values: tuple[str, ...] | None) -> str:
    if not values:
        return ""
    if col_type == "currency":
        return "ISO 4217, lower case (see Types)"
    return ", ".join(f"`{v}`" for v in values)


def _table_section(table: str) -> str:
    spec = table_spec(table)
    lines = [
        f"### {table}",
        "",
        f"{_cell(spec.table.comment or '')} Key: ({', '.join(spec.key)}).",
        "",
        "| column | type | required | allowed values | description |",
        "|---|---|---|---|---|",
    ]
    for col in import_columns(table):
        kind = col.type if col.max_length is None or col.type != "text" else f"text (≤ {col.max_length})"
        required = "**required**" if col.required else "optional"
        if col.default is not None:
            default = str(col.default).lower() if isinstance(col.default, bool) else repr(col.default)
            required += f" (default {default})"
        allowed = _allowed(col.type, col.allowed_values)
        lines.append(f"| `{col.name}` | {kind} | {required} | {allowed} | {_cell(col.description)} |")
    return "\n".join(lines)


def _header(name: str) -> str:
    """How a recognised header is usually written ("membership id" -> "Membership ID")."""
    words = {"id": "ID", "usd": "USD", "ltv": "LTV"}
    return " ".join(words.get(w, w.capitalize()) for w in name.split())


def _whop_section() -> str:
    lines = [
        "## Whop dashboard exports",
        "",
        "For creators without an API key: `analytics import-whop-export {members,memberships,payments} FILE "
        "--account biz_… [--currency usd] [--timezone UTC]` (library: "
        "`analytics.sources.whop_export.import_whop_export`). The export is mapped onto the table of the same "
        "name and then imported with the rules above (the account is created if it is new).",
        "",
        "Whop does not document its export headers, so these variants are recognised (case-insensitive; spaces, "
        "`_` and `-` are the same; the first one present wins). Other columns are ignored and listed. Amounts are "
        "major units as the dashboard shows them (`$49.00`, `1,234.56`, `49,00 EUR`) and are converted exactly to "
        "minor units; their currency is a code inside the amount, else the `Currency` column, else `--currency`. "
        "Dates may be ISO 8601 or dashboard text (`2025-01-31 10:00`, `Jan 31, 2025`, `1/31/2025`, month first); "
        "without a zone they are read in `--timezone`.",
    ]
    for kind, fields in EXPORT_FIELDS.items():
        lines += [
            "",
            f"### {kind} export → `{kind}`",
            "",
            "| column | needed | recognised headers | notes |",
            "|---|---|---|---|",
        ]
        for field in fields:
            needed = "yes" if field.column in REQUIRED_FIELDS[kind] else ""
            headers = ", ".join(f'"{_header(h)}"' for h in field.headers)
            lines.append(f"| `{field.column}` | {needed} | {headers} | {_cell(field.note)} |")
        aliases = STATUS_ALIASES.get(kind)
        if aliases:
            shown = ", ".join(f"{k} → `{v}`" for k, v in aliases.items())
            lines += ["", f"Status spellings also accepted: {shown}."]
    lines += [
        "",
        "### Payment statuses",
        "",
        "The dashboard shows one status; Whop's API has `status` and `substatus` (and no `refunded` status: a "
        "refund is a paid receipt with a refund substatus). Any other Whop substatus (e.g. `dispute_lost`) maps to "
        "`paid` with that substatus; a `Substatus` column, when present, wins.",
        "",
        "| dashboard status | status | substatus |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | `{s}` | {f'`{sub}`' if sub else ''} |" for k, (s, sub) in PAYMENT_STATUS_MAP.items()]
    return "\n".join(lines)


def render_import_schema() -> str:
    """The Markdown of ``docs/import-schema.md``: rules, types, every importable table, Whop export headers."""
    parts = [
        "# Import schema",
        "",
        "<!-- Generated by `python -m analytics.sources.import_docs docs/import-schema.md` from the store schema "
        "(analytics/store/schema.py, enums.py, money.py); do not edit by hand. -->",
        "",
        _RULES,
        "",
        "## Tables",
        "",
        "\n\n".join(_table_section(t) for t in IMPORTABLE_TABLES),
        "",
        _whop_section(),
    ]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write the page to the path given (or print it)."""
    args = sys.argv[1:] if argv is None else argv
    text = render_import_schema()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
