"""Date bucketing gives the same calendar answers on every engine, including across a time-zone boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.metrics.dialect import bucket_start, days_between, epoch_seconds, local_date, to_dates
from analytics.store.schema import accounts, activity_events

# 2024-02-29 23:30 UTC is already 2024-03-01 in Paris (UTC+1) and still the 29th in New York.
INSTANTS = [
    datetime(2024, 2, 29, 23, 30, tzinfo=UTC),  # a Thursday, leap day
    datetime(2024, 3, 3, 12, 0, tzinfo=UTC),  # a Sunday
    datetime(2024, 3, 4, 0, 0, tzinfo=UTC),  # a Monday
]


@pytest.fixture
def events(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        conn.execute(accounts.insert().values(id="biz_1", title="Demo"))
        conn.execute(
            activity_events.insert(),
            [
                {
                    "account_id": "biz_1",
                    "id": f"e{i}",
                    "member_id": "mber_1",
                    "kind": "login",
                    "occurred_at": ts,
                }
                for i, ts in enumerate(INSTANTS)
            ],
        )
    return engine


def _column(engine: sa.Engine, expr_of: object) -> list[date]:
    expr = expr_of(activity_events.c.occurred_at, engine.dialect.name)  # type: ignore[operator]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(expr.label("d")).order_by(activity_events.c.id)).all()
    frame = to_dates(pd.DataFrame(rows, columns=["d"]), "d")
    return [ts.date() for ts in frame["d"]]


@pytest.mark.parametrize(
    ("grain", "tz", "expected"),
    [
        ("day", "UTC", [date(2024, 2, 29), date(2024, 3, 3), date(2024, 3, 4)]),
        ("day", "Europe/Paris", [date(2024, 3, 1), date(2024, 3, 3), date(2024, 3, 4)]),
        ("day", "America/New_York", [date(2024, 2, 29), date(2024, 3, 3), date(2024, 3, 3)]),
        ("week", "UTC", [date(2024, 2, 26), date(2024, 2, 26), date(2024, 3, 4)]),
        ("month", "UTC", [date(2024, 2, 1), date(2024, 3, 1), date(2024, 3, 1)]),
        ("month", "Europe/Paris", [date(2024, 3, 1), date(2024, 3, 1), date(2024, 3, 1)]),
    ],
)
def test_bucket_start(events: sa.Engine, grain: str, tz: str, expected: list[date]) -> None:
    assert _column(events, lambda col, d: bucket_start(col, grain, d, tz)) == expected


def test_local_date_and_epoch(events: sa.Engine) -> None:
    assert _column(events, lambda col, d: local_date(col, d, "UTC"))[0] == date(2024, 2, 29)
    d = events.dialect.name
    with events.connect() as conn:
        secs = conn.execute(
            sa.select(epoch_seconds(activity_events.c.occurred_at, d)).where(activity_events.c.id == "e2")
        ).scalar_one()
        gap = (
            conn.execute(sa.select(days_between(activity_events.c.occurred_at, activity_events.c.occurred_at, d)))
            .scalars()
            .first()
        )
    assert float(secs) == datetime(2024, 3, 4, tzinfo=UTC).timestamp()
    assert float(gap) == 0.0


def test_duckdb_arrow_results_have_the_dtypes_of_duckdb_df() -> None:
    """fetch_frame reads DuckDB results through Arrow; the frame must be the one DuckDB's df() gives, type by type."""
    import warnings

    import duckdb

    from analytics.metrics.dialect import arrow_to_frame

    one = """SELECT 1::INTEGER i, NULL::INTEGER i_null, 5::BIGINT b, sum(x)::HUGEINT h, NULL::HUGEINT h_null,
        1.5::DECIMAL(18, 2) d, true bo, NULL::BOOLEAN bo_null, DATE '2025-01-02' dt, NULL::DATE dt_null,
        TIMESTAMP '2025-01-02 03:04:05' ts, TIMESTAMPTZ '2025-01-02 03:04:05+00' tz, 'abc' s, NULL::VARCHAR s_null,
        2.5::DOUBLE f, NULL::DOUBLE f_null, '{"a": 1}'::JSON j, epoch(TIMESTAMP '2025-01-01') ep, 7 AS b
        FROM (SELECT 1 x) GROUP BY ALL"""
    con = duckdb.connect()
    for sql in (
        f"SELECT * FROM ({one}) UNION ALL SELECT * FROM ({one})",  # two rows (a repeated column name too)
        f"SELECT * FROM ({one}) WHERE false",  # no rows
        "SELECT * FROM (SELECT 'a' s, NULL::INTEGER n UNION ALL SELECT NULL, 3)",  # NULLs in some rows only
    ):
        with warnings.catch_warnings():
            # DuckDB warns that Arrow output on a DB-API result makes a copy, and its df() of a repeated column
            # name uses pandas' deprecated drop(inplace=True)
            warnings.simplefilter("ignore")
            through_arrow = arrow_to_frame(con.execute(sql).to_arrow_table())
            expected = con.execute(sql).df()
        pd.testing.assert_frame_equal(through_arrow, expected)
