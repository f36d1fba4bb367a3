"""import_frame: a DataFrame validated and upserted into the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from import_testkit import ACCOUNT, table_rows
from sqlalchemy.engine import Engine

from analytics.sources import import_frame
from analytics.store import quarantined


def test_a_frame_of_payments_round_trips_exactly(store: Engine) -> None:
    # Two payments: one in usd given as tz-aware datetimes, one in jpy (no minor units) at +09:00.
    frame = pd.DataFrame(
        {
            "account_id": [ACCOUNT, ACCOUNT],
            "id": ["pay_1", "pay_2"],
            "status": ["paid", "paid"],
            "substatus": ["succeeded", "refunded"],
            "currency": ["usd", "jpy"],
            "total_minor": [4900, 5000],
            "refunded_amount_minor": [0, 5000],
            "created_at": pd.to_datetime(["2025-01-31T10:00:00Z", "2025-02-01T09:00:00+09:00"], utc=True),
        }
    )
    report = import_frame(store, "payments", frame, source="payments frame")

    assert (report.read, report.loaded, report.quarantined) == (2, 2, 0)
    rows = table_rows(store, "payments")
    assert rows["total_minor"].tolist() == [4900, 5000]
    assert rows["refunded_amount_minor"].tolist() == [0, 5000]
    assert rows["created_at"].tolist() == [
        datetime(2025, 1, 31, 10, tzinfo=UTC),
        datetime(2025, 2, 1, 0, tzinfo=UTC),  # 09:00 at +09:00 is midnight UTC
    ]
    assert rows["payments_failed"].tolist() == [0, 0]  # server default for a missing optional column
    assert quarantined(store).empty
