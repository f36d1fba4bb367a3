"""Reading and writing the ``snapshots`` table.

A snapshot row is keyed by (account, period kind, period start, channel); its id is derived from that key, so
writing a period again replaces it (idempotent) and :func:`replace_snapshots` does so for a batch of periods in
the caller's transaction (all or nothing). ``metrics`` keys starting with ``_`` are bookkeeping (the row counts
used to detect late data) and are left out by :func:`read_snapshots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.metrics.timeframe import DateLike, to_local_date
from analytics.snapshots.periods import grain_of, last_complete
from analytics.store.schema import accounts, snapshots

__all__ = ["read_snapshots", "replace_snapshots", "snapshot_id", "snapshot_index"]

INPUTS_KEY = "_inputs"


def snapshot_id(period: str, period_start: date, channel: str = "") -> str:
    """The row id of a snapshot (unique within its account): ``daily:2025-03-01`` or ``daily:2025-03-01:whatsapp:…``."""
    return f"{period}:{period_start.isoformat()}" + (f":{channel}" if channel else "")


def replace_snapshots(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Delete the snapshots with the same keys as ``rows`` and insert ``rows`` (inside the caller's transaction)."""
    if not rows:
        return 0
    by_account: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        by_account.setdefault((row["account_id"], row["period"]), []).append(row["id"])
    for (account_id, period), ids in by_account.items():
        for chunk in range(0, len(ids), 500):
            conn.execute(
                sa.delete(snapshots).where(
                    snapshots.c.account_id == account_id,
                    snapshots.c.period == period,
                    snapshots.c.id.in_(ids[chunk : chunk + 500]),
                )
            )
    conn.execute(snapshots.insert(), list(rows))
    return len(rows)


def snapshot_index(conn: sa.Connection, account_id: str, period: str, channel: str | None = "") -> pd.DataFrame:
    """``period_start, period_end, channel, computed_at, inputs`` of the stored snapshots (for late-data checks)."""
    stmt = sa.select(
        snapshots.c.period_start,
        snapshots.c.period_end,
        snapshots.c.channel,
        snapshots.c.computed_at,
        snapshots.c.metrics,
    ).where(snapshots.c.account_id == account_id, snapshots.c.period == period)
    if channel is not None:
        stmt = stmt.where(snapshots.c.channel == channel)
    rows = conn.execute(stmt.order_by(snapshots.c.period_start)).all()
    return pd.DataFrame(
        [
            {
                "period_start": r.period_start,
                "period_end": r.period_end,
                "channel": r.channel,
                "computed_at": r.computed_at,
                "inputs": (r.metrics or {}).get(INPUTS_KEY, {}),
            }
            for r in rows
        ],
        columns=["period_start", "period_end", "channel", "computed_at", "inputs"],
    )


def read_snapshots(
    engine: Engine,
    account_id: str,
    period: str,
    start: DateLike | None = None,
    end: DateLike | None = None,
    *,
    channel: str | None = "",
) -> pd.DataFrame:
    """Snapshots of one account as a DataFrame: what dashboards and reports read.

    Parameters
    ----------
    period:
        ``daily``, ``weekly`` or ``monthly``.
    start, end:
        Periods starting from ``start`` to ``end`` (inclusive local dates; None = unbounded).
    channel:
        ``""`` (default) the whole account, ``"whatsapp:<phone_number_id>"`` one channel, None every channel.

    Returns
    -------
    DataFrame
        ``period_start, period_end`` (``datetime64``), ``channel``, one column per metric (sorted by name), one
        ``<metric>_growth`` column per metric (percent, ``"new"`` after a zero, None when undefined), ``computed_at``,
        ``definitions_version``, ``complete`` (False for a period still in progress when it was computed: its numbers
        are to date, see docs/snapshots.md); ordered by channel and period.
    """
    grain_of(period)
    stmt = sa.select(snapshots).where(snapshots.c.account_id == account_id, snapshots.c.period == period)
    if start is not None:
        stmt = stmt.where(snapshots.c.period_start >= to_local_date(start, "UTC", "start"))
    if end is not None:
        stmt = stmt.where(snapshots.c.period_start <= to_local_date(end, "UTC", "end"))
    if channel is not None:
        stmt = stmt.where(snapshots.c.channel == channel)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(snapshots.c.channel, snapshots.c.period_start)).all()
        tz = conn.execute(sa.select(accounts.c.time_zone).where(accounts.c.id == account_id)).scalar() or "UTC"
    records = []
    for r in rows:
        record: dict[str, Any] = {"period_start": r.period_start, "period_end": r.period_end, "channel": r.channel}
        # sorted: PostgreSQL's JSONB does not keep key order
        record.update({k: v for k, v in sorted((r.metrics or {}).items()) if not k.startswith("_")})
        record.update({f"{k}_growth": v for k, v in sorted((r.growth or {}).items())})
        record["computed_at"] = r.computed_at
        record["definitions_version"] = r.definitions_version
        # complete when its last day had ended at computed_at: the same "through" day the builder scores up to
        record["complete"] = last_complete("daily", r.computed_at, tz).end >= r.period_end
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=None if records else ["period_start", "period_end", "channel"])
    for name in ("period_start", "period_end"):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
    return frame
