"""``analytics optimize``: statistics on every engine; on DuckDB the event logs rewritten in time order, losslessly.

The business: two accounts whose 40 activity events were written newest first and interleaved (as a history
imported after the live sync would be). After optimizing, every row is still there with the same values, the
keys and indexes still hold, the metrics give the same numbers, and on DuckDB the rows are stored in
(account, time) order, which is what lets DuckDB skip the row groups outside a metric's period.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateTable

from analytics.cli import cli
from analytics.errors import StoreError
from analytics.metrics import activity_counts
from analytics.store import create_store_engine, init_store, maintenance, metadata
from analytics.store.maintenance import optimize_store
from analytics.store.schema import accounts, activity_events

START = datetime(2025, 3, 1, tzinfo=UTC)
KINDS = ("login", "message", "lesson_complete", "post_view")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "duckdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_schema_url"))
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
    else:
        url = f"duckdb:///{tmp_path}/store.duckdb"
    engine = _business(url)
    yield engine
    engine.dispose()


@pytest.fixture
def duckdb_store(tmp_path: Path) -> Iterator[Engine]:
    engine = _business(f"duckdb:///{tmp_path}/store.duckdb")
    yield engine
    engine.dispose()


def _business(url: str) -> Engine:
    engine = create_store_engine(url)
    init_store(engine)
    with engine.begin() as conn:
        conn.execute(accounts.insert(), [{"id": "biz_a", "title": "A"}, {"id": "biz_b", "title": "B"}])
        # 20 events per account, one a day at 10:00 UTC, written newest first and alternating accounts
        rows = [
            {
                "account_id": account,
                "id": f"ev_{account[-1]}{day:02d}",
                "member_id": f"mber_{day % 3}",
                "kind": KINDS[day % len(KINDS)],
                "occurred_at": START + timedelta(days=day, hours=10),
            }
            for day in reversed(range(20))
            for account in ("biz_b", "biz_a")
        ]
        conn.execute(activity_events.insert(), rows)
    return engine


def _all_events(engine: Engine) -> list[tuple[object, ...]]:
    e = activity_events.c
    query = sa.select(e.account_id, e.id, e.member_id, e.kind, e.occurred_at).order_by(e.account_id, e.id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def _counts(engine: Engine) -> list[dict[str, object]]:
    frame = activity_counts(engine, "biz_a", start="2025-03-05", end="2025-03-14", all_members=False)
    return frame.to_dict("records")


def test_optimize_keeps_every_row_and_every_number(store: Engine) -> None:
    before_rows, before_counts = _all_events(store), _counts(store)
    # 10 days of biz_a: 03-05 … 03-14 = days 4 … 13; member mber_(day % 3): days 6, 9, 12 → mber_0 (3 events) …
    assert sum(int(r["events"]) for r in before_counts) == 10

    steps = optimize_store(store)

    assert _all_events(store) == before_rows
    assert _counts(store) == before_counts
    assert steps[-1].action in ("analyze", "vacuum analyze")
    if store.dialect.name == "duckdb":
        assert [(s.table, s.rows) for s in steps[:-1]] == [
            ("activity_events", 40),
            ("wa_messages", 0),
            ("wa_status_updates", 0),
        ]


def test_duckdb_stores_the_events_in_account_then_time_order(duckdb_store: Engine) -> None:
    store = duckdb_store
    physical = "SELECT account_id, occurred_at FROM activity_events ORDER BY rowid"
    with store.connect() as conn:
        assert [tuple(r) for r in conn.exec_driver_sql(physical)] != sorted(conn.exec_driver_sql(physical))

    optimize_store(store)

    with store.connect() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql(physical)]
        assert stored == sorted(stored)
        assert stored[0][0] == "biz_a" and stored[-1][0] == "biz_b"
        # the table keeps its definition: primary key, foreign key and the secondary indexes of the schema
        indexes = {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'activity_events'"
            )
        }
        assert indexes == {ix.name for ix in metadata.tables["activity_events"].indexes}
    with pytest.raises(sa.exc.IntegrityError), store.begin() as conn:
        conn.execute(
            activity_events.insert(),
            [{"account_id": "biz_a", "id": "ev_a00", "member_id": "m", "kind": "login", "occurred_at": START}],
        )
    with pytest.raises(sa.exc.IntegrityError), store.begin() as conn:
        conn.execute(
            activity_events.insert(),
            [{"account_id": "biz_zz", "id": "ev_new", "member_id": "m", "kind": "login", "occurred_at": START}],
        )


def test_duckdb_stores_member_ids_of_the_event_log_uncompressed(duckdb_store: Engine) -> None:
    """The store was made by the migrations (DuckDB's default compression); optimize re-creates the event log from
    the schema's definition, whose member_id asks DuckDB for no compression (every engagement metric and funnel
    groups or joins the log by member, and decompressing the ids cost a third of the large funnel)."""
    store = duckdb_store
    stored = (
        "SELECT DISTINCT compression FROM pragma_storage_info('activity_events') "
        "WHERE column_name = 'member_id' AND segment_type = 'VARCHAR'"
    )
    definition = "SELECT sql FROM duckdb_tables() WHERE table_name = 'activity_events'"
    with store.begin() as conn:
        conn.exec_driver_sql("CHECKPOINT")
    with store.connect() as conn:
        assert "USING COMPRESSION" not in conn.exec_driver_sql(definition).scalar_one()
        # three distinct ids in 40 rows: DuckDB's own choice is a dictionary, so the check below can tell
        assert "Uncompressed" not in [r[0] for r in conn.exec_driver_sql(stored)]

    optimize_store(store)

    with store.connect() as conn:
        assert [r[0] for r in conn.exec_driver_sql(stored)] == ["Uncompressed"]
        assert (
            "member_id VARCHAR USING COMPRESSION Uncompressed NOT NULL" in conn.exec_driver_sql(definition).scalar_one()
        )
    # the hint is DuckDB's alone: the other engines' DDL is unchanged
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert "COMPRESSION" not in str(CreateTable(activity_events).compile(dialect=dialect))


def test_a_failed_rewrite_leaves_the_table_as_it_was(duckdb_store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    store = duckdb_store
    before = _all_events(store)
    monkeypatch.setitem(maintenance.TIME_ORDERED, "activity_events", "no_such_column")  # the INSERT … ORDER BY fails

    with pytest.raises(sa.exc.DBAPIError):
        optimize_store(store, tables=["activity_events"])

    assert _all_events(store) == before
    with store.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT table_name FROM duckdb_tables()")}
        indexes = {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'activity_events'"
            )
        }
    assert "activity_events__ordered" not in tables
    assert indexes == {ix.name for ix in metadata.tables["activity_events"].indexes}


def test_statistics_are_refreshed(store: Engine) -> None:
    optimize_store(store)
    with store.connect() as conn:
        if store.dialect.name == "sqlite":
            analysed = conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'activity_events'").scalar()
            assert analysed
        elif store.dialect.name == "postgresql":  # reltuples is -1 until a table is first analysed
            reltuples = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass('activity_events')"
            ).scalar()
            assert reltuples == 40


def test_only_event_logs_can_be_time_ordered(store: Engine) -> None:
    with pytest.raises(StoreError, match="cannot time-order members: only the event logs activity_events"):
        optimize_store(store, tables=["members"])


def test_optimize_command_reports_each_step(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path}/store.duckdb"
    engine = create_store_engine(url)
    init_store(engine)
    with engine.begin() as conn:
        conn.execute(accounts.insert(), [{"id": "biz_a", "title": "A"}])
        conn.execute(
            activity_events.insert(),
            [
                {
                    "account_id": "biz_a",
                    "id": f"ev_{i}",
                    "member_id": "m",
                    "kind": "login",
                    "occurred_at": START - timedelta(days=i),
                }
                for i in range(3)
            ],
        )
    engine.dispose()

    result = CliRunner().invoke(cli, ["--database-url", url, "optimize", "--table", "activity_events", "--quiet"])

    assert result.exit_code == 0, result.output
    assert "time order activity_events (3 rows)" in result.output
    assert "analyze all tables" in result.output
    assert "wa_messages" not in result.output
