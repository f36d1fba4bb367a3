"""WhatsApp messaging: delivery, read, failure and reply rates per campaign (or phone number, or in total).

Each outbound message keeps the furthest status it reached (``wa_messages.status``; read implies delivered,
statuses never move backwards), so:

* attempted = every outbound message sent in the period (``sent_at`` from ``start`` to ``end``, local dates);
* sent = status sent, delivered or read; delivered = delivered or read; read = read; failed = failed;
* replied = messages of the reply denominator with an inbound message from the same contact within the reply
  window after them (policy ``reply_window_hours``, default 72).

Rates are percentages with 2 decimals; a zero denominator gives 0 and sets ``<rate>_zero_denominator``.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.errors import MetricError
from analytics.metrics.dialect import add_seconds, bucket_index, bucket_index_to_date, fetch_frame
from analytics.metrics.frames import as_int, rate_pct
from analytics.metrics.keyword_metrics import keyword_metric
from analytics.metrics.policies import Policies
from analytics.metrics.timeframe import DateLike, resolve_window
from analytics.store.schema import wa_campaigns, wa_messages

__all__ = ["COUNTS", "RATES", "messaging_rates"]

SENT = ("sent", "delivered", "read")
DELIVERED = ("delivered", "read")
COUNTS = ("attempted", "sent", "delivered", "read", "failed", "replied")
RATES = {
    "delivery_rate_pct": ("delivered", "sent"),
    "read_rate_pct": ("read", "delivered"),
    "failure_rate_pct": ("failed", "attempted"),
    "reply_rate_pct": ("replied", None),  # denominator from the reply_denominator policy
}
_BY = {"campaign": wa_messages.c.campaign_id, "phone_number": wa_messages.c.phone_number_id}


@keyword_metric(
    "messaging_rates",
    breakdowns={"channel": ("by", "phone_number")},
    unit="%",
    formula="delivered ÷ sent, read ÷ delivered, failed ÷ attempted, replied ÷ delivered; × 100, 2 decimals",
    domain="messaging",
    policies=("reply_window_hours", "reply_denominator"),
)
def messaging_rates(
    engine: Engine,
    account_id: str,
    *,
    start: DateLike,
    end: DateLike,
    by: Literal["campaign", "phone_number"] | None = "campaign",
    grain: str | None = None,
    policies: Policies | None = None,
) -> pd.DataFrame:
    """Outbound WhatsApp message counts and rates per campaign, phone number or in total.

    Formula: delivered ÷ sent, read ÷ delivered, failed ÷ attempted, replied ÷ delivered; × 100, 2 decimals.

    Definition: ``delivery rate = delivered ÷ sent``; ``read rate = read ÷ delivered``; ``failure rate = failed ÷
    attempted``; ``reply rate = replied within 72 h ÷ delivered`` (policy ``reply_denominator``: delivered or
    sent; ``reply_window_hours``), each × 100 with 2 decimals; a zero denominator gives 0 with
    ``<rate>_zero_denominator`` True, never a division error.

    Parameters
    ----------
    by:
        ``campaign`` (default; messages outside campaigns are ``campaign_id`` None), ``phone_number`` or None.
    grain:
        Also split by day/week/month of ``sent_at`` in the account's time zone (``period_start`` column).

    Returns
    -------
    DataFrame
        (``period_start``) (``campaign_id, campaign_name`` | ``phone_number_id``), the counts ``attempted, sent,
        delivered, read, failed, replied``, the four ``*_rate_pct`` and their ``*_zero_denominator`` flags.
    """
    pol = policies or Policies()
    if by is not None and by not in _BY:
        raise MetricError(f"messaging breakdown by={by!r} is not one of {', '.join(_BY)} or None")
    if pol.reply_window_hours <= 0:
        raise MetricError(f"policy reply_window_hours must be positive, got {pol.reply_window_hours}")
    m = wa_messages
    with engine.connect() as conn:
        w = resolve_window(conn, account_id, start, end, grain or "day")
        d = conn.dialect.name
        reply = m.alias("reply")
        replied_exists = (
            sa.select(sa.literal(1))
            .where(
                reply.c.account_id == m.c.account_id,
                reply.c.contact_id == m.c.contact_id,
                reply.c.direction == "inbound",
                reply.c.sent_at > m.c.sent_at,
                reply.c.sent_at <= add_seconds(m.c.sent_at, pol.reply_window_hours * 3600, d),
            )
            .exists()
        )
        base = SENT if pol.reply_denominator == "sent" else DELIVERED
        replied = sa.and_(m.c.status.in_(base), replied_exists)
        keys: list[sa.ColumnElement[object]] = []
        if grain is not None:
            keys.append(bucket_index(m.c.sent_at, grain, d, w.tz, w.within).label("bucket"))
        if by is not None:
            keys.append(_BY[by])
        inner = (
            sa.select(
                *keys,
                sa.case((m.c.status.in_(SENT), 1), else_=0).label("is_sent"),
                sa.case((m.c.status.in_(DELIVERED), 1), else_=0).label("is_delivered"),
                sa.case((m.c.status == "read", 1), else_=0).label("is_read"),
                sa.case((m.c.status == "failed", 1), else_=0).label("is_failed"),
                sa.case((replied, 1), else_=0).label("is_replied"),
            )
            .where(
                m.c.account_id == account_id,
                m.c.direction == "outbound",
                m.c.sent_at >= w.start_utc,
                m.c.sent_at < w.end_utc,
            )
            .subquery("msg")
        )
        outer_keys = [inner.c[k.name] for k in keys]
        stmt = sa.select(
            *outer_keys,
            sa.func.count().label("attempted"),
            *[sa.func.sum(inner.c[f"is_{c}"]).label(c) for c in COUNTS[1:]],
        ).group_by(*outer_keys)
        frame = as_int(fetch_frame(conn, stmt), COUNTS)
        names = None
        if by == "campaign":
            names = fetch_frame(
                conn,
                sa.select(wa_campaigns.c.id.label("campaign_id"), wa_campaigns.c.name.label("campaign_name")).where(
                    wa_campaigns.c.account_id == account_id
                ),
            )
    if by is None and grain is None and frame.empty:
        frame = pd.DataFrame({c: [0] for c in COUNTS})
    for rate, (num, den) in RATES.items():
        denominator = den or ("sent" if pol.reply_denominator == "sent" else "delivered")
        frame[rate], frame[rate.replace("_pct", "_zero_denominator")] = rate_pct(frame[num], frame[denominator])
    front: list[str] = []
    if grain is not None:
        frame["period_start"] = bucket_index_to_date(frame.pop("bucket"), grain).to_numpy()
        front.append("period_start")
    if names is not None:
        frame = frame.merge(names, on="campaign_id", how="left")
        front += ["campaign_id", "campaign_name"]
    elif by == "phone_number":
        front.append("phone_number_id")
    flags = [r.replace("_pct", "_zero_denominator") for r in RATES]
    frame = frame[[*front, *COUNTS, *RATES, *flags]]
    return frame.sort_values(front, ignore_index=True, na_position="last") if front else frame
