"""Churn labels and training sets.

**Label**: a member paying at the prediction date ``d`` *churned within the horizon* when, at some instant in
``(d, d + horizon]``, they stopped paying because their memberships ended (status ``canceled``/``expired``);
see :mod:`analytics.models.churn.population`. Labels are only known once ``d + horizon`` has passed, so
:func:`training_dates` picks dates whose horizon ends by the end of the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import ModelError
from analytics.models.churn.feature_catalog import FEATURE_NAMES
from analytics.models.churn.features import build_features
from analytics.models.churn.population import (
    cut_instant,
    cuts_cte,
    paying_population,
    state_intervals,
    stop_events,
)
from analytics.store.types import UTCDateTime

__all__ = ["DEFAULT_HORIZON_DAYS", "churn_labels", "training_dates", "training_set"]

DEFAULT_HORIZON_DAYS = 30


def _check_horizon(horizon_days: int) -> None:
    if not isinstance(horizon_days, int) or isinstance(horizon_days, bool) or horizon_days < 1:
        raise ModelError(f"horizon_days must be a whole number of days ≥ 1, got {horizon_days!r}")


def churn_labels(
    engine: Engine, account_id: str, dates: Sequence[date], *, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> pd.DataFrame:
    """Who churned within ``horizon_days`` after each date, among members paying at that date.

    Returns
    -------
    pandas.DataFrame
        ``as_of`` (date), ``member_id``, ``churned`` (0/1) and ``churned_at`` (first instant the member stopped
        paying in the window, NaT when they did not), sorted by date and member.
    """
    _check_horizon(horizon_days)
    days = list(dates)
    cuts = cuts_cte(days, horizon_days=horizon_days)
    first, last = cut_instant(min(days)), cut_instant(max(days)) + timedelta(days=horizon_days)
    iv = state_intervals(account_id)
    pop = paying_population(cuts, iv)
    stops = stop_events(iv, after=sa.literal(first, UTCDateTime()), until=sa.literal(last, UTCDateTime()))
    # Stops per date come from the (few) stop events joined to the dates; the population is fetched on its own and
    # the two are merged here, so no engine has to guess how many members a date has.
    first_stops = (
        sa.select(cuts.c.k, stops.c.member_id, sa.func.min(stops.c.stopped_at).label("churned_at"))
        .select_from(cuts.join(stops, sa.and_(stops.c.stopped_at > cuts.c.cut, stops.c.stopped_at <= cuts.c.cut_h)))
        .group_by(cuts.c.k, stops.c.member_id)
    )
    with engine.connect() as conn:
        population = conn.execute(sa.select(pop.c.k, pop.c.member_id))
        frame = pd.DataFrame(population.all(), columns=["k", "member_id"])
        result = conn.execute(first_stops)
        stopped = pd.DataFrame(result.all(), columns=["k", "member_id", "churned_at"])
    if frame.empty:
        return pd.DataFrame(columns=["as_of", "member_id", "churned", "churned_at"])
    frame = frame.merge(stopped, on=["k", "member_id"], how="left")
    frame["as_of"] = [days[k] for k in frame["k"]]
    frame["churned_at"] = pd.to_datetime(frame["churned_at"], utc=True)
    frame["churned"] = frame["churned_at"].notna().astype(int)
    out = frame[["as_of", "member_id", "churned", "churned_at"]]
    return out.sort_values(["as_of", "member_id"], kind="stable").reset_index(drop=True)


def training_dates(
    end: date, *, n_dates: int = 26, step_days: int = 7, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> list[date]:
    """``n_dates`` prediction dates ``step_days`` apart whose labels are complete by ``end``.

    The last date is ``end − horizon_days`` (its horizon closes at ``end``), the others step back from it.
    """
    _check_horizon(horizon_days)
    if n_dates < 1 or step_days < 1:
        raise ModelError(f"need n_dates ≥ 1 and step_days ≥ 1, got n_dates={n_dates}, step_days={step_days}")
    last = end - timedelta(days=horizon_days)
    return [last - timedelta(days=step_days * i) for i in reversed(range(n_dates))]


def training_set(
    engine: Engine,
    account_id: str,
    dates: Sequence[date],
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    batch_size: int = 12,
    progress: bool = False,
) -> pd.DataFrame:
    """Features and labels of every member paying at each date: the rows a model is trained and backtested on.

    Returns
    -------
    pandas.DataFrame
        ``as_of``, ``member_id``, the features, ``churned`` (0/1) and ``churned_at``.
    """
    features = build_features(engine, account_id, dates, batch_size=batch_size, progress=progress)
    labels = churn_labels(engine, account_id, dates, horizon_days=horizon_days)
    if len(features) != len(labels):
        raise ModelError(
            f"features ({len(features)} rows) and labels ({len(labels)} rows) disagree on who is paying; "
            "this is a bug in the population query — please report it with the account id"
        )
    merged = features.merge(labels, on=["as_of", "member_id"], how="inner", validate="one_to_one")
    return merged[["as_of", "member_id", *FEATURE_NAMES, "churned", "churned_at"]]
