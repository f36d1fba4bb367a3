"""The dashboard server shows one account per signed link, no source code and no tracebacks.

One Voilà server and one Chromium for the module, serving two probe notebooks written like the real dashboards.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from dashboard_browser import chromium, require_chromium, screenshot

from analytics.auth import make_dashboard_token
from analytics.clock import fixed_clock
from analytics.dashboards.server import DashboardServer, start_dashboards
from analytics.settings import Secret, Settings
from analytics.store import create_store_engine, init_store, upsert_rows
from analytics.store.schema import accounts
from conftest import SECRET, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OPEN = "import os\nfrom analytics.dashboards import open_dashboard\ndashboard = open_dashboard(os.environ)"
KEY = Secret(SECRET)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    """Voilà on two probe notebooks over a store with two accounts (the server gets its key by environment)."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("dashboards")
    settings = Settings(workspace=tmp / "workspace", secret_key=KEY)
    settings.workspace.mkdir(parents=True)
    engine = create_store_engine(settings.database_url)
    init_store(engine)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        upsert_rows(
            conn,
            accounts,
            [
                {"id": "biz_tiny", "title": "Tiny Academy", "time_zone": "UTC", "created_at": now, "updated_at": now},
                {"id": "biz_other", "title": "Other Shop", "time_zone": "UTC", "created_at": now, "updated_at": now},
            ],
        )
    engine.dispose()
    write_notebook(tmp / "site" / "probe.ipynb", OPEN, 'dashboard.page("Probe", rows=[])')
    write_notebook(tmp / "site" / "crash.ipynb", OPEN, 'raise RuntimeError("internal detail 7f3a")')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    with start_dashboards(settings, directory=tmp / "site", environ=environ) as server:
        yield server


@pytest.fixture(scope="module")
def browser(site: DashboardServer) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def link(site: DashboardServer, token: str, notebook: str = "probe", extra: str = "") -> str:
    return f"{site.url}/voila/render/{notebook}.ipynb?token={quote(token)}{extra}"


def token(account: str = "biz_tiny", *, key: Secret = KEY, at: datetime | None = None) -> str:
    clock = fixed_clock(at) if at else None
    return make_dashboard_token(key, account, timedelta(hours=1), *([clock] if clock else []))


def visible_text(
    browser: Any, url: str, shot: str, ready: str = ".analytics-header, [data-state=not-authorised]"
) -> str:
    """Open ``url``, wait for ``ready`` (a rendered widget, not Voilà's "Loading widget…"), return the page text."""
    page = browser.new_page()
    try:
        page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_selector(ready, timeout=120_000)
        page.wait_for_timeout(200)
        screenshot(page, shot)
        return str(page.inner_text("body"))
    finally:
        page.close()


def test_valid_link_shows_its_account(site: DashboardServer, browser: Any) -> None:
    text = visible_text(browser, link(site, token()), "server-valid-link")
    assert "Tiny Academy" in text and "Other Shop" not in text and "Not authorised" not in text


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("forged", lambda: token()[:-3] + "abc"),  # signature altered
        ("expired", lambda: token(at=datetime(2020, 1, 1, tzinfo=UTC))),  # valid for one hour in 2020
        ("missing", lambda: ""),
    ],
)
def test_bad_links_show_not_authorised_and_no_data(site: DashboardServer, browser: Any, case: str, make: Any) -> None:
    text = visible_text(browser, link(site, make()), f"server-{case}-link")
    assert "Not authorised" in text
    assert "Tiny Academy" not in text and "biz_tiny" not in text
    if case == "expired":
        assert "expired on 2020-01-01 01:00 UTC" in text  # issued 00:00, valid one hour


def test_link_cannot_be_pointed_at_another_account(site: DashboardServer, browser: Any) -> None:
    text = visible_text(browser, link(site, token("biz_tiny"), extra="&account=biz_other"), "server-other-account")
    assert "Not authorised" in text and "another account" in text and "Other Shop" not in text


def test_no_source_is_served(site: DashboardServer) -> None:
    for path in ("/voila/files/probe.ipynb", "/voila/files/crash.ipynb"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(site.url + path, timeout=30)
        refused.value.close()
        assert refused.value.code == 403
    with urllib.request.urlopen(site.url + "/voila/api/contents/probe.ipynb", timeout=30) as reply:
        assert b'"content": null' in reply.read()
    with urllib.request.urlopen(link(site, token()), timeout=120) as reply:
        page = reply.read().decode()
    assert "open_dashboard(os.environ)" not in page and 'dashboard.page("Probe"' not in page


def test_errors_go_to_the_server_log_not_the_page(site: DashboardServer, browser: Any) -> None:
    text = visible_text(browser, link(site, token(), "crash"), "server-crash", ready=".jp-OutputArea-output")
    assert "internal detail 7f3a" not in text and "Traceback" not in text
    log = Path(str(site.log_path)).read_text(errors="replace")
    assert "RuntimeError: internal detail 7f3a" in log and "Traceback" in log
