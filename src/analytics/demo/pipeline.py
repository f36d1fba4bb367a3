"""The demo pipeline: build a demo workspace end to end, step by step (``analytics demo`` runs it).

Steps are named functions run in order on a shared :class:`DemoContext`. The foundation provides ``init`` (create or
upgrade the store) and ``load`` (generate the business and import it). A later stage plugs in its own step (e.g.
``sync`` from the fake Whop server, ``snapshots``, ``reports``, ``dashboards``) by calling :func:`register_step`
at import time of its module and adding that module's name to :data:`STEP_MODULES` (one line); registered steps
run by default. Each step returns a small JSON-able summary that ends up in :class:`DemoSummary`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.clock import Clock, utcnow
from analytics.demo.generator import TABLE_ORDER, DemoBusiness
from analytics.demo.load import load_demo
from analytics.errors import ConfigError
from analytics.settings import Settings
from analytics.store import create_store_engine, init_store
from analytics.store.schema import metadata

__all__ = ["DemoContext", "DemoStep", "DemoSummary", "register_step", "registered_steps", "row_counts", "run_demo"]


@dataclass
class DemoContext:
    """What every step gets: settings, the store engine, the demo parameters and earlier steps' results."""

    settings: Settings
    engine: Engine
    size: str
    seed: int
    end: date
    accounts: int
    account_ids: list[str]
    progress: bool
    clock: Clock
    results: dict[str, Mapping[str, Any]] = field(default_factory=dict)


DemoStep = Callable[[DemoContext], Mapping[str, Any]]
_STEPS: dict[str, DemoStep] = {}
STEP_MODULES: tuple[str, ...] = ("analytics.demo.steps",)
"""Modules that register demo steps when imported (imported by :func:`run_demo` and :func:`registered_steps`)."""


def register_step(name: str, step: DemoStep, *, after: str | None = None) -> None:
    """Add (or replace) a pipeline step; it runs after ``after`` (default: last)."""
    global _STEPS
    items = [(k, v) for k, v in _STEPS.items() if k != name]
    position = len(items) if after is None else next(i + 1 for i, (k, _v) in enumerate(items) if k == after)
    items.insert(position, (name, step))
    _STEPS = dict(items)


def registered_steps() -> tuple[str, ...]:
    """The names of the registered steps, in the order they run."""
    for module in STEP_MODULES:
        importlib.import_module(module)
    return tuple(_STEPS)


def _init_step(ctx: DemoContext) -> Mapping[str, Any]:
    return {"revision": init_store(ctx.engine)}


def _load_step(ctx: DemoContext) -> Mapping[str, Any]:
    reports = load_demo(
        ctx.engine,
        seed=ctx.seed,
        size=ctx.size,
        end=ctx.end,
        accounts=ctx.accounts,
        progress=ctx.progress,
        clock=ctx.clock,
    )
    return {
        "loaded": {t: r.loaded for t, r in reports.items()},
        "quarantined": sum(r.quarantined for r in reports.values()),
        "seconds": round(sum(r.duration_seconds for r in reports.values()), 2),
    }


register_step("init", _init_step)
register_step("load", _load_step)


@dataclass
class DemoSummary:
    """The outcome of a demo run: where it is, which accounts, the rows per table and each step's summary."""

    workspace: str
    database_url: str
    account_ids: list[str]
    size: str
    seed: int
    end: date
    row_counts: dict[str, int]
    steps: dict[str, Mapping[str, Any]]
    seconds: float


def row_counts(engine: Engine, account_ids: Sequence[str]) -> dict[str, int]:
    """Rows per demo table for these accounts (``fx_rates``, shared market data, counted whole)."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name in TABLE_ORDER:
            table = metadata.tables[name]
            key = table.c.id if name == "accounts" else table.c.account_id if "account_id" in table.c else None
            stmt = sa.select(sa.func.count()).select_from(table)
            if key is not None:
                stmt = stmt.where(key.in_(list(account_ids)))
            counts[name] = int(conn.execute(stmt).scalar_one())
    return counts


def run_demo(
    settings: Settings,
    *,
    size: str = "small",
    seed: int = 7,
    end: date | None = None,
    accounts: int = 1,
    steps: Sequence[str] | None = None,
    progress: bool = True,
    clock: Clock = utcnow,
) -> DemoSummary:
    """Build the demo workspace in ``settings.workspace`` (store at ``settings.database_url``).

    ``end`` defaults to today (UTC, from ``clock``); ``steps`` to every registered step.

    Raises
    ------
    ConfigError
        An unknown step name, size, seed or account count.
    """
    known = registered_steps()
    chosen = tuple(steps) if steps is not None else known
    unknown = [s for s in chosen if s not in _STEPS]
    if unknown:
        raise ConfigError(f"unknown demo step(s) {', '.join(unknown)}; known: {', '.join(registered_steps())}")
    end = end or clock().date()
    business = DemoBusiness(seed, size, end=end, accounts=accounts)  # validates the parameters
    started = time.perf_counter()
    settings.workspace.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(settings.database_url)
    try:
        ctx = DemoContext(settings, engine, size, seed, end, accounts, business.account_ids, progress, clock)
        for name in chosen:
            ctx.results[name] = _STEPS[name](ctx)
        counts = row_counts(engine, business.account_ids)
        url = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    return DemoSummary(
        workspace=str(settings.workspace.resolve()),
        database_url=url,
        account_ids=business.account_ids,
        size=size,
        seed=seed,
        end=end,
        row_counts=counts,
        steps=ctx.results,
        seconds=round(time.perf_counter() - started, 2),
    )
