"""Load the demo business into a store through the same import path users use (``import_frame``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.clock import Clock, utcnow
from analytics.demo.generator import DemoBusiness, generate
from analytics.store.jobs import job_run
from analytics.store.schema import metadata

__all__ = ["clear_accounts", "load_demo"]

# Operational logs are kept when a demo account is rebuilt; everything else of the account is replaced.
_KEEP = frozenset({"accounts", "job_runs", "quarantine", "webhook_inbox"})


def clear_accounts(engine: Engine, account_ids: list[str]) -> int:
    """Delete every row of these accounts (except the account rows and operational logs); returns rows deleted.

    Loading a demo replaces its own accounts' data, so a re-run with another ``end`` leaves no stale rows.
    Other accounts in the store are untouched.
    """
    deleted = 0
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name in _KEEP or "account_id" not in table.c:
                continue
            result = conn.execute(sa.delete(table).where(table.c.account_id.in_(account_ids)))
            deleted += max(result.rowcount or 0, 0)
    return deleted


@dataclass
class _Report:
    """Stand-in for ``ImportReport`` until ``analytics.sources.imports`` is merged (same counting fields)."""

    table: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duration_seconds: float = 0.0
    job_run_id: str | None = None
    files: tuple[str, ...] = field(default=())


def _writer(engine: Engine) -> Any:
    try:
        from analytics.sources.imports import import_frame
    except ModuleNotFoundError:  # pragma: no cover - removed once the import module is on main
        return None
    return import_frame


def _merge(previous: Any, report: Any) -> Any:
    if previous is None:
        return report
    from dataclasses import replace

    fields = {
        "read": previous.read + report.read,
        "loaded": previous.loaded + report.loaded,
        "quarantined": previous.quarantined + report.quarantined,
        "duration_seconds": previous.duration_seconds + report.duration_seconds,
        "files": previous.files + report.files,
    }
    if hasattr(previous, "per_file"):
        fields["per_file"] = previous.per_file + report.per_file
    return replace(previous, **fields)


def load_demo(
    engine: Engine,
    *,
    seed: int = 7,
    size: str = "small",
    end: date,
    accounts: int = 1,
    progress: bool = True,
    replace: bool = True,
    clock: Clock = utcnow,
) -> dict[str, Any]:
    """Generate the demo business and write every table through ``import_frame``, in dependency order.

    Parameters
    ----------
    engine:
        A migrated store (:func:`analytics.store.init_store`).
    seed, size, end, accounts:
        See :func:`analytics.demo.generate`.
    replace:
        Delete the demo accounts' existing rows first (default), so the store holds exactly this business.

    Returns
    -------
    dict
        One ``ImportReport`` per table (rows read, loaded and quarantined over all its chunks). A demo
        business is valid by construction, so any quarantined row is a bug worth reporting.
    """
    business: DemoBusiness = generate(seed, size, end=end, accounts=accounts)
    import_frame = _writer(engine)
    reports: dict[str, Any] = {}
    params = {"seed": seed, "size": size, "end": end.isoformat(), "accounts": accounts}
    with job_run(engine, "demo", params=params, clock=clock) as run:
        if replace:
            run.summary["deleted_rows"] = clear_accounts(engine, business.account_ids)
        with tqdm(total=business.size.members, unit="members", desc=f"demo {size}", disable=not progress) as bar:
            for table, frame in business:
                source = f"demo:{size}:seed={seed}:{table}"
                if import_frame is not None:
                    report = import_frame(engine, table, frame, source=source, job_run_id=run.id, clock=clock)
                else:  # pragma: no cover - temporary path until analytics.sources.imports is merged
                    report = _upsert(engine, table, frame, source, run.id)
                reports[table] = _merge(reports.get(table), report)
                if table == "members":
                    bar.update(len(frame))
                bar.set_postfix_str(f"{table} {sum(r.loaded for r in reports.values()):,} rows")
        run.summary["rows"] = {t: r.loaded for t, r in reports.items()}
        run.summary["quarantined"] = sum(r.quarantined for r in reports.values())
    return reports


def _upsert(engine: Engine, table: str, frame: Any, source: str, job_run_id: str) -> _Report:  # pragma: no cover
    import time

    from analytics.store.upsert import upsert_rows

    started = time.perf_counter()
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    with engine.begin() as conn:
        for lo in range(0, len(rows), 5_000):
            upsert_rows(conn, metadata.tables[table], rows[lo : lo + 5_000])
    return _Report(table, len(rows), len(rows), 0, time.perf_counter() - started, job_run_id, (source,))
