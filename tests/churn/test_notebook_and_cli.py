"""The retraining notebook runs under Papermill, and the CLI trains, promotes and scores (SQLite store files)."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from analytics.cli import cli
from analytics.models.churn import current_model_id, list_models
from analytics.store import create_store_engine
from analytics.store.schema import churn_predictions, job_runs
from churn.conftest import SYNTH_END
from churn.synthetic import ACCOUNT

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "churn_training.ipynb"


# The notebook and CLI runs use the embedded SQLite store file (the library itself is tested on both engines).
sqlite_only = pytest.mark.parametrize("_synthetic_store", ["sqlite"], indirect=True)


@pytest.fixture
def store_file(synthetic: sa.Engine) -> Path:
    return Path(str(synthetic.url.database))


def test_notebook_is_committed_without_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert "parameters" in code[0]["metadata"]["tags"]
    assert "secret" not in "".join(code[0]["source"]).lower()


@sqlite_only
def test_retraining_notebook_runs_under_papermill(
    store_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", f"sqlite:///{store_file}")
    monkeypatch.setenv("ANALYTICS_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    out = tmp_path / "churn_training.out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"end": SYNTH_END.isoformat(), "n_dates": 8, "step_days": 21, "workspace": str(tmp_path / "ws")},
        kernel_name="python3",
        progress_bar=False,
    )
    engine = create_store_engine(f"sqlite:///{store_file}")
    models = list_models(engine, ACCOUNT)
    assert len(models) == 1 and bool(models["is_current"].iloc[0])  # the first model of the account is promoted
    assert (tmp_path / "ws" / "models" / f"{models['model_id'].iloc[0]}.skops").exists()
    text = out.read_text(encoding="utf-8")
    assert "Backtest (time-based" in text and "is now the current churn model" in text
    engine.dispose()


@sqlite_only
def test_cli_train_promote_score(store_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--workspace", str(tmp_path / "ws"), "--database-url", f"sqlite:///{store_file}"]
    train = ["train", "--end", SYNTH_END.isoformat(), "--dates", "8", "--step", "21"]

    first = runner.invoke(cli, [*base, *train])
    assert first.exit_code == 0, first.output
    assert "roc_auc" in first.output and "is now the current churn model" in first.output

    second = runner.invoke(cli, [*base, *train, "--seed", "1", "--promote", "never"])
    assert second.exit_code == 0, second.output
    engine = create_store_engine(f"sqlite:///{store_file}")
    current = current_model_id(engine, ACCOUNT)
    candidate = next(m for m in list_models(engine, ACCOUNT)["model_id"] if m != current)

    promoted = runner.invoke(cli, [*base, "promote", candidate, "--force"])
    assert promoted.exit_code == 0, promoted.output
    assert current_model_id(engine, ACCOUNT) == candidate

    unknown = runner.invoke(cli, [*base, "promote", "churn_nope"])
    assert unknown.exit_code == 1 and "Error: no churn model 'churn_nope'" in unknown.output

    scored = runner.invoke(cli, [*base, "score", "--as-of", SYNTH_END.isoformat()])
    assert scored.exit_code == 0, scored.output
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(churn_predictions)).scalar_one()
        kinds = sorted(conn.execute(sa.select(job_runs.c.kind, job_runs.c.status)).all())
    assert f"scored {n} paying members" in scored.output
    assert kinds == [("score", "succeeded"), ("train", "succeeded"), ("train", "succeeded")]
    listed = runner.invoke(cli, [*base, "models"])
    assert listed.output.count("churn_") == 2 and f"* {candidate}" in listed.output
    engine.dispose()


SCORING_NOTEBOOK = NOTEBOOK.with_name("churn_scoring.ipynb")


@sqlite_only
def test_daily_run_scores_members_with_the_current_model(
    store_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily schedule scores with the churn_scoring notebook (then stores the page data); it scores as of the
    day after ``as_of``.

    Without a current model the step writes nothing and says why; after ``analytics train`` it scores every paying
    member (the count recorded in the notebook equals the rows written) and records the job.
    """
    import yaml

    from analytics.models.churn import daily_churn_step

    steps = yaml.safe_load((NOTEBOOK.parents[1] / "params" / "daily.yaml").read_text(encoding="utf-8"))["steps"]
    assert [s["notebook"] for s in steps] == ["sync", "snapshot", "churn_scoring", "page_data"]

    url = f"sqlite:///{store_file}"
    engine = create_store_engine(url)
    untrained = daily_churn_step(engine, None, workspace=tmp_path / "ws", as_of=SYNTH_END)
    assert untrained[["account_id", "scored"]].values.tolist() == [[ACCOUNT, 0]]
    assert "no current churn model" in untrained["note"].iloc[0]

    base = ["--workspace", str(tmp_path / "ws"), "--database-url", url]
    trained = CliRunner().invoke(cli, [*base, "train", "--end", SYNTH_END.isoformat(), "--dates", "8", "--step", "21"])
    assert trained.exit_code == 0, trained.output

    monkeypatch.setenv("ANALYTICS_DATABASE_URL", url)
    monkeypatch.setenv("ANALYTICS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("ANALYTICS_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    out = tmp_path / "churn_scoring.out.ipynb"
    last_day = SYNTH_END.fromordinal(SYNTH_END.toordinal() - 1)
    pm.execute_notebook(
        str(SCORING_NOTEBOOK),
        str(out),
        parameters={"account_id": ACCOUNT, "as_of": last_day.isoformat()},
        kernel_name="python3",
        progress_bar=False,
    )
    with engine.connect() as conn:
        written = conn.execute(
            sa.select(churn_predictions.c.as_of, sa.func.count()).group_by(churn_predictions.c.as_of)
        ).all()
    [(as_of, n)] = written
    assert n > 0 and str(as_of)[:10] == SYNTH_END.isoformat()  # scored as of the day after the last complete day
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    shown = "".join(str(o.get("data", {})) for c in cells if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert f"Churn scoring as of {SYNTH_END}" in shown and ACCOUNT in shown
    engine.dispose()
