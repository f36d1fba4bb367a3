"""The page-data job stores what the churn and revenue pages show; the pages only read it.

The tiny business (``churn.conftest.tiny_business``) is complete through 31 March 2024, so the job runs as of
1 April 2024. Paying at the end of March: m_loyal (30.00 a month), m_trial (30.00), m_annual (360.00 a year =
30.00 a month) and m_two, whose 30.00 membership was canceled on 5 March and whose 15.00 one runs on: MRR 105.00
from 4 members. Seven members ever paid; m_gone stopped in their 2nd 30-day period, m_fading and m_leaving in
their 3rd.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import papermill as pm
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from pandas.testing import assert_frame_equal
from sqlalchemy.engine import Engine

from analytics.auth import DashboardClaims
from analytics.cli import cli
from analytics.clock import fixed_clock
from analytics.dashboards import churn_panels, revenue_panels
from analytics.dashboards.session import Dashboard
from analytics.demo import pipeline
from analytics.kpis import Filters
from analytics.metrics import MetricRequest, get
from analytics.metrics.catalog import _REGISTRY as METRICS  # the registry get() reads
from analytics.models.retention import retention_projection
from analytics.models.retention import sbg as sbg_module
from analytics.models.retention.stored import RetentionParameters, retention_results
from analytics.settings import Settings
from analytics.snapshots.cohort_tables import read_cohort_table
from analytics.snapshots.page_data import page_data_step, store_page_data
from analytics.store.results import read_result, replace_results
from analytics.store.schema import computed_results, job_runs
from churn.builders import ACCOUNT, Business, at
from churn.conftest import cut_of, tiny_business

AS_OF = date(2024, 4, 1)
LAST_DAY = date(2024, 3, 31)
FAST = RetentionParameters(n_boot=40)  # seven members: a small bootstrap is plenty
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "page_data.ipynb"
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@pytest.fixture
def tiny_store(any_engine: Engine) -> Engine:
    """The tiny business on SQLite, PostgreSQL and DuckDB."""
    tiny_business().save(any_engine)
    return any_engine


def stored_rows(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(computed_results.c.kind, computed_results.c.as_of).order_by(
                computed_results.c.kind, computed_results.c.as_of
            )
        ).all()
    return [(kind, str(day)[:10]) for kind, day in rows]


def test_the_job_stores_every_result_and_running_it_again_replaces_them(tiny_store: Engine) -> None:
    summary = store_page_data(tiny_store, ACCOUNT, as_of=AS_OF, parameters=FAST)
    assert summary[["account_id", "as_of", "stored", "empty"]].values.tolist() == [[ACCOUNT, AS_OF, 7, ""]]
    first = stored_rows(tiny_store)
    assert first == [
        ("lifetime_value", "2024-04-01"),
        ("net_mrr_retention_month", "2024-04-01"),
        ("net_mrr_retention_week", "2024-04-01"),
        ("retention_cohorts", "2024-04-01"),
        ("retention_curve", "2024-04-01"),
        ("retention_fit", "2024-04-01"),
        ("revenue_forecast", "2024-04-01"),
    ]
    store_page_data(tiny_store, ACCOUNT, as_of=AS_OF, parameters=FAST)
    assert stored_rows(tiny_store) == first  # replaced, not added
    with tiny_store.connect() as conn:
        runs = conn.execute(
            sa.select(job_runs.c.kind, job_runs.c.status, job_runs.c.account_id, job_runs.c.summary)
        ).all()
    assert [(r.kind, r.status, r.account_id, r.summary["stored"]) for r in runs] == [
        ("page_data", "succeeded", ACCOUNT, 7)
    ] * 2
    # The next day: the model outputs keep their history, the (large) cohort tables only the newest.
    store_page_data(tiny_store, ACCOUNT, as_of=AS_OF + timedelta(days=1), parameters=FAST)
    later = stored_rows(tiny_store)
    assert len(later) == 12
    assert ("net_mrr_retention_week", "2024-04-02") in later and ("net_mrr_retention_week", "2024-04-01") not in later
    assert ("revenue_forecast", "2024-04-01") in later and ("revenue_forecast", "2024-04-02") in later


def test_the_stored_numbers_are_the_models_and_the_metrics(tiny_store: Engine) -> None:
    store_page_data(tiny_store, ACCOUNT, as_of=AS_OF, parameters=FAST)

    curve = read_result(tiny_store, ACCOUNT, "retention_curve")
    assert curve is not None and curve.notes == []  # a fit inside its range, converged: nothing to say
    # Kaplan–Meier: 7 at risk; period 2 loses m_gone (1 of 6), period 3 m_fading and m_leaving (2 of 5); then only
    # m_annual is observed (10 periods, still paying), so the curve stays at 1/2 through period 10.
    observed = curve.frame["observed"].round(4).tolist()
    assert observed[:11] == [1.0, 1.0, round(5 / 6, 4), 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert curve.frame["observed"].iloc[11:].isna().all()
    projection = retention_projection(tiny_store, ACCOUNT, as_of=AS_OF, periods=12)
    assert_frame_equal(curve.frame, projection.curve)

    forecast = read_result(tiny_store, ACCOUNT, "revenue_forecast")
    assert forecast is not None
    now = forecast.frame[forecast.frame["month"] == 0].iloc[0]
    # Month 0 starts from the MRR now: 30.00 + 30.00 + 360.00 / 12 + 15.00, from 4 paying members …
    assert (now["currency"], now["start"], now["expected_minor"], now["members"]) == ("usd", LAST_DAY, 10500, 4)
    # … which is the mrr metric's value for the last complete day.
    mrr = get("mrr").function(tiny_store, MetricRequest.build(ACCOUNT, LAST_DAY, LAST_DAY, "day"))
    assert mrr["mrr_minor"].tolist() == [10500]
    assert forecast.frame["month"].tolist() == [0, 1, 2, 3]
    assert forecast.notes[0].startswith("Month 0 is the MRR on 31 Mar 2024: $105.00 from 4 paying members.")
    assert forecast.frame.attrs["notes"] == forecast.notes

    fit = read_result(tiny_store, ACCOUNT, "retention_fit")
    assert fit is not None
    assert fit.frame[["converged", "customers", "churned"]].values.tolist() == [[True, 7.0, 3.0]]
    ltv = read_result(tiny_store, ACCOUNT, "lifetime_value")
    assert ltv is not None and ltv.frame[["currency", "paying"]].values.tolist() == [["usd", 4]]

    # The monthly cohort table narrowed to a range of whole months ending on its last day is the metric's answer.
    # January 2024: m_loyal, m_fading, m_leaving, m_gone (30.00 each) and m_two (30.00 + 15.00) = 165.00;
    # February 135.00 (m_gone left); March 45.00 (m_fading, m_leaving and m_two's 30.00 membership ended).
    table = read_cohort_table(tiny_store, ACCOUNT, "month", date(2024, 1, 15), LAST_DAY)
    metric = get("net_mrr_retention").function(
        tiny_store, MetricRequest.build(ACCOUNT, date(2024, 1, 1), LAST_DAY, "month")
    )
    assert table is not None
    assert_frame_equal(table.frame, metric)
    january = table.frame[table.frame["cohort"] == "2024-01-01"]
    assert january["mrr_minor"].tolist() == [16500, 13500, 4500]
    weeks = read_cohort_table(tiny_store, ACCOUNT, "week", date(2024, 2, 14), LAST_DAY)
    weekly = get("net_mrr_retention").function(
        tiny_store, MetricRequest.build(ACCOUNT, date(2024, 2, 12), LAST_DAY, "week")
    )
    assert weeks is not None
    assert_frame_equal(weeks.frame, weekly)


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_readers_return_what_the_job_computed(tiny: Engine) -> None:
    results = retention_results(tiny, ACCOUNT, as_of=AS_OF, currency="usd", parameters=FAST)
    with tiny.begin() as conn:
        replace_results(conn, ACCOUNT, AS_OF, results, computed_at=datetime(2024, 4, 1, 3, tzinfo=UTC))
    for result in results:
        stored = read_result(tiny, ACCOUNT, result.kind)
        assert stored is not None
        assert_frame_equal(stored.frame, result.frame, obj=result.kind)
        assert stored.notes == result.notes and stored.parameters == dataclasses.asdict(FAST)
    forecast = read_result(tiny, ACCOUNT, "revenue_forecast")
    assert forecast is not None and forecast.frame.attrs["total"] == results[-1].frame.attrs["total"]


def _one_step_minimize(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every sBG fit stop after one iteration: a fit that genuinely did not converge."""
    real = sbg_module.minimize

    def one_step(*args: object, **kwargs: Any) -> Any:
        return real(*args, **{**kwargs, "options": {**kwargs["options"], "maxiter": 1}})

    monkeypatch.setattr(sbg_module, "minimize", one_step)


def test_a_fit_that_did_not_converge_is_a_stored_note_not_a_warning(
    tiny: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_step_minimize(monkeypatch)
    store_page_data(tiny, ACCOUNT, as_of=AS_OF, parameters=FAST)  # pytest turns an escaped warning into an error
    curve = read_result(tiny, ACCOUNT, "retention_curve")
    forecast = read_result(tiny, ACCOUNT, "revenue_forecast")
    assert curve is not None and forecast is not None
    assert [n for n in curve.notes if n.startswith("sBG fit did not converge (")] == curve.notes[:1]
    assert curve.notes[0] in forecast.notes
    assert "40 of 40 bootstrap refits of the sBG model did not converge; the interval uses the other 0" in (
        forecast.notes
    )


def test_an_account_that_cannot_be_projected_stores_why(engine: Engine) -> None:
    free = Business("biz_free")
    free.member("m_free", at("2024-01-10"))
    free.change("m_free", "ms_free", at("2024-01-10"), "active", price=0)
    free.save(engine)
    summary = store_page_data(engine, "biz_free", as_of=AS_OF, parameters=FAST)
    assert summary["empty"].iloc[0] == (  # nobody ever paid: no cohorts either
        "retention_curve, retention_cohorts, retention_fit, lifetime_value, revenue_forecast, "
        "net_mrr_retention_month, net_mrr_retention_week"
    )
    forecast = read_result(engine, "biz_free", "revenue_forecast")
    assert forecast is not None and forecast.frame.empty
    assert forecast.notes == [
        "No retention projection: account biz_free has no paying members before 2024-04-01; nothing to project."
    ]
    dashboard = _dashboard(engine, "biz_free")
    try:
        panel = churn_panels.revenue_forecast_chart(dashboard)
        panel.update(Filters(date(2024, 1, 1), LAST_DAY))
        assert panel.view.state == "empty" and "has no paying members before 2024-04-01" in panel.view.message.value
    finally:
        dashboard.engine.dispose()


def _dashboard(engine: Engine, account_id: str = ACCOUNT) -> Dashboard:
    url = engine.url.render_as_string(hide_password=False)
    return Dashboard(Settings(database_url=url), DashboardClaims(account_id, datetime(2030, 1, 1, tzinfo=UTC)))


def _refuse(*args: object, **kwargs: object) -> Any:
    raise AssertionError("a page computed what the page-data job stores")


def test_pages_only_read_and_say_which_command_fills_them(tiny: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sbg_module.ShiftedBetaGeometricFitter, "fit", _refuse)
    cohorts = METRICS["net_mrr_retention"]
    monkeypatch.setitem(METRICS, "net_mrr_retention", dataclasses.replace(cohorts, function=_refuse))
    dashboard = _dashboard(tiny)
    month = Filters(date(2024, 1, 1), LAST_DAY, "month")
    try:
        panels = {
            "retention_projection": churn_panels.retention_chart(dashboard),
            "revenue_forecast": churn_panels.revenue_forecast_chart(dashboard),
            "cohorts": revenue_panels.cohort_chart(dashboard),
        }
        for panel in panels.values():  # nothing stored yet: the empty state names the command
            panel.update(month)
            assert panel.view.state == "empty"
            assert f"run `analytics precompute --account {ACCOUNT}`" in panel.view.message.value

        monkeypatch.undo()
        store_page_data(tiny, ACCOUNT, as_of=AS_OF, parameters=FAST)
        monkeypatch.setattr(sbg_module.ShiftedBetaGeometricFitter, "fit", _refuse)
        monkeypatch.setitem(METRICS, "net_mrr_retention", dataclasses.replace(cohorts, function=_refuse))
        for panel in panels.values():
            panel.update(month)
            assert panel.view.state == "ready", panel.name
        curve = read_result(tiny, ACCOUNT, "retention_curve")
        forecast = read_result(tiny, ACCOUNT, "revenue_forecast")
        assert curve is not None and forecast is not None
        assert_frame_equal(panels["retention_projection"].data, curve.frame)
        assert_frame_equal(panels["revenue_forecast"].data, forecast.frame)
        assert panels["revenue_forecast"].data.attrs["notes"] == forecast.notes
        heat = panels["cohorts"].data  # the stored cohort table itself (what the panel's CSV holds)
        january = heat[pd.to_datetime(heat["cohort"]).dt.strftime("%Y-%m") == "2024-01"]
        assert (january["net_mrr_retention_pct"] / 100).round(4).tolist() == [1.0, 0.8182, 0.2727]

        filtered = revenue_panels.cohort_chart(dashboard)
        filtered.update(Filters(date(2024, 1, 1), LAST_DAY, "month", product_id="prod_1"))
        assert filtered.view.state == "empty" and "choose all products and plans" in filtered.view.message.value
    finally:
        dashboard.engine.dispose()


@sqlite_only
def test_cli_precompute(tiny: Engine, tmp_path: Path) -> None:
    url = tiny.url.render_as_string(hide_password=False)
    base = ["--workspace", str(tmp_path / "ws"), "--database-url", url, "precompute"]
    result = CliRunner().invoke(cli, [*base, "--account", ACCOUNT, "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{ACCOUNT}: 7 results as of 2024-04-01 (1 quality notes, ")
    assert "page data" not in result.output  # no progress bar when the output is not a terminal
    assert len(stored_rows(tiny)) == 7
    unknown = CliRunner().invoke(cli, [*base, "--account", "biz_nope"])
    assert unknown.exit_code == 1 and "account 'biz_nope' is not in the store" in unknown.output


@sqlite_only
def test_the_daily_notebook_stores_the_page_data(tiny: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", tiny.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ANALYTICS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("ANALYTICS_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    out = tmp_path / "page_data.out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"account_id": ACCOUNT, "as_of": LAST_DAY.isoformat()},
        kernel_name="python3",
        progress_bar=False,
    )
    assert {day for _, day in stored_rows(tiny)} == {"2024-04-01"}  # as of the day after the last complete day
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    shown = "".join(str(o.get("data", {})) for c in cells if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert "Page data as of 2024-04-01 (data through 2024-03-31)" in shown and ACCOUNT in shown


@sqlite_only
def test_the_demo_step_stores_the_page_data_after_churn_scoring(tiny: Engine, tmp_path: Path) -> None:
    steps = pipeline.registered_steps()
    assert steps.index("page_data") == steps.index("churn") + 1 and steps.index("reports") > steps.index("page_data")
    ctx = pipeline.DemoContext(
        settings=Settings(workspace=tmp_path),
        engine=tiny,
        size="tiny",
        seed=7,
        end=AS_OF,
        accounts=1,
        account_ids=[ACCOUNT],
        progress=False,
        clock=fixed_clock(cut_of(AS_OF)),
    )
    assert page_data_step(ctx) == {ACCOUNT: {"stored": 7, "empty": "", "notes": 1}}
    assert len(stored_rows(tiny)) == 7
