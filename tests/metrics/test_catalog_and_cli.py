"""The catalog contract, the generated docs page, the public surface and ``analytics metric``."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from business import Business
from click.testing import CliRunner

import analytics.metrics as metrics
from analytics.cli import cli
from analytics.errors import MetricError
from analytics.metrics import MetricRequest, Policies, catalog, catalog_markdown, get, metric, policy_table
from analytics.metrics.catalog import UNIFORM_PARAMETERS, registered

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
    assert list(table.columns) == ["name", "domain", "description", "formula", "unit", "policies", "function"]
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
