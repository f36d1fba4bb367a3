"""Load the demo business into a store through the same import path users use (``import_frame``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.clock import Clock, utcnow
from analytics.demo.generator import DemoBusiness, generate
from analytics.sources.imports import ImportReport, import_frame
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


def _merge(previous: ImportReport | None, report: ImportReport) -> ImportReport:
    """One report per table over all its chunks."""
    if previous is None:
        return report
    return replace(
        previous,
        files=previous.files + report.files,
        read=previous.read + report.read,
        loaded=previous.loaded + report.loaded,
        quarantined=previous.quarantined + report.quarantined,
        duration_seconds=previous.duration_seconds + report.duration_seconds,
        per_file=previous.per_file + report.per_file,
    )


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
) -> dict[str, ImportReport]:
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
        One :class:`~analytics.sources.imports.ImportReport` per table (rows read, loaded and quarantined over
        all its chunks, one ``per_file`` entry per chunk). A demo business is valid by construction, so any
        quarantined row is a bug worth reporting. A job run of kind ``demo`` records the counts.
    """
    business: DemoBusiness = generate(seed, size, end=end, accounts=accounts)
    reports: dict[str, ImportReport] = {}
    params = {"seed": seed, "size": size, "end": end.isoformat(), "accounts": accounts}
    with job_run(engine, "demo", params=params, clock=clock) as run:
        if replace:
            run.summary["deleted_rows"] = clear_accounts(engine, business.account_ids)
        with tqdm(total=business.size.members, unit="members", desc=f"demo {size}", disable=not progress) as bar:
            for table, frame in business:
                source = f"demo:{size}:seed={seed}:{table}"
                report = import_frame(engine, table, frame, source=source, job_run_id=run.id, clock=clock)
                reports[table] = _merge(reports.get(table), report)
                if table == "members":
                    bar.update(len(frame))
                bar.set_postfix_str(f"{table} {sum(r.loaded for r in reports.values()):,} rows")
        run.summary["rows"] = {t: r.loaded for t, r in reports.items()}
        run.summary["quarantined"] = sum(r.quarantined for r in reports.values())
    return reports
