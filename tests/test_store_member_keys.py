"""member_key: the integer key of a member id, the same in Python and on every engine, filled by every writer.

The key is the first 15 hex digits of md5(id). For ``mber_A`` md5 is ``3f7c…``; the numbers below are computed
by Python's hashlib and must come out of each engine's SQL, the column default, the import path and the
migration that back-fills existing stores.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from analytics.sources import import_frame
from analytics.store import create_store_engine, init_store, upsert_rows
from analytics.store.keys import member_key, member_keys
from analytics.store.migrate import alembic_config
from analytics.store.schema import accounts, activity_events, members
from analytics.store.types import UTCDateTime

IDS = ["mber_A", "mber_5xKq0b1ZyW9", "mber_é", "x" * 255]
ACCOUNT = "biz_keys"
T = datetime(2025, 3, 1, 12, tzinfo=UTC)


def _hex_key(value: str) -> int:
    return int(hashlib.md5(value.encode()).hexdigest()[:15], 16)


def _account(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(accounts.insert().values(id=ACCOUNT, title="Keys"))


def _keys(engine: Engine, table: sa.Table, source: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(sa.select(table.c[source], table.c.member_key))}


def test_the_key_is_the_first_15_hex_digits_of_md5() -> None:
    assert member_key("mber_A") == _hex_key("mber_A")
    assert all(0 <= member_key(i) < 2**60 for i in IDS)
    assert member_keys(pd.Series(["mber_A", "mber_B", "mber_A"])).tolist() == [
        _hex_key("mber_A"),
        _hex_key("mber_B"),
        _hex_key("mber_A"),
    ]
    with pytest.raises(TypeError, match="member id"):
        member_keys(["mber_A", None])  # type: ignore[list-item]


def test_core_inserts_and_upserts_fill_and_follow_the_key(any_engine: Engine) -> None:
    _account(any_engine)
    with any_engine.begin() as conn:
        conn.execute(members.insert(), [{"account_id": ACCOUNT, "id": i, "status": "joined"} for i in IDS[:2]])
        # an event row as the sync writes it: no member_key given
        upsert_rows(
            conn,
            activity_events,
            [{"account_id": ACCOUNT, "id": "ev_1", "member_id": "mber_A", "kind": "login", "occurred_at": T}],
        )
    assert _keys(any_engine, members, "id") == {i: member_key(i) for i in IDS[:2]}
    assert _keys(any_engine, activity_events, "member_id") == {"mber_A": member_key("mber_A")}
    # a re-delivered event attributed to another member: its key moves with the id
    with any_engine.begin() as conn:
        upsert_rows(
            conn,
            activity_events,
            [{"account_id": ACCOUNT, "id": "ev_1", "member_id": IDS[1], "kind": "login", "occurred_at": T}],
        )
    assert _keys(any_engine, activity_events, "member_id") == {IDS[1]: member_key(IDS[1])}


@pytest.mark.parametrize("fast", [True, False])
def test_imports_derive_the_key_and_files_never_carry_it(any_engine: Engine, fast: bool) -> None:
    _account(any_engine)
    frame = pd.DataFrame(
        {
            "account_id": ACCOUNT,
            "id": ["ev_1", "ev_2", "ev_3"],
            "member_id": ["mber_A", IDS[1], "mber_A"],
            "kind": "login",
            "occurred_at": [T, T, T],
        }
    )
    if not fast:  # the portable path (upsert_rows, as used where no bulk writer exists)
        from analytics.sources import import_writer

        original = import_writer.writer_for
        import_writer_path = pytest.MonkeyPatch()
        import_writer_path.setattr(
            "analytics.sources.imports.writer_for", lambda c, s, cols: original(c, s, cols, fast=False)
        )
    try:
        report = import_frame(any_engine, "activity_events", frame, source="events.csv")
    finally:
        if not fast:
            import_writer_path.undo()
    assert report.loaded == 3, report.per_file[0].problems
    with any_engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(activity_events.c.id, activity_events.c.member_key))]
    assert dict(rows) == {"ev_1": member_key("mber_A"), "ev_2": member_key(IDS[1]), "ev_3": member_key("mber_A")}
    # a file that carries its own key (an export of the store) has it ignored: the key is always the id's
    again = import_frame(any_engine, "activity_events", frame.assign(member_key=1), source="export.csv")
    assert again.loaded == 3 and again.quarantined == 0
    with any_engine.connect() as conn:
        assert set(conn.execute(sa.select(activity_events.c.member_key)).scalars()) == {
            member_key("mber_A"),
            member_key(IDS[1]),
        }


def test_two_members_of_an_account_never_share_a_key(any_engine: Engine) -> None:
    _account(any_engine)
    with any_engine.begin() as conn:
        conn.execute(members.insert().values(account_id=ACCOUNT, id="mber_A", status="joined"))
    with pytest.raises(sa.exc.IntegrityError), any_engine.begin() as conn:
        # what a key collision would look like: the store refuses the second member instead of merging them
        conn.execute(
            members.insert().values(account_id=ACCOUNT, id="mber_B", status="joined", member_key=member_key("mber_A"))
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "duckdb"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (not migrated) on each engine."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_schema_url"))
    return f"sqlite:///{tmp_path}/store.db" if request.param == "sqlite" else f"duckdb:///{tmp_path}/store.duckdb"


def test_upgrading_a_store_with_data_back_fills_the_keys(empty_url: str) -> None:
    """A store made before revision 0003 (rows without keys) gets every key from the migration, computed by each
    engine's SQL (SQLite: the migration's Python function) and equal to Python's."""
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0002")
        # the tables as revision 0002 left them: no member_key column
        old_members = sa.table("members", *(sa.column(c) for c in ("account_id", "id", "status")))
        old_events = sa.table(
            "activity_events",
            *(sa.column(c) for c in ("account_id", "id", "member_id", "kind")),
            sa.column("occurred_at", UTCDateTime()),
        )
        with engine.begin() as conn:
            conn.execute(accounts.insert().values(id=ACCOUNT, title="Keys"))
            conn.execute(old_members.insert(), [{"account_id": ACCOUNT, "id": i, "status": "joined"} for i in IDS])
            conn.execute(
                old_events.insert(),
                [
                    {"account_id": ACCOUNT, "id": f"ev_{n}", "member_id": m, "kind": "login", "occurred_at": T}
                    for n, m in enumerate([IDS[0], IDS[2], IDS[0]])
                ],
            )
        init_store(engine)
        assert _keys(engine, members, "id") == {i: _hex_key(i) for i in IDS}
        assert _keys(engine, activity_events, "member_id") == {IDS[0]: _hex_key(IDS[0]), IDS[2]: _hex_key(IDS[2])}
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(activity_events)).scalar_one() == 3
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the column is NOT NULL now
            conn.execute(
                old_events.insert().values(account_id=ACCOUNT, id="ev_9", member_id=IDS[0], kind="login", occurred_at=T)
            )
    finally:
        engine.dispose()
