"""Register an analyst-friendly keyword metric function under the catalog's uniform contract.

Engagement, funnel, content and messaging metrics are plain functions with keyword arguments
(``engagement_scores(engine, account_id, as_of=…, weights=…)``) because that is how analysts call them. The
:func:`keyword_metric` decorator leaves such a function unchanged and registers, under the metric's name, a
``from_request(engine, request)`` adapter that maps a :class:`~analytics.metrics.request.MetricRequest` onto the
keyword arguments:

* ``period="range"``: ``start=request.start, end=request.end`` (inclusive local dates) and, when the function has
  a ``grain`` argument, ``grain=request.grain``;
* ``period="as_of"``: ``as_of`` = local midnight after ``request.end`` (the state at the end of the period);
* ``request.breakdowns`` (at most one) are translated by ``breakdowns`` into a keyword argument;
* ``request.policies`` goes to a ``policies`` argument if the function has one;
* ``request.params`` are passed as further keyword arguments: the metric's params are the function's other
  keyword arguments (:func:`keyword_params`), and the catalog refuses any other name, listing them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Literal, TypeVar

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.catalog import metric
from analytics.metrics.request import MetricRequest

__all__ = ["keyword_metric", "keyword_params", "request_arguments"]

F = TypeVar("F", bound=Callable[..., pd.DataFrame])
_FIXED = {"engine", "account_id"}


def keyword_params(func: Callable[..., Any], period: Literal["range", "as_of", "none"] = "range") -> tuple[str, ...]:
    """The keyword arguments of ``func`` a request passes as ``params``: all but those the request itself fills
    (``start``/``end``/``grain`` or ``as_of`` by ``period``, and ``policies``)."""
    accepted = set(inspect.signature(func).parameters) - _FIXED
    filled = {"policies"}
    if period == "range":
        filled |= {"start", "end", "grain"}
    elif period == "as_of":
        filled.add("as_of")
    return tuple(sorted(accepted - filled))


def request_arguments(
    name: str,
    func: Callable[..., Any],
    request: MetricRequest,
    *,
    period: Literal["range", "as_of", "none"] = "range",
    breakdowns: Mapping[str, tuple[str, object]] | None = None,
) -> dict[str, Any]:
    """The keyword arguments of ``func`` that answer ``request`` (see the module docstring); the parameter names
    in ``request.params`` are the caller's to check (the registered adapter's catalog wrapper does)."""
    accepted = set(inspect.signature(func).parameters) - _FIXED
    kwargs: dict[str, Any] = {}
    if period == "range":
        kwargs.update(start=request.start, end=request.end)
        if "grain" in accepted:
            kwargs["grain"] = request.grain
    elif period == "as_of":
        kwargs["as_of"] = request.end + timedelta(days=1)
    if "policies" in accepted:
        kwargs["policies"] = request.policies
    table = dict(breakdowns or {})
    request.only_breakdowns(name, tuple(table))
    if len(request.breakdowns) > 1:
        raise MetricError(f"metric {name!r} takes one breakdown at a time, not {', '.join(request.breakdowns)}")
    for breakdown in request.breakdowns:
        argument, value = table[breakdown]
        kwargs[argument] = value
    kwargs.update(request.params)  # names already checked against keyword_params(func) by the catalog
    return kwargs


def keyword_metric(
    name: str,
    *,
    unit: str,
    formula: str,
    domain: str,
    policies: tuple[str, ...] = (),
    period: Literal["range", "as_of", "none"] = "range",
    breakdowns: Mapping[str, tuple[str, object]] | None = None,
) -> Callable[[F], F]:
    """Register ``func`` (keyword API) as metric ``name`` through a ``from_request(engine, request)`` adapter."""

    def register(func: F) -> F:
        def from_request(engine: Engine, request: MetricRequest) -> pd.DataFrame:
            kwargs = request_arguments(name, func, request, period=period, breakdowns=breakdowns)
            return func(engine, request.account_id, **kwargs)

        # not functools.wraps: its __wrapped__ would make inspect.signature report func's own parameters
        from_request.__doc__ = func.__doc__
        from_request.__module__ = func.__module__
        from_request.__qualname__ = f"{func.__qualname__}.from_request"
        from_request.__name__ = "from_request"
        checked = metric(
            name, unit=unit, formula=formula, domain=domain, policies=policies, params=keyword_params(func, period)
        )(from_request)
        func.__dict__["from_request"] = checked
        return func

    return register
