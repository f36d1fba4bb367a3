"""Aggregates every engine computes the same way: the median of groups, with window functions.

PostgreSQL has ``percentile_cont``, DuckDB ``median``, SQLite neither; ranking the values and averaging the middle
one or two works on all three with one code path.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

__all__ = ["median_by"]


def median_by(
    source: sa.Subquery | sa.CTE, value: str, keys: Sequence[str] = (), label: str = "median"
) -> sa.Select[tuple[object, ...]]:
    """``keys…, n, <label>``: the count of non-null ``value`` and its median per group of ``source``.

    The middle one or two values of the sorted group are those whose rank ``r`` satisfies ``c ≤ 2·r ≤ c + 2``
    (``c`` = group size), which needs no integer division.
    """
    v = source.c[value]
    parts = [source.c[k] for k in keys]
    ranked = (
        sa.select(
            *parts,
            v.label("v"),
            sa.func.row_number().over(partition_by=parts or None, order_by=v).label("r"),
            sa.func.count().over(partition_by=parts or None).label("c"),
        )
        .where(v.is_not(None))
        .subquery("ranked")
    )
    middle = sa.and_(2 * ranked.c.r >= ranked.c.c, 2 * ranked.c.r <= ranked.c.c + 2)
    rkeys = [ranked.c[k] for k in keys]
    return (
        sa.select(
            *rkeys,
            sa.func.count().label("n"),
            sa.cast(sa.func.avg(sa.case((middle, ranked.c.v))), sa.Float).label(label),
        )
        .select_from(ranked)
        .group_by(*rkeys)
    )
