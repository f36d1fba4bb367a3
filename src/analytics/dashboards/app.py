"""The dashboard server application: Voilà with a gate in front, a watcher on its kernels and the chart assets.

:class:`DashboardApp` is Voilà's application with three changes, made where Voilà builds its routes:

* its page handler is replaced by :class:`~analytics.dashboards.gate.GatedVoilaHandler` (no kernel for a request
  that may not have one, at most so many viewer kernels at once), and its shutdown handler by
  :class:`~analytics.dashboards.gate.ViewerShutdownHandler`;
* :class:`~analytics.dashboards.kernel_limits.ViewerKernels` checks every viewer kernel every few seconds and ends
  those whose page is gone;
* ``/analytics/assets/vega-embed.js`` serves the interactive charts' JavaScript (:mod:`analytics.widgets.vega`) and
  ``/analytics/status`` the kernel counts (no account data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voila.app import Voila

from analytics.dashboards.kernel_limits import KernelLimits, ViewerKernels
from analytics.settings import Settings

__all__ = ["DashboardApp"]


class DashboardApp(Voila):
    """Voilà with the gate in front of its page handler, the viewer-kernel watcher and the chart assets."""

    def __init__(self, *, directory: Path, settings: Settings, limits: KernelLimits, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._directory = directory
        self._analytics_settings = settings
        self._limits = limits
        self.viewers: ViewerKernels | None = None

    def init_handlers(self) -> list[Any]:
        from tornado.ioloop import PeriodicCallback
        from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
        from voila.tornado.handler import TornadoVoilaHandler

        from analytics.dashboards.gate import (
            AssetHandler,
            Gate,
            GatedVoilaHandler,
            StatusHandler,
            ViewerShutdownHandler,
        )
        from analytics.widgets.vega import ASSET_NAME, ASSET_ROUTE, vega_bundle

        self.viewers = ViewerKernels(self.kernel_manager, self._limits, log=self.log)
        gate = Gate(self._directory, self._analytics_settings, self.viewers)
        handlers: list[Any] = []
        for route in super().init_handlers():
            pattern, handler, *rest = route
            if handler is TornadoVoilaHandler:
                route = (pattern, GatedVoilaHandler, {**(rest[0] if rest else {}), "gate": gate})
            elif handler is VoilaShutdownKernelHandler:
                route = (pattern, ViewerShutdownHandler, {"gate": gate})
            handlers.append(route)
        base = self.server_url.rstrip("/")
        assets = {ASSET_NAME: vega_bundle()}
        handlers.insert(0, (f"{base}/{ASSET_ROUTE}(.+)", AssetHandler, {"assets": assets}))
        handlers.insert(0, (f"{base}/analytics/status", StatusHandler, {"gate": gate}))
        watcher = PeriodicCallback(self.viewers.check, self._limits.check_seconds * 1000)
        watcher.start()
        self.log.info(
            "Dashboards: %d pre-heated kernel(s) per dashboard, at most %d viewer kernels; a page's kernel ends "
            "%.0f s after its browser leaves, after %.0f s without activity, or after %.0f s busy.",
            self._limits.pool_size,
            self._limits.max_viewers,
            self._limits.grace_seconds,
            self._limits.idle_seconds,
            self._limits.render_seconds,
        )
        return handlers
