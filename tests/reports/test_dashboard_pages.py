"""Dashboard pages built in-process (no browser): empty accounts and missing revenue get friendly states."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from analytics.auth import DashboardClaims
from analytics.dashboards import panels as p
from analytics.dashboards.session import Dashboard
from analytics.settings import Settings
from analytics.store import upsert_rows
from analytics.store.schema import activity_events, members
from analytics.widgets.frame import DashboardFrame

CLAIMS = DashboardClaims("biz_tiny", datetime(2030, 1, 1, tzinfo=UTC))


def overview(dashboard: Dashboard) -> object:
    return dashboard.page(
        "Overview",
        rows=[
            [p.kpis(dashboard, ["mrr", "paying_customers"])],
            [p.mrr_chart(dashboard)],
            [p.movements_chart(dashboard), p.status_chart(dashboard)],
        ],
    )


def test_an_account_without_any_data_gets_the_no_data_page(
    one_account_store: Engine, workspace_settings: Settings
) -> None:
    page = overview(Dashboard(workspace_settings, CLAIMS))
    assert not isinstance(page, DashboardFrame)
    assert 'data-state="no-data"' in page.value and "Tiny Academy" in page.value


def test_an_account_without_revenue_shows_empty_revenue_panels(
    one_account_store: Engine, workspace_settings: Settings
) -> None:
    when = datetime(2025, 3, 5, 10, tzinfo=UTC)
    with one_account_store.begin() as conn:  # one free member who logged in once: activity, but no revenue
        upsert_rows(conn, members, [{"account_id": "biz_tiny", "id": "m1", "status": "joined", "joined_at": when}])
        upsert_rows(
            conn,
            activity_events,
            [{"account_id": "biz_tiny", "id": "e1", "member_id": "m1", "kind": "login", "occurred_at": when}],
        )
    page = overview(Dashboard(workspace_settings, CLAIMS))
    assert isinstance(page, DashboardFrame)
    states = {panel.name: getattr(panel, "view", None) for panel in page.panels}
    assert states["mrr"].state == "empty" and "No subscription revenue" in states["mrr"].message.value
    assert states["movements"].state == "empty"
    assert states["members_by_status"].state == "empty"
    kpis = page.panels[0].kpis  # type: ignore[attr-defined]
    assert kpis["mrr"].text == "€0.00" and kpis["paying_customers"].value == 0  # the account reports in EUR
    assert 'data-state="ready"' in page.status.value  # nothing failed
