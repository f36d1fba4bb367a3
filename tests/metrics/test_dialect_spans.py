"""The fast paths of the dialect module inside a known span (UTC-offset pieces, month boundaries) give exactly the
same calendar answers as the general expressions, around DST changes, month ends and the span's edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from analytics.metrics.dialect import bucket_index, bucket_start, local_date
from analytics.store.schema import accounts, activity_events

# Instants around New York's DST changes (2024-03-10 07:00 UTC, 2024-11-03 06:00 UTC), month ends in local time,
# a leap day, and both sides of the span edges.
INSTANTS = [
    datetime(2024, 1, 1, 4, 59, tzinfo=UTC),  # before the span
    datetime(2024, 1, 1, 5, 0, tzinfo=UTC),  # span start = Jan 1 00:00 New York
    datetime(2024, 2, 1, 4, 59, 59, tzinfo=UTC),  # Jan 31 23:59:59 local
    datetime(2024, 2, 29, 23, 30, tzinfo=UTC),  # leap day 18:30 local
    datetime(2024, 3, 10, 6, 59, 59, tzinfo=UTC),
    datetime(2024, 3, 10, 7, 0, tzinfo=UTC),
    datetime(2024, 4, 1, 3, 59, tzinfo=UTC),  # Mar 31 23:59 EDT
    datetime(2024, 4, 1, 4, 0, tzinfo=UTC),  # Apr 1 00:00 EDT
    datetime(2024, 11, 3, 5, 59, tzinfo=UTC),
    datetime(2024, 11, 3, 6, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
    datetime(2025, 1, 1, 5, 0, tzinfo=UTC),  # span end (exclusive) and after
]
SPAN = (datetime(2024, 1, 1, 5, tzinfo=UTC), datetime(2025, 1, 1, 5, tzinfo=UTC))


@pytest.fixture(scope="module")
def instants(engine: sa.Engine) -> sa.Engine:
    """The instants as events of one account (the module's store is shared by its tests)."""
    with engine.begin() as conn:
        conn.execute(accounts.insert().values(id="biz_span", title="Span", time_zone="America/New_York"))
        conn.execute(
            activity_events.insert(),
            [
                {"account_id": "biz_span", "id": f"e{i:02d}", "member_id": "m", "kind": "login", "occurred_at": ts}
                for i, ts in enumerate(INSTANTS)
            ],
        )
    return engine


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_span_fast_paths_match(instants: sa.Engine, grain: str) -> None:
    col, dialect, tz = activity_events.c.occurred_at, instants.dialect.name, "America/New_York"
    query = (
        sa.select(
            bucket_index(col, grain, dialect, tz).label("exact_index"),
            bucket_index(col, grain, dialect, tz, SPAN).label("fast_index"),
            sa.cast(local_date(col, dialect, tz), sa.String).label("exact_day"),
            sa.cast(local_date(col, dialect, tz, SPAN), sa.String).label("fast_day"),
            sa.cast(bucket_start(col, grain, dialect, tz), sa.String).label("exact_start"),
            sa.cast(bucket_start(col, grain, dialect, tz, SPAN), sa.String).label("fast_start"),
        )
        .where(activity_events.c.account_id == "biz_span")
        .order_by(activity_events.c.id)
    )
    with instants.connect() as conn:
        rows = conn.execute(query).all()
    assert len(rows) == len(INSTANTS)
    for instant, row in zip(INSTANTS, rows, strict=True):
        local = instant.astimezone(ZoneInfo(tz)).date()
        assert row.exact_index == row.fast_index, instant
        assert row.exact_day == row.fast_day == local.isoformat(), instant
        assert row.exact_start == row.fast_start, instant
    months = [row.fast_index for row in rows]
    assert grain != "month" or months[2] + 1 == months[3]  # Jan 31 local → Feb
    assert timedelta(0) < SPAN[1] - SPAN[0]
