"""Time in the demo: instants are int64 seconds since the epoch (UTC); days, seasons and local hours.

The business is generated "as of" the start of ``end`` (00:00 UTC): every instant is strictly before that
horizon, and the history starts :data:`HISTORY_DAYS` days earlier.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "DAY",
    "HISTORY_DAYS",
    "HOUR",
    "HOUR_WEIGHTS",
    "horizon_of",
    "local_to_utc",
    "sample_days",
    "signup_day_weights",
    "to_date",
]

DAY = 86_400
HOUR = 3_600
HISTORY_DAYS = 730  # ~24 months of history before the horizon

# Relative signups by calendar month: a January resolution peak, a summer dip, a Black Friday bump.
_SEASON = np.array([1.30, 1.10, 1.00, 0.95, 0.90, 0.80, 0.75, 0.80, 1.05, 1.00, 1.25, 0.90])
# Relative activity by local hour: quiet nights, a lunch bump and an evening peak.
HOUR_WEIGHTS = np.array(
    [
        0.8,
        0.5,
        0.3,
        0.2,
        0.2,
        0.3,
        0.6,
        1.0,
        1.4,
        1.6,
        1.7,
        1.8,
        2.0,
        2.0,
        1.8,
        1.7,
        1.8,
        2.0,
        2.4,
        2.8,
        3.0,
        2.8,
        2.2,
        1.4,
    ]
)
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
_WEEKDAY = np.array([1.10, 1.05, 1.0, 1.0, 0.95, 0.85, 0.90])  # Monday first
MONTHLY_GROWTH = 0.045


def horizon_of(end: date) -> int:
    """Epoch seconds of ``end`` at 00:00 UTC: everything in the demo happens before it."""
    return int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp())


def to_date(seconds: int) -> date:
    """The UTC calendar date of an instant."""
    return datetime.fromtimestamp(seconds, UTC).date()


def signup_day_weights(first_day: int, days: int) -> npt.NDArray[np.float64]:
    """Relative signups per UTC day from epoch day ``first_day``: growth × month season × weekday."""
    day_numbers = np.arange(first_day, first_day + days)
    months = pd.to_datetime(day_numbers * DAY, unit="s").month.to_numpy() - 1
    weekdays = (day_numbers + 3) % 7  # 1970-01-01 was a Thursday
    growth = np.exp(np.log1p(MONTHLY_GROWTH) * np.arange(days) / 30.0)
    weights = growth * _SEASON[months] * _WEEKDAY[weekdays]
    return weights / weights.sum()


def sample_days(rng: np.random.Generator, weights: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.int64]:
    """``n`` day offsets drawn with the given weights."""
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, rng.random(n), side="right").astype(np.int64)


def local_to_utc(local_seconds: npt.NDArray[np.int64], tz: str) -> npt.NDArray[np.int64]:
    """Convert wall-clock seconds in ``tz`` to UTC epoch seconds (DST gaps shift forward; folds take standard time)."""
    if tz == "UTC":
        return local_seconds
    index = pd.DatetimeIndex(local_seconds.astype("datetime64[s]"))
    aware = index.tz_localize(tz, ambiguous=np.zeros(len(index), dtype=bool), nonexistent="shift_forward")
    return (aware.tz_convert("UTC").as_unit("s").asi8).astype(np.int64)
