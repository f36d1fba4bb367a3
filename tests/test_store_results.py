"""Computed results: a frame stored and read back unchanged on SQLite, PostgreSQL and DuckDB; writing replaces."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal
from sqlalchemy.engine import Engine

from analytics.store.results import (
    ComputedResult,
    frame_to_payload,
    missing_message,
    payload_to_frame,
    read_result,
    replace_results,
)
from analytics.store.schema import accounts, computed_results

ACCOUNT = "biz_results"
T = datetime(2025, 3, 1, 6, tzinfo=UTC)


@pytest.fixture
def store(any_engine: Engine) -> Engine:
    """A migrated store with one account on SQLite, PostgreSQL and DuckDB."""
    with any_engine.begin() as conn:
        conn.execute(accounts.insert().values(id=ACCOUNT, title="Results"))
    return any_engine


def every_type() -> pd.DataFrame:
    """One column of every stored type, with a missing value where the type allows one."""
    frame = pd.DataFrame(
        {
            "count": np.array([3, 0, -7], dtype="int64"),
            "share": [0.25, np.nan, float("inf")],
            "flag": [True, False, True],
            "label": ["a", None, "ü €"],
            "day": [date(2025, 1, 31), None, date(2024, 2, 29)],
            "month": pd.to_datetime(["2025-01-01", "2025-02-01", None]),  # datetime64[us] (pandas 3)
            "bucket": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20"]).astype("datetime64[ns]"),
            "at": pd.to_datetime(["2025-01-01T10:00:00Z", None, "2025-03-01T23:59:59.5Z"], format="ISO8601"),
            "factors": [[{"feature": "idle", "value": 1.5}], [], None],
        }
    )
    frame.attrs["total"] = {"usd": {"expected_minor": 12.5, "low_minor": None}}
    return frame


def test_payload_is_plain_json_and_reads_back_the_same_frame() -> None:
    frame = every_type()
    payload = frame_to_payload(frame)
    assert payload["types"] == [
        "int",
        "float",
        "bool",
        "str",
        "date",
        "timestamp[us]",
        "timestamp[ns]",
        "timestamp_utc[us]",
        "json",
    ]
    assert payload["data"][1] == [0.25, None, "inf"]  # no NaN in JSON: null, and infinity as a text
    assert payload["data"][4] == ["2025-01-31", None, "2024-02-29"]
    back = payload_to_frame(payload)
    assert_frame_equal(back, frame)
    assert back.attrs == {"total": {"usd": {"expected_minor": 12.5, "low_minor": None}}}


def test_column_names_must_be_distinct_texts() -> None:
    with pytest.raises(ValueError, match="string column names"):
        frame_to_payload(pd.DataFrame({0: [1], 1: [2]}))


def test_a_stored_frame_reads_back_unchanged_with_its_notes(store: Engine) -> None:
    result = ComputedResult(
        "retention_curve", every_type(), {"periods": 12}, "v1", ["The fit is at its bound.", "Second note."]
    )
    with store.begin() as conn:
        assert replace_results(conn, ACCOUNT, date(2025, 3, 2), [result], computed_at=T, job_run_id="run_1") == 1
    stored = read_result(store, ACCOUNT, "retention_curve")
    assert stored is not None
    assert_frame_equal(stored.frame, every_type())
    assert stored.frame.attrs["notes"] == ["The fit is at its bound.", "Second note."]
    assert stored.frame.attrs["total"] == {"usd": {"expected_minor": 12.5, "low_minor": None}}
    assert (stored.as_of, stored.parameters, stored.definitions_version) == (date(2025, 3, 2), {"periods": 12}, "v1")
    assert (stored.computed_at, stored.job_run_id) == (T, "run_1")
    assert read_result(store, ACCOUNT, "revenue_forecast") is None
    assert read_result(store, "biz_other", "retention_curve") is None


def _rows(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(computed_results.c.kind, computed_results.c.as_of).order_by(
                computed_results.c.kind, computed_results.c.as_of
            )
        ).all()
    return [(kind, str(as_of)[:10]) for kind, as_of in rows]


def test_writing_again_replaces_and_history_is_kept_only_where_asked(store: Engine) -> None:
    def results(value: int) -> list[ComputedResult]:
        frame = pd.DataFrame({"value": [value]})
        return [
            ComputedResult("revenue_forecast", frame, {}, "v1", [f"note {value}"]),
            ComputedResult("net_mrr_retention_week", frame, {}, "v1", keep_history=False),
        ]

    march_1, march_2 = date(2025, 3, 1), date(2025, 3, 2)
    for value in (1, 2):  # the same day twice: replaced, not added
        with store.begin() as conn:
            replace_results(conn, ACCOUNT, march_1, results(value), computed_at=T)
    assert _rows(store) == [("net_mrr_retention_week", "2025-03-01"), ("revenue_forecast", "2025-03-01")]
    stored = read_result(store, ACCOUNT, "revenue_forecast")
    assert stored is not None and stored.frame["value"].tolist() == [2] and stored.notes == ["note 2"]

    with store.begin() as conn:  # the next day: the forecast keeps its history, the cohort table does not
        replace_results(conn, ACCOUNT, march_2, results(3), computed_at=T)
    assert _rows(store) == [
        ("net_mrr_retention_week", "2025-03-02"),
        ("revenue_forecast", "2025-03-01"),
        ("revenue_forecast", "2025-03-02"),
    ]
    newest = read_result(store, ACCOUNT, "revenue_forecast")
    earlier = read_result(store, ACCOUNT, "revenue_forecast", on_or_before=march_1)
    assert newest is not None and newest.frame["value"].tolist() == [3]
    assert earlier is not None and earlier.frame["value"].tolist() == [2]


def test_unknown_kinds_are_refused(store: Engine) -> None:
    with store.begin() as conn, pytest.raises(ValueError, match="unknown computed result kind 'forecst'"):
        replace_results(
            conn, ACCOUNT, date(2025, 3, 1), [ComputedResult("forecst", pd.DataFrame(), {}, "v1")], computed_at=T
        )


def test_the_missing_message_names_the_command() -> None:
    assert missing_message("revenue forecast", "biz_x") == (
        "No revenue forecast stored yet: run `analytics precompute --account biz_x` "
        "(the daily run and `analytics demo` do it too)."
    )
