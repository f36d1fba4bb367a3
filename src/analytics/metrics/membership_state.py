"""The membership state history as SQL: what each status-change row contributes, and when that changes.

``membership_status_changes`` holds one row per membership per change of state; a row's state lasts from its
``changed_at`` until the membership's next row. Every revenue metric starts here:

* :func:`mrr_contribution` — a row's MRR in integer minor units of its currency (policies applied);
* :func:`access_flag` — 1 while the membership gives access (:data:`ACCESS_STATUSES`);
* :func:`members_with_access` — the members with access at an instant (the engagement metrics' current members);
* :func:`membership_deltas` — the change of that value at each row, per membership and breakdown key, so that
  the value of anything at an instant is the sum of the deltas before it (exact integer arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from analytics.metrics.dialect import add_days, bucket_start, int_div, sort_key
from analytics.metrics.policies import Policies
from analytics.metrics.request import MetricRequest, account_settings, period_instants
from analytics.store.schema import accounts, membership_status_changes, memberships, payments, plans

__all__ = [
    "ACCESS_STATUSES",
    "DUNNING_LOOKBACK_DAYS",
    "StateScope",
    "Value",
    "access_flag",
    "bucket_of",
    "members_with_access",
    "membership_deltas",
    "mrr_contribution",
    "scope_for",
]

ACCESS_STATUSES: tuple[str, ...] = ("trialing", "active", "canceling", "past_due", "completed")
"""Statuses in which a membership gives access, paying or not (Whop's ``MembershipStatus``: ``active`` and
``trialing`` grant access, ``past_due`` is the grace period after a failed charge, ``canceling`` keeps access until
the period ends, a ``completed`` one-time purchase keeps access; ``canceled``, ``expired``, ``unresolved`` and
``drafted`` do not). Free memberships count: the status decides, not the price."""

DUNNING_LOOKBACK_DAYS = 31
"""A churn is delinquent when the membership had an unrecovered failed payment within this many days before it."""

Value = Literal["mrr", "access"]
_KEY_COLUMNS = ("currency", "plan", "product")


@dataclass(frozen=True)
class StateScope:
    """Everything the state SQL depends on: account, engine, time zone, period ``[t0, t1)``, grain, keys, policies.

    ``keys`` are the columns the deltas are split by, among ``currency``, ``plan`` and ``product``;
    ``changing_keys`` are those that can change within one membership (they need two legs per change).
    ``currency`` is a key only when the account has more than one currency; otherwise every amount is in
    ``default_currency`` (the account's reporting currency, also assumed for rows without a currency).
    ``reporting_currency`` is the currency results are converted into (the request's, else the account's).
    Rows at or after ``t1`` are ignored; rows before ``t0`` get a NULL bucket (they only build the opening state).
    """

    account_id: str
    dialect: str
    tz: str
    t0: datetime
    t1: datetime
    grain: str
    keys: tuple[str, ...]
    policies: Policies
    default_currency: str = "usd"
    changing_keys: tuple[str, ...] = ()
    reporting_currency: str = "usd"

    def __post_init__(self) -> None:
        bad = [k for k in self.keys if k not in _KEY_COLUMNS]
        if bad or not set(self.changing_keys) <= set(self.keys):
            raise ValueError(f"state keys must be among {_KEY_COLUMNS}, not {self.keys} / {self.changing_keys}")


def _first(engine: sa.Engine, query: Any) -> bool:
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


def scope_for(
    bind: sa.Engine | sa.Connection, request: MetricRequest, *, value_keys: bool = True, split_currency: bool = True
) -> StateScope:
    """The state scope of a request: the account's time zone, the period as instants, and the keys.

    ``plan`` and ``product`` are keys when they are requested breakdowns (and ``value_keys`` is true); ``currency``
    is a key when the account has rows in several currencies (amounts in different currencies are never added
    before conversion), and a changing key when some membership changes currency. ``split_currency=False`` never
    splits by currency (for counts, such as members with access). One statement reads the account's settings and
    the range of its currencies.
    """
    c = membership_status_changes.c
    # one scan of the account's rows (not one per bound): the range of the stored currencies and whether some row
    # has none (those count in the account's reporting currency, as stored)
    currencies = (
        sa.select(
            sa.func.min(c.currency).label("low"),
            sa.func.max(c.currency).label("high"),
            sa.func.max(sa.case((c.currency.is_(None), 1), else_=0)).label("unset"),
        )
        .where(c.account_id == request.account_id)
        .subquery("currencies")
    )
    stored = accounts.c.reporting_currency  # as stored: what a row without a currency counts in
    extra = (currencies.c.low, currencies.c.high, currencies.c.unset, stored)
    account = account_settings(bind, request.account_id, *extra, beside=currencies)
    low, high, unset, fallback = account.extra
    if unset and fallback is not None:
        low = fallback if low is None else min(low, fallback)
        high = fallback if high is None else max(high, fallback)
    t0, t1 = period_instants(request, account.time_zone)
    keys: tuple[str, ...] = ()
    changing: tuple[str, ...] = ()
    if split_currency and low is not None and low != high:
        keys = ("currency",)
        # a membership that changes currency (rare) needs a closing leg on the old currency; checking for one
        # costs less than always computing both legs
        switched = (
            sa.select(c.membership_id)
            .where(c.account_id == request.account_id)
            .group_by(c.membership_id)
            .having(sa.func.min(c.currency) != sa.func.max(c.currency))
            .limit(1)
        )
        if bind.execute(switched).first() is not None if isinstance(bind, sa.Connection) else _first(bind, switched):
            changing = ("currency",)
    if value_keys:
        keys += tuple(b for b in ("plan", "product") if b in request.breakdowns)
        changing += ("plan",) if "plan" in request.breakdowns else ()
    return StateScope(
        account_id=request.account_id,
        dialect=bind.dialect.name,
        tz=account.time_zone,
        t0=t0,
        t1=t1,
        grain=request.grain,
        keys=keys,
        policies=request.policies,
        default_currency=(low if low is not None and low == high else account.reporting_currency),
        changing_keys=changing,
        reporting_currency=request.reporting_currency or account.reporting_currency,
    )


def bucket_of(at: Any, scope: StateScope) -> ColumnElement[Any]:
    """The bucket (first day, account time zone) of an instant of the period; NULL before the period."""
    return sa.case(
        (at >= scope.t0, bucket_start(at, scope.grain, scope.dialect, scope.tz, (scope.t0, scope.t1))),
        else_=sa.null(),
    )


def _normalised(price: Any, period_days: Any, policies: Policies, dialect: str) -> ColumnElement[Any]:
    """Price per 30 days, rounded half up to a whole minor unit (a 365-day plan is price/12 under thirty_day)."""
    per_thirty = int_div(price * 60 + period_days, period_days * 2, dialect)
    if policies.annual_normalisation == "exact_days":
        return per_thirty
    return sa.case((period_days == 365, int_div(price * 2 + 12, sa.literal(24), dialect)), else_=per_thirty)


def mrr_contribution(c: Any, policies: Policies, dialect: str, list_price: Any = None) -> ColumnElement[Any]:
    """MRR of one status-change row in minor units of its currency.

    Formula: price × 30 / billing_period_days rounded half up (price / 12 for 365-day plans under
    ``annual_normalisation=thirty_day``) when the status is active or canceling (and past_due when
    ``past_due_in_mrr``), the plan recurs and the price is positive; otherwise 0. Under
    ``churn_recognition=cancel_request`` a membership set to cancel (status canceling or
    ``cancel_at_period_end``) counts 0. ``discounts=list`` uses the plan's list price (``list_price``).
    """
    statuses = ["active"]
    if policies.churn_recognition == "period_end":
        statuses.append("canceling")
    if policies.past_due_in_mrr:
        statuses.append("past_due")
    price = c.renewal_price_minor
    if policies.discounts == "list" and list_price is not None:
        price = sa.func.coalesce(list_price, c.renewal_price_minor)
    conditions = [
        c.status.in_(statuses),
        c.billing_period_days.is_not(None),
        c.billing_period_days > 0,
        price > 0,
    ]
    if policies.churn_recognition == "cancel_request":
        conditions.append(sa.not_(c.cancel_at_period_end))
    return sa.case((sa.and_(*conditions), _normalised(price, c.billing_period_days, policies, dialect)), else_=0)


def access_flag(c: Any) -> ColumnElement[Any]:
    """1 while the membership gives access (:data:`ACCESS_STATUSES`), else 0."""
    return sa.case((c.status.in_(ACCESS_STATUSES), 1), else_=0)


def members_with_access(account_id: str, at: datetime, dialect: str) -> sa.Select[tuple[Any]]:
    """``SELECT member_id`` of the account's members with access at the instant ``at`` (a member may repeat).

    Formula: member m has access at t ⇔ ∃ membership of m whose last ``membership_status_changes`` row with
    ``changed_at < t`` (ties: the larger row id, as :func:`analytics.metrics.memberships_by_status` orders them)
    has a status in :data:`ACCESS_STATUSES`.

    A membership's state comes from its history, never from the current-state columns of ``memberships`` or
    ``members`` (those would tell the future of a past ``at``); a member without any status history has no access.
    The last change per membership is the first row of a ``row_number()`` window in (``changed_at``, id) order,
    descending: one sort of the account's history, whatever the planner knows of the tables. (An earlier form
    joined ``max(changed_at)`` back on the history and checked ties with a correlated ``NOT EXISTS``; without
    planner statistics SQLite ran that check as a range scan of the primary key for every row, quadratic in the
    history: 0.24 s for the 2,449 changes of the small demo, against 0.01 s for the window.)
    """
    c = membership_status_changes
    ranked = (
        sa.select(
            c.c.member_id,
            c.c.status,
            sa.func.row_number()
            .over(partition_by=c.c.membership_id, order_by=(c.c.changed_at.desc(), sort_key(c.c.id, dialect).desc()))
            .label("rn"),
        )
        .where(c.c.account_id == account_id, c.c.changed_at < at)
        .subquery("ranked")
    )
    return sa.select(ranked.c.member_id).where(ranked.c.rn == 1, ranked.c.status.in_(ACCESS_STATUSES))


def _key_expressions(scope: StateScope, c: Any, m: Any, p: Any) -> dict[str, ColumnElement[Any]]:
    exprs: dict[str, ColumnElement[Any]] = {}
    for key in scope.keys:
        if key == "currency":
            exprs[key] = sa.func.coalesce(c.currency, scope.default_currency)
        elif key == "plan":
            exprs[key] = sa.func.coalesce(c.plan_id, "")
        else:
            exprs[key] = sa.func.coalesce(m.product_id, p.product_id, "")
    return exprs


def membership_deltas(scope: StateScope, value: Value = "mrr", *, delinquency: bool = False) -> sa.CTE:
    """A CTE of value changes: one row per (status-change row, key) where the membership's value changes.

    Columns: ``member_id``, ``membership_id``, ``changed_at``, ``ord`` (row id, a tie-breaker), ``leg`` (0, or 1
    for the closing leg of a key change), ``bucket`` (NULL before ``t0``), the key columns and ``delta``. With
    ``delinquency`` also ``dunning`` = 1 when the row ends a past_due state or follows an unrecovered failed
    payment of the membership within :data:`DUNNING_LOOKBACK_DAYS`.

    Formula: delta(row) = value(row) − value(previous row of the membership); when a breakdown key changes,
    −value(previous) is booked on the old key and +value(row) on the new one. Σ delta over rows before t =
    value at t.
    """
    c = membership_status_changes.alias("c")
    m = memberships.alias("m")
    p = plans.alias("p")
    source: Any = c
    need_plan = (scope.policies.discounts == "list" and value == "mrr") or "product" in scope.keys
    if "product" in scope.keys:
        source = source.outerjoin(m, sa.and_(m.c.account_id == c.c.account_id, m.c.id == c.c.membership_id))
    if need_plan:
        source = source.outerjoin(p, sa.and_(p.c.account_id == c.c.account_id, p.c.id == c.c.plan_id))
    v = (
        mrr_contribution(c.c, scope.policies, scope.dialect, p.c.renewal_price_minor if need_plan else None)
        if value == "mrr"
        else access_flag(c.c)
    )
    key_exprs = _key_expressions(scope, c.c, m.c, p.c)
    inner: list[Any] = [
        c.c.member_id.label("member_id"),
        c.c.membership_id.label("membership_id"),
        c.c.changed_at.label("changed_at"),
        c.c.id.label("ord"),
        c.c.status.label("status"),
        v.label("v"),
        *[expr.label(name) for name, expr in key_exprs.items()],
    ]
    if delinquency:
        pay = payments.alias("pay")
        failed_unrecovered = (
            sa.select(sa.literal(1))
            .where(
                pay.c.account_id == c.c.account_id,
                pay.c.membership_id == c.c.membership_id,
                pay.c.created_at <= c.c.changed_at,
                pay.c.created_at > add_days(c.c.changed_at, -DUNNING_LOOKBACK_DAYS, scope.dialect),
                pay.c.status != "paid",
                sa.or_(pay.c.payments_failed > 0, pay.c.substatus.in_(("failed", "past_due", "uncollectible"))),
            )
            .exists()
        )
        inner.append(sa.case((failed_unrecovered, 1), else_=0).label("failed_unrecovered"))
    # v is computed once per row in a subquery (SQLite would evaluate it again inside LAG otherwise)
    base = sa.select(*inner).select_from(source).where(c.c.account_id == scope.account_id).subquery(f"{value}_base")
    window: dict[str, Any] = {
        "partition_by": sort_key(base.c.membership_id, scope.dialect),
        "order_by": (base.c.changed_at, sort_key(base.c.ord, scope.dialect)),
    }
    keys = {name: base.c[name] for name in key_exprs}
    changing = list(scope.changing_keys)  # a membership's product never changes
    cols: list[Any] = [
        base.c.member_id,
        base.c.membership_id,
        base.c.changed_at,
        base.c.ord,
        base.c.v,
        sa.func.lag(base.c.v).over(**window).label("pv"),
        *keys.values(),
        *[sa.func.lag(keys[name]).over(**window).label(f"prev_{name}") for name in changing],
    ]
    if delinquency:
        prev_status = sa.func.lag(base.c.status).over(**window)
        late = sa.or_(prev_status == "past_due", base.c.failed_unrecovered == 1)
        cols.append(sa.case((late, 1), else_=0).label("dunning"))
    # The period end is applied after the window (a row's previous row is always earlier), which lets SQLite
    # read the rows in index order (account_id, membership_id, changed_at) instead of sorting them.
    rows = sa.select(*cols).cte(f"{value}_rows")
    return _delta_legs(scope, rows, keys, changing, delinquency, value)


def _delta_legs(
    scope: StateScope, rows: sa.CTE, keys: dict[str, Any], changing: list[str], delinquency: bool, value: str
) -> sa.CTE:
    bucket = bucket_of(rows.c.changed_at, scope).label("bucket")
    base = [rows.c.member_id, rows.c.membership_id, rows.c.changed_at, rows.c.ord, bucket]
    extra = [rows.c.dunning] if delinquency else []
    previous = sa.func.coalesce(rows.c.pv, 0)
    in_period = rows.c.changed_at < scope.t1
    if not changing:
        return (
            sa.select(
                *base,
                sa.literal(0).label("leg"),
                *[rows.c[k] for k in keys],
                (rows.c.v - previous).label("delta"),
                *extra,
            )
            .where(in_period, rows.c.v != previous)
            .cte(f"{value}_deltas")
        )
    same_key = sa.and_(*[sa.or_(rows.c[f"prev_{k}"].is_(None), rows.c[f"prev_{k}"] == rows.c[k]) for k in changing])
    unchanged = sa.select(
        *base, sa.literal(0).label("leg"), *[rows.c[k] for k in keys], (rows.c.v - previous).label("delta"), *extra
    ).where(in_period, same_key, rows.c.v != previous)
    opened = sa.select(
        *base, sa.literal(0).label("leg"), *[rows.c[k] for k in keys], rows.c.v.label("delta"), *extra
    ).where(in_period, sa.not_(same_key), rows.c.v != 0)
    closed = sa.select(
        *base,
        sa.literal(1).label("leg"),
        *[rows.c[f"prev_{k}"].label(k) if k in changing else rows.c[k] for k in keys],
        (-rows.c.pv).label("delta"),
        *extra,
    ).where(in_period, sa.not_(same_key), rows.c.pv != 0)
    return sa.union_all(unchanged, opened, closed).cte(f"{value}_deltas")
