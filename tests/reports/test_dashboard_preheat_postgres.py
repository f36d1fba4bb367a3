"""The dashboard server over a PostgreSQL store: a pre-heated kernel (the default) serves the overview dashboard.

One server on a folder holding only the overview dashboard, so one kernel is kept ready; the store is the tiny
demo business in a throw-away PostgreSQL schema. A forged link is refused by the gate before any kernel is used:
the pre-heated kernel stays in the pool.
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
from dashboard_browser import chromium, open_dashboard_page, panel, require_chromium, screenshot
from test_dashboards import assert_refused, expected_kpis

from analytics.auth import make_dashboard_token
from analytics.dashboards.server import DashboardServer, dashboard_links, dashboards_dir, start_dashboards
from analytics.formatting import format_value
from analytics.settings import Secret
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
    with start_dashboards(demo_workspace_pg.settings, directory=folder, environ=environ, log_path=log) as server:
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
    page = open_dashboard_page(browser, link["overview"])
    try:
        screenshot(page, "dashboard-overview-preheated-postgresql")
        text = page.inner_text("body")
        assert "Not authorised" not in text and "Traceback" not in text
        assert page.locator(".analytics-page [data-state=error]").count() == 0, "a panel failed (see the server log)"
        for chart in ("mrr", "movements", "members_by_status"):
            assert panel(page, chart).locator("svg.marks").count() == 1, chart
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
    used = server_log(site).count("Using pre-heated kernel")
    page = browser.new_page()
    try:
        reply = page.goto(f"{site.url}/voila/render/overview.ipynb?token={quote(token)}", timeout=60_000)
        assert reply is not None and reply.status == 403
        assert_refused(page, demo_workspace_pg.account_id)
        assert server_log(site).count("Using pre-heated kernel") == used  # refused before any kernel was used
    finally:
        page.close()
