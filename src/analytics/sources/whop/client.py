"""The Whop API v1 client the sync uses: real HTTP through an injected ``httpx.Client``.

Why not the official ``whop_sdk.Whop`` client (2.6.0) for the requests themselves — it would serve a custom base
URL (``WhopEnvironment(api=…)``), an injected ``httpx.Client`` and ``page_info.end_cursor`` (``pager.response``):

* it validates a whole page with pydantic before returning anything, so one malformed item raises
  ``ParsingError`` for the page and nothing can be quarantined item by item;
* it retries only connection errors and 408/409/429/5xx, not read timeouts, with a fixed 1–60 s backoff;
* it has no request-rate limit or concurrency bound.

So this module is a small client (≈ what the SDK's ``core/http_client.py`` does, plus the above), and the sync
still uses the SDK where it fits: each item is validated against the SDK's own pydantic model
(:mod:`analytics.sources.whop.shapes`), webhooks are verified with ``whop_sdk.lib.verify_webhook``, and query
arrays are sent as repeated keys exactly like the SDK's ``query_encoder``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from analytics.errors import ApiError, SyncError
from analytics.settings import Secret

__all__ = ["API_VERSION_DATE", "Page", "RateLimiter", "WhopClient"]

log = logging.getLogger(__name__)
API_VERSION_DATE = "2026-10-15-1"  # whop-sdk 2.6.0 default (client.py)
RETRY_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: its items and the cursor of the next page (``None`` on the last)."""

    items: list[dict[str, Any]]
    end_cursor: str | None
    after: str | None


class RateLimiter:
    """A token bucket shared by all threads: at most ``rate`` requests per second, bursts of ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate, self.burst = rate, max(1, burst)
        self._tokens = float(self.burst)
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(wait)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, ``retry-after`` seconds or HTTP date)."""
    ms = response.headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


class WhopClient:
    """GET requests to the Whop API v1 with retries, a request rate and a concurrency bound.

    Parameters
    ----------
    base_url:
        ``https://api.whop.com/api/v1`` or a fake server's ``http://127.0.0.1:PORT/api/v1``.
    api_key:
        The bearer token (a :class:`~analytics.settings.Secret`; revealed only into the header).
    http:
        The ``httpx.Client`` to use (tests and callers inject theirs; one with ``timeout`` is made otherwise).
    max_retries, backoff, max_backoff:
        Retries on 408/409/429/5xx, timeouts and dropped connections: ``backoff * 2**attempt`` seconds with
        jitter (capped), or what ``retry-after``/``retry-after-ms`` says.
    requests_per_second, max_concurrency:
        The request rate (token bucket) and the number of requests in flight at once, across threads.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret | str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        requests_per_second: float = 20.0,
        max_concurrency: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self._owns_http = http is None
        self.http = http or httpx.Client(timeout=timeout)
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.limiter = RateLimiter(requests_per_second, burst=max(1, max_concurrency), sleep=sleep)
        self._slots = threading.BoundedSemaphore(max(1, max_concurrency))
        self._sleep = sleep
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> WhopClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._key.reveal()}",
            "Api-Version-Date": API_VERSION_DATE,
            "Accept": "application/json",
            "User-Agent": "creator-analytics-workbook",
        }

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        asked = _retry_after(response) if response is not None else None
        if asked is not None:
            return min(asked, self.max_backoff)
        return min(self.backoff * 2**attempt, self.max_backoff) * (0.9 + 0.2 * random.random())

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, allow_404: bool = False
    ) -> dict[str, Any] | None:
        """GET ``path`` (relative to the base URL) and return the JSON body; retries as configured.

        Raises
        ------
        ApiError
            A non-retryable error status (401 bad key, 400 bad parameter, …) or retries exhausted on one.
        SyncError
            Timeouts or connection failures after all retries, or a body that is not JSON.
        """
        url = f"{self.base_url}/{path.lstrip('/')}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            self.limiter.acquire()
            response: httpx.Response | None = None
            failure: Exception | None = None
            with self._slots:
                with self._lock:
                    self.requests += 1
                try:
                    response = self.http.get(url, params=query, headers=self._headers())
                except (httpx.TimeoutException, httpx.TransportError) as exc:
                    failure = exc
            retryable = failure is not None or (
                response is not None and (response.status_code in RETRY_STATUSES or response.status_code >= 500)
            )
            if retryable and attempt < self.max_retries:
                delay = self._delay(attempt, response)
                what = f"HTTP {response.status_code}" if response is not None else type(failure).__name__
                log.info("GET /%s: %s, retry %d/%d in %.2fs", path, what, attempt + 1, self.max_retries, delay)
                with self._lock:
                    self.retries += 1
                self._sleep(delay)
                attempt += 1
                continue
            if failure is not None:
                raise SyncError(
                    f"GET {url} failed after {attempt + 1} attempt(s): {type(failure).__name__}: {failure}"
                ) from failure
            assert response is not None
            return self._parse(url, response, allow_404)

    def _parse(self, url: str, response: httpx.Response, allow_404: bool) -> dict[str, Any] | None:
        if response.status_code == 404 and allow_404:
            return None
        try:
            body = response.json()
        except ValueError as exc:
            if response.is_success:
                raise SyncError(
                    f"GET {url} returned a body that is not JSON", request=response.request, response=response
                ) from exc
            body = {}
        if not response.is_success:
            raw_error = body.get("error") if isinstance(body, dict) else None
            error = raw_error if isinstance(raw_error, dict) else {}
            hint = " Check WHOP_API_KEY." if response.status_code in (401, 403) else ""
            raise ApiError(
                f"GET {url} answered {response.status_code}: {error.get('message') or response.reason_phrase}.{hint}",
                status_code=response.status_code,
                error=error,
                request=response.request,
                response=response,
            )
        if not isinstance(body, dict):
            raise SyncError(
                f"GET {url} returned JSON that is not an object", request=response.request, response=response
            )
        return body

    def page(self, path: str, params: Mapping[str, Any], *, after: str | None = None, first: int = 100) -> Page:
        """One page of a list endpoint."""
        body = self.get(path, {**params, "first": first, "after": after})
        assert body is not None
        data = body.get("data")
        if not isinstance(data, list):
            raise SyncError(f"GET /{path}: the response has no 'data' list")
        raw_info = body.get("page_info")
        info = raw_info if isinstance(raw_info, dict) else {}
        cursor = info.get("end_cursor") or None
        return Page(items=[d if isinstance(d, dict) else {"_raw": d} for d in data], end_cursor=cursor, after=after)

    def pages(
        self, path: str, params: Mapping[str, Any], *, after: str | None = None, first: int = 100
    ) -> Iterator[Page]:
        """Every page from ``after`` on: the next one is requested with ``after=end_cursor`` until it is null
        (as whop-sdk 2.6.0 does; ``has_next_page`` is not trusted), or a page comes back empty."""
        while True:
            page = self.page(path, params, after=after, first=first)
            yield page
            if not page.end_cursor or not page.items:
                return
            after = page.end_cursor

    def retrieve(self, path: str, item_id: str) -> dict[str, Any] | None:
        """``GET /<path>/<id>``, or ``None`` when it does not exist (404)."""
        return self.get(f"{path}/{item_id}", allow_404=True)
