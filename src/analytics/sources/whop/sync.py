"""Syncing Whop accounts into the store over HTTP: incremental, resumable, exact.

``sync_whop(engine, client, accounts)`` walks the plan of :mod:`analytics.sources.whop.sync_plan` for each
account (all the key can see when none are given), in parallel within each stage (bounded by ``max_workers``
and the client's own concurrency and rate limits). Every page is validated item by item, written, and its
resume point checkpointed in one transaction, so a run killed at any moment resumes with no duplicates and no
gaps. Each account's run is recorded in ``job_runs`` with per-resource counts (fetched / inserted / updated /
unchanged / quarantined) and its duration. Items quarantined by earlier runs are fetched again by id.

The API paces the sync (:class:`~analytics.sources.whop.client.WhopClient`): rate limits are waited out as asked
and slow the request rate down, however many there are; only the wall-time budget (``time_budget``), a server
asking for a wait above the client's maximum, or a non-retryable error stops a run, and the next run resumes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.settings import Settings
from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.shapes import iso
from analytics.sources.whop.sync_account import AccountSync, AfterPage, SyncOptions
from analytics.sources.whop.sync_writer import Counts
from analytics.store.jobs import DEFAULT_HEARTBEAT_TIMEOUT, job_run

__all__ = ["AfterPage", "SyncResult", "sync_whop", "sync_with_settings"]


@dataclass
class SyncResult:
    """What a sync did, per resource (summed over accounts)."""

    accounts: list[str]
    resources: dict[str, Counts]
    requests: int
    retries: int
    seconds: float
    job_run_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def totals(self) -> Counts:
        total = Counts()
        for counts in self.resources.values():
            total.add(counts)
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "resources": {k: v.as_dict() for k, v in sorted(self.resources.items())},
            "totals": self.totals().as_dict(),
            "requests": self.requests,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def _account_ids(client: WhopClient, page_size: int) -> list[str]:
    ids: list[str] = []
    for page in client.pages("accounts", {}, first=page_size):
        ids.extend(str(item["id"]) for item in page.items if item.get("id"))
    return ids


def sync_whop(
    engine: Engine,
    client: WhopClient,
    accounts: Sequence[str] | None = None,
    *,
    full: bool = False,
    since: datetime | None = None,
    page_size: int = 100,
    overlap: timedelta = timedelta(minutes=5),
    max_workers: int = 4,
    progress: bool = True,
    clock: Clock = utcnow,
    after_page: AfterPage | None = None,
    time_budget: timedelta | None = None,
    heartbeat_timeout: timedelta = DEFAULT_HEARTBEAT_TIMEOUT,
) -> SyncResult:
    """Sync ``accounts`` (default: every account the key can see) from the Whop API into the store.

    Parameters
    ----------
    full:
        List everything instead of starting from the stored checkpoints.
    since:
        Start the dated listings at this instant (ignores the checkpoints' high watermarks).
    page_size:
        ``first`` of each list request.
    overlap:
        How far before the high watermark an incremental listing starts (clock skew, same-instant items).
    after_page:
        Called after every stored page (tests use it to interrupt a run).
    time_budget:
        Wall time the whole sync may take (``ANALYTICS_SYNC_TIME_BUDGET``); ``None``: no limit.
    heartbeat_timeout:
        After how long without a heartbeat an earlier sync of the same account counts as abandoned (noted in
        ``SyncResult.notes``).

    Raises
    ------
    SyncError
        The API could not be reached or answered errors after the client's retries, asked for a longer wait
        than the client's maximum, or the time budget ran out; pages stored so far stay stored, and the next run
        resumes from the checkpoints.
    """
    started = time.perf_counter()
    requests0, retries0 = client.requests, client.retries
    opts = SyncOptions(full, since, page_size, overlap, progress, after_page, clock)
    totals: dict[str, Counts] = defaultdict(Counts)
    run_ids: list[str] = []
    notes: list[str] = []
    with client.time_budget(None if time_budget is None else time_budget.total_seconds()):
        ids = list(accounts) if accounts else _account_ids(client, page_size)
        for account_id in ids:
            account_started, limited0 = time.perf_counter(), client.rate_limited
            params = {"full": full, "since": iso(since), "base_url": client.base_url, "page_size": page_size}
            with job_run(
                engine, "sync", account_id=account_id, params=params, clock=clock, heartbeat_timeout=heartbeat_timeout
            ) as run:
                run_ids.append(run.id)
                notes.extend(a.note() for a in run.abandoned)
                worker = AccountSync(engine, client, account_id, opts, run.id, max_workers)
                try:
                    counts = worker.run()
                finally:
                    run.summary = {
                        "resources": {k: v.as_dict() for k, v in sorted(worker.counts.items())},
                        "seconds": round(time.perf_counter() - account_started, 3),
                        "rate_limited": client.rate_limited - limited0,
                    }
            for resource, c in counts.items():
                totals[resource].add(c)
    return SyncResult(
        ids,
        dict(totals),
        client.requests - requests0,
        client.retries - retries0,
        time.perf_counter() - started,
        run_ids,
        notes,
    )


def sync_with_settings(
    engine: Engine,
    settings: Settings,
    accounts: Sequence[str] | None = None,
    *,
    base_url: str | None = None,
    **options: Any,
) -> SyncResult:
    """:func:`sync_whop` with what the settings give: the API (``WHOP_API_KEY``, ``WHOP_API_BASE_URL`` unless
    ``base_url``), its request rate, concurrency and longest wait, the time budget and the heartbeat timeout.
    ``options`` are the other arguments of :func:`sync_whop` (``full``, ``since``, ``page_size``, ``progress``).

    Raises
    ------
    ConfigError
        ``WHOP_API_KEY`` is not set.
    """
    with WhopClient.from_settings(settings, base_url=base_url) as client:
        return sync_whop(
            engine,
            client,
            accounts,
            max_workers=settings.sync_max_concurrency,
            time_budget=timedelta(seconds=settings.sync_time_budget),
            heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_timeout),
            **options,
        )
