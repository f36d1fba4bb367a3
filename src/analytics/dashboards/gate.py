"""The dashboard server's front door: no kernel starts for a request that may not have one.

:class:`GatedVoilaHandler` replaces Voilà's page handler (``/voila/render/<notebook>``). Before Voilà does
anything it checks, in this order and for the price of an HMAC:

1. the notebook exists in the served folder (else ``404``);
2. the link's signed token grants an account (else ``403`` with the "not authorised" page; a server without a
   secret key answers ``503`` with a page saying so);
3. there is room for one more viewer kernel (else ``503`` with a "busy, retry in a moment" page that reloads
   itself after ``Retry-After`` seconds).

Only then does Voilà render the page, in a pre-heated kernel from the pool or a new one. Every kernel a page gets
is recorded as a viewer kernel (:class:`~analytics.dashboards.kernel_limits.ViewerKernels`), so the watcher can
end it when the page is closed, when its browser goes away, or when the request is aborted before the page is
sent. The page handler also sets Tornado's ``_xsrf`` cookie, so Voilà's shutdown request on ``beforeunload``
(which posts that cookie's value) is accepted by :class:`ViewerShutdownHandler`.

:class:`AssetHandler` serves the JavaScript the interactive charts load once per browser (Vega, Vega-Lite,
vega-embed bundled by vl-convert, see :mod:`analytics.widgets.vega`), so pages work without reaching a CDN.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_core.utils import ensure_async
from tornado.iostream import StreamClosedError
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.handler import TornadoVoilaHandler

from analytics.dashboards.kernel_limits import ViewerKernels
from analytics.errors import AnalyticsError, AuthorizationError
from analytics.settings import Settings
from analytics.widgets.access import busy_html, not_authorised_html, server_problem_html

__all__ = ["AssetHandler", "Gate", "GatedVoilaHandler", "StatusHandler", "ViewerShutdownHandler"]

log = logging.getLogger("analytics.dashboards.gate")

RETRY_AFTER_SECONDS = 10


@dataclass
class Gate:
    """What the page handler checks: the served folder, the settings with the link key, the viewer kernels."""

    directory: Path
    settings: Settings
    viewers: ViewerKernels

    def refusal(self, path: str | None, query: str) -> tuple[int, str, dict[str, str]] | None:
        """``None`` when the request may have a kernel, else the (status, page, headers) to answer with."""
        from analytics.dashboards.session import NOT_CONFIGURED, authorise_query

        if not path or not self._serves(path):
            return 404, page("No such dashboard", server_problem_html("No such dashboard", "Check the link.")), {}
        try:
            authorise_query(query, self.settings)
        except AuthorizationError as exc:
            log.warning("link refused before any kernel (%s): %s", path, exc)
            return 403, page("Not authorised", not_authorised_html(str(exc))), {}
        except AnalyticsError as exc:
            log.error("dashboard server misconfigured: %s", exc)
            return 503, page("Not available", server_problem_html("Not available", NOT_CONFIGURED)), {}
        if not self.viewers.has_room():
            log.warning(
                "busy: %d viewer kernels running (limit %d); asked to retry %s",
                self.viewers.count(),
                self.viewers.limits.max_viewers,
                path,
            )
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            refresh = f'<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}">'
            return 503, page("Busy", busy_html(RETRY_AFTER_SECONDS), head=refresh), headers
        return None

    def _serves(self, path: str) -> bool:
        root = self.directory.resolve()
        target = (root / path).resolve()
        return target.suffix == ".ipynb" and target.is_file() and root in target.parents


class _TrackedKernels:
    """Voilà's kernel manager as one page request sees it: the kernel the request gets is recorded as a viewer's."""

    def __init__(self, manager: Any, handler: GatedVoilaHandler) -> None:
        self._manager = manager
        self._handler = handler

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        kernel_id = str(await ensure_async(self._manager.start_kernel(*args, **kwargs)))
        self._handler.got_kernel(kernel_id)
        return kernel_id

    async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._manager.get_rendered_notebook(*args, **kwargs)
        self._handler.got_kernel(result[2])
        return result


class GatedVoilaHandler(TornadoVoilaHandler):
    """Voilà's page handler behind :class:`Gate` (see the module docstring)."""

    def initialize(self, **kwargs: Any) -> None:
        self.gate: Gate = kwargs.pop("gate")
        super().initialize(**kwargs)
        self.viewer_kernel: str | None = None
        self._waiting = False

    @property
    def kernel_manager(self) -> Any:
        return _TrackedKernels(self.settings["kernel_manager"], self)

    def got_kernel(self, kernel_id: str) -> None:
        self.viewer_kernel = kernel_id
        self.gate.viewers.track(kernel_id, self.request.path)
        self._stop_waiting()

    def _stop_waiting(self) -> None:
        if self._waiting:
            self._waiting = False
            self.gate.viewers.waiting(-1)

    async def get(self, path: str | None = None) -> None:
        refusal = self.gate.refusal(path, str(self.request.query))
        if refusal is not None:
            status, page, headers = refusal
            self.set_status(status)
            for name, value in headers.items():
                self.set_header(name, value)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(page)
            return
        self.xsrf_token  # noqa: B018 - sets the _xsrf cookie Voilà's shutdown beacon posts back
        self._waiting = True
        self.gate.viewers.waiting(+1)
        try:
            await super().get(path)
        except StreamClosedError:
            await self._abandon("the browser closed the request before the page was sent")
        finally:
            self._stop_waiting()

    def on_connection_close(self) -> None:
        """The browser went away before the page was complete: its kernel is not needed."""
        if self.viewer_kernel is not None and not self._finished:
            tornado.ioloop.IOLoop.current().add_callback(self._abandon, "the request was aborted")
        super().on_connection_close()

    async def _abandon(self, reason: str) -> None:
        if self.viewer_kernel is not None:
            await self.gate.viewers.end(self.viewer_kernel, f"aborted: {reason}")


class ViewerShutdownHandler(VoilaShutdownKernelHandler):
    """``POST /voila/api/shutdown/<kernel>`` (Voilà's ``beforeunload`` beacon): ends that viewer's kernel now.

    The beacon carries the ``_xsrf`` cookie value set with the page, so Tornado's XSRF check stays on. Only
    viewer kernels can be ended this way; pre-heated pool kernels are never exposed to a browser.
    """

    def initialize(self, **kwargs: Any) -> None:
        self.gate: Gate = kwargs.pop("gate")
        super().initialize(**kwargs)

    async def post(self, kernel_id: str) -> None:
        if self.gate.viewers.is_viewer(kernel_id):
            await self.gate.viewers.end(kernel_id, "closed: the page was closed")
        self.set_status(204)
        self.finish()


class AssetHandler(tornado.web.RequestHandler):
    """Serves fixed JavaScript assets by name, with a long cache lifetime and an ETag of their content."""

    def initialize(self, assets: dict[str, str]) -> None:
        self.assets = assets

    def get(self, name: str) -> Awaitable[None] | None:
        body = self.assets.get(name)
        if body is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "public, max-age=86400")
        self.set_header("ETag", '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"')
        if self.check_etag_header():
            self.set_status(304)
            return self.finish()
        return self.finish(body)


class StatusHandler(tornado.web.RequestHandler):
    """``GET /analytics/status``: kernel counts and limits as JSON (no account data; cheap to answer)."""

    def initialize(self, gate: Gate) -> None:
        self.gate = gate

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(self.gate.viewers.status())


def page(title: str, body: str, *, head: str = "") -> str:
    """A complete small HTML page (the gate's answers are whole documents, not notebook output)."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>{head}'
        f"</head><body>{body}</body></html>"
    )
