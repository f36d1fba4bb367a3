"""Webhook signatures exactly as Whop sends them, for the fake server (sign) and the receiver (verify).

* **v1 — Standard Webhooks.** Headers ``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64>``;
  HMAC-SHA256 over ``"{id}.{timestamp}.{body}"`` keyed by the *literal bytes* of the ``ws_…`` secret. The
  ``standardwebhooks`` package base64-decodes whatever key it is handed, so it is given ``base64(secret)``
  (what ``whop_sdk.lib.verify_webhook.unwrap`` does; we call that function to verify). Tolerance ±5 minutes.
* **legacy v5.** ``x-whop-signature: t=<unix>,v1=<hex HMAC-SHA256(secret bytes, "{t}.{body}")>``, ±300 s.

Errors never include the secret or the expected signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook
from whop_sdk.lib.verify_webhook import WebhookVerificationError, unwrap

from analytics.errors import SignatureError

__all__ = ["TOLERANCE_SECONDS", "sign_standard", "sign_v5", "verify_standard", "verify_v5"]

TOLERANCE_SECONDS = 300


def _key(secret: str) -> str:
    return base64.b64encode(secret.encode("utf-8")).decode("ascii")


def sign_standard(secret: str, msg_id: str, body: bytes | str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers Whop sends with ``body``, signed at ``at``."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    at = at.astimezone(UTC)
    signature = Webhook(_key(secret)).sign(msg_id=msg_id, timestamp=at, data=text)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def verify_standard(secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    """Check a v1 delivery; raises :class:`SignatureError` (missing, malformed, stale or forged)."""
    try:
        unwrap(body, headers=dict(headers), key=secret)
    except WebhookVerificationError as exc:
        raise SignatureError(f"Standard Webhooks signature rejected: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # a verified body that is not a JSON object (or nested too deep)
        raise SignatureError(f"webhook body rejected: {exc}") from exc


def sign_v5(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    """The legacy ``x-whop-signature`` header for ``body`` at ``at``."""
    stamp = int(at.timestamp())
    digest = hmac.new(secret.encode("utf-8"), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"x-whop-signature": f"t={stamp},v1={digest}"}


def verify_v5(secret: str, body: bytes, header: str | None, now: datetime) -> None:
    """Check a legacy v5 delivery; raises :class:`SignatureError`."""
    if not header:
        raise SignatureError("x-whop-signature header is missing")
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t"), parts.get("v1")
    if not stamp or not given or not stamp.isdigit():
        raise SignatureError("x-whop-signature is malformed; expected t=<unix>,v1=<hex>")
    if abs(now.timestamp() - int(stamp)) > TOLERANCE_SECONDS:
        raise SignatureError("x-whop-signature timestamp is outside the ±5 minute tolerance")
    expected = hmac.new(secret.encode("utf-8"), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureError("x-whop-signature does not match the body")
