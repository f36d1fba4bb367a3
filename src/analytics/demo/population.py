"""Who the members of an account are, decided up front for every member so batches can refer to each other.

Per member: signup instant (growth and seasonality), latent engagement ``z`` (standard normal; it sets how
active a member is and, through that, how likely they churn), lead or buyer, country and currency, and the
numbers behind their IP, device and card hashes. Affiliates are early buyers; referred members, the planted
self-referrals and refund rings are chosen here too (see :mod:`analytics.demo.referrals`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.demo.calendar import DAY, HISTORY_DAYS, HOUR, HOUR_WEIGHTS, sample_days, signup_day_weights
from analytics.demo.catalog import EUR_COUNTRIES, AccountSpec

__all__ = ["RING_SIZE", "Population", "account_member_counts", "build_population"]

LEAD_SHARE = 0.18
REFERRED_SHARE = 0.14
SELF_REFERRAL_SHARE = 0.05
RING_SIZE = 5
AFFILIATE_SHARE = 0.012


@dataclass
class Population:
    """Per-member arrays of one account (index = member number, sorted by signup)."""

    n: int
    signup: npt.NDArray[np.int64]
    z: npt.NDArray[np.float64]
    lead: npt.NDArray[np.bool_]
    country: npt.NDArray[np.str_]
    currency: npt.NDArray[np.str_]
    ip: npt.NDArray[np.uint64]
    device: npt.NDArray[np.uint64]
    card: npt.NDArray[np.uint64]
    referred_by: npt.NDArray[np.int64]  # affiliate number or -1
    self_referral: npt.NDArray[np.bool_]
    ring: npt.NDArray[np.int64]  # refund ring number or -1
    aff_member: npt.NDArray[np.int64]  # member number of each affiliate
    aff_created: npt.NDArray[np.int64]
    aff_weight: npt.NDArray[np.float64]
    ring_affiliate: npt.NDArray[np.int64]  # affiliate number of each ring


def account_member_counts(total: int, accounts: int) -> list[int]:
    """Split ``total`` members over ``accounts`` creators of decreasing size (weights 1/(k+1)^0.8)."""
    weights = 1.0 / np.arange(1, accounts + 1) ** 0.8
    counts = np.floor(total * weights / weights.sum()).astype(int)
    counts[0] += total - counts.sum()
    return [int(c) for c in counts]


def build_population(
    rng: np.random.Generator, spec: AccountSpec, n: int, horizon: int, batch_members: int
) -> Population:
    """Draw every member of an account (vectorised)."""
    first = horizon - HISTORY_DAYS * DAY
    day_offsets = sample_days(rng, signup_day_weights(first // DAY, HISTORY_DAYS), n)
    hours = np.searchsorted(np.cumsum(HOUR_WEIGHTS), rng.random(n) * 0.999999, side="right")
    signup = np.sort(first + day_offsets * DAY + hours * HOUR + rng.integers(0, HOUR, n))
    signup = np.minimum(signup, horizon - 60)
    z = rng.standard_normal(n)
    lead = rng.random(n) < LEAD_SHARE
    names = np.array([c for c, _w in spec.countries])
    weights = np.array([w for _c, w in spec.countries], dtype=float)
    country = names[rng.choice(len(names), n, p=weights / weights.sum())]
    currency = np.where(np.isin(country, list(EUR_COUNTRIES)), "eur", np.where(country == "GB", "gbp", "usd"))
    numbers = np.arange(n, dtype=np.uint64)
    ip, device, card = numbers.copy(), numbers.copy(), numbers.copy()

    # Affiliates: early buyers who start referring 10–90 days after they join.
    buyers = np.flatnonzero(~lead[: max(int(0.6 * n), 1)])
    n_aff = min(max(4, round(AFFILIATE_SHARE * n)), len(buyers))
    aff_member = np.sort(rng.choice(buyers, n_aff, replace=False)) if n_aff else np.zeros(0, dtype=np.int64)
    aff_created = np.minimum(signup[aff_member] + rng.integers(10, 91, n_aff) * DAY, horizon - 30 * DAY)
    order = np.argsort(aff_created, kind="stable")
    aff_member, aff_created = aff_member[order], aff_created[order]
    aff_weight = rng.lognormal(0.0, 1.0, n_aff)

    # Referred members: a signup after an affiliate exists, attributed to one of those (weighted).
    referred_by = np.full(n, -1, dtype=np.int64)
    eligible = np.searchsorted(aff_created, signup - DAY, side="right")
    cumulative = np.cumsum(aff_weight)
    pick = (~lead) & (eligible > 0) & (rng.random(n) < REFERRED_SHARE)
    target = rng.random(n) * cumulative[np.maximum(eligible - 1, 0)] if n_aff else np.zeros(n)
    chosen = np.minimum(np.searchsorted(cumulative, target, side="right"), np.maximum(eligible - 1, 0))
    referred_by[pick] = chosen[pick]
    not_self = aff_member[np.maximum(referred_by, 0)] != np.arange(n)
    referred_by[~not_self] = -1

    # Planted fraud (1): self-referrals come from the affiliate's own IP and device.
    self_referral = (referred_by >= 0) & (rng.random(n) < SELF_REFERRAL_SHARE)
    if (referred_by >= 0).sum() >= 2 and self_referral.sum() < 2:
        self_referral[np.flatnonzero(referred_by >= 0)[:2]] = True
    own = aff_member[referred_by[self_referral]]
    ip[self_referral], device[self_referral] = ip[own], device[own]

    # Planted fraud (2): refund rings, consecutive signups inside one batch sharing device, IP and card.
    ring = np.full(n, -1, dtype=np.int64)
    n_rings = max(1, n // 1500) if n_aff and n >= 4 * RING_SIZE else 0
    ring_affiliate = np.zeros(0, dtype=np.int64)
    for r in range(n_rings):
        affiliate = int(rng.integers(0, max(1, n_aff // 2)))
        for _attempt in range(1000):
            start = int(rng.integers(n // 2, n - RING_SIZE))
            block = np.arange(start, start + RING_SIZE)
            if (
                block[0] // batch_members == block[-1] // batch_members
                and (ring[block] < 0).all()
                and signup[block[0]] > aff_created[affiliate] + DAY
                and not np.isin(block, aff_member).any()
            ):
                break
        else:
            continue  # no room for a ring in this account
        ring_affiliate = np.append(ring_affiliate, affiliate)
        lead[block] = False
        ring[block] = len(ring_affiliate) - 1
        referred_by[block] = affiliate
        self_referral[block] = False
        shared = np.uint64(10_000_000 + r)
        ip[block], device[block], card[block] = shared, shared, shared
    return Population(
        n,
        signup,
        z,
        lead,
        country,
        currency,
        ip,
        device,
        card,
        referred_by,
        self_referral,
        ring,
        aff_member,
        aff_created,
        aff_weight,
        ring_affiliate,
    )
