"""The page-data job: compute ahead what the dashboards show beyond snapshots and churn scores, and store it.

Dashboards only read. What a page used to compute on every view is computed here once per account and day and
stored in ``computed_results`` (:mod:`analytics.store.results`):

* the retention model's outputs — projection, cohort retention, the sBG fit and its quality, lifetime value and the
  90-day revenue forecast (:func:`analytics.models.retention.stored.retention_results`);
* the net MRR retention cohort tables, monthly and weekly
  (:func:`analytics.snapshots.cohort_tables.cohort_table_results`).

Churn scores, the model card and calibration are stored by the churn scoring and the registry already.

It runs in the daily schedule (``page_data`` notebook, after churn scoring), on demand with
``analytics precompute [--account biz_…] [--as-of YYYY-MM-DD]`` and in ``analytics demo`` (step ``page_data``).
Each account's run is one job run (kind ``page_data``) and one transaction: re-running for the same day replaces
what was stored, never adds to it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.clock import Clock, utcnow
from analytics.metrics.request import account_settings
from analytics.models.churn.training import resolve_account
from analytics.models.retention.stored import RetentionParameters, retention_results
from analytics.snapshots.cohort_tables import cohort_table_results
from analytics.store.jobs import job_run
from analytics.store.results import ComputedResult, replace_results
from analytics.store.schema import accounts

if TYPE_CHECKING:
    from analytics.demo.pipeline import DemoContext

__all__ = ["page_data_step", "store_page_data"]


def _summary_row(account_id: str, as_of: date, results: list[ComputedResult], seconds: float) -> dict[str, Any]:
    notes: list[str] = []
    for result in results:
        notes.extend(n for n in result.notes if n not in notes)
    return {
        "account_id": account_id,
        "as_of": as_of,
        "stored": len(results),
        "empty": ", ".join(r.kind for r in results if r.frame.empty),
        "notes": len(notes),
        "seconds": round(seconds, 2),
    }


def store_page_data(
    engine: Engine,
    account_id: str | None = None,
    *,
    as_of: date | None = None,
    parameters: RetentionParameters | None = None,
    progress: bool = False,
    clock: Clock = utcnow,
) -> pd.DataFrame:
    """Compute and store the page data of one account (or of every account when ``account_id`` is None).

    ``as_of`` is the day the results are as of: they use the data before it (default today in each account's time
    zone, so the last complete day is yesterday).

    Returns
    -------
    pandas.DataFrame
        One row per account: ``account_id``, ``as_of``, ``stored`` (results written), ``empty`` (kinds stored
        without data, with the reason as their note), ``notes`` (distinct quality notes) and ``seconds``.

    Raises
    ------
    ModelError
        ``account_id`` is not in the store.
    """
    if account_id:
        targets = [resolve_account(engine, account_id)]
    else:
        with engine.connect() as conn:
            targets = list(conn.execute(sa.select(accounts.c.id).order_by(accounts.c.id)).scalars())
    params = parameters or RetentionParameters()
    rows = []
    for account in targets:
        settings = account_settings(engine, account)
        day = as_of or clock().astimezone(ZoneInfo(settings.time_zone)).date()
        started = time.perf_counter()
        with (
            job_run(engine, "page_data", account_id=account, params={"as_of": day.isoformat()}, clock=clock) as run,
            tqdm(total=3, desc=f"page data {account}", unit="step", disable=not progress) as bar,
        ):
            bar.set_postfix_str("retention model")
            results = retention_results(
                engine, account, as_of=day, currency=settings.reporting_currency, parameters=params
            )
            bar.update()
            bar.set_postfix_str("cohort tables")
            results += cohort_table_results(engine, account, as_of=day)
            bar.update()
            bar.set_postfix_str("storing")
            with engine.begin() as conn:
                replace_results(conn, account, day, results, computed_at=clock(), job_run_id=run.id)
            bar.update()
            row = _summary_row(account, day, results, time.perf_counter() - started)
            run.summary.update({k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=["account_id", "as_of", "stored", "empty", "notes", "seconds"])


def page_data_step(ctx: DemoContext) -> Mapping[str, Any]:
    """The ``page_data`` step of ``analytics demo`` (registered in :mod:`analytics.demo.steps`, after ``churn``):
    the page data of every demo account as of the demo's end, the day its churn scores are as of."""
    summary = {}
    for account in ctx.account_ids:
        frame = store_page_data(ctx.engine, account, as_of=ctx.end, progress=ctx.progress, clock=ctx.clock)
        row = frame.iloc[0]
        summary[account] = {"stored": int(row["stored"]), "empty": row["empty"], "notes": int(row["notes"])}
    return summary
