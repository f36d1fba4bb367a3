"""load_demo writes the demo business through the import path into SQLite and PostgreSQL, consistently."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.demo import TABLE_ORDER, generate
from analytics.demo.load import load_demo
from analytics.demo.pipeline import row_counts
from analytics.store.schema import job_runs, metadata

END = date(2026, 6, 1)

# (child table, child column, parent table, parent column): every reference must resolve within the account.
REFERENCES = [
    ("plans", "product_id", "products", "id"),
    ("memberships", "member_id", "members", "id"),
    ("memberships", "plan_id", "plans", "id"),
    ("memberships", "product_id", "products", "id"),
    ("memberships", "promo_code_id", "promo_codes", "id"),
    ("memberships", "affiliate_id", "affiliates", "id"),
    ("membership_status_changes", "membership_id", "memberships", "id"),
    ("membership_status_changes", "plan_id", "plans", "id"),
    ("payments", "membership_id", "memberships", "id"),
    ("payments", "member_id", "members", "id"),
    ("payments", "plan_id", "plans", "id"),
    ("refunds", "payment_id", "payments", "id"),
    ("disputes", "payment_id", "payments", "id"),
    ("lessons", "course_id", "courses", "id"),
    ("lesson_interactions", "lesson_id", "lessons", "id"),
    ("lesson_interactions", "member_id", "members", "id"),
    ("activity_events", "member_id", "members", "id"),
    ("activity_events", "product_id", "products", "id"),
    ("posts", "parent_id", "posts", "id"),
    ("wa_contacts", "member_id", "members", "id"),
    ("wa_messages", "contact_id", "wa_contacts", "id"),
    ("wa_messages", "campaign_id", "wa_campaigns", "id"),
    ("wa_messages", "conversation_id", "wa_conversations", "id"),
    ("wa_messages", "context_message_id", "wa_messages", "id"),
    ("wa_status_updates", "message_id", "wa_messages", "id"),
    ("wa_campaigns", "template_id", "wa_templates", "id"),
    ("affiliates", "member_id", "members", "id"),
    ("referral_clicks", "affiliate_id", "affiliates", "id"),
    ("referrals", "click_id", "referral_clicks", "id"),
    ("referrals", "member_id", "members", "id"),
    ("referrals", "membership_id", "memberships", "id"),
    ("referrals", "first_payment_id", "payments", "id"),
    ("commissions", "payment_id", "payments", "id"),
    ("commissions", "referral_id", "referrals", "id"),
]


def _dangling(conn: sa.Connection, child: str, column: str, parent: str, key: str) -> int:
    c, p = metadata.tables[child], metadata.tables[parent].alias("p")
    orphan = ~sa.exists().where(p.c.account_id == c.c.account_id, p.c[key] == c.c[column])
    stmt = sa.select(sa.func.count()).select_from(c).where(c.c[column].is_not(None), orphan)
    return int(conn.execute(stmt).scalar_one())


def test_load_demo_gives_the_generated_rows_and_consistent_references(engine: Engine) -> None:
    business = generate(3, "tiny", end=END)
    expected = business.frames()
    reports = load_demo(engine, seed=3, size="tiny", end=END, progress=False)
    assert {t: r.loaded for t, r in reports.items()} == {t: len(f) for t, f in expected.items()}
    assert sum(r.quarantined for r in reports.values()) == 0
    assert row_counts(engine, business.account_ids) == {t: len(expected.get(t, ())) for t in TABLE_ORDER}
    with engine.connect() as conn:
        problems = {f"{c}.{col} -> {p}.{k}": n for c, col, p, k in REFERENCES if (n := _dangling(conn, c, col, p, k))}
        assert problems == {}
        # Each membership's latest history row is its current state.
        disagree = conn.execute(
            sa.text(
                "SELECT count(*) FROM memberships m JOIN membership_status_changes h "
                "ON h.account_id = m.account_id AND h.membership_id = m.id "
                "WHERE h.changed_at = (SELECT max(changed_at) FROM membership_status_changes x "
                "  WHERE x.account_id = h.account_id AND x.membership_id = h.membership_id) "
                "AND (h.status <> m.status OR h.plan_id <> m.plan_id OR h.renewal_price_minor <> m.renewal_price_minor "
                "  OR h.cancel_at_period_end <> m.cancel_at_period_end)"
            )
        ).scalar_one()
        assert disagree == 0
        without_history = conn.execute(
            sa.text(
                "SELECT count(*) FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM membership_status_changes h "
                "WHERE h.account_id = m.account_id AND h.membership_id = m.id)"
            )
        ).scalar_one()
        assert without_history == 0


def test_reloading_replaces_the_demo_accounts_data(engine: Engine) -> None:
    first = load_demo(engine, seed=3, size="tiny", end=END, progress=False)
    # A later horizon grows the same business; the reload leaves no stale rows of the earlier one.
    later = load_demo(engine, seed=3, size="tiny", end=date(2026, 7, 1), progress=False)
    ids = generate(3, "tiny", end=END).account_ids
    counts = row_counts(engine, ids)
    assert counts["memberships"] == later["memberships"].loaded
    assert counts["activity_events"] == later["activity_events"].loaded != first["activity_events"].loaded
    with engine.connect() as conn:
        runs = conn.execute(sa.select(job_runs.c.status, job_runs.c.summary).where(job_runs.c.kind == "demo")).all()
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert runs[1].summary["deleted_rows"] > 0 and runs[1].summary["quarantined"] == 0
