"""Turn a simulated batch into store tables: members, memberships, status changes, payments, refunds, disputes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.demo.catalog import Catalog
from analytics.demo.frames import or_none, store_frame
from analytics.demo.ids import AccountIds
from analytics.demo.lifecycle import DECLINES, tax_on
from analytics.demo.market import FxRates
from analytics.demo.members import MemberBatch
from analytics.demo.people import names, phone_numbers
from analytics.demo.population import Population

__all__ = ["BatchIds", "ledger_tables", "member_table"]


@dataclass
class BatchIds:
    """The ids given to a batch's memberships and payments (indexed by their local numbers)."""

    memberships: npt.NDArray[np.str_]
    payments: npt.NDArray[np.str_]
    payment_rows: pd.DataFrame = field(default_factory=pd.DataFrame)


def _col(rows: Sequence[Sequence[Any]], k: int) -> list[Any]:
    return [r[k] for r in rows]


def ledger_tables(
    batch: MemberBatch, catalog: Catalog, pop: Population, fx: FxRates, ids: AccountIds
) -> tuple[list[tuple[str, pd.DataFrame]], BatchIds]:
    """Memberships, membership_status_changes, payments, refunds and disputes of a batch."""
    acct = catalog.account.id
    led = batch.ledger
    plans = catalog.plans
    mem_ids = ids("mem_").take(len(led.memberships))
    pay_ids = ids("pay_").take(len(led.payments))
    member_ids = ids("mber_")
    user_ids = ids("user_")
    ms = led.memberships
    n = len(ms)
    mem_member = np.array(_col(ms, 0), dtype=np.int64)
    mem_plan = [plans[int(p)] for p in _col(ms, 1)]
    last_change: dict[int, int] = {}
    for row in led.changes:
        last_change[int(row[0])] = int(row[1])
    promo_ids = [p.id for p in catalog.promos]
    aff_ids = ids("aff_").of(np.arange(len(pop.aff_member)))
    memberships = store_frame(
        "memberships",
        {
            "account_id": [acct] * n,
            "id": mem_ids,
            "member_id": member_ids.of(mem_member),
            "user_id": user_ids.of(mem_member),
            "product_id": [p.product_id for p in mem_plan],
            "plan_id": [p.id for p in mem_plan],
            "status": _col(ms, 2),
            "currency": [p.currency for p in mem_plan],
            "initial_price_minor": [p.price for p in mem_plan],
            "renewal_price_minor": _col(ms, 14),
            "billing_period_days": [p.period for p in mem_plan],
            "current_period_start": _col(ms, 4),
            "current_period_end": _col(ms, 5),
            "cancel_at_period_end": _col(ms, 6),
            "canceled_at": _col(ms, 7),
            "cancel_option": _col(ms, 8),
            "cancellation_reason": _col(ms, 9),
            "promo_code_id": [None if int(r[10]) < 0 else promo_ids[int(r[10])] for r in ms],
            "affiliate_id": [None if int(r[11]) < 0 else str(aff_ids[int(r[11])]) for r in ms],
            "trial_ends_at": _col(ms, 12),
            "expires_at": _col(ms, 13),
            "created_at": _col(ms, 3),
            "updated_at": [max(last_change[k], int(r[4] or 0)) for k, r in enumerate(ms)],
        },
    )

    ch = led.changes
    seq: dict[int, int] = {}
    change_ids = []
    for row in ch:
        m = int(row[0])
        seq[m] = seq.get(m, 0) + 1
        change_ids.append(f"msc_{mem_ids[m][4:]}_{seq[m]:02d}")
    ch_mem = np.array(_col(ch, 0), dtype=np.int64)
    ch_plan = [plans[int(p)] for p in _col(ch, 4)]
    changes = store_frame(
        "membership_status_changes",
        {
            "account_id": [acct] * len(ch),
            "id": change_ids,
            "membership_id": mem_ids[ch_mem],
            "member_id": member_ids.of(mem_member[ch_mem]),
            "changed_at": _col(ch, 1),
            "status": _col(ch, 2),
            "previous_status": _col(ch, 3),
            "plan_id": [p.id for p in ch_plan],
            "currency": [p.currency for p in ch_plan],
            "renewal_price_minor": _col(ch, 5),
            "billing_period_days": [p.period for p in ch_plan],
            "cancel_at_period_end": _col(ch, 6),
            "source": ["demo"] * len(ch),
        },
    )

    ps = led.payments
    k = len(ps)
    pay_mem = np.array(_col(ps, 0), dtype=np.int64)
    pay_member = np.array(_col(ps, 1), dtype=np.int64)
    pay_plan = [plans[int(p)] for p in _col(ps, 2)]
    price = np.array(_col(ps, 8), dtype=np.int64)
    tax = np.array([tax_on(int(pr), p.currency) for pr, p in zip(price, pay_plan, strict=True)], dtype=np.int64)
    total = price + tax
    status = _col(ps, 4)
    created = np.array(_col(ps, 9), dtype=np.int64)
    paid = np.array([s == "paid" for s in status])
    fee = total * 29 // 1000 + 30
    usd_total = [fx.usd_minor(int(t), p.currency, int(c)) for t, p, c in zip(total, pay_plan, created, strict=True)]
    reasons = _col(ps, 6)
    checkout = np.array([r in ("subscription_create", "one_time") for r in reasons])
    ip_hash = ids.hashes(np.array(_col(ps, 18), dtype=np.uint64), "ip")
    card_hash = ids.hashes(np.array(_col(ps, 19), dtype=np.uint64), "card")
    decline = [None if r[12] is None else DECLINES[int(r[12])] for r in ps]
    payments = store_frame(
        "payments",
        {
            "account_id": [acct] * k,
            "id": pay_ids,
            "member_id": member_ids.of(pay_member),
            "membership_id": mem_ids[pay_mem],
            "user_id": user_ids.of(pay_member),
            "product_id": [p.product_id for p in pay_plan],
            "plan_id": [p.id for p in pay_plan],
            "promo_code_id": [None if int(r[3]) < 0 else promo_ids[int(r[3])] for r in ps],
            "status": status,
            "substatus": _col(ps, 5),
            "billing_reason": reasons,
            "currency": [p.currency for p in pay_plan],
            "subtotal_minor": _col(ps, 7),
            "total_minor": total,
            "tax_minor": tax,
            "amount_after_fees_minor": np.where(paid, total - fee, 0),
            "usd_total_minor": usd_total,
            "refunded_amount_minor": _col(ps, 15),
            "refunded_at": _col(ps, 16),
            "paid_at": _col(ps, 10),
            "payments_failed": _col(ps, 11),
            "failure_message": [None if x is None else x[1] for x in decline],
            "decline_code": [None if x is None else x[0] for x in decline],
            "last_payment_attempt_at": _col(ps, 13),
            "next_payment_attempt_at": _col(ps, 14),
            "ip_hash": or_none(checkout, ip_hash),
            "payment_method_fingerprint": card_hash,
            "created_at": created,
            "updated_at": _col(ps, 17),
        },
    )

    rf = led.refunds
    rf_pay = np.array(_col(rf, 0), dtype=np.int64)
    refunds = store_frame(
        "refunds",
        {
            "account_id": [acct] * len(rf),
            "id": ids("rf_").take(len(rf)),
            "payment_id": pay_ids[rf_pay],
            "currency": [pay_plan[int(p)].currency for p in rf_pay],
            "amount_minor": _col(rf, 1),
            "status": _col(rf, 4),
            "reason": _col(rf, 2),
            "provider": ["stripe"] * len(rf),
            "created_at": _col(rf, 3),
            "updated_at": _col(rf, 3),
        },
    )
    dp = led.disputes
    dp_pay = np.array(_col(dp, 0), dtype=np.int64)
    disputes = store_frame(
        "disputes",
        {
            "account_id": [acct] * len(dp),
            "id": ids("dspt_").take(len(dp)),
            "payment_id": pay_ids[dp_pay],
            "currency": [pay_plan[int(p)].currency for p in dp_pay],
            "amount_minor": _col(dp, 1),
            "status": _col(dp, 2),
            "reason": _col(dp, 3),
            "created_at": _col(dp, 4),
            "updated_at": _col(dp, 5),
        },
    )
    refunded_usd = np.array(
        [fx.usd_minor(int(r), pay_plan[j].currency, int(created[j])) for j, r in enumerate(_col(ps, 15))],
        dtype=np.int64,
    )
    payment_rows = pd.DataFrame(
        {
            "id": pay_ids,
            "membership": pay_mem,
            "membership_id": mem_ids[pay_mem],
            "member": pay_member,
            "paid": paid,
            "paid_at": _col(ps, 10),
            "price": price,
            "currency": [p.currency for p in pay_plan],
            "substatus": _col(ps, 5),
            "refunded_at": _col(ps, 16),
            "failed": np.array(_col(ps, 11), dtype=np.int64) > 0,
            "created": created,
            "spent_usd": np.where(paid, np.array(usd_total, dtype=np.int64) - refunded_usd, 0),
        }
    )
    tables = [
        ("memberships", memberships),
        ("membership_status_changes", changes),
        ("payments", payments),
        ("refunds", refunds),
        ("disputes", disputes),
    ]
    return tables, BatchIds(mem_ids, pay_ids, payment_rows)


def member_table(
    batch: MemberBatch,
    catalog: Catalog,
    pop: Population,
    ids: AccountIds,
    bids: BatchIds,
    last_active: dict[int, int],
    horizon: int,
) -> pd.DataFrame:
    """The ``members`` rows of a batch (status, access, latest action and lifetime spend from its ledger)."""
    members = batch.members
    n = len(members)
    led = batch.ledger
    by_member: dict[int, list[int]] = {}
    for m, member in enumerate(batch.membership_member):
        by_member.setdefault(member, []).append(m)
    spent = bids.payment_rows.groupby("member")["spent_usd"].sum().to_dict() if len(bids.payment_rows) else {}
    last_event: dict[int, int] = {}
    for row in led.changes:
        member = batch.membership_member[int(row[0])]
        last_event[member] = max(last_event.get(member, 0), int(row[1]))
    cols: dict[str, list[Any]] = {
        k: [] for k in ("status", "access_level", "most_recent_action", "most_recent_action_at", "joined_at")
    }
    for i in members.tolist():
        states = [(str(led.memberships[m][2]), bool(led.memberships[m][6])) for m in by_member.get(i, [])]
        valid = [s for s, _cap in states if s in ("trialing", "active", "past_due", "completed")]
        if pop.lead[i]:
            action, status, access = "joined", "joined", "no_access"
        elif not valid:
            action, status, access = "churned", "left", "no_access"
        else:
            status, access = "joined", "customer"
            if "past_due" in valid:
                action = "past_due"
            elif any(s in ("active", "trialing") and cap for s, cap in states):
                action = "canceling"
            elif "active" in valid:
                action = "paid_subscriber"
            elif "trialing" in valid:
                action = "trialing"
            else:
                action = "paid_once"
        cols["status"].append(status)
        cols["access_level"].append(access)
        cols["most_recent_action"].append(action)
        cols["most_recent_action_at"].append(last_event.get(i, int(pop.signup[i])))
        cols["joined_at"].append(int(pop.signup[i]))
    first, last, handles, emails = names(members)
    member_ids = ids("mber_").of(members)
    return store_frame(
        "members",
        {
            "account_id": [catalog.account.id] * n,
            "id": member_ids,
            "user_id": ids("user_").of(members),
            "email": emails,
            "username": handles,
            "display_name": [f"{f} {ln}" for f, ln in zip(first, last, strict=True)],
            "phone_number": phone_numbers(members, pop, ids),
            "country": pop.country[members],
            "status": cols["status"],
            "access_level": cols["access_level"],
            "most_recent_action": cols["most_recent_action"],
            "most_recent_action_at": cols["most_recent_action_at"],
            "joined_at": cols["joined_at"],
            "last_accessed_at": [last_active.get(int(i)) for i in members],
            "usd_total_spent_minor": [int(spent.get(int(i), 0)) for i in members],
            "created_at": cols["joined_at"],
            "updated_at": [
                max(int(a), last_active.get(int(i), 0))
                for a, i in zip(cols["most_recent_action_at"], members, strict=True)
            ],
        },
    )
