"""What a demo creator sells: the account, products, plans, promo codes, courses, chat channels, templates.

Each account gets the same shape of business (a community, a course and a trading group) under its own ids,
titles, time zone and currency mix. Prices are chosen so that monthly-normalised MRR stays an integer
(quarterly prices are multiples of 3, yearly prices multiples of 12 minor units).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from analytics.demo.calendar import DAY
from analytics.demo.frames import store_frame
from analytics.demo.ids import IdMaker

__all__ = ["AccountSpec", "Catalog", "Plan", "Promo", "build_catalog"]


@dataclass(frozen=True)
class AccountSpec:
    """One creator account: id, names, time zone, reporting currency and who buys (country weights)."""

    index: int
    id: str
    title: str
    route: str
    time_zone: str
    reporting_currency: str
    product_titles: tuple[str, str, str]
    countries: tuple[tuple[str, float], ...]


_ACCOUNTS = (
    (
        "Northstar Trading",
        "northstar",
        "America/New_York",
        "usd",
        ("Northstar Inner Circle", "Options Mastery Course", "Northstar Alpha Room"),
        (
            ("US", 45),
            ("CA", 6),
            ("GB", 10),
            ("DE", 8),
            ("FR", 6),
            ("ES", 4),
            ("IT", 3),
            ("NL", 3),
            ("AU", 5),
            ("BR", 4),
            ("IN", 3),
            ("MX", 3),
        ),
    ),
    (
        "Berlin Crypto Collective",
        "berlin-crypto",
        "Europe/Berlin",
        "eur",
        ("Collective Lounge", "DeFi Fundamentals", "Collective Signals Desk"),
        (("DE", 35), ("AT", 8), ("FR", 10), ("NL", 8), ("ES", 6), ("IT", 6), ("GB", 9), ("US", 12), ("PL", 6)),
    ),
    (
        "Sunrise Forex Club",
        "sunrise-fx",
        "America/Los_Angeles",
        "usd",
        ("Sunrise Community", "Forex From Zero", "Sunrise Live Trading"),
        (("US", 55), ("CA", 10), ("MX", 8), ("GB", 7), ("AU", 8), ("DE", 6), ("BR", 6)),
    ),
)
EUR_COUNTRIES = frozenset({"DE", "AT", "FR", "ES", "IT", "NL", "PL"})

# (key, product, title, plan_type, currency, price_minor, billing_period_days, trial_days, changes_to)
_PLANS = (
    ("c_m_usd", 0, "Monthly", "renewal", "usd", 2900, 30, 7, ("c_q_usd", "c_y_usd")),
    ("c_q_usd", 0, "Quarterly", "renewal", "usd", 7800, 90, None, ("c_m_usd", "c_y_usd")),
    ("c_y_usd", 0, "Yearly", "renewal", "usd", 28800, 365, None, ("c_m_usd",)),
    ("c_m_eur", 0, "Monthly (EUR)", "renewal", "eur", 2700, 30, 7, ("c_y_eur",)),
    ("c_y_eur", 0, "Yearly (EUR)", "renewal", "eur", 26400, 365, None, ("c_m_eur",)),
    ("c_m_gbp", 0, "Monthly (GBP)", "renewal", "gbp", 2400, 30, 7, ()),
    ("k_o_usd", 1, "Lifetime access", "one_time", "usd", 49900, None, None, ()),
    ("k_o_eur", 1, "Lifetime access (EUR)", "one_time", "eur", 45900, None, None, ()),
    ("t_m_usd", 2, "Standard monthly", "renewal", "usd", 9900, 30, 14, ("t_p_usd", "t_q_usd", "t_y_usd")),
    ("t_p_usd", 2, "Pro monthly", "renewal", "usd", 14900, 30, None, ("t_m_usd",)),
    ("t_q_usd", 2, "Standard quarterly", "renewal", "usd", 24600, 90, None, ("t_m_usd", "t_y_usd")),
    ("t_y_usd", 2, "Standard yearly", "renewal", "usd", 98400, 365, None, ("t_m_usd",)),
    ("t_m_eur", 2, "Standard monthly (EUR)", "renewal", "eur", 8900, 30, 14, ("t_y_eur",)),
    ("t_y_eur", 2, "Standard yearly (EUR)", "renewal", "eur", 88800, 365, None, ("t_m_eur",)),
    ("t_m_gbp", 2, "Standard monthly (GBP)", "renewal", "gbp", 7900, 30, 14, ()),
)

# (code, promo_type, percent, amount_off_minor, currency, duration, months, product, monthly_only,
#  created_days_before_horizon, expires_days_before_horizon, status)
_PROMOS = (
    ("WELCOME20", "percentage", 20, None, None, "once", None, None, False, 760, None, "active"),
    ("LAUNCH50", "percentage", 50, None, None, "repeating", 3, None, False, 760, 560, "expired"),
    ("FRIENDS10", "flat_amount", None, 1000, "usd", "forever", None, 2, True, 700, None, "active"),
    ("BLACKFRIDAY30", "percentage", 30, None, None, "repeating", 12, None, False, 740, None, "inactive"),
    ("COMEBACK25", "percentage", 25, None, None, "repeating", 2, None, False, 760, None, "active"),
    ("EURO5", "flat_amount", None, 500, "eur", "once", None, 0, True, 600, None, "active"),
)

# (product, course title, chapters, lessons per chapter)
_COURSES = (
    (0, "Start Here", ("Welcome",), 5),
    (1, "The Course", ("Foundations", "Strategy", "Risk", "Mastery"), 6),
    (2, "Trading Playbook", ("Setup", "Execution", "Review"), 4),
)
_LESSON_TYPES = ("video", "video", "video", "pdf", "video", "text", "video", "quiz")
_CHANNELS = ((0, "general"), (0, "wins"), (1, "study-group"), (2, "signals"), (2, "trade-talk"))
# (name, category, status, quality)
TEMPLATES = (
    ("welcome_series", "UTILITY", "APPROVED", "GREEN"),
    ("weekly_digest", "MARKETING", "APPROVED", "GREEN"),
    ("flash_sale", "MARKETING", "APPROVED", "YELLOW"),
    ("win_back", "MARKETING", "APPROVED", "GREEN"),
    ("payment_failed", "UTILITY", "APPROVED", "GREEN"),
    ("course_nudge", "MARKETING", "PAUSED", "RED"),
)


@dataclass(frozen=True)
class Plan:
    """A plan (Whop variant) as the lifecycle simulation sees it."""

    index: int
    id: str
    key: str
    product: int
    product_id: str
    currency: str
    price: int
    period: int | None
    trial: int | None
    alternatives: tuple[int, ...]

    @property
    def one_time(self) -> bool:
        return self.period is None


@dataclass(frozen=True)
class Promo:
    """A promo code and the discounted price it gives a charge."""

    index: int
    id: str
    code: str
    promo_type: str
    percent: int | None
    amount_off: int | None
    currency: str | None
    duration: str
    months: int | None
    product: int | None
    monthly_only: bool
    created_at: int
    expires_at: int | None

    def applies_to(self, plan: Plan, at: int) -> bool:
        """Whether a checkout of ``plan`` at ``at`` may use this code."""
        if at < self.created_at or (self.expires_at is not None and at >= self.expires_at):
            return False
        if self.product is not None and plan.product != self.product:
            return False
        if self.currency is not None and plan.currency != self.currency:
            return False
        return not (self.monthly_only and plan.period != 30)

    def discounted(self, full: int, charge_no: int, seconds_since_first_charge: int) -> int | None:
        """The discounted price of a charge, or ``None`` when the discount no longer applies to it."""
        if self.duration == "once" and charge_no > 0:
            return None
        if self.duration == "repeating" and seconds_since_first_charge >= (self.months or 0) * 30 * DAY:
            return None
        if self.percent is not None:
            return (full * (100 - self.percent) + 50) // 100
        return max(full - (self.amount_off or 0), 0)


@dataclass
class Catalog:
    """Everything an account sells, with the rows to load."""

    account: AccountSpec
    created_at: int
    product_ids: list[str]
    plans: list[Plan]
    promos: list[Promo]
    forum_experience_id: str
    channel_ids: list[str]
    channel_products: list[int]
    lessons: pd.DataFrame  # id, course_id, product, position, lesson_type (one row per lesson, course order)
    course_ids: list[str]
    template_ids: list[str]
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)

    def plan(self, key: str) -> Plan:
        return next(p for p in self.plans if p.key == key)


def account_spec(seed: int, index: int) -> AccountSpec:
    """The ``index``-th demo account (titles repeat with a number after the third)."""
    title, route, tz, currency, products, countries = _ACCOUNTS[index % len(_ACCOUNTS)]
    if index >= len(_ACCOUNTS):
        title, route = f"{title} {index // len(_ACCOUNTS) + 1}", f"{route}-{index // len(_ACCOUNTS) + 1}"
    account_id = IdMaker("biz_", seed, "accounts").one(index)
    return AccountSpec(index, account_id, title, route, tz, currency, products, countries)


def build_catalog(seed: int, index: int, horizon: int) -> Catalog:
    """The catalog of account ``index`` and its rows (accounts, products, plans, courses, lessons, channels, …)."""
    spec = account_spec(seed, index)
    ns = (seed, index)
    created = horizon - 800 * DAY
    product_ids = IdMaker("prod_", *ns).take(3).tolist()
    plan_ids = IdMaker("plan_", *ns).take(len(_PLANS)).tolist()
    keys = [p[0] for p in _PLANS]
    plans = [
        Plan(
            i, plan_ids[i], key, prod, product_ids[prod], cur, price, period, trial, tuple(keys.index(k) for k in alts)
        )
        for i, (key, prod, _t, _pt, cur, price, period, trial, alts) in enumerate(_PLANS)
    ]
    promo_ids = IdMaker("promo_", *ns).take(len(_PROMOS)).tolist()
    promos = [
        Promo(
            i,
            promo_ids[i],
            code,
            ptype,
            pct,
            off,
            cur,
            dur,
            months,
            prod,
            monthly,
            horizon - cdays * DAY,
            None if edays is None else horizon - edays * DAY,
        )
        for i, (code, ptype, pct, off, cur, dur, months, prod, monthly, cdays, edays, _s) in enumerate(_PROMOS)
    ]
    catalog = Catalog(
        account=spec,
        created_at=created,
        product_ids=product_ids,
        plans=plans,
        promos=promos,
        forum_experience_id=IdMaker("exp_", *ns).one(0),
        channel_ids=IdMaker("chat_", *ns).take(len(_CHANNELS)).tolist(),
        channel_products=[c[0] for c in _CHANNELS],
        lessons=pd.DataFrame(),
        course_ids=IdMaker("cors_", *ns).take(len(_COURSES)).tolist(),
        template_ids=IdMaker("tpl_", *ns).take(len(TEMPLATES)).tolist(),
    )
    catalog.tables = _catalog_tables(catalog, created)
    return catalog


def _catalog_tables(c: Catalog, created: int) -> list[tuple[str, pd.DataFrame]]:
    a = c.account
    n_plans = len(c.plans)
    tables = [
        (
            "accounts",
            store_frame(
                "accounts",
                {
                    "id": [a.id],
                    "title": [a.title],
                    "route": [a.route],
                    "time_zone": [a.time_zone],
                    "reporting_currency": [a.reporting_currency],
                    "created_at": [created - 30 * DAY],
                    "updated_at": [created - 30 * DAY],
                },
            ),
        ),
        (
            "products",
            store_frame(
                "products",
                {
                    "account_id": [a.id] * 3,
                    "id": c.product_ids,
                    "title": list(a.product_titles),
                    "route": [t.lower().replace(" ", "-") for t in a.product_titles],
                    "category": ["community", "course", "trading"],
                    "visibility": ["visible"] * 3,
                    "description": [f"{t} by {a.title}" for t in a.product_titles],
                    "created_at": [created] * 3,
                    "updated_at": [created + 5 * DAY] * 3,
                },
            ),
        ),
        (
            "plans",
            store_frame(
                "plans",
                {
                    "account_id": [a.id] * n_plans,
                    "id": [p.id for p in c.plans],
                    "product_id": [p.product_id for p in c.plans],
                    "title": [spec[2] for spec in _PLANS],
                    "plan_type": [spec[3] for spec in _PLANS],
                    "currency": [p.currency for p in c.plans],
                    "initial_price_minor": [p.price for p in c.plans],
                    "renewal_price_minor": [0 if p.one_time else p.price for p in c.plans],
                    "billing_period_days": [p.period for p in c.plans],
                    "trial_period_days": [p.trial for p in c.plans],
                    "visibility": ["visible"] * n_plans,
                    "release_method": ["buy_now"] * n_plans,
                    "created_at": [created + DAY] * n_plans,
                    "updated_at": [created + DAY] * n_plans,
                },
            ),
        ),
    ]
    lesson_rows: dict[str, list[object]] = {
        k: [] for k in ("id", "course_id", "chapter_id", "chapter_title", "title", "lesson_type", "position", "product")
    }
    lesson_ids = IdMaker("lesn_", a.id)
    chapter_ids = IdMaker("chap_", a.id)
    for course_no, (product, _title, chapters, per_chapter) in enumerate(_COURSES):
        position = 0
        for chapter in chapters:
            chapter_id = chapter_ids.one(chapter_ids.issued)
            chapter_ids.issued += 1
            for k in range(per_chapter):
                position += 1
                lesson_rows["id"].append(lesson_ids.one(lesson_ids.issued))
                lesson_ids.issued += 1
                lesson_rows["course_id"].append(c.course_ids[course_no])
                lesson_rows["chapter_id"].append(chapter_id)
                lesson_rows["chapter_title"].append(chapter)
                lesson_rows["title"].append(f"{chapter} {k + 1}")
                lesson_rows["lesson_type"].append(_LESSON_TYPES[(position - 1) % len(_LESSON_TYPES)])
                lesson_rows["position"].append(position)
                lesson_rows["product"].append(product)
    c.lessons = pd.DataFrame(lesson_rows)
    n_lessons = len(c.lessons)
    course_titles = [a.product_titles[1] if t == "The Course" else t for (_p, t, _c, _n) in _COURSES]
    tables += [
        (
            "courses",
            store_frame(
                "courses",
                {
                    "account_id": [a.id] * len(_COURSES),
                    "id": c.course_ids,
                    "product_id": [c.product_ids[p] for (p, *_r) in _COURSES],
                    "title": course_titles,
                    "total_lessons_count": [len(ch) * n for (_p, _t, ch, n) in _COURSES],
                    "created_at": [created + 2 * DAY] * len(_COURSES),
                    "updated_at": [created + 9 * DAY] * len(_COURSES),
                },
            ),
        ),
        (
            "lessons",
            store_frame(
                "lessons",
                {
                    "account_id": [a.id] * n_lessons,
                    **{k: v for k, v in lesson_rows.items() if k != "product"},
                    "created_at": [created + 3 * DAY] * n_lessons,
                },
            ),
        ),
        (
            "chat_channels",
            store_frame(
                "chat_channels",
                {
                    "account_id": [a.id] * len(_CHANNELS),
                    "id": c.channel_ids,
                    "experience_id": IdMaker("exp_", a.id, "chat").take(len(_CHANNELS)).tolist(),
                    "product_id": [c.product_ids[p] for (p, _n) in _CHANNELS],
                    "name": [n for (_p, n) in _CHANNELS],
                    "created_at": [created + 2 * DAY] * len(_CHANNELS),
                },
            ),
        ),
        (
            "wa_templates",
            store_frame(
                "wa_templates",
                {
                    "account_id": [a.id] * len(TEMPLATES),
                    "id": c.template_ids,
                    "name": [t[0] for t in TEMPLATES],
                    "language": ["en_US"] * len(TEMPLATES),
                    "category": [t[1] for t in TEMPLATES],
                    "status": [t[2] for t in TEMPLATES],
                    "quality_score": [t[3] for t in TEMPLATES],
                    "updated_at": [created + 20 * DAY] * len(TEMPLATES),
                },
            ),
        ),
    ]
    return tables


def promo_frame(c: Catalog, uses: list[int]) -> pd.DataFrame:
    """The promo codes with how many memberships used each (known once every member is simulated)."""
    a = c.account
    n = len(c.promos)
    return store_frame(
        "promo_codes",
        {
            "account_id": [a.id] * n,
            "id": [p.id for p in c.promos],
            "code": [p.code for p in c.promos],
            "promo_type": [p.promo_type for p in c.promos],
            "percent_off": [None if p.percent is None else Decimal(p.percent) for p in c.promos],
            "amount_off_minor": [p.amount_off for p in c.promos],
            "currency": [p.currency for p in c.promos],
            "duration": [p.duration for p in c.promos],
            "duration_months": [p.months for p in c.promos],
            "status": [spec[11] for spec in _PROMOS],
            "product_id": [None if p.product is None else c.product_ids[p.product] for p in c.promos],
            "uses": uses,
            "stock": [None] * n,
            "expires_at": [p.expires_at for p in c.promos],
            "created_at": [p.created_at for p in c.promos],
            "updated_at": [p.created_at for p in c.promos],
        },
    )
