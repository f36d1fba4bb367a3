"""Fixtures of the churn tests: a tiny hand-checkable business (see ``tiny`` for the story of each member)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from threadpoolctl import threadpool_limits

from analytics.store import create_store_engine, init_store, metadata
from churn.builders import Business, at
from store_fixtures import postgres_schema


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Numeric libraries on one thread: the models are small and OpenMP threads fight on a shared 2-core box."""
    with threadpool_limits(limits=1):
        yield


# The prediction date of the tiny business; labels look at (2024-03-01, 2024-03-31].
D = date(2024, 3, 1)


def tiny_business() -> Business:
    """Six members, prediction date 2024-03-01, horizon 30 days.

    * ``m_loyal``   monthly 30.00 since Jan 1, logs in every 2 days up to Feb 29 → stays (label 0).
    * ``m_fading``  monthly since Jan 1, active every day until Feb 15 (15 days before d), canceled Mar 10
      → churned (label 1), days since last activity 15.
    * ``m_leaving`` monthly since Jan 1, asked to cancel on Feb 25 (canceling, cancel_at_period_end), expired
      Mar 20 → churned (label 1); complains in chat about a refund on Feb 26.
    * ``m_trial``   trialing (price 0) from Feb 20, active from Feb 27 → paying at d (label 0).
    * ``m_annual``  annual 360.00 since 2023-06-01 → monthly price 30.00 (360 ÷ 12), label 0.
    * ``m_two``     two monthly memberships; one is canceled on Mar 5 but the other stays → label 0; a payment
      failed on Feb 20 and was recovered on Feb 22; used a promo code; completed 2 of 4 lessons.
    * ``m_gone``    canceled on Feb 10 → not paying at d (not in the population).
    """
    b = Business()
    b.course(4)
    for m in ("m_loyal", "m_fading", "m_leaving", "m_two", "m_gone"):
        b.member(m, at("2024-01-01"))
    b.member("m_trial", at("2024-02-20"))
    b.member("m_annual", at("2023-06-01"))

    b.change("m_loyal", "ms_loyal", at("2024-01-01"), "active")
    b.events("m_loyal", "login", at("2024-01-02"), at("2024-02-29"), 2)
    b.payment("m_loyal", at("2024-02-01"), paid=at("2024-02-01"))

    b.change("m_fading", "ms_fading", at("2024-01-01"), "active")
    b.events("m_fading", "login", at("2024-01-01"), at("2024-02-15"), 1)
    b.change("m_fading", "ms_fading", at("2024-03-10"), "canceled")

    b.change("m_leaving", "ms_leaving", at("2024-01-01"), "active")
    b.change("m_leaving", "ms_leaving", at("2024-02-25"), "canceling", cancel=True)
    b.event("m_leaving", "message", at("2024-02-26"), text="This is not worth it, I want a refund")
    b.event("m_leaving", "message", at("2024-02-27"), text="How do I cancel?")
    b.change("m_leaving", "ms_leaving", at("2024-03-20"), "expired", cancel=True)

    b.change("m_trial", "ms_trial", at("2024-02-20"), "trialing", price=0)
    b.change("m_trial", "ms_trial", at("2024-02-27"), "active")

    b.change("m_annual", "ms_annual", at("2023-06-01"), "active", price=36000, period=365)

    b.change("m_two", "ms_two_a", at("2024-01-01"), "active")
    b.change("m_two", "ms_two_b", at("2024-01-15"), "active", price=1500)
    b.change("m_two", "ms_two_a", at("2024-03-05"), "canceled")
    b.payment("m_two", at("2024-02-20"), paid=at("2024-02-22"), failed=1, promo="promo_1")
    b.lesson_done("m_two", "lesson_1", at("2024-02-01"), at("2024-02-02"))
    b.lesson_done("m_two", "lesson_2", at("2024-02-03"), at("2024-02-10"))
    b.lesson_done("m_two", "lesson_3", at("2024-02-11"), None)

    b.change("m_gone", "ms_gone", at("2024-01-01"), "active")
    b.change("m_gone", "ms_gone", at("2024-02-10"), "canceled")
    return b


@pytest.fixture
def tiny(engine: sa.Engine) -> sa.Engine:
    """The tiny business saved in a fresh store (SQLite and PostgreSQL)."""
    tiny_business().save(engine)
    return engine


SYNTH_END = date(2024, 10, 1)
_WRITTEN_BY_TESTS = ("churn_predictions", "model_registry", "job_runs", "computed_results")


def _session_store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[sa.Engine], None],
) -> Iterator[object]:
    """A store built once per session: a SQLite file (tests copy it) or a PostgreSQL schema (dropped at the end)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp(name) / "store.db"
        eng = create_store_engine(f"sqlite:///{path}")
        init_store(eng)
        build(eng)
        with eng.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        eng.dispose()
        yield path
        return
    with postgres_schema(name) as url:
        eng = create_store_engine(url)
        try:
            init_store(eng)
            build(eng)
            yield eng
        finally:
            eng.dispose()


def _use_store(store: object, tmp_path: Path) -> Iterator[sa.Engine]:
    """A SQLite copy of the session file, or the session's PostgreSQL schema (tables tests write emptied after)."""
    if isinstance(store, Path):
        path = tmp_path / "store.db"
        shutil.copyfile(store, path)
        eng = create_store_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    assert isinstance(store, sa.Engine)
    yield store
    with store.begin() as conn:
        for name in _WRITTEN_BY_TESTS:
            conn.execute(metadata.tables[name].delete())


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=ENGINES)
def _synthetic_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from churn.synthetic import build_synthetic

    yield from _session_store(
        request, tmp_path_factory, "synthetic", lambda eng: build_synthetic(eng, members=150, days=270, end=SYNTH_END)
    )


@pytest.fixture
def synthetic(_synthetic_store: object, tmp_path: Path) -> Iterator[sa.Engine]:
    """A 150-member synthetic business (churn driven by engagement) ending 2024-10-01, on each engine."""
    yield from _use_store(_synthetic_store, tmp_path)


DEMO_END = date(2026, 1, 1)


@pytest.fixture(scope="session", params=ENGINES)
def _demo_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from analytics.demo.load import load_demo

    yield from _session_store(
        request,
        tmp_path_factory,
        "demo",
        lambda eng: load_demo(eng, seed=7, size="small", end=DEMO_END, progress=False) and None,
    )


@pytest.fixture
def demo_small(_demo_store: object, tmp_path: Path) -> Iterator[sa.Engine]:
    """The small demo business (seed 7, 1,000 members, history to 2026-01-01), loaded once per engine."""
    yield from _use_store(_demo_store, tmp_path)


def cut_of(day: date) -> datetime:
    """``day`` at 00:00 UTC (a clock reading for fixed_clock)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)
