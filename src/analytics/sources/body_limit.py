"""Bounding the request bodies an ASGI app of the workbook reads: :class:`BodyLimit`.

The webhook receiver (Whop today; WhatsApp webhooks, ``/api`` and ``/health`` later) takes requests from anyone
on the internet before it can tell a delivery from an attack, so no route may read an unbounded body. The
middleware refuses, with ``413`` and ``Connection: close``,

* a request whose ``Content-Length`` is over the limit — before a byte of its body is read (a client that sent
  ``Expect: 100-continue`` is never told to send it), and
* a body without a length (chunked) or longer than it claimed — as soon as the chunks received pass the limit,
  without reading the rest.

Routes read bodies as usual (``await request.body()``, ``request.stream()``) and never receive more than the
limit plus one chunk. Install it as Starlette middleware, ``Starlette(middleware=[Middleware(BodyLimit,
max_bytes=…)])``: there it sits inside Starlette's error middleware, which would otherwise turn the refusal into
a ``500``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics.errors import ConfigError

__all__ = ["BodyLimit", "BodyTooLarge"]

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes the limit; :class:`BodyLimit` answers it with ``413``."""

    def __init__(self, received: int, limit: int) -> None:
        super().__init__(f"request body passed {limit} bytes ({received} bytes received)")
        self.received = received
        self.limit = limit


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # the server rejects a malformed length first; counting still bounds the body
                return None
    return None


async def _nothing() -> Message:  # a response being sent never reads the request
    return {"type": "http.disconnect"}


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with ``413`` while streaming, unread.

    Parameters
    ----------
    app:
        The application it guards.
    max_bytes:
        The largest body accepted (``ANALYTICS_WEBHOOK_MAX_BODY_BYTES`` for the webhook receiver).
    on_refused:
        Called with the request's scope for each refusal (the receiver counts them in its stats).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, on_refused: Callable[[Scope], None] | None = None) -> None:
        if max_bytes < 1:
            raise ConfigError(f"the request body limit must be at least 1 byte, not {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send, f"declares {declared} bytes")
            return
        received = 0
        responding = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(received, self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal responding
            responding = responding or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:
            if responding:  # too late for a 413; let the server end the connection
                raise
            await self._refuse(scope, send, f"passed the limit after {exc.received} bytes")

    async def _refuse(self, scope: Scope, send: Send, why: str) -> None:
        client = scope.get("client") or ("?",)
        log.warning(
            "refused a %s %s from %s: the body %s (limit %d bytes)",
            scope.get("method"),
            scope.get("path"),
            client[0],
            why,
            self.max_bytes,
        )
        if self.on_refused is not None:
            self.on_refused(scope)
        response = JSONResponse(
            {
                "error": {
                    "type": "payload_too_large",
                    "message": f"the request body is over the {self.max_bytes}-byte limit",
                    "code": "body_too_large",
                }
            },
            status_code=413,
            headers={"connection": "close"},
        )
        await response(scope, _nothing, send)
