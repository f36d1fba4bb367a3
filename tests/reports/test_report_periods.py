"""A period in progress is compared like with like: its first days against the same days of the period before.

The tiny demo business (seed 7, data to 1 July 2025) reported for June 2025 as if it were 21 June: June is in
progress, its figures run to 20 June and are compared with 1–20 May, each a registered metric asked for exactly
those days. A report of a period that has not started is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from analytics.clock import fixed_clock
from analytics.errors import ReportError
from analytics.metrics import MetricRequest, get
from analytics.reports.business import BusinessReport, business_report
from analytics.reports.periods import report_period
from conftest import AS_OF, ENGINES, DemoWorkspace, demo_on

MID_JUNE = fixed_clock(datetime(2025, 6, 21, 6, 0, tzinfo=UTC))  # 21 June in New York too: yesterday is 20 June


@pytest.mark.parametrize(
    ("period", "as_of", "today", "counted", "previous"),
    [
        # complete: as_of is yesterday or later than the period's end
        ("monthly", date(2025, 6, 30), date(2025, 7, 1), ("2025-06-01", "2025-06-30"), ("2025-05-01", "2025-05-31")),
        ("weekly", date(2025, 6, 30), date(2025, 7, 1), ("2025-06-23", "2025-06-29"), ("2025-06-16", "2025-06-22")),
        # in progress: to yesterday, against the same number of days of the period before
        ("monthly", date(2025, 6, 30), date(2025, 6, 21), ("2025-06-01", "2025-06-20"), ("2025-05-01", "2025-05-20")),
        ("weekly", date(2025, 6, 29), date(2025, 6, 26), ("2025-06-23", "2025-06-25"), ("2025-06-16", "2025-06-18")),
        # 1–30 March against February: the whole of February (28 days), never days of March
        ("monthly", date(2025, 3, 31), date(2025, 3, 31), ("2025-03-01", "2025-03-30"), ("2025-02-01", "2025-02-28")),
    ],
)
def test_report_period_counts_complete_days_only(
    period: str, as_of: date, today: date, counted: tuple[str, str], previous: tuple[str, str]
) -> None:
    span = report_period(period, as_of, today)
    assert (span.start.isoformat(), span.through.isoformat()) == counted
    assert (span.previous_start.isoformat(), span.previous_through.isoformat()) == previous
    assert span.in_progress == (span.through < span.end)


def test_labels_say_what_is_compared() -> None:
    done = report_period("monthly", date(2025, 6, 30), date(2025, 7, 1))
    assert done.label == "June 2025 vs May 2025" and done.progress_note == ""
    running = report_period("monthly", date(2025, 6, 30), date(2025, 6, 21))
    assert running.label == "1–20 Jun 2025 vs 1–20 May 2025"
    assert running.progress_note == (
        "June 2025 is in progress: its figures run to 20 Jun 2025 and are compared with the same days of the "
        "period before (1–20 May 2025)."
    )


def test_a_period_that_has_not_started_is_refused() -> None:
    with pytest.raises(ReportError, match=r"as_of 2025-07-31 is in the future: July 2025 has no complete day yet"):
        report_period("monthly", date(2025, 7, 31), date(2025, 7, 1))


@pytest.fixture(scope="module", params=ENGINES)
def june_so_far(request: pytest.FixtureRequest) -> tuple[DemoWorkspace, BusinessReport]:
    demo = demo_on(request)
    return demo, business_report(demo.engine, demo.account_id, period="monthly", as_of=AS_OF, clock=MID_JUNE)


def metric_row(demo: DemoWorkspace, name: str, first: str, last: str) -> dict[str, object]:
    """The metric for exactly these days, as one monthly bucket (clipped to them)."""
    frame = get(name).function(demo.engine, MetricRequest.build(demo.account_id, first, last, "month"))
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_june_to_date_is_compared_with_the_same_days_of_may(june_so_far: tuple[DemoWorkspace, BusinessReport]) -> None:
    demo, report = june_so_far
    assert report.title.endswith("June 2025 (to 20 Jun, in progress)")
    kpis = {k.name: k for k in report.kpis}
    june, may = ("2025-06-01", "2025-06-20"), ("2025-05-01", "2025-05-20")
    # MRR at the end of 20 June against MRR at the end of 20 May (not 31 May)
    assert (kpis["mrr"].value, kpis["mrr"].previous) == (
        metric_row(demo, "mrr", *june)["mrr_minor"],
        metric_row(demo, "mrr", *may)["mrr_minor"],
    )
    # flows count 20 days on both sides: 4 new customers in 1–20 June against 3 in 1–20 May
    moves_june, moves_may = metric_row(demo, "mrr_movements", *june), metric_row(demo, "mrr_movements", *may)
    assert (kpis["new_customers"].value, kpis["new_customers"].previous) == (4, 3)
    assert (moves_june["new_customers"], moves_may["new_customers"]) == (4, 3)
    cash_june, cash_may = metric_row(demo, "cash_revenue", *june), metric_row(demo, "cash_revenue", *may)
    assert (kpis["cash_revenue"].value, kpis["cash_revenue"].previous) == (
        cash_june["net_minor"],
        cash_may["net_minor"],
    )
    # the trend's last bucket is the same partial June, so the table and the cards agree
    movements = report.tables["movements"]
    assert movements.iloc[-1]["period_start"] == "2025-06-01"
    assert movements.iloc[-1]["new_customers"] == 4


def test_the_highlights_open_with_the_period_in_progress(june_so_far: tuple[DemoWorkspace, BusinessReport]) -> None:
    _, report = june_so_far
    assert report.highlights[0] == report.span.progress_note
    assert "1–20 May 2025" in report.highlights[0]
    # what the actions count is the same days: "… in 1–20 Jun 2025 …"
    drop = report.tables["actions"].set_index("action").loc["fix_worst_drop_off", "text"]
    assert "1–20 Jun 2025" in drop


def test_a_report_of_a_future_period_is_refused(demo_workspace: DemoWorkspace) -> None:
    with pytest.raises(ReportError, match="is in the future"):
        business_report(
            demo_workspace.engine,
            demo_workspace.account_id,
            period="monthly",
            as_of="2025-07-31",
            clock=fixed_clock(datetime(2025, 7, 1, 6, 0, tzinfo=UTC)),
        )
