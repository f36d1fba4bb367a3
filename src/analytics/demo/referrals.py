"""Affiliates, referral clicks, referrals, shares and commissions, with a small share of planted fraud.

Planted fraud patterns (and their labels, returned by the generator as ``fraud_labels``, never stored):

* ``self_referral``: the referred member signs up from the affiliate's own IP and device (same ``ip_hash`` and
  ``device_hash`` on the click, the referral and the checkout payment as the affiliate's own);
* ``click_burst``: bursts of 40–250 clicks within minutes from one to three IPs/devices (half flagged as bots);
* ``refund_ring``: five consecutive referred signups sharing device, IP and card fingerprint, each refunded or
  charged back within days; their commissions are reversed.

Labels name the subject (``affiliate``, ``click``, ``referral`` or ``commission``) and its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.demo.calendar import DAY, HOUR
from analytics.demo.catalog import Catalog
from analytics.demo.frames import store_frame
from analytics.demo.ids import AccountIds
from analytics.demo.population import Population

__all__ = ["LABEL_COLUMNS", "AffiliatePlan", "plan_affiliates", "referral_tables"]

LABEL_COLUMNS = ["account_id", "subject_type", "subject_id", "affiliate_id", "pattern"]
_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36",
)
_BOT_AGENTS = ("python-requests/2.32.3", "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0 Safari/537.36")
_PLATFORMS = ("x", "instagram", "tiktok", "youtube", "discord", "whatsapp", "telegram", "email", "reddit", "other")
_PLATFORM_P = np.array([20, 18, 16, 8, 12, 8, 6, 4, 5, 3], dtype=float)
_VISITOR_BASE = 1 << 40  # IP/device numbers of anonymous visitors (members use their own number)


@dataclass
class AffiliatePlan:
    """Per-affiliate settings and the account-level rows (affiliates, shares, organic and burst clicks)."""

    ids: npt.NDArray[np.str_]
    codes: list[str]
    percent: npt.NDArray[np.int64]  # 0 = flat fee
    all_payments: npt.NDArray[np.bool_]
    burst_affiliates: npt.NDArray[np.int64]
    landing: list[str]


def plan_affiliates(
    rng: np.random.Generator,
    catalog: Catalog,
    pop: Population,
    ids: AccountIds,
    usernames: list[str],
    horizon: int,
) -> tuple[AffiliatePlan, pd.DataFrame, pd.DataFrame]:
    """Affiliates (rows), their shares (rows) and the plan used by batches."""
    acct = catalog.account.id
    n = len(pop.aff_member)
    aff_ids = ids("aff_").of(np.arange(n))
    member_ids = ids("mber_").of(pop.aff_member)
    user_ids = ids("user_").of(pop.aff_member)
    codes = [f"{u.upper()[:10]}{k}" for k, u in enumerate(usernames)]
    flat = rng.random(n) < 0.2
    percent = np.where(flat, 0, rng.choice([20, 25, 30], n))
    candidates = np.setdiff1d(np.arange(n), pop.ring_affiliate)
    n_burst = min(max(1, n // 25), len(candidates))
    bursts = np.sort(rng.choice(candidates, n_burst, replace=False)) if n_burst else np.zeros(0, dtype=np.int64)
    plan = AffiliatePlan(
        aff_ids,
        codes,
        percent,
        rng.random(n) < 0.5,
        bursts,
        [f"https://whop.com/{catalog.account.route}/?a={c}" for c in codes],
    )
    affiliates = store_frame(
        "affiliates",
        {
            "account_id": [acct] * n,
            "id": aff_ids,
            "member_id": member_ids,
            "user_id": user_ids,
            "code": codes,
            "status": np.where(rng.random(n) < 0.9, "active", "archived"),
            "commission_type": np.where(flat, "flat_fee", "percentage"),
            "commission_percent": [None if f else Decimal(int(p)) for f, p in zip(flat, percent, strict=True)],
            "commission_amount_minor": [1000 if f else None for f in flat],
            "currency": ["usd"] * n,
            "created_at": pop.aff_created,
            "updated_at": pop.aff_created + DAY,
        },
    )
    # Shares: a few a week for keen affiliates, with streaks of daily shares.
    days = np.maximum((horizon - pop.aff_created) // DAY, 0)
    counts = rng.poisson(0.12 * np.sqrt(pop.aff_weight) * days)
    owner = np.repeat(np.arange(n), counts)
    at = pop.aff_created[owner] + (rng.random(len(owner)) * days[owner] * DAY).astype(np.int64)
    shares = store_frame(
        "shares",
        {
            "account_id": [acct] * len(owner),
            "id": ids("shr_").take(len(owner)),
            "affiliate_id": aff_ids[owner],
            "member_id": member_ids[owner],
            "platform": np.array(_PLATFORMS)[
                rng.choice(len(_PLATFORMS), len(owner), p=_PLATFORM_P / _PLATFORM_P.sum())
            ],
            "shared_at": np.minimum(at, horizon - 1),
        },
    )
    return plan, affiliates, shares


def click_chunks(
    rng: np.random.Generator,
    catalog: Catalog,
    pop: Population,
    plan: AffiliatePlan,
    ids: AccountIds,
    horizon: int,
    labels: list[tuple[str, str, str, str, str]],
    *,
    per_chunk: int = 200,
) -> Iterator[pd.DataFrame]:
    """Organic and burst clicks (converting clicks are written with their referral), in affiliate groups."""
    acct = catalog.account.id
    n = len(pop.aff_member)
    make = ids("clk_")
    for lo in range(0, n, per_chunk):
        group = np.arange(lo, min(n, lo + per_chunk))
        days = np.maximum((horizon - pop.aff_created[group]) // DAY, 0)
        counts = rng.poisson(0.3 * pop.aff_weight[group] * days)
        owner = np.repeat(group, counts)
        at = pop.aff_created[owner] + (rng.random(len(owner)) * (horizon - pop.aff_created[owner])).astype(np.int64)
        visitor = _VISITOR_BASE + make.issued + np.arange(len(owner))
        bot = rng.random(len(owner)) < 0.02
        agents = np.where(bot, _BOT_AGENTS[0], np.array(_AGENTS)[rng.integers(0, len(_AGENTS), len(owner))])
        parts = [(owner, at, visitor, visitor, agents, bot, np.zeros(len(owner), dtype=bool))]
        for a in np.intersect1d(group, plan.burst_affiliates).tolist():
            for _ in range(int(rng.integers(2, 5))):
                start = int(rng.integers(int(pop.aff_created[a]), horizon - HOUR))
                k = int(rng.integers(40, 251))
                sources = _VISITOR_BASE - 1 - rng.integers(0, 1_000_000, int(rng.integers(1, 4)))
                src = sources[rng.integers(0, len(sources), k)]
                is_bot = bool(rng.random() < 0.5)
                parts.append(
                    (
                        np.full(k, a),
                        start + np.sort(rng.integers(0, 15 * 60, k)),
                        src,
                        src,
                        np.full(k, _BOT_AGENTS[1] if is_bot else _AGENTS[1]),
                        np.full(k, is_bot),
                        np.ones(k, dtype=bool),
                    )
                )
        owner = np.concatenate([p[0] for p in parts])
        click_ids = make.take(len(owner))
        burst = np.concatenate([p[6] for p in parts])
        for cid, a in zip(click_ids[burst], owner[burst], strict=True):
            labels.append((acct, "click", str(cid), str(plan.ids[a]), "click_burst"))
        for a in np.unique(owner[burst]).tolist():
            labels.append((acct, "affiliate", str(plan.ids[a]), str(plan.ids[a]), "click_burst"))
        yield _click_frame(
            acct,
            click_ids,
            plan,
            owner,
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]),
            np.concatenate([p[4] for p in parts]),
            np.concatenate([p[5] for p in parts]),
            ids,
        )


def _click_frame(
    acct: str,
    click_ids: npt.NDArray[np.str_],
    plan: AffiliatePlan,
    owner: npt.NDArray[np.int64],
    at: npt.NDArray[np.int64],
    ip: npt.NDArray[np.int64],
    device: npt.NDArray[np.int64],
    agents: npt.NDArray[np.str_],
    bot: npt.NDArray[np.bool_],
    ids: AccountIds,
) -> pd.DataFrame:
    return store_frame(
        "referral_clicks",
        {
            "account_id": [acct] * len(owner),
            "id": click_ids,
            "affiliate_id": plan.ids[owner],
            "clicked_at": at,
            "ip_hash": ids.hashes(ip.astype(np.uint64), "ip"),
            "device_hash": ids.hashes(device.astype(np.uint64), "device"),
            "user_agent": agents,
            "landing_url": np.array(plan.landing, dtype=object)[owner],
            "is_bot": bot,
        },
    )


def referral_tables(
    rng: np.random.Generator,
    catalog: Catalog,
    pop: Population,
    plan: AffiliatePlan,
    ids: AccountIds,
    referred: pd.DataFrame,
    payments: pd.DataFrame,
    labels: list[tuple[str, str, str, str, str]],
    horizon: int,
) -> list[tuple[str, pd.DataFrame]]:
    """Converting clicks, referrals and commissions of a batch's referred members.

    ``referred``: member, affiliate, membership (id), signed_up_at. ``payments``: the batch's payment facts
    (id, membership id, paid, paid_at, price, currency, substatus, refunded_at).
    """
    acct = catalog.account.id
    if referred.empty:
        return []
    member = referred["member"].to_numpy(dtype=np.int64)
    aff = referred["affiliate"].to_numpy(dtype=np.int64)
    signup = referred["signed_up_at"].to_numpy(dtype=np.int64)
    clicked = np.maximum(
        signup - rng.exponential(1.5 * DAY, len(member)).astype(np.int64) - 60, pop.aff_created[aff] + HOUR
    )
    clicked = np.minimum(clicked, signup - 30)
    click_ids = ids("clk_").of(np.uint64(1 << 31) + member.astype(np.uint64))
    ip = pop.ip[member]
    device = pop.device[member]
    clicks = _click_frame(
        acct,
        click_ids,
        plan,
        aff,
        clicked,
        ip,
        device,
        np.array(_AGENTS)[member % len(_AGENTS)],
        np.zeros(len(member), dtype=bool),
        ids,
    )
    first_paid = payments[payments["paid"]].sort_values("created").groupby("membership_id")["id"].first()
    ref_ids = ids("ref_").of(member)
    referrals = store_frame(
        "referrals",
        {
            "account_id": [acct] * len(member),
            "id": ref_ids,
            "affiliate_id": plan.ids[aff],
            "click_id": click_ids,
            "member_id": ids("mber_").of(member),
            "membership_id": referred["membership_id"].to_numpy(),
            "signed_up_at": signup,
            "first_payment_id": [first_paid.get(m) for m in referred["membership_id"]],
            "ip_hash": ids.hashes(ip, "ip"),
            "device_hash": ids.hashes(device, "device"),
        },
    )
    ring = pop.ring[member] >= 0
    for rid, a, is_self, is_ring in zip(ref_ids, aff, pop.self_referral[member], ring, strict=True):
        if is_self:
            labels.append((acct, "referral", str(rid), str(plan.ids[a]), "self_referral"))
        if is_ring:
            labels.append((acct, "referral", str(rid), str(plan.ids[a]), "refund_ring"))
    # Commissions on the referred membership's paid charges (first charge only, or all, per affiliate).
    info = referred.set_index("membership_id")
    pays = payments[payments["paid"] & payments["membership_id"].isin(info.index)].copy()
    if pays.empty:
        return [("referral_clicks", clicks), ("referrals", referrals)]
    pays["affiliate"] = info.loc[pays["membership_id"], "affiliate"].to_numpy()
    pays["member"] = info.loc[pays["membership_id"], "member"].to_numpy()
    pays = pays.sort_values(["membership_id", "created"], kind="stable")
    first = ~pays["membership_id"].duplicated()
    a_arr = pays["affiliate"].to_numpy(dtype=np.int64)
    pays = pays[first.to_numpy() | plan.all_payments[a_arr]]
    a_arr = pays["affiliate"].to_numpy(dtype=np.int64)
    pct = plan.percent[a_arr]
    amount = np.where(pct > 0, (pays["price"].to_numpy() * pct + 50) // 100, 1000)
    paid_at = pays["paid_at"].to_numpy(dtype=np.int64)
    reversed_ = (
        pays["substatus"].isin(["refunded", "partially_refunded"]).to_numpy()
        | pays["substatus"].str.startswith("dispute").to_numpy()
    )
    age = horizon - paid_at
    status = np.where(
        reversed_, "reversed", np.where(age > 30 * DAY, "paid", np.where(age > 7 * DAY, "approved", "pending"))
    )
    refunded_at = pd.to_numeric(pays["refunded_at"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    com_ids = ids("com_").take(len(pays))
    commissions = store_frame(
        "commissions",
        {
            "account_id": [acct] * len(pays),
            "id": com_ids,
            "affiliate_id": plan.ids[a_arr],
            "referral_id": ids("ref_").of(pays["member"].to_numpy(dtype=np.int64)),
            "payment_id": pays["id"].to_numpy(),
            "member_id": ids("mber_").of(pays["member"].to_numpy(dtype=np.int64)),
            "currency": pays["currency"].to_numpy(),
            "amount_minor": amount,
            "status": status,
            "created_at": paid_at,
            "updated_at": np.maximum(paid_at, refunded_at),
        },
    )
    for cid, a, m in zip(com_ids, a_arr, pays["member"].to_numpy(dtype=np.int64), strict=True):
        if pop.ring[m] >= 0:
            labels.append((acct, "commission", str(cid), str(plan.ids[a]), "refund_ring"))
    return [("referral_clicks", clicks), ("referrals", referrals), ("commissions", commissions)]
