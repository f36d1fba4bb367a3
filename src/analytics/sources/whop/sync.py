"""Syncing Whop accounts into the store over HTTP: incremental, resumable, exact.

``sync_whop(engine, client, accounts)`` walks the plan of :mod:`analytics.sources.whop.sync_plan` for each
account (all the key can see when none are given), in parallel within each stage (bounded by ``max_workers``
and the client's own concurrency and rate limits). Every page is validated item by item, written, and its
resume point checkpointed in one transaction, so a run killed at any moment resumes with no duplicates and no
gaps. Each account's run is recorded in ``job_runs`` with per-resource counts (fetched / inserted / updated /
unchanged / quarantined) and its duration.
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
from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.shapes import iso
from analytics.sources.whop.sync_account import AccountSync, AfterPage, SyncOptions
from analytics.sources.whop.sync_writer import Counts
from analytics.store.jobs import job_run

__all__ = ["AfterPage", "SyncResult", "sync_whop"]


@dataclass
class SyncResult:
    """What a sync did, per resource (summed over accounts)."""

    accounts: list[str]
    resources: dict[str, Counts]
    requests: int
    retries: int
    seconds: float
    job_run_ids: list[str] = field(default_factory=list)

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

    Raises
    ------
    SyncError
        The API could not be reached or answered errors after the client's retries; pages stored so far stay
        stored, and the next run resumes from the checkpoints.
    """
    started = time.perf_counter()
    requests0, retries0 = client.requests, client.retries
    opts = SyncOptions(full, since, page_size, overlap, progress, after_page, clock)
    ids = list(accounts) if accounts else _account_ids(client, page_size)
    totals: dict[str, Counts] = defaultdict(Counts)
    run_ids: list[str] = []
    for account_id in ids:
        account_started = time.perf_counter()
        params = {"full": full, "since": iso(since), "base_url": client.base_url, "page_size": page_size}
        with job_run(engine, "sync", account_id=account_id, params=params, clock=clock) as run:
            run_ids.append(run.id)
            worker = AccountSync(engine, client, account_id, opts, run.id, max_workers)
            try:
                counts = worker.run()
            finally:
                run.summary = {
                    "resources": {k: v.as_dict() for k, v in sorted(worker.counts.items())},
                    "seconds": round(time.perf_counter() - account_started, 3),
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
    )
