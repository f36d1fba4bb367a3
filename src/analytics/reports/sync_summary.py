"""A Whop sync's outcome as a table (what the sync notebook displays and the run exports)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["sync_table"]


def sync_table(result: Any) -> pd.DataFrame:
    """One row per resource of a :class:`~analytics.sources.whop.sync.SyncResult`: fetched, inserted, updated,
    quarantined, plus a ``total`` row."""
    rows = [
        {
            "resource": name,
            "fetched": counts.fetched,
            "inserted": counts.inserted,
            "updated": counts.updated,
            "quarantined": counts.quarantined,
        }
        for name, counts in sorted(result.resources.items())
    ]
    total = result.totals()
    rows.append(
        {
            "resource": "total",
            "fetched": total.fetched,
            "inserted": total.inserted,
            "updated": total.updated,
            "quarantined": total.quarantined,
        }
    )
    return pd.DataFrame(rows, columns=["resource", "fetched", "inserted", "updated", "quarantined"])
