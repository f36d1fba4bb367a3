"""`analytics run monthly` (params/monthly.yaml) through the command line on the tiny demo business, per engine.

Run on 1 July 2025 with ``--as-of 2025-06-30`` and without its sync step, it writes June's monthly snapshot and
the monthly business report of June compared with May. Expected numbers are the library's own metrics for those
months, asked directly of the same store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from analytics.cli import cli
from analytics.formatting import format_value
from analytics.metrics import MetricRequest, get
from analytics.reports.export import read_notebook, report_tables
from analytics.snapshots import read_snapshots
from analytics.store.schema import job_runs
from conftest import AS_OF, ENGINES, DemoWorkspace, demo_on

pytestmark = pytest.mark.slow

JUNE = (date(2025, 6, 1), date(2025, 6, 30))
MAY = (date(2025, 5, 1), date(2025, 5, 31))


@dataclass(frozen=True)
class MonthlyRun:
    demo: DemoWorkspace
    run_dir: Path
    output: str


@pytest.fixture(scope="module", params=ENGINES)
def monthly(request: pytest.FixtureRequest) -> Iterator[MonthlyRun]:
    demo = demo_on(request)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYTICS_CONFIG", "")
        for name in ("ANALYTICS_DATABASE_URL", "ANALYTICS_WORKSPACE", "ANALYTICS_PROJECT_DIR"):
            mp.delenv(name, raising=False)
        result = CliRunner().invoke(
            cli,
            [
                "--workspace",
                str(demo.settings.workspace),
                "--database-url",
                demo.settings.database_url,
                "run",
                "monthly",
                "--account",
                demo.account_id,
                "--as-of",
                AS_OF.isoformat(),
                "--skip",
                "sync",
                "--quiet",
            ],
        )
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"monthly run for {demo.account_id}: ")
    run_dir = Path(first.split(": ", 1)[1].rsplit(" (", 1)[0])
    yield MonthlyRun(demo, run_dir, result.stdout)


def month_row(demo: DemoWorkspace, name: str, month: tuple[date, date]) -> dict[str, object]:
    """The metric for exactly one calendar month, straight from the catalog."""
    frame = get(name).function(demo.engine, MetricRequest.build(demo.account_id, month[0], month[1], "month"))
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_monthly_run_writes_notebooks_and_exports(monthly: MonthlyRun) -> None:
    run_dir = monthly.run_dir
    assert run_dir.parts[-2:] == ("monthly", monthly.demo.account_id)
    assert sorted(p.name for p in run_dir.glob("*.ipynb")) == ["business_report.ipynb", "snapshot.ipynb"]
    assert {p.name for p in (run_dir / "report").iterdir()} == {"business_report.html", "business_report.pdf", "tables"}
    assert "business_report.pdf" in monthly.output


def test_monthly_snapshot_is_june_with_the_librarys_mrr(monthly: MonthlyRun) -> None:
    demo = monthly.demo
    written = report_tables(read_notebook(monthly.run_dir / "snapshot.ipynb"))["written"]
    account_level = written[written["channel"] == ""]
    assert account_level[["period", "periods"]].to_dict("records") == [{"period": "monthly", "periods": 1}]
    assert str(account_level.iloc[0]["first_period"]).startswith("2025-06-01")
    [stored] = read_snapshots(demo.engine, demo.account_id, "monthly", JUNE[0], JUNE[0]).to_dict("records")
    assert stored["period_end"].date() == JUNE[1]
    assert stored["mrr_minor_usd"] == month_row(demo, "mrr", JUNE)["mrr_minor"]


def test_monthly_report_compares_june_with_may(monthly: MonthlyRun) -> None:
    demo = monthly.demo
    nb = read_notebook(monthly.run_dir / "business_report.ipynb")
    kpis = report_tables(nb)["kpis"].set_index("name")
    mrr_june, mrr_may = (month_row(demo, "mrr", m)["mrr_minor"] for m in (JUNE, MAY))
    assert (kpis.loc["mrr", "value"], kpis.loc["mrr", "previous"]) == (mrr_june, mrr_may)
    moves = month_row(demo, "mrr_movements", JUNE)
    assert kpis.loc["paying_customers", "value"] == moves["customers_end"]
    assert kpis.loc["new_customers", "value"] == moves["new_customers"]
    churn = month_row(demo, "customer_churn_rate", JUNE)["customer_churn_rate_pct"]
    assert kpis.loc["customer_churn_rate", "value"] == pytest.approx(churn)
    html = (monthly.run_dir / "report" / "business_report.html").read_text()
    assert "Monthly business report" in html and format_value(mrr_june, "money_minor", "usd") in html


def test_monthly_movements_cover_twelve_months_ending_in_june(monthly: MonthlyRun) -> None:
    rows = json.loads((monthly.run_dir / "report" / "tables" / "movements.json").read_text())["table"]["data"]
    assert len(rows) == 12  # periods_back: 12 months ending with the reported one
    assert str(rows[-1]["period_start"]).startswith("2025-06-01")
    assert str(rows[0]["period_start"]).startswith("2024-07-01")
    june = month_row(monthly.demo, "mrr_movements", JUNE)
    assert rows[-1]["mrr_end_minor"] == june["mrr_end_minor"] and rows[-1]["churn_minor"] == june["churn_minor"]


def test_monthly_run_is_recorded_as_a_job(monthly: MonthlyRun) -> None:
    with monthly.demo.engine.connect() as conn:
        runs = conn.execute(
            sa.select(job_runs.c.status, job_runs.c.params).where(job_runs.c.kind == "run").order_by(job_runs.c.id)
        ).all()
    monthly_runs = [r for r in runs if r.params.get("schedule") == "monthly"]
    assert [r.status for r in monthly_runs] == ["succeeded"]
    assert monthly_runs[0].params == {
        "schedule": "monthly",
        "notebooks": ["snapshot", "business_report"],
        "as_of": AS_OF.isoformat(),
    }
