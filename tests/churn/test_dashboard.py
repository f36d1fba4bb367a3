"""The churn dashboard in headless Chromium: every panel drawn from the stored scores; a bad link shows nothing."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from analytics.auth import make_dashboard_token
from analytics.dashboards.server import DashboardServer, dashboard_links, start_dashboards
from analytics.metrics import MetricRequest, rows_behind
from analytics.models.churn import latest_scores, register_model, score_members, train_churn_model
from analytics.settings import Secret, Settings
from analytics.snapshots.page_data import store_page_data
from analytics.store import create_store_engine
from churn.conftest import SYNTH_END
from churn.synthetic import ACCOUNT

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))  # the shared Chromium helpers
from dashboard_browser import (
    chromium,
    drill_rows_shown,
    hover_text,
    marks,
    open_dashboard_page,
    panel,
    require_chromium,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SECRET = "churn-dashboard-test-secret-0123456789"


@pytest.fixture(scope="module")
def workspace(_synthetic_store: object, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The synthetic business in a workspace with a trained, current model, today's scores and page data."""
    if not isinstance(_synthetic_store, Path):
        pytest.skip("the dashboard is checked on the SQLite workspace")
    settings = Settings(workspace=tmp_path_factory.mktemp("churn_dash") / "workspace", secret_key=Secret(SECRET))
    settings.workspace.mkdir(parents=True)
    shutil.copyfile(_synthetic_store, settings.workspace / "analytics.db")
    engine = create_store_engine(settings.database_url)
    trained = train_churn_model(engine, ACCOUNT, end=SYNTH_END, n_dates=8, step_days=21)
    register_model(engine, trained, workspace=settings.workspace, make_current=True)
    score_members(engine, ACCOUNT, workspace=settings.workspace, as_of=SYNTH_END)
    store_page_data(engine, ACCOUNT, as_of=SYNTH_END)  # the retention projection and forecast the page reads
    engine.dispose()
    return settings


def engine_for(settings: Settings) -> Any:
    return create_store_engine(settings.database_url)


@pytest.fixture(scope="module")
def site(workspace: Settings) -> Iterator[DashboardServer]:
    require_chromium()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    with start_dashboards(workspace, environ=environ) as server:
        yield server


@pytest.mark.parametrize("_synthetic_store", ["sqlite"], indirect=True)
def test_churn_dashboard_shows_the_stored_scores(site: DashboardServer, workspace: Settings) -> None:
    links = dashboard_links(workspace, ACCOUNT, site.url, names=("churn",))
    engine = create_store_engine(workspace.database_url)
    scores = latest_scores(engine, ACCOUNT)
    engine.dispose()
    at_risk = int(scores["risk_level"].isin(["high", "critical"]).sum())
    with chromium() as browser:
        page = open_dashboard_page(browser, links["churn"], height=3400)
        try:
            screenshot(page, "dashboard-churn")
            text = page.inner_text("body")
            assert "Not authorised" not in text and "Traceback" not in text and "There was an error" not in text
            assert page.locator(".analytics-page [data-state=error]").count() == 0, "a panel failed (server log)"
            heads = page.locator(".analytics-panel-head[data-chart]")
            assert heads.count() == 6
            for i in range(heads.count()):
                chart = str(heads.nth(i).get_attribute("data-chart"))
                assert heads.nth(i).get_attribute("data-state") == "ready", chart
                assert panel(page, chart).locator("svg.marks").count() == 1, chart
            tables = page.locator(".analytics-table")
            assert page.locator(".analytics-table[data-state=ready]").count() == tables.count() == 2
            card = page.locator(".analytics-kpi[data-kpi=at_risk_members]")
            assert float(card.get_attribute("data-value") or "nan") == at_risk
            riskiest = scores.iloc[0]
            assert riskiest["factors"][0]["text"] in text  # the riskiest member's first factor, in words
            assert f"Scores as of {SYNTH_END}" in text
            assert "Month 1" in hover_text(page, "revenue_forecast", 0) or "Now (MRR)" in hover_text(
                page, "revenue_forecast", 0
            )
            # the riskiest member: hover says why, a click shows their score, payments and activity
            tip = hover_text(page, "members_at_risk", 0)
            assert str(riskiest["member"]) in tip and riskiest["factors"][0]["text"] in tip
            shown, count = drill_rows_shown(page, lambda: marks(page, "members_at_risk").nth(0).click())
            request = MetricRequest.build(ACCOUNT, SYNTH_END, SYNTH_END, "day")
            risk = rows_behind("member_churn_risk", engine_for(workspace), request, member_id=riskiest["member_id"])
            assert count == len(risk) and riskiest["factors"][0]["text"] in shown
            page.locator(".analytics-drill-section", has_text="Payments, last 90 days").wait_for(timeout=30_000)
            page.locator(".analytics-drill-section", has_text="Activity, last 90 days").wait_for(timeout=30_000)
            level = str(scores["risk_level"].value_counts().idxmax())  # the tallest bar
            bar = (
                marks(page, "risk_distribution")
                .filter(has_text="")
                .and_(page.locator(f"[aria-label*='risk_level: {level};']"))
            )
            shown, count = drill_rows_shown(page, lambda: bar.first.click())
            assert count == int((scores["risk_level"] == level).sum()) and f"Members at {level} risk" in shown
            screenshot(page, "dashboard-churn-drill")
        finally:
            page.close()

        forged = make_dashboard_token(Secret("somebody-elses-secret-key-123"), ACCOUNT, timedelta(days=1))
        page = browser.new_page()
        try:
            reply = page.goto(f"{site.url}/voila/render/churn.ipynb?token={quote(forged)}", timeout=60_000)
            assert reply is not None and reply.status == 403
            text = page.inner_text("body")
            assert "Not authorised" in text and ACCOUNT not in text
            assert page.locator("svg.marks").count() == 0 and page.locator(".analytics-kpi").count() == 0
        finally:
            page.close()
