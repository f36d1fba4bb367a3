"""WhatsApp: contacts, campaigns, outbound messages with their status webhooks, replies and conversations.

Campaigns run over the last year (a digest every two weeks to paying members, flash sales around Black Friday
and New Year, a monthly win-back to recently churned members); welcome and payment-failed utility messages
follow signups and failed charges. Each outbound message fails (4 %, with a Cloud API error code) or is sent,
then delivered (95 %) and read (more often by engaged members); when a message is read within a minute of
delivery Meta may skip the ``delivered`` webhook, and the message then counts as delivered at its read time
(read implies delivered). Some readers reply (inbound, ``context_message_id`` = the campaign message) and the
business answers most replies with a free service message. Every outbound message opens a 24-hour
conversation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.demo.activity import Intervals
from analytics.demo.calendar import DAY, HOUR
from analytics.demo.catalog import TEMPLATES, Catalog
from analytics.demo.frames import NO_TIME, store_frame
from analytics.demo.ids import IdMaker, hex_hashes

__all__ = ["ERRORS", "plan_campaigns", "whatsapp_tables"]

ERRORS = (
    (131026, "Message undeliverable", 35),
    (131047, "Re-engagement message", 15),
    (130472, "User's number is part of an experiment", 10),
    (131048, "Spam rate limit hit", 10),
    (131000, "Something went wrong", 10),
    (131053, "Media upload error", 5),
    (135000, "Generic user error", 10),
    (131016, "Service unavailable", 5),
)
_ERR_CUM = np.cumsum([e[2] for e in ERRORS]) / sum(e[2] for e in ERRORS)
_TEMPLATE_INDEX = {t[0]: i for i, t in enumerate(TEMPLATES)}
FAIL, DELIVER = 0.04, 0.95


def plan_campaigns(catalog: Catalog, horizon: int) -> pd.DataFrame:
    """The account's campaigns: template, audience (``active`` or ``churned``) and start instant."""
    rows = []
    first = horizon - 365 * DAY
    t = first + 3 * DAY + 15 * HOUR
    while t < horizon - DAY:
        rows.append(("weekly_digest", "active", t))
        t += 14 * DAY
    for year in range(datetime.fromtimestamp(first, UTC).year, datetime.fromtimestamp(horizon, UTC).year + 1):
        for month, day, audience in ((11, 24, "active"), (1, 2, "churned"), (1, 3, "active")):
            start = int(datetime(year, month, day, 16, tzinfo=UTC).timestamp())
            if first <= start < horizon - DAY:
                rows.append(("flash_sale", audience, start))
    month_start = datetime.fromtimestamp(first, UTC).replace(day=10, hour=17, minute=0, second=0)
    while (start := int(month_start.timestamp())) < horizon - DAY:
        if start >= first:
            rows.append(("win_back", "churned", start))
        month_start = month_start.replace(
            year=month_start.year + month_start.month // 12, month=month_start.month % 12 + 1
        )
    frame = pd.DataFrame(rows, columns=["template", "audience", "started_at"]).sort_values("started_at", kind="stable")
    frame["id"] = IdMaker("cmp_", catalog.account.id).take(len(frame))
    return frame.reset_index(drop=True)


def campaigns_frame(catalog: Catalog, campaigns: pd.DataFrame, phone_number_id: str) -> pd.DataFrame:
    day = pd.to_datetime(campaigns["started_at"], unit="s").dt.strftime("%Y-%m-%d")
    n = len(campaigns)
    return store_frame(
        "wa_campaigns",
        {
            "account_id": [catalog.account.id] * n,
            "id": campaigns["id"],
            "name": campaigns["template"] + " " + day,
            "template_id": [catalog.template_ids[_TEMPLATE_INDEX[t]] for t in campaigns["template"]],
            "phone_number_id": [phone_number_id] * n,
            "started_at": campaigns["started_at"].to_numpy(),
            "created_at": campaigns["started_at"].to_numpy() - 2 * DAY,
        },
    )


def whatsapp_tables(
    rng: np.random.Generator,
    catalog: Catalog,
    campaigns: pd.DataFrame,
    iv: Intervals,
    contacts: pd.DataFrame,
    utility: pd.DataFrame,
    z: npt.NDArray[np.float64],
    phone_number_id: str,
    make: IdMaker,
    horizon: int,
) -> list[tuple[str, pd.DataFrame]]:
    """wa_contacts, wa_messages, wa_status_updates and wa_conversations of a batch.

    ``contacts``: member, wa_id, name, opted_in, created_at. ``utility``: member, template, at (transactional).
    """
    acct = catalog.account.id
    by_member = dict(zip(contacts["member"].tolist(), range(len(contacts)), strict=True))
    opted = contacts["opted_in"].to_numpy(dtype=bool)
    sends: list[tuple[int, int, str, str | None]] = []  # contact, at, template, campaign id
    ended_at = np.where(iv.end < horizon, iv.end, np.iinfo(np.int64).max)
    created = contacts["created_at"].to_numpy(dtype=np.int64)
    for t, audience_kind, template, campaign_id in zip(
        campaigns["started_at"].astype(np.int64).tolist(),
        campaigns["audience"].tolist(),
        campaigns["template"].tolist(),
        campaigns["id"].tolist(),
        strict=True,
    ):
        if audience_kind == "active":
            audience = iv.active_at(t)
        else:
            recent = iv.member[(ended_at <= t) & (ended_at > t - 120 * DAY)]
            audience = np.setdiff1d(recent, iv.active_at(t))
        for member in audience.tolist():
            k = by_member.get(member)
            if k is not None and opted[k] and created[k] < t:
                sends.append((k, t + int(rng.integers(0, 90 * 60)), str(template), str(campaign_id)))
    for member, template, at in zip(
        utility["member"].astype(np.int64).tolist(),
        utility["template"].tolist(),
        utility["at"].astype(np.int64).tolist(),
        strict=True,
    ):
        k = by_member.get(member)
        if k is not None and opted[k] and at + HOUR < horizon:
            sends.append((k, at + HOUR, str(template), None))
    contact_table = store_frame(
        "wa_contacts",
        {
            "account_id": [acct] * len(contacts),
            "id": contacts["wa_id"],
            "wa_id": contacts["wa_id"],
            "member_id": contacts["member_id"],
            "profile_name": contacts["name"],
            "phone_number_id": [phone_number_id] * len(contacts),
            "opted_in": opted,
            "created_at": contacts["created_at"].to_numpy(),
            "updated_at": contacts["created_at"].to_numpy(),
        },
    )
    if not sends:
        return [("wa_contacts", contact_table)]
    k_arr = np.array([s[0] for s in sends], dtype=np.int64)
    sent_at = np.array([s[1] for s in sends], dtype=np.int64)
    category = np.array([TEMPLATES[_TEMPLATE_INDEX[s[2]]][1].lower() for s in sends])
    out = _outbound(
        rng,
        k_arr,
        sent_at,
        category,
        np.array([s[3] for s in sends], dtype=object),
        z[contacts["member"].to_numpy()[k_arr]],
        horizon,
    )
    # Replies to read messages, and the business's free service answers to them.
    zk = z[contacts["member"].to_numpy()[k_arr]]
    read = out["read_at"] != NO_TIME
    replies = read & (rng.random(len(k_arr)) < np.clip(0.12 * np.exp(0.5 * zk), 0, 0.6))
    reply_at = out["read_at"] + rng.exponential(40 * 60, len(k_arr)).astype(np.int64)
    replies &= reply_at < horizon
    answer = replies & (rng.random(len(k_arr)) < 0.7)
    answer_at = reply_at + rng.exponential(25 * 60, len(k_arr)).astype(np.int64) + 30
    answer &= answer_at < horizon
    ans = _outbound(
        rng,
        k_arr[answer],
        answer_at[answer],
        np.full(int(answer.sum()), "service"),
        np.full(int(answer.sum()), None, dtype=object),
        zk[answer],
        horizon,
        can_fail=False,
    )
    n_out, n_ans, n_rep = len(k_arr), int(answer.sum()), int(replies.sum())
    counter = make.issued
    out_ids = make.take(n_out)
    ans_ids = make.take(n_ans)
    rep_ids = make.take(n_rep)
    conv_ids = hex_hashes(np.arange(counter, counter + n_out), acct, "conversation").astype("<U32").astype(object)
    wa_ids = contacts["wa_id"].to_numpy()
    # Messages: outbound, answers, inbound replies (in that order).
    msg: dict[str, Any] = {
        "id": np.concatenate([out_ids, ans_ids, rep_ids]),
        "contact_id": np.concatenate([wa_ids[k_arr], wa_ids[k_arr[answer]], wa_ids[k_arr[replies]]]),
        "direction": ["outbound"] * (n_out + n_ans) + ["inbound"] * n_rep,
        "campaign_id": np.concatenate([out["campaign"], np.full(n_ans + n_rep, None, dtype=object)]),
        "conversation_id": np.concatenate([conv_ids, conv_ids[answer], conv_ids[replies]]),
        "message_type": ["template"] * n_out + ["text"] * (n_ans + n_rep),
        "status": np.concatenate([out["status"], ans["status"], np.full(n_rep, "received")]),
        "error_code": np.concatenate([out["error_code"], np.full(n_ans + n_rep, None, dtype=object)]),
        "pricing_category": np.concatenate([category, np.full(n_ans, "service"), np.full(n_rep, None, dtype=object)]),
        "billable": np.concatenate(
            [category != "service", np.zeros(n_ans, dtype=bool), np.full(n_rep, None, dtype=object)]
        ),
        "context_message_id": np.concatenate([np.full(n_out + n_ans, None, dtype=object), out_ids[replies]]),
        "sent_at": np.concatenate([sent_at, answer_at[answer], reply_at[replies]]),
        "delivered_at": np.concatenate([out["delivered_at"], ans["delivered_at"], np.full(n_rep, NO_TIME)]),
        "read_at": np.concatenate([out["read_at"], ans["read_at"], np.full(n_rep, NO_TIME)]),
        "failed_at": np.concatenate([out["failed_at"], ans["failed_at"], np.full(n_rep, NO_TIME)]),
    }
    msg["updated_at"] = np.max(
        np.stack([msg["sent_at"], msg["delivered_at"], msg["read_at"], msg["failed_at"]]), axis=0
    )
    n_msg = len(msg["id"])
    messages = store_frame(
        "wa_messages", {"account_id": [acct] * n_msg, "phone_number_id": [phone_number_id] * n_msg, **msg}
    )
    statuses = _status_updates(
        rng,
        acct,
        msg,
        n_out + n_ans,
        horizon,
        wa_ids,
        np.concatenate([k_arr, k_arr[answer]]),
        np.concatenate([out["skip_delivered"], ans["skip_delivered"]]),
    )
    first_answer = np.full(n_out, NO_TIME, dtype=np.int64)
    first_answer[answer] = answer_at[answer]
    expires = sent_at + 24 * HOUR
    conversations = store_frame(
        "wa_conversations",
        {
            "account_id": [acct] * n_out,
            "id": conv_ids,
            "contact_id": wa_ids[k_arr],
            "origin_type": category,
            "status": np.where(expires < horizon, "closed", "open"),
            "opened_at": sent_at,
            "expires_at": expires,
            "closed_at": np.where(expires < horizon, expires, NO_TIME),
            "first_response_at": first_answer,
        },
    )
    return [
        ("wa_contacts", contact_table),
        ("wa_conversations", conversations),
        ("wa_messages", messages),
        ("wa_status_updates", statuses),
    ]


def _outbound(
    rng: np.random.Generator,
    k: npt.NDArray[np.int64],
    sent_at: npt.NDArray[np.int64],
    category: npt.NDArray[np.str_],
    campaign: npt.NDArray[np.object_],
    z: npt.NDArray[np.float64],
    horizon: int,
    *,
    can_fail: bool = True,
) -> dict[str, Any]:
    n = len(k)
    failed = (rng.random(n) < FAIL) if can_fail else np.zeros(n, dtype=bool)
    failed_at = np.where(failed, sent_at + rng.integers(1, 30, n), NO_TIME)
    quick = rng.random(n) < 0.85
    delivered_at = (
        sent_at + np.where(quick, rng.lognormal(np.log(20), 0.8, n), rng.exponential(3 * HOUR, n)).astype(np.int64) + 1
    )
    delivered = ~failed & (rng.random(n) < DELIVER) & (delivered_at < horizon)
    p_read = 1.0 / (1.0 + np.exp(-(0.1 + 0.8 * z)))
    read_at = delivered_at + np.where(
        rng.random(n) < 0.3, rng.integers(5, 120, n), rng.exponential(4 * HOUR, n).astype(np.int64) + 60
    )
    read = delivered & (rng.random(n) < p_read) & (read_at < horizon)
    skip = read & (read_at - delivered_at < 60) & (rng.random(n) < 0.5)
    delivered_at = np.where(skip, read_at, delivered_at)
    codes = np.searchsorted(_ERR_CUM, rng.random(n), side="right").clip(0, len(ERRORS) - 1)
    status = np.where(failed, "failed", np.where(read, "read", np.where(delivered, "delivered", "sent")))
    return {
        "status": status,
        "failed_at": failed_at,
        "delivered_at": np.where(delivered, delivered_at, NO_TIME),
        "read_at": np.where(read, read_at, NO_TIME),
        "error_code": np.where(failed, np.array([e[0] for e in ERRORS], dtype=object)[codes], None),
        "error_title": np.where(failed, np.array([e[1] for e in ERRORS], dtype=object)[codes], None),
        "campaign": campaign,
        "skip_delivered": skip,
    }


def _status_updates(
    rng: np.random.Generator,
    acct: str,
    msg: dict[str, Any],
    n: int,
    horizon: int,
    wa_ids: npt.NDArray[np.str_],
    contact_k: npt.NDArray[np.int64],
    skip_delivered: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    """One webhook row per (message, status) reached: sent, delivered (unless skipped), read, or failed."""
    ids = msg["id"][:n]
    parts = []
    titles = {e[0]: e[1] for e in ERRORS}
    for status, times, mask in (
        ("sent", msg["sent_at"][:n], msg["status"][:n] != "failed"),
        ("delivered", msg["delivered_at"][:n], (msg["delivered_at"][:n] != NO_TIME) & ~skip_delivered),
        ("read", msg["read_at"][:n], msg["read_at"][:n] != NO_TIME),
        ("failed", msg["failed_at"][:n], msg["status"][:n] == "failed"),
    ):
        sel = np.flatnonzero(mask)
        parts.append(
            pd.DataFrame(
                {
                    "id": [f"{i}:{status}" for i in ids[sel]],
                    "message_id": ids[sel],
                    "status": status,
                    "occurred_at": np.asarray(times)[sel].astype(np.int64),
                    "recipient_id": wa_ids[contact_k[sel]],
                    "conversation_id": msg["conversation_id"][sel],
                    "pricing_category": msg["pricing_category"][sel] if status != "failed" else None,
                    "billable": msg["billable"][sel] if status != "failed" else None,
                    "error_code": msg["error_code"][sel],
                    "error_title": [titles.get(c) for c in msg["error_code"][sel]],
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    received = np.minimum(rows["occurred_at"].to_numpy() + rng.integers(1, 20, len(rows)), horizon - 1)
    return store_frame(
        "wa_status_updates",
        {"account_id": [acct] * len(rows), **{c: rows[c].to_numpy() for c in rows.columns}, "received_at": received},
    )
