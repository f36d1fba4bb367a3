"""The webhook receiver: an ASGI app that verifies Whop deliveries, stores them, then applies them.

``POST /webhooks/whop`` accepts

* v1 deliveries signed with Standard Webhooks (``webhook-id``/``webhook-timestamp``/``webhook-signature``,
  HMAC keyed by the literal bytes of the ``ws_…`` secret, ±5 minutes), and
* legacy v5 deliveries (``x-whop-signature: t=…,v1=…``).

Every request body is bounded first (:class:`~analytics.sources.body_limit.BodyLimit`, ``max_body_bytes``): a
body over the limit gets ``413`` before it is read — before any signature work — and is never stored. A missing,
malformed, forged or stale signature gets ``401`` and one warning log line (never the secret), and
nothing is stored. An accepted delivery is written to ``webhook_inbox`` first — deduplicated by
``webhook-id`` (a repeat answers ``200`` with ``"duplicate"`` and changes nothing) — and then applied
(:mod:`analytics.sources.whop.webhook_events`). A delivery that cannot be applied stays in the inbox as
``failed`` for ``analytics webhooks reprocess``; it is still acknowledged, because it is safely stored.
``GET /webhooks/whop/stats`` reports the counters.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from analytics.clock import Clock, utcnow
from analytics.errors import ConfigError, SignatureError
from analytics.settings import DEFAULT_WEBHOOK_MAX_BODY_BYTES, Secret
from analytics.sources.body_limit import BodyLimit
from analytics.sources.whop.signatures import verify_standard, verify_v5
from analytics.sources.whop.webhook_events import process_inbox
from analytics.store import schema as s
from analytics.store.upsert import upsert_rows

__all__ = ["WEBHOOK_PATH", "WebhookReceiver"]

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/whop"
_KEPT_HEADERS = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-whop-signature",
    "content-type",
    "user-agent",
)


class WebhookReceiver:
    """Verifies, stores and applies Whop webhooks; ``.app`` is the ASGI application.

    Parameters
    ----------
    engine:
        The store the deliveries go to.
    secret:
        The endpoint's ``ws_…`` signing secret (``WHOP_WEBHOOK_SECRET``).
    clock:
        "Now" for the v5 tolerance window and the inbox timestamps.
    max_body_bytes:
        The largest body read (``ANALYTICS_WEBHOOK_MAX_BODY_BYTES``); larger ones get ``413`` unread.
    """

    def __init__(
        self,
        engine: Engine,
        secret: Secret | str | None,
        *,
        clock: Clock = utcnow,
        max_body_bytes: int = DEFAULT_WEBHOOK_MAX_BODY_BYTES,
    ) -> None:
        if not secret:
            raise ConfigError("WHOP_WEBHOOK_SECRET is not set: the receiver cannot verify deliveries without it.")
        self.engine = engine
        self._secret = secret if isinstance(secret, Secret) else Secret(secret)
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route(WEBHOOK_PATH, self._receive, methods=["POST"]),
                Route(f"{WEBHOOK_PATH}/stats", self._stats, methods=["GET"]),
            ],
            middleware=[
                Middleware(BodyLimit, max_bytes=max_body_bytes, on_refused=lambda scope: self._count("too_large"))
            ],
        )

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    async def _stats(self, request: Request) -> Response:
        with self._lock:
            return JSONResponse(dict(self.stats))

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        client = request.client.host if request.client else "?"
        try:
            source, dedupe = self._verify(body, headers)
        except SignatureError as exc:
            self._count("rejected")
            log.warning("rejected a Whop webhook from %s: %s", client, exc)
            return JSONResponse(
                {"error": {"type": "unauthorized", "message": str(exc), "code": "invalid_signature"}}, 401
            )
        status = await run_in_threadpool(self._store_and_apply, source, dedupe, body, headers)
        self._count(status)
        return JSONResponse({"status": status})

    def _verify(self, body: bytes, headers: dict[str, str]) -> tuple[str, str]:
        secret = self._secret.reveal()
        if any(h in headers for h in ("webhook-id", "webhook-timestamp", "webhook-signature")):
            verify_standard(secret, body, headers)
            return "whop", f"whop:{headers['webhook-id']}"
        if "x-whop-signature" in headers:
            verify_v5(secret, body, headers["x-whop-signature"], self.clock())
            return "whop_v5", f"whop_v5:{hashlib.sha256(body).hexdigest()[:40]}"
        raise SignatureError(
            "no signature headers (webhook-id/webhook-timestamp/webhook-signature or x-whop-signature)"
        )

    def _store_and_apply(self, source: str, inbox_id: str, body: bytes, headers: dict[str, str]) -> str:
        text = body.decode("utf-8", "replace")
        try:
            envelope: Any = json.loads(text)
        except (ValueError, RecursionError):  # kept as received; applying it marks it failed with the reason
            envelope = {}
        envelope = envelope if isinstance(envelope, dict) else {}
        data = envelope.get("data") if isinstance(envelope.get("data"), dict) else {}
        account = envelope.get("account_id") or envelope.get("company_id") or data.get("account_id")
        kept = {k: headers[k] for k in _KEPT_HEADERS if k in headers}
        if source == "whop_v5":
            stamp = headers["x-whop-signature"].split(",")[0].removeprefix("t=")
            kept["signed_at"] = stamp
        box = s.webhook_inbox
        with self.engine.begin() as conn:
            if conn.execute(sa.select(box.c.id).where(box.c.id == inbox_id)).first() is not None:
                return "duplicate"
            upsert_rows(
                conn,
                box,
                [
                    {
                        "id": inbox_id,
                        "source": source,
                        "account_id": str(account) if account else None,
                        "event_type": str(envelope.get("type") or envelope.get("action") or "")[:64] or None,
                        "received_at": self.clock(),
                        "headers": kept,
                        "body": text,
                        "status": "received",
                        "attempts": 0,
                    }
                ],
                update=[],
            )
        return process_inbox(self.engine, inbox_id, clock=self.clock).status
