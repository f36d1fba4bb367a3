"""The command line: `analytics import` and `analytics import-whop-export`, through click's runner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from import_testkit import ACCOUNT, table_rows, write_csv
from sqlalchemy.engine import Engine

from analytics.cli import cli

PAYMENTS = f"""
    account_id,id,status,currency,total_minor,created_at
    {ACCOUNT},pay_1,paid,usd,4900,2025-01-31T10:00:00Z
    {ACCOUNT},pay_2,paid,USD,100,2025-01-31T11:00:00Z
    {ACCOUNT},pay_3,paid,eur,2500,2025-02-01T10:00:00+01:00
"""


def _run(engine: Engine, *args: str) -> tuple[int, str, str]:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_import_prints_counts_per_file_and_total(store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", PAYMENTS)

    code, out, _ = _run(store, "import", "payments", str(path), "--no-progress")

    # 3 rows: pay_2 has an upper-case currency and is quarantined.
    assert code == 0
    assert f"{path}: 3 read, 2 loaded, 1 quarantined" in out
    assert "  quarantined: file payments.csv, row 2, column 'currency': currency 'USD' must be lower case" in out
    assert "total payments: 3 read, 2 loaded, 1 quarantined in " in out
    assert sorted(table_rows(store, "payments")["id"]) == ["pay_1", "pay_3"]


def test_a_file_level_error_exits_1_with_one_line_and_other_files_still_load(store: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    good = write_csv(tmp_path / "payments.csv", PAYMENTS)

    code, out, err = _run(store, "import", "payments", str(empty), str(good), "--no-progress")

    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "Error: file empty.csv: the file is empty (0 bytes); export it again with a header row"
    )
    assert "1 file(s) NOT imported" in out
    assert len(table_rows(store, "payments")) == 2


def test_progress_bars_go_to_stderr(store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", PAYMENTS)

    code, _, err = _run(store, "import", "payments", str(path))

    assert code == 0
    assert "payments.csv: 100%" in err


def test_help_has_an_example_and_columns_lists_the_schema(sqlite_engine: Engine) -> None:
    code, out, _ = _run(sqlite_engine, "import", "--help")
    assert code == 0
    assert "analytics import payments exports/payments-jan.csv exports/payments-feb.parquet" in out

    code, out, _ = _run(sqlite_engine, "import", "payments", "--columns")
    assert code == 0
    assert "  * total_minor" in out and "money" in out
    assert "status" in out and "one of authorized, draft, open, paid" in out

    code, out, _ = _run(sqlite_engine, "import-whop-export", "--help")
    assert code == 0
    assert "analytics import-whop-export memberships ~/Downloads/memberships.csv --account biz_" in out


def test_import_whop_export_command(engine: Engine, tmp_path: Path) -> None:
    export = write_csv(
        tmp_path / "payments-export.csv",
        """
        Receipt ID,Email,Product,Status,Total,Currency,Date,Card Brand
        R-1,ann@example.com,Trading Group,Succeeded,$49.00,USD,2025-01-31 10:00:00,visa
        R-2,bob@example.com,Trading Group,Refunded,$49.00,USD,2025-02-01 10:00:00,visa
        """,
    )

    code, out, _ = _run(engine, "import-whop-export", "payments", str(export), "--account", "biz_new")

    assert code == 0
    assert "payments-export.csv: 2 read, 2 loaded, 0 quarantined" in out
    assert "ignored columns (not mapped): Card Brand" in out
    payments = table_rows(engine, "payments")
    assert payments[["status", "substatus", "total_minor"]].to_numpy().tolist() == [
        ["paid", "succeeded", 4900],
        ["paid", "refunded", 4900],
    ]
    assert table_rows(engine, "accounts")["id"].tolist() == ["biz_new"]

    code, _, err = _run(engine, "import-whop-export", "payments", str(tmp_path / "missing.csv"), "--account", "b")
    assert code == 1
    assert err.strip() == "Error: file missing.csv: does not exist or is not a file; check the path"
