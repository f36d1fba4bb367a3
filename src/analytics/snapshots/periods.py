"""Snapshot periods: daily, weekly (Monday–Sunday) and monthly calendar periods in the account's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from analytics.errors import MetricError
from analytics.metrics.timeframe import add_grain, floor_to_grain, to_utc, zone

__all__ = ["PERIODS", "Period", "grain_of", "last_complete", "period_of", "periods_between"]

PERIODS: dict[str, str] = {"daily": "day", "weekly": "week", "monthly": "month"}


def grain_of(period: str) -> str:
    """The metric grain of a snapshot period (``daily`` → ``day`` …); an unknown period lists the known ones."""
    try:
        return PERIODS[period]
    except KeyError:
        raise MetricError(f"snapshot period {period!r} is not one of {', '.join(PERIODS)}") from None


@dataclass(frozen=True, order=True)
class Period:
    """One calendar period: ``start`` and ``end`` are its first and last local day (both inclusive)."""

    kind: str
    start: date
    end: date

    @property
    def grain(self) -> str:
        return grain_of(self.kind)

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end + timedelta(days=1))

    def end_instant(self, tz: str) -> datetime:
        """The UTC instant at which the period ends (local midnight after its last day)."""
        return to_utc(self.end + timedelta(days=1), tz)


def period_of(kind: str, day: date) -> Period:
    """The period of ``kind`` containing ``day``."""
    grain = grain_of(kind)
    first = floor_to_grain(day, grain)
    return Period(kind, first, add_grain(first, grain) - timedelta(days=1))


def periods_between(kind: str, start: date, end: date) -> list[Period]:
    """Every period of ``kind`` overlapping ``start``–``end`` (inclusive), in order."""
    if end < start:
        raise MetricError(f"snapshot range starts ({start}) after it ends ({end}); swap --from and --to")
    out = [period_of(kind, start)]
    while out[-1].end < end:
        out.append(out[-1].next())
    return out


def last_complete(kind: str, now: datetime, tz: str) -> Period:
    """The latest period of ``kind`` that has ended at ``now`` in the time zone ``tz`` (yesterday, last week …)."""
    today = now.astimezone(zone(tz)).date()
    return period_of(kind, today).previous()
