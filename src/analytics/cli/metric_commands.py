"""Metric commands: ``analytics metric NAME --account ID --from D --to D [--grain month] [--format csv|json|table]``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from analytics.cli.context import CliContext, pass_cli
from analytics.errors import MetricError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["metric_command", "render_frame"]

FORMATS = ("table", "csv", "json", "markdown")


def _pairs(values: tuple[str, ...], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in values:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise MetricError(f"{what} {pair!r} is not of the form name=value")
        try:
            out[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[name.strip()] = raw
    return out


def render_frame(frame: pd.DataFrame, fmt: str) -> str:
    """A metric result as text: an aligned table, CSV (safe to open in a spreadsheet, see
    :mod:`analytics.reports.safe_csv`), JSON records (ISO dates, NaN as null) or Markdown."""
    import pandas as pd

    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[col]) and getattr(shown[col].dt, "tz", None) is None:
            shown[col] = shown[col].dt.strftime("%Y-%m-%d")
    if fmt == "csv":
        from analytics.reports.safe_csv import csv_text

        return csv_text(shown)
    if fmt == "json":
        return str(shown.to_json(orient="records", date_format="iso", force_ascii=False, indent=1))
    if fmt == "markdown":
        cells = shown.astype(object).where(shown.notna(), "").astype(str)
        lines = ["| " + " | ".join(map(str, shown.columns)) + " |", "|" + "---|" * len(shown.columns)]
        lines += ["| " + " | ".join(v.replace("|", "\\|") for v in row) + " |" for row in cells.to_numpy()]
        return "\n".join(lines) + "\n"
    return str(shown.to_string(index=False)) if len(shown) else "(no rows)"


@click.command("metric")
@click.argument("name", required=False)
@click.option("--account", "account_id", metavar="ID", help="Account (Whop biz_… id).")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day of the period (account time zone).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day of the period (inclusive).")
@click.option("--grain", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--by", "breakdowns", multiple=True, metavar="KEY", help="Breakdown: product, plan, currency, channel.")
@click.option("--policy", "policies", multiple=True, metavar="NAME=VALUE", help="Policy choice (repeatable).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Metric parameter (JSON or text; see the params column of --list).",
)
@click.option("--currency", "reporting_currency", metavar="CODE", help="Reporting currency (default: the account's).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--list", "list_metrics", is_flag=True, help="List every metric (with --format markdown: the docs page).")
@pass_cli
def metric_command(
    cli: CliContext,
    name: str | None,
    account_id: str | None,
    start: str | None,
    end: str | None,
    grain: str,
    breakdowns: tuple[str, ...],
    policies: tuple[str, ...],
    params: tuple[str, ...],
    reporting_currency: str | None,
    fmt: str,
    list_metrics: bool,
) -> None:
    """Print any metric of the catalog for an account and a period.

    \b
    Examples:
      analytics metric mrr_movements --account biz_123 --from 2025-01-01 --to 2025-12-31 --grain month
      analytics metric customer_churn_rate --account biz_123 --from 2025-01-01 --to 2025-06-30 \\
          --policy churn_rate=stripe_30d --format csv
      analytics metric --list
    """
    from analytics.metrics import MetricRequest, Policies, catalog, catalog_markdown, get

    if list_metrics:
        text = catalog_markdown() if fmt == "markdown" else render_frame(catalog().drop(columns=["function"]), fmt)
        click.echo(text, nl=not text.endswith("\n"))
        return
    if not name:
        raise click.UsageError("name a metric (see `analytics metric --list`)")
    spec = get(name)  # an unknown name is refused first, with the closest known one
    missing = [flag for flag, value in (("--account", account_id), ("--from", start), ("--to", end)) if not value]
    if missing:
        raise click.UsageError(f"metric {name} needs {', '.join(missing)}")
    request = MetricRequest.build(
        str(account_id),
        str(start),
        str(end),
        grain,
        breakdowns=breakdowns,
        policies=Policies.from_strings(policies),
        reporting_currency=reporting_currency,
        params=_pairs(params, "parameter"),
    )
    spec.check_params(key for key, _ in request.params)  # as the metric itself would, before opening the store
    frame = spec.function(cli.engine(), request)
    text = render_frame(frame, fmt)
    click.echo(text, nl=not text.endswith("\n"))
