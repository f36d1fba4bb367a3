"""A dashboard's session: the signed link is checked first, then (and only then) the account's data is opened.

A dashboard notebook starts with::

    dashboard = open_dashboard(os.environ)

which reads ``token`` (and an optional ``account``) from Voilà's ``QUERY_STRING``, verifies the token with
``ANALYTICS_SECRET_KEY`` and remembers the one account it grants. Until that succeeds there is no engine: the
:attr:`Dashboard.engine` property refuses, and :meth:`Dashboard.page` returns the "not authorised" page.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.auth import DashboardClaims, token_from_query_string, verify_dashboard_token
from analytics.clock import Clock, utcnow
from analytics.errors import AnalyticsError, AuthorizationError, MetricError
from analytics.kpis import AccountInfo, AccountMetrics, Filters
from analytics.settings import Settings, load_settings
from analytics.store import create_store_engine
from analytics.store.schema import plans, products
from analytics.widgets.access import no_data_page, not_authorised_page
from analytics.widgets.controls import Controls, PlanOption, ProductOption
from analytics.widgets.frame import DashboardFrame, server_log
from analytics.widgets.panels import Panel

__all__ = ["AccountInfo", "Dashboard", "authorise_query", "log_cell_errors", "open_dashboard"]

NOT_CONFIGURED = "This dashboard server is not set up for links yet (the operator has to set ANALYTICS_SECRET_KEY)."


def authorise_query(query_string: str, settings: Settings, clock: Clock = utcnow) -> DashboardClaims:
    """Verify the ``token`` in a dashboard URL's query string; an ``account`` parameter must match it.

    Raises
    ------
    AuthorizationError
        Missing, forged, expired or other-account token (or a repeated parameter).
    ConfigError
        ``ANALYTICS_SECRET_KEY`` is not set or too short on the server.
    """
    token, account = token_from_query_string(query_string)
    return verify_dashboard_token(settings.require("secret_key"), token, account_id=account, clock=clock)


class Dashboard:
    """One viewer's dashboard: who may see what, and the panels to build for them.

    Create it with :func:`open_dashboard`. Panels are built by :mod:`analytics.dashboards.panels`; nothing reads
    the store until :meth:`page` is called on an authorised dashboard.
    """

    def __init__(
        self,
        settings: Settings,
        claims: DashboardClaims | None,
        denied_reason: str | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.claims = claims
        self.denied_reason = denied_reason
        self.clock = clock
        self._engine: Engine | None = None
        self._metrics: AccountMetrics | None = None
        self.opened_at = time.time()

    @property
    def authorised(self) -> bool:
        return self.claims is not None

    @property
    def account_id(self) -> str:
        if self.claims is None:
            raise AuthorizationError(self.denied_reason or "not authorised")
        return self.claims.account_id

    @property
    def engine(self) -> Engine:
        """The store, opened only for an authorised dashboard."""
        if self.claims is None:
            raise AuthorizationError(self.denied_reason or "not authorised")
        if self._engine is None:
            self._engine = create_store_engine(self.settings.database_url)
        return self._engine

    @property
    def metrics(self) -> AccountMetrics:
        """The account's metrics (remembered per refresh), available only to an authorised dashboard."""
        if self._metrics is None:
            self._metrics = AccountMetrics(self.engine, self.account_id)
        return self._metrics

    @property
    def account(self) -> AccountInfo:
        """Title, time zone and reporting currency of the account."""
        return self.metrics.account

    def metric(
        self,
        name: str,
        start: date,
        end: date,
        grain: str,
        filters: Filters | None = None,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Metric ``name`` for this account (:meth:`analytics.kpis.AccountMetrics.metric`), computed once per
        refresh: panels asking for the same numbers (a KPI card and a chart) share one query."""
        return self.metrics.metric(name, start, end, grain, filters, params)

    def forget(self) -> None:
        """Drop the numbers of the previous refresh (called before each refresh)."""
        if self._metrics is not None:
            self._metrics.forget()

    def today(self) -> date:
        """Today's date in the account's time zone."""
        from zoneinfo import ZoneInfo

        return self.clock().astimezone(ZoneInfo(self.account.time_zone)).date()

    def latest(self) -> date | None:
        """The last day with data, never after today (:func:`analytics.dashboards.data.latest_data_date`)."""
        from analytics.dashboards.data import latest_data_date

        return latest_data_date(self.engine, self.account_id, today=self.today())

    def default_filters(self, days: int = 90, grain: str = "week") -> Filters:
        """The last ``days`` days up to the latest data (or today), by ``grain``."""
        end = self.latest() or self.today()
        return Filters(start=end - timedelta(days=days - 1), end=end, grain=grain)

    def controls(self, filters: Filters) -> Controls:
        """Date range, grain, product and plan controls with this account's products and plans."""
        with self.engine.connect() as conn:
            product_rows = conn.execute(
                sa.select(products.c.id, products.c.title)
                .where(products.c.account_id == self.account_id)
                .order_by(products.c.title)
            ).all()
            plan_rows = conn.execute(
                sa.select(plans.c.id, plans.c.title, plans.c.product_id)
                .where(plans.c.account_id == self.account_id)
                .order_by(plans.c.title, plans.c.id)
            ).all()
        return Controls(
            filters,
            [ProductOption(r.id, r.title) for r in product_rows],
            [PlanOption(r.id, r.title or r.id, r.product_id) for r in plan_rows],
            today=self.today(),
        )

    def page(
        self,
        title: str,
        rows: Sequence[Sequence[Panel]],
        *,
        days: int = 90,
        grain: str = "week",
        with_controls: bool = True,
    ) -> widgets.Widget:
        """The dashboard page: the not-authorised page, a friendly empty state, or the frame with its panels.

        The frame is returned with every panel loading and fills itself in the kernel's event loop
        (:meth:`~analytics.widgets.frame.DashboardFrame.start`), so the page is on screen while its numbers load.
        """
        if self.claims is None:
            return not_authorised_page(self.denied_reason or "not authorised")
        try:
            account = self.account
            latest = self.latest()
        except (AuthorizationError, MetricError) as exc:  # e.g. a valid link to an account no longer stored
            server_log().warning("dashboard refused: %s", exc)
            return not_authorised_page(str(exc))
        subtitle = f"{account.title} · {account.id} · {account.currency.upper()} · {account.time_zone}"
        if latest is None:
            return no_data_page(title, subtitle)
        filters = Filters(start=bucket_start(latest - timedelta(days=days - 1), grain), end=latest, grain=grain)
        controls = self.controls(filters) if with_controls else None
        frame = DashboardFrame(title, subtitle, rows, controls, before_refresh=self.forget)
        frame.add_timings(kernel_started=process_start_time(), opened=self.opened_at, built=time.time())
        frame.start(filters)
        return frame


def bucket_start(day: date, grain: str) -> date:
    """The first day of the day/week/month bucket holding ``day``: a default range starts on a bucket's first day,
    so its first point is a whole period, not a few days of one."""
    if grain == "month":
        return day.replace(day=1)
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day


def process_start_time() -> float | None:
    """When this process (the dashboard's kernel) started, in seconds since the epoch (Linux; else None)."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        return boot + float(stat[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def log_cell_errors() -> None:
    """In a kernel, also write every uncaught cell error with its traceback to the server log.

    Voilà strips tracebacks from pages (``show_tracebacks = False``) but does not log them; this IPython custom
    exception handler sends them to ``sys.__stderr__`` (the Voilà server's log) and then lets IPython record the
    error as usual, which Voilà replaces with a short note on the page.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None) -> Any:
        server_log().error("dashboard cell failed: %s: %s", etype.__name__, value, exc_info=(etype, value, tb))
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((Exception,), handler)


def open_dashboard(
    environ: Mapping[str, str] | None = None,
    *,
    settings: Settings | None = None,
    clock: Clock = utcnow,
) -> Dashboard:
    """Check the link this dashboard was opened with (``QUERY_STRING`` in ``environ``) before anything else.

    Never raises for a bad link: the returned dashboard is then unauthorised and its page says why. The reason
    and the client's query (without the token) go to the server log.
    """
    log_cell_errors()
    preheated = (environ is None or environ is os.environ) and os.environ.get("VOILA_PREHEAT") == "True"
    if preheated:
        from voila.utils import wait_for_request

        wait_for_request()  # imports are done; wait here for the viewer's request
    env: Mapping[str, Any] = os.environ if environ is None else environ
    query = str(env.get("QUERY_STRING", ""))
    try:
        settings = settings or load_settings(env)
        claims = authorise_query(query, settings, clock)
    except AuthorizationError as exc:
        server_log().warning("dashboard link refused (%s): %s", env.get("SCRIPT_NAME", "?"), exc)
        return Dashboard(settings or Settings(), None, str(exc), clock)
    except AnalyticsError as exc:
        server_log().error("dashboard server misconfigured: %s", exc)
        return Dashboard(settings or Settings(), None, NOT_CONFIGURED, clock)
    server_log().info("dashboard %s opened for account %s", env.get("SCRIPT_NAME", "?"), claims.account_id)
    return Dashboard(settings, claims, None, clock)
