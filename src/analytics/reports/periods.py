"""Which calendar days a scheduled run covers: the last complete day, week (Monday–Sunday) or month.

A report compares like with like. :func:`report_period` picks the last period of the grain ending on or before
``as_of``; when that period has not ended yet (``as_of`` is today or later), it is *in progress*: its figures run
to yesterday (the last whole day) and are compared with the same number of days at the start of the period
before (1–20 June against 1–20 May), never a partial month against a full one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.errors import ReportError
from analytics.kpis import Filters, kpi_window
from analytics.store.schema import accounts

__all__ = ["PERIOD_GRAINS", "ReportPeriod", "default_as_of", "period_range", "report_period"]

PERIOD_GRAINS = {"daily": "day", "weekly": "week", "monthly": "month"}


def default_as_of(engine: Engine, account_id: str | None, clock: Clock = utcnow) -> date:
    """Yesterday in the account's time zone (UTC when no single account is named)."""
    tz = "UTC"
    if account_id:
        with engine.connect() as conn:
            tz = conn.execute(sa.select(accounts.c.time_zone).where(accounts.c.id == account_id)).scalar() or "UTC"
    return clock().astimezone(ZoneInfo(tz)).date() - timedelta(days=1)


def period_range(period: str, as_of: date, periods: int = 1) -> tuple[date, date]:
    """First and last day of the ``periods`` complete periods ending on or before ``as_of``.

    ``period_range("weekly", date(2025, 6, 29), 2)`` is Monday 16 June to Sunday 29 June 2025; with ``as_of``
    a Wednesday, the week in progress is left out.

    Raises
    ------
    ReportError
        Unknown period or a count below 1.
    """
    if period not in PERIOD_GRAINS:
        raise ReportError(f"period {period!r} is not one of {', '.join(PERIOD_GRAINS)}")
    if periods < 1:
        raise ReportError(f"periods must be at least 1, not {periods}")
    window = kpi_window(Filters(as_of, as_of, PERIOD_GRAINS[period]))
    start = window.current_start
    for _ in range(periods - 1):
        day_before = start - timedelta(days=1)
        start = kpi_window(Filters(day_before, day_before, PERIOD_GRAINS[period])).current_start
    return start, window.current_end


@dataclass(frozen=True)
class ReportPeriod:
    """The reported period and the stretch of the period before it that it is compared with.

    Attributes
    ----------
    grain:
        ``week`` or ``month`` (``day`` for daily runs).
    start, end:
        First and last day of the reported period.
    through:
        Last day counted: ``end``, or yesterday while the period is in progress.
    previous_start, previous_through:
        The period before, from its first day to the same number of days in (its last day when it is shorter).
    """

    grain: str
    start: date
    end: date
    through: date
    previous_start: date
    previous_through: date

    @property
    def in_progress(self) -> bool:
        """The period has not ended: its figures run to :attr:`through` only."""
        return self.through < self.end

    @property
    def name(self) -> str:
        """``June 2025``, ``week of 23 Jun 2025`` or ``29 Jun 2025``."""
        return _name(self.grain, self.start)

    @property
    def in_words(self) -> str:
        """The name inside a sentence: ``June 2025``, ``the week of 23 Jun 2025``."""
        return _in_words(self.grain, self.start)

    @property
    def counted(self) -> str:
        """The days counted, inside a sentence: :attr:`in_words`, or ``1–20 Jun 2025`` while in progress."""
        return _days(self.start, self.through) if self.in_progress else self.in_words

    @property
    def label(self) -> str:
        """What is compared: ``June 2025 vs May 2025``, or ``1–20 Jun 2025 vs 1–20 May 2025`` in progress."""
        if not self.in_progress:
            return f"{self.name} vs {_name(self.grain, self.previous_start)}"
        return f"{_days(self.start, self.through)} vs {_days(self.previous_start, self.previous_through)}"

    @property
    def progress_note(self) -> str:
        """One sentence about a period in progress (empty when the period is complete)."""
        if not self.in_progress:
            return ""
        before = _days(self.previous_start, self.previous_through)
        return (
            f"{self.in_words[0].upper()}{self.in_words[1:]} is in progress: its figures run to {self.through:%d %b %Y} "
            f"and are compared with the same days of the period before ({before})."
        )


def _name(grain: str, start: date) -> str:
    if grain == "month":
        return f"{start:%B %Y}"
    if grain == "week":
        return f"week of {start:%d %b %Y}"
    return f"{start:%d %b %Y}"


def _in_words(grain: str, start: date) -> str:
    name = _name(grain, start)
    return name if grain == "month" else f"the {name}"


def _days(first: date, last: date) -> str:
    """``1–20 Jun 2025``, ``23 Jun – 1 Jul 2025``, ``29 Dec 2025 – 2 Jan 2026``."""
    if first.year != last.year:
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day}–{last.day} {last:%b %Y}" if first != last else f"{last.day} {last:%b %Y}"


def report_period(period: str, as_of: date, today: date) -> ReportPeriod:
    """The last ``period`` (daily, weekly, monthly) ending on or before ``as_of``, cut at yesterday if in progress.

    ``today`` is the current day in the account's time zone; yesterday is the last day whose data is complete.
    ``report_period("monthly", date(2025, 6, 30), today=date(2025, 6, 21))`` is June to date (1–20 June)
    against 1–20 May; with ``today`` 1 July it is the whole of June against the whole of May.

    Raises
    ------
    ReportError
        Unknown period, or a period that has not started by yesterday (``as_of`` is in the future).
    """
    start, end = period_range(period, as_of)
    grain = PERIOD_GRAINS[period]
    yesterday = today - timedelta(days=1)
    if start > yesterday:
        raise ReportError(
            f"as_of {as_of.isoformat()} is in the future: {_in_words(grain, start)} has no complete day yet "
            f"(today is {today.isoformat()}); choose an as_of on or before {yesterday.isoformat()}"
        )
    through = min(end, yesterday)
    previous_start, previous_end = period_range(period, start - timedelta(days=1))
    previous_through = previous_end if through == end else min(previous_start + (through - start), previous_end)
    return ReportPeriod(grain, start, end, through, previous_start, previous_through)
