"""Who is paying at a prediction date, and when a member stopped paying: the SQL both features and labels stand on.

A prediction date ``d`` (a calendar date) is turned into a *cut*: the instant ``d 00:00 UTC``. Many dates are
handled in one query through a ``VALUES`` common table expression (:func:`cuts_cte`) whose columns are the cut and
the window starts (``cut − 7 d``, ``cut − 30 d``, …) computed in Python and sent as bound parameters, so the SQL
needs no engine-specific date arithmetic.

Membership state as of an instant comes only from ``membership_status_changes`` (the current-state columns of
``memberships`` would reveal the future): each change row is in force from its ``changed_at`` until the
membership's next change (:func:`state_intervals`).

Definitions (docs/churn.md):

* **Paying at d**: the member has a membership whose latest change at or before the cut has status
  ``active``/``canceling``/``past_due``, a ``billing_period_days`` and a price above 0.
* **Stopped paying at t**: a change at ``t`` puts a membership of the member into ``canceled``/``expired`` and,
  counting every change at or before ``t``, no membership of the member is paying any more (:func:`stop_events`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from analytics.errors import ModelError
from analytics.store.schema import membership_status_changes as msc
from analytics.store.types import UTCDateTime

__all__ = [
    "CHURN_TABLES",
    "ENDED_STATUSES",
    "PAYING_STATUSES",
    "WINDOWS",
    "cut_instant",
    "cuts_cte",
    "ensure_planner_statistics",
    "is_paying",
    "paying_population",
    "state_intervals",
    "stop_events",
]

PAYING_STATUSES: tuple[str, ...] = ("active", "canceling", "past_due")
ENDED_STATUSES: tuple[str, ...] = ("canceled", "expired")
# Window starts carried by the cuts CTE (days before the cut).
WINDOWS: tuple[int, ...] = (7, 14, 30, 60, 90, 365)
_EPOCH_DAY = date(1970, 1, 1)


def cut_instant(day: date) -> datetime:
    """The instant a prediction date stands for: ``day`` at 00:00 UTC (data before it is "known at d")."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def _as_dates(dates: Iterable[date]) -> list[date]:
    out: list[date] = []
    for d in dates:
        if isinstance(d, datetime):
            raise ModelError(f"prediction dates are calendar dates; got the instant {d.isoformat()} (use .date())")
        if not isinstance(d, date):
            raise ModelError(f"prediction dates must be datetime.date values, got {type(d).__name__}: {d!r}")
        out.append(d)
    if not out:
        raise ModelError("no prediction dates given; pass at least one date")
    if len(set(out)) != len(out):
        raise ModelError("prediction dates repeat; pass each date once")
    return out


def cuts_cte(dates: Sequence[date], *, horizon_days: int | None = None, name: str = "cuts") -> CTE:
    """A ``VALUES`` CTE with one row per date: ``k`` (its position), ``day`` (days since 1970-01-01), ``cut``,
    ``cut_7`` … ``cut_365`` and, when a horizon is given, ``cut_h`` (the end of the label window)."""
    days = _as_dates(dates)
    cols: list[sa.ColumnClause[Any]] = [
        sa.column("k", sa.Integer),
        sa.column("day", sa.Integer),
        sa.column("cut", UTCDateTime()),
    ]
    cols += [sa.column(f"cut_{w}", UTCDateTime()) for w in WINDOWS]
    if horizon_days is not None:
        cols.append(sa.column("cut_h", UTCDateTime()))
    rows = []
    for k, d in enumerate(days):
        cut = cut_instant(d)
        row: list[Any] = [k, (d - _EPOCH_DAY).days, cut, *[cut - timedelta(days=w) for w in WINDOWS]]
        if horizon_days is not None:
            row.append(cut + timedelta(days=horizon_days))
        rows.append(tuple(row))
    return sa.values(*cols, name=name).data(rows).cte(name)


def state_intervals(account_id: str, *, name: str = "state_iv") -> CTE:
    """Every status change of the account with the instant it stops being in force (``end_at``, null = still) and
    the membership's next status (``next_status``)."""
    order = (msc.c.changed_at, msc.c.id)
    nxt = sa.func.lead(msc.c.changed_at).over(partition_by=msc.c.membership_id, order_by=order)
    next_status = sa.func.lead(msc.c.status).over(partition_by=msc.c.membership_id, order_by=order)
    return (
        sa.select(
            msc.c.membership_id,
            msc.c.member_id,
            msc.c.status,
            msc.c.renewal_price_minor,
            msc.c.billing_period_days,
            msc.c.cancel_at_period_end,
            msc.c.currency,
            msc.c.changed_at.label("start_at"),
            nxt.label("end_at"),
            next_status.label("next_status"),
        )
        .where(msc.c.account_id == account_id)
        .cte(name)
        .prefix_with("MATERIALIZED")  # computed once, not inlined into every reference (SQLite, PostgreSQL)
    )


def is_paying(iv: Any) -> ColumnElement[bool]:
    """The state row counts as paying (paying status, recurring, price above 0)."""
    return sa.and_(
        iv.c.status.in_(PAYING_STATUSES),
        iv.c.billing_period_days.is_not(None),
        iv.c.renewal_price_minor > 0,
    )


def in_force(iv: Any, at: Any, *, inclusive: bool) -> ColumnElement[bool]:
    """The state row is the one in force at ``at``: with ``inclusive`` a change exactly at ``at`` counts."""
    started = iv.c.start_at <= at if inclusive else iv.c.start_at < at
    not_ended = iv.c.end_at > at if inclusive else iv.c.end_at >= at
    return sa.and_(started, sa.or_(iv.c.end_at.is_(None), not_ended))


def paying_population(cuts: CTE, iv: CTE, *, name: str = "pop") -> CTE:
    """Distinct ``(k, member_id)`` of members paying at each cut (latest change at or before the cut)."""
    return (
        sa.select(cuts.c.k, iv.c.member_id)
        .select_from(cuts.join(iv, in_force(iv, cuts.c.cut, inclusive=True)))
        .where(is_paying(iv))
        .group_by(cuts.c.k, iv.c.member_id)
        .cte(name)
        .prefix_with("MATERIALIZED")
    )


def stop_events(iv: CTE, *, after: Any = None, until: Any, name: str = "stops") -> CTE:
    """Every ``(member_id, stopped_at)`` in ``(after, until]`` at which a member stopped paying because a
    membership ended: a change into ``canceled``/``expired`` after which none of their memberships is paying.

    Set-based, without a join per event (planners misjudge joins over CTEs): each paying interval adds +1 at its
    start and −1 at its end (flagged when the membership's next status is an ending one); a running sum per
    member counts the paying memberships, and a stop is an instant where it falls to 0 with an ending flag.
    Computed once as a materialised CTE (``after`` None = since the beginning).
    """
    paying = sa.select(iv).where(is_paying(iv)).subquery("paying_iv")
    ending = sa.case((paying.c.next_status.in_(ENDED_STATUSES), 1), else_=0)
    steps = sa.union_all(
        sa.select(
            paying.c.member_id, paying.c.start_at.label("t"), sa.literal(1).label("delta"), sa.literal(0).label("ends")
        ),
        sa.select(
            paying.c.member_id, paying.c.end_at.label("t"), sa.literal(-1).label("delta"), ending.label("ends")
        ).where(paying.c.end_at.is_not(None)),
    ).subquery("paying_steps")
    per_instant = (
        sa.select(
            steps.c.member_id,
            steps.c.t,
            sa.func.sum(steps.c.delta).label("delta"),
            sa.func.max(steps.c.ends).label("ends"),
        )
        .group_by(steps.c.member_id, steps.c.t)
        .subquery("per_instant")
    )
    running = sa.select(
        per_instant.c.member_id,
        per_instant.c.t,
        per_instant.c.ends,
        sa.func.sum(per_instant.c.delta)
        .over(partition_by=per_instant.c.member_id, order_by=per_instant.c.t)
        .label("paying_count"),
    ).subquery("running")
    query = sa.select(running.c.member_id, running.c.t.label("stopped_at")).where(
        running.c.paying_count == 0, running.c.ends == 1, running.c.t <= until
    )
    if after is not None:
        query = query.where(running.c.t > after)
    return query.cte(name).prefix_with("MATERIALIZED")


CHURN_TABLES: tuple[str, ...] = (
    "membership_status_changes",
    "memberships",
    "activity_events",
    "payments",
    "disputes",
    "lesson_interactions",
    "lessons",
    "courses",
    "members",
    "wa_contacts",
    "wa_messages",
)


def ensure_planner_statistics(engine: Any, tables: tuple[str, ...] = CHURN_TABLES) -> list[str]:
    """On PostgreSQL, ``ANALYZE`` the tables the churn SQL reads that were never analysed (``reltuples < 0``).

    Right after a bulk import autovacuum has not gathered statistics yet, and the planner, believing the tables
    tiny, picks nested loops that make the feature queries ~50× slower. Returns the tables analysed (none on
    other engines or when statistics exist).
    """
    if engine.dialect.name != "postgresql":
        return []
    stale = sa.text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname IN :names AND c.reltuples < 0"
    ).bindparams(sa.bindparam("names", expanding=True))
    with engine.begin() as conn:
        names = [str(n) for n in conn.execute(stale, {"names": list(tables)}).scalars()]
        for name in names:
            conn.execute(sa.text(f'ANALYZE "{name}"'))  # a table name from the catalog, never user input
    return names
