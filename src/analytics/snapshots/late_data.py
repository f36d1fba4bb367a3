"""Late-arriving data: which already-snapshotted periods are stale, so they can be recomputed.

Two signals, per account and period kind:

* **row counts** — every snapshot records, under ``metrics._inputs``, how many rows of each source table had their
  business timestamp (``occurred_at``, ``sent_at``, ``created_at`` …) in the period. A late insert (or a delete)
  changes today's count for that period;
* **changes** — for tables with ``updated_at``, a row changed after the snapshot of the period holding its
  business timestamp was computed (a message status, a lesson completion, a cancellation).

Periods hold stocks (members, MRR) that depend on everything before them, so a touched period is recomputed
together with every later snapshotted period. :data:`LATE_DATA_SOURCES` is the list of tables watched; other
stages add theirs by appending a :class:`LateDataSource`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from analytics.metrics.dialect import bucket_index, bucket_index_to_date, fetch_frame
from analytics.metrics.frames import as_int
from analytics.metrics.timeframe import TimeWindow
from analytics.snapshots.store import snapshot_index
from analytics.store.schema import (
    activity_events,
    lesson_interactions,
    members,
    membership_status_changes,
    memberships,
    payments,
    posts,
    refunds,
    wa_messages,
)

__all__ = ["LATE_DATA_SOURCES", "LateDataSource", "input_counts", "touched_start"]


@dataclass(frozen=True)
class LateDataSource:
    """A table whose rows feed snapshots: its business timestamp and, if it has one, its last-change column."""

    table: sa.Table
    timestamp: Callable[[], sa.ColumnElement[object]]
    changed: str | None = None

    @property
    def name(self) -> str:
        return self.table.name


LATE_DATA_SOURCES: list[LateDataSource] = [
    LateDataSource(activity_events, lambda: activity_events.c.occurred_at),
    LateDataSource(members, lambda: sa.func.coalesce(members.c.joined_at, members.c.created_at)),
    LateDataSource(posts, lambda: posts.c.created_at),
    LateDataSource(
        lesson_interactions,
        lambda: sa.func.coalesce(lesson_interactions.c.completed_at, lesson_interactions.c.created_at),
        "updated_at",
    ),
    LateDataSource(wa_messages, lambda: wa_messages.c.sent_at, "updated_at"),
    LateDataSource(memberships, lambda: memberships.c.created_at, "updated_at"),
    LateDataSource(membership_status_changes, lambda: membership_status_changes.c.changed_at),
    LateDataSource(payments, lambda: payments.c.created_at, "updated_at"),
    LateDataSource(refunds, lambda: refunds.c.created_at, "updated_at"),
]


def input_counts(conn: sa.Connection, account_id: str, window: TimeWindow) -> pd.DataFrame:
    """Rows per source table whose business timestamp falls in each bucket: ``period_start`` + one column each."""
    grid = window.grid()
    d = conn.dialect.name
    parts = []
    for source in LATE_DATA_SOURCES:
        ts = source.timestamp()
        inner = (
            sa.select(bucket_index(ts, window.grain, d, window.tz, window.within).label("b"))
            .where(source.table.c.account_id == account_id, ts >= window.start_utc, ts < window.end_utc)
            .subquery("src")
        )
        parts.append(
            sa.select(sa.literal(source.name).label("source"), inner.c.b, sa.func.count().label("n")).group_by(
                inner.c.b
            )
        )
    counts = as_int(fetch_frame(conn, sa.union_all(*parts)), ["b", "n"])
    wide = counts.pivot_table(index="b", columns="source", values="n", aggfunc="sum")
    wide = wide.reindex(index=grid["bucket"], columns=[s.name for s in LATE_DATA_SOURCES], fill_value=0).fillna(0)
    out = wide.astype("int64").reset_index(drop=True)
    out.insert(0, "period_start", grid["period_start"].to_numpy())
    return out


def touched_start(
    conn: sa.Connection, account_id: str, period: str, tz: str, grain: str, *, since: datetime | None = None
) -> date | None:
    """The first stored account-level period of ``period`` that late data made stale (None: all up to date).

    Parameters
    ----------
    since:
        Only rows changed after this instant count as changes (default: the oldest snapshot's ``computed_at``).
    """
    index = snapshot_index(conn, account_id, period, channel="")
    if index.empty:
        return None
    first, last = index["period_start"].min(), index["period_end"].max()
    window = TimeWindow(account_id, tz, first, last + timedelta(days=1), grain)
    current = input_counts(conn, account_id, window).set_index("period_start")
    stale: list[date] = []
    names = [s.name for s in LATE_DATA_SOURCES]
    for start, recorded in zip(index["period_start"], index["inputs"], strict=True):  # one per stored period
        stamp = pd.Timestamp(start)
        counts: dict[str, Any] = dict(recorded or {})
        now = current.loc[stamp, names].to_dict() if stamp in current.index else None
        if now is None or any(int(now[n]) != int(counts.get(n, -1)) for n in names):
            stale.append(start)
    computed = index.set_index(pd.to_datetime(index["period_start"]))["computed_at"]
    after = since or computed.min()
    d = conn.dialect.name
    for source in LATE_DATA_SOURCES:
        if source.changed is None:
            continue
        ts = source.timestamp()
        changed = source.table.c[source.changed]
        inner = (
            sa.select(bucket_index(ts, grain, d, tz, window.within).label("b"), changed.label("changed_at"))
            .where(source.table.c.account_id == account_id, changed > after, ts < window.end_utc)
            .subquery("changed")
        )
        stmt = sa.select(inner.c.b, sa.func.max(inner.c.changed_at).label("changed_at")).group_by(inner.c.b)
        rows = conn.execute(stmt).all()  # at most one row per bucket
        for bucket, changed_at in rows:
            # a change before the first stored period can still move its stocks (members, MRR)
            start = bucket_index_to_date([max(int(bucket), window.first_bucket)], grain)[0]
            stored = computed.get(start)
            if stored is None or changed_at > stored:
                stale.append(start.date())
    return min(stale) if stale else None
