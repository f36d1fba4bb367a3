"""Snapshots: per-period key metrics per account (and WhatsApp channel), stored for dashboards and reports.

``write_snapshots`` computes and stores periods (idempotent, one transaction), ``backfill_snapshots`` fills
months of them with a progress bar, ``recompute_touched`` rewrites periods made stale by late data and
``read_snapshots`` returns them as a DataFrame.
"""

from analytics.snapshots import key_metrics as _key_metrics  # noqa: F401  (registers the standard snapshot metrics)
from analytics.snapshots.builder import backfill_snapshots, build_snapshot_rows, recompute_touched, write_snapshots
from analytics.snapshots.periods import PERIODS, Period, periods_between
from analytics.snapshots.registry import (
    CATALOG_METRICS,
    SnapshotMetric,
    SnapshotScope,
    snapshot_metric,
    snapshot_metrics,
)
from analytics.snapshots.store import read_snapshots

__all__ = [
    "CATALOG_METRICS",
    "PERIODS",
    "Period",
    "SnapshotMetric",
    "SnapshotScope",
    "backfill_snapshots",
    "build_snapshot_rows",
    "periods_between",
    "read_snapshots",
    "recompute_touched",
    "snapshot_metric",
    "snapshot_metrics",
    "write_snapshots",
]
