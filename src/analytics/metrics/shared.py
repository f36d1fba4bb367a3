"""Intermediate tables shared by the metric calls of one refresh (a dashboard page, a report).

Several metrics are built on the same intermediate table: ``mrr_movements``, ``arpa``, ``ltv`` and the gross and
net MRR churn rates all start from the MRR roll-forward of the same request, ``mrr`` and ``arr`` from the same MRR
table, ``engagement_segments`` from the engagement scores. Called one after the other, each would run the same
query again. Inside :meth:`SharedTables.active`, a function marked :func:`shared_table` computes its table once
per distinct set of arguments and hands every later caller a copy, so the numbers are exactly the metric's own.

Nothing is shared outside an active :class:`SharedTables` (calling a metric in a notebook, a test or the CLI
computes everything afresh), and its owner drops the tables with :meth:`SharedTables.clear` when the data or the
selection changes. A :class:`SharedTables` must only be used with one store (the bind is not part of the key).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec

import pandas as pd

__all__ = ["SharedTables", "shared_table"]

P = ParamSpec("P")

_active: ContextVar[SharedTables | None] = ContextVar("analytics_shared_tables", default=None)


class SharedTables:
    """Tables computed once while active (thread-safe: concurrent askers of one table wait for the first)."""

    def __init__(self) -> None:
        self._tables: dict[Hashable, pd.DataFrame] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.computed = 0
        self.reused = 0

    @contextmanager
    def active(self) -> Iterator[SharedTables]:
        """Share tables within this block (of this thread or task; each worker thread enters it itself)."""
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)

    def get(self, key: Hashable, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A copy of the table under ``key``, computing it first if nobody has."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            table = self._tables.get(key)
            if table is None:
                table = compute()
                self._tables[key] = table
                self.computed += 1
            else:
                self.reused += 1
        return table.copy()

    def clear(self) -> None:
        """Forget every table (before the next selection or after the data changed)."""
        with self._lock:
            self._tables.clear()
            self._key_locks.clear()


def shared_table(func: Callable[P, pd.DataFrame]) -> Callable[P, pd.DataFrame]:
    """Mark ``func(bind, *args, **kwargs) -> DataFrame`` as shareable within an active :class:`SharedTables`.

    The key is the function and every argument but the first (the engine or connection), defaults filled in (so
    ``f(e, a)`` and ``f(e, a, kinds=DEFAULT)`` share); arguments that cannot be hashed disable sharing for that call.
    """
    signature = inspect.signature(func)
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> pd.DataFrame:
        tables = _active.get()
        if tables is None:
            return func(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = (name, *list(bound.arguments.items())[1:])
        try:
            hash(key)
        except TypeError:
            return func(*args, **kwargs)
        return tables.get(key, lambda: func(*args, **kwargs))

    return wrapper
