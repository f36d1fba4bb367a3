"""Syncing one account: the stages of :mod:`analytics.sources.whop.sync_plan`, listing by listing.

Every page is validated item by item, written, and its resume point checkpointed in one transaction
(:mod:`analytics.sources.whop.checkpoints`), so a run killed at any moment resumes with no duplicates and no gaps.

Items that failed validation are quarantined with their resource, id and parent ids. An incremental run fetches
the account's still-unresolved ones again by id after its listings (an item a listing already loaded is resolved
there), and a quarantine row is marked resolved whenever its item loads; a membership whose quarantined payment
loads gets its history derived again, as a full sync would.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.clock import Clock
from analytics.errors import SyncError
from analytics.sources.whop.checkpoints import checkpoint_key, finish_listing, load_checkpoint, save_progress
from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.shapes import SHAPES, ParseContext, Shape, iso, parse_time
from analytics.sources.whop.status_history import derive_history
from analytics.sources.whop.sync_plan import Task, stage_one, stage_three, stage_two
from analytics.sources.whop.sync_writer import Counts, parse_items, resolve_authors, write_rows
from analytics.store import schema as s
from analytics.store.quarantine import Rejected, quarantine_rows, resolve_items, unresolved_items
from analytics.store.upsert import upsert_rows

__all__ = ["AccountSync", "AfterPage", "SyncOptions"]

log = logging.getLogger(__name__)
AfterPage = Callable[[str, str, int], None]
"""Called after each stored page with (account id, checkpoint key, page number): a hook for tests/benchmarks."""


@dataclass(frozen=True)
class SyncOptions:
    """How a sync runs (see :func:`analytics.sources.whop.sync.sync_whop`)."""

    full: bool
    since: datetime | None
    page_size: int
    overlap: timedelta
    progress: bool
    after_page: AfterPage | None
    clock: Clock


class AccountSync:
    """The sync of one account within one job run."""

    def __init__(
        self, engine: Engine, client: WhopClient, account_id: str, opts: SyncOptions, run_id: str, workers: int
    ) -> None:
        self.engine, self.client, self.account_id, self.opts, self.run_id = engine, client, account_id, opts, run_id
        self.workers = workers
        self.counts: dict[str, Counts] = defaultdict(Counts)
        self._lock = threading.Lock()
        self._bars: dict[str, Any] = {}
        self.experiences: set[str] = set()
        self._waiting: dict[str, set[str]] = defaultdict(set)  # table -> ids of unresolved quarantined items
        self._rederive: set[str] = set()  # memberships whose history must be derived again

    # --- orchestration -------------------------------------------------------------------------------------

    def run(self) -> dict[str, Counts]:
        self._sync_account()
        with self.engine.connect() as conn:
            for waiting in unresolved_items(conn, self.account_id):
                self._waiting[waiting.table_name].add(waiting.item_id)
        self._stage(stage_one(self.account_id))
        with self.engine.connect() as conn:
            products = (
                conn.execute(
                    sa.select(s.products.c.id)
                    .where(s.products.c.account_id == self.account_id)
                    .order_by(s.products.c.id)
                )
                .scalars()
                .all()
            )
        self._stage(stage_two(self.account_id, list(products)), extra=[self._reconcile_refunded_payments])
        with self.engine.connect() as conn:
            courses = (
                conn.execute(
                    sa.select(s.courses.c.id).where(s.courses.c.account_id == self.account_id).order_by(s.courses.c.id)
                )
                .scalars()
                .all()
            )
            channels = conn.execute(
                sa.select(s.chat_channels.c.id, s.chat_channels.c.product_id)
                .where(s.chat_channels.c.account_id == self.account_id)
                .order_by(s.chat_channels.c.id)
            ).all()
            stored = (
                conn.execute(
                    sa.select(s.posts.c.experience_id)
                    .distinct()
                    .where(s.posts.c.account_id == self.account_id, s.posts.c.experience_id.is_not(None))
                )
                .scalars()
                .all()
            )
        experiences = sorted(self.experiences | set(stored))
        self._stage(stage_three(list(courses), [(c.id, c.product_id) for c in channels], experiences))
        if not self.opts.full:  # a full sync lists every item anyway
            self._refetch_quarantined()
        self._derive_histories()
        for bar in self._bars.values():
            bar.close()
        return dict(self.counts)

    def _stage(self, tasks: list[Task], extra: Sequence[Callable[[], None]] = ()) -> None:
        jobs: list[Callable[[], None]] = [lambda t=t: self._run_task(t) for t in tasks]  # type: ignore[misc]
        jobs.extend(extra)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="whop-sync") as pool:
            futures = [pool.submit(job) for job in jobs]
            errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error

    def _add(self, resource: str, counts: Counts) -> None:
        with self._lock:
            self.counts[resource].add(counts)

    def _bar(self, resource: str) -> Any:
        with self._lock:
            if resource not in self._bars:
                self._bars[resource] = tqdm(
                    desc=f"{self.account_id} {resource}", unit=" items", disable=not self.opts.progress, leave=False
                )
            return self._bars[resource]

    def _derive_histories(self) -> None:
        """Memberships without any history (first seen, or all after ``--full``) get it derived from the
        memberships and payments now stored, and so do those whose quarantined payment loaded in this run."""
        m, h = s.memberships, s.membership_status_changes
        with self.engine.begin() as conn:
            if self.opts.full:
                derive_history(conn, self.account_id, None, source="derived")
                return
            has_history = sa.select(h.c.membership_id).where(
                h.c.account_id == self.account_id, h.c.membership_id == m.c.id
            )
            ids = (
                conn.execute(sa.select(m.c.id).where(m.c.account_id == self.account_id, ~sa.exists(has_history)))
                .scalars()
                .all()
            )
            derive_history(conn, self.account_id, [*ids, *self._rederive], source="derived")

    def _sync_account(self) -> None:
        item = self.client.retrieve("accounts", self.account_id)
        if item is None:
            raise SyncError(
                f"account {self.account_id} is not visible to this API key (GET /accounts/{self.account_id} was 404)"
            )
        row = SHAPES["accounts"].parse(item, ParseContext(self.account_id))
        row["updated_at"] = self.opts.clock()
        with self.engine.begin() as conn:
            upsert_rows(conn, s.accounts, [row], update=["title", "route", "created_at", "updated_at"])

    # --- one listing ---------------------------------------------------------------------------------------

    def _run_task(self, task: Task) -> None:
        if task.shape.resource == "forums":
            self._forums(task)
            return
        if task.shape.resource == "course_lessons":
            self._lessons(task)
            return
        if task.shape.resource == "chat_channels":
            for product_id in task.parent["product_ids"]:
                sub = Task(
                    task.shape,
                    checkpoint_key("chat_channels", product_id),
                    "refresh",
                    {**task.params, "product_id": product_id},
                    {"product_id": product_id},
                )
                self._add(task.label, self._listing(sub))
            self._add(task.label, self._listing(Task(task.shape, task.key, "refresh", task.params)))
            return
        with self.engine.connect() as conn:
            incremental = (
                self.opts.since is not None
                or load_checkpoint(conn, self.account_id, task.key).high_watermark is not None
            )
        self._add(task.label, self._listing(task))
        if task.open_sets and incremental and not self.opts.full:
            self._add(task.label, self._reconcile(task))

    def _initial_state(self, task: Task, watermark: datetime | None) -> dict[str, Any]:
        params = dict(task.params)
        start = self.opts.since or (None if self.opts.full or watermark is None else watermark - self.opts.overlap)
        stop_before = None
        if task.mode == "created":
            params.update(order="created_at", direction="asc")
            if start is not None:
                params["created_after"] = iso(start)
        elif task.mode == "newest":
            stop_before = start
        return {
            "params": params,
            "after": None,
            "full": self.opts.full,
            "stop_before": iso(stop_before),
            "max_seen": None,
            "started_at": self.opts.clock().isoformat(),
        }

    def _listing(self, task: Task, *, skip: set[str] | None = None, seen: set[str] | None = None) -> Counts:
        counts = Counts()
        shape = task.shape
        with self.engine.connect() as conn:
            checkpoint = load_checkpoint(conn, self.account_id, task.key)
        state = checkpoint.state
        if state is None or (self.opts.full and not state.get("full")):
            state = self._initial_state(task, checkpoint.high_watermark)
        else:
            log.info("%s %s: resuming an interrupted listing", self.account_id, task.key)
        stop_before = parse_time(state.get("stop_before"), "stop_before")
        ctx = ParseContext(self.account_id, task.parent)
        bar = self._bar(task.label)
        for number, page in enumerate(
            self.client.pages(shape.resource, state["params"], after=state["after"], first=self.opts.page_size), 1
        ):
            rows, rejected = parse_items(shape, page.items, ctx)
            if skip:
                rows = [r for r in rows if r["id"] not in skip]
            if seen is not None:
                seen.update(r["id"] for r in rows)
            times = [t for t in (r.get("created_at") or r.get("occurred_at") for r in rows) if t is not None]
            if times:
                newest = max(times)
                known = parse_time(state.get("max_seen"), "max_seen")
                state["max_seen"] = iso(max(newest, known) if known else newest)
            state["after"] = page.end_cursor
            with self.engine.begin() as conn:
                page_counts = self._store(conn, shape, ctx, rows, rejected)
                if page.end_cursor:
                    save_progress(conn, self.account_id, task.key, state, job_run_id=self.run_id, now=self.opts.clock())
            page_counts.fetched = len(page.items)
            counts.add(page_counts)
            bar.update(len(page.items))
            if self.opts.after_page is not None:
                self.opts.after_page(self.account_id, task.key, number)
            if stop_before is not None and times and min(times) < stop_before:
                break
        with self.engine.begin() as conn:
            finish_listing(
                conn,
                self.account_id,
                task.key,
                parse_time(state.get("max_seen"), "max_seen"),
                job_run_id=self.run_id,
                now=self.opts.clock(),
            )
        return counts

    def _store(
        self,
        conn: sa.Connection,
        shape: Shape,
        ctx: ParseContext,
        rows: list[dict[str, Any]],
        rejected: list[Rejected],
    ) -> Counts:
        table = shape.table
        if any("_user_id" in r for r in rows):
            rows, unresolved = resolve_authors(
                conn, self.account_id, table, rows, resource=shape.resource, parent=ctx.parent
            )
            rejected = [*rejected, *unresolved]
        counts = write_rows(conn, table, rows)
        self._resolve(conn, table, rows)
        if table is s.lesson_interactions:
            # The list model has no completion time: created_at stands in until a completed webhook says better.
            li = s.lesson_interactions
            conn.execute(
                sa.update(li)
                .where(li.c.account_id == self.account_id, li.c.completed.is_(True), li.c.completed_at.is_(None))
                .values(completed_at=li.c.created_at)
            )
        counts.quarantined = self._quarantine(conn, rejected)
        return counts

    def _quarantine(self, conn: sa.Connection, rejected: list[Rejected]) -> int:
        with self._lock:
            for r in rejected:
                if r.item_id is not None:
                    self._waiting[r.table_name].add(r.item_id)
        return quarantine_rows(conn, rejected, job_run_id=self.run_id, clock=self.opts.clock)

    def _resolve(self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        """Mark the quarantined items among the loaded ``rows`` resolved (a lookup in memory for the others)."""
        with self._lock:
            waiting = self._waiting.get(table.name)
            loaded = [r for r in rows if r["id"] in waiting] if waiting else []
            if not waiting or not loaded:
                return
            waiting.difference_update(r["id"] for r in loaded)
            if table is s.payments:
                self._rederive.update(r["membership_id"] for r in loaded if r.get("membership_id"))
        resolve_items(conn, self.account_id, table.name, [r["id"] for r in loaded], now=self.opts.clock())

    # --- special listings ----------------------------------------------------------------------------------

    def _forums(self, task: Task) -> None:
        counts = Counts()
        for page in self.client.pages("forums", task.params, first=self.opts.page_size):
            counts.fetched += len(page.items)
            rows, rejected = parse_items(task.shape, page.items, ParseContext(self.account_id))
            self.experiences.update(r["experience_id"] for r in rows)
            with self.engine.begin() as conn:
                self._resolve(conn, task.shape.table, rows)
                if rejected:
                    counts.quarantined += self._quarantine(conn, rejected)
        self._add("forums", counts)

    def _lessons(self, task: Task) -> None:
        course_id = task.parent["course_id"]
        seen: set[str] = set()
        chapters: list[dict[str, Any]] = []
        for page in self.client.pages("course_chapters", {"course_id": course_id}, first=self.opts.page_size):
            rows, _ = parse_items(SHAPES["course_chapters"], page.items, ParseContext(self.account_id))
            chapters.extend(rows)
        for chapter in chapters:
            sub = Task(
                task.shape,
                checkpoint_key("course_lessons", chapter["chapter_id"]),
                "refresh",
                {"chapter_id": chapter["chapter_id"]},
                {"course_id": course_id, **chapter},
            )
            self._add(task.label, self._listing(sub, seen=seen))
        self._add(task.label, self._listing(task, skip=seen))

    def _reconcile(self, task: Task) -> Counts:
        """List the still-open items and fetch by id the stored open ones that left that set."""
        counts = Counts()
        shape, table = task.shape, task.shape.table
        ctx = ParseContext(self.account_id, task.parent)
        remote: set[str] = set()
        for params in task.open_sets:
            for page in self.client.pages(shape.resource, {**task.params, **params}, first=self.opts.page_size):
                remote.update(str(i.get("id")) for i in page.items)
                rows, rejected = parse_items(shape, page.items, ctx)
                with self.engine.begin() as conn:
                    page_counts = self._store(conn, shape, ctx, rows, rejected)
                page_counts.fetched = len(page.items)
                counts.add(page_counts)
        assert task.open_local is not None
        with self.engine.connect() as conn:
            local = set(
                conn.execute(
                    sa.select(table.c.id).where(table.c.account_id == self.account_id, task.open_local())
                ).scalars()
            )
        for item_id in sorted(local - remote):
            counts.add(self._fetch_one(task, item_id))
        return counts

    def _fetch_one(self, task: Task, item_id: str) -> Counts:
        return self._fetch_by_id(task.shape, ParseContext(self.account_id, task.parent), item_id)

    def _fetch_by_id(self, shape: Shape, ctx: ParseContext, item_id: str) -> Counts:
        item = self.client.retrieve(shape.resource, item_id)
        if item is None:
            log.warning("%s %s %s is no longer visible to the API", self.account_id, shape.resource, item_id)
            return Counts()
        rows, rejected = parse_items(shape, [item], ctx)
        with self.engine.begin() as conn:
            counts = self._store(conn, shape, ctx, rows, rejected)
        counts.fetched = 1
        return counts

    def _refetch_quarantined(self) -> None:
        """Fetch by id, as it was listed, every quarantined item of the account that was neither loaded nor
        rejected again by a listing of this run."""
        with self.engine.connect() as conn:
            waiting = unresolved_items(conn, self.account_id)
        for item in waiting:
            shape = SHAPES.get(item.resource)
            if shape is None or shape.resource == "forums" or item.job_run_id == self.run_id:
                continue  # forums are not stored (they are re-listed every run)
            ctx = ParseContext(self.account_id, item.parent)
            self._add(shape.resource, self._fetch_by_id(shape, ctx, item.item_id))

    def _reconcile_refunded_payments(self) -> None:
        """Payments whose stored succeeded refunds exceed their refunded amount changed: fetch them again."""
        if self.opts.full:
            return
        p, r = s.payments, s.refunds
        refunded = (
            sa.select(r.c.payment_id, sa.func.sum(r.c.amount_minor).label("amount"))
            .where(r.c.account_id == self.account_id, r.c.status == "succeeded")
            .group_by(r.c.payment_id)
            .subquery()
        )
        stmt = (
            sa.select(p.c.id)
            .join(refunded, refunded.c.payment_id == p.c.id)
            .where(p.c.account_id == self.account_id, p.c.refunded_amount_minor < refunded.c.amount)
            .order_by(p.c.id)
        )
        with self.engine.connect() as conn:
            stale = conn.execute(stmt).scalars().all()
        payments = next(t for t in stage_one(self.account_id) if t.shape.resource == "payments")
        for payment_id in stale:
            self._add("payments", self._fetch_one(payments, payment_id))
