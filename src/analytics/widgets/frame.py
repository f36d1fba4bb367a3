"""The dashboard frame: header, controls, a status line, and panels laid out in rows with a drill-down under each.

A page is shown at once with every panel in its loading state (titles and skeletons with a "loading…" note);
:meth:`DashboardFrame.start` then fills the panels in the kernel's event loop, each as soon as its numbers are
ready, so the viewer never looks at a blank page while queries run. A change of the controls starts a new fill
(an older one still running is dropped). An error in one panel is logged with its traceback and a short reference
to the server log and shown as that panel's error state with the reference, never as a traceback on the page.
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import ipywidgets as widgets

from analytics.widgets.controls import Controls, Filters
from analytics.widgets.drill import DrillArea
from analytics.widgets.panels import Panel, Show
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


def _sections(panel: Panel) -> int:
    drill = getattr(panel, "drill", None)
    return int(getattr(drill, "sections", 0))


class DashboardFrame(widgets.VBox):
    """A dashboard page.

    Parameters
    ----------
    title, subtitle:
        Page heading and the line under it (account name, currency, time zone).
    rows:
        Panels laid out row by row (one panel per row, or several side by side); under each row a drill-down
        area shows the rows behind a number clicked in that row.
    controls:
        The page's controls; each valid change refreshes every panel in place.
    before_refresh:
        Called at the start of every refresh (e.g. to drop cached numbers of the previous selection).
    workers:
        Panels prepared at once (their queries run in worker threads).
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
        self._status_text = ("loading", "Loading…")
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        header = widgets.HTML(
            STYLESHEET + '<div class="analytics-page analytics-header">'
            f'<h1>{html.escape(title)}</h1><div class="subtitle">{html.escape(subtitle)}</div></div>'
        )
        body: list[widgets.Widget] = []
        for row in rows:
            area = DrillArea(sections=max((_sections(panel) for panel in row), default=0))
            for panel in row:
                panel.drill_area = area
            line = widgets.HBox([p.widget for p in row], layout=widgets.Layout(flex_flow="row wrap", width="100%"))
            line.add_class("analytics-row")
            body += [line, area]
        children: list[widgets.Widget] = [header]
        if controls is not None:
            children.append(controls)
            controls.on_change(self.start)
        super().__init__([*children, self.status, *body], layout=widgets.Layout(padding="4px 8px"))
        self.add_class("analytics-page")
        self._set_status("loading", "Loading…")

    def _set_status(self, state: str, text: str) -> None:
        timings = " ".join(f'data-{k}="{v:.3f}"' for k, v in self.timings.items())
        self.status.value = f'<div class="analytics-loading" data-state="{state}" {timings}>{html.escape(text)}</div>'
        self._status_text = (state, text)

    def add_timings(self, **instants: float | None) -> None:
        """Record when things happened (seconds since the epoch) as ``data-*`` attributes of the status line.

        Dashboards record when their kernel started, when the link was checked, when the page was shown and when
        its panels were filled, so a browser (the benchmark, or an operator's developer tools) can tell where the
        time went.
        """
        self.timings.update({k.replace("_", "-"): v for k, v in instants.items() if v is not None})
        if self.last_refresh_seconds is not None:
            self.timings["refresh-seconds"] = self.last_refresh_seconds
        self._set_status(*self._status_text)

    # --- filling ------------------------------------------------------------------------------------------------
    def _begin(self, filters: Filters) -> int:
        self._generation += 1
        if self._before_refresh is not None:
            self._before_refresh()
        self._set_status("loading", "Loading…")
        for panel in self.panels:
            panel.loading()
        return self._generation

    def _shown(self, panel: Panel, outcome: Show | BaseException, filters: Filters) -> bool:
        """Put one panel's outcome on the page; False when it failed."""
        if isinstance(outcome, BaseException):
            self._fail(panel, outcome, filters)
            return False
        try:
            outcome()
        except Exception as exc:
            self._fail(panel, exc, filters)
            return False
        return True

    def _fail(self, panel: Panel, exc: BaseException, filters: Filters) -> None:
        reference = secrets.token_hex(3)
        server_log().error(
            "dashboard panel %r failed for %s (reference %s)", panel.name, filters, reference, exc_info=exc
        )
        panel.error(f"This part could not be loaded (reference {reference} in the server log).")

    def _finish(self, filters: Filters, failed: int, started: float) -> None:
        self.refreshes += 1
        self.last_refresh_seconds = time.perf_counter() - started
        self.timings["refresh-seconds"] = self.last_refresh_seconds
        self.timings["filled"] = time.time()
        note = f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y}, by {filters.grain}" if self.controls else "Ready"
        if failed:
            note += f" · {failed} panel(s) could not be loaded"
        self._set_status("error" if failed else "ready", note)

    def refresh(self, filters: Filters | None = None) -> None:
        """Reload every panel for ``filters`` (default: the controls' current value) and return when all are shown."""
        filters = filters or self._current()
        started = time.perf_counter()
        self._begin(filters)
        failed = 0
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="panel") as pool:
            futures = [(panel, pool.submit(panel.prepare, filters)) for panel in self.panels]
            for panel, future in futures:
                try:
                    outcome: Show | BaseException = future.result()
                except Exception as exc:
                    outcome = exc
                failed += not self._shown(panel, outcome, filters)
        self._finish(filters, failed, started)

    def start(self, filters: Filters | None = None) -> None:
        """Show every panel loading now and fill them in the kernel's event loop (or at once, outside a kernel)."""
        filters = filters or self._current()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.refresh(filters)
            return
        generation = self._begin(filters)
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = loop.create_task(self._fill(filters, generation))

    async def _fill(self, filters: Filters, generation: int) -> None:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        failed = 0
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="panel")

        async def prepared(panel: Panel) -> tuple[Panel, Show | BaseException]:
            try:
                return panel, await loop.run_in_executor(pool, panel.prepare, filters)
            except Exception as exc:
                return panel, exc

        try:
            for next_done in asyncio.as_completed([prepared(panel) for panel in self.panels]):
                panel, outcome = await next_done
                if generation != self._generation:
                    return  # a newer selection is being shown
                failed += not self._shown(panel, outcome, filters)
            self._finish(filters, failed, started)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    async def filled(self) -> None:
        """Wait until the current fill is done (tests and notebooks that need the numbers)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    def _current(self) -> Filters:
        if self.controls is None:
            raise ValueError("refresh() needs filters when the dashboard has no controls")
        return self.controls.filters
