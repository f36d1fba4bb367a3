"""Every catalog metric gives the same timestamps and dates on SQLite, PostgreSQL and DuckDB.

Each engine stores instants its own way (SQLite: integer microseconds since the epoch; PostgreSQL and DuckDB:
timestamps), so a metric that fetches an instant without converting it reads right on two engines and wrong on
the third (``mrr_movement_log.changed_at`` once came back from SQLite as 1970-01-21: the microseconds read as
nanoseconds). One small business with revenue, engagement, content and messaging rows is loaded into a store
on each engine; every registered metric runs on all three, and each of its date and timestamp columns must be
identical across engines (same dtype, same values) and fall within the business's own dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from business import Business as RevenueBusiness
from business import add_rates
from sqlalchemy.engine import Engine

from analytics.metrics import MetricRequest
from analytics.metrics.catalog import registered
from analytics.store import create_store_engine, init_store
from store_fixtures import postgres_schema
from tiny_business import Business as ActivityBusiness

ACCOUNT = "biz_engines"
ZONE = "America/New_York"  # not UTC, so local dates and instants differ
START, END = "2025-01-01", "2025-03-31"
PLAUSIBLE = (pd.Timestamp("2024-12-01"), pd.Timestamp("2025-06-01"))  # every date of the business is in here
PARAMS: dict[str, dict[str, object]] = {"funnel": {"steps": "checkout"}}


def load_business(engine: Engine) -> None:
    """A small business in New York time, January to March 2025.

    Revenue: m1 pays 1000/month from Jan 10, upgrades to 2000 on Feb 10 and cancels on Mar 15; m2 trials from
    Jan 3 and pays 1500 in euros from Jan 10 (a rate on each month end); m3 pays 700 from Jan 20, fails a charge on
    Feb 20 (past due) and expires on Mar 5; m4 trials from Feb 1 and the trial expires on Feb 8. Payments,
    one refund and one dispute. Activity: logins, messages, lesson views and completions, a forum post with a
    comment, views and a reaction, the checkout funnel, and WhatsApp messages of one campaign.
    """
    revenue = RevenueBusiness(ACCOUNT, time_zone=ZONE)
    for member, joined in (("m1", "2025-01-10"), ("m2", "2025-01-03"), ("m3", "2025-01-20"), ("m4", "2025-02-01")):
        revenue.member(member, joined)
    revenue.plan("plan_1", price=1000).plan("plan_2", price=2000)
    revenue.history(
        "m1",
        "ms1",
        ("2025-01-10T15:00", "active", 1000),
        ("2025-02-10T10:30", "active", 2000, False, "plan_2"),
        ("2025-03-15T14:00", "canceled", 2000, False, "plan_2"),
    )
    revenue.history(
        "m2", "ms2", ("2025-01-03T09:00", "trialing", 0), ("2025-01-10T09:00", "active", 1500), currency="eur"
    )
    revenue.history(
        "m3",
        "ms3",
        ("2025-01-20T08:00", "active", 700),
        ("2025-02-20T08:00", "past_due", 700),
        ("2025-03-05T08:00", "expired", 700),
    )
    revenue.history("m4", "ms4", ("2025-02-01T12:00", "trialing", 0), ("2025-02-08T12:00", "expired", 0))
    paid = revenue.payment("m1", "ms1", "2025-01-10T15:00", 1000)
    revenue.payment("m1", "ms1", "2025-02-10T10:30", 2000)
    revenue.payment("m2", "ms2", "2025-01-10T09:00", 1500, currency="eur")
    revenue.payment("m2", "ms2", "2025-02-10T09:00", 1500, currency="eur")
    charged = revenue.payment("m3", "ms3", "2025-01-20T08:00", 700)
    revenue.payment("m3", "ms3", "2025-02-20T08:00", 700, status="open", failed=2)
    revenue.refund(paid, "2025-01-12T11:00", 400)
    revenue.dispute(charged, "2025-02-02T16:00", 700, "won")
    revenue.load(engine)
    add_rates(engine, [(dt.date(y, m, d), "eur", "usd", "1.1") for y, m, d in ((2024, 12, 31), (2025, 1, 31))])
    add_rates(engine, [(dt.date(2025, 2, 28), "eur", "usd", "1.05"), (dt.date(2025, 3, 31), "eur", "usd", "1.08")])

    activity = ActivityBusiness(engine, account_id=ACCOUNT, time_zone=ZONE)
    for member, day in (("m1", "2025-01-11"), ("m2", "2025-01-12"), ("m1", "2025-02-14"), ("m3", "2025-03-02")):
        activity.event(member, "login", f"{day} 13:00")
        activity.event(member, "message", f"{day} 13:05")
    activity.course("c1", ["l1", "l2"], title="Course 1")
    activity.lesson_progress("m1", "l1", "c1", "2025-01-11 14:00", "2025-01-11 14:30")
    activity.lesson_progress("m1", "l2", "c1", "2025-01-12 14:00", "2025-01-13 09:00")
    activity.lesson_progress("m2", "l1", "c1", "2025-02-01 10:00", None)
    for member, when in (("m1", "2025-01-11 14:00"), ("m2", "2025-02-01 10:00")):
        activity.event(member, "lesson_view", when, object_id="l1")
    activity.event("m1", "lesson_complete", "2025-01-11 14:30", object_id="l1")
    activity.post("p1", "m1", "2025-01-15 18:00", title="Hello")
    activity.post("p2", "m2", "2025-01-16 08:00", parent_id="p1")
    activity.event("m2", "post_view", "2025-01-16 07:55", object_id="p1")
    activity.event("m3", "reaction", "2025-01-21 12:00", object_id="p1")
    for member, day in (("m1", "2025-01-09"), ("m2", "2025-01-02"), ("m4", "2025-01-31")):
        activity.event(member, "funnel_view", f"{day} 20:00")
        activity.event(member, "checkout_start", f"{day} 20:10")
    activity.event("m1", "purchase", "2025-01-10 15:00")
    activity.campaign("cmp_1", "Welcome")
    activity.contact("c1", member_id="m1")
    activity.contact("c2", member_id="m2")
    activity.message("c1", "outbound", "read", "2025-01-12 10:00", campaign_id="cmp_1")
    activity.message("c2", "outbound", "delivered", "2025-02-12 10:00", campaign_id="cmp_1")
    activity.message("c1", "inbound", "received", "2025-01-12 10:30")
    activity.save()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    """The business on SQLite, PostgreSQL and DuckDB (PostgreSQL in a throw-away schema)."""
    folder: Path = tmp_path_factory.mktemp("engines")
    with postgres_schema() as pg_url:
        engines = {
            "sqlite": create_store_engine(f"sqlite:///{folder}/store.db"),
            "postgresql": create_store_engine(pg_url),
            "duckdb": create_store_engine(f"duckdb:///{folder}/store.duckdb"),
        }
        try:
            for engine in engines.values():
                init_store(engine)
                load_business(engine)
            yield engines
        finally:
            for engine in engines.values():
                engine.dispose()


def time_columns(frame: pd.DataFrame) -> list[str]:
    """Columns holding dates or instants: a datetime dtype, or objects that are dates, datetimes or Timestamps."""
    out = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out.append(column)
        elif series.dtype == object:
            values = series.dropna()
            if len(values) and all(isinstance(v, dt.date) for v in values):  # datetime and Timestamp are dates
                out.append(column)
    return out


def as_naive_utc(series: pd.Series) -> pd.Series:
    """Comparable timestamps: instants in UTC without zone, dates at midnight."""
    values = pd.to_datetime(series)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(registered()))
@pytest.mark.parametrize("grain", ["week", "month"])
def test_timestamps_agree_on_every_engine(stores: dict[str, Engine], name: str, grain: str) -> None:
    request = MetricRequest.build(ACCOUNT, START, END, grain, params=PARAMS.get(name))
    frames = {kind: registered()[name].function(engine, request) for kind, engine in stores.items()}
    reference = frames["postgresql"]
    columns = time_columns(reference)
    for kind, frame in frames.items():
        assert time_columns(frame) == columns, f"{name} on {kind}: date/time columns differ from PostgreSQL's"
        for column in columns:
            assert frame[column].dtype == reference[column].dtype, f"{name}.{column} on {kind}: {frame[column].dtype}"
            values = as_naive_utc(frame[column])
            expected = as_naive_utc(reference[column])
            assert values.tolist() == expected.tolist(), f"{name}.{column} on {kind} differs from PostgreSQL"
            present = values.dropna()
            assert present.between(*PLAUSIBLE).all(), f"{name}.{column} on {kind}: {present.min()}…{present.max()}"
