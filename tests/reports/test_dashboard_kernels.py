"""The dashboard server's kernels are bounded: refused requests start none, viewers' kernels end, floods pass.

One server for the module on a probe notebook written like the real dashboards, with one pre-heated kernel, at
most three viewer kernels and a three-second grace period, so the whole life of a viewer kernel fits in a test.
Kernels are counted twice: by the server's own ``/analytics/status`` and as ``ipykernel`` processes under the
server process (what the operating system sees).
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import psutil
import pytest
from dashboard_browser import chromium, require_chromium

from analytics.auth import make_dashboard_token
from analytics.dashboards.kernel_limits import KernelLimits
from analytics.dashboards.server import DashboardServer, start_dashboards
from analytics.settings import Secret, Settings
from analytics.store import create_store_engine, init_store, upsert_rows
from analytics.store.schema import accounts
from conftest import SECRET, write_notebook

pytestmark = [pytest.mark.slow]

KEY = Secret(SECRET)
LIMITS = KernelLimits(max_viewers=3, pool_size=1, grace_seconds=3.0, idle_seconds=600.0, render_seconds=60.0)
OPEN = "import os\nfrom analytics.dashboards import open_dashboard\ndashboard = open_dashboard(os.environ)"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    tmp = tmp_path_factory.mktemp("bounded")
    settings = Settings(workspace=tmp / "workspace", secret_key=KEY)
    settings.workspace.mkdir(parents=True)
    engine = create_store_engine(settings.database_url)
    init_store(engine)
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        upsert_rows(conn, accounts, [{"id": "biz_tiny", "title": "Tiny Academy", "created_at": now, "updated_at": now}])
    engine.dispose()
    write_notebook(tmp / "site" / "probe.ipynb", OPEN, 'dashboard.page("Probe", rows=[])')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    with start_dashboards(settings, directory=tmp / "site", environ=environ, limits=LIMITS) as server:
        wait_for(lambda: status(server)["pool_kernels"] == 1, 120, "the pool to fill")
        yield server


def status(site: DashboardServer) -> dict[str, Any]:
    reply = httpx.get(f"{site.url}/analytics/status", timeout=10)
    reply.raise_for_status()
    result: dict[str, Any] = reply.json()
    return result


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.25)


def kernel_processes(site: DashboardServer) -> list[psutil.Process]:
    """Live ``ipykernel`` processes started by the server (zombies being reaped are not kernels any more)."""
    found = []
    for child in psutil.Process(site.process.pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def link(site: DashboardServer, token: str = "", notebook: str = "probe") -> str:
    query = f"?token={quote(token)}" if token else ""
    return f"{site.url}/voila/render/{notebook}.ipynb{query}"


def token(account: str = "biz_tiny") -> str:
    return make_dashboard_token(KEY, account, timedelta(hours=1))


def settle(site: DashboardServer) -> None:
    """Wait until no viewer kernel is left and the pool is full again."""
    seconds = LIMITS.grace_seconds + LIMITS.render_seconds + 30
    wait_for(
        lambda: (s := status(site))["viewer_kernels"] == 0 and s["waiting_requests"] == 0 and s["pool_kernels"] == 1,
        seconds,
        "viewer kernels to end and the pool to refill",
    )
    wait_for(lambda: len(kernel_processes(site)) == 1, 30, "kernel processes to exit")


@pytest.mark.parametrize(
    ("case", "make", "code", "says"),
    [
        ("no token", lambda site: link(site), 403, "Not authorised"),
        ("forged", lambda site: link(site, token()[:-3] + "abc"), 403, "Not authorised"),
        ("other account", lambda site: link(site, token("biz_other")) + "&account=biz_tiny", 403, "Not authorised"),
        ("unknown dashboard", lambda site: link(site, token(), "secrets"), 404, "No such dashboard"),
        ("path outside", lambda site: link(site, token(), "..%2F..%2Fetc%2Fpasswd"), 404, "No such dashboard"),
    ],
)
def test_a_refused_request_is_answered_without_a_kernel(
    site: DashboardServer, case: str, make: Callable[[DashboardServer], str], code: int, says: str
) -> None:
    before = status(site)
    reply = httpx.get(make(site), timeout=30)
    assert reply.status_code == code, case
    assert says in reply.text and "Tiny Academy" not in reply.text
    after = status(site)
    assert after["viewer_kernels"] == 0 and after["pool_kernels"] == before["pool_kernels"] == 1
    assert len(kernel_processes(site)) == 1  # only the pool's kernel


def test_a_full_server_answers_busy_instead_of_starting_kernels(site: DashboardServer) -> None:
    """Four page requests at once with room for three viewers: one is asked to retry, none waits for a kernel."""
    settle(site)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _i: httpx.get(link(site, token()), timeout=120), range(4)))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 200, 200, 503], codes
    busy = next(r for r in replies if r.status_code == 503)
    assert busy.headers["Retry-After"] == "10" and "Busy, retry in a moment" in busy.text
    assert 'http-equiv="refresh"' in busy.text
    settle(site)


def test_a_flood_leaves_only_the_pool_and_the_server_memory_returns(site: DashboardServer) -> None:
    """200 token-less requests and 50 authorised page loads whose browser never connects: afterwards the grace
    period ends every viewer kernel, only the pre-heated one is left, and the server's memory is back within 10 %
    of its idle size (measured after one page load, so lazy imports are paid for)."""
    httpx.get(link(site, token()), timeout=120).raise_for_status()
    settle(site)
    server = psutil.Process(site.process.pid)
    idle = server.memory_info().rss

    def get(url: str) -> int:
        try:
            return httpx.get(url, timeout=120).status_code
        except httpx.HTTPError:
            return 0

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        refused = list(pool.map(get, [link(site)] * 100 + [link(site, "forged.token")] * 100))
    assert refused == [403] * 200
    assert status(site)["viewer_kernels"] == 0 and len(kernel_processes(site)) == 1

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        loads = list(pool.map(get, [link(site, token())] * 50))
    assert set(loads) <= {200, 503} and loads.count(200) >= LIMITS.max_viewers, loads
    assert status(site)["viewer_kernels"] <= LIMITS.max_viewers

    settle(site)
    assert len(kernel_processes(site)) == 1
    after = server.memory_info().rss
    assert after <= 1.10 * idle, f"server memory {after / 1e6:.0f} MB after the flood, {idle / 1e6:.0f} MB idle"


@pytest.mark.browser
def test_closing_the_page_ends_its_kernel_at_once(site: DashboardServer) -> None:
    """Voilà's shutdown beacon on leaving the page is accepted (it carries the page's _xsrf cookie)."""
    require_chromium()
    settle(site)
    closed_before = status(site)["ended"].get("closed", 0)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(link(site, token()), timeout=120_000)
        page.wait_for_selector(".analytics-header", timeout=120_000)
        assert status(site)["viewer_kernels"] == 1
        page.goto("about:blank")  # leaving the page sends the beacon
        wait_for(lambda: status(site)["ended"].get("closed", 0) == closed_before + 1, 20, "the beacon")
        page.close()
    assert status(site)["viewer_kernels"] == 0


def test_a_page_whose_browser_never_connects_loses_its_kernel(site: DashboardServer) -> None:
    """A page fetched by a script that never opens the websocket keeps its kernel for the grace period only."""
    settle(site)
    httpx.get(link(site, token()), timeout=120).raise_for_status()
    assert status(site)["viewer_kernels"] == 1
    gone_before = status(site)["ended"].get("gone", 0)
    wait_for(lambda: status(site)["viewer_kernels"] == 0, LIMITS.grace_seconds + 30, "the grace period")
    assert status(site)["ended"].get("gone", 0) == gone_before + 1
