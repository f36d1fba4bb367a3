"""The metric catalog: every metric registered once with its name, unit, formula and the policies it reads.

The uniform metric contract
---------------------------
Every registered metric is a function with exactly this signature::

    @metric("mrr", unit="minor units of the reporting currency", formula="MRR = Σ …", domain="revenue",
            policies=("past_due_in_mrr", …))
    def mrr_series(engine: sqlalchemy.Engine, request: MetricRequest) -> pandas.DataFrame:
        \"\"\"Monthly recurring revenue at the end of each bucket.

        Formula: MRR = Σ …   (the formula must also appear in the docstring, numpy style)
        \"\"\"

* ``request`` is an :class:`analytics.metrics.request.MetricRequest` (account, period start/end as calendar dates
  in the account's time zone, both inclusive, grain, breakdowns, policies, reporting currency, params). Read the
  account's time zone with :func:`analytics.metrics.request.account_settings` and bucket with
  :func:`analytics.metrics.dialect.bucket_start`; refuse unsupported breakdowns with
  ``request.only_breakdowns(name, supported)``.
* The result is a DataFrame with one row per bucket (column ``period_start``, ``datetime64[ns]``, the bucket's
  first day; every bucket of the period is present, zero-filled) and per breakdown value (columns named like the
  breakdown: ``product``, ``plan``, ``currency``, ``channel``), followed by the value columns. Per-entity metrics
  (per member, per lesson, …) may instead return one row per entity; say so in the docstring.
* Conventions for value columns: money in integer minor units named ``*_minor`` next to a ``currency`` column;
  rates in percent named ``*_pct`` (0–100); an undefined value (a zero denominator) is NaN with a ``flag`` column
  saying why — never an exception, never infinity.
* The function runs SQL through SQLAlchemy Core with bound parameters, pushed down to the store.
* Metric-specific parameters (``request.params``) are declared with ``params=(…)``; a request naming any other
  parameter is refused before the metric runs, naming the metric's parameters (and the closest one).

``catalog()`` lists every metric as a DataFrame; ``get(name).function(engine, request)`` runs one (the CLI
``analytics metric NAME`` and the snapshot builder do exactly that); ``catalog_markdown()`` renders the docs page
``docs/metrics-catalog.md``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from analytics.errors import MetricError
from analytics.suggestions import did_you_mean

__all__ = ["UNIFORM_PARAMETERS", "MetricSpec", "catalog", "catalog_markdown", "get", "metric", "registered"]

F = TypeVar("F", bound=Callable[..., Any])

UNIFORM_PARAMETERS: tuple[str, ...] = ("engine", "request")
"""The parameter names every registered metric function takes, in order."""


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
    params: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def check_params(self, given: Iterable[str]) -> None:
        """Refuse parameter names the metric does not take, listing the ones it does (and the closest one)."""
        unknown = [p for p in given if p not in self.params]
        if not unknown:
            return
        first = unknown[0]
        names = ", ".join(repr(p) for p in unknown)
        if not self.params:
            raise MetricError(f"metric {self.name!r} takes no parameters; remove {names}")
        raise MetricError(
            f"metric {self.name!r} has no parameter {names}{did_you_mean(first, self.params)}; "
            f"its parameters: {', '.join(self.params)}"
        )


_REGISTRY: dict[str, MetricSpec] = {}


def metric(
    name: str,
    *,
    unit: str,
    formula: str,
    domain: str,
    policies: tuple[str, ...] = (),
    params: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Register a metric function under ``name`` (unique).

    The function must have the uniform signature ``fn(engine, request) -> DataFrame``; its docstring's first
    line is the description and the docstring must contain ``formula`` (line breaks may differ); every name in
    ``policies`` must be a field of :class:`~analytics.metrics.policies.Policies`. ``params`` names the
    metric-specific parameters it reads from ``request.params``: the decorator returns the function wrapped so that
    a request with any other parameter is refused (:meth:`MetricSpec.check_params`), however it is called.
    """
    from analytics.metrics.policies import Policies

    known = set(Policies.__dataclass_fields__)

    def register(func: F) -> F:
        if name in _REGISTRY and _REGISTRY[name].qualified_name != f"{func.__module__}.{func.__qualname__}":
            raise MetricError(f"metric {name!r} is defined twice ({_REGISTRY[name].qualified_name})")
        arguments = tuple(inspect.signature(func).parameters)
        if arguments != UNIFORM_PARAMETERS:
            raise MetricError(f"metric {name!r}: the function must take (engine, request), not {arguments}")
        doc = inspect.getdoc(func) or ""
        if " ".join(formula.split()) not in " ".join(doc.split()):
            raise MetricError(f"metric {name!r}: put its formula in the docstring ({formula!r})")
        unknown = [p for p in policies if p not in known]
        if unknown:
            raise MetricError(f"metric {name!r} reads unknown policies {unknown}; add them to Policies first")

        @functools.wraps(func)
        def checked(engine: Any, request: Any) -> Any:
            if request.params:
                spec.check_params(key for key, _ in request.params)
            return func(engine, request)

        spec = MetricSpec(
            name=name,
            description=doc.splitlines()[0] if doc else "",
            formula=formula,
            unit=unit,
            policies=tuple(policies),
            domain=domain,
            function=checked,
            params=tuple(sorted(params)),
        )
        _REGISTRY[name] = spec
        return checked  # type: ignore[return-value]

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
            f"unknown metric {name!r}{did_you_mean(name, _REGISTRY)}; known metrics: {', '.join(sorted(_REGISTRY))} "
            "(see analytics.metrics.catalog())"
        ) from None


def catalog() -> pd.DataFrame:
    """Every metric with name, domain, description, formula, unit, the policies it reads and its parameters."""
    columns = ["name", "domain", "description", "formula", "unit", "policies", "params", "function"]
    rows = [
        {
            "name": s.name,
            "domain": s.domain,
            "description": s.description,
            "formula": s.formula,
            "unit": s.unit,
            "policies": ", ".join(s.policies),
            "params": ", ".join(s.params),
            "function": s.qualified_name,
        }
        for s in sorted(_REGISTRY.values(), key=lambda s: (s.domain, s.name))
    ]
    return pd.DataFrame(rows, columns=columns)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def catalog_markdown() -> str:
    """The docs page ``docs/metrics-catalog.md``: every metric by domain, the drill-downs (rows behind a number),
    then every policy with its default."""
    from analytics.metrics.drilldown import drilldown_markdown
    from analytics.metrics.policies import DEFINITIONS_VERSION, policy_table
    from analytics.metrics.request import EARLIEST_DAY, LATEST_DAY

    lines = [
        "# Metrics catalog",
        "",
        "<!-- Generated by analytics.metrics.catalog_markdown(); regenerate with "
        "`analytics metric --list --format markdown > docs/metrics-catalog.md`. Do not edit by hand. -->",
        "",
        f"Definitions version `{DEFINITIONS_VERSION}`. Every metric is a function `fn(engine, request)` returning a",
        "DataFrame; run any of them with `analytics metric NAME --account ID --from D --to D --grain month` or",
        "`analytics.metrics.get(NAME).function(engine, MetricRequest.build(...))`. Definitions and their sources",
        "are in the design notes (metrics.md); money is in integer minor units, rates in percent. A metric's params",
        "are passed with `--param name=value` (CLI) or `MetricRequest.build(..., params={...})`; any other is refused.",
        f"Periods are calendar days from {EARLIEST_DAY} to {LATEST_DAY}.",
        "",
    ]
    table = catalog()
    for domain, part in table.groupby("domain", sort=True):
        lines += [f"## {str(domain).capitalize()}", "", "| metric | description | formula | unit | policies | params |"]
        lines.append("|---|---|---|---|---|---|")
        for row in part.itertuples():
            lines.append(
                f"| `{row.name}` | {_cell(row.description)} | {_cell(row.formula)} | {_cell(row.unit)} | "
                f"{_cell(row.policies) or '—'} | {_cell(row.params) or '—'} |"
            )
        lines.append("")
    lines += drilldown_markdown()
    lines += ["## Policies", "", "Pass with `--policy name=value` (CLI) or `Policies(name=value)` (Python).", ""]
    lines += ["| policy | default | choices | meaning |", "|---|---|---|---|"]
    for row in policy_table().itertuples():
        lines.append(f"| `{row.policy}` | `{row.default}` | {_cell(row.choices)} | {_cell(row.description)} |")
    return "\n".join(lines) + "\n"
