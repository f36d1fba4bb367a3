"""Dashboard links that only open one account's data: HMAC-SHA256 signed, expiring tokens.

A token is ``<payload>.<signature>``, both base64url without padding. The payload is compact JSON
``{"v": 1, "acct": "biz_…", "exp": <unix seconds>}``; the signature is HMAC-SHA256 over ``analytics-dashboard.v1.`` +
the encoded payload, keyed with ``ANALYTICS_SECRET_KEY`` (``Settings.require("secret_key")``). Verification
recomputes the signature and compares it in constant time (:func:`hmac.compare_digest`) *before* reading the
payload, then checks the expiry and, when the caller knows which account it is about to show, the account.

Anyone holding a link sees that one account until the link expires; rotate ``ANALYTICS_SECRET_KEY`` to revoke
every link at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from analytics.clock import Clock, utcnow
from analytics.errors import AuthorizationError, ConfigError
from analytics.settings import Secret

__all__ = [
    "DashboardClaims",
    "make_dashboard_token",
    "parse_duration",
    "token_from_query_string",
    "verify_dashboard_token",
]

_CONTEXT = b"analytics-dashboard.v1."
_VERSION = 1
MIN_SECRET_LENGTH = 16
MAX_LIFETIME = timedelta(days=366)
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class DashboardClaims:
    """What a verified token grants: one account, until ``expires_at``."""

    account_id: str
    expires_at: datetime


def _key(secret_key: Secret | str) -> bytes:
    raw = secret_key.reveal() if isinstance(secret_key, Secret) else secret_key
    if len(raw) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"ANALYTICS_SECRET_KEY is too short ({len(raw)} characters, need at least {MIN_SECRET_LENGTH}); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return raw.encode("utf-8")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> bytes:
    return hmac.new(key, _CONTEXT + payload.encode("ascii"), hashlib.sha256).digest()


def parse_duration(text: str) -> timedelta:
    """Parse a lifetime such as ``30m``, ``12h``, ``7d`` or ``2w``.

    Raises
    ------
    ConfigError
        The text is not a positive number followed by one of s, m, h, d, w.
    """
    match = _DURATION.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(f"expiry {text!r} is not a duration; write a positive number and a unit: 30m, 12h, 7d, 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def make_dashboard_token(
    secret_key: Secret | str,
    account_id: str,
    expires_in: timedelta,
    clock: Clock = utcnow,
) -> str:
    """A signed token that opens the dashboards of ``account_id`` for ``expires_in``.

    Parameters
    ----------
    secret_key:
        ``settings.require("secret_key")`` (``ANALYTICS_SECRET_KEY``), at least 16 characters.
    account_id:
        The Whop account (``biz_…``) the link is for.
    expires_in:
        Lifetime of the link (positive, at most 366 days).
    clock:
        Source of "now" (injected for tests).

    Raises
    ------
    ConfigError
        The secret key is too short, the account id is empty or the lifetime is out of range.
    """
    key = _key(secret_key)
    if not account_id or not account_id.strip():
        raise ConfigError("a dashboard link needs an account id (biz_…); pass --account")
    if expires_in <= timedelta(0) or expires_in > MAX_LIFETIME:
        raise ConfigError(
            f"a dashboard link must expire within 1 second and {MAX_LIFETIME.days} days, not {expires_in}"
        )
    expires_at = int((clock() + expires_in).timestamp())
    body = json.dumps({"v": _VERSION, "acct": account_id, "exp": expires_at}, separators=(",", ":"), sort_keys=True)
    payload = _b64encode(body.encode("utf-8"))
    return f"{payload}.{_b64encode(_sign(key, payload))}"


def verify_dashboard_token(
    secret_key: Secret | str,
    token: str | None,
    *,
    account_id: str | None = None,
    clock: Clock = utcnow,
) -> DashboardClaims:
    """Check a dashboard token and return the account it opens.

    Parameters
    ----------
    secret_key:
        The same key the token was made with.
    token:
        The token from the link (``None`` or empty when the link has none).
    account_id:
        When given, the token must be for this account (a dashboard pinned to one account, or an explicit
        ``account=`` in the URL).
    clock:
        Source of "now".

    Raises
    ------
    AuthorizationError
        The token is missing, malformed, forged (signature mismatch), expired, or for another account.
    ConfigError
        The secret key is too short.
    """
    key = _key(secret_key)
    if not token:
        raise AuthorizationError("this link has no access token; ask the account owner for a new dashboard link")
    payload, dot, signature = token.strip().partition(".")
    try:
        given = _b64decode(signature) if dot else b""
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(_sign(key, payload), given):
        raise AuthorizationError("the access token in this link is not valid (wrong signature); ask for a new link")
    try:
        claims = json.loads(_b64decode(payload))
        acct, exp, version = str(claims["acct"]), int(claims["exp"]), int(claims["v"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise AuthorizationError("the access token in this link cannot be read; ask for a new link") from exc
    if version != _VERSION:
        raise AuthorizationError(f"the access token has version {version}, this server expects {_VERSION}")
    expires_at = datetime.fromtimestamp(exp, tz=UTC)
    if clock() >= expires_at:
        raise AuthorizationError(
            f"this link expired on {expires_at:%Y-%m-%d %H:%M} UTC; ask the account owner for a new dashboard link"
        )
    if account_id is not None and acct != account_id:
        raise AuthorizationError("this link is for another account; ask for a link to this account")
    return DashboardClaims(account_id=acct, expires_at=expires_at)


def token_from_query_string(query_string: str) -> tuple[str | None, str | None]:
    """The ``token`` and ``account`` parameters of a dashboard URL's query string (``None`` when absent).

    Raises
    ------
    AuthorizationError
        A parameter is repeated: the link is refused rather than guessed at.
    """
    values = parse_qs(query_string or "", keep_blank_values=True)
    for name in ("token", "account"):
        if len(values.get(name, [])) > 1:
            raise AuthorizationError(f"this link repeats the {name!r} parameter; use the link exactly as it was sent")
    token = values.get("token", [None])[0]
    account = values.get("account", [None])[0]
    return token or None, account or None
