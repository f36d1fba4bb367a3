"""Membership history: the ``membership_status_changes`` contract, and its derivation from API-visible data.

The contract (the metrics engine computes MRR and its movements from it; the demo, sync and webhooks write it)
--------------------------------------------------------------------------------------------------------------
One row per membership per change of state. A state is the tuple (``status``, ``plan_id``,
``renewal_price_minor``, ``cancel_at_period_end``); a row is written only when that tuple changes.

* ``changed_at``: the instant the state starts; it lasts until the membership's next row.
* ``status``: the Whop membership status in force from then (``trialing``, ``active``, ``past_due``,
  ``completed``, ``canceled``, ``expired``); ``previous_status``: the status of the membership's previous row
  (null on its first row).
* ``plan_id``, ``currency``, ``billing_period_days``: the plan in force (billing period null for one-time plans).
* ``renewal_price_minor``: the recurring price actually charged from then, in minor units, **after** any promo
  discount in force and **excluding tax**; 0 while ``trialing`` and for one-time purchases. (From a payment it
  is ``total_minor − tax_minor``: Whop's ``subtotal`` is the price *before* discounts.)
* ``cancel_at_period_end``: the flag in force; it stays true on the final row of a period-end cancellation.
* ``source``: ``demo``, ``sync``, ``webhook``, ``import`` or ``derived``.
* ``id``: ``msc_<membership id without mem_>_<NN>`` with NN the row's 1-based position in the membership's
  history, so re-deriving a history gives the same keys.

Rows are written at: creation (``trialing``, ``active``, or ``completed`` for a one-time purchase); trial
conversion (→ ``active``) or trial end without conversion (→ ``canceled`` if a cancellation was requested during
the trial, else ``expired``); a plan change (same status, new plan and price); a promo discount starting or
ending (new price); a cancellation request (``cancel_at_period_end`` true, status unchanged); an un-cancel
(flag back to false); a failed charge (→ ``past_due``); its recovery (→ ``active``); and the end (→
``canceled`` for a voluntary cancellation or a dispute, ``expired`` when a trial lapses or dunning gives up:
delinquent churn is an end whose ``previous_status`` is ``past_due``). The ``memberships`` row is the latest
state: its ``status``, ``plan_id``, ``renewal_price_minor`` and ``cancel_at_period_end`` equal the last row's.

Deriving a history from what the Whop API exposes (:func:`derive_status_changes`)
---------------------------------------------------------------------------------
A store filled by sync never sees past states, only the current membership and every payment. The history is
rebuilt from them with these rules (each payment is one billing period's charge; its retries update it):

1. The first payment's plan is the initial plan (the membership's own plan if there is no payment).
2. A renewal membership was a trial when its initial plan has ``trial_period_days`` and it has no payment yet,
   or its first payment was created at least that many days after the membership.
3. Creation row at ``created_at``: ``completed`` (one-time plan), ``trialing`` (price 0), else the state of the
   first payment.
4. Each payment at its ``created_at`` sets the plan and the price (``total − tax``) and the status: ``past_due``
   when ``payments_failed > 0``, else ``active``. A failed payment that is ``paid`` later adds an ``active`` row
   at ``paid_at``.
5. ``canceled_at`` with ``cancel_at_period_end`` adds a cancellation-request row at ``canceled_at``.
6. A ``canceled``/``expired`` membership ends at ``expires_at`` (else ``canceled_at`` of an immediate
   cancellation, else ``current_period_end``, else ``updated_at``) with its final status and flag.
7. Robustness for real data: ``draft``/``void`` payments are not charges; a payment naming an unknown (deleted)
   plan keeps the plan in force; a membership whose own plan is unknown is an error (sync the plans first).

What the API does not show cannot be derived, so the demo generator only produces histories these rules
reproduce exactly: at most one cancellation request and no un-cancel (the API keeps only the latest request),
no failed first checkout, no plan change during a trial or after a cancellation request, plan changes are paid at
once (a ``subscription_update`` payment), no promo discount starting mid-life, ``expires_at`` set on every ended
membership, and no trial for a member's later memberships. ``tests/demo/test_history.py`` checks that the
derived history of the demo business equals the generated one, row for row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.errors import DataValidationError
from analytics.store.schema import membership_status_changes, memberships, payments, plans

__all__ = ["change_id", "derive_status_changes", "rebuild_status_changes"]

_US_PER_DAY = 86_400_000_000
_ENDED = ("canceled", "expired")
_NOT_CHARGED = ("draft", "void")  # payments never attempted: not a billing period
MEMBERSHIP_COLUMNS = (
    "id",
    "member_id",
    "plan_id",
    "status",
    "created_at",
    "cancel_at_period_end",
    "canceled_at",
    "expires_at",
    "current_period_end",
    "updated_at",
)
PAYMENT_COLUMNS = (
    "id",
    "membership_id",
    "plan_id",
    "created_at",
    "paid_at",
    "status",
    "payments_failed",
    "total_minor",
    "tax_minor",
)
PLAN_COLUMNS = ("id", "plan_type", "currency", "billing_period_days", "trial_period_days")


def change_id(membership_id: str, position: int) -> str:
    """The key of the ``position``-th (1-based) history row of a membership."""
    return f"msc_{membership_id.removeprefix('mem_')}_{position:02d}"


def _int_or_none(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _micros(series: pd.Series) -> list[int | None]:
    values = pd.to_datetime(series, utc=True).astype("datetime64[us, UTC]")
    ints = values.to_numpy(dtype="datetime64[us]").astype(np.int64)
    return [None if pd.isna(v) else int(i) for v, i in zip(values, ints, strict=True)]


def derive_status_changes(
    account_id: str,
    membership_rows: pd.DataFrame,
    payment_rows: pd.DataFrame,
    plan_rows: pd.DataFrame,
    *,
    source: str = "derived",
) -> pd.DataFrame:
    """Derive ``membership_status_changes`` rows for the memberships given (rules in the module docstring).

    Parameters
    ----------
    membership_rows, payment_rows, plan_rows:
        Store-shaped frames with at least :data:`MEMBERSHIP_COLUMNS`, :data:`PAYMENT_COLUMNS` (the payments of
        those memberships) and :data:`PLAN_COLUMNS` (every plan they name).
    """
    plan_info: dict[str, tuple[str, Any, int | None, int]] = {
        str(r.id): (
            str(r.plan_type),
            r.currency,
            _int_or_none(r.billing_period_days),
            _int_or_none(r.trial_period_days) or 0,
        )
        for r in plan_rows.itertuples(index=False)
    }
    pays = payment_rows.sort_values(["membership_id", "created_at", "id"], kind="stable")
    pay_by_membership: dict[str, list[tuple[Any, ...]]] = {}
    for row in zip(
        pays["membership_id"].tolist(),
        pays["plan_id"].tolist(),
        _micros(pays["created_at"]),
        _micros(pays["paid_at"]),
        pays["status"].tolist(),
        pays["payments_failed"].fillna(0).astype(int).tolist(),
        (pays["total_minor"].fillna(0).astype(np.int64) - pays["tax_minor"].fillna(0).astype(np.int64)).tolist(),
        strict=True,
    ):
        pay_by_membership.setdefault(row[0], []).append(row[1:])
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "id",
            "membership_id",
            "member_id",
            "changed_at",
            "status",
            "previous_status",
            "plan_id",
            "currency",
            "renewal_price_minor",
            "billing_period_days",
            "cancel_at_period_end",
        )
    }
    ms = membership_rows
    updated = _micros(ms["updated_at"]) if "updated_at" in ms else [None] * len(ms)
    for mid, member, plan_id, status, created, cap, canceled, expires, period_end, last_update in zip(
        ms["id"].tolist(),
        ms["member_id"].tolist(),
        ms["plan_id"].tolist(),
        ms["status"].tolist(),
        _micros(ms["created_at"]),
        ms["cancel_at_period_end"].fillna(False).astype(bool).tolist(),
        _micros(ms["canceled_at"]),
        _micros(ms["expires_at"]),
        _micros(ms["current_period_end"]),
        updated,
        strict=True,
    ):
        if created is None:
            raise DataValidationError(f"membership {mid}: created_at is empty; its history cannot be derived")
        if plan_id not in plan_info:
            raise DataValidationError(
                f"membership {mid}: its plan {plan_id!r} is not among the account's plans; sync or import the "
                "plans first, then rebuild the history"
            )
        end = _end_instant(status, cap, canceled, expires, period_end, last_update)
        rows = _history(pay_by_membership.get(mid, []), plan_info, plan_id, status, created, cap, canceled, end)
        previous = None
        for n, (t, st, plan, price, flag) in enumerate(rows, start=1):
            info = plan_info[plan]
            out["id"].append(change_id(mid, n))
            out["membership_id"].append(mid)
            out["member_id"].append(member)
            out["changed_at"].append(t)
            out["status"].append(st)
            out["previous_status"].append(previous)
            out["plan_id"].append(plan)
            out["currency"].append(info[1])
            out["renewal_price_minor"].append(price)
            out["billing_period_days"].append(info[2])
            out["cancel_at_period_end"].append(flag)
            previous = st
    frame = pd.DataFrame(out)
    frame.insert(0, "account_id", account_id)
    frame["changed_at"] = pd.to_datetime(pd.Series(out["changed_at"], dtype="int64"), unit="us", utc=True)
    frame["renewal_price_minor"] = frame["renewal_price_minor"].astype("int64")
    frame["billing_period_days"] = pd.array(out["billing_period_days"], dtype="Int64")
    frame["cancel_at_period_end"] = frame["cancel_at_period_end"].astype(bool)
    frame["source"] = source
    return frame


def _history(
    pays: list[tuple[Any, ...]],
    plan_info: dict[str, tuple[str, Any, int | None, int]],
    plan_id: str,
    status: str,
    created: int,
    cap: bool,
    canceled: int | None,
    end: int | None,
) -> list[tuple[int, str, str, int, bool]]:
    """The (changed_at, status, plan_id, price, cap) rows of one membership (``end``: when it ended, if it did)."""
    pays = [p for p in pays if p[3] not in _NOT_CHARGED]
    initial = pays[0][0] if pays and pays[0][0] in plan_info else plan_id
    plan_type, _currency, _period, trial_days = plan_info[initial]
    events: list[tuple[int, int, str, Any]] = []
    if plan_type == "one_time":
        state = ("completed", initial, 0, False)
    elif trial_days and (not pays or pays[0][1] >= created + trial_days * _US_PER_DAY):
        state = ("trialing", initial, 0, False)
    elif pays:
        state = ("past_due" if pays[0][4] > 0 else "active", initial, pays[0][5], False)
    else:
        state = ("active", initial, 0, False)
    if plan_type != "one_time":
        for p_plan, p_created, p_paid, p_status, failed, price in pays:
            charged_plan = p_plan if p_plan in plan_info else None  # a deleted plan: keep the one in force
            events.append((p_created, 0, "charge", ("past_due" if failed > 0 else "active", charged_plan, price)))
            if failed > 0 and p_status == "paid" and p_paid is not None:
                events.append((p_paid, 1, "recovered", None))
    if canceled is not None and cap:
        events.append((canceled, 2, "cancel", None))
    if end is not None:
        events.append((end, 3, "end", status))
    events.sort(key=lambda e: (e[0], e[1]))
    rows = [(created, *state)]
    current = state
    for t, _order, kind, payload in events:
        if kind == "charge":
            new = (payload[0], payload[1] or current[1], payload[2], current[3])
        elif kind == "recovered":
            new = ("active", current[1], current[2], current[3])
        elif kind == "cancel":
            new = (current[0], current[1], current[2], True)
        else:
            new = (payload, current[1], current[2], cap)
        if new != current:
            rows.append((t, *new))
            current = new
    return rows


def _end_instant(
    status: str, cap: bool, canceled: int | None, expires: int | None, period_end: int | None, updated: int | None
) -> int | None:
    """When an ended membership ended: ``expires_at``, else ``canceled_at`` of an immediate cancellation, else the
    period end, else its last update; ``None`` while it is in force."""
    if status not in _ENDED:
        return None
    for candidate in (expires, None if cap else canceled, period_end, updated):
        if candidate is not None:
            return candidate
    return None


def _read(conn: sa.Connection, stmt: sa.Select[Any]) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def rebuild_status_changes(
    conn: sa.Connection,
    account_id: str,
    *,
    source: str = "derived",
    membership_ids: Iterable[str] | None = None,
    page_size: int = 20_000,
) -> int:
    """Replace the history of an account's memberships (or of ``membership_ids``) by the derived one.

    Reads memberships, their payments and plans page by page (keyset pagination on the membership id, so memory
    stays bounded), deletes those memberships' existing ``membership_status_changes`` rows (of every source) and
    inserts the derived rows. Runs in the caller's transaction. Returns the number of rows written.
    """
    plan_rows = _read(conn, sa.select(*(plans.c[c] for c in PLAN_COLUMNS)).where(plans.c.account_id == account_id))
    wanted = None if membership_ids is None else sorted(set(membership_ids))
    written = 0
    last: str | None = None
    offset = 0
    while True:
        stmt = sa.select(*(memberships.c[c] for c in MEMBERSHIP_COLUMNS)).where(memberships.c.account_id == account_id)
        if wanted is not None:
            chunk = wanted[offset : offset + min(page_size, 5_000)]
            offset += len(chunk)
            if not chunk:
                break
            stmt = stmt.where(memberships.c.id.in_(chunk))
        else:
            if last is not None:
                stmt = stmt.where(memberships.c.id > last)
            stmt = stmt.order_by(memberships.c.id).limit(page_size)
        page = _read(conn, stmt)
        if page.empty:
            break
        ids = page["id"].tolist()
        if wanted is None:
            last = ids[-1]
            pay_filter = sa.and_(payments.c.membership_id >= ids[0], payments.c.membership_id <= last)
            history_filter = sa.and_(
                membership_status_changes.c.membership_id >= ids[0], membership_status_changes.c.membership_id <= last
            )
        else:
            pay_filter = payments.c.membership_id.in_(ids)
            history_filter = membership_status_changes.c.membership_id.in_(ids)
        pay_rows = _read(
            conn,
            sa.select(*(payments.c[c] for c in PAYMENT_COLUMNS)).where(payments.c.account_id == account_id, pay_filter),
        )
        pay_rows = pay_rows[pay_rows["membership_id"].isin(ids)]
        derived = derive_status_changes(account_id, page, pay_rows, plan_rows, source=source)
        conn.execute(
            sa.delete(membership_status_changes).where(
                membership_status_changes.c.account_id == account_id, history_filter
            )
        )
        if len(derived):
            records: list[dict[str, Any]] = [
                {str(k): v for k, v in r.items()}
                for r in derived.astype(object).where(derived.notna(), None).to_dict("records")
            ]
            for r in records:
                r["changed_at"] = r["changed_at"].to_pydatetime()
            conn.execute(membership_status_changes.insert(), records)
        written += len(derived)
        if wanted is None and len(page) < page_size:
            break
    return written
