"""Member activity events, generated vectorised per batch from each member's latent engagement.

Every member-day with access draws ``Poisson(λ)`` events with::

    λ = rate · exp(0.9 z − 0.4) · weekday · onboarding · decline · decay

where ``z`` is the member's latent engagement (the same ``z`` lowers their churn hazard, so engagement and
churn are linked), ``onboarding`` is 1.5 in a member's first 14 days, ``decline`` falls linearly from 1 to 0.25
over the 42 days before the member decides to leave and is 0.15 after that decision while access lasts, and
``decay`` fades the activity of members who only bought a one-time course. Times follow a local-hour profile in
the account's time zone. Kinds: login, post_view, message, reaction and download; funnel steps
(funnel_view → checkout_start → purchase) accompany every purchase and many lead visits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.demo.calendar import DAY, HOUR, HOUR_WEIGHTS, local_to_utc

__all__ = ["EventColumns", "Intervals", "daily_events", "merge_intervals"]

_KINDS = np.array(["login", "post_view", "message", "reaction", "download"])
_KIND_CUM = np.cumsum([0.27, 0.37, 0.23, 0.10, 0.03])
_WEEKDAY = np.array([1.05, 1.05, 1.0, 1.0, 0.95, 0.85, 0.9])  # Monday first
DECLINE_DAYS = 42
_HOUR_CUM = np.cumsum(HOUR_WEIGHTS)


@dataclass
class Intervals:
    """Merged access intervals of a batch's members (sorted by member, then start)."""

    member: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    product: npt.NDArray[np.int64]  # product of the interval's first membership
    one_time: npt.NDArray[np.bool_]  # only one-time purchases inside
    first_start: npt.NDArray[np.int64]  # the member's first access (onboarding, tenure)

    def active_at(self, t: int) -> npt.NDArray[np.int64]:
        """Members with access at instant ``t``."""
        return np.unique(self.member[(self.start <= t) & (self.end > t)])


@dataclass
class EventColumns:
    """Activity events as parallel arrays (member numbers, kinds, instants, objects, channels, products)."""

    member: npt.NDArray[np.int64]
    kind: npt.NDArray[np.str_]
    at: npt.NDArray[np.int64]
    object_id: npt.NDArray[np.object_]
    channel: npt.NDArray[np.object_]
    product: npt.NDArray[np.int64]  # -1 = none
    properties: list[dict[str, object] | None] | None = None

    @staticmethod
    def concat(parts: list[EventColumns]) -> EventColumns:
        props: list[dict[str, object] | None] = []
        for p in parts:
            props += p.properties if p.properties is not None else [None] * len(p.member)
        return EventColumns(
            np.concatenate([p.member for p in parts]),
            np.concatenate([p.kind.astype(object) for p in parts]).astype(str),
            np.concatenate([p.at for p in parts]),
            np.concatenate([p.object_id for p in parts]),
            np.concatenate([p.channel for p in parts]),
            np.concatenate([p.product for p in parts]),
            props,
        )


def merge_intervals(spans: list[tuple[int, int, int, int, bool]]) -> Intervals:
    """Merge each member's overlapping membership spans (member, start, end, product, one_time)."""
    rows: list[tuple[int, int, int, int, bool, int]] = []
    first: dict[int, int] = {}
    for member, start, end, product, one_time in sorted(spans):
        first.setdefault(member, start)
        if rows and rows[-1][0] == member and start <= rows[-1][2]:
            m, s, e, p, o, f = rows[-1]
            rows[-1] = (m, s, max(e, end), p, o and one_time, f)
        elif end > start:
            rows.append((member, start, end, product, one_time, first[member]))
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), (), ()]
    return Intervals(
        np.array(cols[0], dtype=np.int64),
        np.array(cols[1], dtype=np.int64),
        np.array(cols[2], dtype=np.int64),
        np.array(cols[3], dtype=np.int64),
        np.array(cols[4], dtype=bool),
        np.array(cols[5], dtype=np.int64),
    )


def daily_events(
    rng: np.random.Generator,
    iv: Intervals,
    z: npt.NDArray[np.float64],
    anchors: list[tuple[int, int]],
    *,
    rate: float,
    tz: str,
    horizon: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Generic activity of a batch: (interval index, instant, kind number) of every event, unsorted."""
    if len(iv.member) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    # Local days: activity is laid out on the account's calendar (heat maps are read in its time zone).
    offset = int(local_to_utc(np.array([horizon], dtype=np.int64), tz)[0] - horizon)
    first_day = (iv.start - offset) // DAY
    last_day = (np.minimum(iv.end, horizon) - 1 - offset) // DAY
    n_days = np.maximum(last_day - first_day + 1, 0)
    row_iv = np.repeat(np.arange(len(iv.member)), n_days)
    day = np.repeat(first_day, n_days) + (np.arange(n_days.sum()) - np.repeat(np.cumsum(n_days) - n_days, n_days))
    member = iv.member[row_iv]
    mid = day * DAY + offset + DAY // 2  # UTC instant near the middle of the local day

    lam = rate * np.exp(0.9 * z[member] - 0.4) * _WEEKDAY[(day + 3) % 7]
    lam *= np.where(mid - iv.first_start[row_iv] < 14 * DAY, 1.5, 1.0)
    lam *= np.exp(-(mid - iv.first_start[row_iv]) / (900 * DAY))
    lam *= np.where(iv.one_time[row_iv], np.maximum(np.exp(-(mid - iv.start[row_iv]) / (60 * DAY)), 0.05), 1.0)
    lam *= _decline(member, mid, iv.start[row_iv], anchors)

    counts = rng.poisson(lam)
    ev_row = np.repeat(np.arange(len(day)), counts)
    n = len(ev_row)
    hours = np.searchsorted(_HOUR_CUM, rng.random(n) * _HOUR_CUM[-1], side="right").clip(0, 23)
    local = day[ev_row] * DAY + hours * HOUR + rng.integers(0, HOUR, n)
    at = local_to_utc(local, tz)
    ev_iv = row_iv[ev_row]
    keep = (at >= iv.start[ev_iv]) & (at < np.minimum(iv.end[ev_iv], horizon))
    kinds = np.searchsorted(_KIND_CUM, rng.random(n) * _KIND_CUM[-1], side="right").clip(0, len(_KINDS) - 1)
    return ev_iv[keep], at[keep], kinds[keep]


def _decline(
    member: npt.NDArray[np.int64],
    at: npt.NDArray[np.int64],
    interval_start: npt.NDArray[np.int64],
    anchors: list[tuple[int, int]],
) -> npt.NDArray[np.float64]:
    """Engagement multiplier from each member's decisions to leave (the weeks before, and after, the decision)."""
    factor = np.ones(len(member))
    if not anchors:
        return factor
    a = np.array(sorted(anchors), dtype=np.int64)
    key_a = a[:, 0] * (1 << 34) + a[:, 1]
    key = member * (1 << 34) + at
    nxt = np.searchsorted(key_a, key, side="left")
    ok = nxt < len(a)
    nxt_c = np.minimum(nxt, len(a) - 1)
    same = ok & (a[nxt_c, 0] == member)
    gap = np.where(same, a[nxt_c, 1] - at, 1 << 40)
    before = same & (gap < DECLINE_DAYS * DAY)
    factor = np.where(before, 0.25 + 0.75 * gap / (DECLINE_DAYS * DAY), factor)
    prv = nxt - 1
    prv_c = np.maximum(prv, 0)
    after = (prv >= 0) & (a[prv_c, 0] == member) & (a[prv_c, 1] <= at) & (a[prv_c, 1] >= interval_start)
    return np.where(after, np.minimum(factor, 0.15), factor)


def kind_names(kinds: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Event kind names of kind numbers from :func:`daily_events`."""
    return _KINDS[kinds]


def funnel_events(
    rng: np.random.Generator,
    purchases: pd.DataFrame,
    leads: npt.NDArray[np.int64],
    lead_signup: npt.NDArray[np.int64],
    product_ids: list[str],
    lead_products: npt.NDArray[np.int64],
) -> EventColumns:
    """funnel_view → checkout_start → purchase before every purchase; leads view (35 % also start a checkout).

    ``purchases`` has member, at, product, membership_id, plan_id, amount_minor, currency.
    """
    n = len(purchases)
    at = purchases["at"].to_numpy(dtype=np.int64)
    member = purchases["member"].to_numpy(dtype=np.int64)
    product = purchases["product"].to_numpy(dtype=np.int64)
    view_at = at - (HOUR // 2 + rng.exponential(20 * HOUR, n)).astype(np.int64)
    start_at = at - rng.integers(120, 1_800, n)
    props = [
        {"membership_id": m, "plan_id": p, "amount_minor": int(a), "currency": c}
        for m, p, a, c in zip(
            purchases["membership_id"],
            purchases["plan_id"],
            purchases["amount_minor"],
            purchases["currency"],
            strict=True,
        )
    ]
    starts = rng.random(len(leads)) < 0.35
    lead_start = lead_signup[starts] + rng.integers(60, 1_200, int(starts.sum()))
    members = np.concatenate([member, member, member, leads, leads[starts]])
    kinds = np.array(
        ["funnel_view"] * n
        + ["checkout_start"] * n
        + ["purchase"] * n
        + ["funnel_view"] * len(leads)
        + ["checkout_start"] * int(starts.sum())
    )
    products = np.concatenate([product, product, product, lead_products, lead_products[starts]])
    prod_ids = np.array(product_ids, dtype=object)[products]
    return EventColumns(
        members,
        kinds,
        np.concatenate([view_at, start_at, at, lead_signup, lead_start]),
        prod_ids,
        np.full(len(members), "web", dtype=object),
        products,
        [None] * (2 * n) + props + [None] * (len(leads) + int(starts.sum())),
    )
