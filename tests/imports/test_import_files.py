"""import_files: CSV and Parquet files streamed into the store, counted, recorded, and idempotent on re-import."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from import_testkit import ACCOUNT, table_rows, write_csv
from sqlalchemy.engine import Engine

import analytics.sources.imports as imports_module
from analytics.sources import import_files, import_frame
from analytics.store import quarantined
from analytics.store.schema import job_runs

PAYMENTS_CSV = f"""
    account_id,id,status,substatus,currency,total_minor,refunded_amount_minor,created_at,paid_at
    {ACCOUNT},pay_1,paid,succeeded,usd,4900,0,2025-01-31T10:00:00Z,2025-01-31T10:00:05Z
    {ACCOUNT},pay_2,paid,refunded,eur,12345,12345,2025-02-01T12:30:00+02:00,
    {ACCOUNT},pay_3,open,failed,jpy,5000,0,2025-02-02T00:00:00.123456-05:00,
"""


def test_csv_payments_load_with_exact_money_and_utc_timestamps(store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", PAYMENTS_CSV)

    report = import_files(store, "payments", [path], progress=False)

    # 3 data rows, all valid.
    assert (report.read, report.loaded, report.quarantined) == (3, 3, 0)
    assert report.files == (str(path),)
    rows = table_rows(store, "payments")
    assert rows["id"].tolist() == ["pay_1", "pay_2", "pay_3"]
    assert rows["currency"].tolist() == ["usd", "eur", "jpy"]
    assert rows["total_minor"].tolist() == [4900, 12345, 5000]
    assert rows["refunded_amount_minor"].tolist() == [0, 12345, 0]
    assert rows["created_at"].tolist() == [
        datetime(2025, 1, 31, 10, 0, tzinfo=UTC),
        datetime(2025, 2, 1, 10, 30, tzinfo=UTC),  # 12:30 at +02:00
        datetime(2025, 2, 2, 5, 0, 0, 123456, tzinfo=UTC),  # midnight at -05:00, microseconds kept
    ]
    assert rows["paid_at"].tolist()[0] == datetime(2025, 1, 31, 10, 0, 5, tzinfo=UTC)
    assert rows["paid_at"].isna().tolist() == [False, True, True]  # empty cell = NULL
    assert rows["payments_failed"].tolist() == [0, 0, 0]  # column left out: server default


def test_parquet_activity_events_keep_json_and_aware_timestamps(store: Engine, tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "account_id": [ACCOUNT] * 3,
            "id": ["evt_1", "evt_2", "evt_3"],
            "member_id": ["mber_1", "mber_1", "mber_2"],
            "kind": ["login", "lesson_complete", "message"],
            "occurred_at": pd.to_datetime(
                ["2025-03-01T08:00:00Z", "2025-03-01T09:15:00+01:00", "2025-03-02T23:59:59.999999Z"],
                utc=True,
                format="ISO8601",
            ),
            "properties": [None, '{"lesson": 3, "seconds": 240}', '{"channel": "general", "words": [1, 2]}'],
        }
    )
    path = tmp_path / "events.parquet"
    events.to_parquet(path, index=False)

    report = import_files(store, "activity_events", [path], progress=False)

    assert (report.read, report.loaded, report.quarantined) == (3, 3, 0)
    rows = table_rows(store, "activity_events")
    assert rows["occurred_at"].tolist() == [
        datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 8, 15, tzinfo=UTC),
        datetime(2025, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    assert rows["properties"].tolist() == [None, {"lesson": 3, "seconds": 240}, {"channel": "general", "words": [1, 2]}]


def test_booleans_dates_and_decimals_in_csv(store: Engine, tmp_path: Path) -> None:
    memberships = write_csv(
        tmp_path / "memberships.csv",
        f"""
        account_id,id,member_id,product_id,plan_id,status,cancel_at_period_end,created_at
        {ACCOUNT},mem_1,mber_1,prod_1,plan_1,active,yes,2025-01-01T00:00:00Z
        {ACCOUNT},mem_2,mber_2,prod_1,plan_1,canceling,TRUE,2025-01-02T00:00:00Z
        {ACCOUNT},mem_3,mber_3,prod_1,plan_1,active,0,2025-01-03T00:00:00Z
        {ACCOUNT},mem_4,mber_4,prod_1,plan_1,active,,2025-01-04T00:00:00Z
        """,
    )
    rates = write_csv(
        tmp_path / "fx.csv",
        """
        rate_date,currency,quote_currency,rate,source
        2025-01-31,eur,usd,1.0432100001,ecb
        """,
    )

    assert import_files(store, "memberships", [memberships], progress=False).loaded == 4
    assert import_files(store, "fx_rates", [rates], progress=False).loaded == 1

    # An empty cell in a column with a server default gets the default (false).
    assert table_rows(store, "memberships")["cancel_at_period_end"].tolist() == [True, True, False, False]
    fx = table_rows(store, "fx_rates")
    assert str(fx["rate"].iloc[0]) == "1.0432100001"
    assert fx["rate_date"].iloc[0].isoformat() == "2025-01-31"


def test_gzipped_csv_is_streamed_too(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(line.strip() for line in PAYMENTS_CSV.strip().splitlines()) + "\n")

    report = import_files(store, "payments", [path], progress=True)

    assert (report.read, report.loaded) == (3, 3)


def _row_versions(engine: Engine) -> list[str]:
    """PostgreSQL's row versions (xmin) of payments; empty elsewhere."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        return [str(v) for v in conn.execute(sa.text("SELECT xmin FROM payments ORDER BY id")).scalars()]


def test_reimport_is_idempotent_and_updates_changed_rows(store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", PAYMENTS_CSV)
    first = import_files(store, "payments", [path], progress=False)
    versions = _row_versions(store)
    again = import_files(store, "payments", [path], progress=False)

    # Unchanged rows are not even rewritten (PostgreSQL shows it: same row versions).
    assert _row_versions(store) == versions

    # Same counts, and still exactly three rows in the table.
    assert (again.read, again.loaded, again.quarantined) == (first.read, first.loaded, first.quarantined)
    assert len(table_rows(store, "payments")) == 3

    # pay_2 gets partially refunded in a corrected export: the row is updated, nothing is duplicated.
    changed = PAYMENTS_CSV.replace("pay_2,paid,refunded,eur,12345,12345", "pay_2,paid,partially_refunded,eur,12345,345")
    write_csv(path, changed)
    import_files(store, "payments", [path], progress=False)

    rows = table_rows(store, "payments").set_index("id")
    assert len(rows) == 3
    assert rows.loc["pay_2", "substatus"] == "partially_refunded"
    assert rows.loc["pay_2", "refunded_amount_minor"] == 345


def test_an_older_row_does_not_overwrite_a_newer_one(store: Engine) -> None:
    newer = pd.DataFrame(
        {
            "account_id": [ACCOUNT],
            "id": ["mber_1"],
            "status": ["left"],
            "updated_at": ["2025-03-01T00:00:00Z"],
        }
    )
    older = newer.assign(status="joined", updated_at="2025-02-01T00:00:00Z")
    import_frame(store, "members", newer)

    report = import_frame(store, "members", older)

    assert report.loaded == 1  # validated and sent, but the store keeps the newer state
    assert table_rows(store, "members")["status"].tolist() == ["left"]


def test_one_job_run_records_the_counts(store: Engine, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", PAYMENTS_CSV)
    report = import_files(store, "payments", [good], progress=False)

    with store.connect() as conn:
        run = conn.execute(sa.select(job_runs).where(job_runs.c.id == report.job_run_id)).mappings().one()
    summary = run["summary"] if isinstance(run["summary"], dict) else json.loads(run["summary"])
    assert run["kind"] == "import" and run["status"] == "succeeded"
    assert (summary["read"], summary["loaded"], summary["quarantined"]) == (3, 3, 0)
    assert summary["files"][0]["file"] == str(good)


def test_report_reads_well_and_converts_to_a_frame(store: Engine, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", PAYMENTS_CSV)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    report = import_files(store, "payments", [good, empty], progress=False, on_error="skip")

    text = str(report)
    assert "import into payments: 2 file(s), 3 read, 3 loaded, 0 quarantined, 1 file(s) failed" in text
    assert "good.csv: 3 read, 3 loaded, 0 quarantined" in text
    assert "empty.csv: NOT IMPORTED: file empty.csv: the file is empty" in text
    frame = report.to_frame()
    assert frame[["read", "loaded", "quarantined"]].to_numpy().tolist() == [[3, 3, 0], [0, 0, 0]]
    assert not report.ok


def test_duplicate_keys_are_found_across_chunks(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks of 2 rows: evt_1 comes back in the third chunk (row 5) and is quarantined, naming row 1.
    monkeypatch.setattr(imports_module, "CHUNK_ROWS", 2)
    frame = pd.DataFrame(
        {
            "account_id": ACCOUNT,
            "id": ["evt_1", "evt_2", "evt_3", "evt_4", "evt_1"],
            "member_id": "mber_1",
            "kind": "login",
            "occurred_at": "2025-01-01T00:00:00Z",
        }
    )

    report = import_frame(store, "activity_events", frame, source="events")

    assert (report.read, report.loaded, report.quarantined) == (5, 4, 1)
    reason = quarantined(store)["reason"].iloc[0]
    assert reason.startswith("file events, row 5, column 'id': duplicate key (account_id, id): row 1")


def test_a_crash_mid_file_leaves_nothing_half_loaded(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks of 2 rows; the second chunk crashes after the first one was written (and a bad row quarantined).
    monkeypatch.setattr(imports_module, "CHUNK_ROWS", 2)
    real = imports_module.validate_chunk
    calls = {"n": 0}

    def crash_on_second(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imports_module, "validate_chunk", crash_on_second)
    frame = pd.DataFrame(
        {
            "account_id": ACCOUNT,
            "id": ["evt_1", "evt_2", "evt_3", "evt_4"],
            "member_id": "mber_1",
            "kind": ["login", "not_a_kind", "login", "login"],
            "occurred_at": "2025-01-01T00:00:00Z",
        }
    )

    with pytest.raises(RuntimeError, match="power cut"):
        import_frame(store, "activity_events", frame)

    assert table_rows(store, "activity_events").empty
    assert quarantined(store).empty
