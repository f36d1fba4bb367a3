"""Time as an injected dependency: functions that need "now" take a ``clock`` argument."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "fixed_clock", "utcnow"]

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current instant, aware, in UTC (the default clock)."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock that always answers ``at`` (for tests and reproducible runs)."""
    if at.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    return lambda: at
