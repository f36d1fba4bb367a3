"""`analytics run weekly` on the tiny demo business: the notebooks run, record the right numbers, export cleanly.

One weekly run (without its sync step) per engine (SQLite, PostgreSQL); the week reported is Monday 23 – Sunday
29 June 2025, compared with 16–22 June. Expected numbers are the library's own metrics for the same weeks, asked
directly of the same store. The store also holds hand-written churn scores of 30 June (see
``test_report_actions``: 5 members scored, 3 at risk, 2 to re-engage), so the report has members at risk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from report_scores import remove_scores, store_scores

from analytics.clock import fixed_clock
from analytics.errors import ReportError
from analytics.formatting import format_value
from analytics.metrics import MetricRequest, get
from analytics.reports.export import read_notebook, report_tables
from analytics.reports.runner import RunResult, run_schedule
from analytics.snapshots import read_snapshots
from analytics.store.schema import job_runs
from conftest import AS_OF, ENGINES, DemoWorkspace, demo_on

pytestmark = pytest.mark.slow

WEEK = (date(2025, 6, 23), date(2025, 6, 29))
PREVIOUS_WEEK = (date(2025, 6, 16), date(2025, 6, 22))
RUN_CLOCK = fixed_clock(datetime(2025, 7, 1, 6, 0, tzinfo=UTC))


@dataclass(frozen=True)
class WeeklyRun:
    demo: DemoWorkspace
    result: RunResult


@pytest.fixture(scope="module", params=ENGINES)
def weekly(request: pytest.FixtureRequest) -> Iterator[WeeklyRun]:
    demo = demo_on(request)
    store_scores(demo.engine, demo.account_id)
    try:
        [result] = run_schedule(
            demo.settings,
            "weekly",
            account=demo.account_id,
            engine=demo.engine,
            extra_parameters={"as_of": AS_OF.isoformat()},
            skip=("sync",),
            clock=RUN_CLOCK,
            progress=False,
        )
    finally:
        remove_scores(demo.engine, demo.account_id)
    yield WeeklyRun(demo, result)


def metric_row(demo: DemoWorkspace, name: str, week: tuple[date, date]) -> dict[str, object]:
    """The metric for exactly one Monday–Sunday week, straight from the catalog."""
    frame = get(name).function(demo.engine, MetricRequest.build(demo.account_id, week[0], week[1], "week"))
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_run_folder_holds_executed_notebooks_and_exports(weekly: WeeklyRun) -> None:
    run_dir = weekly.result.run_dir
    assert (
        run_dir == weekly.demo.settings.workspace.resolve() / "runs" / "2025-07-01" / "weekly" / weekly.demo.account_id
    )
    assert sorted(p.name for p in run_dir.glob("*.ipynb")) == ["business_report.ipynb", "snapshot.ipynb"]
    assert {p.name for p in (run_dir / "report").iterdir()} == {"business_report.html", "business_report.pdf", "tables"}


def test_snapshot_notebook_wrote_the_week(weekly: WeeklyRun) -> None:
    demo = weekly.demo
    written = report_tables(read_notebook(weekly.result.run_dir / "snapshot.ipynb"))["written"]
    account_level = written[written["channel"] == ""]  # the demo also has a WhatsApp channel snapshot
    assert account_level[["account_id", "period", "periods"]].to_dict("records") == [
        {"account_id": demo.account_id, "period": "weekly", "periods": 1}
    ]
    assert str(account_level.iloc[0]["first_period"]).startswith("2025-06-23")
    stored = read_snapshots(demo.engine, demo.account_id, "weekly", WEEK[0], WEEK[0])
    assert list(stored["period_end"].dt.date) == [WEEK[1]]
    # the stored MRR is the MRR metric at the end of the week
    assert stored.iloc[0]["mrr_minor_usd"] == metric_row(demo, "mrr", WEEK)["mrr_minor"]


def test_report_kpis_are_the_library_numbers(weekly: WeeklyRun) -> None:
    demo = weekly.demo
    kpis = report_tables(read_notebook(weekly.result.run_dir / "business_report.ipynb"))["kpis"].set_index("name")
    mrr_now, mrr_before = (metric_row(demo, "mrr", w)["mrr_minor"] for w in (WEEK, PREVIOUS_WEEK))
    assert (kpis.loc["mrr", "value"], kpis.loc["mrr", "previous"]) == (mrr_now, mrr_before)
    assert kpis.loc["mrr", "shown"] == format_value(mrr_now, "money_minor", "usd")
    moves = metric_row(demo, "mrr_movements", WEEK)
    assert kpis.loc["paying_customers", "value"] == moves["customers_end"]
    assert kpis.loc["new_customers", "value"] == moves["new_customers"]
    churn = metric_row(demo, "customer_churn_rate", WEEK)["customer_churn_rate_pct"]
    assert kpis.loc["customer_churn_rate", "value"] == pytest.approx(churn)
    assert kpis.loc["active_members", "value"] == metric_row(demo, "active_members", WEEK)["active_members"]


def test_movements_table_rolls_forward(weekly: WeeklyRun) -> None:
    table = weekly.result.run_dir / "report" / "tables" / "movements.json"
    rows = json.loads(table.read_text())["table"]["data"]
    assert len(rows) == 12  # periods_back: 12 weeks ending with the reported one
    for r in rows:
        gained = r["new_minor"] + r["expansion_minor"] + r["reactivation_minor"]
        lost = r["contraction_minor"] + r["churn_minor"]
        assert r["mrr_end_minor"] == r["mrr_start_minor"] + gained - lost + r["fx_minor"], r["period_start"]


def test_csv_tables_carry_exact_values(weekly: WeeklyRun) -> None:
    tables = weekly.result.run_dir / "report" / "tables"
    assert {p.stem for p in tables.glob("*.csv")} >= {"kpis", "mrr", "movements", "churn", "failed_payments", "refunds"}
    assert {p.stem for p in tables.glob("*.csv")} >= {"actions", "risk_levels", "risk_reasons", "risk_actions"}
    kpis_csv = (tables / "kpis.csv").read_text().splitlines()
    assert kpis_csv[0] == "name,label,value,previous,change,unit,shown"
    mrr_now = metric_row(weekly.demo, "mrr", WEEK)["mrr_minor"]
    assert any(line.startswith(f"mrr,MRR,{mrr_now},") for line in kpis_csv)  # integer minor units, not floats


def test_html_report_has_no_code(weekly: WeeklyRun) -> None:
    html = (weekly.result.run_dir / "report" / "business_report.html").read_text()
    for code in ("business_report(", "import analytics", "show_summary", "analytics.connect", "account_id: str"):
        assert code not in html
    assert 'class="jp-InputArea' not in html and "<script src=" not in html
    assert "Highlights" in html and html.count("data:image/svg+xml") >= 4  # charts inlined, no network
    mrr_now = metric_row(weekly.demo, "mrr", WEEK)["mrr_minor"]
    assert format_value(mrr_now, "money_minor", "usd") in html


def test_pdf_report_renders_charts_and_numbers(weekly: WeeklyRun) -> None:
    reader = PdfReader(str(weekly.result.run_dir / "report" / "business_report.pdf"))
    images = 0
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject")
        if xobjects:
            images += sum(1 for obj in xobjects.get_object().values() if obj.get_object().get("/Subtype") == "/Image")
    assert images >= 4  # MRR, movements, churn, cohorts (and active members)
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Highlights" in text and "Weekly business report" in text
    mrr_now = metric_row(weekly.demo, "mrr", WEEK)["mrr_minor"]
    assert format_value(mrr_now, "money_minor", "usd") in text


def test_highlights_follow_the_numbers(weekly: WeeklyRun) -> None:
    nb = read_notebook(weekly.result.run_dir / "business_report.ipynb")
    highlights = next(
        o["metadata"]["analytics"]["highlights"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "highlights" in o.get("metadata", {}).get("analytics", {})
    )
    mrr_now, mrr_before = (metric_row(weekly.demo, "mrr", w)["mrr_minor"] for w in (WEEK, PREVIOUS_WEEK))
    expected = "rose" if mrr_now > mrr_before else "fell" if mrr_now < mrr_before else "held"
    mrr_line = next(line for line in highlights if line.startswith("MRR "))
    assert re.match(rf"MRR {expected}", mrr_line) and format_value(mrr_now, "money_minor", "usd") in mrr_line


def test_run_is_recorded_as_a_job(weekly: WeeklyRun) -> None:
    with weekly.demo.engine.connect() as conn:
        run = conn.execute(sa.select(job_runs).where(job_runs.c.id == weekly.result.job_run_id)).one()
        snapshot_jobs = conn.execute(sa.select(job_runs.c.status).where(job_runs.c.kind == "snapshot")).all()
    assert (run.kind, run.status) == ("run", "succeeded")
    assert run.params == {"schedule": "weekly", "notebooks": ["snapshot", "business_report"], "as_of": "2025-06-30"}
    assert Path(run.summary["reports"]["business_report.pdf"]).is_file()
    assert snapshot_jobs and all(s.status == "succeeded" for s in snapshot_jobs)


def test_a_failing_step_names_notebook_and_cell(demo_workspace: DemoWorkspace, tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "notebooks").symlink_to(Path(__file__).resolve().parents[2] / "notebooks")
    (root / "params").mkdir()
    (root / "params" / "broken.yaml").write_text(
        "steps:\n  - notebook: snapshot\n    parameters: {period: fortnightly}\n"
    )
    with pytest.raises(ReportError) as caught:
        run_schedule(
            demo_workspace.settings,
            "broken",
            account=demo_workspace.account_id,
            engine=demo_workspace.engine,
            root=root,
            clock=RUN_CLOCK,
            progress=False,
        )
    message = str(caught.value)
    assert "notebook snapshot.ipynb failed in cell 3" in message
    assert "ReportError: period 'fortnightly' is not one of daily, weekly, monthly" in message
    assert "biz_" in message and ".failed/snapshot.ipynb" in message


def test_the_report_says_what_to_do(weekly: WeeklyRun) -> None:
    tables = report_tables(read_notebook(weekly.result.run_dir / "business_report.ipynb"))
    # the stored scores of 30 June: critical 1, high 1, medium 1, low 2
    assert tables["risk_levels"][["risk_level", "members"]].values.tolist() == [
        ["critical", 1],
        ["high", 1],
        ["medium", 1],
        ["low", 2],
    ]
    actions = tables["actions"].set_index("action")
    assert list(actions.index) == ["recover_failed_payments", "re_engage_members", "fix_worst_drop_off"]
    assert actions.loc["re_engage_members", "count"] == 2  # the critical and the high member, idle > 7 days
    html = (weekly.result.run_dir / "report" / "business_report.html").read_text()
    for text in ("This week&#x27;s actions", "Members at risk", "Re-engage 2 paying members at risk"):
        assert text in html or text.replace("&#x27;", "'") in html, text
    # segments of the 70 current members add up to 100.0 %; idle is told apart with its own base
    assert "Total</td>" in html and "100.0\u00a0%" in html
    assert "Idle, a separate count that overlaps the segments: 26 of the same 70 members (37.1 %)" in html


def test_pdf_tables_keep_numbers_on_one_line(weekly: WeeklyRun) -> None:
    reader = PdfReader(str(weekly.result.run_dir / "report" / "business_report.pdf"))
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages).replace("\u00a0", " ")
    assert "This week's actions" in text and "Members at risk" in text
    assert not re.search(r"^\s*%\s*$", text, flags=re.M), "a percentage was wrapped onto its own line"
    # the cohort matrix: every cohort row on one line, starting with its 100.0 % at +0
    cohorts = [line.strip() for line in text.splitlines() if re.match(r"\s*20\d\d-\d\d-01\s+100\.0 %", line)]
    assert len(cohorts) >= 6
