"""The demo pipeline's ``churn`` step trains, promotes and scores each account (here on the synthetic store)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from analytics.clock import fixed_clock
from analytics.demo import pipeline
from analytics.models.churn import current_model_id
from analytics.models.churn.demo_step import churn_step
from analytics.settings import Settings
from churn.conftest import SYNTH_END, cut_of


@pytest.mark.parametrize("_synthetic_store", ["sqlite"], indirect=True)
def test_churn_step_trains_promotes_and_scores(synthetic: sa.Engine, tmp_path: Path) -> None:
    assert pipeline.registered_steps().index("churn") == pipeline.registered_steps().index("snapshots") + 1
    with synthetic.connect() as conn:
        accounts = list(conn.execute(sa.text("SELECT id FROM accounts")).scalars())
    ctx = pipeline.DemoContext(
        settings=Settings(workspace=tmp_path),
        engine=synthetic,
        size="tiny",
        seed=7,
        end=SYNTH_END,
        accounts=1,
        account_ids=accounts,
        progress=False,
        clock=fixed_clock(cut_of(SYNTH_END)),
    )
    summary = churn_step(ctx)
    result = summary[accounts[0]]
    assert result["roc_auc"] > result["baseline_roc_auc"]
    assert result["scored"] > 50 and "is now the current churn model" in result["promotion"]
    assert current_model_id(synthetic, accounts[0]) == result["model_id"]
