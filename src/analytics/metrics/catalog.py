"""The metric catalog: every metric registered once with its name, unit, formula and the policies it reads.

A metric function is registered with :func:`metric`; its docstring must contain its formula (a test checks it).
``catalog()`` lists them as a DataFrame; ``get(name)`` finds one for the CLI and the snapshot builder.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from analytics.errors import MetricError

__all__ = ["MetricSpec", "catalog", "get", "metric", "registered"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class MetricSpec:
    """What the catalog knows about one metric."""

    name: str
    description: str
    formula: str
    unit: str
    policies: tuple[str, ...]
    domain: str
    function: Callable[..., Any]

    @property
    def qualified_name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


_REGISTRY: dict[str, MetricSpec] = {}


def metric(name: str, *, unit: str, formula: str, domain: str, policies: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Register a metric function under ``name`` (unique). The formula must also appear in its docstring."""

    def register(func: F) -> F:
        if name in _REGISTRY and _REGISTRY[name].function is not func:
            raise MetricError(f"metric {name!r} is defined twice ({_REGISTRY[name].qualified_name})")
        doc = inspect.getdoc(func) or ""
        _REGISTRY[name] = MetricSpec(
            name=name,
            description=doc.splitlines()[0] if doc else "",
            formula=formula,
            unit=unit,
            policies=tuple(policies),
            domain=domain,
            function=func,
        )
        return func

    return register


def registered() -> dict[str, MetricSpec]:
    """All registered metrics by name (importing ``analytics.metrics`` registers them)."""
    return dict(_REGISTRY)


def get(name: str) -> MetricSpec:
    """The metric called ``name``; the error lists the known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise MetricError(
            f"unknown metric {name!r}; known metrics: {', '.join(sorted(_REGISTRY))} (see analytics.metrics.catalog())"
        ) from None


def catalog() -> pd.DataFrame:
    """Every metric with name, domain, description, formula, unit and the policies it reads."""
    rows = [
        {
            "name": s.name,
            "domain": s.domain,
            "description": s.description,
            "formula": s.formula,
            "unit": s.unit,
            "policies": ", ".join(s.policies),
            "function": s.qualified_name,
        }
        for s in sorted(_REGISTRY.values(), key=lambda s: (s.domain, s.name))
    ]
    return pd.DataFrame(rows, columns=["name", "domain", "description", "formula", "unit", "policies", "function"])
