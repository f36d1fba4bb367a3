"""Metric policies: every choice on which vendors disagree, named, with a documented default.

A :class:`Policies` object is passed to metric functions (inside a
:class:`~analytics.metrics.request.MetricRequest`) and written into every snapshot, so a number can always be
traced to the definition that produced it. Defaults follow ChartMogul/Stripe (see docs/metrics.md).
:func:`policy_table` lists every policy with its default, its choices and its meaning (the docs page and
``analytics metric --list`` show it).
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

import pandas as pd

from analytics.errors import MetricError
from analytics.suggestions import did_you_mean

__all__ = ["DEFINITIONS_VERSION", "Policies", "policy_table"]

# Bump when a metric definition changes meaning; snapshots record it.
DEFINITIONS_VERSION = "2026.11.2"

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Policies:
    """Named policy choices with their defaults.

    Attributes
    ----------
    churn_recognition:
        ``period_end`` (default): a cancellation counts when access ends (status becomes canceled/expired);
        ``cancel_request``: when requested (``cancel_at_period_end`` becomes true, or status ``canceling``).
    past_due_in_mrr:
        Keep ``past_due`` subscriptions in MRR (default True, as Stripe does until canceled/unpaid).
    annual_normalisation:
        ``thirty_day`` (default): MRR = price × 30 / billing_period_days, except a 365-day plan counts price/12
        (the ``annual_as_twelfth`` rule); ``exact_days``: always price × 30 / billing_period_days.
    same_period_signup_cancel:
        ``exclude`` (default): customers who join and churn within one period are left out of churn rates;
        ``include``: they count as churned, and the new customers of the period join the denominator.
    refunds:
        ``cash_only`` (default): refunds reduce cash revenue at refund time; ``payment_period``: refunds reduce
        the cash revenue of the period of the refunded payment (past periods are restated). MRR ignores one-off
        refunds under both (it changes only when the subscription ends).
    discounts:
        ``net`` (default): MRR uses the price actually charged after promo codes; ``list``: the plan's list price.
    grouping_window_minutes:
        Changes of one customer within this many minutes of the previous change are one movement (default 60;
        0 groups only simultaneous changes). A group never spans two periods.
    churn_rate:
        ``chartmogul`` (default): churned ÷ customers at period start; ``stripe_30d``: churned in the last 30
        days ÷ (active 30 days ago + new in those 30 days).
    arpu:
        ``per_paying_customer`` (default) or ``per_member`` (members with access: a trialing, active, canceling,
        past_due or completed membership, paying or not).
    quick_ratio:
        ``chartmogul`` (default): (new + expansion + reactivation) ÷ (contraction + churn);
        ``baremetrics``: (new + expansion) ÷ (contraction + churn).
    reply_window_hours:
        WhatsApp reply rate: an inbound reply counts within this many hours (default 72).
    reply_denominator:
        WhatsApp reply rate denominator: ``delivered`` (default) or ``sent`` messages.
    ltv_churn_months:
        Months of trailing customer churn averaged for LTV, excluding the current month (default 6).
    """

    churn_recognition: Literal["period_end", "cancel_request"] = "period_end"
    past_due_in_mrr: bool = True
    annual_normalisation: Literal["thirty_day", "exact_days"] = "thirty_day"
    same_period_signup_cancel: Literal["exclude", "include"] = "exclude"
    refunds: Literal["cash_only", "payment_period"] = "cash_only"
    discounts: Literal["net", "list"] = "net"
    grouping_window_minutes: int = 60
    churn_rate: Literal["chartmogul", "stripe_30d"] = "chartmogul"
    arpu: Literal["per_paying_customer", "per_member"] = "per_paying_customer"
    quick_ratio: Literal["chartmogul", "baremetrics"] = "chartmogul"
    reply_window_hours: int = 72
    reply_denominator: Literal["delivered", "sent"] = "delivered"
    ltv_churn_months: int = 6

    def __post_init__(self) -> None:
        for name, kind in _field_types().items():
            value = getattr(self, name)
            choices = _choices(kind)
            if choices is not None and value not in choices:
                raise MetricError(f"policy {name}={value!r} is not one of {', '.join(choices)}")
            if kind is bool and not isinstance(value, bool):
                raise MetricError(f"policy {name}={value!r} must be true or false")
            if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise MetricError(f"policy {name}={value!r} must be a whole number ≥ 0")

    def to_dict(self) -> dict[str, Any]:
        """The policies as plain JSON-able values (what snapshots record)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Policies:
        """Build policies from a dict (e.g. a params file); unknown names are an error that lists the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise MetricError(
                f"unknown policy {', '.join(unknown)}{did_you_mean(unknown[0], known)}; "
                f"known policies: {', '.join(sorted(known))}"
            )
        return replace(cls(), **values)

    @classmethod
    def from_strings(cls, pairs: typing.Iterable[str]) -> Policies:
        """Build policies from ``name=value`` strings (the CLI's ``--policy``), converting each value's type."""
        values: dict[str, Any] = {}
        types = _field_types()
        for pair in pairs:
            name, sep, raw = pair.partition("=")
            name, raw = name.strip(), raw.strip()
            if not sep or not name:
                raise MetricError(f"policy {pair!r} is not of the form name=value (e.g. past_due_in_mrr=false)")
            if name not in types:
                raise MetricError(
                    f"unknown policy {name!r}{did_you_mean(name, types)}; known policies: {', '.join(sorted(types))}"
                )
            values[name] = _parse(name, raw, types[name])
        return cls.from_dict(values)


@functools.cache
def _field_types() -> dict[str, Any]:
    """Each policy's annotated type (resolved once: ``get_type_hints`` costs about 0.3 ms per metric request)."""
    hints = typing.get_type_hints(Policies)
    return {f.name: hints[f.name] for f in fields(Policies)}


def _choices(kind: Any) -> tuple[str, ...] | None:
    return tuple(typing.get_args(kind)) if typing.get_origin(kind) is Literal else None


def _parse(name: str, raw: str, kind: Any) -> Any:
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise MetricError(f"policy {name}={raw!r} must be true or false")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise MetricError(f"policy {name}={raw!r} must be a whole number") from None
    return raw


def _descriptions() -> dict[str, str]:
    """Policy descriptions parsed from the ``Attributes`` section of the :class:`Policies` docstring."""
    doc = inspect.getdoc(Policies) or ""
    section = doc.split("----------", 1)[1] if "----------" in doc else ""
    out: dict[str, str] = {}
    current: list[str] = []
    for line in section.splitlines():
        match = re.match(r"^([a-z_, ]+):$", line)
        if match:
            current = [n.strip() for n in match.group(1).split(",")]
            for n in current:
                out[n] = ""
        elif line.strip() and current:
            for n in current:
                out[n] = f"{out[n]} {line.strip()}".strip()
    return out


def policy_table() -> pd.DataFrame:
    """Every policy with its default value, its choices and what it means."""
    docs = _descriptions()
    defaults = Policies()
    rows = []
    for name, kind in _field_types().items():
        choices = _choices(kind)
        kind_text = " | ".join(choices) if choices else ("true | false" if kind is bool else "whole number")
        rows.append(
            {
                "policy": name,
                "default": getattr(defaults, name),
                "choices": kind_text,
                "description": docs.get(name, ""),
            }
        )
    return pd.DataFrame(rows, columns=["policy", "default", "choices", "description"])
