"""Metrics built on the same intermediate table share it within one refresh, and the numbers do not change."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.kpis import AccountMetrics
from analytics.metrics import MetricRequest, get
from analytics.metrics.shared import SharedTables
from conftest import DemoWorkspace

START, END = date(2025, 1, 2), date(2025, 6, 30)
REVENUE = [
    "mrr",
    "arr",
    "mrr_movements",
    "arpa",
    "ltv",
    "customer_churn_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
]


def direct(demo: DemoWorkspace, name: str, start: date, end: date, grain: str) -> pd.DataFrame:
    frame: pd.DataFrame = get(name).function(demo.engine, MetricRequest.build(demo.account_id, start, end, grain))
    return frame


@pytest.mark.parametrize("grain", ["week", "month"])
def test_shared_tables_give_the_metrics_own_numbers(demo_workspace: DemoWorkspace, grain: str) -> None:
    source = AccountMetrics(demo_workspace.engine, demo_workspace.account_id)
    shared = {name: source.metric(name, START, END, grain) for name in REVENUE}
    assert source.shared.reused > 0, "the revenue metrics should share their roll-forward and MRR tables"
    for name in REVENUE:
        pd.testing.assert_frame_equal(shared[name], direct(demo_workspace, name, START, END, grain), obj=name)


def test_engagement_and_content_tables_are_shared(demo_workspace: DemoWorkspace) -> None:
    source = AccountMetrics(demo_workspace.engine, demo_workspace.account_id)
    day = date(2025, 6, 29)
    scores = source.metric("engagement_score", day, day, "day")
    segments = source.metric("engagement_segments", day, day, "day")
    lessons = source.metric("lesson_stats", date(2025, 6, 1), day, "day")
    ranking = source.metric("content_ranking", date(2025, 6, 1), day, "day", params={"top": 10})
    assert source.shared.reused >= 2  # segments reuse the scores, the content ranking the lesson stats
    pd.testing.assert_frame_equal(scores, direct(demo_workspace, "engagement_score", day, day, "day"))
    pd.testing.assert_frame_equal(segments, direct(demo_workspace, "engagement_segments", day, day, "day"))
    pd.testing.assert_frame_equal(lessons, direct(demo_workspace, "lesson_stats", date(2025, 6, 1), day, "day"))
    request = MetricRequest.build(demo_workspace.account_id, date(2025, 6, 1), day, "day", params={"top": 10})
    pd.testing.assert_frame_equal(ranking, get("content_ranking").function(demo_workspace.engine, request))


def test_tables_are_copies_and_forgotten() -> None:
    tables = SharedTables()
    calls: list[int] = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"x": [1, 2]})

    first = tables.get("k", compute)
    first.loc[0, "x"] = 99  # a caller changing its copy changes nobody else's
    assert tables.get("k", compute)["x"].tolist() == [1, 2] and len(calls) == 1
    tables.clear()
    tables.get("k", compute)
    assert len(calls) == 2


def test_nothing_is_shared_outside_an_active_block(demo_workspace: DemoWorkspace) -> None:
    from analytics.metrics.movements import rollforward_table

    request = MetricRequest.build(demo_workspace.account_id, START, END, "month")
    tables = SharedTables()
    with tables.active():
        rollforward_table(demo_workspace.engine, request)
        rollforward_table(demo_workspace.engine, request)
    rollforward_table(demo_workspace.engine, request)
    assert (tables.computed, tables.reused) == (1, 1)
