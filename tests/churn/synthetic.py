"""A small synthetic subscription business whose churn is driven by engagement (for model tests).

Each member has a latent engagement ``z ~ N(0, 1)``: daily activity ``~ Poisson(exp(-0.4 + 0.9 z))`` and a
monthly churn probability ``1 / (1 + exp(2.3 + 1.3 z))``. A member who decides to leave at renewal ``T`` slows
down to a fifth of their activity over the 21 days before ``T``, half of them ask to cancel (``canceling``,
``cancel_at_period_end``) 10 days before, and the membership is ``canceled`` at ``T``. Payments at every renewal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.store import schema as s
from analytics.store import upsert_rows

ACCOUNT = "biz_synth"


def _rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def build_synthetic(engine: sa.Engine, *, members: int = 150, days: int = 270, end: date, seed: int = 3) -> None:
    """Write the synthetic business (account ``biz_synth``) with history from ``end − days`` to ``end``."""
    rng = np.random.default_rng(seed)
    start = datetime.combine(end - timedelta(days=days), datetime.min.time(), tzinfo=UTC)
    stop = start + timedelta(days=days)
    changes, events, pays = [], [], []
    for i in range(members):
        mid, msid = f"m{i:04d}", f"ms{i:04d}"
        z = rng.normal()
        join = start + timedelta(days=float(rng.uniform(0, days - 20)), hours=float(rng.uniform(0, 24)))
        price = int(rng.choice([2000, 3000, 5000]))
        churn_p = 1 / (1 + np.exp(2.3 + 1.3 * z))
        renewals = int(rng.geometric(churn_p))  # periods paid before leaving
        leave = join + timedelta(days=30 * renewals)
        changes.append((mid, msid, join, "active", price, False))
        if leave < stop and rng.random() < 0.5:
            changes.append((mid, msid, leave - timedelta(days=10), "canceling", price, True))
        if leave < stop:
            changes.append((mid, msid, leave, "canceled", price, False))
        for k in range(renewals):
            paid = join + timedelta(days=30 * k, minutes=5)
            if paid < stop:
                pays.append((mid, msid, paid, price))
        last = min(leave, stop)
        n_days = int((last - join).days)
        if n_days <= 0:
            continue
        offsets = np.arange(n_days)
        rate = np.exp(-0.4 + 0.9 * z) * np.ones(n_days)
        day_at = np.array([join + timedelta(days=int(o)) for o in offsets])
        fading = np.array([(leave - d).days < 21 for d in day_at]) if leave < stop else np.zeros(n_days, bool)
        rate[fading] *= 0.2
        counts = rng.poisson(rate)
        for o, c in zip(offsets[counts > 0], counts[counts > 0], strict=True):
            for _ in range(int(c)):
                kind = str(rng.choice(["login", "message", "view"], p=[0.5, 0.2, 0.3]))
                events.append((mid, kind, join + timedelta(days=int(o), hours=float(rng.uniform(0, 23)))))
    ch = pd.DataFrame(changes, columns=["member_id", "membership_id", "changed_at", "status", "price", "cancel"])
    ev = pd.DataFrame(events, columns=["member_id", "kind", "occurred_at"])
    pay = pd.DataFrame(pays, columns=["member_id", "membership_id", "paid_at", "price"])
    with engine.begin() as conn:
        upsert_rows(conn, s.accounts, [{"id": ACCOUNT, "title": "Synthetic"}])
        first = ch.drop_duplicates("membership_id")
        upsert_rows(
            conn,
            s.memberships,
            _rows(
                pd.DataFrame(
                    {
                        "account_id": ACCOUNT,
                        "id": first["membership_id"],
                        "member_id": first["member_id"],
                        "product_id": "prod_1",
                        "plan_id": "plan_1",
                        "status": "active",
                        "created_at": first["changed_at"],
                    }
                )
            ),
        )
        upsert_rows(
            conn,
            s.membership_status_changes,
            _rows(
                pd.DataFrame(
                    {
                        "account_id": ACCOUNT,
                        "id": [f"c{i}" for i in range(len(ch))],
                        "membership_id": ch["membership_id"],
                        "member_id": ch["member_id"],
                        "changed_at": ch["changed_at"],
                        "status": ch["status"],
                        "renewal_price_minor": ch["price"],
                        "billing_period_days": 30,
                        "cancel_at_period_end": ch["cancel"],
                        "currency": "usd",
                    }
                )
            ),
        )
        upsert_rows(
            conn,
            s.payments,
            _rows(
                pd.DataFrame(
                    {
                        "account_id": ACCOUNT,
                        "id": [f"p{i}" for i in range(len(pay))],
                        "member_id": pay["member_id"],
                        "membership_id": pay["membership_id"],
                        "status": "paid",
                        "currency": "usd",
                        "total_minor": pay["price"],
                        "paid_at": pay["paid_at"],
                        "created_at": pay["paid_at"],
                    }
                )
            ),
        )
        upsert_rows(
            conn,
            s.activity_events,
            _rows(
                pd.DataFrame(
                    {
                        "account_id": ACCOUNT,
                        "id": [f"e{i}" for i in range(len(ev))],
                        "member_id": ev["member_id"],
                        "kind": ev["kind"],
                        "occurred_at": ev["occurred_at"],
                    }
                )
            ),
        )
