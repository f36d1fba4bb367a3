"""Chart builders draw real SVG/PNG offline; widgets show what the numbers say, with loading and empty states."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics import charts
from analytics.formatting import format_change, format_value
from analytics.kpis import Kpi
from analytics.widgets import (
    ChartPanel,
    ChartView,
    Controls,
    DashboardFrame,
    Filters,
    KpiPanel,
    PlanOption,
    ProductOption,
    not_authorised_page,
)
from analytics.widgets.controls import range_problem
from analytics.widgets.drill import Drill, DrillArea, DrillRows
from analytics.widgets.kpi import kpi_card_html
from analytics.widgets.panels import page_chart
from analytics.widgets.table import DownloadLink, html_table


@pytest.mark.parametrize(
    ("value", "unit", "currency", "shown"),
    [
        (123450, "money_minor", "usd", "$1,234.50"),
        (-500, "money_minor", "eur", "-€5.00"),
        (1200, "money_minor", "jpy", "¥1,200"),  # JPY has no minor unit
        (999, "money_minor", "chf", "9.99 CHF"),
        (0.031, "percent", "usd", "3.1 %"),
        (12.5, "percent_points", "usd", "12.5 %"),
        (10432, "count", "usd", "10,432"),
        (1.75, "ratio", "usd", "1.75×"),
        (None, "count", "usd", "–"),
        (float("nan"), "money_minor", "usd", "–"),
    ],
)
def test_format_value(value: object, unit: str, currency: str, shown: str) -> None:
    assert format_value(value, unit, currency) == shown


def test_format_change_is_relative_for_amounts_and_points_for_rates() -> None:
    assert format_change(110, 100, "count") == "+10.0 %"
    assert format_change(90, 100, "money_minor") == "-10.0 %"
    assert format_change(5, 0, "count") == "new"  # growth from zero is undefined, never infinite
    assert format_change(0.05, 0.04, "percent") == "+1.0 pts"
    assert format_change(3.0, 4.5, "percent_points") == "-1.5 pts"
    assert format_change(5, None, "count") == "–"


def test_kpi_card_says_good_news_in_green_even_when_the_number_falls() -> None:
    churn = Kpi("churn_rate", "Churn", 0.03, 0.05, "percent", better="down")
    html = kpi_card_html(churn)
    assert 'data-kpi="churn_rate"' in html and 'data-value="0.03"' in html
    assert 'class="change up"' in html and "▼" in html and "-2.0 pts" in html


def test_waterfall_rolls_forward_from_start_to_end() -> None:
    # start 1000 + new 300 + expansion 50 + reactivation 10 − contraction 20 − churn 120 = 1220
    moves = pd.DataFrame(
        {"movement": ["churn", "new", "contraction", "expansion", "reactivation"], "amount": [120, 300, 20, 50, 10]}
    )
    bars = charts.waterfall_frame(1000, moves, movement="movement", amount="amount")
    assert list(bars["step"]) == ["Start", "New", "Expansion", "Reactivation", "Contraction", "Churn", "End"]
    assert bars.iloc[-1]["high"] == 1220
    assert list(bars["kind"]) == ["total", "increase", "increase", "increase", "decrease", "decrease", "total"]


def test_score_histogram_counts_every_member_once() -> None:
    scores = pd.Series([0, 5, 9, 10, 55, 99, 100, 100])
    spec = charts.score_histogram(scores).to_dict()
    values = next(iter(spec["datasets"].values()))
    counts = {row["band"]: row["members"] for row in values}
    assert counts["0–9"] == 3 and counts["10–19"] == 1 and counts["50–59"] == 1
    assert counts["90–100"] == 3 and sum(counts.values()) == len(scores)


def test_lesson_dropoff_marks_the_largest_fall() -> None:
    frame = pd.DataFrame({"lesson": list("ABCD"), "position": [1, 2, 3, 4], "completions": [50, 45, 20, 18]})
    spec = charts.lesson_dropoff(frame).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [r["lesson"] for r in rows if r["drop_off"]] == ["C"]  # 45 → 20 is the largest fall


def test_charts_render_to_svg_and_png_without_a_browser() -> None:
    frame = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=4, freq="MS"), "mrr": [10.0, 12.0, 11.0, 15.0]})
    chart = charts.mrr_line(frame)
    svg = charts.to_svg(chart)
    assert svg.startswith("<svg") and 'class="marks"' in svg and "$15" in svg
    assert charts.to_png(chart)[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_view_states() -> None:
    view = ChartView("mrr", "MRR", definition="Monthly recurring revenue")
    assert 'data-state="loading"' in view.head.value and "Loading" in view.message.value
    assert 'title="Monthly recurring revenue"' in view.head.value
    view.empty()
    assert 'data-state="empty"' in view.head.value and "No data" in view.message.value
    view.error("could not be loaded (reference abc123 in the server log)")
    assert 'data-state="error"' in view.head.value and "abc123" in view.message.value
    frame = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=3, freq="MS"), "mrr": [1.0, 2.0, 3.0]})
    widget = view.show(page_chart(charts.mrr_line(frame)), notes=["The fit is at the edge of its range."])
    assert 'data-state="ready"' in view.head.value and "edge of its range" in view.notes.value
    assert widget.spec["width"] == "container" and widget.spec["title"] == ""  # the panel's heading is the title


def test_a_drillable_chart_carries_a_click_selection_on_its_fields() -> None:
    frame = pd.DataFrame({"status": ["active", "past_due"], "memberships": [5, 2]})
    chart = page_chart(charts.bar(frame, category="status", value="memberships"), pick=("status",))
    spec = chart.to_dict()
    assert spec["params"][0]["name"] == "pick" and spec["params"][0]["select"]["fields"] == ["status"]
    labels = next(iter(spec["datasets"].values()))
    assert [(r["status"], r["_label"]) for r in labels] == [("active", "Active"), ("past_due", "Past due")]


def test_clicks_show_the_rows_behind_and_the_csv_is_the_frame() -> None:
    rows = pd.DataFrame({"member": ["=HYPERLINK(1)", "Bo"], "mrr_minor": [1250, -300], "currency": ["usd", "eur"]})
    area = DrillArea()
    area.run("MRR", lambda: DrillRows("Paying subscriptions", rows), ("mrr", "2025-06-30"))
    assert area.state == "ready" and "data-rows='2'" in area.body.value
    assert "$12.50" in area.body.value and "-€3.00" in area.body.value  # each row in its own currency
    link = area.download.link.value
    assert 'download="mrr-2025-06-30.csv"' in link and "data:text/csv" in link
    import base64

    text = base64.b64decode(link.split("base64,")[1].split('"')[0]).decode()
    assert text.splitlines()[1].startswith("'=HYPERLINK(1)") and ",-300," in text  # neutralised, numbers kept

    def fails() -> DrillRows:
        raise RuntimeError("secret detail")

    area.run("MRR", fails, ("mrr",))
    assert area.state == "error" and "secret detail" not in area.body.value and "reference" in area.body.value


def test_a_large_csv_is_made_on_request() -> None:
    big = pd.DataFrame({"n": range(300_000)})
    link = DownloadLink()
    link.set(big, "big.csv")
    assert link.link.value == "" and link.prepare.layout.display is None and "300,000" in link.prepare.description
    link.prepare.click()
    assert 'download="big.csv"' in link.link.value


def test_tables_align_numbers_right_and_text_left() -> None:
    table = html_table(pd.DataFrame({"member": ["Ann"], "mrr_minor": [1250]}), units={"mrr_minor": "money_minor"})
    assert '<td class="text">Ann</td>' in table and '<td class="num">$12.50</td>' in table


def test_a_range_that_cannot_be_shown_is_refused_in_words() -> None:
    today = date(2025, 6, 30)
    assert range_problem(date(2025, 7, 2), date(2025, 6, 1), today) == (
        "From (02 Jul 2025) is after To (01 Jun 2025): choose a From date on or before To."
    )
    assert "in the future" in str(range_problem(date(2025, 6, 1), date(2025, 8, 1), today))
    assert range_problem(date(2025, 6, 1), date(2025, 6, 30), today) is None
    controls = Controls(Filters(date(2025, 6, 1), date(2025, 6, 30)), today=today)
    seen: list[Filters] = []
    controls.on_change(seen.append)
    controls.start.value = date(2025, 7, 15)
    assert seen == [] and "is after To" in controls.problem.value
    controls.start.value = date(2025, 6, 2)
    assert seen[-1].start == date(2025, 6, 2) and controls.problem.value == ""


def test_a_kpi_card_opens_its_rows_and_shows_its_definition() -> None:
    rows = pd.DataFrame({"member": ["Ann", "Bo"]})
    drill = Drill((), lambda _s, _f: DrillRows("New customers", rows))
    panel = KpiPanel(
        "kpis",
        [("new_customers", "New customers")],
        lambda f: [Kpi("new_customers", "New customers", 2, 1)],
        drills={"new_customers": drill},
        definitions={"new_customers": "Customers whose first payment was in the period."},
    )
    panel.drill_area = DrillArea()
    panel.update(Filters(date(2025, 6, 1), date(2025, 6, 30)))
    card = panel.cards[0]
    assert 'title="Customers whose first payment was in the period."' in card.value
    card.button.click()
    assert "data-rows='2'" in panel.drill_area.body.value


def test_controls_emit_filters_once_per_change_and_plans_follow_the_product() -> None:
    controls = Controls(
        Filters(date(2025, 1, 1), date(2025, 3, 31), "week"),
        [ProductOption("prod_a", "Course"), ProductOption("prod_b", "Community")],
        [PlanOption("plan_1", "Monthly", "prod_a"), PlanOption("plan_2", "Yearly", "prod_b")],
    )
    seen: list[Filters] = []
    controls.on_change(seen.append)
    controls.grain.value = "month"
    controls.plan.value = "plan_2"
    controls.product.value = "prod_a"  # plan_2 belongs to prod_b: reset to all plans, one call
    assert [f.grain for f in seen] == ["month", "month", "month"]
    assert seen[-1].product_id == "prod_a" and seen[-1].plan_id is None
    assert [v for _, v in controls.plan.options] == ["", "plan_1"]


def test_previous_period_has_the_same_length() -> None:
    filters = Filters(date(2025, 3, 1), date(2025, 3, 31))
    previous = filters.previous()
    assert (previous.start, previous.end) == (date(2025, 1, 29), date(2025, 2, 28))


def test_frame_isolates_a_failing_panel() -> None:
    def broken(_: Filters) -> pd.DataFrame:
        raise RuntimeError("boom")

    good = KpiPanel("kpis", [("members", "Members")], lambda f: [Kpi("members", "Members", 12, 10)])
    bad = ChartPanel("mrr", "MRR", broken, lambda d, f: charts.mrr_line(d))
    empty = ChartPanel("status", "Status", lambda f: pd.DataFrame(), lambda d, f: charts.members_by_status(d))
    frame = DashboardFrame("Overview", "Test", [[good], [bad, empty]])
    frame.refresh(Filters(date(2025, 1, 1), date(2025, 1, 31)))
    assert 'data-value="12"' in good.cards[0].value
    assert bad.view.state == "error" and "boom" not in bad.view.message.value
    assert "reference" in bad.view.message.value  # a short reference to the server log, no traceback
    assert empty.view.state == "empty"
    assert "1 panel(s) could not be loaded" in frame.status.value


def test_not_authorised_page_escapes_the_reason() -> None:
    page = not_authorised_page("<script>alert(1)</script> expired")
    assert "<script>alert" not in page.value and "Not authorised" in page.value


def test_periods_in_progress_are_drawn_as_to_date() -> None:
    """A trend's last week, still in progress, is a hollow point saying "to date"; its lifecycle bars are paler."""
    weeks = pd.to_datetime(["2025-11-03", "2025-11-10", "2025-11-17"])
    trend = pd.DataFrame({"period_start": weeks, "score": [17.0, 17.5, 15.0], "complete": [True, True, False]})
    spec = charts.line(trend, x="period_start", y="score", complete="complete").to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [r["_period"] for r in rows] == ["complete", "complete", "to date"]
    points = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    assert points["encoding"]["fill"]["condition"]["value"] == "white"  # hollow when "to date"
    assert {"field": "_period", "type": "nominal", "title": "period"} in points["encoding"]["tooltip"]
    assert charts.to_svg(charts.line(trend, x="period_start", y="score", complete="complete")).startswith("<svg")
    titled = charts.line(trend, x="period_start", y="score", title="Score", complete="complete").to_dict()
    assert titled["title"]["subtitle"] == "hollow point: period in progress, to date"
    done = trend.assign(complete=True)
    assert charts.line(done, x="period_start", y="score", title="Score", complete="complete").to_dict()["title"] == (
        "Score"
    )  # no key when every period is complete

    states = pd.DataFrame(
        {"period_start": weeks[1:].repeat(2), "state": ["new", "dormant"] * 2, "members": [4, 1, 2, 3],
         "complete": [True, True, False, False]}
    )  # fmt: skip
    bars = charts.lifecycle_bars(states, complete="complete").to_dict()
    assert bars["encoding"]["opacity"]["condition"]["value"] == 0.45
    assert [r["signed"] for r in next(iter(bars["datasets"].values()))] == [4, -1, 2, -3]
