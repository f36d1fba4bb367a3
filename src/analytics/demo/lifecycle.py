"""One membership's life: trial, charges, dunning, plan changes, cancellation, refunds and disputes.

The simulation writes exactly the rows Whop would show (memberships, payments, refunds, disputes) plus the
``membership_status_changes`` history of the contract in :mod:`analytics.store.history`. It only produces
histories that can be derived back from API-visible fields (see that module's "derivable histories" rules):
no un-cancel, at most one cancellation request, no failed first checkout, no plan change during a trial or
after a cancellation request, plan changes are always paid, and a promo code ends with a plan change.

Behaviour (monthly rates; ``z`` is the member's latent engagement, standard normal):

* trials convert with probability ``sigmoid(0.2 + 1.2 z)``; non-converters cancel during the trial (70 %) or
  let it lapse (``expired``);
* voluntary cancellation hazard ``0.05 · exp(−0.6 z)`` per 30 days, ×1.5 in the first 90 days; 18 % of
  cancellations are immediate (half of them refunded), the rest at period end;
* 7 % of renewal charges (10 % of trial conversions) fail; retries after 3, 7 and 14 days each succeed with
  probability 0.33, otherwise the membership expires at the last attempt (delinquent churn);
* 2.5 % of periods end in a plan change (a paid ``subscription_update``), 1.5 % of paid charges are later
  refunded without cancellation, 0.3 % are disputed (the membership ends at the dispute).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.demo.calendar import DAY, HOUR
from analytics.demo.catalog import Plan, Promo

__all__ = ["Dice", "Ledger", "Outcome"]

TRIAL_CANCEL_SHARE = 0.7
FAIL_RENEWAL, FAIL_TRIAL_CONVERSION = 0.07, 0.10
RETRY_DAYS = (3, 7, 14)
RECOVER_PER_RETRY = 0.33
CHANGE_PER_PERIOD = 0.025
REFUND_PER_CHARGE = 0.015
DISPUTE_PER_CHARGE = 0.003
IMMEDIATE_CANCEL_SHARE = 0.18

CANCEL_OPTIONS = (
    "too_expensive",
    "unused",
    "missing_features",
    "switching",
    "bad_experience",
    "technical_issues",
    "other",
    "testing",
)
_CANCEL_WEIGHTS = (30, 22, 12, 10, 8, 6, 11.5, 0.5)
CANCEL_TEXT = {
    "too_expensive": ("Too pricey for me right now", "Can't justify the cost this month", "Money is tight"),
    "unused": ("Didn't have time to use it", "I barely logged in", "Not using it enough"),
    "missing_features": ("Wanted more live sessions", "Missing the alerts I need", "No mobile app"),
    "switching": ("Moving to another group", "Found a cheaper alternative", "Joining a friend's community"),
    "bad_experience": ("Support never answered", "Signals were late", "Community felt toxic"),
    "technical_issues": ("Could not access the course videos", "Discord link kept breaking", "App crashed"),
    "other": ("Taking a break", "Personal reasons", "Will be back later"),
    "testing": ("just testing",),
}
DECLINES = (
    ("insufficient_funds", "Your card has insufficient funds.", 45),
    ("expired_card", "Your card has expired.", 15),
    ("generic_decline", "Your card was declined.", 22),
    ("contact_issuer", "Your card issuer declined the charge; contact them.", 8),
    ("processing_error", "An error occurred while processing your card. Try again.", 5),
    ("authentication_required", "Your bank requires you to authenticate this payment.", 5),
)
_DECLINE_CUM = list(np.cumsum([d[2] for d in DECLINES]) / sum(d[2] for d in DECLINES))
_CANCEL_CUM = list(np.cumsum(_CANCEL_WEIGHTS) / sum(_CANCEL_WEIGHTS))
DISPUTE_REASONS = ("fraudulent", "subscription_canceled", "product_unacceptable", "unrecognized")


class Dice:
    """Uniform draws from a numpy generator, handed out one by one from pre-drawn blocks (fast in loops)."""

    __slots__ = ("_block", "_i", "_rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block: list[float] = []
        self._i = 0

    def u(self) -> float:
        if self._i >= len(self._block):
            self._block = self._rng.random(8192).tolist()
            self._i = 0
        self._i += 1
        return self._block[self._i - 1]

    def exp(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.u())

    def pick(self, cumulative: list[float]) -> int:
        return min(bisect_right(cumulative, self.u()), len(cumulative) - 1)

    def between(self, lo: int, hi: int) -> int:
        return lo + int(self.u() * max(hi - lo, 0))


@dataclass
class Outcome:
    """How a membership ended (``end`` None: still in force at the horizon)."""

    end: int | None
    kind: str | None = None  # voluntary | delinquent | trial | dispute | ring
    anchor: int | None = None  # when the member decided to leave (engagement declines before it)


@dataclass
class Ledger:
    """The rows of one batch, with local integer references (turned into ids when the batch is framed)."""

    horizon: int
    dice: Dice
    plans: list[Plan]
    memberships: list[list[Any]] = field(default_factory=list)
    changes: list[tuple[Any, ...]] = field(default_factory=list)
    payments: list[list[Any]] = field(default_factory=list)
    refunds: list[tuple[Any, ...]] = field(default_factory=list)
    disputes: list[tuple[Any, ...]] = field(default_factory=list)

    # memberships: [member, plan, status, created, period_start, period_end, cap, canceled_at, option, text,
    #               promo, affiliate, trial_end, expires_at, price]
    def _membership(self, member: int, plan: Plan, start: int, promo: Promo | None, affiliate: int) -> int:
        self.memberships.append(
            [
                member,
                plan.index,
                "active",
                start,
                None,
                None,
                False,
                None,
                None,
                None,
                -1 if promo is None else promo.index,
                affiliate,
                None,
                None,
                0,
            ]
        )
        return len(self.memberships) - 1

    def _state(
        self,
        m: int,
        t: int,
        status: str | None = None,
        plan: Plan | None = None,
        price: int | None = None,
        cap: bool | None = None,
    ) -> None:
        """Record the state from ``t`` on if it differs from the membership's current one."""
        row = self.memberships[m]
        last = self._last.get(m)
        new = (
            status if status is not None else last[1] if last else "active",
            plan.index if plan is not None else last[2] if last else row[1],
            price if price is not None else last[3] if last else 0,
            cap if cap is not None else last[4] if last else False,
        )
        if last is not None and last[1:] == new:
            return
        self.changes.append((m, t, new[0], last[1] if last else None, new[1], new[2], new[3]))
        self._last[m] = (t, *new)
        row[2], row[1], row[14], row[6] = new[0], new[1], new[2], new[3]

    def __post_init__(self) -> None:
        self._last: dict[int, tuple[Any, ...]] = {}

    # payments: [membership, member, plan, promo, status, substatus, reason, subtotal, price, created, paid_at,
    #            failed, decline, last_attempt, next_attempt, refunded, refunded_at, updated, ip, card]
    def _charge(
        self, m: int, member: int, plan: Plan, promo: Promo | None, reason: str, price: int, t: int, ip: int, card: int
    ) -> int:
        self.payments.append(
            [
                m,
                member,
                plan.index,
                -1 if promo is None else promo.index,
                "paid",
                "succeeded",
                reason,
                plan.price,
                price,
                t,
                t,
                0,
                None,
                t,
                None,
                0,
                None,
                t,
                ip,
                card,
            ]
        )
        return len(self.payments) - 1

    def _refund(self, p: int, t: int, fraction: float, reason: str = "requested_by_customer") -> None:
        pay = self.payments[p]
        total = _total(int(pay[8]), self._currency_of(p))
        amount = total if fraction >= 1.0 else max(1, round(total * fraction))
        pay[5] = "refunded" if amount >= total else "partially_refunded"
        pay[15], pay[16], pay[17] = amount, t, t
        status = "succeeded" if t < self.horizon - 2 * DAY else "pending"
        self.refunds.append((p, amount, reason, t, status))

    def _dispute(self, p: int, t: int) -> None:
        pay = self.payments[p]
        total = _total(int(pay[8]), self._currency_of(p))
        age = self.horizon - t
        if age > 75 * DAY:
            status = "won" if self.dice.u() < 0.4 else "lost"
            updated = t + self.dice.between(20 * DAY, 70 * DAY)
        elif age > 20 * DAY:
            status, updated = "under_review", t + self.dice.between(5 * DAY, 19 * DAY)
        else:
            status, updated = "needs_response", t
        pay[5], pay[17] = f"dispute_{status}", updated
        reason = DISPUTE_REASONS[int(self.dice.u() * len(DISPUTE_REASONS))]
        self.disputes.append((p, total, status, reason, t, updated))

    def _currency_of(self, p: int) -> str:
        return self.plans[int(self.payments[p][2])].currency

    def _cancel(self, m: int, t: int, z: float, *, at_period_end: bool) -> None:
        d = self.dice
        low = z < -0.5 and d.u() < 0.35
        option = "unused" if low else CANCEL_OPTIONS[d.pick(_CANCEL_CUM)]
        texts = CANCEL_TEXT[option]
        text = texts[int(d.u() * len(texts))] if d.u() < 0.7 else None
        row = self.memberships[m]
        row[6], row[7], row[8], row[9] = at_period_end, t, option, text

    def _end(self, m: int, t: int, status: str) -> None:
        self._state(m, t, status=status)
        self.memberships[m][13] = t

    # ---- the two kinds of membership -------------------------------------------------------------------
    def one_time(
        self, member: int, plan: Plan, start: int, promo: Promo | None, affiliate: int, ip: int, card: int, z: float
    ) -> tuple[int, Outcome]:
        """A one-time purchase: ``completed`` at once; sometimes refunded or disputed later."""
        d = self.dice
        m = self._membership(member, plan, start, promo, affiliate)
        price = promo.discounted(plan.price, 0, 0) if promo is not None else None
        p = self._charge(
            m,
            member,
            plan,
            promo if price is not None else None,
            "one_time",
            plan.price if price is None else price,
            start,
            ip,
            card,
        )
        self._state(m, start, status="completed", plan=plan, price=0, cap=False)
        u = d.u()
        if u < 0.06:
            t = start + d.between(HOUR, 14 * DAY)
            if t < self.horizon:
                self._refund(p, t, 1.0)
        elif u < 0.068:
            t = start + d.between(5 * DAY, 40 * DAY)
            if t < self.horizon:
                self._dispute(p, t)
        return m, Outcome(None)

    def subscription(
        self,
        member: int,
        plan: Plan,
        start: int,
        promo: Promo | None,
        affiliate: int,
        ip: int,
        card: int,
        z: float,
        *,
        trial: bool,
        ring: bool = False,
    ) -> tuple[int, Outcome]:
        """A renewal membership from ``start`` until it ends or the horizon."""
        d, horizon = self.dice, self.horizon
        m = self._membership(member, plan, start, promo, affiliate)
        row = self.memberships[m]
        anchor: int | None = None
        if trial and plan.trial:
            trial_end = start + plan.trial * DAY
            row[12], row[4], row[5] = trial_end, start, trial_end
            self._state(m, start, status="trialing", plan=plan, price=0, cap=False)
            if d.u() >= 1.0 / (1.0 + math.exp(-(0.2 + 1.2 * z))):
                status = "expired"
                if d.u() < TRIAL_CANCEL_SHARE:
                    status = "canceled"
                    anchor = start + int((0.1 + 0.85 * d.u()) * (trial_end - start))
                    if anchor >= horizon:
                        return m, Outcome(None)
                    self._state(m, anchor, cap=True)
                    self._cancel(m, anchor, z, at_period_end=True)
                    row[13] = trial_end
                if trial_end >= horizon:
                    return m, Outcome(None, None, anchor)
                self._end(m, trial_end, status)
                return m, Outcome(trial_end, "trial", anchor)
            period_start, can_fail, fail_p = trial_end, True, FAIL_TRIAL_CONVERSION
        else:
            period_start, can_fail, fail_p = start, False, FAIL_RENEWAL
        reason, charge_no, first_charge = "subscription_create", 0, period_start
        while period_start < horizon:
            discounted = promo.discounted(plan.price, charge_no, period_start - first_charge) if promo else None
            price = plan.price if discounted is None else discounted
            p = self._charge(
                m, member, plan, promo if discounted is not None else None, reason, price, period_start, ip, card
            )
            period_end = period_start + int(plan.period or 30) * DAY
            row[4], row[5] = period_start, period_end
            if can_fail and d.u() < fail_p:
                self._state(m, period_start, status="past_due", plan=plan, price=price)
                active_from = self._dunning(m, p, period_start)
                if active_from is None:
                    return m, Outcome(None)  # still retrying at the horizon
                if active_from < 0:
                    return m, Outcome(-active_from, "delinquent")
                self._state(m, active_from, status="active")
            else:
                self._state(m, period_start, status="active", plan=plan, price=price)
                active_from = period_start
            if ring:
                return m, self._ring_exit(m, p, active_from, z)
            months = int(plan.period or 30) / 30.0
            tenure = period_start - start
            hazard = min(0.05 * math.exp(-0.6 * z) * (1.5 if tenure < 90 * DAY else 1.0), 0.6)
            p_cancel = 1.0 - (1.0 - hazard) ** months
            u = d.u()
            if u < DISPUTE_PER_CHARGE:
                t = active_from + d.between(3 * DAY, 25 * DAY)
                if t < min(period_end, horizon):
                    self._dispute(p, t)
                    self._end(m, t, "canceled")
                    return m, Outcome(t, "dispute", t)
            elif u < DISPUTE_PER_CHARGE + p_cancel:
                t = d.between(active_from + HOUR, period_end - HOUR)
                if t >= horizon:
                    return m, Outcome(None)
                if d.u() < IMMEDIATE_CANCEL_SHARE:
                    self._cancel(m, t, z, at_period_end=False)
                    if d.u() < 0.5:
                        recent = t - int(self.payments[p][10]) < 7 * DAY
                        self._refund(p, t, 1.0 if recent else (period_end - t) / (period_end - period_start))
                    self._end(m, t, "canceled")
                    return m, Outcome(t, "voluntary", t)
                self._cancel(m, t, z, at_period_end=True)
                self._state(m, t, cap=True)
                row[13] = period_end
                if period_end >= horizon:
                    return m, Outcome(None, None, t)
                self._end(m, period_end, "canceled")
                return m, Outcome(period_end, "voluntary", t)
            elif u < DISPUTE_PER_CHARGE + p_cancel + CHANGE_PER_PERIOD and plan.alternatives:
                t = d.between(active_from + HOUR, period_end - HOUR)
                if t < horizon:
                    plan = self.plans[plan.alternatives[int(d.u() * len(plan.alternatives))]]
                    promo, reason, can_fail = None, "subscription_update", False
                    period_start, charge_no = t, charge_no + 1
                    continue
            if d.u() < REFUND_PER_CHARGE:
                t = int(self.payments[p][10]) + d.between(DAY, 10 * DAY)
                if t < min(period_end, horizon):
                    self._refund(p, t, 1.0 if d.u() < 0.6 else 0.5)
            period_start, charge_no = period_end, charge_no + 1
            reason, can_fail, fail_p = "subscription_cycle", True, FAIL_RENEWAL
        return m, Outcome(None)

    def _dunning(self, m: int, p: int, first_attempt: int) -> int | None:
        """Retry a failed charge; the recovery instant, ``None`` if still retrying at the horizon, or
        ``-t`` when the retries are exhausted at ``t`` (the membership has then expired)."""
        d = self.dice
        pay = self.payments[p]
        code = d.pick(_DECLINE_CUM)
        pay[4], pay[5], pay[10], pay[11], pay[12] = "open", "failed", None, 1, code
        for days in RETRY_DAYS:
            t = first_attempt + days * DAY + d.between(0, 2 * HOUR)
            if t >= self.horizon:
                pay[14] = t
                return None
            pay[13] = pay[17] = t
            if d.u() < RECOVER_PER_RETRY:
                pay[4], pay[5], pay[10] = "paid", "succeeded", t
                return t
            pay[11] = int(pay[11]) + 1
        pay[4], pay[5] = "uncollectible", "uncollectible"
        last = int(pay[13])
        self._end(m, last, "expired")
        return -last

    def _ring_exit(self, m: int, p: int, paid_at: int, z: float) -> Outcome:
        """Refund-ring members get their money back within days (or charge back) and leave at once."""
        d = self.dice
        t = paid_at + d.between(2 * DAY, 9 * DAY)
        if t >= self.horizon:
            return Outcome(None)
        if d.u() < 0.3:
            self._dispute(p, t)
        else:
            self._refund(p, t, 1.0, "requested_by_customer")
        self._cancel(m, t, z, at_period_end=False)
        self._end(m, t, "canceled")
        return Outcome(t, "ring", t)


def _total(price: int, currency: str) -> int:
    """Charged total: the discounted price plus VAT (20 %, exclusive) on eur and gbp charges."""
    return price + tax_on(price, currency)


def tax_on(price: int, currency: str) -> int:
    """Tax added to a charge of ``price`` (VAT 20 % on eur/gbp; none on usd)."""
    return 0 if currency == "usd" else (price * 20 + 50) // 100
