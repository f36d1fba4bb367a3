"""Net MRR retention cohort tables over an account's whole history, computed ahead and stored for the pages.

The revenue page's cohort heat map shows the ``net_mrr_retention`` metric for the selected range. Rather than
running the metric on every page view, :func:`cohort_table_results` computes it once per day by monthly and by
weekly cohort, from the bucket of the account's first membership change to the last complete day, and
:func:`read_cohort_table` only filters the stored table to a range:

* cohorts are whole calendar buckets: the range keeps the cohorts whose bucket starts on or after the bucket
  containing its first day (a month or week is one cohort, never cut at the range's first day), and the columns
  whose bucket starts on or before its last day;
* each column is the cohort's MRR at the end of its bucket (for the bucket in progress, at the end of the table's
  last day), as the metric computes it over the whole history; for a range that ends on the table's last day,
  this is the metric's own answer for the range from a bucket's first day.

Both tables are stored with ``keep_history=False`` (:mod:`analytics.store.results`): only the newest is kept.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.metrics.policies import DEFINITIONS_VERSION
from analytics.metrics.timeframe import account_time_zone, floor_to_grain, to_local_date
from analytics.store.results import ComputedResult, StoredResult, read_result
from analytics.store.schema import membership_status_changes as msc

__all__ = ["COHORT_KINDS", "cohort_table_results", "read_cohort_table"]

#: grain → kind of the stored table
COHORT_KINDS: dict[str, str] = {"month": "net_mrr_retention_month", "week": "net_mrr_retention_week"}
METRIC = "net_mrr_retention"


def _first_day(engine: Engine, account_id: str) -> date | None:
    """The account's first day (its time zone) with a membership change; None when it has none."""
    with engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(msc.c.changed_at)).where(msc.c.account_id == account_id)).scalar()
        tz = account_time_zone(conn, account_id)
    return None if first is None else to_local_date(first, tz)


def cohort_table_results(engine: Engine, account_id: str, *, as_of: date) -> list[ComputedResult]:
    """The monthly and weekly ``net_mrr_retention`` tables through the day before ``as_of``, to store."""
    from analytics.metrics import MetricRequest, get

    last = as_of - timedelta(days=1)
    first = _first_day(engine, account_id)
    results = []
    for grain, kind in COHORT_KINDS.items():
        parameters = {"metric": METRIC, "grain": grain, "end": last.isoformat()}
        if first is None or first > last:
            frame, notes = pd.DataFrame(), [f"No membership changes before {as_of}: no cohorts yet."]
        else:
            start = floor_to_grain(first, grain)
            parameters["start"] = start.isoformat()
            frame = get(METRIC).function(engine, MetricRequest.build(account_id, start, last, grain))
            notes = []
        results.append(ComputedResult(kind, frame, parameters, DEFINITIONS_VERSION, notes, keep_history=False))
    return results


def read_cohort_table(engine: Engine, account_id: str, grain: str, start: date, end: date) -> StoredResult | None:
    """The stored ``grain`` table narrowed to ``[start, end]`` (see the module docstring); None when none is stored.

    The frame keeps the metric's columns; ``attrs["notes"]`` has the stored notes, plus one when ``end`` is after
    the table's last day (the days after are not in it yet).
    """
    stored = read_result(engine, account_id, COHORT_KINDS[grain])
    if stored is None:
        return None
    frame = stored.frame
    notes = list(stored.notes)
    if len(frame):
        cohort = pd.to_datetime(frame["cohort"])
        period = pd.to_datetime(frame["period_start"])
        keep = (cohort >= pd.Timestamp(floor_to_grain(start, grain))) & (period <= pd.Timestamp(end))
        frame = frame[keep.to_numpy()].reset_index(drop=True)
    through = date.fromisoformat(str(stored.parameters["end"]))
    if end > through:
        notes.append(f"Cohorts are measured through {through:%d %b %Y}, the last complete day when they were computed.")
    frame.attrs["notes"] = notes
    return StoredResult(
        stored.kind,
        stored.as_of,
        frame,
        stored.parameters,
        stored.definitions_version,
        notes,
        stored.computed_at,
        stored.job_run_id,
    )
