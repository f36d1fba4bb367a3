"""A local fake of the Whop API v1 that serves a source store in the exact whop-sdk 2.6.0 shapes.

``FakeWhop(engine, api_key=…)`` wraps any store (SQLite, PostgreSQL) loaded with a business; ``.app`` is a
Starlette application serving ``GET /api/v1/<resource>`` (cursor pages: ``first``/``after``, ``page_info`` with
``end_cursor: null`` on the last page; filters in repeated-key and ``key[]=`` forms; ``order``/``direction``;
``created_after``/``created_before``) and ``GET /api/v1/<resource>/<id>``, behind ``Authorization: Bearer``.
Faults are injected on demand (:mod:`analytics.sources.whop.faults`), and :meth:`FakeWhop.advance` moves the
business forward in time and delivers the matching signed webhooks (:mod:`analytics.sources.whop.simulator`).

Control endpoints (same bearer token): ``GET|POST|DELETE /_fake/faults``, ``GET /_fake/stats``,
``POST /_fake/advance`` with ``{"days": n}``.
"""

from __future__ import annotations

import base64
import email.utils
import hmac
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from analytics.errors import AnalyticsError, ConfigError, DataValidationError
from analytics.sources.whop.fake_data import LISTINGS, Listing, membership_status_filter, prepare_source
from analytics.sources.whop.faults import Fault, FaultPlan
from analytics.sources.whop.shapes import parse_time
from analytics.sources.whop.simulator import AdvanceResult, Simulator, WebhookTarget

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "FakeWhop"]

log = logging.getLogger(__name__)
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000  # Whop documents no maximum; the fake allows large pages for benchmarks.


def _error(
    status: int, type_: str, message: str, code: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message, "code": code}}, status, headers=headers)


def _retry_after_headers(seconds: float, form: str) -> dict[str, str]:
    """``retry-after`` (and ``retry-after-ms``) announcing ``seconds`` in the fault's format."""
    if form == "http-date":
        return {"retry-after": email.utils.formatdate(time.time() + seconds, usegmt=True)}
    whole = {"retry-after": str(int(seconds + 0.999))}
    return whole if form == "seconds" else {**whole, "retry-after-ms": str(int(seconds * 1000))}


def _broken(item: dict[str, Any]) -> dict[str, Any]:
    """An item a ``malformed`` fault breaks: its ``created_at`` is no timestamp."""
    return {**item, "created_at": "not-a-timestamp"}


def _encode_cursor(sort: Any, account_id: str, id_: str) -> str:
    value = {"t": sort.isoformat()} if isinstance(sort, datetime) else sort
    raw = json.dumps([value, account_id, id_], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[Any, str, str]:
    try:
        value, account_id, id_ = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise DataValidationError(f"cursor {cursor!r} is not a cursor this API issued", column="after") from exc
    if isinstance(value, dict) and "t" in value:
        value = datetime.fromisoformat(value["t"])
    return value, str(account_id), str(id_)


def _values(params: Any, name: str) -> list[str]:
    """A filter's values, sent as repeated keys (whop-sdk 2.6.0) or as ``key[]=`` (0.0.x)."""
    return [*params.getlist(name), *params.getlist(f"{name}[]")]


class FakeWhop:
    """The fake Whop API over a source store.

    Parameters
    ----------
    engine:
        The source store (any store URL) holding the business to serve.
    api_key:
        The bearer token every request must carry.
    webhook:
        Where :meth:`advance` delivers signed webhooks (receiver URL and ``ws_…`` secret), if anywhere.
    faults:
        Faults to inject from the start.
    seed, now:
        Seed of the time simulator and its starting instant (default: the newest timestamp in the store).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        api_key: str,
        webhook: WebhookTarget | None = None,
        faults: Iterable[Fault] = (),
        seed: int = 7,
        now: datetime | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("the fake Whop API needs an api_key (WHOP_API_KEY)")
        self.engine = engine
        prepare_source(engine)
        self._api_key = api_key
        self.faults = FaultPlan(faults)
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.simulator = Simulator(engine, seed=seed, now=now, webhook=webhook)
        self.app = Starlette(
            routes=[
                Route("/api/v1/{resource}", self._list, methods=["GET"]),
                Route("/api/v1/{resource}/{item_id}", self._retrieve, methods=["GET"]),
                Route("/_fake/faults", self._faults, methods=["GET", "POST", "DELETE"]),
                Route("/_fake/stats", self._stats, methods=["GET"]),
                Route("/_fake/advance", self._advance, methods=["POST"]),
            ]
        )

    # --- public --------------------------------------------------------------------------------------------

    def advance(self, days: float) -> AdvanceResult:
        """Move the business ``days`` forward (signups, renewals, cancellations, payments, refunds) and deliver
        the webhooks for every change to the configured receiver."""
        return self.simulator.advance(days)

    # --- plumbing ------------------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._api_key.encode())

    def _unauthorized(self) -> JSONResponse:
        return _error(
            401, "unauthorized", "Missing or invalid API key; send Authorization: Bearer <key>.", "invalid_api_key"
        )

    def _faulted(self, resource: str) -> tuple[Response | None, bool]:
        malformed = False
        for fault in self.faults.take(resource):
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "rate_limit":
                headers = _retry_after_headers(max(fault.retry_after, 0.0), fault.retry_after_format)
                return _error(429, "rate_limited", "Too many requests; retry later.", "rate_limited", headers), False
            elif fault.kind == "server_error":
                return _error(fault.status, "server_error", "The server had a problem; retry.", None), False
            elif fault.kind == "malformed":
                malformed = True
        return None, malformed

    def _count(self, key: str) -> None:
        with self._lock:
            self.requests[key] += 1
            self.requests["total"] += 1

    # --- API endpoints -------------------------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        resource = request.path_params["resource"]
        self._count(resource)
        if not self._authorized(request):
            return self._unauthorized()
        listing = LISTINGS.get(resource)
        if listing is None:
            return _error(404, "not_found", f"Unknown resource /api/v1/{resource}.", "not_found")
        failure, malformed = self._faulted(resource)
        if failure is not None:
            return failure
        try:
            body = self._page(listing, request.query_params)
        except AnalyticsError as exc:
            return _error(400, "invalid_request", str(exc), "invalid_parameter")
        if malformed and body["data"]:
            body["data"][0] = _broken(body["data"][0])
        broken = self.faults.broken_items(resource, (str(item.get("id")) for item in body["data"]))
        if broken:
            body["data"] = [_broken(item) if str(item.get("id")) in broken else item for item in body["data"]]
        return JSONResponse(body)

    def _retrieve(self, request: Request) -> Response:
        resource, item_id = request.path_params["resource"], request.path_params["item_id"]
        self._count(f"{resource}/{{id}}")
        if not self._authorized(request):
            return self._unauthorized()
        listing = LISTINGS.get(resource)
        if listing is None or not listing.paginated:
            return _error(404, "not_found", f"Unknown resource /api/v1/{resource}.", "not_found")
        failure, _ = self._faulted(resource)
        if failure is not None:
            return failure
        stmt = listing.select()
        if resource == "accounts" and item_id == "me":
            stmt = stmt.order_by(listing.table.c.id).limit(1)
        else:
            stmt = stmt.where(listing.table.c.id == item_id)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        if row is None:
            return _error(404, "not_found", f"No {resource} with id {item_id!r}.", "not_found")
        item = listing.shape.render(dict(row))
        return JSONResponse(_broken(item) if self.faults.broken_items(resource, [str(row["id"])]) else item)

    def _page(self, listing: Listing, params: Any) -> dict[str, Any]:
        for scope in listing.scope:
            if not any(_values(params, name) for name in scope.split("|")):
                raise DataValidationError(f"Missing required parameter: {scope.replace('|', ' or ')}", column=scope)
        if params.get("before") or params.get("last"):
            raise DataValidationError("backward pagination (last/before) is not served by the fake", column="before")
        table = listing.table
        stmt = listing.select()
        account = params.get("account_id") or params.get("company_id")
        if account and listing.account_param:
            stmt = stmt.where(table.c.account_id == account)
        if listing.shape.resource == "memberships":
            statuses = [*_values(params, "status"), *_values(params, "statuses")]
            if statuses:
                stmt = stmt.where(membership_status_filter(statuses))
        for name, column in listing.filters.items():
            values = _values(params, name)
            if name == "completed" and values:
                stmt = stmt.where(column.is_(values[0].lower() in ("true", "1")))
            elif values:
                stmt = stmt.where(column.in_(values))
        if listing.created is not None:
            for name, op in (("created_after", "__gt__"), ("created_before", "__lt__")):
                if params.get(name):
                    stmt = stmt.where(getattr(listing.created, op)(parse_time(params[name], name)))
        if not listing.paginated:
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).mappings().all()
            data = [listing.shape.render(dict(r)) for r in rows]
            return {
                "data": data,
                "page_info": {
                    "end_cursor": None,
                    "start_cursor": None,
                    "has_next_page": False,
                    "has_previous_page": False,
                },
            }
        order_name = params.get("order") or next(iter(listing.orders))
        if order_name not in listing.orders:
            raise DataValidationError(f"order must be one of {', '.join(listing.orders)}", column="order")
        direction = (params.get("direction") or listing.default_direction).lower()
        if direction not in ("asc", "desc"):
            raise DataValidationError("direction must be asc or desc", column="direction")
        try:
            first = int(params.get("first") or DEFAULT_PAGE_SIZE)
        except ValueError as exc:
            raise DataValidationError("first must be a whole number", column="first") from exc
        first = max(1, min(first, MAX_PAGE_SIZE))
        sort = listing.orders[order_name]
        tenant = table.c.account_id if "account_id" in table.c else table.c.id  # accounts: keyed by id alone
        keys = (sort, tenant, table.c.id)
        if params.get("after"):
            stmt = stmt.where(_after(keys, _decode_cursor(params["after"]), direction))
        ordering = [k.asc() if direction == "asc" else k.desc() for k in keys]
        stmt = stmt.add_columns(sort.label("_sort")).order_by(*ordering).limit(first + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        more = len(rows) > first
        rows = rows[:first]
        cursors = [_encode_cursor(r["_sort"], r.get("account_id", r["id"]), r["id"]) for r in rows]
        return {
            "data": [listing.shape.render(dict(r)) for r in rows],
            "page_info": {
                "end_cursor": cursors[-1] if more else None,
                "start_cursor": cursors[0] if cursors else None,
                "has_next_page": more,
                "has_previous_page": bool(params.get("after")),
            },
        }

    # --- control endpoints ---------------------------------------------------------------------------------

    async def _faults(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            payload = await request.json()
            try:
                items = payload if isinstance(payload, list) else [payload]
                self.faults.add(*(Fault.from_json(item) for item in items))
            except (ConfigError, TypeError) as exc:
                return _error(400, "invalid_request", str(exc), "invalid_fault")
        return JSONResponse({"faults": self.faults.pending()})

    def _stats(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        with self._lock:
            return JSONResponse({"requests": dict(self.requests), "now": self.simulator.now.isoformat()})

    async def _advance(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        raw = await request.body()
        try:
            days = float((json.loads(raw) if raw else {}).get("days", 1))
        except (ValueError, TypeError, AttributeError):
            return _error(400, "invalid_request", 'send {"days": <number>}', "invalid_parameter")
        result = await run_in_threadpool(self.advance, days)
        return JSONResponse(result.as_dict())


def _after(
    keys: tuple[sa.ColumnElement[Any], ...], cursor: tuple[Any, str, str], direction: str
) -> sa.ColumnElement[bool]:
    """Keyset condition "strictly after ``cursor``" on ``keys`` (row-value comparison spelled out)."""
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j] == cursor[j] for j in range(i)]
        beyond = key > cursor[i] if direction == "asc" else key < cursor[i]
        clauses.append(sa.and_(*equal, beyond))
    return sa.or_(*clauses)
