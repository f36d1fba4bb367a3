"""Members and their memberships, batch by batch: signups, cross-sells, reactivations, and the rows they make.

For each member of a batch: the first purchase (product, plan and currency by country; a trial where the plan
has one; sometimes a promo code or an affiliate), an occasional second product, and reactivations after a gap
(a former member buys again, 14+ days after leaving, sometimes with a win-back code). Leads join without
buying. The lifecycle of each membership is simulated by :class:`analytics.demo.lifecycle.Ledger`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from analytics.demo.calendar import DAY
from analytics.demo.catalog import Catalog, Plan, Promo
from analytics.demo.lifecycle import Dice, Ledger, Outcome
from analytics.demo.population import Population

__all__ = ["MemberBatch", "simulate_batch"]

_PRODUCT_CUM = [0.50, 0.62, 1.0]  # community 50 %, course 12 %, trading 38 %
_PLAN_CHOICES: dict[tuple[int, str], tuple[tuple[str, float], ...]] = {
    (0, "usd"): (("c_m_usd", 0.7), ("c_q_usd", 0.1), ("c_y_usd", 0.2)),
    (0, "eur"): (("c_m_eur", 0.75), ("c_y_eur", 0.25)),
    (0, "gbp"): (("c_m_gbp", 1.0),),
    (1, "usd"): (("k_o_usd", 1.0),),
    (1, "eur"): (("k_o_eur", 1.0),),
    (2, "usd"): (("t_m_usd", 0.6), ("t_p_usd", 0.1), ("t_q_usd", 0.1), ("t_y_usd", 0.2)),
    (2, "eur"): (("t_m_eur", 0.75), ("t_y_eur", 0.25)),
    (2, "gbp"): (("t_m_gbp", 1.0),),
}
CROSS_SELL_COURSE, CROSS_SELL_SUBSCRIPTION = 0.12, 0.07
MAX_RETURNS = 2


@dataclass
class MemberBatch:
    """One batch of simulated members: the ledger rows plus what later steps (activity, referrals) need."""

    members: npt.NDArray[np.int64]  # global member numbers of the batch
    ledger: Ledger
    membership_member: list[int]
    first_membership: dict[int, int]  # member -> local membership of the first purchase
    spans: list[tuple[int, int, int, int, bool]]  # member, start, end, product, one_time
    anchors: list[tuple[int, int]]  # member, instant they decided to leave
    outcomes: list[Outcome]


def _choose_plan(d: Dice, catalog: Catalog, product: int, currency: str) -> Plan:
    choices = _PLAN_CHOICES.get((product, currency)) or _PLAN_CHOICES[(product, "usd")]
    u, acc = d.u(), 0.0
    for key, weight in choices:
        acc += weight
        if u < acc:
            return catalog.plan(key)
    return catalog.plan(choices[-1][0])


def _in_black_friday(t: int) -> bool:
    day = datetime.fromtimestamp(t, UTC)
    return (day.month == 11 and day.day >= 20) or (day.month == 12 and day.day <= 2)


def _choose_promo(d: Dice, catalog: Catalog, plan: Plan, t: int, *, returning: bool) -> Promo | None:
    by_code = {p.code: p for p in catalog.promos}
    if returning:
        code = "COMEBACK25" if d.u() < 0.35 else None
    elif _in_black_friday(t) and d.u() < 0.4:
        code = "BLACKFRIDAY30"
    elif d.u() < 0.14:
        code = ("WELCOME20", "LAUNCH50", "FRIENDS10", "EURO5")[d.pick([0.45, 0.70, 0.85, 1.0])]
    else:
        code = None
    promo = by_code.get(code) if code else None
    return promo if promo is not None and promo.applies_to(plan, t) else None


def simulate_batch(
    catalog: Catalog, pop: Population, members: npt.NDArray[np.int64], rng: np.random.Generator, horizon: int
) -> MemberBatch:
    """Simulate every member in ``members`` (global numbers, ascending)."""
    d = Dice(rng)
    ledger = Ledger(horizon, d, catalog.plans)
    batch = MemberBatch(members, ledger, [], {}, [], [], [])
    for i in members.tolist():
        if pop.lead[i]:
            continue
        _simulate_member(batch, catalog, pop, int(i), d, horizon)
    return batch


def _start(
    batch: MemberBatch,
    kind: str,
    member: int,
    plan: Plan,
    t: int,
    promo: Promo | None,
    affiliate: int,
    pop: Population,
    *,
    trial: bool = False,
    ring: bool = False,
) -> Outcome:
    ledger, z = batch.ledger, float(pop.z[member])
    ip, card = int(pop.ip[member]), int(pop.card[member])
    if plan.one_time:
        m, outcome = ledger.one_time(member, plan, t, promo, affiliate, ip, card, z)
    else:
        m, outcome = ledger.subscription(member, plan, t, promo, affiliate, ip, card, z, trial=trial, ring=ring)
    batch.membership_member.append(member)
    batch.outcomes.append(outcome)
    batch.first_membership.setdefault(member, m)
    end = outcome.end if outcome.end is not None else ledger.horizon
    batch.spans.append((member, t, end, plan.product, plan.one_time))
    if outcome.anchor is not None:
        batch.anchors.append((member, outcome.anchor))
    return outcome


def _simulate_member(batch: MemberBatch, catalog: Catalog, pop: Population, i: int, d: Dice, horizon: int) -> None:
    t0 = int(pop.signup[i])
    currency = str(pop.currency[i])
    affiliate = int(pop.referred_by[i])
    if pop.ring[i] >= 0:
        plan = catalog.plan("t_m_usd")
        _start(batch, "ring", i, plan, t0, None, affiliate, pop, ring=True)
        return
    product = d.pick(_PRODUCT_CUM)
    plan = _choose_plan(d, catalog, product, currency)
    promo = _choose_promo(d, catalog, plan, t0, returning=False)
    first = _start(batch, "first", i, plan, t0, promo, affiliate, pop, trial=plan.trial is not None)
    own_products = {product}

    # A second product while the first is in force.
    until = first.end if first.end is not None else horizon
    if until - t0 > 14 * DAY:
        if product != 1 and d.u() < CROSS_SELL_COURSE:
            t = d.between(t0 + 7 * DAY, until)
            if t < horizon:
                course = _choose_plan(d, catalog, 1, currency)
                _start(batch, "cross", i, course, t, None, -1, pop)
                own_products.add(1)
        if d.u() < CROSS_SELL_SUBSCRIPTION:
            other = 2 if product != 2 else 0
            t = d.between(t0 + 7 * DAY, until)
            if t < horizon:
                _start(batch, "cross", i, _choose_plan(d, catalog, other, currency), t, None, -1, pop)

    # Reactivations: a former subscriber comes back after a gap.
    last = first
    z = float(pop.z[i])
    for _ in range(MAX_RETURNS):
        if plan.one_time or last.end is None or last.kind == "dispute":
            break
        p_return = 0.22 / (1.0 + math.exp(-0.8 * z)) * 2 * (0.7 if last.kind == "trial" else 1.0)
        if d.u() >= min(p_return, 0.6):
            break
        t = last.end + 14 * DAY + int(d.exp(100 * DAY))
        if t >= horizon:
            break
        product = product if d.u() < 0.7 else (2 if product == 0 else 0)
        plan = _choose_plan(d, catalog, product, currency)
        if plan.one_time:
            break
        promo = _choose_promo(d, catalog, plan, t, returning=True)
        last = _start(batch, "return", i, plan, t, promo, -1, pop)
