"""Writing snapshots: compute the key metrics of a run of periods, then replace those periods in one transaction.

* **Idempotent** — a period is keyed by (account, kind, start, channel); writing it again replaces it.
* **Transactional** — every metric of every account of a call is computed first, in memory; only then are the
  rows written, in one transaction. A failing metric (or a failing write) leaves the stored periods as they
  were: never a half-written period.
* **Growth** — each number is compared with the previous period, computed in the same run:
  ``(current − previous) ÷ |previous| × 100``, ``"new"`` after a zero (:func:`analytics.metrics.growth_pct`).
* **Late data** — :func:`recompute_touched` finds the periods that late rows made stale and rewrites them.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.clock import Clock, utcnow
from analytics.errors import MetricError
from analytics.metrics.growth import growth_pct
from analytics.metrics.policies import DEFINITIONS_VERSION, Policies
from analytics.metrics.timeframe import DateLike, account_time_zone, to_local_date, zone
from analytics.snapshots.late_data import input_counts, touched_start
from analytics.snapshots.periods import Period, grain_of, last_complete, periods_between
from analytics.snapshots.registry import SnapshotMetric, SnapshotScope, resolve_metrics
from analytics.snapshots.store import INPUTS_KEY, replace_snapshots, snapshot_id
from analytics.store.jobs import job_run
from analytics.store.schema import accounts, snapshots, wa_messages

__all__ = ["backfill_snapshots", "build_snapshot_rows", "recompute_touched", "write_snapshots"]


def _json_value(value: Any) -> Any:
    """A JSON-safe plain value (numpy scalars unwrapped, NaN → None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _channels(engine: Engine, scope: SnapshotScope) -> list[str]:
    """The WhatsApp phone-number channels with messages in the scope (``whatsapp:<phone_number_id>``)."""
    w = scope.window
    stmt = (
        sa.select(wa_messages.c.phone_number_id)
        .where(
            wa_messages.c.account_id == scope.account_id,
            wa_messages.c.phone_number_id.is_not(None),
            wa_messages.c.sent_at >= w.start_utc,
            wa_messages.c.sent_at < w.end_utc,
        )
        .distinct()
    )
    with engine.connect() as conn:
        return sorted(f"whatsapp:{p}" for p in conn.execute(stmt).scalars())


def _values(engine: Engine, scope: SnapshotScope, chosen: Sequence[SnapshotMetric], bar: Any) -> pd.DataFrame:
    """Every chosen metric of the scope side by side, one row per period (indexed by ``period_start``)."""
    frame = scope.window.grid()[["period_start"]].set_index("period_start")
    for spec in chosen:
        part = spec.compute(engine, scope)
        part = part.set_index(pd.to_datetime(part["period_start"])).drop(columns="period_start")
        # A column two metrics share (arpa and mrr both carry mrr_minor) is the same quantity: keep the first.
        frame = frame.join(part.drop(columns=[c for c in part.columns if c in frame.columns]))
        bar.update(1)
    return frame


def build_snapshot_rows(
    engine: Engine,
    account_id: str,
    *,
    period: str,
    periods: Sequence[Period],
    policies: Policies,
    metrics: Sequence[str] | None = None,
    computed_at: datetime,
    job_run_id: str | None = None,
    bar: Any = None,
) -> list[dict[str, Any]]:
    """The snapshot rows (account level, then one per channel) of ``periods``, computed but not written."""
    chosen, _ = resolve_metrics(metrics)
    chosen = [m for m in chosen if period in m.periods]
    tz = account_time_zone(engine, account_id)
    first = periods[0].previous()  # computed too, for the growth of the first period
    through = last_complete("daily", computed_at, tz).end  # the last local day that has ended
    scope = SnapshotScope(account_id, tz, period, first.start, periods[-1].end, policies, through=through)
    bar = bar if bar is not None else tqdm(disable=True)
    tables = [("", [m for m in chosen if m.account_level], scope)]
    channel_metrics = [m for m in chosen if m.per_channel]
    if channel_metrics:
        for channel in _channels(engine, scope):
            tables.append(
                (
                    channel,
                    channel_metrics,
                    SnapshotScope(account_id, tz, period, scope.start, scope.end, policies, channel, through),
                )
            )
    with engine.connect() as conn:
        inputs = input_counts(conn, account_id, scope.window).set_index("period_start")
    wanted = {pd.Timestamp(p.start) for p in periods}
    rows: list[dict[str, Any]] = []
    for channel, specs, sc in tables:
        values = _values(engine, sc, specs, bar)
        previous: dict[str, Any] | None = None
        for stamp, record in zip(values.index, values.to_dict("records"), strict=True):
            current = {str(k): _json_value(v) for k, v in record.items()}
            if stamp in wanted:
                metrics_json = dict(current)
                if not channel:
                    metrics_json[INPUTS_KEY] = {str(k): int(v) for k, v in inputs.loc[stamp].items()}
                growth = {
                    k: growth_pct(v, (previous or {}).get(k)) for k, v in current.items() if not isinstance(v, bool)
                }
                start = stamp.date()
                rows.append(
                    {
                        "account_id": account_id,
                        "id": snapshot_id(period, start, channel),
                        "period": period,
                        "period_start": start,
                        "period_end": next(p.end for p in periods if p.start == start),
                        "channel": channel,
                        "metrics": metrics_json,
                        "growth": growth,
                        "policies": policies.to_dict(),
                        "definitions_version": DEFINITIONS_VERSION,
                        "computed_at": computed_at,
                        "job_run_id": job_run_id,
                    }
                )
            previous = current
    return rows


def _accounts(engine: Engine, accounts_: Iterable[str] | None) -> list[str]:
    with engine.connect() as conn:
        known = list(conn.execute(sa.select(accounts.c.id).order_by(accounts.c.id)).scalars())
    if accounts_ is None:
        return known
    wanted = list(accounts_)
    missing = [a for a in wanted if a not in known]
    if missing:
        raise MetricError(f"unknown account {', '.join(missing)}; accounts in the store: {', '.join(known) or 'none'}")
    return wanted


def write_snapshots(
    engine: Engine,
    *,
    period: str,
    start: DateLike | None = None,
    end: DateLike | None = None,
    accounts: Iterable[str] | None = None,
    policies: Policies | None = None,
    metrics: Sequence[str] | None = None,
    clock: Clock = utcnow,
    progress: bool = True,
) -> pd.DataFrame:
    """Compute and store the snapshots of every ``period`` overlapping ``start``–``end`` for each account.

    Parameters
    ----------
    period:
        ``daily``, ``weekly`` (Monday–Sunday) or ``monthly``, in each account's time zone.
    start, end:
        Inclusive local dates; periods overlapping them are written. Both None: the last complete period of each
        account at ``clock()`` (yesterday, last week, last month).
    accounts:
        Account ids (default: every account in the store).
    policies:
        Metric policies, recorded in every row (default :class:`Policies()`).
    metrics:
        Snapshot or catalog metric names (default: every registered snapshot metric and the catalog's
        :data:`~analytics.snapshots.registry.CATALOG_METRICS`).

    Returns
    -------
    DataFrame
        One row per account and channel: ``account_id, channel, period, first_period, last_period, periods``.
    """
    if (start is None) != (end is None):
        raise MetricError("give both --from and --to, or neither (the last complete period)")
    return _write(engine, period, start, end, accounts, policies, metrics, clock, progress, monthly=False)


def _write(
    engine: Engine,
    period: str,
    start: DateLike | None,
    end: DateLike | None,
    accounts: Iterable[str] | None,
    policies: Policies | None,
    metrics: Sequence[str] | None,
    clock: Clock,
    progress: bool,
    *,
    monthly: bool,
) -> pd.DataFrame:
    """Compute every row first, then write them: in one transaction, or one per calendar month (backfills)."""
    grain_of(period)
    pol = policies or Policies()
    ids = _accounts(engine, accounts)
    computed_at = clock()
    chosen, unavailable = resolve_metrics(metrics)
    params = {"period": period, "start": str(start), "end": str(end), "accounts": ids, "metrics": list(metrics or [])}
    with job_run(engine, "snapshot", params=params, clock=clock) as run:
        plan: list[tuple[str, list[Period]]] = []
        for account_id in ids:
            tz = account_time_zone(engine, account_id)
            if start is None or end is None:
                plan.append((account_id, [last_complete(period, computed_at, tz)]))
            else:
                first, last = to_local_date(start, tz), to_local_date(end, tz, "end")
                plan.append((account_id, periods_between(period, first, last)))
        steps = sum(len([m for m in chosen if period in m.periods]) for _ in ids)
        rows: list[dict[str, Any]] = []
        with tqdm(total=steps, desc=f"{period} snapshots", unit="metric", disable=not progress) as bar:
            for account_id, todo in plan:
                rows += build_snapshot_rows(
                    engine,
                    account_id,
                    period=period,
                    periods=todo,
                    policies=pol,
                    metrics=metrics,
                    computed_at=computed_at,
                    job_run_id=run.id,
                    bar=bar,
                )
        batches: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for row in rows:
            key = (row["period_start"].year, row["period_start"].month) if monthly else (0, 0)
            batches.setdefault(key, []).append(row)
        for key in tqdm(sorted(batches), desc="writing", unit="month", disable=not (progress and monthly)):
            with engine.begin() as conn:
                replace_snapshots(conn, batches[key])
        summary = _summary(rows, period)
        run.summary.update(
            {
                "rows": len(rows),
                "accounts": len(ids),
                "not_available": unavailable,
                "periods": int(summary["periods"].sum()),
            }
        )
    return summary


def _summary(rows: list[dict[str, Any]], period: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(r["account_id"], r["channel"], r["period_start"]) for r in rows], columns=["account_id", "channel", "start"]
    )
    if frame.empty:
        return pd.DataFrame(columns=["account_id", "channel", "period", "first_period", "last_period", "periods"])
    out = frame.groupby(["account_id", "channel"], as_index=False).agg(
        first_period=("start", "min"), last_period=("start", "max"), periods=("start", "count")
    )
    out.insert(2, "period", period)
    return out


def backfill_snapshots(
    engine: Engine,
    *,
    period: str = "daily",
    months: int = 12,
    end: DateLike | None = None,
    accounts: Iterable[str] | None = None,
    policies: Policies | None = None,
    metrics: Sequence[str] | None = None,
    clock: Clock = utcnow,
    progress: bool = True,
) -> pd.DataFrame:
    """Write ``months`` months of ``period`` snapshots ending at ``end`` (default: yesterday in UTC).

    Every metric is computed once for the whole range (one grouped query each, with a progress bar), then each
    calendar month is written in its own transaction: a failure while writing keeps the months already written,
    never half a month; a failing metric writes nothing.
    """
    if months <= 0:
        raise MetricError(f"months must be positive, got {months}")
    if end is not None:
        last = to_local_date(end, "UTC", "end")
    else:
        last = clock().astimezone(zone("UTC")).date() - timedelta(days=1)
    first = _months_before(last + timedelta(days=1), months)
    return _write(engine, period, first, last, accounts, policies, metrics, clock, progress, monthly=True)


def _months_before(day: date, months: int) -> date:
    """``day`` moved back ``months`` calendar months (the day clamped to the month's length)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def recompute_touched(
    engine: Engine,
    *,
    since: datetime | None = None,
    accounts: Iterable[str] | None = None,
    periods: Sequence[str] = ("daily", "weekly", "monthly"),
    policies: Policies | None = None,
    clock: Clock = utcnow,
    progress: bool = True,
) -> pd.DataFrame:
    """Recompute the stored periods that late-arriving rows made stale (see :mod:`.late_data`).

    For each account and period kind with snapshots, every stored period from the first stale one to the last
    stored one is rewritten (stocks such as members depend on all earlier data). ``policies`` default to the
    ones recorded in the latest stale snapshot, so a recompute keeps the definitions it found.

    Returns
    -------
    DataFrame
        ``account_id, period, first_stale, last_period`` for every recomputed run.
    """
    done = []
    for account_id in _accounts(engine, accounts):
        tz = account_time_zone(engine, account_id)
        for period in periods:
            with engine.connect() as conn:
                first = touched_start(conn, account_id, period, tz, grain_of(period), since=since)
                if first is None:
                    continue
                last, stored = _last_stored(conn, account_id, period)
            pol = policies or Policies.from_dict(stored)
            write_snapshots(
                engine,
                period=period,
                start=first,
                end=last,
                accounts=[account_id],
                policies=pol,
                clock=clock,
                progress=progress,
            )
            done.append({"account_id": account_id, "period": period, "first_stale": first, "last_period": last})
    return pd.DataFrame(done, columns=["account_id", "period", "first_stale", "last_period"])


def _last_stored(conn: sa.Connection, account_id: str, period: str) -> tuple[date, dict[str, Any]]:
    """The last stored period end of an account and the policies recorded with it."""
    row = conn.execute(
        sa.select(snapshots.c.period_end, snapshots.c.policies)
        .where(snapshots.c.account_id == account_id, snapshots.c.period == period, snapshots.c.channel == "")
        .order_by(snapshots.c.period_start.desc())
        .limit(1)
    ).one()
    return row.period_end, dict(row.policies or {})
