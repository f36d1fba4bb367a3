"""Rows behind a number: the subscriptions, movements, members and payments a metric's number is made of.

Every registered drill-down is ``fn(engine, request, *, <selection>) -> DataFrame``: the
:class:`~analytics.metrics.request.MetricRequest` the metric was asked with, plus the clicked selection as keyword
arguments (a bucket's ``period_start``, a ``movement``, a ``status``, a cohort cell, a ``member_id`` …). The rows
reproduce the metric's number for the same request and selection exactly — their count (or their distinct
customers) is the metric's count and their reporting-currency amounts add up to the metric's amount — because they
are read from the same SQL building blocks the metric aggregates (:mod:`~analytics.metrics.membership_state`,
:func:`~analytics.metrics.movements.customer_groups`, the payment and event filters), never re-derived.

Conventions of the frames:

* ``member`` (display name, else username, else the id) next to ``member_id``; ``product_title`` and
  ``plan_title`` next to ``product_id`` and ``plan_id``;
* money in integer minor units: ``*_minor`` in the row's own ``currency``, and ``*_reporting_minor`` in
  ``reporting_currency`` (the request's, else the account's; the own currency when the request breaks down by
  currency, as the metrics then do);
* instants are timezone-aware, in the account's time zone; ``period_start`` is a bucket's local first day;
* selection keys ``product`` and ``plan`` narrow the rows the way dashboards narrow a metric
  (:meth:`analytics.kpis.AccountMetrics.metric`): the metric is asked with that breakdown and the rows of the
  chosen value are kept — so within a plan a customer moving from plan A to plan B churns from A and is new in
  B. A drill-down whose metric has no such breakdown refuses the key with the metric's own "cannot be broken down"
  error.

Reporting-currency amounts: the metrics convert sums (per bucket or day, currency and breakdown key) and round
each sum. A row's reporting amount is its share of its group's converted sum, by the largest-remainder method
(:func:`reporting_shares`): rows add up to the metric exactly, and each is within one minor unit of its own
conversion. In a single-currency account they are the amounts themselves.

``drilldowns()`` lists the registered drill-downs, ``get_drilldown(name)`` returns one and
:func:`rows_behind` runs one by name after checking the selection; :data:`KPI_DRILLDOWNS` says which drill-down
(and fixed selection) opens behind each KPI card of :data:`analytics.kpis.KPI_METRICS`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.errors import MetricError
from analytics.metrics.fx import RateTable, convert_amounts
from analytics.metrics.request import MetricRequest, bucket_frame
from analytics.store.schema import members, plans, products

__all__ = [
    "KPI_DRILLDOWNS",
    "DrilldownSpec",
    "bucket_days",
    "drilldown",
    "drilldown_markdown",
    "drilldowns",
    "get_drilldown",
    "local_times",
    "narrowed",
    "reporting_shares",
    "rows_behind",
    "titles",
    "within_bucket",
]

F = TypeVar("F", bound=Callable[..., pd.DataFrame])

_FIXED = ("engine", "request")


@dataclass(frozen=True)
class DrilldownSpec:
    """What the registry knows about one drill-down.

    Attributes
    ----------
    name, title, description:
        The registry name, a heading for the table, and the first line of the function's docstring.
    formula:
        How the rows reproduce the metric's number (the docstring's ``Formula:`` paragraph).
    metrics:
        The registered metrics whose numbers the rows reproduce (``analytics.metrics.get(name)``).
    required, optional:
        The selection keys (keyword-only parameters of the function) without and with a default.
    function:
        ``fn(engine, request, **selection) -> DataFrame``.
    """

    name: str
    title: str
    description: str
    formula: str
    metrics: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    function: Callable[..., pd.DataFrame]

    def __call__(self, engine: sa.Engine, request: MetricRequest, **selection: Any) -> pd.DataFrame:
        """Run the drill-down after checking the selection keys (see :func:`rows_behind`)."""
        unknown = sorted(set(selection) - set(self.required) - set(self.optional))
        if unknown:
            keys = ", ".join([*self.required, *self.optional]) or "none"
            raise MetricError(f"drill-down {self.name!r} has no selection key {', '.join(unknown)}; its keys: {keys}")
        missing = [key for key in self.required if selection.get(key) is None]
        if missing:
            raise MetricError(f"drill-down {self.name!r} needs the selection {', '.join(missing)} (the clicked cell)")
        return self.function(engine, request, **selection)


_REGISTRY: dict[str, DrilldownSpec] = {}


def drilldown(name: str, *, title: str, metrics: tuple[str, ...]) -> Callable[[F], F]:
    """Register ``fn(engine, request, *, <selection keys>)`` as the drill-down ``name`` (unique).

    The selection keys are the function's keyword-only parameters: required without a default, optional with one.
    The docstring's ``Formula:`` paragraph states how the rows reproduce the numbers of ``metrics`` (required).
    """

    def register(func: F) -> F:
        params = inspect.signature(func).parameters
        positional = tuple(p for p in params if params[p].kind is not inspect.Parameter.KEYWORD_ONLY)
        if positional != _FIXED:
            raise MetricError(f"drill-down {name!r}: take (engine, request, *, selection…), not {positional}")
        if name in _REGISTRY and _REGISTRY[name].function.__qualname__ != func.__qualname__:
            raise MetricError(f"drill-down {name!r} is defined twice")
        keyword = [p for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        doc = inspect.getdoc(func) or ""
        formula = next((" ".join(part.split()) for part in doc.split("\n\n") if part.startswith("Formula:")), "")
        if not formula:
            raise MetricError(f"drill-down {name!r}: say how its rows give the number in a 'Formula:' paragraph")
        _REGISTRY[name] = DrilldownSpec(
            name=name,
            title=title,
            description=doc.splitlines()[0],
            formula=formula.removeprefix("Formula:").strip(),
            metrics=metrics,
            required=tuple(p.name for p in keyword if p.default is inspect.Parameter.empty),
            optional=tuple(p.name for p in keyword if p.default is not inspect.Parameter.empty),
            function=func,
        )
        return func

    return register


def get_drilldown(name: str) -> DrilldownSpec:
    """The drill-down called ``name``; the error lists the known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise MetricError(f"unknown drill-down {name!r}; known drill-downs: {', '.join(sorted(_REGISTRY))}") from None


def rows_behind(name: str, engine: sa.Engine, request: MetricRequest, **selection: Any) -> pd.DataFrame:
    """The rows behind a number: run drill-down ``name`` for ``request`` and the clicked ``selection``.

    Raises
    ------
    MetricError
        Unknown drill-down, a selection key it does not take or a required one missing, or a selection the
        request cannot answer (a bucket outside the period, a breakdown the metric does not have).
    """
    return get_drilldown(name)(engine, request, **selection)


def drilldowns() -> pd.DataFrame:
    """Every drill-down with its title, description, formula, the metrics it explains and its selection keys."""
    rows = [
        {
            "name": s.name,
            "title": s.title,
            "description": s.description,
            "formula": s.formula,
            "metrics": ", ".join(s.metrics),
            "required": ", ".join(s.required),
            "optional": ", ".join(s.optional),
            "function": f"{s.function.__module__}.{s.function.__qualname__}",
        }
        for s in sorted(_REGISTRY.values(), key=lambda s: s.name)
    ]
    columns = ["name", "title", "description", "formula", "metrics", "required", "optional", "function"]
    return pd.DataFrame(rows, columns=columns)


KPI_DRILLDOWNS: dict[str, tuple[str, Mapping[str, Any]]] = {
    "mrr": ("paying_subscriptions", {}),
    "arr": ("paying_subscriptions", {}),
    "arpa": ("paying_subscriptions", {}),
    "paying_customers": ("paying_subscriptions", {}),
    "new_customers": ("mrr_movement_rows", {"movement": "new"}),
    "churned_customers": ("mrr_movement_rows", {"movement": "churn"}),
    "customer_churn_rate": ("customer_churn_rows", {}),
    "failed_payments": ("failed_payment_rows", {}),
    "active_members": ("active_member_rows", {}),
}
"""KPI card name (:data:`analytics.kpis.KPI_METRICS`) → the drill-down behind it and its fixed selection; the
card's bucket goes in ``period_start``."""


def drilldown_markdown() -> list[str]:
    """The "Rows behind a number" section of ``docs/metrics-catalog.md`` (lines)."""
    lines = [
        "## Rows behind a number",
        "",
        "Drill-downs return the rows a number is made of, for the same `MetricRequest` and the clicked selection:",
        "`analytics.metrics.rows_behind(NAME, engine, request, **selection)`. Their counts and reporting-currency",
        "sums equal the metric's number exactly (tests/metrics/test_drilldown.py); the selection keys `product` and",
        "`plan` narrow them as the dashboards' filters narrow the metric. Columns: `member` and `member_id`,",
        "`product_title`/`plan_title`, amounts in minor units with `currency` (and `*_reporting_minor` in",
        "`reporting_currency`: each row's largest-remainder share of its group's converted sum), instants in the",
        "account's time zone. See `analytics.metrics.drilldown`.",
        "",
        "| drill-down | rows | reproduces | selection (required) | selection (optional) |",
        "|---|---|---|---|---|",
    ]

    def cell(text: object) -> str:
        return str(text).replace("``", "`").replace("|", "\\|")

    def names(listed: object) -> str:
        return ", ".join(f"`{item}`" for item in str(listed).split(", ") if item) or "—"

    for row in drilldowns().itertuples():
        lines.append(
            f"| `{row.name}` | {cell(row.description)} | {cell(row.formula)} | {names(row.required)} | "
            f"{names(row.optional)} |"
        )
    lines += ["", "| KPI card | drill-down | fixed selection |", "|---|---|---|"]
    for kpi, (name, fixed) in KPI_DRILLDOWNS.items():
        chosen = ", ".join(f"`{k}={v}`" for k, v in fixed.items()) or "—"
        lines.append(f"| `{kpi}` | `{name}` | {chosen} |")
    return [*lines, ""]


# ---- shared steps of the drill-downs ---------------------------------------------------------------------------


def narrowed(
    request: MetricRequest, metric: str, supported: Sequence[str], **chosen: str | None
) -> tuple[MetricRequest, dict[str, str]]:
    """The request with the chosen ``product``/``plan`` (…) added as breakdowns, and the chosen values.

    Raises
    ------
    MetricError
        ``metric`` cannot be broken down by a chosen key (the same message as the metric's own refusal).
    """
    picked = {key: str(value) for key, value in chosen.items() if value is not None}
    added = tuple(key for key in picked if key not in request.breakdowns)
    out = request.replace(breakdowns=(*request.breakdowns, *added)) if added else request
    out.only_breakdowns(metric, supported)
    return out, picked


def _as_day(value: date | datetime | str | pd.Timestamp) -> date:
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise MetricError(f"period_start {value!r} is not a date; write it as YYYY-MM-DD") from None


def bucket_days(
    request: MetricRequest, period_start: date | datetime | str | None, *, default: str = "last"
) -> tuple[date, date]:
    """First and last local day of the request's bucket labelled ``period_start`` (clipped to the period).

    ``period_start=None`` picks the last bucket (``default="last"``: a state at the period's end) or, with
    ``default="only"``, the period's only bucket.

    Raises
    ------
    MetricError
        ``period_start`` is not one of the period's buckets, or it is needed and missing.
    """
    buckets = bucket_frame(request)
    labels = [ts.date() for ts in buckets["period_start"]]
    firsts = [ts.date() for ts in buckets["first_day"]]
    lasts = [ts.date() for ts in buckets["last_day"]]
    if period_start is None:
        if default == "only" and len(labels) > 1:
            raise MetricError(
                f"the period {request.start} – {request.end} has {len(labels)} {request.grain} buckets; choose one "
                f"with period_start (e.g. {labels[-1]})"
            )
        return firsts[-1], lasts[-1]
    day = _as_day(period_start)
    for label, first, last in zip(labels, firsts, lasts, strict=True):
        if day in (label, first):
            return first, last
    shown = ", ".join(str(label) for label in labels[:6]) + (" …" if len(labels) > 6 else "")
    raise MetricError(
        f"period_start {day} is not a {request.grain} bucket of {request.start} – {request.end}; its buckets: {shown}"
    )


def within_bucket(request: MetricRequest, period_start: date | datetime | str | None) -> MetricRequest:
    """The request narrowed to one bucket (unchanged when ``period_start`` is None).

    A metric's numbers for a bucket are the same whether the bucket is asked alone or within a longer period:
    movement groups never span two buckets, and everything before the period only builds the opening state.
    """
    if period_start is None:
        return request
    first, last = bucket_days(request, period_start)
    return request.replace(start=first, end=last)


def titles(
    source: Any, account_id: str, *, member: Any = None, product: Any = None, plan: Any = None
) -> tuple[Any, list[ColumnElement[Any]]]:
    """``source`` outer-joined with the member, product and plan it names, and the readable columns.

    Returns the joined source and ``member`` (display name, else username, else the id), ``product_title`` and
    ``plan_title`` for the expressions given.
    """
    columns: list[ColumnElement[Any]] = []
    if member is not None:
        m = members.alias("named_member")
        source = source.outerjoin(m, sa.and_(m.c.account_id == account_id, m.c.id == member))
        columns.append(sa.func.coalesce(m.c.display_name, m.c.username, member).label("member"))
    if product is not None:
        pr = products.alias("named_product")
        source = source.outerjoin(pr, sa.and_(pr.c.account_id == account_id, pr.c.id == product))
        columns.append(pr.c.title.label("product_title"))
    if plan is not None:
        pl = plans.alias("named_plan")
        source = source.outerjoin(pl, sa.and_(pl.c.account_id == account_id, pl.c.id == plan))
        columns.append(pl.c.title.label("plan_title"))
    return source, columns


def local_times(frame: pd.DataFrame, tz: str, *columns: str) -> pd.DataFrame:
    """Make UTC instants (``datetime64[us, UTC]``) timezone-aware in the account's zone ``tz``."""
    for name in columns:
        frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert(tz)
    return frame


def reporting_shares(
    frame: pd.DataFrame, amount: str, groups: Sequence[str], day: str, table: RateTable | None
) -> np.ndarray:
    """Each row's ``amount`` in the reporting currency: its share of its group's converted sum.

    Rows are grouped by ``groups``, ``currency`` and the conversion ``day`` (a column of days), as the metric
    groups the amounts it converts. Each group's sum is converted exactly as the metric converts it
    (:func:`~analytics.metrics.fx.convert_amounts`: the rate of the day, rounded half to even); each row gets
    ``floor(amount × rate)`` and the group's remainder goes one minor unit at a time to the rows with the largest
    fractions (ties to the earlier row). So the rows add up to the metric's number, each within one minor unit of
    its own conversion. ``table=None`` (the request breaks down by currency) keeps the amounts.

    Raises
    ------
    MetricError
        A non-zero amount has no exchange rate on or before its day (the message says which rows to add).
    """
    amounts = frame[amount].to_numpy(dtype="int64")
    if table is None or not len(frame):
        return amounts.copy()
    keys = [*groups, "currency", day]
    codes = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    firsts = pd.Series(np.arange(len(frame))).groupby(codes).first().to_numpy()
    sums = pd.Series(amounts).groupby(codes).sum().to_numpy()
    totals = convert_amounts(
        pd.Series(sums), frame["currency"].iloc[firsts].reset_index(drop=True), frame[day].iloc[firsts], table
    ).to_numpy()
    currencies = frame["currency"].to_numpy(dtype=object)
    days = frame[day].to_numpy(dtype="datetime64[ns]")
    factor = table.factors(currencies, days)
    unknown = np.isnan(factor) & (amounts != 0)
    if unknown.any():
        raise table.missing(currencies[unknown], days[unknown])
    raw = amounts * np.nan_to_num(factor)
    base = np.floor(raw).astype("int64")
    remainder = totals[codes] - pd.Series(base).groupby(codes).transform("sum").to_numpy()
    order = np.lexsort((np.arange(len(frame)), -(raw - base), codes))
    rank = np.empty(len(frame), dtype="int64")
    rank[order] = pd.Series(codes[order]).groupby(codes[order]).cumcount().to_numpy()
    return base + (rank < remainder).astype("int64")
