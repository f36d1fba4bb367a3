"""Whop dashboard CSV exports mapped onto members, memberships and payments (no API key needed)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from import_testkit import table_rows, write_csv
from sqlalchemy.engine import Engine

from analytics.errors import ImportFileError
from analytics.sources.whop_export import import_whop_export, map_whop_export
from analytics.store import quarantined

ACCOUNT = "biz_export"


def _member(email: str) -> str:
    return f"mber_email_{hashlib.sha1(email.encode()).hexdigest()[:16]}"


def _text(rows: list[list[str]], header: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=header, dtype="str")


def test_memberships_export_headers_amounts_and_statuses_map() -> None:
    export = _text(
        [
            ["mem_1", "Ann@Example.com", "Trading Group", "Monthly", "Active", "2025-01-31 10:00:00", "$49.00", ""],
            ["mem_2", "bob@example.com", "Trading Group", "Yearly", "Cancelled", "Jan 15, 2025", "1.234,50 EUR", "x"],
            ["mem_3", "cy@example.com", "prod_abc", "", "Past Due", "2025-01-02T00:00:00Z", "4900 JPY", ""],
        ],
        ["MEMBERSHIP ID", "email", "Product", "Plan", "Status", "Created_At", "Amount", "Notes"],
    )

    mapped = map_whop_export("memberships", export, account_id=ACCOUNT, timezone="Europe/Berlin")

    assert mapped["id"].tolist() == ["mem_1", "mem_2", "mem_3"]
    # No member id column: the id comes from the e-mail (lower-cased), the same way the members export does it.
    assert mapped["member_id"].tolist() == [
        _member("ann@example.com"),
        _member("bob@example.com"),
        _member("cy@example.com"),
    ]
    assert mapped["product_id"].tolist() == ["prod_export_trading-group", "prod_export_trading-group", "prod_abc"]
    assert mapped["plan_id"].tolist() == [
        "plan_export_trading-group_monthly",
        "plan_export_trading-group_yearly",
        "plan_export_prod-abc",  # empty plan: one plan per product
    ]
    assert mapped["status"].tolist() == ["active", "canceled", "past_due"]
    # $49.00 in the default usd; 1.234,50 EUR with a decimal comma; 4900 JPY has no minor units.
    assert mapped["renewal_price_minor"].tolist() == ["4900", "123450", "4900"]
    assert mapped["currency"].tolist() == ["usd", "eur", "jpy"]
    # Dates without a zone are read in Europe/Berlin (UTC+1 in winter).
    assert mapped["created_at"].tolist() == ["2025-01-31T09:00:00Z", "2025-01-14T23:00:00Z", "2025-01-02T00:00:00Z"]
    assert "Notes" not in mapped


def test_payment_statuses_become_whops_status_and_substatus() -> None:
    export = _text(
        [
            ["pay_1", "Succeeded", "49.00", "", "2025-01-31T10:00:00Z"],
            ["pay_2", "Refunded", "49.00", "49.00", "2025-01-31T10:00:00Z"],
            ["pay_3", "Partially Refunded", "1,049.00", "10.50", "2025-01-31T10:00:00Z"],
            ["pay_4", "Failed", "49.00", "", "2025-01-31T10:00:00Z"],
            ["pay_5", "Dispute Lost", "49.00", "", "2025-01-31T10:00:00Z"],
        ],
        ["Payment ID", "Status", "Total", "Amount Refunded", "Created At"],
    )

    mapped = map_whop_export("payments", export, account_id=ACCOUNT, currency="usd")

    assert list(zip(mapped["status"], mapped["substatus"], strict=True)) == [
        ("paid", "succeeded"),
        ("paid", "refunded"),
        ("paid", "partially_refunded"),
        ("open", "failed"),
        ("paid", "dispute_lost"),
    ]
    assert mapped["total_minor"].tolist() == ["4900", "4900", "104900", "4900", "4900"]
    assert mapped["refunded_amount_minor"].tolist() == [None, "4900", "1050", None, None]


def test_an_export_without_a_needed_column_is_refused_with_the_accepted_headers() -> None:
    export = _text([["pay_1", "Succeeded", "2025-01-31"]], ["Payment ID", "Status", "Date"])

    with pytest.raises(ImportFileError) as caught:
        map_whop_export("payments", export, account_id=ACCOUNT, file="payments.csv")

    assert str(caught.value).startswith(
        "file payments.csv: this payments export has no column for total_minor; recognised headers: "
        "total_minor: 'total' / 'amount' / 'final amount'"
    )


def test_members_and_memberships_exports_load_and_link_up(engine: Engine, tmp_path: Path) -> None:
    members = write_csv(
        tmp_path / "members.csv",
        """
        Email,Name,Status,Joined At,Total Spent
        ann@example.com,Ann,Active,2025-01-31 10:00:00,$98.00
        bob@example.com,Bob,Left,2025-01-02 10:00:00,$0.00
        """,
    )
    memberships = write_csv(
        tmp_path / "memberships.csv",
        """
        Membership ID,Email,Product,Plan,Status,Created At,Price
        mem_1,ann@example.com,Course,Monthly,Active,2025-01-31 10:00:00,$49.00
        mem_2,bob@example.com,Course,Monthly,Expired,2025-01-02 10:00:00,$49.00
        mem_3,cy@example.com,Course,Monthly,Paused,2025-01-03 10:00:00,$49.00
        """,
    )

    first = import_whop_export(engine, "members", members, account_id=ACCOUNT, account_title="Ann's Courses")
    second = import_whop_export(engine, "memberships", memberships, account_id=ACCOUNT)

    assert (first.read, first.loaded, first.quarantined) == (2, 2, 0)
    # "Paused" is not a Whop membership status: row 3 is quarantined with the allowed values.
    assert (second.read, second.loaded, second.quarantined) == (3, 2, 1)
    reason = quarantined(engine)["reason"].iloc[0]
    assert reason.startswith("file memberships.csv, row 3, column 'status': 'paused' is not an allowed status")

    assert table_rows(engine, "accounts")[["id", "title"]].to_numpy().tolist() == [[ACCOUNT, "Ann's Courses"]]
    people = table_rows(engine, "members").set_index("id")
    assert people.loc[_member("ann@example.com"), "status"] == "joined"
    assert people.loc[_member("bob@example.com"), "status"] == "left"
    assert people.loc[_member("ann@example.com"), "usd_total_spent_minor"] == 9800
    assert people.loc[_member("ann@example.com"), "joined_at"] == datetime(2025, 1, 31, 10, tzinfo=UTC)
    loaded = table_rows(engine, "memberships")
    assert set(loaded["member_id"]) <= set(people.index)  # every membership points at an imported member
    assert loaded["renewal_price_minor"].tolist() == [4900, 4900]

    again = import_whop_export(engine, "memberships", memberships, account_id=ACCOUNT)
    assert (again.loaded, len(table_rows(engine, "memberships")), len(quarantined(engine))) == (2, 2, 1)


def test_member_ids_link_whichever_id_column_an_export_has() -> None:
    # A members export with a bare "ID" of user ids, and a memberships export with "User ID" and "Member ID":
    # the same person gets the same member id in both.
    members = _text([["user_1", "ann@example.com"], ["mber_9", "zed@example.com"]], ["ID", "Email"])
    memberships = _text(
        [
            ["mem_1", "user_1", "", "Course", "Active", "2025-01-01T00:00:00Z"],
            ["mem_2", "", "mber_9", "Course", "Active", "2025-01-01T00:00:00Z"],
            ["mem_3", "", "", "Course", "Active", "2025-01-01T00:00:00Z"],
        ],
        ["Membership ID", "User ID", "Member ID", "Product", "Status", "Date"],
    )

    member_ids = map_whop_export("members", members, account_id=ACCOUNT)["id"].tolist()
    linked = map_whop_export("memberships", memberships, account_id=ACCOUNT)["member_id"].tolist()

    assert member_ids == ["mber_user_user_1", "mber_9"]
    assert linked == ["mber_user_user_1", "mber_9", None]  # row 3 names nobody: the import quarantines it
