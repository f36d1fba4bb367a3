"""The demo creator business: a deterministic generator of every store table, batch by batch.

``generate(seed, size, end=..., accounts=...)`` returns a :class:`DemoBusiness`; iterating it yields
``(table name, DataFrame)`` chunks in dependency order (accounts first) in the store's import format, ready for
:func:`analytics.sources.imports.import_frame`. Memory is bounded by one batch of members, so ``large``
(200,000 members, ~20M events) streams in a few hundred MB. The same (seed, size, end, accounts) always gives
identical frames: every component draws from its own ``numpy.random.Generator(PCG64([seed, account,
component, batch]))``.

After a full iteration, :attr:`DemoBusiness.fraud_labels` holds the planted referral-fraud labels (they are not
stored: the fraud model must find them) and :attr:`DemoBusiness.row_counts` the rows per table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd

from analytics.demo.activity import EventColumns, daily_events, funnel_events, kind_names, merge_intervals
from analytics.demo.calendar import DAY, HOUR, horizon_of
from analytics.demo.catalog import Catalog, account_spec, build_catalog, promo_frame
from analytics.demo.content import PostPlan, author_posts, course_progress, plan_posts
from analytics.demo.frames import or_none, store_frame
from analytics.demo.ids import AccountIds
from analytics.demo.ledger_tables import BatchIds, ledger_tables, member_table
from analytics.demo.market import FxRates
from analytics.demo.members import MemberBatch, simulate_batch
from analytics.demo.people import names, phone_numbers
from analytics.demo.population import Population, account_member_counts, build_population
from analytics.demo.referrals import LABEL_COLUMNS, AffiliatePlan, click_chunks, plan_affiliates, referral_tables
from analytics.demo.sizes import DemoSize, get_size
from analytics.demo.whatsapp import campaigns_frame, plan_campaigns, whatsapp_tables
from analytics.errors import ConfigError

__all__ = ["TABLE_ORDER", "DemoBusiness", "generate"]

# Components: each draws from its own random stream.
_POP, _MEMBERS, _ACTIVITY, _POSTS, _LESSONS, _FUNNEL, _WHATSAPP, _REFERRALS, _CLICKS, _OBJECTS = range(1, 11)
EVENT_CHUNK = 500_000

TABLE_ORDER = (
    "accounts",
    "fx_rates",
    "products",
    "plans",
    "courses",
    "lessons",
    "chat_channels",
    "wa_templates",
    "affiliates",
    "shares",
    "referral_clicks",
    "wa_campaigns",
    "memberships",
    "membership_status_changes",
    "payments",
    "refunds",
    "disputes",
    "activity_events",
    "lesson_interactions",
    "members",
    "wa_contacts",
    "wa_conversations",
    "wa_messages",
    "wa_status_updates",
    "referrals",
    "commissions",
    "posts",
    "promo_codes",
)
"""Every table the demo writes, in an order that satisfies the schema's foreign keys (accounts first)."""


def generate(seed: int = 7, size: str = "small", *, end: date, accounts: int = 1) -> DemoBusiness:
    """The demo business for ``seed`` and ``size`` as of the start of ``end`` (UTC), with ``accounts`` creators.

    Iterate the result for ``(table, DataFrame)`` chunks; see :class:`DemoBusiness`.
    """
    return DemoBusiness(seed, size, end=end, accounts=accounts)


class DemoBusiness:
    """A deterministic demo creator business (one or more Whop accounts) that streams store tables.

    Parameters
    ----------
    seed:
        Non-negative integer; the same seed gives identical tables.
    size:
        ``tiny``, ``small`` (about 1,000 members), ``medium`` (10,000 members, ~1M events) or ``large``
        (200,000 members, ~20M events); members are split over the accounts.
    end:
        The business is shown as it stands at 00:00 UTC of this day; its history covers ~24 months before.
    accounts:
        Number of creator accounts (``biz_…``), each its own business.
    """

    def __init__(self, seed: int = 7, size: str = "small", *, end: date, accounts: int = 1) -> None:
        if not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"demo seed must be a non-negative integer, got {seed!r}")
        if accounts < 1:
            raise ConfigError(f"demo accounts must be at least 1, got {accounts}")
        self.seed = seed
        self.size: DemoSize = get_size(size)
        self.end = end
        self.accounts = accounts
        self.horizon = horizon_of(end)
        self.account_ids = [account_spec(seed, k).id for k in range(accounts)]
        self._labels: list[tuple[str, str, str, str, str]] | None = None
        self.row_counts: Counter[str] = Counter()

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        labels: list[tuple[str, str, str, str, str]] = []
        self.row_counts = Counter()
        for table, frame in self._generate(labels):
            if len(frame):
                self.row_counts[table] += len(frame)
                yield table, frame
        self._labels = labels

    @property
    def fraud_labels(self) -> pd.DataFrame:
        """Planted fraud: account_id, subject_type, subject_id, affiliate_id, pattern (after a full iteration)."""
        if self._labels is None:
            raise ConfigError("fraud labels are known once the demo business has been generated: iterate it first")
        return pd.DataFrame(self._labels, columns=LABEL_COLUMNS)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every table as one DataFrame (fine for ``tiny``/``small``; stream larger sizes instead)."""
        parts: dict[str, list[pd.DataFrame]] = {}
        for table, frame in self:
            parts.setdefault(table, []).append(frame)
        return {t: pd.concat(parts[t], ignore_index=True) for t in TABLE_ORDER if t in parts}

    def _rng(self, account: int, component: int, batch: int = 0) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64([self.seed, account, component, batch]))

    def _generate(self, labels: list[tuple[str, str, str, str, str]]) -> Iterator[tuple[str, pd.DataFrame]]:
        h = self.horizon
        fx = FxRates(self.seed, h - 800 * DAY, h)
        catalogs = [build_catalog(self.seed, k, h) for k in range(self.accounts)]
        yield "accounts", pd.concat([dict(c.tables)["accounts"] for c in catalogs], ignore_index=True)
        yield "fx_rates", fx.frame()
        for c in catalogs:
            yield from ((t, f) for t, f in c.tables if t != "accounts")
        counts = account_member_counts(self.size.members, self.accounts)
        for k, c in enumerate(catalogs):
            yield from self._account(k, c, counts[k], fx, labels)

    def _account(
        self, k: int, cat: Catalog, n: int, fx: FxRates, labels: list[tuple[str, str, str, str, str]]
    ) -> Iterator[tuple[str, pd.DataFrame]]:
        h, size = self.horizon, self.size
        pop = build_population(self._rng(k, _POP), cat.account, n, h, size.batch_members)
        ids = AccountIds(self.seed, k)
        acct = cat.account.id
        plan, affiliates, shares = plan_affiliates(self._rng(k, _REFERRALS), cat, pop, ids, names(pop.aff_member)[2], h)
        for r in np.unique(pop.ring_affiliate).tolist() if len(pop.aff_member) else []:
            labels.append((acct, "affiliate", str(plan.ids[r]), str(plan.ids[r]), "refund_ring"))
        yield "affiliates", affiliates
        yield "shares", shares
        for chunk in click_chunks(self._rng(k, _CLICKS), cat, pop, plan, ids, h, labels):
            yield "referral_clicks", chunk
        campaigns = plan_campaigns(cat, h)
        phone_number_id = f"10{k:02d}{self.seed % 10**8:08d}"
        yield "wa_campaigns", campaigns_frame(cat, campaigns, phone_number_id)
        posts = plan_posts(self._rng(k, _POSTS), pop, None, h, size.batch_members, ids("post_"))
        promo_uses = np.zeros(len(cat.promos), dtype=np.int64)
        for b, lo in enumerate(range(0, n, size.batch_members)):
            members = np.arange(lo, min(n, lo + size.batch_members), dtype=np.int64)
            batch = simulate_batch(cat, pop, members, self._rng(k, _MEMBERS, b), h)
            tables, bids = ledger_tables(batch, cat, pop, fx, ids)
            yield from tables
            for row in batch.ledger.memberships:
                if int(row[10]) >= 0:
                    promo_uses[int(row[10])] += 1
            events, interactions, last_active = self._activity(
                k, b, cat, pop, batch, bids.payment_rows, posts, members, ids, bids.memberships
            )
            for lo_e in range(0, len(events), EVENT_CHUNK):
                yield "activity_events", events.iloc[lo_e : lo_e + EVENT_CHUNK].reset_index(drop=True)
            yield "lesson_interactions", interactions
            yield "members", member_table(batch, cat, pop, ids, bids, last_active, h)
            yield from self._whatsapp(
                k, b, cat, pop, batch, bids.payment_rows, members, ids, campaigns, phone_number_id
            )
            yield from self._referrals(k, b, cat, pop, batch, bids, plan, ids, labels)
        member_ids = ids("mber_").of(np.maximum(posts.author, 0))
        user_ids = ids("user_").of(np.maximum(posts.author, 0))
        yield "posts", posts.frame(acct, cat.forum_experience_id, member_ids, user_ids, ids("user_").one(1 << 31), h)
        yield "promo_codes", promo_frame(cat, promo_uses.tolist())

    def _activity(
        self,
        k: int,
        b: int,
        cat: Catalog,
        pop: Population,
        batch: MemberBatch,
        pay: pd.DataFrame,
        posts: PostPlan,
        members: np.ndarray,
        ids: AccountIds,
        mem_ids: np.ndarray,
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, int]]:
        """Activity events, lesson interactions and each member's last event instant of a batch."""
        h = self.horizon
        iv = merge_intervals(batch.spans)
        rng = self._rng(k, _ACTIVITY, b)
        ev_iv, at, kind_no = daily_events(
            rng, iv, pop.z, batch.anchors, rate=self.size.event_rate, tz=cat.account.time_zone, horizon=h
        )
        kinds = kind_names(kind_no).astype(object)
        product = iv.product[ev_iv]
        objects = np.full(len(at), None, dtype=object)
        channel = np.full(len(at), "web", dtype=object)
        pick = self._rng(k, _OBJECTS, b)
        chan_ids = np.array(cat.channel_ids, dtype=object)
        chan_prod = np.array(cat.channel_products)
        msg = kinds == "message"
        for p in np.unique(product[msg]).tolist():
            sel = msg & (product == p)
            options = chan_ids[chan_prod == p]
            objects[sel] = options[pick.integers(0, len(options), int(sel.sum()))]
        channel[msg] = "whop_chat"
        forum = (kinds == "post_view") | (kinds == "reaction")
        targets = posts.pick_targets(pick, at[forum])
        fi = np.flatnonzero(forum)
        kinds[fi[targets < 0]] = "login"
        ok = targets >= 0
        objects[fi[ok]] = posts.ids[targets[ok]]
        channel[fi[ok]] = "forum"
        np.add.at(posts.views, targets[ok & (kinds[fi] == "post_view")], 1)
        np.add.at(posts.likes, targets[ok & (kinds[fi] == "reaction")], 1)
        dl = kinds == "download"
        pdfs = cat.lessons[cat.lessons["lesson_type"] == "pdf"]
        for p in np.unique(product[dl]).tolist():
            sel = dl & (product == p)
            options = pdfs[pdfs["product"] == p]["id"].to_numpy(dtype=object)
            objects[sel] = options[pick.integers(0, len(options), int(sel.sum()))]
        channel[dl] = "course"
        generic = EventColumns(iv.member[ev_iv], kinds.astype(str), at, objects, channel, product)
        authored = author_posts(posts, b, iv, 0)
        progress, lesson_events = course_progress(self._rng(k, _LESSONS, b), iv, pop.z, cat.lessons, cat.course_ids, h)
        funnel = self._funnel(k, b, cat, pop, batch, pay, members, mem_ids)
        ev = EventColumns.concat([generic, authored, lesson_events, funnel])
        keep = ev.at < h
        order = np.argsort(ev.at[keep], kind="stable")
        sel = np.flatnonzero(keep)[order]
        n = len(sel)
        props = ev.properties or [None] * len(ev.at)
        events = store_frame(
            "activity_events",
            {
                "account_id": [cat.account.id] * n,
                "id": ids("evt_").take(n),
                "member_id": ids("mber_").of(ev.member[sel]),
                "kind": ev.kind[sel],
                "occurred_at": ev.at[sel],
                "product_id": or_none(ev.product[sel] >= 0, np.array(cat.product_ids, dtype=object)[ev.product[sel]]),
                "object_id": ev.object_id[sel],
                "channel": ev.channel[sel],
                "properties": [props[i] for i in sel.tolist()],
            },
        )
        latest = pd.Series(ev.at[sel]).groupby(ev.member[sel]).max()
        last_active = dict(zip(latest.index.tolist(), latest.tolist(), strict=True))
        m = len(progress["member"])
        interactions = store_frame(
            "lesson_interactions",
            {
                "account_id": [cat.account.id] * m,
                "id": ids("lint_").take(m),
                "lesson_id": progress["lesson"],
                "course_id": progress["course"],
                "user_id": ids("user_").of(progress["member"].astype(np.int64)),
                "member_id": ids("mber_").of(progress["member"].astype(np.int64)),
                "completed": progress["completed"],
                "created_at": progress["created"].astype(np.int64),
                "completed_at": progress["completed_at"].astype(np.int64),
                "updated_at": np.maximum(progress["created"], progress["completed_at"]).astype(np.int64),
            },
        )
        return events, interactions, last_active

    def _funnel(
        self,
        k: int,
        b: int,
        cat: Catalog,
        pop: Population,
        batch: MemberBatch,
        pay: pd.DataFrame,
        members: np.ndarray,
        mem_ids: np.ndarray,
    ) -> EventColumns:
        led = batch.ledger
        first_charge = pay.sort_values("created", kind="stable").groupby("membership").first()
        rows = []
        for m, row in enumerate(led.memberships):
            plan = cat.plans[int(row[1])]
            amount = int(first_charge["price"].get(m, 0))
            rows.append((batch.membership_member[m], int(row[3]), plan.product, m, plan.id, amount, plan.currency))
        purchases = pd.DataFrame(
            rows, columns=["member", "at", "product", "membership_id", "plan_id", "amount_minor", "currency"]
        )
        if len(purchases):
            purchases["membership_id"] = np.asarray(mem_ids, dtype=object)[purchases["membership_id"].to_numpy()]
        leads = members[pop.lead[members]]
        rng = self._rng(k, _FUNNEL, b)
        lead_products = rng.choice(3, len(leads), p=[0.5, 0.2, 0.3])
        return funnel_events(rng, purchases, leads, pop.signup[leads], cat.product_ids, lead_products)

    def _whatsapp(
        self,
        k: int,
        b: int,
        cat: Catalog,
        pop: Population,
        batch: MemberBatch,
        pay: pd.DataFrame,
        members: np.ndarray,
        ids: AccountIds,
        campaigns: pd.DataFrame,
        phone_number_id: str,
    ) -> Iterator[tuple[str, pd.DataFrame]]:
        rng = self._rng(k, _WHATSAPP, b)
        phones = phone_numbers(members, pop, ids)
        has = np.array([p is not None for p in phones], dtype=bool)
        who = members[has]
        first, last, _h, _e = names(who)
        contacts = pd.DataFrame(
            {
                "member": who,
                "wa_id": [p[1:] for p in phones if p is not None],
                "member_id": ids("mber_").of(who),
                "name": [f"{f} {ln}" for f, ln in zip(first, last, strict=True)],
                "opted_in": rng.random(len(who)) < 0.92,
                "created_at": np.minimum(pop.signup[who] + rng.integers(60, 6 * HOUR, len(who)), self.horizon - 1),
            }
        )
        first_at = {
            batch.membership_member[m]: int(batch.ledger.memberships[m][3])
            for m in sorted(batch.first_membership.values())
        }
        failed = pay[pay["failed"]]
        utility = pd.DataFrame(
            {
                "member": list(first_at) + failed["member"].tolist(),
                "template": ["welcome_series"] * len(first_at) + ["payment_failed"] * len(failed),
                "at": list(first_at.values()) + failed["created"].tolist(),
            }
        )
        iv = merge_intervals(batch.spans)
        yield from whatsapp_tables(
            rng, cat, campaigns, iv, contacts, utility, pop.z, phone_number_id, ids("wamid.HBgM"), self.horizon
        )

    def _referrals(
        self,
        k: int,
        b: int,
        cat: Catalog,
        pop: Population,
        batch: MemberBatch,
        bids: BatchIds,
        plan: AffiliatePlan,
        ids: AccountIds,
        labels: list[tuple[str, str, str, str, str]],
    ) -> Iterator[tuple[str, pd.DataFrame]]:
        rows = []
        for member, m in batch.first_membership.items():
            if pop.referred_by[member] >= 0:
                rows.append((member, int(pop.referred_by[member]), str(bids.memberships[m]), int(pop.signup[member])))
        referred = pd.DataFrame(rows, columns=["member", "affiliate", "membership_id", "signed_up_at"])
        pay = bids.payment_rows
        yield from referral_tables(
            self._rng(k, _REFERRALS, b + 1),
            cat,
            pop,
            plan,
            ids,
            referred,
            pay,
            labels,
            self.horizon,
        )
