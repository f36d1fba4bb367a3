"""The generator is deterministic for (seed, size, end, accounts) and speaks the store's import format."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.demo import TABLE_ORDER, generate
from analytics.errors import ConfigError
from analytics.store.keys import DERIVED_KEY
from analytics.store.schema import metadata

END = date(2026, 6, 1)
# Scheduled instants may lie after the horizon: a period's end, a trial's end, the next retry, a window's expiry.
SCHEDULED = {
    ("memberships", "current_period_end"),
    ("memberships", "expires_at"),
    ("memberships", "trial_ends_at"),
    ("payments", "next_payment_attempt_at"),
    ("wa_conversations", "expires_at"),
    ("promo_codes", "expires_at"),
}


def test_same_seed_gives_identical_frames() -> None:
    first = generate(11, "tiny", end=END).frames()
    second = generate(11, "tiny", end=END).frames()
    assert list(first) == list(second)
    for table in first:
        pd.testing.assert_frame_equal(first[table], second[table], check_exact=True, obj=table)


def test_different_seed_gives_a_different_business() -> None:
    a = generate(11, "tiny", end=END).frames()
    b = generate(12, "tiny", end=END).frames()
    assert not a["memberships"]["id"].equals(b["memberships"]["id"])
    assert a["accounts"]["id"].iloc[0] != b["accounts"]["id"].iloc[0]
    assert len(a["activity_events"]) != len(b["activity_events"])


def _importable(table: str) -> list[sa.Column[object]]:
    return [c for c in metadata.tables[table].c if DERIVED_KEY not in c.info]


def test_end_moves_the_whole_history() -> None:
    frames = generate(11, "tiny", end=date(2025, 1, 1)).frames()
    horizon = pd.Timestamp("2025-01-01", tz="UTC")
    for table, frame in frames.items():
        for column in _importable(table):
            if (table, column.name) not in SCHEDULED and str(frame[column.name].dtype).startswith("datetime64"):
                assert (frame[column.name].dropna() < horizon).all(), f"{table}.{column.name} after the horizon"
    # History spans about 24 months before the horizon.
    first_signup = frames["members"]["joined_at"].min()
    assert pd.Timedelta(days=700) < horizon - first_signup < pd.Timedelta(days=740)


def test_frames_use_the_store_columns_and_types(small: dict[str, pd.DataFrame]) -> None:
    assert list(small) == [t for t in TABLE_ORDER if t in small]
    for table, frame in small.items():
        schema = metadata.tables[table]
        assert list(frame.columns) == [c.name for c in _importable(table)], table  # member_key: derived on import
        for column in _importable(table):
            dtype = str(frame[column.name].dtype)
            if column.name.endswith("_at") or column.name in ("current_period_start", "current_period_end"):
                assert dtype == "datetime64[us, UTC]", f"{table}.{column.name}: {dtype}"
            if column.name.endswith("_minor"):
                assert dtype in ("int64", "Int64"), f"{table}.{column.name}: {dtype}"
        for key in ("id", "account_id"):
            if key in frame:
                assert frame[key].notna().all(), f"{table}.{key}"
        keys = ["account_id", "id"] if "account_id" in frame else [c.name for c in schema.primary_key.columns]
        assert not frame.duplicated(keys).any(), f"{table}: duplicate keys"


def test_several_accounts_are_separate_businesses() -> None:
    frames = generate(5, "tiny", end=END, accounts=2).frames()
    accounts = frames["accounts"]
    assert len(accounts) == 2 and accounts["time_zone"].nunique() == 2
    members = frames["members"].groupby("account_id").size()
    assert set(members.index) == set(accounts["id"]) and members.sum() == 160
    # Every row of every table belongs to one of the two accounts, and plans never cross accounts.
    ms = frames["memberships"].merge(frames["plans"], left_on=["account_id", "plan_id"], right_on=["account_id", "id"])
    assert len(ms) == len(frames["memberships"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "non-negative"),
        ({"size": "huge"}, "unknown demo size"),
        ({"accounts": 0}, "at least 1"),
    ],
)
def test_bad_parameters_are_refused_with_advice(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"seed": 7, "size": "tiny", "accounts": 1} | kwargs
    with pytest.raises(ConfigError, match=message):
        generate(args["seed"], args["size"], end=END, accounts=args["accounts"])  # type: ignore[arg-type]


def test_fraud_labels_need_a_full_iteration() -> None:
    with pytest.raises(ConfigError, match="iterate it first"):
        _ = generate(7, "tiny", end=END).fraud_labels
