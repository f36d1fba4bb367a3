"""Metric policies: every choice on which vendors disagree, named, with a documented default.

A :class:`Policies` object is passed to metric functions and written into every snapshot, so a number can
always be traced to the definition that produced it. Defaults follow ChartMogul/Stripe (see docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from analytics.errors import MetricError

__all__ = ["DEFINITIONS_VERSION", "Policies"]

# Bump when a metric definition changes meaning; snapshots record it.
DEFINITIONS_VERSION = "2026.11.1"


@dataclass(frozen=True)
class Policies:
    """Named policy choices with their defaults.

    Attributes
    ----------
    churn_recognition:
        ``period_end`` (default): a cancellation counts when access ends; ``cancel_request``: when requested.
    past_due_in_mrr:
        Keep ``past_due`` subscriptions in MRR (default True, as Stripe does until canceled/unpaid).
    annual_normalisation:
        ``thirty_day`` (default): MRR = price × 30 / billing_period_days, except a 365-day plan counts price/12
        (the ``annual_as_twelfth`` rule); ``exact_days``: always price × 30 / billing_period_days.
    same_period_signup_cancel:
        ``exclude`` (default): customers who join and churn within one period are left out of churn rates.
    refunds:
        ``cash_only`` (default): refunds reduce cash revenue at refund time; MRR ignores them unless the
        subscription ends.
    discounts:
        ``net`` (default): MRR uses the price actually charged after promo codes; ``list``: the list price.
    grouping_window_minutes:
        Changes of one customer within this window are one movement (default 60).
    churn_rate:
        ``chartmogul`` (default): churned ÷ customers at period start; ``stripe_30d``: churned in the last 30
        days ÷ (active 30 days ago + new in those 30 days).
    arpu:
        ``per_paying_customer`` (default) or ``per_member``.
    quick_ratio:
        ``chartmogul`` (default): (new + expansion + reactivation) ÷ (contraction + churn);
        ``baremetrics``: (new + expansion) ÷ (contraction + churn).
    reply_window_hours, reply_denominator:
        WhatsApp reply rate: inbound reply within this many hours (default 72) ÷ ``delivered`` (default) or
        ``sent`` messages.
    ltv_churn_months:
        Months of trailing churn averaged for LTV, excluding the current month (default 6).
    """

    churn_recognition: Literal["period_end", "cancel_request"] = "period_end"
    past_due_in_mrr: bool = True
    annual_normalisation: Literal["thirty_day", "exact_days"] = "thirty_day"
    same_period_signup_cancel: Literal["exclude", "include"] = "exclude"
    refunds: Literal["cash_only", "reverse_mrr"] = "cash_only"
    discounts: Literal["net", "list"] = "net"
    grouping_window_minutes: int = 60
    churn_rate: Literal["chartmogul", "stripe_30d"] = "chartmogul"
    arpu: Literal["per_paying_customer", "per_member"] = "per_paying_customer"
    quick_ratio: Literal["chartmogul", "baremetrics"] = "chartmogul"
    reply_window_hours: int = 72
    reply_denominator: Literal["delivered", "sent"] = "delivered"
    ltv_churn_months: int = 6

    def to_dict(self) -> dict[str, Any]:
        """The policies as plain JSON-able values (what snapshots record)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Policies:
        """Build policies from a dict (e.g. a params file); unknown names are an error that lists the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise MetricError(f"unknown policy {', '.join(unknown)}; known policies: {', '.join(sorted(known))}")
        return replace(cls(), **values)
