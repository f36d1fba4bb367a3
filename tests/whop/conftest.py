"""Fixtures for the Whop tests: a source store holding the tiny business, the fake API served over real HTTP
(uvicorn in a thread on a free loopback port), a client for it, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import whop_business
from sqlalchemy.engine import Engine

from analytics.sources.whop.client import WhopClient
from analytics.sources.whop.fake_server import FakeWhop
from analytics.sources.whop.serving import RunningServer, serve_in_thread
from analytics.store import create_store_engine, init_store

API_KEY = "test-key-123"
WEBHOOK_SECRET = "ws_test_secret_0123456789"


@pytest.fixture
def source_engine(tmp_path: Any) -> Iterator[Engine]:
    """A SQLite source store holding the tiny business (the fake API's data)."""
    eng = create_store_engine(f"sqlite:///{tmp_path}/source.db")
    init_store(eng)
    whop_business.build(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def fake(source_engine: Engine) -> FakeWhop:
    return FakeWhop(source_engine, api_key=API_KEY, now=whop_business.NOW)


@pytest.fixture
def fake_server(fake: FakeWhop) -> Iterator[RunningServer]:
    with serve_in_thread(fake.app) as server:
        yield server


@pytest.fixture
def make_client(fake_server: RunningServer) -> Iterator[Callable[..., WhopClient]]:
    """Clients for the fake API (fast retries, no rate limit to speak of); closed afterwards."""
    made: list[httpx.Client] = []

    def make(**kw: Any) -> WhopClient:
        http = httpx.Client(timeout=kw.pop("timeout", 10.0))
        made.append(http)
        options = {"backoff": 0.01, "requests_per_second": 1000.0, "max_concurrency": 4, **kw}
        return WhopClient(f"{fake_server.url}/api/v1", kw.pop("api_key", API_KEY), http=http, **options)

    yield make
    for http in made:
        http.close()
