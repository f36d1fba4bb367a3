"""Rows behind the members-by-status bars and the failed-payments numbers (see :mod:`analytics.metrics.drilldown`)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa

from analytics.metrics.billing import failed_payment
from analytics.metrics.dialect import fetch_frame, fetched_instant, local_date, metric_connection, to_dates
from analytics.metrics.drilldown import drilldown, local_times, narrowed, reporting_shares, titles, within_bucket
from analytics.metrics.frames import as_int
from analytics.metrics.fx import load_rates
from analytics.metrics.membership_status import latest_statuses
from analytics.metrics.request import MetricRequest, account_settings, period_instants
from analytics.store.schema import payments

__all__ = ["failed_payment_rows", "memberships_in_status"]

DateLike = date | datetime | str


@drilldown("memberships_in_status", title="Memberships in a status", metrics=("memberships_by_status",))
def memberships_in_status(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    status: str,
    product: str | None = None,
    plan: str | None = None,
) -> pd.DataFrame:
    """The memberships behind a members-by-status bar: those in ``status`` at the end of the period.

    Formula: row count = ``memberships_by_status.memberships``; distinct member_id = ``members`` (of that status)

    ``status`` is the stored status (``past_due``, not a display label). Columns: ``member``, ``member_id``,
    ``membership_id``, ``product_id``, ``product_title``, ``plan_id`` (the plan in force), ``plan_title``,
    ``status``, ``status_since`` (when the membership entered it, local time); longest in the status first.
    """
    req, chosen = narrowed(request, "memberships_by_status", ("product", "plan"), product=product, plan=plan)
    with metric_connection(engine) as conn:
        tz = account_settings(conn, req.account_id).time_zone
        _, until = period_instants(req, tz)
        latest = latest_statuses(req.account_id, until)
        source, (member, product_title, plan_title) = titles(
            latest, req.account_id, member=latest.c.member_id, product=latest.c.product_id, plan=latest.c.plan_id
        )
        columns = {"product": latest.c.product_id, "plan": latest.c.plan_id}
        stmt = (
            sa.select(
                member,
                latest.c.member_id,
                latest.c.membership_id,
                latest.c.product_id,
                product_title,
                latest.c.plan_id,
                plan_title,
                latest.c.status,
                fetched_instant(latest.c.changed_at, conn.dialect.name).label("status_since"),
            )
            .select_from(source)
            .where(latest.c.status == status, *[columns[key] == value for key, value in chosen.items()])
        )
        frame = fetch_frame(conn, stmt, instants=("status_since",))
    frame = frame.sort_values(["status_since", "member_id", "membership_id"], ignore_index=True)
    return local_times(frame, tz, "status_since")


@drilldown("failed_payment_rows", title="Failed payments", metrics=("failed_payments",))
def failed_payment_rows(
    engine: sa.Engine,
    request: MetricRequest,
    *,
    period_start: DateLike | None = None,
    product: str | None = None,
    plan: str | None = None,
    recovered: bool | None = None,
) -> pd.DataFrame:
    """The payments behind ``failed_payments``: each payment whose charge failed, recovered or not.

    Formula: row count = ``failed``; Σ total_reporting_minor = ``failed_minor``; rows with recovered: count =
    ``recovered``, Σ recovered_reporting_minor = ``recovered_minor``

    The payments created in the period (or in the bucket ``period_start``) whose charge failed
    (:func:`~analytics.metrics.billing.failed_payment`); ``recovered`` (True/False) keeps only the recovered
    (ended up paid) or unrecovered ones. Columns: ``payment_id``, ``created_at``, ``day`` (local), ``member``,
    ``member_id``, ``membership_id``, ``product_id``, ``product_title``, ``plan_id``, ``plan_title``, ``status``,
    ``substatus``, ``payments_failed``, ``failure_message``, ``decline_code``, ``recovered``, ``paid_at``,
    ``currency``, ``total_minor``, ``reporting_currency``, ``total_reporting_minor`` and
    ``recovered_reporting_minor`` (0 when not recovered), converted at the day's rate as the metric does; newest
    first.
    """
    req, chosen = narrowed(request, "failed_payments", ("product", "plan", "currency"), product=product, plan=plan)
    req = within_bucket(req, period_start)
    p = payments
    with metric_connection(engine) as conn:
        account = account_settings(conn, req.account_id)
        t0, t1 = period_instants(req, account.time_zone)
        dialect = conn.dialect.name
        keys = {"product": sa.func.coalesce(p.c.product_id, ""), "plan": sa.func.coalesce(p.c.plan_id, "")}
        source, (member, product_title, plan_title) = titles(
            p, req.account_id, member=p.c.member_id, product=p.c.product_id, plan=p.c.plan_id
        )
        stmt = (
            sa.select(
                p.c.id.label("payment_id"),
                fetched_instant(p.c.created_at, dialect).label("created_at"),
                local_date(p.c.created_at, dialect, account.time_zone, (t0, t1)).label("day"),
                member,
                p.c.member_id,
                p.c.membership_id,
                keys["product"].label("product_id"),
                product_title,
                keys["plan"].label("plan_id"),
                plan_title,
                p.c.status,
                p.c.substatus,
                p.c.payments_failed,
                p.c.failure_message,
                p.c.decline_code,
                fetched_instant(p.c.paid_at, dialect).label("paid_at"),
                sa.func.coalesce(p.c.currency, account.reporting_currency).label("currency"),
                p.c.total_minor,
            )
            .select_from(source)
            .where(
                p.c.account_id == req.account_id,
                p.c.created_at >= t0,
                p.c.created_at < t1,
                failed_payment(p),
                *[keys[key] == value for key, value in chosen.items()],
            )
        )
        frame = fetch_frame(conn, stmt, instants=("created_at", "paid_at"))
        reporting = req.reporting_currency or account.reporting_currency
        table = None if "currency" in req.breakdowns else load_rates(conn, set(frame["currency"]), reporting, req.end)
    as_int(frame, ["payments_failed", "total_minor"])
    frame = to_dates(frame, "day")
    frame.insert(list(frame.columns).index("paid_at"), "recovered", frame["status"] == "paid")
    groups = [f"{k}_id" for k in ("product", "plan") if k in req.breakdowns]
    frame["reporting_currency"] = frame["currency"] if table is None else table.reporting
    frame["total_reporting_minor"] = reporting_shares(frame, "total_minor", groups, "day", table)
    paid = frame[frame["recovered"]]
    frame["recovered_reporting_minor"] = 0
    frame.loc[paid.index, "recovered_reporting_minor"] = reporting_shares(paid, "total_minor", groups, "day", table)
    if recovered is not None:
        frame = frame[frame["recovered"] == bool(recovered)]
    frame = frame.sort_values(["created_at", "payment_id"], ascending=[False, True], ignore_index=True)
    return local_times(frame, account.time_zone, "created_at", "paid_at")
