"""Snapshots: numbers and growth per period, idempotency, all-or-nothing writes, late data, backfill, CLI."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from analytics.cli import cli
from analytics.clock import fixed_clock
from analytics.errors import MetricError
from analytics.metrics import DEFINITIONS_VERSION, Policies, growth_pct
from analytics.snapshots import (
    backfill_snapshots,
    periods_between,
    read_snapshots,
    recompute_touched,
    write_snapshots,
)
from analytics.snapshots import registry as snapshot_registry
from analytics.snapshots.periods import last_complete, period_of
from analytics.store.schema import job_runs, snapshots, wa_messages
from tiny_business import Business, at

T1 = fixed_clock(at("2025-04-01 06:00"))
T2 = fixed_clock(at("2025-04-02 06:00"))


@pytest.fixture
def paris(business: Business) -> Business:
    """An account in Paris (UTC+1 in March).

    m1 joined 5 Jan: message Mar 1 09:00 UTC, login Mar 2 23:30 UTC (= Mar 3 00:30 in Paris).
    m2 joined Mar 2 10:00 UTC: login Mar 3 10:00. WhatsApp: one read message to c1 on Mar 2 from pn_1.
    Both have had an active membership since they joined (current members from then on).
    """
    b = business
    b.time_zone = "Europe/Paris"
    b.member("m1", "2025-01-05 10:00")
    b.member("m2", "2025-03-02 10:00")
    b.membership("m1", ("2025-01-05 10:00", "active"))
    b.membership("m2", ("2025-03-02 10:00", "active"))
    b.event("m1", "message", "2025-03-01 09:00")
    b.event("m1", "login", "2025-03-02 23:30")
    b.event("m2", "login", "2025-03-03 10:00")
    b.contact("c1")
    b.message("c1", "outbound", "read", "2025-03-02 10:00", id="wamid.1", updated_at=at("2025-03-02 11:00"))
    return b.save()


def _daily(b: Business, **kwargs: object) -> pd.DataFrame:
    return read_snapshots(b.engine, b.account_id, "daily", "2025-03-01", "2025-03-03", **kwargs)  # type: ignore[arg-type]


def test_daily_numbers_and_growth(paris: Business) -> None:
    summary = write_snapshots(
        paris.engine,
        period="daily",
        start="2025-03-01",
        end="2025-03-03",
        accounts=[paris.account_id],
        clock=T1,
        progress=False,
    )
    assert summary[["channel", "periods"]].values.tolist() == [["", 3], ["whatsapp:pn_1", 3]]
    frame = _daily(paris).set_index(_daily(paris)["period_start"].dt.strftime("%m-%d"))
    cols = ["members_total", "new_members", "active_members", "activity_events", "messages", "logins"]
    cols += ["current_members", "idle_members"]
    assert frame[cols].values.tolist() == [
        [1, 0, 1, 1, 1, 0, 1, 0],  # Mar 1: m1 messages
        [2, 1, 0, 0, 0, 0, 2, 1],  # Mar 2 (Paris): m2 joins, nobody active; m2 idle, m1 active on the 1st
        [2, 0, 2, 2, 0, 2, 2, 0],  # Mar 3: m1's 23:30 UTC login and m2's login
    ]
    # growth versus the day before (Feb 28: 1 member, nobody active)
    assert frame["active_members_growth"].tolist() == ["new", -100.0, "new"]
    assert frame["members_total_growth"].tolist() == [0.0, 100.0, 0.0]
    assert frame.loc["03-02", "wa_sent"] == 1 and frame.loc["03-02", "wa_read_rate_pct"] == 100.0
    channel = read_snapshots(paris.engine, paris.account_id, "daily", channel="whatsapp:pn_1")
    assert channel["wa_delivered"].tolist() == [0, 1, 0]
    assert "active_members" not in channel.columns  # channel rows carry only channel metrics


def test_rows_record_policies_version_and_bounds(paris: Business) -> None:
    pol = Policies(reply_window_hours=24)
    write_snapshots(
        paris.engine,
        period="weekly",
        start="2025-03-01",
        end="2025-03-09",
        accounts=[paris.account_id],
        policies=pol,
        clock=T1,
        progress=False,
    )
    with paris.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                snapshots.c.period_start, snapshots.c.period_end, snapshots.c.policies, snapshots.c.definitions_version
            )
            .where(snapshots.c.account_id == paris.account_id, snapshots.c.channel == "")
            .order_by(snapshots.c.period_start)
        ).all()
    # weeks run Monday–Sunday: 24 Feb–2 Mar and 3–9 Mar
    assert [(r.period_start, r.period_end) for r in rows] == [
        (date(2025, 2, 24), date(2025, 3, 2)),
        (date(2025, 3, 3), date(2025, 3, 9)),
    ]
    assert rows[0].policies == pol.to_dict() and rows[0].definitions_version == DEFINITIONS_VERSION
    weekly = read_snapshots(paris.engine, paris.account_id, "weekly")
    # week of 24 Feb: m1; week of 3 March: m1 and m2; engagement is in weekly snapshots
    assert weekly["active_members"].tolist() == [1, 2]
    assert {"engagement_score_avg", "engaged_high", "engaged_low"} <= set(weekly.columns)


def test_writing_twice_is_writing_once(paris: Business) -> None:
    args = {
        "period": "daily",
        "start": "2025-03-01",
        "end": "2025-03-03",
        "accounts": [paris.account_id],
        "progress": False,
    }
    write_snapshots(paris.engine, clock=T1, **args)  # type: ignore[arg-type]
    first = _daily(paris)
    write_snapshots(paris.engine, clock=T2, **args)  # type: ignore[arg-type]
    second = _daily(paris)
    assert len(second) == 3
    pd.testing.assert_frame_equal(first.drop(columns="computed_at"), second.drop(columns="computed_at"))
    assert (second["computed_at"] == at("2025-04-02 06:00")).all()


def test_a_failing_metric_leaves_no_partial_period(paris: Business, monkeypatch: pytest.MonkeyPatch) -> None:
    write_snapshots(
        paris.engine,
        period="daily",
        start="2025-03-01",
        end="2025-03-03",
        accounts=[paris.account_id],
        clock=T1,
        progress=False,
    )
    before = _daily(paris)

    def boom(engine: object, scope: object) -> pd.DataFrame:
        raise RuntimeError("metric exploded")

    registry = dict(snapshot_registry._REGISTRY)
    registry["boom"] = snapshot_registry.SnapshotMetric("boom", boom)
    monkeypatch.setattr(snapshot_registry, "_REGISTRY", registry)
    with pytest.raises(RuntimeError, match="exploded"):
        # activity for the 3rd..5th is computed first, then boom fails: nothing may be written
        write_snapshots(
            paris.engine,
            period="daily",
            start="2025-03-03",
            end="2025-03-05",
            accounts=[paris.account_id],
            clock=T2,
            progress=False,
        )
    after = read_snapshots(paris.engine, paris.account_id, "daily")
    pd.testing.assert_frame_equal(before, after)
    with paris.engine.connect() as conn:
        failed = conn.execute(
            sa.select(job_runs.c.kind, job_runs.c.params).where(
                job_runs.c.status == "failed", job_runs.c.error.contains("exploded")
            )
        ).all()
    assert [(r.kind, r.params["accounts"]) for r in failed] == [("snapshot", [paris.account_id])]


def test_late_data_recomputes_the_touched_periods(paris: Business) -> None:
    e, acc = paris.engine, paris.account_id
    write_snapshots(e, period="daily", start="2025-03-01", end="2025-03-03", accounts=[acc], clock=T1, progress=False)
    assert recompute_touched(e, accounts=[acc], periods=["daily"], clock=T2, progress=False).empty
    paris.event("m2", "login", "2025-03-02 12:00")  # arrives late, for the 2nd
    paris.save()
    done = recompute_touched(e, accounts=[acc], periods=["daily"], clock=T2, progress=False)
    assert done[["first_stale", "last_period"]].values.tolist() == [[date(2025, 3, 2), date(2025, 3, 3)]]
    frame = _daily(paris)
    assert frame["active_members"].tolist() == [1, 1, 2]
    assert frame["computed_at"].tolist() == [at("2025-04-01 06:00"), at("2025-04-02 06:00"), at("2025-04-02 06:00")]
    # a status that moves forward after the snapshot (delivered → read) is a change too
    with e.begin() as conn:
        conn.execute(
            sa.update(wa_messages)
            .where(wa_messages.c.account_id == acc, wa_messages.c.id == "wamid.1")
            .values(updated_at=at("2025-04-03 09:00"))
        )
    done = recompute_touched(
        e, accounts=[acc], periods=["daily"], clock=fixed_clock(at("2025-04-03 10:00")), progress=False
    )
    assert done["first_stale"].tolist() == [date(2025, 3, 2)]


def test_backfill_twelve_months_of_daily_snapshots(paris: Business) -> None:
    summary = backfill_snapshots(
        paris.engine, months=12, end="2025-03-31", accounts=[paris.account_id], clock=T1, progress=False
    )
    account_rows = summary[summary["channel"] == ""]
    # 1 April 2024 … 31 March 2025: 365 days (written one month per transaction)
    assert account_rows[["first_period", "last_period", "periods"]].values.tolist() == [
        [date(2024, 4, 1), date(2025, 3, 31), 365]
    ]
    frame = read_snapshots(paris.engine, paris.account_id, "daily", "2024-04-01", "2025-03-31")
    assert len(frame) == 365 and frame["activity_events"].sum() == 3


def test_empty_account_and_errors(business: Business) -> None:
    b = business.save()
    write_snapshots(
        b.engine,
        period="monthly",
        start="2025-03-01",
        end="2025-03-31",
        accounts=[b.account_id],
        clock=T1,
        progress=False,
    )
    frame = read_snapshots(b.engine, b.account_id, "monthly")
    assert frame[["members_total", "active_members", "idle_members", "checkout_conversion_pct"]].values.tolist() == [
        [0, 0, 0, 0.0]
    ]
    assert frame["active_members_growth"].tolist() == [0.0]  # 0 after 0: unchanged
    with pytest.raises(MetricError, match="unknown account"):
        write_snapshots(b.engine, period="daily", accounts=["biz_nobody"], clock=T1, progress=False)
    with pytest.raises(MetricError, match="not one of"):
        write_snapshots(b.engine, period="yearly", clock=T1, progress=False)
    with pytest.raises(MetricError, match="both --from and --to"):
        write_snapshots(b.engine, period="daily", start="2025-03-01", clock=T1, progress=False)


def test_default_is_the_last_complete_period(paris: Business) -> None:
    write_snapshots(paris.engine, period="monthly", accounts=[paris.account_id], clock=T1, progress=False)
    frame = read_snapshots(paris.engine, paris.account_id, "monthly")
    # at 1 April 06:00 UTC (08:00 in Paris) the last complete month is March
    assert frame["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-01"]
    assert frame["active_members"].tolist() == [2]


def test_a_week_in_progress_is_scored_to_date(paris: Business) -> None:
    """Written on Thursday 6 March (07:00 in Paris), the week of Monday 3 March is scored at the end of Wednesday.

    As of Thursday 00:00 Paris (Wed 23:00 UTC), over the 7 days before: m1 has 1 message and 1 login, last event
    Mar 2 23:30 UTC, 2 whole days before → 100 × (0.3 × 1/10 + 0.2 × 1/7 + 0.2 × (1 − 2/30)) = 24.52 → 25;
    m2 has 1 login on Mar 3 10:00 UTC, 2 whole days before → 100 × (0.2 × 1/7 + 0.2 × (1 − 2/30)) = 21.52 → 22.
    Average 23.5. Scored at the week's end instead (Monday 10 March, days that have not happened yet) both would
    be 19: m1's message leaves the 7-day window and 6 days without activity cost recency.
    """
    write_snapshots(
        paris.engine,
        period="weekly",
        start="2025-03-03",
        end="2025-03-05",
        accounts=[paris.account_id],
        clock=fixed_clock(at("2025-03-06 06:00")),
        progress=False,
    )
    week = read_snapshots(paris.engine, paris.account_id, "weekly").set_index("period_start")
    assert week.loc[pd.Timestamp("2025-03-03"), "engagement_score_avg"] == 23.5
    assert week.loc[pd.Timestamp("2025-03-03"), "period_end"] == pd.Timestamp("2025-03-09")  # still the whole week
    assert not week.loc[pd.Timestamp("2025-03-03"), "complete"]  # its numbers are to date


@pytest.mark.parametrize(("written", "complete"), [("2025-03-09 22:59", False), ("2025-03-09 23:00", True)])
def test_a_period_is_complete_from_the_local_midnight_after_it(paris: Business, written: str, complete: bool) -> None:
    """The week of 3–9 March ends at Monday 10 March 00:00 in Paris, which is Sunday 9 March 23:00 UTC."""
    write_snapshots(
        paris.engine,
        period="weekly",
        start="2025-03-03",
        end="2025-03-09",
        accounts=[paris.account_id],
        clock=fixed_clock(at(written)),
        progress=False,
    )
    week = read_snapshots(paris.engine, paris.account_id, "weekly").set_index("period_start")
    assert week.loc[pd.Timestamp("2025-03-03"), "complete"] == complete


def test_cli_snapshot(paris: Business) -> None:
    url = paris.engine.url.render_as_string(hide_password=False)
    args = ["--database-url", url, "snapshot", "--period", "daily", "--from", "2025-03-01", "--to", "2025-03-03"]
    result = CliRunner().invoke(cli, [*args, "--account", paris.account_id, "--quiet"])
    assert result.exit_code == 0, result.output
    assert f"{paris.account_id}: 3 daily snapshot(s) 2025-03-01 … 2025-03-03" in result.output
    bad = CliRunner().invoke(cli, ["--database-url", url, "snapshot", "--account", "biz_nobody"])
    assert bad.exit_code == 1 and "unknown account biz_nobody" in bad.output


def test_periods_and_growth() -> None:
    weeks = periods_between("weekly", date(2024, 2, 28), date(2024, 3, 4))
    assert [(p.start, p.end) for p in weeks] == [
        (date(2024, 2, 26), date(2024, 3, 3)),
        (date(2024, 3, 4), date(2024, 3, 10)),
    ]
    assert period_of("monthly", date(2024, 2, 29)).end == date(2024, 2, 29)  # leap year February
    assert last_complete("daily", at("2025-02-28 23:30"), "Europe/Paris").start == date(2025, 2, 28)  # already 1 March
    assert last_complete("daily", at("2025-02-28 23:30"), "UTC").start == date(2025, 2, 27)
    assert growth_pct(150, 100) == 50.0 and growth_pct(5, 0) == "new" and growth_pct(0, 0) == 0.0
    assert growth_pct(None, 3) is None and growth_pct(-50, -100) == 50.0


def test_an_undefined_rate_stays_null_in_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """LTV with no churn (ARPA ÷ 0) is undefined: NaN per currency must stay NaN (null), never become 0.

    A fake catalog metric returns, per currency, a defined LTV in usd (12,000 minor) and an undefined one in eur on
    the same day; the snapshot columns are ``ltv_minor_usd`` = 12000 and ``ltv_minor_eur`` = NaN.
    """
    from types import SimpleNamespace

    frame = pd.DataFrame(
        {
            "period_start": [pd.Timestamp("2025-03-01")] * 2,
            "currency": ["usd", "eur"],
            "ltv_minor": [12000.0, float("nan")],
        }
    )
    monkeypatch.setattr(
        snapshot_registry, "registered", lambda: {"fake_ltv": SimpleNamespace(function=lambda engine, req: frame)}
    )
    scope = snapshot_registry.SnapshotScope("acct", "UTC", "daily", date(2025, 3, 1), date(2025, 3, 1))
    wide = snapshot_registry.catalog_snapshot_metric("fake_ltv").compute(None, scope)  # type: ignore[arg-type]
    assert wide.loc[0, "ltv_minor_usd"] == 12000.0
    assert pd.isna(wide.loc[0, "ltv_minor_eur"])
