"""The dashboard frame: header, controls, a loading line, and panels laid out in rows.

Every refresh shows the loading state first, then fills each panel; an error in one panel is logged (with its
traceback, to the server log) and shown as that panel's error state, never as a traceback on the page.
"""

from __future__ import annotations

import html
import logging
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

import ipywidgets as widgets

from analytics.widgets.controls import Controls, Filters
from analytics.widgets.panels import Panel
from analytics.widgets.style import STYLESHEET

__all__ = ["DashboardFrame", "server_log"]


def server_log() -> logging.Logger:
    """The ``analytics.dashboards`` logger, writing to the kernel's real stderr (Voilà's server log).

    ipykernel forwards ``sys.stderr`` to the browser; ``sys.__stderr__`` is the process's own stream, which the
    Voilà server inherits, so tracebacks written there reach the operator and not the viewer.
    """
    logger = logging.getLogger("analytics.dashboards")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class DashboardFrame(widgets.VBox):
    """A dashboard page.

    Parameters
    ----------
    title, subtitle:
        Page heading and the line under it (account name, currency, time zone).
    rows:
        Panels laid out row by row (one panel per row, or several side by side).
    controls:
        The page's controls; each change refreshes every panel in place.
    before_refresh:
        Called at the start of every refresh (e.g. to drop cached numbers of the previous selection).
    workers:
        Panels prepared at once (their queries and drawings run in worker threads).
    """

    def __init__(
        self,
        title: str,
        subtitle: str,
        rows: Sequence[Sequence[Panel]],
        controls: Controls | None = None,
        *,
        before_refresh: Callable[[], None] | None = None,
        workers: int = 3,
    ) -> None:
        self._before_refresh = before_refresh
        self.workers = workers
        self.panels: list[Panel] = [panel for row in rows for panel in row]
        self.controls = controls
        self.status = widgets.HTML()
        self.refreshes = 0
        self.last_refresh_seconds: float | None = None
        self.timings: dict[str, float] = {}
        self._status_text = ("loading", "")
        header = widgets.HTML(
            STYLESHEET + '<div class="analytics-page analytics-header">'
            f'<h1>{html.escape(title)}</h1><div class="subtitle">{html.escape(subtitle)}</div></div>'
        )
        body = [widgets.HBox([p.widget for p in row], layout=widgets.Layout(flex_flow="row wrap")) for row in rows]
        children: list[widgets.Widget] = [header]
        if controls is not None:
            children.append(controls)
            controls.on_change(self.refresh)
        super().__init__(
            [*children, self.status, *body],
            layout=widgets.Layout(padding="4px 8px"),
        )
        self.add_class("analytics-page")

    def _set_status(self, state: str, text: str) -> None:
        timings = " ".join(f'data-{k}="{v:.3f}"' for k, v in self.timings.items())
        self.status.value = f'<div class="analytics-loading" data-state="{state}" {timings}>{html.escape(text)}</div>'
        self._status_text = (state, text)

    def add_timings(self, **instants: float | None) -> None:
        """Record when things happened (seconds since the epoch) as ``data-*`` attributes of the status line.

        Dashboards record when their kernel started, when the link was checked and when the page was built,
        so a browser (the benchmark, or an operator's developer tools) can tell where the time went.
        """
        self.timings.update({k.replace("_", "-"): v for k, v in instants.items() if v is not None})
        if self.last_refresh_seconds is not None:
            self.timings["refresh-seconds"] = self.last_refresh_seconds
        self._set_status(*self._status_text)

    def refresh(self, filters: Filters | None = None) -> None:
        """Reload every panel for ``filters`` (default: the controls' current value)."""
        if filters is None:
            if self.controls is None:
                raise ValueError("refresh() needs filters when the dashboard has no controls")
            filters = self.controls.filters
        started = time.perf_counter()
        if self._before_refresh is not None:
            self._before_refresh()
        self._set_status("loading", "Loading…")
        for panel in self.panels:
            panel.loading()
        failed = 0
        # Panels are prepared concurrently (queries and drawing release the GIL) and shown in this thread,
        # each as soon as it is ready.
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="panel") as pool:
            futures = {pool.submit(panel.prepare, filters): panel for panel in self.panels}
            for future in as_completed(futures):
                panel = futures[future]
                try:
                    future.result()()
                except Exception:
                    failed += 1
                    server_log().exception("dashboard panel %r failed for %s", panel.name, filters)
                    panel.error()
        self.refreshes += 1
        self.last_refresh_seconds = time.perf_counter() - started
        note = f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y}, by {filters.grain}"
        if failed:
            note += f" · {failed} panel(s) could not be loaded"
        self._set_status("error" if failed else "ready", note)
