"""Every dashboard served by Voilà and opened in headless Chromium, on the tiny demo business.

The data ends on Monday 30 June 2025, so the dashboards open on the range ending that day; their KPI cards
compare the last complete week (23–29 June) with the week before, or, on the revenue dashboard (by month),
June with May. Expected values are asked from the metric catalog directly, for exactly those periods; the rows
behind a clicked number from the library's drill-downs for the same request; a downloaded CSV is compared with
the library's frame for the page's selection.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest
from dashboard_browser import (
    DRAWN,
    chromium,
    download_csv,
    drill_rows_shown,
    hover_text,
    marks,
    open_dashboard_page,
    panel,
    require_chromium,
    screenshot,
)

from analytics.auth import make_dashboard_token
from analytics.clock import fixed_clock
from analytics.dashboards.server import DashboardServer, dashboard_links, start_dashboards
from analytics.formatting import format_value
from analytics.metrics import MetricRequest, get, rows_behind
from analytics.settings import Secret
from analytics.snapshots import write_snapshots
from analytics.snapshots.page_data import store_page_data
from conftest import DemoWorkspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WEEK = (date(2025, 6, 23), date(2025, 6, 29))
PREVIOUS_WEEK = (date(2025, 6, 16), date(2025, 6, 22))
JUNE, MAY = (date(2025, 6, 1), date(2025, 6, 30)), (date(2025, 5, 1), date(2025, 5, 31))
OVERVIEW_RANGE = (date(2025, 3, 31), date(2025, 6, 30))  # 90 days back from 30 June, from its week's Monday


@pytest.fixture(scope="module")
def site(demo_workspace: DemoWorkspace) -> Iterator[DashboardServer]:
    """Voilà on the project's dashboards/ over the demo workspace (with 13 weekly snapshots for the trend)."""
    require_chromium()
    demo = demo_workspace
    write_snapshots(  # complete weeks only: 31 March – 29 June
        demo.engine, period="weekly", start=date(2025, 3, 31), end=WEEK[1], accounts=[demo.account_id], progress=False
    )
    store_page_data(demo.engine, demo.account_id, as_of=date(2025, 7, 1))  # the cohort tables the revenue page reads
    store_page_data(demo.engine, demo.account_id, as_of=WEEK[1] + timedelta(days=2))  # the cohort table (to 30 June)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    with start_dashboards(demo.settings, environ=environ) as server:
        yield server


@pytest.fixture(scope="module")
def browser(site: DashboardServer) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def links(site: DashboardServer, demo_workspace: DemoWorkspace) -> dict[str, str]:
    return dashboard_links(demo_workspace.settings, demo_workspace.account_id, site.url)


def metric(demo: DemoWorkspace, name: str, period: tuple[date, date], grain: str = "week", **params: Any) -> Any:
    request = MetricRequest.build(demo.account_id, period[0], period[1], grain, params=params or None)
    return get(name).function(demo.engine, request)


def one(demo: DemoWorkspace, name: str, column: str, period: tuple[date, date], grain: str = "week") -> Any:
    frame = metric(demo, name, period, grain)
    assert len(frame) == 1, f"{name} for {period} should be one bucket"
    return frame.iloc[0][column]


def expected_kpis(demo: DemoWorkspace, dashboard: str) -> dict[str, tuple[Any, str]]:
    """KPI name → (current value, unit) for the cards of ``dashboard``, from the catalog."""
    if dashboard == "overview":
        return {
            "mrr": (one(demo, "mrr", "mrr_minor", WEEK), "money_minor"),
            "paying_customers": (one(demo, "mrr_movements", "customers_end", WEEK), "count"),
            "new_customers": (one(demo, "mrr_movements", "new_customers", WEEK), "count"),
            "customer_churn_rate": (
                one(demo, "customer_churn_rate", "customer_churn_rate_pct", WEEK),
                "percent_points",
            ),
            "active_members": (one(demo, "active_members", "active_members", WEEK), "count"),
        }
    if dashboard == "revenue":
        return {
            "mrr": (one(demo, "mrr", "mrr_minor", JUNE, "month"), "money_minor"),
            "arr": (one(demo, "arr", "arr_minor", JUNE, "month"), "money_minor"),
            "ltv": (one(demo, "ltv", "ltv_minor", JUNE, "month"), "money_minor"),
        }
    if dashboard == "engagement":
        scores = metric(demo, "engagement_score", (WEEK[1], WEEK[1]), "day")
        return {
            "active_members": (one(demo, "active_members", "active_members", WEEK), "count"),
            "engagement_score_avg": (round(float(scores["score"].mean()), 1), "score"),
            "idle_members": (len(metric(demo, "idle_members", (WEEK[1], WEEK[1]), "day")), "count"),
        }
    lessons = metric(demo, "lesson_stats", WEEK, "day")
    return {
        "lesson_views": (int(lessons["views"].sum()), "count"),
        "lesson_completions": (int(lessons["completions"].sum()), "count"),
    }


def assert_refused(page: Any, account_id: str) -> None:
    """The page says "Not authorised" and shows nothing of the account: no id, no money, no chart, no KPI."""
    text = page.inner_text("body")
    assert "Not authorised" in text
    assert account_id not in text and "$" not in text
    assert page.locator("svg.marks").count() == 0 and page.locator(".analytics-kpi").count() == 0


@pytest.mark.parametrize("name", ["overview", "revenue", "engagement", "content"])
def test_dashboard_renders_every_panel_with_the_librarys_numbers(
    name: str, browser: Any, links: dict[str, str], demo_workspace: DemoWorkspace
) -> None:
    page = open_dashboard_page(browser, links[name])
    try:
        screenshot(page, f"dashboard-{name}")
        text = page.inner_text("body")
        assert "Not authorised" not in text and "There was an error" not in text and "Traceback" not in text
        assert page.locator(".analytics-page [data-state=error]").count() == 0, "a panel failed (see the server log)"
        assert page.locator(".jupyter-widgets-error-widget").count() == 0, "a widget failed in the browser"
        assert page.locator(".analytics-loading[data-state=ready]").count() == 1
        heads = page.locator(".analytics-panel-head[data-chart]")
        assert heads.count() >= 1
        for i in range(heads.count()):
            head = heads.nth(i)
            chart = head.get_attribute("data-chart")
            assert head.get_attribute("data-state") == "ready", chart
            assert panel(page, str(chart)).locator("svg.marks").count() == 1, chart
            width = float(panel(page, str(chart)).locator("svg.marks").get_attribute("width") or 0)
            assert width > 200, f"{chart} is drawn {width} px wide"  # it uses the width of its panel
            assert panel(page, str(chart)).locator("a.analytics-csv").count() == 1, f"{chart} has no CSV download"
            assert head.locator(".analytics-info").get_attribute("title"), f"{chart} has no definition"
        assert page.locator(".analytics-table[data-state=ready]").count() == page.locator(".analytics-table").count()
        for kpi, (value, unit) in expected_kpis(demo_workspace, name).items():
            card = page.locator(f".analytics-kpi[data-kpi={kpi}]")
            shown = card.locator(".value").inner_text()
            assert shown == format_value(value, unit, "usd"), f"{kpi}: page shows {shown}, library says {value}"
            assert float(card.get_attribute("data-value") or "nan") == pytest.approx(float(value))
            assert card.locator(".analytics-info").get_attribute("title"), f"{kpi} has no definition"
    finally:
        page.close()


def test_hovering_a_chart_shows_the_exact_value_with_its_unit_and_period(
    browser: Any, links: dict[str, str], demo_workspace: DemoWorkspace
) -> None:
    page = open_dashboard_page(browser, links["overview"])
    try:
        last = marks(page, "mrr").count() - 1
        text = hover_text(page, "mrr", last)  # the last week of the range: 30 June, a week in progress
        mrr = metric(demo_workspace, "mrr", OVERVIEW_RANGE)
        assert "MRR (USD)" in text and "30 Jun 2025" in text
        assert f"${mrr['mrr_minor'].iloc[-1] / 100:,.2f}" in text
        assert "to date" in text  # a week the range covers in part says so
        statuses = metric(demo_workspace, "memberships_by_status", (OVERVIEW_RANGE[1], OVERVIEW_RANGE[1]), "day")
        text = hover_text(page, "members_by_status", 0)
        first = statuses.iloc[0]
        assert "Memberships" in text and str(int(first["memberships"])) in text
        screenshot(page, "dashboard-overview-tooltip")
    finally:
        page.close()


def test_clicking_a_mark_or_a_kpi_card_shows_the_rows_behind_it(
    browser: Any, links: dict[str, str], demo_workspace: DemoWorkspace
) -> None:
    demo = demo_workspace
    page = open_dashboard_page(browser, links["overview"])
    try:
        request = MetricRequest.build(demo.account_id, *OVERVIEW_RANGE, "week")
        bars = marks(page, "movements")
        labels = [str(bars.nth(i).get_attribute("aria-label")) for i in range(bars.count())]
        new = next(i for i, label in enumerate(labels) if "New" in label)
        text, count = drill_rows_shown(page, lambda: bars.nth(new).click())
        expected = rows_behind("mrr_movement_rows", demo.engine, request, movement="new")
        assert count == len(expected) > 0 and "MRR movements" in text
        screenshot(page, "dashboard-overview-drill-movement")

        status = metric(demo, "memberships_by_status", (OVERVIEW_RANGE[1], OVERVIEW_RANGE[1]), "day").iloc[0]
        text, count = drill_rows_shown(page, lambda: marks(page, "members_by_status").nth(0).click())
        assert count == int(status["memberships"])

        week = MetricRequest.build(demo.account_id, *WEEK, "week")
        paying = rows_behind("paying_subscriptions", demo.engine, week)
        card = page.locator(".analytics-kpi-card").filter(has=page.locator(".analytics-kpi[data-kpi=paying_customers]"))
        text, count = drill_rows_shown(page, lambda: card.locator("button").click())
        assert count == len(paying) and paying["member_id"].nunique() == one(
            demo, "mrr_movements", "customers_end", WEEK
        )
        screenshot(page, "dashboard-overview-drill-kpi")
    finally:
        page.close()


def test_a_downloaded_csv_is_the_librarys_frame(
    browser: Any, links: dict[str, str], demo_workspace: DemoWorkspace
) -> None:
    page = open_dashboard_page(browser, links["overview"])
    try:
        text = download_csv(page, panel(page, "mrr").locator("a.analytics-csv"))
        downloaded = pd.read_csv(io.StringIO(text))
        expected = metric(demo_workspace, "mrr", OVERVIEW_RANGE)
        assert list(downloaded.columns) == list(expected.columns)
        assert downloaded["mrr_minor"].tolist() == expected["mrr_minor"].tolist()
        assert pd.to_datetime(downloaded["period_start"]).dt.date.tolist() == [
            d.date() for d in pd.to_datetime(expected["period_start"])
        ]
    finally:
        page.close()


def test_a_range_that_cannot_be_shown_is_refused_with_a_message(browser: Any, links: dict[str, str]) -> None:
    page = open_dashboard_page(browser, links["overview"])
    try:
        status = page.locator(".analytics-loading").inner_text()
        start = page.locator(".analytics-controls input[type=date]").first
        start.fill("2025-07-15")  # after To (30 June)
        start.dispatch_event("change")
        problem = page.locator(".analytics-problem[data-state=refused]")
        problem.wait_for(timeout=30_000)
        assert "is after To" in problem.inner_text()
        assert page.locator(".analytics-loading").inner_text() == status  # the page still shows the last range
        start.fill("2025-06-01")
        start.dispatch_event("change")
        end = page.locator(".analytics-controls input[type=date]").nth(1)
        end.fill("2099-01-01")
        end.dispatch_event("change")
        page.wait_for_function(
            "() => (document.querySelector('.analytics-problem') || {}).innerText?.includes('in the future')",
            timeout=30_000,
        )
    finally:
        page.close()


def test_changing_the_grain_redraws_the_chart_in_place(browser: Any, links: dict[str, str]) -> None:
    page = open_dashboard_page(browser, links["overview"])
    try:
        weekly = marks(page, "mrr").count()
        url = page.url
        page.get_by_role("button", name="Month", exact=True).click()
        page.wait_for_function(
            "n => document.querySelectorAll('.analytics-panel--mrr svg.marks [role=graphics-symbol]').length !== n",
            arg=weekly,
            timeout=120_000,
        )
        page.wait_for_function(DRAWN, timeout=120_000)
        assert page.url == url  # no reload
        assert page.locator(".analytics-page [data-state=error]").count() == 0
        assert "May 2025" in page.locator(".analytics-caption").first.inner_text()  # KPIs now compare months
        product = page.locator(".widget-dropdown select").first
        options = product.locator("option").all_inner_texts()
        before = panel(page, "mrr").locator("svg.marks").inner_html()
        product.select_option(label=options[1])
        page.wait_for_function(
            "before => { const svg = document.querySelector('.analytics-panel--mrr svg.marks');"
            " return svg !== null && svg.innerHTML !== before; }",
            arg=before,
            timeout=120_000,
        )
        page.wait_for_function(DRAWN, timeout=120_000)
        screenshot(page, "dashboard-overview-month-one-product")
    finally:
        page.close()


@pytest.mark.parametrize("case", ["forged", "expired"])
def test_bad_links_to_a_real_dashboard_show_no_data(
    case: str, browser: Any, site: DashboardServer, demo_workspace: DemoWorkspace
) -> None:
    key = demo_workspace.settings.secret_key
    assert isinstance(key, Secret)
    if case == "forged":
        token = make_dashboard_token(
            Secret("somebody-elses-secret-key-123"), demo_workspace.account_id, timedelta(days=1)
        )
    else:
        token = make_dashboard_token(
            key, demo_workspace.account_id, timedelta(days=1), fixed_clock(datetime(2024, 1, 1, tzinfo=UTC))
        )
    page = browser.new_page()
    try:
        reply = page.goto(f"{site.url}/voila/render/overview.ipynb?token={quote(token)}", timeout=60_000)
        assert reply is not None and reply.status == 403
        screenshot(page, f"dashboard-overview-{case}-link")
        assert_refused(page, demo_workspace.account_id)
    finally:
        page.close()
