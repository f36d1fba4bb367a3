"""Metric statements built once per distinct set of arguments and then reused.

A metric call builds its SQLAlchemy statement afresh (dozens of CTEs; a CASE per UTC-offset piece of the
period), SQLAlchemy then derives the statement's cache key by walking it, and only then finds the compiled SQL
in the engine's cache. On a medium store that Python work costs 1–10 ms per call, as much as the query itself
on DuckDB. SQLAlchemy memoizes the cache key on the statement object, so handing back the object built earlier
for the same arguments skips the building and the walk, and the compiled SQL is found at once. Bound values
(account, instants) are part of the statement, so each distinct set of arguments is its own entry.

A builder marked :func:`reused_statement` must be a pure function of hashable arguments: the dialect name, ids,
instants, policies; no engine, connection, clock or mutable container (pass tuples, not lists). What it returns
is shared by every caller with those arguments and must not be changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

__all__ = ["STATEMENT_CACHE_SIZE", "reused_statement"]

P = ParamSpec("P")
T = TypeVar("T")

STATEMENT_CACHE_SIZE = 128
"""Statements kept per builder (least recently used dropped first): a dashboard asks for a few dozen."""


def reused_statement(builder: Callable[P, T]) -> Callable[P, T]:
    """Mark a pure statement builder: the same arguments return the same statement object (see the module)."""
    return cast("Callable[P, T]", functools.lru_cache(maxsize=STATEMENT_CACHE_SIZE)(builder))
