"""Bad input: every problem names file, row and column and says what to do; nothing is half-loaded.

Row-level problems quarantine the row and load the rest; file-level problems load nothing of the file.
Each row-level case imports four payments of which the second (data row 2) is broken one way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from import_testkit import ACCOUNT, table_rows, write_csv
from sqlalchemy.engine import Engine

import analytics.sources.import_readers as readers_module
from analytics.errors import ImportFileError
from analytics.sources import import_files, import_frame
from analytics.store import quarantined
from analytics.store.schema import job_runs

HEADER = "account_id,id,status,currency,total_minor,decline_code,created_at"
GOOD_1 = f"{ACCOUNT},pay_1,paid,usd,4900,,2025-01-31T10:00:00Z"
BAD_TEMPLATE = f"{ACCOUNT},pay_2,paid,usd,100,,2025-01-31T11:00:00Z"
GOOD_3 = f"{ACCOUNT},pay_3,paid,eur,2500,,2025-02-01T10:00:00+01:00"
GOOD_4 = f"{ACCOUNT},pay_4,open,usd,900,,2025-02-02T10:00:00Z"


def _payments(tmp_path: Path, bad_row: str, name: str = "payments.csv") -> Path:
    return write_csv(tmp_path / name, "\n".join([HEADER, GOOD_1, bad_row, GOOD_3, GOOD_4]))


ROW_CASES = {
    # case: (the broken row 2, column named, what the message must say)
    "wrong type": (BAD_TEMPLATE.replace(",100,", ",abc,"), "total_minor", "'abc' is not a whole number"),
    "major units in a money column": (
        BAD_TEMPLATE.replace(",100,", ",49.00,"),
        "total_minor",
        "money columns hold integer minor units (e.g. 49.00 usd is written 4900)",
    ),
    "bad currency": (BAD_TEMPLATE.replace(",usd,", ",usx,"), "currency", "unknown currency 'usx'; use a lower-case"),
    "upper-case currency": (BAD_TEMPLATE.replace(",usd,", ",USD,"), "currency", "must be lower case: write 'usd'"),
    "negative amount": (BAD_TEMPLATE.replace(",100,", ",-100,"), "total_minor", "-100 is negative"),
    "unknown status": (
        BAD_TEMPLATE.replace(",paid,", ",refunded,"),
        "status",
        "'refunded' is not an allowed status; use one of: authorized, draft, open, paid",
    ),
    "timestamp without zone": (
        BAD_TEMPLATE.replace("11:00:00Z", "11:00:00"),
        "created_at",
        "timestamp '2025-01-31T11:00:00' has no time zone; append 'Z' for UTC",
    ),
    "unparseable timestamp": (
        BAD_TEMPLATE.replace("2025-01-31T11:00:00Z", "31/01/2025"),
        "created_at",
        "'31/01/2025' is not an ISO 8601 timestamp; write it like 2025-01-31T10:00:00Z",
    ),
    "impossible date": (
        BAD_TEMPLATE.replace("2025-01-31T11", "2025-02-30T11"),
        "created_at",
        "'2025-02-30T11:00:00Z' is not an ISO 8601 timestamp",
    ),
    "missing required value": (
        BAD_TEMPLATE.replace(",paid,", ",,"),
        "status",
        "missing value; this column is required",
    ),
    "unknown account": (
        BAD_TEMPLATE.replace(ACCOUNT, "biz_nobody"),
        "account_id",
        "account 'biz_nobody' is not in accounts; import the accounts table first",
    ),
    "duplicate key": (
        BAD_TEMPLATE.replace("pay_2", "pay_1"),
        "id",
        "duplicate key (account_id, id): row 1 of this file has the same key; keep one row per key",
    ),
    "text too long": (BAD_TEMPLATE.replace(",100,,", ",100," + "x" * 70 + ","), "decline_code", "at most 64 fit"),
}


@pytest.mark.parametrize("case", ROW_CASES)
def test_a_bad_row_is_quarantined_with_its_place_and_the_rest_loads(store: Engine, tmp_path: Path, case: str) -> None:
    bad_row, column, advice = ROW_CASES[case]
    path = _payments(tmp_path, bad_row)

    report = import_files(store, "payments", [path], progress=False)

    # 4 rows read: rows 1, 3 and 4 load, row 2 is quarantined.
    assert (report.read, report.loaded, report.quarantined) == (4, 3, 1)
    q = quarantined(store)
    assert len(q) == 1
    entry = q.iloc[0]
    assert (entry["source"], entry["table_name"], entry["file"]) == ("import", "payments", "payments.csv")
    assert (entry["row_number"], entry["column_name"]) == (2, column)
    assert entry["reason"].startswith(f"file payments.csv, row 2, column {column!r}: ")
    assert advice in entry["reason"]
    assert entry["job_run_id"] == report.job_run_id
    assert json.loads(entry["raw"]) == dict(
        zip(HEADER.split(","), [c or None for c in bad_row.split(",")], strict=True)
    )
    assert report.per_file[0].problems == (entry["reason"],)
    loaded = table_rows(store, "payments")
    assert sorted(loaded["id"]) == ["pay_1", "pay_3", "pay_4"]
    if case == "duplicate key":  # the first of the two rows wins
        assert loaded.set_index("id").loc["pay_1", "total_minor"] == 4900


def test_several_problems_in_one_row_are_reported_together(store: Engine, tmp_path: Path) -> None:
    path = _payments(tmp_path, f"{ACCOUNT},pay_2,bogus,USD,-5,,2025-01-31T11:00:00")

    import_files(store, "payments", [path], progress=False)

    entry = quarantined(store).iloc[0]
    assert entry["column_name"] == "status"  # the first problem, in column order
    assert entry["reason"].startswith("file payments.csv, row 2: column 'status': 'bogus' is not an allowed status")
    for part in ("column 'currency': currency 'USD'", "column 'total_minor': -5 is negative", "column 'created_at'"):
        assert part in entry["reason"]


def test_reimporting_a_bad_file_does_not_pile_up_quarantine_entries(store: Engine, tmp_path: Path) -> None:
    path = _payments(tmp_path, BAD_TEMPLATE.replace(",100,", ",-100,"))
    import_files(store, "payments", [path], progress=False)

    again = import_files(store, "payments", [path], progress=False)

    assert (again.loaded, again.quarantined, again.per_file[0].already_quarantined) == (3, 1, 1)
    assert len(quarantined(store)) == 1
    assert len(table_rows(store, "payments")) == 3


def _assert_nothing_loaded(store: Engine) -> None:
    assert table_rows(store, "payments").empty
    assert quarantined(store).empty


def _import_error(store: Engine, path: Path, table: str = "payments") -> str:
    with pytest.raises(ImportFileError) as caught:
        import_files(store, table, [path], progress=False)
    return str(caught.value)


def test_missing_required_column(store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", f"account_id,id,status,currency\n{ACCOUNT},pay_1,paid,usd")

    message = _import_error(store, path)

    assert message.startswith("file payments.csv: missing required column(s) 'total_minor', 'created_at'")
    assert "Required columns: account_id, id, status, currency, total_minor, created_at" in message
    _assert_nothing_loaded(store)


def test_unknown_column(store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", "\n".join([HEADER + ",colour", GOOD_1 + ",red"]))

    message = _import_error(store, path)

    assert message.startswith("file payments.csv: unknown column(s) 'colour' for table payments; rename or remove")
    assert "Known columns: account_id, id, member_id," in message
    _assert_nothing_loaded(store)


def test_empty_file(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_bytes(b"")

    assert _import_error(store, path).startswith("file payments.csv: the file is empty (0 bytes)")
    path.write_text("\n\n")
    assert "the file is empty (no header row)" in _import_error(store, path)
    _assert_nothing_loaded(store)


def test_header_without_rows_imports_nothing_without_error(store: Engine, tmp_path: Path) -> None:
    report = import_files(store, "payments", [write_csv(tmp_path / "p.csv", HEADER)], progress=False)
    assert (report.read, report.loaded, report.quarantined) == (0, 0, 0)


def test_non_utf8_file_names_line_and_byte(store: Engine, tmp_path: Path) -> None:
    # "Café" saved as Latin-1 on data row 2 (line 3 of the file): é is the single byte 0xe9.
    text = "\n".join([HEADER, GOOD_1, BAD_TEMPLATE.replace("pay_2", "Café"), GOOD_3]) + "\n"
    path = tmp_path / "payments.csv"
    path.write_bytes(text.encode("latin-1"))
    offset = text.encode("latin-1").index(b"\xe9")
    line_start = text.encode("latin-1").rindex(b"\n", 0, offset) + 1

    message = _import_error(store, path)

    assert message == (
        f"file payments.csv: is not UTF-8 text: the first bad byte is at line 3, byte {offset} "
        f"(byte {offset - line_start + 1} of that line): 0xe9; save the file as UTF-8 (in Excel: 'CSV UTF-8') "
        "and import it again"
    )
    _assert_nothing_loaded(store)


def test_non_utf8_deep_in_a_big_file_rolls_back_what_was_already_written(
    store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny blocks and chunks: rows 1-300 are validated and written before the reader reaches the bad byte.
    monkeypatch.setattr(readers_module, "_BLOCK", 4096)
    monkeypatch.setattr(readers_module, "CHUNK_ROWS", 50)
    rows = [f"{ACCOUNT},pay_{i},paid,usd,{i},,2025-01-31T10:00:00Z" for i in range(1, 301)]
    text = "\n".join([HEADER, *rows, f"{ACCOUNT},pay_x,paid,usd,1,,2025-01-31T10:00:00Z"]) + "\n"
    path = tmp_path / "payments.csv"
    path.write_bytes(text.encode() + b"\xff\xfe broken tail\n")

    message = _import_error(store, path)

    assert "is not UTF-8 text: the first bad byte is at line 303" in message
    _assert_nothing_loaded(store)


def test_malformed_csv_row(store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", "\n".join([HEADER, GOOD_1, GOOD_3 + ",extra"]))

    message = _import_error(store, path)

    assert message.startswith("file payments.csv: is not valid CSV: CSV parse error: Expected 7 columns, got 8")
    _assert_nothing_loaded(store)


def test_unreadable_parquet(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "payments.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")

    message = _import_error(store, path)

    assert message.startswith("file payments.parquet: is not a readable Parquet file")
    assert "export CSV instead" in message
    _assert_nothing_loaded(store)


def test_parquet_with_naive_timestamps_is_refused_as_a_whole(store: Engine, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "account_id": [ACCOUNT],
            "id": ["pay_1"],
            "status": ["paid"],
            "currency": ["usd"],
            "total_minor": [100],
            "created_at": pd.to_datetime(["2025-01-31 10:00:00"]),  # no zone
        }
    )
    path = tmp_path / "payments.parquet"
    frame.to_parquet(path)

    message = _import_error(store, path)

    assert message.startswith("file payments.parquet, column 'created_at': holds datetimes without a time zone")
    assert ".dt.tz_localize('UTC')" in message
    _assert_nothing_loaded(store)


def test_unknown_table_and_unknown_file_type(store: Engine, tmp_path: Path) -> None:
    path = _payments(tmp_path, BAD_TEMPLATE)
    assert "unknown table 'payment'; importable tables are: accounts, activity_events," in _import_error(
        store, path, table="payment"
    )
    assert "cannot be imported: it is the workbook's own log of runs" in _import_error(store, path, table="job_runs")
    xlsx = tmp_path / "payments.xlsx"
    xlsx.write_bytes(b"PK")
    assert _import_error(store, xlsx) == "file payments.xlsx: unknown file type; use one of .csv, .csv.gz, .parquet"
    missing = tmp_path / "nope.csv"
    assert _import_error(store, missing) == "file nope.csv: does not exist or is not a file; check the path"
    _assert_nothing_loaded(store)


def test_a_failing_file_stops_the_run_but_earlier_files_stay(store: Engine, tmp_path: Path) -> None:
    good = _payments(tmp_path, BAD_TEMPLATE, name="good.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    with pytest.raises(ImportFileError, match=r"file empty\.csv: the file is empty"):
        import_files(store, "payments", [good, empty], progress=False)

    assert len(table_rows(store, "payments")) == 4
    with store.connect() as conn:
        run = conn.execute(sa.select(job_runs)).mappings().one()
    assert run["status"] == "failed"
    assert "the file is empty" in run["error"]


def test_skip_mode_goes_on_with_the_next_file(store: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    good = _payments(tmp_path, BAD_TEMPLATE, name="good.csv")

    report = import_files(store, "payments", [empty, good], progress=False, on_error="skip")

    assert (report.read, report.loaded) == (4, 4)
    assert report.errors == ("file empty.csv: the file is empty (0 bytes); export it again with a header row",)


def test_frames_with_naive_datetimes_or_float_decimals_are_refused(store: Engine) -> None:
    naive = pd.DataFrame({"account_id": [ACCOUNT], "id": ["e"], "member_id": ["m"], "kind": ["login"]})
    naive["occurred_at"] = pd.Timestamp("2025-01-01")
    with pytest.raises(ImportFileError, match="column 'occurred_at': holds datetimes without a time zone"):
        import_frame(store, "activity_events", naive, source="events frame")

    rates = pd.DataFrame({"rate_date": ["2025-01-31"], "currency": ["eur"], "quote_currency": ["usd"], "rate": [1.04]})
    with pytest.raises(ImportFileError, match="column 'rate': holds binary floats"):
        import_frame(store, "fx_rates", rates)
