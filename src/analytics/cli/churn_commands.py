"""Churn model commands: ``analytics train``, ``analytics promote``, ``analytics score`` and ``analytics models``."""

from __future__ import annotations

from datetime import date

import click

from analytics.cli.context import CliContext, pass_cli
from analytics.clock import utcnow
from analytics.models.churn.training import resolve_account
from analytics.store.jobs import job_run

__all__ = ["models_command", "promote_command", "score_command", "train_command"]

_ACCOUNT = click.option("--account", "account_id", metavar="ID", help="Account (biz_…); default: the only one.")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _metric(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


@click.command("train")
@_ACCOUNT
@click.option("--estimator", type=click.Choice(["logistic", "boosting"]), default="logistic", show_default=True)
@click.option("--horizon", "horizon_days", type=int, default=30, show_default=True, help="Label horizon in days.")
@click.option("--dates", "n_dates", type=int, default=26, show_default=True, help="Prediction dates to learn from.")
@click.option("--step", "step_days", type=int, default=7, show_default=True, help="Days between prediction dates.")
@click.option("--end", default=None, metavar="YYYY-MM-DD", help="End of the labelled history (default today).")
@click.option("--seed", "random_state", type=int, default=0, show_default=True)
@click.option(
    "--promote",
    "promotion",
    type=click.Choice(["never", "if_first", "if_better", "always"]),
    default="if_first",
    show_default=True,
    help="Make the new model current: never, only if none is (if_first), if not worse than the current one "
    "on the same backtest (if_better), or forced (always).",
)
@pass_cli
def train_command(
    cli: CliContext,
    account_id: str | None,
    estimator: str,
    horizon_days: int,
    n_dates: int,
    step_days: int,
    end: str | None,
    random_state: int,
    promotion: str,
) -> None:
    """Train a churn model, backtest it against the baseline and register it (model card in workspace/models)."""
    from analytics.models.churn import registry
    from analytics.models.churn.card import card_markdown
    from analytics.models.churn.training import train_churn_model

    engine = cli.engine()
    account = resolve_account(engine, account_id)
    params = {"estimator": estimator, "horizon_days": horizon_days, "n_dates": n_dates, "step_days": step_days}
    with job_run(engine, "train", account_id=account, params={**params, "end": end}) as run:
        trained = train_churn_model(
            engine,
            account,
            estimator=estimator,
            end=_day(end),
            horizon_days=horizon_days,
            n_dates=n_dates,
            step_days=step_days,
            random_state=random_state,
            progress=True,
        )
        model_id = registry.register_model(engine, trained, workspace=cli.settings.workspace)
        card_path = cli.settings.workspace / "models" / f"{model_id}.md"
        card_path.write_text(card_markdown(trained.card), encoding="utf-8")
        run.summary.update(model_id=model_id, backtest=trained.card["backtest"]["model"])
    bt = trained.card["backtest"]
    click.echo(f"registered churn model {model_id} ({trained.card['estimator']}, {len(trained.data)} member-dates)")
    for key in ("roc_auc", "pr_auc", "brier", "top_decile_lift"):
        click.echo(f"  {key:16} model {_metric(bt['model'][key])}   baseline {_metric(bt['baseline'][key])}")
    click.echo(f"  model card: {card_path}")
    _, message = registry.promote_with_policy(engine, account, model_id, promotion, workspace=cli.settings.workspace)
    click.echo(message)


@click.command("promote")
@click.argument("model_id")
@_ACCOUNT
@click.option("--force", is_flag=True, help="Promote even when it does worse than the current model.")
@click.option("--metric", type=click.Choice(["roc_auc", "pr_auc", "brier", "top_decile_lift"]), default="roc_auc")
@pass_cli
def promote_command(cli: CliContext, model_id: str, account_id: str | None, force: bool, metric: str) -> None:
    """Make MODEL_ID the current churn model (refused if worse than the current one on the same backtest)."""
    from analytics.models.churn.registry import promote

    engine = cli.engine()
    account = resolve_account(engine, account_id)
    result = promote(engine, account, model_id, workspace=cli.settings.workspace, force=force, metric=metric)
    if result.previous_id is None or result.previous_id == model_id:
        click.echo(f"{model_id} is now the current churn model")
    else:
        click.echo(
            f"{model_id} is now the current churn model (was {result.previous_id}; {metric} "
            f"{_metric(result.candidate_score)} vs {_metric(result.current_score)}, {result.same_backtest} backtest"
            f"{', forced' if force else ''})"
        )


@click.command("score")
@_ACCOUNT
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="Prediction date (default today).")
@click.option("--model", "model_id", default=None, help="A registered model (default the current one).")
@pass_cli
def score_command(cli: CliContext, account_id: str | None, as_of: str | None, model_id: str | None) -> None:
    """Score every paying member: churn probability, risk level, top factors and recommended actions."""
    from analytics.models.churn.scoring import score_members, update_outcomes

    engine = cli.engine()
    account = resolve_account(engine, account_id)
    day = _day(as_of) or utcnow().date()
    with job_run(engine, "score", account_id=account, params={"as_of": day.isoformat(), "model_id": model_id}) as run:
        scores = score_members(engine, account, workspace=cli.settings.workspace, as_of=day, model_id=model_id)
        outcomes = update_outcomes(engine, day, account_id=account)
        counts = scores["risk_level"].value_counts().to_dict() if len(scores) else {}
        run.summary.update(scored=len(scores), by_risk_level=counts, outcomes_updated=outcomes)
    levels = ", ".join(f"{level} {counts.get(level, 0)}" for level in ("critical", "high", "medium", "low"))
    click.echo(f"scored {len(scores)} paying members as of {day}: {levels}; {outcomes} earlier outcomes filled")


@click.command("models")
@_ACCOUNT
@pass_cli
def models_command(cli: CliContext, account_id: str | None) -> None:
    """List the registered churn models with their backtest metrics (current one marked with *)."""
    from analytics.models.churn.registry import list_models

    engine = cli.engine()
    frame = list_models(engine, resolve_account(engine, account_id))
    if frame.empty:
        click.echo("no churn models yet; `analytics train` trains one")
        return
    for row in frame.to_dict("records"):
        mark = "*" if row["is_current"] else " "
        click.echo(
            f"{mark} {row['model_id']}  {row['estimator']:24} {row['training_start']}…{row['training_end']}  "
            f"roc_auc {_metric(row['roc_auc'])}  pr_auc {_metric(row['pr_auc'])}  brier {_metric(row['brier'])}"
        )
