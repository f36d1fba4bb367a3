"""Headless Chromium for dashboard tests (Debian's chromium driven by Playwright; no browser download).

Imported by the browser test modules; skipping when chromium is absent is allowed only outside CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("ANALYTICS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_chromium() -> None:
    """Skip (outside CI) or fail (in CI) when Debian's chromium is not installed."""
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    reason = f"chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` (or `make browser`)"
    if IN_CI:
        pytest.fail(f"{reason} (CI=true requires the browser checks)")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (Playwright ``Browser``), closed afterwards."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    executable = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under ``test-artifacts/`` (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


DRAWN = """() => {
  if (document.querySelector('[data-state=not-authorised]') !== null) return true;
  const status = document.querySelector('.analytics-loading[data-state]');
  if (status === null || status.dataset.state === 'loading') return false;
  if (document.querySelectorAll('.analytics-page [data-state=loading]').length) return false;
  const ready = document.querySelectorAll('.analytics-panel-head[data-state=ready]').length;
  return document.querySelectorAll('.analytics-chart-canvas svg.marks').length >= ready;
}"""
"""A page is drawn: the status line is no longer loading, no panel is, and every ready chart has its SVG."""


def open_dashboard_page(browser: Any, url: str, *, height: int = 2600) -> Any:
    """A new page on ``url``, returned once it is drawn (:data:`DRAWN`)."""
    page = browser.new_page(viewport={"width": 1300, "height": height}, accept_downloads=True)
    page.goto(url, wait_until="load", timeout=180_000)
    page.wait_for_selector(".analytics-header, [data-state=not-authorised]", timeout=180_000)
    page.wait_for_function(DRAWN, timeout=180_000, polling=100)
    return page


def panel(page: Any, name: str) -> Any:
    """The panel (chart or table) called ``name``."""
    return page.locator(f".analytics-panel--{name}")


def marks(page: Any, name: str) -> Any:
    """The clickable marks (bars, points, cells) of chart ``name``, in drawing order."""
    return panel(page, name).locator(
        "svg.marks [role=graphics-symbol]:not([aria-roledescription=axis]):not([aria-roledescription=legend])"
        ":not([aria-roledescription=text])"
    )


def hover_text(page: Any, name: str, index: int = 0) -> str:
    """Hover mark ``index`` of chart ``name`` and return the tooltip's text."""
    mark = marks(page, name).nth(index)
    mark.scroll_into_view_if_needed()
    box = mark.bounding_box()
    assert box is not None, f"mark {index} of {name} is not on the page"
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for(timeout=10_000)
    return str(tooltip.inner_text())


def drill_rows_shown(page: Any, after: Any) -> tuple[str, int]:
    """Run ``after()`` (a click) and wait for a drill-down to be filled; returns its text and its row count."""
    before = page.evaluate(
        "() => Math.max(0, ...Array.from(document.querySelectorAll('.analytics-drill-body'))"
        ".map(e => Number(e.dataset.shown || 0)))"
    )
    after()
    try:
        _wait_for_drill(page, before)
    except Exception as exc:
        states = page.evaluate(
            "() => Array.from(document.querySelectorAll('.analytics-drill-body')).map(e => e.dataset.state + ': '"
            " + e.innerText.slice(0, 200))"
        )
        raise AssertionError(f"no drill-down was filled; drill areas: {states}") from exc
    newest = page.evaluate(
        "() => { let best = null; for (const e of document.querySelectorAll('.analytics-drill-body'))"
        " if (!best || Number(e.dataset.shown || 0) > Number(best.dataset.shown || 0)) best = e;"
        " return best.dataset.shown; }"
    )
    body = page.locator(f".analytics-drill-body[data-shown='{newest}']").first
    assert body.get_attribute("data-state") == "ready", body.inner_text()
    return str(body.inner_text()), int(body.locator("[data-rows]").first.get_attribute("data-rows") or "-1")


def _wait_for_drill(page: Any, before: int) -> None:
    page.wait_for_function(
        "n => Math.max(0, ...Array.from(document.querySelectorAll('.analytics-drill-body'))"
        ".map(e => Number(e.dataset.shown || 0))) > n",
        arg=before,
        timeout=60_000,
    )


def download_csv(page: Any, link: Any) -> str:
    """Click a CSV download link and return the file's text."""
    with page.expect_download(timeout=30_000) as info:
        link.click()
    return Path(info.value.path()).read_text(encoding="utf-8")
