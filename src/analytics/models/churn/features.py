"""Churn features as of prediction dates, computed in the store: the one code path for training and scoring.

``build_features(engine, account_id, dates)`` returns one row per member paying at each date, with the columns
``as_of``, ``member_id`` and every feature of :data:`~analytics.models.churn.feature_catalog.FEATURES`. Dates are
processed in batches; each feature group is one SQL query per batch (SQLAlchemy Core, bound parameters), and only
the per-member aggregates come back to pandas, where day counts and ratios are derived.

Only rows timestamped before the cut (the date at 00:00 UTC) are read, so adding later data never changes the
features of a date (a test checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from analytics.metrics.engagement import engagement_scores
from analytics.models.churn.feature_catalog import FEATURE_NAMES
from analytics.models.churn.feature_sql import (
    activity_query,
    course_query,
    daily_activity,
    membership_query,
    payments_query,
    support_query,
)
from analytics.models.churn.population import (
    cut_instant,
    cuts_cte,
    ensure_planner_statistics,
    paying_population,
    state_intervals,
)

__all__ = ["KEY_COLUMNS", "build_features", "engagement_features"]

KEY_COLUMNS: tuple[str, str] = ("as_of", "member_id")
_DAY = pd.Timedelta(days=1)


def _frame(conn: sa.Connection, query: sa.Select[Any]) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _days_before(cut: pd.Series, stamps: pd.Series) -> pd.Series:
    when = pd.to_datetime(stamps, utc=True)
    return (cut - when) / _DAY


def engagement_features(engine: Engine, account_id: str, days: Sequence[date]) -> pd.DataFrame:
    """The engagement score and course progress of the engagement metrics (``engagement_score`` in the metric
    catalog), as of each cut: ``k``, ``member_id``, ``engagement_score``, ``course_progress_pct``.

    Reused rather than rewritten so the model sees the very score the dashboards show; the metric takes one
    instant per call, so this is one metric call per prediction date. Every member who joined is scored
    (``population="all"``): a member's score does not depend on the population, and the paying members the model
    scores are found by :mod:`.population` (changes *at or before* the cut), not by the metric's access test
    (changes *before* ``as_of``), so a member who starts paying exactly at the cut still has a score.
    """
    parts = []
    for k, day in enumerate(days):
        scores = engagement_scores(engine, account_id, as_of=cut_instant(day), population="all")
        parts.append(
            pd.DataFrame(
                {
                    "k": k,
                    "member_id": scores["member_id"],
                    "engagement_score": scores["score"].astype(float),
                    "course_progress_pct": scores["course_progress_pct"].astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _batch(conn: sa.Connection, engine: Engine, account_id: str, days: Sequence[date]) -> pd.DataFrame:
    dialect = conn.dialect.name
    cuts = cuts_cte(days)
    first, last = cut_instant(min(days)), cut_instant(max(days))
    daily = daily_activity(account_id, first - timedelta(days=90), last, dialect)
    iv = state_intervals(account_id)
    pop = paying_population(cuts, iv)
    base = _frame(conn, sa.select(pop.c.k, pop.c.member_id))
    if base.empty:
        return base
    parts = [
        _frame(conn, membership_query(account_id, cuts, iv, pop)),
        _frame(conn, activity_query(account_id, cuts, pop, daily)),
        _frame(conn, course_query(account_id, cuts, pop)),
        _frame(conn, payments_query(account_id, cuts, pop)),
        _frame(conn, support_query(account_id, cuts)),
        engagement_features(engine, account_id, days),
    ]
    frame = base
    for part in parts:
        if not part.empty:
            frame = frame.merge(part, on=["k", "member_id"], how="left")
    cut_by_k = pd.Series([pd.Timestamp(cut_instant(d)) for d in days])
    frame["as_of"] = [days[k] for k in frame["k"]]
    frame["cut"] = cut_by_k.iloc[frame["k"].to_numpy()].to_numpy()
    return frame


def _col(frame: pd.DataFrame, name: str, fill: float = 0.0) -> pd.Series:
    if name not in frame:
        return pd.Series(fill, index=frame.index, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce").astype(float).fillna(fill)


def _stamp_days(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return _days_before(frame["cut"], frame[name]).astype(float)


def _derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn the SQL aggregates into the catalog's features (day counts, ratios, fallbacks)."""
    out = pd.DataFrame({"as_of": frame["as_of"], "member_id": frame["member_id"]}, index=frame.index)
    tenure = _stamp_days(frame, "first_change_at").fillna(0.0)
    out["tenure_days"] = tenure
    out["paid_tenure_days"] = _stamp_days(frame, "first_paid_at").fillna(0.0)
    for name in ("monthly_price_minor", "billing_period_days", "paying_memberships", "cancel_at_period_end"):
        out[name] = _col(frame, name)
    for name in ("past_due", "had_trial", "previous_cancellations", "status_changes_90d"):
        out[name] = _col(frame, name)

    counts = (
        "events_7d",
        "events_30d",
        "events_90d",
        "events_prev_30d",
        "logins_7d",
        "logins_30d",
        "messages_7d",
        "messages_30d",
        "content_views_30d",
        "active_days_7d",
        "active_days_30d",
        "active_days_90d",
    )
    for name in counts:
        out[name] = _col(frame, name)
    e7, e30, ep30 = out["events_7d"], out["events_30d"], out["events_prev_30d"]
    both = e30 + ep30
    out["activity_trend_30d"] = np.where(both > 0, (e30 - ep30) / both.where(both > 0, 1.0), 0.0)
    r7, r30 = e7 / 7.0, e30 / 30.0
    rates = r7 + r30
    out["activity_trend_7d"] = np.where(rates > 0, (r7 - r30) / rates.where(rates > 0, 1.0), 0.0)
    since_active = _stamp_days(frame, "last_activity_at")
    out["days_since_last_activity"] = since_active.fillna(tenure)
    window = np.minimum(90.0, np.maximum(tenure, 1.0))
    days_active = out["active_days_90d"]
    out["usual_activity_gap_days"] = np.where(days_active > 0, window / days_active.where(days_active > 0, 1.0), window)

    out["lessons_completed"] = _col(frame, "lessons_completed")
    out["lessons_completed_30d"] = _col(frame, "lessons_completed_30d")
    out["course_progress_pct"] = _col(frame, "course_progress_pct")
    out["engagement_score"] = _col(frame, "engagement_score")

    out["paid_payments"] = _col(frame, "paid_payments")
    since_paid = _stamp_days(frame, "last_paid_at").fillna(out["paid_tenure_days"])
    out["days_since_last_payment"] = since_paid
    period = out["billing_period_days"]
    out["days_to_renewal"] = np.where(period > 0, period - np.mod(since_paid, period.where(period > 0, 1.0)), 0.0)
    for name in ("failed_payments_90d", "recovered_payments_90d", "unrecovered_failed_payment", "refunds", "disputes"):
        out[name] = _col(frame, name)
    out["used_promo_code"] = np.maximum(_col(frame, "promo_payment"), _col(frame, "promo_membership"))

    for name in ("question_messages_30d", "complaint_messages_30d", "whatsapp_inbound_30d"):
        out[name] = _col(frame, name)
    features = out[list(FEATURE_NAMES)].astype(float)
    return pd.concat([out[["as_of", "member_id"]], features], axis=1)


def build_features(
    engine: Engine,
    account_id: str,
    dates: Sequence[date],
    *,
    batch_size: int = 12,
    progress: bool = False,
) -> pd.DataFrame:
    """Features of every member paying at each date in ``dates``, using only data from before each date.

    Parameters
    ----------
    engine:
        The store.
    account_id:
        The account (``biz_…``) whose members are described.
    dates:
        Prediction dates (calendar dates; each stands for 00:00 UTC of that day).
    batch_size:
        Dates per SQL batch (one query per feature group per batch).
    progress:
        Show a tqdm progress bar over the batches.

    Returns
    -------
    pandas.DataFrame
        Columns ``as_of`` (date), ``member_id`` and the catalog's features (float), sorted by date and member;
        empty (with those columns) when nobody is paying.
    """
    days = list(dates)
    cuts_cte(days)  # validates the dates (calendar dates, no repeats) before any query
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    ensure_planner_statistics(engine)
    frames = []
    batches = [days[i : i + batch_size] for i in range(0, len(days), batch_size)]
    with engine.connect() as conn:
        for chunk in tqdm(batches, desc="churn features", unit="batch", disable=not progress):
            raw = _batch(conn, engine, account_id, chunk)
            if not raw.empty:
                frames.append(_derive(raw))
    if not frames:
        return pd.DataFrame(columns=["as_of", "member_id", *FEATURE_NAMES])
    result = pd.concat(frames, ignore_index=True)
    return result.sort_values(["as_of", "member_id"], kind="stable").reset_index(drop=True)
