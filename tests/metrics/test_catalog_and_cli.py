"""The catalog contract, the generated docs page, the public surface and ``analytics metric``."""

from __future__ import annotations

import csv
import inspect
import io
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from business import Business
from click.testing import CliRunner, Result

import analytics.metrics as metrics
from analytics.cli import cli
from analytics.errors import MetricError
from analytics.metrics import MetricRequest, Policies, catalog, catalog_markdown, get, metric, policy_table
from analytics.metrics.catalog import UNIFORM_PARAMETERS, registered
from analytics.metrics.request import EARLIEST_DAY, LATEST_DAY
from tiny_business import Business as TinyBusiness

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics-catalog.md"


def test_every_metric_follows_the_contract() -> None:
    known = set(Policies.__dataclass_fields__)
    specs = registered()
    assert {"mrr", "mrr_movements", "customer_churn_rate", "ltv", "signup_retention"} <= set(specs)
    for spec in specs.values():
        assert tuple(inspect.signature(spec.function).parameters) == UNIFORM_PARAMETERS
        assert " ".join(spec.formula.split()) in " ".join((inspect.getdoc(spec.function) or "").split())
        assert set(spec.policies) <= known
        assert spec.description and spec.unit and spec.domain
    table = catalog()
    assert list(table.columns) == ["name", "domain", "description", "formula", "unit", "policies", "params", "function"]
    assert len(table) == len(specs)


def test_docs_page_is_up_to_date() -> None:
    # Regenerate with: analytics metric --list --format markdown > docs/metrics-catalog.md
    assert DOCS.read_text(encoding="utf-8") == catalog_markdown()


def test_public_revenue_functions() -> None:
    # Every registered revenue metric is also a keyword function of analytics.metrics with the same name
    # (tests/test_exported_members.py checks that __all__ is honest).
    names = {spec.name for spec in registered().values() if spec.domain == "revenue"}
    for name in names:
        assert name in metrics.__all__, name
        assert callable(getattr(metrics, name))


def test_registration_refuses_a_non_uniform_signature() -> None:
    with pytest.raises(MetricError, match="must take \\(engine, request\\)"):

        @metric("bad_signature", unit="x", formula="x = 1", domain="test")
        def bad(engine: sa.Engine, account: str) -> pd.DataFrame:
            """Bad. Formula: x = 1"""
            return pd.DataFrame()

    with pytest.raises(MetricError, match="formula in the docstring"):

        @metric("no_formula", unit="x", formula="y = 2", domain="test")
        def nodoc(engine: sa.Engine, request: MetricRequest) -> pd.DataFrame:
            """No formula here."""
            return pd.DataFrame()


def test_policies_parse_and_validate() -> None:
    parsed = Policies.from_strings(["past_due_in_mrr=false", "grouping_window_minutes=0", "churn_rate=stripe_30d"])
    assert (parsed.past_due_in_mrr, parsed.grouping_window_minutes, parsed.churn_rate) == (False, 0, "stripe_30d")
    with pytest.raises(MetricError, match="not one of period_end, cancel_request"):
        Policies(churn_recognition="whenever")  # type: ignore[arg-type]
    with pytest.raises(MetricError, match="unknown policy 'colour'"):
        Policies.from_strings(["colour=blue"])
    table = policy_table()
    assert set(table["policy"]) == set(Policies.__dataclass_fields__)
    assert table["description"].str.len().min() > 10


def test_metric_command(sqlite_engine: sa.Engine) -> None:
    # One member paying 1000 a month from Jan 10 2024, printed by the CLI in three formats.
    account = (
        Business("biz_cli")
        .member("m1", "2024-01-10")
        .history("m1", "ms1", ("2024-01-10", "active", 1000))
        .load(sqlite_engine)
    )
    url = sqlite_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    base = ["--database-url", url, "metric", "mrr_movements", "--account", account, "--from", "2024-01-01"]
    csv = runner.invoke(cli, [*base, "--to", "2024-02-29", "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    lines = csv.output.strip().splitlines()
    assert lines[0].startswith("period_start,currency,mrr_start_minor,new_minor")
    assert lines[1].startswith("2024-01-01,usd,0,1000,")
    as_json = runner.invoke(cli, [*base, "--to", "2024-01-31", "--format", "json", "--policy", "past_due_in_mrr=false"])
    assert json.loads(as_json.output)[0]["mrr_end_minor"] == 1000
    table = runner.invoke(cli, [*base, "--to", "2024-01-31"])
    assert "mrr_end_minor" in table.output
    unknown = runner.invoke(
        cli,
        ["--database-url", url, "metric", "nope", "--account", account, "--from", "2024-01-01", "--to", "2024-01-31"],
    )
    assert unknown.exit_code == 1
    assert "unknown metric 'nope'" in unknown.output
    missing = runner.invoke(cli, ["--database-url", url, "metric", "mrr", "--account", account])
    assert missing.exit_code == 2
    assert "--from, --to" in missing.output
    listed = runner.invoke(cli, ["--database-url", url, "metric", "--list", "--format", "markdown"])
    assert listed.output == catalog_markdown()
    assert get("mrr").function is metrics.revenue.mrr_series


def _metric_cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--database-url", url, "metric", *args])


def test_days_outside_the_documented_range_are_refused(sqlite_engine: sa.Engine) -> None:
    # The day after 9999-12-31 does not exist: this once ended in an OverflowError traceback.
    account = Business("biz_range").member("m1", "2024-01-10").load(sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    out = _metric_cli(url, "mrr", "--account", account, "--from", "2025-01-01", "--to", "9999-12-31")
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.output.strip() == (
        f"Error: end 9999-12-31 is outside the days metrics cover ({EARLIEST_DAY} to {LATEST_DAY}); "
        "choose a day in that range"
    )
    early = _metric_cli(url, "mrr", "--account", account, "--from", "0001-01-01", "--to", "2025-01-31")
    assert early.exit_code == 1 and "start 0001-01-01 is outside" in early.output
    # the library refuses the same days: requests, and the keyword functions the catalog wraps
    with pytest.raises(MetricError, match="end 9999-12-31 is outside the days metrics cover"):
        MetricRequest.build(account, "2025-01-01", "9999-12-31")
    with pytest.raises(MetricError, match="end 9999-12-31 is outside"):
        metrics.activity_counts(sqlite_engine, account, start="2025-01-01", end="9999-12-31")
    with pytest.raises(MetricError, match="as_of 9999-12-31 is outside"):
        metrics.engagement_scores(sqlite_engine, account, as_of="9999-12-31")
    # the last day of the range works, on a revenue metric and on one measured at the midnight after it
    last = _metric_cli(url, "mrr", "--account", account, "--from", "2199-12-01", "--to", str(LATEST_DAY))
    assert last.exit_code == 0, last.output
    assert "2199-12-01" in last.output
    segments = _metric_cli(
        url, "engagement_segments", "--account", account, "--from", "2199-12-31", "--to", "2199-12-31"
    )
    assert segments.exit_code == 0, segments.output


def test_unknown_parameters_and_names_are_refused_with_the_valid_ones(sqlite_engine: sa.Engine) -> None:
    account = Business("biz_params").member("m1", "2024-01-10").load(sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    period = ["--account", account, "--from", "2024-01-01", "--to", "2024-01-31"]

    # a metric without parameters (it once ignored them and exited 0)
    none = _metric_cli(url, "mrr", *period, "--param", "colour=blue")
    assert none.exit_code == 1
    assert none.output.strip() == "Error: metric 'mrr' takes no parameters; remove 'colour'"
    # a metric with parameters: the closest one and all of them
    typo = _metric_cli(url, "content_ranking", *period, "--param", "wieghts={}", "--param", "top=3")
    assert typo.exit_code == 1
    assert typo.output.strip() == (
        "Error: metric 'content_ranking' has no parameter 'wieghts' (did you mean 'weights'?); "
        "its parameters: top, weights"
    )
    # a mistyped metric, policy or breakdown
    name = _metric_cli(url, "mrrr", *period)
    assert name.exit_code == 1 and name.output.startswith("Error: unknown metric 'mrrr' (did you mean 'mrr'?); ")
    policy = _metric_cli(url, "mrr", *period, "--policy", "past_due_in_mr=false")
    assert "unknown policy 'past_due_in_mr' (did you mean 'past_due_in_mrr'?)" in policy.output
    breakdown = _metric_cli(url, "mrr", *period, "--by", "plna")
    assert "unknown breakdown plna (did you mean 'plan'?)" in breakdown.output
    for result in (none, typo, name, policy, breakdown):  # in words, not "Error: MetricError: …"
        assert result.output.startswith("Error: ") and "MetricError" not in result.output, result.output

    # the library refuses the same, however the metric is called
    request = MetricRequest.build(account, "2024-01-01", "2024-01-31", params={"colour": "blue"})
    with pytest.raises(MetricError, match="metric 'mrr' takes no parameters"):
        metrics.revenue.mrr_series(sqlite_engine, request)
    with pytest.raises(MetricError, match="metric 'mrr' takes no parameters"):
        metrics.mrr(sqlite_engine, account, "2024-01-01", "2024-01-31", params={"colour": "blue"})
    assert get("content_ranking").params == ("top", "weights")
    assert catalog().set_index("name").loc["funnel", "params"] == "breakdown, medians, steps, window"


def test_metric_csv_is_safe_to_open_in_a_spreadsheet(sqlite_engine: sa.Engine) -> None:
    # A member-written post title reaches `analytics metric content_ranking --format csv`.
    title = '=HYPERLINK("http://evil.example","x")'
    shop = TinyBusiness(sqlite_engine, account_id="biz_csv_cli")
    shop.member("m1", "2025-01-01")
    shop.member("m2", "2025-01-01")
    shop.post("p1", "m1", "2025-03-01", title=title)
    shop.event("m2", "post_view", "2025-03-02 09:00", object_id="p1")
    shop.save()
    url = sqlite_engine.url.render_as_string(hide_password=False)
    out = _metric_cli(
        url,
        "content_ranking",
        "--account",
        "biz_csv_cli",
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
        "--format",
        "csv",
    )
    assert out.exit_code == 0, out.output
    [row] = list(csv.DictReader(io.StringIO(out.output, newline="")))
    assert (row["content_id"], row["title"], row["unique_viewers"]) == ("p1", "'" + title, "1")
