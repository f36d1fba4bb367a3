"""Job runs: every import, sync, snapshot, report and training run is recorded with its outcome.

A run is ``running`` from its start, then ``succeeded`` or ``failed``. A process killed outright (``kill -9``, a
crash, a machine that stops) cannot record its outcome, so a running job also *beats*: a thread writes
``job_runs.heartbeat_at`` every fifth of the heartbeat timeout. A ``running`` row whose last beat is older than the
timeout (``ANALYTICS_JOB_HEARTBEAT_TIMEOUT``, default 10 minutes) is **abandoned**: every listing
(:func:`job_runs_frame`, ``analytics jobs``) shows it so, and the next run of the same kind for the same account
records it as ``abandoned`` and says so in a warning (``JobRun.abandoned`` holds what it found).

One caveat: a SQLite store takes one writer at a time, so a beat waits while another connection holds a long write
transaction (an import writes each file in one); keep the timeout above the longest such transaction. A row marked
abandoned whose job turns out to be alive goes back to ``running`` at its next beat and gets its real outcome.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.store.schema import job_runs

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "AbandonedRun",
    "JobRun",
    "job_run",
    "job_runs_frame",
    "new_id",
]

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_TIMEOUT = timedelta(minutes=10)
"""How long a running job may go without a beat before it counts as abandoned (the setting's default)."""
BEATS_PER_TIMEOUT = 5
"""A running job beats this many times per timeout, so one slow or missed beat does not make it abandoned."""
MIN_BEAT_SECONDS = 0.05
"""Beats never come more often than this, whatever the timeout."""


def new_id(prefix: str = "") -> str:
    """A fresh random identifier for internal rows (``prefix`` + 32 hex digits)."""
    return f"{prefix}{uuid.uuid4().hex}"


@dataclass(frozen=True)
class AbandonedRun:
    """A run that stopped without recording its outcome, found by the next run of its kind."""

    id: str
    kind: str
    account_id: str | None
    started_at: datetime
    last_beat: datetime

    def note(self) -> str:
        """One line for a person: which run, since when silent, and what it means."""
        who = f" for {self.account_id}" if self.account_id else ""
        return (
            f"the previous {self.kind} run{who} ({self.id}, started {self.started_at:%Y-%m-%d %H:%M:%S} UTC) was "
            f"abandoned: no heartbeat since {self.last_beat:%Y-%m-%d %H:%M:%S} UTC, so its process stopped without "
            "recording an outcome (killed or crashed); it is now marked abandoned and this run does its work again"
        )


@dataclass
class JobRun:
    """A running job; put counts into ``summary`` and they are saved when the job ends.

    ``abandoned`` lists the earlier runs of the same kind and account that this run found abandoned.
    """

    id: str
    kind: str
    account_id: str | None
    summary: dict[str, Any] = field(default_factory=dict)
    abandoned: list[AbandonedRun] = field(default_factory=list)


def _last_beat() -> sa.ColumnElement[Any]:
    return sa.func.coalesce(job_runs.c.heartbeat_at, job_runs.c.started_at)


def _effective_status(cutoff: datetime) -> sa.ColumnElement[str]:
    """``abandoned`` for running rows that have not beaten since ``cutoff``, else the stored status."""
    return sa.case(
        (sa.and_(job_runs.c.status == "running", _last_beat() < cutoff), sa.literal("abandoned")),
        else_=job_runs.c.status,
    )


def _mark_abandoned(
    conn: sa.Connection, kind: str, account_id: str | None, cutoff: datetime, noticed_by: str
) -> list[AbandonedRun]:
    same_account = job_runs.c.account_id.is_(None) if account_id is None else job_runs.c.account_id == account_id
    stale = conn.execute(
        sa.select(job_runs.c.id, job_runs.c.started_at, _last_beat().label("last_beat"))
        .where(job_runs.c.kind == kind, same_account, job_runs.c.status == "running", _last_beat() < cutoff)
        .order_by(job_runs.c.started_at)
    ).all()
    found = [AbandonedRun(r.id, kind, account_id, r.started_at, r.last_beat) for r in stale]
    for run in found:
        conn.execute(
            sa.update(job_runs)
            .where(job_runs.c.id == run.id, job_runs.c.status == "running")
            .values(status="abandoned", error=f"abandoned: {run.note()} (noticed by {noticed_by})")
        )
    return found


def _beat(engine: Engine, run_id: str, now: datetime) -> None:
    """Record a sign of life; a row marked abandoned while its job was alive is running again."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(job_runs)
            .where(job_runs.c.id == run_id, job_runs.c.status.in_(("running", "abandoned")))
            .values(heartbeat_at=now, status="running", error=None)
        )


class _Heartbeat:
    """A daemon thread that beats every ``every`` seconds until stopped (a failed beat is retried next time)."""

    def __init__(self, engine: Engine, run_id: str, every: float, clock: Clock) -> None:
        self._engine, self._run_id, self._every, self._clock = engine, run_id, every, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                _beat(self._engine, self._run_id, self._clock())
            except Exception as exc:  # never let a beat break the job; the next one may get through
                log.debug("heartbeat of %s failed: %s", self._run_id, exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def job_run(
    engine: Engine,
    kind: str,
    *,
    account_id: str | None = None,
    params: dict[str, Any] | None = None,
    clock: Clock = utcnow,
    heartbeat_timeout: timedelta = DEFAULT_HEARTBEAT_TIMEOUT,
) -> Iterator[JobRun]:
    """Record a job run around a block: ``running`` at the start, then ``succeeded`` or ``failed``.

    The failure is recorded with its error message and re-raised. Params must not contain secrets. While the
    block runs, a thread beats every ``heartbeat_timeout / 5``. Earlier runs of the same ``kind`` and account
    still ``running`` without a beat for ``heartbeat_timeout`` are marked ``abandoned`` first, listed in
    ``JobRun.abandoned`` and reported in a warning.
    """
    run = JobRun(id=new_id("run_"), kind=kind, account_id=account_id)
    started = clock()
    with engine.begin() as conn:
        run.abandoned = _mark_abandoned(conn, kind, account_id, started - heartbeat_timeout, run.id)
        conn.execute(
            job_runs.insert().values(
                id=run.id,
                account_id=account_id,
                kind=kind,
                status="running",
                started_at=started,
                heartbeat_at=started,
                params=params or {},
            )
        )
    for abandoned in run.abandoned:
        log.warning("Note: %s.", abandoned.note())
    every = max(heartbeat_timeout.total_seconds() / BEATS_PER_TIMEOUT, MIN_BEAT_SECONDS)
    heartbeat = _Heartbeat(engine, run.id, every, clock)
    try:
        yield run
    except BaseException as exc:
        heartbeat.stop()
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with engine.begin() as conn:
            conn.execute(
                sa.update(job_runs)
                .where(job_runs.c.id == run.id)
                .values(status="failed", finished_at=clock(), summary=run.summary, error=message[:4000])
            )
        raise
    heartbeat.stop()
    with engine.begin() as conn:
        conn.execute(
            sa.update(job_runs)
            .where(job_runs.c.id == run.id)
            .values(status="succeeded", finished_at=clock(), summary=run.summary, error=None)
        )


JOB_COLUMNS = ("id", "kind", "account_id", "status", "started_at", "finished_at", "last_beat", "seconds", "error")
"""The columns of :func:`job_runs_frame`."""


def job_runs_frame(
    engine: Engine,
    *,
    heartbeat_timeout: timedelta = DEFAULT_HEARTBEAT_TIMEOUT,
    kind: str | None = None,
    account_id: str | None = None,
    failed: bool = False,
    slow: bool = False,
    limit: int | None = 50,
    clock: Clock = utcnow,
) -> pd.DataFrame:
    """The job runs, newest first, with running rows silent for ``heartbeat_timeout`` shown as ``abandoned``.

    Parameters
    ----------
    kind, account_id:
        Only runs of this kind (``import``, ``sync``, ``run``, …) or for this account.
    failed:
        Only runs that did not succeed: ``failed`` and ``abandoned``.
    slow:
        Longest first (``seconds``: finished − started; for a running job, so far; for an abandoned one, until
        its last beat).
    limit:
        At most this many rows (``None``: all).

    Returns
    -------
    pandas.DataFrame
        :data:`JOB_COLUMNS`; ``last_beat`` is the last heartbeat (the start for rows from before heartbeats).
    """
    now = clock()
    status = _effective_status(now - heartbeat_timeout)
    j = job_runs
    stmt = sa.select(
        j.c.id,
        j.c.kind,
        j.c.account_id,
        status.label("status"),
        j.c.started_at,
        j.c.finished_at,
        _last_beat().label("last_beat"),
        j.c.error,
    )
    if kind is not None:
        stmt = stmt.where(j.c.kind == kind)
    if account_id is not None:
        stmt = stmt.where(j.c.account_id == account_id)
    if failed:
        stmt = stmt.where(status.in_(("failed", "abandoned")))
    stmt = stmt.order_by(j.c.started_at.desc(), j.c.id)
    if limit is not None and not slow:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for row in rows:
        end = row["finished_at"] or (now if row["status"] == "running" else row["last_beat"])
        row["seconds"] = round((end - row["started_at"]).total_seconds(), 1)
    frame = pd.DataFrame(rows, columns=list(JOB_COLUMNS))
    if slow:
        frame = frame.sort_values("seconds", ascending=False, kind="stable")
        if limit is not None:
            frame = frame.head(limit)
    return frame.reset_index(drop=True)
