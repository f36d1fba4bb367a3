"""Job runs: every import, sync, snapshot, report and training run is recorded with its outcome."""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.store.schema import job_runs

__all__ = ["JobRun", "job_run", "new_id"]


def new_id(prefix: str = "") -> str:
    """A fresh random identifier for internal rows (``prefix`` + 32 hex digits)."""
    return f"{prefix}{uuid.uuid4().hex}"


@dataclass
class JobRun:
    """A running job; put counts into ``summary`` and they are saved when the job ends."""

    id: str
    kind: str
    account_id: str | None
    summary: dict[str, Any] = field(default_factory=dict)


@contextmanager
def job_run(
    engine: Engine,
    kind: str,
    *,
    account_id: str | None = None,
    params: dict[str, Any] | None = None,
    clock: Clock = utcnow,
) -> Iterator[JobRun]:
    """Record a job run around a block: ``running`` at the start, then ``succeeded`` or ``failed``.

    The failure is recorded with its error message and re-raised. Params must not contain secrets.
    """
    run = JobRun(id=new_id("run_"), kind=kind, account_id=account_id)
    with engine.begin() as conn:
        conn.execute(
            job_runs.insert().values(
                id=run.id,
                account_id=account_id,
                kind=kind,
                status="running",
                started_at=clock(),
                params=params or {},
            )
        )
    try:
        yield run
    except BaseException as exc:
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with engine.begin() as conn:
            conn.execute(
                sa.update(job_runs)
                .where(job_runs.c.id == run.id)
                .values(status="failed", finished_at=clock(), summary=run.summary, error=message[:4000])
            )
        raise
    with engine.begin() as conn:
        conn.execute(
            sa.update(job_runs)
            .where(job_runs.c.id == run.id)
            .values(status="succeeded", finished_at=clock(), summary=run.summary)
        )
