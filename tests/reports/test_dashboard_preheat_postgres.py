"""`analytics dashboards --preheat` over a PostgreSQL store: a pre-heated kernel serves the overview dashboard.

One Voilà server in pre-heat mode (``python -m analytics.dashboards.server --preheat``, what the command runs) on
a folder holding only the overview dashboard, so one kernel is kept ready; the store is the tiny demo business in
a throw-away PostgreSQL schema. In this mode Voilà runs no prelaunch hook, so the notebook's own token check is
the only gate: a forged link must still show no data.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from dashboard_browser import chromium, require_chromium, screenshot
from test_dashboards import assert_refused, expected_kpis, open_page

from analytics.auth import make_dashboard_token
from analytics.dashboards.server import DashboardServer, dashboard_links, dashboards_dir, start_dashboards
from analytics.settings import Secret
from analytics.widgets.format import format_value
from conftest import DemoWorkspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres]


def server_log(server: DashboardServer) -> str:
    assert server.log_path is not None
    return server.log_path.read_text(errors="replace")


def pool_fills(server: DashboardServer) -> int:
    """How often Voilà logged that the overview's pre-heated kernel was ready."""
    return server_log(server).count("Kernel pool of overview.ipynb is filled")


def wait_for_pool(server: DashboardServer, at_least: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while pool_fills(server) < at_least:
        assert server.process.poll() is None, "the dashboard server exited"
        assert time.monotonic() < deadline, "no pre-heated kernel became ready"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def site(demo_workspace_pg: DemoWorkspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    require_chromium()
    folder = tmp_path_factory.mktemp("preheat-dashboards")
    shutil.copy(dashboards_dir() / "overview.ipynb", folder / "overview.ipynb")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    log = Path(folder) / "voila.log"
    with start_dashboards(
        demo_workspace_pg.settings, directory=folder, environ=environ, preheat=True, log_path=log
    ) as server:
        yield server


@pytest.fixture(scope="module")
def browser(site: DashboardServer) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_preheated_kernel_serves_the_postgresql_numbers(
    site: DashboardServer, browser: Any, demo_workspace_pg: DemoWorkspace
) -> None:
    wait_for_pool(site, 1)
    link = dashboard_links(demo_workspace_pg.settings, demo_workspace_pg.account_id, site.url, names=("overview",))
    page = open_page(browser, link["overview"])
    try:
        screenshot(page, "dashboard-overview-preheated-postgresql")
        text = page.inner_text("body")
        assert "Not authorised" not in text and "Traceback" not in text
        assert page.locator(".analytics-page [data-state=error]").count() == 0, "a panel failed (see the server log)"
        charts = page.locator(".analytics-chart[data-chart]")
        assert charts.count() == 3
        for i in range(charts.count()):
            assert charts.nth(i).locator("svg.marks").count() == 1, charts.nth(i).get_attribute("data-chart")
        for kpi, (value, unit) in expected_kpis(demo_workspace_pg, "overview").items():
            card = page.locator(f".analytics-kpi[data-kpi={kpi}]")
            assert card.locator(".value").inner_text() == format_value(value, unit, "usd"), kpi
            assert float(card.get_attribute("data-value") or "nan") == pytest.approx(float(value))
    finally:
        page.close()
    assert server_log(site).count("Using pre-heated kernel") == 1
    wait_for_pool(site, 2)  # the used kernel is replaced by a fresh pre-heated one


def test_preheated_dashboard_still_refuses_a_forged_link(
    site: DashboardServer, browser: Any, demo_workspace_pg: DemoWorkspace
) -> None:
    wait_for_pool(site, 1)
    token = make_dashboard_token(Secret("somebody-elses-secret-key-123"), demo_workspace_pg.account_id, timedelta(1))
    page = open_page(browser, f"{site.url}/voila/render/overview.ipynb?token={quote(token)}")
    try:
        assert server_log(site).count("Using pre-heated kernel") == 2  # the gate ran in a pre-heated kernel
        assert_refused(page, demo_workspace_pg.account_id)
    finally:
        page.close()
