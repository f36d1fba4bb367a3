"""The registry of snapshot metrics: what goes into a snapshot's ``metrics`` JSON, by name.

A snapshot metric computes, for one account (or one channel of it) and a run of consecutive periods, a DataFrame
with one row per period (``period_start``) and one column per value (the JSON keys). Stocks are measured at the
period's end (members, idle members, engagement), flows over the period (active members, events, messages).

Two ways to add one:

* :func:`snapshot_metric` registers a function ``fn(engine, scope) -> DataFrame`` (see :mod:`.key_metrics`);
* :data:`CATALOG_METRICS` names catalog metrics (``analytics.metrics.get(name)``) that are run with the uniform
  request for the scope and whose numeric columns per ``period_start`` become JSON keys. The revenue metrics
  plug in this way by name: a name listed here that is not (yet) in the catalog is skipped and reported in the
  run summary, never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.catalog import registered
from analytics.metrics.policies import Policies
from analytics.metrics.request import BREAKDOWNS, MetricRequest
from analytics.metrics.timeframe import TimeWindow
from analytics.snapshots.periods import grain_of

__all__ = [
    "CATALOG_METRICS",
    "SnapshotMetric",
    "SnapshotScope",
    "catalog_snapshot_metric",
    "resolve_metrics",
    "snapshot_metric",
    "snapshot_metrics",
]


@dataclass(frozen=True)
class SnapshotScope:
    """What a snapshot metric computes: one account (or channel), consecutive periods ``start``–``end``.

    ``through`` is the last local day that had ended when the snapshot was computed. A period still in progress
    then is measured to date: values that are a state at the period's end (the engagement score, idle members)
    are taken at the end of ``through`` (:meth:`state_day`), not at an instant that has not happened yet, which
    would count the days still to come as days without activity. None: every period has ended.
    """

    account_id: str
    tz: str
    period: str
    start: date
    end: date
    policies: Policies = field(default_factory=Policies)
    channel: str = ""
    through: date | None = None

    def state_day(self, period_end: date) -> date:
        """The day at whose end a period's end-of-period state is taken: its last day, or ``through`` if earlier."""
        return period_end if self.through is None else min(period_end, self.through)

    @property
    def grain(self) -> str:
        return grain_of(self.period)

    @property
    def window(self) -> TimeWindow:
        return TimeWindow(self.account_id, self.tz, self.start, self.end + timedelta(days=1), self.grain)

    def request(self) -> MetricRequest:
        """The uniform catalog request for the scope."""
        return MetricRequest(self.account_id, self.start, self.end, self.grain, policies=self.policies)

    @property
    def phone_number_id(self) -> str | None:
        """The WhatsApp phone number of a ``whatsapp:<id>`` channel scope."""
        return self.channel.removeprefix("whatsapp:") if self.channel.startswith("whatsapp:") else None


Compute = Callable[[Engine, SnapshotScope], pd.DataFrame]


@dataclass(frozen=True)
class SnapshotMetric:
    """A named group of snapshot values computed together."""

    name: str
    compute: Compute
    periods: tuple[str, ...] = ("daily", "weekly", "monthly")
    per_channel: bool = False
    account_level: bool = True
    description: str = ""


_REGISTRY: dict[str, SnapshotMetric] = {}

# Catalog metrics whose per-period numbers go into every snapshot once they exist (revenue, by name).
CATALOG_METRICS: tuple[str, ...] = (
    "mrr",
    "arr",
    "mrr_movements",
    "customer_churn_rate",
    "arpa",
    "ltv",
    "trials",
    "failed_payments",
    "refunds",
    "cash_revenue",
)


def snapshot_metric(
    name: str,
    *,
    periods: Sequence[str] = ("daily", "weekly", "monthly"),
    per_channel: bool = False,
    account_level: bool = True,
) -> Callable[[Compute], Compute]:
    """Register ``fn(engine, scope) -> DataFrame`` (``period_start`` + value columns) as snapshot metric ``name``."""

    def register(func: Compute) -> Compute:
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = SnapshotMetric(name, func, tuple(periods), per_channel, account_level, doc[0] if doc else "")
        return func

    return register


def catalog_snapshot_metric(name: str) -> SnapshotMetric:
    """A snapshot metric that runs catalog metric ``name`` with the scope's request (see the module docstring).

    Numeric columns become keys named after the column; rows broken down by ``currency`` (or another breakdown
    column) get the value appended (``mrr_minor_usd``).
    """

    def compute(engine: Engine, scope: SnapshotScope) -> pd.DataFrame:
        frame = registered()[name].function(engine, scope.request())
        if "period_start" not in frame.columns:
            raise MetricError(f"catalog metric {name!r} has no period_start column; it cannot go into snapshots")
        keys = [c for c in frame.columns if c in (*BREAKDOWNS, "currency")]
        values = [c for c in frame.select_dtypes(include=[np.number, "bool"]).columns if c not in keys]
        if not keys:
            return frame[["period_start", *values]]
        # sum(min_count=1): an undefined rate (NaN: LTV with no churn, recovery with nothing to recover) stays
        # undefined (null in the snapshot) instead of becoming 0, which pivot_table(aggfunc="sum") would make it
        wide = frame.groupby(["period_start", *keys], dropna=False)[values].sum(min_count=1).unstack(keys)
        wide.columns = ["_".join(str(part) for part in col) for col in wide.columns.to_flat_index()]
        return wide.reset_index()

    return SnapshotMetric(name, compute, description=f"catalog metric {name}")


def snapshot_metrics() -> dict[str, SnapshotMetric]:
    """Every registered snapshot metric by name (importing ``analytics.snapshots`` registers the standard set)."""
    return dict(_REGISTRY)


def resolve_metrics(names: Sequence[str] | None = None) -> tuple[list[SnapshotMetric], list[str]]:
    """The snapshot metrics to compute and the catalog names not available yet.

    ``names=None`` means every registered snapshot metric plus every :data:`CATALOG_METRICS` in the catalog.
    Explicit names may be snapshot metrics or catalog metrics; an unknown name is an error listing the known ones.
    """
    catalog = registered()
    if names is None:
        chosen = list(_REGISTRY.values()) + [catalog_snapshot_metric(n) for n in CATALOG_METRICS if n in catalog]
        return chosen, [n for n in CATALOG_METRICS if n not in catalog]
    out: list[SnapshotMetric] = []
    for name in names:
        if name in _REGISTRY:
            out.append(_REGISTRY[name])
        elif name in catalog:
            out.append(catalog_snapshot_metric(name))
        else:
            known = ", ".join(sorted({*_REGISTRY, *catalog}))
            raise MetricError(f"unknown snapshot metric {name!r}; known: {known}")
    return out, []
