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
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from analytics.clock import Clock, utcnow
from analytics.errors import ApiError, SyncError
from analytics.settings import Secret, Settings

__all__ = ["API_VERSION_DATE", "DEFAULT_MAX_RETRY_AFTER", "Page", "RateLimiter", "WhopClient", "retry_after_seconds"]

log = logging.getLogger(__name__)
API_VERSION_DATE = "2026-10-15-1"  # whop-sdk 2.6.0 default (client.py)
RETRY_STATUSES = frozenset({408, 409, 429})
DEFAULT_MAX_RETRY_AFTER = 600.0
"""Seconds the client waits at most when the server asks (``ANALYTICS_SYNC_MAX_RETRY_AFTER``)."""
RESUME_HINT = "every page fetched so far is stored with its checkpoint, so the next sync resumes where this one stopped"


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: its items and the cursor of the next page (``None`` on the last)."""

    items: list[dict[str, Any]]
    end_cursor: str | None
    after: str | None


class OverBudget(Exception):
    """Waiting ``wait`` more seconds would pass the deadline (internal: the client turns it into a SyncError)."""

    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


class RateLimiter:
    """A token bucket shared by all threads whose rate adapts to the server (AIMD, as TCP does).

    At most ``rate`` requests per second, bursts of ``burst``. :meth:`slow_down` (on a rate-limit answer) halves
    the rate, down to ``min_rate``, and pauses every thread for what the server asked; :meth:`speed_up` (on each
    success) adds back ``RECOVERY`` of the configured rate, so after a run of 429s the rate recovers slowly
    (from half to full in 50 successful requests).
    """

    RECOVERY = 0.01

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        min_rate: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.max_rate, self.rate, self.burst = rate, rate, max(1, burst)
        self.min_rate = min(min_rate, rate)
        self._tokens = float(self.burst)
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._resume_at = self._last
        self._lock = threading.Lock()

    def acquire(self, deadline: float | None = None) -> None:
        """Take one token, waiting for it (and for any pause); raises :class:`OverBudget` rather than wait past
        ``deadline`` (a ``clock`` value)."""
        while True:
            with self._lock:
                now = self._clock()
                if deadline is not None and now >= deadline:
                    raise OverBudget(0.0)
                if now >= self._resume_at:
                    self._tokens = min(self.burst, self._tokens + (now - max(self._last, self._resume_at)) * self.rate)
                    self._last = now
                    if self._tokens >= 1 - 1e-9:  # (rounding must not leave a thread one ulp short forever)
                        self._tokens = max(self._tokens - 1, 0.0)
                        return
                    wait = (1 - self._tokens) / self.rate
                else:
                    wait = self._resume_at - now
            if deadline is not None and now + wait > deadline:
                raise OverBudget(wait)
            self._sleep(wait)

    def slow_down(self, pause: float) -> None:
        """A rate-limit answer: halve the rate and let no thread send anything for ``pause`` seconds."""
        with self._lock:
            self.rate = max(self.min_rate, self.rate / 2)
            now = self._clock()
            self._resume_at = max(self._resume_at, now + pause)
            self._tokens = min(self._tokens, 0.0)
            self._last = max(self._last, now)

    def speed_up(self) -> None:
        """A successful request: recover a little of the configured rate."""
        with self._lock:
            if self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate + self.max_rate * self.RECOVERY)


def retry_after_seconds(response: httpx.Response, now: datetime) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, or ``retry-after`` as seconds or an HTTP date
    (RFC 9110 §10.2.3, relative to ``now``); ``None`` when it said nothing usable."""
    ms = response.headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = (response.headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT
        return None
    return max((when - now).total_seconds(), 0.0)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


class WhopClient:
    """GET requests to the Whop API v1 with retries, an adaptive request rate and a concurrency bound.

    Parameters
    ----------
    base_url:
        ``https://api.whop.com/api/v1`` or a fake server's ``http://127.0.0.1:PORT/api/v1``.
    api_key:
        The bearer token (a :class:`~analytics.settings.Secret`; revealed only into the header).
    http:
        The ``httpx.Client`` to use (tests and callers inject theirs; one with ``timeout`` is made otherwise).
    max_retries, backoff, max_backoff:
        Transient failures (408/409/5xx without ``retry-after``, timeouts, dropped connections) are retried
        ``max_retries`` times after ``backoff * 2**attempt`` seconds with jitter, capped at ``max_backoff``.
    max_retry_after:
        Rate limits (429, or any retryable answer with ``retry-after``/``retry-after-ms``) are retried as long as
        the time budget allows, each after exactly what the server asked (seconds or an HTTP date) or, when it
        asked nothing, the backoff; all threads pause and the request rate halves (recovering slowly). A server
        asking for more than ``max_retry_after`` seconds stops the sync with a clear message instead.
    requests_per_second, max_concurrency:
        The request rate (token bucket, the upper bound of the adaptive rate) and the number of requests in
        flight at once, across threads.
    clock, sleep, wall_clock:
        Monotonic seconds, the sleeper and the UTC clock (HTTP dates); tests inject fakes so nothing really waits.
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
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        requests_per_second: float = 20.0,
        max_concurrency: int = 4,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Clock = utcnow,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self._owns_http = http is None
        self.http = http or httpx.Client(timeout=timeout)
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.max_retry_after = max_retry_after
        self.limiter = RateLimiter(requests_per_second, burst=max(1, max_concurrency), clock=clock, sleep=sleep)
        self._slots = threading.BoundedSemaphore(max(1, max_concurrency))
        self._clock, self._sleep, self._wall_clock = clock, sleep, wall_clock
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._budget = 0.0
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, base_url: str | None = None, **kw: Any) -> WhopClient:
        """A client for the API named by ``settings`` (``WHOP_API_KEY`` required) with its sync settings.

        Raises
        ------
        ConfigError
            ``WHOP_API_KEY`` is not set.
        """
        return cls(
            base_url or settings.whop_api_base_url,
            settings.require("whop_api_key"),
            requests_per_second=settings.sync_requests_per_second,
            max_concurrency=settings.sync_max_concurrency,
            max_retry_after=settings.sync_max_retry_after,
            **kw,
        )

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

    @contextmanager
    def time_budget(self, seconds: float | None) -> Iterator[None]:
        """Within the block, stop (:class:`SyncError`) rather than send a request or wait past ``seconds`` from
        now; ``None``: no budget."""
        previous = self._deadline, self._budget
        self._deadline = None if seconds is None else self._clock() + seconds
        self._budget = seconds or 0.0
        try:
            yield
        finally:
            self._deadline, self._budget = previous

    def _over_budget(self, waiting: str) -> SyncError:
        limited = f"; the API rate-limited {self.rate_limited} request(s) on the way" if self.rate_limited else ""
        return SyncError(
            f"the sync stopped: its time budget of {_duration(self._budget)} (ANALYTICS_SYNC_TIME_BUDGET) ran out"
            f"{waiting}{limited}; {RESUME_HINT}"
        )

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` unless that passes the deadline."""
        if self._deadline is not None and self._clock() + seconds > self._deadline:
            raise self._over_budget(f" (a retry would have waited {seconds:.1f} s more)")
        self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2**attempt, self.max_backoff) * (0.9 + 0.2 * random.random())

    def _send(self, url: str, query: Mapping[str, Any]) -> tuple[httpx.Response | None, Exception | None]:
        try:
            self.limiter.acquire(self._deadline)
        except OverBudget as exc:
            waiting = f" (the next request could go out only {exc.wait:.1f} s later)" if exc.wait else ""
            raise self._over_budget(waiting) from None
        with self._slots:
            with self._lock:
                self.requests += 1
            try:
                return self.http.get(url, params=query, headers=self._headers()), None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                return None, exc

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, allow_404: bool = False
    ) -> dict[str, Any] | None:
        """GET ``path`` (relative to the base URL) and return the JSON body; retries as configured.

        Raises
        ------
        ApiError
            A non-retryable error status (401 bad key, 400 bad parameter, …) or retries exhausted on one.
        SyncError
            Timeouts or connection failures after all retries, a body that is not JSON, a server asking to wait
            longer than ``max_retry_after``, or the time budget used up.
        """
        url = f"{self.base_url}/{path.lstrip('/')}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = limited = 0
        while True:
            response, failure = self._send(url, query)
            status = response.status_code if response is not None else None
            retryable = failure is not None or (status is not None and (status in RETRY_STATUSES or status >= 500))
            asked = retry_after_seconds(response, self._wall_clock()) if retryable and response is not None else None
            if status == 429 or asked is not None:  # the server is pacing us: wait as asked, however many times
                wait = asked if asked is not None else self._backoff(limited)
                if wait > self.max_retry_after:
                    raise SyncError(
                        f"GET {url} answered {status} asking to wait {_duration(wait)} (retry-after), longer than "
                        f"the {_duration(self.max_retry_after)} the sync waits at most "
                        f"(ANALYTICS_SYNC_MAX_RETRY_AFTER); the sync stopped: {RESUME_HINT} — run it again later",
                        request=response.request if response is not None else None,
                        response=response,
                    )
                self.limiter.slow_down(wait)
                with self._lock:
                    self.retries += 1
                    self.rate_limited += 1
                limited += 1
                log.info(
                    "GET /%s: HTTP %s, waiting %.2fs as asked (%d in a row); rate now %.2f/s",
                    path,
                    status,
                    wait,
                    limited,
                    self.limiter.rate,
                )
                continue  # the next acquire() waits out the pause, or stops at the deadline
            if retryable and attempt < self.max_retries:
                delay = self._backoff(attempt)
                what = f"HTTP {status}" if response is not None else type(failure).__name__
                log.info("GET /%s: %s, retry %d/%d in %.2fs", path, what, attempt + 1, self.max_retries, delay)
                with self._lock:
                    self.retries += 1
                self._wait(delay)
                attempt += 1
                continue
            if failure is not None:
                raise SyncError(
                    f"GET {url} failed after {attempt + 1} attempt(s): {type(failure).__name__}: {failure}"
                ) from failure
            assert response is not None
            if response.is_success:
                self.limiter.speed_up()
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
