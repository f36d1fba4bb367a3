"""Whop dashboard CSV exports (members, memberships, payments) mapped onto the store's tables.

For creators without an API key: the CSV files the Whop dashboard exports are read, their columns recognised by
name and converted, and the result goes through the normal import path (:func:`~analytics.sources.import_frame`:
same validation, quarantine, idempotent upsert, one transaction per file).

Whop does not document the export headers, so reasonable variants are accepted (:data:`EXPORT_FIELDS`):
header matching ignores case and treats spaces, ``_`` and ``-`` alike; the first recognised header of a field
wins; other columns are ignored and reported. Conversions:

* **Amounts** are major units as shown in the dashboard (``$49.00``, ``49.00``, ``1,234.56``, ``49,00 EUR``) and
  are converted exactly to minor units with :func:`analytics.store.money.to_minor`. The currency is a 3-letter
  code inside the amount, else the ``Currency`` column, else ``currency=`` (default ``usd``). Symbols are ignored.
* **Dates** may be ISO 8601 or dashboard text (``2025-01-31 10:00``, ``Jan 31, 2025``, ``1/31/2025`` — month
  first). Without a zone they are read in ``timezone=`` (default UTC).
* **Member ids**: the ``Member ID`` cell, else ``mber_user_<user id>``, else ``mber_email_<hash of the e-mail>``,
  so the members and memberships of one export link up. **Products/plans** given by name get stable ids
  ``prod_export_<name>`` / ``plan_export_<product>_<plan>``; a memberships export without a plan column gets one
  plan per product.
* **Statuses** are matched leniently (``Cancelled`` → ``canceled``, ``Past Due`` → ``past_due``); payment
  statuses as the dashboard shows them (``Succeeded``, ``Refunded``, ``Failed``, …) become Whop's
  ``status``/``substatus`` pair (:data:`PAYMENT_STATUS_MAP`). Values that still don't fit are quarantined.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.errors import DataValidationError, ImportFileError
from analytics.sources.import_readers import open_table_file
from analytics.sources.imports import ImportReport, import_frame
from analytics.sources.whop_export_fields import (
    EXPORT_FIELDS,
    EXPORT_KINDS,
    PAYMENT_STATUS_MAP,
    REQUIRED_FIELDS,
    STATUS_ALIASES,
    ExportField,
    ExportKind,
)
from analytics.store.enums import PAYMENT_SUBSTATUSES
from analytics.store.jobs import job_run
from analytics.store.money import is_currency, to_minor
from analytics.store.schema import accounts

__all__ = [
    "EXPORT_FIELDS",
    "EXPORT_KINDS",
    "PAYMENT_STATUS_MAP",
    "ExportField",
    "import_whop_export",
    "map_whop_export",
    "recognised_headers",
]


def _norm(header: object) -> str:
    return re.sub(r"[\s_\-]+", " ", str(header).strip().lower())


def _token(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.strip().lower()).strip("-")[:40]
    return slug or hashlib.sha1(value.encode()).hexdigest()[:12]


def _cells(frame: pd.DataFrame, header: str | None) -> pd.Series:
    if header is None:
        return pd.Series(None, index=frame.index, dtype=object)
    values = frame[header].astype(object).where(frame[header].notna(), None)
    values = values.map(lambda v: (v.strip() or None) if isinstance(v, str) else None).astype(object)
    return values.where(values.notna(), None)


def _member_ids(frame: pd.DataFrame, found: dict[str, str], direct: tuple[str, ...]) -> pd.Series:
    """Member ids: the member id column (a ``user_…`` id there counts as a user id), else from the user id, else
    from the e-mail, so every export of one account derives the same id for the same person."""
    member = _cells(frame, next((found[h] for h in direct if h in found), None))
    user = _cells(frame, found.get("user id"))
    user = user.where(user.notna(), member.where(member.map(lambda m: isinstance(m, str) and m.startswith("user_"))))
    member = member.where(~member.map(lambda m: isinstance(m, str) and m.startswith("user_")), None)
    email = _cells(frame, found.get("email") or found.get("customer email"))
    from_user = user.map(lambda u: f"mber_user_{u}" if isinstance(u, str) else None)
    from_email = email.map(
        lambda e: f"mber_email_{hashlib.sha1(e.lower().encode()).hexdigest()[:16]}" if isinstance(e, str) else None
    )
    return member.where(member.notna(), from_user.where(from_user.notna(), from_email))


def _timestamps(values: pd.Series, zone: ZoneInfo) -> pd.Series:
    parsed: dict[str, str] = {}
    for text in pd.unique(values.dropna()):
        try:
            stamp = pd.Timestamp(str(text))
        except (ValueError, OverflowError):
            continue  # left as written: the import quarantines it with the reason
        if pd.isna(stamp):
            continue
        stamp = stamp.tz_localize(zone) if stamp.tzinfo is None else stamp
        parsed[text] = stamp.tz_convert("UTC").isoformat().replace("+00:00", "Z")
    return values.map(lambda v: parsed.get(v, v) if v is not None else None)


_CODE = re.compile(r"\b([A-Za-z]{3})\b")


def _amount(text: str | None, currency: str) -> tuple[str | None, str]:
    """Minor units (as text) of a dashboard amount, and the currency it is in."""
    if text is None:
        return None, currency
    code = _CODE.search(text)
    if code and is_currency(code.group(1).lower()):
        currency = code.group(1).lower()
    number = re.sub(r"[^\d,.\-]", "", text.replace("(", "-"))
    if "," in number and "." in number:
        decimal_mark = "," if number.rfind(",") > number.rfind(".") else "."
        number = number.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    elif "," in number:
        number = number.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", number) else number.replace(",", ".")
    try:
        return str(to_minor(Decimal(number), currency)), currency
    except (InvalidOperation, DataValidationError):
        return text, currency  # left as written: the import quarantines it with the reason


def _statuses(kind: str, column: str, values: pd.Series) -> pd.Series:
    tokens = values.map(lambda v: _token(v) if isinstance(v, str) else v)
    if column == "status" and kind in STATUS_ALIASES:
        aliases = STATUS_ALIASES[kind]
        tokens = tokens.map(lambda v: aliases.get(v, v) if isinstance(v, str) else v)
    return tokens


def _find(frame: pd.DataFrame) -> dict[str, str]:
    return {_norm(c): str(c) for c in reversed(list(frame.columns))}


def recognised_headers(kind: str, headers: list[str]) -> tuple[list[str], list[str]]:
    """Split a file's headers into those this export kind uses and those it ignores."""
    known = {h for f in EXPORT_FIELDS[_kind(kind)] for h in f.headers}
    used = [h for h in headers if _norm(h) in known]
    return used, [h for h in headers if _norm(h) not in known]


def _kind(kind: str) -> ExportKind:
    if kind not in EXPORT_KINDS:
        raise ImportFileError(f"unknown Whop export kind {kind!r}; use one of {', '.join(EXPORT_KINDS)}")
    return kind  # type: ignore[return-value]


def map_whop_export(
    kind: str,
    frame: pd.DataFrame,
    *,
    account_id: str,
    currency: str = "usd",
    timezone: str = "UTC",
    file: str = "<export>",
) -> pd.DataFrame:
    """Map a Whop dashboard export (all cells text) to a frame of the store table named ``kind``.

    Rows keep their order, so data row numbers in import messages are the export's.

    Raises
    ------
    ImportFileError
        A field the table needs has none of its recognised headers (the message lists them).
    """
    kind = _kind(kind)
    zone = _zone(timezone)
    found = _find(frame)
    out = pd.DataFrame(index=frame.index)
    out["account_id"] = account_id
    missing: list[str] = []
    converters: dict[str, Callable[[pd.Series], pd.Series]] = {
        "text": lambda s: s,
        "lower": lambda s: s.map(lambda v: v.lower() if isinstance(v, str) else v),
        "boolean": lambda s: s,
        "timestamp": lambda s: _timestamps(s, zone),
    }
    products: pd.Series | None = None
    for field in EXPORT_FIELDS[kind]:
        header = next((found[h] for h in field.headers if h in found), None)
        if field.convert == "member":
            direct = ("member id", "id", "member") if field.column == "id" else ("member id", "member")
            values = _member_ids(frame, found, direct) if header is not None else None
        elif header is None:
            values = None
        elif field.convert == "product":
            raw = _cells(frame, header)
            values = raw.map(
                lambda v: v if not isinstance(v, str) or v.startswith("prod_") else f"prod_export_{_slug(v)}"
            )
            products = values
        elif field.convert == "plan":
            raw = _cells(frame, header)
            prefix = (products if products is not None else pd.Series("", index=frame.index)).map(
                lambda p: _slug(str(p).removeprefix("prod_export_")) if isinstance(p, str) else "none"
            )
            values = pd.Series(
                [
                    v if not isinstance(v, str) or v.startswith("plan_") else f"plan_export_{p}_{_slug(v)}"
                    for v, p in zip(raw, prefix, strict=True)
                ],
                index=frame.index,
                dtype=object,
            )
        elif field.convert == "status":
            values = _statuses(kind, field.column, _cells(frame, header))
        elif field.convert == "amount":
            values = _cells(frame, header)
        else:
            values = converters[field.convert](_cells(frame, header))
        if values is None:
            if field.column in REQUIRED_FIELDS[kind] and field.column not in out:
                missing.append(field.column)
            continue
        if field.column not in out:  # the first field that finds a header fills the column
            out[field.column] = values
    if kind == "memberships" and "product_id" in out:  # no plan given: one plan per product
        per_product = out["product_id"].map(
            lambda p: f"plan_export_{_slug(p.removeprefix('prod_export_'))}" if isinstance(p, str) else None
        )
        out["plan_id"] = out["plan_id"].where(out["plan_id"].notna(), per_product) if "plan_id" in out else per_product
    missing = [m for m in missing if m not in out]
    if missing:
        wanted = "; ".join(
            f"{f.column}: {' / '.join(repr(h) for h in f.headers)}" for f in EXPORT_FIELDS[kind] if f.column in missing
        )
        raise ImportFileError(
            f"this {kind} export has no column for {', '.join(missing)}; recognised headers: {wanted}. "
            f"Headers found: {', '.join(map(str, frame.columns))}",
            file=file,
        )
    _money(kind, out, currency)
    if kind == "payments":
        _payment_statuses(out)
    if kind == "members" and "status" not in out:
        out["status"] = "joined"
    out = out.astype(object)
    return out.where(out.notna(), None).reset_index(drop=True)


def _money(kind: str, out: pd.DataFrame, default: str) -> None:
    """Convert every amount column to minor units in the row's currency (3-letter code > column > default)."""
    amount_columns = [c for c in out.columns if c.endswith("_minor")]
    currencies = out["currency"] if "currency" in out else pd.Series(None, index=out.index, dtype=object)
    currencies = currencies.where(currencies.notna(), default)
    for column in amount_columns:
        row_currency = "usd" if column.startswith("usd_") else None
        converted = [_amount(v, row_currency or c) for v, c in zip(out[column], currencies, strict=True)]
        out[column] = [m for m, _ in converted]
        if row_currency is None:
            currencies = pd.Series([c for _, c in converted], index=out.index, dtype=object)
    has_amounts = any(not c.startswith("usd_") for c in amount_columns)
    if kind != "members" and ("currency" in out or has_amounts):
        out["currency"] = currencies


def _payment_statuses(out: pd.DataFrame) -> None:
    mapped = out["status"].map(lambda s: PAYMENT_STATUS_MAP.get(s) if isinstance(s, str) else None)
    disputes = out["status"].map(lambda s: ("paid", s) if isinstance(s, str) and s in PAYMENT_SUBSTATUSES else None)
    pairs = mapped.where(mapped.notna(), disputes)
    given_sub = out["substatus"] if "substatus" in out else pd.Series(None, index=out.index, dtype=object)
    out["status"] = [p[0] if p else s for p, s in zip(pairs, out["status"], strict=True)]
    out["substatus"] = [
        g if isinstance(g, str) else (p[1] if p else None) for p, g in zip(pairs, given_sub, strict=True)
    ]


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ImportFileError(f"unknown time zone {timezone!r}; use an IANA name such as 'Europe/Berlin'") from exc


_TABLE = {"members": "members", "memberships": "memberships", "payments": "payments"}


def import_whop_export(
    engine: Engine,
    kind: str,
    path: str | Path,
    *,
    account_id: str,
    currency: str = "usd",
    timezone: str = "UTC",
    account_title: str | None = None,
    clock: Clock = utcnow,
) -> ImportReport:
    """Import a Whop dashboard export (``members``, ``memberships`` or ``payments`` CSV) for one account.

    The account is created (titled ``account_title`` or its id) when the store does not have it yet. One job
    run of kind ``import`` records the counts and the export's ignored columns.

    Raises
    ------
    ImportFileError
        Unknown kind, currency or time zone; an unreadable, empty or non-UTF-8 file; a needed field with no
        recognised header. Nothing of the file is loaded.
    """
    kind = _kind(kind)
    if not is_currency(currency):
        raise ImportFileError(f"unknown currency {currency!r}; use a lower-case ISO 4217 code such as 'usd'")
    path = Path(path)
    if path.name.lower().endswith(".parquet"):
        raise ImportFileError("Whop exports are CSV files; use the .csv file the dashboard gave you", file=path.name)
    opened = open_table_file(path, name=path.name)
    chunks = list(opened.chunks)
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=opened.columns, dtype="str")
    mapped = map_whop_export(kind, frame, account_id=account_id, currency=currency, timezone=timezone, file=path.name)
    _, ignored = recognised_headers(kind, opened.columns)
    params = {"whop_export": kind, "file": str(path), "currency": currency, "timezone": timezone}
    with job_run(engine, "import", account_id=account_id, params=params, clock=clock) as run:
        with engine.connect() as conn:
            exists = conn.execute(sa.select(accounts.c.id).where(accounts.c.id == account_id)).first() is not None
        if not exists:
            account = pd.DataFrame({"id": [account_id], "title": [account_title or account_id]})
            import_frame(engine, "accounts", account, source=f"--account {account_id}", job_run_id=run.id, clock=clock)
        report = import_frame(engine, _TABLE[kind], mapped, source=path.name, job_run_id=run.id, clock=clock)
        report = ImportReport(
            table=report.table,
            files=(str(path),),
            read=report.read,
            loaded=report.loaded,
            quarantined=report.quarantined,
            duration_seconds=report.duration_seconds,
            job_run_id=run.id,
            per_file=report.per_file,
        )
        run.summary = {**report.summary(), "ignored_columns": ignored, "created_account": not exists}
    return report
