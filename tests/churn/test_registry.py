"""Registry: safe artifacts (skops + SHA-256), round trip, refusal of tampered or untrusted files, promotion rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
import sqlalchemy as sa

from analytics.errors import ModelError
from analytics.models.churn.estimators import DaysSinceActivityBaseline
from analytics.models.churn.registry import (
    TRUSTED_TYPES,
    current_model_id,
    list_models,
    load_model,
    promote,
    register_model,
)
from analytics.models.churn.training import train_churn_model
from analytics.store.schema import model_registry
from churn.conftest import SYNTH_END
from churn.synthetic import ACCOUNT

FAST = {"end": SYNTH_END, "n_dates": 12, "step_days": 14}


def test_round_trip(synthetic: sa.Engine, tmp_path: Path) -> None:
    trained = train_churn_model(synthetic, ACCOUNT, **FAST)
    model_id = register_model(synthetic, trained, workspace=tmp_path)

    artifact = tmp_path / "models" / f"{model_id}.skops"
    assert artifact.exists()
    with synthetic.connect() as conn:
        row = conn.execute(sa.select(model_registry).where(model_registry.c.id == model_id)).one()
    assert row.artifact_path == f"models/{model_id}.skops"  # relative to the workspace
    assert len(row.artifact_sha256) == 64
    assert row.features == trained.features
    assert row.metrics["model"]["roc_auc"] == trained.card["backtest"]["model"]["roc_auc"]
    assert row.card["training"]["n_rows"] == len(trained.data)
    assert (row.training_start, row.training_end) == (trained.training_start, trained.training_end)

    loaded = load_model(synthetic, ACCOUNT, model_id, workspace=tmp_path)
    X = trained.data[trained.features]
    np.testing.assert_array_equal(loaded.estimator.predict_proba(X), trained.estimator.predict_proba(X))
    assert set(sio.get_untrusted_types(file=artifact)) <= set(TRUSTED_TYPES)


def test_tampered_artifact_is_refused(synthetic: sa.Engine, tmp_path: Path) -> None:
    trained = train_churn_model(synthetic, ACCOUNT, **FAST)
    model_id = register_model(synthetic, trained, workspace=tmp_path)
    artifact = tmp_path / "models" / f"{model_id}.skops"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=r"SHA-256 .* was registered: the file was changed"):
        load_model(synthetic, ACCOUNT, model_id, workspace=tmp_path)


class Sneaky:
    """A type no churn artifact should hold."""


def test_untrusted_types_are_refused_even_with_a_matching_hash(synthetic: sa.Engine, tmp_path: Path) -> None:
    trained = train_churn_model(synthetic, ACCOUNT, **FAST)
    model_id = register_model(synthetic, trained, workspace=tmp_path)
    artifact = tmp_path / "models" / f"{model_id}.skops"
    sio.dump({"model": Sneaky()}, artifact)
    import hashlib

    with synthetic.begin() as conn:  # someone also rewrote the registered hash
        conn.execute(
            sa.update(model_registry)
            .where(model_registry.c.id == model_id)
            .values(artifact_sha256=hashlib.sha256(artifact.read_bytes()).hexdigest())
        )
    with pytest.raises(ModelError, match=r"not trusted: .*Sneaky"):
        load_model(synthetic, ACCOUNT, model_id, workspace=tmp_path)


def test_promotion_refuses_a_worse_model_unless_forced(synthetic: sa.Engine, tmp_path: Path) -> None:
    good = train_churn_model(synthetic, ACCOUNT, **FAST)
    good_id = register_model(synthetic, good, workspace=tmp_path)
    with pytest.raises(ModelError, match="no current churn model"):
        load_model(synthetic, ACCOUNT, workspace=tmp_path)
    first = promote(synthetic, ACCOUNT, good_id, workspace=tmp_path)
    assert first.previous_id is None and current_model_id(synthetic, ACCOUNT) == good_id

    # The days-since-activity rule alone, backtested on the very same folds, ranks members worse.
    rule = train_churn_model(synthetic, ACCOUNT, estimator=DaysSinceActivityBaseline(), **FAST)
    rule_id = register_model(synthetic, rule, workspace=tmp_path)
    assert rule.card["backtest"]["key"] == good.card["backtest"]["key"]
    assert rule.card["backtest"]["model"]["roc_auc"] < good.card["backtest"]["model"]["roc_auc"]
    with pytest.raises(ModelError, match=f"{rule_id} is worse than the current model {good_id}.*--force"):
        promote(synthetic, ACCOUNT, rule_id, workspace=tmp_path)
    assert current_model_id(synthetic, ACCOUNT) == good_id

    forced = promote(synthetic, ACCOUNT, rule_id, workspace=tmp_path, force=True)
    assert forced.forced and forced.same_backtest == "stored"
    assert current_model_id(synthetic, ACCOUNT) == rule_id
    models = list_models(synthetic, ACCOUNT)
    assert models["is_current"].sum() == 1


def test_promotion_recomputes_the_current_model_on_a_different_backtest(synthetic: sa.Engine, tmp_path: Path) -> None:
    rule = train_churn_model(synthetic, ACCOUNT, estimator=DaysSinceActivityBaseline(), **FAST)
    rule_id = register_model(synthetic, rule, workspace=tmp_path, make_current=True)
    # Ten prediction dates instead of twelve: another backtest, so the rule is re-run on the candidate's folds.
    better = train_churn_model(synthetic, ACCOUNT, end=SYNTH_END, n_dates=10, step_days=14)
    better_id = register_model(synthetic, better, workspace=tmp_path)
    assert better.card["backtest"]["key"] != rule.card["backtest"]["key"]
    result = promote(synthetic, ACCOUNT, better_id, workspace=tmp_path)
    assert result.same_backtest == "recomputed" and result.previous_id == rule_id
    assert result.candidate_score is not None and result.current_score is not None
    assert result.candidate_score > result.current_score
