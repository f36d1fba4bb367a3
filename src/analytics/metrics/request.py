"""What a metric is asked for: a frozen :class:`MetricRequest`, plus the account and period helpers every metric uses.

Every registered metric has the uniform signature ``fn(engine, request) -> pandas.DataFrame`` (see
:mod:`analytics.metrics.catalog`). The request names the account, the period (calendar dates in the
account's time zone, both inclusive), the grain of the buckets, the breakdowns, the policies, the
reporting currency and any metric-specific parameters.

Periods are calendar days from :data:`EARLIEST_DAY` (1900-01-01) to :data:`LATEST_DAY` (2199-12-31): a day
outside is refused with a clear message (:func:`check_day`) by the request and by the keyword metric functions
(:func:`analytics.metrics.timeframe.resolve_window`) alike, before any instant is computed from it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.errors import MetricError
from analytics.metrics.dialect import GRAINS
from analytics.metrics.policies import Policies
from analytics.store import account_cache
from analytics.store.schema import accounts
from analytics.suggestions import did_you_mean

__all__ = [
    "BREAKDOWNS",
    "EARLIEST_DAY",
    "LATEST_DAY",
    "AccountSettings",
    "MetricRequest",
    "account_settings",
    "bucket_arrays",
    "bucket_ends",
    "bucket_frame",
    "bucket_starts",
    "check_day",
    "local_midnight",
    "period_instants",
]

BREAKDOWNS: tuple[str, ...] = ("product", "plan", "currency", "channel")
EARLIEST_DAY = date(1900, 1, 1)
"""The first calendar day a metric period may start on."""
LATEST_DAY = date(2199, 12, 31)
"""The last calendar day a metric period may end on: far from the limits of Python's dates (9999-12-31, where the
day after the period cannot be computed) and of pandas' nanosecond timestamps (2262-04-11)."""


def check_day(day: date, what: str, *, midnight: bool = False) -> date:
    """``day``, if a metric period may include it (:data:`EARLIEST_DAY` to :data:`LATEST_DAY`); else MetricError.

    With ``midnight``, ``day`` stands for the instant at which it starts (an ``as_of``, or the exclusive end of a
    period), so the midnight after :data:`LATEST_DAY` is allowed too.
    """
    latest = LATEST_DAY + timedelta(days=1) if midnight else LATEST_DAY
    if not EARLIEST_DAY <= day <= latest:
        raise MetricError(
            f"{what} {day.isoformat()} is outside the days metrics cover ({EARLIEST_DAY} to {latest}); "
            "choose a day in that range"
        )
    return day


def _as_date(value: date | datetime | str, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise MetricError(f"{what} {value!r} is not a date; write it as YYYY-MM-DD (e.g. 2025-01-31)") from None


@dataclass(frozen=True)
class MetricRequest:
    """One question to a metric.

    Attributes
    ----------
    account_id:
        The account (Whop ``biz_…`` id) whose data is read; every query is scoped to it.
    start, end:
        First and last calendar day of the period (inclusive), in the account's time zone.
    grain:
        Bucket size of the result: ``day``, ``week`` (Monday–Sunday) or ``month``. The first and last buckets are
        clipped to the period.
    breakdowns:
        Extra grouping columns, a subset of ``product``, ``plan``, ``currency``, ``channel`` (each metric says
        which it supports).
    policies:
        The policy choices (:class:`~analytics.metrics.policies.Policies`).
    reporting_currency:
        Currency of money results; ``None`` means the account's ``reporting_currency``.
    params:
        Metric-specific parameters as ``(name, value)`` pairs (e.g. engagement weights); read with :meth:`param`.
    """

    account_id: str
    start: date
    end: date
    grain: str = "month"
    breakdowns: tuple[str, ...] = ()
    policies: Policies = field(default_factory=Policies)
    reporting_currency: str | None = None
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not self.account_id:
            raise MetricError("a metric needs an account id (e.g. --account biz_XXXX)")
        check_day(self.start, "start")
        check_day(self.end, "end")
        if self.start > self.end:
            raise MetricError(f"the period starts ({self.start}) after it ends ({self.end}); swap --from and --to")
        if self.grain not in GRAINS:
            raise MetricError(f"grain {self.grain!r} is not one of {', '.join(GRAINS)}")
        unknown = [b for b in self.breakdowns if b not in BREAKDOWNS]
        if unknown:
            raise MetricError(
                f"unknown breakdown {', '.join(unknown)}{did_you_mean(unknown[0], BREAKDOWNS)}; "
                f"use any of {', '.join(BREAKDOWNS)}"
            )
        if len(set(self.breakdowns)) != len(self.breakdowns):
            raise MetricError(f"breakdown listed twice: {', '.join(self.breakdowns)}")

    @classmethod
    def build(
        cls,
        account_id: str,
        start: date | datetime | str,
        end: date | datetime | str,
        grain: str = "month",
        *,
        breakdowns: Iterable[str] = (),
        policies: Policies | Mapping[str, Any] | None = None,
        reporting_currency: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> MetricRequest:
        """A request from friendly values: ISO date strings, a policies dict, a params dict."""
        if policies is None:
            pol = Policies()
        elif isinstance(policies, Policies):
            pol = policies
        else:
            pol = Policies.from_dict(dict(policies))
        if isinstance(breakdowns, str):
            breakdowns = (breakdowns,)
        return cls(
            account_id=account_id,
            start=_as_date(start, "start"),
            end=_as_date(end, "end"),
            grain=grain,
            breakdowns=tuple(breakdowns),
            policies=pol,
            reporting_currency=reporting_currency.lower() if reporting_currency else None,
            params=tuple(sorted((params or {}).items())),
        )

    def param(self, name: str, default: Any = None) -> Any:
        """A metric-specific parameter, or ``default``."""
        return dict(self.params).get(name, default)

    def replace(self, **changes: Any) -> MetricRequest:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def only_breakdowns(self, metric: str, supported: Iterable[str]) -> None:
        """Refuse breakdowns ``metric`` cannot answer, naming the ones it can."""
        allowed = tuple(supported)
        bad = [b for b in self.breakdowns if b not in allowed]
        if bad:
            can = ", ".join(allowed) if allowed else "none"
            raise MetricError(f"metric {metric!r} cannot be broken down by {', '.join(bad)} (supported: {can})")


@dataclass(frozen=True)
class AccountSettings:
    """What metrics need to know about an account."""

    account_id: str
    time_zone: str
    reporting_currency: str
    extra: tuple[Any, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def account_settings(
    bind: sa.Engine | sa.Connection,
    account_id: str,
    *extra: sa.ColumnElement[Any],
    beside: sa.FromClause | None = None,
) -> AccountSettings:
    """The account's time zone and reporting currency.

    ``extra`` columns (scalar subqueries about the account, or columns of ``beside``, a one-row subquery such as
    the range of its currencies) are read in the same statement and returned in ``AccountSettings.extra``, saving
    a round trip.

    Raises
    ------
    MetricError
        The account is not in the store (the message lists the known ones), or its time zone is not an IANA name.
    """
    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            return account_settings(conn, account_id, *extra, beside=beside)
    plain = not extra and beside is None  # the settings alone: kept per DuckDB connection (store.account_cache)
    if plain and (kept := account_cache.cached(bind, account_id)) is not None:
        return kept
    read_at = account_cache.version(bind) if plain else None
    query = sa.select(accounts.c.time_zone, accounts.c.reporting_currency, *extra).where(accounts.c.id == account_id)
    if beside is not None:
        query = query.select_from(accounts.join(beside, sa.true()))
    row = bind.execute(query).first()
    known = [] if row else list(bind.execute(sa.select(accounts.c.id).order_by(accounts.c.id).limit(20)).scalars())
    if row is None:
        listed = ", ".join(known) or "none (import or sync first)"
        raise MetricError(f"account {account_id!r} is not in the store; known accounts: {listed}")
    tz = row.time_zone or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MetricError(
            f"account {account_id!r} has time zone {tz!r}, which is not an IANA name such as 'Europe/Paris'"
        ) from None
    settings = AccountSettings(account_id, tz, (row.reporting_currency or "usd").lower(), tuple(row[2:]))
    account_cache.remember(bind, account_id, settings, read_at)
    return settings


def local_midnight(day: date, tz: str) -> datetime:
    """The UTC instant at which ``day`` starts in the time zone ``tz``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def period_instants(request: MetricRequest, tz: str) -> tuple[datetime, datetime]:
    """The period as UTC instants ``[start, end)``: local midnight of ``start`` to local midnight after ``end``."""
    return local_midnight(request.start, tz), local_midnight(request.end + timedelta(days=1), tz)


def _bucket_of(day: date, grain: str) -> date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day


def bucket_starts(start: date, end: date, grain: str) -> list[date]:
    """Labels of every bucket overlapping ``[start, end]`` (a bucket is labelled by its first day, even if clipped)."""
    if grain not in GRAINS:
        raise MetricError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    out: list[date] = []
    label = _bucket_of(start, grain)
    while label <= end:
        out.append(label)
        if grain == "day":
            label += timedelta(days=1)
        elif grain == "week":
            label += timedelta(days=7)
        else:
            label = (label.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def bucket_ends(labels: list[date], end: date, grain: str) -> list[date]:
    """The last day of each bucket, clipped to ``end``."""
    out = []
    for i, label in enumerate(labels):
        nxt = labels[i + 1] if i + 1 < len(labels) else _next_bucket(label, grain)
        out.append(min(nxt - timedelta(days=1), end))
    return out


def _next_bucket(label: date, grain: str) -> date:
    if grain == "day":
        return label + timedelta(days=1)
    if grain == "week":
        return label + timedelta(days=7)
    return (label.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_frame(request: MetricRequest) -> pd.DataFrame:
    """One row per bucket: ``period_start`` (label), ``first_day`` and ``last_day`` (clipped to the period)."""
    labels, firsts, lasts = bucket_arrays(request.start, request.end, request.grain)
    return pd.DataFrame({"period_start": labels, "first_day": firsts, "last_day": lasts})


@functools.lru_cache(maxsize=256)
def bucket_arrays(start: date, end: date, grain: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`bucket_frame`'s columns as read-only ``datetime64[ns]`` arrays, computed once per period and grain.

    A daily year is 365 labels made one by one in Python; every metric call over the period needs them.
    """
    labels = bucket_starts(start, end, grain)
    firsts = [max(label, start) for label in labels]
    lasts = bucket_ends(labels, end, grain)
    out = tuple(np.array(days, dtype="datetime64[D]").astype("datetime64[ns]") for days in (labels, firsts, lasts))
    for array in out:
        array.flags.writeable = False
    return out[0], out[1], out[2]
