"""Every dashboard served by Voilà and opened in headless Chromium, on the tiny demo business.

The data ends on Monday 30 June 2025, so the dashboards open on the range ending that day; their KPI cards
compare the last complete week (23–29 June) with the week before, or, on the revenue dashboard (by month),
June with May. Expected values are asked from the metric catalog directly, for exactly those periods.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from dashboard_browser import chromium, require_chromium, screenshot

from analytics.auth import make_dashboard_token
from analytics.clock import fixed_clock
from analytics.dashboards.server import DashboardServer, dashboard_links, start_dashboards
from analytics.metrics import MetricRequest, get
from analytics.settings import Secret
from analytics.snapshots import write_snapshots
from analytics.snapshots.page_data import store_page_data
from analytics.widgets.format import format_value
from conftest import DemoWorkspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WEEK = (date(2025, 6, 23), date(2025, 6, 29))
PREVIOUS_WEEK = (date(2025, 6, 16), date(2025, 6, 22))
JUNE, MAY = (date(2025, 6, 1), date(2025, 6, 30)), (date(2025, 5, 1), date(2025, 5, 31))
READY = """() => {
  if (document.querySelector('[data-state=not-authorised]') !== null) return true;
  const status = document.querySelector('.analytics-loading[data-state]');
  return status !== null && status.dataset.state !== 'loading'
    && document.querySelectorAll('.analytics-page [data-state=loading]').length === 0;
}"""


@pytest.fixture(scope="module")
def site(demo_workspace: DemoWorkspace) -> Iterator[DashboardServer]:
    """Voilà on the project's dashboards/ over the demo workspace (with 13 weekly snapshots for the trend)."""
    require_chromium()
    demo = demo_workspace
    write_snapshots(  # complete weeks only: 31 March – 29 June
        demo.engine, period="weekly", start=date(2025, 3, 31), end=WEEK[1], accounts=[demo.account_id], progress=False
    )
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


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1300, "height": 2600})  # the whole dashboard in the screenshot
    page.goto(url, wait_until="load", timeout=180_000)
    page.wait_for_selector(".analytics-header, [data-state=not-authorised]", timeout=180_000)
    page.wait_for_function(READY, timeout=180_000)
    return page


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
    page = open_page(browser, links[name])
    try:
        screenshot(page, f"dashboard-{name}")
        text = page.inner_text("body")
        assert "Not authorised" not in text and "There was an error" not in text and "Traceback" not in text
        assert page.locator(".analytics-page [data-state=error]").count() == 0, "a panel failed (see the server log)"
        assert page.locator(".analytics-loading[data-state=ready]").count() == 1
        charts = page.locator(".analytics-chart[data-chart]")
        assert charts.count() >= 1
        for i in range(charts.count()):
            chart = charts.nth(i)
            assert chart.get_attribute("data-state") == "ready", chart.get_attribute("data-chart")
            assert chart.locator("svg.marks").count() == 1, chart.get_attribute("data-chart")
        assert page.locator(".analytics-table[data-state=ready]").count() == page.locator(".analytics-table").count()
        for kpi, (value, unit) in expected_kpis(demo_workspace, name).items():
            card = page.locator(f".analytics-kpi[data-kpi={kpi}]")
            shown = card.locator(".value").inner_text()
            assert shown == format_value(value, unit, "usd"), f"{kpi}: page shows {shown}, library says {value}"
            assert float(card.get_attribute("data-value") or "nan") == pytest.approx(float(value))
    finally:
        page.close()


def test_changing_the_grain_redraws_the_chart_in_place(browser: Any, links: dict[str, str]) -> None:
    page = open_page(browser, links["overview"])
    try:
        mrr_chart = page.locator(".analytics-chart[data-chart=mrr] svg.marks")
        weekly = mrr_chart.inner_html()
        url = page.url
        page.get_by_role("button", name="Month", exact=True).click()
        page.wait_for_function(
            "before => { const svg = document.querySelector('.analytics-chart[data-chart=mrr] svg.marks');"
            " return svg !== null && svg.innerHTML !== before; }",
            arg=weekly,
            timeout=120_000,
        )
        page.wait_for_function(READY, timeout=120_000)
        assert page.url == url  # no reload
        assert page.locator(".analytics-page [data-state=error]").count() == 0
        assert "May 2025" in page.locator(".analytics-caption").inner_text()  # KPIs now compare months
        product = page.locator(".widget-dropdown select").first
        options = product.locator("option").all_inner_texts()
        before = page.locator(".analytics-chart[data-chart=mrr] svg.marks").inner_html()
        product.select_option(label=options[1])
        page.wait_for_function(
            "before => { const svg = document.querySelector('.analytics-chart[data-chart=mrr] svg.marks');"
            " return svg !== null && svg.innerHTML !== before; }",
            arg=before,
            timeout=120_000,
        )
        page.wait_for_function(READY, timeout=120_000)
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
    page = open_page(browser, f"{site.url}/voila/render/overview.ipynb?token={quote(token)}")
    try:
        screenshot(page, f"dashboard-overview-{case}-link")
        assert_refused(page, demo_workspace.account_id)
    finally:
        page.close()
