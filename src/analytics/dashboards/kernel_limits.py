"""How many kernels the dashboard server runs, and when a viewer's kernel ends.

Every dashboard page view runs in a Jupyter kernel (a process of a few hundred MB). Without limits a few minutes of
page loads, or of plain ``curl`` requests, leave dozens of kernels running until the server stops. Here:

* **Viewer kernels are known by name.** A kernel becomes a viewer kernel when a page request that passed the link
  check starts one or takes one from the pre-heated pool (:class:`ViewerKernels.track`); the pool's own kernels,
  waiting for a viewer, are never counted or culled.
* **At most** :attr:`KernelLimits.max_viewers` **viewer kernels** run at once; one more request is answered with a
  "busy, retry in a moment" page by the gate (:mod:`analytics.dashboards.gate`) before any kernel starts.
* **A viewer kernel ends** (:meth:`ViewerKernels.check`, every :attr:`KernelLimits.check_seconds`) when

  - no browser has been connected to it for :attr:`KernelLimits.grace_seconds` since its last activity (the page
    was closed, the request came from a script that never opens the websocket, or the tab lost its connection);
  - a browser is connected but nothing happened for :attr:`KernelLimits.idle_seconds` (a tab left open);
  - it has been busy without a pause for :attr:`KernelLimits.render_seconds` (a page that hangs);
  - it died.

  Closing the page also shuts its kernel at once (Voilà's shutdown request on ``beforeunload``, see
  :class:`analytics.dashboards.gate.ViewerShutdownHandler`); the grace period covers browsers that never send it.

Jupyter Server's own culler has one idle timeout for every kernel, so it cannot tell a viewer who left from a pool
kernel waiting for one; this module is that distinction.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["KernelLimits", "ViewerKernels", "default_max_viewers"]

log = logging.getLogger("analytics.dashboards.kernels")

KERNEL_MEMORY_BYTES = 400 * 1024 * 1024
"""Memory budgeted per kernel when sizing the limit to the machine (a dashboard kernel uses ~200–300 MB)."""


def available_memory_bytes() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` (Linux), else ``None``."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def default_max_viewers(pool_kernels: int, available: int | None = None) -> int:
    """Viewer kernels that fit the machine: one per 400 MB of available memory once the pools are paid for,
    at least 2 and at most 32 (and at most 4 per CPU: a kernel's page work is CPU-bound)."""
    available = available_memory_bytes() if available is None else available
    if available is None:
        return 8
    fits = available // KERNEL_MEMORY_BYTES - pool_kernels
    return int(max(2, min(32, 4 * (os.cpu_count() or 1), fits)))


@dataclass(frozen=True)
class KernelLimits:
    """The dashboard server's kernel budget (from :class:`~analytics.settings.Settings`, ``dashboard_*``)."""

    max_viewers: int = 8
    pool_size: int = 1
    grace_seconds: float = 30.0
    idle_seconds: float = 1800.0
    render_seconds: float = 120.0
    check_seconds: float = 2.0


@dataclass
class _Viewer:
    """What the watcher knows of one viewer kernel (monotonic seconds)."""

    since: float
    last_connected: float | None = None
    last_not_busy: float = 0.0
    path: str = ""


@dataclass
class ViewerKernels:
    """The viewer kernels of one server: counted for the gate, watched and shut down when their page is gone.

    Parameters
    ----------
    kernel_manager:
        Voilà's kernel manager (a Jupyter Server ``AsyncMappingKernelManager``).
    limits:
        The budget.
    clock:
        Monotonic seconds (injected by tests).
    log:
        Where kernel shutdowns are reported (the server's log).
    """

    kernel_manager: Any
    limits: KernelLimits
    clock: Callable[[], float] = time.monotonic
    log: logging.Logger = log
    _viewers: dict[str, _Viewer] = field(default_factory=dict)
    _waiting: int = 0
    shut_down: dict[str, int] = field(default_factory=dict)

    # --- what the gate asks -------------------------------------------------------------------------------------
    def count(self) -> int:
        """Viewer kernels running, plus page requests that passed the gate and are still getting their kernel."""
        return len(self._live_viewers()) + self._waiting

    def has_room(self) -> bool:
        """Whether one more viewer may get a kernel now."""
        return self.count() < self.limits.max_viewers

    def waiting(self, delta: int) -> None:
        """A gated request starts (+1) or stops (-1) waiting for its kernel."""
        self._waiting = max(0, self._waiting + delta)

    def track(self, kernel_id: str, path: str = "") -> None:
        """``kernel_id`` now serves a viewer's page (started for it, or taken from the pool)."""
        now = self.clock()
        self._viewers[kernel_id] = _Viewer(since=now, last_not_busy=now, path=path)

    def status(self) -> dict[str, Any]:
        """Counts for operators and tests: viewer and other (pre-heated) kernels, the limits, kernels ended."""
        running = list(self.kernel_manager.list_kernel_ids())
        viewers = self._live_viewers()
        return {
            "viewer_kernels": len(viewers),
            "waiting_requests": self._waiting,
            "pool_kernels": len(running) - len(viewers),
            "max_viewer_kernels": self.limits.max_viewers,
            "pool_size_per_dashboard": self.limits.pool_size,
            "ended": dict(self.shut_down),
        }

    def is_viewer(self, kernel_id: str) -> bool:
        return kernel_id in self._viewers

    def _live_viewers(self) -> list[str]:
        running = set(self.kernel_manager.list_kernel_ids())
        for gone in set(self._viewers) - running:
            del self._viewers[gone]
        return list(self._viewers)

    # --- the watcher --------------------------------------------------------------------------------------------
    async def check(self) -> list[tuple[str, str]]:
        """Shut down every viewer kernel whose page is gone (see the module docstring); returns (id, reason)."""
        ended: list[tuple[str, str]] = []
        for kernel_id in self._live_viewers():
            reason = self._reason(kernel_id)
            if reason is None:
                continue
            viewer = self._viewers.pop(kernel_id, None)
            self.log.info("shutting down viewer kernel %s (%s): %s", kernel_id, viewer.path if viewer else "?", reason)
            self._count(reason)
            try:
                await self._shutdown(kernel_id)
            except Exception:  # a kernel that vanished meanwhile is not an error of the watcher
                self.log.warning("viewer kernel %s could not be shut down", kernel_id, exc_info=True)
            ended.append((kernel_id, reason))
        return ended

    async def end(self, kernel_id: str, reason: str) -> None:
        """Shut a viewer kernel down now (the page was closed or its request aborted)."""
        if self._viewers.pop(kernel_id, None) is None or kernel_id not in self.kernel_manager:
            return
        self.log.info("shutting down viewer kernel %s: %s", kernel_id, reason)
        self._count(reason)
        await self._shutdown(kernel_id)

    def _count(self, reason: str) -> None:
        """Kernels ended, by the first word of the reason (``gone``, ``closed``, ``aborted``, ``idle``, ``busy``)."""
        kind = reason.split(":")[0]
        self.shut_down[kind] = self.shut_down.get(kind, 0) + 1

    async def _shutdown(self, kernel_id: str) -> None:
        result = self.kernel_manager.shutdown_kernel(kernel_id, now=True)
        if hasattr(result, "__await__"):
            await result

    def _reason(self, kernel_id: str) -> str | None:
        viewer = self._viewers[kernel_id]
        now = self.clock()
        try:
            kernel = self.kernel_manager.get_kernel(kernel_id)
        except KeyError:
            return None
        state = getattr(kernel, "execution_state", None)
        connections = int(self.kernel_manager._kernel_connections.get(kernel_id, 0))
        if state == "dead":
            return "dead: the kernel died"
        if state != "busy":
            viewer.last_not_busy = now
        if connections:
            viewer.last_connected = now
        active = max(viewer.since, viewer.last_connected or 0.0, now - _seconds_since(kernel))
        if state == "busy" and now - viewer.last_not_busy > self.limits.render_seconds:
            return f"busy: busy for more than {self.limits.render_seconds:.0f} s"
        if not connections and state != "busy" and now - active > self.limits.grace_seconds:
            return f"gone: no browser connected for {self.limits.grace_seconds:.0f} s"
        if connections and now - max(viewer.since, now - _seconds_since(kernel)) > self.limits.idle_seconds:
            return f"idle: no activity for {self.limits.idle_seconds:.0f} s"
        return None


def _seconds_since(kernel: Any) -> float:
    """Seconds since the kernel's last activity (Jupyter Server records ``last_activity`` in UTC)."""
    last = getattr(kernel, "last_activity", None)
    if not isinstance(last, datetime):
        return 0.0
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - last).total_seconds())
